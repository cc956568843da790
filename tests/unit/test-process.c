/* test-process.c: the kill state machine against real children: ones that exit at once,
 * ignore SIGTERM, and cannot die even on SIGKILL (frozen in a cgroup v1 freezer). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "util/error.h"
#include "util/process.h"

typedef struct {
    gboolean exited;
    SvProcessExit how;
    gboolean killed;
    GError *kill_error;
} Seen;

static void
on_exit_cb(SvProcess *proc, const SvProcessExit *how, gpointer data)
{
    Seen *s = data;

    (void)proc;
    s->exited = TRUE;
    s->how = *how;
}

static void
on_kill(SvProcess *proc, const GError *error, gpointer data)
{
    Seen *s = data;

    (void)proc;
    s->killed = TRUE;
    g_clear_error(&s->kill_error);
    s->kill_error = error ? g_error_copy(error) : NULL;
}

static void
run_until(gboolean *flag, int timeout_ms)
{
    gint64 end = g_get_monotonic_time() + timeout_ms * 1000;

    while (!*flag && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
}

static SvProcess *
spawn_sh(const char *script, Seen *seen)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    SvSpawnOptions o = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
                        .new_session = TRUE};
    g_autoptr(GError) error = NULL;
    SvProcess *p = sv_process_spawn(&o, &error);

    g_assert_no_error(error);
    sv_process_set_exit_func(p, on_exit_cb, seen);
    return p;
}

static void
test_exits_at_once(void)
{
    Seen s = {0};
    g_autoptr(SvProcess) p = spawn_sh("exit 3", &s);

    run_until(&s.exited, 5000);
    g_assert_true(s.exited);
    g_assert_true(s.how.known);
    g_assert_false(s.how.signaled);
    g_assert_cmpint(s.how.code, ==, 3);
    g_assert_cmpint(sv_process_get_state(p), ==, SV_PROCESS_EXITED);
    /* Killing what has exited succeeds at once. */
    sv_process_kill(p, FALSE, 100, 100, on_kill, &s);
    g_assert_true(s.killed);
    g_assert_null(s.kill_error);
}

static void
test_honours_sigterm(void)
{
    Seen s = {0};
    g_autoptr(SvProcess) p = spawn_sh("exec sleep 100", &s);
    gint64 t0 = g_get_monotonic_time();

    sv_process_kill(p, FALSE, 5000, 5000, on_kill, &s);
    run_until(&s.killed, 10000);
    g_assert_true(s.killed);
    g_assert_null(s.kill_error);
    g_assert_true(s.exited);
    g_assert_true(s.how.signaled);
    g_assert_cmpint(s.how.code, ==, SIGTERM);
    /* Seen through the pidfd at once, not after a poll interval. */
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 1000 * 1000);
}

static void
test_ignores_sigterm(void)
{
    Seen s = {0};
    g_autoptr(SvProcess) p = spawn_sh("trap '' TERM; exec sleep 100", &s);
    gint64 t0;

    usleep(50 * 1000); /* let the shell install its trap */
    /* Graceful: fails after the wait, never sends SIGKILL, leaves it running. */
    t0 = g_get_monotonic_time();
    sv_process_kill(p, TRUE, 300, 300, on_kill, &s);
    run_until(&s.killed, 5000);
    g_assert_true(s.killed);
    g_assert_error(s.kill_error, sv_error_quark(SV_FROM_NONE), SV_ERR_SYSTEM_ERROR);
    g_assert_cmpint(sv_error_get_extra(s.kill_error)->int1, ==, EBUSY);
    {
        g_autofree char *want = g_strdup_printf(
            "Failed to terminate process %d with SIGTERM: Device or resource busy",
            (int)sv_process_get_pid(p));
        g_assert_cmpstr(s.kill_error->message, ==, want);
    }
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, 290 * 1000);
    g_assert_false(s.exited);
    g_assert_true(sv_process_is_alive(p));
    g_assert_cmpint(kill(sv_process_get_pid(p), 0), ==, 0);

    /* Forced: SIGTERM is ignored, so SIGKILL after term_ms ends it. */
    s.killed = FALSE;
    sv_process_kill(p, FALSE, 200, 2000, on_kill, &s);
    run_until(&s.killed, 5000);
    g_assert_true(s.killed);
    g_assert_null(s.kill_error);
    g_assert_true(s.how.signaled);
    g_assert_cmpint(s.how.code, ==, SIGKILL);
}

static gboolean
write_file(const char *path, const char *text)
{
    return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, NULL);
}

static void
test_cannot_die(void)
{
    const char *freezer = "/sys/fs/cgroup/freezer";
    g_autofree char *cg = NULL, *procs = NULL, *state = NULL, *pid = NULL;
    Seen s = {0};
    g_autoptr(SvProcess) p = NULL;

    if (getuid() != 0 || !g_file_test(freezer, G_FILE_TEST_IS_DIR)) {
        g_test_skip("needs root and the cgroup v1 freezer");
        return;
    }
    cg = g_strdup_printf("%s/sv-test-%d", freezer, (int)getpid());
    g_assert_cmpint(mkdir(cg, 0755), ==, 0);
    procs = g_build_filename(cg, "cgroup.procs", NULL);
    state = g_build_filename(cg, "freezer.state", NULL);
    p = spawn_sh("exec sleep 100", &s);
    pid = g_strdup_printf("%d", (int)sv_process_get_pid(p));
    g_assert_true(write_file(procs, pid));
    g_assert_true(write_file(state, "FROZEN"));

    sv_process_kill(p, FALSE, 200, 300, on_kill, &s);
    run_until(&s.killed, 5000);
    g_assert_true(s.killed);
    g_assert_error(s.kill_error, sv_error_quark(SV_FROM_NONE), SV_ERR_SYSTEM_ERROR);
    g_assert_nonnull(strstr(s.kill_error->message, "with SIGKILL: Device or resource busy"));
    g_assert_false(s.exited);

    /* Thawed, the pending SIGKILL lands and the exit is seen. */
    g_assert_true(write_file(state, "THAWED"));
    run_until(&s.exited, 5000);
    g_assert_true(s.exited);
    g_assert_cmpint(rmdir(cg), ==, 0);
}

static void
test_attach_checks_identity(void)
{
    Seen s = {0};
    g_autoptr(SvProcess) p = spawn_sh("exec sleep 100", &s);
    pid_t pid = sv_process_get_pid(p);
    guint64 st = sv_process_get_start_time(p);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvProcess) wrong = NULL, right = NULL;

    g_assert_cmpuint(st, >, 0);
    wrong = sv_process_attach(pid, st + 1, &error);
    g_assert_null(wrong);
    g_assert_nonnull(error);
    g_assert_cmpint(kill(pid, 0), ==, 0); /* never signalled */
    g_clear_error(&error);
    right = sv_process_attach(pid, st, &error);
    g_assert_no_error(error);
    sv_process_set_exit_func(right, on_exit_cb, &s);
    /* Not our child (for this object): exit is still seen, status unknown. */
    sv_process_kill(right, FALSE, 2000, 2000, on_kill, &s);
    run_until(&s.killed, 5000);
    g_assert_null(s.kill_error);
    g_assert_true(s.exited);
}

static void
test_spawn_failure(void)
{
    const char *argv[] = {"/nonexistent/qemu", NULL};
    SvSpawnOptions o = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
    g_autoptr(GError) error = NULL;
    g_autoptr(SvProcess) p = sv_process_spawn(&o, &error);

    g_assert_null(p);
    g_assert_error(error, sv_error_quark(SV_FROM_NONE), SV_ERR_SYSTEM_ERROR);
    g_assert_cmpint(sv_error_get_extra(error)->int1, ==, ENOENT);
}

static void
test_no_inherited_fds(void)
{
    Seen s = {0};
    g_autofree char *out = g_strdup_printf("/tmp/sv-fds-%d", (int)getpid());
    g_autofree char *script = g_strdup_printf("ls /proc/self/fd > %s", out);
    g_autofree char *text = NULL;
    int leak = dup(2); /* an fd without CLOEXEC that must not reach the child */
    g_autoptr(SvProcess) p = spawn_sh(script, &s);
    g_auto(GStrv) fds = NULL;

    g_assert_nonnull(p);
    run_until(&s.exited, 5000);
    g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
    fds = g_strsplit(g_strstrip(text), "\n", -1);
    /* 0, 1, 2 and the fd ls itself opens for /proc/self/fd. */
    g_assert_cmpuint(g_strv_length(fds), <=, 4);
    close(leak);
    unlink(out);
}

typedef struct {
    gboolean done;
    char *output;
    GError *error;
} Captured;

static void
on_captured(const char *output, const GError *error, gpointer data)
{
    Captured *c = data;

    c->done = TRUE;
    c->output = g_strdup(output);
    c->error = error ? g_error_copy(error) : NULL;
}

static void
capture_sh(const char *script, Captured *c)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    g_autoptr(GError) error = NULL;

    g_assert_true(sv_process_capture_async(argv, on_captured, c, &error));
    g_assert_no_error(error);
    run_until(&c->done, 5000);
    g_assert_true(c->done);
}

/* stdout is collected whole, however it is split; stderr is not part of it. */
static void
test_capture_output(void)
{
    Captured c = {0};

    capture_sh("echo one; echo err >&2; sleep 0.1; head -c 100000 /dev/zero | tr '\\0' x; "
               "echo; echo two", &c);
    g_assert_no_error(c.error);
    g_assert_true(g_str_has_prefix(c.output, "one\nxxx"));
    g_assert_true(g_str_has_suffix(c.output, "x\ntwo\n"));
    g_assert_cmpuint(strlen(c.output), ==, 4 + 100000 + 1 + 4);
    g_assert_null(strstr(c.output, "err"));
    g_free(c.output);
}

/* A helper that fails says so; one that cannot start fails at once. */
static void
test_capture_failures(void)
{
    const char *missing[] = {"/nonexistent/helper", NULL};
    Captured c = {0};
    g_autoptr(GError) error = NULL;

    capture_sh("echo partial; exit 3", &c);
    g_assert_error(c.error, sv_error_quark(SV_FROM_NONE), SV_ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(c.error->message, "exited with status 3"));
    g_assert_cmpstr(c.output, ==, "partial\n");
    g_clear_error(&c.error);
    g_free(c.output);

    memset(&c, 0, sizeof(c));
    capture_sh("kill -9 $$", &c);
    g_assert_nonnull(c.error);
    g_assert_nonnull(strstr(c.error->message, "killed by signal 9"));
    g_clear_error(&c.error);
    g_free(c.output);

    g_assert_false(sv_process_capture_async(missing, on_captured, &c, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "cannot execute '/nonexistent/helper'"));
}

/* A forced request joining a graceful one kills on its own timeline: SIGKILL term_ms
 * after the forced request, not after the graceful request's longer wait. */
static void
test_forced_joins_graceful(void)
{
    Seen s = {0}, g = {0};
    g_autoptr(SvProcess) p = spawn_sh("trap '' TERM; exec sleep 100", &s);
    gint64 t0, t1;
    gboolean graceful = FALSE;
    gint64 deadline = 0;

    usleep(50 * 1000);
    sv_process_kill(p, TRUE, 20000, 2000, on_kill, &g);
    g_assert_true(sv_process_get_kill(p, &graceful, &deadline));
    g_assert_true(graceful);
    t0 = g_get_monotonic_time();
    sv_process_kill(p, FALSE, 300, 2000, on_kill, &s);
    t1 = g_get_monotonic_time();
    g_assert_true(sv_process_get_kill(p, &graceful, &deadline));
    g_assert_false(graceful);
    /* The forced request's own 300 ms, counted from when it came (between t0 and t1). */
    g_assert_cmpint(deadline, >=, t0 + 300 * 1000);
    g_assert_cmpint(deadline, <=, t1 + 300 * 1000);
    run_until(&s.killed, 5000);
    g_assert_true(s.killed);
    g_assert_null(s.kill_error);
    g_assert_true(s.how.signaled);
    g_assert_cmpint(s.how.code, ==, SIGKILL);
    /* Well before the graceful request's 20 s; its waiter sees the process gone. */
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * 1000 * 1000);
    g_assert_true(g.killed);
    g_assert_null(g.kill_error);
    g_assert_false(sv_process_get_kill(p, NULL, NULL));
}

/* A kill carried on from a recorded deadline (a restarted daemon): graceful stays
 * graceful and fails at that deadline; one already past acts at once. */
static void
test_kill_until(void)
{
    Seen s = {0};
    g_autoptr(SvProcess) p = spawn_sh("trap '' TERM; exec sleep 100", &s);
    gint64 t0;

    usleep(50 * 1000);
    t0 = g_get_monotonic_time();
    sv_process_kill_until(p, TRUE, t0 + 300 * 1000, 2000, on_kill, &s);
    run_until(&s.killed, 5000);
    g_assert_nonnull(s.kill_error);
    g_assert_nonnull(strstr(s.kill_error->message, "with SIGTERM"));
    g_assert_cmpint(g_get_monotonic_time() - t0, >=, 290 * 1000);
    g_assert_true(sv_process_is_alive(p));

    s.killed = FALSE;
    t0 = g_get_monotonic_time();
    sv_process_kill_until(p, FALSE, t0 - 1000 * 1000, 2000, on_kill, &s);
    run_until(&s.killed, 5000);
    g_assert_null(s.kill_error);
    g_assert_cmpint(s.how.code, ==, SIGKILL);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * 1000 * 1000);
}

static SvProcess *
spawn_held(const char *script, Seen *seen)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    SvSpawnOptions o = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
                        .new_session = TRUE, .hold_exec = TRUE};
    g_autoptr(GError) error = NULL;
    SvProcess *p = sv_process_spawn(&o, &error);

    g_assert_no_error(error);
    if (seen)
        sv_process_set_exit_func(p, on_exit_cb, seen);
    return p;
}

/* A held child runs its program only once released; freed instead, it exits without. */
static void
test_hold_exec(void)
{
    g_autofree char *mark = g_strdup_printf("/tmp/sv-held-%d", (int)getpid());
    g_autofree char *script = g_strdup_printf("touch %s", mark);
    g_autoptr(GError) error = NULL;
    Seen s = {0};
    SvProcess *p = spawn_held(script, &s);

    usleep(100 * 1000);
    g_assert_false(g_file_test(mark, G_FILE_TEST_EXISTS));
    g_assert_true(sv_process_is_alive(p));
    g_assert_true(sv_process_release(p, &error));
    g_assert_no_error(error);
    run_until(&s.exited, 5000);
    g_assert_cmpint(s.how.code, ==, 0);
    g_assert_true(g_file_test(mark, G_FILE_TEST_EXISTS));
    g_assert_false(sv_process_release(p, &error)); /* once only */
    g_clear_error(&error);
    sv_process_free(p);
    unlink(mark);

    /* Never released: freeing it closes the gate and the child leaves. */
    {
        pid_t pid;
        siginfo_t info = {0};
        p = spawn_held(script, NULL);
        pid = sv_process_get_pid(p);
        sv_process_free(p);
        g_assert_cmpint(waitid(P_PID, pid, &info, WEXITED), ==, 0);
        g_assert_cmpint(info.si_status, ==, 127);
        g_assert_false(g_file_test(mark, G_FILE_TEST_EXISTS));
    }
}

/* The owner dies while its child is held: the child never runs the program. */
static void
test_hold_exec_owner_dies(void)
{
    g_autofree char *mark = g_strdup_printf("/tmp/sv-orphan-%d", (int)getpid());
    g_autofree char *pidfile = g_strdup_printf("/tmp/sv-orphan-pid-%d", (int)getpid());
    g_autofree char *text = NULL;
    pid_t owner = fork();
    int status;
    pid_t held;

    if (owner == 0) {
        g_autofree char *script = g_strdup_printf("touch %s", mark);
        SvProcess *p = spawn_held(script, NULL);
        g_autofree char *pid = g_strdup_printf("%d", (int)sv_process_get_pid(p));
        g_file_set_contents(pidfile, pid, -1, NULL);
        _exit(0); /* as a daemon SIGKILLed between fork and its status file */
    }
    g_assert_cmpint(waitpid(owner, &status, 0), ==, owner);
    g_assert_true(g_file_get_contents(pidfile, &text, NULL, NULL));
    held = (pid_t)atoi(text);
    /* Reparented away from us: watch it through a pidfd until it is gone. */
    {
        g_autoptr(GError) error = NULL;
        Seen s = {0};
        g_autoptr(SvProcess) p =
            sv_process_attach(held, sv_process_read_start_time(held), &error);
        if (p) {
            sv_process_set_exit_func(p, on_exit_cb, &s);
            run_until(&s.exited, 5000);
            g_assert_true(s.exited);
        }
    }
    g_assert_false(g_file_test(mark, G_FILE_TEST_EXISTS));
    unlink(pidfile);
}

static gboolean
on_sigterm(gpointer data)
{
    (void)data;
    return G_SOURCE_CONTINUE;
}

/* A held child dies of SIGTERM even in a daemon that handles SIGTERM itself: the
 * daemon's handler is not the child's. */
static void
test_hold_exec_sigterm(void)
{
    guint watch = g_unix_signal_add(SIGTERM, on_sigterm, NULL);
    g_autoptr(GError) error = NULL;
    Seen s = {0};
    SvProcess *p = spawn_held("true", &s);

    usleep(100 * 1000); /* at the gate */
    g_assert_true(sv_process_signal(p, SIGTERM, &error));
    run_until(&s.exited, 5000);
    g_assert_true(s.exited);
    g_assert_true(s.how.signaled);
    g_assert_cmpint(s.how.code, ==, SIGTERM);
    sv_process_free(p);
    g_source_remove(watch);
}

/* Children start with the soft descriptor limit the daemon was started with, not the
 * one it raised for its clients. */
static void
test_child_nofile(void)
{
    struct rlimit rl;
    Captured c = {0};

    g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 600) {
        g_test_skip("the hard descriptor limit is below 600");
        return;
    }
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 65536 : rl.rlim_max;
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);
    sv_process_set_child_nofile(512);
    capture_sh("ulimit -n", &c);
    sv_process_set_child_nofile(RLIM_INFINITY);
    g_assert_no_error(c.error);
    g_assert_cmpstr(c.output, ==, "512\n");
    g_free(c.output);
}

/* Wait until pid runs a program whose name ends with `tail` (a shell about to exec it). */
static void
wait_exe(pid_t pid, const char *tail)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    for (;;) {
        g_autofree char *exe = sv_process_read_exe(pid);
        if ((exe && g_str_has_suffix(exe, tail)) || g_get_monotonic_time() > end)
            break;
        usleep(10 * 1000);
    }
}

/* The process a status file names is taken only if pid, start time and program all match;
 * whatever is found, nothing is signalled. */
static void
test_attach_checked(void)
{
    Seen s = {0};
    g_autoptr(SvProcess) p = spawn_sh("exec sleep 100", &s);
    pid_t pid = sv_process_get_pid(p);
    guint64 st = sv_process_get_start_time(p);
    g_autoptr(GError) error = NULL;
    SvProcess *found = NULL;

    wait_exe(pid, "/sleep");
    /* /bin/sleep is found through its links (/bin -> usr/bin on merged /usr). */
    g_assert_cmpint(sv_process_attach_checked(pid, st, "/bin/sleep", &found, &error), ==,
                    SV_PROCESS_CHECK_OURS);
    g_assert_no_error(error);
    g_assert_nonnull(found);
    g_assert_cmpint(sv_process_get_pid(found), ==, pid);
    g_clear_pointer(&found, sv_process_free);

    g_assert_cmpint(sv_process_attach_checked(pid, st, "/bin/true", &found, &error), ==,
                    SV_PROCESS_CHECK_FOREIGN);
    g_assert_null(found);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "not '/bin/true'"));
    g_clear_error(&error);

    g_assert_cmpint(sv_process_attach_checked(pid, st + 1, "/bin/sleep", &found, &error), ==,
                    SV_PROCESS_CHECK_GONE);
    g_assert_null(found);
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_assert_true(sv_process_is_alive(p));
    g_assert_cmpint(kill(pid, 0), ==, 0); /* never signalled */
    sv_process_kill(p, FALSE, 2000, 2000, on_kill, &s);
    run_until(&s.killed, 5000);
}

/* A child that has exited but is not reaped yet has no program to look at: gone. */
static void
test_attach_checked_zombie(void)
{
    g_autoptr(GError) error = NULL;
    SvProcess *found = NULL;
    siginfo_t info = {0};
    pid_t pid = fork();
    guint64 st;

    if (pid == 0)
        _exit(0);
    g_assert_cmpint(waitid(P_PID, pid, &info, WEXITED | WNOWAIT), ==, 0);
    st = sv_process_read_start_time(pid);
    g_assert_cmpuint(st, >, 0);
    g_assert_cmpint(sv_process_attach_checked(pid, st, "/bin/sleep", &found, &error), ==,
                    SV_PROCESS_CHECK_GONE);
    g_assert_null(found);
    g_assert_nonnull(error);
    g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
}

/* A child held before exec runs the daemon's own executable: it never ran its program. */
static void
test_attach_checked_unrun(void)
{
    SvProcess *held = spawn_held("exit 0", NULL);
    pid_t pid = sv_process_get_pid(held);
    g_autoptr(GError) error = NULL;
    SvProcess *found = NULL;

    g_assert_cmpint(sv_process_attach_checked(pid, sv_process_get_start_time(held), "/bin/sh",
                                              &found, &error),
                    ==, SV_PROCESS_CHECK_UNRUN);
    g_assert_null(found);
    g_assert_nonnull(error);
    sv_process_free(held);
    g_assert_cmpint(waitpid(pid, NULL, 0), ==, pid);
}

/* A program replaced under a running process (an upgrade) is still the one named. */
static void
test_attach_checked_replaced(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-exe-XXXXXX", NULL);
    g_autofree char *copy = g_build_filename(dir, "sleeper", NULL);
    g_autofree char *text = NULL;
    g_autofree char *script = g_strdup_printf("exec %s 100", copy);
    g_autofree char *exe = NULL;
    g_autoptr(GError) error = NULL;
    SvProcess *found = NULL;
    Seen s = {0};
    SvProcess *p;
    gsize len;

    g_assert_true(g_file_get_contents("/bin/sleep", &text, &len, NULL));
    g_assert_true(g_file_set_contents_full(copy, text, len, G_FILE_SET_CONTENTS_NONE, 0755,
                                           NULL));
    p = spawn_sh(script, &s);
    wait_exe(sv_process_get_pid(p), "/sleeper");
    g_assert_cmpint(unlink(copy), ==, 0);
    exe = sv_process_read_exe(sv_process_get_pid(p));
    g_assert_cmpstr(exe, ==, copy); /* without " (deleted)" */
    g_assert_cmpint(sv_process_attach_checked(sv_process_get_pid(p), sv_process_get_start_time(p),
                                              copy, &found, &error),
                    ==, SV_PROCESS_CHECK_OURS);
    g_assert_no_error(error);
    sv_process_free(found);
    sv_process_kill(p, FALSE, 2000, 2000, on_kill, &s);
    run_until(&s.killed, 5000);
    sv_process_free(p);
    rmdir(dir);
}

static void
free_later_on_exit(SvProcess *proc, const SvProcessExit *how, gpointer data)
{
    (void)how;
    *(gboolean *)data = TRUE;
    sv_process_free_later(proc); /* inside its own callback: not freed yet */
}

/* A process freed from its own exit callback is freed once the loop is idle (LeakSanitizer
 * in the sanitizer build sees it otherwise). */
static void
test_free_later(void)
{
    const char *argv[] = {"/bin/true", NULL};
    SvSpawnOptions o = {.argv = argv, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
    g_autoptr(GError) error = NULL;
    SvProcess *p = sv_process_spawn(&o, &error);
    gboolean exited = FALSE;

    g_assert_no_error(error);
    sv_process_set_exit_func(p, free_later_on_exit, &exited);
    run_until(&exited, 5000);
    g_assert_true(exited);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    sv_process_free_later(NULL);
}

/* A kill nobody waits on: success says nothing, a failure is a warning (fatal in tests, so
 * seen from a subprocess). */
static void
test_kill_warn(void)
{
    if (g_test_subprocess()) {
        g_autoptr(GError) error = NULL;
        sv_process_kill_warn(NULL, NULL, NULL);
        sv_error_set(&error, SV_FROM_NONE, SV_ERR_SYSTEM_ERROR, "Failed to terminate process 7");
        sv_process_kill_warn(NULL, error, NULL);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*WARNING*Failed to terminate process 7*");
}

/* proc(5)'s fields are found after the last ')' of the command name, whatever it holds;
 * a text cut short has no such field. */
static void
test_stat_fields(void)
{
    const char *text = "4242 (a) b) (c d) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
                       "1234 567 0 0 20 0 1 0 987654 0 0\n";
    guint64 v = 0;

    g_assert_true(sv_proc_stat_field(text, 3, &v)); /* the state: not a number */
    g_assert_cmpuint(v, ==, 0);
    g_assert_true(sv_proc_stat_field(text, 4, &v));
    g_assert_cmpuint(v, ==, 1);
    g_assert_true(sv_proc_stat_field(text, 14, &v));
    g_assert_cmpuint(v, ==, 1234);
    g_assert_true(sv_proc_stat_field(text, 15, &v));
    g_assert_cmpuint(v, ==, 567);
    g_assert_true(sv_proc_stat_field(text, 22, &v));
    g_assert_cmpuint(v, ==, 987654);
    g_assert_false(sv_proc_stat_field(text, 25, &v));
    g_assert_false(sv_proc_stat_field("4242 (no closing paren S 1", 4, &v));
    g_assert_false(sv_proc_stat_field(NULL, 4, &v));
    g_assert_false(sv_proc_stat_field(text, 2, &v));
}

/* A zombie, a dead process and one whose exit has begun (PF_EXITING: its executable is
 * already unreadable) are ending; a running one whose name holds ") Z" is not. */
static void
test_stat_ending(void)
{
    g_assert_false(sv_proc_stat_ending("7 (q) Z) S 1 7 7 0 -1 4194560 0\n"));
    g_assert_true(sv_proc_stat_ending("7 (q) Z 1 7 7 0 -1 4194560 0\n"));
    g_assert_true(sv_proc_stat_ending("7 (q) X 1 7 7 0 -1 4194560 0\n"));
    g_assert_true(sv_proc_stat_ending("7 (q) R 1 7 7 0 -1 4194564 0\n"));
    g_assert_true(sv_proc_stat_ending("7 (q) D 1 7 7 0 -1 4 0\n"));
    g_assert_false(sv_proc_stat_ending("7 (q) S 1 7 7 0 -1 4194560 0\n"));
    g_assert_true(sv_proc_stat_ending("7 (q) S 1 7\n")); /* cut short */
    g_assert_true(sv_proc_stat_ending(NULL));
    g_assert_true(sv_proc_stat_ending("7 (unclosed S 1"));
}

/* A process that burns CPU shows it; one that does not exist has none. */
static void
test_cpu_time(void)
{
    volatile guint64 x = 0;
    gint64 until = g_get_monotonic_time() + 200 * 1000;

    while (g_get_monotonic_time() < until)
        x++;
    g_assert_cmpuint(sv_process_read_cpu_time(getpid()), >, 0);
    g_assert_cmpuint(sv_process_read_cpu_time(G_MAXINT32), ==, 0);
}

/* sv_process_run_sync: both outputs apart, the exit status, the environment given and
 * nothing else, and a program that cannot run. */
static void
test_run_sync(void)
{
    const char *argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; echo \"$FOO-$HOME\"; exit 3",
                          NULL};
    const char *envp[] = {"FOO=bar", NULL};
    const char *bad[] = {"/nonexistent/prog", NULL};
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    int status = 0;

    g_assert_true(sv_process_run_sync(argv, envp, &out, &err, &status, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(out, ==, "out\nbar-\n");
    g_assert_cmpstr(err, ==, "err\n");
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 3);
    g_assert_false(sv_process_run_sync(bad, envp, NULL, NULL, &status, &error));
    g_assert_nonnull(strstr(error->message, "cannot execute '/nonexistent/prog'"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/process/stat-fields", test_stat_fields);
    g_test_add_func("/process/stat-ending", test_stat_ending);
    g_test_add_func("/process/cpu-time", test_cpu_time);
    g_test_add_func("/process/exits-at-once", test_exits_at_once);
    g_test_add_func("/process/honours-sigterm", test_honours_sigterm);
    g_test_add_func("/process/ignores-sigterm", test_ignores_sigterm);
    g_test_add_func("/process/cannot-die", test_cannot_die);
    g_test_add_func("/process/attach-identity", test_attach_checks_identity);
    g_test_add_func("/process/spawn-failure", test_spawn_failure);
    g_test_add_func("/process/no-inherited-fds", test_no_inherited_fds);
    g_test_add_func("/process/capture-output", test_capture_output);
    g_test_add_func("/process/capture-failures", test_capture_failures);
    g_test_add_func("/process/forced-joins-graceful", test_forced_joins_graceful);
    g_test_add_func("/process/kill-until", test_kill_until);
    g_test_add_func("/process/hold-exec", test_hold_exec);
    g_test_add_func("/process/child-nofile", test_child_nofile);
    g_test_add_func("/process/hold-exec-owner-dies", test_hold_exec_owner_dies);
    g_test_add_func("/process/hold-exec-sigterm", test_hold_exec_sigterm);
    g_test_add_func("/process/attach-checked", test_attach_checked);
    g_test_add_func("/process/attach-checked-zombie", test_attach_checked_zombie);
    g_test_add_func("/process/attach-checked-unrun", test_attach_checked_unrun);
    g_test_add_func("/process/attach-checked-replaced", test_attach_checked_replaced);
    g_test_add_func("/process/free-later", test_free_later);
    g_test_add_func("/process/kill-warn", test_kill_warn);
    g_test_add_func("/process/run-sync", test_run_sync);
    return g_test_run();
}
