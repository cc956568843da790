/* storage_sources.c: source discovery on a worker (storage_sources.h). */
#include "storage_sources.h"

#include <gio/gio.h>

#include "storage_backend_logical.h"
#include "util/error.h"

typedef struct {
    SvDaemon *daemon;
    SvCall *call;
} SourcesJob;

static void
sources_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
    GError *error = NULL;
    char *xml = storage_logical_find_sources(&error);

    (void)src;
    (void)data;
    (void)c;
    if (xml)
        g_task_return_pointer(task, xml, g_free);
    else
        g_task_return_error(task, error);
}

static void
sources_done(GObject *src, GAsyncResult *res, gpointer data)
{
    SourcesJob *j = data;
    GError *error = NULL;
    g_autofree char *xml = g_task_propagate_pointer(G_TASK(res), &error);

    (void)src;
    sv_daemon_uninhibit(j->daemon);
    if (xml) {
        remote_connect_find_storage_pool_sources_ret r = {.xml = xml};
        sv_call_reply(j->call, &r);
    } else {
        sv_call_fail(j->call, error);
    }
    g_free(j);
}

gboolean
storage_sources_find_logical(StorageDriver *drv, SvCall *call, unsigned int flags,
                             GError **error)
{
    SourcesJob *j;
    g_autoptr(GTask) task = NULL;

    if (!sv_check_flags(flags, 0, SV_FROM_STORAGE, "virStorageBackendLogicalFindPoolSources",
                        error))
        return FALSE;
    j = g_new0(SourcesJob, 1);
    j->daemon = drv->daemon;
    j->call = sv_call_defer(call);
    sv_daemon_inhibit(drv->daemon); /* no idle exit with work under way */
    task = g_task_new(NULL, NULL, sources_done, j);
    g_task_run_in_thread(task, sources_thread);
    return TRUE;
}
