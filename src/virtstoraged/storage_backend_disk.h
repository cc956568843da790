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
