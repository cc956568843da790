/* xen_reconnect.c: virtxend's facts for the one reconnect loop of a restarted daemon
 * (domain/domain_reconnect.h, docs/lifecycle.md): every domain of ours was recorded in a
 * status file before libxl was asked to create it (xen_start.c), so the status files are
 * the whole list. Its guest is a Xen domain, which must be in libxl's list with the
 * recorded domid, UUID and name; another guest in its place has the file set aside. A
 * stop under way (destroy, shutdown, crash) is carried through, a GRACEFUL destroy waits
 * until its recorded deadline and fails then (logged: its client is gone), and a start
 * that never finished has its domains destroyed (its client never heard of success). One
 * whose domain is gone is removed. */
#include "xen_domain.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxl_utils.h>

#include "domain/domain_reconnect.h"
#include "util/error.h"
#include "util/fileio.h"

/* What virtxend's status files record of their own. */
typedef struct {
    guint32 domid;
    int stop_reason;
    gboolean restart;
    gint64 graceful; /* deadline of a GRACEFUL destroy under way, or 0 */
} XenStatus;

static gboolean
invalid(GError **error, const char *fmt, const char *what)
{
    sv_error_set(error, SV_FROM_LIBXL, SV_ERR_INTERNAL_ERROR, fmt, what ? what : "");
    return FALSE;
}

/* The fields of <domstatus> only virtxend records, checked for what they can be on their
 * own. */
static gboolean
read_own(const SvStatusStyle *style, xmlNodePtr root, SvStatus *st, GError **error)
{
    g_autofree char *stop = sv_status_attr(root, "stopreason");
    XenStatus *xs = g_new0(XenStatus, 1);
    gint64 domid;

    st->own = xs;
    xs->stop_reason = stop ? xen_stop_cause_from_string(stop) : SV_STOP_NONE;
    if (xs->stop_reason < 0)
        return invalid(error, "its stop reason '%s' is unknown", stop);
    if (!sv_status_attr_flag(root, "restart", &xs->restart, style->from, error) ||
        !sv_status_attr_range(root, "graceful", 0, G_MAXINT64, 0, &xs->graceful, style->from,
                              error) ||
        !sv_status_attr_range(root, "domid", 0, G_MAXINT64, 0, &domid, style->from, error))
        return FALSE;
    /* Xen's guests have ids from 1 up to below DOMID_FIRST_RESERVED (0x7ff0). */
    if ((!st->c.starting && (domid < 1 || domid >= 0x7ff0)) || (st->c.starting && domid != 0))
        return invalid(error, "its domain id is not that of a guest%s", NULL);
    xs->domid = (guint32)domid;
    return TRUE;
}

const SvStatusStyle xen_status_style = {
    .from = SV_FROM_LIBXL,
    .start_shut_off = TRUE,
    .read_own = read_own,
    .free_own = g_free,
};

static inline XenStatus *
xen_status_of(const SvStatus *st)
{
    return st->own;
}

/* Whether libxl's domain domid is the guest of def: same UUID and name. */
static gboolean
is_guest(libxl_ctx *lx, const libxl_dominfo *info, const SvDomainDef *def)
{
    char *name;
    gboolean same;

    if (memcmp(libxl_uuid_bytearray_const(&info->uuid), def->uuid, 16) != 0)
        return FALSE;
    name = libxl_domid_to_name(lx, info->domid);
    same = name && g_str_equal(name, def->name);
    free(name);
    return same;
}

/* libxl's domain list, read once for the walk over the status files, and the driver's
 * context. */
typedef struct {
    XenProcessContext *ctx;
    libxl_dominfo *list;
    int n;
} Domains;

/* The domain a status file names, if it lives: its domid, UUID and name match. NULL when
 * it is gone; an error when another guest has its domid and UUID. */
static const libxl_dominfo *
find_domain(const Domains *domains, const SvStatus *st, const SvDomainDef *def,
            GError **error)
{
    const libxl_dominfo *list = domains->list;
    int n = domains->n;

    for (int i = 0; i < n; i++) {
        if (list[i].domid != xen_status_of(st)->domid ||
            memcmp(libxl_uuid_bytearray_const(&list[i].uuid), def->uuid, 16) != 0)
            continue;
        if (list[i].dying)
            return NULL;
        if (!is_guest(xen_ctx_get(domains->ctx->xen), &list[i], def)) {
            sv_error_set(error, SV_FROM_LIBXL, SV_ERR_INTERNAL_ERROR,
                         "domain %u is not named '%s'", xen_status_of(st)->domid, def->name);
            return NULL;
        }
        return &list[i];
    }
    return NULL;
}

/* A start that never finished: whatever libxl made of it goes (its client never heard of
 * success). Only domains with the guest's UUID and name are ours. */
static void
finish_unfinished_start(const SvDomainDef *def, const Domains *domains)
{
    const libxl_dominfo *list = domains->list;

    for (int i = 0; i < domains->n; i++) {
        if (list[i].dying || !is_guest(xen_ctx_get(domains->ctx->xen), &list[i], def))
            continue;
        g_message("domain %s: its start never finished; destroying domain %u", def->name,
                  list[i].domid);
        xen_domain_destroy_orphan(domains->ctx, list[i].domid);
    }
}

/* The domain of a checked status file: a start never finished has no domain to take back
 * (whatever libxl made of it is destroyed); any other is found by domid, UUID and name. */
static SvReconnectFound
find(SvStatus *st, gpointer *ret_handle, gpointer data, GError **error)
{
    const Domains *domains = data;
    const libxl_dominfo *info;

    if (st->c.starting) {
        finish_unfinished_start(st->def, domains);
        return SV_RECONNECT_GONE;
    }
    info = find_domain(domains, st, st->def, error);
    if (!info && *error)
        return SV_RECONNECT_FOREIGN;
    if (!info) {
        g_message("domain %s: domain %u is gone; cleaning up", st->def->name,
                  xen_status_of(st)->domid);
        return SV_RECONNECT_GONE;
    }
    *ret_handle = (gpointer)info;
    return SV_RECONNECT_LIVE;
}

static void
gone(const char *path, SvStatus *st, SvDomainObj *obj, gpointer data)
{
    (void)data;
    if (obj && st->c.starting)
        obj->reason = SV_DOMAIN_SHUTOFF_FAILED;
    unlink(path);
}

/* What was under way when the earlier daemon went goes on. */
static void
carry_on(SvDomainObj *obj, SvStatus *st, gpointer data)
{
    (void)data;
    if (sv_domain_run_stopping(obj, SV_STOP_NONE)) {
        sv_domain_obj_set_cause(obj, "the daemon (after a restart: a stop was under way)");
        xen_domain_begin_destroy_quietly(obj);
    } else if (xen_status_of(st)->graceful) {
        /* The shutdown request stays with the guest (xenstore); only the wait goes on. */
        g_message("domain %s: carrying on the GRACEFUL destroy begun before the restart",
                  obj->def->name);
        sv_domain_obj_set_cause(obj, "the daemon (after a restart: a GRACEFUL destroy)");
        xen_graceful_add(obj, NULL, xen_status_of(st)->graceful);
    }
}

/* Take the guest of a checked status file back (the state it recorded is set). */
static void
attach(SvDomainObj *obj, SvStatus *st, gpointer handle, gpointer data)
{
    const libxl_dominfo *info = handle;
    XenProcessContext *ctx = xen_ctx_of(obj);
    XenDomain *xd = xen_domain_new(obj);
    guint32 domid = xen_status_of(st)->domid;

    (void)data;
    xd->domid = domid;
    xd->restart = xen_status_of(st)->restart;
    /* The stop under way, carried on by carry_on(). */
    if (xen_status_of(st)->stop_reason != SV_STOP_NONE)
        sv_domain_run_change(obj, SV_RUN_STOPPING, xen_status_of(st)->stop_reason);
    sv_domain_list_set_id(obj->list, obj, (int)domid);
    sv_daemon_inhibit(ctx->daemon);
    g_message("domain %s: reconnected to domain %u (%s)", obj->def->name, domid,
              sv_domain_state_to_string(obj->state));
    /* What changed while no daemon watched is not replayed, except that a guest which
     * shut down or crashed meanwhile is reported by libxl below, as a fresh event. */
    if (info->paused && obj->state == SV_DOMAIN_RUNNING)
        sv_domain_driver_set_state(ctx->domains, obj, SV_DOMAIN_PAUSED,
                                   SV_DOMAIN_PAUSED_UNKNOWN);
    else if (!info->paused && !info->shutdown && obj->state == SV_DOMAIN_PAUSED)
        sv_domain_driver_set_state(ctx->domains, obj, SV_DOMAIN_RUNNING,
                                   SV_DOMAIN_RUNNING_UNPAUSED);
    else
        sv_domain_driver_save_status(ctx->domains, obj);
    if (libxl_evenable_domain_death(xen_ctx_get(ctx->xen), domid, obj->run, &xd->death) != 0)
        g_warning("domain %s: cannot watch domain %u for its end", obj->def->name, domid);
}

/* find() never returns a start not finished as live: it has no domain to take back. */
static const SvReconnectFacts xen_reconnect_facts = {
    .status = &xen_status_style,
    .find = find,
    .gone = gone,
    .attach = attach,
    .carry_on = carry_on,
};

void
xen_process_reconnect_all(XenProcessContext *ctx)
{
    Domains domains = {ctx, NULL, 0};

    /* Without a hypervisor no guest can run: status files wait for one. */
    if (!ctx->xen)
        return;
    if (!sv_mkdir_p(ctx->run_dir, 0755, NULL))
        g_warning("cannot create '%s'", ctx->run_dir);
    domains.list = libxl_list_domain(xen_ctx_get(ctx->xen), &domains.n);
    if (!domains.list)
        domains.n = 0;
    sv_domain_reconnect_all(ctx->domains, ctx->run_dir, &xen_reconnect_facts, &domains);
    if (domains.list)
        libxl_dominfo_list_free(domains.list, domains.n);
}
