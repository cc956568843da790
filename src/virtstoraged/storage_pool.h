/* storage_pool.h: virtstoraged's pools, in memory and on disk as libvirt 9.0 keeps them:
 * ROOT/etc/libvirt/storage/NAME.xml (a persistent pool's definition), the link
 * ROOT/etc/libvirt/storage/autostart/NAME.xml, and ROOT/run/libvirt/storage/NAME.xml (an
 * active pool's live definition, which a restarted daemon finds active again). */
#pragma once

#include "conf/storage_pool_def.h"

/* A disk pool's partition kind (libvirt's virStorageVolTypeDisk): GPT partitions are all
 * primary; a dos table's partitions 5 and up are logical, inside its one extended one. */
typedef enum {
    STORAGE_PART_NONE,
    STORAGE_PART_PRIMARY,
    STORAGE_PART_LOGICAL,
    STORAGE_PART_EXTENDED,
    STORAGE_PART_LAST
} StoragePartType;

/* A volume of an active pool, as the last refresh found it. The volume library hangs its own
 * definition off `def` (NULL until it does). */
typedef struct {
    char *name;
    char *path;
    int type;             /* libvirt's virStorageVolType: 0 file, 1 block, 2 dir */
    guint64 capacity;
    guint64 allocation;
    gpointer def;
    GDestroyNotify def_free;
    gboolean building;    /* being created on a worker (libvirt's "still being allocated") */
    guint in_use;         /* the source of clones under way */
    StoragePartType part_type; /* a disk pool's partition; NONE otherwise */
} StorageVol;

void storage_vol_free(StorageVol *vol);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StorageVol, storage_vol_free)

/* A free region of a disk pool's device, in bytes, end excluded. */
typedef SvStoragePoolExtent StorageFreeExtent;

typedef struct {
    SvStoragePoolDef *def;      /* the live definition (the only one while inactive) */
    SvStoragePoolDef *new_def;  /* a redefinition made while active, applied at its stop */
    gboolean active;
    gboolean persistent;
    gboolean autostart;
    guint jobs;                 /* build, start, refresh or delete on a worker */
    GPtrArray *vols;            /* StorageVol, while active */
} StoragePool;

/* Make vols (transfer full) the pool's volume list, as a refresh or a disk pool's table
 * change found them: a volume found again keeps its marks (in use, building), and one still
 * being built, which the listing cannot know yet, stays. */
void storage_pool_replace_vols(StoragePool *pool, GPtrArray *vols);

typedef struct StoragePools StoragePools;

/* The pools of the directories config_dir (definitions; autostart/ in it) and state_dir
 * (live definitions). (transfer full) */
StoragePools *storage_pools_new(const char *config_dir, const char *state_dir);
void storage_pools_free(StoragePools *pools);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoragePools, storage_pools_free)

/* Create the directories and load every definition, then every live definition (those pools
 * are active again; a live one without a definition is a transient pool). A file that does
 * not read, or whose name is not its pool's, is skipped with a warning. Returns how many
 * pools there are, or -1 when the directories cannot be made. */
int storage_pools_load(StoragePools *pools, GError **error);

/* The pools in definition order. (transfer none) */
GPtrArray *storage_pools_list(StoragePools *pools);
/* With libvirt's NO_STORAGE_POOL errors when absent. (transfer none) */
StoragePool *storage_pools_find_name(StoragePools *pools, const char *name, GError **error);
StoragePool *storage_pools_find_uuid(StoragePools *pools, const guint8 uuid[16],
                                     GError **error);

/* libvirt's virStoragePoolObjListAdd checks for a new definition: another pool with its name
 * or its UUID, or with its target (a dir pool's directory). Returns the pool def redefines
 * (NULL for a new one, with *error unset). */
StoragePool *storage_pools_check_add(StoragePools *pools, const SvStoragePoolDef *def,
                                     GError **error);

/* Add def (transfer full) as a pool, inactive and transient; or, for `old` (what
 * storage_pools_check_add gave), replace its definition (kept as new_def while active). */
StoragePool *storage_pools_add(StoragePools *pools, StoragePool *old, SvStoragePoolDef *def);
/* Forget pool; it is freed. */
void storage_pools_remove(StoragePools *pools, StoragePool *pool);

/* The definition file of pool, written durably (the inactive definition: new_def if any). */
gboolean storage_pools_save_config(StoragePools *pools, StoragePool *pool, GError **error);
/* Remove the definition file and the autostart link. */
gboolean storage_pools_delete_config(StoragePools *pools, StoragePool *pool, GError **error);
/* Create or remove the autostart link. */
gboolean storage_pools_set_autostart(StoragePools *pools, StoragePool *pool, gboolean on,
                                     GError **error);
/* The live definition file: written when the pool becomes active, removed when it stops. */
gboolean storage_pools_save_state(StoragePools *pools, StoragePool *pool, GError **error);
void storage_pools_delete_state(StoragePools *pools, StoragePool *pool);

/* Stop pool's bookkeeping: inactive, volumes dropped, live file removed, a pending
 * redefinition applied. A transient pool is removed (and freed): returns FALSE then. */
gboolean storage_pools_deactivate(StoragePools *pools, StoragePool *pool);
