/* qemu_migration.c: the QEMU side of a migration (qemu_migration.h): what both sides share
 * (the migration object, the setup of capabilities and parameters, the job's end), and the
 * destination: QEMU started with -incoming defer, listening, then resumed or killed.
 *
 * The destination's steps, as libvirt 9.0's prepare and finish run them:
 *  1. a port of migration_port_min..max, then the start (qemu_start.c) with -incoming
 *     defer, which ends here (qemu_migration_incoming_launched) once QEMU is ready;
 *  2. migrate-set-capabilities, migrate-set-parameters, migrate-incoming on the URI; the
 *     guest is PAUSED/MIGRATION with STARTED/MIGRATED, and prepare has its answer;
 *  3. finish: QEMU's MIGRATION "completed" awaited, then cont with the running reason
 *     MIGRATED (QEMU's RESUME gives RESUMED/MIGRATED), or PAUSED/USER with SUSPENDED/PAUSED
 *     when asked; a cancelled or failed migration kills QEMU: SHUTOFF/FAILED, STOPPED/FAILED.
 * The source's half is qemu_migration_out.c. */
#include "qemu_migration_priv.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qemu_coredump.h"
#include "qemu_migration_qmp.h"
#include "qemu_status.h"
#include "programs/remote.h"
#include "util/error.h"

/* ---------------------------------------------------------------- the migration object */

QemuMigration *
mig_find(gpointer run, SvDomainObj **ret_obj)
{
    SvDomainObj *obj = qemu_domain_find(run);

    *ret_obj = obj;
    return mig_of(obj);
}

QemuMigration *
mig_new(int operation, const QemuMigrationSpec *spec)
{
    QemuMigration *mig = g_new0(QemuMigration, 1);

    mig->operation = operation;
    mig->flags = spec->flags;
    mig->started = g_get_real_time();
    mig->end_reason = mig->running_reason = -1;
    mig->stats.operation = operation;
    mig->stats.type = SV_DOMAIN_JOB_UNBOUNDED;
    if (spec->tuning) {
        mig->tuning = *spec->tuning;
        mig->tuning.compression = g_strdupv(spec->tuning->compression);
    }
    mig->tls_hostname = g_strdup(spec->tls_hostname);
    mig->fd = spec->fd;
    mig->nbd_asked = g_strdupv((char **)spec->disks);
    mig->nbd_listen = g_strdup(spec->nbd_listen);
    mig->nbd_host = g_strdup(spec->nbd_host);
    mig->nbd_port = spec->nbd_host ? spec->nbd_server_port : spec->nbd_port;
    return mig;
}

void
qemu_migration_free(QemuMigration *mig)
{
    if (!mig)
        return;
    g_assert(!mig->task); /* answered when QEMU went (qemu_migration_release) */
    if (mig->fd >= 0)
        close(mig->fd);
    mig_nbd_free(mig);
    g_strfreev(mig->nbd_asked);
    g_free(mig->nbd_listen);
    g_clear_error(&mig->batch_error);
    g_clear_error(&mig->start_error);
    g_clear_error(&mig->cancel_error);
    g_free(mig->source_stats);
    qemu_migration_stats_clear(&mig->stats);
    g_strfreev(mig->tuning.compression);
    g_free(mig->uri);
    g_free(mig->tls_hostname);
    g_free(mig);
}

typedef struct {
    GTask *task;
    GError *error;
    gpointer value;
    GDestroyNotify value_free;
} Answer;

static gboolean
answer_now(gpointer data)
{
    Answer *a = data;

    if (a->error)
        g_task_return_error(a->task, a->error);
    else
        g_task_return_pointer(a->task, a->value, a->value_free);
    g_object_unref(a->task);
    g_free(a);
    return G_SOURCE_REMOVE;
}

void
mig_return(QemuMigration *mig, GError *error, gpointer value, GDestroyNotify value_free)
{
    Answer *a;

    if (!mig->task) {
        if (error)
            g_error_free(error);
        if (value && value_free)
            value_free(value);
        return;
    }
    a = g_new0(Answer, 1);
    a->task = g_steal_pointer(&mig->task);
    a->error = error;
    a->value = value;
    a->value_free = value_free;
    g_idle_add(answer_now, a);
}

/* A task with its answer already known (no migration object holds it). */
static void
answer_task(GTask *task, GError *error, gpointer value, GDestroyNotify value_free)
{
    QemuMigration tmp = {.task = task};

    mig_return(&tmp, error, value, value_free);
}

/* ---------------------------------------------------------------- setup */

JsonObject *
mig_args1(const char *key, const char *value)
{
    JsonObject *args = json_object_new();

    json_object_set_string_member(args, key, value);
    return args;
}

static void
setup_step_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run, gboolean last)
{
    SvDomainObj *obj;
    QemuMigration *mig = mig_find(run, &obj);
    void (*next)(SvDomainObj *, const GError *);

    (void)mon;
    (void)ret;
    if (!mig || !mig->next)
        return;
    if (!error && !last)
        return;
    next = mig->next;
    mig->next = NULL;
    next(obj, error);
}

static void
caps_set_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    setup_step_done(mon, ret, error, run, FALSE);
}

static void
params_set_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    setup_step_done(mon, ret, error, run, TRUE);
}

/* QEMU's capabilities known: both settings go out together (QEMU answers in order; the
 * first refusal ends the setup). */
static void
caps_queried(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj;
    QemuMigration *mig = mig_find(run, &obj);
    gboolean source;
    JsonArray *supported;

    if (!mig || !mig->next)
        return;
    if (error) {
        setup_step_done(mon, ret, error, run, TRUE);
        return;
    }
    source = mig->operation == SV_DOMAIN_JOB_OPERATION_MIGRATION_OUT;
    supported = ret && JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;
    qemu_monitor_command(mon, "migrate-set-capabilities",
                         qemu_migration_caps_args(supported, mig->flags, source, &mig->tuning),
                         caps_set_done, run);
    qemu_monitor_command(mon, "migrate-set-parameters",
                         qemu_migration_params_args(mig->flags, source, &mig->tuning,
                                                    mig->bandwidth, mig->tls_hostname),
                         params_set_done, run);
}

static void
tls_added(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj;
    QemuMigration *mig = mig_find(run, &obj);

    if (!mig || !mig->next)
        return;
    if (error) {
        setup_step_done(mon, ret, error, run, TRUE);
        return;
    }
    qemu_monitor_command(mon, "query-migrate-capabilities", NULL, caps_queried, run);
}

/* TLS (VIR_MIGRATE_TLS): QEMU's x509 credentials from the migration's certificate directory,
 * as libvirt adds them (the client's on the source, the server's, verifying its peer, on the
 * destination). */
static gboolean
add_tls(SvDomainObj *obj, QemuMigration *mig, GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    g_autofree char *dir = ctx->migrate_tls_dir ? g_strdup(ctx->migrate_tls_dir)
                                                : sv_daemon_path(ctx->daemon, "/etc/pki/qemu");
    gboolean source = mig->operation == SV_DOMAIN_JOB_OPERATION_MIGRATION_OUT;
    JsonObject *args;

    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "host migration TLS directory '%s' does not exist", dir);
        return FALSE;
    }
    args = json_object_new();
    json_object_set_string_member(args, "qom-type", "tls-creds-x509");
    json_object_set_string_member(args, "id", QEMU_MIGRATION_TLS_ALIAS);
    json_object_set_string_member(args, "dir", dir);
    json_object_set_string_member(args, "endpoint", source ? "client" : "server");
    json_object_set_boolean_member(args, "verify-peer", TRUE);
    qemu_monitor_command(qemu_domain_of(obj)->mon, "object-add", args, tls_added,
                         sv_domain_obj_run_key(obj));
    return TRUE;
}

void
mig_setup(SvDomainObj *obj, void (*next)(SvDomainObj *obj, const GError *error))
{
    QemuMigration *mig = mig_of(obj);
    g_autoptr(GError) error = NULL;

    mig->next = next;
    if (!(mig->flags & SV_MIGRATE_TLS)) {
        qemu_monitor_command(qemu_domain_of(obj)->mon, "query-migrate-capabilities", NULL,
                             caps_queried, sv_domain_obj_run_key(obj));
        return;
    }
    if (!add_tls(obj, mig, &error)) {
        mig->next = NULL;
        next(obj, error);
    }
}

static void
fd_given(QemuMonitor *mon, JsonObject *reply, const GError *error, gpointer run)
{
    SvDomainObj *obj;
    QemuMigration *mig = mig_find(run, &obj);
    g_autoptr(GError) e = qemu_monitor_reply_error("getfd", reply, error);
    void (*next)(SvDomainObj *, const GError *);

    (void)mon;
    if (!mig || !mig->next)
        return;
    next = mig->next;
    mig->next = NULL;
    next(obj, e);
}

void
mig_give_fd(SvDomainObj *obj, void (*next)(SvDomainObj *obj, const GError *error))
{
    QemuMigration *mig = mig_of(obj);
    JsonObject *step;
    g_autoptr(JsonNode) node = NULL;

    if (mig->fd < 0) {
        next(obj, NULL);
        return;
    }
    step = json_object_new();
    json_object_set_string_member(step, "execute", "getfd");
    json_object_set_object_member(step, "arguments", mig_args1("fdname", MIG_FDNAME));
    node = json_node_init_object(json_node_alloc(), step);
    json_object_unref(step);
    mig->next = next;
    qemu_monitor_passthrough(qemu_domain_of(obj)->mon, node, mig->fd, fd_given,
                             sv_domain_obj_run_key(obj));
    mig->fd = -1; /* QEMU's now, or closed */
}

/* ---------------------------------------------------------------- the job's figures */

/* libvirt 9.0's name of the job in its messages. */
static const char *
job_name(const QemuMigration *mig)
{
    return mig->operation == SV_DOMAIN_JOB_OPERATION_MIGRATION_OUT ? "migration out job"
                                                                   : "migration in job";
}

GError *
mig_status_error(const QemuMigration *mig)
{
    const char *status = mig->stats.status;
    GError *error = NULL;

    if (status && g_str_equal(status, "cancelled"))
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_ABORTED, "%s: canceled by client",
                     job_name(mig));
    else
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "%s: %s", job_name(mig),
                     mig->stats.error_desc ? mig->stats.error_desc : "unexpectedly failed");
    return error;
}

void
mig_update_times(QemuMigration *mig)
{
    gint64 now = g_get_real_time();

    mig->stats.time_elapsed = (guint64)(now - mig->started) / 1000;
    mig->stats.started_ms = mig->started / 1000;
    mig->stats.stopped_ms = mig->stopped / 1000;
    /* As libvirt: the downtime is measured from the vCPUs' stop to the end. */
    if (mig->stopped) {
        mig->stats.has_downtime = TRUE;
        mig->stats.downtime = (guint64)(now - mig->stopped) / 1000;
    }
}

typedef struct {
    remote_nonnull_domain dom;
    GArray *params;
} JobCompleted;

static void
send_job_completed(SvClient *c, int callback_id, gpointer data)
{
    JobCompleted *e = data;
    remote_domain_event_callback_job_completed_msg m = {
        callback_id, e->dom, {e->params->len, (remote_typed_param *)e->params->data}};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_DOMAIN_EVENT_CALLBACK_JOB_COMPLETED,
                         (xdrproc_t)xdr_remote_domain_event_callback_job_completed_msg, &m);
}

void
qemu_job_emit_completed(SvDomainObj *obj, const QemuMigrationStats *stats)
{
    JobCompleted e = {{0}, qemu_migration_stats_params(stats)};

    sv_domain_obj_to_remote(obj, &e.dom);
    sv_remote_emit_callback_event(sv_domain_driver_of_obj(obj)->server,
                                  SV_DOMAIN_EVENT_ID_JOB_COMPLETED, obj->def->uuid,
                                  send_job_completed, &e);
    g_free(e.dom.name);
    qemu_migration_params_free(e.params);
}

typedef struct {
    remote_nonnull_domain dom;
    int iteration;
} Iteration;

static void
send_iteration(SvClient *c, int callback_id, gpointer data)
{
    Iteration *e = data;
    remote_domain_event_callback_migration_iteration_msg m = {callback_id, e->dom, e->iteration};

    sv_client_send_event(c, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                         REMOTE_PROC_DOMAIN_EVENT_CALLBACK_MIGRATION_ITERATION,
                         (xdrproc_t)xdr_remote_domain_event_callback_migration_iteration_msg, &m);
}

void
qemu_migration_pass(SvDomainObj *obj, JsonObject *data)
{
    Iteration e = {{0}, 0};

    if (!mig_of(obj) || !data || !json_object_has_member(data, "pass"))
        return;
    e.iteration = (int)json_object_get_int_member(data, "pass");
    sv_domain_obj_to_remote(obj, &e.dom);
    sv_remote_emit_callback_event(sv_domain_driver_of_obj(obj)->server,
                                  SV_DOMAIN_EVENT_ID_MIGRATION_ITERATION, obj->def->uuid,
                                  send_iteration, &e);
    g_free(e.dom.name);
}

/* ---------------------------------------------------------------- the process's hooks */

void
qemu_migration_event(SvDomainObj *obj, JsonObject *data)
{
    QemuMigration *mig = mig_of(obj);
    const char *status = qemu_json_string(data, "status");

    if (!mig || !status)
        return;
    g_debug("domain %s: migration status %s", obj->def->name, status);
    g_free(mig->stats.status);
    mig->stats.status = g_strdup(status);
    mig->stats.type = qemu_migration_status_job_type(status);
    if (mig->operation == SV_DOMAIN_JOB_OPERATION_MIGRATION_OUT) {
        /* QEMU stops the vCPUs before it says post-copy: libvirt corrects the reason then,
         * with a second SUSPENDED (POSTCOPY). */
        if (mig_in_postcopy(mig) && obj->state == SV_DOMAIN_PAUSED &&
            obj->reason == SV_DOMAIN_PAUSED_MIGRATION)
            sv_domain_driver_set_state_event(sv_domain_driver_of_obj(obj), obj, SV_DOMAIN_PAUSED,
                                             SV_DOMAIN_PAUSED_POSTCOPY, SV_DOMAIN_EVENT_SUSPENDED,
                                             SV_DOMAIN_EVENT_SUSPENDED_POSTCOPY);
        mig_out_status(obj, mig);
        return;
    }
    /* The destination: finish waits for the end, or for post-copy's start. */
    if ((mig->stats.type != SV_DOMAIN_JOB_UNBOUNDED || mig_in_postcopy(mig)) && mig->on_end) {
        void (*on_end)(SvDomainObj *, const GError *) = mig->on_end;

        mig->on_end = NULL;
        on_end(obj, NULL);
    }
}

gboolean
qemu_migration_paused_reason(SvDomainObj *obj, int *ret_reason, int *ret_detail)
{
    QemuMigration *mig = mig_of(obj);

    if (!mig || mig->operation != SV_DOMAIN_JOB_OPERATION_MIGRATION_OUT)
        return FALSE;
    mig->stopped = g_get_real_time();
    if (mig->stats.status && g_str_equal(mig->stats.status, "postcopy-active")) {
        *ret_reason = SV_DOMAIN_PAUSED_POSTCOPY;
        *ret_detail = SV_DOMAIN_EVENT_SUSPENDED_POSTCOPY;
    } else {
        *ret_reason = SV_DOMAIN_PAUSED_MIGRATION;
        *ret_detail = SV_DOMAIN_EVENT_SUSPENDED_MIGRATED;
    }
    return TRUE;
}

gboolean
qemu_migration_running_reason(SvDomainObj *obj, int *ret_reason, int *ret_detail)
{
    QemuMigration *mig = mig_of(obj);

    if (!mig || mig->running_reason < 0)
        return FALSE;
    *ret_reason = mig->running_reason;
    *ret_detail = mig->resumed_detail;
    mig->running_reason = -1;
    return TRUE;
}

gboolean
qemu_migration_decided_end(SvDomainObj *obj, int *ret_reason, int *ret_detail)
{
    QemuMigration *mig = mig_of(obj);

    if (!mig || mig->end_reason < 0)
        return FALSE;
    /* A destroy the migration did not ask for (a client's, or AUTODESTROY's when prepare's
     * client went) ends as any destroy: STOPPED/DESTROYED, as libvirt. */
    if (!mig->killing && sv_domain_run_destroying(obj))
        return FALSE;
    *ret_reason = mig->end_reason;
    *ret_detail = mig->end_detail;
    return TRUE;
}

void
qemu_migration_start_error(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);

    if (mig && !mig->start_error && error)
        mig->start_error = g_error_copy(error);
}

void
qemu_migration_release(SvDomainObj *obj)
{
    QemuMigration *mig = mig_of(obj);
    GError *error = NULL;

    if (!mig)
        return;
    if (mig->port)
        qemu_ports_release(qemu_ctx_of(obj)->migration_ports, mig->port);
    if (mig->nbd_port_taken)
        qemu_ports_release(qemu_ctx_of(obj)->migration_ports, mig->nbd_port);
    mig->port = 0;
    mig->nbd_port_taken = FALSE;
    if (!mig->task)
        return;
    if (mig->confirming && mig->end_reason == SV_DOMAIN_SHUTOFF_MIGRATED) {
        /* Confirm's end: the guest is gone from here, as it asked. */
        mig_return(mig, NULL, GINT_TO_POINTER(TRUE), NULL);
        return;
    }
    if (mig->start_error) /* the incoming start's first cause */
        error = g_steal_pointer(&mig->start_error);
    else
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "domain is not running");
    mig_return(mig, error, NULL, NULL);
}

gboolean
qemu_migration_active(SvDomainObj *obj)
{
    return mig_of(obj) != NULL;
}

gboolean
qemu_migration_incoming_unfinished(SvDomainObj *obj)
{
    QemuMigration *mig = mig_of(obj);

    return mig && mig->operation == SV_DOMAIN_JOB_OPERATION_MIGRATION_IN && !mig->task &&
           !mig->done;
}

void
qemu_incoming_clear(QemuIncoming *in)
{
    g_clear_pointer(&in->uri, g_free);
    g_clear_pointer(&in->nbd_disks, g_strfreev);
    in->port = in->nbd_port = 0;
}

static void
incoming_free(QemuIncoming *in)
{
    qemu_incoming_clear(in);
    g_free(in);
}

void
qemu_migration_stats_clear(QemuMigrationStats *stats)
{
    g_free(stats->status);
    g_free(stats->error_desc);
    memset(stats, 0, sizeof(*stats));
}

/* ---------------------------------------------------------------- destination: prepare */

/* The incoming start fails for cause (transfer full): prepare's answer is the cause itself,
 * as libvirt's (the start's own error says "QEMU failed to start"). */
static void
incoming_failed(SvDomainObj *obj, GError *cause)
{
    QemuMigration *mig = mig_of(obj);

    if (!mig->start_error)
        mig->start_error = g_error_copy(cause);
    qemu_start_failed(obj, cause);
}

/* Where QEMU listens when nothing says: every address, IPv6 when the host has it. */
static const char *
wildcard_address(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return "0.0.0.0";
    close(fd);
    return "::";
}

static void
incoming_listening(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj;
    QemuMigration *mig = mig_find(run, &obj);
    QemuIncoming *in;

    (void)mon;
    (void)ret;
    if (!mig || !sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error)
        return;
    if (error) {
        incoming_failed(obj, g_error_copy(error));
        return;
    }
    sv_domain_run_start_done(obj, TRUE);
    /* From here on QEMU's exit (the incoming migration failed) is a failed start of the
     * guest here, as libvirt's: SHUTOFF/FAILED, STOPPED/FAILED. */
    mig->end_reason = SV_DOMAIN_SHUTOFF_FAILED;
    mig->end_detail = SV_DOMAIN_EVENT_STOPPED_FAILED;
    sv_domain_driver_set_state_event(sv_domain_driver_of_obj(obj), obj, SV_DOMAIN_PAUSED,
                                     SV_DOMAIN_PAUSED_MIGRATION, SV_DOMAIN_EVENT_STARTED,
                                     SV_DOMAIN_EVENT_STARTED_MIGRATED);
    in = g_new0(QemuIncoming, 1);
    in->uri = g_strdup(mig->uri);
    in->port = mig->port;
    if (mig->nbd_disks) {
        in->nbd_port = mig->nbd_port;
        in->nbd_disks = mig_nbd_targets(mig);
    }
    mig_return(mig, NULL, in, (GDestroyNotify)incoming_free);
}

static void
incoming_listen(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);

    if (!sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error)
        return;
    if (error) {
        incoming_failed(obj, g_error_copy(error));
        return;
    }
    qemu_monitor_command(qemu_domain_of(obj)->mon, "migrate-incoming", mig_args1("uri", mig->uri),
                         incoming_listening, sv_domain_obj_run_key(obj));
}

static void
incoming_served(SvDomainObj *obj, const GError *error)
{
    if (!sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error)
        return;
    if (error) {
        incoming_failed(obj, g_error_copy(error));
        return;
    }
    mig_give_fd(obj, incoming_listen);
}

/* Storage copy: the NBD server with the disks to copy, before QEMU listens (libvirt's
 * order). */
static gboolean
incoming_serve(SvDomainObj *obj, QemuMigration *mig, GError **error)
{
    if (!mig_nbd_choose(obj, (const char *const *)mig->nbd_asked, error))
        return FALSE;
    if (!mig->nbd_port) {
        if (!qemu_ports_acquire(qemu_ctx_of(obj)->migration_ports, &mig->nbd_port, error))
            return FALSE;
        mig->nbd_port_taken = TRUE;
    }
    mig_nbd_serve(obj, mig->nbd_listen, incoming_served);
    return TRUE;
}

static void
incoming_setup_done(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);
    g_autoptr(GError) local = NULL;

    if (!sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error)
        return;
    if (error) {
        incoming_failed(obj, g_error_copy(error));
        return;
    }
    if (!(mig->flags & (SV_MIGRATE_NON_SHARED_DISK | SV_MIGRATE_NON_SHARED_INC))) {
        mig_give_fd(obj, incoming_listen);
        return;
    }
    if (!incoming_serve(obj, mig, &local))
        incoming_failed(obj, g_steal_pointer(&local));
}

void
qemu_migration_incoming_launched(SvDomainObj *obj)
{
    mig_setup(obj, incoming_setup_done);
}

void
qemu_migration_incoming_start(SvDomainObj *obj, const QemuMigrationSpec *spec,
                              GAsyncReadyCallback cb, gpointer data)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    GTask *task = g_task_new(NULL, NULL, cb, data);
    QemuMigration *mig = mig_new(SV_DOMAIN_JOB_OPERATION_MIGRATION_IN, spec);
    const char *address = spec->listen_address     ? spec->listen_address
                          : ctx->migration_address ? ctx->migration_address
                                                   : wildcard_address();
    GError *error = NULL;
    guint port = spec->port;

    g_task_set_source_tag(task, qemu_migration_incoming_start);
    if (spec->fd < 0 && !port && qemu_ports_acquire(ctx->migration_ports, &port, &error))
        mig->port = port;
    if (!error) {
        /* Tunnelled: QEMU reads the stream from the fd it is given (getfd). */
        mig->uri = spec->fd >= 0 ? g_strdup(MIG_FD_URI) : qemu_migration_listen_uri(address, port);
        if (!mig->nbd_listen)
            mig->nbd_listen = g_strdup(address);
        mig->task = task;
        if (qemu_start_incoming(obj, mig, &error))
            return; /* the run owns mig */
        mig->task = NULL;
        if (mig->port)
            qemu_ports_release(ctx->migration_ports, mig->port);
        mig->port = 0;
    }
    qemu_migration_free(mig);
    answer_task(task, error, NULL, NULL);
}

gboolean
qemu_migration_incoming_start_finish(SvDomainObj *obj, GAsyncResult *res, QemuIncoming *out,
                                     GError **error)
{
    QemuIncoming *in = g_task_propagate_pointer(G_TASK(res), error);

    (void)obj;
    if (!in)
        return FALSE;
    *out = *in;
    g_free(in);
    return TRUE;
}

/* ---------------------------------------------------------------- destination: finish */

/* The destination's QEMU and the guest with it end: SHUTOFF/FAILED, STOPPED/FAILED. */
static void
incoming_kill(SvDomainObj *obj, QemuMigration *mig)
{
    mig->end_reason = SV_DOMAIN_SHUTOFF_FAILED;
    mig->end_detail = SV_DOMAIN_EVENT_STOPPED_FAILED;
    sv_domain_obj_set_cause(obj, "a failed incoming migration");
    mig->killing = TRUE;
    qemu_domain_kill(obj, SV_STOP_DESTROY);
}

void
qemu_migration_incoming_source_stats(SvDomainObj *obj, const SvMigCookieStats *stats)
{
    QemuMigration *mig = mig_of(obj);

    if (!mig || mig->operation != SV_DOMAIN_JOB_OPERATION_MIGRATION_IN || !stats)
        return;
    g_free(mig->source_stats);
    mig->source_stats = g_memdup2(stats, sizeof(*stats));
    mig->source_received = g_get_real_time() / 1000;
}

/* The destination's completed job is the source's (its cookie's figures), its time and
 * downtime counted to now from the source's start and vCPUs' stop, and the time the
 * figures took to come (the difference of the two hosts' clocks with it), as libvirt's. */
static void
source_figures(QemuMigration *mig)
{
    gint64 now = g_get_real_time() / 1000;

    qemu_migration_stats_from_cookie(mig->source_stats, &mig->stats);
    if (mig->source_stats->sent) {
        mig->stats.has_delta = TRUE;
        mig->stats.delta = mig->source_received - (gint64)mig->source_stats->sent;
    }
    if (mig->stats.started_ms > 0 && mig->stats.started_ms <= now)
        mig->stats.time_elapsed = (guint64)(now - mig->stats.started_ms);
    if (mig->stats.stopped_ms > 0 && mig->stats.stopped_ms <= now) {
        mig->stats.has_downtime = TRUE;
        mig->stats.downtime = (guint64)(now - mig->stats.stopped_ms);
    }
}

/* The incoming job is over: its figures to JOB_COMPLETED, and the guest has no migration. */
static void
incoming_done(SvDomainObj *obj, QemuMigration *mig)
{
    mig_update_times(mig);
    mig->stats.has_downtime = FALSE;
    if (mig->source_stats)
        source_figures(mig);
    mig->stats.type = SV_DOMAIN_JOB_COMPLETED;
    qemu_job_emit_completed(obj, &mig->stats);
    qemu_job_keep_completed(obj, &mig->stats);
    mig_return(mig, NULL, GINT_TO_POINTER(TRUE), NULL);
    qemu_domain_of(obj)->mig = NULL;
    qemu_migration_free(mig);
}

/* Post-copy: QEMU fetched the last pages (or failed to): the guest runs here for good,
 * RUNNING/MIGRATED without an event as libvirt; a failure leaves it RUNNING/POSTCOPY_FAILED
 * (neither side has the whole guest: nothing is killed). */
static void
postcopy_ended(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);
    SvDomainDriver *drv = sv_domain_driver_of_obj(obj);

    (void)error;
    if (mig->stats.type != SV_DOMAIN_JOB_COMPLETED) {
        mig_return(mig, mig_status_error(mig), NULL, NULL);
        if (obj->state == SV_DOMAIN_RUNNING)
            sv_domain_driver_set_state_event(
                drv, obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_POSTCOPY_FAILED,
                SV_DOMAIN_EVENT_RESUMED, SV_DOMAIN_EVENT_RESUMED_POSTCOPY_FAILED);
        qemu_domain_of(obj)->mig = NULL;
        qemu_migration_free(mig);
        return;
    }
    if (obj->state == SV_DOMAIN_RUNNING)
        sv_domain_driver_set_state_event(drv, obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_MIGRATED,
                                         SV_DOMAIN_EVENT_RESUMED, SV_DOMAIN_EVENT_RESUMED_MIGRATED);
    incoming_done(obj, mig);
}

static void
resumed(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj;
    QemuMigration *mig = mig_find(run, &obj);
    GError *err = NULL;

    (void)mon;
    (void)ret;
    if (!mig)
        return;
    mig->running_reason = -1;
    if (error) {
        sv_error_set(&err, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "resume operation failed: %s",
                     error->message);
        mig_return(mig, err, NULL, NULL);
        incoming_kill(obj, mig);
        return;
    }
    if (!mig->postcopy)
        incoming_done(obj, mig);
    else if (mig->stats.type != SV_DOMAIN_JOB_UNBOUNDED)
        postcopy_ended(obj, NULL);
    else
        mig->on_end = postcopy_ended;
}

/* The guest arrived (and the NBD server stopped): it runs, or stays paused when asked. */
static void
incoming_resume(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);

    if (error) {
        mig_return(mig, g_error_copy(error), NULL, NULL);
        incoming_kill(obj, mig);
        return;
    }
    if (mig->finish_flags & SV_MIGRATE_PAUSED) {
        sv_domain_driver_set_state_event(sv_domain_driver_of_obj(obj), obj, SV_DOMAIN_PAUSED,
                                         SV_DOMAIN_PAUSED_USER, SV_DOMAIN_EVENT_SUSPENDED,
                                         SV_DOMAIN_EVENT_SUSPENDED_PAUSED);
        incoming_done(obj, mig);
        return;
    }
    mig->running_reason = SV_DOMAIN_RUNNING_MIGRATED;
    mig->resumed_detail = SV_DOMAIN_EVENT_RESUMED_MIGRATED;
    qemu_monitor_command(qemu_domain_of(obj)->mon, "cont", NULL, resumed,
                         sv_domain_obj_run_key(obj));
}

/* QEMU's incoming migration is over (or it was already when finish came), or in post-copy
 * (the guest must run here to fetch the pages it lacks: RUNNING/POSTCOPY with
 * RESUMED/POSTCOPY, and finish ends with the migration). */
static void
incoming_ended(SvDomainObj *obj, const GError *error)
{
    QemuMigration *mig = mig_of(obj);

    (void)error;
    if (mig_in_postcopy(mig)) {
        mig->postcopy = TRUE;
        mig->running_reason = SV_DOMAIN_RUNNING_POSTCOPY;
        mig->resumed_detail = SV_DOMAIN_EVENT_RESUMED_POSTCOPY;
        qemu_monitor_command(qemu_domain_of(obj)->mon, "cont", NULL, resumed,
                             sv_domain_obj_run_key(obj));
        return;
    }
    if (mig->stats.type != SV_DOMAIN_JOB_COMPLETED) {
        mig_return(mig, mig_status_error(mig), NULL, NULL);
        incoming_kill(obj, mig);
        return;
    }
    mig_nbd_stop(obj, incoming_resume);
}

void
qemu_migration_incoming_finish(SvDomainObj *obj, gboolean ok, guint flags, GAsyncReadyCallback cb,
                               gpointer data)
{
    QemuMigration *mig = mig_of(obj);
    GTask *task = g_task_new(NULL, NULL, cb, data);
    GError *error = NULL;

    g_task_set_source_tag(task, qemu_migration_incoming_finish);
    if (!mig || mig->operation != SV_DOMAIN_JOB_OPERATION_MIGRATION_IN || mig->task ||
        sv_domain_run_in_start(obj)) {
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "domain '%s' is not processing incoming migration", obj->def->name);
        answer_task(task, error, NULL, NULL);
        return;
    }
    mig->task = task;
    mig->finish_flags = flags;
    if (!ok) {
        /* The source gave up: nothing of the guest stays here. */
        mig_return(mig, NULL, GINT_TO_POINTER(TRUE), NULL);
        incoming_kill(obj, mig);
        return;
    }
    if ((mig->stats.type != SV_DOMAIN_JOB_UNBOUNDED && mig->stats.status) || mig_in_postcopy(mig))
        incoming_ended(obj, NULL);
    else
        mig->on_end = incoming_ended;
}

gboolean
qemu_migration_incoming_finish_finish(SvDomainObj *obj, GAsyncResult *res, GError **error)
{
    (void)obj;
    return g_task_propagate_pointer(G_TASK(res), error) != NULL;
}
