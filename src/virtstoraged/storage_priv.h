/* storage_priv.h: what virtstoraged's driver files share: the driver, the pool handles of
 * the wire, events, and the worker jobs of storage_jobs.c. */
#pragma once

#include "daemon/daemon.h"
#include "storage_pool.h"

typedef struct {
    SvDaemon *daemon;
    SvRemoteHandlers handlers;
    StoragePools *pools;
    char *run_dir;  /* ROOT/run/libvirt/storage: the driver's state */
    char *sock_dir; /* ROOT/run/libvirt: the other daemons' sockets */
} StorageDriver;

StorageDriver *storage_driver_of(SvCall *call);

/* The pool a call names (by UUID, as libvirt's storage driver finds it), with
 * NO_STORAGE_POOL when absent. (transfer none) */
StoragePool *storage_pool_of(StorageDriver *drv, const remote_nonnull_storage_pool *p,
                             GError **error);
/* The wire handle of a pool (its name copied). */
void storage_pool_make(remote_nonnull_storage_pool *out, const StoragePool *pool);
/* A lifecycle event (SV_STORAGE_POOL_EVENT_*) or, with -1, a refresh event for pool. */
void storage_pool_emit(StorageDriver *drv, const StoragePool *pool, int event);

/* libvirt's OPERATION_INVALID refusals: the pool must be active / inactive / free of jobs. */
gboolean storage_pool_check_active(const StoragePool *pool, gboolean want, GError **error);
gboolean storage_pool_check_idle(const StoragePool *pool, GError **error);

/* Blocking work on a worker for pool, the call (may be NULL: autostart, restart) answered
 * when it is done. */
typedef enum {
    STORAGE_JOB_BUILD,    /* build; CREATED event */
    STORAGE_JOB_START,    /* (build first if asked), start and refresh; STARTED event */
    STORAGE_JOB_REFRESH,  /* refresh; REFRESH event */
    STORAGE_JOB_STOP,     /* stop (an fs pool: unmount); STOPPED event */
    STORAGE_JOB_RECOVER,  /* a restarted daemon's look at a pool it found active: no event */
    STORAGE_JOB_DELETE,   /* delete; DELETED event */
    STORAGE_JOB_LAST
} StorageJobKind;

typedef struct {
    StorageJobKind kind;
    unsigned int flags;      /* build or delete flags */
    gboolean build_first;    /* START: build with `flags` first */
    gboolean reply_pool;     /* START of a CREATE_XML: the reply is the pool (and a failure
                              * removes it) */
} StorageJobSpec;

/* Queue the job; call (transfer full, deferred) is answered at its end. */
void storage_job_run(StorageDriver *drv, StoragePool *pool, const StorageJobSpec *spec,
                     SvCall *call);

/* Install the calls that change pools (storage_calls.c). */
void storage_calls_install(SvRemoteHandlers *h);
