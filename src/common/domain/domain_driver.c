/* domain_driver.c: shared domain procedures; definitions reach disk before the reply. */
#include "domain/domain_driver.h"

#include <string.h>

#include "conf/uuid.h"
#include "domain/domain_metadata.h"
#include "domain/domain_run.h"
#include "util/error.h"
#include "util/fileio.h"

static const char *
fn_name(SvDomainDriver *drv, const char *suffix)
{
    static char buf[128];

    g_snprintf(buf, sizeof(buf), "%s%s", drv->prefix, suffix);
    return buf;
}

gboolean
sv_domain_driver_check_flags(SvDomainDriver *drv, guint flags, guint supported, const char *suffix,
                             GError **error)
{
    return sv_check_flags(flags, supported, drv->from, fn_name(drv, suffix), error);
}

void
sv_domain_driver_emit(SvDomainDriver *d, SvDomainObj *obj, int event, int detail)
{
    remote_nonnull_domain dom;

    sv_domain_obj_to_remote(obj, &dom);
    sv_remote_emit_lifecycle(d->server, &dom, event, detail);
    g_free(dom.name);
    if (d->on_emit)
        d->on_emit(d, obj, event, detail);
}

void
sv_domain_driver_emit_reboot(SvDomainDriver *drv, SvDomainObj *obj)
{
    remote_nonnull_domain dom;

    sv_domain_obj_to_remote(obj, &dom);
    sv_remote_emit_reboot(drv->server, &dom);
    g_free(dom.name);
}

gboolean
sv_domain_driver_check_active(SvDomainObj *obj, GError **error)
{
    if (!sv_domain_obj_is_active(obj)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    return TRUE;
}

SvDomainObj *
sv_domain_driver_lookup(SvDomainDriver *drv, const remote_nonnull_domain *dom, GError **error)
{
    return sv_domain_list_lookup_handle(drv->list, dom, drv->from, error);
}

static void
not_found(SvDomainDriver *drv, GError **error, const char *what, const char *fmt_value)
{
    switch (drv->lookup_style) {
    case SV_LOOKUP_STYLE_QEMU:
        sv_error_set(error, drv->from, SV_ERR_NO_DOMAIN, "no domain with matching %s %s", what,
                     fmt_value);
        break;
    case SV_LOOKUP_STYLE_LXC:
        sv_error_set(error, drv->from, SV_ERR_NO_DOMAIN, "No domain with matching %s %s", what,
                     fmt_value);
        break;
    case SV_LOOKUP_STYLE_LIBXL:
        sv_error_set_literal(error, drv->from, SV_ERR_NO_DOMAIN, "Domain not found");
        break;
    }
}

/* ---------------------------------------------------------------- lookups */

static gboolean
lookup_by_name(SvCall *call, remote_domain_lookup_by_name_args *a,
               remote_domain_lookup_by_name_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_list_find_by_name(drv->list, a->name);

    if (!obj) {
        g_autofree char *q = g_strdup_printf("'%s'", a->name);
        not_found(drv, error, "name", q);
        return FALSE;
    }
    sv_domain_obj_to_remote(obj, &ret->dom);
    return TRUE;
}

static gboolean
lookup_by_uuid(SvCall *call, remote_domain_lookup_by_uuid_args *a,
               remote_domain_lookup_by_uuid_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_list_find_by_uuid(drv->list, (const guint8 *)a->uuid);

    if (!obj) {
        char uuid[37];
        g_autofree char *q = NULL;
        sv_uuid_format((const guint8 *)a->uuid, uuid);
        q = g_strdup_printf("'%s'", uuid);
        not_found(drv, error, "uuid", q);
        return FALSE;
    }
    sv_domain_obj_to_remote(obj, &ret->dom);
    return TRUE;
}

static gboolean
lookup_by_id(SvCall *call, remote_domain_lookup_by_id_args *a, remote_domain_lookup_by_id_ret *ret,
             GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_list_find_by_id(drv->list, a->id);

    if (!obj) {
        g_autofree char *q = g_strdup_printf("%d", a->id);
        not_found(drv, error, "id", q);
        return FALSE;
    }
    sv_domain_obj_to_remote(obj, &ret->dom);
    return TRUE;
}

/* ---------------------------------------------------------------- listing */

static gboolean
list_all(SvCall *call, remote_connect_list_all_domains_args *a,
         remote_connect_list_all_domains_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autoptr(GPtrArray) objs = NULL;

    if (!sv_domain_driver_check_flags(drv, a->flags, SV_CONNECT_LIST_ALL_DOMAINS_FLAGS_ALL,
                                      "ConnectListAllDomains", error))
        return FALSE;
    objs = sv_domain_list_filter(drv->list, a->flags);
    if (objs->len > REMOTE_DOMAIN_LIST_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "Too many domains '%u' for limit '%d'",
                     objs->len, REMOTE_DOMAIN_LIST_MAX);
        return FALSE;
    }
    ret->ret = objs->len;
    if (a->need_results) {
        ret->domains.domains_len = objs->len;
        ret->domains.domains_val = g_new0(remote_nonnull_domain, objs->len);
        sv_domain_objs_to_remote(objs, ret->domains.domains_val);
    }
    return TRUE;
}

static gboolean
num_of_domains(SvCall *call, remote_connect_num_of_domains_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);

    (void)error;
    ret->num = sv_domain_list_count_active(drv->list, TRUE);
    return TRUE;
}

static gboolean
num_of_defined(SvCall *call, remote_connect_num_of_defined_domains_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);

    (void)error;
    ret->num = sv_domain_list_count_active(drv->list, FALSE);
    return TRUE;
}

static gboolean
list_domains(SvCall *call, remote_connect_list_domains_args *a, remote_connect_list_domains_ret *ret,
             GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autoptr(GPtrArray) objs = NULL;
    guint n;

    if (a->maxids < 0 || a->maxids > REMOTE_DOMAIN_LIST_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "maxids > REMOTE_DOMAIN_LIST_MAX");
        return FALSE;
    }
    objs = sv_domain_list_filter(drv->list, SV_CONNECT_LIST_DOMAINS_ACTIVE);
    n = MIN(objs->len, (guint)a->maxids);
    ret->ids.ids_len = n;
    ret->ids.ids_val = g_new0(int, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        ret->ids.ids_val[i] = ((SvDomainObj *)objs->pdata[i])->id;
    return TRUE;
}

static gboolean
list_defined(SvCall *call, remote_connect_list_defined_domains_args *a,
             remote_connect_list_defined_domains_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autoptr(GPtrArray) objs = NULL;
    guint n;

    if (a->maxnames < 0 || a->maxnames > REMOTE_DOMAIN_LIST_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "maxnames > REMOTE_DOMAIN_LIST_MAX");
        return FALSE;
    }
    objs = sv_domain_list_filter(drv->list, SV_CONNECT_LIST_DOMAINS_INACTIVE);
    n = MIN(objs->len, (guint)a->maxnames);
    ret->names.names_len = n;
    ret->names.names_val = g_new0(char *, MAX(n, 1));
    for (guint i = 0; i < n; i++)
        ret->names.names_val[i] = g_strdup(((SvDomainObj *)objs->pdata[i])->def->name);
    return TRUE;
}

/* ---------------------------------------------------------------- define */

typedef struct {
    SvDomainDriver *drv;
    SvCall *call;
    SvDomainDef *def;
    gboolean transient_made_persistent;
    /* A define the daemon makes itself (sv_domain_driver_define_def): told instead of a
     * call. */
    SvDefineDoneFunc done;
    gpointer done_data;
} DefineJob;

static gboolean
check_conflicts(SvDomainDriver *drv, SvDomainDef *def, GError **error)
{
    SvDomainObj *by_name = sv_domain_list_find_by_name(drv->list, def->name);
    SvDomainObj *by_uuid = sv_domain_list_find_by_uuid(drv->list, def->uuid);
    const guint8 *pending = g_hash_table_lookup(drv->pending, def->name);
    char uuid[37];

    if (by_name && memcmp(by_name->def->uuid, def->uuid, 16) != 0) {
        sv_uuid_format(by_name->def->uuid, uuid);
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                     "domain '%s' already exists with uuid %s", def->name, uuid);
        return FALSE;
    }
    if (by_uuid && !g_str_equal(by_uuid->def->name, def->name)) {
        sv_uuid_format(by_uuid->def->uuid, uuid);
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                     "domain '%s' is already defined with uuid %s", by_uuid->def->name, uuid);
        return FALSE;
    }
    if (pending && memcmp(pending, def->uuid, 16) != 0) {
        sv_uuid_format(pending, uuid);
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                     "domain '%s' already exists with uuid %s", def->name, uuid);
        return FALSE;
    }
    if (by_name && by_name->busy) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                     "domain '%s' is already being removed", def->name);
        return FALSE;
    }
    /* A UUID being written under another name is as good as defined. */
    {
        GHashTableIter it;
        gpointer name, u;
        g_hash_table_iter_init(&it, drv->pending);
        while (g_hash_table_iter_next(&it, &name, &u)) {
            if (memcmp(u, def->uuid, 16) == 0 && !g_str_equal(name, def->name)) {
                sv_uuid_format(def->uuid, uuid);
                sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                             "domain '%s' is already defined with uuid %s", (char *)name, uuid);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* The definition on disk becomes the domain's persistent one: a new persistent domain, or
 * an existing one's (an active one's takes effect at its next start, as with libvirt);
 * the DEFINED event: UPDATED for an existing domain, or with by_persistence (a migration's,
 * as libvirt's qemuMigrationDstPersist) only for one that was persistent. Its object. */
static SvDomainObj *
define_apply(SvDomainDriver *drv, SvDomainDef *def, gboolean by_persistence)
{
    SvDomainObj *obj = sv_domain_list_find_by_uuid(drv->list, def->uuid);
    int detail = SV_DOMAIN_EVENT_DEFINED_ADDED;

    if (obj) {
        if (obj->persistent || !by_persistence)
            detail = SV_DOMAIN_EVENT_DEFINED_UPDATED;
        if (sv_domain_obj_is_active(obj)) {
            sv_domain_def_free(obj->new_def);
            obj->new_def = def;
        } else {
            sv_domain_obj_set_def(obj, def);
        }
        obj->persistent = TRUE;
        if (sv_domain_obj_is_active(obj) && obj->priv && drv->save_status)
            sv_domain_driver_save_status(drv, obj);
    } else {
        obj = sv_domain_list_add(drv->list, def, TRUE);
    }
    sv_domain_driver_emit(drv, obj, SV_DOMAIN_EVENT_DEFINED, detail);
    return obj;
}

static void
define_done(const GError *error, gpointer data)
{
    DefineJob *job = data;
    SvDomainDriver *drv = job->drv;
    SvDomainDef *def = job->def;
    SvDomainObj *obj;
    remote_domain_define_xml_ret ret = {0};

    g_hash_table_remove(drv->pending, def->name);
    if (error) {
        if (job->call)
            sv_call_fail(job->call, g_error_copy(error));
        else
            job->done(error, NULL, job->done_data);
        sv_domain_def_free(def);
        g_free(job);
        return;
    }
    obj = define_apply(drv, def, job->done != NULL);
    if (!job->call) {
        job->done(NULL, obj, job->done_data);
        g_free(job);
        return;
    }
    sv_domain_obj_to_remote(obj, &ret.dom);
    sv_call_reply(job->call, &ret);
    g_free(ret.dom.name);
    g_free(job);
}

/* A new definition parsed and checked, and its text to save; NULL with error set if refused. */
static DefineJob *
define_check(SvDomainDriver *drv, const char *xml, guint flags, char **text, GError **error)
{
    g_autoptr(SvDomainDef) def = NULL;
    DefineJob *job;

    def = sv_domain_def_parse(
        xml,
        SV_DOMAIN_PARSE_INACTIVE |
            ((flags & SV_DOMAIN_DEFINE_VALIDATE) ? SV_DOMAIN_PARSE_VALIDATE : 0),
        error);
    if (!def)
        return NULL;
    if (drv->check_def && !drv->check_def(drv, def, error))
        return NULL;
    if (!check_conflicts(drv, def, error))
        return NULL;
    /* Secrets (graphics passwords) are kept on disk, as libvirt keeps them. */
    *text = sv_domain_def_format(def, -1, SV_DOMAIN_FORMAT_INACTIVE | SV_DOMAIN_FORMAT_SECURE);
    job = g_new0(DefineJob, 1);
    job->drv = drv;
    job->def = g_steal_pointer(&def);
    return job;
}

/* Save it; the reply goes to `deferred` once it is on disk. */
static void
define_store(DefineJob *job, SvCall *deferred, const char *text)
{
    g_hash_table_insert(job->drv->pending, g_strdup(job->def->name),
                        g_memdup2(job->def->uuid, 16));
    job->call = deferred;
    sv_domain_store_save_async(job->drv->store, job->def->name, text, define_done, job);
}

/* A define that waits until the driver can check definitions (defs_ready). */
typedef struct {
    SvCall *call; /* deferred */
    SvDomainDriver *drv;
    char *xml;
    guint flags;
} DefineWait;

static void
define_when_ready(const GError *failed, gpointer data)
{
    DefineWait *w = data;
    g_autofree char *text = NULL;
    GError *error = NULL;
    DefineJob *job = NULL;

    if (failed)
        error = g_error_copy(failed);
    else
        job = define_check(w->drv, w->xml, w->flags, &text, &error);
    if (job)
        define_store(job, w->call, text);
    else
        sv_call_fail(w->call, error);
    g_free(w->xml);
    g_free(w);
}

static gboolean
define_common(SvCall *call, const char *xml, guint flags, const char *fn, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    g_autofree char *text = NULL;
    DefineJob *job;
    DefineWait *w;

    if (!sv_domain_driver_check_flags(drv, flags, SV_DOMAIN_DEFINE_VALIDATE, fn, error))
        return FALSE;
    if (drv->defs_ready && !drv->defs_ready(drv)) {
        w = g_new0(DefineWait, 1);
        w->call = sv_call_defer(call);
        w->drv = drv;
        w->xml = g_strdup(xml);
        w->flags = flags;
        drv->wait_defs_ready(drv, define_when_ready, w);
        return TRUE;
    }
    job = define_check(drv, xml, flags, &text, error);
    if (!job)
        return FALSE;
    define_store(job, sv_call_defer(call), text);
    return TRUE;
}

static gboolean
define_xml(SvCall *call, remote_domain_define_xml_args *a, remote_domain_define_xml_ret *ret,
           GError **error)
{
    (void)ret;
    return define_common(call, a->xml, 0, "DomainDefineXMLFlags", error);
}

static gboolean
define_xml_flags(SvCall *call, remote_domain_define_xml_flags_args *a,
                 remote_domain_define_xml_flags_ret *ret, GError **error)
{
    (void)ret;
    return define_common(call, a->xml, a->flags, "DomainDefineXMLFlags", error);
}

void
sv_domain_driver_define_def(SvDomainDriver *drv, SvDomainDef *def, SvDefineDoneFunc done,
                            gpointer data)
{
    DefineJob *job = g_new0(DefineJob, 1);
    g_autofree char *text =
        sv_domain_def_format(def, -1, SV_DOMAIN_FORMAT_INACTIVE | SV_DOMAIN_FORMAT_SECURE);

    job->drv = drv;
    job->def = def;
    job->done = done;
    job->done_data = data;
    define_store(job, NULL, text);
}

/* ---------------------------------------------------------------- undefine */

typedef struct {
    SvDomainDriver *drv;
    SvCall *call;
    guint8 uuid[16];
} UndefineJob;

static void
undefine_done(const GError *error, gpointer data)
{
    UndefineJob *job = data;
    SvDomainDriver *drv = job->drv;
    SvDomainObj *obj = sv_domain_list_find_by_uuid(drv->list, job->uuid);

    if (obj)
        obj->busy = FALSE;
    if (error) {
        sv_call_fail(job->call, g_error_copy(error));
    } else {
        if (obj) {
            obj->persistent = FALSE;
            obj->autostart = FALSE;
            g_clear_pointer(&obj->new_def, sv_domain_def_free);
            sv_domain_driver_emit(drv, obj, SV_DOMAIN_EVENT_UNDEFINED,
                                  SV_DOMAIN_EVENT_UNDEFINED_REMOVED);
            /* A running domain lives on as a transient one until it stops. */
            if (!sv_domain_obj_is_active(obj))
                sv_domain_list_remove(drv->list, obj);
            else if (obj->priv && drv->save_status)
                sv_domain_driver_save_status(drv, obj);
        }
        sv_call_reply(job->call, NULL);
    }
    g_free(job);
}

static gboolean
undefine_common(SvCall *call, const remote_nonnull_domain *dom, guint flags, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;
    UndefineJob *job;

    /* Managed save, snapshots, checkpoints and TPM state do not exist here, so every flag
     * asking to remove or keep them is satisfied; NVRAM is the driver's (undefine_extras). */
    if (!sv_domain_driver_check_flags(drv, flags, SV_DOMAIN_UNDEFINE_FLAGS_VALUES_ALL,
                                      "DomainUndefineFlags", error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, dom, error);
    if (!obj)
        return FALSE;
    if (!obj->persistent) {
        sv_error_set(error, drv->from, SV_ERR_OPERATION_INVALID,
                     "cannot undefine transient domain");
        return FALSE;
    }
    if (obj->busy) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                     "domain '%s' is already being removed", obj->def->name);
        return FALSE;
    }
    if (drv->undefine_extras && !drv->undefine_extras(drv, obj, flags, error))
        return FALSE;
    obj->busy = TRUE;
    job = g_new0(UndefineJob, 1);
    job->drv = drv;
    job->call = sv_call_defer(call);
    memcpy(job->uuid, obj->def->uuid, 16);
    sv_domain_store_remove_async(drv->store, obj->def->name, undefine_done, job);
    return TRUE;
}

static gboolean
undefine(SvCall *call, remote_domain_undefine_args *a, GError **error)
{
    return undefine_common(call, &a->dom, 0, error);
}

static gboolean
undefine_flags(SvCall *call, remote_domain_undefine_flags_args *a, GError **error)
{
    return undefine_common(call, &a->dom, a->flags, error);
}

/* ---------------------------------------------------------------- queries */

static gboolean
get_xml_desc(SvCall *call, remote_domain_get_xml_desc_args *a, remote_domain_get_xml_desc_ret *ret,
             GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;
    const SvDomainDef *def;
    gboolean inactive;

    /* SECURE 1, INACTIVE 2, UPDATE_CPU 4, MIGRATABLE 8. SECURE and MIGRATABLE on a
     * read-only connection never get here: the remote program's read-only check
     * (sv_remote_hooks) refuses them. */
    if (!sv_domain_driver_check_flags(drv, a->flags, SV_DOMAIN_XML_FLAGS_ALL, "DomainGetXMLDesc",
                                      error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!obj)
        return FALSE;
    inactive = (a->flags & SV_DOMAIN_XML_INACTIVE) || !sv_domain_obj_is_active(obj);
    def = (inactive && obj->new_def) ? obj->new_def : obj->def;
    ret->xml = sv_domain_def_format(def, inactive ? -1 : obj->id,
                                    (inactive ? SV_DOMAIN_FORMAT_INACTIVE : 0) |
                                        ((a->flags & SV_DOMAIN_XML_SECURE) ? SV_DOMAIN_FORMAT_SECURE
                                                                          : 0));
    return TRUE;
}

static gboolean
get_info(SvCall *call, remote_domain_get_info_args *a, remote_domain_get_info_ret *ret,
         GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_driver_lookup(drv, &a->dom, error);

    if (!obj)
        return FALSE;
    ret->state = obj->state;
    ret->maxMem = obj->def->memory_kib;
    ret->memory = obj->def->current_memory_kib;
    ret->nrVirtCpu = obj->def->vcpus_current; /* the online ones, as libvirt */
    ret->cpuTime = (sv_domain_obj_is_active(obj) && drv->cpu_time) ? drv->cpu_time(drv, obj) : 0;
    return TRUE;
}

static gboolean
get_state(SvCall *call, remote_domain_get_state_args *a, remote_domain_get_state_ret *ret,
          GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;

    if (!sv_domain_driver_check_flags(drv, a->flags, 0, "DomainGetState", error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!obj)
        return FALSE;
    ret->state = obj->state;
    ret->reason = obj->reason;
    return TRUE;
}

static gboolean
get_control_info(SvCall *call, remote_domain_get_control_info_args *a,
                 remote_domain_get_control_info_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;

    if (!sv_domain_driver_check_flags(drv, a->flags, 0, "DomainGetControlInfo", error))
        return FALSE;
    obj = sv_domain_driver_lookup(drv, &a->dom, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ret->state = SV_DOMAIN_CONTROL_OK; /* calls are never stuck behind a job here */
    ret->details = SV_DOMAIN_CONTROL_ERROR_REASON_NONE;
    ret->stateTime = 0;
    if (drv->control_info)
        drv->control_info(drv, obj, ret);
    return TRUE;
}

static gboolean
is_active(SvCall *call, remote_domain_is_active_args *a, remote_domain_is_active_ret *ret,
          GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_driver_lookup(drv, &a->dom, error);

    if (!obj)
        return FALSE;
    ret->active = sv_domain_obj_is_active(obj);
    return TRUE;
}

static gboolean
is_persistent(SvCall *call, remote_domain_is_persistent_args *a,
              remote_domain_is_persistent_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_driver_lookup(drv, &a->dom, error);

    if (!obj)
        return FALSE;
    ret->persistent = obj->persistent;
    return TRUE;
}

static gboolean
is_updated(SvCall *call, remote_domain_is_updated_args *a, remote_domain_is_updated_ret *ret,
           GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_driver_lookup(drv, &a->dom, error);

    if (!obj)
        return FALSE;
    ret->updated = 0; /* no live device changes exist to be out of date */
    return TRUE;
}

static gboolean
get_autostart(SvCall *call, remote_domain_get_autostart_args *a,
              remote_domain_get_autostart_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_driver_lookup(drv, &a->dom, error);

    if (!obj)
        return FALSE;
    ret->autostart = obj->autostart;
    return TRUE;
}

typedef struct {
    SvDomainDriver *drv;
    SvCall *call;
    guint8 uuid[16];
    gboolean on;
} AutostartJob;

static void
autostart_done(const GError *error, gpointer data)
{
    AutostartJob *job = data;
    SvDomainDriver *drv = job->drv;
    SvDomainObj *obj = sv_domain_list_find_by_uuid(drv->list, job->uuid);

    if (error) {
        sv_call_fail(job->call, g_error_copy(error));
    } else {
        if (obj)
            obj->autostart = job->on;
        sv_call_reply(job->call, NULL);
    }
    g_free(job);
}

static gboolean
set_autostart(SvCall *call, remote_domain_set_autostart_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_driver_lookup(drv, &a->dom, error);
    AutostartJob *job;

    if (!obj)
        return FALSE;
    if (!obj->persistent) {
        sv_error_set(error, drv->from, SV_ERR_OPERATION_INVALID,
                     "cannot set autostart for transient domain");
        return FALSE;
    }
    if (obj->busy) {
        /* Its removal is queued: a link written after it would outlive the definition. */
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED,
                     "domain '%s' is already being removed", obj->def->name);
        return FALSE;
    }
    if ((a->autostart != 0) == obj->autostart)
        return TRUE;
    job = g_new0(AutostartJob, 1);
    job->drv = drv;
    job->call = sv_call_defer(call);
    memcpy(job->uuid, obj->def->uuid, 16);
    job->on = a->autostart != 0;
    sv_domain_store_autostart_async(drv->store, obj->def->name, job->on, autostart_done, job);
    return TRUE;
}

static gboolean
get_os_type(SvCall *call, remote_domain_get_os_type_args *a, remote_domain_get_os_type_ret *ret,
            GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_driver_lookup(drv, &a->dom, error);

    if (!obj)
        return FALSE;
    ret->type = g_strdup(obj->def->os.type ? obj->def->os.type : "hvm");
    return TRUE;
}

static gboolean
get_max_memory(SvCall *call, remote_domain_get_max_memory_args *a,
               remote_domain_get_max_memory_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_driver_lookup(drv, &a->dom, error);

    if (!obj)
        return FALSE;
    ret->memory = obj->def->memory_kib;
    return TRUE;
}

static gboolean
get_max_vcpus(SvCall *call, remote_domain_get_max_vcpus_args *a,
              remote_domain_get_max_vcpus_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj = sv_domain_driver_lookup(drv, &a->dom, error);

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ret->num = obj->def->vcpus;
    return TRUE;
}

static gboolean
has_managed_save(SvCall *call, remote_domain_has_managed_save_image_args *a,
                 remote_domain_has_managed_save_image_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);

    if (!sv_domain_driver_check_flags(drv, a->flags, 0, "DomainHasManagedSaveImage", error) ||
        !sv_domain_driver_lookup(drv, &a->dom, error))
        return FALSE;
    ret->result = 0;
    return TRUE;
}

static gboolean
snapshot_num(SvCall *call, remote_domain_snapshot_num_args *a, remote_domain_snapshot_num_ret *ret,
             GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);

    if (!sv_domain_driver_check_flags(drv, a->flags, SV_DOMAIN_SNAPSHOT_LIST_FLAGS_ALL,
                                      "DomainSnapshotNum", error) ||
        !sv_domain_driver_lookup(drv, &a->dom, error))
        return FALSE;
    ret->num = 0;
    return TRUE;
}

static gboolean
get_messages(SvCall *call, remote_domain_get_messages_args *a, remote_domain_get_messages_ret *ret,
             GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;
    SvDomainRun *run;
    GPtrArray *msgs;

    if (!sv_domain_driver_check_flags(drv, a->flags, SV_DOMAIN_MESSAGE_TYPE_ALL, "DomainGetMessages",
                                      error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)))
        return FALSE;
    /* The run's taints (domain_run.h), in libvirt's order; no deprecation is recorded. */
    run = sv_domain_obj_is_active(obj) ? sv_domain_run_of(obj) : NULL;
    msgs = g_ptr_array_new();
    for (guint t = 0; run && t < SV_DOMAIN_TAINT_LAST; t++) {
        if ((run->taints & (1u << t)) &&
            (!a->flags || (a->flags & SV_DOMAIN_MESSAGE_TAINTING)))
            g_ptr_array_add(msgs, g_strdup_printf("tainted: %s", sv_domain_taint_message(t)));
    }
    ret->msgs.msgs_len = msgs->len;
    ret->msgs.msgs_val = (char **)g_ptr_array_free(msgs, FALSE);
    return TRUE;
}

static gboolean
get_security_label(SvCall *call, remote_domain_get_security_label_args *a,
                   remote_domain_get_security_label_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);

    if (!sv_domain_driver_lookup(drv, &a->dom, error))
        return FALSE;
    ret->label.label_len = 0; /* security driver "none" */
    ret->enforcing = 0;
    return TRUE;
}

gboolean
sv_kill_timeouts_load(SvConfFile *conf, SvKillTimeouts *t, GError **error)
{
    const struct {
        const char *key;
        guint *ms;
        guint def_s;
    } keys[] = {
        {"term_timeout", &t->term_timeout_ms, 10},
        {"kill_timeout", &t->kill_timeout_ms, 5},
        {"graceful_timeout", &t->graceful_timeout_ms, 15},
        {"start_timeout", &t->start_timeout_ms, 30},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        g_autofree char *ms_key = g_strconcat(keys[i].key, "_ms", NULL);
        guint s = keys[i].def_s;
        if (!sv_conf_file_get_uint(conf, keys[i].key, &s, error))
            return FALSE;
        *keys[i].ms = s * 1000;
        if (!sv_conf_file_get_uint(conf, ms_key, keys[i].ms, error))
            return FALSE;
    }
    return TRUE;
}

SvDomainDriver *
sv_domain_driver_of(SvCall *call)
{
    return sv_call_get_server_data(call);
}

SvDomainDriver *
sv_domain_driver_of_obj(const SvDomainObj *obj)
{
    SvDomainDriver *drv = sv_domain_obj_get_owner(obj);

    g_assert(drv); /* installed (sv_domain_driver_install) */
    return drv;
}

void
sv_domain_driver_install(SvDomainDriver *d, SvRemoteHandlers *h)
{
    if (d->server)
        sv_server_set_user_data(d->server, d);
    if (d->list)
        sv_domain_list_set_owner(d->list, d);
    if (d->connect)
        sv_domain_connect_install(h);
    if (!d->pending)
        d->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (!d->save_status && d->run_facts && d->run_facts->status_style)
        d->save_status = sv_domain_run_save_status;
    h->domain_lookup_by_name = lookup_by_name;
    h->domain_lookup_by_uuid = lookup_by_uuid;
    h->domain_lookup_by_id = lookup_by_id;
    h->connect_list_all_domains = list_all;
    h->connect_num_of_domains = num_of_domains;
    h->connect_num_of_defined_domains = num_of_defined;
    h->connect_list_domains = list_domains;
    h->connect_list_defined_domains = list_defined;
    h->domain_define_xml = define_xml;
    h->domain_define_xml_flags = define_xml_flags;
    h->domain_undefine = undefine;
    h->domain_undefine_flags = undefine_flags;
    h->domain_get_xml_desc = get_xml_desc;
    h->domain_get_info = get_info;
    h->domain_get_state = get_state;
    h->domain_get_control_info = get_control_info;
    h->domain_is_active = is_active;
    h->domain_is_persistent = is_persistent;
    h->domain_is_updated = is_updated;
    h->domain_get_autostart = get_autostart;
    h->domain_set_autostart = set_autostart;
    h->domain_get_os_type = get_os_type;
    h->domain_get_max_memory = get_max_memory;
    h->domain_get_max_vcpus = get_max_vcpus;
    h->domain_has_managed_save_image = has_managed_save;
    h->domain_snapshot_num = snapshot_num;
    h->domain_get_messages = get_messages;
    h->domain_get_security_label = get_security_label;
    /* issue 18, metadata and tuning (domain_metadata.c) */
    h->domain_set_metadata = sv_domain_metadata_set;
    h->domain_get_metadata = sv_domain_metadata_get;
}

void
sv_domain_driver_set_cause_call(SvDomainObj *obj, SvCall *call)
{
    SvClient *c = sv_call_get_client(call);
    uid_t uid = 0;
    pid_t pid = 0;

    sv_client_get_peer(c, &uid, NULL, &pid);
    sv_domain_obj_set_cause(obj, "client %" G_GUINT64_FORMAT " (uid %d, pid %d) %s",
                            sv_client_get_id(c), (int)uid, (int)pid,
                            sv_call_get_proc(call)->api);
}
