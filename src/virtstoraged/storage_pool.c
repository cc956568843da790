/* storage_pool.c: virtstoraged's pools and their files (storage_pool.h). */
#include "storage_pool.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "conf/uuid.h"
#include "util/error.h"
#include "util/fileio.h"

struct StoragePools {
    char *config_dir;
    char *autostart_dir;
    char *state_dir;
    GPtrArray *pools; /* StoragePool, definition order */
};

void
storage_vol_free(StorageVol *vol)
{
    if (!vol)
        return;
    if (vol->def && vol->def_free)
        vol->def_free(vol->def);
    g_free(vol->name);
    g_free(vol->path);
    g_free(vol);
}

void
storage_pool_replace_vols(StoragePool *pool, GPtrArray *vols)
{
    for (guint i = 0; pool->vols && i < pool->vols->len; i++) {
        StorageVol *old = pool->vols->pdata[i];
        StorageVol *now = NULL;

        for (guint k = 0; k < vols->len && !now; k++)
            if (g_str_equal(((StorageVol *)vols->pdata[k])->name, old->name))
                now = vols->pdata[k];
        if (now) {
            now->in_use = old->in_use;
            now->building = old->building;
        } else if (old->building) {
            g_ptr_array_add(vols, g_steal_pointer(&pool->vols->pdata[i]));
        }
    }
    if (pool->vols) /* the building ones moved over left NULLs, which free nothing */
        g_ptr_array_unref(pool->vols);
    pool->vols = vols;
}

static void
pool_free(StoragePool *pool)
{
    sv_storage_pool_def_free(pool->def);
    sv_storage_pool_def_free(pool->new_def);
    g_ptr_array_unref(pool->vols);
    g_free(pool);
}

StoragePools *
storage_pools_new(const char *config_dir, const char *state_dir)
{
    StoragePools *pools = g_new0(StoragePools, 1);

    pools->config_dir = g_strdup(config_dir);
    pools->autostart_dir = g_build_filename(config_dir, "autostart", NULL);
    pools->state_dir = g_strdup(state_dir);
    pools->pools = g_ptr_array_new_with_free_func((GDestroyNotify)pool_free);
    return pools;
}

void
storage_pools_free(StoragePools *pools)
{
    if (!pools)
        return;
    g_ptr_array_unref(pools->pools);
    g_free(pools->config_dir);
    g_free(pools->autostart_dir);
    g_free(pools->state_dir);
    g_free(pools);
}

GPtrArray *
storage_pools_list(StoragePools *pools)
{
    return pools->pools;
}

static StoragePool *
lookup_name(StoragePools *pools, const char *name)
{
    for (guint i = 0; i < pools->pools->len; i++) {
        StoragePool *p = pools->pools->pdata[i];
        if (g_str_equal(p->def->name, name))
            return p;
    }
    return NULL;
}

static StoragePool *
lookup_uuid(StoragePools *pools, const guint8 uuid[16])
{
    for (guint i = 0; i < pools->pools->len; i++) {
        StoragePool *p = pools->pools->pdata[i];
        if (memcmp(p->def->uuid, uuid, 16) == 0)
            return p;
    }
    return NULL;
}

StoragePool *
storage_pools_find_name(StoragePools *pools, const char *name, GError **error)
{
    StoragePool *p = lookup_name(pools, name);

    if (!p)
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_STORAGE_POOL,
                     "no storage pool with matching name '%s'", name);
    return p;
}

StoragePool *
storage_pools_find_uuid(StoragePools *pools, const guint8 uuid[16], GError **error)
{
    StoragePool *p = lookup_uuid(pools, uuid);
    char s[SV_UUID_STRING_LEN + 1];

    if (!p) {
        sv_uuid_format(uuid, s);
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_NO_STORAGE_POOL,
                     "no storage pool with matching uuid '%s'", s);
    }
    return p;
}

/* libvirt's pool types whose sources are block devices: one device, one pool of them. */
static gboolean
on_devices(int type)
{
    return type == SV_STORAGE_POOL_FS || type == SV_STORAGE_POOL_LOGICAL ||
           type == SV_STORAGE_POOL_DISK;
}

static gboolean
share_device(const SvStoragePoolDef *a, const SvStoragePoolDef *b)
{
    for (guint i = 0; i < a->source.devices->len; i++) {
        for (guint j = 0; j < b->source.devices->len; j++) {
            if (g_str_equal(a->source.devices->pdata[i], b->source.devices->pdata[j]))
                return TRUE;
        }
    }
    return FALSE;
}

/* libvirt's virStoragePoolObjSourceFindDuplicate, for the types served: two dir pools on one
 * directory, two fs, logical or disk pools on one device. */
static StoragePool *
find_same_source(StoragePools *pools, const SvStoragePoolDef *def)
{
    for (guint i = 0; i < pools->pools->len; i++) {
        StoragePool *p = pools->pools->pdata[i];
        if (memcmp(p->def->uuid, def->uuid, 16) == 0)
            continue;
        if (p->def->type == def->type && def->type == SV_STORAGE_POOL_DIR &&
            g_strcmp0(p->def->target_path, def->target_path) == 0)
            return p;
        if (on_devices(p->def->type) && on_devices(def->type) && share_device(p->def, def))
            return p;
    }
    return NULL;
}

StoragePool *
storage_pools_check_add(StoragePools *pools, const SvStoragePoolDef *def, GError **error)
{
    StoragePool *old = lookup_uuid(pools, def->uuid);
    StoragePool *dup;
    char uuid[SV_UUID_STRING_LEN + 1];

    if (old && !g_str_equal(old->def->name, def->name)) {
        sv_uuid_format(old->def->uuid, uuid);
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_FAILED,
                     "pool '%s' is already defined with uuid %s", old->def->name, uuid);
        return NULL;
    }
    if (!old && (dup = lookup_name(pools, def->name))) {
        sv_uuid_format(dup->def->uuid, uuid);
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_FAILED,
                     "pool '%s' already exists with uuid %s", def->name, uuid);
        return NULL;
    }
    if ((dup = find_same_source(pools, def))) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_FAILED,
                     "Storage source conflict with pool: '%s'", dup->def->name);
        return NULL;
    }
    return old;
}

StoragePool *
storage_pools_add(StoragePools *pools, StoragePool *old, SvStoragePoolDef *def)
{
    StoragePool *p = old;

    if (p && p->active) {
        sv_storage_pool_def_free(p->new_def);
        p->new_def = def;
        return p;
    }
    if (p) {
        sv_storage_pool_def_free(p->def);
        p->def = def;
        return p;
    }
    p = g_new0(StoragePool, 1);
    p->def = def;
    p->vols = g_ptr_array_new_with_free_func((GDestroyNotify)storage_vol_free);
    g_ptr_array_add(pools->pools, p);
    return p;
}

void
storage_pools_remove(StoragePools *pools, StoragePool *pool)
{
    g_ptr_array_remove(pools->pools, pool);
}

/* ---------------------------------------------------------------- files */

/* Pool names never hold '/' (the parser refuses them), so NAME.xml is a file of the
 * directory ("." and ".." too: "..xml", "...xml", as libvirt writes them); checked again here
 * for names read back from files. */
static char *
file_in(const char *dir, const char *name, GError **error)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    g_autofree char *path = g_build_filename(dir, file, NULL);

    if (strchr(name, '/') || !sv_path_is_within(path, dir)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "pool name '%s' cannot name a file", name);
        return NULL;
    }
    return g_steal_pointer(&path);
}

static gboolean
save_def(const char *dir, const SvStoragePoolDef *def, GError **error)
{
    g_autofree char *path = file_in(dir, def->name, error);
    g_autofree char *xml = NULL;

    if (!path)
        return FALSE;
    xml = sv_storage_pool_def_format(def);
    return sv_file_write_atomic(path, xml, strlen(xml), 0600, error);
}

gboolean
storage_pools_save_config(StoragePools *pools, StoragePool *pool, GError **error)
{
    return save_def(pools->config_dir, pool->new_def ? pool->new_def : pool->def, error);
}

gboolean
storage_pools_save_state(StoragePools *pools, StoragePool *pool, GError **error)
{
    return save_def(pools->state_dir, pool->def, error);
}

void
storage_pools_delete_state(StoragePools *pools, StoragePool *pool)
{
    g_autofree char *path = file_in(pools->state_dir, pool->def->name, NULL);

    if (path)
        (void)sv_file_remove_durable(path, NULL);
}

gboolean
storage_pools_set_autostart(StoragePools *pools, StoragePool *pool, gboolean on,
                            GError **error)
{
    g_autofree char *link = file_in(pools->autostart_dir, pool->def->name, error);
    g_autofree char *target = NULL;

    if (!link)
        return FALSE;
    if (!on) {
        if (unlink(link) < 0 && errno != ENOENT && errno != ENOTDIR) {
            sv_error_set_errno(error, SV_FROM_STORAGE, errno,
                               "Failed to delete symlink '%s'", link);
            return FALSE;
        }
        pool->autostart = FALSE;
        return TRUE;
    }
    target = file_in(pools->config_dir, pool->def->name, error);
    if (!target || !sv_mkdir_p(pools->autostart_dir, 0755, error))
        return FALSE;
    (void)unlink(link);
    if (symlink(target, link) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno,
                           "Failed to create symlink '%s' to '%s'", link, target);
        return FALSE;
    }
    pool->autostart = TRUE;
    return TRUE;
}

gboolean
storage_pools_delete_config(StoragePools *pools, StoragePool *pool, GError **error)
{
    g_autofree char *path = file_in(pools->config_dir, pool->def->name, error);

    if (!path)
        return FALSE;
    if (unlink(path) < 0 && errno != ENOENT) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot remove config %s", path);
        return FALSE;
    }
    (void)storage_pools_set_autostart(pools, pool, FALSE, NULL);
    return TRUE;
}

gboolean
storage_pools_deactivate(StoragePools *pools, StoragePool *pool)
{
    storage_pools_delete_state(pools, pool);
    pool->active = FALSE;
    g_ptr_array_set_size(pool->vols, 0);
    if (!pool->persistent) {
        storage_pools_remove(pools, pool);
        return FALSE;
    }
    if (pool->new_def) {
        sv_storage_pool_def_free(pool->def);
        pool->def = g_steal_pointer(&pool->new_def);
    }
    return TRUE;
}

/* ---------------------------------------------------------------- loading */

/* A definition file, read as hostile input: its pool must be named as the file is. */
static SvStoragePoolDef *
read_def(const char *path, const char *entry)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    g_autofree char *expected = NULL;
    g_autoptr(SvStoragePoolDef) def = NULL;

    if (!g_file_get_contents(path, &text, NULL, &error) ||
        !(def = sv_storage_pool_def_parse(text, &error))) {
        g_warning("Failed to load storage pool config '%s': %s", path, error->message);
        return NULL;
    }
    expected = g_strconcat(def->name, ".xml", NULL);
    if (!g_str_equal(entry, expected)) {
        g_warning("Storage pool config filename '%s' does not match pool name '%s'", path,
                  def->name);
        return NULL;
    }
    return g_steal_pointer(&def);
}

static void
load_config(const char *path, const char *entry, gpointer data)
{
    StoragePools *pools = data;
    SvStoragePoolDef *def = read_def(path, entry);
    g_autofree char *link = NULL;
    StoragePool *p;

    if (!def)
        return;
    if (lookup_name(pools, def->name) || lookup_uuid(pools, def->uuid)) {
        g_warning("storage pool '%s' clashes with a pool already loaded", def->name);
        sv_storage_pool_def_free(def);
        return;
    }
    p = storage_pools_add(pools, NULL, def);
    p->persistent = TRUE;
    link = g_build_filename(pools->autostart_dir, entry, NULL);
    p->autostart = g_file_test(link, G_FILE_TEST_IS_SYMLINK);
}

/* A live definition: its pool was active when the last daemon ended. */
static void
load_state(const char *path, const char *entry, gpointer data)
{
    StoragePools *pools = data;
    SvStoragePoolDef *def = read_def(path, entry);
    StoragePool *p;

    if (!def)
        return;
    p = lookup_name(pools, def->name);
    if (p && memcmp(p->def->uuid, def->uuid, 16) != 0) {
        g_warning("live storage pool '%s' is not the one defined", def->name);
        sv_storage_pool_def_free(def);
        return;
    }
    if (!p) {
        p = storage_pools_add(pools, NULL, def);
    } else {
        p->new_def = p->def; /* the definition on disk applies at the pool's stop */
        p->def = def;
    }
    p->active = TRUE;
}

int
storage_pools_load(StoragePools *pools, GError **error)
{
    if (!sv_mkdir_p(pools->config_dir, 0755, error) ||
        !sv_mkdir_p(pools->autostart_dir, 0755, error) ||
        !sv_mkdir_p(pools->state_dir, 0755, error))
        return -1;
    sv_file_walk_dir(pools->config_dir, ".xml", load_config, pools);
    sv_file_walk_dir(pools->state_dir, ".xml", load_state, pools);
    return (int)pools->pools->len;
}
