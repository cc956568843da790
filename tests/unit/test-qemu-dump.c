/* test-qemu-dump.c: the name of an <on_crash>coredump-*</on_crash> dump (qemu_dump_path()),
 * libvirt 9.0's auto_dump_path file: the guest's short name (its id, then at most 20
 * characters of its name) and the local time. tests/e2e/test_qemu_coredump.py compares
 * the file with libvirtd's. */
#include "qemu_dump.h"

static void
test_path(void)
{
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    g_autoptr(GDateTime) at = g_date_time_new(utc, 2026, 1, 2, 3, 4, 5);
    g_autofree char *plain = qemu_dump_path("/d", 7, "pan", at);
    g_autofree char *cut = qemu_dump_path("/d", 12, "a-name-of-more-than-twenty", at);
    g_autofree char *wide = qemu_dump_path("/d", 3, "\xc3\xa9t\xc3\xa9-\xc3\xa9t\xc3\xa9-"
                                                    "\xc3\xa9t\xc3\xa9-\xc3\xa9t\xc3\xa9-"
                                                    "\xc3\xa9t\xc3\xa9-xyz", at);

    g_assert_cmpstr(plain, ==, "/d/7-pan-2026-01-02-03:04:05");
    g_assert_cmpstr(cut, ==, "/d/12-a-name-of-more-than--2026-01-02-03:04:05");
    /* Characters, not bytes: 20 of them, each é whole. */
    g_assert_cmpstr(wide, ==, "/d/3-\xc3\xa9t\xc3\xa9-\xc3\xa9t\xc3\xa9-\xc3\xa9t\xc3\xa9-"
                              "\xc3\xa9t\xc3\xa9-\xc3\xa9t\xc3\xa9--2026-01-02-03:04:05");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-dump/path", test_path);
    return g_test_run();
}
