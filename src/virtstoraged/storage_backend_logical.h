/* storage_backend_logical.h: the logical pool type's steps (storage_backend_logical.c), each
 * blocking: for workers only. */
#pragma once

#include "conf/storage_pool_def.h"

/* pvcreate each device (after blkid finds it empty, unless OVERWRITE; its ends zeroed), then
 * vgcreate the pool's VG on them. */
gboolean storage_logical_build(const SvStoragePoolDef *def, unsigned int flags, GError **error);
/* vgchange -aly (after checking with pvs that the VG exists on the pool's devices), or
 * -aln. */
gboolean storage_logical_set_active(const SvStoragePoolDef *def, gboolean on, GError **error);
/* The VG exists on the pool's devices (pvs), with libvirt's CONFIG_UNSUPPORTED words when
 * not. */
gboolean storage_logical_match_source(const SvStoragePoolDef *def, GError **error);
/* The VG's size and free bytes (vgs). */
gboolean storage_logical_refresh(const SvStoragePoolDef *def, guint64 *capacity,
                                 guint64 *available, GError **error);
/* vgremove -f the VG, pvremove its devices. */
gboolean storage_logical_delete(const SvStoragePoolDef *def, unsigned int flags,
                                GError **error);
/* CONNECT_FIND_STORAGE_POOL_SOURCES for logical: every VG with its PVs (pvs). (transfer
 * full) */
char *storage_logical_find_sources(GError **error);

/* Pure parsers of the tools' output, and the sources' XML. */
GPtrArray *storage_logical_parse_pvs(const char *text);
gboolean storage_logical_parse_vgs(const char *text, guint64 *size, guint64 *free_bytes);
char *storage_logical_format_sources(GPtrArray *pairs);
