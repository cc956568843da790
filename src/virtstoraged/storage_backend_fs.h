/* storage_backend_fs.h: the fs pool type's steps (storage_backend_fs.c), each blocking: for
 * workers only. */
#pragma once

#include "conf/storage_pool_def.h"

/* mkfs -t FORMAT on the pool's device (build with OVERWRITE, or NO_OVERWRITE when blkid
 * finds no file system there). */
gboolean storage_fs_make(const SvStoragePoolDef *def, unsigned int flags, GError **error);
/* mount -t FORMAT DEVICE TARGET; refused when the target is a mount point already. */
gboolean storage_fs_mount(const SvStoragePoolDef *def, GError **error);
/* A restarted daemon's check of a pool it found active: the target is still mounted. */
gboolean storage_fs_check_mounted(const SvStoragePoolDef *def, GError **error);
/* umount TARGET when it is mounted. */
gboolean storage_fs_unmount(const SvStoragePoolDef *def, GError **error);

/* Run a tool (argv, a clean environment) to its end, its standard output in *ret_out (may
 * be NULL). Without ret_status, FALSE with libvirt's words for a child that failed ("Child
 * process (ARGV) unexpected exit status N: STDERR"); with it, its exit status is given
 * instead. Shared by the backends. */
gboolean storage_tool_run(const char *const *argv, char **ret_out, int *ret_status,
                          GError **error);

/* What blkid finds on a device (a file system's or a partition table's type), "" for
 * nothing. (transfer full) */
char *storage_probe_device(const char *device, GError **error);

/* Zero the first and last MiB of a device (old labels and partition tables), as libvirt
 * does before pvcreate, mklabel and at a disk pool's delete. */
gboolean storage_zero_ends(const char *path, GError **error);

/* libvirt's NO_OVERWRITE check (blkid): TRUE when the device holds nothing blkid knows;
 * STORAGE_POOL_BUILT naming what it holds otherwise (format: blkid's name of the type the
 * pool would write). */
gboolean storage_fs_check_empty(const char *device, const char *format, GError **error);

/* Whether the text of /proc/self/mounts has a mount on target. Pure. */
gboolean storage_fs_mounts_has(const char *mounts, const char *target);
