/* storage_backend_disk.h: the disk pool type (a whole disk's partitions), as libvirt 9.0's
 * storage_backend_disk.c does it: `parted DEVICE mklabel --script LABEL` at build, the label
 * checked at start, the partitions listed as the pool's volumes at refresh (libvirt asks its
 * libvirt_parthelper; here `parted -m -s DEVICE unit B print free`), the label wiped at
 * delete. The steps block
 * (workers only); command lines and the parser are pure, for the golden tests. */
#pragma once

#include "storage_backend.h"

/* The label parted writes for a pool format: msdos for dos (and for unknown, which libvirt
 * builds as dos), else the format's name. */
const char *storage_disk_label(const char *format);

GStrv storage_disk_argv_mklabel(const char *device, const char *format);
GStrv storage_disk_argv_print(const char *device);

/* A partition's device: DEVICE, "p" when DEVICE ends with a digit, and the number
 * (/dev/sda1, /dev/loop5p1). (transfer full) */
char *storage_disk_partition_path(const char *device, guint number);

/* The output of storage_disk_argv_print as libvirt's refresh sees the disk: the partitions
 * as block volumes named after their devices (path: `target`'s link to the device when the
 * target is a directory of stable names such as /dev/disk/by-path, else the device),
 * capacity and allocation each partition's size; the pool's capacity where the last
 * partition or free region ends (the label's metadata at the end not counted), allocation
 * the partitions' sizes, available the free regions' (from byte 512 on). */
StorageRefresh *storage_disk_parse_print(const char *text, const char *device, const char *target,
                                         GError **error);

gboolean storage_disk_build(const SvStoragePoolDef *def, unsigned int flags, GError **error);
/* The device must exist and hold a label of the pool's format (an unknown format: dos).
 * (The refresh follows; it settles an unknown format as dos, as libvirt's start does.) */
gboolean storage_disk_start(const SvStoragePoolDef *def, GError **error);
StorageRefresh *storage_disk_refresh(const SvStoragePoolDef *def, GError **error);
/* Wipe the label: zeros over the first and last MiB of the disk. */
gboolean storage_disk_delete(const SvStoragePoolDef *def, unsigned int flags, GError **error);
