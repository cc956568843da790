/* xen_process.c: the life of a Xen guest, from libxl_domain_create_new to STOPPED.
 *
 * A guest's state changes in one place, set_state(), which checks the transition, logs it
 * and rewrites the status file ROOT/run/libvirt/libxl/NAME.xml; events go out right after.
 * libxl reports a guest that shut down, rebooted or crashed with DOMAIN_SHUTDOWN: the
 * driver then acts on the definition's on_poweroff/on_reboot/on_crash, usually by
 * destroying the domain (libxl_domain_destroy, which also reaps a domain that has already
 * shut down). The guest is gone when that destroy completes or libxl reports
 * DOMAIN_DEATH, whichever comes first; how it ended was recorded when its end began
 * (stop_reason), so STOPPED carries the right detail.
 *
 * Everything here runs on the loop: libxl's events and completions come through
 * xen_ctx.c's queue. Short libxl calls (shutdown, reboot, pause, unpause, info) are made
 * synchronously as libvirt makes them; create and destroy are asynchronous. The file is
 * long because start, events, stop and reconnect share the per-guest state. */
#include "xen_process.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "conf/uuid.h"
#include "util/error.h"
#include "util/fileio.h"
#include "xen_config.h"
#include "xen_xl.h"

/* virDomainEvent details used here. */
enum { STARTED_BOOTED = 0 };
enum { SUSPENDED_PAUSED = 0 };
enum { RESUMED_UNPAUSED = 0 };
enum { STOPPED_SHUTDOWN = 0, STOPPED_DESTROYED = 1, STOPPED_CRASHED = 2, STOPPED_FAILED = 5 };
enum { SHUTDOWN_GUEST = 1 };
enum { CRASHED_PANICKED = 0 };
/* State reasons. */
enum { RUNNING_BOOTED = 1, RUNNING_UNPAUSED = 5 };
enum { PAUSED_UNKNOWN = 0, PAUSED_USER = 1 };
enum { SHUTDOWN_UNKNOWN = 0 };
enum { SHUTOFF_UNKNOWN = 0, SHUTOFF_SHUTDOWN = 1, SHUTOFF_DESTROYED = 2, SHUTOFF_CRASHED = 3,
       SHUTOFF_FAILED = 6 };
enum { CRASHED_REASON_PANICKED = 1 };

#define START_PAUSED 1
#define START_VALIDATE 16
#define DESTROY_GRACEFUL 1
#define SHUTDOWN_PARAVIRT 16

/* Why a guest's end began: the STOPPED event it will get. */
typedef enum {
    STOP_NONE,     /* not ending; DOMAIN_DEATH then means someone else destroyed it */
    STOP_SHUTDOWN, /* the guest shut down or rebooted */
    STOP_DESTROY,  /* a destroy call */
    STOP_CRASH,    /* the guest crashed */
    STOP_LAST
} XenStopReason;

static const char *const stop_reason_names[] = {"none", "shutdown", "destroy", "crash"};
G_STATIC_ASSERT(G_N_ELEMENTS(stop_reason_names) == STOP_LAST);

typedef struct XenDomain XenDomain;

/* A GRACEFUL destroy waiting for the guest to shut itself down. */
typedef struct {
    XenDomain *xd;
    SvCall *call;
    guint timer;
} GracefulJob;

struct XenDomain {
    guint32 domid;                   /* 0 until created */
    libxl_evgen_domain_death *death; /* DOMAIN_SHUTDOWN and DOMAIN_DEATH for domid */
    gboolean starting;
    gboolean start_paused;
    SvCall *start_call;
    libxl_domain_config *d_config; /* while creating: libxl reads it until the end */
    guint32 created_domid;         /* libxl writes it during the create */
    XenStopReason stop_reason;
    gboolean restart;         /* start again once gone (on_reboot, on_crash restart) */
    gboolean destroy_started; /* libxl_domain_destroy is running */
    GPtrArray *destroy_calls; /* of SvCall: answered once the guest is gone */
    GList *graceful;          /* of GracefulJob */
};

/* Which guest an asynchronous completion is about. */
typedef struct {
    guint8 uuid[16];
    guint32 domid;
} DomKey;

static XenProcessContext *ctx;

static gboolean start_guest(SvDomainObj *obj, SvCall *call, guint flags, GError **error);

static libxl_ctx *
lx(void)
{
    return xen_ctx_get(ctx->xen);
}

static XenDomain *
priv_of(SvDomainObj *obj)
{
    return obj->priv;
}

static SvDomainObj *
find(const guint8 uuid[16])
{
    return sv_domain_list_find_by_uuid(ctx->domains->list, uuid);
}

static DomKey *
key_new(SvDomainObj *obj, guint32 domid)
{
    DomKey *k = g_new0(DomKey, 1);

    memcpy(k->uuid, obj->def->uuid, 16);
    k->domid = domid;
    return k;
}

/* The guest a completion or event names, if it is still that domain. */
static SvDomainObj *
find_live(const DomKey *k)
{
    SvDomainObj *obj = find(k->uuid);

    return obj && priv_of(obj) && priv_of(obj)->domid == k->domid ? obj : NULL;
}

static void
fail_calls(GPtrArray *calls, const GError *error)
{
    for (guint i = 0; i < calls->len; i++)
        sv_call_fail(calls->pdata[i], g_error_copy(error));
    g_ptr_array_set_size(calls, 0);
}

static void
graceful_job_free(GracefulJob *job)
{
    if (job->timer)
        g_source_remove(job->timer);
    g_free(job);
}

/* At daemon exit, calls still waiting are answered so their clients are released. */
static void
xen_domain_free(gpointer p)
{
    XenDomain *xd = p;
    g_autoptr(GError) e = NULL;

    if (xd->start_call || xd->graceful || xd->destroy_calls->len)
        sv_error_set(&e, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED, "the daemon is shutting down");
    if (xd->start_call)
        sv_call_fail(xd->start_call, g_error_copy(e));
    for (GList *l = xd->graceful; l; l = l->next) {
        GracefulJob *job = l->data;
        sv_call_fail(job->call, g_error_copy(e));
        graceful_job_free(job);
    }
    g_list_free(xd->graceful);
    fail_calls(xd->destroy_calls, e);
    g_ptr_array_unref(xd->destroy_calls);
    if (xd->d_config) {
        libxl_domain_config_dispose(xd->d_config);
        g_free(xd->d_config);
    }
    g_free(xd);
}

static XenDomain *
xen_domain_new(SvDomainObj *obj)
{
    XenDomain *xd = g_new0(XenDomain, 1);

    xd->destroy_calls = g_ptr_array_new();
    obj->priv = xd;
    obj->priv_free = xen_domain_free;
    return xd;
}

/* ---------------------------------------------------------------- state */

static void save_status(SvDomainObj *obj);

/* The one place a guest's state changes; the status file follows it. */
static void
set_state(SvDomainObj *obj, int state, int reason)
{
    sv_domain_obj_set_state(obj, state, reason);
    save_status(obj);
}

static void
emit(SvDomainObj *obj, int event, int detail)
{
    sv_domain_driver_emit(ctx->domains, obj, event, detail);
}

/* ---------------------------------------------------------------- status files */

static char *
status_path(const char *name)
{
    return g_strdup_printf("%s/%s.xml", ctx->run_dir, name);
}

/* What a restarted daemon needs to find this guest again; removed once it is gone. */
static void
save_status(SvDomainObj *obj)
{
    XenDomain *xd = obj->priv;
    g_autofree char *path = status_path(obj->def->name);
    g_autofree char *live = NULL;
    g_autofree char *text = NULL;

    if (!xd || !xd->domid || obj->state == SV_DOMAIN_SHUTOFF) {
        sv_domain_store_remove_file_async(ctx->domains->store, path, NULL, NULL);
        return;
    }
    live = sv_domain_def_format(obj->def, obj->id, 0);
    text = g_strdup_printf("<domstatus state='%s' reason='%d' statetime='%" G_GINT64_FORMAT
                           "' domid='%u' persistent='%d' stopreason='%s' restart='%d'>\n%s"
                           "</domstatus>\n",
                           sv_domain_state_to_string(obj->state), obj->reason, obj->state_time,
                           xd->domid, obj->persistent, stop_reason_names[xd->stop_reason],
                           xd->restart, live);
    sv_domain_store_write_file_async(ctx->domains->store, path, text, NULL, NULL);
}

/* ---------------------------------------------------------------- stop */

/* The domain no longer exists in Xen: clean up and tell everyone. */
static void
guest_gone(SvDomainObj *obj)
{
    XenDomain *xd = priv_of(obj);
    g_autoptr(GPtrArray) calls = g_steal_pointer(&xd->destroy_calls);
    gboolean restart = xd->restart;
    int reason = SHUTOFF_DESTROYED, detail = STOPPED_DESTROYED;

    switch (xd->stop_reason) {
    case STOP_SHUTDOWN:
        reason = SHUTOFF_SHUTDOWN;
        detail = STOPPED_SHUTDOWN;
        break;
    case STOP_CRASH:
        reason = SHUTOFF_CRASHED;
        detail = STOPPED_CRASHED;
        break;
    case STOP_NONE: /* destroyed behind our back (xl destroy): as libvirt, DESTROYED */
    case STOP_DESTROY:
    case STOP_LAST:
        break;
    }
    xd->destroy_calls = g_ptr_array_new();
    /* A GRACEFUL destroy whose guest went away otherwise got what it asked for. */
    for (GList *l = xd->graceful; l; l = l->next) {
        GracefulJob *job = l->data;
        g_ptr_array_add(calls, g_steal_pointer(&job->call));
        graceful_job_free(job);
    }
    g_clear_pointer(&xd->graceful, g_list_free);
    if (xd->death) {
        libxl_evdisable_domain_death(lx(), xd->death);
        xd->death = NULL;
    }
    sv_domain_list_clear_id(ctx->domains->list, obj);
    set_state(obj, SV_DOMAIN_SHUTOFF, reason);
    emit(obj, SV_EVENT_STOPPED, detail);
    sv_daemon_uninhibit(ctx->daemon);
    if (obj->new_def) {
        sv_domain_obj_set_def(obj, obj->new_def);
        obj->new_def = NULL;
    }
    g_clear_pointer(&obj->priv, xen_domain_free);
    for (guint i = 0; i < calls->len; i++)
        sv_domain_driver_reply_when_saved(ctx->domains, calls->pdata[i], NULL, NULL);
    if (restart) {
        g_autoptr(GError) error = NULL;
        if (!start_guest(obj, NULL, 0, &error))
            g_warning("domain %s: restart failed: %s", obj->def->name, error->message);
        else
            return;
    }
    if (!obj->persistent && !obj->priv)
        sv_domain_list_remove(ctx->domains->list, obj);
}

static void
destroy_done(int rc, gpointer data)
{
    g_autofree DomKey *k = data;
    SvDomainObj *obj = find_live(k);
    XenDomain *xd;

    /* DOMAIN_DEATH may have come first: then there is nothing left to do. */
    if (!obj)
        return;
    xd = priv_of(obj);
    if (rc == 0) {
        guest_gone(obj);
        return;
    }
    xd->destroy_started = FALSE;
    {
        g_autoptr(GError) e = NULL;
        sv_error_set(&e, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "libxenlight failed to destroy domain '%u' (error %d)", xd->domid, rc);
        g_warning("domain %s: %s", obj->def->name, e->message);
        fail_calls(xd->destroy_calls, e);
    }
    save_status(obj);
}

/* Start destroying the domain (once); the calls in destroy_calls are answered when it is
 * gone. */
static gboolean
begin_destroy(SvDomainObj *obj, GError **error)
{
    XenDomain *xd = priv_of(obj);
    const libxl_asyncop_how *how;
    DomKey *k;
    int rc;

    if (xd->destroy_started)
        return TRUE;
    k = key_new(obj, xd->domid);
    how = xen_ctx_ao(ctx->xen, destroy_done, k);
    rc = libxl_domain_destroy(lx(), xd->domid, how);
    if (rc != 0) {
        xen_ctx_ao_cancel(ctx->xen, how);
        g_free(k);
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "Failed to destroy domain '%u' (libxenlight error %d)", xd->domid, rc);
        return FALSE;
    }
    xd->destroy_started = TRUE;
    save_status(obj);
    return TRUE;
}

/* begin_destroy for the driver's own reasons: nobody to tell if it fails but the log. */
static void
begin_destroy_quietly(SvDomainObj *obj)
{
    g_autoptr(GError) error = NULL;

    if (!begin_destroy(obj, &error)) {
        g_warning("domain %s: %s", obj->def->name, error->message);
        fail_calls(priv_of(obj)->destroy_calls, error);
    }
}

/* ---------------------------------------------------------------- libxl events */

/* What on_poweroff, on_reboot or on_crash says once the guest has stopped. */
static void
apply_action(SvDomainObj *obj, SvDomainLifecycleAction action, XenStopReason why)
{
    XenDomain *xd = priv_of(obj);

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
    xd->stop_reason = why;
    begin_destroy_quietly(obj);
}

static void
on_domain_shutdown(SvDomainObj *obj, int reason)
{
    XenDomain *xd = priv_of(obj);

    g_debug("domain %s: libxl DOMAIN_SHUTDOWN, reason %d", obj->def->name, reason);
    if (xd->starting || xd->destroy_started || xd->stop_reason != STOP_NONE)
        return;
    if (!xd->graceful)
        sv_domain_obj_set_cause(obj, "Xen (domain shutdown, reason %d)", reason);
    if (xd->graceful) {
        /* A GRACEFUL destroy got its shutdown: reap the domain, as a destroy. */
        for (GList *l = xd->graceful; l; l = l->next) {
            GracefulJob *job = l->data;
            g_ptr_array_add(xd->destroy_calls, g_steal_pointer(&job->call));
            graceful_job_free(job);
        }
        g_clear_pointer(&xd->graceful, g_list_free);
        xd->stop_reason = STOP_DESTROY;
        begin_destroy_quietly(obj);
        return;
    }
    switch (reason) {
    case LIBXL_SHUTDOWN_REASON_REBOOT:
        apply_action(obj, obj->def->on_reboot, STOP_SHUTDOWN);
        break;
    case LIBXL_SHUTDOWN_REASON_CRASH:
    case LIBXL_SHUTDOWN_REASON_WATCHDOG:
        if (obj->state != SV_DOMAIN_CRASHED) {
            set_state(obj, SV_DOMAIN_CRASHED, CRASHED_REASON_PANICKED);
            emit(obj, SV_EVENT_CRASHED, CRASHED_PANICKED);
        }
        apply_action(obj, obj->def->on_crash, STOP_CRASH);
        break;
    default: /* poweroff, and what a guest can only ask for itself (soft reset, suspend) */
        if (obj->state != SV_DOMAIN_SHUTDOWN) {
            set_state(obj, SV_DOMAIN_SHUTDOWN, SHUTDOWN_UNKNOWN);
            emit(obj, SV_EVENT_SHUTDOWN, SHUTDOWN_GUEST);
        }
        apply_action(obj, obj->def->on_poweroff, STOP_SHUTDOWN);
        break;
    }
}

void
xen_process_on_event(const libxl_event *event, gpointer user)
{
    SvDomainObj *obj = sv_domain_list_find_by_id(ctx->domains->list, (int)event->domid);

    (void)user;
    /* Events about domains already gone (or never ours) are dropped. */
    if (!obj || !priv_of(obj) || priv_of(obj)->domid != event->domid)
        return;
    switch (event->type) {
    case LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN:
        on_domain_shutdown(obj, event->u.domain_shutdown.shutdown_reason);
        break;
    case LIBXL_EVENT_TYPE_DOMAIN_DEATH:
        g_debug("domain %s: libxl DOMAIN_DEATH", obj->def->name);
        if (priv_of(obj)->stop_reason == STOP_NONE)
            sv_domain_obj_set_cause(obj, "Xen (domain died)");
        guest_gone(obj);
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- start */

static void
orphan_destroyed(int rc, gpointer data)
{
    g_autofree DomKey *k = data;

    if (rc != 0)
        g_warning("domain %u left over from a failed start could not be destroyed (error %d)",
                  k->domid, rc);
}

/* Destroy a domain nothing tracks (a start that failed half way). */
static void
destroy_orphan(SvDomainObj *obj, guint32 domid)
{
    DomKey *k = key_new(obj, domid);
    const libxl_asyncop_how *how = xen_ctx_ao(ctx->xen, orphan_destroyed, k);

    if (libxl_domain_destroy(lx(), domid, how) != 0) {
        xen_ctx_ao_cancel(ctx->xen, how);
        g_free(k);
    }
}

/* A start went wrong: nothing of the guest remains. (transfer full of error) */
static void
start_failed(SvDomainObj *obj, GError *error)
{
    XenDomain *xd = priv_of(obj);
    SvCall *call = g_steal_pointer(&xd->start_call);

    g_warning("domain %s: %s", obj->def->name, error->message);
    if (xd->death)
        libxl_evdisable_domain_death(lx(), xd->death);
    xd->death = NULL;
    sv_domain_list_clear_id(ctx->domains->list, obj);
    xd->domid = 0;
    set_state(obj, SV_DOMAIN_SHUTOFF, SHUTOFF_FAILED);
    sv_daemon_uninhibit(ctx->daemon);
    g_clear_pointer(&obj->priv, xen_domain_free);
    if (call)
        sv_call_fail(call, error);
    else
        g_error_free(error);
    if (!obj->persistent)
        sv_domain_list_remove(ctx->domains->list, obj);
}

static void
create_done(int rc, gpointer data)
{
    g_autofree DomKey *k = data;
    SvDomainObj *obj = find_live(k);
    XenDomain *xd;
    guint32 domid;
    GError *error = NULL;

    if (!obj || !priv_of(obj)->starting)
        return;
    xd = priv_of(obj);
    domid = xd->created_domid;
    libxl_domain_config_dispose(xd->d_config);
    g_clear_pointer(&xd->d_config, g_free);
    if (rc != 0) {
        if (domid != 0 && domid != (guint32)INVALID_DOMID)
            destroy_orphan(obj, domid);
        sv_error_set(&error, SV_FROM_LIBXL, SV_ERR_INTERNAL_ERROR,
                     "libxenlight failed to create new domain '%s' (error %d)", obj->def->name,
                     rc);
        start_failed(obj, error);
        return;
    }
    xd->domid = domid;
    sv_domain_list_set_id(ctx->domains->list, obj, (int)domid);
    if (libxl_evenable_domain_death(lx(), domid, domid, &xd->death) != 0)
        g_warning("domain %s: cannot watch domain %u for its end", obj->def->name, domid);
    /* libxl creates domains paused; they run once unpaused, as xl does. */
    if (!xd->start_paused && (rc = libxl_domain_unpause(lx(), domid, NULL)) != 0) {
        destroy_orphan(obj, domid);
        sv_error_set(&error, SV_FROM_LIBXL, SV_ERR_INTERNAL_ERROR,
                     "libxenlight failed to unpause domain '%s' (error %d)", obj->def->name, rc);
        start_failed(obj, error);
        return;
    }
    xd->starting = FALSE;
    if (xd->start_paused) {
        set_state(obj, SV_DOMAIN_PAUSED, PAUSED_USER);
        emit(obj, SV_EVENT_STARTED, STARTED_BOOTED);
        emit(obj, SV_EVENT_SUSPENDED, SUSPENDED_PAUSED);
    } else {
        set_state(obj, SV_DOMAIN_RUNNING, RUNNING_BOOTED);
        emit(obj, SV_EVENT_STARTED, STARTED_BOOTED);
    }
    if (xd->start_call)
        sv_domain_driver_reply_started(ctx->domains, obj, g_steal_pointer(&xd->start_call));
}

gboolean
xen_process_check_available(GError **error)
{
    if (!ctx->xen) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "the Xen hypervisor is not available on this host");
        return FALSE;
    }
    return TRUE;
}

/* Ask libxl for the domain; the call (if any) is answered when it runs. */
static gboolean
start_guest(SvDomainObj *obj, SvCall *call, guint flags, GError **error)
{
    XenDomain *xd;
    const libxl_asyncop_how *how;
    DomKey *k;
    int rc;

    if (!xen_process_check_available(error))
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
    if (!xen_def_check(obj->def, error))
        return FALSE;
    xd = xen_domain_new(obj);
    xd->starting = TRUE;
    xd->start_paused = (flags & START_PAUSED) != 0;
    xd->d_config = g_new0(libxl_domain_config, 1);
    libxl_domain_config_init(xd->d_config);
    xen_config_build(obj->def, xd->d_config);
    k = key_new(obj, 0);
    how = xen_ctx_ao(ctx->xen, create_done, k);
    /* libxl reads d_config and writes created_domid until the create completes. */
    rc = libxl_domain_create_new(lx(), xd->d_config, &xd->created_domid, how, NULL);
    if (rc != 0) {
        xen_ctx_ao_cancel(ctx->xen, how);
        g_free(k);
        g_clear_pointer(&obj->priv, xen_domain_free);
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_INTERNAL_ERROR,
                     "libxenlight failed to create new domain '%s' (error %d)", obj->def->name,
                     rc);
        return FALSE;
    }
    sv_daemon_inhibit(ctx->daemon);
    if (call)
        sv_domain_driver_set_cause_call(obj, call);
    else
        sv_domain_obj_set_cause(obj, "the daemon (autostart)");
    if (call)
        xd->start_call = sv_call_defer(call);
    g_message("domain %s: creating", obj->def->name);
    return TRUE;
}

/* ---------------------------------------------------------------- procedures */

static SvDomainObj *
lookup(const remote_nonnull_domain *dom, GError **error)
{
    return sv_domain_list_lookup_handle(ctx->domains->list, dom, SV_FROM_LIBXL, error);
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
    XenDomain *xd = priv_of(obj);

    if (!sv_domain_driver_check_active(obj, error))
        return FALSE;
    if (!xd || xd->starting || xd->destroy_started) {
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
graceful_timed_out(gpointer data)
{
    GracefulJob *job = data;
    XenDomain *xd = job->xd;
    g_autoptr(GError) e = NULL;

    job->timer = 0;
    xd->graceful = g_list_remove(xd->graceful, job);
    /* As the QEMU driver's GRACEFUL destroy: no forced end, an error the caller can act
     * on. The guest keeps running, with the shutdown request still pending. */
    sv_error_set_errno(&e, SV_FROM_LIBXL, EBUSY, "Failed to terminate domain %u with shutdown",
                       xd->domid);
    g_message("%s", e->message);
    sv_call_fail(job->call, g_steal_pointer(&e));
    graceful_job_free(job);
    return G_SOURCE_REMOVE;
}

static gboolean
destroy_common(SvCall *call, const remote_nonnull_domain *dom, guint flags, GError **error)
{
    SvDomainObj *obj;
    XenDomain *xd;
    int rc;

    if (!check_flags(flags, DESTROY_GRACEFUL, "libxlDomainDestroyFlags", error))
        return FALSE;
    obj = lookup(dom, error);
    if (!obj || !xen_process_check_available(error) ||
        !sv_domain_driver_check_active(obj, error))
        return FALSE;
    xd = priv_of(obj);
    sv_domain_driver_set_cause_call(obj, call);
    if (xd->destroy_started || !(flags & DESTROY_GRACEFUL)) {
        xd->stop_reason = STOP_DESTROY;
        xd->restart = FALSE;
        if (!begin_destroy(obj, error))
            return FALSE;
        g_ptr_array_add(xd->destroy_calls, sv_call_defer(call));
        return TRUE;
    }
    /* GRACEFUL: ask the guest, wait, and never force it. */
    if ((rc = libxl_domain_shutdown(lx(), xd->domid, NULL)) != 0) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "Failed to shutdown domain '%u' with libxenlight (error %d)", xd->domid, rc);
        return FALSE;
    }
    {
        GracefulJob *job = g_new0(GracefulJob, 1);
        job->xd = xd;
        job->call = sv_call_defer(call);
        job->timer = g_timeout_add(ctx->graceful_timeout_ms, graceful_timed_out, job);
        xd->graceful = g_list_append(xd->graceful, job);
    }
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
    if (!check_flags(flags, SHUTDOWN_PARAVIRT,
                     reboot ? "libxlDomainReboot" : "libxlDomainShutdownFlags", error))
        return FALSE;
    obj = lookup(dom, error);
    if (!obj || !xen_process_check_available(error) || !check_running(obj, error))
        return FALSE;
    domid = priv_of(obj)->domid;
    sv_domain_driver_set_cause_call(obj, call);
    rc = reboot ? libxl_domain_reboot(lx(), domid, NULL) : libxl_domain_shutdown(lx(), domid, NULL);
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
    domid = priv_of(obj)->domid;
    if ((rc = libxl_domain_pause(lx(), domid, NULL)) != 0) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "Failed to suspend domain '%u' with libxenlight", domid);
        return FALSE;
    }
    sv_domain_driver_set_cause_call(obj, call);
    set_state(obj, SV_DOMAIN_PAUSED, PAUSED_USER);
    emit(obj, SV_EVENT_SUSPENDED, SUSPENDED_PAUSED);
    sv_domain_driver_reply_when_saved(ctx->domains, sv_call_defer(call), NULL, NULL);
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
    domid = priv_of(obj)->domid;
    if ((rc = libxl_domain_unpause(lx(), domid, NULL)) != 0) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_OPERATION_FAILED,
                     "Failed to resume domain '%u' with libxenlight", domid);
        return FALSE;
    }
    sv_domain_driver_set_cause_call(obj, call);
    set_state(obj, SV_DOMAIN_RUNNING, RUNNING_UNPAUSED);
    emit(obj, SV_EVENT_RESUMED, RESUMED_UNPAUSED);
    sv_domain_driver_reply_when_saved(ctx->domains, sv_call_defer(call), NULL, NULL);
    return TRUE;
}

guint64
xen_process_cpu_time(SvDomainDriver *drv, SvDomainObj *obj)
{
    libxl_dominfo info;
    guint64 ns = 0;

    (void)drv;
    if (!ctx->xen || !priv_of(obj) || !priv_of(obj)->domid)
        return 0;
    libxl_dominfo_init(&info);
    if (libxl_domain_info(lx(), &info, priv_of(obj)->domid) == 0)
        ns = info.cpu_time;
    libxl_dominfo_dispose(&info);
    return ns;
}

void
xen_process_install(XenProcessContext *c, SvRemoteHandlers *h)
{
    SvDomainLifecycle lifecycle = {
        .start = start_guest,
        .with_flags = START_PAUSED,
        .with_flags_suffix = "DomainCreateWithFlags",
        .xml_flags = START_PAUSED | START_VALIDATE,
        .xml_suffix = "DomainCreateXML",
        .destroy = destroy_common,
        .shutdown = shutdown_common,
    };

    ctx = c;
    sv_domain_driver_install_lifecycle(ctx->domains, &lifecycle, h);
    h->domain_suspend = domain_suspend;
    h->domain_resume = domain_resume;
}

void
xen_process_shutdown(void)
{
    g_autoptr(GPtrArray) active = NULL;

    if (!ctx || !ctx->xen)
        return;
    active = sv_domain_list_filter(ctx->domains->list, 0);
    for (guint i = 0; i < active->len; i++) {
        XenDomain *xd = priv_of(active->pdata[i]);
        if (xd && xd->death) {
            libxl_evdisable_domain_death(lx(), xd->death);
            xd->death = NULL;
        }
    }
}

/* ---------------------------------------------------------------- reconnect */

static char *
attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *out = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return out;
}

static gint64
attr_int(xmlNodePtr n, const char *name)
{
    g_autofree char *v = attr(n, name);

    return v ? g_ascii_strtoll(v, NULL, 10) : 0;
}

static XenStopReason
attr_stop_reason(xmlNodePtr n)
{
    g_autofree char *v = attr(n, "stopreason");

    for (int i = 0; v && i < STOP_LAST; i++) {
        if (g_str_equal(v, stop_reason_names[i]))
            return i;
    }
    return STOP_NONE;
}

/* The <domain> of a status file and its root (transfer full of both), or NULL. */
static SvDomainDef *
read_status(const char *path, xmlDocPtr *out_doc, GError **error)
{
    g_autofree char *text = NULL;
    xmlDocPtr doc;
    xmlNodePtr root, dom = NULL;
    xmlBufferPtr buf;
    SvDomainDef *def;

    if (!g_file_get_contents(path, &text, NULL, error))
        return NULL;
    doc = xmlReadMemory(text, (int)strlen(text), path, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    for (xmlNodePtr c = root ? root->children : NULL; c && !dom; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, (const xmlChar *)"domain"))
            dom = c;
    }
    if (!dom || !xmlStrEqual(root->name, (const xmlChar *)"domstatus")) {
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_INTERNAL_ERROR, "unreadable status file");
        if (doc)
            xmlFreeDoc(doc);
        return NULL;
    }
    buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, dom, 0, 0);
    def = sv_domain_def_parse((const char *)xmlBufferContent(buf), 0, error);
    xmlBufferFree(buf);
    if (!def) {
        xmlFreeDoc(doc);
        return NULL;
    }
    *out_doc = doc;
    return def;
}

static const libxl_dominfo *
find_dominfo(const libxl_dominfo *list, int n, guint32 domid, const guint8 uuid[16])
{
    for (int i = 0; i < n; i++) {
        if (list[i].domid == domid &&
            memcmp(libxl_uuid_bytearray_const(&list[i].uuid), uuid, 16) == 0)
            return &list[i];
    }
    return NULL;
}

/* The per-guest state and the state/reason a status file recorded. */
static XenDomain *
restore_domain(SvDomainObj *obj, xmlNodePtr root, guint32 domid)
{
    XenDomain *xd = xen_domain_new(obj);
    g_autofree char *state = attr(root, "state");

    xd->domid = domid;
    xd->stop_reason = attr_stop_reason(root);
    xd->restart = attr_int(root, "restart") != 0;
    obj->state = sv_domain_state_from_string(state);
    if (obj->state < 0 || obj->state == SV_DOMAIN_SHUTOFF)
        obj->state = SV_DOMAIN_RUNNING;
    obj->reason = (int)attr_int(root, "reason");
    obj->state_time = attr_int(root, "statetime");
    return xd;
}

/* Take the guest of one status file back, or clean up after one that is gone. */
static void
reconnect_one(const char *path, const libxl_dominfo *list, int n)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    xmlDocPtr doc = NULL;
    xmlNodePtr root;
    const libxl_dominfo *info;
    SvDomainObj *obj;
    XenDomain *xd;
    guint32 domid;

    def = read_status(path, &doc, &error);
    if (!def) {
        g_warning("ignoring status file '%s': %s", path, error->message);
        unlink(path);
        return;
    }
    root = xmlDocGetRootElement(doc);
    domid = (guint32)attr_int(root, "domid");
    info = find_dominfo(list, n, domid, def->uuid);
    obj = sv_domain_list_find_by_uuid(ctx->domains->list, def->uuid);
    if (!info || info->dying) {
        g_message("domain %s: domain %u is gone; cleaning up", def->name, domid);
        unlink(path);
        xmlFreeDoc(doc);
        return;
    }
    if (obj) {
        /* Defined on disk: it runs with its live definition until it stops. */
        obj->new_def = obj->def;
        obj->def = g_steal_pointer(&def);
    } else {
        obj = sv_domain_list_add(ctx->domains->list, g_steal_pointer(&def), FALSE);
    }
    sv_domain_list_set_id(ctx->domains->list, obj, (int)domid);
    xd = restore_domain(obj, root, domid);
    xmlFreeDoc(doc);
    sv_daemon_inhibit(ctx->daemon);
    g_message("domain %s: reconnected to domain %u (%s)", obj->def->name, domid,
              sv_domain_state_to_string(obj->state));
    /* What changed while no daemon watched is not replayed, except that a guest which
     * shut down or crashed meanwhile is reported by libxl below, as a fresh event. */
    if (info->paused && obj->state == SV_DOMAIN_RUNNING)
        set_state(obj, SV_DOMAIN_PAUSED, PAUSED_UNKNOWN);
    else if (!info->paused && !info->shutdown && obj->state == SV_DOMAIN_PAUSED)
        set_state(obj, SV_DOMAIN_RUNNING, RUNNING_UNPAUSED);
    else
        save_status(obj);
    if (libxl_evenable_domain_death(lx(), domid, domid, &xd->death) != 0)
        g_warning("domain %s: cannot watch domain %u for its end", obj->def->name, domid);
    /* A destroy or a stop under way when the daemon went is carried through. */
    if (xd->stop_reason != STOP_NONE) {
        sv_domain_obj_set_cause(obj, "the daemon (after a restart: a stop was under way)");
        begin_destroy_quietly(obj);
    }
}

void
xen_process_reconnect_all(void)
{
    g_autoptr(GDir) dir = NULL;
    libxl_dominfo *list;
    const char *entry;
    int n = 0;

    /* Without a hypervisor no guest can run: status files wait for one. */
    if (!ctx->xen)
        return;
    if (!sv_mkdir_p(ctx->run_dir, 0755, NULL))
        g_warning("cannot create '%s'", ctx->run_dir);
    list = libxl_list_domain(lx(), &n);
    dir = g_dir_open(ctx->run_dir, 0, NULL);
    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *path = NULL;
        if (!g_str_has_suffix(entry, ".xml"))
            continue;
        path = g_build_filename(ctx->run_dir, entry, NULL);
        reconnect_one(path, list, list ? n : 0);
    }
    if (list)
        libxl_dominfo_list_free(list, n);
    sv_domain_driver_autostart(ctx->domains, ctx->run_dir);
}
