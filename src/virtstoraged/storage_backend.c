/* storage_backend.c: the pool types' host work, run on workers (storage_backend.h). */
#include "storage_backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "protocol/sv_wire_constants.h"
#include "storage_backend_disk.h"
#include "storage_backend_fs.h"
#include "storage_backend_logical.h"
#include "storage_vol.h"
#include "conf/storage_vol_probe.h"
#include "util/error.h"

/* libvirt's VIR_STORAGE_DEFAULT_POOL_PERM_MODE. */
#define DEFAULT_POOL_MODE 0711

/* libvirt's virStorageVolType. */
enum { VOL_FILE = 0, VOL_BLOCK = 1, VOL_DIR = 2 };

void
storage_refresh_free(StorageRefresh *r)
{
    if (!r)
        return;
    if (r->vols)
        g_ptr_array_unref(r->vols);
    if (r->free_extents)
        g_array_unref(r->free_extents);
    g_free(r);
}

unsigned int
storage_backend_build_flags(int type)
{
    (void)type;
    return SV_STORAGE_POOL_BUILD_OVERWRITE | SV_STORAGE_POOL_BUILD_NO_OVERWRITE;
}

/* ---------------------------------------------------------------- build */

static gboolean
build_dir(const SvStoragePoolDef *def, GError **error)
{
    const char *path = def->target_path;
    int mode = def->perms.mode == -1 ? DEFAULT_POOL_MODE : def->perms.mode;
    g_autofree char *parent = g_path_get_dirname(path);
    struct stat st;

    if (g_mkdir_with_parents(parent, 0755) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot create path '%s'", parent);
        return FALSE;
    }
    if (mkdir(path, (mode_t)mode) < 0 && errno != EEXIST) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot create path '%s'", path);
        return FALSE;
    }
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno ? errno : ENOTDIR,
                           "path '%s' is not a directory", path);
        return FALSE;
    }
    if ((def->perms.uid != -1 || def->perms.gid != -1) &&
        chown(path, (uid_t)def->perms.uid, (gid_t)def->perms.gid) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot chown '%s' to (%d, %d)", path,
                           (int)def->perms.uid, (int)def->perms.gid);
        return FALSE;
    }
    if (chmod(path, (mode_t)mode) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot set mode of '%s' to %04o",
                           path, (unsigned)mode);
        return FALSE;
    }
    return TRUE;
}

/* The directory, then, with an overwrite flag, the file system (libvirt's dir pools take the
 * flags too, and fail there: they have no device to format). */
gboolean
storage_backend_build(const SvStoragePoolDef *def, unsigned int flags, GError **error)
{
    if (def->type == SV_STORAGE_POOL_LOGICAL)
        return storage_logical_build(def, flags, error);
    if (def->type == SV_STORAGE_POOL_DISK)
        return storage_disk_build(def, flags, error);
    if (!build_dir(def, error))
        return FALSE;
    if (flags & (SV_STORAGE_POOL_BUILD_OVERWRITE | SV_STORAGE_POOL_BUILD_NO_OVERWRITE))
        return storage_fs_make(def, flags, error);
    return TRUE;
}

/* ---------------------------------------------------------------- refresh */

/* One entry of the pool's directory as a volume; NULL for what libvirt skips (neither a
 * regular file, a directory nor a block device, or gone meanwhile). */
static StorageVol *
scan_entry(int dirfd, const char *dir, const char *name)
{
    struct stat st;
    StorageVol *vol;

    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return NULL;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISBLK(st.st_mode))
        return NULL;
    vol = g_new0(StorageVol, 1);
    vol->name = g_strdup(name);
    vol->path = g_build_filename(dir, name, NULL);
    vol->type = S_ISREG(st.st_mode) ? VOL_FILE : S_ISDIR(st.st_mode) ? VOL_DIR : VOL_BLOCK;
    vol->capacity = S_ISREG(st.st_mode) ? (guint64)st.st_size : 0;
    vol->allocation = S_ISREG(st.st_mode) ? (guint64)st.st_blocks * 512 : 0;
    storage_vol_set_def(vol, sv_storage_vol_probe(vol->path, NULL));
    return vol;
}

static gboolean
scan_dir(const char *path, GPtrArray *vols, GError **error)
{
    DIR *d = opendir(path);
    struct dirent *e;

    if (!d) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot open directory '%s'", path);
        return FALSE;
    }
    while ((e = readdir(d))) {
        StorageVol *vol;
        if (g_str_equal(e->d_name, ".") || g_str_equal(e->d_name, ".."))
            continue;
        if ((vol = scan_entry(dirfd(d), path, e->d_name)))
            g_ptr_array_add(vols, vol);
    }
    closedir(d);
    return TRUE;
}

static gint
vol_cmp(gconstpointer a, gconstpointer b)
{
    return g_strcmp0((*(StorageVol *const *)a)->name, (*(StorageVol *const *)b)->name);
}

static StorageRefresh *refresh_dir(const SvStoragePoolDef *def, GError **error);

StorageRefresh *
storage_backend_refresh(const SvStoragePoolDef *def, GError **error)
{
    if (def->type == SV_STORAGE_POOL_LOGICAL)
        return storage_logical_refresh(def, error);
    if (def->type == SV_STORAGE_POOL_DISK) {
        StorageRefresh *r = storage_disk_refresh(def, error);
        for (guint i = 0; r && i < r->vols->len; i++)
            storage_vol_stat_block(r->vols->pdata[i]);
        return r;
    }
    return refresh_dir(def, error);
}

/* A dir or fs pool: statvfs of its directory, its entries as volumes, its permissions. */
static StorageRefresh *
refresh_dir(const SvStoragePoolDef *def, GError **error)
{
    g_autoptr(StorageRefresh) r = g_new0(StorageRefresh, 1);
    const char *path = def->target_path;
    struct statvfs vfs;
    struct stat st;

    r->vols = g_ptr_array_new_with_free_func((GDestroyNotify)storage_vol_free);
    if (!scan_dir(path, r->vols, error))
        return NULL;
    g_ptr_array_sort(r->vols, vol_cmp);
    if (statvfs(path, &vfs) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot statvfs path '%s'", path);
        return NULL;
    }
    r->capacity = (guint64)vfs.f_frsize * vfs.f_blocks;
    /* libvirt counts the blocks kept for root as available */
    r->available = (guint64)vfs.f_frsize * vfs.f_bfree;
    r->allocation = (guint64)vfs.f_frsize * (vfs.f_blocks - vfs.f_bfree);
    if (stat(path, &st) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot stat path '%s'", path);
        return NULL;
    }
    r->has_perms = TRUE;
    r->mode = (int)(st.st_mode & 07777);
    r->uid = st.st_uid;
    r->gid = st.st_gid;
    return g_steal_pointer(&r);
}

StorageRefresh *
storage_backend_start(const SvStoragePoolDef *def, GError **error)
{
    StorageRefresh *r;

    if (def->type == SV_STORAGE_POOL_FS && !storage_fs_mount(def, error))
        return NULL;
    if (def->type == SV_STORAGE_POOL_LOGICAL && !storage_logical_start(def, error))
        return NULL;
    if (def->type == SV_STORAGE_POOL_DISK && !storage_disk_check(def, error))
        return NULL;
    r = storage_backend_refresh(def, error);
    if (!r)
        (void)storage_backend_stop(def, NULL); /* a pool that did not start is stopped */
    return r;
}

gboolean
storage_backend_check(const SvStoragePoolDef *def, GError **error)
{
    switch (def->type) {
    case SV_STORAGE_POOL_FS:
        return storage_fs_check_mounted(def, error);
    case SV_STORAGE_POOL_LOGICAL:
        return storage_logical_match_source(def, error);
    case SV_STORAGE_POOL_DISK:
        return storage_disk_check(def, error);
    default:
        return TRUE; /* a dir pool is what its refresh finds */
    }
}

gboolean
storage_backend_stop(const SvStoragePoolDef *def, GError **error)
{
    if (def->type == SV_STORAGE_POOL_FS)
        return storage_fs_unmount(def, error);
    if (def->type == SV_STORAGE_POOL_LOGICAL)
        return storage_logical_stop(def, error);
    return TRUE;
}

/* ---------------------------------------------------------------- delete */

gboolean
storage_backend_delete(const SvStoragePoolDef *def, unsigned int flags, GError **error)
{
    if (def->type == SV_STORAGE_POOL_LOGICAL)
        return storage_logical_delete(def, flags, error);
    if (def->type == SV_STORAGE_POOL_DISK)
        return storage_disk_delete(def, flags, error);
    if (!sv_check_flags(flags, 0, SV_FROM_STORAGE, "virStorageBackendFileSystemDelete", error))
        return FALSE;
    if (rmdir(def->target_path) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "failed to remove pool '%s'",
                           def->target_path);
        return FALSE;
    }
    return TRUE;
}
