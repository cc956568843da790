/* storage_vol.h: virtstoraged's volumes: finding them (by pool and name, key or path), their
 * definitions, and their blocking work (create, clone, delete, wipe, resize, a re-read of the
 * file) on workers, answered on the loop as libvirt 9.0's storage driver answers. */
#pragma once

#include "conf/storage_vol_def.h"
#include "storage_priv.h"

/* Hang def (transfer full; NULL: none) off vol, its sizes taken from it. */
void storage_vol_set_def(StorageVol *vol, SvStorageVolDef *def);
/* vol's definition: the one a probe gave, or one made from what the refresh saw (a disk
 * pool's partition). (transfer none) */
SvStorageVolDef *storage_vol_def(StorageVol *vol);

/* A disk pool's partition `path` of device `dev` from start to end (bytes) as libvirt's
 * disk backend describes it: a block volume with its extent. Pure. (transfer full) */
SvStorageVolDef *storage_vol_partition_def(const char *dev, const char *path, guint64 start,
                                           guint64 end);
/* The permissions and timestamps of a disk pool's volume from its device node (blocks:
 * for workers). */
void storage_vol_stat_block(StorageVol *vol);

/* The volume formats of a pool type (libvirt's volOptions). */
SvVolFormats storage_vol_formats(int pool_type);

/* The wire handle of a volume (copies). */
void storage_vol_make(remote_nonnull_storage_vol *out, const StoragePool *pool,
                      StorageVol *vol);
/* The volume of an active pool by name; NULL with libvirt's NO_STORAGE_VOL. */
StorageVol *storage_vol_find(const StoragePool *pool, const char *name, GError **error);
/* The volume a call names (pool by name, active, volume by name), as libvirt's
 * virStorageVolDefFromVol. */
StorageVol *storage_vol_of(StorageDriver *drv, const remote_nonnull_storage_vol *v,
                           StoragePool **ret_pool, GError **error);
/* libvirt's OPERATION_INVALID for a volume being built or cloned from. */
gboolean storage_vol_check_idle(const StorageVol *vol, gboolean in_use_too, GError **error);

/* ---------------------------------------------------------------- worker jobs */

typedef enum {
    STORAGE_VOL_JOB_READ,    /* re-read the volume (info, XML): reply by the caller's fn */
    STORAGE_VOL_JOB_CREATE,  /* build a new volume (from `input` for a clone) */
    STORAGE_VOL_JOB_DELETE,
    STORAGE_VOL_JOB_WIPE,
    STORAGE_VOL_JOB_RESIZE,
    STORAGE_VOL_JOB_LAST
} StorageVolJobKind;

typedef struct StorageVolJob StorageVolJob;

/* What the read job's caller answers with the fresh volume. */
typedef void (*StorageVolReadReply)(SvCall *call, StoragePool *pool, StorageVol *vol,
                                    unsigned int flags);

typedef struct {
    StorageVolJobKind kind;
    unsigned int flags;
    const char *algorithm;        /* WIPE */
    guint64 capacity;             /* RESIZE: the new capacity */
    guint64 delta;                /* RESIZE: what ALLOCATE adds to the pool's allocation */
    StorageVolReadReply read_reply; /* READ */
    SvStorageVolDef *def;         /* CREATE: the new volume's definition (transfer full) */
} StorageVolJobSpec;

/* Run the job on vol of pool (for CREATE, vol is the new volume, already in the pool's list
 * and marked building; `input` the volume cloned from, in `input_pool`, or NULL). call
 * (transfer full, deferred) is answered when it is done. */
void storage_vol_job_run(StorageDriver *drv, StoragePool *pool, StorageVol *vol,
                         StoragePool *input_pool, StorageVol *input,
                         const StorageVolJobSpec *spec, SvCall *call);

/* The thread a disk pool's partition-table changes (create, delete) run on, one at a time:
 * libvirt holds the pool's lock through parted, so a second waits for the first. */
GThreadPool *storage_vol_tables_new(void);

/* Install the volume calls (storage_vol_calls.c). */
void storage_vol_calls_install(SvRemoteHandlers *h);
/* Install STORAGE_VOL_UPLOAD and STORAGE_VOL_DOWNLOAD (storage_vol_stream.c). */
void storage_vol_stream_install(SvRemoteHandlers *h);
