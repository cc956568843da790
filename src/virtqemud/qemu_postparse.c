/* qemu_postparse.c: libvirt's QEMU defaults at define time (qemu_postparse.h). Each area of
 * the definition adds its defaults at its marked place; addresses come last, once every
 * device, implicit ones included, is there. */
#include "qemu_postparse.h"

#include "qemu_command_platform.h"
#include "qemu_pci.h"
#include "qemu_topo.h"
#include "qemu_command_cpu.h"
#include "qemu_command_disk.h"
#include "qemu_command_net.h"
#include "qemu_command_chr.h"
#include "qemu_display.h"
#include "qemu_usb.h"
#include "qemu_hostdev.h"

gboolean
qemu_domain_def_post_parse(SvDomainDef *def, QemuCaps *caps, GError **error)
{
    /* ---- platform ---- */
    if (!qemu_platform_validate(def, error))
        return FALSE;

    /* ---- cpu, vcpus, memory and tuning ---- */
    if (!qemu_cpu_post_parse(def, caps, error))
        return FALSE;

    /* ---- disks and controllers ---- */
    if (!qemu_disk_def_post_parse(def, error))
        return FALSE;

    /* ---- interfaces ---- */
    qemu_net_post_parse(def);

    /* ---- character devices, channels, rng, memballoon, watchdog, panic, filesystems ---- */
    if (!qemu_chr_post_parse(def, error))
        return FALSE;

    /* ---- graphics, video, input, sound, audio, redirdev ---- */
    if (!qemu_display_post_parse(def, error))
        return FALSE;

    /* ---- capabilities: host devices ---- */
    qemu_hostdev_post_parse(def);

    /* ---- defaults, addresses and aliases (last) ---- */
    qemu_topo_machine_defaults(def, caps);
    if (!qemu_topo_add_implicit_controllers(def, error) ||
        !qemu_pci_assign_addresses(def, error) || !qemu_topo_check_machine(def, caps, error))
        return FALSE;

    /* ---- usb ports and hubs (after the PCI addresses, as libvirt) ---- */
    if (!qemu_usb_check_inputs(def, error) || !qemu_usb_assign_addresses(def, error))
        return FALSE;

    return TRUE;
}
