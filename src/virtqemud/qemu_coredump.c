/* qemu_coredump.c: `virsh dump` (qemu_coredump.h), the steps of libvirt 9.0's
 * qemuDomainCoreDumpWithFormat as one job on the guest:
 *   1. a non-live dump of a running guest pauses it (PAUSED/DUMP);
 *   2. the daemon opens the file (root's, 0600, truncated; a FIFO is opened as one);
 *   3. memory-only: the format checked against query-dump-guest-memory-capability, the fd
 *      handed to QEMU (getfd "dump"), dump-guest-memory detached, then QEMU's
 *      DUMP_COMPLETED; a full dump: QEMU's migration stream into the fd (getfd "migrate",
 *      migrate) until its MIGRATION event says completed;
 *   4. --crash stops the guest (STOPPED/CRASHED); else --reset resets it and a guest that
 *      ran before runs again.
 * While it runs, DOMAIN_GET_JOB_INFO and DOMAIN_GET_JOB_STATS answer from query-dump or
 * query-migrate. Differences from libvirt: calls that change the guest do not wait for the
 * job (libvirt holds them up to 30 s, then refuses, as a second dump is refused here at
 * once); --bypass-cache writes through the page cache and drops the file from it after
 * (libvirt's O_DIRECT helper process); the migration's bandwidth is left unlimited after a
 * full dump (libvirt restores it). */
#include "qemu_coredump.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/domain_state.h"
#include "domain/domain_typed.h"
#include "protocol/sv_wire_constants.h"
#include "qemu_domain.h"
#include "qemu_migration_qmp.h"
#include "qemu_monitor.h"
#include "qemu_status.h"
#include "util/error.h"

#define DUMP_FDNAME "dump"      /* libvirt's name for the file's fd in QEMU, memory-only */
#define STREAM_FDNAME "migrate" /* and for a full dump */
/* libvirt's unlimited bandwidth for a migration into a file: its largest MiB/s in bytes. */
#define BANDWIDTH_MAX ((G_MAXINT64 / (1024 * 1024)) * 1024 * 1024)
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
    gboolean dumping; /* QEMU was asked to write: its DUMP_COMPLETED or MIGRATION ends it */
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
static void stream_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data);
static void stream_begin(SvDomainObj *obj, QemuCoreDump *job);

/* How long QEMU's dump thread is given to end after its DUMP_COMPLETED (below). */
#define DUMP_SETTLE_MS 200

static gboolean
dump_settled(gpointer data)
{
    SvDomainObj *obj;
    QemuCoreDump *job = dump_of_run(data, &obj);

    if (job)
        finish(obj, job, g_steal_pointer(&job->error));
    return G_SOURCE_REMOVE;
}

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
    if (error && !job->error) {
        g_debug("cont after a dump: %s", error->message);
        sv_error_set(&job->error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "resuming after dump failed");
    }
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
    sv_error_set(&job->error, SV_FROM_DOMAIN, SV_ERR_OPERATION_FAILED, "domain is not running");
    reply_and_free(job);
}

void
qemu_coredump_completed(SvDomainObj *obj, JsonObject *data)
{
    QemuDomain *qd = qemu_domain_of(obj);
    QemuCoreDump *job = qd ? qd->dump : NULL;
    const char *why = data ? qemu_json_string(data, "error") : NULL;

    /* The crash dump of <on_crash> sends one too (qemu_dump.c): not a client's job. */
    if (!job || !job->dumping)
        return;
    job->dumping = FALSE;
    if (why)
        sv_error_set(&job->error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "memory-only dump failed: %s", why);
    /* QEMU 7.2's dump thread sends DUMP_COMPLETED before it closes its fd and drops its
     * migration blocker, both kept in one global state: a dump asked right after could
     * have its new fd closed by the old thread (EBADF) and a migration would be refused
     * ("Live migration disabled"); nothing in QMP says when the thread is done. libvirt's
     * slower path leaves it the time; here it is given DUMP_SETTLE_MS (a timer, never a
     * wait). */
    g_timeout_add(DUMP_SETTLE_MS, dump_settled, job->run);
}

/* ---------------------------------------------------------------- the dump itself */

/* QEMU writes the file: memory-only, dump-guest-memory (detached) until DUMP_COMPLETED; a
 * full dump, as libvirt's (its dump_image_format "raw", no compressor), QEMU's migration
 * stream (bandwidth unlimited, MIGRATION events on) until MIGRATION says it completed or
 * failed. Either way the file's fd goes first under libvirt's name (getfd). */

/* The job of a step's callback, or NULL: the run is over, or the step failed (error), which
 * ends the dump. */
static QemuCoreDump *
step_job(gpointer run, const GError *error, SvDomainObj **ret_obj)
{
    QemuCoreDump *job = dump_of_run(run, ret_obj);

    if (job && error) {
        finish(*ret_obj, job, g_error_copy(error));
        return NULL;
    }
    return job;
}

static void
writing(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvDomainObj *obj;
    QemuCoreDump *job = dump_of_run(data, &obj);

    (void)mon;
    (void)ret;
    if (job && error && job->dumping) { /* QEMU did not start: no event comes */
        job->dumping = FALSE;
        finish(obj, job, g_error_copy(error));
    }
}

static void
fd_given(QemuMonitor *mon, JsonObject *reply, const GError *error, gpointer data)
{
    SvDomainObj *obj;
    QemuCoreDump *job = dump_of_run(data, &obj);
    JsonObject *args = NULL;
    GError *e;

    if (!job)
        return;
    if ((e = qemu_monitor_reply_error("getfd", reply, error))) {
        finish(obj, job, e);
        return;
    }
    args = json_object_new();
    if (job->flags & SV_DUMP_MEMORY_ONLY) {
        json_object_set_boolean_member(args, "paging", FALSE);
        json_object_set_string_member(args, "protocol", "fd:" DUMP_FDNAME);
        if (job->format != SV_DOMAIN_CORE_DUMP_FORMAT_RAW) /* QEMU's default is ELF */
            json_object_set_string_member(args, "format", dump_formats[job->format]);
        json_object_set_boolean_member(args, "detach", TRUE);
    } else {
        json_object_set_string_member(args, "uri", "fd:" STREAM_FDNAME);
    }
    /* From now on QEMU's event ends the job: it may come before the command's reply. */
    job->dumping = TRUE;
    qemu_monitor_command(mon, (job->flags & SV_DUMP_MEMORY_ONLY) ? "dump-guest-memory" : "migrate",
                         args, writing, job->run);
}

/* Hand QEMU a copy of the file's fd under libvirt's name. */
static void
give_fd(SvDomainObj *obj, QemuCoreDump *job)
{
    const char *name = (job->flags & SV_DUMP_MEMORY_ONLY) ? DUMP_FDNAME : STREAM_FDNAME;
    JsonObject *step = qemu_json_command1("getfd", "fdname", name);
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

/* The answer of query-dump-guest-memory-capability (memory-only, a format other than ELF)
 * or of migrate-set-capabilities (full): the fd next, or libvirt's error. */
static void
ready_to_write(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvDomainObj *obj;
    QemuCoreDump *job = step_job(data, error, &obj);
    GError *e = NULL;

    (void)mon;
    if (!job)
        return;
    if ((job->flags & SV_DUMP_MEMORY_ONLY) && !format_listed(ret, dump_formats[job->format])) {
        sv_error_set(&e, SV_FROM_QEMU, SV_ERR_INVALID_ARG,
                     "unsupported dumpformat '%s' for this QEMU binary",
                     dump_formats[job->format]);
        finish(obj, job, e);
        return;
    }
    give_fd(obj, job);
}

static void
stream_begin(SvDomainObj *obj, QemuCoreDump *job)
{
    QemuMonitor *mon = qemu_domain_of(obj)->mon;
    JsonObject *params = json_object_new();
    JsonObject *caps = json_object_new();
    JsonObject *events = json_object_new();
    JsonArray *list = json_array_new();

    json_object_set_int_member(params, "max-bandwidth", BANDWIDTH_MAX);
    qemu_monitor_command(mon, "migrate-set-parameters", params, NULL, NULL);
    json_object_set_string_member(events, "capability", "events");
    json_object_set_boolean_member(events, "state", TRUE);
    json_array_add_object_element(list, events);
    json_object_set_array_member(caps, "capabilities", list);
    qemu_monitor_command(mon, "migrate-set-capabilities", caps, ready_to_write, job->run);
}

void
qemu_coredump_migration(SvDomainObj *obj, JsonObject *data)
{
    QemuDomain *qd = qemu_domain_of(obj);
    QemuCoreDump *job = qd ? qd->dump : NULL;
    const char *status = data ? qemu_json_string(data, "status") : NULL;
    GError *error = NULL;

    if (!job || !job->dumping || !status)
        return;
    if (g_str_equal(status, "failed") || g_str_equal(status, "cancelled"))
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "%s: %s",
                     "domain core dump job",
                     g_str_equal(status, "failed") ? "unexpectedly failed" : "canceled by client");
    else if (!g_str_equal(status, "completed"))
        return;
    job->dumping = FALSE;
    job->error = error;
    if (!error) /* its figures, kept as the last completed job's */
        qemu_monitor_command(qd->mon, "query-migrate", NULL, stream_done, job->run);
    /* QEMU says completed before its migration thread has left finish-migrate: a cont
     * right away is refused. As after a memory-only dump, it is given the time. */
    g_timeout_add(DUMP_SETTLE_MS, dump_settled, job->run);
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
        else
            stream_begin(obj, job);
        if (e)
            finish(obj, job, e);
        return;
    }
    if (job->format == SV_DOMAIN_CORE_DUMP_FORMAT_RAW) {
        give_fd(obj, job);
        return;
    }
    qemu_monitor_command(qd->mon, "query-dump-guest-memory-capability", NULL, ready_to_write,
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
    if (error)
        job->paused = FALSE; /* nothing to resume */
    if (step_job(data, error, &obj))
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
        /* libvirt waits 30 s for the job before this error (no error domain); it is
         * answered at once here. */
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_TIMEOUT,
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

/* What a job query answers, as libvirt's figures of a dump job: a full dump's are its
 * migration's into the file (the shared figures, qemu_migration_qmp.h, as a save's), a
 * memory-only one's the memory's total and done. */
typedef struct {
    QemuMigrationStats s;
    gboolean stream;  /* a full dump's (query-migrate), else a memory-only one's (query-dump) */
} JobFigures;

/* libvirt's statistics of a dump job (transfer full: an array of remote_typed_param). */
static GArray *
stats_params(const JobFigures *f)
{
    GArray *p;

    if (f->stream)
        return qemu_migration_stats_params(&f->s);
    p = g_array_new(FALSE, TRUE, sizeof(remote_typed_param));
    sv_typed_params_add_int(p, SV_DOMAIN_JOB_OPERATION_DUMP, "operation");
    sv_typed_params_add_ullong(p, f->s.time_elapsed, "time_elapsed");
    sv_typed_params_add_ullong(p, f->s.ram_total, "memory_total");
    sv_typed_params_add_ullong(p, f->s.ram_transferred, "memory_processed");
    sv_typed_params_add_ullong(p, f->s.ram_remaining, "memory_remaining");
    return p;
}

static void
stats_reply(JobQuery *q, const JobFigures *f)
{
    GArray *p = stats_params(f);
    remote_domain_get_job_stats_ret r = {f->s.type, {p->len, (remote_typed_param *)p->data}};

    sv_call_reply(q->call, &r);
    qemu_migration_params_free(p);
}

/* DOMAIN_GET_JOB_STATS's answer, or DOMAIN_GET_JOB_INFO's fields (the data figures are the
 * memory's, as libvirt's). */
static void
job_reply(JobQuery *q, const JobFigures *f)
{
    remote_domain_get_job_info_ret r = {0};

    if (q->stats) {
        stats_reply(q, f);
        return;
    }
    r.type = f->s.type;
    r.timeElapsed = f->s.time_elapsed;
    r.dataTotal = r.memTotal = f->s.ram_total;
    r.dataProcessed = r.memProcessed = f->s.ram_transferred;
    r.dataRemaining = r.memRemaining = f->s.ram_remaining;
    sv_call_reply(q->call, &r);
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
memory_figures(JsonObject *o, JobFigures *f)
{
    const char *status = qemu_json_string(o, "status");

    f->s.type = status && g_str_equal(status, "completed") ? SV_DOMAIN_JOB_COMPLETED
                                                           : SV_DOMAIN_JOB_UNBOUNDED;
    f->s.ram_total = uint_member(o, "total");
    f->s.ram_transferred = uint_member(o, "completed");
    f->s.ram_remaining = f->s.ram_total - f->s.ram_transferred;
}

/* query-migrate's answer, as libvirt reads it for a save or dump: the memory's figures, the
 * downtime and the setup time (no strings kept). */
static void
stream_figures(JsonObject *o, JobFigures *f)
{
    f->stream = TRUE;
    f->s.operation = SV_DOMAIN_JOB_OPERATION_DUMP;
    f->s.savedump = TRUE;
    qemu_migration_stats_read(o, &f->s);
    if (f->s.status && g_str_equal(f->s.status, "completed"))
        f->s.type = SV_DOMAIN_JOB_COMPLETED;
    g_clear_pointer(&f->s.status, g_free);
    g_clear_pointer(&f->s.error_desc, g_free);
}

/* query-migrate's answer once a full dump's migration completed: the figures kept. */
static void
stream_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvDomainObj *obj;
    QemuCoreDump *job = dump_of_run(data, &obj);
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    JobFigures *f;

    (void)mon;
    if (!job || error || !o)
        return;
    f = g_new0(JobFigures, 1);
    stream_figures(o, f);
    f->s.type = SV_DOMAIN_JOB_COMPLETED;
    f->s.time_elapsed = (guint64)(g_get_real_time() - job->started) / 1000; /* the whole job's */
    g_free(qemu_domain_of(obj)->dump_done);
    qemu_domain_of(obj)->dump_done = f;
    qemu_job_emit_completed(obj, &f->s); /* as libvirt, for a full dump (a migration) only */
}

static void
job_queried(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    g_autofree JobQuery *q = data;
    SvDomainObj *obj;
    QemuCoreDump *job = dump_of_run(q->run, &obj);
    JsonObject *o = ret && JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    JobFigures f = {.s.type = SV_DOMAIN_JOB_UNBOUNDED};

    (void)mon;
    if (error) {
        sv_call_fail(q->call, g_error_copy(error));
        return;
    }
    if (!job) { /* over meanwhile */
        f.s.type = SV_DOMAIN_JOB_NONE;
        job_reply(q, &f);
        return;
    }
    f.s.time_elapsed = (guint64)(g_get_real_time() - job->started) / 1000;
    /* Before QEMU has the dump (pausing, opening the file) nothing is dumped yet. */
    if (job->dumping && (job->flags & SV_DUMP_MEMORY_ONLY))
        memory_figures(o, &f);
    else if (job->dumping)
        stream_figures(o, &f);
    job_reply(q, &f);
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
    qemu_monitor_command(qd->mon,
                         (qd->dump->flags & SV_DUMP_MEMORY_ONLY) ? "query-dump" : "query-migrate",
                         NULL, job_queried, q);
    return TRUE;
}

void
qemu_coredump_job_info(SvCall *call, SvDomainObj *obj, remote_domain_get_job_info_ret *ret)
{
    if (!job_query(call, obj, FALSE))
        ret->type = SV_DOMAIN_JOB_NONE; /* every other field 0 */
}

void
qemu_coredump_job_stats(SvCall *call, SvDomainObj *obj, guint flags,
                        remote_domain_get_job_stats_ret *ret)
{
    QemuDomain *qd = qemu_domain_of(obj);
    JobQuery q = {call, NULL, TRUE};

    if (!(flags & SV_DOMAIN_JOB_STATS_COMPLETED) && job_query(call, obj, TRUE))
        return;
    if (!(flags & SV_DOMAIN_JOB_STATS_COMPLETED) || !qd || !qd->dump_done) {
        ret->type = SV_DOMAIN_JOB_NONE; /* no statistics */
        return;
    }
    q.call = sv_call_defer(call);
    job_reply(&q, qd->dump_done);
    if (!(flags & SV_DOMAIN_JOB_STATS_KEEP_COMPLETED))
        g_clear_pointer(&qd->dump_done, g_free);
}

void
qemu_job_keep_completed(SvDomainObj *obj, const QemuMigrationStats *stats)
{
    QemuDomain *qd = qemu_domain_of(obj);
    JobFigures *f = g_new0(JobFigures, 1);

    f->stream = TRUE;
    f->s = *stats;
    f->s.status = f->s.error_desc = NULL; /* no strings kept: freed with g_free */
    f->s.type = SV_DOMAIN_JOB_COMPLETED;
    g_free(qd->dump_done);
    qd->dump_done = f;
}

gboolean
qemu_coredump_can_cancel(SvDomainObj *obj, GError **error)
{
    QemuCoreDump *job = qemu_domain_of(obj)->dump;

    if (job->flags & SV_DUMP_MEMORY_ONLY) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "cannot abort memory-only dump");
        return FALSE;
    }
    return TRUE;
}

void
qemu_coredump_install(SvRemoteHandlers *h)
{
    h->domain_core_dump = domain_core_dump;
    h->domain_core_dump_with_format = domain_core_dump_with_format;
}
