/* qemu_process.c: a QEMU guest while it runs: QMP events, its end (from the pidfd to
 * STOPPED), and QEMU's facts of the procedures on a running guest (destroy, shutdown,
 * reboot, reset, suspend, resume), which domain/domain_control.c serves.
 *
 * The process is held by a pidfd (util/process.c): its exit is seen at once, the
 * monitor is then read to its end, and only then is STOPPED decided, so no QMP event is
 * lost or reordered. Starting is qemu_start.c, status files qemu_status.c, a restarted
 * daemon's reconnect qemu_reconnect.c. */
#include "qemu_hotplug.h"
#include "qemu_process.h"

#include <string.h>
#include <unistd.h>

#include "qemu_agent.h"
#include "qemu_command_chr.h"
#include "qemu_domain.h"
#include "qemu_coredump.h"
#include "qemu_dump.h"
#include "qemu_migration.h"
#include "qemu_program.h"
#include "qemu_resize.h"
#include "qemu_status.h"
#include "qemu_tray.h"
#include "domain/domain_control.h"
#include "util/error.h"

/* ---------------------------------------------------------------- stop */

void
qemu_process_on_exit(SvProcess *proc, const SvProcessExit *how, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);
    QemuDomain *qd;
    int reason, detail;

    if (!obj || qemu_domain_of(obj)->proc != proc)
        return;
    qd = qemu_domain_of(obj);
    g_debug("QEMU of %s exited (known %d, signaled %d, code %d)", obj->def->name, how->known,
            how->signaled, how->code);
    /* Events QEMU sent before it went count: read the monitor to its end. What that
     * runs (a failed start's cleanup, above all) may end the run: look again. */
    if (qd->mon)
        qemu_monitor_drain(qd->mon);
    if (!(obj = qemu_domain_find(run)))
        return;
    qd = qemu_domain_of(obj);
    if (!sv_domain_run_destroying(obj) && !sv_domain_run_crashing(obj) &&
        obj->state != SV_DOMAIN_SHUTDOWN)
        sv_domain_obj_set_cause(obj, "QEMU (exited)");
    if (sv_domain_run_in_start(obj)) {
        g_autoptr(GError) error = NULL;
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "QEMU exited while starting");
        qemu_start_failed(obj, g_steal_pointer(&error));
        return;
    }
    /* A migration decided how its guest ends (migrated away, or a failed incoming one). */
    if (qemu_migration_decided_end(obj, &reason, &detail)) {
        sv_domain_run_teardown(obj, &(SvRunEnd){.reason = reason, .detail = detail,
                                                .decided = TRUE});
        return;
    }
    /* A destroy, a crash or the guest's power-off says how it ended (its stop cause);
     * anything else is QEMU ending on its own: a crash of QEMU. */
    sv_domain_run_teardown(obj, obj->state == SV_DOMAIN_SHUTDOWN
                                    ? &(SvRunEnd){.reason = SV_DOMAIN_SHUTOFF_SHUTDOWN,
                                                  .detail = SV_DOMAIN_EVENT_STOPPED_SHUTDOWN}
                                    : &(SvRunEnd){.reason = SV_DOMAIN_SHUTOFF_CRASHED,
                                                  .detail = SV_DOMAIN_EVENT_STOPPED_FAILED});
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
    SvDomainDriver *drv = sv_domain_driver_of_obj(obj);
    QemuDomain *qd = qemu_domain_of(obj);
    int detail = SV_DOMAIN_EVENT_SHUTDOWN_FINISHED;

    /* Our own kills make QEMU report a host SHUTDOWN: that is not the guest's. */
    if (obj->state == SV_DOMAIN_SHUTDOWN || sv_domain_run_stopping(obj, SV_STOP_NONE) ||
        sv_domain_run_in_start(obj))
        return;
    if (qd->fake_reboot || obj->def->on_poweroff == SV_DOMAIN_LIFECYCLE_RESTART) {
        /* A reboot: reset and go on, no SHUTDOWN state or event. */
        qd->fake_reboot = FALSE;
        sv_domain_run_set(drv, obj, SV_RUN_REBOOTING, SV_STOP_NONE);
        qemu_monitor_command(qd->mon, "system_reset", NULL, reset_done, NULL);
        return;
    }
    if (data && json_object_has_member(data, "guest"))
        detail = qemu_json_bool(data, "guest", FALSE) ? SV_DOMAIN_EVENT_SHUTDOWN_GUEST
                                                      : SV_DOMAIN_EVENT_SHUTDOWN_HOST;
    sv_domain_driver_set_state_event(drv, obj, SV_DOMAIN_SHUTDOWN, SV_DOMAIN_SHUTDOWN_UNKNOWN,
                                     SV_DOMAIN_EVENT_SHUTDOWN, detail);
    /* on_poweroff destroy (and preserve, which QEMU cannot hold): end QEMU. */
    qemu_domain_kill(obj, SV_STOP_SHUTDOWN);
}

static void
on_panic_event(SvDomainObj *obj)
{
    if (sv_domain_run_destroying(obj) || obj->state == SV_DOMAIN_CRASHED)
        return;
    sv_domain_driver_set_state_event(sv_domain_driver_of_obj(obj), obj, SV_DOMAIN_CRASHED,
                                     SV_DOMAIN_CRASHED_PANICKED, SV_DOMAIN_EVENT_CRASHED,
                                     SV_DOMAIN_EVENT_CRASHED_PANICKED);
    switch (obj->def->on_crash) {
    case SV_DOMAIN_LIFECYCLE_RESTART:
        qemu_domain_kill(obj, SV_STOP_CRASH_RESTART);
        break;
    case SV_DOMAIN_LIFECYCLE_DESTROY:
        qemu_domain_kill(obj, SV_STOP_CRASH);
        break;
    case SV_DOMAIN_LIFECYCLE_COREDUMP_DESTROY:
        qemu_dump_on_crash(obj, SV_STOP_CRASH);
        break;
    case SV_DOMAIN_LIFECYCLE_COREDUMP_RESTART:
        qemu_dump_on_crash(obj, SV_STOP_CRASH_RESTART);
        break;
    default:
        break; /* preserve: stays CRASHED/PANICKED until destroyed */
    }
}

static void
on_stop_event(SvDomainObj *obj)
{
    QemuDomain *qd = qemu_domain_of(obj);
    int reason, detail = SV_DOMAIN_EVENT_SUSPENDED_PAUSED;

    /* After a SHUTDOWN or a panic QEMU stops its vCPUs: that is not a pause. */
    if (obj->state != SV_DOMAIN_RUNNING || sv_domain_run_in_start(obj) ||
        sv_domain_run_destroying(obj) || obj->run_state == SV_RUN_REBOOTING)
        return;
    reason = qd->dump                             ? SV_DOMAIN_PAUSED_DUMP
             : obj->run_state == SV_RUN_PAUSING ? SV_DOMAIN_PAUSED_USER
                                                : SV_DOMAIN_PAUSED_UNKNOWN;
    /* An outgoing migration's last pass (or its switch to post-copy). */
    qemu_migration_paused_reason(obj, &reason, &detail);
    sv_domain_driver_set_state_event(sv_domain_driver_of_obj(obj), obj, SV_DOMAIN_PAUSED, reason,
                                     SV_DOMAIN_EVENT_SUSPENDED, detail);
}

static void
on_resume_event(SvDomainObj *obj)
{
    SvDomainDriver *drv = sv_domain_driver_of_obj(obj);
    int reason = SV_DOMAIN_RUNNING_UNPAUSED, detail = SV_DOMAIN_EVENT_RESUMED_UNPAUSED;

    if (obj->run_state == SV_RUN_REBOOTING) {
        /* The reboot's own cont. */
        sv_domain_run_set(drv, obj, SV_RUN_RUNNING, SV_STOP_NONE);
        return;
    }
    if (obj->state != SV_DOMAIN_PAUSED || sv_domain_run_in_start(obj))
        return;
    /* A migration's own cont: the guest runs where it arrived, or again where it was. */
    qemu_migration_running_reason(obj, &reason, &detail);
    sv_domain_driver_set_state_event(drv, obj, SV_DOMAIN_RUNNING, reason,
                                     SV_DOMAIN_EVENT_RESUMED, detail);
}

static void
on_event(QemuMonitor *mon, const char *name, JsonObject *data, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);
    SvDomainDriver *drv;
    QemuDomain *qd;
    gint64 sec;
    guint usec;

    if (!obj)
        return;
    drv = sv_domain_driver_of_obj(obj);
    qd = qemu_domain_of(obj);
    qemu_monitor_event_time(mon, &sec, &usec);
    g_debug("domain %s: QMP event %s (QEMU's time %" G_GINT64_FORMAT ".%06u)", obj->def->name,
            name, sec, usec);
    /* issue 18 item 4: every event goes to its monitor-event registrations first, as
     * libvirt's. */
    qemu_program_emit_event(obj, mon, name, data);
    /* A guest-shutdown under way ends with its SHUTDOWN (or a reboot's RESET). */
    qemu_agent_notify_event(qd->agent, name);
    if (!(obj = qemu_domain_find(run)))
        return;
    /* A guest opened or closed a channel: live XML only, no change of state. */
    if (g_str_equal(name, "VSERPORT_CHANGE")) {
        qemu_chr_port_changed(obj->def, data);
        qemu_agent_port_changed(obj, data);
        return;
    }
    /* issue 18 item 2: a cdrom's or floppy's tray moved: live XML and TRAY_CHANGE only. */
    if (g_str_equal(name, "DEVICE_TRAY_MOVED")) {
        qemu_tray_moved(obj, data);
        return;
    }
    /* The guest's balloon moved: live XML and an event, no change of state. */
    if (g_str_equal(name, "BALLOON_CHANGE")) {
        qemu_resize_balloon_changed(obj, data);
        return;
    }
    /* An event that answers a client's command is that client's doing. */
    if (!sv_domain_run_destroying(obj) && obj->run_state != SV_RUN_PAUSING &&
        !sv_domain_run_in_start(obj) && !qd->jobs)
        sv_domain_obj_set_cause(obj, "QEMU (event %s)", name);
    if (g_str_equal(name, "SHUTDOWN")) {
        on_shutdown_event(obj, data);
    } else if (g_str_equal(name, "STOP")) {
        on_stop_event(obj);
    } else if (g_str_equal(name, "RESUME")) {
        on_resume_event(obj);
    } else if (g_str_equal(name, "RESET")) {
        if (!sv_domain_run_in_start(obj)) {
            remote_nonnull_domain dom;
            sv_domain_obj_to_remote(obj, &dom);
            sv_remote_emit_reboot(drv->server, &dom);
            g_free(dom.name);
        }
    } else if (g_str_equal(name, "GUEST_PANICKED")) {
        on_panic_event(obj);
    } else if (g_str_equal(name, "DEVICE_DELETED")) {
        qemu_hotplug_device_deleted(obj, data); /* issue 18 item 2, live hotplug */
    } else if (g_str_equal(name, "ACPI_DEVICE_OST")) {
        qemu_hotplug_acpi_ost(obj, data);
    } else if (g_str_equal(name, "DUMP_COMPLETED")) {
        qemu_coredump_completed(obj, data); /* issue 18 item 2, virsh dump */
    } else if (g_str_equal(name, "MIGRATION")) {
        qemu_coredump_migration(obj, data); /* a full dump is a migration into its file */
        qemu_migration_event(obj, data);    /* issue 21: a migration to another host */
    } else if (g_str_equal(name, "MIGRATION_PASS")) {
        qemu_migration_pass(obj, data); /* issue 21: MIGRATION_ITERATION */
    } else if (g_str_equal(name, "JOB_STATUS_CHANGE")) {
        qemu_migration_job_status(obj, data); /* issue 21: a storage copy's mirrors */
    }
}

static void
on_monitor_eof(QemuMonitor *mon, gpointer run)
{
    SvDomainObj *obj = qemu_domain_find(run);

    (void)mon;
    /* The pidfd decides how the guest ended; EOF alone only means QEMU is going. */
    if (obj)
        g_debug("domain %s: monitor closed", obj->def->name);
}

const QemuMonitorCallbacks qemu_process_monitor_events = {NULL, on_event, on_monitor_eof};

/* ---------------------------------------------------------------- QEMU's facts */

/* The facts of the procedures on a running guest (domain/domain_control.c serves them). */

#define CREATE_FLAGS                                                                               \
    (SV_DOMAIN_START_PAUSED | SV_DOMAIN_START_AUTODESTROY | SV_DOMAIN_START_BYPASS_CACHE |         \
     SV_DOMAIN_START_FORCE_BOOT | SV_DOMAIN_START_VALIDATE)

static void
monitor_done(QemuMonitor *mon, JsonNode *ret, const GError *error, gpointer data)
{
    SvGuestJob *job = data;
    SvDomainObj *obj = qemu_domain_find(job->run);

    (void)mon;
    (void)ret;
    if (obj && qemu_domain_of(obj)->jobs)
        qemu_domain_of(obj)->jobs--;
    sv_guest_job_done(job, error);
}

/* A monitor command whose reply completes the procedure; the events it causes meanwhile
 * are the client's doing (qd->jobs). */
static gboolean
monitor_act(SvGuestJob *job, SvDomainObj *obj, const char *cmd)
{
    qemu_domain_of(obj)->jobs++;
    qemu_monitor_command(qemu_domain_of(obj)->mon, cmd, NULL, monitor_done, job);
    return TRUE;
}

static gboolean
act_stop(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    (void)error;
    return monitor_act(job, obj, "stop");
}

static gboolean
act_cont(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    (void)error;
    return monitor_act(job, obj, "cont");
}

static gboolean
act_system_reset(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    (void)error;
    return monitor_act(job, obj, "system_reset");
}

/* The ACPI power button. As libvirt: a reboot turns the guest's next power-off into a
 * reset; a shutdown asked for after it means power-off again. */
static gboolean
acpi_powerdown(SvGuestJob *job, SvDomainObj *obj)
{
    qemu_domain_of(obj)->fake_reboot = job->op == SV_GUEST_REBOOT;
    qemu_status_save(obj);
    return monitor_act(job, obj, "system_powerdown");
}

/* The agent's guest-shutdown ended: done, or (its error) the power button where the
 * flags allow it, as libvirt falls back when ACPI was asked for too or no flag was given. */
static void
agent_shutdown_done(JsonObject *reply, const GError *error, gpointer data)
{
    SvGuestJob *job = data;
    SvDomainObj *obj = qemu_domain_find(job->run);
    g_autoptr(GError) e = error ? NULL : qemu_agent_reply_error(reply, "guest-shutdown");

    if (e)
        error = e;
    if (error && obj && obj->state == SV_DOMAIN_RUNNING && qemu_domain_of(obj)->mon &&
        (!job->flags || (job->flags & SV_DOMAIN_SHUTDOWN_ACPI_POWER_BTN))) {
        acpi_powerdown(job, obj);
        return;
    }
    sv_guest_job_done(job, error);
}

/* libvirt's qemuDomainShutdownFlags and qemuDomainReboot: the agent's guest-shutdown when
 * GUEST_AGENT is asked for, or with no flag when the agent is connected; else (or when
 * the agent fails and ACPI is allowed) the power button. */
static gboolean
act_powerdown(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    QemuDomain *qd = qemu_domain_of(obj);
    gboolean want_agent = (job->flags & SV_DOMAIN_SHUTDOWN_GUEST_AGENT) ||
                          (!(job->flags & SV_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) && qd->agent);
    gboolean only_agent = want_agent && !(job->flags & SV_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) &&
                          job->flags;
    QemuAgent *agent = NULL;

    if (want_agent) {
        g_autoptr(GError) local = NULL;

        agent = qemu_agent_of(obj, only_agent ? error : &local);
        if (!agent && only_agent)
            return FALSE;
    }
    if (!agent)
        return acpi_powerdown(job, obj);
    qd->fake_reboot = FALSE;
    qemu_status_save(obj);
    qemu_agent_shutdown(agent, job->op == SV_GUEST_REBOOT, agent_shutdown_done, job);
    return TRUE;
}

static void
kill_done(SvProcess *proc, const GError *error, gpointer data)
{
    (void)proc;
    sv_guest_job_done(data, error); /* the log removed there with REMOVE_LOGS */
}

/* The kill state machine on QEMU: SIGTERM (only, GRACEFUL) then SIGKILL. The guest is
 * STOPPING with the destroy's cause (the shared layer named it). */
static gboolean
act_destroy(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    const QemuTimeouts *t = &qemu_ctx_of(obj)->timeouts;
    QemuDomain *qd = qemu_domain_of(obj);

    (void)error;
    if (!qd->proc) {
        /* A start still waiting for QEMU's facts: it ends here, nothing ran. */
        qemu_domain_kill(obj, SV_STOP_DESTROY);
        sv_guest_job_done(job, NULL);
        return TRUE;
    }
    sv_process_kill(qd->proc, job->graceful, sv_kill_timeouts_term(t, job->graceful),
                    t->kill_timeout_ms, kill_done, job);
    /* After the request: the status records its mode and deadline. */
    qemu_status_save(obj);
    return TRUE;
}

/* Only a paused guest, or one that panicked and was preserved, resumes. */
static gboolean
is_not_stopped(const SvDomainObj *obj)
{
    return sv_domain_run_in_start(obj) ||
           !(obj->state == SV_DOMAIN_PAUSED ||
             (obj->state == SV_DOMAIN_CRASHED && obj->reason == SV_DOMAIN_CRASHED_PANICKED));
}

static gboolean
is_starting_or_shut_down(const SvDomainObj *obj)
{
    return sv_domain_run_in_start(obj) || obj->state == SV_DOMAIN_SHUTDOWN;
}

/* AUTODESTROY's destroy (domain/domain_lifecycle.c): QEMU's forced kill, nobody waiting.
 * The copy of an incoming migration whose preparing client went (the source's daemon, or
 * the network to it) first reports the SHUTDOWN QEMU sends on the SIGTERM, as a host's, then
 * STOPPED/DESTROYED: libvirtd's auto-destroy of such a copy lets QEMU's event through (its
 * plain destroy does not, nor does ours). */
static void
destroy_quietly(SvDomainObj *obj, const char *why)
{
    sv_domain_obj_set_cause(obj, "the daemon (%s)", why);
    if (qemu_migration_incoming_unfinished(obj) && !sv_domain_run_in_start(obj) &&
        obj->state != SV_DOMAIN_SHUTDOWN)
        sv_domain_driver_set_state_event(sv_domain_driver_of_obj(obj), obj, SV_DOMAIN_SHUTDOWN,
                                         SV_DOMAIN_SHUTDOWN_UNKNOWN, SV_DOMAIN_EVENT_SHUTDOWN,
                                         SV_DOMAIN_EVENT_SHUTDOWN_HOST);
    qemu_domain_kill(obj, SV_STOP_DESTROY);
}

#define PMSUSPENDED                                                                                \
    {NULL, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID, "domain is pmsuspended", SV_DOMAIN_PMSUSPENDED}

/* QEMU's facts of the procedures that start a guest and act on a running one
 * (domain/domain_lifecycle.c and domain_control.c serve them). */
static const SvGuestOps qemu_guest_ops = {
    .start = qemu_start_guest,
    .destroy_quietly = destroy_quietly,
    .procs = {
        [SV_GUEST_CREATE_WITH_FLAGS] = {.flags = CREATE_FLAGS,
                                        .func = "qemuDomainCreateWithFlags"},
        [SV_GUEST_CREATE_XML] = {.flags = CREATE_FLAGS, .func = "qemuDomainCreateXML"},
        [SV_GUEST_SUSPEND] = {.rules = SV_GUEST_RULE_ACTIVE | SV_GUEST_RULE_PAUSED_NOOP |
                                       SV_GUEST_RULE_RUNNING,
                              .not_running_from = SV_FROM_DOMAIN, .refuse = {PMSUSPENDED},
                              .act = act_stop},
        [SV_GUEST_RESUME] = {.rules = SV_GUEST_RULE_ACTIVE,
                             .refuse = {PMSUSPENDED,
                                        {.when = is_not_stopped, .from = SV_FROM_QEMU,
                                         .code = SV_ERR_OPERATION_INVALID,
                                         .message = "domain is already running"}},
                             .act = act_cont},
        [SV_GUEST_RESET] = {.func = "qemuDomainReset", .rules = SV_GUEST_RULE_ACTIVE,
                            .refuse = {{.when = is_starting_or_shut_down, .from = SV_FROM_QEMU,
                                        .code = SV_ERR_OPERATION_INVALID,
                                        .message = "domain is not running"}},
                            .act = act_system_reset},
        [SV_GUEST_DESTROY] = {.flags = SV_DOMAIN_DESTROY_GRACEFUL | SV_DOMAIN_DESTROY_REMOVE_LOGS,
                              .func = "qemuDomainDestroyFlags",
                              .rules = SV_GUEST_RULE_ACTIVE | SV_GUEST_RULE_NAME_STOP,
                              .act = act_destroy},
        /* libvirt's shutdown checks the state itself (QEMU domain); reboot uses the shared
         * check (DOMAIN domain). */
        [SV_GUEST_SHUTDOWN] = {.flags = SV_DOMAIN_SHUTDOWN_ACPI_POWER_BTN |
                                        SV_DOMAIN_SHUTDOWN_GUEST_AGENT,
                               .func = "qemuDomainShutdownFlags", .rules = SV_GUEST_RULE_RUNNING,
                               .not_running_from = SV_FROM_QEMU, .act = act_powerdown},
        [SV_GUEST_REBOOT] = {.flags = SV_DOMAIN_SHUTDOWN_ACPI_POWER_BTN |
                                      SV_DOMAIN_SHUTDOWN_GUEST_AGENT,
                             .func = "qemuDomainReboot", .rules = SV_GUEST_RULE_RUNNING,
                             .not_running_from = SV_FROM_DOMAIN, .act = act_powerdown},
    },
};

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

    if (!qd || sv_domain_run_in_start(obj) || serial >= qd->ptys->len)
        return NULL;
    return qd->ptys->pdata[serial];
}

guint64
qemu_process_cpu_time(SvDomainDriver *drv, SvDomainObj *obj)
{
    QemuDomain *qd = obj->priv;

    (void)drv;
    return qd && qd->proc ? sv_process_read_cpu_time(sv_process_get_pid(qd->proc)) : 0;
}

void
qemu_process_install(QemuProcessContext *c, SvRemoteHandlers *h)
{
    c->domains->log_dir = c->log_dir;
    sv_domain_driver_install_lifecycle(c->domains, &qemu_guest_ops, h);
}

