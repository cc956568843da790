/* domain_control.c: SUSPEND, RESUME, RESET, DESTROY(_FLAGS), SHUTDOWN(_FLAGS) and REBOOT,
 * served once over each driver's SvGuestOps (domain_control.h). */
#include "domain/domain_control.h"

#include <unistd.h>

#include "domain/domain_run.h"
#include "domain/domain_state.h"
#include "util/error.h"
#include "util/guest_log.h"

static const SvGuestProc *
proc_of(SvDomainDriver *drv, SvGuestOp op)
{
    g_assert(drv->guest && op < SV_GUEST_OP_LAST);
    return &drv->guest->procs[op];
}

/* RUNNING and done starting. */
static gboolean
is_running(const SvDomainObj *obj)
{
    return sv_domain_obj_is_active(obj) && obj->state == SV_DOMAIN_RUNNING &&
           !sv_domain_run_in_start(obj);
}

SvDomainObj *
sv_guest_admit(SvDomainDriver *drv, SvGuestOp op, const remote_nonnull_domain *dom, guint flags,
               gboolean *ret_noop, GError **error)
{
    const SvGuestProc *p = proc_of(drv, op);
    SvDomainObj *obj;

    *ret_noop = FALSE;
    if (!sv_check_flags(flags, p->flags, drv->from, p->func, error))
        return NULL;
    if (!(obj = sv_domain_driver_lookup(drv, dom, error)))
        return NULL;
    if (drv->guest->ready && !drv->guest->ready(drv, error))
        return NULL;
    if ((p->rules & SV_GUEST_RULE_ACTIVE) && !sv_domain_driver_check_active(obj, error))
        return NULL;
    for (guint i = 0; i < G_N_ELEMENTS(p->refuse) && p->refuse[i].message; i++) {
        const SvGuestRefusal *r = &p->refuse[i];

        if (r->when ? r->when(obj) : obj->state == r->state) {
            sv_error_set(error, r->from, r->code, "%s", r->message);
            return NULL;
        }
    }
    if ((p->noop && p->noop(obj)) ||
        ((p->rules & SV_GUEST_RULE_PAUSED_NOOP) && obj->state == SV_DOMAIN_PAUSED &&
         !sv_domain_run_in_start(obj))) {
        *ret_noop = TRUE;
        return obj;
    }
    if ((p->rules & SV_GUEST_RULE_RUNNING) && !is_running(obj)) {
        sv_error_set(error, p->not_running_from, SV_ERR_OPERATION_INVALID,
                     "domain is not running");
        return NULL;
    }
    return obj;
}

/* A pause or a resume has been done: what clients see changes, and its event goes out,
 * exactly once. The hypervisor's own event (QEMU's STOP, RESUME) may have come before the
 * action's completion, or may come after it: the state says which. */
static void
paused_or_resumed(SvDomainDriver *drv, SvDomainObj *obj, SvGuestOp op)
{
    if (op == SV_GUEST_SUSPEND && obj->state == SV_DOMAIN_RUNNING) {
        sv_domain_driver_set_state_event(drv, obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_USER,
                                         SV_DOMAIN_EVENT_SUSPENDED,
                                         SV_DOMAIN_EVENT_SUSPENDED_PAUSED);
    } else if (op == SV_GUEST_SUSPEND && obj->state == SV_DOMAIN_PAUSED) {
        /* Its event went out with the hypervisor's: the pause was the client's. */
        sv_domain_driver_set_state(drv, obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_USER);
    } else if (op == SV_GUEST_RESUME &&
               (obj->state == SV_DOMAIN_PAUSED || obj->state == SV_DOMAIN_CRASHED)) {
        sv_domain_driver_set_state_event(drv, obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_UNPAUSED,
                                         SV_DOMAIN_EVENT_RESUMED,
                                         SV_DOMAIN_EVENT_RESUMED_UNPAUSED);
    }
}

/* What a failed action had begun is withdrawn: the guest lives on in its state, and a
 * later call may try again. */
static void
withdraw(SvDomainDriver *drv, SvDomainObj *obj, SvGuestOp op)
{
    if (op == SV_GUEST_DESTROY)
        sv_domain_run_withdraw_destroy(drv, obj);
}

static void
job_free(SvGuestJob *job)
{
    g_free(job->name);
    g_free(job);
}

/* The guest log a destroy with REMOVE_LOGS removes once the guest is gone, or NULL. */
static char *
log_to_remove(const SvGuestJob *job)
{
    if (job->op != SV_GUEST_DESTROY || !(job->flags & SV_DOMAIN_DESTROY_REMOVE_LOGS) ||
        !job->drv->log_dir)
        return NULL;
    return sv_guest_log_path(job->drv->log_dir, job->name);
}

void
sv_guest_job_done(SvGuestJob *job, const GError *error)
{
    SvDomainDriver *drv = job->drv;
    SvDomainObj *obj = sv_domain_list_find_attached(drv->list, job->run);
    g_autofree char *log = error ? NULL : log_to_remove(job);

    if (log)
        unlink(log);

    if (obj && error)
        withdraw(drv, obj, job->op);
    else if (obj)
        paused_or_resumed(drv, obj, job->op);
    /* A pause that did not come about (failed, or the guest was shutting down). */
    if (obj && job->op == SV_GUEST_SUSPEND && obj->run_state == SV_RUN_PAUSING)
        sv_domain_run_change(obj, SV_RUN_RUNNING, SV_STOP_NONE);
    if (job->done)
        job->done(drv, error, job->data);
    if (job->call && error)
        sv_call_fail(job->call, g_error_copy(error));
    else if (job->call)
        sv_domain_driver_reply_when_saved(drv, job->call, NULL, NULL);
    job_free(job);
}

SvCall *
sv_guest_job_take_call(SvGuestJob *job)
{
    SvCall *call = job->call;

    job_free(job);
    return call;
}

void
sv_guest_job_wait_gone(SvGuestJob *job, SvDomainRun *run)
{
    g_autofree char *log = log_to_remove(job);
    SvCall *call = sv_guest_job_take_call(job);

    if (call)
        sv_domain_run_add_stop_call(run, call, log);
}

void
sv_guest_begin(SvDomainDriver *drv, SvDomainObj *obj, SvGuestOp op, guint flags, SvCall *call,
               SvGuestDoneFunc done, gpointer data)
{
    SvGuestJob *job = g_new0(SvGuestJob, 1);
    g_autoptr(GError) error = NULL;

    job->drv = drv;
    job->op = op;
    job->flags = flags;
    job->run = sv_domain_obj_run_key(obj);
    job->name = g_strdup(obj->def->name);
    job->graceful = op == SV_GUEST_DESTROY && (flags & SV_DOMAIN_DESTROY_GRACEFUL);
    job->call = call;
    job->done = done;
    job->data = data;
    /* On its way to the hypervisor; not in the status file, nothing to write. A guest with
     * something else under way (a reboot in place, a stop) keeps it. */
    if (op == SV_GUEST_SUSPEND && obj->run_state == SV_RUN_RUNNING)
        sv_domain_run_change(obj, SV_RUN_PAUSING, SV_STOP_NONE);
    /* The destroy's cause, written by the driver with its kill's mode and deadline. */
    if (op == SV_GUEST_DESTROY && (proc_of(drv, op)->rules & SV_GUEST_RULE_NAME_STOP))
        sv_domain_run_change(obj, SV_RUN_STOPPING,
                             job->graceful ? SV_STOP_DESTROY_GRACEFUL : SV_STOP_DESTROY);
    if (!proc_of(drv, op)->act(job, obj, &error))
        sv_guest_job_done(job, error);
}

/* ---------------------------------------------------------------- handlers */

static gboolean
serve(SvCall *call, SvGuestOp op, const remote_nonnull_domain *dom, guint flags, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    gboolean noop;
    SvDomainObj *obj = sv_guest_admit(drv, op, dom, flags, &noop, error);

    if (!obj)
        return FALSE;
    if (noop)
        return TRUE; /* libvirt: no error, no event */
    sv_domain_driver_set_cause_call(obj, call);
    sv_guest_begin(drv, obj, op, flags, sv_call_defer(call), NULL, NULL);
    return TRUE;
}

static gboolean
domain_suspend(SvCall *call, remote_domain_suspend_args *a, GError **error)
{
    return serve(call, SV_GUEST_SUSPEND, &a->dom, 0, error);
}

static gboolean
domain_resume(SvCall *call, remote_domain_resume_args *a, GError **error)
{
    return serve(call, SV_GUEST_RESUME, &a->dom, 0, error);
}

static gboolean
domain_reset(SvCall *call, remote_domain_reset_args *a, GError **error)
{
    return serve(call, SV_GUEST_RESET, &a->dom, a->flags, error);
}

static gboolean
domain_destroy(SvCall *call, remote_domain_destroy_args *a, GError **error)
{
    return serve(call, SV_GUEST_DESTROY, &a->dom, 0, error);
}

static gboolean
domain_destroy_flags(SvCall *call, remote_domain_destroy_flags_args *a, GError **error)
{
    return serve(call, SV_GUEST_DESTROY, &a->dom, a->flags, error);
}

static gboolean
domain_shutdown(SvCall *call, remote_domain_shutdown_args *a, GError **error)
{
    return serve(call, SV_GUEST_SHUTDOWN, &a->dom, 0, error);
}

static gboolean
domain_shutdown_flags(SvCall *call, remote_domain_shutdown_flags_args *a, GError **error)
{
    return serve(call, SV_GUEST_SHUTDOWN, &a->dom, a->flags, error);
}

static gboolean
domain_reboot(SvCall *call, remote_domain_reboot_args *a, GError **error)
{
    return serve(call, SV_GUEST_REBOOT, &a->dom, a->flags, error);
}

void
sv_domain_control_install(SvDomainDriver *drv, SvRemoteHandlers *h)
{
    const SvGuestProc *p = drv->guest->procs;

    /* A procedure without an action keeps no handler: the dispatcher answers it as every
     * procedure a driver does not serve. */
    if (p[SV_GUEST_SUSPEND].act)
        h->domain_suspend = domain_suspend;
    if (p[SV_GUEST_RESUME].act)
        h->domain_resume = domain_resume;
    if (p[SV_GUEST_RESET].act)
        h->domain_reset = domain_reset;
    if (p[SV_GUEST_DESTROY].act) {
        h->domain_destroy = domain_destroy;
        h->domain_destroy_flags = domain_destroy_flags;
    }
    if (p[SV_GUEST_SHUTDOWN].act) {
        h->domain_shutdown = domain_shutdown;
        h->domain_shutdown_flags = domain_shutdown_flags;
    }
    if (p[SV_GUEST_REBOOT].act)
        h->domain_reboot = domain_reboot;
}
