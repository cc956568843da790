/* xen_control.c: the procedures that act on a Xen guest: destroy (GRACEFUL too), shutdown,
 * reboot, suspend and resume, and the glue of the daemon (CPU time, persistence, the
 * handlers' installation, letting go of the guests at exit). Short libxl calls (shutdown,
 * reboot, pause, unpause, info) are made synchronously as libvirt makes them. */
#include "xen_domain.h"

#include <errno.h>

#include "util/error.h"

static SvDomainObj *
lookup(const remote_nonnull_domain *dom, GError **error)
{
    return sv_domain_list_lookup_handle(xen_ctx->domains->list, dom, SV_FROM_LIBXL, error);
}

static gboolean
check_flags(guint flags, guint supported, const char *func, GError **error)
{
    return sv_check_flags(flags, supported, SV_FROM_LIBXL, func, error);
}

/* Active, created, and not on its way out. */
static gboolean
check_running(SvDomainObj *obj, GError **error)
{
    XenDomain *xd = xen_domain_of(obj);

    if (!sv_domain_driver_check_active(obj, error))
        return FALSE;
    if (!xd || sv_domain_run_in_start(obj) || xd->destroy_started) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    return TRUE;
}

/* Pausing and resuming concern running or paused guests, not shut down or crashed ones. */
static gboolean
check_not_stopping(SvDomainObj *obj, GError **error)
{
    if (obj->state != SV_DOMAIN_RUNNING && obj->state != SV_DOMAIN_PAUSED) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    return TRUE;
}

static gboolean
destroy_common(SvCall *call, const remote_nonnull_domain *dom, guint flags, GError **error)
{
    SvDomainObj *obj;
    XenDomain *xd;
    int rc;

    if (!check_flags(flags, SV_DOMAIN_DESTROY_GRACEFUL, "libxlDomainDestroyFlags", error))
        return FALSE;
    obj = lookup(dom, error);
    if (!obj || !xen_process_check_available(error) ||
        !sv_domain_driver_check_active(obj, error))
        return FALSE;
    xd = xen_domain_of(obj);
    sv_domain_driver_set_cause_call(obj, call);
    if (xd->destroy_started || !(flags & SV_DOMAIN_DESTROY_GRACEFUL)) {
        sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_DESTROY); /* written as it begins */
        xd->restart = FALSE;
        if (!xen_domain_begin_destroy(obj, error))
            return FALSE;
        g_ptr_array_add(xd->destroy_calls, sv_call_defer(call));
        return TRUE;
    }
    /* GRACEFUL: ask the guest, wait, and never force it. */
    if ((rc = libxl_domain_shutdown(xen_lx(), xd->domid, NULL)) != 0) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "Failed to shutdown domain '%u' with libxenlight (error %d)", xd->domid, rc);
        return FALSE;
    }
    xen_graceful_add(obj, sv_call_defer(call),
                     g_get_monotonic_time() + (gint64)xen_ctx->graceful_timeout_ms * 1000);
    return TRUE;
}

static gboolean
shutdown_common(SvCall *call, const remote_nonnull_domain *dom, guint flags, gboolean reboot,
                GError **error)
{
    SvDomainObj *obj;
    guint32 domid;
    int rc;

    /* libxl has one way: the PV control node (PARAVIRT). */
    if (!check_flags(flags, SV_DOMAIN_SHUTDOWN_PARAVIRT,
                     reboot ? "libxlDomainReboot" : "libxlDomainShutdownFlags", error))
        return FALSE;
    obj = lookup(dom, error);
    if (!obj || !xen_process_check_available(error) || !check_running(obj, error))
        return FALSE;
    domid = xen_domain_of(obj)->domid;
    sv_domain_driver_set_cause_call(obj, call);
    rc = reboot ? libxl_domain_reboot(xen_lx(), domid, NULL) : libxl_domain_shutdown(xen_lx(), domid, NULL);
    if (rc != 0) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "Failed to %s domain '%u' with libxenlight", reboot ? "reboot" : "shutdown",
                     domid);
        return FALSE;
    }
    return TRUE;
}

static gboolean
domain_suspend(SvCall *call, remote_domain_suspend_args *a, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);
    guint32 domid;
    int rc;

    if (!obj || !xen_process_check_available(error) || !check_running(obj, error) ||
        !check_not_stopping(obj, error))
        return FALSE;
    if (obj->state == SV_DOMAIN_PAUSED)
        return TRUE; /* libvirt: no error, no event */
    domid = xen_domain_of(obj)->domid;
    if ((rc = libxl_domain_pause(xen_lx(), domid, NULL)) != 0) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "Failed to suspend domain '%u' with libxenlight", domid);
        return FALSE;
    }
    sv_domain_driver_set_cause_call(obj, call);
    sv_domain_driver_set_state_event(xen_ctx->domains, obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_USER,
                                     SV_DOMAIN_EVENT_SUSPENDED, SV_DOMAIN_EVENT_SUSPENDED_PAUSED);
    sv_domain_driver_reply_when_saved(xen_ctx->domains, sv_call_defer(call), NULL, NULL);
    return TRUE;
}

static gboolean
domain_resume(SvCall *call, remote_domain_resume_args *a, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);
    guint32 domid;
    int rc;

    if (!obj || !xen_process_check_available(error) || !check_running(obj, error) ||
        !check_not_stopping(obj, error))
        return FALSE;
    if (obj->state != SV_DOMAIN_PAUSED)
        return TRUE; /* libxl's driver: resuming a running domain is no error */
    domid = xen_domain_of(obj)->domid;
    if ((rc = libxl_domain_unpause(xen_lx(), domid, NULL)) != 0) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "Failed to resume domain '%u' with libxenlight", domid);
        return FALSE;
    }
    sv_domain_driver_set_cause_call(obj, call);
    sv_domain_driver_set_state_event(xen_ctx->domains, obj, SV_DOMAIN_RUNNING,
                                     SV_DOMAIN_RUNNING_UNPAUSED, SV_DOMAIN_EVENT_RESUMED,
                                     SV_DOMAIN_EVENT_RESUMED_UNPAUSED);
    sv_domain_driver_reply_when_saved(xen_ctx->domains, sv_call_defer(call), NULL, NULL);
    return TRUE;
}

guint64
xen_process_cpu_time(SvDomainDriver *drv, SvDomainObj *obj)
{
    libxl_dominfo info;
    guint64 ns = 0;

    (void)drv;
    if (!xen_ctx->xen || !xen_domain_of(obj) || !xen_domain_of(obj)->domid)
        return 0;
    libxl_dominfo_init(&info);
    if (libxl_domain_info(xen_lx(), &info, xen_domain_of(obj)->domid) == 0)
        ns = info.cpu_time;
    libxl_dominfo_dispose(&info);
    return ns;
}

void
xen_process_install(XenProcessContext *c, SvRemoteHandlers *h)
{
    SvDomainLifecycle lifecycle = {
        .start = xen_start_guest,
        .with_flags = SV_DOMAIN_START_PAUSED,
        .with_flags_suffix = "DomainCreateWithFlags",
        .xml_flags = SV_DOMAIN_START_PAUSED | SV_DOMAIN_START_VALIDATE,
        .xml_suffix = "DomainCreateXML",
        .destroy = destroy_common,
        .shutdown = shutdown_common,
    };

    xen_ctx = c;
    c->domains->save_status = xen_domain_save_status;
    sv_domain_driver_install_lifecycle(xen_ctx->domains, &lifecycle, h);
    h->domain_suspend = domain_suspend;
    h->domain_resume = domain_resume;
}

void
xen_process_shutdown(void)
{
    g_autoptr(GPtrArray) active = NULL;

    if (!xen_ctx || !xen_ctx->xen)
        return;
    active = sv_domain_list_filter(xen_ctx->domains->list, 0);
    for (guint i = 0; i < active->len; i++) {
        XenDomain *xd = xen_domain_of(active->pdata[i]);
        if (xd && xd->death) {
            libxl_evdisable_domain_death(xen_lx(), xd->death);
            xd->death = NULL;
        }
    }
}

