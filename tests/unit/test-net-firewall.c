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

/* A table of ours deleted behind our back (a flush) is reported by name; others are not. */
static void
test_watch_flush(void)
{
    g_autoptr(SvNetworkDef) nat = load("nat-default");
    g_autoptr(SvNetworkDef) iso = load("isolated");
    g_autoptr(GError) error = NULL;
    Seen s = {g_ptr_array_new_with_free_func(g_free)};
    SvNetFirewallWatch *w;

    if (!need_netns())
        return;
    w = sv_net_firewall_watch_new(lost, &s, &error);
    g_assert_no_error(error);
    settle(1000);
    g_assert_true(sv_net_firewall_add(nat, &error));
    g_assert_true(sv_net_firewall_add(iso, &error));
    g_assert_true(sv_net_firewall_add(nat, &error)); /* re-adding deletes nothing */
    g_free(nft("add", "table", "ip", "other", NULL));
    g_free(nft("flush", "ruleset", NULL));
    wait_seen(&s, 2);
    settle(300);
    g_assert_cmpuint(s.seen->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(s.seen, 0), ==, "splitvirt-virbr0");
    g_assert_cmpstr(g_ptr_array_index(s.seen, 1), ==, "splitvirt-virbr7");
    sv_net_firewall_watch_free(w);
    g_ptr_array_unref(s.seen);
}

/* firewalld reloading, or starting (its name getting an owner), is reported as NULL. The
 * system bus is a private dbus-daemon's, where the test plays firewalld. */
static void
test_watch_firewalld(void)
{
    const char *argv[] = {"dbus-daemon", "--session", "--nofork", "--print-address=1", NULL};
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) bus = NULL;
    g_autoptr(GDataInputStream) in = NULL;
    g_autoptr(GDBusConnection) fw = NULL;
    g_autofree char *address = NULL;
    Seen s = {g_ptr_array_new_with_free_func(g_free)};
    SvNetFirewallWatch *w;
    guint owner;

    if (!need_netns())
        return;
    bus = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
    if (!bus) {
        g_test_skip("needs dbus-daemon");
        return;
    }
    in = g_data_input_stream_new(g_subprocess_get_stdout_pipe(bus));
    address = g_data_input_stream_read_line(in, NULL, NULL, &error);
    g_assert_nonnull(address);
    g_setenv("DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
    w = sv_net_firewall_watch_new(lost, &s, &error);
    g_assert_no_error(error);
    settle(1000); /* the watch's bus connection and subscriptions */

    fw = g_dbus_connection_new_for_address_sync(
        address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                     G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, &error);
    g_assert_no_error(error);
    owner = g_bus_own_name_on_connection(fw, "org.fedoraproject.FirewallD1",
                                         G_BUS_NAME_OWNER_FLAGS_NONE, NULL, NULL, NULL, NULL);
    wait_seen(&s, 1);
    g_assert_true(g_dbus_connection_emit_signal(fw, NULL, "/org/fedoraproject/FirewallD1",
                                                "org.fedoraproject.FirewallD1", "Reloaded",
                                                NULL, &error));
    g_assert_no_error(error);
    wait_seen(&s, 2);
    g_assert_cmpstr(g_ptr_array_index(s.seen, 0), ==, "*");
    g_assert_cmpstr(g_ptr_array_index(s.seen, 1), ==, "*");

    sv_net_firewall_watch_free(w);
    g_bus_unown_name(owner);
    g_dbus_connection_close_sync(fw, NULL, NULL);
    g_unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
    g_subprocess_force_exit(bus);
    g_subprocess_wait(bus, NULL, NULL);
    g_ptr_array_unref(s.seen);
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
    g_test_add_func("/net-firewall/runs", test_runs);
    g_test_add_func("/net-firewall/monitor-lines", test_monitor_lines);
    g_test_add_func("/net-firewall/real-nft", test_real_nft);
    g_test_add_func("/net-firewall/watch-flush", test_watch_flush);
    g_test_add_func("/net-firewall/watch-firewalld", test_watch_firewalld);
    return g_test_run();
}
