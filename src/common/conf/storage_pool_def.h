/* storage_pool_def.h: a storage pool's definition, its XML read and written as libvirt 9.0's
 * storage_conf.c does (the storagepool schema and `virsh pool-dumpxml`). */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* libvirt's virStoragePoolType (9.0), in its order: the numbers appear in its messages. */
typedef enum {
    SV_STORAGE_POOL_DIR,
    SV_STORAGE_POOL_FS,
    SV_STORAGE_POOL_NETFS,
    SV_STORAGE_POOL_LOGICAL,
    SV_STORAGE_POOL_DISK,
    SV_STORAGE_POOL_ISCSI,
    SV_STORAGE_POOL_ISCSI_DIRECT,
    SV_STORAGE_POOL_SCSI,
    SV_STORAGE_POOL_MPATH,
    SV_STORAGE_POOL_RBD,
    SV_STORAGE_POOL_SHEEPDOG,
    SV_STORAGE_POOL_GLUSTER,
    SV_STORAGE_POOL_ZFS,
    SV_STORAGE_POOL_VSTORAGE,
    SV_STORAGE_POOL_TYPE_LAST
} SvStoragePoolType;

const char *sv_storage_pool_type_to_string(int type);
int sv_storage_pool_type_from_string(const char *s);

/* Whether virtstoraged has a backend for the type: dir, fs, logical and disk, so far. */
gboolean sv_storage_pool_type_supported(int type);

typedef struct {
    char *name;
    int port; /* 0: none */
} SvStoragePoolHost;

/* A free region of a disk pool's device (status, never parsed): bytes, end excluded. */
typedef struct {
    guint64 start;
    guint64 end;
    gboolean logical; /* inside a dos table's extended partition (libvirt's FREE_LOGICAL) */
} SvStoragePoolExtent;

/* The target's permissions; -1 (and NULL) where the XML gives none. */
typedef struct {
    int mode;
    gint64 uid;
    gint64 gid;
    char *label;
} SvStoragePerms;

typedef struct {
    int type;                  /* SvStoragePoolType */
    char *name;
    guint8 uuid[16];
    /* Status, never parsed: what the last refresh found. */
    guint64 capacity;
    guint64 allocation;
    guint64 available;
    struct {
        GPtrArray *hosts;      /* SvStoragePoolHost */
        GPtrArray *devices;    /* char * paths */
        GArray *free_extents;  /* SvStoragePoolExtent of the first device (a disk pool's,
                                * after a refresh); written as its <freeExtent>s */
        char *dir;
        char *name;
        gboolean has_adapter;  /* <adapter> given (scsi types; not kept) */
        char *format;          /* NULL: the type has no format */
    } source;
    char *target_path;
    SvStoragePerms perms;
} SvStoragePoolDef;

void sv_storage_pool_def_free(SvStoragePoolDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvStoragePoolDef, sv_storage_pool_def_free)

/* Parse a pool's XML with libvirt's errors (error domain STORAGE, XML for the attribute
 * errors of the root); a missing <uuid> gets a random one. A type splitvirt has no backend
 * for parses (define refuses it: sv_storage_pool_def_check_backend). (transfer full) */
SvStoragePoolDef *sv_storage_pool_def_parse(const char *xml, GError **error);

/* libvirt's refusal of a type without a backend: INTERNAL_ERROR "missing backend for pool
 * type N (NAME)". TRUE when the type has one. */
gboolean sv_storage_pool_def_check_backend(const SvStoragePoolDef *def, GError **error);

/* The XML libvirt writes for def (GET_XML_DESC and the file on disk). (transfer full) */
char *sv_storage_pool_def_format(const SvStoragePoolDef *def);

/* A deep copy. (transfer full) */
SvStoragePoolDef *sv_storage_pool_def_copy(const SvStoragePoolDef *def);
