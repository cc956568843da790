/* storage_backend_disk.h: the disk pool type's steps (storage_backend_disk.c), each
 * blocking: for workers only. */
#pragma once

#include "storage_backend.h"

/* parted mklabel (msdos for dos and unknown) after blkid finds the device empty, unless
 * OVERWRITE; the device's ends zeroed first. */
gboolean storage_disk_build(const SvStoragePoolDef *def, unsigned int flags, GError **error);
/* Start's check: the device exists and holds a table of the pool's type (libvirt's
 * STORAGE_PROBE_FAILED "requires build" when it holds none). */
gboolean storage_disk_check(const SvStoragePoolDef *def, GError **error);
/* The partitions (volumes) and free extents (parted -m unit B print free). (transfer full) */
StorageRefresh *storage_disk_refresh(const SvStoragePoolDef *def, GError **error);
/* Wipe the table (the device's ends zeroed). */
gboolean storage_disk_delete(const SvStoragePoolDef *def, unsigned int flags, GError **error);

/* parted's machine-readable "print free" of device dev into r (whose vols and free_extents
 * exist): libvirt's figures (capacity the last region's end, allocation the partitions',
 * available the free extents'). Pure. */
gboolean storage_disk_parse_parted(const char *dev, const char *text, StorageRefresh *r);

/* parted's machine-readable "unit chs print": the BIOS geometry's heads and sectors per
 * track (libvirt's disk geometry, whose cylinder aligns dos partitions). Pure. */
gboolean storage_disk_parse_geometry(const char *text, guint *ret_heads, guint *ret_sectors);
/* The partition argument of parted mkpart for a new volume of partition format `format`
 * (SvVolDiskFormat) in the table r lists, with libvirt's rules: "primary" on GPT; on dos
 * "primary FS" while fewer than four primary and extended partitions exist, then
 * "logical FS" inside the extended one, or "extended" for one (only one). Pure. */
char *storage_disk_part_format(const StorageRefresh *r, gboolean dos, int format,
                               GError **error);
/* libvirt's choice of place for a partition of `size` bytes: the smallest free region
 * (logical or not as the partition) that holds it, on dos rounded to the cylinder `cyl`;
 * *ret_end is the last byte. Pure. */
gboolean storage_disk_part_bounds(const StorageRefresh *r, gboolean dos, guint64 cyl,
                                  guint64 size, guint64 *ret_start, guint64 *ret_end,
                                  GError **error);
/* Make the partition volume `name` (libvirt's createVol: parted mkpart where
 * storage_disk_part_bounds says, the table read again; a partition whose name is not `name`
 * is removed again with libvirt's INVALID_ARG, and *ret_cut is what libvirt's pool then
 * knows: the free regions before it). Returns the listing after. (transfer full) */
StorageRefresh *storage_disk_create_vol(const SvStoragePoolDef *def, const char *name,
                                        int format, guint64 capacity, StorageRefresh **ret_cut,
                                        GError **error);
/* The partition number parted rm gets for the partition node part_path of device dev, as
 * libvirt takes it: what follows the device's name ("2" for sda2, but "p1" for loop0p1,
 * which parted refuses, as under libvirtd). Pure. (transfer full) */
char *storage_disk_part_number(const char *dev, const char *part_path, GError **error);
/* parted rm of the partition at path (resolved, storage_disk_part_number), then the
 * listing after. (transfer full) */
StorageRefresh *storage_disk_delete_vol(const SvStoragePoolDef *def, const char *path,
                                        GError **error);
