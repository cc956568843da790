/* lxc_reconnect.c: a restarted daemon takes back the containers of its status files.
 *
 * The rule (docs/lifecycle.md): every supervisor of ours was recorded in a status file
 * before it ran (lxc_start.c), so the status files are the whole list. Each one is hostile
 * input until checked: its name, its socket under our run directory, its cgroup under our
 * cgroup parent, and its supervisor by pid, start time and executable. One that fails is
 * logged and set aside (NAME.xml.rejected) without touching anything it names. A checked
 * one whose supervisor lives is adopted, and what was under way goes on: an unfinished
 * start is stopped (its client never heard of success), a destroy carries on with its mode
 * and deadline, an AUTODESTROY container is destroyed (its client is gone). One whose
 * supervisor is gone took its container with it; what is left is removed. Temporary files
 * of status writes a killed daemon never finished are removed. */
#include "lxc_domain.h"

#include <signal.h>
#include <unistd.h>

#include "conf/domain_status.h"
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
check_status(const char *entry, const SvDomainDef *def, const LxcStatus *st, GError **error)
{
    g_autofree char *want = g_strconcat(def->name, ".xml", NULL);
    g_autofree char *cgroup = g_strconcat("/", st->cgroup ? st->cgroup : "", NULL);
    g_autofree char *parent = g_strconcat("/", lxc_ctx->cgroup_parent, NULL);
    SvDomainChrDef *con = def->consoles->len ? def->consoles->pdata[0] : NULL;

    if (!g_str_equal(entry, want))
        return invalid(error, "it describes domain '%s'", def->name);
    if (st->supervisor_pid <= 1 || st->init_pid < 0 || st->init_pid == 1)
        return invalid(error, "its process ids are not those of a container%s", NULL);
    if (!sv_path_is_within(st->socket, lxc_ctx->run_dir))
        return invalid(error, "its supervisor socket '%s' is not in the run directory",
                       st->socket);
    if (!sv_path_is_within(cgroup, parent))
        return invalid(error, "its cgroup '%s' is not below the daemon's cgroup parent",
                       st->cgroup);
    if (con && con->source_path && !sv_path_is_within(con->source_path, "/dev/pts"))
        return invalid(error, "its console '%s' is not a pty", con->source_path);
    return TRUE;
}

/* The supervisor a checked status file names, if it is alive and really ours: the same
 * pid, start time and executable. NULL when it is gone (or, still held before exec by the
 * daemon that died, about to go by itself: *ret_held); an error when something else
 * lives under its pid and start time. */
static SvProcess *
find_supervisor(const LxcStatus *st, gboolean *ret_held, GError **error)
{
    g_autoptr(GError) found = NULL;
    const SvErrorExtra *x;
    SvProcess *proc = NULL;

    *ret_held = FALSE;
    switch (sv_process_attach_checked(st->supervisor_pid, st->supervisor_start,
                                      lxc_ctx->supervisor, &proc, &found)) {
    case SV_PROCESS_CHECK_OURS:
        return proc;
    case SV_PROCESS_CHECK_GONE:
        return NULL;
    case SV_PROCESS_CHECK_UNRUN:
        /* Only a start that never finished leaves a supervisor held. */
        if (st->starting) {
            *ret_held = TRUE;
            return NULL;
        }
        break;
    default:
        break;
    }
    x = sv_error_get_extra(found); /* what it runs, without the template's prefix */
    sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                 "process %d is not a container supervisor (%s): %s", (int)st->supervisor_pid,
                 lxc_ctx->supervisor, x && x->str2 ? x->str2 : found->message);
    return NULL;
}

/* The supervisor is gone (and with it, through PR_SET_PDEATHSIG, the container): what it
 * may have left is removed. Every path here was checked. */
static void
clean_gone(const LxcStatus *st, const char *status_file)
{
    if (st->cgroup && *st->cgroup) {
        g_autoptr(LxcCgroup) cg = lxc_cgroup_new(lxc_ctx->cgroup_root, st->cgroup, NULL);
        if (cg) {
            lxc_cgroup_kill_all(cg, SIGKILL);
            lxc_cgroup_remove(cg, NULL);
        }
    }
    unlink(st->socket);
    unlink(status_file);
}

/* What was under way when the earlier daemon went goes on. */
static void
carry_on(SvDomainObj *obj, const LxcStatus *st)
{
    LxcDomain *ld = lxc_domain_of(obj);
    const char *why;

    if (st->destroying && st->destroy_deadline && !st->starting) {
        /* Applied once the supervisor names init (lxc_process.c, carry_on_destroy). */
        sv_domain_obj_set_cause(obj, "the daemon (after a restart: a %s destroy was under way)",
                                st->destroy_graceful ? "GRACEFUL" : "forced");
        sv_domain_run_change(obj, SV_RUN_STOPPING,
                             st->destroy_graceful ? SV_STOP_DESTROY_GRACEFUL : SV_STOP_DESTROY);
        ld->carried = TRUE;
        ld->carried_deadline = st->destroy_deadline;
        return;
    }
    if (!st->starting && !st->destroying && !ld->autodestroy_client)
        return;
    why = st->destroying ? "a destroy was under way"
                         : (st->starting ? "its start never finished"
                                         : "its AUTODESTROY client is gone");
    g_message("domain %s: %s; stopping it", obj->def->name, why);
    sv_domain_obj_set_cause(obj, "the daemon (after a restart: %s)", why);
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_DESTROY); /* written by adopt() */
    lxc_domain_stop_supervisor(ld);
}

/* Take the container of a status file back under management, its supervisor alive and
 * its control connection open. */
static void
adopt(SvDomainObj *obj, const LxcStatus *st, int id, SvProcess *supervisor, int control)
{
    LxcDomain *ld;

    sv_domain_list_set_id(lxc_ctx->domains->list, obj, id > 0 ? id : (int)st->supervisor_pid);
    ld = lxc_domain_new(obj);
    ld->supervisor = supervisor;
    ld->socket_path = g_strdup(st->socket);
    ld->cgroup = st->cgroup && *st->cgroup
                     ? lxc_cgroup_new(lxc_ctx->cgroup_root, st->cgroup, NULL)
                     : NULL;
    ld->autodestroy_client = st->autodestroy ? G_MAXUINT64 : 0;
    ld->log_fd = lxc_domain_open_log(obj, NULL);
    obj->state = st->state;
    obj->reason = st->reason;
    obj->state_time = st->state_time;
    /* As clients saw it; a stop under way follows in carry_on(). */
    sv_domain_run_change(obj, obj->state == SV_DOMAIN_PAUSED ? SV_RUN_PAUSED : SV_RUN_RUNNING,
                         SV_STOP_NONE);
    sv_guest_log_printf(ld->log_fd, "reconnected to supervisor %d",
                        (int)sv_process_get_pid(supervisor));
    g_message("domain %s: reconnecting to supervisor pid %d", obj->def->name,
              (int)sv_process_get_pid(supervisor));
    sv_daemon_inhibit(lxc_ctx->daemon);
    lxc_domain_watch_supervisor(obj, control);
    /* The supervisor's greeting (RUNNING, EXITED or FAILED) brings the rest up to date. */
    carry_on(obj, st);
    lxc_domain_save_status(obj, NULL, NULL);
}

/* A checked status file whose supervisor lives: adopt it, or stop what cannot be managed. */
static void
take_back(const char *path, SvDomainDef **def, const LxcStatus *st, int id,
          SvProcess *supervisor)
{
    g_autoptr(GError) error = NULL;
    g_auto(SvFd) control = lxc_monitor_connect(st->socket, "control", &error);
    SvDomainObj *obj;

    if (control < 0) {
        /* Alive but unreachable: it cannot be managed, so it is stopped. */
        g_warning("domain %s: %s; stopping it", (*def)->name, error->message);
        sv_process_signal(supervisor, SIGTERM, NULL);
        sv_process_free(supervisor);
        return;
    }
    /* The definition on disk decides persistence (conf/domain_obj.h). */
    if (!sv_domain_list_check_live(lxc_ctx->domains->list, *def, SV_FROM_LXC, &error)) {
        sv_status_set_aside(path, error);
        sv_process_free(supervisor);
        return;
    }
    obj = sv_domain_list_take_live(lxc_ctx->domains->list, g_steal_pointer(def));
    adopt(obj, st, id, supervisor, g_steal_fd(&control));
}

static void
reconnect_one(const char *path, const char *entry, gpointer data)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    LxcStatus st = {0};
    SvProcess *supervisor;
    gboolean held;
    int id = 0;

    (void)data;
    if (!g_file_get_contents(path, &text, NULL, &error))
        return;
    def = lxc_status_parse(text, &st, &id, &error);
    if (!def || !check_status(entry, def, &st, &error)) {
        sv_status_set_aside(path, error);
        lxc_status_clear(&st);
        return;
    }
    supervisor = find_supervisor(&st, &held, &error);
    if (supervisor) {
        take_back(path, &def, &st, id, supervisor);
    } else if (error) {
        sv_status_set_aside(path, error);
    } else {
        SvDomainObj *obj = sv_domain_list_find_by_uuid(lxc_ctx->domains->list, def->uuid);
        g_message("domain %s: %s; cleaning up", def->name,
                  held ? "its supervisor never ran (the daemon died before it was released)"
                       : "its supervisor is gone");
        clean_gone(&st, path);
        if (obj && !sv_domain_obj_is_active(obj))
            obj->reason = SV_DOMAIN_SHUTOFF_CRASHED;
    }
    lxc_status_clear(&st);
}

void
lxc_process_reconnect_all(void)
{
    sv_file_walk_dir(lxc_ctx->run_dir, ".xml", reconnect_one, NULL);
    sv_domain_driver_autostart(lxc_ctx->domains, lxc_ctx->run_dir);
}
