/* process.c: pidfd-held processes and the kill state machine. */
#include "util/process.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"

typedef struct {
    SvProcessKillFunc done;
    gpointer data;
    gboolean graceful;
} KillWaiter;

struct SvProcess {
    pid_t pid;
    int pidfd;
    guint64 start_time;
    gboolean is_child;
    SvProcessState state;
    guint watch;
    guint timer;
    int last_signal;      /* SIGTERM or SIGKILL, for the error text */
    gboolean graceful;    /* the running kill request never escalates */
    gint64 term_deadline; /* monotonic end of the SIGTERM wait of the running request */
    guint kill_ms;
    int gate;             /* held before exec: the write end the child waits on, or -1 */
    int exec_status;      /* held: the read end telling whether exec worked, or -1 */
    char *exec_name;      /* held: the program, for errors */
    GArray *waiters;      /* KillWaiter */
    SvProcessExitFunc exit_fn;
    gpointer exit_data;
    SvProcessExit how;
};

static const char *state_names[SV_PROCESS_STATE_LAST] = {
    "alive", "sigterm-sent", "sigkill-sent", "exited", "failed",
};

const char *
sv_process_state_to_string(SvProcessState s)
{
    return s < SV_PROCESS_STATE_LAST ? state_names[s] : NULL;
}

gboolean
sv_proc_stat_field(const char *text, int field, guint64 *ret)
{
    /* The command name may hold spaces and parentheses: fields resume after the last ')',
     * with field 3 (the state). */
    const char *p = text ? strrchr(text, ')') : NULL;
    int n = 2;

    if (!p || field < 3)
        return FALSE;
    for (p++; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (++n == field) {
            *ret = g_ascii_strtoull(p, NULL, 10);
            return TRUE;
        }
        while (*p && *p != ' ')
            p++;
    }
    return FALSE;
}

static char *
read_stat(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

guint64
sv_process_read_start_time(pid_t pid)
{
    g_autofree char *text = read_stat(pid);
    guint64 start = 0;

    return sv_proc_stat_field(text, 22, &start) ? start : 0;
}

guint64
sv_process_read_cpu_time(pid_t pid)
{
    g_autofree char *text = read_stat(pid);
    guint64 utime = 0, stime = 0;

    if (!sv_proc_stat_field(text, 14, &utime) || !sv_proc_stat_field(text, 15, &stime))
        return 0;
    return (utime + stime) * (G_GUINT64_CONSTANT(1000000000) / (guint64)sysconf(_SC_CLK_TCK));
}

static void
finish_waiters(SvProcess *proc, const GError *error)
{
    g_autoptr(GArray) waiters = proc->waiters;

    proc->waiters = g_array_new(FALSE, FALSE, sizeof(KillWaiter));
    for (guint i = 0; i < waiters->len; i++) {
        KillWaiter *w = &g_array_index(waiters, KillWaiter, i);
        w->done(proc, error, w->data);
    }
}

static void
stop_timer(SvProcess *proc)
{
    if (proc->timer)
        g_source_remove(proc->timer);
    proc->timer = 0;
}

static gboolean
on_pidfd(gint fd, GIOCondition cond, gpointer data)
{
    SvProcess *proc = data;
    siginfo_t info = {0};

    (void)fd;
    (void)cond;
    proc->watch = 0;
    stop_timer(proc);
    proc->state = SV_PROCESS_EXITED;
    /* Reap our own child now; anyone else's is its parent's to reap. */
    if (proc->is_child && waitid(P_PIDFD, proc->pidfd, &info, WEXITED) == 0) {
        proc->how.known = TRUE;
        proc->how.signaled = info.si_code != CLD_EXITED;
        proc->how.code = info.si_status;
    }
    g_debug("process %d exited", (int)proc->pid);
    /* The owner learns of the exit first, so that by the time a kill request
     * completes, the owner's state already says the process is gone. The owner
     * must not free proc from its exit callback (free it from an idle). */
    if (proc->exit_fn)
        proc->exit_fn(proc, &proc->how, proc->exit_data);
    finish_waiters(proc, NULL);
    return G_SOURCE_REMOVE;
}

static SvProcess *
process_new(pid_t pid, int pidfd, guint64 start_time, gboolean is_child)
{
    SvProcess *proc = g_new0(SvProcess, 1);

    proc->pid = pid;
    proc->pidfd = pidfd;
    proc->start_time = start_time;
    proc->is_child = is_child;
    proc->state = SV_PROCESS_ALIVE;
    proc->gate = -1;
    proc->exec_status = -1;
    proc->waiters = g_array_new(FALSE, FALSE, sizeof(KillWaiter));
    proc->watch = g_unix_fd_add(pidfd, G_IO_IN, on_pidfd, proc);
    return proc;
}

void
sv_process_free(SvProcess *proc)
{
    if (!proc)
        return;
    stop_timer(proc);
    if (proc->watch)
        g_source_remove(proc->watch);
    /* A held child that was never released sees its gate close and exits. */
    if (proc->gate >= 0)
        close(proc->gate);
    if (proc->exec_status >= 0)
        close(proc->exec_status);
    g_free(proc->exec_name);
    close(proc->pidfd);
    g_array_unref(proc->waiters);
    g_free(proc);
}

static gboolean
free_idle(gpointer proc)
{
    sv_process_free(proc);
    return G_SOURCE_REMOVE;
}

void
sv_process_free_later(SvProcess *proc)
{
    if (proc)
        g_idle_add(free_idle, proc);
}

void
sv_process_set_exit_func(SvProcess *proc, SvProcessExitFunc fn, gpointer data)
{
    proc->exit_fn = fn;
    proc->exit_data = data;
}

pid_t
sv_process_get_pid(SvProcess *proc)
{
    return proc->pid;
}

guint64
sv_process_get_start_time(SvProcess *proc)
{
    return proc->start_time;
}

SvProcessState
sv_process_get_state(SvProcess *proc)
{
    return proc->state;
}

gboolean
sv_process_is_alive(SvProcess *proc)
{
    return proc->state != SV_PROCESS_EXITED;
}

gboolean
sv_process_signal(SvProcess *proc, int sig, GError **error)
{
    if (proc->state == SV_PROCESS_EXITED)
        return FALSE;
    if (pidfd_send_signal(proc->pidfd, sig, NULL, 0) < 0) {
        if (errno == ESRCH)
            return FALSE; /* exited; the pidfd will say so on the loop */
        sv_error_set_errno(error, SV_FROM_NONE, errno, "Failed to terminate process %lld with %s",
                           (long long)proc->pid, sig == SIGKILL ? "SIGKILL" : "SIGTERM");
        return FALSE;
    }
    return TRUE;
}

static void
timeout_error(SvProcess *proc, GError **error)
{
    sv_error_set_errno(error, SV_FROM_NONE, EBUSY, "Failed to terminate process %lld with SIG%s",
                       (long long)proc->pid, proc->last_signal == SIGKILL ? "KILL" : "TERM");
}

static gboolean
on_timeout(gpointer data)
{
    SvProcess *proc = data;
    g_autoptr(GError) error = NULL;

    proc->timer = 0;
    if (proc->state == SV_PROCESS_TERM_SENT && !proc->graceful) {
        g_debug("process %d outlived SIGTERM, sending SIGKILL", (int)proc->pid);
        proc->state = SV_PROCESS_KILL_SENT;
        proc->last_signal = SIGKILL;
        if (!sv_process_signal(proc, SIGKILL, &error) && error) {
            proc->state = SV_PROCESS_FAILED;
            finish_waiters(proc, error);
            return G_SOURCE_REMOVE;
        }
        proc->timer = g_timeout_add(proc->kill_ms, on_timeout, proc);
        return G_SOURCE_REMOVE;
    }
    /* Graceful wait over, or even SIGKILL did not end it (D state, frozen). */
    proc->state = SV_PROCESS_FAILED;
    timeout_error(proc, &error);
    g_message("%s", error->message);
    finish_waiters(proc, error);
    /* Still alive: a later request starts over. */
    if (proc->state == SV_PROCESS_FAILED)
        proc->state = SV_PROCESS_ALIVE;
    return G_SOURCE_REMOVE;
}

/* (Re)arm the timer for the end of the SIGTERM wait. */
static void
arm_term_timer(SvProcess *proc)
{
    gint64 left = proc->term_deadline - g_get_monotonic_time();

    stop_timer(proc);
    proc->timer = g_timeout_add(left > 0 ? (guint)((left + 999) / 1000) : 0, on_timeout, proc);
}

void
sv_process_kill_until(SvProcess *proc, gboolean graceful, gint64 term_deadline, guint kill_ms,
                      SvProcessKillFunc done, gpointer data)
{
    KillWaiter w = {done, data, graceful};
    g_autoptr(GError) error = NULL;

    if (proc->state == SV_PROCESS_EXITED) {
        done(proc, NULL, data);
        return;
    }
    g_array_append_val(proc->waiters, w);
    if (proc->state == SV_PROCESS_TERM_SENT || proc->state == SV_PROCESS_KILL_SENT) {
        /* A forced request never waits longer than it would have on its own. */
        if (!graceful && proc->graceful) {
            proc->graceful = FALSE; /* the timer now escalates instead of failing */
            proc->kill_ms = kill_ms;
            if (proc->state == SV_PROCESS_TERM_SENT && term_deadline < proc->term_deadline) {
                proc->term_deadline = term_deadline;
                arm_term_timer(proc);
            }
        }
        return;
    }
    proc->graceful = graceful;
    proc->kill_ms = kill_ms;
    proc->term_deadline = term_deadline;
    proc->state = SV_PROCESS_TERM_SENT;
    proc->last_signal = SIGTERM;
    if (!sv_process_signal(proc, SIGTERM, &error)) {
        if (error) {
            proc->state = SV_PROCESS_ALIVE;
            finish_waiters(proc, error);
        }
        return; /* gone already: the pidfd reports it */
    }
    arm_term_timer(proc);
}

void
sv_process_kill(SvProcess *proc, gboolean graceful, guint term_ms, guint kill_ms,
                SvProcessKillFunc done, gpointer data)
{
    sv_process_kill_until(proc, graceful, g_get_monotonic_time() + (gint64)term_ms * 1000,
                          kill_ms, done, data);
}

void
sv_process_kill_warn(SvProcess *proc, const GError *error, gpointer data)
{
    (void)proc;
    (void)data;
    if (error)
        g_warning("%s", error->message);
}

gboolean
sv_process_get_kill(SvProcess *proc, gboolean *graceful, gint64 *term_deadline)
{
    if (proc->state != SV_PROCESS_TERM_SENT && proc->state != SV_PROCESS_KILL_SENT)
        return FALSE;
    if (graceful)
        *graceful = proc->graceful;
    if (term_deadline)
        *term_deadline = proc->term_deadline;
    return TRUE;
}

SvProcess *
sv_process_attach(pid_t pid, guint64 start_time, GError **error)
{
    g_auto(SvFd) fd = -1;

    if (pid <= 1 || sv_process_read_start_time(pid) != start_time) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_FAILED,
                     "process %d is gone or is another process", (int)pid);
        return NULL;
    }
    fd = pidfd_open(pid, 0);
    /* Checked again through the pidfd's lifetime: if the PID was recycled in
     * between, the start time now differs and the fd names a stranger. */
    if (fd < 0 || sv_process_read_start_time(pid) != start_time) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_FAILED,
                     "process %d is gone or is another process", (int)pid);
        return NULL;
    }
    return process_new(pid, g_steal_fd(&fd), start_time, FALSE);
}

/* The soft descriptor limit children start with: the one the daemon was started with,
 * before it raised its own (RLIM_INFINITY: leave the child's as inherited). */
#define DELETED_SUFFIX " (deleted)"

char *
sv_process_read_exe(pid_t pid)
{
    g_autofree char *link = g_strdup_printf("/proc/%d/exe", (int)pid);
    char *exe = g_file_read_link(link, NULL);

    if (exe && g_str_has_suffix(exe, DELETED_SUFFIX))
        exe[strlen(exe) - strlen(DELETED_SUFFIX)] = '\0';
    return exe;
}

#define SV_PF_EXITING 0x4u

gboolean
sv_proc_stat_ending(const char *text)
{
    const char *end = text ? strrchr(text, ')') : NULL;
    guint64 flags = 0;

    if (!end || end[1] != ' ' || end[2] == 'Z' || end[2] == 'X')
        return TRUE;
    return !sv_proc_stat_field(text, 9, &flags) || (flags & SV_PF_EXITING) != 0;
}

/* Whether pid has exited or is on its way out but is not reaped yet (its parent, a
 * daemon that died, is gone and PID 1 reaps lazily): it has no executable any more, and
 * nothing more will happen to it. An unreadable stat is a process gone altogether. */
static gboolean
is_ending(pid_t pid)
{
    g_autofree char *text = read_stat(pid);

    return sv_proc_stat_ending(text);
}

/* Whether the program running (already without " (deleted)") is the file path names, or
 * what its symbolic links lead to. */
static gboolean
exe_is(const char *running, const char *path)
{
    g_autofree char *real = NULL;

    if (!running || !path)
        return FALSE;
    if (g_str_equal(running, path))
        return TRUE;
    real = realpath(path, NULL);
    return real && g_str_equal(running, real);
}

SvProcessCheck
sv_process_attach_checked(pid_t pid, guint64 start_time, const char *exe, SvProcess **ret_proc,
                          GError **error)
{
    g_autoptr(SvProcess) proc = sv_process_attach(pid, start_time, error);
    g_autofree char *running = NULL, *self = NULL;

    if (!proc)
        return SV_PROCESS_CHECK_GONE;
    running = sv_process_read_exe(pid);
    /* Read after the pidfd was taken, then the start time checked again: the executable
     * read is this very process's, not that of a later one under the same pid. */
    if (sv_process_read_start_time(pid) != start_time || (!running && is_ending(pid))) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_FAILED, "process %d has exited",
                     (int)pid);
        return SV_PROCESS_CHECK_GONE;
    }
    if (exe_is(running, exe)) {
        *ret_proc = g_steal_pointer(&proc);
        return SV_PROCESS_CHECK_OURS;
    }
    self = sv_process_read_exe(getpid());
    if (running && self && g_str_equal(running, self)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_FAILED,
                     "process %d never ran '%s' (the daemon that forked it died before "
                     "letting it); it exits by itself",
                     (int)pid, exe);
        return SV_PROCESS_CHECK_UNRUN;
    }
    sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "process %d runs '%s', not '%s'",
                 (int)pid, running ? running : "(unknown)", exe);
    return SV_PROCESS_CHECK_FOREIGN;
}

static rlim_t child_nofile = RLIM_INFINITY;

void
sv_process_set_child_nofile(guint64 soft)
{
    child_nofile = (rlim_t)soft;
}

static void
child_exec(const SvSpawnOptions *o, int devnull, int errpipe, int gate)
{
    int in = o->stdin_fd >= 0 ? o->stdin_fd : devnull;
    int out = o->stdout_fd >= 0 ? o->stdout_fd : devnull;
    int err = o->stderr_fd >= 0 ? o->stderr_fd : out;
    int e;

    /* Move the pipe out of the way of fds the caller wants at fixed numbers. */
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        goto fail;
    /* Nothing of the daemon's leaks into the child: every fd from 3 up closes
     * at exec (the error pipe too, which is how the parent learns exec worked). */
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        goto fail;
    for (guint i = 0; i < o->n_keep_fds; i++) {
        if (o->keep_fds[i] != errpipe && o->keep_fds[i] != gate)
            fcntl(o->keep_fds[i], F_SETFD, 0);
    }
    if (o->new_session && setsid() < 0)
        goto fail;
    if (child_nofile != RLIM_INFINITY) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > child_nofile) {
            rl.rlim_cur = child_nofile;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    /* The child starts with default dispositions: the daemon ignores SIGPIPE, and its
     * handlers (GLib's for SIGTERM, SIGINT, SIGHUP) would otherwise catch, until exec,
     * the SIGTERM that is to end a child held at the gate. */
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    {
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
    }
    if (o->child_setup)
        o->child_setup(o->child_setup_data);
    if (gate >= 0) {
        char go;
        ssize_t n;
        do {
            n = read(gate, &go, 1);
        } while (n < 0 && errno == EINTR);
        /* The owner let go without releasing us, or died: run nothing. */
        if (n != 1)
            _exit(127);
        close(gate);
    }
    if (o->envp)
        execve(o->argv[0], (char *const *)o->argv, (char *const *)o->envp);
    else
        execv(o->argv[0], (char *const *)o->argv);
fail:
    e = errno;
    if (write(errpipe, &e, sizeof(e)) < 0)
        _exit(127);
    _exit(127);
}

/* Wait for the child's exec: FALSE with error when it failed (and the child is reaped
 * when `reap`; otherwise its pidfd reports the exit on the loop). */
static gboolean
wait_exec(pid_t pid, int status_fd, const char *name, gboolean reap, GError **error)
{
    int child_errno = 0;
    ssize_t n;

    do {
        n = read(status_fd, &child_errno, sizeof(child_errno));
    } while (n < 0 && errno == EINTR);
    if (n == sizeof(child_errno)) {
        if (reap)
            waitpid(pid, NULL, 0);
        sv_error_set_errno(error, SV_FROM_NONE, child_errno, "cannot execute '%s'", name);
        return FALSE;
    }
    return TRUE;
}

SvProcess *
sv_process_spawn(const SvSpawnOptions *opts, GError **error)
{
    int pipefd[2], gatefd[2] = {-1, -1};
    g_auto(SvFd) devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    g_auto(SvFd) rd = -1;
    g_auto(SvFd) pidfd = -1;
    g_auto(SvFd) gate = -1;
    SvProcess *proc;
    pid_t pid;

    if (devnull < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot prepare to run '%s'",
                           opts->argv[0]);
        return NULL;
    }
    rd = pipefd[0];
    if (opts->hold_exec && pipe2(gatefd, O_CLOEXEC) < 0) {
        close(pipefd[1]);
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot prepare to run '%s'",
                           opts->argv[0]);
        return NULL;
    }
    gate = gatefd[1];
    pid = fork();
    if (pid < 0) {
        close(pipefd[1]);
        if (gatefd[0] >= 0)
            close(gatefd[0]);
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot fork '%s'", opts->argv[0]);
        return NULL;
    }
    if (pid == 0) {
        /* Only the daemon may hold the gate's write end, or its death goes unseen. */
        if (gatefd[1] >= 0)
            close(gatefd[1]);
        child_exec(opts, devnull, pipefd[1], gatefd[0]);
    }
    close(pipefd[1]);
    if (gatefd[0] >= 0)
        close(gatefd[0]);
    /* Our unreaped child cannot be recycled, so this pidfd is certainly it. */
    pidfd = pidfd_open(pid, 0);
    if (!opts->hold_exec && !wait_exec(pid, rd, opts->argv[0], TRUE, error))
        return NULL;
    if (pidfd < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "pidfd_open(%d) failed", (int)pid);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return NULL;
    }
    proc = process_new(pid, g_steal_fd(&pidfd), sv_process_read_start_time(pid), TRUE);
    if (opts->hold_exec) {
        proc->gate = g_steal_fd(&gate);
        proc->exec_status = g_steal_fd(&rd);
        proc->exec_name = g_strdup(opts->argv[0]);
    }
    return proc;
}

gboolean
sv_process_release(SvProcess *proc, GError **error)
{
    g_auto(SvFd) status = proc->exec_status;
    g_auto(SvFd) gate = proc->gate;
    char go = 1;
    ssize_t n;

    proc->exec_status = proc->gate = -1;
    if (gate < 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "process %d is not waiting to be released", (int)proc->pid);
        return FALSE;
    }
    do {
        n = write(gate, &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) {
        /* The child is gone already; its pidfd says so on the loop. */
        sv_error_set_errno(error, SV_FROM_NONE, errno ? errno : EPIPE,
                           "cannot release process %d", (int)proc->pid);
        return FALSE;
    }
    sv_fd_clear(&gate);
    return wait_exec(proc->pid, status, proc->exec_name, FALSE, error);
}

/* ---------------------------------------------------------------- capture */

#define CAPTURE_MAX (4u << 20)

typedef struct {
    SvProcess *proc;
    char *name;
    GString *out;
    SvProcessExit how;
    gboolean exited, eof;
    guint watch;
    guint timer;       /* the time limit, while it runs */
    guint timeout_ms;
    gboolean timed_out;
    SvCaptureFunc fn;
    gpointer data;
} Capture;

static gboolean
capture_free_idle(gpointer data)
{
    Capture *c = data;

    sv_process_free(c->proc);
    g_string_free(c->out, TRUE);
    g_free(c->name);
    g_free(c);
    return G_SOURCE_REMOVE;
}

static void
capture_finish(Capture *c)
{
    g_autoptr(GError) error = NULL;

    if (!c->exited || !c->eof)
        return;
    if (c->timer)
        g_source_remove(c->timer);
    c->timer = 0;
    if (c->timed_out)
        sv_error_set(&error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "'%s' did not finish within %u ms and was killed", c->name, c->timeout_ms);
    else if (c->how.signaled)
        sv_error_set(&error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "'%s' was killed by signal %d",
                     c->name, c->how.code);
    else if (c->how.known && c->how.code != 0)
        sv_error_set(&error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "'%s' exited with status %d",
                     c->name, c->how.code);
    else if (c->out->len >= CAPTURE_MAX)
        sv_error_set(&error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "'%s' wrote more than %u bytes", c->name, CAPTURE_MAX);
    c->fn(c->out->str, error, c->data);
    /* Not from inside the process's own exit notification. */
    g_idle_add(capture_free_idle, c);
}

static void
capture_exited(SvProcess *proc, const SvProcessExit *how, gpointer data)
{
    Capture *c = data;

    (void)proc;
    c->how = *how;
    c->exited = TRUE;
    capture_finish(c);
}

static gboolean
capture_readable(gint fd, GIOCondition cond, gpointer data)
{
    Capture *c = data;
    char buf[8192];
    ssize_t n;

    (void)cond;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        if (c->out->len < CAPTURE_MAX)
            g_string_append_len(c->out, buf, MIN((gsize)n, CAPTURE_MAX - c->out->len));
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    close(fd);
    c->watch = 0;
    c->eof = TRUE;
    capture_finish(c);
    return G_SOURCE_REMOVE;
}

/* Past the time limit: SIGKILL; the exit and the end of the output follow on the loop. */
static gboolean
capture_timeout(gpointer data)
{
    Capture *c = data;

    c->timer = 0;
    c->timed_out = sv_process_signal(c->proc, SIGKILL, NULL);
    return G_SOURCE_REMOVE;
}

gboolean
sv_process_capture_async(const char *const *argv, SvCaptureFunc fn, gpointer data,
                         GError **error)
{
    return sv_process_capture_env_async(argv, NULL, fn, data, error);
}

gboolean
sv_process_capture_env_async(const char *const *argv, const char *const *envp,
                             SvCaptureFunc fn, gpointer data, GError **error)
{
    return sv_process_capture_full_async(argv, envp, NULL, fn, data, error);
}

/* A memory file holding input, read from its start (the child's stdin). */
static int
input_file(const char *input, GError **error)
{
    g_auto(SvFd) fd = memfd_create("sv-input", MFD_CLOEXEC);
    gsize len = strlen(input), done = 0;

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot create an input file");
        return -1;
    }
    while (done < len) {
        ssize_t n = write(fd, input + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot write an input file");
            return -1;
        }
        done += n;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot rewind an input file");
        return -1;
    }
    return g_steal_fd(&fd);
}

gboolean
sv_process_capture_full_async(const char *const *argv, const char *const *envp,
                              const SvCaptureOptions *copts, SvCaptureFunc fn, gpointer data,
                              GError **error)
{
    static const SvCaptureOptions none = {NULL, NULL, NULL, 0};
    g_auto(SvFd) devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    g_auto(SvFd) in = -1;
    int pipefd[2];
    SvSpawnOptions opts = {.argv = argv, .envp = envp, .stdin_fd = -1};
    Capture *c;

    if (!copts)
        copts = &none;
    if (copts->input && (in = input_file(copts->input, error)) < 0)
        return FALSE;
    opts.stdin_fd = in;
    opts.child_setup = copts->child_setup;
    opts.child_setup_data = copts->child_setup_data;
    if (devnull < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot prepare to run '%s'", argv[0]);
        return FALSE;
    }
    /* Only our end: the child writes as to any pipe. */
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    opts.stdout_fd = pipefd[1];
    opts.stderr_fd = devnull;
    c = g_new0(Capture, 1);
    c->proc = sv_process_spawn(&opts, error);
    close(pipefd[1]);
    if (!c->proc) {
        close(pipefd[0]);
        g_free(c);
        return FALSE;
    }
    c->name = g_strdup(argv[0]);
    c->out = g_string_new(NULL);
    c->fn = fn;
    c->data = data;
    sv_process_set_exit_func(c->proc, capture_exited, c);
    c->watch = g_unix_fd_add(pipefd[0], G_IO_IN | G_IO_HUP | G_IO_ERR, capture_readable, c);
    c->timeout_ms = copts->timeout_ms;
    if (c->timeout_ms)
        c->timer = g_timeout_add(c->timeout_ms, capture_timeout, c);
    return TRUE;
}

/* ---- synchronous runs, for worker threads ------------------------------------------------ */

/* Read the child's stdout and stderr to their ends (each kept up to CAPTURE_MAX). */
static void
run_sync_drain(int out_fd, int err_fd, GString *out, GString *err)
{
    struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
    GString *dst[2] = {out, err};
    int open_fds = 2;

    while (open_fds > 0) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        for (int i = 0; i < 2; i++) {
            char buf[8192];
            ssize_t n;

            if (p[i].fd < 0 || !p[i].revents)
                continue;
            n = read(p[i].fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                p[i].fd = -1;
                open_fds--;
            } else if (dst[i]->len < CAPTURE_MAX) {
                g_string_append_len(dst[i], buf, MIN((gsize)n, CAPTURE_MAX - dst[i]->len));
            }
        }
    }
}

gboolean
sv_process_run_sync(const char *const *argv, const char *const *envp, char **ret_out,
                    char **ret_err, int *ret_status, GError **error)
{
    return sv_process_run_sync_input(argv, envp, NULL, ret_out, ret_err, ret_status, error);
}

gboolean
sv_process_run_sync_input(const char *const *argv, const char *const *envp, const char *input,
                          char **ret_out, char **ret_err, int *ret_status, GError **error)
{
    int outp[2] = {-1, -1}, errp[2] = {-1, -1}, statp[2] = {-1, -1};
    g_auto(SvFd) devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    g_auto(SvFd) in = -1;
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GString) err = g_string_new(NULL);
    SvSpawnOptions o = {.argv = argv, .envp = envp, .stdin_fd = -1};
    int status = 0;
    pid_t pid;

    if (input && (in = input_file(input, error)) < 0)
        return FALSE;
    o.stdin_fd = in;
    if (devnull < 0 || pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
        pipe2(statp, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot run '%s'", argv[0]);
        for (int i = 0; i < 2; i++) {
            sv_fd_clear(&outp[i]);
            sv_fd_clear(&errp[i]);
            sv_fd_clear(&statp[i]);
        }
        return FALSE;
    }
    if (pid == 0) {
        o.stdout_fd = outp[1];
        o.stderr_fd = errp[1];
        child_exec(&o, devnull, statp[1], -1);
    }
    close(outp[1]);
    close(errp[1]);
    close(statp[1]);
    {
        g_auto(SvFd) st = statp[0];
        g_auto(SvFd) ro = outp[0];
        g_auto(SvFd) re = errp[0];

        if (!wait_exec(pid, st, argv[0], TRUE, error))
            return FALSE;
        run_sync_drain(ro, re, out, err);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    *ret_status = status;
    if (ret_out)
        *ret_out = g_string_free(g_steal_pointer(&out), FALSE);
    if (ret_err)
        *ret_err = g_string_free(g_steal_pointer(&err), FALSE);
    return TRUE;
}
