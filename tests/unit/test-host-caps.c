/* test-host-caps.c: the <host> part of the capabilities, from a made-up /sys and /proc: a
 * two-node AMD host with huge pages and a shared L3, and a host without NUMA in sysfs.
 * The expected text is what libvirtd 9.0 prints for such a host (its CPU model and
 * feature list aside, which come from libvirt's CPU map). */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/host.h"

static void
put(const char *root, const char *rel, const char *text)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autofree char *dir = g_path_get_dirname(path);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void
put_cpu(const char *sys, int cpu, int core, const char *siblings)
{
    g_autofree char *base = g_strdup_printf("devices/system/cpu/cpu%d", cpu);
    g_autofree char *pkg = g_strdup_printf("%s/topology/physical_package_id", base);
    g_autofree char *die = g_strdup_printf("%s/topology/die_id", base);
    g_autofree char *core_rel = g_strdup_printf("%s/topology/core_id", base);
    g_autofree char *sib = g_strdup_printf("%s/topology/thread_siblings_list", base);
    g_autofree char *core_text = g_strdup_printf("%d\n", core);
    g_autofree char *l1 = g_strdup_printf("%s/cache/index0/level", base);
    g_autofree char *l3 = g_strdup_printf("%s/cache/index1/level", base);
    g_autofree char *l1type = g_strdup_printf("%s/cache/index0/type", base);
    g_autofree char *l3type = g_strdup_printf("%s/cache/index1/type", base);
    g_autofree char *l1size = g_strdup_printf("%s/cache/index0/size", base);
    g_autofree char *l3size = g_strdup_printf("%s/cache/index1/size", base);
    g_autofree char *l1list = g_strdup_printf("%s/cache/index0/shared_cpu_list", base);
    g_autofree char *l3list = g_strdup_printf("%s/cache/index1/shared_cpu_list", base);
    g_autofree char *l3id = g_strdup_printf("%s/cache/index1/id", base);

    put(sys, pkg, "0\n");
    put(sys, die, "0\n");
    put(sys, core_rel, core_text);
    put(sys, sib, siblings);
    put(sys, l1, "1\n");
    put(sys, l1type, "Data\n");
    put(sys, l1size, "32K\n");
    put(sys, l1list, siblings);
    put(sys, l3, "3\n");
    put(sys, l3type, "Unified\n");
    put(sys, l3size, "32768K\n");
    put(sys, l3list, "0-3\n");
    put(sys, l3id, "0\n");
}

static const char cpuinfo[] = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n"
                              "model\t\t: 17\nmodel name\t: AMD EPYC\nstepping\t: 1\n"
                              "microcode\t: 0x1000065\naddress sizes\t: 48 bits physical, 48 bits "
                              "virtual\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\n";

static char *
make_tree(gboolean numa)
{
    char *root = g_dir_make_tmp("sv-host-XXXXXX", NULL);
    g_autofree char *sys = g_build_filename(root, "sys", NULL);
    g_autofree char *proc = g_build_filename(root, "proc", NULL);

    put(proc, "cpuinfo", cpuinfo);
    put(sys, "kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "0\n");
    put(sys, "kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "4\n");
    put_cpu(sys, 0, 0, "0-1\n");
    put_cpu(sys, 1, 0, "0-1\n");
    put_cpu(sys, 2, 1, "2-3\n");
    put_cpu(sys, 3, 1, "2-3\n");
    if (numa) {
        put(sys, "devices/system/node/online", "0-1\n");
        put(sys, "devices/system/node/node0/meminfo", "Node 0 MemTotal:  1048576 kB\n");
        put(sys, "devices/system/node/node0/distance", "10 20\n");
        put(sys, "devices/system/node/node0/cpulist", "0-1\n");
        put(sys, "devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages", "4\n");
        put(sys, "devices/system/node/node1/meminfo", "Node 1 MemTotal:  2097152 kB\n");
        put(sys, "devices/system/node/node1/distance", "20 10\n");
        put(sys, "devices/system/node/node1/cpulist", "2-3\n");
        put(sys, "devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages", "0\n");
    }
    return root;
}

static void
remove_tree(const char *root)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);

    g_assert_cmpint(system(cmd), ==, 0);
}

static char *
host_xml(const char *root)
{
    g_autofree char *sys = g_build_filename(root, "sys", NULL);
    g_autofree char *proc = g_build_filename(root, "proc", NULL);
    g_autofree char *dev = g_build_filename(root, "dev", NULL);
    GString *s = g_string_new(NULL);

    sv_host_capabilities_begin_at(s, "u", NULL, "    <extra/>\n", sys, proc, dev);
    return g_string_free(s, FALSE);
}

static void
test_numa_host(void)
{
    g_autofree char *root = make_tree(TRUE);
    g_autofree char *xml = host_xml(root);
    g_autofree char *cpu_end = NULL;
    long page = sysconf(_SC_PAGESIZE) / 1024;
    g_autofree char *cell0 = g_strdup_printf(
        "        <cell id='0'>\n"
        "          <memory unit='KiB'>1048576</memory>\n"
        "          <pages unit='KiB' size='%ld'>%ld</pages>\n"
        "          <pages unit='KiB' size='2048'>4</pages>\n"
        "          <distances>\n"
        "            <sibling id='0' value='10'/>\n"
        "            <sibling id='1' value='20'/>\n"
        "          </distances>\n"
        "          <cpus num='2'>\n"
        "            <cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0-1'/>\n"
        "            <cpu id='1' socket_id='0' die_id='0' core_id='0' siblings='0-1'/>\n"
        "          </cpus>\n"
        "        </cell>\n",
        page, (1048576 - 4 * 2048) / page);

    /* The first processor's facts; the 1 GiB page size though none is reserved. */
    g_assert_nonnull(strstr(xml, "    <cpu>\n      <arch>"));
    g_assert_nonnull(strstr(xml, "</arch>\n      <vendor>AMD</vendor>\n"
                                 "      <microcode version='16777317'/>\n"
                                 "      <signature family='25' model='17' stepping='1'/>\n"
                                 "      <topology "));
    cpu_end = g_strdup_printf("      <maxphysaddr mode='emulate' bits='48'/>\n"
                              "      <pages unit='KiB' size='%ld'/>\n"
                              "      <pages unit='KiB' size='2048'/>\n"
                              "      <pages unit='KiB' size='1048576'/>\n"
                              "    </cpu>\n    <power_management/>\n    <iommu support='no'/>\n"
                              "    <extra/>\n    <topology>\n      <cells num='2'>\n",
                              page);
    g_assert_nonnull(strstr(xml, cpu_end));
    g_assert_nonnull(strstr(xml, cell0));
    g_assert_nonnull(strstr(xml, "<cell id='1'>\n          <memory unit='KiB'>2097152</memory>"));
    g_assert_nonnull(strstr(xml, "<sibling id='0' value='20'/>\n            <sibling id='1' "
                                 "value='10'/>"));
    g_assert_nonnull(strstr(xml, "<cpu id='3' socket_id='0' die_id='0' core_id='1' "
                                 "siblings='2-3'/>"));
    /* One bank for the L3 every CPU shares; the L1s are not listed. */
    g_assert_true(g_str_has_suffix(xml, "      </cells>\n    </topology>\n    <cache>\n"
                                        "      <bank id='0' level='3' type='both' size='32' "
                                        "unit='MiB' cpus='0-3'/>\n    </cache>\n"));
    remove_tree(root);
}

static void
test_flat_host(void)
{
    g_autofree char *root = make_tree(FALSE);
    g_autofree char *xml = host_xml(root);

    g_assert_nonnull(strstr(xml, "<cells num='1'>\n        <cell id='0'>\n"
                                 "          <memory unit='KiB'>"));
    g_assert_nonnull(
        strstr(xml, "<cpu id='0' socket_id='0' die_id='0' core_id='0' siblings='0'/>"));
    remove_tree(root);
}

/* libvirt's host_uuid key: its UUID forms, and the values it refuses. */
static void
test_host_uuid_key(void)
{
    g_autoptr(GError) error = NULL;
    char *u;

    u = sv_host_uuid_configured("5D0AD1C8-5A4E-4D0B-9F8E-2C7A1E3B6F40", NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(u, ==, "5d0ad1c8-5a4e-4d0b-9f8e-2c7a1e3b6f40");
    g_free(u);
    u = sv_host_uuid_configured(" 5d0ad1c85a4e4d0b9f8e2c7a1e3b6f40 ", "bogus", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(u, ==, "5d0ad1c8-5a4e-4d0b-9f8e-2c7a1e3b6f40");
    g_free(u);
    g_assert_null(sv_host_uuid_configured("11111111-1111-1111-1111-111111111111", NULL, &error));
    g_assert_true(g_str_has_suffix(error->message,
                                   "invalid host UUID: 11111111-1111-1111-1111-111111111111"));
    g_clear_error(&error);
    g_assert_null(sv_host_uuid_configured("5d0ad1c8-5a4e", NULL, &error));
    g_assert_true(g_str_has_suffix(error->message, "invalid host UUID: 5d0ad1c8-5a4e"));
    g_clear_error(&error);
    g_assert_null(sv_host_uuid_configured(NULL, "dmi", &error));
    g_assert_true(g_str_has_suffix(error->message, "invalid UUID source: dmi"));
    g_clear_error(&error);
    u = sv_host_uuid_configured(NULL, "smbios", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(strlen(u), ==, 36);
    g_free(u);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host-caps/numa", test_numa_host);
    g_test_add_func("/host-caps/flat", test_flat_host);
    g_test_add_func("/host-caps/host-uuid-key", test_host_uuid_key);
    return g_test_run();
}
