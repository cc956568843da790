/* domain_lifecycle.c: the shared CREATE, CREATE_WITH_FLAGS and CREATE_XML over a driver's
 * SvGuestOps (the procedures on a running guest are domain_control.c), replies once
 * the status files say so, AUTODESTROY when the starting client goes, and autostart. */
#include <string.h>

#include "conf/uuid.h"
#include "domain/domain_control.h"
#include "domain/domain_driver.h"
#include "domain/domain_run.h"
#include "domain/domain_state.h"
#include "util/error.h"
#include "util/fileio.h"

/* CREATE_XML's first half: parse xml, let the driver check it, and put it in place: a
 * new transient domain, or the inactive one of the same name and UUID, which then runs
 * with this definition (its own returns when it stops). */
static SvDomainObj *
create_xml_begin(SvDomainDriver *drv, const char *xml, gboolean validate, GError **error)
{
    g_autoptr(SvDomainDef) def = NULL;
    SvDomainObj *obj;
    char uuid[SV_UUID_STRING_LEN + 1];

    def = sv_domain_def_parse(xml,
                              SV_DOMAIN_PARSE_INACTIVE | (validate ? SV_DOMAIN_PARSE_VALIDATE : 0),
                              error);
    if (!def || !drv->check_def(drv, def, error))
        return NULL;
    obj = sv_domain_list_find_by_uuid(drv->list, def->uuid);
    if (!obj)
        obj = sv_domain_list_find_by_name(drv->list, def->name);
    if (!obj)
        return sv_domain_list_add(drv->list, g_steal_pointer(&def), FALSE);
    /* A driver's data lives from the start of a start to the end of a stop. */
    if (sv_domain_obj_is_active(obj) || obj->priv) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                     "domain '%s' is already active", obj->def->name);
        return NULL;
    }
    if (memcmp(obj->def->uuid, def->uuid, 16) != 0) {
        sv_uuid_format(obj->def->uuid, uuid);
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                     "domain '%s' already exists with uuid %s", def->name, uuid);
        return NULL;
    }
    if (!g_str_equal(obj->def->name, def->name)) {
        sv_uuid_format(obj->def->uuid, uuid);
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                     "domain '%s' is already defined with uuid %s", obj->def->name, uuid);
        return NULL;
    }
    obj->new_def = obj->def;
    obj->def = g_steal_pointer(&def);
    return obj;
}

/* After a failed start: a transient domain goes, a persistent one gets its own definition
 * back. Nothing happens if the driver's cleanup did that already. */
static void
create_xml_abort(SvDomainDriver *drv, const guint8 uuid[16])
{
    SvDomainObj *obj = sv_domain_list_find_by_uuid(drv->list, uuid);

    if (!obj || sv_domain_obj_is_active(obj) || obj->priv)
        return;
    if (!obj->persistent)
        sv_domain_list_remove(drv->list, obj);
    else
        sv_domain_obj_restore_def(obj);
}

typedef struct {
    SvCall *call;
    gpointer ret;
    GDestroyNotify free_ret;
    GError *fail;
} SavedReply;

static void
saved_reply_done(const GError *error, gpointer data)
{
    SavedReply *r = data;

    if (error)
        g_warning("status file not written before replying: %s", error->message);
    if (r->fail) {
        sv_call_fail(r->call, r->fail);
        g_free(r);
        return;
    }
    sv_call_reply(r->call, r->ret);
    if (r->ret && r->free_ret)
        r->free_ret(r->ret);
    g_free(r);
}

void
sv_domain_driver_reply_when_saved(SvDomainDriver *drv, SvCall *call, gpointer ret,
                                  GDestroyNotify free_ret)
{
    SavedReply *r = g_new0(SavedReply, 1);

    r->call = call;
    r->ret = ret;
    r->free_ret = free_ret;
    sv_domain_store_barrier_async(drv->store, saved_reply_done, r);
}

void
sv_domain_driver_fail_when_saved(SvDomainDriver *drv, SvCall *call, GError *error)
{
    SavedReply *r = g_new0(SavedReply, 1);

    r->call = call;
    r->fail = error;
    sv_domain_store_barrier_async(drv->store, saved_reply_done, r);
}

static void
free_dom_ret(gpointer p)
{
    remote_domain_create_xml_ret *ret = p;

    g_free(ret->dom.name);
    g_free(ret);
}

void
sv_domain_driver_reply_started(SvDomainDriver *drv, SvDomainObj *obj, SvCall *call)
{
    remote_domain_create_xml_ret *ret;

    if (sv_call_get_header(call)->proc == REMOTE_PROC_DOMAIN_CREATE) {
        sv_domain_driver_reply_when_saved(drv, call, NULL, NULL);
        return;
    }
    /* CREATE_WITH_FLAGS and CREATE_XML return the same remote_nonnull_domain. */
    ret = g_new0(remote_domain_create_xml_ret, 1);
    sv_domain_obj_to_remote(obj, &ret->dom);
    sv_domain_driver_reply_when_saved(drv, call, ret, free_dom_ret);
}

/* The starts, over the driver's facts (domain_control.h). */

static gboolean
domain_create(SvCall *call, remote_domain_create_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_driver_lookup(drv, &a->dom, error);

    return obj && drv->guest->start(obj, call, 0, error);
}

static gboolean
domain_create_with_flags(SvCall *call, remote_domain_create_with_flags_args *a,
                         remote_domain_create_with_flags_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    const SvGuestProc *p;
    SvDomainObj *obj;

    (void)ret; /* the reply is sent when the guest runs */
    p = &drv->guest->procs[SV_GUEST_CREATE_WITH_FLAGS];
    if (!sv_check_flags(a->flags, p->flags, drv->from, p->func, error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    return obj && drv->guest->start(obj, call, a->flags, error);
}

/* CREATE_XML once the flags are checked; `call` may be deferred already. */
static gboolean
create_xml(SvDomainDriver *drv, SvCall *call, const char *xml, guint flags, GError **error)
{
    SvDomainObj *obj;
    guint8 uuid[16];

    obj = create_xml_begin(drv, xml, (flags & SV_DOMAIN_START_VALIDATE) != 0, error);
    if (!obj)
        return FALSE;
    memcpy(uuid, obj->def->uuid, 16);
    if (!drv->guest->start(obj, call, flags, error)) {
        create_xml_abort(drv, uuid);
        return FALSE;
    }
    return TRUE;
}

/* A CREATE_XML that waits until the driver can check definitions (defs_ready). */
typedef struct {
    SvCall *call; /* deferred */
    SvDomainDriver *drv;
    char *xml;
    guint flags;
} CreateWait;

static void
create_xml_when_ready(const GError *failed, gpointer data)
{
    CreateWait *w = data;
    GError *error = NULL;

    if (failed)
        sv_call_fail(w->call, g_error_copy(failed));
    else if (!create_xml(w->drv, w->call, w->xml, w->flags, &error))
        sv_call_fail(w->call, error);
    g_free(w->xml);
    g_free(w);
}

static gboolean
domain_create_xml(SvCall *call, remote_domain_create_xml_args *a, remote_domain_create_xml_ret *ret,
                  GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    const SvGuestProc *p;
    CreateWait *w;

    (void)ret; /* the reply is sent when the guest runs */
    p = &drv->guest->procs[SV_GUEST_CREATE_XML];
    if (!sv_check_flags(a->flags, p->flags, drv->from, p->func, error))
        return FALSE;
    if (!drv->defs_ready || drv->defs_ready(drv))
        return create_xml(drv, call, a->xml_desc, a->flags, error);
    w = g_new0(CreateWait, 1);
    w->call = sv_call_defer(call);
    w->drv = drv;
    w->xml = g_strdup(a->xml_desc);
    w->flags = a->flags;
    drv->wait_defs_ready(drv, create_xml_when_ready, w);
    return TRUE;
}

/* ---------------------------------------------------------------- AUTODESTROY */

void
sv_domain_driver_client_gone(SvDomainDriver *drv, guint64 client)
{
    g_autoptr(GPtrArray) active = NULL;
    g_autoptr(GPtrArray) runs = g_ptr_array_new();

    if (!client || !drv->guest || !drv->guest->destroy_quietly)
        return;
    active = sv_domain_list_filter(drv->list, SV_CONNECT_LIST_DOMAINS_ACTIVE);
    for (guint i = 0; i < active->len; i++) {
        SvDomainObj *obj = active->pdata[i];
        SvDomainRun *run = sv_domain_run_of(obj);
        if (run && run->autodestroy_client == client)
            g_ptr_array_add(runs, sv_domain_obj_run_key(obj));
    }
    /* A destroy may end a run at once (a start with nothing running yet), and with it a
     * transient domain: each guest is found again by its run. */
    for (guint i = 0; i < runs->len; i++) {
        SvDomainObj *obj = sv_domain_list_find_attached(drv->list, runs->pdata[i]);
        if (!obj || sv_domain_run_destroying(obj))
            continue;
        g_message("domain %s: its client went away, destroying (AUTODESTROY)", obj->def->name);
        drv->guest->destroy_quietly(obj, "its AUTODESTROY client went away");
    }
}

static void
client_closed(SvClient *client, gpointer data)
{
    sv_domain_driver_client_gone(data, sv_client_get_id(client));
}

void
sv_domain_driver_install_lifecycle(SvDomainDriver *d, const SvGuestOps *ops,
                                   SvRemoteHandlers *h)
{
    g_assert(ops->start);
    d->guest = ops;
    h->domain_create = domain_create;
    h->domain_create_with_flags = domain_create_with_flags;
    h->domain_create_xml = domain_create_xml;
    sv_domain_control_install(d, h);
    if (ops->destroy_quietly && d->server)
        sv_server_set_client_closed(d->server, client_closed, d);
}

void
sv_domain_driver_autostart(SvDomainDriver *d, const char *run_dir)
{
    g_autofree char *marker = g_build_filename(run_dir, "autostarted", NULL);
    g_autoptr(GPtrArray) objs = NULL;

    SvDomainDriver *drv = d;

    g_assert(drv->guest->start);
    if (g_file_test(marker, G_FILE_TEST_EXISTS))
        return;
    if (!sv_mkdir_p(run_dir, 0755, NULL) ||
        !g_file_set_contents_full(marker, "", 0, G_FILE_SET_CONTENTS_NONE, 0600, NULL))
        g_warning("cannot create autostart marker '%s'", marker);
    objs = sv_domain_list_filter(drv->list, SV_CONNECT_LIST_DOMAINS_AUTOSTART |
                                                SV_CONNECT_LIST_DOMAINS_INACTIVE);
    for (guint i = 0; i < objs->len; i++) {
        SvDomainObj *obj = objs->pdata[i];
        g_autoptr(GError) error = NULL;

        g_message("autostarting domain %s", obj->def->name);
        if (!drv->guest->start(obj, NULL, 0, &error))
            g_warning("autostart of domain %s failed: %s", obj->def->name, error->message);
    }
}
