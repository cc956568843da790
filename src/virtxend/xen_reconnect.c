/* xen_reconnect.c: a restarted daemon takes back the Xen guests of its status files.
 *
 * The rule (docs/lifecycle.md): every domain of ours was recorded in a status file before
 * libxl was asked to create it (xen_start.c), so the status files are the whole list. Each
 * is hostile input until checked: its name, its fields, and the domain it names, which
 * must be in libxl's list with the recorded domid, UUID and name. One that fails is logged
 * and set aside (NAME.xml.rejected) without touching any domain. A checked one is adopted,
 * and what was under way goes on: a stop (destroy, shutdown, crash) is carried through, a
 * GRACEFUL destroy waits until its recorded deadline and fails then (logged: its client is
 * gone), and a start that never finished has its domains destroyed (its client never heard
 * of success). One whose domain is gone is removed. Temporary files of status writes a
 * killed daemon never finished are removed. */
#include "xen_domain.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxl_utils.h>

#include "conf/domain_status.h"
#include "util/error.h"
#include "util/fileio.h"

/* What a status file says besides the live definition. */
typedef struct {
    int state;
    int reason;
    gint64 state_time;
    guint32 domid;
    int stop_reason;
    gboolean restart;
    gboolean starting;
    gint64 graceful; /* deadline of a GRACEFUL destroy under way, or 0 */
} XenStatus;

static gboolean
invalid(GError **error, const char *fmt, const char *what)
{
    sv_error_set(error, SV_FROM_LIBXL, SV_ERR_INTERNAL_ERROR, fmt, what ? what : "");
    return FALSE;
}

/* The fields of <domstatus>, checked for what they can be on their own. */
static gboolean
read_fields(xmlNodePtr root, XenStatus *st, GError **error)
{
    g_autofree char *state = sv_status_attr(root, "state");
    g_autofree char *stop = sv_status_attr(root, "stopreason");
    gint64 domid = sv_status_attr_int(root, "domid");
    SvStatusCommon common;

    sv_status_read_common(root, &common);
    st->state = common.state;
    if (st->state < 0)
        return invalid(error, "its state '%s' is unknown", state);
    st->reason = common.reason;
    st->state_time = common.state_time;
    st->stop_reason = stop ? xen_stop_cause_from_string(stop) : SV_STOP_NONE;
    if (st->stop_reason < 0)
        return invalid(error, "its stop reason '%s' is unknown", stop);
    st->restart = sv_status_attr_int(root, "restart") != 0;
    st->starting = sv_status_attr_int(root, "starting") != 0;
    st->graceful = sv_status_attr_int(root, "graceful");
    /* Xen's guests have ids from 1 up to below DOMID_FIRST_RESERVED (0x7ff0). */
    if ((!st->starting && (domid < 1 || domid >= 0x7ff0)) || (st->starting && domid != 0))
        return invalid(error, "its domain id is not that of a guest%s", NULL);
    st->domid = (guint32)domid;
    return TRUE;
}

/* The <domain> of a status file and its other fields; the definition's name must be the
 * file's. (transfer full) */
static SvDomainDef *
read_status(const char *path, const char *entry, XenStatus *st, GError **error)
{
    g_autofree char *text = NULL;
    g_autofree char *want = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    xmlDocPtr doc;
    xmlNodePtr root, dom;
    gsize len;
    gboolean ok;

    if (!g_file_get_contents(path, &text, &len, error) ||
        !(doc = sv_status_read(text, len, SV_FROM_LIBXL, error)))
        return NULL;
    root = xmlDocGetRootElement(doc);
    dom = sv_status_child(root, "domain");
    if (!dom)
        sv_error_set(error, SV_FROM_LIBXL, SV_ERR_INTERNAL_ERROR, "unreadable status file");
    else
        def = sv_status_parse_domain(doc, dom, error);
    ok = def && read_fields(root, st, error);
    xmlFreeDoc(doc);
    if (!ok)
        return NULL;
    want = g_strconcat(def->name, ".xml", NULL);
    if (!g_str_equal(entry, want)) {
        invalid(error, "it describes domain '%s'", def->name);
        return NULL;
    }
    return g_steal_pointer(&def);
}

/* Whether libxl's domain domid is the guest of def: same UUID and name. */
static gboolean
is_guest(const libxl_dominfo *info, const SvDomainDef *def)
{
    char *name;
    gboolean same;

    if (memcmp(libxl_uuid_bytearray_const(&info->uuid), def->uuid, 16) != 0)
        return FALSE;
    name = libxl_domid_to_name(xen_lx(), info->domid);
    same = name && g_str_equal(name, def->name);
    free(name);
    return same;
}

/* The domain a status file names, if it lives: its domid, UUID and name match. NULL when
 * it is gone; an error when another guest has its domid and UUID. */
static const libxl_dominfo *
find_domain(const libxl_dominfo *list, int n, const XenStatus *st, const SvDomainDef *def,
            GError **error)
{
    for (int i = 0; i < n; i++) {
        if (list[i].domid != st->domid ||
            memcmp(libxl_uuid_bytearray_const(&list[i].uuid), def->uuid, 16) != 0)
            continue;
        if (list[i].dying)
            return NULL;
        if (!is_guest(&list[i], def)) {
            sv_error_set(error, SV_FROM_LIBXL, SV_ERR_INTERNAL_ERROR,
                         "domain %u is not named '%s'", st->domid, def->name);
            return NULL;
        }
        return &list[i];
    }
    return NULL;
}

/* A start that never finished: whatever libxl made of it goes (its client never heard of
 * success). Only domains with the guest's UUID and name are ours. */
static void
finish_unfinished_start(const char *path, const SvDomainDef *def, const libxl_dominfo *list,
                        int n)
{
    SvDomainObj *obj = sv_domain_list_find_by_uuid(xen_ctx->domains->list, def->uuid);

    for (int i = 0; i < n; i++) {
        if (list[i].dying || !is_guest(&list[i], def))
            continue;
        g_message("domain %s: its start never finished; destroying domain %u", def->name,
                  list[i].domid);
        xen_domain_destroy_orphan(list[i].domid);
    }
    if (obj && !sv_domain_obj_is_active(obj))
        obj->reason = SV_DOMAIN_SHUTOFF_FAILED;
    unlink(path);
}

/* The per-guest state and the state/reason a status file recorded. */
static XenDomain *
restore_domain(SvDomainObj *obj, const XenStatus *st)
{
    XenDomain *xd = xen_domain_new(obj);

    xd->domid = st->domid;
    xd->restart = st->restart;
    obj->state = st->state == SV_DOMAIN_SHUTOFF ? SV_DOMAIN_RUNNING : st->state;
    obj->reason = st->reason;
    obj->state_time = st->state_time;
    /* As clients saw it, then the stop under way (carried on by carry_on()). */
    sv_domain_run_change(obj, obj->state == SV_DOMAIN_PAUSED ? SV_RUN_PAUSED : SV_RUN_RUNNING,
                         SV_STOP_NONE);
    if (st->stop_reason != SV_STOP_NONE)
        sv_domain_run_change(obj, SV_RUN_STOPPING, st->stop_reason);
    return xd;
}

/* What was under way when the earlier daemon went goes on. */
static void
carry_on(SvDomainObj *obj, const XenStatus *st)
{
    if (sv_domain_run_stopping(obj, SV_STOP_NONE)) {
        sv_domain_obj_set_cause(obj, "the daemon (after a restart: a stop was under way)");
        xen_domain_begin_destroy_quietly(obj);
    } else if (st->graceful) {
        /* The shutdown request stays with the guest (xenstore); only the wait goes on. */
        g_message("domain %s: carrying on the GRACEFUL destroy begun before the restart",
                  obj->def->name);
        sv_domain_obj_set_cause(obj, "the daemon (after a restart: a GRACEFUL destroy)");
        xen_graceful_add(obj, NULL, st->graceful);
    }
}

/* Take the guest of a checked status file back. */
static void
adopt(SvDomainObj *obj, const XenStatus *st, const libxl_dominfo *info)
{
    XenDomain *xd = restore_domain(obj, st);
    guint32 domid = st->domid;

    sv_domain_list_set_id(xen_ctx->domains->list, obj, (int)domid);
    sv_daemon_inhibit(xen_ctx->daemon);
    g_message("domain %s: reconnected to domain %u (%s)", obj->def->name, domid,
              sv_domain_state_to_string(obj->state));
    /* What changed while no daemon watched is not replayed, except that a guest which
     * shut down or crashed meanwhile is reported by libxl below, as a fresh event. */
    if (info->paused && obj->state == SV_DOMAIN_RUNNING)
        sv_domain_driver_set_state(xen_ctx->domains, obj, SV_DOMAIN_PAUSED,
                                   SV_DOMAIN_PAUSED_UNKNOWN);
    else if (!info->paused && !info->shutdown && obj->state == SV_DOMAIN_PAUSED)
        sv_domain_driver_set_state(xen_ctx->domains, obj, SV_DOMAIN_RUNNING,
                                   SV_DOMAIN_RUNNING_UNPAUSED);
    else
        xen_domain_save_status(obj, NULL, NULL);
    if (libxl_evenable_domain_death(xen_lx(), domid, obj->run, &xd->death) != 0)
        g_warning("domain %s: cannot watch domain %u for its end", obj->def->name, domid);
    carry_on(obj, st);
}

/* Take the guest of one status file back, or clean up after one that is gone. */
/* libxl's domain list, read once for the walk over the status files. */
typedef struct {
    libxl_dominfo *list;
    int n;
} Domains;

static void
reconnect_one(const char *path, const char *entry, gpointer data)
{
    const libxl_dominfo *list = ((Domains *)data)->list;
    int n = ((Domains *)data)->n;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    const libxl_dominfo *info;
    XenStatus st = {0};
    SvDomainObj *obj;

    def = read_status(path, entry, &st, &error);
    if (!def) {
        sv_status_set_aside(path, error);
        return;
    }
    if (st.starting) {
        finish_unfinished_start(path, def, list, n);
        return;
    }
    info = find_domain(list, n, &st, def, &error);
    if (!info && error) {
        sv_status_set_aside(path, error);
        return;
    }
    if (!info) {
        g_message("domain %s: domain %u is gone; cleaning up", def->name, st.domid);
        unlink(path);
        return;
    }
    /* The definition on disk decides persistence (conf/domain_obj.h). */
    if (!sv_domain_list_check_live(xen_ctx->domains->list, def, SV_FROM_LIBXL, &error)) {
        sv_status_set_aside(path, error);
        return;
    }
    obj = sv_domain_list_take_live(xen_ctx->domains->list, g_steal_pointer(&def));
    adopt(obj, &st, info);
}

void
xen_process_reconnect_all(void)
{
    Domains domains = {NULL, 0};

    /* Without a hypervisor no guest can run: status files wait for one. */
    if (!xen_ctx->xen)
        return;
    if (!sv_mkdir_p(xen_ctx->run_dir, 0755, NULL))
        g_warning("cannot create '%s'", xen_ctx->run_dir);
    domains.list = libxl_list_domain(xen_lx(), &domains.n);
    if (!domains.list)
        domains.n = 0;
    sv_file_walk_dir(xen_ctx->run_dir, ".xml", reconnect_one, &domains);
    if (domains.list)
        libxl_dominfo_list_free(domains.list, domains.n);
    sv_domain_driver_autostart(xen_ctx->domains, xen_ctx->run_dir);
}
