/* storage_jobs.c: a pool's blocking work on a worker thread and its completion on the loop
 * (storage_priv.h). The worker gets a copy of the definition; the completion finds the pool
 * again by UUID (it may have gone meanwhile) and applies the result, persists, emits the
 * event and answers the call. */
#include <gio/gio.h>
#include <string.h>

#include "storage_backend.h"
#include "storage_priv.h"
#include "util/error.h"

typedef struct {
    StorageDriver *drv;
    StorageJobSpec spec;
    SvCall *call;             /* NULL: nobody waits */
    guint8 uuid[16];
    SvStoragePoolDef *def;    /* the worker's copy */
    StorageRefresh *result;   /* START, REFRESH, RECOVER */
} StorageJob;

static void
job_free(StorageJob *j)
{
    sv_storage_pool_def_free(j->def);
    storage_refresh_free(j->result);
    g_free(j);
}

static const char *const job_names[STORAGE_JOB_LAST] = {
    [STORAGE_JOB_BUILD] = "build",     [STORAGE_JOB_START] = "start",
    [STORAGE_JOB_REFRESH] = "refresh", [STORAGE_JOB_STOP] = "stop",
    [STORAGE_JOB_RECOVER] = "recover",
    [STORAGE_JOB_DELETE] = "delete",
};

/* ---------------------------------------------------------------- worker */

static void
job_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
    StorageJob *j = data;
    GError *error = NULL;
    gboolean ok = TRUE;

    (void)src;
    (void)c;
    switch (j->spec.kind) {
    case STORAGE_JOB_BUILD:
        ok = storage_backend_build(j->def, j->spec.flags, &error);
        break;
    case STORAGE_JOB_START:
        ok = !j->spec.build_first || storage_backend_build(j->def, j->spec.flags, &error);
        ok = ok && (j->result = storage_backend_start(j->def, &error)) != NULL;
        break;
    case STORAGE_JOB_REFRESH:
        ok = (j->result = storage_backend_refresh(j->def, &error)) != NULL;
        if (!ok) /* libvirt stops a pool whose refresh fails */
            (void)storage_backend_stop(j->def, NULL);
        break;
    case STORAGE_JOB_RECOVER:
        ok = storage_backend_check(j->def, &error) &&
             (j->result = storage_backend_refresh(j->def, &error)) != NULL;
        break;
    case STORAGE_JOB_STOP:
        ok = storage_backend_stop(j->def, &error);
        break;
    case STORAGE_JOB_DELETE:
        ok = storage_backend_delete(j->def, j->spec.flags, &error);
        break;
    default:
        g_assert_not_reached();
    }
    if (ok)
        g_task_return_boolean(task, TRUE);
    else
        g_task_return_error(task, error);
}

/* ---------------------------------------------------------------- completion */

/* The refresh's findings become the pool's status and volumes. */
static void
apply_refresh(StoragePool *pool, StorageRefresh *r)
{
    pool->def->capacity = r->capacity;
    pool->def->allocation = r->allocation;
    pool->def->available = r->available;
    if (r->has_perms) {
        pool->def->perms.mode = r->mode;
        pool->def->perms.uid = r->uid;
        pool->def->perms.gid = r->gid;
    }
    storage_pool_replace_vols(pool, g_steal_pointer(&r->vols));
    if (r->free_extents) {
        g_array_set_size(pool->def->source.free_extents, 0);
        g_array_append_vals(pool->def->source.free_extents, r->free_extents->data,
                            r->free_extents->len);
    }
}

/* The pool stopped (destroy, or a failed refresh: libvirt stops it then): STOPPED, and a
 * transient pool is gone. */
static void
stop_pool(StorageDriver *drv, StoragePool *pool)
{
    storage_pool_emit(drv, pool, SV_STORAGE_POOL_EVENT_STOPPED);
    (void)storage_pools_deactivate(drv->pools, pool);
}

static void
job_started(StorageDriver *drv, StoragePool *pool, StorageJob *j)
{
    g_autoptr(GError) error = NULL;

    pool->active = TRUE;
    apply_refresh(pool, j->result);
    if (!storage_pools_save_state(drv->pools, pool, &error))
        g_warning("cannot save the state of pool %s: %s", pool->def->name, error->message);
    if (j->spec.kind == STORAGE_JOB_START)
        storage_pool_emit(drv, pool, SV_STORAGE_POOL_EVENT_STARTED);
}

/* A disk pool of format unknown is a dos one once built or started, as libvirt records it
 * (in the live definition). */
static void
disk_format_known(SvStoragePoolDef *def)
{
    if (def->type == SV_STORAGE_POOL_DISK && g_str_equal(def->source.format, "unknown")) {
        g_free(def->source.format);
        def->source.format = g_strdup("dos");
    }
}

/* Apply a successful job to its pool; its event. */
static void
job_succeeded(StorageDriver *drv, StoragePool *pool, StorageJob *j)
{
    switch (j->spec.kind) {
    case STORAGE_JOB_BUILD:
        disk_format_known(pool->def);
        storage_pool_emit(drv, pool, SV_STORAGE_POOL_EVENT_CREATED);
        break;
    case STORAGE_JOB_START:
    case STORAGE_JOB_RECOVER:
        job_started(drv, pool, j);
        break;
    case STORAGE_JOB_REFRESH:
        apply_refresh(pool, j->result);
        storage_pool_emit(drv, pool, -1);
        break;
    case STORAGE_JOB_STOP:
        stop_pool(drv, pool);
        break;
    case STORAGE_JOB_DELETE:
        storage_pool_emit(drv, pool, SV_STORAGE_POOL_EVENT_DELETED);
        break;
    default:
        g_assert_not_reached();
    }
}

/* A failed job: a CREATE_XML's pool goes, a failed refresh stops the pool, a recovered
 * pool that no longer answers is inactive. */
static void
job_failed(StorageDriver *drv, StoragePool *pool, StorageJob *j, const GError *error)
{
    g_message("%s of storage pool %s failed: %s", job_names[j->spec.kind], pool->def->name,
              error->message);
    if (j->spec.reply_pool && !pool->active && !pool->persistent)
        storage_pools_remove(drv->pools, pool);
    else if (j->spec.kind == STORAGE_JOB_REFRESH)
        stop_pool(drv, pool);
    else if (j->spec.kind == STORAGE_JOB_RECOVER)
        storage_pools_deactivate(drv->pools, pool);
}

static void
job_reply(StorageJob *j, StoragePool *pool, GError *error)
{
    if (!j->call) {
        if (error)
            g_error_free(error);
        return;
    }
    if (error) {
        sv_call_fail(g_steal_pointer(&j->call), error);
    } else if (j->spec.reply_pool) {
        remote_storage_pool_create_xml_ret r;
        storage_pool_make(&r.pool, pool);
        sv_call_reply(g_steal_pointer(&j->call), &r);
        g_free(r.pool.name);
    } else {
        sv_call_reply(g_steal_pointer(&j->call), NULL);
    }
}

static void
job_done(GObject *src, GAsyncResult *res, gpointer data)
{
    StorageJob *j = g_task_get_task_data(G_TASK(res));
    GError *error = NULL;
    gboolean ok = g_task_propagate_boolean(G_TASK(res), &error);
    /* undefine and destroy wait for the pool's jobs: it is still there */
    StoragePool *pool = storage_pools_find_uuid(j->drv->pools, j->uuid, NULL);

    (void)src;
    (void)data;
    g_assert(pool && pool->jobs > 0);
    pool->jobs--;
    sv_daemon_uninhibit(j->drv->daemon);
    if (ok) {
        job_succeeded(j->drv, pool, j);
        job_reply(j, pool, NULL);
        return;
    }
    job_failed(j->drv, pool, j, error);
    job_reply(j, NULL, error);
}

void
storage_job_run(StorageDriver *drv, StoragePool *pool, const StorageJobSpec *spec,
                SvCall *call)
{
    StorageJob *j = g_new0(StorageJob, 1);
    g_autoptr(GTask) task = NULL;

    j->drv = drv;
    j->spec = *spec;
    j->call = call;
    memcpy(j->uuid, pool->def->uuid, 16);
    if (spec->kind == STORAGE_JOB_START)
        disk_format_known(pool->def);
    j->def = sv_storage_pool_def_copy(pool->def);
    pool->jobs++;
    sv_daemon_inhibit(drv->daemon); /* no idle exit with work under way */
    task = g_task_new(NULL, NULL, job_done, NULL);
    g_task_set_task_data(task, j, (GDestroyNotify)job_free);
    g_task_run_in_thread(task, job_thread);
}
