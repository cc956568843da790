/* qemu_migration_out.c: the source's half of a migration (qemu_migration.h), as libvirt
 * 9.0's perform and confirm run it:
 *  1. migrate-set-capabilities (pause-before-switchover among them) and
 *     migrate-set-parameters (max-bandwidth always: the speed asked, else libvirt's
 *     unlimited), then `migrate` to the destination's URI;
 *  2. QEMU's MIGRATION events: at "pre-switchover" (the vCPUs are stopped: STOP gave
 *     PAUSED/MIGRATION with SUSPENDED/MIGRATED) migrate-continue; "completed" ends perform
 *     with query-migrate's figures; "failed" and "cancelled" end it with libvirt's error;
 *     with POSTCOPY, "postcopy-active" ends perform already;
 *  3. confirm: the destination runs the guest, so QEMU here is killed (SHUTOFF/MIGRATED,
 *     STOPPED/MIGRATED, after JOB_COMPLETED), once QEMU completed; or it does not, so a
 *     migration still under way is cancelled and a guest that ran runs again (cont with
 *     MIGRATION_CANCELED: RESUMED/MIGRATED). */
#include "qemu_migration_priv.h"

#include <unistd.h>

#include "qemu_migration_qmp.h"
#include "util/error.h"

static QemuMigrationStats *
stats_copy(const QemuMigrationStats *s)
{
    QemuMigrationStats *c = g_new(QemuMigrationStats, 1);

    *c = *s;
    c->status = g_strdup(s->status);
    c->error_desc = g_strdup(s->error_desc);
    return c;
}

static void
stats_free(QemuMigrationStats *s)
{
    qemu_migration_stats_clear(s);
    g_free(s);
}

/* ---------------------------------------------------------------- perform */

/* query-migrate's answer at the end of perform: the figures, then perform's answer. */
static void
final_figures(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj;
    QemuMigration *mig = mig_find(run, &obj);
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    int type;

    (void)mon;
    if (!mig || !mig->task)
        return;
    type = mig->stats.type;
    if (!error && o) {
        g_autofree char *status = g_strdup(mig->stats.status);

        qemu_migration_stats_read(o, &mig->stats);
        /* The event's status is the one the answer is about. */
        g_free(mig->stats.status);
        mig->stats.status = g_steal_pointer(&status);
    }
    mig->stats.type = type;
    mig_update_times(mig);
    mig->done = TRUE;
    if (type == SV_DOMAIN_JOB_COMPLETED || type == SV_DOMAIN_JOB_UNBOUNDED)
        mig_return(mig, NULL, stats_copy(&mig->stats), (GDestroyNotify)stats_free);
    else if (mig->cancel_error)
        mig_return(mig, g_steal_pointer(&mig->cancel_error), NULL, NULL);
    else
        mig_return(mig, mig_status_error(mig), NULL, NULL);
}

static void
ignore_reply(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    (void)mon;
    (void)ret;
    (void)run;
    if (error)
        g_debug("migration: %s", error->message);
}

static void
switchover(SvDomainObj *obj, const GError *error)
{
    QemuMonitor *mon = qemu_domain_of(obj)->mon;

    if (error) {
        /* As libvirt: the migration cannot go on without its disks; its end fails it. */
        g_debug("domain %s: storage copy failed: %s", obj->def->name, error->message);
        qemu_monitor_command(mon, "migrate_cancel", NULL, ignore_reply, NULL);
        return;
    }
    qemu_monitor_command(mon, "migrate-continue", mig_args1("state", "pre-switchover"),
                         ignore_reply, NULL);
}

void
mig_out_status(SvDomainObj *obj, QemuMigration *mig)
{
    QemuMonitor *mon = qemu_domain_of(obj)->mon;
    const char *status = mig->stats.status;
    gboolean postcopy = g_str_equal(status, "postcopy-active");

    if (g_str_equal(status, "pre-switchover")) {
        /* The vCPUs are stopped and the memory sent: the disks' copies end in sync, then
         * QEMU sends the devices' state. */
        mig_nbd_complete(obj, FALSE, switchover);
        return;
    }
    if (mig->stats.type == SV_DOMAIN_JOB_UNBOUNDED && !postcopy)
        return;
    /* Perform waits for the end, or for post-copy's start (the guest then runs there). */
    if (mig->task && !mig->done) {
        qemu_monitor_command(mon, "query-migrate", NULL, final_figures, sv_domain_obj_run_key(obj));
        return;
    }
    /* Confirm waits for QEMU's end. */
    if (mig->on_end && mig->stats.type != SV_DOMAIN_JOB_UNBOUNDED) {
        void (*on_end)(SvDomainObj *, const GError *) = mig->on_end;

        mig->on_end = NULL;
        on_end(obj, NULL);
    }
}

static void
migrate_sent(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj;
    QemuMigration *mig = mig_find(run, &obj);

    (void)mon;
    (void)ret;
    if (!mig || !error)
        return; /* QEMU's MIGRATION events follow it */
    mig->done = TRUE;
    mig->stats.type = SV_DOMAIN_JOB_FAILED;
    mig_return(mig, g_error_copy(error), NULL, NULL);
}

/* Perform fails before QEMU sent anything. */
static void
fail_early(QemuMigration *mig, GError *error)
{
    mig->done = TRUE;
    mig->stats.type = SV_DOMAIN_JOB_FAILED;
    mig_return(mig, error, NULL, NULL);
}

static void
send_stream(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);
    JsonObject *args;

    if (error) {
        fail_early(mig, g_error_copy(error));
        return;
    }
    /* libvirt's form of the command (QEMU 7.2 ignores detach: it always runs in the
     * background). */
    args = json_object_new();
    json_object_set_boolean_member(args, "detach", TRUE);
    json_object_set_boolean_member(args, "blk", FALSE);
    json_object_set_boolean_member(args, "inc", FALSE);
    json_object_set_boolean_member(args, "resume", FALSE);
    json_object_set_string_member(args, "uri", mig->uri);
    qemu_monitor_command(qemu_domain_of(obj)->mon, "migrate", args, migrate_sent,
                         sv_domain_obj_run_key(obj));
}

static void
mirrors_ready(SvDomainObj *obj, const GError *error)
{
    if (error) {
        fail_early(mig_of(obj), g_error_copy(error));
        return;
    }
    mig_give_fd(obj, send_stream);
}

static void
setup_done(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);
    GError *local = NULL;

    if (error) {
        fail_early(mig, g_error_copy(error));
        return;
    }
    if (!mig->nbd_host) {
        mig_give_fd(obj, send_stream);
        return;
    }
    if (!mig_nbd_choose(obj, (const char *const *)mig->nbd_asked, &local)) {
        fail_early(mig, local);
        return;
    }
    mig_nbd_mirror(obj, mirrors_ready);
}

/* Why obj cannot be sent now, or TRUE. */
static gboolean
check_can_send(SvDomainObj *obj, const QemuMigrationSpec *spec, GError **error)
{
    QemuDomain *qd = qemu_domain_of(obj);

    if (!sv_domain_obj_is_active(obj) || !qd || !qd->mon || sv_domain_run_in_start(obj) ||
        sv_domain_run_stopping(obj, SV_STOP_NONE)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    if (qd->mig || qd->dump) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "domain '%s' has another job under way", obj->def->name);
        return FALSE;
    }
    /* No silent memory-only migration of a guest whose disks were to be copied. */
    if ((spec->flags & (SV_MIGRATE_NON_SHARED_DISK | SV_MIGRATE_NON_SHARED_INC)) &&
        !spec->nbd_host) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "the destination offered no NBD server for the storage copy");
        return FALSE;
    }
    if (spec->fd < 0 && !spec->uri) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "a migration needs a URI or a tunnel");
        return FALSE;
    }
    return TRUE;
}

void
qemu_migration_outgoing_run(SvDomainObj *obj, const QemuMigrationSpec *spec, GAsyncReadyCallback cb,
                            gpointer data)
{
    GTask *task = g_task_new(NULL, NULL, cb, data);
    QemuDomain *qd = qemu_domain_of(obj);
    QemuMigration *mig;
    GError *error = NULL;

    g_task_set_source_tag(task, qemu_migration_outgoing_run);
    if (!check_can_send(obj, spec, &error)) {
        QemuMigration tmp = {.task = task};

        if (spec->fd >= 0)
            close(spec->fd);
        mig_return(&tmp, error, NULL, NULL);
        return;
    }
    mig = mig_new(SV_DOMAIN_JOB_OPERATION_MIGRATION_OUT, spec);
    mig->uri = g_strdup(spec->fd >= 0 ? MIG_FD_URI : spec->uri);
    /* TLS checks the destination's certificate against TLS_DESTINATION, else the URI's
     * host, as libvirt. */
    if ((mig->flags & SV_MIGRATE_TLS) && !mig->tls_hostname && spec->uri)
        mig->tls_hostname = qemu_migration_uri_host(spec->uri);
    mig->bandwidth =
        mig->tuning.has_bandwidth ? mig->tuning.bandwidth : qemu_migration_kept_speed(obj);
    mig->resume = obj->state == SV_DOMAIN_RUNNING;
    mig->task = task;
    qd->mig = mig;
    mig_setup(obj, setup_done);
}

gboolean
qemu_migration_outgoing_confirm_finish(GAsyncResult *res, GError **error)
{
    return g_task_propagate_pointer(G_TASK(res), error) != NULL;
}

gboolean
qemu_migration_outgoing_run_finish(SvDomainObj *obj, GAsyncResult *res, QemuMigrationStats *stats,
                                   GError **error)
{
    QemuMigrationStats *s = g_task_propagate_pointer(G_TASK(res), error);

    (void)obj;
    if (!s)
        return FALSE;
    if (stats)
        *stats = *s;
    else
        qemu_migration_stats_clear(s);
    g_free(s);
    return TRUE;
}

/* ---------------------------------------------------------------- confirm */

/* Confirm is over (the guest runs here again): its caller is answered. */
static void
forget(SvDomainObj *obj)
{
    QemuDomain *qd = qemu_domain_of(obj);

    mig_return(qd->mig, NULL, GINT_TO_POINTER(TRUE), NULL);
    qemu_migration_free(g_steal_pointer(&qd->mig));
}

/* The guest is the destination's now: QEMU here ends, SHUTOFF/MIGRATED, STOPPED/MIGRATED. */
static void
confirmed(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);

    (void)error;
    mig_update_times(mig);
    mig->stats.type = SV_DOMAIN_JOB_COMPLETED;
    qemu_job_emit_completed(obj, &mig->stats);
    mig->end_reason = SV_DOMAIN_SHUTOFF_MIGRATED;
    mig->end_detail = SV_DOMAIN_EVENT_STOPPED_MIGRATED;
    sv_domain_obj_set_cause(obj, "a migration (confirmed)");
    mig->killing = TRUE;
    qemu_domain_kill(obj, SV_STOP_DESTROY);
}

static void
resumed(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj;
    QemuMigration *mig = mig_find(run, &obj);

    (void)mon;
    (void)ret;
    if (!mig)
        return;
    if (error)
        g_warning("domain %s: cannot resume after a cancelled migration: %s", obj->def->name,
                  error->message);
    forget(obj);
}

/* QEMU's migration is over without the destination taking the guest (its mirrors ended):
 * it runs here again if it ran before. */
static void
mirrors_cancelled(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);

    if (error)
        g_debug("domain %s: %s", obj->def->name, error->message);
    qemu_monitor_command(qemu_domain_of(obj)->mon, "migrate-set-capabilities",
                         qemu_migration_caps_reset_args(), ignore_reply, NULL);
    if (!mig->resume || obj->state != SV_DOMAIN_PAUSED) {
        forget(obj);
        return;
    }
    mig->running_reason = SV_DOMAIN_RUNNING_MIGRATION_CANCELED;
    mig->resumed_detail = SV_DOMAIN_EVENT_RESUMED_MIGRATED;
    qemu_monitor_command(qemu_domain_of(obj)->mon, "cont", NULL, resumed,
                         sv_domain_obj_run_key(obj));
}

static void
cancelled(SvDomainObj *obj, const GError *error)
{
    (void)error;
    mig_nbd_complete(obj, TRUE, mirrors_cancelled);
}

void
qemu_migration_outgoing_confirm(SvDomainObj *obj, gboolean ok, guint flags)
{
    qemu_migration_outgoing_confirm_async(obj, ok, flags, NULL, NULL);
}

void
qemu_migration_outgoing_confirm_async(SvDomainObj *obj, gboolean ok, guint flags,
                                      GAsyncReadyCallback cb, gpointer data)
{
    QemuMigration *mig = mig_of(obj);
    GTask *task = g_task_new(NULL, NULL, cb, data);
    gboolean running;

    (void)flags;
    g_task_set_source_tag(task, qemu_migration_outgoing_confirm_async);
    if (!mig || mig->operation != SV_DOMAIN_JOB_OPERATION_MIGRATION_OUT) {
        QemuMigration none = {.task = task};

        mig_return(&none, NULL, GINT_TO_POINTER(TRUE), NULL);
        return;
    }
    running = mig->stats.status && mig->stats.type == SV_DOMAIN_JOB_UNBOUNDED;
    if (mig->task) /* perform's, never answered (its caller went) */
        mig_return(mig, mig_status_error(mig), NULL, NULL);
    mig->task = task;
    mig->confirming = TRUE;
    if (ok) {
        /* After post-copy's start QEMU may still be sending: its end first. */
        if (running)
            mig->on_end = confirmed;
        else
            confirmed(obj, NULL);
        return;
    }
    if (!running) {
        cancelled(obj, NULL);
        return;
    }
    mig->on_end = cancelled;
    qemu_monitor_command(qemu_domain_of(obj)->mon, "migrate_cancel", NULL, ignore_reply, NULL);
}

void
qemu_migration_outgoing_cancel(SvDomainObj *obj, const GError *why)
{
    QemuMigration *mig = mig_of(obj);

    if (!mig || mig->operation != SV_DOMAIN_JOB_OPERATION_MIGRATION_OUT || mig->done ||
        !qemu_domain_of(obj)->mon)
        return;
    if (!mig->cancel_error)
        mig->cancel_error = g_error_copy(why);
    qemu_monitor_command(qemu_domain_of(obj)->mon, "migrate_cancel", NULL, ignore_reply, NULL);
}

/* ---------------------------------------------------------------- after a restart */

/* query-migrate's answer for a recovered source: a migration QEMU still runs is cancelled
 * first (its end resumes the guest), else the guest is resumed now. */
static void
recover_queried(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj;
    QemuMigration *mig = mig_find(run, &obj);
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    const char *status = o ? qemu_json_string(o, "status") : NULL;

    if (!mig)
        return;
    if (error || qemu_migration_status_job_type(status) != SV_DOMAIN_JOB_UNBOUNDED) {
        mirrors_cancelled(obj, NULL);
        return;
    }
    g_free(mig->stats.status);
    mig->stats.status = g_strdup(status);
    mig->stats.type = SV_DOMAIN_JOB_UNBOUNDED;
    mig->on_end = mirrors_cancelled;
    qemu_monitor_command(mon, "migrate_cancel", NULL, ignore_reply, NULL);
}

void
qemu_migration_recover(SvDomainObj *obj, int operation, gboolean settled)
{
    QemuDomain *qd = qemu_domain_of(obj);
    QemuMigrationSpec none = {.fd = -1};
    QemuMigration *mig;

    if (!qd || !qd->mon || qd->mig || sv_domain_run_stopping(obj, SV_STOP_NONE))
        return;
    if (operation == SV_DOMAIN_JOB_OPERATION_MIGRATION_IN && settled)
        return; /* finish ran: the guest is this side's */
    mig = mig_new(operation, &none);
    qd->mig = mig;
    if (operation == SV_DOMAIN_JOB_OPERATION_MIGRATION_IN || settled) {
        gboolean in = operation == SV_DOMAIN_JOB_OPERATION_MIGRATION_IN;

        mig->end_reason = in ? SV_DOMAIN_SHUTOFF_FAILED : SV_DOMAIN_SHUTOFF_MIGRATED;
        mig->end_detail = in ? SV_DOMAIN_EVENT_STOPPED_FAILED : SV_DOMAIN_EVENT_STOPPED_MIGRATED;
        sv_domain_obj_set_cause(obj, "the daemon (a migration its predecessor left)");
        mig->killing = in ? FALSE : TRUE; /* an incoming copy is destroyed, as libvirt */
        qemu_domain_kill(obj, SV_STOP_DESTROY);
        return;
    }
    /* The migration paused the guest (not its user): it runs again. A guest in post-copy
     * has its newest memory on the destination: it stays paused. */
    mig->resume = obj->state == SV_DOMAIN_PAUSED && obj->reason == SV_DOMAIN_PAUSED_MIGRATION;
    qemu_monitor_command(qd->mon, "query-migrate", NULL, recover_queried,
                         sv_domain_obj_run_key(obj));
}
