/* domain_run.h: one run of a guest, the lifecycle engine's part of it: the data every
 * driver's private data of a run begins with (the start's waiting call, flags, timer and
 * first error; the destroy calls waiting for the end), the one end of a start, the one
 * record-then-release step of a start, and the one teardown, with the facts a driver gives
 * them (what only its hypervisor knows).
 *
 * A run begins with sv_domain_run_new() (a start, a reconnect) and ends when its state
 * becomes GONE: the setter (sv_domain_run_change) then ends the run and frees its data,
 * the driver's part through its dispose fact. */
#pragma once

#include "conf/domain_status.h"
#include "domain/domain_state.h"
#include "util/process.h"

/* What the engine keeps of a run. Every driver's private data (obj->priv) begins with it,
 * so obj->priv is one (sv_domain_run_of). */
typedef struct {
    SvDomainDriver *drv;
    SvCall *start_call;   /* the create call waiting for the guest to run, or NULL */
    guint start_flags;    /* SV_DOMAIN_START_* */
    guint start_timer;    /* the start's deadline; the setter stops it once the start ends */
    GError *start_error;  /* the first cause of a start that fails, told once the guest is
                             gone */
    GPtrArray *stop_calls; /* StopCall: destroys answered once the guest is gone */
    /* AUTODESTROY: the id of the client whose going destroys the guest
     * (sv_domain_driver_client_gone), SV_RUN_CLIENT_GONE when an earlier daemon recorded one
     * (its connection went with that daemon), 0 for none. The status file records whether
     * there is one (SvStatusCommon.autodestroy); the reconnect loop reads it back. */
    guint64 autodestroy_client;
    /* The run's helper processes (domain/domain_helper.h), ended at its teardown. */
    GPtrArray *helpers;
    /* libvirt's taints of this run (1 << SvDomainTaint): each logged once, listed by
     * DOMAIN_GET_MESSAGES until the run ends (issue 18 item 4). */
    guint taints;
} SvDomainRun;

/* libvirt's taints (virDomainTaintFlags), those a driver here marks. */
typedef enum {
    SV_DOMAIN_TAINT_CUSTOM_MONITOR, /* a client's own monitor command */
    SV_DOMAIN_TAINT_LAST
} SvDomainTaint;

/* libvirt's name of a taint, as its guest log has it ("custom-monitor"), and the text of
 * its message ("custom monitor control commands issued"). */
const char *sv_domain_taint_to_string(SvDomainTaint t);
const char *sv_domain_taint_message(SvDomainTaint t);

/* Mark obj's run (it has one) tainted: TRUE the first time in the run, when the caller
 * logs it ("Domain id=N is tainted: NAME", as libvirt's guest log). */
gboolean sv_domain_run_taint(SvDomainObj *obj, SvDomainTaint t);

/* The AUTODESTROY client of a run an earlier daemon recorded: gone, as its connection. */
#define SV_RUN_CLIENT_GONE G_MAXUINT64

/* How a run ended, as the driver saw it. */
typedef struct {
    int reason;       /* SHUTOFF reason (SV_DOMAIN_SHUTOFF_*) */
    int detail;       /* STOPPED detail (SV_DOMAIN_EVENT_STOPPED_*) */
    gboolean decided; /* these whatever the stop cause (the driver decided them when the end
                         was reported); otherwise only when the run has no stop cause */
    gboolean restart; /* start it again (beyond CRASH_RESTART's: Xen's on_reboot restart) */
    /* A start that failed before any process of the guest existed: nothing shut down, so
     * the guest log gets no line of its end. */
    gboolean never_ran;
} SvRunEnd;

/* The hypervisor facts of a run's data and its end. */
struct SvRunFacts {
    /* Free what the driver's private data holds (not the data itself): at the end of the
     * run, or when the daemon exits with the guest running; calls it still holds may be
     * handed to the engine (sv_domain_run_add_stop_call), which fails them. */
    void (*dispose)(gpointer priv);
    /* The guest is gone (or its start failed): release what only the hypervisor knows of
     * it (monitor, files, labels, cgroup, event watches), and hand the destroy calls the
     * driver still holds to the engine (sv_domain_run_add_stop_call). Runs before the guest
     * becomes inactive, with its data. */
    void (*release)(SvDomainObj *obj);
    /* Where the private data holds the descriptor of the guest log (util/guest_log.h; -1
     * while none is open), as systemd's unit vtables give their contexts' offsets; 0: the
     * driver keeps no guest log. */
    gsize log_fd_offset;
    /* The error the start's call fails with (transfer full), from the start's first cause
     * (transfer full, NULL when none was recorded), with the run's data still there. NULL:
     * the cause as it is. */
    GError *(*start_error)(SvDomainObj *obj, GError *cause);
    gboolean log_failed_start;  /* "shutting down, reason=failed" in the log of a failed
                                   start too (virtlxcd) */
    gboolean restart_transient; /* a transient guest is started again too (virtxend); else
                                   it is removed */
    /* The status files (conf/domain_status.h), written by sv_domain_run_save_status: how
     * the driver's files record the common part (NULL: the driver writes none that way). A
     * guest has one while it exists and is not shut off, or, with the style's
     * start_shut_off, while its start is under way. */
    const SvStatusStyle *status_style;
    /* The directory of obj's status file, DIR/NAME.xml. (transfer none) */
    const char *(*status_dir)(SvDomainObj *obj);
    /* Whether obj's guest exists (its process, its domain). */
    gboolean (*status_exists)(SvDomainObj *obj);
    /* Fill in the driver's part of c (its process, a kill under way) and its own
     * attributes and elements; own's strings are the engine's to free (transfer full). */
    void (*status_own)(SvDomainObj *obj, SvStatusCommon *c, SvStatusOwn *own);
};

/* The save_status of a driver whose run facts give a status_style (its default,
 * sv_domain_driver_install): a guest that has a record (as status_style says) gets its file
 * written, the common part (state, persistence, a start under way, AUTODESTROY) and the
 * driver's (status_own); otherwise its file is removed. done as drv->save_status's. */
void sv_domain_run_save_status(SvDomainObj *obj, SvStoreDoneFunc done, gpointer data);

/* The engine's data of obj's run (NULL when none). */
static inline SvDomainRun *
sv_domain_run_of(SvDomainObj *obj)
{
    return obj->priv;
}

/* Begin a run of obj (which has none) with fresh private data of size bytes (the driver's
 * type, which begins with SvDomainRun), zeroed but for the engine's part. (transfer none:
 * the run owns it) */
gpointer sv_domain_run_new(SvDomainDriver *drv, SvDomainObj *obj, gsize size);

/* The start of obj's run, as it begins, waits with call (transfer none: deferred here; NULL
 * for a start nobody waits on, an autostart or a restart) and flags (SV_DOMAIN_START_*),
 * which the run keeps; with AUTODESTROY, the call's client becomes the guest's: its going
 * destroys the guest. */
void sv_domain_run_take_start(SvDomainObj *obj, SvCall *call, guint flags);

/* The start's deadline: after ms, expired(obj, error) runs unless the start has ended by
 * then (the setter stops the timer once the start is over or has failed, and with the
 * run), error (transfer full) OPERATION_TIMEOUT of the driver's domain saying "<what> <ms>
 * ms". */
void sv_domain_run_arm_start_timer(SvDomainObj *obj, guint ms, const char *what,
                                   void (*expired)(SvDomainObj *obj, GError *error));

/* Record cause (transfer full) as the reason the start under way fails, unless one was
 * recorded already (the first cause is the one told). */
void sv_domain_run_start_failed(SvDomainObj *obj, GError *cause);

/* Answer call (transfer full) once the run's guest is gone, with its status file removed;
 * remove_log (may be NULL) is the guest log to remove then (DESTROY_REMOVE_LOGS). When the
 * daemon exits first, the call fails. */
void sv_domain_run_add_stop_call(SvDomainRun *run, SvCall *call, const char *remove_log);

/* The destroy calls waiting for the guest to be gone fail with error: the destroy they
 * joined did not come about (the guest outlived its kill) and the guest lives on; their
 * logs stay. A later destroy may try again. */
void sv_domain_run_fail_stop_calls(SvDomainRun *run, const GError *error);

/* The facts of a start's record-then-release step. */
typedef struct {
    /* The child held before exec, or NULL when the start no longer has one to release (it
     * is ending: the kill of what it made ends the child, which never ran). */
    SvProcess *(*held)(SvDomainObj *obj);
    /* The start ends before the child ran: a destroy, or record_error (may be NULL) the
     * record could not be written. */
    void (*abandon)(SvDomainObj *obj, const GError *record_error);
    /* The child could not be let go (transfer full of error). */
    void (*release_failed)(SvDomainObj *obj, GError *error);
    /* The child runs (NULL: nothing more to do). */
    void (*released)(SvDomainObj *obj);
} SvRunReleaseFacts;

/* A start's held child is let go once the status file naming it is durably on disk, so no
 * child of ours ever runs that a restarted daemon cannot find: write the status file
 * (drv->save_status), then, if the start still goes on, release the child (util/process.h
 * sv_process_release) as facts say. */
void sv_domain_run_record_then_release(SvDomainObj *obj, const SvRunReleaseFacts *facts);

/* The start has succeeded (the guest runs, or is paused when asked):
 * sv_domain_driver_start_done() with the start's flags and waiting call. */
void sv_domain_run_start_finished(SvDomainObj *obj);

/* The one teardown of a run: the guest is gone, or its start failed. In this order: the
 * end's reason and detail (a start that failed: FAILED, no STOPPED; else the stop cause's:
 * DESTROYED, CRASHED, SHUTDOWN, or end's when the driver decided or there is no cause),
 * "shutting down, reason=..." in the guest log (unless the guest never ran), the driver's
 * release fact, obj inactive and SHUTOFF (the status file removed, the run and its data
 * released), STOPPED, the persistent definition back, the daemon's hold released, the
 * start's call failed with the start's error (a failed start nobody waits on is logged),
 * the destroy calls answered once the status file is gone, then a restart (CRASH_RESTART,
 * or end->restart) through the driver's start, or a transient domain's removal. */
void sv_domain_run_teardown(SvDomainObj *obj, const SvRunEnd *end);

/* What the run's new state no longer owns is released (systemd's socket_set_state()): out
 * of its start, the start's timer; GONE, the run and its data. Called by the setter. */
void sv_domain_run_release_owned(SvDomainObj *obj);

/* The SHUTOFF reason and STOPPED detail of obj's stop cause; FALSE when it has none that
 * says (SV_STOP_NONE). */
gboolean sv_domain_run_end_of_cause(const SvDomainObj *obj, int *ret_reason, int *ret_detail);
