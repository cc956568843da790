/* test-net-firewall.c: the nftables table virtnetworkd's firewall (net_firewall.c) makes for
 * a network, as golden scripts: tests/data/net-firewall/CASE.xml (a network) and CASE.nft
 * (the script fed to `nft -f -`, or "none" for a mode without rules). The rules follow
 * libvirt 9.0's iptables rules for the same networks, compared with Debian's libvirtd's in
 * tests/e2e/test_net_firewall.py. The data directory is SV_TEST_DATA (else the build's
 * SV_TEST_DATA_DIR); SV_REGENERATE=1 rewrites the .nft files: review the diff.
 *
 * Then what add, remove and present run (a fake runner), the monitor's line parser, and, as
 * root in a network namespace of the test's own (made with unshare at the start of main,
 * before any thread, so every nft of the test runs there): the real nft, a ruleset made
 * before left byte for byte as it was, and the watch seeing a flush and firewalld's
 * signals on a private bus. */
#include <gio/gio.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "conf/network_def.h"
#include "net_firewall.h"
#include "util/command.h"
#include "util/error.h"

/* The system bus of every test but those making a private one: none (the host's firewalld,
 * if there is one, is never asked anything). */
#define NO_BUS "unix:path=/nonexistent/system_bus_socket"

static const char *data_dir;
static gboolean regenerate;
static gboolean own_netns; /* the process runs in a network namespace of its own */

static SvNetworkDef *
load(const char *name)
{
    g_autofree char *path = g_strdup_printf("%s/%s.xml", data_dir, name);
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    SvNetworkDef *def;

    g_assert_true(g_file_get_contents(path, &xml, NULL, &error));
    def = sv_network_def_parse(xml, 0, &error);
    g_assert_no_error(error);
    return def;
}

static void
test_golden(gconstpointer data)
{
    const char *name = data;
    g_autoptr(SvNetworkDef) def = load(name);
    g_autofree char *path = g_strdup_printf("%s/%s.nft", data_dir, name);
    g_autofree char *script = NULL;
    g_autofree char *want = NULL;
    g_autoptr(GError) error = NULL;
    const char *got;

    g_assert_true(sv_net_firewall_script(def, &script, &error));
    g_assert_no_error(error);
    got = script ? script : "none\n";
    if (regenerate) {
        g_assert_true(g_file_set_contents(path, got, -1, NULL));
        return;
    }
    g_assert_true(g_file_get_contents(path, &want, NULL, &error));
    g_assert_cmpstr(got, ==, want);
}

/* What a script builds for def, or its error. */
static void
script_error(SvNetworkDef *def, int code, const char *message)
{
    g_autofree char *script = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_false(sv_net_firewall_script(def, &script, &error));
    g_assert_null(script);
    g_assert_nonnull(error);
    g_assert_cmpint(error->code, ==, code);
    g_assert_cmpstr(error->message, ==, message);
}

/* libvirt's port range check (start below end, end a port), and its default. */
static void
test_port_range(void)
{
    g_autoptr(SvNetworkDef) def = load("nat-dev-ranges");
    g_autofree char *script = NULL;

    def->forward.nat_port_start = 3000;
    def->forward.nat_port_end = 3000;
    script_error(def, SV_ERR_INTERNAL_ERROR, "internal error: Invalid port range '3000-3000'.");
    def->forward.nat_port_start = 0;
    def->forward.nat_port_end = 0;
    g_assert_true(sv_net_firewall_script(def, &script, NULL));
    g_assert_nonnull(strstr(script, "meta l4proto tcp snat ip to "
                                    "203.0.113.10-203.0.113.20:1024-65535\n"));
}

/* Names nft would read otherwise ('*' a wildcard, quotes) are refused, and said so. */
static void
test_bad_names(void)
{
    g_autoptr(SvNetworkDef) def = load("nat-default");
    g_autoptr(SvNetworkDef) dev = load("route");

    g_free(def->bridge.name);
    def->bridge.name = g_strdup("virbr*");
    script_error(def, SV_ERR_CONFIG_UNSUPPORTED,
                 "unsupported configuration: interface name 'virbr*' cannot be used in "
                 "nftables rules (only letters, digits, '_', '-' and '.')");
    g_free(dev->forward.dev);
    dev->forward.dev = g_strdup("eth\"1");
    script_error(dev, SV_ERR_CONFIG_UNSUPPORTED,
                 "unsupported configuration: interface name 'eth\"1' cannot be used in "
                 "nftables rules (only letters, digits, '_', '-' and '.')");
}

/* The network's name goes into the table's comment only when nft reads it back as given
 * (no quote, backslash or line break: a name is hostile input). */
static void
test_comment(void)
{
    g_autoptr(SvNetworkDef) def = load("nat-default");
    g_autofree char *plain = NULL, *hostile = NULL;

    g_free(def->name);
    def->name = g_strdup("a$b;c {x} #y");
    g_assert_true(sv_net_firewall_script(def, &plain, NULL));
    g_assert_true(g_str_has_prefix(plain, "add table inet splitvirt-virbr0 { comment \"network "
                                          "a$b;c {x} #y\"; }\n"));
    g_free(def->name);
    def->name = g_strdup("x\"; }\ntable ip evil {");
    g_assert_true(sv_net_firewall_script(def, &hostile, NULL));
    g_assert_true(g_str_has_prefix(hostile, "add table inet splitvirt-virbr0\n"));
    g_assert_null(strstr(hostile, "evil"));
}

/* An <ip> whose network cannot be told: libvirt's error, naming the bridge. */
static void
test_no_prefix(void)
{
    g_autoptr(SvNetworkDef) def = load("route-classful");
    SvNetworkIpDef *ip = g_ptr_array_index(def->ips, 0);

    g_free(ip->address);
    ip->address = g_strdup("230.1.2.3");
    script_error(def, SV_ERR_INTERNAL_ERROR, "internal error: Invalid prefix or netmask for "
                                             "'virbr6'");
}

/* ------------------------------------------------------------------ a fake nft */

typedef struct {
    GPtrArray *calls;   /* "ARGV\nINPUT" of each run */
    const char *output; /* what `nft list tables` prints */
    gboolean fail;
} Fake;

static gboolean
fake_run(const char *const *argv, const char *input, char **ret_out, gpointer data,
         GError **error)
{
    Fake *f = data;
    g_autofree char *line = g_strjoinv(" ", (char **)argv);

    g_ptr_array_add(f->calls, g_strdup_printf("%s\n%s", line, input ? input : ""));
    if (f->fail) {
        sv_command_error(argv, 1 << 8, "Error: Could not process rule: No such file\n", error);
        return FALSE;
    }
    if (ret_out)
        *ret_out = g_strdup(f->output ? f->output : "");
    return TRUE;
}

static void
test_runs(void)
{
    Fake f = {g_ptr_array_new_with_free_func(g_free), NULL, FALSE};
    g_autoptr(SvNetworkDef) nat = load("nat-default");
    g_autoptr(SvNetworkDef) open = load("open");
    g_autofree char *script = NULL;
    g_autofree char *want = NULL;
    g_autoptr(GError) error = NULL;

    sv_net_firewall_set_runner(fake_run, &f);
    g_assert_true(sv_net_firewall_script(nat, &script, NULL));
    g_assert_true(sv_net_firewall_add(nat, &error));
    g_assert_no_error(error);
    want = g_strdup_printf("nft -f -\n%s", script);
    g_assert_cmpuint(f.calls->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(f.calls, 0), ==, want);

    sv_net_firewall_remove(nat);
    g_assert_cmpstr(g_ptr_array_index(f.calls, 1), ==,
                    "nft -f -\nadd table inet splitvirt-virbr0\n"
                    "delete table inet splitvirt-virbr0\n");

    f.output = "table ip filter\ntable inet splitvirt-virbr0\n";
    g_assert_true(sv_net_firewall_present(nat));
    g_assert_cmpstr(g_ptr_array_index(f.calls, 2), ==, "nft list tables\n");
    f.output = "table ip filter\ntable inet splitvirt-virbr01\ntable ip splitvirt-virbr0\n";
    g_assert_false(sv_net_firewall_present(nat));

    /* An open network has no rules: nothing runs, and nothing is missing. */
    g_ptr_array_set_size(f.calls, 0);
    g_assert_true(sv_net_firewall_add(open, &error));
    sv_net_firewall_remove(open);
    g_assert_true(sv_net_firewall_present(open));
    g_assert_cmpuint(f.calls->len, ==, 0);

    /* nft's failure is the add's error, in libvirt's words for a failed command. */
    f.fail = TRUE;
    g_assert_false(sv_net_firewall_add(nat, &error));
    g_assert_cmpstr(error->message, ==,
                    "internal error: Child process (nft -f -) unexpected exit status 1: "
                    "Error: Could not process rule: No such file\n");
    sv_net_firewall_remove(nat); /* quiet about it */
    sv_net_firewall_set_runner(NULL, NULL);
    g_ptr_array_unref(f.calls);
}

static void
test_monitor_lines(void)
{
    static const struct {
        const char *line, *table;
    } cases[] = {
        {"delete table inet splitvirt-virbr0", "splitvirt-virbr0"},
        {"delete table inet splitvirt-virbr0\n", "splitvirt-virbr0"},
        {"add table inet splitvirt-virbr0", NULL},
        {"delete table ip splitvirt-virbr0", NULL},
        {"delete table inet filter", NULL},
        {"delete table inet splitvirt-", NULL},
        {"delete table inet splitvirt-a b", NULL},
        {"", NULL},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = sv_net_firewall_monitor_table(cases[i].line);

        g_assert_cmpstr(got, ==, cases[i].table);
    }
}

/* ------------------------------------------------------------------ the real nft */

static char *
nft(const char *first, ...) G_GNUC_NULL_TERMINATED;

static char *
nft(const char *first, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) error = NULL;
    char *out = NULL;
    va_list ap;

    g_ptr_array_add(argv, "nft");
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    g_assert_true(sv_command_run((const char *const *)argv->pdata, NULL, &out, &error));
    g_assert_no_error(error);
    return out;
}

static gboolean
need_netns(void)
{
    if (!own_netns)
        g_test_skip("needs root, nft and a network namespace of its own");
    return own_netns;
}

/* A count of needle in haystack. */
static guint
count(const char *haystack, const char *needle)
{
    guint n = 0;

    for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static const char theirs[] =
    "table ip theirs {\n"
    "\tchain theirfwd {\n"
    "\t\ttype filter hook forward priority -5; policy drop;\n"
    "\t\tip saddr 10.22.0.5 counter accept\n"
    "\t}\n"
    "}\n"
    "table inet filter {\n"
    "\tchain input {\n"
    "\t\ttype filter hook input priority 0;\n"
    "\t}\n"
    "}\n";

/* Someone's ruleset before; ours added twice (once in effect), removed; theirs untouched. */
static void
test_real_nft(void)
{
    static const char *const load_argv[] = {"nft", "-f", "-", NULL};
    g_autoptr(SvNetworkDef) nat = load("nat-dual");
    g_autoptr(SvNetworkDef) routed = load("route");
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL, *listing = NULL, *after = NULL;

    if (!need_netns())
        return;
    g_assert_true(sv_command_run(load_argv, theirs, NULL, &error));
    g_assert_no_error(error);
    before = nft("list", "ruleset", NULL);

    g_assert_false(sv_net_firewall_present(nat));
    g_assert_true(sv_net_firewall_add(nat, &error));
    g_assert_no_error(error);
    g_assert_true(sv_net_firewall_add(nat, &error));
    g_assert_no_error(error);
    g_assert_true(sv_net_firewall_add(routed, &error));
    g_assert_no_error(error);
    g_assert_true(sv_net_firewall_present(nat));
    g_assert_true(sv_net_firewall_present(routed));
    listing = nft("list", "table", "inet", "splitvirt-virbr3", NULL);
    g_assert_cmpuint(count(listing, "comment \"network natdual\""), ==, 1);
    /* Each rule once, though added twice. */
    g_assert_cmpuint(count(listing, "ip saddr 10.22.0.0/24 ip daddr != 10.22.0.0/24 "
                                    "masquerade\n"), ==, 1);
    g_assert_cmpuint(count(listing, "ip6 daddr 2001:db8:22::/64 oifname \"virbr3\" accept\n"),
                     ==, 1);
    g_assert_cmpuint(count(listing, "reject"), ==, 4);

    sv_net_firewall_remove(nat);
    sv_net_firewall_remove(nat); /* gone already: quiet */
    g_assert_false(sv_net_firewall_present(nat));
    g_assert_true(sv_net_firewall_present(routed));
    sv_net_firewall_remove(routed);
    after = nft("list", "ruleset", NULL);
    g_assert_cmpstr(after, ==, before);
    g_free(nft("flush", "ruleset", NULL));
}

/* ------------------------------------------------------------------ the watch */

typedef struct {
    GPtrArray *seen; /* tables reported, "*" for NULL */
} Seen;

static void
lost(const char *table, gpointer data)
{
    Seen *s = data;

    g_ptr_array_add(s->seen, g_strdup(table ? table : "*"));
}

/* Iterate the default context until s has n reports (or 20 s pass: then fail). */
static void
wait_seen(Seen *s, guint n)
{
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    while (s->seen->len < n && g_get_monotonic_time() < deadline) {
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(10000);
    }
    g_assert_cmpuint(s->seen->len, >=, n);
}

/* Let the monitor child start listening (its start is not announced). */
static void
settle(guint ms)
{
    gint64 until = g_get_monotonic_time() + ms * 1000;

    while (g_get_monotonic_time() < until) {
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(10000);
    }
}

/* A table of ours deleted behind our back (a flush) is reported by name; others are not.
 * The monitor child does not say when it listens: the flush is repeated until it is seen
 * (a flush is one transaction: seen whole or not at all). */
static void
test_watch_flush(void)
{
    g_autoptr(SvNetworkDef) nat = load("nat-default");
    g_autoptr(SvNetworkDef) iso = load("isolated");
    g_autoptr(GError) error = NULL;
    Seen s = {g_ptr_array_new_with_free_func(g_free)};
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    SvNetFirewallWatch *w;

    if (!need_netns())
        return;
    w = sv_net_firewall_watch_new(lost, &s, &error);
    g_assert_no_error(error);
    while (s.seen->len == 0 && g_get_monotonic_time() < deadline) {
        g_assert_true(sv_net_firewall_add(nat, &error));
        g_assert_true(sv_net_firewall_add(iso, &error));
        g_assert_true(sv_net_firewall_add(nat, &error)); /* re-adding deletes nothing */
        g_assert_no_error(error);
        g_free(nft("add", "table", "ip", "other", NULL));
        g_free(nft("flush", "ruleset", NULL));
        settle(500);
    }
    wait_seen(&s, 2);
    g_assert_cmpstr(g_ptr_array_index(s.seen, 0), ==, "splitvirt-virbr0");
    g_assert_cmpstr(g_ptr_array_index(s.seen, 1), ==, "splitvirt-virbr7");
    for (guint i = 2; i < s.seen->len; i++) /* later flushes of the loop, nothing else */
        g_assert_true(g_str_equal(g_ptr_array_index(s.seen, i), "splitvirt-virbr0") ||
                      g_str_equal(g_ptr_array_index(s.seen, i), "splitvirt-virbr7"));
    sv_net_firewall_watch_free(w);
    g_ptr_array_unref(s.seen);
}

/* A private dbus-daemon standing for the system bus (DBUS_SYSTEM_BUS_ADDRESS), or NULL when
 * there is no dbus-daemon. */
static GSubprocess *
private_bus(char **ret_address)
{
    const char *argv[] = {"dbus-daemon", "--session", "--nofork", "--print-address=1", NULL};
    g_autoptr(GSubprocess) bus = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL);
    g_autoptr(GDataInputStream) in = NULL;

    if (!bus)
        return NULL;
    in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(bus));
    *ret_address = g_data_input_stream_read_line(in, NULL, NULL, NULL);
    g_assert_nonnull(*ret_address);
    g_setenv("DBUS_SYSTEM_BUS_ADDRESS", *ret_address, TRUE);
    return g_steal_pointer(&bus);
}

static void
private_bus_end(GSubprocess *bus)
{
    g_setenv("DBUS_SYSTEM_BUS_ADDRESS", NO_BUS, TRUE);
    g_subprocess_force_exit(bus);
    g_subprocess_wait(bus, NULL, NULL);
    g_object_unref(bus);
}

static GDBusConnection *
bus_connect(const char *address)
{
    g_autoptr(GError) error = NULL;
    GDBusConnection *c = g_dbus_connection_new_for_address_sync(
        address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);

    g_assert_no_error(error);
    return c;
}

/* Ask the bus for (or give back) firewalld's name on c, synchronously. */
static void
firewalld_name(GDBusConnection *c, gboolean own)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        c, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        own ? "RequestName" : "ReleaseName",
        own ? g_variant_new("(su)", "org.fedoraproject.FirewallD1", 0)
            : g_variant_new("(s)", "org.fedoraproject.FirewallD1"),
        G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

    g_assert_no_error(error);
    g_assert_nonnull(reply);
}

/* firewalld reloading, or starting (its name getting an owner), is reported as NULL. The
 * system bus is a private dbus-daemon's, where the test plays firewalld. The watch does not
 * say when its subscriptions are in place: Reloaded is sent until it is seen. */
static void
test_watch_firewalld(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) fw = NULL;
    g_autofree char *address = NULL;
    Seen s = {g_ptr_array_new_with_free_func(g_free)};
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    SvNetFirewallWatch *w;
    GSubprocess *bus;

    if (!need_netns())
        return;
    if (!(bus = private_bus(&address))) {
        g_test_skip("needs dbus-daemon");
        return;
    }
    w = sv_net_firewall_watch_new(lost, &s, &error);
    g_assert_no_error(error);
    fw = bus_connect(address);
    firewalld_name(fw, TRUE);
    while (s.seen->len == 0 && g_get_monotonic_time() < deadline) {
        g_assert_true(g_dbus_connection_emit_signal(fw, NULL, "/org/fedoraproject/FirewallD1",
                                                    "org.fedoraproject.FirewallD1", "Reloaded",
                                                    NULL, &error));
        g_assert_no_error(error);
        settle(300);
    }
    g_assert_cmpuint(s.seen->len, >=, 1);
    for (guint i = 0; i < s.seen->len; i++)
        g_assert_cmpstr(g_ptr_array_index(s.seen, i), ==, "*");

    /* firewalld going away says nothing; coming back is a reload. */
    g_ptr_array_set_size(s.seen, 0);
    firewalld_name(fw, FALSE);
    firewalld_name(fw, TRUE);
    wait_seen(&s, 1);
    settle(300);
    g_assert_cmpuint(s.seen->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(s.seen, 0), ==, "*");

    sv_net_firewall_watch_free(w);
    g_dbus_connection_close_sync(fw, NULL, NULL);
    private_bus_end(bus);
    g_ptr_array_unref(s.seen);
}

/* ------------------------------------------------------------------ firewalld's zones */

static const char firewalld_xml[] =
    "<node>"
    " <interface name='org.fedoraproject.FirewallD1.zone'>"
    "  <method name='getZones'><arg type='as' direction='out'/></method>"
    "  <method name='changeZoneOfInterface'><arg type='s' direction='in'/>"
    "   <arg type='s' direction='in'/><arg type='s' direction='out'/></method>"
    " </interface>"
    " <interface name='org.fedoraproject.FirewallD1.policy'>"
    "  <method name='getPolicies'><arg type='as' direction='out'/></method>"
    " </interface>"
    "</node>";

/* The test's firewalld: zones and policies as given; zone changes recorded as "ZONE IFACE". */
typedef struct {
    const char *const *zones;
    const char *const *policies;
    GPtrArray *changes;
} FakeFirewalld;

static void
firewalld_call(GDBusConnection *c, const char *sender, const char *path, const char *iface,
               const char *method, GVariant *params, GDBusMethodInvocation *inv, gpointer data)
{
    FakeFirewalld *f = data;

    (void)c, (void)sender, (void)path, (void)iface;
    if (g_str_equal(method, "getZones")) {
        g_dbus_method_invocation_return_value(inv, g_variant_new("(^as)", f->zones));
    } else if (g_str_equal(method, "getPolicies")) {
        g_dbus_method_invocation_return_value(inv, g_variant_new("(^as)", f->policies));
    } else {
        const char *zone, *ifname;

        g_variant_get(params, "(&s&s)", &zone, &ifname);
        g_ptr_array_add(f->changes, g_strdup_printf("%s %s", zone, ifname));
        if (g_str_equal(zone, "nosuchzone"))
            g_dbus_method_invocation_return_dbus_error(
                inv, "org.fedoraproject.FirewallD1.Exception", "INVALID_ZONE: nosuchzone");
        else
            g_dbus_method_invocation_return_value(inv, g_variant_new("(s)", zone));
    }
}

typedef struct {
    const SvNetworkDef *def;
    GError *error;
    gboolean ok;
    gboolean done;
} AddCall;

static gpointer
add_thread(gpointer data)
{
    AddCall *a = data;

    a->ok = sv_net_firewall_add(a->def, &a->error);
    g_atomic_int_set(&a->done, TRUE);
    return NULL;
}

/* sv_net_firewall_add from a thread (it blocks on the bus) while the loop serves the test's
 * firewalld. */
static gboolean
add_served(const SvNetworkDef *def, GError **error)
{
    AddCall a = {def, NULL, FALSE, FALSE};
    GThread *t = g_thread_new("add", add_thread, &a);

    while (!g_atomic_int_get(&a.done)) {
        if (!g_main_context_iteration(NULL, FALSE))
            g_usleep(5000);
    }
    g_thread_join(t);
    if (a.error)
        g_propagate_error(error, a.error);
    return a.ok;
}

/* libvirt's zones: none without firewalld (an error when the XML asks for one); with it the
 * one asked for, else "libvirt-routed" for a route network when firewalld has it and its
 * policy, else "libvirt" when it exists, else none; an open network is left alone. */
static void
test_firewalld_zones(void)
{
    static const char *const zones[] = {"public", "trusted", "libvirt", "libvirt-routed", NULL};
    static const char *const policies[] = {"allow-host-ipv6", "libvirt-routed-out", NULL};
    static const char *const few[] = {"public", NULL};
    static const char *const none[] = {NULL};
    Fake nft = {g_ptr_array_new_with_free_func(g_free), NULL, FALSE};
    FakeFirewalld f = {zones, policies, g_ptr_array_new_with_free_func(g_free)};
    g_autoptr(SvNetworkDef) nat = load("nat-default");
    g_autoptr(SvNetworkDef) routed = load("route");
    g_autoptr(SvNetworkDef) open = load("open");
    g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml(firewalld_xml, NULL);
    g_autoptr(GDBusConnection) fw = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *address = NULL;
    g_autofree char *changes = NULL;
    GSubprocess *bus;
    guint reg[2];

    sv_net_firewall_set_runner(fake_run, &nft);
    g_free(nat->bridge.zone);
    nat->bridge.zone = g_strdup("trusted");
    g_assert_false(sv_net_firewall_add(nat, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_INTERNAL_ERROR);
    g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_NONE);
    g_assert_cmpstr(error->message, ==, "internal error: zone trusted requested for network "
                                        "default but firewalld is not active");
    g_clear_error(&error);
    g_assert_cmpuint(nft.calls->len, ==, 0);
    g_free(open->bridge.zone);
    open->bridge.zone = g_strdup("trusted"); /* libvirt ignores it for an open network */
    g_assert_true(sv_net_firewall_add(open, &error));
    g_assert_no_error(error);

    if (!(bus = private_bus(&address))) {
        g_test_skip("needs dbus-daemon");
        sv_net_firewall_set_runner(NULL, NULL);
        return;
    }
    fw = bus_connect(address);
    for (guint i = 0; i < 2; i++)
        reg[i] = g_dbus_connection_register_object(fw, "/org/fedoraproject/FirewallD1",
                                                   node->interfaces[i],
                                                   &(GDBusInterfaceVTable){.method_call =
                                                                               firewalld_call},
                                                   &f, NULL, &error);
    g_assert_no_error(error);
    firewalld_name(fw, TRUE);

    g_assert_true(add_served(nat, &error)); /* the zone asked for */
    g_clear_pointer(&nat->bridge.zone, g_free);
    g_assert_true(add_served(nat, &error)); /* libvirt's zone */
    g_assert_true(add_served(routed, &error)); /* libvirt's routed zone */
    f.policies = none;
    g_assert_true(add_served(routed, &error)); /* no policy: libvirt's zone */
    f.zones = few;
    g_assert_true(add_served(nat, &error)); /* no zone of libvirt's: none set */
    g_assert_true(add_served(open, &error)); /* open: left alone */
    g_assert_no_error(error);
    /* Named difference: libvirt reports firewalld's refusal as its D-Bus error (code
     * DBUS_SERVICE, domain DBUS, firewalld's message alone); ours is an internal error
     * naming the bridge and the zone. */
    nat->bridge.zone = g_strdup("nosuchzone");
    g_assert_false(add_served(nat, &error));
    g_assert_cmpstr(error->message, ==, "internal error: cannot put 'virbr0' in firewalld's zone "
                                        "'nosuchzone': INVALID_ZONE: nosuchzone");
    g_ptr_array_add(f.changes, NULL);
    changes = g_strjoinv(",", (char **)f.changes->pdata);
    g_assert_cmpstr(changes, ==, "trusted virbr0,libvirt virbr0,libvirt-routed virbr5,"
                                 "libvirt virbr5,nosuchzone virbr0");
    g_assert_cmpuint(nft.calls->len, ==, 5); /* each add that worked ran nft once */

    for (guint i = 0; i < 2; i++)
        g_dbus_connection_unregister_object(fw, reg[i]);
    g_dbus_connection_close_sync(fw, NULL, NULL);
    private_bus_end(bus);
    sv_net_firewall_set_runner(NULL, NULL);
    g_ptr_array_unref(f.changes);
    g_ptr_array_unref(nft.calls);
}

int
main(int argc, char **argv)
{
    static const char *const cases[] = {
        "nat-default", "nat-dev-ranges", "nat-one-address", "nat-dual", "nat-ipv6",
        "route", "route-classful", "isolated", "isolated-ipv6-nogw", "open", "host-bridge",
    };
    g_autofree char *nft_path = sv_command_path("nft");

    /* First, while the process has one thread: every later thread and child shares it. */
    own_netns = geteuid() == 0 && nft_path && unshare(CLONE_NEWNET) == 0;
    g_setenv("DBUS_SYSTEM_BUS_ADDRESS", NO_BUS, TRUE);
    g_test_init(&argc, &argv, NULL);
    data_dir = g_getenv("SV_TEST_DATA") ? g_getenv("SV_TEST_DATA") : SV_TEST_DATA_DIR;
    regenerate = g_strcmp0(g_getenv("SV_REGENERATE"), "1") == 0;
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/net-firewall/golden/%s", cases[i]);

        g_test_add_data_func(path, cases[i], test_golden);
    }
    g_test_add_func("/net-firewall/port-range", test_port_range);
    g_test_add_func("/net-firewall/bad-names", test_bad_names);
    g_test_add_func("/net-firewall/no-prefix", test_no_prefix);
    g_test_add_func("/net-firewall/comment", test_comment);
    g_test_add_func("/net-firewall/runs", test_runs);
    g_test_add_func("/net-firewall/monitor-lines", test_monitor_lines);
    g_test_add_func("/net-firewall/real-nft", test_real_nft);
    g_test_add_func("/net-firewall/watch-flush", test_watch_flush);
    g_test_add_func("/net-firewall/watch-firewalld", test_watch_firewalld);
    g_test_add_func("/net-firewall/firewalld-zones", test_firewalld_zones);
    return g_test_run();
}
