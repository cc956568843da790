/* storage_calls.c: the calls that change pools: define, undefine, create (transient), build,
 * start, destroy, delete and refresh, with libvirt 9.0's checks, errors and events. Host work
 * goes to a worker (storage_jobs.c); those calls are answered when it is done. */
#include <string.h>

#include "storage_backend.h"
#include "storage_priv.h"
#include "util/error.h"

static gboolean
check_flags(unsigned int flags, unsigned int supported, const char *fn, GError **error)
{
    return sv_check_flags(flags, supported, SV_FROM_STORAGE, fn, error);
}

/* A new definition from a client: parsed, its type served, no clash. */
static SvStoragePoolDef *
parse_new(StorageDriver *drv, const char *xml, StoragePool **ret_old, GError **error)
{
    g_autoptr(SvStoragePoolDef) def = sv_storage_pool_def_parse(xml, error);
    GError *refused = NULL;

    if (!def || !sv_storage_pool_def_check_backend(def, error))
        return NULL;
    *ret_old = storage_pools_check_add(drv->pools, def, &refused);
    if (refused) {
        g_propagate_error(error, refused);
        return NULL;
    }
    return g_steal_pointer(&def);
}

/* VIR_STORAGE_POOL_DEFINE_VALIDATE (checking the XML against libvirt's storagepool.rng) is
 * not served: refused as an unsupported flag rather than ignored. */
static gboolean
define_xml(SvCall *call, remote_storage_pool_define_xml_args *a,
           remote_storage_pool_define_xml_ret *ret, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    StoragePool *old = NULL, *p;
    SvStoragePoolDef *def;
    gboolean was_persistent;

    if (!check_flags(a->flags, 0, "storagePoolDefineXML", error) ||
        !(def = parse_new(drv, a->xml, &old, error)))
        return FALSE;
    /* a worker has a copy of the definition and its completion applies to this one */
    if (old && !old->active && !storage_pool_check_idle(old, error)) {
        sv_storage_pool_def_free(def);
        return FALSE;
    }
    was_persistent = old && old->persistent;
    p = storage_pools_add(drv->pools, old, def);
    p->persistent = TRUE;
    if (!storage_pools_save_config(drv->pools, p, error)) {
        if (!old)
            storage_pools_remove(drv->pools, p);
        else
            p->persistent = was_persistent;
        return FALSE;
    }
    storage_pool_emit(drv, p, SV_STORAGE_POOL_EVENT_DEFINED);
    storage_pool_make(&ret->pool, p);
    return TRUE;
}

static gboolean
undefine(SvCall *call, remote_storage_pool_undefine_args *a, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    StoragePool *p = storage_pool_of(drv, &a->pool, error);

    if (!p || !storage_pool_check_active(p, FALSE, error) || !storage_pool_check_idle(p, error))
        return FALSE;
    if (!p->persistent) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                     "storage pool '%s' is not persistent", p->def->name);
        return FALSE;
    }
    if (!storage_pools_delete_config(drv->pools, p, error))
        return FALSE;
    storage_pool_emit(drv, p, SV_STORAGE_POOL_EVENT_UNDEFINED);
    storage_pools_remove(drv->pools, p);
    return TRUE;
}

/* The build flags of a start (virStoragePoolCreateFlags); FALSE with libvirt's error for
 * both overwrite choices at once. */
static gboolean
start_build_flags(unsigned int flags, unsigned int *build, GError **error)
{
    unsigned int ow = SV_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE;
    unsigned int no = SV_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE;

    if ((flags & ow) && (flags & no)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INVALID_ARG,
                     "Flags '%s' and '%s' are mutually exclusive",
                     "VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE",
                     "VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE");
        return FALSE;
    }
    *build = (flags & ow ? SV_STORAGE_POOL_BUILD_OVERWRITE : 0) |
             (flags & no ? SV_STORAGE_POOL_BUILD_NO_OVERWRITE : 0);
    return TRUE;
}

static gboolean
create_xml(SvCall *call, remote_storage_pool_create_xml_args *a,
           remote_storage_pool_create_xml_ret *ret, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    StorageJobSpec spec = {.kind = STORAGE_JOB_START, .reply_pool = TRUE};
    StoragePool *old = NULL, *p;
    SvStoragePoolDef *def;

    (void)ret;
    if (!check_flags(a->flags, SV_STORAGE_POOL_CREATE_FLAGS_ALL, "storagePoolCreateXML",
                     error) ||
        !start_build_flags(a->flags, &spec.flags, error) ||
        !(def = parse_new(drv, a->xml, &old, error)))
        return FALSE;
    if (old) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                     old->active ? "storage pool '%s' is already active"
                                 : "pool '%s' is already defined", def->name);
        sv_storage_pool_def_free(def);
        return FALSE;
    }
    spec.build_first = a->flags != 0;
    p = storage_pools_add(drv->pools, NULL, def);
    storage_job_run(drv, p, &spec, sv_call_defer(call));
    return TRUE;
}

static gboolean
create(SvCall *call, remote_storage_pool_create_args *a, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    StorageJobSpec spec = {.kind = STORAGE_JOB_START};
    StoragePool *p;

    if (!check_flags(a->flags, SV_STORAGE_POOL_CREATE_FLAGS_ALL, "storagePoolCreate", error) ||
        !start_build_flags(a->flags, &spec.flags, error) ||
        !(p = storage_pool_of(drv, &a->pool, error)))
        return FALSE;
    if (p->active) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                     "storage pool '%s' is already active", p->def->name);
        return FALSE;
    }
    if (!storage_pool_check_idle(p, error))
        return FALSE;
    spec.build_first = a->flags != 0;
    storage_job_run(drv, p, &spec, sv_call_defer(call));
    return TRUE;
}

/* The build function libvirt's flag error names, by pool type (the file system one else). */
static const char *const build_function[SV_STORAGE_POOL_TYPE_LAST] = {
    [SV_STORAGE_POOL_LOGICAL] = "virStorageBackendLogicalBuildPool",
    [SV_STORAGE_POOL_DISK] = "virStorageBackendDiskBuildPool",
};

static gboolean
build(SvCall *call, remote_storage_pool_build_args *a, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    StorageJobSpec spec = {.kind = STORAGE_JOB_BUILD, .flags = a->flags};
    StoragePool *p = storage_pool_of(drv, &a->pool, error);

    if (!p || !storage_pool_check_active(p, FALSE, error) || !storage_pool_check_idle(p, error))
        return FALSE;
    if (!check_flags(a->flags, storage_backend_build_flags(p->def->type),
                     build_function[p->def->type] ? build_function[p->def->type]
                                                  : "virStorageBackendFileSystemBuild",
                     error))
        return FALSE;
    if ((a->flags & SV_STORAGE_POOL_BUILD_OVERWRITE) &&
        (a->flags & SV_STORAGE_POOL_BUILD_NO_OVERWRITE)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INVALID_ARG,
                     "Flags '%s' and '%s' are mutually exclusive",
                     "VIR_STORAGE_POOL_BUILD_OVERWRITE", "VIR_STORAGE_POOL_BUILD_NO_OVERWRITE");
        return FALSE;
    }
    storage_job_run(drv, p, &spec, sv_call_defer(call));
    return TRUE;
}

static gboolean
destroy(SvCall *call, remote_storage_pool_destroy_args *a, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    StorageJobSpec spec = {.kind = STORAGE_JOB_STOP};
    StoragePool *p = storage_pool_of(drv, &a->pool, error);

    if (!p || !storage_pool_check_active(p, TRUE, error) || !storage_pool_check_idle(p, error))
        return FALSE;
    storage_job_run(drv, p, &spec, sv_call_defer(call));
    return TRUE;
}

static gboolean
delete(SvCall *call, remote_storage_pool_delete_args *a, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    StorageJobSpec spec = {.kind = STORAGE_JOB_DELETE, .flags = a->flags};
    StoragePool *p = storage_pool_of(drv, &a->pool, error);

    if (!p || !storage_pool_check_active(p, FALSE, error) || !storage_pool_check_idle(p, error))
        return FALSE;
    storage_job_run(drv, p, &spec, sv_call_defer(call));
    return TRUE;
}

static gboolean
refresh(SvCall *call, remote_storage_pool_refresh_args *a, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    StorageJobSpec spec = {.kind = STORAGE_JOB_REFRESH};
    StoragePool *p;

    if (!check_flags(a->flags, 0, "storagePoolRefresh", error) ||
        !(p = storage_pool_of(drv, &a->pool, error)) ||
        !storage_pool_check_active(p, TRUE, error) || !storage_pool_check_idle(p, error))
        return FALSE;
    storage_job_run(drv, p, &spec, sv_call_defer(call));
    return TRUE;
}

void
storage_calls_install(SvRemoteHandlers *h)
{
    h->storage_pool_define_xml = define_xml;
    h->storage_pool_undefine = undefine;
    h->storage_pool_create_xml = create_xml;
    h->storage_pool_create = create;
    h->storage_pool_build = build;
    h->storage_pool_destroy = destroy;
    h->storage_pool_delete = delete;
    h->storage_pool_refresh = refresh;
}
