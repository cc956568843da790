/* qemu_postparse.c: libvirt's QEMU defaults at define time (qemu_postparse.h). Each area of
 * the definition adds its defaults at its marked place; addresses come last, once every
 * device, implicit ones included, is there. */
#include "qemu_postparse.h"

#include "qemu_display.h"

gboolean
qemu_domain_def_post_parse(SvDomainDef *def, QemuCaps *caps, GError **error)
{
    (void)caps;

    /* ---- platform ---- */

    /* ---- cpu, vcpus, memory and tuning ---- */

    /* ---- disks and controllers ---- */

    /* ---- interfaces ---- */

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */

    /* ---- graphics, video, input, sound, audio, redirdev ---- */
    if (!qemu_display_post_parse(def, error))
        return FALSE;

    /* ---- defaults, addresses and aliases (last) ---- */

    return TRUE;
}
