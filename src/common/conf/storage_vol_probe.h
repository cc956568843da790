/* storage_vol_probe.h: a directory pool's volume as libvirt 9.0's pool refresh finds it in
 * its file: sizes, permissions and timestamps from stat, the format and what the image
 * header says (qcow2: virtual size, cluster size, compat and features, backing store). */
#pragma once

#include <glib.h>
#include <sys/stat.h>

#include "conf/storage_vol_def.h"

/* What a qcow2 header says (libvirt's storage_file_probe.c reads the same fields). */
typedef struct {
    guint version;
    guint64 size;          /* virtual size */
    guint cluster_bits;
    guint crypt_method;    /* 0 none, 1 AES (libvirt's "qcow"), 2 LUKS */
    char *backing;         /* NULL: none */
    char *backing_format;  /* from the header extension; NULL: not recorded */
    guint64 compatible_features;
    /* the header names a backing file that lies outside the bytes given, or one longer
     * than QEMU takes (1023 bytes): backing is NULL then */
    gboolean backing_out_of_reach;
    const char *malformed; /* why the bytes are no qcow2 header (parse FALSE), static */
} SvQcow2Header;

void sv_qcow2_header_clear(SvQcow2Header *h);

/* Parse the first `len` bytes of a file: FALSE when they are no qcow2 header (or a
 * truncated one), with out->malformed saying why. Pure. The one qcow2 header reader: the
 * storage pools' probes and virtqemud's backing chains use it. */
gboolean sv_qcow2_header_parse(const guint8 *buf, gsize len, SvQcow2Header *out);

/* The volume at `path` as libvirt's dir pool refresh describes it (vol-dumpxml of a volume
 * the pool found): name and key from the path, type file or dir, capacity (the image's
 * virtual size, the file's size for raw), allocation (blocks in use), physical (the file's
 * size), permissions, timestamps, format (qcow2 recognised by its header, raw otherwise),
 * compat/features/clusterSize of a qcow2, and its backing store (a relative path made
 * absolute from the image's directory) with that file's permissions and timestamps.
 * Note: libvirtd's XML of a volume it has just created (vol-create, before any pool-refresh)
 * lacks the <clusterSize> this gives; after a refresh the two are the same (checked by hand
 * against Debian's libvirtd 9.0.0).
 * (transfer full) */
SvStorageVolDef *sv_storage_vol_probe(const char *path, GError **error);

/* A target's permissions and timestamps from its stat, as libvirt writes them (mode's 0777
 * bits, birth time 0). */
void sv_vol_target_fill_stat(SvVolTarget *t, const struct stat *st);
