/* test-fileio.c: the path check applied to what status files say. */
#include "util/fileio.h"

static void
test_path_is_within(void)
{
    const char *dir = "/run/libvirt/qemu";

    g_assert_true(sv_path_is_within("/run/libvirt/qemu/a.pid", dir));
    g_assert_true(sv_path_is_within("/run/libvirt/qemu/d/monitor.sock", dir));
    g_assert_true(sv_path_is_within("/run/libvirt/qemu/d/monitor.sock", "/run/libvirt/qemu/"));
    g_assert_true(sv_path_is_within("/x", "/"));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemux/a", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/../../../etc/shadow", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/a/../../b", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/./a", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu//a", dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/a/", dir));
    g_assert_false(sv_path_is_within("run/libvirt/qemu/a", dir));
    g_assert_false(sv_path_is_within("/etc/shadow", dir));
    g_assert_false(sv_path_is_within(NULL, dir));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/a", "relative"));
    g_assert_false(sv_path_is_within("/run/libvirt/qemu/..", dir));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fileio/path-is-within", test_path_is_within);
    return g_test_run();
}
