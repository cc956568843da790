/* test-net-dnsmasq.c: a network's dnsmasq files against the ones Debian's libvirtd 9.0
 * wrote for the same network (tests/data/netrun/CASE.xml gives CASE.conf, CASE.hostsfile
 * and CASE.addnhosts, copied from its /var/lib/libvirt/dnsmasq after `virsh net-start` in a
 * network namespace; see the README there), byte for byte; then the errors and the guard
 * against values that would end a line of the configuration. The data directory is
 * argv[1], else $SV_TEST_DATA, else the build's SV_TEST_DATA_DIR. SV_REGENERATE=1 rewrites
 * the expected files (they are libvirtd's: a diff there is ours to explain). */
#include <string.h>

#include "net_dnsmasq.h"
#include "util/error.h"

#ifndef SV_TEST_DATA_DIR
#define SV_TEST_DATA_DIR "tests/data/netrun"
#endif

static const char *data_dir;
static gboolean regenerate;

static SvNetworkDef *
load_def(const char *name)
{
    g_autofree char *path = g_strdup_printf("%s/%s.xml", data_dir, name);
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    SvNetworkDef *def;

    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    def = sv_network_def_parse(xml, 0, &error);
    g_assert_no_error(error);
    return def;
}

static void
check_file(const char *name, const char *ext, const char *got)
{
    g_autofree char *path = g_strdup_printf("%s/%s.%s", data_dir, name, ext);
    g_autofree char *expected = NULL;

    if (regenerate) {
        g_assert_true(g_file_set_contents(path, got, -1, NULL));
        return;
    }
    g_assert_true(g_file_get_contents(path, &expected, NULL, NULL));
    g_assert_cmpstr(got, ==, expected);
}

/* libvirt's paths for the network, as its driver writes them on a system without --root. */
static void
test_golden(gconstpointer data)
{
    const char *name = data;
    g_autoptr(SvNetworkDef) def = load_def(name);
    g_autofree char *pid = g_strdup_printf("/run/libvirt/network/%s.pid", name);
    g_autofree char *hosts = g_strdup_printf("/var/lib/libvirt/dnsmasq/%s.hostsfile", name);
    g_autofree char *addn = g_strdup_printf("/var/lib/libvirt/dnsmasq/%s.addnhosts", name);
    SvNetDnsmasqPaths paths = {pid, hosts, addn};
    g_autoptr(GError) error = NULL;
    g_autofree char *conf = sv_net_dnsmasq_conf(def, &paths, &error);
    g_autofree char *hostsfile = sv_net_dnsmasq_hostsfile(def);
    g_autofree char *addnhosts = sv_net_dnsmasq_addnhosts(def);

    g_assert_no_error(error);
    g_assert_true(sv_net_dnsmasq_needed(def));
    check_file(name, "conf", conf);
    check_file(name, "hostsfile", hostsfile);
    check_file(name, "addnhosts", addnhosts);
}

static const SvNetDnsmasqPaths PATHS = {"/p.pid", "/h", "/a"};

/* No address: libvirt runs no dnsmasq; DNS off and no DHCP: none either. */
static void
test_needed(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvNetworkDef) bare = sv_network_def_parse(
        "<network><name>n</name><bridge name='b0'/></network>", 0, &error);
    g_autoptr(SvNetworkDef) quiet = sv_network_def_parse(
        "<network><name>n</name><bridge name='b0'/><dns enable='no'/>"
        "<ip address='10.1.0.1' prefix='24'/></network>", 0, &error);

    g_assert_no_error(error);
    g_assert_false(sv_net_dnsmasq_needed(bare));
    g_assert_false(sv_net_dnsmasq_needed(quiet));
}

/* A local PTR zone needs whole octets: libvirt's CONFIG_UNSUPPORTED otherwise. */
static void
test_ptr_error(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvNetworkDef) def = sv_network_def_parse(
        "<network><name>n</name><bridge name='b0'/>"
        "<ip address='10.1.0.1' prefix='20' localPtr='yes'/></network>", 0, &error);
    g_autofree char *conf = NULL;

    g_assert_no_error(error);
    conf = sv_net_dnsmasq_conf(def, &PATHS, &error);
    g_assert_null(conf);
    g_assert_error(error, sv_error_quark(SV_FROM_NETWORK), SV_ERR_CONFIG_UNSUPPORTED);
    g_assert_cmpstr(error->message, ==,
                    "unsupported configuration: PTR domain for IPv4 network with prefix 20 "
                    "cannot be automatically created");
}

/* The parser refuses line breaks; the generator refuses them too if one ever got through
 * (a definition built in memory, or a parser bug): the file's shape cannot change. */
static void
test_line_break_refused(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvNetworkDef) def = sv_network_def_parse(
        "<network><name>n</name><bridge name='b0'/><dns><txt name='t' value='v'/></dns>"
        "<ip address='10.1.0.1' prefix='24'/></network>", 0, &error);
    SvNetworkDnsTxt *txt;
    g_autofree char *conf = NULL;

    g_assert_no_error(error);
    txt = g_ptr_array_index(def->dns.txts, 0);
    g_free(txt->value);
    txt->value = g_strdup("v\ndhcp-script=/tmp/evil");
    conf = sv_net_dnsmasq_conf(def, &PATHS, &error);
    g_assert_null(conf);
    g_assert_error(error, sv_error_quark(SV_FROM_NETWORK), SV_ERR_INTERNAL_ERROR);
}

/* The prefix of an <ip>: given, from the netmask, or the class's. */
static void
test_prefix(void)
{
    SvNetworkIpDef a = {.address = "10.0.0.1"}, b = {.address = "172.16.0.1"},
                   c = {.address = "192.168.1.1"}, d = {.address = "10.0.0.1",
                                                        .netmask = "255.255.252.0"},
                   e = {.address = "fd00::1", .is_ipv6 = TRUE};

    g_assert_cmpint(sv_net_dnsmasq_ip_prefix(&a), ==, 8);
    g_assert_cmpint(sv_net_dnsmasq_ip_prefix(&b), ==, 16);
    g_assert_cmpint(sv_net_dnsmasq_ip_prefix(&c), ==, 24);
    g_assert_cmpint(sv_net_dnsmasq_ip_prefix(&d), ==, 22);
    g_assert_cmpint(sv_net_dnsmasq_ip_prefix(&e), ==, 64);
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) dir = NULL;
    const char *entry;

    g_test_init(&argc, &argv, NULL);
    data_dir = argc > 1 ? argv[1] : g_getenv("SV_TEST_DATA");
    if (!data_dir)
        data_dir = SV_TEST_DATA_DIR;
    regenerate = g_strcmp0(g_getenv("SV_REGENERATE"), "1") == 0;
    dir = g_dir_open(data_dir, 0, NULL);
    g_assert_nonnull(dir);
    while ((entry = g_dir_read_name(dir)))
        if (g_str_has_suffix(entry, ".xml"))
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_strdup_printf("/net-dnsmasq/golden/%s",
                                                (char *)names->pdata[i]);
        g_test_add_data_func(path, names->pdata[i], test_golden);
    }
    g_test_add_func("/net-dnsmasq/needed", test_needed);
    g_test_add_func("/net-dnsmasq/ptr-error", test_ptr_error);
    g_test_add_func("/net-dnsmasq/line-break-refused", test_line_break_refused);
    g_test_add_func("/net-dnsmasq/prefix", test_prefix);
    return g_test_run();
}
