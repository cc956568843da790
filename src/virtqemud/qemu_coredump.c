/* qemu_coredump.c: `virsh dump` (qemu_coredump.h), the steps of libvirt 9.0's
 * qemuDomainCoreDumpWithFormat as one job on the guest:
 *   1. a non-live dump of a running guest pauses it (PAUSED/DUMP);
 *   2. the daemon opens the file (root's, 0600, truncated; a FIFO is opened as one);
 *   3. memory-only: the format checked against query-dump-guest-memory-capability, the fd
 *      handed to QEMU (getfd "dump"), dump-guest-memory detached, then QEMU's
 *      DUMP_COMPLETED; a full dump (QEMU's migration stream) is refused here;
 *   4. --crash stops the guest (STOPPED/CRASHED); else --reset resets it and a guest that
 *      ran before runs again.
 * While it runs, DOMAIN_GET_JOB_INFO and DOMAIN_GET_JOB_STATS answer from query-dump. */
#include "qemu_coredump.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/domain_state.h"
#include "domain/domain_typed.h"
#include "protocol/sv_wire_constants.h"
#include "qemu_domain.h"
#include "qemu_monitor.h"
#include "qemu_status.h"
#include "util/error.h"

#define DUMP_FDNAME "dump" /* libvirt's name for the file's fd in QEMU */
#define DUMP_FLAGS                                                                                 \
    (SV_DUMP_LIVE | SV_DUMP_CRASH | SV_DUMP_BYPASS_CACHE | SV_DUMP_RESET | SV_DUMP_MEMORY_ONLY)

/* QEMU's names of libvirt's formats, in virDomainCoreDumpFormat order ("elf" is raw). */
static const char *const dump_formats[] = {"elf", "kdump-zlib", "kdump-lzo", "kdump-snappy",
                                           "win-dmp"};
G_STATIC_ASSERT(G_N_ELEMENTS(dump_formats) == SV_DOMAIN_CORE_DUMP_FORMAT_LAST);

struct QemuCoreDump {
    SvCall *call;     /* deferred */
    gpointer run;     /* the run's weak handle */
    char *path;
    guint format;     /* virDomainCoreDumpFormat */
    guint flags;      /* virDomainCoreDumpFlags */
    gboolean resume;  /* the guest ran before: it runs again after */
    gboolean paused;  /* paused for the dump (or dumped): resumed after */
    gboolean created; /* the file is ours: removed if the dump fails */
    int fd;           /* the file; QEMU writes to a copy */
    gboolean dumping; /* QEMU took dump-guest-memory: DUMP_COMPLETED ends it */
    gint64 started;   /* g_get_real_time() */
    GError *error;    /* the dump's failure, answered once the guest is back */
};

static void
dump_free(QemuCoreDump *job)
{
    if (job->fd >= 0)
        close(job->fd);
    g_clear_error(&job->error);
    g_free(job->path);
    g_free(job);
}

/* The guest of a step's callback and its dump, or NULL once the run is over. */
static QemuCoreDump *
dump_of_run(gpointer run, SvDomainObj **ret_obj)
{
    SvDomainObj *obj = qemu_domain_find(run);
    QemuDomain *qd = obj ? qemu_domain_of(obj) : NULL;

    *ret_obj = obj;
    return qd ? qd->dump : NULL;
}

static void finish(SvDomainObj *obj, QemuCoreDump *job, GError *error);

/* ---------------------------------------------------------------- the end of the job */

static void
reply_and_free(QemuCoreDump *job)
{
    if (job->error)
        sv_call_fail(job->call, g_steal_pointer(&job->error));
    else
        sv_call_reply(job->call, NULL);
    dump_free(job);
}

/* The dump's job is over on obj: the guest no longer answers job queries with it. */
static QemuCoreDump *
detach(SvDomainObj *obj)
{
    QemuDomain *qd = qemu_domain_of(obj);
    QemuCoreDump *job = qd->dump;

    qd->dump = NULL;
    return job;
}

static void
resumed(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvDomainObj *obj;
    QemuCoreDump *job = dump_of_run(data, &obj);

    (void)mon;
    (void)ret;
    if (!job)
        return;
    if (qemu_domain_of(obj)->jobs)
        qemu_domain_of(obj)->jobs--;
    if (error && !job->error)
        sv_error_set(&job->error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "resuming after dump failed");
    reply_and_free(detach(obj));
}

static void
resume_or_reply(SvDomainObj *obj, QemuCoreDump *job)
{
    QemuDomain *qd = qemu_domain_of(obj);

    if (!job->resume) {
        reply_and_free(detach(obj));
        return;
    }
    qd->jobs++;
    qemu_monitor_command(qd->mon, "cont", NULL, resumed, job->run);
}

static void
reset_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvDomainObj *obj;
    QemuCoreDump *job = dump_of_run(data, &obj);

    (void)mon;
    (void)ret;
    if (!job)
        return;
    if (qemu_domain_of(obj)->jobs)
        qemu_domain_of(obj)->jobs--;
    if (error && !job->error)
        job->error = g_error_copy(error);
    resume_or_reply(obj, job);
}

static void
crash_stopped(SvProcess *proc, const GError *error, gpointer data)
{
    QemuCoreDump *job = data;

    (void)proc;
    if (error && !job->error)
        job->error = g_error_copy(error);
    reply_and_free(job);
}

/* As libvirt: the guest stopped as crashed (STOPPED/CRASHED), the call answered once QEMU
 * is gone. */
static void
stop_crashed(SvDomainObj *obj)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    QemuDomain *qd = qemu_domain_of(obj);
    QemuCoreDump *job = detach(obj);

    sv_domain_obj_set_cause(obj, "a client (dump --crash)");
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_CRASH);
    sv_process_kill(qd->proc, FALSE, ctx->timeouts.term_timeout_ms,
                    ctx->timeouts.kill_timeout_ms, crash_stopped, job);
    qemu_status_save(obj);
}

/* The dump is over (error: its failure, transfer full): the file closed (and removed when it
 * failed and was ours), then the guest crashed, reset or resumed as asked. */
static void
finish(SvDomainObj *obj, QemuCoreDump *job, GError *error)
{
    QemuDomain *qd = qemu_domain_of(obj);

    if (job->fd >= 0 && (job->flags & SV_DUMP_BYPASS_CACHE) && !error) {
        /* Not O_DIRECT through a helper as libvirt: written, then dropped from the cache. */
        fdatasync(job->fd);
        posix_fadvise(job->fd, 0, 0, POSIX_FADV_DONTNEED);
    }
    if (job->fd >= 0 && close(job->fd) < 0 && !error)
        sv_error_set_errno(&error, SV_FROM_QEMU, errno, "unable to close file %s", job->path);
    job->fd = -1;
    if (error && job->created)
        unlink(job->path);
    job->error = error;
    if (!error)
        job->paused = TRUE; /* as libvirt: a guest that ran runs on (cont) after any dump */
    if (!error && (job->flags & SV_DUMP_CRASH)) {
        stop_crashed(obj);
        return;
    }
    if (!job->paused)
        job->resume = FALSE;
    if (!error && (job->flags & SV_DUMP_RESET)) {
        qd->jobs++;
        qemu_monitor_command(qd->mon, "system_reset", NULL, reset_done, job->run);
        return;
    }
    resume_or_reply(obj, job);
}

void
qemu_coredump_abort(SvDomainObj *obj)
{
    QemuDomain *qd = qemu_domain_of(obj);
    QemuCoreDump *job = qd ? qd->dump : NULL;

    if (!job)
        return;
    qd->dump = NULL;
    if (job->created)
        unlink(job->path);
    sv_error_set(&job->error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "domain is not running");
    reply_and_free(job);
}

void
qemu_coredump_completed(SvDomainObj *obj, JsonObject *data)
{
    QemuDomain *qd = qemu_domain_of(obj);
    QemuCoreDump *job = qd ? qd->dump : NULL;
    const char *why = data ? qemu_json_string(data, "error") : NULL;
    GError *error = NULL;

    /* The crash dump of <on_crash> sends one too (qemu_dump.c): not a client's job. */
    if (!job || !job->dumping)
        return;
    job->dumping = FALSE;
    if (why)
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "memory-only dump failed: %s",
                     why);
    finish(obj, job, error);
}

/* ---------------------------------------------------------------- the dump itself */

static void
dump_started(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvDomainObj *obj;
    QemuCoreDump *job = dump_of_run(data, &obj);

    (void)mon;
    (void)ret;
    if (!job)
        return;
    if (error) {
        finish(obj, job, g_error_copy(error));
        return;
    }
    job->dumping = TRUE; /* DUMP_COMPLETED comes next */
}

static void
fd_given(QemuMonitor *mon, JsonObject *reply, const GError *error, gpointer data)
{
    SvDomainObj *obj;
    QemuCoreDump *job = dump_of_run(data, &obj);
    GError *e;
    JsonObject *args;

    if (!job)
        return;
    if ((e = qemu_monitor_reply_error("getfd", reply, error))) {
        finish(obj, job, e);
        return;
    }
    args = json_object_new();
    json_object_set_boolean_member(args, "paging", FALSE);
    json_object_set_string_member(args, "protocol", "fd:" DUMP_FDNAME);
    if (job->format != SV_DOMAIN_CORE_DUMP_FORMAT_RAW) /* QEMU's default is ELF */
        json_object_set_string_member(args, "format", dump_formats[job->format]);
    json_object_set_boolean_member(args, "detach", TRUE);
    qemu_monitor_command(mon, "dump-guest-memory", args, dump_started, job->run);
}

/* Hand QEMU a copy of the file's fd under libvirt's name. */
static void
give_fd(SvDomainObj *obj, QemuCoreDump *job)
{
    JsonObject *step = qemu_json_command1("getfd", "fdname", DUMP_FDNAME);
    g_autoptr(JsonNode) node = json_node_init_object(json_node_alloc(), step);
    int copy = fcntl(job->fd, F_DUPFD_CLOEXEC, 0);

    json_object_unref(step);
    if (copy < 0) {
        GError *e = NULL;
        sv_error_set_errno(&e, SV_FROM_QEMU, errno, "cannot duplicate fd of %s", job->path);
        finish(obj, job, e);
        return;
    }
    qemu_monitor_passthrough(qemu_domain_of(obj)->mon, node, copy, fd_given, job->run);
}

/* Whether QEMU's query-dump-guest-memory-capability answer `ret` lists `format`. */
static gboolean
format_listed(JsonNode *ret, const char *format)
{
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    JsonNode *n = o ? json_object_get_member(o, "formats") : NULL;
    JsonArray *a = n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonNode *f = json_array_get_element(a, i);
        if (JSON_NODE_HOLDS_VALUE(f) && json_node_get_value_type(f) == G_TYPE_STRING &&
            g_str_equal(json_node_get_string(f), format))
            return TRUE;
    }
    return FALSE;
}

static void
formats_known(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvDomainObj *obj;
    QemuCoreDump *job = dump_of_run(data, &obj);
    GError *e = NULL;

    (void)mon;
    if (!job)
        return;
    if (error) {
        finish(obj, job, g_error_copy(error));
        return;
    }
    if (!format_listed(ret, dump_formats[job->format])) {
        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "unsupported dumpformat '%s' for this QEMU binary",
                     dump_formats[job->format]);
        finish(obj, job, e);
        return;
    }
    give_fd(obj, job);
}

/* libvirt's file: opened by the daemon as root, created 0600 or truncated; a FIFO is opened
 * as it is (without blocking: a reader must be there already). */
static gboolean
open_file(QemuCoreDump *job, GError **error)
{
    struct stat st;
    gboolean exists = stat(job->path, &st) == 0;
    gboolean fifo = exists && S_ISFIFO(st.st_mode);
    int flags = O_WRONLY | O_CLOEXEC | (fifo ? O_NONBLOCK : O_CREAT | O_TRUNC);

    if ((job->fd = open(job->path, flags, S_IRUSR | S_IWUSR)) < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno,
                           fifo ? "Failed to open file '%s'" : "Failed to create file '%s'",
                           job->path);
        return FALSE;
    }
    job->created = !exists;
    if (fifo && fcntl(job->fd, F_SETFL, 0) < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "Failed to open file '%s'", job->path);
        return FALSE;
    }
    return TRUE;
}

/* The guest is paused (or was not to be): the file, then QEMU's dump. */
static void
dump_now(SvDomainObj *obj, QemuCoreDump *job)
{
    QemuDomain *qd = qemu_domain_of(obj);
    GError *e = NULL;

    if (!open_file(job, &e)) {
        finish(obj, job, e);
        return;
    }
    if (!(job->flags & SV_DUMP_MEMORY_ONLY)) {
        if (job->format != SV_DOMAIN_CORE_DUMP_FORMAT_RAW)
            sv_error_set(&e, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                         "kdump-compressed format is only supported with memory-only dump");
        else /* libvirt writes QEMU's migration stream: not here (docs/procedures.md) */
            sv_error_set(&e, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                         "only a memory-only dump (--memory-only) is supported");
        finish(obj, job, e);
        return;
    }
    if (job->format == SV_DOMAIN_CORE_DUMP_FORMAT_RAW) {
        give_fd(obj, job);
        return;
    }
    qemu_monitor_command(qd->mon, "query-dump-guest-memory-capability", NULL, formats_known,
                         job->run);
}

static void
paused(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvDomainObj *obj;
    QemuCoreDump *job = dump_of_run(data, &obj);

    (void)mon;
    (void)ret;
    if (!job)
        return;
    if (qemu_domain_of(obj)->jobs)
        qemu_domain_of(obj)->jobs--;
    if (error) {
        job->paused = FALSE;
        finish(obj, job, g_error_copy(error));
        return;
    }
    dump_now(obj, job);
}

/* ---------------------------------------------------------------- the procedures */

static gboolean
core_dump(SvCall *call, const remote_nonnull_domain *dom, const char *to, guint format,
          guint flags, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;
    QemuDomain *qd;
    QemuCoreDump *job;

    if (!sv_domain_driver_check_flags(drv, flags, DUMP_FLAGS, "DomainCoreDumpWithFormat", error) ||
        !(obj = sv_domain_driver_lookup(drv, dom, error)) ||
        !sv_domain_driver_check_active(obj, error))
        return FALSE;
    qd = qemu_domain_of(obj);
    if (!qd || !qd->mon || qemu_monitor_is_closed(qd->mon) || sv_domain_run_in_start(obj) ||
        sv_domain_run_stopping(obj, SV_STOP_NONE)) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    if (qd->dump) {
        /* libvirt waits 30 s for the job before this error; it is answered at once here. */
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_TIMEOUT,
                     "cannot acquire state change lock (held by "
                     "monitor=remoteDispatchDomainCoreDumpWithFormat)");
        return FALSE;
    }
    if (format >= SV_DOMAIN_CORE_DUMP_FORMAT_LAST) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INVALID_ARG, "unknown dumpformat '%u'", format);
        return FALSE;
    }
    job = g_new0(QemuCoreDump, 1);
    job->run = sv_domain_obj_run_key(obj);
    job->path = g_strdup(to);
    job->format = format;
    job->flags = flags;
    job->fd = -1;
    job->started = g_get_real_time();
    job->resume = obj->state == SV_DOMAIN_RUNNING;
    job->call = sv_call_defer(call);
    qd->dump = job;
    if (!(flags & SV_DUMP_LIVE) && obj->state == SV_DOMAIN_RUNNING) {
        /* Its STOP is PAUSED/DUMP (qemu_process.c). */
        job->paused = TRUE;
        qd->jobs++;
        qemu_monitor_command(qd->mon, "stop", NULL, paused, job->run);
        return TRUE;
    }
    dump_now(obj, job);
    return TRUE;
}

static gboolean
domain_core_dump(SvCall *call, remote_domain_core_dump_args *a, GError **error)
{
    return core_dump(call, &a->dom, a->to, SV_DOMAIN_CORE_DUMP_FORMAT_RAW, a->flags, error);
}

static gboolean
domain_core_dump_with_format(SvCall *call, remote_domain_core_dump_with_format_args *a,
                             GError **error)
{
    return core_dump(call, &a->dom, a->to, a->dumpformat, a->flags, error);
}

/* ---------------------------------------------------------------- the job's progress */

typedef struct {
    SvCall *call; /* deferred */
    gpointer run;
    gboolean stats;
} JobQuery;

/* libvirt's answers for a dump job: DOMAIN_GET_JOB_STATS's operation, time and memory
 * figures, or DOMAIN_GET_JOB_INFO's fields. */
static void
job_reply(JobQuery *q, int type, guint64 elapsed, guint64 total, guint64 done)
{
    if (q->stats) {
        g_autoptr(GArray) p = g_array_new(FALSE, TRUE, sizeof(remote_typed_param));
        remote_domain_get_job_stats_ret r = {type, {0, NULL}};

        sv_typed_params_add_int(p, SV_DOMAIN_JOB_OPERATION_DUMP, "operation");
        sv_typed_params_add_ullong(p, elapsed, "time_elapsed");
        sv_typed_params_add_ullong(p, total, "memory_total");
        sv_typed_params_add_ullong(p, done, "memory_processed");
        sv_typed_params_add_ullong(p, total - done, "memory_remaining");
        r.params.params_len = p->len;
        r.params.params_val = (remote_typed_param *)p->data;
        sv_call_reply(q->call, &r);
        for (guint i = 0; i < p->len; i++)
            xdr_free((xdrproc_t)xdr_remote_typed_param,
                     (char *)&g_array_index(p, remote_typed_param, i));
    } else {
        remote_domain_get_job_info_ret r = {0};

        r.type = type;
        r.timeElapsed = elapsed;
        r.memTotal = total;
        r.memProcessed = done;
        r.memRemaining = total - done;
        sv_call_reply(q->call, &r);
    }
}

static guint64
uint_member(JsonObject *o, const char *name)
{
    JsonNode *n = o ? json_object_get_member(o, name) : NULL;

    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64
               ? (guint64)json_node_get_int(n)
               : 0;
}

/* query-dump's answer: status, completed and total bytes, as libvirt reads them. */
static void
dump_queried(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    g_autofree JobQuery *q = data;
    SvDomainObj *obj;
    QemuCoreDump *job = dump_of_run(q->run, &obj);
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    const char *status = qemu_json_string(o, "status");
    guint64 elapsed;

    (void)mon;
    if (error) {
        sv_call_fail(q->call, g_error_copy(error));
        return;
    }
    if (!job) { /* over meanwhile */
        job_reply(q, SV_DOMAIN_JOB_NONE, 0, 0, 0);
        return;
    }
    elapsed = (guint64)(g_get_real_time() - job->started) / 1000;
    if (job->dumping && status && g_str_equal(status, "completed"))
        job_reply(q, SV_DOMAIN_JOB_COMPLETED, elapsed, uint_member(o, "total"),
                  uint_member(o, "completed"));
    else if (job->dumping)
        job_reply(q, SV_DOMAIN_JOB_UNBOUNDED, elapsed, uint_member(o, "total"),
                  uint_member(o, "completed"));
    else /* pausing, or opening the file: nothing dumped yet */
        job_reply(q, SV_DOMAIN_JOB_UNBOUNDED, elapsed, 0, 0);
}

static gboolean
job_query(SvCall *call, SvDomainObj *obj, gboolean stats)
{
    QemuDomain *qd = qemu_domain_of(obj);
    JobQuery *q;

    if (!qd || !qd->dump || !qd->mon)
        return FALSE;
    q = g_new0(JobQuery, 1);
    q->call = sv_call_defer(call);
    q->run = qd->dump->run;
    q->stats = stats;
    qemu_monitor_command(qd->mon, "query-dump", NULL, dump_queried, q);
    return TRUE;
}

void
qemu_coredump_job_info(SvCall *call, SvDomainObj *obj, remote_domain_get_job_info_ret *ret)
{
    if (!job_query(call, obj, FALSE))
        ret->type = SV_DOMAIN_JOB_NONE; /* every other field 0 */
}

void
qemu_coredump_job_stats(SvCall *call, SvDomainObj *obj, gboolean current,
                        remote_domain_get_job_stats_ret *ret)
{
    if (!current || !job_query(call, obj, TRUE))
        ret->type = SV_DOMAIN_JOB_NONE; /* no statistics */
}

void
qemu_coredump_install(SvRemoteHandlers *h)
{
    h->domain_core_dump = domain_core_dump;
    h->domain_core_dump_with_format = domain_core_dump_with_format;
}
