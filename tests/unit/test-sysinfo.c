/* test-sysinfo.c: dmidecode output captured in tests/data/sysinfo (<case>.dmidecode) gives
 * the <sysinfo> document libvirt 9.0 prints for it (<case>.xml): a two-socket server with
 * OEM strings, XML-special characters and an empty memory slot, and no tables at all. */
#include <glib.h>

#include "util/sysinfo.h"

static void
check_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *in_path = g_strdup_printf("%s/%s.dmidecode", SV_TEST_DATA_DIR, name);
    g_autofree char *out_path = g_strdup_printf("%s/%s.xml", SV_TEST_DATA_DIR, name);
    g_autofree char *in = NULL;
    g_autofree char *expected = NULL;
    g_autofree char *got = NULL;

    g_assert_true(g_file_get_contents(in_path, &in, NULL, NULL));
    g_assert_true(g_file_get_contents(out_path, &expected, NULL, NULL));
    got = sv_sysinfo_format_dmidecode(in);
    g_assert_cmpstr(got, ==, expected);
}

/* A field missing from its section is taken from a later section, as libvirt's search
 * forward from the title does: the BIOS here has no "Version: ", so the system's is
 * used. */
static void
test_field_searched_forward(void)
{
    g_autofree char *got = sv_sysinfo_format_dmidecode(
        "BIOS Information\n\tVendor: SeaBIOS\n\n"
        "System Information\n\tManufacturer: QEMU\n\tVersion: pc-q35-7.2\n\tUUID:   \n");

    g_assert_cmpstr(got, ==,
                    "<sysinfo type='smbios'>\n"
                    "  <bios>\n"
                    "    <entry name='vendor'>SeaBIOS</entry>\n"
                    "    <entry name='version'>pc-q35-7.2</entry>\n"
                    "  </bios>\n"
                    "  <system>\n"
                    "    <entry name='manufacturer'>QEMU</entry>\n"
                    "    <entry name='version'>pc-q35-7.2</entry>\n"
                    "  </system>\n"
                    "</sysinfo>\n");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/sysinfo/server", "server", check_case);
    g_test_add_data_func("/sysinfo/empty", "empty", check_case);
    g_test_add_func("/sysinfo/field-searched-forward", test_field_searched_forward);
    return g_test_run();
}
