/* qemu_domain.h: a QEMU guest's private data while it runs, and what the parts of
 * virtqemud's process code share about it (start, stop and events, status files,
 * reconnect). Internal to src/virtqemud.
 *
 * Lifetime: the data exists from the first step of a start (or a reconnect) until
 * the guest is gone, and with it a run: the weak handle every asynchronous callback
 * holds (GUINT_TO_POINTER(run)) and looks the guest up by again, with
 * qemu_domain_find(), after anything that may have ended the run. */
#pragma once

#include <sys/types.h>

#include "domain/domain_driver.h"
#include "domain/domain_run.h"
#include "domain/domain_state.h"
#include "programs/backend.h"
#include "qemu_monitor.h"
#include "qemu_process.h"
#include "qemu_security.h"
#include "util/guest_log.h"
#include "util/process.h"

typedef struct {
    SvDomainRun run;  /* the engine's part of the run (domain/domain_run.h): first */
    SvProcess *proc;
    QemuMonitor *mon;
    struct QemuAgent *agent; /* the guest agent while its channel is open (qemu_agent.c) */
    struct QemuHotplug *hotplug; /* unplugs waiting for QEMU (qemu_hotplug.c); NULL: none */
    char *dir;        /* LIB/domain-ID-NAME: the monitor socket, QEMU's home */
    char *pid_path;   /* RUN/NAME.pid */
    GPtrArray *ptys;  /* chardev pty paths, index = serial number */
    int log_fd;
    QemuSecLabel *sec; /* SELinux label and relabelled files; NULL when unlabelled */
    /* The start's call, flags, timer and first error are the engine's (run); whether a
     * start goes on is its run state (sv_domain_run_in_start()). */
    off_t log_offset;     /* where QEMU's own output begins in its log, or -1 */
    /* What is under way is the engine's run state (obj->run_state, domain/domain_state.h):
     * STOPPING for a destroy (QEMU's SHUTDOWN is then not an event), the guest's
     * power-off or on_crash (exit is STOPPED/CRASHED, then a start for CRASH_RESTART);
     * REBOOTING for a reset in place after a SHUTDOWN (its STOP is no pause); PAUSING
     * while our own `stop` is on its way (its STOP means PAUSED/USER). */
    gboolean fake_reboot;   /* a reboot asked for: the next SHUTDOWN resets instead. A
                               request, not a state: the guest runs, pauses and resumes
                               while it waits */
    guint jobs;             /* monitor commands of clients' calls under way */
    struct QemuCoreDump *dump; /* a client's dump under way (qemu_coredump.c); NULL: none */
    gpointer dump_done;        /* the last full dump's figures, kept as libvirt keeps a
                                  completed job's (qemu_coredump.c); NULL: none */
    /* AUTODESTROY's client is the engine's (run.autodestroy_client). */
    /* A start's LUKS disks (qemu_secret.h): who it is for, and their passphrases once
     * fetched (GBytes or NULL by disk index), dropped once QEMU has them. */
    SvBackendIdentity start_id;
    GPtrArray *disk_keys;
    /* The guest's master key (QEMU's masterKey0, DIR/master-key.aes), made at start as
     * libvirt makes one for every guest; read back from its file after a restart. */
    guint8 master_key[32];
    gboolean has_master_key;
    /* The migration of the guest under way on this side (qemu_migration.c), or NULL. */
    struct QemuMigration *mig;
} QemuDomain;

/* The driver's context is never a global: code reaches it from its guest or its call (the
 * two below), from the SvDomainDriver a fact is given (->data), or as a parameter, so two
 * drivers may share a process.
 *
 * The context of the driver obj belongs to (the SvDomainDriver's data). */
static inline QemuProcessContext *
qemu_ctx_of(const SvDomainObj *obj)
{
    return sv_domain_driver_of_obj(obj)->data;
}

/* The context of the driver a client's call reached. */
static inline QemuProcessContext *
qemu_ctx_of_call(SvCall *call)
{
    return sv_domain_driver_of(call)->data;
}

/* Give obj new private data and begin its run; the run's handle. */
guint qemu_domain_begin(SvDomainObj *obj);
/* The guest is gone: the engine's teardown (sv_domain_run_teardown) ends the run and frees
 * the private data (what it holds of the process is freed from an idle, never inside the
 * process's own callbacks), with the facts qemu_run_facts (qemu_process.h). */

/* The guest of a run handle, if that run still lasts (whichever driver's guest it is:
 * qemu_ctx_of() gives its context). */
SvDomainObj *qemu_domain_find(gpointer run);
static inline QemuDomain *
qemu_domain_of(SvDomainObj *obj)
{
    return obj->priv;
}

/* A guest's state changes in one place, sv_domain_driver_set_state(ctx->domains, ...),
 * which writes the status file through the driver's save_status (sv_domain_run_save_status);
 * sv_domain_driver_set_state_event() also sends the event clients get for the change. */

/* End QEMU through the kill state machine, forced, with nobody waiting on it (guest
 * power-off, on_crash, AUTODESTROY, reconnect): the guest is STOPPING for cause, and the
 * status file records the request. A start without a process yet fails instead. */
void qemu_domain_kill(SvDomainObj *obj, SvStopCause cause);

/* The guest's log, ROOT/var/log/libvirt/qemu/NAME.log (util/guest_log.h); the daemon's
 * lines go in with sv_guest_log_printf(qd->log_fd, ...). */
int qemu_domain_open_log(SvDomainObj *obj, GError **error);

/* Remove what a guest leaves on disk while it runs: the pid file (through the store's
 * worker, in order with its write), the monitor socket and the per-guest directory. */
void qemu_domain_remove_files(SvDomainObj *obj);

/* A listening unix socket at `path` (an old file there is replaced), for QEMU: `what` names
 * it in errors ("monitor socket"). Returns the descriptor, or -1 with `error` set. */
int qemu_listen_unix(const char *path, const char *what, GError **error);

/* Start: qemu_start.c. SvDomainLifecycle.start. */
gboolean qemu_start_guest(SvDomainObj *obj, SvCall *call, guint flags, GError **error);
/* The start of obj for an incoming migration (qemu_migration.c): as qemu_start_guest with
 * nobody waiting on it, QEMU given -incoming defer and mig (transfer full on TRUE) as the
 * run's; once QEMU is ready, qemu_migration_incoming_launched() goes on instead of the
 * start's end. */
gboolean qemu_start_incoming(SvDomainObj *obj, struct QemuMigration *mig, GError **error);
/* A start that went wrong: err (transfer full) is the cause;
 * once QEMU is gone, nothing of the guest remains and the waiting call fails. */
void qemu_start_failed(SvDomainObj *obj, GError *err);
/* The error a failed start's call gets from its cause (both transfer full): the cause as it
 * is when QEMU never ran, else "QEMU failed to start" with the last lines QEMU printed. */
GError *qemu_start_error(SvDomainObj *obj, GError *cause);

/* Stop: qemu_process.c. QEMU's exit (the pidfd) and monitor events, for reconnect. */
void qemu_process_on_exit(SvProcess *proc, const SvProcessExit *how, gpointer run);
extern const QemuMonitorCallbacks qemu_process_monitor_events;
