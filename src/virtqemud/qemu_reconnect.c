/* qemu_reconnect.c: virtqemud's facts for the one reconnect loop of a restarted daemon
 * (domain/domain_reconnect.h, docs/lifecycle.md "Restarts"): its guest is one QEMU, found
 * by pid and start time running the status's emulator; one that is gone leaves its files
 * and labels, which go (SHUTOFF/CRASHED); one adopted has its QMP monitor reconnected and
 * its state brought up to date; a start that never finished is killed at once, and a kill
 * under way goes on in the same mode with the same deadline. What no live guest owns goes
 * after the walk: pid files, empty guest directories. Once this returns, a domain whose
 * QEMU lives is active, so no second QEMU is ever started for it. */
#include "qemu_process.h"

#include <string.h>
#include <unistd.h>

#include "domain/domain_reconnect.h"
#include "qemu_agent.h"
#include "qemu_command_chr.h"
#include "qemu_display.h"
#include "qemu_domain.h"
#include "domain/domain_netport.h"
#include "qemu_interface.h"
#include "qemu_cgroup.h"
#include "qemu_secret.h"
#include "qemu_status.h"
#include "qemu_virtiofs.h"
#include "domain/domain_helper.h"
#include "qemu_migrate_calls.h"
#include "util/error.h"
#include "util/fileio.h"

/* ---------------------------------------------------------------- what was under way */

/* Carry through what the guest asked for while no daemon watched (cause: a crash to act
 * on, or none); a kill carried on already keeps its own mode. */
static void
carry_through(SvDomainObj *obj, SvStopCause cause)
{
    QemuDomain *qd = qemu_domain_of(obj);

    if (cause == SV_STOP_NONE && sv_domain_run_crashing(obj))
        cause = obj->stop_cause;
    if (cause == SV_STOP_NONE && obj->state == SV_DOMAIN_SHUTDOWN)
        cause = SV_STOP_SHUTDOWN;
    if (sv_process_get_kill(qd->proc, NULL, NULL)) {
        if (cause != SV_STOP_NONE)
            sv_domain_run_change(obj, SV_RUN_STOPPING, cause);
    } else if (cause != SV_STOP_NONE) {
        qemu_domain_kill(obj, cause);
    } else if (qd->run.autodestroy_client) {
        g_message("domain %s: its AUTODESTROY client is gone, destroying", obj->def->name);
        qemu_domain_kill(obj, SV_STOP_DESTROY);
    }
    qemu_status_save(obj);
}

static void
reconcile(SvDomainObj *obj, const char *status)
{
    SvDomainDriver *drv = sv_domain_driver_of_obj(obj);
    SvStopCause cause = SV_STOP_NONE;
    gboolean migrating;

    /* A migration its predecessor left is ended first (qemu_migrate_recover.c). */
    cause = qemu_migrate_recover(obj, status, &migrating);
    if (migrating) {
        carry_through(obj, cause);
        return;
    }

    /* What happened while no daemon watched is not replayed as events; from
     * here on, every change is. */
    if (g_str_equal(status, "running")) {
        if (obj->state != SV_DOMAIN_RUNNING && obj->state != SV_DOMAIN_SHUTDOWN)
            sv_domain_driver_set_state(drv, obj, SV_DOMAIN_RUNNING,
                                       SV_DOMAIN_RUNNING_UNPAUSED);
    } else if (g_str_equal(status, "shutdown")) {
        if (obj->state != SV_DOMAIN_SHUTDOWN)
            sv_domain_driver_set_state(drv, obj, SV_DOMAIN_SHUTDOWN,
                                       SV_DOMAIN_SHUTDOWN_UNKNOWN);
    } else if (g_str_equal(status, "guest-panicked")) {
        if (obj->state != SV_DOMAIN_CRASHED)
            sv_domain_driver_set_state(drv, obj, SV_DOMAIN_CRASHED,
                                       SV_DOMAIN_CRASHED_PANICKED);
        if (!sv_domain_run_crashing(obj) && obj->def->on_crash != SV_DOMAIN_LIFECYCLE_PRESERVE)
            /* A dump the crash asked for is not written after a daemon restart. */
            cause = obj->def->on_crash == SV_DOMAIN_LIFECYCLE_RESTART ||
                            obj->def->on_crash == SV_DOMAIN_LIFECYCLE_COREDUMP_RESTART
                        ? SV_STOP_CRASH_RESTART
                        : SV_STOP_CRASH;
    } else if (obj->state == SV_DOMAIN_PAUSED && obj->reason == SV_DOMAIN_PAUSED_DUMP) {
        /* A dump the daemon paused the guest for ended with the daemon (its client's call
         * with it): as libvirt recovers a dump job, QEMU's migration into the file is
         * cancelled and the guest runs again (RUNNING/SAVE_CANCELED). */
        QemuMonitor *mon = qemu_domain_of(obj)->mon;
        sv_domain_driver_set_state(drv, obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_SAVE_CANCELED);
        qemu_monitor_command(mon, "migrate_cancel", NULL, NULL, NULL);
        qemu_monitor_command(mon, "cont", NULL, NULL, NULL);
    } else if (obj->state == SV_DOMAIN_RUNNING) {
        /* As libvirt maps QEMU's run states to pause reasons. */
        int reason = SV_DOMAIN_PAUSED_USER;
        if (g_str_equal(status, "io-error"))
            reason = SV_DOMAIN_PAUSED_IOERROR;
        else if (g_str_equal(status, "watchdog"))
            reason = SV_DOMAIN_PAUSED_WATCHDOG;
        sv_domain_driver_set_state(drv, obj, SV_DOMAIN_PAUSED, reason);
    }
    carry_through(obj, cause);
}

static void
query_status_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);
    const char *status = NULL;

    (void)mon;
    if (!obj)
        return;
    if (error) {
        g_warning("domain %s: query-status failed after reconnect: %s", obj->def->name,
                  error->message);
        return;
    }
    if (ret && JSON_NODE_HOLDS_OBJECT(ret))
        status = qemu_json_string(json_node_get_object(ret), "status");
    g_debug("domain %s: reconnected, QEMU says '%s'", obj->def->name, status);
    reconcile(obj, status ? status : "running");
}

/* The channels' state now (the guest may have opened or closed a port while no daemon
 * listened), then the agent when its port is open. */
static void
query_chardev_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);
    JsonArray *a;

    (void)mon;
    if (!obj || error || !ret || !JSON_NODE_HOLDS_ARRAY(ret))
        return;
    a = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(a); i++)
        qemu_chr_learn_chardev(obj->def, qemu_json_array_object(a, i));
    qemu_agent_reconnect(obj);
}

static void
on_reconnect_ready(QemuMonitor *mon, gpointer run)
{
    qemu_monitor_command(mon, "query-status", NULL, query_status_done, run);
    qemu_monitor_command(mon, "query-chardev", NULL, query_chardev_done, run);
}

static void
on_reconnect_event(QemuMonitor *mon, const char *name, JsonObject *data, gpointer run)
{
    qemu_process_monitor_events.event(mon, name, data, run);
}

static void
on_reconnect_eof(QemuMonitor *mon, gpointer run)
{
    qemu_process_monitor_events.eof(mon, run);
}

/* A GRACEFUL destroy asked of the previous daemon ended as it would have: the client
 * is gone, so the result is only logged, and a guest that outlived SIGTERM runs on. */
static void
graceful_done(SvProcess *proc, const GError *error, gpointer run)
{
    SvDomainObj *obj;

    (void)proc;
    if (!error || !(obj = qemu_domain_find(run)))
        return;
    g_warning("domain %s: the graceful destroy asked before the daemon restarted failed: %s; "
              "the guest keeps running",
              obj->def->name, error->message);
    sv_domain_run_withdraw_destroy(sv_domain_driver_of_obj(obj), obj);
}

static void
forced_done(SvProcess *proc, const GError *error, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);

    (void)proc;
    if (error)
        g_warning("domain %s: %s", obj ? obj->def->name : "?", error->message);
}

/* Go on with the kill the status records: same mode, same deadline (a status without
 * one, from an older daemon, gets a plain one from now). */
static void
carry_on_kill(SvDomainObj *obj, const SvStatus *st)
{
    const QemuTimeouts *t = &qemu_ctx_of(obj)->timeouts;
    QemuDomain *qd = qemu_domain_of(obj);
    gboolean graceful = sv_domain_run_destroying(obj) && st->c.kill_mode == SV_STATUS_KILL_GRACEFUL;
    gint64 deadline = st->c.kill_mode != SV_STATUS_KILL_NONE
                          ? st->c.kill_deadline
                          : g_get_monotonic_time() + (gint64)t->term_timeout_ms * 1000;

    g_message("domain %s: carrying on its %s kill (SIGTERM wait ends in %" G_GINT64_FORMAT
              " ms)",
              obj->def->name, graceful ? "graceful" : "forced",
              MAX(0, deadline - g_get_monotonic_time()) / 1000);
    sv_process_kill_until(qd->proc, graceful, deadline, t->kill_timeout_ms,
                          graceful ? graceful_done : forced_done, sv_domain_obj_run_key(obj));
    qemu_status_save(obj);
}

/* A start that never finished: killed at once (the loop has said why). */
static void
stop_unfinished(SvDomainObj *obj, SvStatus *st, gpointer data)
{
    QemuDomain *qd = qemu_domain_of(obj);

    (void)st;
    (void)data;
    qemu_migrate_recovered(obj, qemu_status_of(st)->mig_dir, qemu_status_of(st)->mig_phase,
                           qemu_status_of(st)->mig_flags);
    qemu_display_reserve(obj->def, qemu_ctx_of(obj)->display_ports,
                         qemu_ctx_of(obj)->websocket_ports); /* until it is gone */
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_CRASH); /* written below */
    sv_process_kill_until(qd->proc, FALSE, g_get_monotonic_time(),
                          qemu_ctx_of(obj)->timeouts.kill_timeout_ms, forced_done,
                          sv_domain_obj_run_key(obj));
    qemu_status_save(obj);
}

/* The guest's ports checked with the network daemon (made again when it lost them), then
 * its taps put back on their bridges, as libvirt's reconnect does; failures are logged. */
static void
ports_checked(SvNetportWork *work, const GError *error, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);

    sv_netport_work_free(work);
    if (obj)
        sv_netport_reconnected(obj->def, error);
}

/* What the status says was under way goes on; the guest's monitor is reconnected. */
static void
carry_on(SvDomainObj *obj, SvStatus *st, gpointer data)
{
    QemuDomain *qd = qemu_domain_of(obj);
    QemuMonitorCallbacks cb = {on_reconnect_ready, on_reconnect_event, on_reconnect_eof};
    g_autoptr(GError) error = NULL;
    gboolean graceful;
    int mon_fd;

    (void)data;
    qemu_migrate_recovered(obj, qemu_status_of(st)->mig_dir, qemu_status_of(st)->mig_phase,
                           qemu_status_of(st)->mig_flags);
    qemu_display_reserve(obj->def, qemu_ctx_of(obj)->display_ports,
                         qemu_ctx_of(obj)->websocket_ports);
    sv_netport_reconnect(obj->def, qemu_ctx_of(obj)->family_run_dir, NULL, ports_checked,
                         sv_domain_obj_run_key(obj));
    /* A stop under way needs no monitor: carry it through now, even if QEMU never
     * answers again (SIGSTOPped, wedged). */
    if (sv_domain_run_stopping(obj, SV_STOP_NONE))
        carry_on_kill(obj, st);
    mon_fd = qemu_monitor_connect(qemu_status_of(st)->monitor, &error);
    if (mon_fd >= 0) {
        qd->mon = qemu_monitor_new(mon_fd, &cb, sv_domain_obj_run_key(obj));
        return;
    }
    /* Alive but unreachable: it cannot be managed, so it is stopped; but a graceful
     * destroy under way stays graceful. */
    if (sv_process_get_kill(qd->proc, &graceful, NULL) && graceful) {
        g_warning("domain %s: %s; its graceful destroy goes on", obj->def->name,
                  error->message);
        return;
    }
    g_warning("domain %s: %s; stopping it", obj->def->name, error->message);
    qemu_domain_kill(obj, SV_STOP_CRASH);
}

/* ---------------------------------------------------------------- one status file */

/* One pass over the status files: the driver's context, and what it gathers: labels of
 * guests found gone, released once every status file is read (a file they shared may still
 * be in use). */
typedef struct {
    QemuProcessContext *ctx;
    GPtrArray *stale_labels; /* of QemuSecLabel */
} Reconnect;

/* The file names this daemon's places (else it is set aside, nothing in it touched), then
 * its QEMU. */
static SvReconnectFound
find(SvStatus *st, gpointer *ret_handle, gpointer data, GError **error)
{
    Reconnect *r = data;

    if (!qemu_status_check_places(r->ctx, st, error))
        return SV_RECONNECT_FOREIGN;
    return sv_domain_reconnect_find_process(st, qemu_status_of(st)->emulator, "QEMU",
                                            (SvProcess **)ret_handle, error);
}

/* A guest found gone: its files go, its label waits in stale_labels. */
static void
gone(const char *path, SvStatus *st, SvDomainObj *obj, gpointer data)
{
    Reconnect *r = data;
    const char *monitor = qemu_status_of(st)->monitor;
    QemuSecLabel *label = qemu_security_label_from_status(r->ctx->security,
                                                          xmlDocGetRootElement(st->doc));
    g_autofree char *pid = g_strdup_printf("%s/%s.pid", r->ctx->run_dir, st->def->name);
    g_autofree char *dir = g_path_get_dirname(monitor);
    g_autoptr(GPtrArray) helpers = sv_run_helpers_new();

    if (label)
        g_ptr_array_add(r->stale_labels, label);
    /* Helpers (virtiofsd) that outlived their QEMU go now. */
    sv_run_helpers_take_status(helpers, xmlDocGetRootElement(st->doc), qemu_virtiofs_helper_exe,
                               st->def);
    sv_run_helpers_stop(helpers);
    qemu_virtiofs_remove_sockets(st->def, dir);
    qemu_interface_release(st->def);
    qemu_interface_release_ports(st->def, r->ctx->family_run_dir);
    unlink(path);
    unlink(pid);
    unlink(monitor);
    qemu_secret_master_key_remove(dir);
    rmdir(dir);
    qemu_cgroup_remove(r->ctx, st->def->name);
    if (obj)
        obj->reason = SV_DOMAIN_SHUTOFF_CRASHED;
}

/* The stop under way as the status recorded it, each cause in turn (so a destroy that
 * fails goes back to the stop before it). Nothing to write: the status file says so
 * already. */
static void
adopt_run_state(SvDomainObj *obj, const SvStatus *st)
{
    const QemuStatus *qs = qemu_status_of(st);

    if (obj->state == SV_DOMAIN_SHUTDOWN)
        sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_SHUTDOWN);
    if (qs->crash_destroy)
        sv_domain_run_change(obj, SV_RUN_STOPPING,
                             qs->crash_restart ? SV_STOP_CRASH_RESTART : SV_STOP_CRASH);
    if (qs->destroying)
        sv_domain_run_change(obj, SV_RUN_STOPPING,
                             st->c.kill_mode == SV_STATUS_KILL_GRACEFUL
                                 ? SV_STOP_DESTROY_GRACEFUL
                                 : SV_STOP_DESTROY);
}

/* The running guest the status describes, its QEMU process held. */
static void
attach(SvDomainObj *obj, SvStatus *st, gpointer handle, gpointer data)
{
    SvProcess *proc = handle;
    QemuProcessContext *ctx = qemu_ctx_of(obj);
    GPtrArray *serials = obj->def->serials->len ? obj->def->serials : obj->def->consoles;
    QemuDomain *qd;

    (void)data;
    sv_domain_list_set_id(obj->list, obj, st->id);
    qemu_domain_begin(obj);
    qd = qemu_domain_of(obj);
    qd->proc = proc;
    qd->dir = g_path_get_dirname(qemu_status_of(st)->monitor);
    qd->pid_path = g_strdup_printf("%s/%s.pid", ctx->run_dir, obj->def->name);
    qd->fake_reboot = qemu_status_of(st)->fake_reboot;
    for (guint i = 0; i < serials->len; i++) {
        SvDomainChrDef *chr = serials->pdata[i];
        g_ptr_array_add(qd->ptys, g_strdup(chr->source.path));
    }
    adopt_run_state(obj, st);
    qd->sec = qemu_security_label_from_status(ctx->security, xmlDocGetRootElement(st->doc));
    sv_run_helpers_take_status(qd->run.helpers, xmlDocGetRootElement(st->doc),
                               qemu_virtiofs_helper_exe, obj->def);
    qd->log_fd = qemu_domain_open_log(obj, NULL);
    sv_guest_log_printf(qd->log_fd, "reconnected to pid %d", (int)sv_process_get_pid(proc));
    sv_daemon_inhibit(ctx->daemon);
    sv_process_set_exit_func(proc, qemu_process_on_exit, sv_domain_obj_run_key(obj));
    g_message("domain %s: reconnecting to QEMU pid %d (%s)", obj->def->name,
              (int)sv_process_get_pid(proc), sv_domain_state_to_string(obj->state));
}

/* ---------------------------------------------------------------- leftovers */

/* Whether a guest of that name runs (its QEMU adopted). */
static gboolean
guest_runs(const char *name, gpointer data)
{
    QemuProcessContext *ctx = data;
    SvDomainObj *obj = sv_domain_list_find_by_name(ctx->domains->list, name);

    return obj && obj->priv;
}

/* Pid files, guest directories and cgroups of guests whose QEMU is gone, or of starts a
 * killed daemon never recorded (their QEMU never ran): no live guest owns them. */
static void
remove_unowned(QemuProcessContext *ctx)
{
    g_autoptr(GDir) run = g_dir_open(ctx->run_dir, 0, NULL);
    g_autoptr(GDir) lib = g_dir_open(ctx->lib_dir, 0, NULL);
    g_autoptr(GHashTable) dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GPtrArray) active =
        sv_domain_list_filter(ctx->domains->list, SV_CONNECT_LIST_DOMAINS_ACTIVE);
    const char *entry;

    for (guint i = 0; i < active->len; i++) {
        SvDomainObj *obj = active->pdata[i];
        g_hash_table_add(dirs, g_path_get_basename(qemu_domain_of(obj)->dir));
    }
    while (run && (entry = g_dir_read_name(run))) {
        g_autofree char *name = NULL, *path = NULL;
        SvDomainObj *obj;
        if (!g_str_has_suffix(entry, ".pid"))
            continue;
        name = g_strndup(entry, strlen(entry) - 4);
        obj = sv_domain_list_find_by_name(ctx->domains->list, name);
        path = g_build_filename(ctx->run_dir, entry, NULL);
        if (!obj || !obj->priv)
            unlink(path);
    }
    while (lib && (entry = g_dir_read_name(lib))) {
        g_autofree char *path = g_build_filename(ctx->lib_dir, entry, NULL);
        g_autofree char *sock = g_build_filename(path, "monitor.sock", NULL);
        if (!g_str_has_prefix(entry, "domain-") || g_hash_table_contains(dirs, entry))
            continue;
        unlink(sock);
        qemu_secret_master_key_remove(path);
        rmdir(path); /* only if empty: anything else in it is not ours to judge */
    }
    qemu_cgroup_remove_unowned(ctx, guest_runs, ctx);
}

/* Once every status file is read: stale labels are released, and what no live guest owns
 * goes, unless a file was set aside. */
static void
finish(gboolean rejected, gpointer data)
{
    Reconnect *r = data;

    for (guint i = 0; i < r->stale_labels->len; i++)
        qemu_security_label_release(r->ctx->security, r->stale_labels->pdata[i]);
    if (!rejected)
        remove_unowned(r->ctx);
}

static const SvReconnectFacts qemu_reconnect_facts = {
    .status = &qemu_status_style,
    .find = find,
    .gone = gone,
    .attach = attach,
    .stop_unfinished = stop_unfinished,
    .carry_on = carry_on,
    .finish = finish,
};

void
qemu_process_reconnect_all(QemuProcessContext *ctx)
{
    g_autoptr(GPtrArray) stale_labels =
        g_ptr_array_new_with_free_func((GDestroyNotify)qemu_security_label_free);
    Reconnect r = {ctx, stale_labels};

    sv_domain_reconnect_all(ctx->domains, ctx->run_dir, &qemu_reconnect_facts, &r);
}
