/* qemu_start.c: starting a QEMU guest, from the create call to RUNNING (or nothing left).
 *
 * The steps, each on the loop, each callback finding the guest again by its run:
 *  1. checks that need nothing but the definition; the guest becomes active
 *     (PAUSED/STARTING_UP) with its private data and run;
 *  1b. its volume disks resolved through the storage daemon (qemu_volume.h), when it has
 *     any: their backing chains, node indexes and aliases follow, as with the others;
 *  1c. its interfaces of type network given ports by the network daemon
 *     (domain/domain_netport.h): the bridges their taps join;
 *  2. the QEMU probe, when its facts are not at hand (machine types, CPU and NIC models
 *     the command line is checked against);
 *  3. the guest's directory, labels, monitor socket and command line; QEMU is forked
 *     but held before exec;
 *  4. the pid file and the status file (pid, start time, "starting") are written
 *     durably; only then is QEMU let go, so no QEMU of ours ever runs that a restarted
 *     daemon cannot find; a start whose record cannot be written fails and QEMU never
 *     runs;
 *  5. QMP handshake, query-chardev (pty paths, channel states), the balloon's statistics
 *     period, cont unless START_PAUSED: RUNNING.
 * A failure at any step goes through qemu_start_failed(): QEMU is killed, and only once
 * it is gone is the guest made inactive and the call failed, so no second start of the
 * same domain can overlap a QEMU still dying. */
#include "qemu_domain.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qemu_cgroup.h"
#include "qemu_cpu_host.h"
#include "qemu_alias.h"
#include "qemu_command.h"
#include "qemu_command_platform.h"
#include "qemu_firmware.h"
#include "qemu_command_disk.h"
#include "qemu_interface.h"
#include "qemu_command_chr.h"
#include "qemu_display.h"
#include "qemu_firmware_desc.h"
#include "qemu_hostdev.h"
#include "qemu_migration.h"
#include "qemu_domcaps.h"
#include "qemu_disk_chain.h"
#include "qemu_command_cpu.h"
#include "qemu_secret.h"
#include "qemu_status.h"
#include "qemu_virtiofs.h"
#include "qemu_volume.h"
#include "domain/domain_netport.h"
#include "programs/backend.h"
#include "domain/domain_helper.h"
#include "sv-config.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/fileio.h"

/* What a start error quotes of QEMU's own output: its last lines, at most this much. */
#define START_ERROR_LINES 5
#define START_ERROR_BYTES 1024

static void start_spawn(SvDomainObj *obj);

/* ---------------------------------------------------------------- the end of a start */

/* The last lines QEMU itself printed in this start (after our command line), for the
 * error: what it said when it gave up. (transfer full) */
static char *
qemu_output_tail(SvDomainObj *obj)
{
    QemuDomain *qd = qemu_domain_of(obj);
    g_autofree char *path = sv_guest_log_path(qemu_ctx_of(obj)->log_dir, obj->def->name);
    g_autofree char *buf = NULL, *joined = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GPtrArray) last = g_ptr_array_new();
    g_auto(SvFd) fd = -1;
    off_t end, from;
    ssize_t n;

    if (qd->log_offset < 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
        (end = lseek(fd, 0, SEEK_END)) <= qd->log_offset)
        return g_strdup("");
    from = MAX(qd->log_offset, end - 64 * 1024);
    buf = g_malloc0(end - from + 1);
    n = pread(fd, buf, end - from, from);
    if (n <= 0)
        return g_strdup("");
    lines = g_strsplit(buf, "\n", -1);
    for (gint i = (gint)g_strv_length(lines) - 1; i >= 0 && last->len < START_ERROR_LINES; i--) {
        if (*g_strstrip(lines[i]))
            g_ptr_array_insert(last, 0, lines[i]);
    }
    g_ptr_array_add(last, NULL);
    joined = g_strjoinv("\n", (char **)last->pdata);
    n = (ssize_t)strlen(joined);
    return g_strdup(n > START_ERROR_BYTES ? joined + n - START_ERROR_BYTES : joined);
}

/* The error a start ends with: found before QEMU was forked (the definition, the probe,
 * the guest's directory), the cause as it is; after, QEMU failed to start, with the last
 * lines it printed. */
GError *
qemu_start_error(SvDomainObj *obj, GError *error)
{
    QemuDomain *qd = qemu_domain_of(obj);
    g_autofree char *tail = NULL;
    const SvErrorExtra *x;
    const char *why;
    GError *full = NULL;

    if (!error)
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "the start was abandoned");
    if (!qd->proc) {
        sv_guest_log_printf(qd->log_fd, "start failed: %s", error->message);
        qemu_migration_start_error(obj, error);
        return error;
    }
    tail = qemu_output_tail(obj); /* before our own line below */
    sv_guest_log_printf(qd->log_fd, "start failed: %s", error->message);
    /* The cause's own detail, without its template's prefix. */
    x = sv_error_get_extra(error);
    why = x && x->str2 ? x->str2 : error->message;
    sv_error_set(&full, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "QEMU failed to start: %s%s%s",
                 why, *tail ? "\n" : "", tail);
    g_error_free(error);
    qemu_migration_start_error(obj, full);
    return full;
}

/* QEMU is gone (or never ran): nothing of the guest may remain, and the waiting call
 * fails. */
static void
start_fail_now(SvDomainObj *obj)
{
    sv_domain_run_teardown(obj, &(SvRunEnd){.reason = SV_DOMAIN_SHUTOFF_FAILED, .detail = -1});
}

static void
start_kill_done(SvProcess *proc, const GError *error, gpointer run)
{
    SvDomainObj *obj;

    (void)proc;
    if (!error)
        return; /* its exit (qemu_process_on_exit) finished the start */
    /* Not even SIGKILL ended it (D state): give the domain back all the same. */
    g_warning("%s", error->message);
    if ((obj = qemu_domain_find(run)))
        start_fail_now(obj);
}

void
qemu_start_failed(SvDomainObj *obj, GError *err)
{
    QemuDomain *qd = qemu_domain_of(obj);

    sv_domain_run_start_failed(obj, err); /* the first cause is the one to tell */
    if (qd->proc && sv_process_is_alive(qd->proc)) {
        /* Once it is gone, its exit comes back here. */
        if (!sv_domain_run_stopping(obj, SV_STOP_START_FAILED)) {
            /* The status file says "starting" still: nothing to write. */
            sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_START_FAILED);
            sv_process_kill(qd->proc, FALSE, 0, qemu_ctx_of(obj)->timeouts.kill_timeout_ms,
                            start_kill_done, sv_domain_obj_run_key(obj));
        }
        return;
    }
    start_fail_now(obj);
}

/* ---------------------------------------------------------------- QMP */

static void
cont_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);

    (void)mon;
    (void)ret;
    if (!obj || !sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error)
        return;
    if (error)
        qemu_start_failed(obj, g_error_copy(error));
    else
        sv_domain_run_start_finished(obj);
}

/* Learn the pty each serial port got: "pty:/dev/pts/N". */
static void
learn_ptys(SvDomainObj *obj, JsonNode *ret)
{
    QemuDomain *qd = qemu_domain_of(obj);
    GPtrArray *serials = obj->def->serials->len ? obj->def->serials : obj->def->consoles;
    JsonArray *a;

    if (!ret || !JSON_NODE_HOLDS_ARRAY(ret))
        return;
    a = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *c = qemu_json_array_object(a, i);
        const char *label = qemu_json_string(c, "label");
        const char *file = qemu_json_string(c, "filename");
        guint n;

        qemu_chr_learn_chardev(obj->def, c);
        if (!label || !file || !g_str_has_prefix(file, "pty:") ||
            !g_str_has_prefix(label, "charserial"))
            continue;
        n = (guint)g_ascii_strtoull(label + 10, NULL, 10);
        if (n >= 16)
            continue;
        if (qd->ptys->len <= n)
            g_ptr_array_set_size(qd->ptys, n + 1);
        g_free(qd->ptys->pdata[n]);
        qd->ptys->pdata[n] = g_strdup(file + 4);
        /* The live XML shows it, as libvirt's does. */
        if (n < serials->len) {
            SvDomainChrDef *chr = serials->pdata[n];
            g_free(chr->source.path);
            chr->source.path = g_strdup(file + 4);
        }
    }
}

/* The last step: the guest runs, unless it was started paused. */
static void
resume_or_finish(QemuMonitor *mon, SvDomainObj *obj, gpointer run)
{
    if (qemu_domain_of(obj)->mig)
        qemu_migration_incoming_launched(obj);
    else if (sv_domain_run_of(obj)->start_flags & SV_DOMAIN_START_PAUSED)
        sv_domain_run_start_finished(obj);
    else
        qemu_monitor_command(mon, "cont", NULL, cont_done, run);
}

static void threads_then_run(QemuMonitor *mon, SvDomainObj *obj, gpointer run);

/* The reply to one disk's throttling; the last one goes on with the start. */
static void
throttle_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run, gboolean last)
{
    SvDomainObj *obj = qemu_domain_find(run);

    (void)ret;
    if (!obj || !sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error)
        return;
    if (error)
        qemu_start_failed(obj, g_error_copy(error));
    else if (last)
        threads_then_run(mon, obj, run);
}

static void
throttle_one_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    throttle_done(mon, ret, error, run, FALSE);
}

static void
throttle_last_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    throttle_done(mon, ret, error, run, TRUE);
}

/* Disk <iotune> is applied as libvirt 9.0 does with -blockdev: block_set_io_throttle per
 * disk before the guest runs. The commands go out together; QEMU answers them in order. */
static void
throttle_disks(QemuMonitor *mon, SvDomainObj *obj, gpointer run)
{
    g_autoptr(GPtrArray) cmds = g_ptr_array_new();
    GPtrArray *disks = obj->def->disks;

    for (guint i = 0; i < disks->len; i++) {
        JsonObject *args = qemu_disk_throttle_args(disks->pdata[i]);
        if (args)
            g_ptr_array_add(cmds, args);
    }
    if (!cmds->len) {
        threads_then_run(mon, obj, run);
        return;
    }
    for (guint i = 0; i < cmds->len; i++)
        qemu_monitor_command(mon, "block_set_io_throttle", cmds->pdata[i],
                             i + 1 == cmds->len ? throttle_last_done : throttle_one_done, run);
}

/* The balloon's statistics period is set through QOM once QEMU runs, as libvirt does. */
static void
balloon_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);

    (void)ret;
    if (!obj || !sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error)
        return;
    if (error)
        qemu_start_failed(obj, g_error_copy(error));
    else
        throttle_disks(mon, obj, run);
}

/* Each thread QEMU lists (query-cpus-fast: "cpu-index"; query-iothreads: "id"
 * "iothreadN"; both "thread-id") gets its affinity and cgroup (qemu_cgroup.h). */
static gboolean
pin_threads(SvDomainObj *obj, JsonNode *ret, gboolean vcpus, GError **error)
{
    JsonArray *a = ret && JSON_NODE_HOLDS_ARRAY(ret) ? json_node_get_array(ret) : NULL;

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *t = qemu_json_array_object(a, i);
        const char *id = t ? qemu_json_string(t, "id") : NULL;
        guint index;

        if (!t || !json_object_has_member(t, "thread-id"))
            continue;
        if (vcpus)
            index = (guint)json_object_get_int_member(t, "cpu-index");
        else if (id && g_str_has_prefix(id, "iothread"))
            index = (guint)g_ascii_strtoull(id + 8, NULL, 10);
        else
            continue;
        if (!qemu_threads_place(qemu_ctx_of(obj), obj->def, vcpus ? "vcpu" : "iothread", index,
                                (pid_t)json_object_get_int_member(t, "thread-id"), error))
            return FALSE;
    }
    return TRUE;
}

static void
threads_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run, gboolean vcpus)
{
    SvDomainObj *obj = qemu_domain_find(run);
    g_autoptr(GError) local = NULL;

    if (!obj || !sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error)
        return;
    if (error || !pin_threads(obj, ret, vcpus, &local)) {
        qemu_start_failed(obj, error ? g_error_copy(error) : g_steal_pointer(&local));
        return;
    }
    resume_or_finish(mon, obj, run);
}

static void
iothreads_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    threads_done(mon, ret, error, run, FALSE);
}

static void
vcpus_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);

    if (!error && obj && obj->def->iothreads && sv_domain_run_in_start(obj) &&
        !sv_domain_run_of(obj)->start_error) {
        g_autoptr(GError) local = NULL;

        if (!pin_threads(obj, ret, TRUE, &local))
            qemu_start_failed(obj, g_steal_pointer(&local));
        else
            qemu_monitor_command(mon, "query-iothreads", NULL, iothreads_done, run);
        return;
    }
    threads_done(mon, ret, error, run, TRUE);
}

/* Pinned or bandwidth-limited guests: their threads' affinity and cgroups, then the guest
 * runs. */
static void
threads_then_run(QemuMonitor *mon, SvDomainObj *obj, gpointer run)
{
    g_autoptr(GError) local = NULL;

    if (!qemu_threads_need_setup(obj->def)) {
        resume_or_finish(mon, obj, run);
        return;
    }
    if (!qemu_threads_place_emulator(qemu_ctx_of(obj), obj->def,
                                     sv_process_get_pid(qemu_domain_of(obj)->proc), &local)) {
        qemu_start_failed(obj, g_steal_pointer(&local));
        return;
    }
    qemu_monitor_command(mon, "query-cpus-fast", NULL, vcpus_done, run);
}

static void
chardev_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);
    const SvDomainMemballoonDef *balloon;

    if (!obj || !sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error)
        return;
    if (error) {
        qemu_start_failed(obj, g_error_copy(error));
        return;
    }
    learn_ptys(obj, ret);
    balloon = obj->def->memballoon;
    if (balloon && balloon->stats_period > 0 && balloon->info.alias &&
        !g_str_equal(balloon->model, "none")) {
        qemu_monitor_command(mon, "qom-set", qemu_chr_balloon_period_args(balloon),
                             balloon_done, run);
        return;
    }
    throttle_disks(mon, obj, run);
}

/* The reply to a setting sent before the guest runs (a link down, a display password, the
 * guest's actions): a refusal fails the start. The replies come in order, so the
 * query-chardev after them sees the start failed. */
static void
step_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);

    (void)mon;
    (void)ret;
    if (error && obj && sv_domain_run_in_start(obj) && !sv_domain_run_of(obj)->start_error)
        qemu_start_failed(obj, g_error_copy(error));
}

/* <link state='down'>: QEMU has no option for it; libvirt sets it over the monitor before
 * the guest runs. Replies come in order, so query-chardev's sees any failure first. */
static void
set_links_down(SvDomainObj *obj, QemuMonitor *mon, gpointer run)
{
    for (guint i = 0; i < obj->def->interfaces->len; i++) {
        const SvDomainNetDef *n = obj->def->interfaces->pdata[i];
        JsonObject *args;

        if (n->link != SV_DOMAIN_NET_LINK_DOWN || !n->info.alias)
            continue;
        args = json_object_new();
        json_object_set_string_member(args, "name", n->info.alias);
        json_object_set_boolean_member(args, "up", FALSE);
        qemu_monitor_command(mon, "set_link", args, step_done, run);
    }
}

static void
on_monitor_ready(QemuMonitor *mon, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);
    JsonObject *actions = obj ? qemu_platform_set_action_args(obj->def) : NULL;

    if (obj)
        set_links_down(obj, mon, run);
    if (obj)
        qemu_display_set_passwords(mon, obj->def, step_done, run);
    /* Replies come in order: a failed set-action fails the start before query-chardev's
     * reply goes on with it. */
    if (actions)
        qemu_monitor_command(mon, "set-action", actions, step_done, run);
    qemu_monitor_command(mon, "query-chardev", NULL, chardev_done, run);
}

static void
on_monitor_eof(QemuMonitor *mon, gpointer run)
{
    qemu_process_monitor_events.eof(mon, run);
}

static void
on_monitor_event(QemuMonitor *mon, const char *name, JsonObject *data, gpointer run)
{
    qemu_process_monitor_events.event(mon, name, data, run);
}

/* ---------------------------------------------------------------- the record, then exec */

/* QEMU held before exec, while its start goes on: none once the start is ending (its kill
 * ends the child, which never ran QEMU). */
static SvProcess *
record_held(SvDomainObj *obj)
{
    QemuDomain *qd = qemu_domain_of(obj);

    if (sv_domain_run_of(obj)->start_error || !qd->proc || !sv_process_is_alive(qd->proc))
        return NULL;
    return qd->proc;
}

static void
record_abandon(SvDomainObj *obj, const GError *error)
{
    g_autoptr(GError) local = NULL;

    if (!error || sv_domain_run_destroying(obj))
        return; /* the destroy's kill ends the child */
    sv_error_set(&local, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                 "cannot record the guest before running QEMU: %s", error->message);
    qemu_start_failed(obj, g_steal_pointer(&local));
}

/* The guest's helpers (virtiofsd) run once the status file names them, with QEMU, which
 * waits for them on their sockets. */
static void
release_helpers(SvDomainObj *obj)
{
    g_autoptr(GError) error = NULL;

    if (!sv_run_helpers_release(qemu_domain_of(obj)->run.helpers, &error))
        qemu_start_failed(obj, g_steal_pointer(&error));
}

/* Write the pid file, then the status file (same worker, in order); QEMU runs once both
 * are on disk, and the rest of the start is its monitor's (on_monitor_ready). */
static void
record_then_release(SvDomainObj *obj)
{
    static const SvRunReleaseFacts facts = {.held = record_held,
                                            .abandon = record_abandon,
                                            .release_failed = qemu_start_failed,
                                            .released = release_helpers};
    const char *pid_path = qemu_domain_of(obj)->pid_path;
    g_autofree char *pid_text =
        g_strdup_printf("%d\n", (int)sv_process_get_pid(qemu_domain_of(obj)->proc));

    sv_domain_store_write_file_async(qemu_ctx_of(obj)->domains->store, pid_path, pid_text, NULL,
                                     NULL);
    sv_domain_run_record_then_release(obj, &facts);
}

/* ---------------------------------------------------------------- spawn */

/* The directory of the automatic channel sockets, when a channel needs one: QEMU creates
 * the sockets, so it is QEMU's, as the guest's directory is. */
static gboolean
prepare_channels(SvDomainObj *obj, GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    g_autofree char *channel_dir = qemu_chr_channel_dir(ctx->lib_dir);
    g_autofree char *dir = NULL;

    if (!qemu_chr_prepare_channels(obj->def, channel_dir, obj->id, &dir, error))
        return FALSE;
    return !dir || (sv_mkdir_p(dir, 0750, error) &&
                    qemu_security_prepare_dir(ctx->security, dir, error));
}

/* The guest's directory, log, labels and listening monitor socket. */
static int
prepare(SvDomainObj *obj, const char *sock_path, QemuChrFds **ret_chr_fds, GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    QemuDomain *qd = qemu_domain_of(obj);
    int listen_fd;

    qd->log_fd = qemu_domain_open_log(obj, error);
    if (qd->log_fd < 0 || !sv_mkdir_p(qd->dir, 0750, error) || !prepare_channels(obj, error) ||
        !qemu_security_prepare_dir(ctx->security, qd->dir, error) ||
        !sv_mkdir_p(ctx->run_dir, 0755, error) ||
        !qemu_security_label_new(ctx->security, obj->def, &qd->sec, error) ||
        !qemu_security_label_apply(ctx->security, qd->sec, obj->def, error) ||
        !qemu_security_set_socket_label(ctx->security, qd->sec, error))
        return -1;
    listen_fd = qemu_listen_unix(sock_path, "monitor socket", error);
    /* The character devices' files and sockets, opened as libvirt opens them. */
    if (listen_fd >= 0) {
        *ret_chr_fds = qemu_chr_fds_open(obj->def, error);
        if (!*ret_chr_fds) {
            close(listen_fd);
            listen_fd = -1;
        }
    }
    qemu_security_clear_socket_label(ctx->security, qd->sec);
    return listen_fd;
}

/* The log's start header and command line; QEMU's own output follows. */
static void
log_command_line(QemuDomain *qd, GStrv argv)
{
    g_autofree char *cmdline = g_strjoinv(" ", argv);

    sv_guest_log_printf(qd->log_fd, "starting up splitvirt version: %s, hostname: %s",
                        SV_VERSION, g_get_host_name());
    if (write(qd->log_fd, cmdline, strlen(cmdline)) < 0 || write(qd->log_fd, "\n", 1) < 0)
        g_debug("cannot write the guest log");
    qd->log_offset = lseek(qd->log_fd, 0, SEEK_END);
}

/* The security driver's environment and the platform's (TZ). (transfer full) */
static GStrv
start_env(QemuSecurity *security, const char *home, const SvDomainDef *def)
{
    g_auto(GStrv) base = qemu_security_build_env(security, home);
    GPtrArray *env = g_ptr_array_new();

    for (guint i = 0; base[i]; i++)
        g_ptr_array_add(env, g_strdup(base[i]));
    qemu_platform_env(def, env);
    g_ptr_array_add(env, NULL);
    return (GStrv)g_ptr_array_free(env, FALSE);
}

/* Fork QEMU, held before exec, and connect to its monitor socket. */
static gboolean
fork_held(SvDomainObj *obj, GStrv argv, int listen_fd, const QemuNetHost *net,
          const QemuChrFds *chr_fds, const char *sock_path, GError **error)
{
    g_autoptr(GArray) keep = g_array_new(FALSE, FALSE, sizeof(int));
    const int *chr_numbers;
    guint n_chr;
    QemuSecurity *security = qemu_ctx_of(obj)->security;
    QemuDomain *qd = qemu_domain_of(obj);
    g_auto(GStrv) envp = start_env(security, qd->dir, obj->def);
    SvSpawnOptions sopts = {0};
    QemuMonitorCallbacks cb = {on_monitor_ready, on_monitor_event, on_monitor_eof};
    int mon_fd;

    sopts.argv = (const char *const *)argv;
    sopts.envp = (const char *const *)envp;
    sopts.stdin_fd = -1;
    sopts.stdout_fd = qd->log_fd;
    sopts.stderr_fd = qd->log_fd;
    g_array_append_val(keep, listen_fd);
    qemu_net_host_keep_fds(net, keep);
    chr_numbers = qemu_chr_fds_numbers(chr_fds, &n_chr);
    g_array_append_vals(keep, chr_numbers, n_chr);
    sopts.keep_fds = (const int *)(gpointer)keep->data;
    sopts.n_keep_fds = keep->len;
    sopts.new_session = TRUE;
    sopts.hold_exec = TRUE;
    /* QEMU drops to its user in the child; its label comes with the exec. */
    sopts.child_setup = qemu_security_child_setup;
    sopts.child_setup_data = security;
    if (!qemu_security_set_exec_label(security, qd->sec, error))
        return FALSE;
    qd->proc = sv_process_spawn(&sopts, error);
    qemu_security_clear_exec_label(security, qd->sec);
    if (!qd->proc)
        return FALSE;
    sv_process_set_exit_func(qd->proc, qemu_process_on_exit, sv_domain_obj_run_key(obj));
    /* Connected while the child holds the listening socket, so the connection waits in
     * its backlog whatever QEMU does next. */
    mon_fd = qemu_monitor_connect(sock_path, error);
    if (mon_fd < 0)
        return FALSE;
    qd->mon = qemu_monitor_new(mon_fd, &cb, sv_domain_obj_run_key(obj));
    return TRUE;
}

/* The machine type's canonical name ("pc-q35-7.2" for "q35"), which descriptors list. */
static const char *
canonical_machine(QemuCaps *caps, const char *machine)
{
    const GPtrArray *machines = qemu_caps_get_machines(caps);

    for (guint i = 0; machines && i < machines->len; i++) {
        const QemuMachine *m = machines->pdata[i];

        if (g_str_equal(m->name, machine) && m->canonical)
            return m->canonical;
    }
    return machine;
}

/* The live definition's clock, its firmware (from QEMU's descriptors for <os firmware>) and
 * its NVRAM file (copied from the template on the first start), as libvirt prepares them. */
static gboolean
prepare_platform(SvDomainObj *obj, GError **error)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    const char *machine = obj->def->os.machine ? obj->def->os.machine : "pc";

    qemu_platform_prepare_live(obj->def, now);
    return qemu_firmware_fill(obj->def, canonical_machine(ctx->caps, machine),
                              qemu_firmware_desc_dirs,
                              ctx->nvram_dir, error) &&
           qemu_firmware_prepare_nvram(obj->def, error);
}

/* ---------------------------------------------------------------- LUKS disks' keys */

/* Whom the start's internal calls are for: the client's identity, or the daemon's own for
 * its own starts, elevated as libvirt elevates it to fetch secrets. */
static void
start_identity(SvDomainObj *obj, SvCall *call)
{
    QemuDomain *qd = qemu_domain_of(obj);

    if (call)
        sv_backend_identity_of_client(&qd->start_id, sv_call_get_client(call));
    else
        sv_backend_identity_of_daemon(&qd->start_id);
    g_strlcpy(qd->start_id.system_token, sv_daemon_system_token(qemu_ctx_of(obj)->daemon),
              sizeof(qd->start_id.system_token));
}

static gboolean
needs_keys(const SvDomainDef *def)
{
    for (guint i = 0; i < def->disks->len; i++) {
        if (qemu_secret_disk_needs_key(def->disks->pdata[i]))
            return TRUE;
    }
    return FALSE;
}

static void
keys_fetched(GPtrArray *values, const GError *error, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);

    if (!obj || !sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error) {
        if (values)
            g_ptr_array_unref(values);
        return;
    }
    if (error) {
        qemu_start_failed(obj, g_error_copy(error));
        return;
    }
    qemu_domain_of(obj)->disk_keys = values;
    start_spawn(obj);
}

/* The master key in the guest's directory (QEMU's to read; every guest gets one, as in
 * libvirt, so that a disk plugged later can have its key too) and each LUKS disk's secret
 * object, for the command line; the passphrases are dropped. FALSE with error set. */
static gboolean
prepare_keys(SvDomainObj *obj, QemuCommandOptions *copts, char **ret_key_path,
             GPtrArray **ret_secrets, GError **error)
{
    QemuDomain *qd = qemu_domain_of(obj);
    g_autoptr(GPtrArray) keys = g_steal_pointer(&qd->disk_keys);
    g_autoptr(GPtrArray) secrets = NULL;
    g_autofree char *path = g_build_filename(qd->dir, "master-key.aes", NULL);

    if (!qemu_secret_master_key_make(qd->dir, qd->master_key, error) ||
        !qemu_security_give_file(qemu_ctx_of(obj)->security, path, TRUE, error))
        return FALSE;
    qd->has_master_key = TRUE;
    copts->master_key_path = path;
    *ret_key_path = g_steal_pointer(&path);
    if (!keys)
        return TRUE;
    secrets = g_ptr_array_new_full(keys->len, (GDestroyNotify)qemu_disk_secret_free);
    for (guint i = 0; i < keys->len; i++) {
        QemuDiskSecret *s = NULL;
        if (keys->pdata[i] && !(s = qemu_secret_encrypt(qd->master_key, keys->pdata[i], error)))
            return FALSE;
        g_ptr_array_add(secrets, s);
    }
    copts->disk_secrets = secrets;
    *ret_secrets = g_steal_pointer(&secrets);
    return TRUE;
}

static void
start_spawn(SvDomainObj *obj)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    QemuDomain *qd = qemu_domain_of(obj);
    g_autofree char *dirname = qemu_domain_dir_name(obj->id, obj->def->name);
    g_autofree char *sock_path = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) argv = NULL;
    g_auto(SvFd) listen_fd = -1;
    g_autoptr(QemuNetHost) net = NULL;
    g_autoptr(QemuChrFds) chr_fds = NULL;
    g_autofree char *key_path = NULL;
    g_autoptr(GPtrArray) secrets = NULL;
    QemuCommandOptions copts = {0};

    if (!qd->disk_keys && needs_keys(obj->def)) {
        g_autofree char *sock_dir = sv_daemon_path(ctx->daemon, "/run/libvirt");

        qemu_secret_fetch_disks(obj->def->disks, sock_dir, &qd->start_id, keys_fetched,
                                sv_domain_obj_run_key(obj));
        return;
    }
    qd->dir = g_build_filename(ctx->lib_dir, dirname, NULL);
    qd->pid_path = g_strdup_printf("%s/%s.pid", ctx->run_dir, obj->def->name);
    sock_path = g_build_filename(qd->dir, "monitor.sock", NULL);
    copts.emulator = qemu_caps_get_emulator(ctx->caps);
    copts.caps = ctx->caps;
    qemu_cpu_update_host_model(obj->def, ctx->caps);
    listen_fd = prepare_platform(obj, &error) ? prepare(obj, sock_path, &chr_fds, &error) : -1;
    /* virtiofsd, held, before QEMU (qemu_virtiofs.h); the taps QEMU inherits, their names
     * in the live definition. */
    if (listen_fd >= 0 && prepare_keys(obj, &copts, &key_path, &secrets, &error) &&
        qemu_virtiofs_start(obj, qd->dir, &error) &&
        qemu_display_prepare(obj->def, ctx->display_ports, ctx->websocket_ports, qd->dir,
                             &error))
        net = qemu_interface_prepare(obj->def, &error);
    if (net) {
        copts.monitor_fd = listen_fd;
        copts.net_fds = net->fds;
        copts.chr_fds = chr_fds;
        copts.incoming = qd->mig ? "defer" : NULL;
        argv = qemu_command_build(obj->def, &copts, &error);
    }
    if (argv) {
        log_command_line(qd, argv);
        if (fork_held(obj, argv, listen_fd, net, chr_fds, sock_path, &error) &&
            qemu_cgroup_setup(ctx, obj->def, sv_process_get_pid(qd->proc), &error)) {
            record_then_release(obj);
            return;
        }
    }
    qemu_start_failed(obj, g_steal_pointer(&error));
}

static void
caps_ready(QemuCaps *caps, const GError *error, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);

    (void)caps;
    if (!obj || !sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error)
        return;
    if (error)
        qemu_start_failed(obj, g_error_copy(error));
    else
        start_spawn(obj);
}

static void
spawn_when_ready(SvDomainObj *obj)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);

    if (qemu_caps_is_ready(ctx->caps))
        start_spawn(obj);
    else
        qemu_caps_probe_async(ctx->caps, caps_ready, sv_domain_obj_run_key(obj));
}

static void
ports_ready(SvNetportWork *done, const GError *error, gpointer run)
{
    g_autoptr(SvNetportWork) work = done;
    SvDomainObj *obj = qemu_domain_find(run);

    if (!obj || !sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error) {
        if (!error)
            sv_netport_work_undo(work); /* the start ended meanwhile: nothing owns them */
        return;
    }
    if (error) {
        qemu_start_failed(obj, g_error_copy(error));
        return;
    }
    sv_netport_apply(work, obj->def);
    spawn_when_ready(obj);
}

/* Step 1c: the interfaces of type network get their ports from the network daemon, as
 * libvirt's qemuProcessPrepareDomain allocates them, before anything of QEMU's is made. */
static void
ports_then_spawn(SvDomainObj *obj)
{
    QemuDomain *qd = qemu_domain_of(obj);

    if (!sv_netport_pending(obj->def)) {
        spawn_when_ready(obj);
        return;
    }
    for (guint i = 0; i < obj->def->interfaces->len; i++) {
        SvDomainNetDef *n = obj->def->interfaces->pdata[i];

        if (!n->mac)
            n->mac = sv_domain_net_generate_mac();
    }
    sv_netport_allocate(obj->def, -1, qemu_ctx_of(obj)->family_run_dir, &qd->start_id,
                        ports_ready, sv_domain_obj_run_key(obj));
}

/* What the live definition's disks get before the aliases: images are numbered with their
 * backing chains. */
static gboolean
prepare_live(SvDomainDef *live, GError **error)
{
    if (!qemu_disk_probe_chains(live, error))
        return FALSE;
    qemu_domain_assign_aliases(live);
    qemu_cpu_prepare_live(live);
    return TRUE;
}

static void
volumes_ready(QemuVolumeWork *done, const GError *error, gpointer run)
{
    g_autoptr(QemuVolumeWork) work = done;
    SvDomainObj *obj = qemu_domain_find(run);
    g_autoptr(GError) err = NULL;

    if (!obj || !sv_domain_run_in_start(obj) || sv_domain_run_of(obj)->start_error)
        return;
    if (error) {
        qemu_start_failed(obj, g_error_copy(error));
        return;
    }
    qemu_volume_apply(work, obj->def);
    if (!prepare_live(obj->def, &err)) {
        qemu_start_failed(obj, g_steal_pointer(&err));
        return;
    }
    ports_then_spawn(obj);
}

/* Step 1b, for the client of call (NULL: the daemon's own start). The work holds nothing
 * of obj but its run, and ends on its own when the run is gone. */
static void
resolve_volumes(SvDomainObj *obj, const SvBackendIdentity *id)
{
    qemu_volume_resolve(obj->def, qemu_ctx_of(obj)->family_run_dir, id, TRUE, volumes_ready,
                        sv_domain_obj_run_key(obj));
}

static void
identity_of(SvCall *call, SvBackendIdentity *out)
{
    if (call)
        sv_backend_identity_of_client(out, sv_call_get_client(call));
    else
        sv_backend_identity_of_daemon(out);
}

/* ---------------------------------------------------------------- begin */

static gboolean start_begin(SvDomainObj *obj, SvCall *call, guint flags,
                            struct QemuMigration *incoming, GError **error);

gboolean
qemu_start_guest(SvDomainObj *obj, SvCall *call, guint flags, GError **error)
{
    return start_begin(obj, call, flags, NULL, error);
}

gboolean
qemu_start_incoming(SvDomainObj *obj, struct QemuMigration *mig, GError **error)
{
    return start_begin(obj, NULL, SV_DOMAIN_START_PAUSED, mig, error);
}

static gboolean
start_begin(SvDomainObj *obj, SvCall *call, guint flags, struct QemuMigration *incoming,
            GError **error)
{
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    const char *default_emulator = qemu_caps_get_emulator(ctx->caps);
    SvDomainDef *live;
    SvBackendIdentity id;
    gboolean volumes;

    if (sv_domain_obj_is_active(obj)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is already running");
        return FALSE;
    }
    /* The display checks too, before the guest is active: no events, as libvirt's. */
    if (!qemu_command_check_def(obj->def, error) || !qemu_display_check_start(obj->def, error) ||
        !qemu_hostdev_check_start(obj->def, qemu_domcaps_host_vfio(), error) ||
        !qemu_command_check_emulator(qemu_command_emulator(obj->def, default_emulator),
                                     default_emulator,
                                     (const char *const *)ctx->allowed_emulators, TRUE,
                                     error))
        return FALSE;
    live = sv_domain_def_copy(obj->def);
    /* A guest with volume disks prepares them once they are resolved (step 1b). */
    volumes = qemu_volume_pending(live);
    identity_of(call, &id);
    if (!volumes && !prepare_live(live, error)) {
        sv_domain_def_free(live);
        return FALSE;
    }
    sv_domain_obj_run_on_live(obj, live);
    sv_domain_list_assign_id(ctx->domains->list, obj);
    qemu_domain_begin(obj);
    qemu_domain_of(obj)->mig = incoming;
    if (call)
        sv_domain_driver_set_cause_call(obj, call);
    else if (incoming)
        sv_domain_obj_set_cause(obj, "an incoming migration");
    else
        sv_domain_obj_set_cause(obj, "the daemon (autostart or on_crash restart)");
    start_identity(obj, call);
    sv_domain_driver_hold(ctx->domains, TRUE);
    /* From here on a failure goes through qemu_start_failed(), which undoes all this.
     * Written below with PAUSED/STARTING_UP. */
    sv_domain_run_change(obj, SV_RUN_STARTING, SV_STOP_NONE);
    sv_domain_run_take_start(obj, call, flags);
    sv_domain_run_arm_start_timer(obj, ctx->timeouts.start_timeout_ms,
                                  "QEMU's monitor did not answer within", qemu_start_failed);
    sv_domain_driver_set_state(ctx->domains, obj, SV_DOMAIN_PAUSED,
                               SV_DOMAIN_PAUSED_STARTING_UP);
    if (volumes)
        resolve_volumes(obj, &id);
    else
        ports_then_spawn(obj);
    return TRUE;
}
