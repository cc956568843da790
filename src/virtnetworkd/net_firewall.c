/* net_firewall.c: a virtual network's firewall as an nftables table of its own
 * (net_firewall.h).
 *
 * The rules are libvirt 9.0's iptables rules for the network (its LIBVIRT_INP, LIBVIRT_OUT,
 * LIBVIRT_FWX, LIBVIRT_FWI, LIBVIRT_FWO and nat LIBVIRT_PRT chains), built the way libvirt
 * builds them: every rule is inserted at the head of its chain, in libvirt's call order, so
 * each chain here reads in the order the rules take effect, line for line the order
 * `iptables-save` shows libvirt's. libvirt's three forward chains are jumped to in the order
 * FWX, FWI, FWO; here they are the three parts of one forward chain in that order. IPv4 and
 * IPv6 rules (libvirt's iptables and ip6tables) share an inet table: a rule of one family
 * says so (meta nfproto, ip/ip6 addresses), and rules of different families never match the
 * same packet, so their relative order does not matter.
 *
 * One table per network, rather than shared chains: adding is one atomic transaction that
 * replaces the network's rules (idempotent), removing is deleting one table, and nothing
 * outside it is ever touched. The cost, named in tests/e2e/test_net_firewall.py: an accept
 * here cannot override a drop in another table (libvirt's iptables rules sit at the head of
 * the host's own FORWARD chain), and libvirt's mangle rule filling in DHCP replies' UDP
 * checksums has no nftables equivalent (libvirt already treats its failure as harmless). */
#include "net_firewall.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/command.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/process.h"

#define TABLE_PREFIX "splitvirt-"

/* libvirt's default source port range for masqueraded TCP and UDP. */
#define NAT_PORT_MIN 1024
#define NAT_PORT_MAX 65535

static gboolean default_runner(const char *const *argv, const char *input, char **ret_out,
                               gpointer data, GError **error);

static SvNetFirewallRunner runner = default_runner;
static gpointer runner_data;

void
sv_net_firewall_set_runner(SvNetFirewallRunner fn, gpointer data)
{
    runner = fn ? fn : default_runner;
    runner_data = fn ? data : NULL;
}

static gboolean
default_runner(const char *const *argv, const char *input, char **ret_out, gpointer data,
               GError **error)
{
    (void)data;
    return sv_command_run(argv, input, ret_out, error);
}

/* ------------------------------------------------------------------ names */

/* An interface name nft takes as a table name's tail and inside a quoted string without
 * any escaping: letters, digits, '_', '-', '.' (no '*', which nft reads as a wildcard). */
static gboolean
ifname_ok(const char *name)
{
    if (!name || !*name || strlen(name) > 15)
        return FALSE;
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
            return FALSE;
    }
    return TRUE;
}

char *
sv_net_firewall_table_name(const SvNetworkDef *def)
{
    return g_strconcat(TABLE_PREFIX, def->bridge.name ? def->bridge.name : "", NULL);
}

/* Does this forward mode get rules? libvirt adds them for isolated, nat and route only. */
static gboolean
mode_has_rules(const SvNetworkDef *def)
{
    return def->forward.type == SV_NETWORK_FORWARD_NONE ||
           def->forward.type == SV_NETWORK_FORWARD_NAT ||
           def->forward.type == SV_NETWORK_FORWARD_ROUTE;
}

/* libvirt's forward interface: <forward dev=>, else the first <interface dev=>. */
static const char *
forward_dev(const SvNetworkDef *def)
{
    if (def->forward.dev && *def->forward.dev)
        return def->forward.dev;
    if (def->forward.ifaces && def->forward.ifaces->len)
        return g_ptr_array_index(def->forward.ifaces, 0);
    return NULL;
}

/* ------------------------------------------------------------------ addresses */

/* The prefix libvirt uses for an <ip>: prefix= or netmask= (the parser keeps both as a
 * prefix), else the classful default for IPv4 and 64 for IPv6; -1 for an IPv4 address
 * of no class. */
static int
ip_prefix(const SvNetworkIpDef *ip, const guint8 *addr)
{
    if (ip->prefix)
        return ip->prefix;
    if (ip->is_ipv6)
        return 64;
    if ((addr[0] & 0x80) == 0)
        return 8;
    if ((addr[0] & 0xc0) == 0x80)
        return 16;
    if ((addr[0] & 0xe0) == 0xc0)
        return 24;
    return -1;
}

/* "NETWORK/PREFIX" of an <ip> (its address masked), or NULL with libvirt's error. */
static char *
ip_network(const SvNetworkIpDef *ip, const char *bridge, GError **error)
{
    int af = ip->is_ipv6 ? AF_INET6 : AF_INET;
    guint8 addr[16] = {0};
    char text[INET6_ADDRSTRLEN];
    int prefix, len = ip->is_ipv6 ? 16 : 4;

    if (!ip->address || inet_pton(af, ip->address, addr) != 1 ||
        (prefix = ip_prefix(ip, addr)) < 0 || prefix > len * 8) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "Invalid prefix or netmask for '%s'", bridge);
        return NULL;
    }
    for (int i = 0; i < len; i++) {
        int bits = CLAMP(prefix - i * 8, 0, 8);

        addr[i] &= (guint8)(0xff00 >> bits);
    }
    inet_ntop(af, addr, text, sizeof(text));
    return g_strdup_printf("%s/%d", text, prefix);
}

static gboolean
addr_is_ipv6(const char *addr)
{
    return addr && strchr(addr, ':');
}

/* ------------------------------------------------------------------ the rules */

/* The network's chains, each kept in the order its rules take effect. */
typedef struct {
    const SvNetworkDef *def;
    const char *br;  /* the bridge */
    const char *dev; /* the forward interface, or NULL */
    GPtrArray *input, *output, *fwx, *fwi, *fwo, *nat;
} Rules;

static void
rules_clear(Rules *r)
{
    g_clear_pointer(&r->input, g_ptr_array_unref);
    g_clear_pointer(&r->output, g_ptr_array_unref);
    g_clear_pointer(&r->fwx, g_ptr_array_unref);
    g_clear_pointer(&r->fwi, g_ptr_array_unref);
    g_clear_pointer(&r->fwo, g_ptr_array_unref);
    g_clear_pointer(&r->nat, g_ptr_array_unref);
}

/* Insert a rule at the head of a chain, as libvirt's `iptables --insert` does. */
static void G_GNUC_PRINTF(2, 3)
insert(GPtrArray *chain, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_insert(chain, 0, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static const char *
nfproto(gboolean v6)
{
    return v6 ? "ipv6" : "ipv4";
}

/* libvirt's LIBVIRT_INP and LIBVIRT_OUT accepts of one port of the bridge's services. */
static void
service(Rules *r, gboolean v6, gboolean out, const char *l4, int port)
{
    insert(out ? r->output : r->input, "meta nfproto %s %s \"%s\" %s dport %d accept",
           nfproto(v6), out ? "oifname" : "iifname", r->br, l4, port);
}

/* The catch-all rejects and the guest-to-guest accept of one family. */
static void
bridge_walls(Rules *r, gboolean v6)
{
    insert(r->fwo, "meta nfproto %s iifname \"%s\" reject", nfproto(v6), r->br);
    insert(r->fwi, "meta nfproto %s oifname \"%s\" reject", nfproto(v6), r->br);
    insert(r->fwx, "meta nfproto %s iifname \"%s\" oifname \"%s\" accept", nfproto(v6), r->br,
           r->br);
}

/* The first IPv4 <ip> with DHCP ranges, hosts or a TFTP root, as libvirt looks for it. */
static const SvNetworkIpDef *
dhcp_ipv4(const SvNetworkDef *def)
{
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        const SvNetworkIpDef *ip = g_ptr_array_index(def->ips, i);

        if (!ip->is_ipv6 && ((ip->ranges && ip->ranges->len) ||
                             (ip->hosts && ip->hosts->len) || ip->tftp_root))
            return ip;
    }
    return NULL;
}

static gboolean
has_family(const SvNetworkDef *def, gboolean v6)
{
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        if (((SvNetworkIpDef *)g_ptr_array_index(def->ips, i))->is_ipv6 == v6)
            return TRUE;
    }
    return FALSE;
}

/* libvirt's rules of every network with a firewall, IPv4 (whether or not it has an IPv4
 * address) then IPv6 (when it has an IPv6 address or <network ipv6='yes'>). */
static void
general_rules(Rules *r)
{
    const SvNetworkIpDef *ip4 = dhcp_ipv4(r->def);
    gboolean has6 = has_family(r->def, TRUE);

    service(r, FALSE, FALSE, "tcp", 67);
    service(r, FALSE, FALSE, "udp", 67);
    service(r, FALSE, TRUE, "tcp", 68);
    service(r, FALSE, TRUE, "udp", 68);
    service(r, FALSE, FALSE, "tcp", 53);
    service(r, FALSE, FALSE, "udp", 53);
    service(r, FALSE, TRUE, "tcp", 53);
    service(r, FALSE, TRUE, "udp", 53);
    if (ip4 && ip4->tftp_root) {
        service(r, FALSE, FALSE, "udp", 69);
        service(r, FALSE, TRUE, "udp", 69);
    }
    bridge_walls(r, FALSE);

    if (!has6 && r->def->ipv6 != SV_NETWORK_TRISTATE_YES)
        return;
    bridge_walls(r, TRUE);
    if (has6) {
        service(r, TRUE, FALSE, "tcp", 53);
        service(r, TRUE, FALSE, "udp", 53);
        service(r, TRUE, TRUE, "tcp", 53);
        service(r, TRUE, TRUE, "udp", 53);
        service(r, TRUE, FALSE, "udp", 547);
        service(r, TRUE, TRUE, "udp", 546);
    }
}

/* " oifname "DEV"" or "" (and the same for iifname): the forward interface restriction. */
static char *
dev_match(const char *key, const char *dev)
{
    return dev ? g_strdup_printf(" %s \"%s\"", key, dev) : g_strdup("");
}

/* Forwarding out of the bridge from the network's addresses, and back in: only replies
 * (nat) or anything to those addresses (route). */
static void
forward_rules(Rules *r, const char *ipkw, const char *net, gboolean replies_only)
{
    g_autofree char *out_dev = dev_match("oifname", r->dev);
    g_autofree char *in_dev = dev_match("iifname", r->dev);

    insert(r->fwo, "%s saddr %s iifname \"%s\"%s accept", ipkw, net, r->br, out_dev);
    insert(r->fwi, "%s daddr %s%s oifname \"%s\"%s accept", ipkw, net, in_dev, r->br,
           replies_only ? " ct state related,established" : "");
}

/* The translation of libvirt's MASQUERADE or SNAT of one protocol (NULL: any). */
static gboolean
masquerade_rule(Rules *r, const char *ipkw, const char *net, gboolean v6, const char *proto,
                GError **error)
{
    const SvNetworkDef *def = r->def;
    g_autofree char *dev = dev_match("oifname", r->dev);
    g_autofree char *ports = NULL;
    g_autofree char *target = NULL;
    guint start = def->forward.nat_port_start, end = def->forward.nat_port_end;
    const char *a = def->forward.nat_addr_start, *b = def->forward.nat_addr_end;

    if (proto) {
        if (start == 0 && end == 0) {
            start = NAT_PORT_MIN;
            end = NAT_PORT_MAX;
        }
        if (!(start < end && end <= NAT_PORT_MAX)) {
            sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                         "Invalid port range '%u-%u'.", start, end);
            return FALSE;
        }
        ports = g_strdup_printf(":%u-%u", start, end);
    }
    /* The <address> range applies only to addresses of its own family (IPv4); a range of
     * one address is that address (iptables-save shows libvirt's so). */
    if (a && addr_is_ipv6(a) == v6) {
        gboolean end_ok = b && addr_is_ipv6(b) == v6 && !g_str_equal(a, b);

        target = g_strdup_printf("snat %s to %s%s%s%s", ipkw, a, end_ok ? "-" : "",
                                 end_ok ? b : "", ports ? ports : "");
    } else {
        target = g_strdup_printf("masquerade%s%s", ports ? " to " : "", ports ? ports : "");
    }
    insert(r->nat, "%s saddr %s %s daddr != %s%s%s%s %s", ipkw, net, ipkw, net, dev,
           proto ? " meta l4proto " : "", proto ? proto : "", target);
    return TRUE;
}

/* libvirt's masquerading of one <ip>: in effect order, no NAT for local multicast and (IPv4)
 * the broadcast address, then TCP and UDP with the port range, then any protocol. */
static gboolean
nat_rules(Rules *r, const char *ipkw, const char *net, gboolean v6, GError **error)
{
    g_autofree char *dev = dev_match("oifname", r->dev);

    forward_rules(r, ipkw, net, TRUE);
    if (!masquerade_rule(r, ipkw, net, v6, NULL, error) ||
        !masquerade_rule(r, ipkw, net, v6, "udp", error) ||
        !masquerade_rule(r, ipkw, net, v6, "tcp", error))
        return FALSE;
    if (!v6)
        insert(r->nat, "%s saddr %s %s daddr 255.255.255.255%s return", ipkw, net, ipkw, dev);
    insert(r->nat, "%s saddr %s %s daddr %s%s return", ipkw, net, ipkw,
           v6 ? "ff02::/16" : "224.0.0.0/24", dev);
    return TRUE;
}

/* The rules of one <ip>: NAT for IPv4 (IPv6 too with <nat ipv6='yes'>), routing for IPv6
 * on a NAT network and for route networks, none for isolated ones. */
static gboolean
ip_rules(Rules *r, const SvNetworkIpDef *ip, GError **error)
{
    int type = r->def->forward.type;
    const char *ipkw = ip->is_ipv6 ? "ip6" : "ip";
    g_autofree char *net = NULL;

    if (type != SV_NETWORK_FORWARD_NAT && type != SV_NETWORK_FORWARD_ROUTE)
        return TRUE;
    if (!(net = ip_network(ip, r->br, error)))
        return FALSE;
    if (type == SV_NETWORK_FORWARD_NAT &&
        (!ip->is_ipv6 || r->def->forward.nat_ipv6 == SV_NETWORK_TRISTATE_YES))
        return nat_rules(r, ipkw, net, ip->is_ipv6, error);
    forward_rules(r, ipkw, net, FALSE);
    return TRUE;
}

/* ------------------------------------------------------------------ the script */

static void
chain_text(GString *s, const char *name, const char *type, const char *hook,
           const char *priority, GPtrArray *const *parts, guint n_parts)
{
    g_string_append_printf(s, "\tchain %s {\n\t\ttype %s hook %s priority %s; policy accept;\n",
                           name, type, hook, priority);
    for (guint p = 0; p < n_parts; p++) {
        for (guint i = 0; i < parts[p]->len; i++)
            g_string_append_printf(s, "\t\t%s\n", (char *)g_ptr_array_index(parts[p], i));
    }
    g_string_append(s, "\t}\n");
}

/* The table's comment: the network's name, when nft can hold it as it is. */
static char *
table_comment(const SvNetworkDef *def)
{
    if (!def->name || strpbrk(def->name, "\"\\\n\r\t") || strlen(def->name) > 100)
        return g_strdup("");
    return g_strdup_printf(" { comment \"network %s\"; }", def->name);
}

/* The transaction: the table made if missing and emptied (never deleted, so a monitor
 * sees no deletion: net_firewall.h's watch), then filled. */
static char *
script_text(const Rules *r, const char *table)
{
    GString *s = g_string_new(NULL);
    g_autofree char *comment = table_comment(r->def);
    GPtrArray *forward[] = {r->fwx, r->fwi, r->fwo};

    g_string_append_printf(s, "add table inet %s%s\n", table, comment);
    g_string_append_printf(s, "flush table inet %s\n", table);
    g_string_append_printf(s, "table inet %s {\n", table);
    chain_text(s, "input", "filter", "input", "filter", &r->input, 1);
    chain_text(s, "output", "filter", "output", "filter", &r->output, 1);
    chain_text(s, "forward", "filter", "forward", "filter", forward, G_N_ELEMENTS(forward));
    if (r->nat->len)
        chain_text(s, "postrouting", "nat", "postrouting", "srcnat", &r->nat, 1);
    g_string_append(s, "}\n");
    return g_string_free(s, FALSE);
}

gboolean
sv_net_firewall_script(const SvNetworkDef *def, char **ret_script, GError **error)
{
    Rules r = {.def = def, .br = def->bridge.name, .dev = forward_dev(def)};
    g_autofree char *table = NULL;
    gboolean ok = TRUE;

    *ret_script = NULL;
    if (!mode_has_rules(def))
        return TRUE;
    if (!ifname_ok(r.br) || (r.dev && !ifname_ok(r.dev))) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                     "interface name '%s' cannot be used in nftables rules (only letters, "
                     "digits, '_', '-' and '.')",
                     ifname_ok(r.br) ? r.dev : (r.br ? r.br : ""));
        return FALSE;
    }
    r.input = g_ptr_array_new_with_free_func(g_free);
    r.output = g_ptr_array_new_with_free_func(g_free);
    r.fwx = g_ptr_array_new_with_free_func(g_free);
    r.fwi = g_ptr_array_new_with_free_func(g_free);
    r.fwo = g_ptr_array_new_with_free_func(g_free);
    r.nat = g_ptr_array_new_with_free_func(g_free);
    general_rules(&r);
    for (guint i = 0; ok && def->ips && i < def->ips->len; i++)
        ok = ip_rules(&r, g_ptr_array_index(def->ips, i), error);
    if (ok) {
        table = sv_net_firewall_table_name(def);
        *ret_script = script_text(&r, table);
    }
    rules_clear(&r);
    return ok;
}

/* ------------------------------------------------------------------ firewalld */

#define FIREWALLD_NAME "org.fedoraproject.FirewallD1"
#define FIREWALLD_PATH "/org/fedoraproject/FirewallD1"

/* A connection of our own to the system bus when firewalld is on it, else NULL (no bus, or
 * nobody owns firewalld's name: libvirt's "not registered"). Private, so that a bus that
 * went away and came back is simply connected to again. */
static GDBusConnection *
firewalld_bus(void)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *address = g_dbus_address_get_for_bus_sync(G_BUS_TYPE_SYSTEM, NULL, &local);
    g_autoptr(GDBusConnection) bus = NULL;
    g_autoptr(GVariant) reply = NULL;
    gboolean owned = FALSE;

    if (address)
        bus = g_dbus_connection_new_for_address_sync(
            address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                         G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
            NULL, NULL, &local);
    if (bus)
        reply = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                            "org.freedesktop.DBus", "NameHasOwner",
                                            g_variant_new("(s)", FIREWALLD_NAME),
                                            G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE, 10000,
                                            NULL, &local);
    if (reply)
        g_variant_get(reply, "(b)", &owned);
    if (local)
        g_debug("firewalld: %s", local->message);
    if (bus && !owned)
        g_dbus_connection_close_sync(bus, NULL, NULL);
    return owned ? g_steal_pointer(&bus) : NULL;
}

/* Does firewalld's list `method` (getZones, getPolicies) of interface `iface` hold name? */
static gboolean
firewalld_lists(GDBusConnection *bus, const char *iface, const char *method, const char *name)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        bus, FIREWALLD_NAME, FIREWALLD_PATH, iface, method, NULL, G_VARIANT_TYPE("(as)"),
        G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &local);
    g_autofree const char **names = NULL;

    if (!reply) {
        g_debug("firewalld %s: %s", method, local->message);
        return FALSE;
    }
    g_variant_get(reply, "(^a&s)", &names);
    return g_strv_contains(names, name);
}

static gboolean
firewalld_set_zone(GDBusConnection *bus, const char *zone, const char *bridge, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
        bus, FIREWALLD_NAME, FIREWALLD_PATH, FIREWALLD_NAME ".zone", "changeZoneOfInterface",
        g_variant_new("(ss)", zone, bridge), NULL, G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &local);

    if (!reply) {
        g_dbus_error_strip_remote_error(local);
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "cannot put '%s' in firewalld's zone '%s': %s", bridge, zone,
                     local->message);
        return FALSE;
    }
    return TRUE;
}

/* The bridge's firewalld zone, as libvirt sets it: <bridge zone=> (an error when firewalld is
 * not running), else, when firewalld runs, its "libvirt-routed" zone for a route network
 * (when that zone and its policy exist) or its "libvirt" zone (when it exists). Without
 * firewalld nothing happens. */
static gboolean
firewalld_zone(const SvNetworkDef *def, GError **error)
{
    g_autoptr(GDBusConnection) bus = firewalld_bus();
    const char *zone = def->bridge.zone;
    gboolean ok = TRUE;

    if (zone && !bus) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "zone %s requested for network %s but firewalld is not active", zone,
                     def->name);
        return FALSE;
    }
    if (!bus)
        return TRUE;
    if (!zone && def->forward.type == SV_NETWORK_FORWARD_ROUTE &&
        firewalld_lists(bus, FIREWALLD_NAME ".policy", "getPolicies", "libvirt-routed-out") &&
        firewalld_lists(bus, FIREWALLD_NAME ".zone", "getZones", "libvirt-routed"))
        zone = "libvirt-routed";
    else if (!zone && firewalld_lists(bus, FIREWALLD_NAME ".zone", "getZones", "libvirt"))
        zone = "libvirt";
    if (zone)
        ok = firewalld_set_zone(bus, zone, def->bridge.name, error);
    g_dbus_connection_close_sync(bus, NULL, NULL);
    return ok;
}

/* ------------------------------------------------------------------ nft */

gboolean
sv_net_firewall_add(const SvNetworkDef *def, GError **error)
{
    static const char *const argv[] = {"nft", "-f", "-", NULL};
    g_autofree char *script = NULL;

    if (!sv_net_firewall_script(def, &script, error))
        return FALSE;
    if (!script)
        return TRUE;
    if (!firewalld_zone(def, error))
        return FALSE;
    return runner(argv, script, NULL, runner_data, error);
}

void
sv_net_firewall_remove(const SvNetworkDef *def)
{
    static const char *const argv[] = {"nft", "-f", "-", NULL};
    g_autofree char *table = NULL;
    g_autofree char *script = NULL;
    g_autoptr(GError) local = NULL;

    if (!mode_has_rules(def) || !ifname_ok(def->bridge.name))
        return;
    table = sv_net_firewall_table_name(def);
    /* Made first so that the deletion cannot fail for a table already gone. */
    script = g_strdup_printf("add table inet %s\ndelete table inet %s\n", table, table);
    if (!runner(argv, script, NULL, runner_data, &local))
        g_debug("firewall of network '%s': %s", def->name, local->message);
}

/* Does `nft list tables` output name the table (family inet)? */
static gboolean
tables_include(const char *listing, const char *table)
{
    g_auto(GStrv) lines = g_strsplit(listing ? listing : "", "\n", -1);
    g_autofree char *want = g_strconcat("table inet ", table, NULL);

    for (guint i = 0; lines[i]; i++) {
        if (g_str_equal(g_strstrip(lines[i]), want))
            return TRUE;
    }
    return FALSE;
}

gboolean
sv_net_firewall_present(const SvNetworkDef *def)
{
    static const char *const argv[] = {"nft", "list", "tables", NULL};
    g_autofree char *table = NULL;
    g_autofree char *out = NULL;
    g_autoptr(GError) local = NULL;

    if (!mode_has_rules(def))
        return TRUE;
    table = sv_net_firewall_table_name(def);
    if (!runner(argv, NULL, &out, runner_data, &local)) {
        g_debug("firewall of network '%s': %s", def->name, local->message);
        return FALSE;
    }
    return tables_include(out, table);
}

/* ------------------------------------------------------------------ reload detection */

/* A monitor that ended is started again after this long (events meanwhile were missed,
 * so the owner is then told that anything may be gone). */
#define MONITOR_RESTART_S 2

struct SvNetFirewallWatch {
    SvNetFirewallLostFunc func;
    gpointer data;
    SvProcess *monitor;   /* `nft monitor tables` */
    int fd;               /* its stdout, or -1 */
    guint fd_source;
    GString *partial;     /* a line not ended yet */
    guint restart_source;
    GCancellable *cancel; /* the system bus connection under way */
    GDBusConnection *bus;
    guint sub_reloaded, sub_owner;
    SvNetFirewallWatch **relay; /* what the subscriptions hold: cleared when w goes, since
                                 * GDBus may still call one already under way */
};

char *
sv_net_firewall_monitor_table(const char *line)
{
    static const char head[] = "delete table inet " TABLE_PREFIX;
    g_autofree char *copy = g_strstrip(g_strdup(line));

    if (!g_str_has_prefix(copy, head) || !copy[sizeof(head) - 1] ||
        strpbrk(copy + sizeof(head) - 1, " \t"))
        return NULL;
    return g_strdup(copy + strlen("delete table inet "));
}

static void
monitor_lines(SvNetFirewallWatch *w)
{
    char *nl;

    while ((nl = memchr(w->partial->str, '\n', w->partial->len))) {
        g_autofree char *line = g_strndup(w->partial->str, nl - w->partial->str);
        g_autofree char *table = sv_net_firewall_monitor_table(line);

        g_string_erase(w->partial, 0, nl - w->partial->str + 1);
        if (table) {
            g_debug("firewall: table %s was deleted", table);
            w->func(table, w->data);
        }
    }
}

static void
monitor_close(SvNetFirewallWatch *w)
{
    if (w->fd_source)
        g_source_remove(w->fd_source);
    w->fd_source = 0;
    sv_fd_clear(&w->fd);
    g_string_truncate(w->partial, 0);
}

static gboolean
monitor_readable(int fd, GIOCondition cond, gpointer data)
{
    SvNetFirewallWatch *w = data;
    char buf[4096];
    ssize_t n;

    (void)cond;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        g_string_append_len(w->partial, buf, n);
        monitor_lines(w);
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    /* End of output: the monitor is gone (its exit restarts it). */
    w->fd_source = 0;
    monitor_close(w);
    return G_SOURCE_REMOVE;
}

static gboolean monitor_start(SvNetFirewallWatch *w, GError **error);

static gboolean
monitor_restart(gpointer data)
{
    SvNetFirewallWatch *w = data;
    g_autoptr(GError) local = NULL;

    w->restart_source = 0;
    if (!monitor_start(w, &local)) {
        g_warning("cannot watch the firewall: %s", local->message);
        w->restart_source = g_timeout_add_seconds(MONITOR_RESTART_S, monitor_restart, w);
        return G_SOURCE_REMOVE;
    }
    w->func(NULL, w->data);
    return G_SOURCE_REMOVE;
}

static void
monitor_exited(SvProcess *proc, const SvProcessExit *how, gpointer data)
{
    SvNetFirewallWatch *w = data;

    g_debug("firewall: nft monitor ended (status %d)", how->code);
    sv_process_free_later(proc);
    w->monitor = NULL;
    monitor_close(w);
    if (!w->restart_source)
        w->restart_source = g_timeout_add_seconds(MONITOR_RESTART_S, monitor_restart, w);
}

static gboolean
monitor_start(SvNetFirewallWatch *w, GError **error)
{
    static const char *const envp[] = {"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    g_autofree char *nft = sv_command_path("nft");
    const char *argv[] = {nft, "monitor", "tables", NULL};
    SvSpawnOptions opts = {.argv = argv, .envp = envp, .stdin_fd = -1, .stderr_fd = -1};
    int pipefd[2];

    if (!nft) {
        sv_error_set_errno(error, SV_FROM_NONE, ENOENT, "Cannot find 'nft' in path");
        return FALSE;
    }
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot prepare to run '%s'", nft);
        return FALSE;
    }
    opts.stdout_fd = pipefd[1];
    w->monitor = sv_process_spawn(&opts, error);
    close(pipefd[1]);
    if (!w->monitor) {
        close(pipefd[0]);
        return FALSE;
    }
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    w->fd = pipefd[0];
    w->fd_source = g_unix_fd_add(w->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, monitor_readable, w);
    sv_process_set_exit_func(w->monitor, monitor_exited, w);
    return TRUE;
}

static void
relay_release(gpointer relay)
{
    g_atomic_rc_box_release(relay);
}

/* firewalld reloaded its rules, or (re)started: libvirt re-adds its rules on both. */
static void
firewalld_signal(GDBusConnection *bus, const char *sender, const char *path,
                 const char *iface, const char *member, GVariant *params, gpointer data)
{
    SvNetFirewallWatch *w = *(SvNetFirewallWatch **)data;

    (void)bus, (void)sender, (void)path, (void)iface;
    if (!w)
        return;
    if (g_str_equal(member, "NameOwnerChanged")) {
        const char *name, *old_owner, *new_owner;

        if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sss)")))
            return;
        g_variant_get(params, "(&s&s&s)", &name, &old_owner, &new_owner);
        if (!*new_owner)
            return;
    }
    g_debug("firewall: firewalld %s", member);
    w->func(NULL, w->data);
}

static void
bus_ready(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GError) local = NULL;
    GDBusConnection *bus = g_bus_get_finish(res, &local);
    SvNetFirewallWatch *w = data;

    (void)source;
    if (!bus) {
        /* Cancelled: w is gone. No system bus: no firewalld to follow. */
        if (!g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_debug("firewall: no system bus (%s): firewalld reloads are not followed",
                    local->message);
        return;
    }
    w->bus = bus;
    g_dbus_connection_set_exit_on_close(bus, FALSE);
    /* One relay for both subscriptions, freed with the last of them. */
    w->relay = g_atomic_rc_box_new(SvNetFirewallWatch *);
    *w->relay = w;
    w->sub_reloaded = g_dbus_connection_signal_subscribe(
        bus, FIREWALLD_NAME, FIREWALLD_NAME, "Reloaded", NULL, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
        firewalld_signal, g_atomic_rc_box_acquire(w->relay), relay_release);
    w->sub_owner = g_dbus_connection_signal_subscribe(
        bus, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
        "/org/freedesktop/DBus", FIREWALLD_NAME, G_DBUS_SIGNAL_FLAGS_NONE, firewalld_signal,
        g_atomic_rc_box_acquire(w->relay), relay_release);
}

SvNetFirewallWatch *
sv_net_firewall_watch_new(SvNetFirewallLostFunc func, gpointer data, GError **error)
{
    g_autoptr(SvNetFirewallWatch) w = g_new0(SvNetFirewallWatch, 1);

    w->func = func;
    w->data = data;
    w->fd = -1;
    w->partial = g_string_new(NULL);
    w->cancel = g_cancellable_new();
    if (!monitor_start(w, error))
        return NULL;
    g_bus_get(G_BUS_TYPE_SYSTEM, w->cancel, bus_ready, w);
    return g_steal_pointer(&w);
}

void
sv_net_firewall_watch_free(SvNetFirewallWatch *w)
{
    if (!w)
        return;
    if (w->cancel)
        g_cancellable_cancel(w->cancel);
    g_clear_object(&w->cancel);
    if (w->bus) {
        *w->relay = NULL;
        g_dbus_connection_signal_unsubscribe(w->bus, w->sub_reloaded);
        g_dbus_connection_signal_unsubscribe(w->bus, w->sub_owner);
        g_atomic_rc_box_release(w->relay);
        g_clear_object(&w->bus);
    }
    if (w->restart_source)
        g_source_remove(w->restart_source);
    monitor_close(w);
    if (w->monitor) {
        pid_t pid = sv_process_get_pid(w->monitor);

        /* SIGKILL ends it at once; reaping it here leaves no zombie behind. */
        sv_process_signal(w->monitor, SIGKILL, NULL);
        sv_process_free(w->monitor);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    g_string_free(w->partial, TRUE);
    g_free(w);
}
