/* domain_control.h: the procedures that act on a running guest (SUSPEND, RESUME, RESET,
 * DESTROY(_FLAGS), SHUTDOWN(_FLAGS), REBOOT), served once for every driver from a table of
 * its hypervisor's facts (SvGuestOps): the flags each accepts, libvirt's function named in
 * their errors, the driver's own admission rules with their errors, and the action.
 *
 * The shared layer does the rest, in this order: flags, lookup, the driver's readiness, the
 * shared rules and the driver's, a no-op answered at once, the cause named, the run state
 * (PAUSING; STOPPING with a destroy's cause), the action (a destroy's mode on the job), and
 * on its completion the state change with its event (exactly once, whether the hypervisor's
 * own event came first or not), the withdrawal of what a failed action had begun (PAUSING,
 * a destroy), a destroy's guest log removed with REMOVE_LOGS once the guest is gone (not
 * when it fails), and the reply once the status files written before it are on disk. */
#pragma once

#include "domain/domain_driver.h"
#include "domain/domain_run.h"

/* The procedures of this table, one per libvirt function named in flag errors: DESTROY
 * and DESTROY_FLAGS are one, SHUTDOWN and SHUTDOWN_FLAGS are one. Of the two starts
 * (domain_lifecycle.c; CREATE takes no flags) only flags and func are read. */
typedef enum {
    SV_GUEST_CREATE_WITH_FLAGS,
    SV_GUEST_CREATE_XML,
    SV_GUEST_SUSPEND,
    SV_GUEST_RESUME,
    SV_GUEST_RESET,
    SV_GUEST_DESTROY,
    SV_GUEST_SHUTDOWN,
    SV_GUEST_REBOOT,
    SV_GUEST_OP_LAST,
} SvGuestOp;

/* Rules the shared layer applies (SvGuestProc.rules), where the drivers agree. */
enum {
    /* An inactive guest: "domain is not running" (OPERATION_INVALID, DOMAIN), before the
     * driver's own rules. */
    SV_GUEST_RULE_ACTIVE = 1 << 0,
    /* After the driver's rules: a guest paused (and done starting) needs nothing: success,
     * no event (SUSPEND, as libvirt). */
    SV_GUEST_RULE_PAUSED_NOOP = 1 << 1,
    /* After that: the guest must be RUNNING, done starting, or "domain is not running"
     * (OPERATION_INVALID) in error domain not_running_from; also for an inactive one. */
    SV_GUEST_RULE_RUNNING = 1 << 2,
    /* DESTROY: the shared layer names the stop before the action, STOPPING with the cause
     * DESTROY_GRACEFUL or DESTROY by the GRACEFUL flag, unwritten (the driver writes it with
     * its kill's mode and deadline). Without it the driver names its stop itself (libxl's
     * GRACEFUL destroy only asks the guest and begins none). */
    SV_GUEST_RULE_NAME_STOP = 1 << 3,
};

/* One procedure under way on a guest, from its action to its completion. The fields are
 * for the driver to read. */
typedef struct SvGuestJob SvGuestJob;
typedef void (*SvGuestDoneFunc)(SvDomainDriver *drv, const GError *error, gpointer data);

struct SvGuestJob {
    SvDomainDriver *drv;
    SvGuestOp op;
    guint flags;
    gpointer run;  /* the guest's run (sv_domain_obj_run_key): a weak handle */
    char *name;    /* the guest's name, for what outlives its run (its log) */
    gboolean graceful; /* DESTROY with GRACEFUL: SIGTERM (or its like) only, never forced */
    SvCall *call;  /* the deferred call, or NULL (a caller without one) */
    SvGuestDoneFunc done;
    gpointer data;
};

/* One of a driver's own admission rules: a guest for which when() holds (when NULL: a
 * guest in state, libvirt's) is refused with libvirt's error of the driver (from, code,
 * message). */
typedef struct {
    gboolean (*when)(const SvDomainObj *obj);
    int from;
    int code;
    const char *message;
    int state;
} SvGuestRefusal;

typedef struct {
    guint flags;      /* the flag bits the procedure accepts */
    const char *func; /* libvirt's function named in a flag error ("qemuDomainReset") */
    guint rules;      /* SV_GUEST_RULE_* */
    int not_running_from;
    /* The driver's own rules, in order, after the shared ACTIVE rule (message NULL: none). */
    SvGuestRefusal refuse[2];
    /* After them: whether the guest needs nothing done (success, nothing changes; NULL:
     * never). */
    gboolean (*noop)(const SvDomainObj *obj);
    /* Ask the hypervisor. FALSE with error set: it failed at once (the shared layer
     * withdraws and answers). TRUE: the driver calls sv_guest_job_done() exactly once,
     * now (a synchronous action) or when the hypervisor has done it, or hands the call on
     * (sv_guest_job_wait_gone, sv_guest_job_take_call). NULL: the driver
     * does not serve the procedure (its handler is not installed). */
    gboolean (*act)(SvGuestJob *job, SvDomainObj *obj, GError **error);
} SvGuestProc;

struct SvGuestOps {
    /* Start obj (inactive): the call is answered once the guest runs (see
     * sv_domain_driver_reply_started) or its start fails; FALSE with error set when the
     * start cannot begin, leaving obj as it was. */
    gboolean (*start)(SvDomainObj *obj, SvCall *call, guint flags, GError **error);
    /* Whether drv's hypervisor can be reached at all, after the lookup (NULL: always). */
    gboolean (*ready)(SvDomainDriver *drv, GError **error);
    /* Destroy obj (active, no destroy under way), forced, with nobody waiting: the guest is
     * STOPPING/DESTROY and its end a destroy's; why names the daemon's reason in the log
     * ("its AUTODESTROY client went away"). The AUTODESTROY of a client that goes
     * (sv_domain_driver_client_gone). NULL: the driver takes no AUTODESTROY start. */
    void (*destroy_quietly)(SvDomainObj *obj, const char *why);
    SvGuestProc procs[SV_GUEST_OP_LAST];
};

/* Serve the procedures on a running guest drv->guest has actions for in h
 * (sv_domain_driver_install_lifecycle does). */
void sv_domain_control_install(SvDomainDriver *drv, SvRemoteHandlers *h);

/* The admission of op with flags on dom: flags, lookup, readiness, the rules. The guest,
 * or NULL with error set; *ret_noop says the call needs nothing done. */
SvDomainObj *sv_guest_admit(SvDomainDriver *drv, SvGuestOp op, const remote_nonnull_domain *dom,
                            guint flags, gboolean *ret_noop, GError **error);

/* Carry out op on obj, admitted (its cause named by the caller): the run state, the
 * action, and at its end the state change and event, or the withdrawal. Then done (may
 * be NULL) runs, exactly once, maybe before this returns, with the error (NULL: success),
 * and call (transfer full, may be NULL) is answered: failed with the error, or replied to
 * once the status files written before are on disk. */
void sv_guest_begin(SvDomainDriver *drv, SvDomainObj *obj, SvGuestOp op, guint flags,
                    SvCall *call, SvGuestDoneFunc done, gpointer data);

/* The action of job has ended (error NULL: done): complete the procedure and free job. */
void sv_guest_job_done(SvGuestJob *job, const GError *error);

/* For a driver that answers the call itself (libxl's GRACEFUL destroy that gave up): the
 * call (transfer full; NULL without one); job is freed, its done never runs. */
SvCall *sv_guest_job_take_call(SvGuestJob *job);

/* A destroy answered with the others waiting on the same end: its call (if any) joins the
 * stop calls of run, the guest's (domain_run.h), answered once the guest is gone and its status file
 * removed, the guest log removed then with REMOVE_LOGS, or failed together when the
 * destroy fails (sv_domain_run_fail_stop_calls); job is freed, its done never runs. */
void sv_guest_job_wait_gone(SvGuestJob *job, SvDomainRun *run);
