/* qemu_process.c: the life of a QEMU guest, from fork to the STOPPED event.
 *
 * A guest's state changes in one place, set_state(), which logs the
 * transition; events go out right after it. The process is held by a pidfd
 * (util/process.c): its exit is seen at once, the monitor is then read to its
 * end, and only then is STOPPED decided, so no QMP event is lost or reordered.
 *
 * Every state change is also written to a status file, ROOT/run/libvirt/qemu/
 * NAME.xml, from which a restarted daemon finds its guests again (reconnect,
 * at the end of this file). The file is long because start, events, stop and
 * reconnect share the per-guest state and its invariants. */
#include "qemu_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "conf/uuid.h"
#include "qemu_command.h"
#include "qemu_monitor.h"
#include "qemu_security.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/fileio.h"
#include "util/process.h"
#include "sv-config.h"

/* virDomainEvent details used here. */
enum { STARTED_BOOTED = 0 };
enum { SUSPENDED_PAUSED = 0 };
enum { RESUMED_UNPAUSED = 0 };
enum { STOPPED_SHUTDOWN = 0, STOPPED_DESTROYED = 1, STOPPED_CRASHED = 2, STOPPED_FAILED = 5 };
enum { SHUTDOWN_FINISHED = 0, SHUTDOWN_GUEST = 1, SHUTDOWN_HOST = 2 };
enum { CRASHED_PANICKED = 0 };
/* State reasons. */
enum { RUNNING_BOOTED = 1, RUNNING_UNPAUSED = 5, RUNNING_CRASHED = 9 };
enum { PAUSED_UNKNOWN = 0, PAUSED_USER = 1 };
enum { SHUTOFF_SHUTDOWN = 1, SHUTOFF_DESTROYED = 2, SHUTOFF_CRASHED = 3, SHUTOFF_FAILED = 6 };
enum { CRASHED_REASON_PANICKED = 1 };

#define START_PAUSED 1
#define START_AUTODESTROY 2

typedef struct {
    SvProcess *proc;
    QemuMonitor *mon;
    char *dir;
    char *pid_path;
    GPtrArray *ptys;     /* chardev pty paths, index = serial number */
    SvCall *start_call;  /* the create call waiting for the guest to run */
    guint start_timer;
    gboolean start_paused;
    gboolean starting;
    gboolean destroying; /* our own kill: QEMU's SHUTDOWN is not an event */
    gboolean fake_reboot;
    gboolean rebooting;     /* reset in place after a SHUTDOWN: its STOP is no pause */
    gboolean pausing;       /* our own `stop` is on its way: its STOP means PAUSED/USER */
    guint jobs;             /* monitor commands of clients' calls under way */
    gboolean crash_destroy; /* on_crash destroy/restart: exit is STOPPED/CRASHED */
    gboolean crash_restart;
    guint64 autodestroy_client; /* client id, 0 for none */
    int log_fd;
    QemuSecLabel *sec; /* SELinux label and relabelled files; NULL when unlabelled */
} QemuDomain;

static QemuProcessContext *ctx;

static void start_failed(SvDomainObj *obj, GError *error);
static gboolean start_guest(SvDomainObj *obj, SvCall *call, guint flags, GError **error);

static QemuDomain *
priv_of(SvDomainObj *obj)
{
    return obj->priv;
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
    g_idle_add(free_process_idle, proc);
}

static void
qemu_domain_free(gpointer p)
{
    QemuDomain *qd = p;

    g_clear_pointer(&qd->mon, qemu_monitor_free);
    if (qd->proc)
        free_process_later(qd->proc);
    if (qd->start_timer)
        g_source_remove(qd->start_timer);
    if (qd->log_fd >= 0)
        close(qd->log_fd);
    g_free(qd->dir);
    g_free(qd->pid_path);
    if (qd->ptys)
        g_ptr_array_unref(qd->ptys);
    /* Labels stay: the guest may live on without us (daemon exit). */
    qemu_security_label_free(qd->sec);
    g_free(qd);
}

static const char *
state_name(int state)
{
    return sv_domain_state_to_string(state);
}

static void save_status(SvDomainObj *obj);

/* The one place a guest's state changes; the status file follows it. */
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

static SvDomainObj *
find(const guint8 uuid[16])
{
    return sv_domain_list_find_by_uuid(ctx->domains->list, uuid);
}

static void
log_line(QemuDomain *qd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
log_line(QemuDomain *qd, const char *fmt, ...)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *ts = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
    g_autofree char *msg = NULL;
    g_autofree char *line = NULL;
    va_list ap;

    if (qd->log_fd < 0)
        return;
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    line = g_strdup_printf("%.23s+0000: %s\n", ts, msg);
    if (write(qd->log_fd, line, strlen(line)) < 0)
        g_debug("cannot write the guest log: %s", g_strerror(errno));
}

/* ---------------------------------------------------------------- status files */

static char *
status_path(SvDomainObj *obj)
{
    return g_strdup_printf("%s/%s.xml", ctx->run_dir, obj->def->name);
}

/* Write what a restarted daemon needs to find this guest again; remove the file
 * once the guest is gone. Written off the loop, in order, atomically. */
static void
save_status(SvDomainObj *obj)
{
    QemuDomain *qd = obj->priv;
    g_autofree char *path = status_path(obj);
    g_autofree char *live = NULL;
    g_autofree char *sock = NULL;
    g_autofree char *sec_attrs = NULL, *sec_files = NULL;
    GString *x;

    if (!qd || !qd->proc || obj->state == SV_DOMAIN_SHUTOFF) {
        sv_domain_store_remove_file_async(ctx->domains->store, path, NULL, NULL);
        return;
    }
    sock = g_build_filename(qd->dir, "monitor.sock", NULL);
    live = sv_domain_def_format(obj->def, obj->id, 0);
    sec_attrs = qemu_security_label_format_status_attrs(qd->sec);
    sec_files = qemu_security_label_format_status_children(ctx->security, qd->sec);
    x = g_string_new(NULL);
    g_string_append_printf(
        x,
        "<domstatus state='%s' reason='%d' statetime='%" G_GINT64_FORMAT "' pid='%d' "
        "starttime='%" G_GUINT64_FORMAT "' persistent='%d' destroying='%d' fakereboot='%d' "
        "crashdestroy='%d' crashrestart='%d' autodestroy='%d' starting='%d'%s>\n"
        "  <monitor path='%s'/>\n%s",
        state_name(obj->state), obj->reason, obj->state_time, (int)sv_process_get_pid(qd->proc),
        sv_process_get_start_time(qd->proc), obj->persistent, qd->destroying, qd->fake_reboot,
        qd->crash_destroy, qd->crash_restart, qd->autodestroy_client != 0, qd->starting,
        sec_attrs, sock, sec_files);
    g_string_append(x, live);
    g_string_append(x, "</domstatus>\n");
    sv_domain_store_write_file_async(ctx->domains->store, path, x->str, NULL, NULL);
    g_string_free(x, TRUE);
}

/* ---------------------------------------------------------------- stop */

/* The guest is gone: clean up and tell everyone. */
static void
guest_stopped(SvDomainObj *obj, int shutoff_reason, int stopped_detail)
{
    QemuDomain *qd = priv_of(obj);
    static const char *reasons[] = {"unknown", "shutdown", "destroyed", "crashed",
                                    "migrated", "saved", "failed"};
    gboolean restart = qd->crash_restart;
    guint8 uuid[16];

    log_line(qd, "shutting down, reason=%s",
             shutoff_reason < (int)G_N_ELEMENTS(reasons) ? reasons[shutoff_reason] : "unknown");
    g_clear_pointer(&qd->mon, qemu_monitor_free);
    if (qd->proc) {
        free_process_later(qd->proc);
        qd->proc = NULL;
    }
    if (qd->pid_path)
        unlink(qd->pid_path);
    if (qd->dir) {
        g_autofree char *sock = g_build_filename(qd->dir, "monitor.sock", NULL);
        unlink(sock);
        rmdir(qd->dir);
    }
    qemu_security_label_release(ctx->security, qd->sec);
    sv_domain_list_clear_id(ctx->domains->list, obj);
    set_state(obj, SV_DOMAIN_SHUTOFF, shutoff_reason);
    emit(obj, SV_EVENT_STOPPED, stopped_detail);
    sv_daemon_uninhibit(ctx->daemon);
    memcpy(uuid, obj->def->uuid, 16);
    if (obj->new_def) {
        sv_domain_obj_set_def(obj, obj->new_def);
        obj->new_def = NULL;
    }
    g_clear_pointer(&obj->priv, qemu_domain_free);
    if (!obj->persistent) {
        sv_domain_list_remove(ctx->domains->list, obj);
        return;
    }
    if (restart) {
        g_autoptr(GError) error = NULL;
        if (!start_guest(obj, NULL, 0, &error))
            g_warning("domain %s: restart after crash failed: %s", obj->def->name,
                      error->message);
    }
}

static void
on_exit_cb(SvProcess *proc, const SvProcessExit *how, gpointer data)
{
    guint8 *uuid = data;
    SvDomainObj *obj = find(uuid);
    QemuDomain *qd;

    (void)proc;
    if (!obj || !(qd = priv_of(obj)))
        return;
    g_debug("QEMU of %s exited (known %d, signaled %d, code %d)", obj->def->name, how->known,
            how->signaled, how->code);
    /* Events QEMU sent before it went count: read the monitor to its end. */
    if (qd->mon)
        qemu_monitor_drain(qd->mon);
    if (!qd->destroying && !qd->crash_destroy && obj->state != SV_DOMAIN_SHUTDOWN)
        sv_domain_obj_set_cause(obj, "QEMU (exited)");
    if (qd->starting) {
        g_autoptr(GError) error = NULL;
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "QEMU exited while starting");
        start_failed(obj, g_steal_pointer(&error));
        return;
    }
    if (qd->destroying)
        guest_stopped(obj, SHUTOFF_DESTROYED, STOPPED_DESTROYED);
    else if (qd->crash_destroy)
        guest_stopped(obj, SHUTOFF_CRASHED, STOPPED_CRASHED);
    else if (obj->state == SV_DOMAIN_SHUTDOWN)
        guest_stopped(obj, SHUTOFF_SHUTDOWN, STOPPED_SHUTDOWN);
    else
        guest_stopped(obj, SHUTOFF_CRASHED, STOPPED_FAILED);
}

static void
kill_quietly_done(SvProcess *proc, const GError *error, gpointer data)
{
    (void)proc;
    (void)data;
    if (error)
        g_warning("%s", error->message);
}

/* Terminate QEMU through the state machine, with nobody waiting on it. */
static void
kill_guest(QemuDomain *qd)
{
    if (qd->proc)
        sv_process_kill(qd->proc, FALSE, ctx->timeouts.term_timeout_ms,
                        ctx->timeouts.kill_timeout_ms, kill_quietly_done, NULL);
}

/* ---------------------------------------------------------------- QMP events */

static void
reset_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    (void)ret;
    (void)data;
    if (error)
        g_warning("reboot in place failed: %s", error->message);
    else
        qemu_monitor_command(mon, "cont", NULL, NULL, NULL);
}

static void
on_shutdown_event(SvDomainObj *obj, JsonObject *data)
{
    QemuDomain *qd = priv_of(obj);
    int detail = SHUTDOWN_FINISHED;

    /* Our own kills make QEMU report a host SHUTDOWN: that is not the guest's. */
    if (obj->state == SV_DOMAIN_SHUTDOWN || qd->destroying || qd->starting || qd->crash_destroy)
        return;
    if (qd->fake_reboot || obj->def->on_poweroff == SV_DOMAIN_LIFECYCLE_RESTART) {
        /* A reboot: reset and go on, no SHUTDOWN state or event. */
        qd->fake_reboot = FALSE;
        qd->rebooting = TRUE;
        qemu_monitor_command(qd->mon, "system_reset", NULL, reset_done, NULL);
        return;
    }
    if (data && json_object_has_member(data, "guest"))
        detail = qemu_json_bool(data, "guest", FALSE) ? SHUTDOWN_GUEST : SHUTDOWN_HOST;
    set_state(obj, SV_DOMAIN_SHUTDOWN, 0);
    emit(obj, SV_EVENT_SHUTDOWN, detail);
    /* on_poweroff destroy (and preserve, which QEMU cannot hold): end QEMU. */
    kill_guest(qd);
}

static void
on_panic_event(SvDomainObj *obj)
{
    QemuDomain *qd = priv_of(obj);

    if (qd->destroying || obj->state == SV_DOMAIN_CRASHED)
        return;
    set_state(obj, SV_DOMAIN_CRASHED, CRASHED_REASON_PANICKED);
    emit(obj, SV_EVENT_CRASHED, CRASHED_PANICKED);
    switch (obj->def->on_crash) {
    case SV_DOMAIN_LIFECYCLE_RESTART:
        qd->crash_restart = TRUE;
        /* fall through */
    case SV_DOMAIN_LIFECYCLE_DESTROY:
        qd->crash_destroy = TRUE;
        kill_guest(qd);
        break;
    default:
        break; /* preserve: stays CRASHED/PANICKED until destroyed */
    }
}

static void
on_event(QemuMonitor *mon, const char *name, JsonObject *data, gpointer user)
{
    SvDomainObj *obj = find(user);
    QemuDomain *qd;

    (void)mon;
    if (!obj || !(qd = priv_of(obj)))
        return;
    g_debug("domain %s: QMP event %s", obj->def->name, name);
    /* An event that answers a client's command is that client's doing. */
    if (!qd->destroying && !qd->pausing && !qd->starting && !qd->jobs)
        sv_domain_obj_set_cause(obj, "QEMU (event %s)", name);
    if (g_str_equal(name, "SHUTDOWN")) {
        on_shutdown_event(obj, data);
    } else if (g_str_equal(name, "STOP")) {
        /* After a SHUTDOWN or a panic QEMU stops its vCPUs: that is not a pause. */
        if (obj->state == SV_DOMAIN_RUNNING && !qd->starting && !qd->destroying &&
            !qd->rebooting) {
            set_state(obj, SV_DOMAIN_PAUSED, qd->pausing ? PAUSED_USER : PAUSED_UNKNOWN);
            emit(obj, SV_EVENT_SUSPENDED, SUSPENDED_PAUSED);
        }
    } else if (g_str_equal(name, "RESUME")) {
        if (qd->rebooting) {
            qd->rebooting = FALSE; /* the reboot's own cont */
            return;
        }
        if (obj->state == SV_DOMAIN_PAUSED && !qd->starting) {
            set_state(obj, SV_DOMAIN_RUNNING, RUNNING_UNPAUSED);
            emit(obj, SV_EVENT_RESUMED, RESUMED_UNPAUSED);
        }
    } else if (g_str_equal(name, "RESET")) {
        if (!qd->starting) {
            remote_nonnull_domain dom;
            sv_domain_obj_to_remote(obj, &dom);
            sv_remote_emit_reboot(ctx->domains->server, &dom);
            g_free(dom.name);
        }
    } else if (g_str_equal(name, "GUEST_PANICKED")) {
        on_panic_event(obj);
    }
}

static void
on_monitor_eof(QemuMonitor *mon, gpointer user)
{
    SvDomainObj *obj = find(user);

    (void)mon;
    /* The pidfd decides how the guest ended; EOF alone only means QEMU is going. */
    if (obj && priv_of(obj))
        g_debug("domain %s: monitor closed", obj->def->name);
}

/* ---------------------------------------------------------------- start */

static void
start_finished(SvDomainObj *obj)
{
    QemuDomain *qd = priv_of(obj);
    SvCall *call = qd->start_call;

    qd->start_call = NULL;
    qd->starting = FALSE;
    if (qd->start_timer)
        g_source_remove(qd->start_timer);
    qd->start_timer = 0;
    if (qd->start_paused) {
        set_state(obj, SV_DOMAIN_PAUSED, PAUSED_USER);
        emit(obj, SV_EVENT_STARTED, STARTED_BOOTED);
        emit(obj, SV_EVENT_SUSPENDED, SUSPENDED_PAUSED);
    } else {
        set_state(obj, SV_DOMAIN_RUNNING, RUNNING_BOOTED);
        emit(obj, SV_EVENT_STARTED, STARTED_BOOTED);
    }
    if (call)
        sv_domain_driver_reply_started(ctx->domains, obj, call);
}

static void
cont_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvDomainObj *obj = find(data);

    (void)mon;
    (void)ret;
    if (!obj || !priv_of(obj) || !priv_of(obj)->starting)
        return;
    if (error)
        start_failed(obj, g_error_copy(error));
    else
        start_finished(obj);
}

static void
chardev_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvDomainObj *obj = find(data);
    QemuDomain *qd;

    if (!obj || !(qd = priv_of(obj)) || !qd->starting)
        return;
    if (error) {
        start_failed(obj, g_error_copy(error));
        return;
    }
    /* Learn the pty each serial port got: "pty:/dev/pts/N". */
    if (ret && JSON_NODE_HOLDS_ARRAY(ret)) {
        JsonArray *a = json_node_get_array(ret);
        for (guint i = 0; i < json_array_get_length(a); i++) {
            JsonObject *c = qemu_json_array_object(a, i);
            const char *label = qemu_json_string(c, "label");
            const char *file = qemu_json_string(c, "filename");
            guint n;
            if (label && file && g_str_has_prefix(label, "charserial") &&
                g_str_has_prefix(file, "pty:")) {
                n = (guint)g_ascii_strtoull(label + 10, NULL, 10);
                if (n < 16) {
                    GPtrArray *serials =
                        obj->def->serials->len ? obj->def->serials : obj->def->consoles;
                    if (qd->ptys->len <= n)
                        g_ptr_array_set_size(qd->ptys, n + 1);
                    g_free(qd->ptys->pdata[n]);
                    qd->ptys->pdata[n] = g_strdup(file + 4);
                    /* The live XML shows it, as libvirt's does. */
                    if (n < serials->len) {
                        SvDomainChrDef *chr = serials->pdata[n];
                        g_free(chr->source_path);
                        chr->source_path = g_strdup(file + 4);
                    }
                }
            }
        }
    }
    if (qd->start_paused)
        start_finished(obj);
    else
        qemu_monitor_command(mon, "cont", NULL, cont_done, data);
}

static void
on_monitor_ready(QemuMonitor *mon, gpointer user)
{
    qemu_monitor_command(mon, "query-chardev", NULL, chardev_done, user);
}

static char *
log_tail(const char *path)
{
    g_autofree char *text = NULL;
    gsize len;
    const char *start;

    if (!g_file_get_contents(path, &text, &len, NULL))
        return g_strdup("");
    start = len > 1024 ? text + len - 1024 : text;
    /* From the last start header on: what this start printed. */
    if (strstr(start, "starting up"))
        start = g_strrstr(start, "starting up");
    return g_strstrip(g_strdup(start));
}

static void
start_kill_done(SvProcess *proc, const GError *error, gpointer data)
{
    (void)data;
    if (error)
        g_warning("%s", error->message);
    free_process_later(proc);
}

/* A start went wrong: nothing of the guest may remain. Returns the error
 * for the caller, with what QEMU printed (transfer full). */
static GError *
start_cleanup(SvDomainObj *obj, GError *error)
{
    QemuDomain *qd = priv_of(obj);
    g_autofree char *logfile = NULL;
    g_autofree char *tail = NULL;
    GError *full = NULL;

    qd->starting = FALSE;
    if (qd->proc) {
        if (sv_process_is_alive(qd->proc)) {
            /* Its exit now concerns nobody; the kill's completion frees it. */
            sv_process_set_exit_func(qd->proc, NULL, NULL);
            sv_process_kill(qd->proc, FALSE, 0, ctx->timeouts.kill_timeout_ms, start_kill_done,
                            NULL);
        } else {
            free_process_later(qd->proc);
        }
        qd->proc = NULL;
    }
    g_clear_pointer(&qd->mon, qemu_monitor_free);
    logfile = g_strdup_printf("%s/%s.log", ctx->log_dir, obj->def->name);
    log_line(qd, "start failed: %s", error->message);
    tail = log_tail(logfile);
    {
        /* The cause's own detail, without its template's prefix. */
        const SvErrorExtra *x = sv_error_get_extra(error);
        const char *why = x && x->str2 ? x->str2 : error->message;
        sv_error_set(&full, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "QEMU failed to start: %s%s%s",
                     why, *tail ? "\n" : "", tail);
    }
    g_error_free(error);
    g_warning("domain %s: %s", obj->def->name, full->message);
    if (qd->pid_path)
        unlink(qd->pid_path);
    if (qd->dir) {
        g_autofree char *sock = g_build_filename(qd->dir, "monitor.sock", NULL);
        unlink(sock);
        rmdir(qd->dir);
    }
    qemu_security_label_release(ctx->security, qd->sec);
    sv_domain_list_clear_id(ctx->domains->list, obj);
    set_state(obj, SV_DOMAIN_SHUTOFF, SHUTOFF_FAILED);
    sv_daemon_uninhibit(ctx->daemon);
    g_clear_pointer(&obj->priv, qemu_domain_free);
    if (obj->new_def) {
        /* It never ran: its persistent definition is the one to keep. */
        sv_domain_obj_set_def(obj, obj->new_def);
        obj->new_def = NULL;
    }
    if (!obj->persistent)
        sv_domain_list_remove(ctx->domains->list, obj);
    return full;
}

static void
start_failed(SvDomainObj *obj, GError *error)
{
    SvCall *call = priv_of(obj)->start_call;
    GError *full;

    priv_of(obj)->start_call = NULL;
    full = start_cleanup(obj, error);
    if (call)
        sv_call_fail(call, full);
    else
        g_error_free(full);
}

static gboolean
start_timed_out(gpointer data)
{
    SvDomainObj *obj = find(data);
    g_autoptr(GError) error = NULL;

    if (!obj || !priv_of(obj))
        return G_SOURCE_REMOVE;
    priv_of(obj)->start_timer = 0;
    sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_TIMEOUT,
                 "QEMU's monitor did not answer within %u ms", ctx->timeouts.start_timeout_ms);
    start_failed(obj, g_steal_pointer(&error));
    return G_SOURCE_REMOVE;
}

/* A listening unix socket at path, for QEMU to serve QMP on. */
static int
monitor_listen(const char *path, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_auto(SvFd) fd = -1;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_CONFIG_UNSUPPORTED,
                     "monitor socket path '%s' is %zu bytes; at most %zu fit in a UNIX socket "
                     "address (use a shorter root directory)",
                     path, strlen(path), sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "cannot listen on monitor socket '%s'",
                           path);
        return -1;
    }
    return g_steal_fd(&fd);
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
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "cannot open log file '%s'", path);
    return fd;
}

typedef struct {
    guint8 uuid[16];
} UuidKey;

static gboolean
start_guest(SvDomainObj *obj, SvCall *call, guint flags, GError **error)
{
    QemuDomain *qd;
    g_autofree char *dirname = NULL, *sock_path = NULL, *cmdline = NULL, *pid_text = NULL;
    g_auto(GStrv) argv = NULL;
    g_auto(GStrv) envp = NULL;
    g_auto(SvFd) listen_fd = -1;
    int mon_fd;
    QemuCommandOptions copts = {0};
    SvSpawnOptions sopts = {0};
    QemuMonitorCallbacks cb = {on_monitor_ready, on_event, on_monitor_eof};
    guint8 *key;

    if (sv_domain_obj_is_active(obj)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is already running");
        return FALSE;
    }
    if (!qemu_command_check_def(obj->def, error))
        return FALSE;
    sv_domain_list_assign_id(ctx->domains->list, obj);
    qd = g_new0(QemuDomain, 1);
    qd->log_fd = -1;
    qd->ptys = g_ptr_array_new_with_free_func(g_free);
    obj->priv = qd;
    obj->priv_free = qemu_domain_free;
    if (call)
        sv_domain_driver_set_cause_call(obj, call);
    else
        sv_domain_obj_set_cause(obj, "the daemon (autostart or on_crash restart)");
    sv_daemon_inhibit(ctx->daemon);
    /* From here on a failure goes through start_failed(), which undoes all this. */
    qd->starting = TRUE;
    dirname = qemu_domain_dir_name(obj->id, obj->def->name);
    qd->dir = g_build_filename(ctx->lib_dir, dirname, NULL);
    qd->pid_path = g_strdup_printf("%s/%s.pid", ctx->run_dir, obj->def->name);
    sock_path = g_build_filename(qd->dir, "monitor.sock", NULL);
    qd->log_fd = open_log(obj, error);
    if (qd->log_fd < 0 || !sv_mkdir_p(qd->dir, 0750, error) ||
        !qemu_security_prepare_dir(ctx->security, qd->dir, error) ||
        !sv_mkdir_p(ctx->run_dir, 0755, error) ||
        !qemu_security_label_new(ctx->security, obj->def, &qd->sec, error) ||
        !qemu_security_label_apply(ctx->security, qd->sec, obj->def, error) ||
        !qemu_security_set_socket_label(ctx->security, qd->sec, error))
        goto fail;
    listen_fd = monitor_listen(sock_path, error);
    qemu_security_clear_socket_label(ctx->security, qd->sec);
    if (listen_fd < 0)
        goto fail;
    copts.emulator = qemu_caps_get_emulator(ctx->caps);
    copts.monitor_fd = listen_fd;
    argv = qemu_command_build(obj->def, &copts, error);
    if (!argv)
        goto fail;
    cmdline = g_strjoinv(" ", argv);
    log_line(qd, "starting up splitvirt version: %s, hostname: %s", SV_VERSION,
             g_get_host_name());
    if (write(qd->log_fd, cmdline, strlen(cmdline)) < 0 || write(qd->log_fd, "\n", 1) < 0)
        g_debug("cannot write the guest log");
    envp = qemu_security_build_env(ctx->security, qd->dir);
    sopts.argv = (const char *const *)argv;
    sopts.envp = (const char *const *)envp;
    sopts.stdin_fd = -1;
    sopts.stdout_fd = qd->log_fd;
    sopts.stderr_fd = qd->log_fd;
    sopts.keep_fds = &copts.monitor_fd;
    sopts.n_keep_fds = 1;
    sopts.new_session = TRUE;
    /* QEMU drops to its user in the child; its label comes with the exec. */
    sopts.child_setup = qemu_security_child_setup;
    sopts.child_setup_data = ctx->security;
    if (!qemu_security_set_exec_label(ctx->security, qd->sec, error))
        goto fail;
    qd->proc = sv_process_spawn(&sopts, error);
    qemu_security_clear_exec_label(ctx->security, qd->sec);
    if (!qd->proc)
        goto fail;
    /* Connected before our copy of the listening socket closes, so the
     * connection waits in QEMU's backlog whatever QEMU does next. */
    mon_fd = qemu_monitor_connect(sock_path, error);
    if (mon_fd < 0)
        goto fail;
    sv_fd_clear(&listen_fd);
    pid_text = g_strdup_printf("%d\n", (int)sv_process_get_pid(qd->proc));
    if (!g_file_set_contents(qd->pid_path, pid_text, -1, NULL))
        g_debug("cannot write pid file %s", qd->pid_path);
    key = obj->def->uuid;
    sv_process_set_exit_func(qd->proc, on_exit_cb, key);
    qd->mon = qemu_monitor_new(mon_fd, &cb, key);
    qd->start_paused = (flags & START_PAUSED) != 0;
    if (call) {
        qd->start_call = sv_call_defer(call);
        if (flags & START_AUTODESTROY)
            qd->autodestroy_client = sv_client_get_id(sv_call_get_client(call));
    }
    qd->start_timer = g_timeout_add(ctx->timeouts.start_timeout_ms, start_timed_out, key);
    set_state(obj, SV_DOMAIN_PAUSED, 11 /* STARTING_UP */);
    return TRUE;

fail:
    g_propagate_error(error, start_cleanup(obj, g_steal_pointer(error)));
    return FALSE;
}

/* ---------------------------------------------------------------- procedures */

static SvDomainObj *
lookup(const remote_nonnull_domain *dom, GError **error)
{
    return sv_domain_list_lookup_handle(ctx->domains->list, dom, SV_FROM_QEMU, error);
}

static gboolean
check_flags(guint flags, guint supported, const char *func, GError **error)
{
    return sv_check_flags(flags, supported, SV_FROM_QEMU, func, error);
}

/* START_PAUSED, AUTODESTROY, BYPASS_CACHE, FORCE_BOOT, VALIDATE. */
#define CREATE_FLAGS 0x1f

typedef struct {
    SvCall *call;
    guint8 uuid[16];
    gboolean remove_logs;
    char *name;
} DestroyJob;

static void
destroy_done(SvProcess *proc, const GError *error, gpointer data)
{
    DestroyJob *job = data;
    SvDomainObj *obj = find(job->uuid);

    (void)proc;
    if (error) {
        /* The guest lives on in its state; a later destroy may try again. */
        if (obj && priv_of(obj)) {
            priv_of(obj)->destroying = FALSE;
            save_status(obj);
        }
        sv_call_fail(job->call, g_error_copy(error));
    } else {
        if (job->remove_logs) {
            g_autofree char *log = g_strdup_printf("%s/%s.log", ctx->log_dir, job->name);
            unlink(log);
        }
        sv_domain_driver_reply_when_saved(ctx->domains, job->call, NULL, NULL);
    }
    g_free(job->name);
    g_free(job);
}

static gboolean
destroy_common(SvCall *call, const remote_nonnull_domain *dom, guint flags, GError **error)
{
    SvDomainObj *obj;
    QemuDomain *qd;
    DestroyJob *job;
    gboolean graceful = flags & 1;

    if (!check_flags(flags, 3 /* GRACEFUL | REMOVE_LOGS */, "qemuDomainDestroyFlags", error))
        return FALSE;
    obj = lookup(dom, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    qd = priv_of(obj);
    job = g_new0(DestroyJob, 1);
    job->call = sv_call_defer(call);
    memcpy(job->uuid, obj->def->uuid, 16);
    job->remove_logs = (flags & 2) != 0;
    job->name = g_strdup(obj->def->name);
    qd->destroying = TRUE;
    sv_domain_driver_set_cause_call(obj, call);
    save_status(obj);
    sv_process_kill(qd->proc, graceful,
                    graceful ? ctx->timeouts.graceful_timeout_ms : ctx->timeouts.term_timeout_ms,
                    ctx->timeouts.kill_timeout_ms, destroy_done, job);
    return TRUE;
}

/* A monitor command whose reply completes the call. */
typedef struct {
    SvCall *call;
    guint8 uuid[16];
    int kind;
} MonJob;

enum { JOB_PLAIN, JOB_SUSPEND, JOB_RESUME };

static void
mon_job_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    MonJob *job = data;
    SvDomainObj *obj = find(job->uuid);

    (void)mon;
    (void)ret;
    if (obj && priv_of(obj) && priv_of(obj)->jobs)
        priv_of(obj)->jobs--;
    if (error) {
        sv_call_fail(job->call, g_error_copy(error));
        g_free(job);
        return;
    }
    if (obj && priv_of(obj)) {
        /* The STOP or RESUME event may come before or after this reply; the
         * state changes (and its event goes out) exactly once either way. */
        if (job->kind == JOB_SUSPEND && obj->state == SV_DOMAIN_RUNNING) {
            set_state(obj, SV_DOMAIN_PAUSED, PAUSED_USER);
            emit(obj, SV_EVENT_SUSPENDED, SUSPENDED_PAUSED);
        } else if (job->kind == JOB_SUSPEND && obj->state == SV_DOMAIN_PAUSED) {
            set_state(obj, SV_DOMAIN_PAUSED, PAUSED_USER);
        } else if (job->kind == JOB_RESUME && (obj->state == SV_DOMAIN_PAUSED ||
                                               obj->state == SV_DOMAIN_CRASHED)) {
            set_state(obj, SV_DOMAIN_RUNNING, RUNNING_UNPAUSED);
            emit(obj, SV_EVENT_RESUMED, RESUMED_UNPAUSED);
        }
        if (job->kind == JOB_SUSPEND)
            priv_of(obj)->pausing = FALSE;
    }
    sv_domain_driver_reply_when_saved(ctx->domains, job->call, NULL, NULL);
    g_free(job);
}

static void
monitor_job(SvCall *call, SvDomainObj *obj, const char *cmd, int kind)
{
    MonJob *job = g_new0(MonJob, 1);

    sv_domain_driver_set_cause_call(obj, call);
    priv_of(obj)->jobs++;
    job->call = sv_call_defer(call);
    memcpy(job->uuid, obj->def->uuid, 16);
    job->kind = kind;
    qemu_monitor_command(priv_of(obj)->mon, cmd, NULL, mon_job_done, job);
}

/* Running, and not in the middle of starting or stopping. */
static gboolean
check_running(SvDomainObj *obj, int from, GError **error)
{
    if (!sv_domain_obj_is_active(obj) || obj->state != SV_DOMAIN_RUNNING ||
        priv_of(obj)->starting) {
        sv_error_set(error, from, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    return TRUE;
}

static gboolean
shutdown_common(SvCall *call, const remote_nonnull_domain *dom, guint flags, gboolean reboot,
                GError **error)
{
    SvDomainObj *obj;

    /* Only the ACPI power button exists here (no guest agent, initctl or signal). */
    if (!check_flags(flags, 1, reboot ? "qemuDomainReboot" : "qemuDomainShutdownFlags", error))
        return FALSE;
    obj = lookup(dom, error);
    /* libvirt's shutdown checks the state itself (QEMU domain); reboot uses
     * the shared check (DOMAIN domain). */
    if (!obj || !check_running(obj, reboot ? SV_FROM_DOMAIN : SV_FROM_QEMU, error))
        return FALSE;
    if (reboot)
        priv_of(obj)->fake_reboot = TRUE;
    monitor_job(call, obj, "system_powerdown", JOB_PLAIN);
    return TRUE;
}

static gboolean
domain_reset(SvCall *call, remote_domain_reset_args *a, GError **error)
{
    SvDomainObj *obj;

    if (!check_flags(a->flags, 0, "qemuDomainReset", error))
        return FALSE;
    obj = lookup(&a->dom, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    if (priv_of(obj)->starting || obj->state == SV_DOMAIN_SHUTDOWN) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is not running");
        return FALSE;
    }
    monitor_job(call, obj, "system_reset", JOB_PLAIN);
    return TRUE;
}

static gboolean
domain_suspend(SvCall *call, remote_domain_suspend_args *a, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    if (obj->state == SV_DOMAIN_PMSUSPENDED) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is pmsuspended");
        return FALSE;
    }
    if (obj->state == SV_DOMAIN_PAUSED && !priv_of(obj)->starting)
        return TRUE; /* libvirt: no error, no event */
    if (!check_running(obj, SV_FROM_DOMAIN, error))
        return FALSE;
    priv_of(obj)->pausing = TRUE;
    monitor_job(call, obj, "stop", JOB_SUSPEND);
    return TRUE;
}

static gboolean
domain_resume(SvCall *call, remote_domain_resume_args *a, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    if (obj->state == SV_DOMAIN_PMSUSPENDED) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is pmsuspended");
        return FALSE;
    }
    if (priv_of(obj)->starting || !(obj->state == SV_DOMAIN_PAUSED ||
                                     (obj->state == SV_DOMAIN_CRASHED &&
                                      obj->reason == CRASHED_REASON_PANICKED))) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "domain is already running");
        return FALSE;
    }
    monitor_job(call, obj, "cont", JOB_RESUME);
    return TRUE;
}

/* ---------------------------------------------------------------- glue */

const QemuSecLabel *
qemu_process_get_seclabel(SvDomainObj *obj)
{
    QemuDomain *qd = obj->priv;

    return qd ? qd->sec : NULL;
}

const char *
qemu_process_get_pty(SvDomainObj *obj, guint serial)
{
    QemuDomain *qd = obj->priv;

    if (!qd || qd->starting || serial >= qd->ptys->len)
        return NULL;
    return qd->ptys->pdata[serial];
}

static void
autodestroy_one(gpointer key, gpointer value, gpointer data)
{
    SvDomainObj *obj = value;
    QemuDomain *qd = obj->priv;
    guint64 id = *(guint64 *)data;

    (void)key;
    if (qd && qd->autodestroy_client == id && !qd->destroying) {
        g_message("domain %s: its client went away, destroying (AUTODESTROY)", obj->def->name);
        qd->destroying = TRUE;
        kill_guest(qd);
    }
}

void
qemu_process_client_closed(SvClient *client)
{
    guint64 id = sv_client_get_id(client);
    g_autoptr(GPtrArray) active = NULL;

    if (!ctx)
        return;
    active = sv_domain_list_filter(ctx->domains->list, SV_LIST_ACTIVE);
    for (guint i = 0; i < active->len; i++)
        autodestroy_one(NULL, active->pdata[i], &id);
}

guint64
qemu_process_cpu_time(SvDomainDriver *drv, SvDomainObj *obj)
{
    QemuDomain *qd = obj->priv;
    g_autofree char *path = NULL, *text = NULL;
    const char *p;
    guint64 utime = 0, stime = 0;
    int field = 2;

    (void)drv;
    if (!qd || !qd->proc)
        return 0;
    path = g_strdup_printf("/proc/%d/stat", (int)sv_process_get_pid(qd->proc));
    if (!g_file_get_contents(path, &text, NULL, NULL) || !(p = strrchr(text, ')')))
        return 0;
    for (p++; *p; ) {
        while (*p == ' ')
            p++;
        field++;
        if (field == 14)
            utime = g_ascii_strtoull(p, NULL, 10);
        else if (field == 15) {
            stime = g_ascii_strtoull(p, NULL, 10);
            break;
        }
        while (*p && *p != ' ')
            p++;
    }
    return (utime + stime) * (G_GUINT64_CONSTANT(1000000000) / (guint64)sysconf(_SC_CLK_TCK));
}

void
qemu_process_install(QemuProcessContext *c, SvRemoteHandlers *h)
{
    SvDomainLifecycle lifecycle = {
        .start = start_guest,
        .with_flags = CREATE_FLAGS,
        .with_flags_suffix = "DomainCreateWithFlags",
        .xml_flags = CREATE_FLAGS,
        .xml_suffix = "DomainCreateXML",
        .destroy = destroy_common,
        .shutdown = shutdown_common,
    };

    ctx = c;
    sv_domain_driver_install_lifecycle(ctx->domains, &lifecycle, h);
    h->domain_reset = domain_reset;
    h->domain_suspend = domain_suspend;
    h->domain_resume = domain_resume;
}

/* ---------------------------------------------------------------- reconnect */

static void
reconcile(SvDomainObj *obj, const char *status)
{
    QemuDomain *qd = priv_of(obj);

    /* What happened while no daemon watched is not replayed as events; from
     * here on, every change is. */
    if (g_str_equal(status, "running")) {
        if (obj->state != SV_DOMAIN_RUNNING && obj->state != SV_DOMAIN_SHUTDOWN)
            set_state(obj, SV_DOMAIN_RUNNING, RUNNING_UNPAUSED);
    } else if (g_str_equal(status, "shutdown")) {
        if (obj->state != SV_DOMAIN_SHUTDOWN)
            set_state(obj, SV_DOMAIN_SHUTDOWN, 0);
    } else if (g_str_equal(status, "guest-panicked")) {
        if (obj->state != SV_DOMAIN_CRASHED)
            set_state(obj, SV_DOMAIN_CRASHED, CRASHED_REASON_PANICKED);
        if (!qd->crash_destroy && obj->def->on_crash != SV_DOMAIN_LIFECYCLE_PRESERVE) {
            qd->crash_destroy = TRUE;
            qd->crash_restart = obj->def->on_crash == SV_DOMAIN_LIFECYCLE_RESTART;
        }
    } else if (obj->state == SV_DOMAIN_RUNNING) {
        /* As libvirt maps QEMU's run states to pause reasons. */
        int reason = PAUSED_USER;
        if (g_str_equal(status, "io-error"))
            reason = 5;
        else if (g_str_equal(status, "watchdog"))
            reason = 6;
        set_state(obj, SV_DOMAIN_PAUSED, reason);
    }
    /* Carry through what was under way, or what the guest asked for meanwhile. */
    if (qd->starting) {
        g_message("domain %s: its start never finished, stopping it", obj->def->name);
        qd->starting = FALSE;
        qd->crash_destroy = TRUE;
        kill_guest(qd);
    } else if (qd->destroying || qd->crash_destroy || obj->state == SV_DOMAIN_SHUTDOWN) {
        kill_guest(qd);
    } else if (qd->autodestroy_client) {
        g_message("domain %s: its AUTODESTROY client is gone, destroying", obj->def->name);
        qd->destroying = TRUE;
        kill_guest(qd);
    }
    save_status(obj);
}

static void
query_status_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvDomainObj *obj = find(data);
    const char *status = "running";

    (void)mon;
    if (!obj || !priv_of(obj))
        return;
    if (error) {
        g_warning("domain %s: query-status failed after reconnect: %s", obj->def->name,
                  error->message);
        return;
    }
    if (ret && JSON_NODE_HOLDS_OBJECT(ret))
        status = qemu_json_string(json_node_get_object(ret), "status");
    if (!status)
        status = "running";
    g_debug("domain %s: reconnected, QEMU says '%s'", obj->def->name, status);
    reconcile(obj, status);
}

static void
on_reconnect_ready(QemuMonitor *mon, gpointer user)
{
    qemu_monitor_command(mon, "query-status", NULL, query_status_done, user);
}

static char *
attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *out = v ? g_strdup((const char *)v) : NULL;

    xmlFree(v);
    return out;
}

static gint64
attr_int(xmlNodePtr n, const char *name)
{
    g_autofree char *v = attr(n, name);

    return v ? g_ascii_strtoll(v, NULL, 10) : 0;
}

static xmlNodePtr
child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && g_str_equal((const char *)c->name, name))
            return c;
    }
    return NULL;
}

/* Remove what a gone guest left: status and pid files, its directory. */
static void
remove_leftovers(const char *name, const char *status_file, const char *monitor)
{
    g_autofree char *pid = g_strdup_printf("%s/%s.pid", ctx->run_dir, name);

    unlink(status_file);
    unlink(pid);
    if (monitor) {
        g_autofree char *dir = g_path_get_dirname(monitor);
        unlink(monitor);
        rmdir(dir);
    }
}

/* stale_labels collects the labels of guests found gone, released once every
 * status file is read (a file they shared may still be in use). */
static void
reconnect_one(const char *path, GPtrArray *stale_labels)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    g_autofree char *monitor = NULL, *state = NULL, *domxml = NULL;
    xmlDocPtr doc;
    xmlNodePtr root, dom, mon;
    xmlBufferPtr buf;
    SvDomainObj *obj;
    QemuDomain *qd;
    SvProcess *proc;
    QemuMonitorCallbacks cb = {on_reconnect_ready, on_event, on_monitor_eof};
    int id, mon_fd;
    gboolean persistent;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return;
    doc = xmlReadMemory(text, strlen(text), path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                                           XML_PARSE_NOWARNING);
    root = doc ? xmlDocGetRootElement(doc) : NULL;
    dom = root ? child(root, "domain") : NULL;
    mon = root ? child(root, "monitor") : NULL;
    if (!dom || !mon || !g_str_equal((const char *)root->name, "domstatus")) {
        g_warning("ignoring unreadable status file '%s'", path);
        if (doc)
            xmlFreeDoc(doc);
        unlink(path);
        return;
    }
    monitor = attr(mon, "path");
    state = attr(root, "state");
    id = (int)attr_int(dom, "id");
    buf = xmlBufferCreate();
    xmlNodeDump(buf, doc, dom, 0, 0);
    domxml = g_strdup((const char *)xmlBufferContent(buf));
    xmlBufferFree(buf);
    def = sv_domain_def_parse(domxml, 0, &error);
    if (!def) {
        g_warning("ignoring status file '%s': %s", path, error->message);
        xmlFreeDoc(doc);
        return;
    }
    proc = sv_process_attach((pid_t)attr_int(root, "pid"), (guint64)attr_int(root, "starttime"),
                             &error);
    obj = sv_domain_list_find_by_uuid(ctx->domains->list, def->uuid);
    persistent = attr_int(root, "persistent") != 0 && obj != NULL;
    if (!proc) {
        /* Gone, or its PID now belongs to another process: never signalled. */
        g_message("domain %s: QEMU is gone (%s); cleaning up", def->name, error->message);
        {
            QemuSecLabel *label = qemu_security_label_from_status(ctx->security, root);
            if (label)
                g_ptr_array_add(stale_labels, label);
        }
        remove_leftovers(def->name, path, monitor);
        if (obj && !sv_domain_obj_is_active(obj))
            obj->reason = SHUTOFF_CRASHED;
        xmlFreeDoc(doc);
        return;
    }
    if (obj) {
        obj->new_def = obj->def;
        obj->def = g_steal_pointer(&def);
        obj->persistent = persistent;
    } else {
        obj = sv_domain_list_add(ctx->domains->list, g_steal_pointer(&def), FALSE);
    }
    sv_domain_list_set_id(ctx->domains->list, obj, id > 0 ? id : 1);
    qd = g_new0(QemuDomain, 1);
    qd->log_fd = -1;
    qd->ptys = g_ptr_array_new_with_free_func(g_free);
    qd->proc = proc;
    qd->dir = g_path_get_dirname(monitor);
    qd->pid_path = g_strdup_printf("%s/%s.pid", ctx->run_dir, obj->def->name);
    qd->destroying = attr_int(root, "destroying") != 0;
    qd->fake_reboot = attr_int(root, "fakereboot") != 0;
    qd->crash_destroy = attr_int(root, "crashdestroy") != 0;
    qd->crash_restart = attr_int(root, "crashrestart") != 0;
    qd->autodestroy_client = attr_int(root, "autodestroy") ? G_MAXUINT64 : 0;
    qd->starting = attr_int(root, "starting") != 0;
    {
        GPtrArray *serials = obj->def->serials->len ? obj->def->serials : obj->def->consoles;
        for (guint i = 0; i < serials->len; i++) {
            SvDomainChrDef *chr = serials->pdata[i];
            g_ptr_array_add(qd->ptys, g_strdup(chr->source_path));
        }
    }
    obj->priv = qd;
    obj->priv_free = qemu_domain_free;
    obj->state = sv_domain_state_from_string(state);
    if (obj->state < 0)
        obj->state = SV_DOMAIN_RUNNING;
    obj->reason = (int)attr_int(root, "reason");
    obj->state_time = attr_int(root, "statetime");
    qd->sec = qemu_security_label_from_status(ctx->security, root);
    xmlFreeDoc(doc);
    qd->log_fd = open_log(obj, NULL);
    log_line(qd, "reconnected to pid %d", (int)sv_process_get_pid(proc));
    sv_daemon_inhibit(ctx->daemon);
    sv_process_set_exit_func(proc, on_exit_cb, obj->def->uuid);
    g_message("domain %s: reconnecting to QEMU pid %d (%s)", obj->def->name,
              (int)sv_process_get_pid(proc), state_name(obj->state));
    /* A stop under way needs no monitor: carry it through now, even if QEMU
     * never answers again (SIGSTOPped, wedged). */
    if (qd->destroying || qd->crash_destroy || obj->state == SV_DOMAIN_SHUTDOWN)
        kill_guest(qd);
    mon_fd = qemu_monitor_connect(monitor, &error);
    if (mon_fd < 0) {
        /* Alive but unreachable: it cannot be managed, so it is stopped. */
        g_warning("domain %s: %s; stopping it", obj->def->name, error->message);
        qd->crash_destroy = TRUE;
        kill_guest(qd);
        return;
    }
    qd->mon = qemu_monitor_new(mon_fd, &cb, obj->def->uuid);
}

void
qemu_process_reconnect_all(void)
{
    g_autoptr(GDir) dir = g_dir_open(ctx->run_dir, 0, NULL);
    g_autoptr(GPtrArray) stale_labels =
        g_ptr_array_new_with_free_func((GDestroyNotify)qemu_security_label_free);
    const char *entry;

    while (dir && (entry = g_dir_read_name(dir))) {
        g_autofree char *path = NULL;
        if (!g_str_has_suffix(entry, ".xml"))
            continue;
        path = g_build_filename(ctx->run_dir, entry, NULL);
        reconnect_one(path, stale_labels);
    }
    for (guint i = 0; i < stale_labels->len; i++)
        qemu_security_label_release(ctx->security, stale_labels->pdata[i]);
    sv_domain_driver_autostart(ctx->domains, ctx->run_dir);
}
