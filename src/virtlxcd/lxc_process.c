/* lxc_process.c: the life of a container as the daemon sees it, from its run's start to the
 * STOPPED event: its state, its status file, the supervisor's reports and the end.
 *
 * A container's state changes in one place, sv_domain_driver_set_state(), which logs the
 * transition and rewrites the status file (lxc_status.h); events go out right after it. The
 * daemon holds two processes by pidfd: the supervisor (lxc_supervisor.h), which owns the
 * container, and the container's init, which the kill state machine (util/process.h)
 * signals directly. How init ended comes from the supervisor, its parent, as EXITED; the
 * container counts as stopped once the supervisor, having cleaned up, has exited too. So a
 * STOPPED event always means no process, mount, cgroup or link of the container is left.
 *
 * The start is in lxc_start.c, the procedures in lxc_control.c, the reconnect after a
 * daemon restart in lxc_reconnect.c. */
#include "lxc_domain.h"
#include "domain/domain_netport.h"
#include "lxc_hotplug.h"

#include <signal.h>
#include <stddef.h>
#include <unistd.h>

#include "util/error.h"

static void
lxc_domain_dispose(gpointer p)
{
    LxcDomain *ld = p;

    sv_process_free_later(ld->supervisor); /* never inside its own callbacks */
    sv_process_free_later(ld->init);
    lxc_monitor_free(ld->mon);
    sv_cgroup_free(ld->cgroup);
    if (ld->log_fd >= 0)
        close(ld->log_fd);
    g_free(ld->socket_path);
}

LxcDomain *
lxc_domain_new(SvDomainObj *obj)
{
    LxcDomain *ld = sv_domain_run_new(lxc_ctx_of(obj)->domains, obj, sizeof(LxcDomain));

    ld->log_fd = -1;
    return ld;
}

SvDomainObj *
lxc_domain_find_run(gpointer data)
{
    return sv_domain_run_find_attached(data);
}

int
lxc_domain_open_log(SvDomainObj *obj, GError **error)
{
    return sv_guest_log_open(lxc_ctx_of(obj)->log_dir, obj->def->name, SV_FROM_LXC,
                             "Failed to open", error);
}

/* ---------------------------------------------------------------- state */

/* The destroy under way, as the status file records it: one on init by the kill state
 * machine, one carried over from an earlier daemon and not yet applied, or the
 * supervisor's stop (forced, no deadline). */
static void
status_destroy(SvDomainObj *obj, LxcDomain *ld, SvStatusCommon *c, LxcStatus *st)
{
    gboolean graceful = FALSE;

    st->destroying = sv_domain_run_destroying(obj);
    if (!st->destroying)
        return;
    if (ld->carried) {
        graceful = obj->stop_cause == SV_STOP_DESTROY_GRACEFUL;
        c->kill_deadline = ld->carried_deadline;
    } else if (ld->init) {
        sv_process_get_kill(ld->init, &graceful, &c->kill_deadline);
    }
    c->kill_mode = graceful ? SV_STATUS_KILL_GRACEFUL : SV_STATUS_KILL_FORCED;
}

static const char *
status_dir(SvDomainObj *obj)
{
    return lxc_ctx_of(obj)->run_dir;
}

static gboolean
status_exists(SvDomainObj *obj)
{
    return ((LxcDomain *)obj->priv)->supervisor != NULL;
}

/* The supervisor is the common part's process. */
static void
status_own(SvDomainObj *obj, SvStatusCommon *c, SvStatusOwn *own)
{
    LxcDomain *ld = obj->priv;
    LxcStatus st = {0};

    status_destroy(obj, ld, c, &st);
    c->pid = sv_process_get_pid(ld->supervisor);
    c->start_time = sv_process_get_start_time(ld->supervisor);
    st.socket = ld->socket_path;
    st.init_pid = ld->init ? sv_process_get_pid(ld->init) : 0;
    st.init_start = ld->init ? sv_process_get_start_time(ld->init) : 0;
    st.cgroup = ld->cgroup ? (char *)sv_cgroup_get_path(ld->cgroup) : NULL;
    lxc_status_own(&st, own);
}

/* ---------------------------------------------------------------- the end */

/* The supervisor has exited: what it should have removed already goes, in case it could
 * not (it was killed): the container's processes die, then its cgroup goes. */
static void
lxc_domain_release(SvDomainObj *obj)
{
    LxcDomain *ld = lxc_domain_of(obj);

    if (ld->cgroup && sv_cgroup_exists(ld->cgroup))
        sv_cgroup_remove_when_empty(g_steal_pointer(&ld->cgroup), obj->def->name);
    if (ld->socket_path)
        unlink(ld->socket_path);
    /* Its interfaces' ports on networks go back (nothing waits for it). */
    sv_netport_release(obj->def, -1, lxc_ctx_of(obj)->family_run_dir);
}

static GError *
lxc_start_error(SvDomainObj *obj, GError *cause)
{
    (void)obj;
    if (!cause)
        sv_error_set(&cause, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "guest failed to start: the container supervisor exited");
    return cause;
}

/* The supervisor has cleaned up and exited: the container is gone, as decided when its
 * end was reported (ld->ended). */
static void
container_stopped(SvDomainObj *obj)
{
    LxcDomain *ld = lxc_domain_of(obj);

    sv_domain_run_teardown(obj, &(SvRunEnd){.reason = ld->shutoff_reason,
                                            .detail = ld->stopped_detail,
                                            .decided = TRUE});
}

/* A failed start's log ends with "shutting down, reason=failed" too. */
const SvRunFacts lxc_run_facts = {
    .log_fd_offset = offsetof(LxcDomain, log_fd),
    .log_failed_start = TRUE,
    .dispose = lxc_domain_dispose,
    .release = lxc_domain_release,
    .start_error = lxc_start_error,
    .status_style = &lxc_status_style,
    .status_dir = status_dir,
    .status_exists = status_exists,
    .status_own = status_own,
};

/* How the container ended is known; the supervisor exits once it is acknowledged by
 * closing the control connection, and container_stopped follows its exit. */
static void
container_ended(SvDomainObj *obj, int shutoff_reason, int stopped_detail)
{
    LxcDomain *ld = lxc_domain_of(obj);

    if (ld->ended)
        return;
    ld->ended = TRUE;
    if (sv_domain_run_destroying(obj)) {
        shutoff_reason = SV_DOMAIN_SHUTOFF_DESTROYED;
        stopped_detail = SV_DOMAIN_EVENT_STOPPED_DESTROYED;
    }
    ld->shutoff_reason = shutoff_reason;
    ld->stopped_detail = stopped_detail;
    g_clear_pointer(&ld->mon, lxc_monitor_free);
    if (!ld->supervisor || !sv_process_is_alive(ld->supervisor))
        container_stopped(obj);
}

void
lxc_domain_stop_supervisor(LxcDomain *ld)
{
    const LxcProcessContext *ctx = ld->run.drv->data;

    if (!ld->supervisor)
        return;
    /* Held before exec it runs nothing yet, and the daemon's SIGTERM handler it inherited
     * would catch a SIGTERM: it goes at once. */
    if (ld->held) {
        sv_process_signal(ld->supervisor, SIGKILL, NULL);
        return;
    }
    sv_process_kill(ld->supervisor, FALSE, ctx->timeouts.term_timeout_ms,
                    ctx->timeouts.kill_timeout_ms, sv_process_kill_warn, NULL);
}

static void
on_supervisor_exit(SvProcess *proc, const SvProcessExit *how, gpointer data)
{
    SvDomainObj *obj = lxc_domain_find_run(data);
    LxcDomain *ld;

    (void)proc;
    if (!obj)
        return;
    ld = lxc_domain_of(obj);
    g_debug("domain %s: supervisor exited (known %d, signaled %d, code %d)", obj->def->name,
            how->known, how->signaled, how->code);
    if (!ld->ended) {
        /* It went without saying how the container ended: the container died with it
         * (PR_SET_PDEATHSIG); make sure of that. */
        if (!ld->held)
            g_warning("domain %s: the container supervisor exited unexpectedly", obj->def->name);
        if (ld->init)
            sv_process_signal(ld->init, SIGKILL, NULL);
        gboolean destroying = sv_domain_run_destroying(obj);
        GError *cause = NULL;
        if (sv_domain_run_in_start(obj)) {
            sv_error_set(&cause, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                         "guest failed to start: the container supervisor exited unexpectedly");
            sv_domain_run_start_failed(obj, cause);
        }
        if (!destroying)
            sv_domain_obj_set_cause(obj, "the container supervisor (exited)");
        ld->ended = TRUE;
        ld->shutoff_reason = destroying ? SV_DOMAIN_SHUTOFF_DESTROYED : SV_DOMAIN_SHUTOFF_CRASHED;
        ld->stopped_detail =
            destroying ? SV_DOMAIN_EVENT_STOPPED_DESTROYED : SV_DOMAIN_EVENT_STOPPED_FAILED;
    }
    container_stopped(obj);
}

/* ---------------------------------------------------------------- destroys */

/* The kill state machine is done with init. Success needs nothing here: the waiting
 * destroys (the engine's stop calls) are answered once the container is SHUTOFF
 * (container_stopped). */
static void
destroy_killed(SvProcess *proc, const GError *error, gpointer data)
{
    SvDomainObj *obj = lxc_domain_find_run(data);
    gboolean graceful;
    LxcDomain *ld;

    (void)proc;
    if (!error || !obj || (ld = lxc_domain_of(obj))->ended || !sv_domain_run_destroying(obj))
        return;
    /* GRACEFUL gave up (or even SIGKILL did not help): the container lives on in its state,
     * and every destroy joined to this kill fails; a later one may try again. */
    graceful = obj->stop_cause == SV_STOP_DESTROY_GRACEFUL;
    if (ld->refreeze && ld->cgroup)
        sv_cgroup_set_frozen(ld->cgroup, TRUE, NULL);
    ld->refreeze = FALSE;
    sv_domain_run_withdraw_destroy(lxc_ctx_of(obj)->domains, obj);
    /* The client that asked an earlier daemon is gone with it: the log is all it gets. */
    if (ld->carrying)
        g_warning("domain %s: the %s destroy begun before the daemon restarted failed: %s; "
                  "the container keeps running", obj->def->name,
                  graceful ? "GRACEFUL" : "forced", error->message);
    else if (!ld->run.stop_calls->len)
        g_warning("domain %s: destroy failed: %s", obj->def->name, error->message);
    ld->carrying = FALSE;
    sv_domain_run_fail_stop_calls(&ld->run, error);
}

void
lxc_domain_kill_init(SvDomainObj *obj, gboolean graceful, gint64 term_deadline)
{
    LxcDomain *ld = lxc_domain_of(obj);

    /* Written below, with the kill's mode and deadline. */
    sv_domain_run_change(obj, SV_RUN_STOPPING,
                         graceful ? SV_STOP_DESTROY_GRACEFUL : SV_STOP_DESTROY);
    ld->carried = FALSE;
    sv_process_kill_until(ld->init, graceful, term_deadline,
                          lxc_ctx_of(obj)->timeouts.kill_timeout_ms, destroy_killed,
                          sv_domain_obj_run_key(obj));
    /* with the request's mode and deadline */
    sv_domain_driver_save_status(sv_domain_driver_of_obj(obj), obj);
}

void
lxc_domain_destroy_quietly(SvDomainObj *obj, const char *why)
{
    LxcDomain *ld = lxc_domain_of(obj);

    sv_domain_obj_set_cause(obj, "the daemon (%s)", why);
    if (ld->cgroup && sv_cgroup_is_frozen(ld->cgroup))
        sv_cgroup_set_frozen(ld->cgroup, FALSE, NULL);
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_DESTROY); /* written below */
    ld->carried = FALSE;
    if (ld->init && !ld->ended) {
        lxc_domain_kill_init(obj, FALSE, g_get_monotonic_time() +
                                             lxc_ctx_of(obj)->timeouts.term_timeout_ms * 1000);
        return;
    }
    sv_domain_driver_save_status(sv_domain_driver_of_obj(obj), obj);
    if (!ld->ended)
        lxc_domain_stop_supervisor(ld);
}

/* ---------------------------------------------------------------- supervisor messages */

static void
on_init_exit(SvProcess *proc, const SvProcessExit *how, gpointer data)
{
    SvDomainObj *obj = lxc_domain_find_run(data);

    (void)proc;
    (void)how;
    /* Only its parent, the supervisor, knows how it ended: EXITED or REBOOTED follows. */
    if (obj)
        g_debug("domain %s: init exited", obj->def->name);
}

static gboolean
attach_init(SvDomainObj *obj, const LxcMsg *msg, GError **error)
{
    LxcDomain *ld = lxc_domain_of(obj);
    SvProcess *init = sv_process_attach(msg->pid, msg->start_time, error);

    if (!init)
        return FALSE;
    sv_process_free_later(ld->init);
    ld->init = init;
    sv_process_set_exit_func(init, on_init_exit, sv_domain_obj_run_key(obj));
    sv_guest_log_printf(ld->log_fd, "init is process %d", (int)msg->pid);
    return TRUE;
}

/* The live XML shows the console pty, as libvirt's does. */
static void
set_console_pty(SvDomainObj *obj, const char *pty)
{
    SvDomainChrDef *chr = obj->def->consoles->len ? obj->def->consoles->pdata[0] : NULL;

    if (chr && pty) {
        g_free(chr->source.path);
        chr->source.path = g_strdup(pty);
    }
}

/* A destroy an earlier daemon began goes on with its mode and deadline, now that init is
 * known. A GRACEFUL one thawed a paused container (the status file still says paused) and
 * freezes it again if it fails. */
static void
carry_on_destroy(SvDomainObj *obj)
{
    LxcDomain *ld = lxc_domain_of(obj);
    gboolean frozen = ld->cgroup && sv_cgroup_is_frozen(ld->cgroup);
    gboolean graceful = obj->stop_cause == SV_STOP_DESTROY_GRACEFUL;

    g_message("domain %s: carrying on the %s destroy begun before the daemon restarted",
              obj->def->name, graceful ? "GRACEFUL" : "forced");
    ld->refreeze = graceful && (frozen || obj->state == SV_DOMAIN_PAUSED);
    if (frozen)
        sv_cgroup_set_frozen(ld->cgroup, FALSE, NULL);
    lxc_domain_kill_init(obj, graceful, ld->carried_deadline);
    ld->carrying = TRUE;
}

/* After a reconnect: the freezer says whether it is paused; no event for what happened
 * while no daemon watched. */
static void
running_again(SvDomainObj *obj)
{
    SvDomainDriver *drv = sv_domain_driver_of_obj(obj);
    LxcDomain *ld = lxc_domain_of(obj);

    if (ld->carried) {
        carry_on_destroy(obj);
        return;
    }
    if (ld->cgroup && sv_cgroup_is_frozen(ld->cgroup)) {
        if (obj->state != SV_DOMAIN_PAUSED)
            sv_domain_driver_set_state(drv, obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_USER);
    } else if (obj->state != SV_DOMAIN_RUNNING) {
        sv_domain_driver_set_state(drv, obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_UNPAUSED);
    }
    sv_domain_driver_save_status(sv_domain_driver_of_obj(obj), obj);
    if (sv_domain_run_destroying(obj))
        sv_process_signal(ld->init, SIGKILL, NULL); /* the supervisor's stop is under way */
}

static void
on_running(SvDomainObj *obj, const LxcMsg *msg)
{
    LxcDomain *ld = lxc_domain_of(obj);
    g_autoptr(GError) error = NULL;

    if (ld->init && sv_process_get_pid(ld->init) == msg->pid)
        return;
    if (!attach_init(obj, msg, &error)) {
        /* That init has ended already: the supervisor's next message says how. */
        g_debug("domain %s: %s", obj->def->name, error->message);
        return;
    }
    set_console_pty(obj, msg->pty);
    if (sv_domain_run_in_start(obj))
        sv_domain_run_start_finished(obj);
    else
        running_again(obj);
}

static void
on_rebooted(SvDomainObj *obj, const LxcMsg *msg)
{
    LxcDomain *ld = lxc_domain_of(obj);
    g_autoptr(GError) error = NULL;

    if (!attach_init(obj, msg, &error))
        g_debug("domain %s: %s", obj->def->name, error->message);
    sv_guest_log_printf(ld->log_fd, "rebooted");
    if (!sv_domain_run_destroying(obj))
        lxc_hotplug_replug(obj);
    sv_domain_driver_save_status(sv_domain_driver_of_obj(obj), obj);
    if (sv_domain_run_destroying(obj)) {
        /* A reboot raced with our destroy: the new init goes too. */
        if (ld->init)
            sv_process_signal(ld->init, SIGKILL, NULL);
        return;
    }
    sv_domain_driver_emit_reboot(sv_domain_driver_of_obj(obj), obj);
}

static void
on_exited(SvDomainObj *obj, const LxcMsg *msg)
{
    /* reboot() from inside ends init with SIGHUP (restart) or SIGINT (power off); the
     * supervisor only reports SIGHUP when <on_reboot> does not restart. Any other signal
     * came from outside, and nobody but a crash or an intruder sends it. */
    if (sv_domain_run_in_start(obj)) {
        GError *cause = NULL;
        sv_error_set(&cause, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "guest failed to start: init ended at once (%s %d)",
                     msg->signaled ? "signal" : "exit status", msg->code);
        sv_domain_run_start_failed(obj, cause);
    }
    if (!sv_domain_run_destroying(obj))
        sv_domain_obj_set_cause(obj, "the container (init %s %d)",
                                msg->signaled ? "killed by signal" : "exited with status",
                                msg->code);
    if (!msg->signaled || msg->code == SIGINT || msg->code == SIGHUP)
        container_ended(obj, SV_DOMAIN_SHUTOFF_SHUTDOWN, SV_DOMAIN_EVENT_STOPPED_SHUTDOWN);
    else
        container_ended(obj, SV_DOMAIN_SHUTOFF_CRASHED, SV_DOMAIN_EVENT_STOPPED_FAILED);
}

static void
on_failed(SvDomainObj *obj, const LxcMsg *msg)
{
    SvDomainRun *run = sv_domain_run_of(obj);

    if (sv_domain_run_in_start(obj)) {
        g_clear_error(&run->start_error); /* the supervisor's own words replace a guess */
        sv_error_set(&run->start_error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "guest failed to start: %s", msg->text);
        container_ended(obj, SV_DOMAIN_SHUTOFF_FAILED, SV_DOMAIN_EVENT_STOPPED_FAILED);
        return;
    }
    /* A reboot that could not start init again. */
    sv_domain_obj_set_cause(obj, "the container supervisor (restart failed)");
    g_warning("domain %s: restart after reboot failed: %s", obj->def->name, msg->text);
    container_ended(obj, SV_DOMAIN_SHUTOFF_CRASHED, SV_DOMAIN_EVENT_STOPPED_FAILED);
}

static void
on_monitor_message(LxcMonitor *mon, const LxcMsg *msg, gpointer user)
{
    SvDomainObj *obj = lxc_domain_find_run(user);

    (void)mon;
    if (!obj || lxc_domain_of(obj)->ended)
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
    SvDomainObj *obj = lxc_domain_find_run(user);

    (void)mon;
    /* The supervisor is going; its exit decides the rest (on_supervisor_exit). */
    if (obj)
        g_debug("domain %s: supervisor connection closed", obj->def->name);
}

void
lxc_domain_watch_supervisor(SvDomainObj *obj, int control)
{
    LxcDomain *ld = lxc_domain_of(obj);

    sv_process_set_exit_func(ld->supervisor, on_supervisor_exit, sv_domain_obj_run_key(obj));
    ld->mon = lxc_monitor_new(control, &(LxcMonitorCallbacks){on_monitor_message, on_monitor_eof},
                              sv_domain_obj_run_key(obj));
}
