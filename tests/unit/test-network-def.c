/* test-network-def.c: conf/network_def.c and its parts, network and network port XML as
 * libvirt 9.0 reads and writes them.
 *
 * The golden catalogue is tests/data/network: CASE.xml and what libvirtd answered to
 * `virsh net-define` of it (CASE.out, its net-dumpxml --inactive) or the error it gave
 * (CASE.err: "error DOMAIN CODE" and the message); tests/e2e/test_network_xml.py keeps the
 * files libvirtd's and names the cases where ours answers otherwise on purpose (refuse-*).
 * Here the library must give the same answers, its output must read back to itself, and a
 * copy must write the same text. The rest checks what the files cannot show: the live
 * format, lookups, the string tables, copies being deep, the parsed values, ports. */
#include <glib.h>
#include <string.h>

#include "conf/network_def.h"
#include "conf/uuid.h"
#include "util/error.h"

static const char *data_dir;
static gboolean regenerate;

static char *
answer_of(const char *xml, unsigned int flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvNetworkDef) def = sv_network_def_parse(xml, flags, &error);

    if (!def)
        return g_strdup_printf("error %d %d\n%s\n", sv_error_get_from(error), error->code,
                               error->message);
    return sv_network_def_format(def, SV_NETWORK_FORMAT_INACTIVE);
}

static char *
read_answer(const char *name, char **path)
{
    const char *exts[] = {".out", ".err"};
    char *text = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(exts); i++) {
        g_autofree char *p = g_strconcat(data_dir, "/", name, exts[i], NULL);

        if (g_file_get_contents(p, &text, NULL, NULL)) {
            *path = g_steal_pointer(&p);
            return text;
        }
    }
    return NULL;
}

/* A document that parses must read back to itself, and its copy must write the same. */
static void
check_fixed_point(const char *out)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvNetworkDef) def = sv_network_def_parse(out, 0, &error);
    g_autoptr(SvNetworkDef) copy = NULL;
    g_autofree char *again = NULL, *copied = NULL;

    g_assert_no_error(error);
    again = sv_network_def_format(def, SV_NETWORK_FORMAT_INACTIVE);
    g_assert_cmpstr(again, ==, out);
    copy = sv_network_def_copy(def);
    copied = sv_network_def_format(copy, SV_NETWORK_FORMAT_INACTIVE);
    g_assert_cmpstr(copied, ==, out);
}

static void
test_golden(gconstpointer data)
{
    const char *name = data;
    g_autofree char *in_path = g_strconcat(data_dir, "/", name, ".xml", NULL);
    g_autofree char *xml = NULL, *out_path = NULL, *expected = NULL, *got = NULL;
    unsigned int flags = g_str_has_prefix(name, "validate-") ? SV_NETWORK_PARSE_VALIDATE : 0;

    g_assert_true(g_file_get_contents(in_path, &xml, NULL, NULL));
    got = answer_of(xml, flags);
    if (regenerate && (g_str_has_prefix(name, "refuse-") || g_str_has_prefix(name, "quirk-") ||
                       g_str_has_prefix(name, "unsupported-"))) {
        g_autofree char *p = g_strconcat(data_dir, "/", name,
                                         g_str_has_prefix(got, "error ") ? ".err" : ".out",
                                         NULL);
        g_assert_true(g_file_set_contents(p, got, -1, NULL));
    }
    expected = read_answer(name, &out_path);
    if (!expected) {
        g_test_message("%s: no answer file (tests/e2e/test_network_xml.py with "
                       "SV_REGENERATE=1 writes libvirtd's)", name);
        g_test_fail();
        return;
    }
    g_assert_cmpstr(got, ==, expected);
    /* libvirt writes a <bandwidth> whose rates are all 0 as an empty element, which reads
     * back as none: its output is not a fixed point, nor is ours. */
    if (!g_str_has_prefix(got, "error ") && !g_str_equal(name, "bw-zero"))
        check_fixed_point(got);
}

static GPtrArray *
add_golden_tests(void)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) dir = g_dir_open(data_dir, 0, NULL);
    const char *entry;

    g_assert_nonnull(dir);
    while ((entry = g_dir_read_name(dir))) {
        if (g_str_has_suffix(entry, ".xml"))
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
    }
    g_ptr_array_sort(names, (GCompareFunc)g_ascii_strcasecmp);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_strconcat("/network-def/golden/",
                                            (char *)g_ptr_array_index(names, i), NULL);

        g_test_add_data_func(path, g_ptr_array_index(names, i), test_golden);
    }
    g_assert_cmpuint(names->len, >=, 60);
    return names;
}

static SvNetworkDef *
parse_ok(const char *xml)
{
    g_autoptr(GError) error = NULL;
    SvNetworkDef *def = sv_network_def_parse(xml, 0, &error);

    g_assert_no_error(error);
    g_assert_nonnull(def);
    return def;
}

#define UUID "9a05da11-e96b-47f3-8253-a3a482e445f5"

static const char *const live_xml =
    "<network>\n  <name>p</name>\n  <uuid>" UUID "</uuid>\n"
    "  <forward mode='passthrough'>\n    <pf dev='eth3'/>\n  </forward>\n</network>\n";

/* Live XML: connections= on <network>, the PF's functions listed after <pf>. */
static void
test_live_format(void)
{
    g_autoptr(SvNetworkDef) def = parse_ok(live_xml);
    g_autofree char *inactive = NULL, *live = NULL;

    def->connections = 3;
    g_ptr_array_add(def->forward.ifaces, g_strdup("eth3v0"));
    inactive = sv_network_def_format(def, SV_NETWORK_FORMAT_INACTIVE);
    g_assert_cmpstr(inactive, ==, live_xml);
    live = sv_network_def_format(def, 0);
    g_assert_cmpstr(live, ==,
                    "<network connections='3'>\n  <name>p</name>\n  <uuid>" UUID "</uuid>\n"
                    "  <forward mode='passthrough'>\n    <pf dev='eth3'/>\n"
                    "    <interface dev='eth3v0'/>\n  </forward>\n</network>\n");
}

static void
test_values(void)
{
    g_autoptr(SvNetworkDef) def = parse_ok(
        "<network><name>v</name><forward mode='route' dev='eth1'/><bridge name='vb0' stp='off'"
        " delay='3'/><mtu size='1400'/><ip address='10.1' netmask='255.255.0.0'><dhcp>"
        "<range start='10.0.0.5' end='10.0.0.9'><lease expiry='2' unit='hours'/></range>"
        "<host mac='52:54:00:AA:00:01' name='h' ip='10.0.0.6'><lease expiry='0'/></host>"
        "</dhcp></ip><ip family='ipv6' address='FD00::1' prefix='64'/></network>");
    const SvNetworkIpDef *v4 = sv_network_def_ip(def, FALSE, TRUE);
    const SvNetworkIpDef *v6 = sv_network_def_ip(def, TRUE, FALSE);
    const SvNetworkDhcpRange *range;
    const SvNetworkDhcpHost *host;

    g_assert_false(def->has_uuid);
    g_assert_false(def->mac_given);
    g_assert_null(def->mac);
    g_assert_cmpint(def->forward.type, ==, SV_NETWORK_FORWARD_ROUTE);
    g_assert_cmpstr(def->forward.dev, ==, "eth1");
    g_assert_cmpint(def->bridge.stp, ==, SV_NETWORK_TRISTATE_NO);
    g_assert_cmpuint(def->bridge.delay, ==, 3);
    g_assert_cmpuint(def->mtu, ==, 1400);
    /* Addresses as libvirt writes them back; the netmask gives the prefix. */
    g_assert_cmpstr(v4->address, ==, "10.0.0.1");
    g_assert_cmpuint(v4->prefix, ==, 16);
    g_assert_false(v4->has_prefix);
    g_assert_cmpstr(v6->address, ==, "fd00::1");
    g_assert_true(v6->is_ipv6);
    g_assert_null(sv_network_def_ip(def, TRUE, TRUE));
    range = g_ptr_array_index(v4->ranges, 0);
    g_assert_cmpuint(range->lease_expiry, ==, 7200);
    g_assert_cmpint(range->lease_unit, ==, SV_NETWORK_LEASE_UNIT_HOURS);
    host = g_ptr_array_index(v4->hosts, 0);
    g_assert_true(host->lease_infinite);
    g_assert_cmpstr(host->mac, ==, "52:54:00:AA:00:01"); /* libvirt keeps the case given */
}

static void
test_generated_uuid(void)
{
    g_autoptr(SvNetworkDef) a = parse_ok("<network><name>g</name></network>");
    g_autoptr(SvNetworkDef) b = parse_ok("<network><name>g</name></network>");
    static const guint8 zero[16];

    g_assert_false(a->has_uuid);
    g_assert_true(memcmp(a->uuid, zero, 16) != 0);
    g_assert_true(memcmp(a->uuid, b->uuid, 16) != 0);
}

static void
test_portgroup_lookup(void)
{
    g_autoptr(SvNetworkDef) def = parse_ok(
        "<network><name>pg</name><portgroup name='a'/><portgroup name='b' default='YES'>"
        "<bandwidth><inbound average='10'/></bandwidth></portgroup></network>");
    const SvNetworkPortGroupDef *dflt = sv_network_def_portgroup(def, NULL);

    g_assert_cmpstr(dflt->name, ==, "b");
    g_assert_cmpuint(dflt->bandwidth->in->average, ==, 10);
    g_assert_true(sv_network_def_portgroup(def, "a") != dflt);
    g_assert_null(sv_network_def_portgroup(def, "c"));
}

/* A copy shares nothing with its original. */
static void
test_copy_is_deep(void)
{
    g_autofree char *path = g_strconcat(data_dir, "/doc-dns.xml", NULL);
    g_autofree char *xml = NULL, *before = NULL, *after = NULL;
    g_autoptr(SvNetworkDef) def = NULL;
    SvNetworkDef *copy;
    SvNetworkDnsHost *host;

    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    def = parse_ok(xml);
    before = sv_network_def_format(def, 0);
    copy = sv_network_def_copy(def);
    host = g_ptr_array_index(copy->dns.hosts, 0);
    g_ptr_array_add(host->hostnames, g_strdup("more"));
    g_ptr_array_remove_index(copy->ips, 0);
    g_free(copy->domain);
    copy->domain = g_strdup("changed");
    sv_network_def_free(copy);
    after = sv_network_def_format(def, 0);
    g_assert_cmpstr(before, ==, after);
}

static void
test_string_tables(void)
{
    for (int i = 0; i < SV_NETWORK_FORWARD_LAST; i++)
        g_assert_cmpint(sv_network_forward_type_from_string(sv_network_forward_type_to_string(i)),
                        ==, i);
    for (int i = 0; i < SV_NETWORK_PORT_PLUG_LAST; i++)
        g_assert_cmpint(
            sv_network_port_plug_type_from_string(sv_network_port_plug_type_to_string(i)), ==, i);
    g_assert_cmpstr(sv_network_forward_type_to_string(SV_NETWORK_FORWARD_OPEN), ==, "open");
    g_assert_null(sv_network_forward_type_to_string(SV_NETWORK_FORWARD_LAST));
    g_assert_cmpint(sv_network_forward_type_from_string("bogus"), ==, -1);
    g_assert_cmpint(sv_network_forward_type_from_string(NULL), ==, -1);
}

/* ---- net-update's pieces ------------------------------------------------------------------ */

/* What libvirtd 9.0 answered to `net-update NET delete ip-dhcp-host|dns-host XML --config`
 * for each fragment (NULL: no error, the entry was only not found). */
static const struct {
    gboolean dns;
    gboolean partial_ok;
    const char *xml;
    int code;
    const char *message;
} update_pieces[] = {
    {FALSE, TRUE, "<host/>", SV_ERR_XML_ERROR,
     "XML error: At least one of name, mac, or ip attribute must be specified for static host "
     "definition in network 'svupd' "},
    {FALSE, TRUE, "<host name='-x'/>", SV_ERR_XML_ERROR,
     "XML error: Cannot use host name '-x' in network 'svupd'"},
    {FALSE, TRUE, "<host mac='zz'/>", SV_ERR_XML_ERROR,
     "XML error: Cannot parse MAC address 'zz' in network 'svupd'"},
    {FALSE, TRUE, "<host ip='x'/>", SV_ERR_XML_ERROR,
     "XML error: Invalid IP address in static host definition for network 'svupd'"},
    {FALSE, TRUE, "<host name='b'/>", 0, NULL},
    {FALSE, FALSE, "<host name='b'/>", SV_ERR_XML_ERROR,
     "XML error: Missing IP address in static host definition for network 'svupd'"},
    {TRUE, TRUE, "<host/>", SV_ERR_XML_DETAIL,
     "Missing ip and hostname in network 'svupd' DNS HOST record"},
    {TRUE, TRUE, "<host ip='x'/>", SV_ERR_XML_DETAIL,
     "Invalid IP address in network 'svupd' DNS HOST record"},
    {TRUE, TRUE, "<host><hostname></hostname></host>", SV_ERR_XML_DETAIL,
     "Missing ip and hostname in network 'svupd' DNS HOST record"},
    {TRUE, TRUE, "<host><hostname>q</hostname></host>", 0, NULL},
    {TRUE, FALSE, "<host><hostname>q</hostname></host>", SV_ERR_XML_DETAIL,
     "Missing IP address in network 'svupd' DNS HOST record"},
};

static void
test_update_pieces(void)
{
    g_autoptr(SvNetworkDef) def = parse_ok(
        "<network><name>svupd</name><ip address='192.168.9.1' prefix='24'/></network>");
    const SvNetworkIpDef *ip = sv_network_def_ip(def, FALSE, FALSE);

    for (guint i = 0; i < G_N_ELEMENTS(update_pieces); i++) {
        g_autoptr(GError) error = NULL;
        gpointer piece;

        if (update_pieces[i].dns) {
            piece = sv_network_dns_host_parse(def->name, update_pieces[i].xml,
                                              update_pieces[i].partial_ok, &error);
            sv_network_dns_host_free(piece);
        } else {
            piece = sv_network_dhcp_host_parse(def->name, ip, update_pieces[i].xml,
                                               update_pieces[i].partial_ok, &error);
            sv_network_dhcp_host_free(piece);
        }
        g_assert_true((piece == NULL) == (update_pieces[i].message != NULL));
        if (!update_pieces[i].message)
            continue;
        g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_NETWORK);
        g_assert_cmpint(error->code, ==, update_pieces[i].code);
        g_assert_cmpstr(error->message, ==, update_pieces[i].message);
    }
}

/* ---- ports ------------------------------------------------------------------------------ */

#define PORT_HEAD                                                                              \
    "<networkport>\n  <uuid>5d744f21-ba4a-4d6e-bdb2-30a35ff3207d</uuid>\n  <owner>\n"          \
    "    <name>myguest</name>\n    <uuid>c0ee7f52-1234-44e2-8744-4a2b8d5d7ab7</uuid>\n"         \
    "  </owner>\n"

/* Ports as libvirt writes them (virnetworkportdef.c's order). */
static const char *const good_ports[] = {
    PORT_HEAD "  <group>web</group>\n  <mac address='52:54:00:7b:35:93'/>\n"
              "  <bandwidth classID='3'>\n"
              "    <inbound average='1000' peak='2000' floor='500' burst='1024'/>\n"
              "    <outbound average='128' peak='256' burst='256'/>\n  </bandwidth>\n"
              "  <rxfilters trustGuest='yes'/>\n"
              "  <plug type='network' bridge='virbr0'/>\n</networkport>\n",
    PORT_HEAD "  <mac address='52:54:00:7b:35:93'/>\n  <port isolated='yes'/>\n"
              "  <plug type='bridge' bridge='br0' macTableManager='libvirt'/>\n"
              "</networkport>\n",
    PORT_HEAD "  <mac address='52:54:00:7b:35:93'/>\n"
              "  <virtualport type='openvswitch'>\n"
              "    <parameters interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/>\n"
              "  </virtualport>\n  <vlan trunk='yes'>\n    <tag id='42'/>\n"
              "    <tag id='47'/>\n  </vlan>\n"
              "  <plug type='direct' dev='eth0' mode='passthrough'/>\n</networkport>\n",
    PORT_HEAD "  <mac address='52:54:00:7b:35:93'/>\n</networkport>\n",
};

static void
test_port_good(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(good_ports); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SvNetworkPortDef) def = sv_network_port_def_parse(good_ports[i], &error);
        g_autofree char *out = NULL;

        g_assert_no_error(error);
        out = sv_network_port_def_format(def);
        g_assert_cmpstr(out, ==, good_ports[i]);
    }
}

static void
test_port_values(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvNetworkPortDef) def = sv_network_port_def_parse(
        PORT_HEAD "<mac address='52:54:00:7B:35:93'/><plug type='direct' dev='eth0'/>"
                  "</networkport>", &error);
    g_autofree char *out = NULL;
    char uuid[SV_UUID_STRING_LEN + 1];

    g_assert_no_error(error);
    g_assert_cmpstr(def->owner_name, ==, "myguest");
    sv_uuid_format(def->owner_uuid, uuid);
    g_assert_cmpstr(uuid, ==, "c0ee7f52-1234-44e2-8744-4a2b8d5d7ab7");
    g_assert_cmpstr(def->mac, ==, "52:54:00:7b:35:93");
    g_assert_cmpint(def->plug_type, ==, SV_NETWORK_PORT_PLUG_DIRECT);
    out = sv_network_port_def_format(def);
    g_assert_nonnull(strstr(out, "<plug type='direct' dev='eth0' mode='vepa'/>"));
}

static const struct {
    const char *xml;
    int from, code;
    const char *message;
} bad_ports[] = {
    {"<networkport/>", SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
     "internal error: network port has no uuid"},
    {"<networkport><uuid>x</uuid></networkport>", SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
     "internal error: Unable to parse UUID 'x'"},
    {"<networkport><uuid>" UUID "</uuid></networkport>", SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
     "internal error: network port has no owner name"},
    {"<networkport><uuid>" UUID "</uuid><owner><name>g</name></owner></networkport>",
     SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR, "internal error: network port has no owner UUID"},
    {"<networkport><uuid>" UUID "</uuid><owner><name>g</name><uuid>" UUID "</uuid></owner>"
     "</networkport>",
     SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR, "internal error: network port has no mac"},
    {"<networkport><uuid>" UUID "</uuid><owner><name>g</name><uuid>" UUID "</uuid></owner>"
     "<mac address='zz'/></networkport>",
     SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR, "internal error: Unable to parse MAC 'zz'"},
    {"<networkport><uuid>" UUID "</uuid><owner><name>g</name><uuid>" UUID "</uuid></owner>"
     "<mac address='52:54:00:00:00:01'/><plug type='network'/></networkport>",
     SV_FROM_NETWORK, SV_ERR_XML_ERROR, "XML error: Missing network port bridge name"},
    {"<networkport><uuid>" UUID "</uuid><owner><name>g</name><uuid>" UUID "</uuid></owner>"
     "<mac address='52:54:00:00:00:01'/><plug type='direct' dev='e' mode='x'/></networkport>",
     SV_FROM_NETWORK, SV_ERR_XML_ERROR, "XML error: Invalid mode setting 'x' in network port"},
    {"<networkport><uuid>" UUID "</uuid><owner><name>g</name><uuid>" UUID "</uuid></owner>"
     "<mac address='52:54:00:00:00:01'/><plug type='wire'/></networkport>",
     SV_FROM_XML, SV_ERR_XML_ERROR,
     "XML error: Invalid value for attribute 'type' in element 'plug': 'wire'."},
    {"<networkport><uuid>" UUID "</uuid><owner><name>g</name><uuid>" UUID "</uuid></owner>"
     "<mac address='52:54:00:00:00:01'/><bandwidth classID='x'/></networkport>",
     SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "internal error: Unable to parse class id 'x'"},
    {"<port/>", SV_FROM_NETWORK, SV_ERR_XML_ERROR,
     "XML error: unknown root element for network port"},
};

static void
test_port_bad(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(bad_ports); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SvNetworkPortDef) def = sv_network_port_def_parse(bad_ports[i].xml, &error);

        g_assert_null(def);
        g_assert_nonnull(error);
        g_assert_cmpint(sv_error_get_from(error), ==, bad_ports[i].from);
        g_assert_cmpint(error->code, ==, bad_ports[i].code);
        g_assert_cmpstr(error->message, ==, bad_ports[i].message);
    }
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) cases = NULL;

    g_test_init(&argc, &argv, NULL);
    data_dir = argc > 1 ? argv[1] : g_getenv("SV_TEST_DATA");
    if (!data_dir)
        data_dir = SV_TEST_DATA_DIR;
    regenerate = g_strcmp0(g_getenv("SV_REGENERATE"), "1") == 0;
    cases = add_golden_tests();
    g_test_add_func("/network-def/live-format", test_live_format);
    g_test_add_func("/network-def/values", test_values);
    g_test_add_func("/network-def/generated-uuid", test_generated_uuid);
    g_test_add_func("/network-def/portgroup-lookup", test_portgroup_lookup);
    g_test_add_func("/network-def/copy-is-deep", test_copy_is_deep);
    g_test_add_func("/network-def/string-tables", test_string_tables);
    g_test_add_func("/network-def/update-pieces", test_update_pieces);
    g_test_add_func("/network-port-def/good", test_port_good);
    g_test_add_func("/network-port-def/values", test_port_values);
    g_test_add_func("/network-port-def/bad", test_port_bad);
    return g_test_run();
}
