/* lxc_process.c: the life of a container as the daemon sees it, from the supervisor's
 * spawn to the STOPPED event.
 *
 * A container's state changes in one place, set_state(), which logs the transition and
 * rewrites the status file (lxc_status.h); events go out right after it. The daemon holds
 * two processes by pidfd: the supervisor (lxc_supervisor.h), which owns the container, and
 * the container's init, which the kill state machine (util/process.h) signals directly. How
 * init ended comes from the supervisor, its parent, as EXITED; the container counts as
 * stopped once the supervisor, having cleaned up, has exited too. So a STOPPED event
 * always means no process, mount, cgroup or link of the container is left.
 *
 * Reconnecting after a daemon restart is at the end of this file. It is long because start,
 * status, stop and reconnect share the per-container state and its invariants. */
#include "lxc_process.h"

#include <errno.h>
#include <glib-unix.h>
#include <sys/pidfd.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/uuid.h"
#include "lxc_cgroup.h"
#include "lxc_monitor.h"
#include "lxc_netdev.h"
#include "lxc_spec.h"
#include "lxc_status.h"
#include "sv-config.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/fileio.h"
#include "util/process.h"

/* virDomainEvent details and state reasons used here (facts, section 4). */
enum { STARTED_BOOTED = 0 };
enum { SUSPENDED_PAUSED = 0 };
enum { RESUMED_UNPAUSED = 0 };
enum { STOPPED_SHUTDOWN = 0, STOPPED_DESTROYED = 1, STOPPED_FAILED = 5 };
enum { RUNNING_BOOTED = 1, RUNNING_UNPAUSED = 5 };
enum { PAUSED_USER = 1, PAUSED_STARTING_UP = 11 };
enum { SHUTOFF_SHUTDOWN = 1, SHUTOFF_DESTROYED = 2, SHUTOFF_CRASHED = 3, SHUTOFF_FAILED = 6 };

#define START_AUTODESTROY 2
#define START_VALIDATE 16
#define DESTROY_GRACEFUL 1
#define DESTROY_REMOVE_LOGS 2
#define SHUTDOWN_INITCTL 4
#define SHUTDOWN_SIGNAL 8
#define SPEC_MAX 65536 /* the spec goes through a pipe before the supervisor reads it */

typedef struct {
    guint64 serial;       /* names this run of the container in callbacks */
    SvProcess *supervisor;
    SvProcess *init;      /* NULL until init runs, and between a reboot and the next init */
    LxcMonitor *mon;
    LxcCgroup *cgroup;
    char *socket_path;
    SvCall *start_call;
    guint start_timer;
    gboolean starting;
    gboolean destroying;  /* our destroy: the end is DESTROYED */
    gboolean ended;       /* the supervisor reported the end, or vanished */
    int shutoff_reason;   /* decided when ended */
    int stopped_detail;
    GError *start_error;
    GPtrArray *stop_waiters; /* DestroyJob: answered once the container is SHUTOFF */
    gboolean refreeze;       /* a GRACEFUL destroy thawed the paused container */
    guint64 autodestroy_client;
    int log_fd;
} LxcDomain;

typedef struct {
    SvCall *call;
    gboolean remove_logs;
    char *log;
} DestroyJob;

static LxcProcessContext *ctx;
static GHashTable *runs; /* serial -> SvDomainObj, while the container is active */
static guint64 next_serial = 1;

static gboolean start_container(SvDomainObj *obj, SvCall *call, guint flags, GError **error);
static void destroy_job_finish(DestroyJob *job, const GError *error);

static LxcDomain *
priv_of(SvDomainObj *obj)
{
    return obj->priv;
}

/* The object a callback's data names, if that run of the container is still current. */
static SvDomainObj *
find_run(gpointer data)
{
    return g_hash_table_lookup(runs, data);
}

static gpointer
run_key(LxcDomain *ld)
{
    return GSIZE_TO_POINTER((gsize)ld->serial);
}

static gboolean
free_process_idle(gpointer proc)
{
    sv_process_free(proc);
    return G_SOURCE_REMOVE;
}

/* A process is never freed from inside its own exit or kill callbacks. */
static void
free_process_later(SvProcess *proc)
{
    if (proc)
        g_idle_add(free_process_idle, proc);
}

static void
lxc_domain_free(gpointer p)
{
    LxcDomain *ld = p;

    g_hash_table_remove(runs, run_key(ld));
    free_process_later(ld->supervisor);
    free_process_later(ld->init);
    lxc_monitor_free(ld->mon);
    lxc_cgroup_free(ld->cgroup);
    if (ld->start_timer)
        g_source_remove(ld->start_timer);
    if (ld->log_fd >= 0)
        close(ld->log_fd);
    g_clear_error(&ld->start_error);
    g_ptr_array_unref(ld->stop_waiters);
    g_free(ld->socket_path);
    g_free(ld);
}

static LxcDomain *
lxc_domain_new(SvDomainObj *obj)
{
    LxcDomain *ld = g_new0(LxcDomain, 1);

    ld->serial = next_serial++;
    ld->log_fd = -1;
    ld->stop_waiters = g_ptr_array_new();
    obj->priv = ld;
    obj->priv_free = lxc_domain_free;
    g_hash_table_insert(runs, run_key(ld), obj);
    return ld;
}

static void
log_line(LxcDomain *ld, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
log_line(LxcDomain *ld, const char *fmt, ...)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *ts = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
    g_autofree char *msg = NULL;
    g_autofree char *line = NULL;
    va_list ap;

    if (ld->log_fd < 0)
        return;
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    line = g_strdup_printf("%.23s+0000: %s\n", ts, msg);
    if (write(ld->log_fd, line, strlen(line)) < 0)
        g_debug("cannot write the container log: %s", g_strerror(errno));
}

static int
open_log(SvDomainObj *obj, GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/%s.log", ctx->log_dir, obj->def->name);
    int fd;

    if (!sv_mkdir_p(ctx->log_dir, 0700, error))
        return -1;
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        sv_error_set_errno(error, SV_FROM_LXC, errno, "Failed to open '%s'", path);
    return fd;
}

/* ---------------------------------------------------------------- state */

static char *
status_path(SvDomainObj *obj)
{
    return g_strdup_printf("%s/%s.xml", ctx->run_dir, obj->def->name);
}

/* Written off the loop, in order, atomically; removed once the container is gone. */
static void
save_status(SvDomainObj *obj)
{
    LxcDomain *ld = obj->priv;
    g_autofree char *path = status_path(obj);
    g_autofree char *text = NULL;
    LxcStatus st = {0};

    if (!ld || !ld->supervisor || obj->state == SV_DOMAIN_SHUTOFF) {
        sv_domain_store_remove_file_async(ctx->domains->store, path, NULL, NULL);
        return;
    }
    st.state = obj->state;
    st.reason = obj->reason;
    st.state_time = obj->state_time;
    st.persistent = obj->persistent;
    st.destroying = ld->destroying;
    st.starting = ld->starting;
    st.autodestroy = ld->autodestroy_client != 0;
    st.supervisor_pid = sv_process_get_pid(ld->supervisor);
    st.supervisor_start = sv_process_get_start_time(ld->supervisor);
    st.socket = ld->socket_path;
    st.init_pid = ld->init ? sv_process_get_pid(ld->init) : 0;
    st.init_start = ld->init ? sv_process_get_start_time(ld->init) : 0;
    st.cgroup = ld->cgroup ? (char *)lxc_cgroup_get_path(ld->cgroup) : NULL;
    text = lxc_status_format(&st, obj->def, obj->id);
    sv_domain_store_write_file_async(ctx->domains->store, path, text, NULL, NULL);
}

/* The one place a container's state changes; the status file follows it. */
static void
set_state(SvDomainObj *obj, int state, int reason)
{
    sv_domain_obj_set_state(obj, state, reason);
    save_status(obj);
}

static void
emit(SvDomainObj *obj, int event, int detail)
{
    sv_domain_driver_emit(ctx->domains, obj, event, detail);
}

/* ---------------------------------------------------------------- stop */

/* Removes a cgroup once every process in it has exited, seen through pidfds
 * (a killed process lingers a moment, and rmdir of a busy cgroup fails). */
typedef struct {
    LxcCgroup *cg;
    char *name;
    guint pending;
} CgroupReaper;

static void
reaper_finish(CgroupReaper *r)
{
    g_autoptr(GError) error = NULL;

    if (!lxc_cgroup_remove(r->cg, &error))
        g_warning("domain %s: cgroup %s is left behind: %s", r->name,
                  lxc_cgroup_get_path(r->cg), error ? error->message : "busy");
    lxc_cgroup_free(r->cg);
    g_free(r->name);
    g_free(r);
}

static gboolean
reaper_exited(gint fd, GIOCondition cond, gpointer data)
{
    CgroupReaper *r = data;

    (void)cond;
    close(fd);
    if (--r->pending == 0)
        reaper_finish(r);
    return G_SOURCE_REMOVE;
}

static void
cgroup_remove_when_empty(LxcCgroup *cg, const char *name)
{
    CgroupReaper *r = g_new0(CgroupReaper, 1);
    g_autoptr(GArray) pids = NULL;

    r->cg = cg;
    r->name = g_strdup(name);
    lxc_cgroup_kill_all(cg, SIGKILL);
    pids = lxc_cgroup_get_pids(cg);
    for (guint i = 0; pids && i < pids->len; i++) {
        int fd = pidfd_open(g_array_index(pids, pid_t, i), 0);
        if (fd < 0)
            continue; /* already gone */
        r->pending++;
        g_unix_fd_add(fd, G_IO_IN, reaper_exited, r);
    }
    if (r->pending == 0)
        reaper_finish(r);
}

/* The supervisor has cleaned up and exited: the container is gone. */
static void
container_stopped(SvDomainObj *obj)
{
    LxcDomain *ld = priv_of(obj);
    static const char *const reasons[] = {"unknown", "shutdown", "destroyed", "crashed",
                                          "migrated", "saved", "failed"};
    g_autoptr(GPtrArray) waiters = g_steal_pointer(&ld->stop_waiters);
    SvCall *start_call = g_steal_pointer(&ld->start_call);
    GError *start_error = g_steal_pointer(&ld->start_error);
    gboolean was_starting = ld->starting;

    ld->stop_waiters = g_ptr_array_new();
    if (was_starting)
        ld->shutoff_reason = SHUTOFF_FAILED; /* a start that failed: no STOPPED event */
    /* What the supervisor should have removed already, in case it could not
     * (it was killed): its processes die, then the cgroup goes. */
    if (ld->cgroup && lxc_cgroup_exists(ld->cgroup))
        cgroup_remove_when_empty(g_steal_pointer(&ld->cgroup), obj->def->name);
    if (ld->socket_path)
        unlink(ld->socket_path);
    log_line(ld, "shutting down, reason=%s", reasons[ld->shutoff_reason]);
    sv_domain_list_clear_id(ctx->domains->list, obj);
    set_state(obj, SV_DOMAIN_SHUTOFF, ld->shutoff_reason);
    if (!was_starting)
        emit(obj, SV_EVENT_STOPPED, ld->stopped_detail);
    sv_daemon_uninhibit(ctx->daemon);
    if (obj->new_def) {
        sv_domain_obj_set_def(obj, obj->new_def);
        obj->new_def = NULL;
    }
    g_clear_pointer(&obj->priv, lxc_domain_free);
    if (!obj->persistent)
        sv_domain_list_remove(ctx->domains->list, obj);
    for (guint i = 0; i < waiters->len; i++)
        destroy_job_finish(waiters->pdata[i], NULL);
    if (start_call) {
        if (!start_error)
            sv_error_set(&start_error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                         "guest failed to start: the container supervisor exited");
        sv_call_fail(start_call, start_error);
    } else if (start_error) {
        g_warning("%s", start_error->message);
        g_error_free(start_error);
    }
}

/* How the container ended is known; the supervisor exits once it is acknowledged by
 * closing the control connection, and container_stopped follows its exit. */
static void
container_ended(SvDomainObj *obj, int shutoff_reason, int stopped_detail)
{
    LxcDomain *ld = priv_of(obj);

    if (ld->ended)
        return;
    ld->ended = TRUE;
    if (ld->destroying) {
        shutoff_reason = SHUTOFF_DESTROYED;
        stopped_detail = STOPPED_DESTROYED;
    }
    ld->shutoff_reason = shutoff_reason;
    ld->stopped_detail = stopped_detail;
    g_clear_pointer(&ld->mon, lxc_monitor_free);
    if (!ld->supervisor || !sv_process_is_alive(ld->supervisor))
        container_stopped(obj);
}

static void
kill_quietly_done(SvProcess *proc, const GError *error, gpointer data)
{
    (void)proc;
    (void)data;
    if (error)
        g_warning("%s", error->message);
}

/* End the supervisor (it kills the container and cleans up on SIGTERM). */
static void
stop_supervisor(LxcDomain *ld)
{
    if (ld->supervisor)
        sv_process_kill(ld->supervisor, FALSE, ctx->timeouts.term_timeout_ms,
                        ctx->timeouts.kill_timeout_ms, kill_quietly_done, NULL);
}

static void
on_supervisor_exit(SvProcess *proc, const SvProcessExit *how, gpointer data)
{
    SvDomainObj *obj = find_run(data);
    LxcDomain *ld;

    (void)proc;
    if (!obj || !(ld = priv_of(obj)))
        return;
    g_debug("domain %s: supervisor exited (known %d, signaled %d, code %d)", obj->def->name,
            how->known, how->signaled, how->code);
    if (!ld->ended) {
        /* It went without saying how the container ended: the container died with it
         * (PR_SET_PDEATHSIG); make sure of that. */
        g_warning("domain %s: the container supervisor exited unexpectedly", obj->def->name);
        if (ld->init)
            sv_process_signal(ld->init, SIGKILL, NULL);
        if (ld->starting && !ld->start_error)
            sv_error_set(&ld->start_error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                         "guest failed to start: the container supervisor exited unexpectedly");
        if (!ld->destroying)
            sv_domain_obj_set_cause(obj, "the container supervisor (exited)");
        ld->ended = TRUE;
        ld->shutoff_reason = ld->destroying ? SHUTOFF_DESTROYED : SHUTOFF_CRASHED;
        ld->stopped_detail = ld->destroying ? STOPPED_DESTROYED : STOPPED_FAILED;
    }
    container_stopped(obj);
}

/* ---------------------------------------------------------------- supervisor messages */

static void
on_init_exit(SvProcess *proc, const SvProcessExit *how, gpointer data)
{
    SvDomainObj *obj = find_run(data);

    (void)proc;
    (void)how;
    /* Only its parent, the supervisor, knows how it ended: EXITED or REBOOTED follows. */
    if (obj)
        g_debug("domain %s: init exited", obj->def->name);
}

static gboolean
attach_init(SvDomainObj *obj, const LxcMsg *msg, GError **error)
{
    LxcDomain *ld = priv_of(obj);
    SvProcess *init = sv_process_attach(msg->pid, msg->start_time, error);

    if (!init)
        return FALSE;
    free_process_later(ld->init);
    ld->init = init;
    sv_process_set_exit_func(init, on_init_exit, run_key(ld));
    log_line(ld, "init is process %d", (int)msg->pid);
    return TRUE;
}

/* The live XML shows the console pty, as libvirt's does. */
static void
set_console_pty(SvDomainObj *obj, const char *pty)
{
    SvDomainChrDef *chr = obj->def->consoles->len ? obj->def->consoles->pdata[0] : NULL;

    if (chr && pty) {
        g_free(chr->source_path);
        chr->source_path = g_strdup(pty);
    }
}

static void
start_finished(SvDomainObj *obj)
{
    LxcDomain *ld = priv_of(obj);
    SvCall *call = g_steal_pointer(&ld->start_call);

    ld->starting = FALSE;
    if (ld->start_timer)
        g_source_remove(ld->start_timer);
    ld->start_timer = 0;
    set_state(obj, SV_DOMAIN_RUNNING, RUNNING_BOOTED);
    emit(obj, SV_EVENT_STARTED, STARTED_BOOTED);
    if (call)
        sv_domain_driver_reply_started(ctx->domains, obj, call);
}

static void
on_running(SvDomainObj *obj, const LxcMsg *msg)
{
    LxcDomain *ld = priv_of(obj);
    g_autoptr(GError) error = NULL;

    if (ld->init && sv_process_get_pid(ld->init) == msg->pid)
        return;
    if (!attach_init(obj, msg, &error)) {
        /* That init has ended already: the supervisor's next message says how. */
        g_debug("domain %s: %s", obj->def->name, error->message);
        return;
    }
    set_console_pty(obj, msg->pty);
    if (ld->starting) {
        start_finished(obj);
        return;
    }
    /* Reconnected: the freezer says whether it is paused; no event for what happened
     * while no daemon watched. */
    if (ld->cgroup && lxc_cgroup_is_frozen(ld->cgroup)) {
        if (obj->state != SV_DOMAIN_PAUSED)
            set_state(obj, SV_DOMAIN_PAUSED, PAUSED_USER);
    } else if (obj->state != SV_DOMAIN_RUNNING) {
        set_state(obj, SV_DOMAIN_RUNNING, RUNNING_UNPAUSED);
    }
    save_status(obj);
    if (ld->destroying)
        sv_process_signal(ld->init, SIGKILL, NULL);
}

static void
on_rebooted(SvDomainObj *obj, const LxcMsg *msg)
{
    LxcDomain *ld = priv_of(obj);
    g_autoptr(GError) error = NULL;
    remote_nonnull_domain dom;

    if (!attach_init(obj, msg, &error))
        g_debug("domain %s: %s", obj->def->name, error->message);
    log_line(ld, "rebooted");
    save_status(obj);
    if (ld->destroying) {
        /* A reboot raced with our destroy: the new init goes too. */
        if (ld->init)
            sv_process_signal(ld->init, SIGKILL, NULL);
        return;
    }
    sv_domain_obj_to_remote(obj, &dom);
    sv_remote_emit_reboot(ctx->domains->server, &dom);
    g_free(dom.name);
}

static void
on_exited(SvDomainObj *obj, const LxcMsg *msg)
{
    LxcDomain *ld = priv_of(obj);

    /* reboot() from inside ends init with SIGHUP (restart) or SIGINT (power off); the
     * supervisor only reports SIGHUP when <on_reboot> does not restart. Any other signal
     * came from outside, and nobody but a crash or an intruder sends it. */
    if (ld->starting && !ld->start_error)
        sv_error_set(&ld->start_error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "guest failed to start: init ended at once (%s %d)",
                     msg->signaled ? "signal" : "exit status", msg->code);
    if (!ld->destroying)
        sv_domain_obj_set_cause(obj, "the container (init %s %d)",
                                msg->signaled ? "killed by signal" : "exited with status",
                                msg->code);
    if (!msg->signaled || msg->code == SIGINT || msg->code == SIGHUP)
        container_ended(obj, SHUTOFF_SHUTDOWN, STOPPED_SHUTDOWN);
    else
        container_ended(obj, SHUTOFF_CRASHED, STOPPED_FAILED);
}

static void
on_failed(SvDomainObj *obj, const LxcMsg *msg)
{
    LxcDomain *ld = priv_of(obj);

    if (ld->starting) {
        g_clear_error(&ld->start_error);
        sv_error_set(&ld->start_error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "guest failed to start: %s", msg->text);
        container_ended(obj, SHUTOFF_FAILED, STOPPED_FAILED);
        return;
    }
    /* A reboot that could not start init again. */
    sv_domain_obj_set_cause(obj, "the container supervisor (restart failed)");
    g_warning("domain %s: restart after reboot failed: %s", obj->def->name, msg->text);
    container_ended(obj, SHUTOFF_CRASHED, STOPPED_FAILED);
}

static void
on_monitor_message(LxcMonitor *mon, const LxcMsg *msg, gpointer user)
{
    SvDomainObj *obj = find_run(user);

    (void)mon;
    if (!obj || !priv_of(obj) || priv_of(obj)->ended)
        return;
    g_debug("domain %s: supervisor says %s", obj->def->name, lxc_msg_type_to_string(msg->type));
    switch (msg->type) {
    case LXC_MSG_SUPERVISOR:
        if (msg->version != LXC_PROTO_VERSION)
            g_warning("domain %s: supervisor speaks protocol %d, we speak %d", obj->def->name,
                      msg->version, LXC_PROTO_VERSION);
        break;
    case LXC_MSG_RUNNING:
        on_running(obj, msg);
        break;
    case LXC_MSG_REBOOTED:
        on_rebooted(obj, msg);
        break;
    case LXC_MSG_EXITED:
        on_exited(obj, msg);
        break;
    case LXC_MSG_FAILED:
        on_failed(obj, msg);
        break;
    default:
        break;
    }
}

static void
on_monitor_eof(LxcMonitor *mon, gpointer user)
{
    SvDomainObj *obj = find_run(user);

    (void)mon;
    /* The supervisor is going; its exit decides the rest (on_supervisor_exit). */
    if (obj && priv_of(obj))
        g_debug("domain %s: supervisor connection closed", obj->def->name);
}

/* ---------------------------------------------------------------- start */

static gboolean
start_timed_out(gpointer data)
{
    SvDomainObj *obj = find_run(data);
    LxcDomain *ld;

    if (!obj || !(ld = priv_of(obj)))
        return G_SOURCE_REMOVE;
    ld->start_timer = 0;
    if (!ld->start_error)
        sv_error_set(&ld->start_error, SV_FROM_LXC, SV_ERR_OPERATION_TIMEOUT,
                     "guest failed to start: init was not running after %u ms",
                     ctx->timeouts.start_timeout_ms);
    stop_supervisor(ld);
    return G_SOURCE_REMOVE;
}

/* A listening socket for the supervisor, and our control connection to it, queued in its
 * backlog before the supervisor even runs. */
static int
supervisor_socket(const char *path, int *ret_control, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_auto(SvFd) fd = -1;

    strcpy(sa.sun_path, path);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "Failed to listen on '%s'", path);
        return -1;
    }
    chmod(path, 0600);
    *ret_control = lxc_monitor_connect(path, "control", error);
    if (*ret_control < 0)
        return -1;
    return g_steal_fd(&fd);
}

/* The spec, readable from the returned pipe end (it fits the pipe's buffer). */
static int
spec_pipe(const char *text, GError **error)
{
    int fds[2];
    gsize len = strlen(text);

    if (len > SPEC_MAX) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "the container's configuration is too large (%zu bytes)", len);
        return -1;
    }
    if (pipe2(fds, O_CLOEXEC) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "cannot create a pipe");
        return -1;
    }
    fcntl(fds[1], F_SETPIPE_SZ, SPEC_MAX);
    if (write(fds[1], text, len) != (ssize_t)len) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "cannot hand over the container spec");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    close(fds[1]);
    return fds[0];
}

/* What libvirt fills in at start: MACs and host-side link names that were not given. */
static void
complete_interfaces(SvDomainDef *def)
{
    guint next = 0;

    for (guint i = 0; i < def->interfaces->len; i++) {
        SvDomainNetDef *n = def->interfaces->pdata[i];

        if (!n->mac)
            n->mac = g_strdup_printf("52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256),
                                     g_random_int_range(0, 256), g_random_int_range(0, 256));
        while (!n->target_dev) {
            g_autofree char *name = g_strdup_printf("veth%u", next++);
            gboolean taken = lxc_netdev_exists(name);
            GPtrArray *objs = sv_domain_list_filter(ctx->domains->list, SV_LIST_ACTIVE);

            for (guint j = 0; j < objs->len && !taken; j++) {
                SvDomainDef *d = ((SvDomainObj *)objs->pdata[j])->def;
                for (guint k = 0; k < d->interfaces->len && !taken; k++) {
                    const char *t = ((SvDomainNetDef *)d->interfaces->pdata[k])->target_dev;
                    taken = t && g_str_equal(t, name);
                }
            }
            g_ptr_array_unref(objs);
            if (!taken)
                n->target_dev = g_steal_pointer(&name);
        }
    }
}

typedef struct {
    LxcSpec *spec;
    char *socket_path;
    LxcCgroup *cgroup;
} StartPlan;

static void
start_plan_clear(StartPlan *p)
{
    lxc_spec_free(p->spec);
    g_free(p->socket_path);
    lxc_cgroup_free(p->cgroup);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(StartPlan, start_plan_clear)

/* With <idmap>, the container's root is an unprivileged uid on the host, which has to own
 * the root filesystem (the container makes its mount points there as that uid). A root
 * that cannot be looked at is the supervisor's to report, as without a map. */
static gboolean
check_root_owner(const LxcSpec *spec, GError **error)
{
    guint uid = lxc_spec_idmap_root(spec->uidmap);
    struct stat st;

    if (!spec->uidmap->len || stat(spec->root, &st) < 0 || st.st_uid == uid)
        return TRUE;
    sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                 "The root filesystem '%s' must be owned by uid %u, the container's root "
                 "user on the host (<idmap>), not by uid %u",
                 spec->root, uid, (guint)st.st_uid);
    return FALSE;
}

/* Everything that can be refused before anything is created. */
static gboolean
plan_start(SvDomainDef *live, StartPlan *p, GError **error)
{
    LxcSpecContext sctx = {ctx->cgroup_root, ctx->cgroup_parent};
    struct sockaddr_un sa;

    complete_interfaces(live);
    p->spec = lxc_spec_new_from_def(live, &sctx, error);
    if (!p->spec || !check_root_owner(p->spec, error))
        return FALSE;
    p->socket_path = g_strdup_printf("%s/%s.sock", ctx->run_dir, live->name);
    if (strlen(p->socket_path) >= sizeof(sa.sun_path)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_CONFIG_UNSUPPORTED,
                     "supervisor socket path '%s' is %zu bytes; at most %zu fit in a UNIX "
                     "socket address (use a shorter name or root directory)",
                     p->socket_path, strlen(p->socket_path), sizeof(sa.sun_path) - 1);
        return FALSE;
    }
    p->cgroup = lxc_cgroup_new(ctx->cgroup_root, p->spec->cgroup_path, error);
    return p->cgroup != NULL;
}

static SvProcess *
spawn_supervisor(SvDomainObj *obj, LxcDomain *ld, const LxcSpec *spec, GError **error)
{
    g_autofree char *text = lxc_spec_format(spec);
    g_auto(SvFd) listen_fd = -1;
    g_auto(SvFd) control = -1;
    g_auto(SvFd) spec_fd = -1;
    g_autofree char *fd_arg = NULL;
    const char *argv[10];
    SvSpawnOptions o = {0};
    SvProcess *proc;
    int n = 0;

    if (!sv_mkdir_p(ctx->run_dir, 0755, error) ||
        (listen_fd = supervisor_socket(ld->socket_path, &control, error)) < 0 ||
        (spec_fd = spec_pipe(text, error)) < 0)
        return NULL;
    fd_arg = g_strdup_printf("%d", listen_fd);
    argv[n++] = ctx->supervisor;
    argv[n++] = "--name";
    argv[n++] = obj->def->name;
    argv[n++] = "--listen-fd";
    argv[n++] = fd_arg;
    argv[n++] = "--socket";
    argv[n++] = ld->socket_path;
    if (sv_daemon_is_verbose(ctx->daemon))
        argv[n++] = "--verbose";
    argv[n] = NULL;
    o.argv = argv;
    o.stdin_fd = spec_fd;
    o.stdout_fd = ld->log_fd;
    o.stderr_fd = ld->log_fd;
    o.keep_fds = &listen_fd;
    o.n_keep_fds = 1;
    o.new_session = TRUE; /* nothing aimed at the daemon's process group reaches it */
    proc = sv_process_spawn(&o, error);
    if (proc)
        ld->mon = lxc_monitor_new(g_steal_fd(&control),
                                  &(LxcMonitorCallbacks){on_monitor_message, on_monitor_eof},
                                  run_key(ld));
    return proc;
}

static gboolean
start_container(SvDomainObj *obj, SvCall *call, guint flags, GError **error)
{
    g_autoptr(SvDomainDef) live = NULL;
    g_auto(StartPlan) plan = {0};
    LxcDomain *ld;

    if (sv_domain_obj_is_active(obj)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID, "Domain is already running");
        return FALSE;
    }
    live = sv_domain_def_copy(obj->def);
    if (!plan_start(live, &plan, error))
        return FALSE;
    /* From here the container runs on its live definition; the persistent one comes back
     * when it stops (a definition written meanwhile replaces it there). */
    if (obj->persistent && !obj->new_def) {
        obj->new_def = obj->def;
        obj->def = g_steal_pointer(&live);
    } else {
        sv_domain_obj_set_def(obj, g_steal_pointer(&live));
    }
    ld = lxc_domain_new(obj);
    ld->socket_path = g_steal_pointer(&plan.socket_path);
    ld->cgroup = g_steal_pointer(&plan.cgroup);
    ld->log_fd = open_log(obj, error);
    if (ld->log_fd >= 0) {
        log_line(ld, "starting up splitvirt version: %s, hostname: %s", SV_VERSION,
                 g_get_host_name());
        ld->supervisor = spawn_supervisor(obj, ld, plan.spec, error);
    }
    if (!ld->supervisor) {
        g_prefix_error(error, "guest failed to start: ");
        if (ld->socket_path)
            unlink(ld->socket_path);
        if (obj->new_def) {
            sv_domain_obj_set_def(obj, obj->new_def);
            obj->new_def = NULL;
        }
        g_clear_pointer(&obj->priv, lxc_domain_free);
        obj->state = SV_DOMAIN_SHUTOFF;
        obj->reason = SHUTOFF_FAILED;
        return FALSE;
    }
    /* libvirt's LXC driver names a running container by its controller's pid. */
    sv_domain_list_set_id(ctx->domains->list, obj, (int)sv_process_get_pid(ld->supervisor));
    sv_process_set_exit_func(ld->supervisor, on_supervisor_exit, run_key(ld));
    sv_daemon_inhibit(ctx->daemon);
    ld->starting = TRUE;
    if (call)
        sv_domain_driver_set_cause_call(obj, call);
    else
        sv_domain_obj_set_cause(obj, "the daemon (autostart)");
    if (call) {
        ld->start_call = sv_call_defer(call);
        if (flags & START_AUTODESTROY)
            ld->autodestroy_client = sv_client_get_id(sv_call_get_client(call));
    }
    ld->start_timer = g_timeout_add(ctx->timeouts.start_timeout_ms, start_timed_out, run_key(ld));
    set_state(obj, SV_DOMAIN_PAUSED, PAUSED_STARTING_UP);
    return TRUE;
}

/* ---------------------------------------------------------------- procedures */

static SvDomainObj *
lookup(const remote_nonnull_domain *dom, GError **error)
{
    return sv_domain_list_lookup_handle(ctx->domains->list, dom, SV_FROM_LXC, error);
}

static gboolean
check_flags(guint flags, guint supported, const char *func, GError **error)
{
    return sv_check_flags(flags, supported, SV_FROM_LXC, func, error);
}

static void
destroy_job_finish(DestroyJob *job, const GError *error)
{
    if (error) {
        sv_call_fail(job->call, g_error_copy(error));
    } else {
        if (job->remove_logs)
            unlink(job->log);
        sv_call_reply(job->call, NULL);
    }
    g_free(job->log);
    g_free(job);
}

/* The kill state machine is done with init. Success needs nothing here: the waiting
 * destroys are answered once the container is SHUTOFF (container_stopped). */
static void
destroy_killed(SvProcess *proc, const GError *error, gpointer data)
{
    SvDomainObj *obj = find_run(data);
    g_autoptr(GPtrArray) waiters = NULL;
    LxcDomain *ld;

    (void)proc;
    if (!error || !obj || !(ld = priv_of(obj)) || ld->ended)
        return;
    /* GRACEFUL gave up (or even SIGKILL did not help): the container lives on in its state,
     * and every destroy joined to this kill fails; a later one may try again. */
    ld->destroying = FALSE;
    if (ld->refreeze && ld->cgroup)
        lxc_cgroup_set_frozen(ld->cgroup, TRUE, NULL);
    ld->refreeze = FALSE;
    save_status(obj);
    waiters = g_steal_pointer(&ld->stop_waiters);
    ld->stop_waiters = g_ptr_array_new();
    for (guint i = 0; i < waiters->len; i++)
        destroy_job_finish(waiters->pdata[i], error);
}

/* Destroy: the kill state machine on init (in its PID namespace, init's death takes every
 * other process with it); whatever is left in the cgroup is killed when the supervisor
 * cleans up. A frozen container is thawed first, or it could not act on any signal. */
static gboolean
destroy_common(SvCall *call, const remote_nonnull_domain *dom, guint flags, GError **error)
{
    SvDomainObj *obj;
    LxcDomain *ld;
    DestroyJob *job;
    gboolean graceful = flags & DESTROY_GRACEFUL;

    if (!check_flags(flags, DESTROY_GRACEFUL | DESTROY_REMOVE_LOGS, "lxcDomainDestroyFlags",
                     error))
        return FALSE;
    obj = lookup(dom, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ld = priv_of(obj);
    sv_domain_driver_set_cause_call(obj, call);
    job = g_new0(DestroyJob, 1);
    job->call = sv_call_defer(call);
    job->remove_logs = (flags & DESTROY_REMOVE_LOGS) != 0;
    job->log = g_strdup_printf("%s/%s.log", ctx->log_dir, obj->def->name);
    g_ptr_array_add(ld->stop_waiters, job);
    if (!ld->init || ld->ended) {
        /* Still starting, between a reboot and the next init, or already ending: the
         * supervisor stops the container on SIGTERM. */
        ld->destroying = TRUE;
        save_status(obj);
        if (!ld->ended)
            stop_supervisor(ld);
        return TRUE;
    }
    if (ld->cgroup && lxc_cgroup_is_frozen(ld->cgroup)) {
        ld->refreeze = graceful;
        lxc_cgroup_set_frozen(ld->cgroup, FALSE, NULL);
    }
    ld->destroying = TRUE;
    save_status(obj);
    sv_process_kill(ld->init, graceful,
                    graceful ? ctx->timeouts.graceful_timeout_ms : ctx->timeouts.term_timeout_ms,
                    ctx->timeouts.kill_timeout_ms, destroy_killed, run_key(ld));
    return TRUE;
}

/* sysvinit's request on /dev/initctl (struct init_request, 384 bytes). */
typedef struct {
    gint32 magic;
    gint32 cmd;
    gint32 runlevel;
    gint32 sleeptime;
    char data[368];
} InitRequest;

/* Ask the container's own init for a runlevel through its initctl FIFO, resolved inside the
 * container's root so that no link in it can lead outside. FALSE when there is none. */
static gboolean
initctl_request(pid_t init, char runlevel)
{
    static const char *const fifos[] = {"run/initctl", "dev/initctl"};
    g_autofree char *root_path = g_strdup_printf("/proc/%d/root", (int)init);
    g_auto(SvFd) root = open(root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    InitRequest req = {.magic = 0x03091969, .cmd = 1, .runlevel = runlevel, .sleeptime = 0};
    struct open_how how = {.flags = O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};

    G_STATIC_ASSERT(sizeof(InitRequest) == 384);
    for (gsize i = 0; root >= 0 && i < G_N_ELEMENTS(fifos); i++) {
        g_auto(SvFd) fd = (int)syscall(SYS_openat2, root, fifos[i], &how, sizeof(how));
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
            continue;
        if (write(fd, &req, sizeof(req)) == (ssize_t)sizeof(req))
            return TRUE;
    }
    return FALSE;
}

/* libvirt's order: initctl unless only SIGNAL was asked for, then the signal unless only
 * INITCTL was (SIGTERM to power off, SIGHUP to reboot). */
static gboolean
shutdown_common(SvCall *call, const remote_nonnull_domain *dom, guint flags, gboolean reboot,
                GError **error)
{
    SvDomainObj *obj;
    LxcDomain *ld;
    gboolean done = FALSE;

    if (!check_flags(flags, SHUTDOWN_INITCTL | SHUTDOWN_SIGNAL,
                     reboot ? "lxcDomainReboot" : "lxcDomainShutdownFlags", error))
        return FALSE;
    obj = lookup(dom, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ld = priv_of(obj);
    if (!ld->init || ld->ended) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID,
                     "Init process ID is not yet known");
        return FALSE;
    }
    if (flags == 0 || (flags & SHUTDOWN_INITCTL)) {
        done = initctl_request(sv_process_get_pid(ld->init), reboot ? '6' : '0');
        if (!done && flags != 0 && !(flags & SHUTDOWN_SIGNAL)) {
            sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_UNSUPPORTED,
                         "Container does not provide an initctl pipe");
            return FALSE;
        }
    }
    if (!done) {
        g_autoptr(GError) e = NULL;
        if (!sv_process_signal(ld->init, reboot ? SIGHUP : SIGTERM, &e) && e) {
            sv_error_set_errno(error, SV_FROM_LXC, EPERM, "Unable to send %s to init pid %d",
                               reboot ? "SIGHUP" : "SIGTERM", (int)sv_process_get_pid(ld->init));
            return FALSE;
        }
    }
    sv_domain_driver_set_cause_call(obj, call);
    log_line(ld, "%s requested", reboot ? "reboot" : "shutdown");
    return TRUE;
}

static gboolean
domain_suspend(SvCall *call, remote_domain_suspend_args *a, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);
    LxcDomain *ld;

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ld = priv_of(obj);
    if (obj->state == SV_DOMAIN_PAUSED && !ld->starting)
        return TRUE; /* libvirt: no error, no event */
    if (ld->starting || ld->ended || !ld->cgroup ||
        !lxc_cgroup_set_frozen(ld->cgroup, TRUE, NULL)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_FAILED, "Suspend operation failed");
        return FALSE;
    }
    sv_domain_driver_set_cause_call(obj, call);
    set_state(obj, SV_DOMAIN_PAUSED, PAUSED_USER);
    emit(obj, SV_EVENT_SUSPENDED, SUSPENDED_PAUSED);
    return TRUE;
}

static gboolean
domain_resume(SvCall *call, remote_domain_resume_args *a, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);
    LxcDomain *ld;

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ld = priv_of(obj);
    if (obj->state == SV_DOMAIN_RUNNING) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID, "domain is already running");
        return FALSE;
    }
    if (obj->state != SV_DOMAIN_PAUSED || ld->starting)
        return TRUE;
    if (ld->ended || !ld->cgroup || !lxc_cgroup_set_frozen(ld->cgroup, FALSE, NULL)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_FAILED, "Resume operation failed");
        return FALSE;
    }
    sv_domain_driver_set_cause_call(obj, call);
    set_state(obj, SV_DOMAIN_RUNNING, RUNNING_UNPAUSED);
    emit(obj, SV_EVENT_RESUMED, RESUMED_UNPAUSED);
    return TRUE;
}

/* ---------------------------------------------------------------- glue */

const char *
lxc_process_get_console_socket(SvDomainObj *obj)
{
    LxcDomain *ld = obj->priv;

    return ld && !ld->starting && !ld->ended ? ld->socket_path : NULL;
}

/* Destroy with nobody waiting for the answer. */
static void
destroy_quietly(SvDomainObj *obj, const char *why)
{
    LxcDomain *ld = priv_of(obj);

    ld->destroying = TRUE;
    sv_domain_obj_set_cause(obj, "the daemon (%s)", why);
    save_status(obj);
    if (ld->cgroup && lxc_cgroup_is_frozen(ld->cgroup))
        lxc_cgroup_set_frozen(ld->cgroup, FALSE, NULL);
    if (ld->init && !ld->ended)
        sv_process_kill(ld->init, FALSE, ctx->timeouts.term_timeout_ms,
                        ctx->timeouts.kill_timeout_ms, kill_quietly_done, NULL);
    else if (!ld->ended)
        stop_supervisor(ld);
}

void
lxc_process_client_closed(SvClient *client)
{
    guint64 id = sv_client_get_id(client);
    g_autoptr(GPtrArray) active = NULL;

    if (!ctx)
        return;
    active = sv_domain_list_filter(ctx->domains->list, SV_LIST_ACTIVE);
    for (guint i = 0; i < active->len; i++) {
        SvDomainObj *obj = active->pdata[i];
        LxcDomain *ld = obj->priv;
        if (ld && ld->autodestroy_client == id && !ld->destroying) {
            g_message("domain %s: its client went away, destroying (AUTODESTROY)",
                      obj->def->name);
            destroy_quietly(obj, "its AUTODESTROY client went away");
        }
    }
}

guint64
lxc_process_cpu_time(SvDomainDriver *drv, SvDomainObj *obj)
{
    LxcDomain *ld = obj->priv;

    (void)drv;
    return ld && ld->cgroup ? lxc_cgroup_get_cpu_time(ld->cgroup) : 0;
}

void
lxc_process_install(LxcProcessContext *c, SvRemoteHandlers *h)
{
    SvDomainLifecycle lifecycle = {
        .start = start_container,
        .with_flags = START_AUTODESTROY,
        .with_flags_suffix = "DomainCreateWithFiles",
        .xml_flags = START_AUTODESTROY | START_VALIDATE,
        .xml_suffix = "DomainCreateXMLWithFiles",
        .destroy = destroy_common,
        .shutdown = shutdown_common,
    };

    ctx = c;
    if (!runs)
        runs = g_hash_table_new(g_direct_hash, g_direct_equal);
    sv_domain_driver_install_lifecycle(ctx->domains, &lifecycle, h);
    h->domain_suspend = domain_suspend;
    h->domain_resume = domain_resume;
}

/* ---------------------------------------------------------------- reconnect */

/* The supervisor is gone (and with it, through PR_SET_PDEATHSIG, the container): make
 * sure of it and clear what is left. */
static void
clean_gone(const LxcStatus *st, const char *status_file)
{
    g_autoptr(SvProcess) init = NULL;

    if (st->init_pid > 0 && (init = sv_process_attach(st->init_pid, st->init_start, NULL)))
        sv_process_signal(init, SIGKILL, NULL);
    if (st->cgroup && *st->cgroup) {
        g_autoptr(LxcCgroup) cg = lxc_cgroup_new(ctx->cgroup_root, st->cgroup, NULL);
        if (cg) {
            lxc_cgroup_kill_all(cg, SIGKILL);
            lxc_cgroup_remove(cg, NULL);
        }
    }
    if (st->socket)
        unlink(st->socket);
    unlink(status_file);
}

/* Take the container of a status file back under management, its supervisor alive and
 * its control connection open. */
static void
adopt(SvDomainObj *obj, const LxcStatus *st, int id, SvProcess *supervisor, int control)
{
    LxcDomain *ld;

    sv_domain_list_set_id(ctx->domains->list, obj, id > 0 ? id : (int)st->supervisor_pid);
    ld = lxc_domain_new(obj);
    ld->supervisor = supervisor;
    ld->socket_path = g_strdup(st->socket);
    ld->cgroup = st->cgroup && *st->cgroup ? lxc_cgroup_new(ctx->cgroup_root, st->cgroup, NULL)
                                             : NULL;
    ld->destroying = st->destroying;
    ld->autodestroy_client = st->autodestroy ? G_MAXUINT64 : 0;
    ld->log_fd = open_log(obj, NULL);
    obj->state = st->state;
    obj->reason = st->reason;
    obj->state_time = st->state_time;
    log_line(ld, "reconnected to supervisor %d", (int)sv_process_get_pid(supervisor));
    g_message("domain %s: reconnecting to supervisor pid %d", obj->def->name,
              (int)sv_process_get_pid(supervisor));
    sv_daemon_inhibit(ctx->daemon);
    sv_process_set_exit_func(supervisor, on_supervisor_exit, run_key(ld));
    ld->mon = lxc_monitor_new(control, &(LxcMonitorCallbacks){on_monitor_message, on_monitor_eof},
                              run_key(ld));
    /* Carry through what was under way: an unfinished start or a destroy. The supervisor's
     * greeting (RUNNING, EXITED or FAILED) brings the rest up to date. */
    if (st->starting || ld->destroying || ld->autodestroy_client) {
        const char *why = ld->destroying ? "a destroy was under way"
                                         : (ld->autodestroy_client ? "its AUTODESTROY client is gone"
                                                                   : "its start never finished");
        g_message("domain %s: %s; stopping it", obj->def->name, why);
        sv_domain_obj_set_cause(obj, "the daemon (after a restart: %s)", why);
        ld->destroying = TRUE;
        stop_supervisor(ld);
    }
    save_status(obj);
}

static void
reconnect_one(const char *path)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    g_auto(SvFd) control = -1;
    LxcStatus st = {0};
    SvProcess *supervisor;
    SvDomainObj *obj;
    int id = 0;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return;
    def = lxc_status_parse(text, &st, &id, &error);
    if (!def) {
        g_warning("ignoring status file '%s': %s", path, error->message);
        unlink(path);
        return;
    }
    obj = sv_domain_list_find_by_uuid(ctx->domains->list, def->uuid);
    supervisor = sv_process_attach(st.supervisor_pid, st.supervisor_start, &error);
    if (supervisor && (control = lxc_monitor_connect(st.socket, "control", &error)) < 0) {
        /* Alive but unreachable: it cannot be managed, so it is stopped. */
        g_warning("domain %s: %s; stopping it", def->name, error->message);
        sv_process_signal(supervisor, SIGTERM, NULL);
        g_clear_pointer(&supervisor, sv_process_free);
    }
    if (!supervisor) {
        g_message("domain %s: its supervisor is gone; cleaning up", def->name);
        clean_gone(&st, path);
        if (obj && !sv_domain_obj_is_active(obj))
            obj->reason = SHUTOFF_CRASHED;
    } else {
        if (obj) {
            obj->new_def = obj->def;
            obj->def = g_steal_pointer(&def);
            obj->persistent = st.persistent;
        } else {
            obj = sv_domain_list_add(ctx->domains->list, g_steal_pointer(&def), FALSE);
        }
        adopt(obj, &st, id, supervisor, g_steal_fd(&control));
    }
    lxc_status_clear(&st);
}

void
lxc_process_reconnect_all(void)
{
    g_autoptr(GDir) dir = g_dir_open(ctx->run_dir, 0, NULL);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *path = NULL;
        if (!g_str_has_suffix(entry, ".xml"))
            continue;
        path = g_build_filename(ctx->run_dir, entry, NULL);
        reconnect_one(path);
    }
    sv_domain_driver_autostart(ctx->domains, ctx->run_dir);
}
