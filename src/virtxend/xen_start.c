/* xen_start.c: starting a Xen guest: its record first, then libxl_domain_create_new.
 *
 * The status file (starting='1', with the guest's UUID and name) is on disk before libxl
 * is asked for the domain, so a domain of ours can never outlive a daemon that has no
 * record of it: a restarted daemon finds a start that never finished and destroys what
 * libxl made of it (xen_reconnect.c). A start whose record cannot be written fails before
 * anything exists in Xen. */
#include "xen_domain.h"

#include <string.h>

#include "util/error.h"
#include "xen_config.h"
#include "xen_xl.h"

/* A start went wrong: nothing of the guest remains. (transfer full of error) */
static void
start_failed(SvDomainObj *obj, GError *error)
{
    sv_domain_run_start_failed(obj, error);
    sv_domain_run_teardown(obj, &(SvRunEnd){.reason = SV_DOMAIN_SHUTOFF_FAILED, .detail = -1});
}

static void
create_done(int rc, gpointer data)
{
    SvDomainObj *obj = xen_domain_find_run(data);
    XenProcessContext *ctx;
    XenDomain *xd;
    guint32 domid;
    GError *error = NULL;

    if (!obj || !sv_domain_run_in_start(obj))
        return;
    ctx = xen_ctx_of(obj);
    xd = xen_domain_of(obj);
    domid = xd->created_domid;
    libxl_domain_config_dispose(xd->d_config);
    g_clear_pointer(&xd->d_config, g_free);
    if (rc != 0) {
        if (domid != 0 && domid != (guint32)INVALID_DOMID)
            xen_domain_destroy_orphan(ctx, domid);
        sv_error_set(&error, SV_FROM_LIBXL, SV_ERR_INTERNAL_ERROR,
                     "libxenlight failed to create new domain '%s' (error %d)", obj->def->name,
                     rc);
        start_failed(obj, error);
        return;
    }
    xd->domid = domid;
    sv_domain_list_set_id(obj->list, obj, (int)domid);
    if (libxl_evenable_domain_death(xen_ctx_get(ctx->xen), domid, obj->run, &xd->death) != 0)
        g_warning("domain %s: cannot watch domain %u for its end", obj->def->name, domid);
    /* libxl creates domains paused; they run once unpaused, as xl does. */
    if (!(xd->run.start_flags & SV_DOMAIN_START_PAUSED) &&
        (rc = libxl_domain_unpause(xen_ctx_get(ctx->xen), domid, NULL)) != 0) {
        xen_domain_destroy_orphan(ctx, domid);
        sv_error_set(&error, SV_FROM_LIBXL, SV_ERR_INTERNAL_ERROR,
                     "libxenlight failed to unpause domain '%s' (error %d)", obj->def->name, rc);
        start_failed(obj, error);
        return;
    }
    sv_domain_run_start_finished(obj); /* it runs, or is paused as asked */
}

/* The record is on disk (or could not be written): ask libxl for the domain, or fail. */
static void
start_recorded(const GError *record_error, gpointer data)
{
    SvDomainObj *obj = xen_domain_find_run(data);
    XenProcessContext *ctx;
    XenDomain *xd;
    const libxl_asyncop_how *how;
    GError *error = NULL;
    int rc;

    if (!obj || !sv_domain_run_in_start(obj))
        return;
    ctx = xen_ctx_of(obj);
    xd = xen_domain_of(obj);
    if (record_error) {
        sv_error_set(&error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "domain '%s' cannot start: cannot record its status: %s", obj->def->name,
                     record_error->message);
        start_failed(obj, error);
        return;
    }
    how = xen_ctx_ao(ctx->xen, create_done, sv_domain_obj_run_key(obj));
    /* libxl reads d_config and writes created_domid until the create completes. */
    rc = libxl_domain_create_new(xen_ctx_get(ctx->xen), xd->d_config, &xd->created_domid, how,
                                 NULL);
    if (rc != 0) {
        xen_ctx_ao_cancel(ctx->xen, how);
        sv_error_set(&error, SV_FROM_LIBXL, SV_ERR_INTERNAL_ERROR,
                     "libxenlight failed to create new domain '%s' (error %d)", obj->def->name,
                     rc);
        start_failed(obj, error);
        return;
    }
    g_message("domain %s: creating", obj->def->name);
}

gboolean
xen_process_check_available(SvDomainDriver *drv, GError **error)
{
    XenProcessContext *ctx = drv->data;

    if (!ctx->xen) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "the Xen hypervisor is not available on this host");
        return FALSE;
    }
    return TRUE;
}

/* Never a second domain for a guest whose domain lives in Xen (one a restarted daemon
 * could not take back, its status file set aside). */
static gboolean
check_not_in_xen(SvDomainObj *obj, GError **error)
{
    int n = 0;
    libxl_dominfo *list = libxl_list_domain(xen_libxl_of(obj), &n);
    guint32 found = 0;

    for (int i = 0; list && i < n && !found; i++) {
        if (!list[i].dying &&
            memcmp(libxl_uuid_bytearray_const(&list[i].uuid), obj->def->uuid, 16) == 0)
            found = list[i].domid;
    }
    if (list)
        libxl_dominfo_list_free(list, n);
    if (!found)
        return TRUE;
    sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_INVALID,
                 "domain '%s' still runs in Xen as domain %u, outside the daemon's control",
                 obj->def->name, found);
    return FALSE;
}

/* Record the start, then ask libxl; the call (if any) is answered when the guest runs. */
gboolean
xen_start_guest(SvDomainObj *obj, SvCall *call, guint flags, GError **error)
{
    XenDomain *xd;

    if (!xen_process_check_available(sv_domain_driver_of_obj(obj), error))
        return FALSE;
    if (sv_domain_obj_is_active(obj)) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_INVALID, "Domain is already running");
        return FALSE;
    }
    if (obj->priv) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                     "domain '%s' is already being started", obj->def->name);
        return FALSE;
    }
    if (!xen_def_check(obj->def, error) || !check_not_in_xen(obj, error))
        return FALSE;
    xd = xen_domain_new(obj);
    sv_domain_run_change(obj, SV_RUN_STARTING, SV_STOP_NONE); /* written below */
    xd->run.start_flags = flags;
    xd->d_config = g_new0(libxl_domain_config, 1);
    libxl_domain_config_init(xd->d_config);
    xen_config_build(obj->def, xd->d_config);
    sv_domain_driver_hold(xen_ctx_of(obj)->domains, TRUE);
    if (call)
        sv_domain_driver_set_cause_call(obj, call);
    else
        sv_domain_obj_set_cause(obj, "the daemon (autostart)");
    if (call)
        xd->run.start_call = sv_call_defer(call);
    xen_ctx_of(obj)->domains->save_status(obj, start_recorded, sv_domain_obj_run_key(obj));
    return TRUE;
}
