/* storage_backend_fs.h: the fs pool type's steps (storage_backend_fs.c), each blocking: for
 * workers only. */
#pragma once

#include "conf/storage_pool_def.h"

/* mkfs -t FORMAT on the pool's device (build with OVERWRITE, or NO_OVERWRITE when blkid
 * finds no file system there). */
gboolean storage_fs_make(const SvStoragePoolDef *def, unsigned int flags, GError **error);
/* mount -t FORMAT DEVICE TARGET; refused when the target is a mount point already. */
gboolean storage_fs_mount(const SvStoragePoolDef *def, GError **error);
/* umount TARGET when it is mounted. */
gboolean storage_fs_unmount(const SvStoragePoolDef *def, GError **error);

/* Whether the text of /proc/self/mounts has a mount on target. Pure. */
gboolean storage_fs_mounts_has(const char *mounts, const char *target);
