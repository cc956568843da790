/* storage_backend_blk.h: what the block-device pool types (disk, logical) share: libvirt's
 * wipe of a device's first and last bytes before it is labelled, and libvirt's probe of what
 * a device holds (virStorageBackendDeviceIsEmpty). Each blocks: for workers only. (Tools run
 * through storage_tool_run, storage_backend_fs.h.) */
#pragma once

#include <glib.h>

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
gboolean storage_blk_check_device(const char *device, const char *format, gboolean partition_table,
                                  gboolean writelabel, GError **error);
