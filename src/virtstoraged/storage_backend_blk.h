/* storage_backend_blk.h: what the block-device pool types (disk, logical) share: running a
 * tool, libvirt's wipe of a device's first and last bytes before it is labelled, and
 * libvirt's probe of what a device holds (virStorageBackendDeviceIsEmpty). Each blocks: for
 * workers only. */
#pragma once

#include <glib.h>

/* Run argv (argv[0] a program name, found in the system's sbin and bin directories) to its
 * end with a clean environment (LC_ALL=C, a fixed PATH) and no shell; its standard output in
 * *ret_out (may be NULL). A failure in libvirt's words: INTERNAL_ERROR "Child process
 * (PATH ARGS) unexpected exit status N: STDERR". */
gboolean storage_blk_run(const char *const *argv, char **ret_out, GError **error);

/* libvirt's virStorageBackendZeroPartitionTable: zeros over the first and the last `size`
 * bytes of the device at path (all of it when smaller), synced. */
gboolean storage_blk_zero_ends(const char *path, guint64 size, GError **error);

/* What libvirt's probe finds on a device for a format (libblkid's superblock then
 * partition-table probes; here `blkid -p -o export`). */
typedef enum {
    STORAGE_BLK_PROBE_UNDEFINED, /* nothing found */
    STORAGE_BLK_PROBE_MATCH,     /* the format */
    STORAGE_BLK_PROBE_DIFFERENT, /* something else */
    STORAGE_BLK_PROBE_UNKNOWN,   /* a partition table format blkid cannot probe for */
} StorageBlkProbe;

/* The verdict on the text of `blkid -p -o export` (NULL: blkid found nothing) for format:
 * a file system's (TYPE) or, with partition_table, a partition table's (PTTYPE; a disk
 * pool's format, which blkid knows only for dos, gpt, mac, bsd and sun). Pure. */
StorageBlkProbe storage_blk_probe_parse(const char *export_text, const char *format,
                                        gboolean partition_table);

/* libvirt's virStorageBackendDeviceIsEmpty: whether device may be used for format, with
 * its errors: writelabel (a build) accepts an empty device and refuses one already holding
 * the format (STORAGE_POOL_BUILT) or another (STORAGE_POOL_BUILT, "forced overwrite is
 * necessary"); without it (a start) the device must hold the format (STORAGE_PROBE_FAILED
 * "requires build", OPERATION_INVALID for another format). */
gboolean storage_blk_check_device(const char *device, const char *format,
                                  gboolean partition_table, gboolean writelabel,
                                  GError **error);
