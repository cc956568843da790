/* qemu_migration.c: the QEMU side of a migration (qemu_migration.h).
 *
 * This first version only fixes the interface: every operation fails with a clear error
 * until the QEMU sequences land. */
#include "qemu_migration.h"

#include <string.h>
#include <unistd.h>

#include "util/error.h"

static void
not_yet(SvDomainObj *obj, GAsyncReadyCallback cb, gpointer data, gpointer tag)
{
    g_autoptr(GTask) task = g_task_new(NULL, NULL, cb, data);
    GError *error = NULL;

    (void)obj;
    g_task_set_source_tag(task, tag);
    sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                 "migration of a running guest is not implemented yet");
    g_task_return_error(task, error);
}

void
qemu_incoming_clear(QemuIncoming *in)
{
    g_clear_pointer(&in->uri, g_free);
    g_clear_pointer(&in->nbd_disks, g_strfreev);
    in->port = in->nbd_port = 0;
}

void
qemu_migration_stats_clear(QemuMigrationStats *stats)
{
    g_free(stats->status);
    g_free(stats->error_desc);
    memset(stats, 0, sizeof(*stats));
}

void
qemu_migration_incoming_start(SvDomainObj *obj, const QemuMigrationSpec *spec,
                              GAsyncReadyCallback cb, gpointer data)
{
    if (spec->fd >= 0)
        close(spec->fd);
    not_yet(obj, cb, data, qemu_migration_incoming_start);
}

gboolean
qemu_migration_incoming_start_finish(SvDomainObj *obj, GAsyncResult *res, QemuIncoming *out,
                                     GError **error)
{
    (void)obj;
    (void)out;
    return g_task_propagate_boolean(G_TASK(res), error);
}

void
qemu_migration_incoming_finish(SvDomainObj *obj, gboolean ok, guint flags,
                               GAsyncReadyCallback cb, gpointer data)
{
    (void)ok;
    (void)flags;
    not_yet(obj, cb, data, qemu_migration_incoming_finish);
}

gboolean
qemu_migration_incoming_finish_finish(SvDomainObj *obj, GAsyncResult *res, GError **error)
{
    (void)obj;
    return g_task_propagate_boolean(G_TASK(res), error);
}

void
qemu_migration_outgoing_run(SvDomainObj *obj, const QemuMigrationSpec *spec,
                            GAsyncReadyCallback cb, gpointer data)
{
    if (spec->fd >= 0)
        close(spec->fd);
    not_yet(obj, cb, data, qemu_migration_outgoing_run);
}

gboolean
qemu_migration_outgoing_run_finish(SvDomainObj *obj, GAsyncResult *res,
                                   QemuMigrationStats *stats, GError **error)
{
    (void)obj;
    (void)stats;
    return g_task_propagate_boolean(G_TASK(res), error);
}

void
qemu_migration_outgoing_confirm(SvDomainObj *obj, gboolean ok, guint flags)
{
    (void)obj;
    (void)ok;
    (void)flags;
}

gboolean
qemu_migration_active(SvDomainObj *obj)
{
    (void)obj;
    return FALSE;
}
