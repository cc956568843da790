/* lxc_reconnect.c: virtlxcd's facts for the one reconnect loop of a restarted daemon
 * (domain/domain_reconnect.h, docs/lifecycle.md): every supervisor of ours was recorded in
 * a status file before it ran (lxc_start.c), so the status files are the whole list. Its
 * guest is a supervisor, found by pid, start time and executable once what the file names
 * is checked to be ours (its socket under our run directory, its cgroup under our cgroup
 * parent, its console a pty); one whose control connection cannot be opened cannot be
 * managed, and is stopped. A destroy under way carries on with its mode and deadline, an
 * AUTODESTROY container is destroyed (its client is gone). One whose supervisor is gone
 * took its container with it; what is left is removed. */
#include "lxc_domain.h"

#include <signal.h>
#include <unistd.h>

#include "domain/domain_netport.h"
#include "domain/domain_reconnect.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/fileio.h"

static gboolean
invalid(GError **error, const char *fmt, const char *what)
{
    sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR, fmt, what ? what : "");
    return FALSE;
}

/* What a status file names must be ours before anything is done with it. */
static gboolean
check_status(const LxcProcessContext *ctx, const SvStatus *st, GError **error)
{
    const LxcStatus *ls = lxc_status_of(st);
    g_autofree char *cgroup = g_strconcat("/", ls->cgroup ? ls->cgroup : "", NULL);
    g_autofree char *parent = g_strconcat("/", ctx->cgroup_parent, NULL);
    const SvDomainDef *def = st->def;
    SvDomainChrDef *con = def->consoles->len ? def->consoles->pdata[0] : NULL;

    if (!sv_path_is_within(ls->socket, ctx->run_dir))
        return invalid(error, "its supervisor socket '%s' is not in the run directory",
                       ls->socket);
    if (!sv_path_is_within(cgroup, parent))
        return invalid(error, "its cgroup '%s' is not below the daemon's cgroup parent",
                       ls->cgroup);
    if (con && con->source.path && !sv_path_is_within(con->source.path, "/dev/pts"))
        return invalid(error, "its console '%s' is not a pty", con->source.path);
    return TRUE;
}

/* A supervisor found alive, with its control connection. */
typedef struct {
    SvProcess *supervisor;
    int control;
} Found;

/* The supervisor of a checked status file, if it is alive, really ours (the same pid,
 * start time and executable) and can be reached; one that cannot is stopped. The data of
 * every fact below is the driver's LxcProcessContext. */
static SvReconnectFound
find(SvStatus *st, gpointer *ret_handle, gpointer data, GError **error)
{
    const LxcProcessContext *ctx = data;
    g_autoptr(GError) local = NULL;
    SvProcess *supervisor = NULL;
    SvReconnectFound found;
    Found *f;
    int control;

    if (!check_status(ctx, st, error))
        return SV_RECONNECT_FOREIGN;
    found = sv_domain_reconnect_find_process(st, ctx->supervisor, "container supervisor",
                                             &supervisor, error);
    if (found != SV_RECONNECT_LIVE)
        return found;
    control = lxc_monitor_connect(lxc_status_of(st)->socket, "control", &local);
    if (control < 0) {
        /* Alive but unreachable: it cannot be managed, so it is stopped. */
        g_warning("domain %s: %s; stopping it", st->def->name, local->message);
        sv_process_signal(supervisor, SIGTERM, NULL);
        sv_process_free(supervisor);
        return SV_RECONNECT_DROPPED;
    }
    f = g_new0(Found, 1);
    f->supervisor = supervisor;
    f->control = control;
    *ret_handle = f;
    return SV_RECONNECT_LIVE;
}

/* The supervisor is gone (and with it, through PR_SET_PDEATHSIG, the container): what it
 * may have left is removed. Every path here was checked. */
static void
gone(const char *status_file, SvStatus *st, SvDomainObj *obj, gpointer data)
{
    const LxcProcessContext *ctx = data;
    const LxcStatus *ls = lxc_status_of(st);

    if (obj)
        obj->reason = SV_DOMAIN_SHUTOFF_CRASHED;
    if (ls->cgroup && *ls->cgroup) {
        g_autoptr(SvCgroup) cg = sv_cgroup_new(ctx->cgroup_root, ls->cgroup, NULL);
        if (cg) {
            sv_cgroup_kill_all(cg, SIGKILL);
            sv_cgroup_remove(cg, NULL);
        }
    }
    unlink(ls->socket);
    unlink(status_file);
    sv_netport_release(st->def, -1, ctx->family_run_dir);
}

/* A start that never finished: its supervisor is stopped (the loop has said why). */
static void
stop_unfinished(SvDomainObj *obj, SvStatus *st, gpointer data)
{
    (void)st;
    (void)data;
    sv_domain_obj_set_cause(obj, "the daemon (after a restart: its start never finished)");
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_DESTROY); /* written below */
    lxc_domain_stop_supervisor(lxc_domain_of(obj));
    sv_domain_driver_save_status(sv_domain_driver_of_obj(obj), obj);
}

/* The container's ports checked with the network daemon (made again when it lost them),
 * then its veths put back on their bridges, as libvirt's reconnect does; failures are
 * logged. */
static void
ports_checked(SvNetportWork *work, const GError *error, gpointer run)
{
    SvDomainObj *obj = lxc_domain_find_run(run);

    sv_netport_work_free(work);
    if (obj)
        sv_netport_reconnected(obj->def, error);
}

/* What was under way when the earlier daemon went goes on: a destroy with its mode and
 * deadline, applied once the supervisor names init (lxc_process.c, carry_on_destroy); the
 * supervisor's own stop; an AUTODESTROY container's destroy. */
static void
carry_on(SvDomainObj *obj, SvStatus *st, gpointer data)
{
    LxcDomain *ld = lxc_domain_of(obj);
    gboolean graceful = st->c.kill_mode == SV_STATUS_KILL_GRACEFUL;
    gboolean destroying = lxc_status_of(st)->destroying;
    const char *why;

    (void)data;
    sv_netport_reconnect(obj->def, lxc_ctx_of(obj)->family_run_dir, NULL, ports_checked,
                         sv_domain_obj_run_key(obj));
    if (destroying && st->c.kill_deadline) {
        sv_domain_obj_set_cause(obj, "the daemon (after a restart: a %s destroy was under way)",
                                graceful ? "GRACEFUL" : "forced");
        sv_domain_run_change(obj, SV_RUN_STOPPING,
                             graceful ? SV_STOP_DESTROY_GRACEFUL : SV_STOP_DESTROY);
        ld->carried = TRUE;
        ld->carried_deadline = st->c.kill_deadline;
    } else if (destroying || ld->run.autodestroy_client) {
        why = destroying ? "a destroy was under way" : "its AUTODESTROY client is gone";
        g_message("domain %s: %s; stopping it", obj->def->name, why);
        sv_domain_obj_set_cause(obj, "the daemon (after a restart: %s)", why);
        sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_DESTROY); /* written below */
        lxc_domain_stop_supervisor(ld);
    }
    sv_domain_driver_save_status(sv_domain_driver_of_obj(obj), obj);
}

/* Take the container of a status file back under management, its supervisor alive and
 * its control connection open. */
static void
attach(SvDomainObj *obj, SvStatus *st, gpointer handle, gpointer data)
{
    const LxcProcessContext *ctx = data;
    const LxcStatus *ls = lxc_status_of(st);
    g_autofree Found *f = handle;
    LxcDomain *ld;

    sv_domain_list_set_id(obj->list, obj, st->id > 0 ? st->id : (int)st->c.pid);
    ld = lxc_domain_new(obj);
    ld->supervisor = f->supervisor;
    ld->socket_path = g_strdup(ls->socket);
    ld->cgroup = ls->cgroup && *ls->cgroup ? sv_cgroup_new(ctx->cgroup_root, ls->cgroup, NULL)
                                           : NULL;
    ld->log_fd = lxc_domain_open_log(obj, NULL);
    sv_guest_log_printf(ld->log_fd, "reconnected to supervisor %d",
                        (int)sv_process_get_pid(f->supervisor));
    g_message("domain %s: reconnecting to supervisor pid %d", obj->def->name,
              (int)sv_process_get_pid(f->supervisor));
    sv_daemon_inhibit(ctx->daemon);
    /* The supervisor's greeting (RUNNING, EXITED or FAILED) brings the rest up to date. */
    lxc_domain_watch_supervisor(obj, f->control);
}

/* A supervisor's socket no live container owns: the daemon bound it, then died before the
 * start was recorded (its held supervisor never ran). */
static void
remove_unowned_socket(const char *path, const char *entry, gpointer data)
{
    const LxcProcessContext *ctx = data;
    g_autofree char *name = g_strndup(entry, strlen(entry) - strlen(".sock"));
    SvDomainObj *obj = sv_domain_list_find_by_name(ctx->domains->list, name);

    if (!obj || !obj->priv)
        unlink(path);
}

/* Once every status file is read: unless one was set aside, what no live container owns
 * goes. */
static void
finish(gboolean rejected, gpointer data)
{
    const LxcProcessContext *ctx = data;

    if (!rejected)
        sv_file_walk_dir(ctx->run_dir, ".sock", remove_unowned_socket, data);
}

static const SvReconnectFacts lxc_reconnect_facts = {
    .status = &lxc_status_style,
    .find = find,
    .gone = gone,
    .attach = attach,
    .stop_unfinished = stop_unfinished,
    .carry_on = carry_on,
    .finish = finish,
};

void
lxc_process_reconnect_all(LxcProcessContext *ctx)
{
    sv_domain_reconnect_all(ctx->domains, ctx->run_dir, &lxc_reconnect_facts, ctx);
}
