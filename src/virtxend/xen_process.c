/* xen_process.c: the life of a Xen guest as the daemon sees it: its run, its state and
 * status file, libxl's events about it, and its end.
 *
 * A guest's state changes in one place, sv_domain_driver_set_state(), which checks the
 * transition, logs it and rewrites the status file ROOT/run/libvirt/libxl/NAME.xml; events
 * go out right after. libxl reports a guest that shut down, rebooted or crashed with
 * DOMAIN_SHUTDOWN: the driver then acts on the definition's on_poweroff/on_reboot/on_crash,
 * usually by destroying the domain (libxl_domain_destroy, which also reaps a domain that
 * has already shut down). The guest is gone when that destroy completes or libxl reports
 * DOMAIN_DEATH, whichever comes first; how it ended was recorded when its end began
 * (stop_reason), so STOPPED carries the right detail.
 *
 * Everything here runs on the loop: libxl's events and completions come through
 * xen_ctx.c's queue. The start is in xen_start.c, the procedures in xen_control.c, the
 * reconnect after a daemon restart in xen_reconnect.c. */
#include "xen_domain.h"

#include <errno.h>
#include <string.h>

#include "conf/domain_status.h"
#include "util/error.h"

int
xen_stop_cause_from_string(const char *s)
{
    int cause = sv_stop_cause_from_string(s);

    switch (cause) {
    case SV_STOP_NONE:
    case SV_STOP_SHUTDOWN:
    case SV_STOP_DESTROY:
    case SV_STOP_CRASH:
        return cause;
    default:
        return -1;
    }
}

void
xen_graceful_job_free(XenGracefulJob *job)
{
    if (job->timer)
        g_source_remove(job->timer);
    g_free(job);
}

/* The GRACEFUL destroys waiting go to the engine's stop calls: it answers them once the
 * guest is gone, or fails them when the daemon exits first. */
static void
hand_over_graceful(XenDomain *xd)
{
    for (GList *l = xd->graceful; l; l = l->next) {
        XenGracefulJob *job = l->data;
        if (job->job)
            sv_guest_job_wait_gone(g_steal_pointer(&job->job), &xd->run);
        xen_graceful_job_free(job);
    }
    g_clear_pointer(&xd->graceful, g_list_free);
}

static void
xen_domain_dispose(gpointer p)
{
    XenDomain *xd = p;

    hand_over_graceful(xd);
    if (xd->d_config) {
        libxl_domain_config_dispose(xd->d_config);
        g_free(xd->d_config);
    }
}

XenDomain *
xen_domain_new(SvDomainObj *obj)
{
    return sv_domain_run_new(xen_ctx_of(obj)->domains, obj, sizeof(XenDomain));
}

SvDomainObj *
xen_domain_find_run(gpointer data)
{
    return sv_domain_run_find_attached(data);
}

/* ---------------------------------------------------------------- state */

/* The end of the last GRACEFUL destroy under way, or 0. */
static gint64
graceful_deadline(XenDomain *xd)
{
    gint64 last = 0;

    for (GList *l = xd->graceful; l; l = l->next)
        last = MAX(last, ((XenGracefulJob *)l->data)->deadline);
    return last;
}

/* What a restarted daemon needs to find this guest again: written before the domain is
 * created (starting='1', its domid not known yet: the style's start_shut_off), removed
 * once it is gone. */
static const char *
status_dir(SvDomainObj *obj)
{
    return xen_ctx_of(obj)->run_dir;
}

static gboolean
status_exists(SvDomainObj *obj)
{
    return ((XenDomain *)obj->priv)->domid != 0;
}

static void
status_own(SvDomainObj *obj, SvStatusCommon *c, SvStatusOwn *own)
{
    XenDomain *xd = obj->priv;

    (void)c;
    own->attrs = g_strdup_printf(" domid='%u' stopreason='%s' restart='%d'"
                                 " graceful='%" G_GINT64_FORMAT "'",
                                 xd->domid, sv_stop_cause_to_string(obj->stop_cause), xd->restart,
                                 graceful_deadline(xd));
}

/* ---------------------------------------------------------------- stop */

/* The domain no longer exists in Xen (or its start failed): no more events about it; the
 * destroys waiting, and the GRACEFUL ones the guest obeyed by going away, are the engine's
 * to answer. */
static void
xen_domain_release(SvDomainObj *obj)
{
    XenDomain *xd = xen_domain_of(obj);

    hand_over_graceful(xd);
    if (xd->death) {
        libxl_evdisable_domain_death(xen_libxl_of(obj), xd->death);
        xd->death = NULL;
    }
}

/* A transient guest restarts too (on_reboot or on_crash restart): libxl's driver keeps it. */
const SvRunFacts xen_run_facts = {
    .dispose = xen_domain_dispose,
    .release = xen_domain_release,
    .restart_transient = TRUE,
    .status_style = &xen_status_style,
    .status_dir = status_dir,
    .status_exists = status_exists,
    .status_own = status_own,
};

/* The domain no longer exists in Xen: the stop cause says how it ended (SHUTDOWN, CRASH,
 * DESTROY); without one it was destroyed behind our back (xl destroy): as libvirt,
 * DESTROYED. A reboot or crash to restart is started again, unless a client's destroy
 * joined it. */
static void
guest_gone(SvDomainObj *obj)
{
    gboolean restart = xen_domain_of(obj)->restart && !sv_domain_run_destroying(obj);

    sv_domain_run_teardown(obj, &(SvRunEnd){.reason = SV_DOMAIN_SHUTOFF_DESTROYED,
                                            .detail = SV_DOMAIN_EVENT_STOPPED_DESTROYED,
                                            .restart = restart});
}

/* libxl did not destroy the domain: a client's destroy is withdrawn (the guest goes back to
 * what it was before, domain/domain_state.h) and the destroys waiting (the run's stop
 * calls) fail together with error; a stop the guest began itself stays, for the next
 * destroy to try again. */
static void
destroy_failed(SvDomainObj *obj, const GError *error)
{
    XenDomain *xd = xen_domain_of(obj);

    xd->destroy_started = FALSE;
    g_warning("domain %s: %s", obj->def->name, error->message);
    sv_domain_run_withdraw_destroy(xen_ctx_of(obj)->domains, obj);
    sv_domain_run_fail_stop_calls(&xd->run, error);
}

static void
destroy_done(int rc, gpointer data)
{
    SvDomainObj *obj = xen_domain_find_run(data);
    g_autoptr(GError) e = NULL;

    /* DOMAIN_DEATH may have come first: then that run is over and nothing is left to do. */
    if (!obj)
        return;
    if (rc == 0) {
        guest_gone(obj);
        return;
    }
    sv_error_set(&e, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                 "libxenlight failed to destroy domain '%u' (error %d)", xen_domain_of(obj)->domid,
                 rc);
    destroy_failed(obj, e);
}

gboolean
xen_domain_begin_destroy(SvDomainObj *obj, GError **error)
{
    XenDomain *xd = xen_domain_of(obj);
    XenProcessContext *ctx = xen_ctx_of(obj);
    const libxl_asyncop_how *how;
    int rc;

    if (xd->destroy_started)
        return TRUE;
    how = xen_ctx_ao(ctx->xen, destroy_done, sv_domain_obj_run_key(obj));
    rc = libxl_domain_destroy(xen_ctx_get(ctx->xen), xd->domid, how);
    if (rc != 0) {
        xen_ctx_ao_cancel(ctx->xen, how);
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "Failed to destroy domain '%u' (libxenlight error %d)", xd->domid, rc);
        return FALSE;
    }
    xd->destroy_started = TRUE;
    sv_domain_driver_save_status(sv_domain_driver_of_obj(obj), obj);
    return TRUE;
}

void
xen_domain_begin_destroy_quietly(SvDomainObj *obj)
{
    g_autoptr(GError) error = NULL;

    if (!xen_domain_begin_destroy(obj, &error))
        destroy_failed(obj, error);
}

static void
orphan_destroyed(int rc, gpointer data)
{
    if (rc != 0)
        g_warning("domain %u left over from a start could not be destroyed (error %d)",
                  GPOINTER_TO_UINT(data), rc);
}

void
xen_domain_destroy_orphan(XenProcessContext *ctx, guint32 domid)
{
    const libxl_asyncop_how *how =
        xen_ctx_ao(ctx->xen, orphan_destroyed, GUINT_TO_POINTER(domid));

    if (libxl_domain_destroy(xen_ctx_get(ctx->xen), domid, how) != 0)
        xen_ctx_ao_cancel(ctx->xen, how);
}

/* ---------------------------------------------------------------- GRACEFUL destroys */

/* A GRACEFUL destroy gave up. Not through the shared completion (sv_guest_job_done), which
 * would withdraw a destroy: this one never began a stop, and a forced destroy under way
 * meanwhile is not its to withdraw. (transfer full of job and error) */
static void
fail_graceful(SvGuestJob *job, GError *error)
{
    SvCall *call = sv_guest_job_take_call(job);

    if (call)
        sv_call_fail(call, error);
    else
        g_error_free(error);
}

static gboolean
graceful_timed_out(gpointer data)
{
    XenGracefulJob *job = data;
    SvDomainObj *obj = xen_domain_find_run(GUINT_TO_POINTER(job->run));
    XenDomain *xd;
    g_autoptr(GError) e = NULL;

    job->timer = 0;
    if (!obj) { /* cannot happen: the run's end frees its jobs and their timers */
        xen_graceful_job_free(job);
        return G_SOURCE_REMOVE;
    }
    xd = xen_domain_of(obj);
    xd->graceful = g_list_remove(xd->graceful, job);
    /* As the QEMU driver's GRACEFUL destroy: no forced end, an error the caller can act
     * on. The guest keeps running, with the shutdown request still pending. */
    sv_error_set_errno(&e, SV_FROM_LIBXL, EBUSY, "Failed to terminate domain %u with shutdown",
                       xd->domid);
    if (job->job) {
        g_message("%s", e->message);
        fail_graceful(g_steal_pointer(&job->job), g_steal_pointer(&e));
    } else {
        g_warning("domain %s: the GRACEFUL destroy begun before the daemon restarted failed: "
                  "%s; the guest keeps running", obj->def->name, e->message);
    }
    xen_graceful_job_free(job);
    sv_domain_driver_save_status(sv_domain_driver_of_obj(obj), obj);
    return G_SOURCE_REMOVE;
}

void
xen_graceful_add(SvDomainObj *obj, SvGuestJob *destroy, gint64 deadline)
{
    XenDomain *xd = xen_domain_of(obj);
    XenGracefulJob *job = g_new0(XenGracefulJob, 1);
    gint64 left = deadline - g_get_monotonic_time();

    job->run = obj->run;
    job->job = destroy;
    job->deadline = deadline;
    job->timer = g_timeout_add(left > 0 ? (guint)((left + 999) / 1000) : 0, graceful_timed_out,
                               job);
    xd->graceful = g_list_append(xd->graceful, job);
    sv_domain_driver_save_status(sv_domain_driver_of_obj(obj), obj);
}

/* ---------------------------------------------------------------- libxl events */

/* What on_poweroff, on_reboot or on_crash says once the guest has stopped. */
static void
apply_action(SvDomainObj *obj, SvDomainLifecycleAction action, SvStopCause why)
{
    XenDomain *xd = xen_domain_of(obj);

    switch (action) {
    case SV_DOMAIN_LIFECYCLE_PRESERVE:
        return; /* stays as it is until destroyed */
    case SV_DOMAIN_LIFECYCLE_RESTART:
    case SV_DOMAIN_LIFECYCLE_RENAME_RESTART:
    case SV_DOMAIN_LIFECYCLE_COREDUMP_RESTART:
        xd->restart = TRUE;
        break;
    case SV_DOMAIN_LIFECYCLE_DESTROY:
    case SV_DOMAIN_LIFECYCLE_COREDUMP_DESTROY:
    case SV_DOMAIN_LIFECYCLE_LAST:
        break;
    }
    sv_domain_run_change(obj, SV_RUN_STOPPING, why); /* written as the destroy begins */
    xen_domain_begin_destroy_quietly(obj);
}

/* A GRACEFUL destroy got its shutdown: reap the domain, as a destroy. */
static void
graceful_succeeded(SvDomainObj *obj)
{
    hand_over_graceful(xen_domain_of(obj));
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_DESTROY); /* written as it begins */
    xen_domain_begin_destroy_quietly(obj);
}

static void
on_domain_shutdown(SvDomainObj *obj, int reason)
{
    XenDomain *xd = xen_domain_of(obj);

    g_debug("domain %s: libxl DOMAIN_SHUTDOWN, reason %d", obj->def->name, reason);
    if (sv_domain_run_in_start(obj) || xd->destroy_started ||
        sv_domain_run_stopping(obj, SV_STOP_NONE))
        return;
    if (xd->graceful) {
        graceful_succeeded(obj);
        return;
    }
    sv_domain_obj_set_cause(obj, "Xen (domain shutdown, reason %d)", reason);
    switch (reason) {
    case LIBXL_SHUTDOWN_REASON_REBOOT:
        apply_action(obj, obj->def->on_reboot, SV_STOP_SHUTDOWN);
        break;
    case LIBXL_SHUTDOWN_REASON_CRASH:
    case LIBXL_SHUTDOWN_REASON_WATCHDOG:
        if (obj->state != SV_DOMAIN_CRASHED) {
            sv_domain_driver_set_state_event(xen_ctx_of(obj)->domains, obj, SV_DOMAIN_CRASHED,
                                             SV_DOMAIN_CRASHED_PANICKED, SV_DOMAIN_EVENT_CRASHED,
                                             SV_DOMAIN_EVENT_CRASHED_PANICKED);
        }
        apply_action(obj, obj->def->on_crash, SV_STOP_CRASH);
        break;
    default: /* poweroff, and what a guest can only ask for itself (soft reset, suspend) */
        if (obj->state != SV_DOMAIN_SHUTDOWN) {
            sv_domain_driver_set_state_event(xen_ctx_of(obj)->domains, obj, SV_DOMAIN_SHUTDOWN,
                                             SV_DOMAIN_SHUTDOWN_UNKNOWN, SV_DOMAIN_EVENT_SHUTDOWN,
                                             SV_DOMAIN_EVENT_SHUTDOWN_GUEST);
        }
        apply_action(obj, obj->def->on_poweroff, SV_STOP_SHUTDOWN);
        break;
    }
}

/* Events carry the run handle they were enabled with (libxl's for_user); user is the
 * context of the driver whose libxl reports them. */
void
xen_process_on_event(const libxl_event *event, gpointer user)
{
    SvDomainObj *obj = event->for_user <= G_MAXUINT
                           ? xen_domain_find_run(GUINT_TO_POINTER((guint)event->for_user))
                           : NULL;

    /* Events about runs already over (or domains never ours) are dropped. */
    if (!obj || xen_ctx_of(obj) != user || xen_domain_of(obj)->domid != event->domid)
        return;
    switch (event->type) {
    case LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN:
        on_domain_shutdown(obj, event->u.domain_shutdown.shutdown_reason);
        break;
    case LIBXL_EVENT_TYPE_DOMAIN_DEATH:
        g_debug("domain %s: libxl DOMAIN_DEATH", obj->def->name);
        if (!sv_domain_run_stopping(obj, SV_STOP_NONE))
            sv_domain_obj_set_cause(obj, "Xen (domain died)");
        guest_gone(obj);
        break;
    default:
        break;
    }
}
