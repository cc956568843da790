/* storage_backend_logical.h: the logical pool type (an LVM2 volume group), as libvirt 9.0's
 * storage_backend_logical.c drives LVM: pvcreate and vgcreate at build, vgchange -aly at
 * start, -aln at stop, vgremove and pvremove at delete, lvs and vgs at refresh, pvs for
 * source discovery. The steps block (workers only); the command lines and the parsers of
 * the tools' output are pure, for the golden tests. */
#pragma once

#include "conf/storage_vol_def.h"
#include "storage_backend.h"

/* ---- command lines (argv[0] the tool's path, as libvirt runs it: /sbin/NAME) */
GStrv storage_logical_argv_pvcreate(const char *device);
GStrv storage_logical_argv_pvremove(const char *device);
GStrv storage_logical_argv_vgcreate(const SvStoragePoolDef *def);
GStrv storage_logical_argv_vgchange(const SvStoragePoolDef *def, gboolean on);
GStrv storage_logical_argv_vgremove(const SvStoragePoolDef *def);
GStrv storage_logical_argv_vgs(const SvStoragePoolDef *def);
GStrv storage_logical_argv_lvs(const SvStoragePoolDef *def);
GStrv storage_logical_argv_pvs(void);
/* A volume's creation in the pool's group: capacity and allocation in bytes (an allocation
 * below the capacity makes a sparse snapshot volume), backing the path of the volume it
 * snapshots (NULL: none). */
GStrv storage_logical_argv_lvcreate(const SvStoragePoolDef *def, const char *name, guint64 capacity,
                                    guint64 allocation, const char *backing);
/* A volume's removal, and its deactivation (tried when the removal fails, before a second
 * removal). */
GStrv storage_logical_argv_lvremove(const char *path);
GStrv storage_logical_argv_lvchange_off(const char *path);

/* ---- parsers of the tools' output (libvirt's patterns; lines that do not match are
 * skipped) */
/* vgs: the group's size and free space. FALSE (INTERNAL_ERROR) when no line gives them
 * (or more free space than size). */
gboolean storage_logical_parse_vgs(const char *text, guint64 *size, guint64 *free_bytes,
                                   GError **error);
/* lvs: the volumes (StorageVol, block, at TARGET/NAME, capacity and allocation the LV's
 * size), one per name whatever its segments; thin pools and inactive volumes skipped. */
gboolean storage_logical_parse_lvs(const char *text, const char *target, GPtrArray *vols,
                                   GError **error);

/* A volume group and its physical volumes, as pvs lists them. */
typedef struct {
    char *name;
    GPtrArray *devices; /* char * */
} StorageLogicalSource;

void storage_logical_source_free(StorageLogicalSource *s);
/* pvs: the groups in order of first appearance (PVs in no group skipped).
 * (element-type StorageLogicalSource) */
GPtrArray *storage_logical_parse_pvs(const char *text);
/* libvirt's <sources> document of a logical pool's source discovery. (transfer full) */
char *storage_logical_format_sources(GPtrArray *sources);

/* ---- the steps */
gboolean storage_logical_build(const SvStoragePoolDef *def, unsigned int flags, GError **error);
/* libvirt's virStorageBackendLogicalMatchPoolSource (also a restarted daemon's check of a
 * pool it found active): pvs (after vgscan) must list the group, with one of the pool's
 * devices when it names any; CONFIG_UNSUPPORTED otherwise, as libvirtd answers. */
gboolean storage_logical_match_source(const SvStoragePoolDef *def, GError **error);
/* The group must be one pvs lists (CONFIG_UNSUPPORTED otherwise, as libvirtd answers), with
 * at least one of the pool's devices; then vgchange -aly. (The refresh follows.) */
gboolean storage_logical_start(const SvStoragePoolDef *def, GError **error);
StorageRefresh *storage_logical_refresh(const SvStoragePoolDef *def, GError **error);
gboolean storage_logical_stop(const SvStoragePoolDef *def, GError **error);
gboolean storage_logical_delete(const SvStoragePoolDef *def, unsigned int flags, GError **error);
/* CONNECT_FIND_STORAGE_POOL_SOURCES for the type: vgscan (its failure ignored), then pvs.
 * (transfer full) */
char *storage_logical_find_sources(GError **error);

/* libvirt's createVol: lvcreate (storage_logical_argv_lvcreate), the node's owner and mode,
 * the group's LVs read again (the new one must be there). Returns that listing. Blocks.
 * (transfer full) */
StorageRefresh *storage_logical_create_vol(const SvStoragePoolDef *def,
                                           const SvStorageVolDef *vol, GError **error);
/* libvirt's deleteVol: lvremove -f; when that fails, lvchange -aln and lvremove again.
 * Blocks. */
gboolean storage_logical_delete_vol(const char *path, GError **error);
