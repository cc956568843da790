/* qemu_status.h: status files, ROOT/run/libvirt/qemu/NAME.xml: what a restarted daemon
 * needs to find a running guest again, written durably on every change, and read back
 * as hostile input. */
#pragma once

#include <libxml/tree.h>
#include <sys/types.h>

#include "conf/domain_status.h"
#include "domain/domain_driver.h"
#include "qemu_process.h"

/* Write obj's status file, or remove it once the guest is gone (no process, or shut
 * off), through the driver's save_status (sv_domain_driver_save_status). */
void qemu_status_save(SvDomainObj *obj);

/* virtqemud's facts of its status files (SvRunFacts' status_*, written by the engine's
 * sv_domain_run_save_status): in its run directory; a guest exists while it has its QEMU
 * process; its own part is that process, a kill under way, its flags, its monitor socket
 * and its security labels. */
const char *qemu_status_dir(SvDomainObj *obj);
gboolean qemu_status_exists(SvDomainObj *obj);
void qemu_status_own(SvDomainObj *obj, SvStatusCommon *c, SvStatusOwn *own);

/* What virtqemud's status files record of their own (the rest is SvStatusCommon's: pid,
 * starttime, starting, autodestroy, killmode and killdeadline), every field checked. */
typedef struct {
    char *monitor;  /* LIB/domain-ID-NAME/monitor.sock */
    char *emulator; /* what the process must be running */
    gboolean destroying, fake_reboot, crash_destroy, crash_restart;
    /* The migration under way when it was written (<job>, as libvirt's status files have
     * it): its direction (0: none, 1: in, 2: out), libvirt's phase number and its flags. */
    int mig_dir;
    int mig_phase;
    guint mig_flags;
} QemuStatus;

/* How virtqemud's status files record the common part, and its hook for its own: pty
 * paths are /dev/pts/N, relabelled files are files the definition names; the domain has an
 * id. What depends on the daemon reading it is qemu_status_check_places'. */
extern const SvStatusStyle qemu_status_style;

/* The places a status file st (read with qemu_status_style) names are this daemon's (ctx):
 * the monitor socket is the one it makes for that guest in its library directory, the
 * emulator (then in qemu_status_of(st)->emulator) an allowed one. Checked before anything
 * the file names is acted on. */
gboolean qemu_status_check_places(QemuProcessContext *ctx, SvStatus *st, GError **error);

/* The driver's record of a status file read back. */
static inline QemuStatus *
qemu_status_of(const SvStatus *st)
{
    return st->own;
}
