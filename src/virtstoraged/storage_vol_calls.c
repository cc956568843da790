/* storage_vol_calls.c: the storage volume procedures of storage:///system, with libvirt 9.0's
 * checks and errors (storage_driver.c): lists and lookups answered from the pools' volume
 * lists; info and XML after a re-read of the volume on a worker (libvirt's refreshVol);
 * create, clone, delete, wipe and resize on workers (storage_vol.c). Volumes are created in
 * dir and fs pools, (partitions) in disk pools and (LVs) in logical pools. */
#include <string.h>

#include "storage_vol.h"
#include "util/error.h"

static gboolean
check_flags(unsigned int flags, unsigned int supported, const char *fn, GError **error)
{
    return sv_check_flags(flags, supported, SV_FROM_STORAGE, fn, error);
}

/* The active pool a call names (by UUID). */
static StoragePool *
active_pool(SvCall *call, const remote_nonnull_storage_pool *p, GError **error)
{
    StoragePool *pool = storage_pool_of(storage_driver_of(call), p, error);

    if (!pool || !storage_pool_check_active(pool, TRUE, error))
        return NULL;
    return pool;
}

/* ---------------------------------------------------------------- lists */

static gboolean
num_of_volumes(SvCall *call, remote_storage_pool_num_of_volumes_args *a,
               remote_storage_pool_num_of_volumes_ret *ret, GError **error)
{
    StoragePool *pool = active_pool(call, &a->pool, error);

    if (!pool)
        return FALSE;
    ret->num = (int)pool->vols->len;
    return TRUE;
}

static gboolean
list_volumes(SvCall *call, remote_storage_pool_list_volumes_args *a,
             remote_storage_pool_list_volumes_ret *ret, GError **error)
{
    StoragePool *pool;
    guint n = 0;

    if (a->maxnames > REMOTE_STORAGE_VOL_LIST_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "maxnames > REMOTE_STORAGE_VOL_LIST_MAX");
        return FALSE;
    }
    if (!(pool = active_pool(call, &a->pool, error)))
        return FALSE;
    ret->names.names_val = g_new0(char *, pool->vols->len + 1);
    for (guint i = 0; i < pool->vols->len && (int)n < a->maxnames; i++)
        ret->names.names_val[n++] = g_strdup(((StorageVol *)pool->vols->pdata[i])->name);
    ret->names.names_len = n;
    return TRUE;
}

static gboolean
list_all_volumes(SvCall *call, remote_storage_pool_list_all_volumes_args *a,
                 remote_storage_pool_list_all_volumes_ret *ret, GError **error)
{
    StoragePool *pool;

    if (!check_flags(a->flags, 0, "storagePoolListAllVolumes", error) ||
        !(pool = active_pool(call, &a->pool, error)))
        return FALSE;
    if (a->need_results) {
        ret->vols.vols_val = g_new0(remote_nonnull_storage_vol, pool->vols->len + 1);
        for (guint i = 0; i < pool->vols->len; i++)
            storage_vol_make(&ret->vols.vols_val[i], pool, pool->vols->pdata[i]);
        ret->vols.vols_len = pool->vols->len;
    }
    ret->ret = pool->vols->len;
    return TRUE;
}

/* ---------------------------------------------------------------- lookups */

static gboolean
lookup_by_name(SvCall *call, remote_storage_vol_lookup_by_name_args *a,
               remote_storage_vol_lookup_by_name_ret *ret, GError **error)
{
    StoragePool *pool = active_pool(call, &a->pool, error);
    StorageVol *vol;

    if (!pool || !(vol = storage_vol_find(pool, a->name, error)))
        return FALSE;
    storage_vol_make(&ret->vol, pool, vol);
    return TRUE;
}

/* The first volume of an active pool whose key (by_path FALSE) or path is `s`. */
static StorageVol *
find_any(StorageDriver *drv, const char *s, gboolean by_path, StoragePool **ret_pool)
{
    GPtrArray *all = storage_pools_list(drv->pools);

    for (guint i = 0; i < all->len; i++) {
        StoragePool *p = all->pdata[i];
        for (guint k = 0; p->active && k < p->vols->len; k++) {
            StorageVol *vol = p->vols->pdata[k];
            const char *key = storage_vol_def(vol)->key;
            if (g_strcmp0(by_path ? vol->path : key, s) == 0) {
                *ret_pool = p;
                return vol;
            }
        }
    }
    return NULL;
}

static gboolean
lookup_by_key(SvCall *call, remote_storage_vol_lookup_by_key_args *a,
              remote_storage_vol_lookup_by_key_ret *ret, GError **error)
{
    StoragePool *pool = NULL;
    StorageVol *vol = find_any(storage_driver_of(call), a->key, FALSE, &pool);

    if (!vol) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_STORAGE_VOL,
                     "no storage vol with matching key %s", a->key);
        return FALSE;
    }
    storage_vol_make(&ret->vol, pool, vol);
    return TRUE;
}

/* libvirt's virFileSanitizePath: repeated slashes collapsed, a trailing one dropped. */
static char *
sanitize_path(const char *path)
{
    GString *s = g_string_new(NULL);

    for (const char *c = path; *c; c++) {
        if (*c == '/' && s->len && s->str[s->len - 1] == '/')
            continue;
        g_string_append_c(s, *c);
    }
    if (s->len > 1 && s->str[s->len - 1] == '/')
        g_string_truncate(s, s->len - 1);
    return g_string_free(s, FALSE);
}

static gboolean
lookup_by_path(SvCall *call, remote_storage_vol_lookup_by_path_args *a,
               remote_storage_vol_lookup_by_path_ret *ret, GError **error)
{
    g_autofree char *clean = sanitize_path(a->path);
    StoragePool *pool = NULL;
    StorageVol *vol = find_any(storage_driver_of(call), clean, TRUE, &pool);

    if (!vol) {
        if (g_str_equal(clean, a->path))
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_STORAGE_VOL,
                         "no storage vol with matching path '%s'", a->path);
        else
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_STORAGE_VOL,
                         "no storage vol with matching path '%s' (%s)", a->path, clean);
        return FALSE;
    }
    storage_vol_make(&ret->vol, pool, vol);
    return TRUE;
}

static gboolean
pool_lookup_by_volume(SvCall *call, remote_storage_pool_lookup_by_volume_args *a,
                      remote_storage_pool_lookup_by_volume_ret *ret, GError **error)
{
    StoragePool *pool = storage_pools_find_name(storage_driver_of(call)->pools, a->vol.pool,
                                                error);

    if (!pool)
        return FALSE;
    storage_pool_make(&ret->pool, pool);
    return TRUE;
}

static gboolean
get_path(SvCall *call, remote_storage_vol_get_path_args *a,
         remote_storage_vol_get_path_ret *ret, GError **error)
{
    StoragePool *pool;
    StorageVol *vol = storage_vol_of(storage_driver_of(call), &a->vol, &pool, error);

    if (!vol)
        return FALSE;
    ret->name = g_strdup(vol->path);
    return TRUE;
}

/* ---------------------------------------------------------------- info and XML */

static void
reply_info(SvCall *call, StoragePool *pool, StorageVol *vol, unsigned int flags)
{
    SvStorageVolDef *def = storage_vol_def(vol);
    remote_storage_vol_get_info_flags_ret r = {
        .type = (char)def->type,
        .capacity = def->capacity,
        .allocation = (flags & SV_STORAGE_VOL_GET_PHYSICAL) && def->physical ? def->physical
                                                                           : def->allocation,
    };

    (void)pool;
    sv_call_reply(call, &r);
}

static void
reply_xml(SvCall *call, StoragePool *pool, StorageVol *vol, unsigned int flags)
{
    remote_storage_vol_get_xml_desc_ret r;

    (void)flags;
    r.xml = sv_storage_vol_def_format(storage_vol_def(vol), storage_vol_formats(pool->def->type));
    sv_call_reply(call, &r);
    g_free(r.xml);
}

/* Re-read the volume on a worker (a file pool's) and answer with fn; other pools' volumes
 * are what their refresh found. */
static gboolean
read_then(SvCall *call, const remote_nonnull_storage_vol *v, unsigned int flags,
          StorageVolReadReply fn, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    StorageVolJobSpec spec = {.kind = STORAGE_VOL_JOB_READ, .flags = flags, .read_reply = fn};
    StoragePool *pool;
    StorageVol *vol = storage_vol_of(drv, v, &pool, error);

    if (!vol)
        return FALSE;
    if (storage_vol_formats(pool->def->type) != SV_VOL_FORMATS_FILE || vol->building) {
        fn(sv_call_defer(call), pool, vol, flags);
        return TRUE;
    }
    storage_vol_job_run(drv, pool, vol, NULL, NULL, &spec, sv_call_defer(call));
    return TRUE;
}

static gboolean
get_info(SvCall *call, remote_storage_vol_get_info_args *a, remote_storage_vol_get_info_ret *ret,
         GError **error)
{
    (void)ret;
    return read_then(call, &a->vol, 0, reply_info, error);
}

static gboolean
get_info_flags(SvCall *call, remote_storage_vol_get_info_flags_args *a,
               remote_storage_vol_get_info_flags_ret *ret, GError **error)
{
    (void)ret;
    if (!check_flags(a->flags, SV_STORAGE_VOL_GET_PHYSICAL, "storageVolGetInfoFlags", error))
        return FALSE;
    return read_then(call, &a->vol, a->flags, reply_info, error);
}

static gboolean
get_xml_desc(SvCall *call, remote_storage_vol_get_xml_desc_args *a,
             remote_storage_vol_get_xml_desc_ret *ret, GError **error)
{
    (void)ret;
    if (!check_flags(a->flags, 0, "storageVolGetXMLDesc", error))
        return FALSE;
    return read_then(call, &a->vol, 0, reply_xml, error);
}

/* ---------------------------------------------------------------- create */

/* What a pool type's backend does to volumes (libvirt's backend tables): */
typedef enum {
    VOL_OP_CREATE,
    VOL_OP_DELETE,
    VOL_OP_WIPE,
    VOL_OP_RESIZE,
} VolOp;

/* libvirt's NO_SUPPORT for a step the pool type's backend has no function for: dir and fs
 * pools do everything, disk and logical pools all but resize. */
static gboolean
check_backend(const StoragePool *pool, VolOp op, const char *what, GError **error)
{
    int type = pool->def->type;

    if (storage_vol_formats(type) == SV_VOL_FORMATS_FILE ||
        ((type == SV_STORAGE_POOL_DISK || type == SV_STORAGE_POOL_LOGICAL) &&
         op != VOL_OP_RESIZE))
        return TRUE;
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_SUPPORT, "storage pool does not support %s",
                 what);
    return FALSE;
}

/* A disk pool's new partition (a block volume whose path parted gives: the name must be that
 * path's, checked once it is made) or a logical pool's new LV (its name is lvcreate's to
 * judge, as libvirt leaves it: LVM takes none with a '/'). */
static gboolean
block_target(SvStorageVolDef *def, const char *pool_path)
{
    def->type = SV_VOL_TYPE_BLOCK;
    g_free(def->target.path);
    def->target.path = g_build_filename(pool_path, def->name, NULL);
    return TRUE;
}

/* The new volume's definition for pool: parsed, not there yet, its target in the pool's
 * directory (no '/' in its name, nothing at its path). */
static SvStorageVolDef *
parse_new_vol(StoragePool *pool, const char *xml, guint parse_flags, GError **error)
{
    g_autoptr(SvStorageVolDef) def = sv_storage_vol_def_parse(
        xml, storage_vol_formats(pool->def->type), parse_flags, error);

    if (!def)
        return NULL;
    if (storage_vol_find(pool, def->name, NULL)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_STORAGE_VOL_EXIST, "'%s'", def->name);
        return NULL;
    }
    g_clear_pointer(&def->key, g_free); /* creation gives the canonical key */
    if (pool->def->type == SV_STORAGE_POOL_DISK || pool->def->type == SV_STORAGE_POOL_LOGICAL)
        block_target(def, pool->def->target_path);
    else if (!sv_storage_vol_def_local_target(def, pool->def->target_path, error))
        return NULL;
    return g_steal_pointer(&def);
}

/* The new volume in the pool's list, building, and its job. */
static void
start_create(SvCall *call, StoragePool *pool, SvStorageVolDef *def, StoragePool *input_pool,
             StorageVol *input, unsigned int flags)
{
    StorageVol *vol = g_new0(StorageVol, 1);
    StorageVolJobSpec spec = {.kind = STORAGE_VOL_JOB_CREATE, .flags = flags, .def = def};

    vol->name = g_strdup(def->name);
    vol->path = g_strdup(def->target.path);
    vol->type = def->type;
    vol->capacity = def->capacity;
    vol->allocation = def->allocation;
    vol->building = TRUE;
    g_ptr_array_add(pool->vols, vol);
    storage_vol_job_run(storage_driver_of(call), pool, vol, input_pool, input, &spec,
                        sv_call_defer(call));
}

#define CREATE_FLAGS SV_STORAGE_VOL_CREATE_PREALLOC_METADATA

static gboolean
create_xml(SvCall *call, remote_storage_vol_create_xml_args *a,
           remote_storage_vol_create_xml_ret *ret, GError **error)
{
    StoragePool *pool;
    SvStorageVolDef *def;

    (void)ret;
    if (!check_flags(a->flags, CREATE_FLAGS, "storageVolCreateXML", error) ||
        !(pool = active_pool(call, &a->pool, error)) ||
        !check_backend(pool, VOL_OP_CREATE, "volume creation", error) ||
        !(def = parse_new_vol(pool, a->xml, SV_VOL_PARSE_OPT_CAPACITY, error)))
        return FALSE;
    start_create(call, pool, def, NULL, NULL, a->flags);
    return TRUE;
}

static gboolean
create_xml_from(SvCall *call, remote_storage_vol_create_xml_from_args *a,
                remote_storage_vol_create_xml_from_ret *ret, GError **error)
{
    StorageDriver *drv = storage_driver_of(call);
    StoragePool *pool, *in_pool;
    StorageVol *input;
    SvStorageVolDef *def;

    (void)ret;
    if (!check_flags(a->flags, CREATE_FLAGS, "storageVolCreateXMLFrom", error) ||
        !(pool = active_pool(call, &a->pool, error)) ||
        !(input = storage_vol_of(drv, &a->clonevol, &in_pool, error)) ||
        !check_backend(pool, VOL_OP_CREATE, "volume creation from an existing volume", error) ||
        !(def = parse_new_vol(pool, a->xml, SV_VOL_PARSE_NO_CAPACITY, error)))
        return FALSE;
    /* the original's capacity when the new one is smaller or not given */
    if (def->capacity < input->capacity)
        def->capacity = input->capacity;
    if (!storage_vol_check_idle(input, FALSE, error)) {
        sv_storage_vol_def_free(def);
        return FALSE;
    }
    start_create(call, pool, def, in_pool, input, a->flags);
    return TRUE;
}

/* ---------------------------------------------------------------- delete, wipe, resize */

/* The volume a changing call names, free of other work, in a pool that changes volumes. */
static StorageVol *
vol_for_change(SvCall *call, const remote_nonnull_storage_vol *v, VolOp op, const char *what,
               StoragePool **ret_pool, GError **error)
{
    StorageVol *vol = storage_vol_of(storage_driver_of(call), v, ret_pool, error);

    if (!vol || !storage_vol_check_idle(vol, TRUE, error) ||
        !check_backend(*ret_pool, op, what, error))
        return NULL;
    return vol;
}

/* The backend function whose flag check libvirt's error names. */
static const char *
delete_fn(int pool_type)
{
    switch (pool_type) {
    case SV_STORAGE_POOL_DISK:
        return "virStorageBackendDiskDeleteVol";
    case SV_STORAGE_POOL_LOGICAL:
        return "virStorageBackendLogicalDeleteVol";
    default:
        return "virStorageBackendVolDeleteLocal";
    }
}

static gboolean
delete(SvCall *call, remote_storage_vol_delete_args *a, GError **error)
{
    StorageVolJobSpec spec = {.kind = STORAGE_VOL_JOB_DELETE};
    StoragePool *pool;
    StorageVol *vol;

    /* libvirt's driver passes every flag on; the dir and fs backends' delete takes none */
    if (!(vol = vol_for_change(call, &a->vol, VOL_OP_DELETE, "vol deletion", &pool, error)) ||
        !check_flags(a->flags, 0, delete_fn(pool->def->type), error))
        return FALSE;
    storage_vol_job_run(storage_driver_of(call), pool, vol, NULL, NULL, &spec,
                        sv_call_defer(call));
    return TRUE;
}

/* libvirt's names of virStorageVolWipeAlgorithm, in its order. */
static const char *const wipe_algorithms[] = {
    "zero", "nnsa", "dod", "bsi", "gutmann", "schneier", "pfitzner7", "pfitzner33", "random",
    "trim",
};
G_STATIC_ASSERT(G_N_ELEMENTS(wipe_algorithms) == SV_STORAGE_VOL_WIPE_ALGORITHM_LAST);

static gboolean
wipe_pattern(SvCall *call, const remote_nonnull_storage_vol *v, unsigned int algorithm,
             unsigned int flags, GError **error)
{
    StorageVolJobSpec spec = {.kind = STORAGE_VOL_JOB_WIPE};
    StoragePool *pool;
    StorageVol *vol;

    if (!check_flags(flags, 0, "storageVolWipePattern", error))
        return FALSE;
    if (algorithm >= SV_STORAGE_VOL_WIPE_ALGORITHM_LAST) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INVALID_ARG,
                     "wiping algorithm %d not supported", (int)algorithm);
        return FALSE;
    }
    if (!(vol = vol_for_change(call, v, VOL_OP_WIPE, "volume wiping", &pool, error)))
        return FALSE;
    if (vol->part_type == STORAGE_PART_EXTENDED) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_SUPPORT,
                     "cannot wipe extended partition '%s'", vol->path);
        return FALSE;
    }
    spec.algorithm = wipe_algorithms[algorithm];
    storage_vol_job_run(storage_driver_of(call), pool, vol, NULL, NULL, &spec,
                        sv_call_defer(call));
    return TRUE;
}

static gboolean
wipe(SvCall *call, remote_storage_vol_wipe_args *a, GError **error)
{
    return wipe_pattern(call, &a->vol, SV_STORAGE_VOL_WIPE_ALG_ZERO, a->flags, error);
}

static gboolean
wipe_pattern_call(SvCall *call, remote_storage_vol_wipe_pattern_args *a, GError **error)
{
    return wipe_pattern(call, &a->vol, a->algorithm, a->flags, error);
}

/* libvirt 9.0's storageVolResize checks: the new capacity from DELTA and SHRINK, never below
 * the allocation, below the capacity only with SHRINK, ALLOCATE within the pool's space. */
static gboolean
resize_target(const StoragePool *pool, const SvStorageVolDef *def, guint64 capacity,
              unsigned int flags, StorageVolJobSpec *spec, GError **error)
{
    guint64 abs = capacity;

    if (flags & SV_STORAGE_VOL_RESIZE_DELTA)
        abs = (flags & SV_STORAGE_VOL_RESIZE_SHRINK) ? def->capacity - MIN(capacity, def->capacity)
                                                     : def->capacity + capacity;
    if (abs < def->allocation) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INVALID_ARG, "%s",
                     "can't shrink capacity below existing allocation");
        return FALSE;
    }
    if (abs < def->capacity && !(flags & SV_STORAGE_VOL_RESIZE_SHRINK)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INVALID_ARG, "%s",
                     "Can't shrink capacity below current capacity unless shrink flag "
                     "explicitly specified");
        return FALSE;
    }
    if (flags & SV_STORAGE_VOL_RESIZE_ALLOCATE)
        spec->delta = abs - def->allocation;
    if (spec->delta > pool->def->available) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_FAILED, "%s",
                     "Not enough space left in storage pool");
        return FALSE;
    }
    spec->capacity = abs;
    return TRUE;
}

static gboolean
resize(SvCall *call, remote_storage_vol_resize_args *a, GError **error)
{
    StorageVolJobSpec spec = {.kind = STORAGE_VOL_JOB_RESIZE};
    StoragePool *pool;
    StorageVol *vol;

    if (!check_flags(a->flags, SV_STORAGE_VOL_RESIZE_FLAGS_ALL, "storageVolResize", error) ||
        !(vol = storage_vol_of(storage_driver_of(call), &a->vol, &pool, error)) ||
        !storage_vol_check_idle(vol, TRUE, error) ||
        !resize_target(pool, storage_vol_def(vol), a->capacity, a->flags, &spec, error) ||
        !check_backend(pool, VOL_OP_RESIZE, "changing of volume capacity", error))
        return FALSE;
    spec.flags = a->flags & ~SV_STORAGE_VOL_RESIZE_DELTA;
    storage_vol_job_run(storage_driver_of(call), pool, vol, NULL, NULL, &spec,
                        sv_call_defer(call));
    return TRUE;
}

void
storage_vol_calls_install(SvRemoteHandlers *h)
{
    h->storage_pool_num_of_volumes = num_of_volumes;
    h->storage_pool_list_volumes = list_volumes;
    h->storage_pool_list_all_volumes = list_all_volumes;
    h->storage_pool_lookup_by_volume = pool_lookup_by_volume;
    h->storage_vol_lookup_by_name = lookup_by_name;
    h->storage_vol_lookup_by_key = lookup_by_key;
    h->storage_vol_lookup_by_path = lookup_by_path;
    h->storage_vol_get_path = get_path;
    h->storage_vol_get_info = get_info;
    h->storage_vol_get_info_flags = get_info_flags;
    h->storage_vol_get_xml_desc = get_xml_desc;
    h->storage_vol_create_xml = create_xml;
    h->storage_vol_create_xml_from = create_xml_from;
    h->storage_vol_delete = delete;
    h->storage_vol_wipe = wipe;
    h->storage_vol_wipe_pattern = wipe_pattern_call;
    h->storage_vol_resize = resize;
}
