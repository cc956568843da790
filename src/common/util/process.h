/* process.h: a process held by a pidfd, and the kill state machine that ends it.
 *
 * States: ALIVE -> TERM_SENT -> KILL_SENT -> EXITED, with FAILED when a wait
 * times out. Exit is a readable pidfd, seen on the loop the moment it happens,
 * whether or not the process is our child; a recycled PID is never signalled
 * because signals go through the pidfd. Nothing sleeps or polls. */
#pragma once

#include <glib.h>
#include <sys/types.h>

typedef enum {
    SV_PROCESS_ALIVE,
    SV_PROCESS_TERM_SENT,
    SV_PROCESS_KILL_SENT,
    SV_PROCESS_EXITED,
    SV_PROCESS_FAILED,
    SV_PROCESS_STATE_LAST
} SvProcessState;

const char *sv_process_state_to_string(SvProcessState s);

typedef struct SvProcess SvProcess;

/* How the process ended: exit code, signal, or unknown (not our child). */
typedef struct {
    gboolean known;
    gboolean signaled;
    int code; /* exit status, or the signal number when signaled */
} SvProcessExit;

typedef void (*SvProcessExitFunc)(SvProcess *proc, const SvProcessExit *how, gpointer data);

/* Completion of one kill request: error NULL once the process is gone, else
 * SYSTEM_ERROR/EBUSY "Failed to terminate process PID with SIG...". */
typedef void (*SvProcessKillFunc)(SvProcess *proc, const GError *error, gpointer data);

typedef struct {
    const char *const *argv;
    const char *const *envp; /* NULL: inherit */
    int stdin_fd;            /* -1: /dev/null */
    int stdout_fd;           /* -1: /dev/null */
    int stderr_fd;           /* -1: same as stdout */
    const int *keep_fds;     /* extra fds passed through at the same numbers */
    guint n_keep_fds;
    gboolean new_session; /* setsid(): daemon signals never reach it */
    /* Runs in the child after fork, before exec (async-signal-safe work only). */
    void (*child_setup)(gpointer data);
    gpointer child_setup_data;
    /* The child waits before exec until sv_process_release(): the owner first records
     * the PID durably (a status file), so that no program of ours ever runs that a
     * restarted daemon cannot find. If the owner frees the process instead, or the
     * daemon dies first, the child exits (status 127) without running the program. */
    gboolean hold_exec;
} SvSpawnOptions;

/* The soft RLIMIT_NOFILE every child is given (lowered to, never raised): a daemon that
 * raises its own limit for its clients passes the one it was started with, so QEMU and
 * the helpers start as they would have without us. Not called: children inherit ours. */
void sv_process_set_child_nofile(guint64 soft);

/* fork + exec with every other fd closed; an exec failure is reported here (with
 * hold_exec, by sv_process_release()). */
SvProcess *sv_process_spawn(const SvSpawnOptions *opts, GError **error);

/* Let a child spawned with hold_exec run its program; an exec failure is reported
 * here (the child has then exited). FALSE too when the process was not held or was
 * released already. */
gboolean sv_process_release(SvProcess *proc, GError **error);

/* Take hold of an existing process, if it is still the one started at
 * `start_time` (field 22 of /proc/PID/stat); otherwise fail, signalling nothing. */
SvProcess *sv_process_attach(pid_t pid, guint64 start_time, GError **error);

/* Field 22 of /proc/PID/stat (clock ticks since boot); 0 when unreadable. */
guint64 sv_process_read_start_time(pid_t pid);

/* The CPU time pid has used (user and system, fields 14 and 15 of /proc/PID/stat), in
 * nanoseconds; 0 when unreadable. */
guint64 sv_process_read_cpu_time(pid_t pid);

/* Field `field` (numbered as proc(5) does, from 3: the state) of the text of a
 * /proc/PID/stat, whose command name may hold spaces and parentheses; FALSE when the
 * text has no such field. Pure. */
gboolean sv_proc_stat_field(const char *text, int field, guint64 *ret);

/* Whether the process a /proc/PID/stat text describes has ended or is ending: state Z or
 * X, or the kernel's PF_EXITING flag (0x4) in field 9, set from the start of exit, while
 * /proc/PID/exe already reads nothing but the process is not a zombie yet. An
 * unparsable or missing text counts as ended. Pure. */
gboolean sv_proc_stat_ending(const char *text);

/* The program pid runs, as /proc/PID/exe names it, without the " (deleted)" the kernel
 * adds once that file has been replaced (an upgrade under a running process); NULL when
 * unreadable (exited, a kernel thread). (transfer full) */
char *sv_process_read_exe(pid_t pid);

/* What sv_process_attach_checked() found under a recorded pid and start time. */
typedef enum {
    SV_PROCESS_CHECK_OURS,    /* that very process, running the expected program */
    SV_PROCESS_CHECK_GONE,    /* exited (a zombie waiting to be reaped counts as exited) */
    SV_PROCESS_CHECK_UNRUN,   /* it runs the daemon's own executable: a child forked held
                               * before exec (SvSpawnOptions.hold_exec) whose daemon died
                               * before releasing it; it exits by itself, having run nothing */
    SV_PROCESS_CHECK_FOREIGN, /* another program lives under that pid and start time */
    SV_PROCESS_CHECK_LAST
} SvProcessCheck;

/* The identity check before a restarted daemon touches a process a status file names
 * (read as hostile input): take hold of it only if it is still the process recorded, by
 * pid and start time (checked again once its pidfd is held, so the executable read is
 * that very process's) and by the program it runs, `exe` (a symbolic link followed, a
 * file replaced since accepted). Nothing is signalled, whatever the result. OURS sets
 * *ret_proc (transfer full); every other result leaves it alone and sets error saying
 * what was found. */
SvProcessCheck sv_process_attach_checked(pid_t pid, guint64 start_time, const char *exe,
                                         SvProcess **ret_proc, GError **error);

/* Called once, when the process is seen to exit. */
void sv_process_set_exit_func(SvProcess *proc, SvProcessExitFunc fn, gpointer data);

pid_t sv_process_get_pid(SvProcess *proc);
guint64 sv_process_get_start_time(SvProcess *proc);
SvProcessState sv_process_get_state(SvProcess *proc);
gboolean sv_process_is_alive(SvProcess *proc);

/* Send one signal through the pidfd (no state change); FALSE once exited. */
gboolean sv_process_signal(SvProcess *proc, int sig, GError **error);

/* End the process: SIGTERM, wait term_ms; then, unless graceful, SIGKILL and
 * wait kill_ms. Graceful requests never send SIGKILL: after term_ms they fail
 * and the process is left as it is. A request made while another runs joins
 * it: a forced request turns a graceful one into a forced one, and its SIGKILL
 * comes at the forced request's own deadline (term_ms after it was made) when
 * that is earlier than the graceful one's. */
void sv_process_kill(SvProcess *proc, gboolean graceful, guint term_ms, guint kill_ms,
                     SvProcessKillFunc done, gpointer data);

/* The same with the end of the SIGTERM wait given as a g_get_monotonic_time()
 * instant (the system's CLOCK_MONOTONIC, so one recorded by an earlier daemon
 * still holds): how a restarted daemon carries on a kill its predecessor began.
 * SIGTERM is sent (again); a deadline already past acts at once. */
void sv_process_kill_until(SvProcess *proc, gboolean graceful, gint64 term_deadline,
                           guint kill_ms, SvProcessKillFunc done, gpointer data);

/* A SvProcessKillFunc for a kill nobody waits on: a failure is logged as a warning. */
void sv_process_kill_warn(SvProcess *proc, const GError *error, gpointer data);

/* Whether a kill request is under way; if so, whether it is graceful and when its
 * SIGTERM wait ends (g_get_monotonic_time() instant), for status files. */
gboolean sv_process_get_kill(SvProcess *proc, gboolean *graceful, gint64 *term_deadline);

/* Stop watching (the process keeps running) and free. */
void sv_process_free(SvProcess *proc);

/* sv_process_free() from an idle callback, for code that may run inside proc's own exit or
 * kill callbacks, where it must not be freed yet. NULL does nothing. */
void sv_process_free_later(SvProcess *proc);

/* Output of a short-lived helper: what it wrote to stdout (at most 4 MiB), and how it
 * ended; error set when it could not run or ended otherwise than with status 0. */
typedef void (*SvCaptureFunc)(const char *output, const GError *error, gpointer data);

/* Run argv with stdout to a pipe read on the main loop (stdin and stderr /dev/null), and
 * call fn once it has exited and its output ended. FALSE with error when it cannot start. */
gboolean sv_process_capture_async(const char *const *argv, SvCaptureFunc fn, gpointer data,
                                  GError **error);
/* The same with the environment envp (NULL: the daemon's). */
gboolean sv_process_capture_env_async(const char *const *argv, const char *const *envp,
                                      SvCaptureFunc fn, gpointer data, GError **error);
/* What else a capture may be given. */
typedef struct {
    const char *input;              /* NUL-terminated text on the helper's stdin; NULL: none */
    void (*child_setup)(gpointer);  /* run in the child before exec (SvSpawnOptions) */
    gpointer child_setup_data;
    guint timeout_ms;               /* 0: none; past it the helper is killed (SIGKILL) and fn
                                     * gets "did not finish within N ms" */
} SvCaptureOptions;

/* The same with options (NULL: none). */
gboolean sv_process_capture_full_async(const char *const *argv, const char *const *envp,
                                       const SvCaptureOptions *opts, SvCaptureFunc fn,
                                       gpointer data, GError **error);

/* Run argv (argv[0] a path) to its end, blocking the calling thread: for a worker thread,
 * never the loop's. No main context is touched. stdin is /dev/null; stdout and stderr are
 * captured (each up to 4 MiB) into *ret_out and *ret_err (either may be NULL: dropped);
 * *ret_status gets the wait status. The environment is envp (NULL: the daemon's), every
 * other fd closed. FALSE with error only when it could not be run at all. */
gboolean sv_process_run_sync(const char *const *argv, const char *const *envp, char **ret_out,
                             char **ret_err, int *ret_status, GError **error);
/* The same with input (NULL: none) on the program's stdin instead of /dev/null. */
gboolean sv_process_run_sync_input(const char *const *argv, const char *const *envp,
                                   const char *input, char **ret_out, char **ret_err,
                                   int *ret_status, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvProcess, sv_process_free)
