/* storage_vol_def.h: a storage volume's definition, its XML read and written as libvirt
 * 9.0's storage_conf.c does (vol-create input, vol-dumpxml output). */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "util/qemu_img.h"

/* The volume's type attribute (libvirt's virStorageVolType). */
typedef enum {
    SV_VOL_TYPE_FILE,
    SV_VOL_TYPE_BLOCK,
    SV_VOL_TYPE_DIR,
    SV_VOL_TYPE_NETWORK,
    SV_VOL_TYPE_NETDIR,
    SV_VOL_TYPE_PLOOP,
    SV_VOL_TYPE_LAST
} SvVolType;

/* Image formats of file-backed pools (libvirt's virStorageFileFormat, same order). */
typedef enum {
    SV_VOL_FORMAT_NONE,
    SV_VOL_FORMAT_RAW,
    SV_VOL_FORMAT_DIR,
    SV_VOL_FORMAT_BOCHS,
    SV_VOL_FORMAT_CLOOP,
    SV_VOL_FORMAT_DMG,
    SV_VOL_FORMAT_ISO,
    SV_VOL_FORMAT_VPC,
    SV_VOL_FORMAT_VDI,
    SV_VOL_FORMAT_FAT,
    SV_VOL_FORMAT_VHD,
    SV_VOL_FORMAT_PLOOP,
    SV_VOL_FORMAT_COW,
    SV_VOL_FORMAT_QCOW,
    SV_VOL_FORMAT_QCOW2,
    SV_VOL_FORMAT_QED,
    SV_VOL_FORMAT_VMDK,
    SV_VOL_FORMAT_LAST
} SvVolFormat;

/* Partition formats of disk pools (libvirt's virStorageVolFormatDisk). */
typedef enum {
    SV_VOL_DISK_NONE,
    SV_VOL_DISK_LINUX,
    SV_VOL_DISK_FAT16,
    SV_VOL_DISK_FAT32,
    SV_VOL_DISK_LINUX_SWAP,
    SV_VOL_DISK_LINUX_LVM,
    SV_VOL_DISK_LINUX_RAID,
    SV_VOL_DISK_EXTENDED,
    SV_VOL_DISK_LAST
} SvVolDiskFormat;

/* Which format names a pool's volumes take: libvirt's volOptions of the pool type. */
typedef enum {
    SV_VOL_FORMATS_FILE,   /* dir, fs, netfs, gluster, vstorage, rbd: SvVolFormat, raw default */
    SV_VOL_FORMATS_DISK,   /* disk: SvVolDiskFormat, none default */
    SV_VOL_FORMATS_NONE,   /* logical, iscsi, scsi, mpath, zfs...: no <format> at all */
    SV_VOL_FORMATS_LAST
} SvVolFormats;

/* Encryption formats (libvirt 9.0's virStorageEncryptionFormat) and engines. */
typedef enum {
    SV_VOL_ENC_DEFAULT,
    SV_VOL_ENC_QCOW,
    SV_VOL_ENC_LUKS,
    SV_VOL_ENC_LAST
} SvVolEncFormat;

typedef enum {
    SV_VOL_ENC_ENGINE_DEFAULT,
    SV_VOL_ENC_ENGINE_QEMU,
    SV_VOL_ENC_ENGINE_LIBRBD,
    SV_VOL_ENC_ENGINE_LAST
} SvVolEncEngine;

/* qcow2 features (libvirt 9.0's virStorageFileFeature), as bits of SvVolTarget.features. */
typedef enum {
    SV_VOL_FEATURE_LAZY_REFCOUNTS,
    SV_VOL_FEATURE_LAST
} SvVolFeature;

/* Parse flags (libvirt's VIR_VOL_XML_PARSE_*, plus one of ours). */
typedef enum {
    SV_VOL_PARSE_NO_CAPACITY = 1 << 0,  /* <capacity> may be missing */
    SV_VOL_PARSE_OPT_CAPACITY = 1 << 1, /* ... when there is a backing store */
    /* Also read what libvirt only writes (physical, timestamps, source extents): for a
     * definition the daemon wrote itself, or a dumped one compared with its text. */
    SV_VOL_PARSE_DISPLAY = 1 << 2,
} SvVolParseFlags;

/* Permissions: -1 in any field means "not given". */
typedef struct {
    gint64 mode;
    gint64 uid;
    gint64 gid;
    char *label;
} SvVolPerms;

/* One timestamp; nsec -1: absent. */
typedef struct {
    gint64 sec;
    glong nsec;
} SvVolTime;

/* One <secret> of an <encryption>: by UUID or by usage. */
typedef struct {
    gboolean by_uuid;
    guint8 uuid[16];
    char *usage;
} SvVolSecret;

typedef struct SvVolEncryption {
    int format;         /* SvVolEncFormat */
    int engine;         /* SvVolEncEngine */
    GPtrArray *secrets; /* of SvVolSecret */
    char *cipher_name;  /* NULL: no <cipher> */
    guint cipher_size;
    char *cipher_mode;
    char *cipher_hash;
    char *ivgen_name;   /* NULL: no <ivgen> */
    char *ivgen_hash;
} SvVolEncryption;

/* An encryption of `format` (SvVolEncFormat) with no secret yet: what a probe finds. */
SvVolEncryption *sv_vol_encryption_new(int format);
void sv_vol_encryption_free(SvVolEncryption *enc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvVolEncryption, sv_vol_encryption_free)
/* libvirt's <encryption> element (virStorageEncryptionParseNode, STORAGE errors), which
 * volumes and domain disks share; and its formatter, at `ind` spaces. */
SvVolEncryption *sv_vol_encryption_parse(const xmlNode *node, GError **error);
void sv_vol_encryption_format(GString *s, int ind, const SvVolEncryption *enc);

/* The <target> of a volume, and the <backingStore> (which libvirt writes with the same
 * function, so the same fields). */
typedef struct {
    char *path;
    int format; /* SvVolFormat or SvVolDiskFormat by the pool's SvVolFormats */
    SvVolPerms perms;
    gboolean has_timestamps;
    SvVolTime atime, mtime, ctime, btime;
    SvVolEncryption *encryption; /* NULL: none */
    char *compat;                /* NULL: none */
    gboolean nocow;              /* read, never written (libvirt does the same) */
    guint64 cluster_size;        /* 0: none */
    gboolean has_features;       /* <features> present (maybe empty) */
    guint features;              /* bits 1 << SvVolFeature */
} SvVolTarget;

/* One extent of <source> (disk and logical pools). */
typedef struct {
    char *path;
    guint64 start;
    guint64 end;
} SvVolExtent;

typedef struct {
    char *name;
    char *key;   /* NULL: none */
    int type;    /* SvVolType */
    guint64 capacity;
    guint64 allocation; /* the capacity when not given */
    gboolean has_allocation;
    guint64 physical;   /* 0: not written */
    guint64 luks_payload; /* a raw file's LUKS header says its data start here (bytes); 0:
                           * none. Not written: the capacity of an encrypted raw volume
                           * (sv_storage_vol_def_luks_capacity) */
    GPtrArray *extents; /* of SvVolExtent */
    SvVolTarget target;
    SvVolTarget *backing; /* NULL: no backing store */
} SvStorageVolDef;

void sv_storage_vol_def_free(SvStorageVolDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvStorageVolDef, sv_storage_vol_def_free)

/* A new definition with libvirt's defaults (type file, no permissions). (transfer full) */
SvStorageVolDef *sv_storage_vol_def_new(void);
/* A new target with no permissions, for a backing store. (transfer full) */
SvVolTarget *sv_vol_target_new(void);
void sv_vol_target_free(SvVolTarget *t);

/* libvirt's names; NULL / -1 outside the tables. */
const char *sv_vol_type_to_string(int type);
int sv_vol_type_from_string(const char *s);
const char *sv_vol_format_to_string(int format);
int sv_vol_format_from_string(const char *s); /* "none" gives -1, as libvirt's volumes */
const char *sv_vol_disk_format_to_string(int format);
int sv_vol_disk_format_from_string(const char *s);
const char *sv_vol_enc_format_to_string(int format);
int sv_vol_enc_format_from_string(const char *s);
const char *sv_vol_feature_to_string(int feature);
int sv_vol_feature_from_string(const char *s);

/* libvirt's virScaleInteger: `value` in `unit` (NULL or "": `scale`) in bytes, at most
 * `limit`; INVALID_ARG "unknown suffix" or OVERFLOW "value too large", error domain NONE. */
gboolean sv_storage_scale(guint64 *value, const char *unit, guint64 scale, guint64 limit,
                          GError **error);

/* Parse a volume's XML for a pool whose volumes take `formats`, with libvirt's errors
 * (error domain STORAGE, XML for attribute errors). (transfer full) */
SvStorageVolDef *sv_storage_vol_def_parse(const char *xml, SvVolFormats formats, guint flags,
                                          GError **error);

/* The XML libvirt writes for def (vol-dumpxml). (transfer full) */
char *sv_storage_vol_def_format(const SvStorageVolDef *def, SvVolFormats formats);

/* What libvirt's directory-pool backends do before creating a volume in `pool_path`: the
 * type from the format, the name checked (no '/': OPERATION_INVALID), the target path set
 * to POOL/NAME and refused when something is there already. Also the key = the path. */
gboolean sv_storage_vol_def_local_target(SvStorageVolDef *def, const char *pool_path,
                                         GError **error);

/* Replace the target's encryption with `enc` (transfer full). */
void sv_storage_vol_def_set_encryption(SvStorageVolDef *def, SvVolEncryption *enc);

/* libvirt's capacity of a raw volume whose definition has an <encryption> and whose file is
 * LUKS: the file's size less the header before the data. Nothing for other volumes. */
void sv_storage_vol_def_luks_capacity(SvStorageVolDef *def);

/* The volume as the qemu-img and raw-file tools (util/qemu_img.h) take it, for a volume of
 * a file pool (SV_VOL_FORMATS_FILE): every pointer points into def (transfer none), so def
 * outlives out. The secret's file (secret_path) is the caller's to set. */
void sv_storage_vol_def_tool_vol(const SvStorageVolDef *def, SvQemuImgVol *out);
