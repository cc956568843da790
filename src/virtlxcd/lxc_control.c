/* lxc_control.c: the procedures that act on a container: destroy (GRACEFUL too), shutdown
 * and reboot through initctl or a signal, suspend and resume through the freezer, and the
 * glue of the daemon (AUTODESTROY, CPU time, the console's socket, persistence). */
#include "lxc_domain.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"

static SvDomainObj *
lookup(const remote_nonnull_domain *dom, GError **error)
{
    return sv_domain_list_lookup_handle(lxc_ctx->domains->list, dom, SV_FROM_LXC, error);
}

static gboolean
check_flags(guint flags, guint supported, const char *func, GError **error)
{
    return sv_check_flags(flags, supported, SV_FROM_LXC, func, error);
}

/* Destroy: the kill state machine on init (in its PID namespace, init's death takes every
 * other process with it); whatever is left in the cgroup is killed when the supervisor
 * cleans up. A frozen container is thawed first, or it could not act on any signal. */
static gboolean
destroy_common(SvCall *call, const remote_nonnull_domain *dom, guint flags, GError **error)
{
    SvDomainObj *obj;
    LxcDomain *ld;
    LxcDestroyJob *job;
    gboolean graceful = flags & SV_DOMAIN_DESTROY_GRACEFUL;
    guint term_ms = graceful ? lxc_ctx->timeouts.graceful_timeout_ms
                             : lxc_ctx->timeouts.term_timeout_ms;

    if (!check_flags(flags, SV_DOMAIN_DESTROY_GRACEFUL | SV_DOMAIN_DESTROY_REMOVE_LOGS,
                     "lxcDomainDestroyFlags", error))
        return FALSE;
    obj = lookup(dom, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ld = lxc_domain_of(obj);
    sv_domain_driver_set_cause_call(obj, call);
    job = g_new0(LxcDestroyJob, 1);
    job->call = sv_call_defer(call);
    job->remove_logs = (flags & SV_DOMAIN_DESTROY_REMOVE_LOGS) != 0;
    job->log = sv_guest_log_path(lxc_ctx->log_dir, obj->def->name);
    g_ptr_array_add(ld->stop_waiters, job);
    if (!ld->init || ld->ended) {
        /* Still starting, between a reboot and the next init, or already ending: the
         * supervisor stops the container on SIGTERM. */
        sv_domain_run_set(lxc_ctx->domains, obj, SV_RUN_STOPPING,
                          graceful ? SV_STOP_DESTROY_GRACEFUL : SV_STOP_DESTROY);
        ld->carried = FALSE;
        if (!ld->ended)
            lxc_domain_stop_supervisor(ld);
        return TRUE;
    }
    if (ld->cgroup && lxc_cgroup_is_frozen(ld->cgroup)) {
        ld->refreeze = graceful;
        lxc_cgroup_set_frozen(ld->cgroup, FALSE, NULL);
    }
    lxc_domain_kill_init(obj, graceful, g_get_monotonic_time() + (gint64)term_ms * 1000);
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

    if (!check_flags(flags, SV_DOMAIN_SHUTDOWN_INITCTL | SV_DOMAIN_SHUTDOWN_SIGNAL,
                     reboot ? "lxcDomainReboot" : "lxcDomainShutdownFlags", error))
        return FALSE;
    obj = lookup(dom, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ld = lxc_domain_of(obj);
    if (!ld->init || ld->ended) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID,
                     "Init process ID is not yet known");
        return FALSE;
    }
    if (flags == 0 || (flags & SV_DOMAIN_SHUTDOWN_INITCTL)) {
        done = initctl_request(sv_process_get_pid(ld->init), reboot ? '6' : '0');
        if (!done && flags != 0 && !(flags & SV_DOMAIN_SHUTDOWN_SIGNAL)) {
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
    sv_guest_log_printf(ld->log_fd, "%s requested", reboot ? "reboot" : "shutdown");
    return TRUE;
}

static gboolean
domain_suspend(SvCall *call, remote_domain_suspend_args *a, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);
    LxcDomain *ld;

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ld = lxc_domain_of(obj);
    if (obj->state == SV_DOMAIN_PAUSED && !sv_domain_run_in_start(obj))
        return TRUE; /* libvirt: no error, no event */
    if (sv_domain_run_in_start(obj) || ld->ended || !ld->cgroup ||
        !lxc_cgroup_set_frozen(ld->cgroup, TRUE, NULL)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_FAILED, "Suspend operation failed");
        return FALSE;
    }
    sv_domain_driver_set_cause_call(obj, call);
    sv_domain_driver_set_state_event(lxc_ctx->domains, obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_USER,
                                     SV_DOMAIN_EVENT_SUSPENDED, SV_DOMAIN_EVENT_SUSPENDED_PAUSED);
    return TRUE;
}

static gboolean
domain_resume(SvCall *call, remote_domain_resume_args *a, GError **error)
{
    SvDomainObj *obj = lookup(&a->dom, error);
    LxcDomain *ld;

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ld = lxc_domain_of(obj);
    if (obj->state == SV_DOMAIN_RUNNING) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID, "domain is already running");
        return FALSE;
    }
    if (obj->state != SV_DOMAIN_PAUSED || sv_domain_run_in_start(obj))
        return TRUE;
    if (ld->ended || !ld->cgroup || !lxc_cgroup_set_frozen(ld->cgroup, FALSE, NULL)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_FAILED, "Resume operation failed");
        return FALSE;
    }
    sv_domain_driver_set_cause_call(obj, call);
    sv_domain_driver_set_state_event(lxc_ctx->domains, obj, SV_DOMAIN_RUNNING,
                                     SV_DOMAIN_RUNNING_UNPAUSED, SV_DOMAIN_EVENT_RESUMED,
                                     SV_DOMAIN_EVENT_RESUMED_UNPAUSED);
    return TRUE;
}

/* ---------------------------------------------------------------- glue */

const char *
lxc_process_get_console_socket(SvDomainObj *obj)
{
    LxcDomain *ld = obj->priv;

    return ld && !sv_domain_run_in_start(obj) && !ld->ended ? ld->socket_path : NULL;
}

void
lxc_process_client_closed(SvClient *client)
{
    guint64 id = sv_client_get_id(client);
    g_autoptr(GPtrArray) active = NULL;

    if (!lxc_ctx)
        return;
    active = sv_domain_list_filter(lxc_ctx->domains->list, SV_CONNECT_LIST_DOMAINS_ACTIVE);
    for (guint i = 0; i < active->len; i++) {
        SvDomainObj *obj = active->pdata[i];
        LxcDomain *ld = obj->priv;
        if (ld && ld->autodestroy_client == id && !sv_domain_run_destroying(obj)) {
            g_message("domain %s: its client went away, destroying (AUTODESTROY)",
                      obj->def->name);
            lxc_domain_destroy_quietly(obj, "its AUTODESTROY client went away");
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
        .start = lxc_start_container,
        .with_flags = SV_DOMAIN_START_AUTODESTROY,
        .with_flags_suffix = "DomainCreateWithFiles",
        .xml_flags = SV_DOMAIN_START_AUTODESTROY | SV_DOMAIN_START_VALIDATE,
        .xml_suffix = "DomainCreateXMLWithFiles",
        .destroy = destroy_common,
        .shutdown = shutdown_common,
    };

    lxc_ctx = c;
    c->domains->save_status = lxc_domain_save_status;
    sv_domain_driver_install_lifecycle(lxc_ctx->domains, &lifecycle, h);
    h->domain_suspend = domain_suspend;
    h->domain_resume = domain_resume;
}
