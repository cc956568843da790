/* storage_backend.h: what each pool type does to the host, as libvirt 9.0's storage backends
 * do it. Every function here blocks (mkdir, chown, directory scans, statvfs, rmdir) and runs
 * on a worker thread: it touches nothing but its arguments. */
#pragma once

#include "storage_pool.h"

/* What a refresh found: the space figures, the target's permissions, the volumes, and a disk
 * pool's free extents. */
typedef struct {
    guint64 capacity;
    guint64 allocation;
    guint64 available;
    gboolean has_perms; /* the target's permissions below were read (not for logical) */
    int mode;
    gint64 uid;
    gint64 gid;
    GPtrArray *vols; /* StorageVol */
    GArray *free_extents; /* StorageFreeExtent of a disk pool's device; NULL otherwise */
} StorageRefresh;

void storage_refresh_free(StorageRefresh *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StorageRefresh, storage_refresh_free)

/* The flags each step accepts for the type, and the function name libvirt's flag error
 * gives. */
unsigned int storage_backend_build_flags(int type);

/* Build the pool: its directory, made with the target's mode (0711 by default) and owner;
 * with an overwrite flag, an fs pool's file system. def is a copy the worker owns. */
gboolean storage_backend_build(const SvStoragePoolDef *def, unsigned int flags, GError **error);

/* Start the pool (an fs pool: mount it) and refresh it; a pool whose refresh fails is
 * stopped again. (transfer full) */
StorageRefresh *storage_backend_start(const SvStoragePoolDef *def, GError **error);

/* Whether a pool a restarted daemon found active still is (libvirt's checkPool): an fs
 * pool mounted, a logical pool's VG there, a disk pool's table of its type. */
gboolean storage_backend_check(const SvStoragePoolDef *def, GError **error);

/* Stop the pool (an fs pool: unmount it). */
gboolean storage_backend_stop(const SvStoragePoolDef *def, GError **error);

/* Look at the pool again. (transfer full) */
StorageRefresh *storage_backend_refresh(const SvStoragePoolDef *def, GError **error);

/* Remove what build made (a dir pool: its empty directory). */
gboolean storage_backend_delete(const SvStoragePoolDef *def, unsigned int flags,
                                GError **error);
