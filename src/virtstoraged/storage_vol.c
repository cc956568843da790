/* storage_vol.c: virtstoraged's volumes (storage_vol.h): lookups, definitions, and the worker
 * jobs. A worker gets paths and its own copies; its completion finds the pool again by UUID
 * and the volume by name, applies the result and answers the call. */
#include "storage_vol.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/secret_def.h"
#include "conf/storage_vol_probe.h"
#include "domain/secret_value.h"
#include "storage_backend_disk.h"
#include "storage_backend_logical.h"
#include "util/error.h"
#include "util/qemu_img.h"
#include "util/storage_wipe.h"

#define QEMU_IMG "/usr/bin/qemu-img"

void
storage_vol_set_def(StorageVol *vol, SvStorageVolDef *def)
{
    if (vol->def && vol->def_free)
        vol->def_free(vol->def);
    vol->def = def;
    vol->def_free = (GDestroyNotify)sv_storage_vol_def_free;
    if (def) {
        vol->capacity = def->capacity;
        vol->allocation = def->allocation;
        vol->type = def->type;
    }
}

/* `def`, a volume read again from its file (transfer none), keeps the <encryption> of the
 * definition it had (`old`, taken from): libvirt refreshes a volume's definition in place,
 * so the secret it was made with stays; only a pool refresh finds just what the image says. */
static void
keep_encryption(SvStorageVolDef *def, SvStorageVolDef *old)
{
    SvVolEncryption *enc = old ? g_steal_pointer(&old->target.encryption) : NULL;

    if (!enc)
        return;
    sv_storage_vol_def_set_encryption(def, enc);
    sv_storage_vol_def_luks_capacity(def);
}

/* The volume read again (transfer full). */
static void
vol_update_def(StorageVol *vol, SvStorageVolDef *def)
{
    if (def)
        keep_encryption(def, vol->def);
    storage_vol_set_def(vol, def);
}

SvStorageVolDef *
storage_vol_def(StorageVol *vol)
{
    SvStorageVolDef *def;

    if (vol->def)
        return vol->def;
    def = sv_storage_vol_def_new();
    def->name = g_strdup(vol->name);
    def->key = g_strdup(vol->path);
    def->type = vol->type;
    def->capacity = vol->capacity;
    def->allocation = vol->allocation;
    def->has_allocation = TRUE;
    def->target.path = g_strdup(vol->path);
    vol->def = def;
    vol->def_free = (GDestroyNotify)sv_storage_vol_def_free;
    return def;
}

SvStorageVolDef *
storage_vol_partition_def(const char *dev, const char *path, guint64 start, guint64 end)
{
    SvStorageVolDef *def = sv_storage_vol_def_new();
    SvVolExtent *x = g_new0(SvVolExtent, 1);

    def->name = g_path_get_basename(path);
    def->key = g_strdup(path);
    def->type = SV_VOL_TYPE_BLOCK;
    def->capacity = def->allocation = def->physical = end - start;
    def->has_allocation = TRUE;
    def->target.path = g_strdup(path);
    def->target.format = SV_VOL_DISK_NONE;
    x->path = g_strdup(dev);
    x->start = start;
    x->end = end;
    g_ptr_array_add(def->extents, x);
    return def;
}

void
storage_vol_stat_block(StorageVol *vol)
{
    struct stat st;

    if (vol->def && stat(vol->path, &st) == 0)
        sv_vol_target_fill_stat(&storage_vol_def(vol)->target, &st);
}

SvVolFormats
storage_vol_formats(int pool_type)
{
    switch (pool_type) {
    case SV_STORAGE_POOL_DIR:
    case SV_STORAGE_POOL_FS:
    case SV_STORAGE_POOL_NETFS:
        return SV_VOL_FORMATS_FILE;
    case SV_STORAGE_POOL_DISK:
        return SV_VOL_FORMATS_DISK;
    default:
        return SV_VOL_FORMATS_NONE;
    }
}

void
storage_vol_make(remote_nonnull_storage_vol *out, const StoragePool *pool, StorageVol *vol)
{
    SvStorageVolDef *def = storage_vol_def(vol);

    out->pool = g_strdup(pool->def->name);
    out->name = g_strdup(vol->name);
    out->key = g_strdup(def->key ? def->key : vol->path);
}

StorageVol *
storage_vol_find(const StoragePool *pool, const char *name, GError **error)
{
    for (guint i = 0; pool->vols && i < pool->vols->len; i++) {
        StorageVol *vol = pool->vols->pdata[i];
        if (g_str_equal(vol->name, name))
            return vol;
    }
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_STORAGE_VOL,
                 "no storage vol with matching name '%s'", name);
    return NULL;
}

StorageVol *
storage_vol_of(StorageDriver *drv, const remote_nonnull_storage_vol *v, StoragePool **ret_pool,
               GError **error)
{
    StoragePool *pool = storage_pools_find_name(drv->pools, v->pool, error);

    if (!pool || !storage_pool_check_active(pool, TRUE, error))
        return NULL;
    *ret_pool = pool;
    return storage_vol_find(pool, v->name, error);
}

gboolean
storage_vol_check_idle(const StorageVol *vol, gboolean in_use_too, GError **error)
{
    if (vol->building) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                     "volume '%s' is still being allocated.", vol->name);
        return FALSE;
    }
    if (in_use_too && vol->in_use) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                     "volume '%s' is still in use.", vol->name);
        return FALSE;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- jobs */

struct StorageVolJob {
    StorageDriver *drv;
    StorageVolJobSpec spec;
    SvCall *call;
    guint8 uuid[16];
    char *name;
    char *path;
    char *pool_path;
    char *pool_name;
    gboolean is_dir;
    guint64 allocation;      /* WIPE: what is zeroed */
    SvStorageVolDef *def;    /* CREATE: the new volume (the worker's) */
    guint8 input_uuid[16];
    char *input_name;        /* CREATE from a volume */
    char *input_path;
    guint64 input_capacity;  /* a disk pool's partition cloned from: its size */
    gboolean input_block;
    SvStorageVolDef *result; /* the volume read again after the work */
    /* The <clusterSize> the volume's definition keeps: libvirt's refreshVol reads the
     * image again but not its cluster size, which only a pool refresh probes (or the XML
     * a volume is created from gives). */
    guint64 cluster_size;
    /* LUKS: the secrets of the volume (CREATE, RESIZE) and of the one cloned from, copied
     * from their definitions, then their values; state_dir takes qemu-img's key files */
    SvVolSecret *secret, *input_secret;
    GBytes *key, *input_key;
    char *state_dir;
    SvStoragePoolDef *disk;  /* a disk pool's definition (the worker's copy); NULL else */
    SvStoragePoolDef *lvm;   /* a logical pool's (the worker's copy); NULL else */
    StorageRefresh *listing; /* a disk pool's partitions after a create or delete, a logical
                              * pool's LVs after a create */
};

static void
vol_secret_free(SvVolSecret *s)
{
    if (s)
        g_free(s->usage);
    g_free(s);
}

static void
job_free(StorageVolJob *j)
{
    g_free(j->name);
    g_free(j->path);
    g_free(j->pool_path);
    g_free(j->pool_name);
    g_free(j->state_dir);
    g_clear_pointer(&j->key, g_bytes_unref);
    g_clear_pointer(&j->input_key, g_bytes_unref);
    vol_secret_free(j->secret);
    vol_secret_free(j->input_secret);
    sv_storage_vol_def_free(j->def);
    g_free(j->input_name);
    g_free(j->input_path);
    sv_storage_vol_def_free(j->result);
    sv_storage_pool_def_free(j->disk);
    sv_storage_pool_def_free(j->lvm);
    storage_refresh_free(j->listing);
    g_free(j);
}

/* A volume of format dir: a directory with the volume's mode (libvirt's 0755 default). */
static gboolean
build_dir(const SvQemuImgVol *v, GError **error)
{
    mode_t mode = v->mode == -1 ? 0755 : (mode_t)v->mode;

    if (mkdir(v->path, mode) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot create path '%s'", v->path);
        return FALSE;
    }
    if ((v->uid != -1 || v->gid != -1) && chown(v->path, (uid_t)v->uid, (gid_t)v->gid) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot chown '%s' to (%d, %d)",
                           v->path, (int)v->uid, (int)v->gid);
        (void)rmdir(v->path);
        return FALSE;
    }
    return TRUE;
}

/* The key qemu-img reads for volume `name` (owned by uid:gid), in a file of its own in the
 * state directory, as libvirt's storageBackendCreateQemuImgSecretPath writes it; NULL
 * without a key (nothing to do) or on error (set). The caller removes it. */
static char *
key_file(StorageVolJob *j, GBytes *key, const char *name, gint64 uid, gint64 gid,
         GError **error)
{
    gsize len;
    const guint8 *data;

    if (!key)
        return NULL;
    data = g_bytes_get_data(key, &len);
    return sv_storage_secret_file(j->state_dir, j->pool_name, name, data, len, uid, gid, error);
}

/* qemu-img with the keys (the new volume's, the input's) in files removed once it is
 * done, as libvirt's storageBackendCreateQemuImg. */
static gboolean
create_qemu_img(StorageVolJob *j, SvQemuImgVol *v, SvQemuImgVol *in, gboolean prealloc,
                GError **error)
{
    g_autofree char *secret_path = NULL, *input_secret_path = NULL;
    gboolean ok = FALSE;

    if ((secret_path = key_file(j, j->key, j->name, v->uid, v->gid, error)))
        v->secret_path = secret_path;
    if (in && (input_secret_path = key_file(j, j->input_key, j->input_name, v->uid, v->gid,
                                            error))) {
        in->secret_path = input_secret_path;
        in->n_secrets = 1; /* its definition's, whatever the file says */
    }
    if (!(error && *error))
        ok = sv_qemu_img_create(QEMU_IMG, v, in, prealloc, j->pool_path, error);
    if (secret_path)
        (void)unlink(secret_path);
    if (input_secret_path)
        (void)unlink(input_secret_path);
    return ok;
}

/* The volume cloned from: a file read again, a partition as its pool lists it (raw). */
static SvStorageVolDef *
input_def(StorageVolJob *j, GError **error)
{
    SvStorageVolDef *def;

    if (!j->input_block)
        return sv_storage_vol_probe(j->input_path, error);
    def = sv_storage_vol_def_new();
    def->type = SV_VOL_TYPE_BLOCK;
    def->target.path = g_strdup(j->input_path);
    def->target.format = SV_VOL_FORMAT_RAW;
    def->capacity = def->allocation = j->input_capacity;
    return def;
}

/* libvirt's disk backend createVol, then buildVolFrom for a clone: a raw input copied onto
 * the new partition. */
static gboolean
work_create_partition(StorageVolJob *j, SvStorageVolDef *input, GError **error)
{
    StorageRefresh *cut = NULL;
    SvQemuImgVol v, in;
    StorageVol *made;

    if (j->def->target.encryption) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED, "%s",
                     j->def->target.encryption->format == SV_VOL_ENC_LUKS
                         ? "LUKS encrypted partitions are not supported here"
                         : "storage pool only supports LUKS encrypted volumes");
        return FALSE;
    }

    if (!(j->listing = storage_disk_create_vol(j->disk, j->name, j->def->target.format,
                                               j->def->capacity, &cut, error))) {
        j->listing = cut;
        return FALSE;
    }
    if (!input)
        return TRUE;
    for (guint i = 0; i < j->listing->vols->len; i++) {
        made = j->listing->vols->pdata[i];
        if (!g_str_equal(made->name, j->name))
            continue;
        sv_storage_vol_def_tool_vol(storage_vol_def(made), &v);
        sv_storage_vol_def_tool_vol(input, &in);
        /* an image of another format is converted onto it by qemu-img (raw, as libvirt
         * writes block devices), a raw one copied */
        if (sv_storage_build_kind(&v, &in) == SV_STORAGE_BUILD_QEMU_IMG) {
            if (sv_qemu_img_create(QEMU_IMG, &v, &in, FALSE, j->pool_path, error))
                return TRUE;
        } else if (j->spec.flags & SV_STORAGE_VOL_CREATE_PREALLOC_METADATA) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_UNSUPPORTED, "%s",
                         "metadata preallocation is not supported for block volumes");
        } else if (sv_storage_copy_to_block(&v, &in, error)) {
            return TRUE;
        }
        /* libvirt deletes the volume whose build failed (best effort; a refresh shows what
         * is left) */
        g_clear_pointer(&j->listing, storage_refresh_free);
        storage_refresh_free(storage_disk_delete_vol(j->disk, v.path, NULL));
        return FALSE;
    }
    return TRUE;
}

/* libvirt's fs backend buildVol / buildVolFrom. */
static gboolean
work_create(StorageVolJob *j, GError **error)
{
    gboolean prealloc = (j->spec.flags & SV_STORAGE_VOL_CREATE_PREALLOC_METADATA) != 0;
    g_autoptr(SvStorageVolDef) input = NULL;
    SvQemuImgVol v, in;

    g_return_val_if_fail(error && !*error, FALSE);
    if (j->lvm) /* libvirt's logical backend builds no volume from another */
        return (j->listing = storage_logical_create_vol(j->lvm, j->def, error)) != NULL;
    if (j->input_path && !(input = input_def(j, error)))
        return FALSE;
    if (j->disk)
        return work_create_partition(j, input, error);
    sv_storage_vol_def_tool_vol(j->def, &v);
    if (input)
        sv_storage_vol_def_tool_vol(input, &in);
    switch (sv_storage_build_kind(&v, input ? &in : NULL)) {
    case SV_STORAGE_BUILD_RAW:
        return sv_storage_create_raw(&v, input ? &in : NULL, prealloc, error);
    case SV_STORAGE_BUILD_QEMU_IMG:
        return create_qemu_img(j, &v, input ? &in : NULL, prealloc, error);
    case SV_STORAGE_BUILD_DIR:
        if (!input)
            return build_dir(&v, error);
        break;
    default:
        break;
    }
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_SUPPORT, "%s",
                 "creation of this kind of volume is not supported here");
    return FALSE;
}

/* libvirt's virStorageBackendVolDeleteLocal: a file unlinked (gone already is fine), a
 * directory removed. */
static gboolean
work_delete(StorageVolJob *j, GError **error)
{
    if (j->disk)
        return (j->listing = storage_disk_delete_vol(j->disk, j->path, error)) != NULL;
    if (j->lvm)
        return storage_logical_delete_vol(j->path, error);
    if (j->is_dir) {
        if (rmdir(j->path) < 0 && errno != ENOENT) {
            sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot remove directory '%s'",
                               j->path);
            return FALSE;
        }
        return TRUE;
    }
    if (unlink(j->path) < 0 && errno != ENOENT) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot unlink file '%s'", j->path);
        return FALSE;
    }
    return TRUE;
}

static gboolean
work_resize(StorageVolJob *j, GError **error)
{
    g_autoptr(SvStorageVolDef) cur = sv_storage_vol_probe(j->path, error);
    g_autofree char *secret_path = NULL;
    SvQemuImgVol v;
    gboolean ok = FALSE;

    if (!cur)
        return FALSE;
    sv_storage_vol_def_tool_vol(cur, &v);
    if ((secret_path = key_file(j, j->key, j->name, v.uid, v.gid, error))) {
        v.secret_path = secret_path;
        v.n_secrets = 1;
    }
    if (!*error)
        ok = sv_storage_resize(QEMU_IMG, &v, j->spec.capacity,
                               (j->spec.flags & SV_STORAGE_VOL_RESIZE_ALLOCATE) != 0, error);
    if (secret_path)
        (void)unlink(secret_path);
    return ok;
}

static gboolean
work(StorageVolJob *j, GError **error)
{
    switch (j->spec.kind) {
    case STORAGE_VOL_JOB_READ:
        break;
    case STORAGE_VOL_JOB_CREATE:
        if (!work_create(j, error))
            return FALSE;
        break;
    case STORAGE_VOL_JOB_DELETE:
        return work_delete(j, error);
    case STORAGE_VOL_JOB_WIPE:
        if (!sv_storage_wipe(j->path, j->spec.algorithm, j->allocation, NULL, error))
            return FALSE;
        break;
    case STORAGE_VOL_JOB_RESIZE:
        if (!work_resize(j, error))
            return FALSE;
        break;
    default:
        g_assert_not_reached();
    }
    /* libvirt's refreshVol after the work (the disk backend has none: a partition is what
     * the listing says) */
    if (j->disk || j->lvm)
        return TRUE;
    if (!(j->result = sv_storage_vol_probe(j->path, error)))
        return FALSE;
    j->result->target.cluster_size = j->cluster_size;
    return TRUE;
}

static void
job_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
    StorageVolJob *j = data;
    GError *error = NULL;

    (void)src;
    (void)c;
    if (work(j, &error))
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

/* ---------------------------------------------------------------- completion */

static void
vol_remove(StoragePool *pool, StorageVol *vol)
{
    g_ptr_array_remove(pool->vols, vol);
}

/* The volume cloned from is free again. */
static void
release_input(StorageVolJob *j)
{
    StoragePool *ip;
    StorageVol *iv;

    if (!j->input_name || !(ip = storage_pools_find_uuid(j->drv->pools, j->input_uuid, NULL)))
        return;
    ip->jobs--;
    if (ip->vols && (iv = storage_vol_find(ip, j->input_name, NULL)) && iv->in_use)
        iv->in_use--;
}

static void
reply_vol(SvCall *call, StoragePool *pool, StorageVol *vol)
{
    remote_storage_vol_create_xml_ret r;

    storage_vol_make(&r.vol, pool, vol);
    sv_call_reply(call, &r);
    g_free(r.vol.pool);
    g_free(r.vol.name);
    g_free(r.vol.key);
}

/* The pool's figures move by what the volume took or gave back (libvirt: not for disk
 * pools, whose refresh counts). */
static void
pool_account(StoragePool *pool, gint64 delta)
{
    if (pool->def->type == SV_STORAGE_POOL_DISK)
        return;
    pool->def->allocation += (guint64)delta;
    pool->def->available -= (guint64)delta;
}

/* A disk pool's figures and free extents from the listing after a create or delete. */
static void
apply_listing_figures(StoragePool *pool, StorageRefresh *r)
{
    pool->def->capacity = r->capacity;
    pool->def->allocation = r->allocation;
    pool->def->available = r->available;
    g_array_set_size(pool->def->source.free_extents, 0);
    g_array_append_vals(pool->def->source.free_extents, r->free_extents->data,
                        r->free_extents->len);
}

static StorageVol *
listing_take(StorageRefresh *r, const char *name)
{
    for (guint i = 0; i < r->vols->len; i++)
        if (g_str_equal(((StorageVol *)r->vols->pdata[i])->name, name))
            return g_ptr_array_steal_index(r->vols, i);
    return NULL;
}

/* The new partition takes the listing's description (with the format asked for, which
 * libvirt keeps until the next refresh); an extended partition's allocation grows by a new
 * logical one. */
static void
apply_partition_created(StorageVolJob *j, StoragePool *pool, StorageVol *vol)
{
    g_autoptr(StorageVol) made = listing_take(j->listing, vol->name);

    g_assert(made);
    g_free(vol->path);
    vol->path = g_steal_pointer(&made->path);
    vol->part_type = made->part_type;
    storage_vol_set_def(vol, g_steal_pointer(&made->def));
    storage_vol_def(vol)->target.format = j->def->target.format;
    for (guint i = 0; i < pool->vols->len; i++) {
        StorageVol *v = pool->vols->pdata[i];
        g_autoptr(StorageVol) now = NULL;

        if (v->part_type != STORAGE_PART_EXTENDED || !(now = listing_take(j->listing, v->name)))
            continue;
        storage_vol_def(v)->allocation = v->allocation = now->allocation;
    }
    apply_listing_figures(pool, j->listing);
}

/* libvirt's disk backend lists the partitions again after a delete; the others' jobs keep
 * their marks. */
static void
apply_partition_deleted(StorageVolJob *j, StoragePool *pool)
{
    apply_listing_figures(pool, j->listing);
    storage_pool_replace_vols(pool, g_steal_pointer(&j->listing->vols));
}

static void
apply_done(StorageVolJob *j, StoragePool *pool, StorageVol *vol)
{
    switch (j->spec.kind) {
    case STORAGE_VOL_JOB_CREATE:
        if (j->disk) {
            apply_partition_created(j, pool, vol);
        } else if (j->lvm) {
            g_autoptr(StorageVol) made = listing_take(j->listing, vol->name);
            g_free(vol->path);
            vol->path = g_steal_pointer(&made->path);
            storage_vol_set_def(vol, g_steal_pointer(&made->def));
        } else {
            keep_encryption(j->result, j->def);
            storage_vol_set_def(vol, g_steal_pointer(&j->result));
        }
        pool_account(pool, (gint64)vol->allocation);
        reply_vol(g_steal_pointer(&j->call), pool, vol);
        return;
    case STORAGE_VOL_JOB_DELETE:
        pool_account(pool, -(gint64)vol->allocation);
        if (j->listing)
            apply_partition_deleted(j, pool);
        else
            vol_remove(pool, vol);
        break;
    case STORAGE_VOL_JOB_RESIZE:
        pool_account(pool, (gint64)j->spec.delta);
        vol_update_def(vol, g_steal_pointer(&j->result));
        break;
    default:
        if (j->result)
            vol_update_def(vol, g_steal_pointer(&j->result));
        break;
    }
    sv_call_reply(g_steal_pointer(&j->call), NULL);
}

/* A read: the pool and volume are found again (they may have gone meanwhile). */
static void
read_done(StorageVolJob *j, GError *error)
{
    StoragePool *pool = storage_pools_find_uuid(j->drv->pools, j->uuid, NULL);
    StorageVol *vol = NULL;

    if (!error && !pool)
        sv_error_set(&error, SV_FROM_STORAGE, SV_ERR_NO_STORAGE_POOL, "%s",
                     "storage pool is gone");
    if (!error && storage_pool_check_active(pool, TRUE, &error))
        vol = storage_vol_find(pool, j->name, &error);
    if (error) {
        sv_call_fail(g_steal_pointer(&j->call), error);
        return;
    }
    vol_update_def(vol, g_steal_pointer(&j->result));
    j->spec.read_reply(g_steal_pointer(&j->call), pool, vol, j->spec.flags);
}

/* The end of a job: its effects applied and its call answered (j stays the caller's). */
static void
job_end(StorageVolJob *j, gboolean ok, GError *error)
{
    StoragePool *pool;
    StorageVol *vol;

    sv_daemon_uninhibit(j->drv->daemon);
    if (j->spec.kind == STORAGE_VOL_JOB_READ) {
        read_done(j, ok ? NULL : error);
        return;
    }
    /* the pool's jobs keep it, and its volume list (no refresh meanwhile) */
    pool = storage_pools_find_uuid(j->drv->pools, j->uuid, NULL);
    g_assert(pool && pool->jobs > 0);
    pool->jobs--;
    release_input(j);
    vol = storage_vol_find(pool, j->name, NULL);
    g_assert(vol);
    vol->building = FALSE;
    if (vol->in_use && j->spec.kind != STORAGE_VOL_JOB_CREATE)
        vol->in_use--;
    if (ok) {
        apply_done(j, pool, vol);
        return;
    }
    g_message("volume %s of pool %s: %s", j->name, pool->def->name, error->message);
    if (j->spec.kind == STORAGE_VOL_JOB_CREATE)
        vol_remove(pool, vol);
    if (j->spec.kind == STORAGE_VOL_JOB_CREATE && j->listing) {
        /* a partition made under the wrong name: the pool's figures as libvirt's are left */
        j->listing->allocation = pool->def->allocation;
        apply_listing_figures(pool, j->listing);
    }
    sv_call_fail(g_steal_pointer(&j->call), error);
}

static void
job_done(GObject *src, GAsyncResult *res, gpointer data)
{
    GError *error = NULL;
    gboolean ok = g_task_propagate_boolean(G_TASK(res), &error);

    (void)src;
    (void)data;
    job_end(g_task_get_task_data(G_TASK(res)), ok, error);
}

static void
job_launch(StorageVolJob *j)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, job_done, NULL);

    g_task_set_task_data(task, j, (GDestroyNotify)job_free);
    /* a disk pool's partition-table changes go one at a time, as under libvirt's pool lock */
    if (j->disk &&
        (j->spec.kind == STORAGE_VOL_JOB_CREATE || j->spec.kind == STORAGE_VOL_JOB_DELETE))
        g_thread_pool_push(j->drv->tables, g_object_ref(task), NULL);
    else
        g_task_run_in_thread(task, job_thread);
}

/* ---------------------------------------------------------------- LUKS keys */

static void fetch_keys(StorageVolJob *j);

static void
key_fetched(GBytes *value, const GError *error, gpointer data)
{
    StorageVolJob *j = data;

    if (error) {
        job_end(j, FALSE, g_error_copy(error));
        job_free(j);
        return;
    }
    if (!j->key && j->secret)
        j->key = g_bytes_ref(value);
    else
        j->input_key = g_bytes_ref(value);
    fetch_keys(j);
}

/* The volume's key, then the input's, from virtsecretd before the work starts, as
 * libvirt's storageBackendCreateQemuImgSecretPath fetches them, for the client's identity
 * elevated; then the work. */
static void
fetch_keys(StorageVolJob *j)
{
    const SvVolSecret *sec = !j->key && j->secret ? j->secret
                             : !j->input_key && j->input_secret ? j->input_secret : NULL;
    SvSecretLookup lookup = {0};
    SvBackendIdentity id;

    if (!sec) {
        job_launch(j);
        return;
    }
    lookup.by_uuid = sec->by_uuid;
    memcpy(lookup.uuid, sec->uuid, 16);
    lookup.usage = sec->usage;
    if (j->call)
        sv_backend_identity_of_client(&id, sv_call_get_client(j->call));
    else
        sv_backend_identity_of_daemon(&id);
    g_strlcpy(id.system_token, sv_daemon_system_token(j->drv->daemon), sizeof(id.system_token));
    sv_secret_value_fetch(j->drv->sock_dir, &id, &lookup, SV_SECRET_USAGE_TYPE_VOLUME,
                          key_fetched, j);
}

/* The secret of a LUKS encryption (a copy in *out), NULL enc or another format: none; or
 * libvirt's error when it has not exactly one. */
static gboolean
luks_secret(const SvVolEncryption *enc, SvVolSecret **out, GError **error)
{
    const SvVolSecret *sec;

    if (!enc || enc->format != SV_VOL_ENC_LUKS)
        return TRUE;
    if (enc->secrets->len != 1) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INVALID_ARG, "%s",
                     "A single <secret type='passphrase'...> element is expected in "
                     "encryption description");
        return FALSE;
    }
    sec = enc->secrets->pdata[0];
    *out = g_new0(SvVolSecret, 1);
    (*out)->by_uuid = sec->by_uuid;
    memcpy((*out)->uuid, sec->uuid, 16);
    (*out)->usage = g_strdup(sec->usage);
    return TRUE;
}

/* What keys the job needs: a created volume's (and its input's), a resized one's. */
static gboolean
want_keys(StorageVolJob *j, StorageVol *vol, StorageVol *input, GError **error)
{
    if (j->spec.kind == STORAGE_VOL_JOB_CREATE)
        return luks_secret(j->def->target.encryption, &j->secret, error) &&
               (!input ||
                luks_secret(storage_vol_def(input)->target.encryption, &j->input_secret, error));
    if (j->spec.kind == STORAGE_VOL_JOB_RESIZE)
        return luks_secret(storage_vol_def(vol)->target.encryption, &j->secret, error);
    return TRUE;
}

void
storage_vol_job_run(StorageDriver *drv, StoragePool *pool, StorageVol *vol,
                    StoragePool *input_pool, StorageVol *input, const StorageVolJobSpec *spec,
                    SvCall *call)
{
    StorageVolJob *j = g_new0(StorageVolJob, 1);
    SvStorageVolDef *def = storage_vol_def(vol);
    GError *error = NULL;

    j->drv = drv;
    j->spec = *spec;
    j->def = g_steal_pointer(&j->spec.def);
    j->call = call;
    memcpy(j->uuid, pool->def->uuid, 16);
    j->name = g_strdup(vol->name);
    j->path = g_strdup(vol->path);
    j->pool_path = g_strdup(pool->def->target_path);
    j->pool_name = g_strdup(pool->def->name);
    j->state_dir = g_strdup(drv->run_dir);
    j->is_dir = vol->type == SV_VOL_TYPE_DIR;
    j->allocation = def->allocation;
    if (pool->def->type == SV_STORAGE_POOL_LOGICAL && spec->kind != STORAGE_VOL_JOB_READ)
        j->lvm = sv_storage_pool_def_copy(pool->def);
    if (pool->def->type == SV_STORAGE_POOL_DISK && spec->kind != STORAGE_VOL_JOB_READ)
        j->disk = sv_storage_pool_def_copy(pool->def);
    j->cluster_size = (j->def ? j->def : def)->target.cluster_size;
    if (spec->kind != STORAGE_VOL_JOB_READ) {
        pool->jobs++;
        if (spec->kind != STORAGE_VOL_JOB_CREATE)
            vol->in_use++;
    }
    if (input) {
        memcpy(j->input_uuid, input_pool->def->uuid, 16);
        j->input_name = g_strdup(input->name);
        j->input_path = g_strdup(input->path);
        j->input_block = input_pool->def->type == SV_STORAGE_POOL_DISK;
        j->input_capacity = input->capacity;
        input_pool->jobs++;
        input->in_use++;
    }
    sv_daemon_inhibit(drv->daemon);
    if (!want_keys(j, vol, input, &error)) {
        job_end(j, FALSE, error);
        job_free(j);
        return;
    }
    fetch_keys(j);
}

/* A partition-table job on the tables' one thread. */
static void
table_job(gpointer task, gpointer user)
{
    (void)user;
    job_thread(task, NULL, g_task_get_task_data(task), NULL);
    g_object_unref(task);
}

GThreadPool *
storage_vol_tables_new(void)
{
    return g_thread_pool_new(table_job, NULL, 1, FALSE, NULL);
}
