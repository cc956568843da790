/* lxc_supervisor.c: one container's supervisor: build it, watch init, reboot it in place,
 * tear it down, and tell the daemon (lxc_proto.h) whenever it is connected.
 *
 * The supervisor's own state changes only through set_state(). Connections and the console
 * relay are in lxc_relay.c; this file holds the container's life. */
#include "lxc_supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cgroup.h"
#include "lxc_container.h"
#include "lxc_relay.h"
#include "lxc_spec.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/log.h"
#include "util/netdev.h"
#include "util/netdev_bandwidth.h"
#include "util/process.h"

#define CLONE_FLAGS (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)
/* With <idmap>, the user namespace comes with the others, which it then owns: the child
 * may mount /proc and sysfs because its PID and network namespaces belong to it. */
#define CLONE_FLAGS_USERNS (CLONE_FLAGS | CLONE_NEWUSER)
#define CGROUP_RETRY_MS 20
#define CGROUP_RETRIES 250 /* 5 s for the last processes to leave the cgroup */

typedef enum {
    SUP_BUILDING,  /* the first init is being started */
    SUP_RUNNING,   /* init runs */
    SUP_REBOOTING, /* init rebooted; a new one is being started */
    SUP_CLEANING,  /* init is gone; removing what is left */
    SUP_EXITED,    /* gone; waiting for the daemon to acknowledge */
    SUP_FAILED,    /* never ran; waiting for the daemon to acknowledge */
    SUP_STATE_LAST
} SupState;

static const char *const state_names[SUP_STATE_LAST] = {"building", "running", "rebooting",
                                                        "cleaning", "exited", "failed"};

/* allowed[from] has bit `to` set for each legal transition. */
static const guint allowed[SUP_STATE_LAST] = {
    [SUP_BUILDING] = 1 << SUP_RUNNING | 1 << SUP_CLEANING,
    [SUP_RUNNING] = 1 << SUP_REBOOTING | 1 << SUP_CLEANING,
    [SUP_REBOOTING] = 1 << SUP_RUNNING | 1 << SUP_CLEANING,
    [SUP_CLEANING] = 1 << SUP_EXITED | 1 << SUP_FAILED,
    [SUP_EXITED] = 0,
    [SUP_FAILED] = 0,
};

typedef struct {
    LxcSpec *spec;
    char *socket_path;
    GMainLoop *loop;
    SupState state;
    LxcRelay *relay;
    SvCgroup *cgroup;
    /* The current init (or the child about to become it). */
    pid_t init_pid;
    int init_pidfd;
    guint init_watch;
    guint64 init_start;
    int error_fd; /* the child's error pipe until exec */
    guint error_watch;
    char *start_error; /* what failed while building */
    gboolean stop_requested;
    /* How the container ended, for EXITED. */
    gboolean signaled;
    int code;
    guint cleanup_timer;
    guint cleanup_tries;
} Supervisor;

static void set_state(Supervisor *sup, SupState to);
static void init_ended(Supervisor *sup, gboolean signaled, int code);

static void
set_state(Supervisor *sup, SupState to)
{
    g_return_if_fail(allowed[sup->state] & (1u << to));
    g_message("container %s: %s -> %s", sup->spec->name, state_names[sup->state],
              state_names[to]);
    sup->state = to;
}

/* ---------------------------------------------------------------- building */

static gboolean
has_userns(const LxcSpec *spec)
{
    return spec->uidmap->len > 0;
}

/* What the child needs, kept alive until it has exec'ed or failed. */
typedef struct {
    GPtrArray *strings;
    GArray *mounts;   /* LxcChildMount */
    GPtrArray *ifaces; /* const char *, NULL-ended */
    GPtrArray *argv;
    GPtrArray *envp;
    char *console;
    LxcChildPlan plan;
} Launch;

static void
launch_free(Launch *l)
{
    g_ptr_array_unref(l->strings);
    g_array_unref(l->mounts);
    g_ptr_array_unref(l->ifaces);
    g_ptr_array_unref(l->argv);
    g_ptr_array_unref(l->envp);
    g_free(l->console);
    g_free(l);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Launch, launch_free)

static const char *
keep(Launch *l, char *s)
{
    g_ptr_array_add(l->strings, s);
    return s;
}

static Launch *
launch_new(Supervisor *sup)
{
    const LxcSpec *spec = sup->spec;
    Launch *l = g_new0(Launch, 1);

    l->strings = g_ptr_array_new_with_free_func(g_free);
    l->mounts = g_array_new(FALSE, TRUE, sizeof(LxcChildMount));
    for (guint i = 0; i < spec->mounts->len; i++) {
        const LxcSpecMount *m = spec->mounts->pdata[i];
        LxcChildMount cm = {m->source, m->target, m->readonly};
        g_array_append_val(l->mounts, cm);
    }
    l->ifaces = g_ptr_array_new();
    g_ptr_array_add(l->ifaces, (gpointer) "lo");
    for (guint i = 0; i < spec->nets->len; i++)
        g_ptr_array_add(l->ifaces, ((LxcSpecNet *)spec->nets->pdata[i])->guest_name);
    g_ptr_array_add(l->ifaces, NULL);
    l->argv = g_ptr_array_new();
    g_ptr_array_add(l->argv, spec->init);
    for (guint i = 0; spec->initargs[i]; i++)
        g_ptr_array_add(l->argv, spec->initargs[i]);
    g_ptr_array_add(l->argv, NULL);
    l->envp = g_ptr_array_new();
    g_ptr_array_add(l->envp, (gpointer) "PATH=/bin:/usr/bin:/sbin:/usr/sbin");
    g_ptr_array_add(l->envp, (gpointer) "TERM=linux");
    g_ptr_array_add(l->envp, (gpointer) "HOME=/");
    g_ptr_array_add(l->envp, (gpointer) "container=lxc-libvirt");
    g_ptr_array_add(l->envp, (gpointer)keep(l, g_strconcat("container_uuid=", spec->uuid, NULL)));
    g_ptr_array_add(l->envp, (gpointer)keep(l, g_strconcat("LIBVIRT_LXC_UUID=", spec->uuid, NULL)));
    g_ptr_array_add(l->envp, (gpointer)keep(l, g_strconcat("LIBVIRT_LXC_NAME=", spec->name, NULL)));
    g_ptr_array_add(l->envp, NULL);
    l->console = g_strconcat(LXC_CHILD_OLDROOT, lxc_relay_get_pty_path(sup->relay), NULL);
    l->plan = (LxcChildPlan){
        .userns = has_userns(spec),
        .root = spec->root,
        .mounts = (const LxcChildMount *)(gpointer)l->mounts->data,
        .n_mounts = l->mounts->len,
        .console = l->console,
        .hostname = spec->hostname,
        .ifaces = (const char *const *)l->ifaces->pdata,
        .init = spec->init,
        .argv = (char *const *)l->argv->pdata,
        .envp = (char *const *)l->envp->pdata,
    };
    return l;
}

static gboolean
write_proc_file(pid_t pid, const char *name, const char *text, GError **error)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/%s", (int)pid, name);
    g_auto(SvFd) fd = open(path, O_WRONLY | O_CLOEXEC);
    gsize len = strlen(text);

    /* The kernel takes a map in one write() or not at all. */
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "cannot write %s", path);
        return FALSE;
    }
    return TRUE;
}

/* The parent's part of a user namespace: its maps, uid first; setgroups() is denied there
 * before the gid map goes in, as for an unprivileged writer (so nothing in the container
 * can change its supplementary groups, su and login included). */
static gboolean
write_idmaps(Supervisor *sup, pid_t pid, GError **error)
{
    g_autofree char *uids = lxc_spec_idmap_format(sup->spec->uidmap);
    g_autofree char *gids = lxc_spec_idmap_format(sup->spec->gidmap);

    return write_proc_file(pid, "uid_map", uids, error) &&
           write_proc_file(pid, "setgroups", "deny", error) &&
           write_proc_file(pid, "gid_map", gids, error);
}

/* Before a clone() into a user namespace: what its root needs on the host side. The
 * console becomes the container root's own (it opens it as that unprivileged uid), and the
 * supervisor drops its supplementary groups, which the child inherits and could not drop
 * itself once setgroups() is denied in its namespace: they would keep the host's group
 * permissions inside. The supervisor needs none of them, being root. */
static gboolean
prepare_userns(Supervisor *sup, GError **error)
{
    const char *pty = lxc_relay_get_pty_path(sup->relay);
    guint uid = lxc_spec_idmap_root(sup->spec->uidmap);
    guint gid = lxc_spec_idmap_root(sup->spec->gidmap);

    if (chown(pty, uid, gid) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "cannot give the console %s to uid %u",
                           pty, uid);
        return FALSE;
    }
    if (setgroups(0, NULL) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "cannot drop supplementary groups");
        return FALSE;
    }
    return TRUE;
}

/* Device nodes a container may use (v1 devices.allow lines): what its /dev offers. */
static const char *const allowed_devices[] = {
    "c 1:3 rwm",   /* null */
    "c 1:5 rwm",   /* zero */
    "c 1:7 rwm",   /* full */
    "c 1:8 rwm",   /* random */
    "c 1:9 rwm",   /* urandom */
    "c 5:0 rwm",   /* tty */
    "c 5:1 rwm",   /* console */
    "c 5:2 rwm",   /* ptmx */
    "c 136:* rwm", /* ptys, the host's console pty among them */
    NULL,
};

static gboolean
prepare_cgroup(Supervisor *sup, GError **error)
{
    if (!sup->cgroup) {
        sup->cgroup = sv_cgroup_new(sup->spec->cgroup_root, sup->spec->cgroup_path, error);
        if (!sup->cgroup)
            return FALSE;
    }
    if (!sv_cgroup_create(sup->cgroup, error) ||
        !sv_cgroup_restrict_devices(sup->cgroup, allowed_devices, error))
        return FALSE;
    if (sup->spec->memory && !sv_cgroup_set_memory_limit(sup->cgroup, sup->spec->memory, error))
        return FALSE;
    return TRUE;
}

/* The parent's part once the child exists: id maps, cgroup and links, before the child
 * goes on. */
static gboolean
place_child(Supervisor *sup, pid_t pid, GError **error)
{
    if (has_userns(sup->spec) && !write_idmaps(sup, pid, error))
        return FALSE;
    if (!sv_cgroup_add_process(sup->cgroup, pid, error))
        return FALSE;
    for (guint i = 0; i < sup->spec->nets->len; i++) {
        const LxcSpecNet *n = sup->spec->nets->pdata[i];
        /* The host end's rates, as libvirt's LXC driver sets them (swapped: what the
         * host sends through it goes to the container). */
        if (!sv_netdev_veth_create(n->host_name, n->guest_name, n->mac, pid, error) ||
            (n->bridge && !sv_netdev_bridge_add_port(n->bridge, n->host_name, error)) ||
            !sv_netdev_bandwidth_set(n->host_name, n->bandwidth, TRUE, error))
            return FALSE;
    }
    return TRUE;
}

static void
delete_links(Supervisor *sup)
{
    for (guint i = 0; i < sup->spec->nets->len; i++) {
        const LxcSpecNet *n = sup->spec->nets->pdata[i];
        g_autoptr(GError) error = NULL;
        if (!sv_netdev_delete(n->host_name, &error))
            g_warning("%s", error->message);
    }
}

static void
stop_watching_child(Supervisor *sup)
{
    if (sup->error_watch)
        g_source_remove(sup->error_watch);
    sup->error_watch = 0;
    sv_fd_clear(&sup->error_fd);
}

/* The error pipe: a report means the child failed; end of file means init was exec'ed
 * (announced as running unless the child is known to be gone already). */
static void
read_child_report(Supervisor *sup, gboolean announce)
{
    LxcChildError e;
    ssize_t n;

    do {
        n = read(sup->error_fd, &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(e)) {
        e.what[sizeof(e.what) - 1] = '\0';
        g_free(sup->start_error);
        sup->start_error = g_strdup_printf("%s: %s", e.what, g_strerror(e.err));
        if (has_userns(sup->spec) && e.err == EACCES) {
            char *hint = g_strdup_printf(
                "%s (with <idmap>, the container's root is uid %u on the host: its root "
                "filesystem, the directories above it and the sources of its filesystems "
                "must be accessible to that uid)",
                sup->start_error, lxc_spec_idmap_root(sup->spec->uidmap));
            g_free(sup->start_error);
            sup->start_error = hint;
        }
    } else if (n < 0 && errno == EAGAIN) {
        return; /* not yet */
    }
    stop_watching_child(sup);
    if (sup->start_error || n != 0 || !announce)
        return; /* the child exits; its pidfd finishes the failure */
    sup->init_start = sv_process_read_start_time(sup->init_pid);
    g_message("container %s: init %d runs %s", sup->spec->name, (int)sup->init_pid,
              sup->spec->init);
    if (sup->state == SUP_REBOOTING) {
        LxcMsg m = {.type = LXC_MSG_REBOOTED, .pid = sup->init_pid,
                    .start_time = sup->init_start};
        lxc_relay_send(sup->relay, &m);
    }
    set_state(sup, SUP_RUNNING);
    {
        LxcMsg m = {.type = LXC_MSG_RUNNING, .pid = sup->init_pid, .start_time = sup->init_start,
                    .pty = (char *)lxc_relay_get_pty_path(sup->relay)};
        lxc_relay_set_status(sup->relay, &m);
    }
    if (sup->stop_requested)
        pidfd_send_signal(sup->init_pidfd, SIGKILL, NULL, 0);
}

static gboolean
on_child_report(gint fd, GIOCondition cond, gpointer data)
{
    Supervisor *sup = data;

    (void)fd;
    (void)cond;
    sup->error_watch = 0;
    read_child_report(sup, TRUE);
    if (sup->error_fd >= 0)
        sup->error_watch = g_unix_fd_add(sup->error_fd, G_IO_IN | G_IO_HUP, on_child_report, sup);
    return G_SOURCE_REMOVE;
}

static gboolean
on_init_exit(gint fd, GIOCondition cond, gpointer data)
{
    Supervisor *sup = data;
    siginfo_t info = {0};

    (void)cond;
    sup->init_watch = 0;
    if (waitid(P_PIDFD, fd, &info, WEXITED) < 0) {
        g_warning("cannot collect init %d: %s", (int)sup->init_pid, g_strerror(errno));
        info.si_code = CLD_KILLED;
        info.si_status = SIGKILL;
    }
    /* A report the child wrote just before it exited counts. */
    if (sup->error_fd >= 0)
        read_child_report(sup, FALSE);
    stop_watching_child(sup);
    sv_fd_clear(&sup->init_pidfd);
    init_ended(sup, info.si_code != CLD_EXITED, info.si_status);
    return G_SOURCE_REMOVE;
}

/* Clone the container's first process and let it go once it is placed. */
static gboolean
launch(Supervisor *sup, GError **error)
{
    g_autoptr(Launch) l = NULL;
    int sync_fds[2], err_fds[2];
    g_auto(SvFd) sync_w = -1;
    pid_t pid;

    if (!prepare_cgroup(sup, error))
        return FALSE;
    if (has_userns(sup->spec) && !prepare_userns(sup, error))
        return FALSE;
    l = launch_new(sup);
    if (pipe2(sync_fds, O_CLOEXEC) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "cannot create a pipe");
        return FALSE;
    }
    if (pipe2(err_fds, O_CLOEXEC) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "cannot create a pipe");
        close(sync_fds[0]);
        close(sync_fds[1]);
        return FALSE;
    }
    l->plan.sync_fd = sync_fds[0];
    l->plan.error_fd = err_fds[1];
    fflush(NULL);
    /* Fork semantics (no new stack): the child runs lxc_container_child on a copy of ours. */
    pid = (pid_t)syscall(SYS_clone,
                         (has_userns(sup->spec) ? CLONE_FLAGS_USERNS : CLONE_FLAGS) | SIGCHLD,
                         NULL, NULL, NULL, NULL);
    if (pid == 0) {
        close(sync_fds[1]);
        close(err_fds[0]);
        lxc_container_child(&l->plan);
    }
    close(sync_fds[0]);
    close(err_fds[1]);
    sync_w = sync_fds[1];
    if (pid < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "cannot create the container's namespaces");
        close(err_fds[0]);
        return FALSE;
    }
    sup->init_pid = pid;
    sup->init_pidfd = pidfd_open(pid, 0);
    sup->error_fd = err_fds[0];
    g_unix_set_fd_nonblocking(sup->error_fd, TRUE, NULL);
    sup->init_watch = g_unix_fd_add(sup->init_pidfd, G_IO_IN, on_init_exit, sup);
    if (!place_child(sup, pid, error)) {
        /* The child sees end of file on its sync pipe and exits; its pidfd reports it. */
        return FALSE;
    }
    if (write(sync_w, "g", 1) != 1) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "cannot start the container");
        return FALSE;
    }
    sup->error_watch = g_unix_fd_add(sup->error_fd, G_IO_IN | G_IO_HUP, on_child_report, sup);
    return TRUE;
}

/* Start (or restart) init; a failure ends in FAILED once the child is gone. */
static void
start_init(Supervisor *sup)
{
    g_autoptr(GError) error = NULL;

    if (launch(sup, &error))
        return;
    g_free(sup->start_error);
    sup->start_error = g_strdup(error->message);
    if (sup->init_pidfd >= 0) {
        /* The half-built child goes; on_init_exit carries on from there. */
        pidfd_send_signal(sup->init_pidfd, SIGKILL, NULL, 0);
        return;
    }
    init_ended(sup, FALSE, 1);
}

/* ---------------------------------------------------------------- ending */

static void
finish(Supervisor *sup)
{
    LxcMsg m = {0};

    delete_links(sup);
    lxc_relay_close_consoles(sup->relay);
    if (sup->start_error) {
        g_message("container %s: failed to start: %s", sup->spec->name, sup->start_error);
        set_state(sup, SUP_FAILED);
        m.type = LXC_MSG_FAILED;
        m.text = sup->start_error;
    } else {
        g_message("container %s: init ended (%s %d)", sup->spec->name,
                  sup->signaled ? "signal" : "status", sup->code);
        set_state(sup, SUP_EXITED);
        m.type = LXC_MSG_EXITED;
        m.signaled = sup->signaled;
        m.code = sup->code;
    }
    /* The supervisor leaves once the daemon has seen this (lxc_relay.c); when it was told
     * to stop with no daemon there to tell, at once. */
    lxc_relay_set_status(sup->relay, &m);
    lxc_relay_set_final(sup->relay);
    if (sup->stop_requested && !lxc_relay_has_control(sup->relay))
        g_main_loop_quit(sup->loop);
}

/* Empty and remove the cgroup; stragglers outside init's PID namespace get SIGKILL, and
 * the removal is retried until the last of them has left. */
static gboolean
cleanup_step(gpointer data)
{
    Supervisor *sup = data;
    g_autoptr(GError) error = NULL;

    sup->cleanup_timer = 0;
    if (sup->cgroup) {
        sv_cgroup_kill_all(sup->cgroup, SIGKILL);
        if (!sv_cgroup_remove(sup->cgroup, &error) && ++sup->cleanup_tries < CGROUP_RETRIES) {
            sup->cleanup_timer = g_timeout_add(CGROUP_RETRY_MS, cleanup_step, sup);
            return G_SOURCE_REMOVE;
        }
        if (error)
            g_warning("container %s: %s", sup->spec->name, error->message);
    }
    finish(sup);
    return G_SOURCE_REMOVE;
}

static void
init_ended(Supervisor *sup, gboolean signaled, int code)
{
    gboolean reboot = signaled && code == SIGHUP && sup->spec->reboot_restarts &&
                      !sup->stop_requested && !sup->start_error;

    sup->init_pid = 0;
    if (sup->cgroup)
        sv_cgroup_kill_all(sup->cgroup, SIGKILL);
    if (reboot) {
        /* reboot() inside the PID namespace ended init with SIGHUP: start over, keeping
         * the console and the cgroup. The old veth pairs die with the old namespace,
         * but the kernel may not have got to it yet. */
        g_message("container %s: rebooting", sup->spec->name);
        set_state(sup, SUP_REBOOTING);
        lxc_relay_set_status(sup->relay, NULL);
        delete_links(sup);
        start_init(sup);
        return;
    }
    sup->signaled = signaled;
    sup->code = code;
    set_state(sup, SUP_CLEANING);
    cleanup_step(sup);
}

/* ---------------------------------------------------------------- main */

static gboolean
on_stop_signal(gpointer data)
{
    Supervisor *sup = data;

    g_message("container %s: asked to stop", sup->spec->name);
    sup->stop_requested = TRUE;
    if ((sup->state == SUP_EXITED || sup->state == SUP_FAILED) &&
        !lxc_relay_has_control(sup->relay))
        g_main_loop_quit(sup->loop);
    if (sup->init_pidfd >= 0)
        pidfd_send_signal(sup->init_pidfd, SIGKILL, NULL, 0);
    /* Also thaws a paused container, whose processes could not die frozen. */
    if (sup->cgroup && sup->state != SUP_CLEANING && sup->state != SUP_EXITED &&
        sup->state != SUP_FAILED)
        sv_cgroup_kill_all(sup->cgroup, SIGKILL);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_ignored_signal(gpointer data)
{
    (void)data;
    return G_SOURCE_CONTINUE;
}

static void
on_relay_done(gpointer data)
{
    Supervisor *sup = data;

    g_main_loop_quit(sup->loop);
}

static LxcSpec *
read_spec(GError **error)
{
    g_autoptr(GString) text = g_string_new(NULL);
    char buf[4096];
    ssize_t n;

    while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sv_error_set_errno(error, SV_FROM_LXC, errno, "cannot read the container spec");
            return NULL;
        }
        g_string_append_len(text, buf, n);
    }
    return lxc_spec_parse(text->str, error);
}

static void
supervisor_clear(Supervisor *sup)
{
    if (sup->cleanup_timer)
        g_source_remove(sup->cleanup_timer);
    if (sup->init_watch)
        g_source_remove(sup->init_watch);
    stop_watching_child(sup);
    sv_fd_clear(&sup->init_pidfd);
    lxc_relay_free(sup->relay);
    sv_cgroup_free(sup->cgroup);
    lxc_spec_free(sup->spec);
    g_free(sup->start_error);
    g_free(sup->socket_path);
    if (sup->loop)
        g_main_loop_unref(sup->loop);
}

int
lxc_supervisor_main(int argc, char **argv)
{
    Supervisor sup = {.init_pidfd = -1, .error_fd = -1};
    g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *name = NULL;
    gboolean verbose = FALSE;
    int listen_fd = -1;
    GOptionEntry entries[] = {
        {"name", 0, 0, G_OPTION_ARG_STRING, &name, "Container name", "NAME"},
        {"listen-fd", 0, 0, G_OPTION_ARG_INT, &listen_fd, "Listening socket", "FD"},
        {"socket", 0, 0, G_OPTION_ARG_FILENAME, &sup.socket_path, "Its path", "PATH"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log debug messages", NULL},
        G_OPTION_ENTRY_NULL,
    };
    int status = EXIT_FAILURE;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || listen_fd < 3 || !name ||
        !sup.socket_path) {
        fprintf(stderr, "virtlxcd-supervisor: %s\n",
                error ? error->message : "--name, --listen-fd and --socket are required");
        return 2;
    }
    sv_log_init("virtlxcd-supervisor", verbose);
    signal(SIGPIPE, SIG_IGN);
    fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
    sup.spec = read_spec(&error);
    if (!sup.spec || !g_str_equal(sup.spec->name, name)) {
        g_critical("virtlxcd-supervisor: %s",
                   error ? error->message : "the spec is for another container");
        close(listen_fd);
        supervisor_clear(&sup);
        return EXIT_FAILURE;
    }
    sup.loop = g_main_loop_new(NULL, FALSE);
    sup.relay = lxc_relay_new(listen_fd, sup.socket_path, on_relay_done, &sup, &error);
    if (!sup.relay) {
        g_critical("container %s: %s", name, error->message);
        close(listen_fd);
    } else {
        g_unix_signal_add(SIGTERM, on_stop_signal, &sup);
        g_unix_signal_add(SIGINT, on_stop_signal, &sup);
        g_unix_signal_add(SIGHUP, on_ignored_signal, &sup);
        start_init(&sup);
        g_main_loop_run(sup.loop);
        status = EXIT_SUCCESS;
    }
    supervisor_clear(&sup);
    return status;
}
