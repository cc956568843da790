/* qemu_migration_job.c: a client's calls on a guest's migration job, as libvirt 9.0's QEMU
 * driver answers them: its progress (DOMAIN_GET_JOB_INFO, DOMAIN_GET_JOB_STATS while a
 * migration runs), DOMAIN_ABORT_JOB(_FLAGS), the downtime, speed and compression cache
 * (MIGRATE_SET/GET_MAX_DOWNTIME, SET/GET_MAX_SPEED, GET/SET_COMPRESSION_CACHE) and the
 * switch to post-copy (MIGRATE_START_POST_COPY). Each reaches QEMU with one command whose
 * reply answers the call. */
#include "qemu_migration_priv.h"

#include "qemu_coredump.h"
#include "qemu_migration_qmp.h"
#include "conf/uuid.h"
#include "util/error.h"

#define MIB (1024ULL * 1024)

typedef struct JobCall JobCall;
/* What a command's answer (ret, "return") makes of the call's reply; NULL: an empty one. */
typedef void (*JobReplyFunc)(JobCall *jc, SvDomainObj *obj, JsonNode *ret);

struct JobCall {
    SvCall *call; /* deferred */
    gpointer run;
    JobReplyFunc reply;
    guint64 value; /* what a setter keeps once QEMU took it */
    guint flags;
};

static void
command_replied(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    g_autofree JobCall *jc = data;
    SvDomainObj *obj = qemu_domain_find(jc->run);

    (void)mon;
    if (obj && qemu_domain_of(obj)->jobs)
        qemu_domain_of(obj)->jobs--;
    if (error)
        sv_call_fail(jc->call, g_error_copy(error));
    else if (!obj)
        sv_call_fail(jc->call, g_error_new(sv_error_quark(SV_FROM_DOMAIN), SV_ERR_OPERATION_INVALID,
                                           "domain is not running"));
    else if (jc->reply)
        jc->reply(jc, obj, ret);
    else
        sv_call_reply(jc->call, NULL);
}

/* Send cmd (args transfer full) for call on obj; reply makes the answer. */
static gboolean
send_command(SvCall *call, SvDomainObj *obj, const char *cmd, JsonObject *args, JobReplyFunc reply,
             guint64 value, GError **error)
{
    QemuDomain *qd = qemu_domain_of(obj);
    JobCall *jc;

    if (!qd || !qd->mon || qemu_monitor_is_closed(qd->mon) || sv_domain_run_in_start(obj)) {
        if (args)
            json_object_unref(args);
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    jc = g_new0(JobCall, 1);
    jc->call = sv_call_defer(call);
    jc->run = sv_domain_obj_run_key(obj);
    jc->reply = reply;
    jc->value = value;
    qd->jobs++;
    qemu_monitor_command(qd->mon, cmd, args, command_replied, jc);
    return TRUE;
}

/* The running guest a call names, its flags checked first (libvirt's order). */
static SvDomainObj *
running_guest(SvCall *call, const remote_nonnull_domain *dom, guint flags, guint supported,
              const char *fn, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;

    if (!sv_domain_driver_check_flags(drv, flags, supported, fn, error) ||
        !(obj = sv_domain_driver_lookup(drv, dom, error)) ||
        !sv_domain_driver_check_active(obj, error))
        return NULL;
    return obj;
}

static JsonObject *
args_uint(const char *name, guint64 v)
{
    JsonObject *args = json_object_new();

    json_object_set_int_member(args, name, (gint64)v);
    return args;
}

/* A member of query-migrate-parameters' answer, or 0. */
static guint64
parameter(JsonNode *ret, const char *name)
{
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_VALUE(n) ? (guint64)json_node_get_int(n) : 0;
}

/* ---------------------------------------------------------------- progress */

static void
figures_reply(JobCall *jc, SvDomainObj *obj, JsonNode *ret)
{
    QemuMigration *mig = mig_of(obj);
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    QemuMigrationStats s = {.operation = mig ? mig->operation : 0};
    remote_domain_get_job_info_ret info = {0};

    if (!mig) { /* over meanwhile */
        remote_domain_get_job_stats_ret none = {SV_DOMAIN_JOB_NONE, {0, NULL}};
        sv_call_reply(jc->call, jc->flags ? (gpointer)&none : (gpointer)&info);
        return;
    }
    mig_update_times(mig);
    s.time_elapsed = mig->stats.time_elapsed;
    if (o)
        qemu_migration_stats_read(o, &s);
    s.has_downtime = FALSE; /* only once the job completed */
    s.type = SV_DOMAIN_JOB_UNBOUNDED;
    if (jc->flags) {
        GArray *p = qemu_migration_stats_params(&s);
        remote_domain_get_job_stats_ret r = {s.type, {p->len, (remote_typed_param *)p->data}};

        sv_call_reply(jc->call, &r);
        qemu_migration_params_free(p);
    } else {
        info.type = s.type;
        info.timeElapsed = s.time_elapsed;
        info.memTotal = s.ram_total;
        info.memProcessed = s.ram_transferred;
        info.memRemaining = s.ram_remaining;
        info.fileTotal = s.disk_total + s.mirror_total;
        info.fileProcessed = s.disk_transferred + s.mirror_transferred;
        info.fileRemaining = s.disk_remaining + (s.mirror_total - s.mirror_transferred);
        info.dataTotal = info.memTotal + info.fileTotal;
        info.dataProcessed = info.memProcessed + info.fileProcessed;
        info.dataRemaining = info.memRemaining + info.fileRemaining;
        sv_call_reply(jc->call, &info);
    }
    qemu_migration_stats_clear(&s);
}

gboolean
qemu_migration_job_query(SvCall *call, SvDomainObj *obj, gboolean stats)
{
    QemuDomain *qd = qemu_domain_of(obj);
    JobCall *jc;

    if (!qd || !qd->mig || !qd->mon || sv_domain_run_in_start(obj))
        return FALSE;
    jc = g_new0(JobCall, 1);
    jc->call = sv_call_defer(call);
    jc->run = sv_domain_obj_run_key(obj);
    jc->reply = figures_reply;
    jc->flags = stats;
    qd->jobs++;
    qemu_monitor_command(qd->mon, "query-migrate", NULL, command_replied, jc);
    return TRUE;
}

/* ---------------------------------------------------------------- abort */

static gboolean
abort_job(SvCall *call, const remote_nonnull_domain *dom, guint flags, const char *fn,
          GError **error)
{
    SvDomainObj *obj = running_guest(call, dom, flags, SV_DOMAIN_ABORT_JOB_POSTCOPY, fn, error);
    QemuMigration *mig = obj ? mig_of(obj) : NULL;
    gboolean postcopy = mig && mig_in_postcopy(mig);

    if (!obj)
        return FALSE;
    if (qemu_domain_of(obj)->dump && !mig) {
        if (flags & SV_DOMAIN_ABORT_JOB_POSTCOPY) {
            sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                         "current job is not outgoing migration in post-copy mode");
            return FALSE;
        }
        return qemu_coredump_can_cancel(obj, error) &&
               send_command(call, obj, "migrate_cancel", NULL, NULL, 0, error);
    }
    if (!mig && sv_domain_run_in_start(obj)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "cannot abort VM start; use virDomainDestroy instead");
        return FALSE;
    }
    if (!mig) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "no job is active on the domain");
        return FALSE;
    }
    if (mig->operation == SV_DOMAIN_JOB_OPERATION_MIGRATION_IN) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "cannot abort incoming migration; use virDomainDestroy instead");
        return FALSE;
    }
    if (postcopy && !(flags & SV_DOMAIN_ABORT_JOB_POSTCOPY)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "cannot abort migration in post-copy mode");
        return FALSE;
    }
    if (!postcopy && (flags & SV_DOMAIN_ABORT_JOB_POSTCOPY)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "current job is not outgoing migration in post-copy mode");
        return FALSE;
    }
    return send_command(call, obj, postcopy ? "migrate-pause" : "migrate_cancel", NULL, NULL, 0,
                        error);
}

static gboolean
domain_abort_job(SvCall *call, remote_domain_abort_job_args *a, GError **error)
{
    return abort_job(call, &a->dom, 0, "DomainAbortJobFlags", error);
}

static gboolean
domain_abort_job_flags(SvCall *call, remote_domain_abort_job_flags_args *a, GError **error)
{
    return abort_job(call, &a->dom, a->flags, "DomainAbortJobFlags", error);
}

/* ---------------------------------------------------------------- downtime */

static gboolean
set_max_downtime(SvCall *call, remote_domain_migrate_set_max_downtime_args *a, GError **error)
{
    SvDomainObj *obj =
        running_guest(call, &a->dom, a->flags, 0, "DomainMigrateSetMaxDowntime", error);

    return obj && send_command(call, obj, "migrate-set-parameters",
                               args_uint("downtime-limit", a->downtime), NULL, 0, error);
}

static void
downtime_reply(JobCall *jc, SvDomainObj *obj, JsonNode *ret)
{
    remote_domain_migrate_get_max_downtime_ret r = {parameter(ret, "downtime-limit")};

    (void)obj;
    sv_call_reply(jc->call, &r);
}

static gboolean
get_max_downtime(SvCall *call, remote_domain_migrate_get_max_downtime_args *a,
                 remote_domain_migrate_get_max_downtime_ret *ret, GError **error)
{
    SvDomainObj *obj =
        running_guest(call, &a->dom, a->flags, 0, "DomainMigrateGetMaxDowntime", error);

    (void)ret;
    return obj &&
           send_command(call, obj, "query-migrate-parameters", NULL, downtime_reply, 0, error);
}

/* ---------------------------------------------------------------- speed */

/* The speed kept for obj's next migration (libvirt keeps it with the domain). */
static guint64 *
kept_speed(SvDomainObj *obj)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    char key[SV_UUID_STRING_LEN + 1];
    guint64 *v;

    if (!ctx->migrate_speeds)
        ctx->migrate_speeds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    sv_uuid_format(obj->def->uuid, key);
    if (!(v = g_hash_table_lookup(ctx->migrate_speeds, key))) {
        v = g_new(guint64, 1);
        *v = QEMU_MIGRATION_BANDWIDTH_MAX;
        g_hash_table_insert(ctx->migrate_speeds, g_strdup(key), v);
    }
    return v;
}

guint64
qemu_migration_kept_speed(SvDomainObj *obj)
{
    return *kept_speed(obj);
}

static void
speed_set(JobCall *jc, SvDomainObj *obj, JsonNode *ret)
{
    (void)ret;
    *kept_speed(obj) = jc->value;
    sv_call_reply(jc->call, NULL);
}

static gboolean
set_max_speed(SvCall *call, remote_domain_migrate_set_max_speed_args *a, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    gboolean postcopy = (a->flags & SV_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY) != 0;
    guint64 max = postcopy ? G_MAXUINT64 / MIB : QEMU_MIGRATION_BANDWIDTH_MAX;
    SvDomainObj *obj;

    if (!sv_domain_driver_check_flags(drv, a->flags, SV_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY,
                                      "DomainMigrateSetMaxSpeed", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)))
        return FALSE;
    if (a->bandwidth > max) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OVERFLOW, "bandwidth must be less than %llu",
                     (unsigned long long)max + 1);
        return FALSE;
    }
    if (!postcopy && !sv_domain_obj_is_active(obj)) {
        *kept_speed(obj) = a->bandwidth;
        return TRUE;
    }
    /* The post-copy speed is QEMU's only; the other one is also kept for the next run. */
    return sv_domain_driver_check_active(obj, error) &&
           send_command(
               call, obj, "migrate-set-parameters",
               args_uint(postcopy ? "max-postcopy-bandwidth" : "max-bandwidth", a->bandwidth * MIB),
               postcopy ? NULL : speed_set, a->bandwidth, error);
}

static void
postcopy_speed_reply(JobCall *jc, SvDomainObj *obj, JsonNode *ret)
{
    remote_domain_migrate_get_max_speed_ret r = {parameter(ret, "max-postcopy-bandwidth") / MIB};

    (void)obj;
    sv_call_reply(jc->call, &r);
}

static gboolean
get_max_speed(SvCall *call, remote_domain_migrate_get_max_speed_args *a,
              remote_domain_migrate_get_max_speed_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;

    if (!sv_domain_driver_check_flags(drv, a->flags, SV_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY,
                                      "DomainMigrateGetMaxSpeed", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)))
        return FALSE;
    if (!(a->flags & SV_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY)) {
        ret->bandwidth = *kept_speed(obj);
        return TRUE;
    }
    return sv_domain_driver_check_active(obj, error) &&
           send_command(call, obj, "query-migrate-parameters", NULL, postcopy_speed_reply, 0,
                        error);
}

/* ---------------------------------------------------------------- compression cache */

static void
cache_reply(JobCall *jc, SvDomainObj *obj, JsonNode *ret)
{
    remote_domain_migrate_get_compression_cache_ret r = {parameter(ret, "xbzrle-cache-size")};

    (void)obj;
    sv_call_reply(jc->call, &r);
}

static gboolean
get_compression_cache(SvCall *call, remote_domain_migrate_get_compression_cache_args *a,
                      remote_domain_migrate_get_compression_cache_ret *ret, GError **error)
{
    SvDomainObj *obj =
        running_guest(call, &a->dom, a->flags, 0, "DomainMigrateGetCompressionCache", error);

    (void)ret;
    return obj && send_command(call, obj, "query-migrate-parameters", NULL, cache_reply, 0, error);
}

static gboolean
set_compression_cache(SvCall *call, remote_domain_migrate_set_compression_cache_args *a,
                      GError **error)
{
    SvDomainObj *obj =
        running_guest(call, &a->dom, a->flags, 0, "DomainMigrateSetCompressionCache", error);

    return obj && send_command(call, obj, "migrate-set-parameters",
                               args_uint("xbzrle-cache-size", a->cacheSize), NULL, 0, error);
}

/* ---------------------------------------------------------------- post-copy */

static gboolean
start_post_copy(SvCall *call, remote_domain_migrate_start_post_copy_args *a, GError **error)
{
    SvDomainObj *obj =
        running_guest(call, &a->dom, a->flags, 0, "DomainMigrateStartPostCopy", error);
    QemuMigration *mig = obj ? mig_of(obj) : NULL;

    if (!obj)
        return FALSE;
    if (!mig || mig->operation != SV_DOMAIN_JOB_OPERATION_MIGRATION_OUT) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "post-copy can only be started while outgoing migration is in progress");
        return FALSE;
    }
    if (!(mig->flags & SV_MIGRATE_POSTCOPY)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "switching to post-copy requires migration to be started with "
                     "VIR_MIGRATE_POSTCOPY flag");
        return FALSE;
    }
    return send_command(call, obj, "migrate-start-postcopy", NULL, NULL, 0, error);
}

void
qemu_migration_job_install(SvRemoteHandlers *h)
{
    h->domain_abort_job = domain_abort_job;
    h->domain_abort_job_flags = domain_abort_job_flags;
    h->domain_migrate_set_max_downtime = set_max_downtime;
    h->domain_migrate_get_max_downtime = get_max_downtime;
    h->domain_migrate_set_max_speed = set_max_speed;
    h->domain_migrate_get_max_speed = get_max_speed;
    h->domain_migrate_get_compression_cache = get_compression_cache;
    h->domain_migrate_set_compression_cache = set_compression_cache;
    h->domain_migrate_start_post_copy = start_post_copy;
}
