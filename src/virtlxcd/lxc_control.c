/* lxc_control.c: the procedures that act on a container: destroy (GRACEFUL too), shutdown
 * and reboot through initctl or a signal, suspend and resume through the freezer, and the
 * glue of the daemon (CPU time, the console's socket, persistence). */
#include "lxc_domain.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "domain/domain_control.h"
#include "util/error.h"
#include "util/fd.h"

/* Destroy: the kill state machine on init (in its PID namespace, init's death takes every
 * other process with it); whatever is left in the cgroup is killed when the supervisor
 * cleans up. A frozen container is thawed first, or it could not act on any signal. The
 * container is STOPPING with the destroy's cause (the shared layer named it). */
static gboolean
act_destroy(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    const LxcProcessContext *ctx = lxc_ctx_of(obj);
    LxcDomain *ld = lxc_domain_of(obj);
    gboolean graceful = job->graceful;

    (void)error;
    /* Answered once the container is gone (the log removed then), or failed with the kill
     * of init (destroy_killed): the engine's stop calls. */
    sv_guest_job_wait_gone(job, &ld->run);
    if (!ld->init || ld->ended) {
        /* Still starting, between a reboot and the next init, or already ending: the
         * supervisor stops the container on SIGTERM. */
        sv_domain_driver_save_status(ctx->domains, obj);
        ld->carried = FALSE;
        if (!ld->ended)
            lxc_domain_stop_supervisor(ld);
        return TRUE;
    }
    if (ld->cgroup && sv_cgroup_is_frozen(ld->cgroup)) {
        ld->refreeze = graceful;
        sv_cgroup_set_frozen(ld->cgroup, FALSE, NULL);
    }
    lxc_domain_kill_init(obj, graceful,
                         g_get_monotonic_time() +
                             (gint64)sv_kill_timeouts_term(&ctx->timeouts, graceful) * 1000);
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
act_shutdown(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    LxcDomain *ld = lxc_domain_of(obj);
    gboolean reboot = job->op == SV_GUEST_REBOOT;
    guint flags = job->flags;
    gboolean done = FALSE;

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
    sv_guest_log_printf(ld->log_fd, "%s requested", reboot ? "reboot" : "shutdown");
    sv_guest_job_done(job, NULL);
    return TRUE;
}

static gboolean
init_unknown(const SvDomainObj *obj)
{
    const LxcDomain *ld = obj->priv;

    return !ld->init || ld->ended;
}

/* The freezer: the whole container's cgroup is frozen or thawed. */
static gboolean
act_freeze(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    LxcDomain *ld = lxc_domain_of(obj);
    gboolean freeze = job->op == SV_GUEST_SUSPEND;

    if (sv_domain_run_in_start(obj) || ld->ended || !ld->cgroup ||
        !sv_cgroup_set_frozen(ld->cgroup, freeze, NULL)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_FAILED, "%s operation failed",
                     freeze ? "Suspend" : "Resume");
        return FALSE;
    }
    sv_guest_job_done(job, NULL);
    return TRUE;
}

/* Resuming what is not paused (or still starting) needs nothing. */
static gboolean
is_not_paused(const SvDomainObj *obj)
{
    return obj->state != SV_DOMAIN_PAUSED || sv_domain_run_in_start(obj);
}

#define SHUTDOWN_FLAGS (SV_DOMAIN_SHUTDOWN_INITCTL | SV_DOMAIN_SHUTDOWN_SIGNAL)
#define INIT_UNKNOWN                                                                               \
    {.when = init_unknown, .from = SV_FROM_LXC, .code = SV_ERR_OPERATION_INVALID,                \
     .message = "Init process ID is not yet known"}

/* The facts of the procedures that start a container and act on a running one
 * (domain/domain_lifecycle.c and domain_control.c serve them); there is no RESET. */
static const SvGuestOps lxc_guest_ops = {
    .start = lxc_start_container,
    .destroy_quietly = lxc_domain_destroy_quietly, /* AUTODESTROY */
    .procs = {
        [SV_GUEST_SUSPEND] = {.rules = SV_GUEST_RULE_ACTIVE | SV_GUEST_RULE_PAUSED_NOOP,
                              .act = act_freeze},
        [SV_GUEST_RESUME] = {.rules = SV_GUEST_RULE_ACTIVE,
                             .refuse = {{NULL, SV_FROM_LXC, SV_ERR_OPERATION_INVALID,
                                         "domain is already running", SV_DOMAIN_RUNNING}},
                             .noop = is_not_paused, .act = act_freeze},
        [SV_GUEST_DESTROY] = {.flags = SV_DOMAIN_DESTROY_GRACEFUL | SV_DOMAIN_DESTROY_REMOVE_LOGS,
                              .func = "lxcDomainDestroyFlags",
                              .rules = SV_GUEST_RULE_ACTIVE | SV_GUEST_RULE_NAME_STOP,
                              .act = act_destroy},
        [SV_GUEST_SHUTDOWN] = {.flags = SHUTDOWN_FLAGS, .func = "lxcDomainShutdownFlags",
                               .rules = SV_GUEST_RULE_ACTIVE, .refuse = {INIT_UNKNOWN},
                               .act = act_shutdown},
        [SV_GUEST_REBOOT] = {.flags = SHUTDOWN_FLAGS, .func = "lxcDomainReboot",
                             .rules = SV_GUEST_RULE_ACTIVE, .refuse = {INIT_UNKNOWN},
                             .act = act_shutdown},
        /* The starts take libvirt's LXC names (the calls come with files). */
        [SV_GUEST_CREATE_WITH_FLAGS] = {.flags = SV_DOMAIN_START_AUTODESTROY,
                                        .func = "lxcDomainCreateWithFiles"},
        [SV_GUEST_CREATE_XML] = {.flags = SV_DOMAIN_START_AUTODESTROY | SV_DOMAIN_START_VALIDATE,
                                 .func = "lxcDomainCreateXMLWithFiles"},
    },
};

/* ---------------------------------------------------------------- glue */

const char *
lxc_process_get_console_socket(SvDomainObj *obj)
{
    LxcDomain *ld = obj->priv;

    return ld && !sv_domain_run_in_start(obj) && !ld->ended ? ld->socket_path : NULL;
}

guint64
lxc_process_cpu_time(SvDomainDriver *drv, SvDomainObj *obj)
{
    LxcDomain *ld = obj->priv;

    (void)drv;
    return ld && ld->cgroup ? sv_cgroup_get_cpu_time(ld->cgroup) : 0;
}

void
lxc_process_install(LxcProcessContext *c, SvRemoteHandlers *h)
{
    c->domains->log_dir = c->log_dir;
    sv_domain_driver_install_lifecycle(c->domains, &lxc_guest_ops, h);
}
