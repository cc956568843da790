/* test-net-leases.c: the leases status file against what Debian's libvirt_leaseshelper
 * (libvirt 9.0) wrote and printed for the same events (tests/data/netrun/leases-*: two
 * IPv4 leases and an IPv6 one; its "init" output; the empty array its "del" of the last
 * lease leaves), and NETWORK_GET_DHCP_LEASES read from such a file with libvirt's rules
 * (expired leases hidden, MAC filter ignoring case, the prefix of the network's <ip> of
 * the lease's family) and errors; and BRIDGE.macs through the port additions and removals
 * libvirtd made it for (macs-*.macs: a port of guest-a, then one of guest-b and a second of
 * guest-a, then guest-a's two deleted, then the last). */
#include <string.h>

#include "net_leases.h"
#include "util/error.h"

static char *
data(const char *name)
{
    g_autofree char *path = g_build_filename(SV_TEST_DATA_DIR, name, NULL);
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static SvNetLeaseRecord *
record(const char *iaid, const char *ip, const char *mac, const char *host, const char *client,
       const char *duid, gint64 expiry)
{
    SvNetLeaseRecord *r = g_new0(SvNetLeaseRecord, 1);

    r->iaid = g_strdup(iaid);
    r->ip = g_strdup(ip);
    r->mac = g_strdup(mac);
    r->hostname = g_strdup(host);
    r->client_id = g_strdup(client);
    r->server_duid = g_strdup(duid);
    r->expiry = expiry;
    return r;
}

/* The leases libvirt's helper kept for: add of a client with hostname and client id, add
 * with the hostname as argument, add of a DHCPv6 client. */
static GPtrArray *
three(void)
{
    GPtrArray *recs = g_ptr_array_new_with_free_func((GDestroyNotify)sv_net_lease_record_free);

    g_ptr_array_add(recs, record(NULL, "192.168.122.50", "52:54:00:11:22:33", "g1",
                                 "01:52:54:00:11:22:33", NULL, 1900000000));
    g_ptr_array_add(recs, record(NULL, "192.168.122.51", "52:54:00:11:22:44", "hostx", NULL,
                                 NULL, 1900000100));
    g_ptr_array_add(recs, record("12345", "2001:db8::55", "52:54:00:11:22:55", "v6host",
                                 "00:03:00:01:52:54:00:11:22:55", "00:01:00:01:aa:bb",
                                 1900000200));
    return recs;
}

static void
test_format(void)
{
    g_autoptr(GPtrArray) recs = three();
    g_autoptr(GPtrArray) none = g_ptr_array_new();
    g_autofree char *got = sv_net_lease_records_format(recs);
    g_autofree char *want = data("leases-three.status");
    g_autofree char *empty = sv_net_lease_records_format(none);
    g_autofree char *want_empty = data("leases-empty.status");

    g_assert_cmpstr(got, ==, want);
    g_assert_cmpstr(empty, ==, want_empty);
}

static void
test_parse_and_init(void)
{
    g_autofree char *text = data("leases-three.status");
    g_autofree char *want_init = data("leases-three.init");
    g_autoptr(GError) error = NULL;
    gboolean invalid = TRUE;
    g_autoptr(GPtrArray) recs = sv_net_lease_records_parse(text, &invalid, &error);
    g_autofree char *again = NULL;
    g_autofree char *init = NULL;

    g_assert_no_error(error);
    g_assert_false(invalid);
    g_assert_cmpuint(recs->len, ==, 3);
    again = sv_net_lease_records_format(recs);
    g_assert_cmpstr(again, ==, text);
    init = sv_net_lease_records_init_text(recs, "00:01:00:01:aa:bb");
    g_assert_cmpstr(init, ==, want_init);
}

/* Not JSON: the helper rewrites the file; JSON of another shape: it gives up. */
static void
test_parse_bad(void)
{
    g_autoptr(GError) error = NULL;
    gboolean invalid = FALSE;
    g_autoptr(GPtrArray) garbage = sv_net_lease_records_parse("garbage", &invalid, &error);
    g_autoptr(GPtrArray) object = NULL;
    g_autoptr(GPtrArray) no_expiry = NULL;

    g_assert_no_error(error);
    g_assert_true(invalid);
    g_assert_cmpuint(garbage->len, ==, 0);
    object = sv_net_lease_records_parse("{}", &invalid, &error);
    g_assert_null(object);
    g_assert_cmpstr(error->message, ==, "internal error: couldn't fetch array of leases");
    g_clear_error(&error);
    no_expiry = sv_net_lease_records_parse("[{\"ip-address\": \"1.2.3.4\"}]", &invalid, &error);
    g_assert_null(no_expiry);
    g_assert_cmpstr(error->message, ==, "internal error: failed to parse json");
}

/* A hostname a client chose is JSON-escaped, never raw. */
static void
test_escape(void)
{
    g_autoptr(GPtrArray) recs = g_ptr_array_new_with_free_func(
        (GDestroyNotify)sv_net_lease_record_free);
    g_autofree char *text = NULL;
    g_autoptr(GPtrArray) back = NULL;
    gboolean invalid;

    g_ptr_array_add(recs, record(NULL, "10.0.0.2", "52:54:00:00:00:01", "a\"b\\c\n}", NULL,
                                 NULL, 5));
    text = sv_net_lease_records_format(recs);
    g_assert_nonnull(strstr(text, "\"hostname\": \"a\\\"b\\\\c\\n}\""));
    back = sv_net_lease_records_parse(text, &invalid, NULL);
    g_assert_cmpstr(((SvNetLeaseRecord *)back->pdata[0])->hostname, ==, "a\"b\\c\n}");
}

static SvNetworkDef *
network(void)
{
    g_autoptr(GError) error = NULL;
    SvNetworkDef *def = sv_network_def_parse(
        "<network><name>n</name><bridge name='virbr9'/>"
        "<ip address='192.168.122.1' netmask='255.255.255.0'/>"
        "<ip family='ipv6' address='2001:db8::1' prefix='64'/></network>", 0, &error);

    g_assert_no_error(error);
    return def;
}

static void
test_get_leases(void)
{
    g_autofree char *text = data("leases-three.status");
    g_autoptr(SvNetworkDef) def = network();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) all = sv_net_leases_from_status(text, "/x", def, NULL, 1800000000,
                                                         &error);
    g_autoptr(GPtrArray) later = sv_net_leases_from_status(text, "/x", def, NULL, 1900000150,
                                                           &error);
    g_autoptr(GPtrArray) one = sv_net_leases_from_status(text, "/x", def, "52:54:00:11:22:44",
                                                         1800000000, &error);
    g_autoptr(GPtrArray) upper = sv_net_leases_from_status(text, "/x", def,
                                                           "52:54:00:11:22:55", 1800000000,
                                                           &error);
    SvNetLease *l;

    g_assert_no_error(error);
    g_assert_cmpuint(all->len, ==, 3);
    l = all->pdata[0];
    g_assert_cmpstr(l->iface, ==, "virbr9");
    g_assert_cmpint(l->expiry, ==, 1900000000);
    g_assert_cmpint(l->type, ==, SV_NET_LEASE_IPV4);
    g_assert_cmpuint(l->prefix, ==, 24);
    g_assert_cmpstr(l->hostname, ==, "g1");
    g_assert_cmpstr(l->clientid, ==, "01:52:54:00:11:22:33");
    g_assert_null(l->iaid);
    l = all->pdata[2];
    g_assert_cmpint(l->type, ==, SV_NET_LEASE_IPV6);
    g_assert_cmpuint(l->prefix, ==, 64);
    g_assert_cmpstr(l->iaid, ==, "12345");
    g_assert_cmpuint(later->len, ==, 1); /* the two IPv4 leases have expired by then */
    g_assert_cmpuint(one->len, ==, 1);
    g_assert_cmpstr(((SvNetLease *)one->pdata[0])->ipaddr, ==, "192.168.122.51");
    g_assert_cmpuint(upper->len, ==, 1);
}

static void
test_get_leases_errors(void)
{
    g_autoptr(SvNetworkDef) def = network();
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) empty = sv_net_leases_from_status("", "/x", def, NULL, 0, &error);
    g_autoptr(GPtrArray) infinite = sv_net_leases_from_status(
        "[{\"ip-address\": \"192.168.122.9\", \"mac-address\": \"52:54:00:00:00:09\", "
        "\"expiry-time\": 0}]", "/x", def, NULL, 1800000000, &error);
    GPtrArray *bad;

    g_assert_no_error(error);
    g_assert_cmpuint(empty->len, ==, 0);
    g_assert_cmpuint(infinite->len, ==, 1);
    bad = sv_net_leases_from_status("nope", "/d/virbr9.status", def, NULL, 0, &error);
    g_assert_null(bad);
    g_assert_cmpstr(error->message, ==, "internal error: invalid json in file: /d/virbr9.status");
    g_clear_error(&error);
    bad = sv_net_leases_from_status("[{\"ip-address\": \"1.2.3.4\", \"expiry-time\": 1}]", "/x",
                                    def, NULL, 0, &error);
    g_assert_null(bad);
    g_assert_cmpstr(error->message, ==, "internal error: found lease without mac-address");
    g_clear_error(&error);
    bad = sv_net_leases_from_status("{}", "/x", def, NULL, 0, &error);
    g_assert_null(bad);
    g_assert_cmpstr(error->message, ==, "internal error: Malformed lease_entries array");
}

/* The ports libvirtd saw, one after another, and the file after each step. */
static void
test_macs(void)
{
    g_autofree char *first = data("macs-first.macs");
    g_autofree char *three = data("macs-three.macs");
    g_autofree char *one = data("macs-one.macs");
    g_autofree char *empty = data("leases-empty.status");
    g_autoptr(GError) error = NULL;
    g_autofree char *a = sv_net_macs_update("", "guest-a", "52:54:00:aa:00:01", TRUE, &error);
    g_autofree char *b = sv_net_macs_update(a, "guest-b", "52:54:00:aa:00:02", TRUE, &error);
    g_autofree char *c = sv_net_macs_update(b, "guest-a", "52:54:00:aa:00:03", TRUE, &error);
    g_autofree char *d = sv_net_macs_update(c, "guest-a", "52:54:00:aa:00:01", FALSE, &error);
    g_autofree char *e = sv_net_macs_update(d, "guest-a", "52:54:00:aa:00:03", FALSE, &error);
    g_autofree char *f = sv_net_macs_update(e, "guest-b", "52:54:00:aa:00:02", FALSE, &error);
    g_autofree char *again = sv_net_macs_update(three, "guest-b", "52:54:00:aa:00:02", TRUE,
                                                &error);
    g_autofree char *bad = NULL;

    g_assert_no_error(error);
    g_assert_cmpstr(a, ==, first);
    g_assert_cmpstr(c, ==, three);
    g_assert_cmpstr(e, ==, one);
    g_assert_cmpstr(f, ==, empty);
    g_assert_cmpstr(again, ==, three); /* a MAC already there is not added twice */
    bad = sv_net_macs_update("[{\"domain\": 1}]", "g", "52:54:00:aa:00:01", TRUE, &error);
    g_assert_null(bad);
    g_assert_error(error, sv_error_quark(SV_FROM_NETWORK), SV_ERR_INTERNAL_ERROR);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/net-leases/format", test_format);
    g_test_add_func("/net-leases/parse-and-init", test_parse_and_init);
    g_test_add_func("/net-leases/parse-bad", test_parse_bad);
    g_test_add_func("/net-leases/escape", test_escape);
    g_test_add_func("/net-leases/get-leases", test_get_leases);
    g_test_add_func("/net-leases/get-leases-errors", test_get_leases_errors);
    g_test_add_func("/net-leases/macs", test_macs);
    return g_test_run();
}
