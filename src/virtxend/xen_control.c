/* xen_control.c: libxl's facts of the procedures that act on a Xen guest (destroy, GRACEFUL
 * too, shutdown, reboot, suspend, resume), and the glue of the daemon (CPU time,
 * persistence, the handlers' installation, letting go of the guests at exit). Short libxl
 * calls (shutdown, reboot, pause, unpause, info) are made synchronously as libvirt makes
 * them. */
#include "xen_domain.h"

#include <errno.h>

#include "domain/domain_control.h"
#include "util/error.h"

/* Not created yet, or on its way out. */
static gboolean
is_not_running(const SvDomainObj *obj)
{
    const XenDomain *xd = obj->priv;

    return !xd || sv_domain_run_in_start(obj) || xd->destroy_started;
}

/* Pausing and resuming concern running or paused guests, not shut down or crashed ones. */
static gboolean
is_not_steady(const SvDomainObj *obj)
{
    return obj->state != SV_DOMAIN_RUNNING && obj->state != SV_DOMAIN_PAUSED;
}

/* libxl's driver: resuming a running domain is no error. */
static gboolean
is_not_paused(const SvDomainObj *obj)
{
    return obj->state != SV_DOMAIN_PAUSED;
}

static gboolean
act_destroy(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    XenDomain *xd = xen_domain_of(obj);
    int rc;

    /* A failure, now or when libxl completes, is withdrawn by the shared completion. */
    if (xd->destroy_started || !job->graceful) {
        sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_DESTROY); /* written as it begins */
        if (!xen_domain_begin_destroy(obj, error))
            return FALSE;
        sv_guest_job_wait_gone(job, &xd->run); /* the engine's stop calls */
        return TRUE;
    }
    /* GRACEFUL: ask the guest, wait, and never force it. */
    if ((rc = libxl_domain_shutdown(xen_libxl_of(obj), xd->domid, NULL)) != 0) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "Failed to shutdown domain '%u' with libxenlight (error %d)", xd->domid, rc);
        return FALSE;
    }
    xen_graceful_add(obj, job,
                     g_get_monotonic_time() + (gint64)xen_ctx_of(obj)->graceful_timeout_ms * 1000);
    return TRUE;
}

/* libxl has one way: the PV control node (PARAVIRT). */
static gboolean
act_shutdown(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    gboolean reboot = job->op == SV_GUEST_REBOOT;
    guint32 domid = xen_domain_of(obj)->domid;
    int rc;

    rc = reboot ? libxl_domain_reboot(xen_libxl_of(obj), domid, NULL)
                : libxl_domain_shutdown(xen_libxl_of(obj), domid, NULL);
    if (rc != 0) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "Failed to %s domain '%u' with libxenlight", reboot ? "reboot" : "shutdown",
                     domid);
        return FALSE;
    }
    sv_guest_job_done(job, NULL);
    return TRUE;
}

static gboolean
act_pause(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    gboolean pause = job->op == SV_GUEST_SUSPEND;
    guint32 domid = xen_domain_of(obj)->domid;
    int rc;

    rc = pause ? libxl_domain_pause(xen_libxl_of(obj), domid, NULL)
               : libxl_domain_unpause(xen_libxl_of(obj), domid, NULL);
    if (rc != 0) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "Failed to %s domain '%u' with libxenlight", pause ? "suspend" : "resume",
                     domid);
        return FALSE;
    }
    sv_guest_job_done(job, NULL);
    return TRUE;
}

#define NOT_RUNNING(pred)                                                                          \
    {.when = pred, .from = SV_FROM_DOMAIN, .code = SV_ERR_OPERATION_INVALID,                       \
     .message = "domain is not running"}

/* The facts of the procedures that start a guest and act on a running one
 * (domain/domain_lifecycle.c and domain_control.c serve them); short libxl calls are made
 * synchronously as libvirt makes them. There is no RESET. */
static const SvGuestOps xen_guest_ops = {
    .start = xen_start_guest,
    .ready = xen_process_check_available,
    .procs = {
        [SV_GUEST_CREATE_WITH_FLAGS] = {.flags = SV_DOMAIN_START_PAUSED,
                                        .func = "libxlDomainCreateWithFlags"},
        [SV_GUEST_CREATE_XML] = {.flags = SV_DOMAIN_START_PAUSED | SV_DOMAIN_START_VALIDATE,
                                 .func = "libxlDomainCreateXML"},
        [SV_GUEST_SUSPEND] = {.rules = SV_GUEST_RULE_ACTIVE | SV_GUEST_RULE_PAUSED_NOOP,
                              .refuse = {NOT_RUNNING(is_not_running), NOT_RUNNING(is_not_steady)},
                              .act = act_pause},
        [SV_GUEST_RESUME] = {.rules = SV_GUEST_RULE_ACTIVE,
                             .refuse = {NOT_RUNNING(is_not_running), NOT_RUNNING(is_not_steady)},
                             .noop = is_not_paused, .act = act_pause},
        [SV_GUEST_DESTROY] = {.flags = SV_DOMAIN_DESTROY_GRACEFUL,
                              .func = "libxlDomainDestroyFlags", .rules = SV_GUEST_RULE_ACTIVE,
                              .act = act_destroy},
        [SV_GUEST_SHUTDOWN] = {.flags = SV_DOMAIN_SHUTDOWN_PARAVIRT,
                               .func = "libxlDomainShutdownFlags", .rules = SV_GUEST_RULE_ACTIVE,
                               .refuse = {NOT_RUNNING(is_not_running)}, .act = act_shutdown},
        [SV_GUEST_REBOOT] = {.flags = SV_DOMAIN_SHUTDOWN_PARAVIRT, .func = "libxlDomainReboot",
                             .rules = SV_GUEST_RULE_ACTIVE,
                             .refuse = {NOT_RUNNING(is_not_running)}, .act = act_shutdown},
    },
};

guint64
xen_process_cpu_time(SvDomainDriver *drv, SvDomainObj *obj)
{
    XenProcessContext *ctx = drv->data;
    libxl_dominfo info;
    guint64 ns = 0;

    if (!ctx->xen || !xen_domain_of(obj) || !xen_domain_of(obj)->domid)
        return 0;
    libxl_dominfo_init(&info);
    if (libxl_domain_info(xen_ctx_get(ctx->xen), &info, xen_domain_of(obj)->domid) == 0)
        ns = info.cpu_time;
    libxl_dominfo_dispose(&info);
    return ns;
}

void
xen_process_install(XenProcessContext *c, SvRemoteHandlers *h)
{
    sv_domain_driver_install_lifecycle(c->domains, &xen_guest_ops, h);
}

void
xen_process_shutdown(XenProcessContext *ctx)
{
    g_autoptr(GPtrArray) active = NULL;

    if (!ctx->xen)
        return;
    active = sv_domain_list_filter(ctx->domains->list, 0);
    for (guint i = 0; i < active->len; i++) {
        XenDomain *xd = xen_domain_of(active->pdata[i]);
        if (xd && xd->death) {
            libxl_evdisable_domain_death(xen_ctx_get(ctx->xen), xd->death);
            xd->death = NULL;
        }
    }
}

