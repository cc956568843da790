/* domain_driver.c: shared domain procedures; definitions reach disk before the reply. */
#include "domain/domain_driver.h"

#include <string.h>

#include "conf/uuid.h"
#include "util/error.h"
#include "util/fileio.h"

static SvDomainDriver *drv;

static const char *
fn_name(const char *suffix)
{
    static char buf[128];

    g_snprintf(buf, sizeof(buf), "%s%s", drv->prefix, suffix);
    return buf;
}

static gboolean
check_flags(guint flags, guint supported, const char *suffix, GError **error)
{
    return sv_check_flags(flags, supported, drv->from, fn_name(suffix), error);
}

void
sv_domain_driver_emit(SvDomainDriver *d, SvDomainObj *obj, int event, int detail)
{
    remote_nonnull_domain dom;

    sv_domain_obj_to_remote(obj, &dom);
    sv_remote_emit_lifecycle(d->server, &dom, event, detail);
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

static SvDomainObj *
lookup(const remote_nonnull_domain *dom, GError **error)
{
    return sv_domain_list_lookup_handle(drv->list, dom, drv->from, error);
}

static void
not_found(GError **error, const char *what, const char *fmt_value)
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
    SvDomainObj *obj = sv_domain_list_find_by_name(drv->list, a->name);

    (void)call;
    if (!obj) {
        g_autofree char *q = g_strdup_printf("'%s'", a->name);
        not_found(error, "name", q);
        return FALSE;
    }
    sv_domain_obj_to_remote(obj, &ret->dom);
    return TRUE;
}

static gboolean
lookup_by_uuid(SvCall *call, remote_domain_lookup_by_uuid_args *a,
               remote_domain_lookup_by_uuid_ret *ret, GError **error)
{
    SvDomainObj *obj = sv_domain_list_find_by_uuid(drv->list, (const guint8 *)a->uuid);

    (void)call;
    if (!obj) {
        char uuid[37];
        g_autofree char *q = NULL;
        sv_uuid_format((const guint8 *)a->uuid, uuid);
        q = g_strdup_printf("'%s'", uuid);
        not_found(error, "uuid", q);
        return FALSE;
    }
    sv_domain_obj_to_remote(obj, &ret->dom);
    return TRUE;
}

static gboolean
lookup_by_id(SvCall *call, remote_domain_lookup_by_id_args *a, remote_domain_lookup_by_id_ret *ret,
             GError **error)
{
    SvDomainObj *obj = sv_domain_list_find_by_id(drv->list, a->id);

    (void)call;
    if (!obj) {
        g_autofree char *q = g_strdup_printf("%d", a->id);
        not_found(error, "id", q);
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
    g_autoptr(GPtrArray) objs = NULL;

    (void)call;
    if (!check_flags(a->flags, SV_CONNECT_LIST_ALL_DOMAINS_FLAGS_ALL, "ConnectListAllDomains",
                     error))
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
    (void)call;
    (void)error;
    ret->num = sv_domain_list_count_active(drv->list, TRUE);
    return TRUE;
}

static gboolean
num_of_defined(SvCall *call, remote_connect_num_of_defined_domains_ret *ret, GError **error)
{
    (void)call;
    (void)error;
    ret->num = sv_domain_list_count_active(drv->list, FALSE);
    return TRUE;
}

static gboolean
list_domains(SvCall *call, remote_connect_list_domains_args *a, remote_connect_list_domains_ret *ret,
             GError **error)
{
    g_autoptr(GPtrArray) objs = NULL;
    guint n;

    (void)call;
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
    g_autoptr(GPtrArray) objs = NULL;
    guint n;

    (void)call;
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
    SvCall *call;
    SvDomainDef *def;
    gboolean transient_made_persistent;
} DefineJob;

static gboolean
check_conflicts(SvDomainDef *def, GError **error)
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

static void
define_done(const GError *error, gpointer data)
{
    DefineJob *job = data;
    SvDomainDef *def = job->def;
    SvDomainObj *obj;
    int detail;
    remote_domain_define_xml_ret ret = {0};

    g_hash_table_remove(drv->pending, def->name);
    if (error) {
        sv_call_fail(job->call, g_error_copy(error));
        sv_domain_def_free(def);
        g_free(job);
        return;
    }
    obj = sv_domain_list_find_by_uuid(drv->list, def->uuid);
    if (obj) {
        detail = SV_DOMAIN_EVENT_DEFINED_UPDATED;
        if (sv_domain_obj_is_active(obj)) {
            /* Takes effect at the next start, as with libvirt. */
            sv_domain_def_free(obj->new_def);
            obj->new_def = def;
        } else {
            sv_domain_obj_set_def(obj, def);
        }
        obj->persistent = TRUE;
        if (sv_domain_obj_is_active(obj) && obj->priv && drv->save_status)
            sv_domain_driver_save_status(drv, obj);
    } else {
        detail = SV_DOMAIN_EVENT_DEFINED_ADDED;
        obj = sv_domain_list_add(drv->list, def, TRUE);
    }
    sv_domain_driver_emit(drv, obj, SV_DOMAIN_EVENT_DEFINED, detail);
    sv_domain_obj_to_remote(obj, &ret.dom);
    sv_call_reply(job->call, &ret);
    g_free(ret.dom.name);
    g_free(job);
}

static gboolean
define_common(SvCall *call, const char *xml, guint flags, const char *fn, GError **error)
{
    g_autoptr(SvDomainDef) def = NULL;
    g_autofree char *text = NULL;
    DefineJob *job;

    if (!check_flags(flags, SV_DOMAIN_DEFINE_VALIDATE, fn, error))
        return FALSE;
    def = sv_domain_def_parse(
        xml,
        SV_DOMAIN_PARSE_INACTIVE |
            ((flags & SV_DOMAIN_DEFINE_VALIDATE) ? SV_DOMAIN_PARSE_VALIDATE : 0),
        error);
    if (!def)
        return FALSE;
    if (drv->check_def && !drv->check_def(drv, def, error))
        return FALSE;
    if (!check_conflicts(def, error))
        return FALSE;
    text = sv_domain_def_format(def, -1, SV_DOMAIN_FORMAT_INACTIVE);
    g_hash_table_insert(drv->pending, g_strdup(def->name), g_memdup2(def->uuid, 16));
    job = g_new0(DefineJob, 1);
    job->call = sv_call_defer(call);
    job->def = g_steal_pointer(&def);
    sv_domain_store_save_async(drv->store, job->def->name, text, define_done, job);
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

/* ---------------------------------------------------------------- undefine */

typedef struct {
    SvCall *call;
    guint8 uuid[16];
} UndefineJob;

static void
undefine_done(const GError *error, gpointer data)
{
    UndefineJob *job = data;
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
    SvDomainObj *obj;
    UndefineJob *job;

    /* Managed save, snapshots, checkpoints, NVRAM and TPM state do not exist
     * here, so every flag asking to remove or keep them is satisfied. */
    if (!check_flags(flags, SV_DOMAIN_UNDEFINE_FLAGS_VALUES_ALL, "DomainUndefineFlags", error))
        return FALSE;
    obj = lookup(dom, error);
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
    obj->busy = TRUE;
    job = g_new0(UndefineJob, 1);
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
    SvDomainObj *obj;
    const SvDomainDef *def;
    gboolean inactive;

    /* SECURE 1, INACTIVE 2, UPDATE_CPU 4, MIGRATABLE 8. SECURE and MIGRATABLE on a
     * read-only connection never get here: the remote program's read-only check
     * (sv_remote_hooks) refuses them. */
    (void)call;
    if (!check_flags(a->flags, SV_DOMAIN_XML_FLAGS_ALL, "DomainGetXMLDesc", error))
        return FALSE;
    obj = lookup(&a->dom, error);
    if (!obj)
        return FALSE;
    inactive = (a->flags & SV_DOMAIN_XML_INACTIVE) || !sv_domain_obj_is_active(obj);
    def = (inactive && obj->new_def) ? obj->new_def : obj->def;
    ret->xml = sv_domain_def_format(def, inactive ? -1 : obj->id,
                                    inactive ? SV_DOMAIN_FORMAT_INACTIVE : 0);
    return TRUE;
}

static gboolean
get_info(SvCall *call, remote_domain_get_info_args *a, remote_domain_get_info_ret *ret,
         GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);

    (void)call;
    if (!obj)
        return FALSE;
    ret->state = obj->state;
    ret->maxMem = obj->def->memory_kib;
    ret->memory = obj->def->current_memory_kib;
    ret->nrVirtCpu = obj->def->vcpus;
    ret->cpuTime = (sv_domain_obj_is_active(obj) && drv->cpu_time) ? drv->cpu_time(drv, obj) : 0;
    return TRUE;
}

static gboolean
get_state(SvCall *call, remote_domain_get_state_args *a, remote_domain_get_state_ret *ret,
          GError **error)
{
    SvDomainObj *obj;

    (void)call;
    if (!check_flags(a->flags, 0, "DomainGetState", error))
        return FALSE;
    obj = lookup(&a->dom, error);
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
    SvDomainObj *obj;

    (void)call;
    if (!check_flags(a->flags, 0, "DomainGetControlInfo", error))
        return FALSE;
    obj = lookup(&a->dom, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ret->state = SV_DOMAIN_CONTROL_OK; /* calls are never stuck behind a job here */
    ret->details = SV_DOMAIN_CONTROL_ERROR_REASON_NONE;
    ret->stateTime = 0;
    return TRUE;
}

static gboolean
is_active(SvCall *call, remote_domain_is_active_args *a, remote_domain_is_active_ret *ret,
          GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);

    (void)call;
    if (!obj)
        return FALSE;
    ret->active = sv_domain_obj_is_active(obj);
    return TRUE;
}

static gboolean
is_persistent(SvCall *call, remote_domain_is_persistent_args *a,
              remote_domain_is_persistent_ret *ret, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);

    (void)call;
    if (!obj)
        return FALSE;
    ret->persistent = obj->persistent;
    return TRUE;
}

static gboolean
is_updated(SvCall *call, remote_domain_is_updated_args *a, remote_domain_is_updated_ret *ret,
           GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);

    (void)call;
    if (!obj)
        return FALSE;
    ret->updated = 0; /* no live device changes exist to be out of date */
    return TRUE;
}

static gboolean
get_autostart(SvCall *call, remote_domain_get_autostart_args *a,
              remote_domain_get_autostart_ret *ret, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);

    (void)call;
    if (!obj)
        return FALSE;
    ret->autostart = obj->autostart;
    return TRUE;
}

typedef struct {
    SvCall *call;
    guint8 uuid[16];
    gboolean on;
} AutostartJob;

static void
autostart_done(const GError *error, gpointer data)
{
    AutostartJob *job = data;
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
    SvDomainObj *obj = lookup(&a->dom, error);
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
    SvDomainObj *obj = lookup(&a->dom, error);

    (void)call;
    if (!obj)
        return FALSE;
    ret->type = g_strdup(obj->def->os.type ? obj->def->os.type : "hvm");
    return TRUE;
}

static gboolean
get_max_memory(SvCall *call, remote_domain_get_max_memory_args *a,
               remote_domain_get_max_memory_ret *ret, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);

    (void)call;
    if (!obj)
        return FALSE;
    ret->memory = obj->def->memory_kib;
    return TRUE;
}

static gboolean
get_max_vcpus(SvCall *call, remote_domain_get_max_vcpus_args *a,
              remote_domain_get_max_vcpus_ret *ret, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);

    (void)call;
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ret->num = obj->def->vcpus;
    return TRUE;
}

static gboolean
has_managed_save(SvCall *call, remote_domain_has_managed_save_image_args *a,
                 remote_domain_has_managed_save_image_ret *ret, GError **error)
{
    (void)call;
    if (!check_flags(a->flags, 0, "DomainHasManagedSaveImage", error) || !lookup(&a->dom, error))
        return FALSE;
    ret->result = 0;
    return TRUE;
}

static gboolean
snapshot_num(SvCall *call, remote_domain_snapshot_num_args *a, remote_domain_snapshot_num_ret *ret,
             GError **error)
{
    (void)call;
    if (!check_flags(a->flags, SV_DOMAIN_SNAPSHOT_LIST_FLAGS_ALL, "DomainSnapshotNum", error) ||
        !lookup(&a->dom, error))
        return FALSE;
    ret->num = 0;
    return TRUE;
}

static gboolean
get_messages(SvCall *call, remote_domain_get_messages_args *a, remote_domain_get_messages_ret *ret,
             GError **error)
{
    (void)call;
    if (!check_flags(a->flags, SV_DOMAIN_MESSAGE_TYPE_ALL, "DomainGetMessages", error) ||
        !lookup(&a->dom, error))
        return FALSE;
    ret->msgs.msgs_len = 0;
    return TRUE;
}

static gboolean
get_security_label(SvCall *call, remote_domain_get_security_label_args *a,
                   remote_domain_get_security_label_ret *ret, GError **error)
{
    (void)call;
    if (!lookup(&a->dom, error))
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

void
sv_domain_driver_install(SvDomainDriver *d, SvRemoteHandlers *h)
{
    drv = d;
    if (!d->pending)
        d->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
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

/* CREATE_XML's first half: parse xml, let the driver check it, and put it in place: a
 * new transient domain, or the inactive one of the same name and UUID, which then runs
 * with this definition (its own returns when it stops). */
static SvDomainObj *
create_xml_begin(const char *xml, gboolean validate, GError **error)
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
create_xml_abort(const guint8 uuid[16])
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
} SavedReply;

static void
saved_reply_done(const GError *error, gpointer data)
{
    SavedReply *r = data;

    if (error)
        g_warning("status file not written before replying: %s", error->message);
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

/* The driver's start and stop functions (one driver per process). */
static SvDomainLifecycle lifecycle;

static gboolean
domain_create(SvCall *call, remote_domain_create_args *a, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);

    return obj && lifecycle.start(obj, call, 0, error);
}

static gboolean
domain_create_with_flags(SvCall *call, remote_domain_create_with_flags_args *a,
                         remote_domain_create_with_flags_ret *ret, GError **error)
{
    SvDomainObj *obj;

    (void)ret; /* the reply is sent when the guest runs */
    if (!check_flags(a->flags, lifecycle.with_flags, lifecycle.with_flags_suffix, error))
        return FALSE;
    obj = lookup(&a->dom, error);
    return obj && lifecycle.start(obj, call, a->flags, error);
}

static gboolean
domain_create_xml(SvCall *call, remote_domain_create_xml_args *a, remote_domain_create_xml_ret *ret,
                  GError **error)
{
    SvDomainObj *obj;
    guint8 uuid[16];

    (void)ret;
    if (!check_flags(a->flags, lifecycle.xml_flags, lifecycle.xml_suffix, error))
        return FALSE;
    obj = create_xml_begin(a->xml_desc, (a->flags & SV_DOMAIN_START_VALIDATE) != 0, error);
    if (!obj)
        return FALSE;
    memcpy(uuid, obj->def->uuid, 16);
    if (!lifecycle.start(obj, call, a->flags, error)) {
        create_xml_abort(uuid);
        return FALSE;
    }
    return TRUE;
}

static gboolean
domain_destroy(SvCall *call, remote_domain_destroy_args *a, GError **error)
{
    return lifecycle.destroy(call, &a->dom, 0, error);
}

static gboolean
domain_destroy_flags(SvCall *call, remote_domain_destroy_flags_args *a, GError **error)
{
    return lifecycle.destroy(call, &a->dom, a->flags, error);
}

static gboolean
domain_shutdown(SvCall *call, remote_domain_shutdown_args *a, GError **error)
{
    return lifecycle.shutdown(call, &a->dom, 0, FALSE, error);
}

static gboolean
domain_shutdown_flags(SvCall *call, remote_domain_shutdown_flags_args *a, GError **error)
{
    return lifecycle.shutdown(call, &a->dom, a->flags, FALSE, error);
}

static gboolean
domain_reboot(SvCall *call, remote_domain_reboot_args *a, GError **error)
{
    return lifecycle.shutdown(call, &a->dom, a->flags, TRUE, error);
}

void
sv_domain_driver_install_lifecycle(SvDomainDriver *d, const SvDomainLifecycle *lc,
                                   SvRemoteHandlers *h)
{
    g_assert(d == drv && lc->start && lc->destroy && lc->shutdown);
    lifecycle = *lc;
    h->domain_create = domain_create;
    h->domain_create_with_flags = domain_create_with_flags;
    h->domain_create_xml = domain_create_xml;
    h->domain_destroy = domain_destroy;
    h->domain_destroy_flags = domain_destroy_flags;
    h->domain_shutdown = domain_shutdown;
    h->domain_shutdown_flags = domain_shutdown_flags;
    h->domain_reboot = domain_reboot;
}

void
sv_domain_driver_autostart(SvDomainDriver *d, const char *run_dir)
{
    g_autofree char *marker = g_build_filename(run_dir, "autostarted", NULL);
    g_autoptr(GPtrArray) objs = NULL;

    g_assert(d == drv && lifecycle.start);
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
        if (!lifecycle.start(obj, NULL, 0, &error))
            g_warning("autostart of domain %s failed: %s", obj->def->name, error->message);
    }
}
