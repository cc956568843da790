/* test-guest-log.c: a guest's log file: where it is, how it is opened, and the daemon's
 * timestamped lines. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/guest_log.h"

static void
test_open_and_write(void)
{
    g_autofree char *root = g_dir_make_tmp("sv-guest-log-XXXXXX", NULL);
    g_autofree char *dir = g_build_filename(root, "var/log/libvirt/qemu", NULL);
    g_autofree char *path = sv_guest_log_path(dir, "web");
    g_autofree char *want = g_build_filename(root, "var/log/libvirt/qemu/web.log", NULL);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GRegex) stamp =
        g_regex_new("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\+0000: ", 0, 0, NULL);
    struct stat st;
    int fd;

    g_assert_cmpstr(path, ==, want);
    fd = sv_guest_log_open(dir, "web", SV_FROM_QEMU, "cannot open log file", &error);
    g_assert_no_error(error);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(stat(dir, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0600);
    g_assert_cmpint(fcntl(fd, F_GETFD) & FD_CLOEXEC, !=, 0);
    sv_guest_log_printf(fd, "starting up %s, pid %d", "x", 42);
    g_assert_cmpint(write(fd, "qemu says hello\n", 16), ==, 16);
    close(fd);
    /* Opened again (a reconnect): appended to, never truncated. */
    fd = sv_guest_log_open(dir, "web", SV_FROM_QEMU, "cannot open log file", &error);
    g_assert_no_error(error);
    sv_guest_log_printf(fd, "reconnected");
    close(fd);
    sv_guest_log_printf(-1, "goes nowhere");

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 4);
    g_assert_true(g_regex_match(stamp, lines[0], 0, NULL));
    g_assert_true(g_str_has_suffix(lines[0], "+0000: starting up x, pid 42"));
    g_assert_cmpstr(lines[1], ==, "qemu says hello");
    g_assert_true(g_regex_match(stamp, lines[2], 0, NULL));
    g_assert_true(g_str_has_suffix(lines[2], "+0000: reconnected"));
    g_assert_cmpstr(lines[3], ==, "");
    unlink(path);
    for (const char *d = dir; strlen(d) > strlen(root); d = dir) {
        g_assert_cmpint(rmdir(d), ==, 0);
        g_free(path);
        path = g_steal_pointer(&dir);
        dir = g_path_get_dirname(path);
    }
    rmdir(root);
}

/* A log that cannot be opened fails in the driver's error domain, in its words. */
static void
test_open_fails(void)
{
    g_autofree char *root = g_dir_make_tmp("sv-guest-log-XXXXXX", NULL);
    g_autofree char *path = sv_guest_log_path(root, "web");
    g_autoptr(GError) error = NULL;

    /* A directory where the file should be. */
    g_assert_cmpint(mkdir(path, 0700), ==, 0);
    g_assert_cmpint(sv_guest_log_open(root, "web", SV_FROM_LXC, "Failed to open", &error), ==, -1);
    g_assert_error(error, sv_error_quark(SV_FROM_LXC), SV_ERR_SYSTEM_ERROR);
    g_assert_true(g_str_has_prefix(error->message, "Failed to open '"));
    g_assert_true(g_str_has_suffix(error->message, "/web.log': Is a directory"));
    rmdir(path);
    rmdir(root);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/guest-log/open-and-write", test_open_and_write);
    g_test_add_func("/guest-log/open-fails", test_open_fails);
    return g_test_run();
}
