/* net_dnsmasq.c: a network's dnsmasq configuration, hosts file and additional hosts file,
 * line for line as libvirt 9.0 writes them (net_dnsmasq.h); the goldens under
 * tests/data/netrun are the files Debian's libvirtd wrote for the same networks. */
#include "net_dnsmasq.h"

#include <gio/gio.h>
#include <string.h>

#include "util/error.h"

static const char *const HEADER =
    "##WARNING:  THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n"
    "##OVERWRITTEN AND LOST.  Changes to this configuration should be made using:\n"
    "##    virsh net-edit %s\n"
    "## or other application using the libvirt API.\n"
    "##\n"
    "## dnsmasq conf file created by libvirt\n"
    "strict-order\n";

char *
sv_net_addr_canonical(const char *addr)
{
    g_autoptr(GInetAddress) a = addr ? g_inet_address_new_from_string(addr) : NULL;

    return a ? g_inet_address_to_string(a) : NULL;
}

/* The address's bytes (4 or 16) into out; 0 when it is not one. */
static gsize
addr_bytes(const char *addr, guint8 out[16])
{
    g_autoptr(GInetAddress) a = addr ? g_inet_address_new_from_string(addr) : NULL;
    gsize n;

    if (!a)
        return 0;
    n = g_inet_address_get_native_size(a);
    memcpy(out, g_inet_address_to_bytes(a), n);
    return n;
}

static gboolean
ip_is_v6(const SvNetworkIpDef *ip)
{
    return ip->is_ipv6 || (ip->address && strchr(ip->address, ':'));
}

int
sv_net_dnsmasq_ip_prefix(const SvNetworkIpDef *ip)
{
    guint8 b[16];

    if (ip->prefix > 0)
        return (int)ip->prefix;
    if (ip->netmask) {
        gsize n = addr_bytes(ip->netmask, b);
        int bits = 0;
        for (gsize i = 0; i < n; i++)
            bits += __builtin_popcount(b[i]);
        if (n)
            return bits;
    }
    if (ip_is_v6(ip))
        return 64;
    if (addr_bytes(ip->address, b) != 4)
        return -1;
    if ((b[0] & 0x80) == 0)
        return 8;
    if ((b[0] & 0xc0) == 0x80)
        return 16;
    if ((b[0] & 0xe0) == 0xc0)
        return 24;
    return -1;
}

static gboolean
ip_has_dhcp(const SvNetworkIpDef *ip)
{
    return (ip->ranges && ip->ranges->len) || (ip->hosts && ip->hosts->len);
}

gboolean
sv_net_dhcp_ips(const SvNetworkDef *def, const SvNetworkIpDef **ret_v4,
                const SvNetworkIpDef **ret_v6, GError **error)
{
    *ret_v4 = *ret_v6 = NULL;
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        const SvNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        gboolean v6 = ip_is_v6(ip);
        const SvNetworkIpDef **slot = v6 ? ret_v6 : ret_v4;

        if (!ip_has_dhcp(ip))
            continue;
        if (*slot) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                         "For %s, multiple DHCP definitions cannot be specified.",
                         v6 ? "IPv6" : "IPv4");
            return FALSE;
        }
        *slot = ip;
    }
    return TRUE;
}

gboolean
sv_net_dnsmasq_needed(const SvNetworkDef *def)
{
    gboolean dhcp = FALSE;

    if (!def->ips || def->ips->len == 0)
        return FALSE;
    for (guint i = 0; i < def->ips->len; i++)
        dhcp |= ip_has_dhcp(g_ptr_array_index(def->ips, i));
    return dhcp || def->dns.enable != SV_NETWORK_TRISTATE_NO;
}

/* dnsmasq's lease time: "infinite", or the time in the unit it was given ("2h"). */
static char *
lease_time(guint64 seconds, gboolean infinite, int unit)
{
    static const struct {
        guint64 secs;
        char c;
    } units[SV_NETWORK_LEASE_UNIT_LAST] = {
        [SV_NETWORK_LEASE_UNIT_MINUTES] = {60, 'm'},
        [SV_NETWORK_LEASE_UNIT_SECONDS] = {1, 's'},
        [SV_NETWORK_LEASE_UNIT_HOURS] = {3600, 'h'},
    };

    if (infinite)
        return g_strdup("infinite");
    if (seconds == 0)
        return NULL;
    if (unit < 0 || unit >= SV_NETWORK_LEASE_UNIT_LAST)
        unit = SV_NETWORK_LEASE_UNIT_MINUTES;
    if (seconds % units[unit].secs)
        unit = SV_NETWORK_LEASE_UNIT_SECONDS;
    return g_strdup_printf("%" G_GUINT64_FORMAT "%c", seconds / units[unit].secs,
                           units[unit].c);
}

/* A PTR domain for the network of ip ("127.168.192.in-addr.arpa"), as libvirt's
 * virSocketAddrPTRDomain: whole octets (IPv4) or nibbles (IPv6) only. */
static char *
ptr_domain(const SvNetworkIpDef *ip, GError **error)
{
    guint8 b[16];
    gsize n = addr_bytes(ip->address, b);
    int prefix = sv_net_dnsmasq_ip_prefix(ip);
    GString *s = g_string_new(NULL);

    if (n == 4 && prefix > 0 && prefix < 32 && prefix % 8 == 0) {
        for (int i = prefix / 8; i > 0; i--)
            g_string_append_printf(s, "%u.", b[i - 1]);
        g_string_append(s, "in-addr.arpa");
    } else if (n == 16 && prefix > 0 && prefix < 128 && prefix % 4 == 0) {
        for (int i = prefix / 4; i > 0; i--) {
            guint8 v = b[(i - 1) / 2];
            g_string_append_printf(s, "%x.", (i % 2 == 0) ? (v & 0xf) : (v >> 4));
        }
        g_string_append(s, "ip6.arpa");
    } else {
        g_string_free(s, TRUE);
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                     "PTR domain for %s network with prefix %d cannot be automatically created",
                     n == 16 ? "IPv6" : "IPv4", prefix);
        return NULL;
    }
    return g_string_free(s, FALSE);
}

/* Number of addresses in a range, as libvirt counts them for dhcp-lease-max (IPv6: within
 * the last 16 bits). */
static guint
range_size(const char *start, const char *end)
{
    guint8 a[16], b[16];
    gsize n = addr_bytes(start, a);

    if (!n || addr_bytes(end, b) != n)
        return 0;
    if (n == 4) {
        guint32 x = (guint32)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
        guint32 y = (guint32)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
        return y >= x ? y - x + 1 : 0;
    }
    guint x = (guint)a[14] << 8 | a[15], y = (guint)b[14] << 8 | b[15];
    return y >= x ? y - x + 1 : 0;
}

static char *
prefix_netmask(int prefix)
{
    guint32 m = prefix <= 0 ? 0 : 0xffffffffu << (32 - prefix);

    return g_strdup_printf("%u.%u.%u.%u", m >> 24, (m >> 16) & 0xff, (m >> 8) & 0xff, m & 0xff);
}

/* ------------------------------------------------------------ the configuration */

static gboolean
want_dns(const SvNetworkDef *def)
{
    return def->dns.enable != SV_NETWORK_TRISTATE_NO;
}

/* DNS: forwarders, the domain, local PTR zones, plain names. */
static gboolean
conf_dns(GString *s, const SvNetworkDef *def, GError **error)
{
    const SvNetworkDnsDef *dns = &def->dns;

    if (!want_dns(def))
        g_string_append(s, "port=0\n");
    if (want_dns(def) && dns->forwarders && dns->forwarders->len) {
        gboolean no_resolv = FALSE;
        for (guint i = 0; i < dns->forwarders->len; i++) {
            const SvNetworkDnsForwarder *f = g_ptr_array_index(dns->forwarders, i);
            g_autofree char *addr = sv_net_addr_canonical(f->addr);
            g_string_append(s, "server=");
            if (f->domain)
                g_string_append_printf(s, "/%s/", f->domain);
            g_string_append_printf(s, "%s\n", addr ? addr : "#");
            no_resolv |= addr && !f->domain;
        }
        if (no_resolv)
            g_string_append(s, "no-resolv\n");
    }
    if (def->domain) {
        if (def->domain_local_only == SV_NETWORK_TRISTATE_YES)
            g_string_append_printf(s, "local=/%s/\n", def->domain);
        g_string_append_printf(s, "domain=%s\nexpand-hosts\n", def->domain);
    }
    for (guint i = 0; want_dns(def) && def->ips && i < def->ips->len; i++) {
        const SvNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        g_autofree char *ptr = NULL;
        if (ip->local_ptr != SV_NETWORK_TRISTATE_YES)
            continue;
        if (!(ptr = ptr_domain(ip, error)))
            return FALSE;
        g_string_append_printf(s, "local=/%s/\n", ptr);
    }
    if (want_dns(def) && dns->forward_plain_names == SV_NETWORK_TRISTATE_NO)
        g_string_append(s, "domain-needed\nlocal=//\n");
    return TRUE;
}

/* Where dnsmasq listens, and what an isolated network withholds. */
static void
conf_listen(GString *s, const SvNetworkDef *def, const SvNetDnsmasqPaths *paths)
{
    if (paths->pid_file)
        g_string_append_printf(s, "pid-file=%s\n", paths->pid_file);
    /* bind-dynamic with only interface= answers nothing arriving elsewhere (libvirt's
     * answer to CVE-2012-3411); Debian's dnsmasq has it, so libvirt always writes it. */
    g_string_append_printf(s, "except-interface=lo\nbind-dynamic\ninterface=%s\n",
                           def->bridge.name);
    if (def->forward.type == SV_NETWORK_FORWARD_NONE)
        g_string_append(s, "dhcp-option=3\nno-resolv\nra-param=*,0,0\n");
}

static void
conf_srv(GString *s, const SvNetworkDnsSrv *srv)
{
    g_string_append_printf(s, "srv-host=_%s._%s", srv->service, srv->protocol);
    if (srv->domain)
        g_string_append_printf(s, ".%s", srv->domain);
    /* No target, or ".", says the service is not offered: nothing else counts. Later
     * fields are positional, so an absent one before a given one gets its default. */
    if (srv->target && strcmp(srv->target, ".") != 0) {
        g_string_append_printf(s, ",%s", srv->target);
        if (srv->port || srv->priority || srv->weight)
            g_string_append_printf(s, ",%u", srv->port ? srv->port : 1);
        if (srv->priority || srv->weight)
            g_string_append_printf(s, ",%u", srv->priority);
        if (srv->weight)
            g_string_append_printf(s, ",%u", srv->weight);
    }
    g_string_append_c(s, '\n');
}

static void
conf_records(GString *s, const SvNetworkDef *def)
{
    const SvNetworkDnsDef *dns = &def->dns;

    if (!want_dns(def))
        return;
    for (guint i = 0; dns->txts && i < dns->txts->len; i++) {
        const SvNetworkDnsTxt *t = g_ptr_array_index(dns->txts, i);
        g_string_append_printf(s, "txt-record=%s,%s\n", t->name, t->value ? t->value : "");
    }
    for (guint i = 0; dns->srvs && i < dns->srvs->len; i++)
        conf_srv(s, g_ptr_array_index(dns->srvs, i));
}

/* One DHCP <ip>'s lines; *leases grows by its ranges' sizes. */
static void
conf_dhcp_ip(GString *s, const SvNetworkIpDef *ip, guint *leases)
{
    gboolean v6 = ip_is_v6(ip);
    int prefix = sv_net_dnsmasq_ip_prefix(ip);
    g_autofree char *mask = v6 ? g_strdup_printf("%d", prefix) : prefix_netmask(prefix);

    for (guint i = 0; ip->ranges && i < ip->ranges->len; i++) {
        const SvNetworkDhcpRange *r = g_ptr_array_index(ip->ranges, i);
        g_autofree char *start = sv_net_addr_canonical(r->start);
        g_autofree char *end = sv_net_addr_canonical(r->end);
        g_autofree char *lt = lease_time(r->lease_expiry, r->lease_infinite, r->lease_unit);

        g_string_append_printf(s, "dhcp-range=%s,%s,%s", start, end, mask);
        if (lt)
            g_string_append_printf(s, ",%s", lt);
        g_string_append_c(s, '\n');
        *leases += range_size(r->start, r->end);
    }
    if (!(ip->ranges && ip->ranges->len)) {
        /* hosts only: a static range turns DHCP on for them */
        g_autofree char *addr = sv_net_addr_canonical(ip->address);
        g_string_append_printf(s, "dhcp-range=%s,static", addr);
        if (v6)
            g_string_append_printf(s, ",%d", prefix);
        g_string_append_c(s, '\n');
    }
    if (v6)
        return;
    g_string_append(s, "dhcp-no-override\ndhcp-authoritative\n");
    if (ip->bootp_file) {
        g_autofree char *server = sv_net_addr_canonical(ip->bootp_server);
        if (server)
            g_string_append_printf(s, "dhcp-boot=%s,,%s\n", ip->bootp_file, server);
        else
            g_string_append_printf(s, "dhcp-boot=%s\n", ip->bootp_file);
    }
}

/* Files, MTU, router advertisements and the user's own options. */
static void
conf_tail(GString *s, const SvNetworkDef *def, const SvNetDnsmasqPaths *paths,
          const SvNetworkIpDef *v4, const SvNetworkIpDef *v6, guint leases)
{
    if (leases > 0)
        g_string_append_printf(s, "dhcp-lease-max=%u\n", leases);
    if (v4 || v6)
        g_string_append_printf(s, "dhcp-hostsfile=%s\n", paths->hostsfile);
    if (want_dns(def))
        g_string_append_printf(s, "addn-hosts=%s\n", paths->addnhosts);
    if (def->mtu > 0)
        g_string_append_printf(s, "dhcp-option=option:mtu,%u\n", def->mtu);
    if (v6) {
        g_string_append(s, "enable-ra\n");
    } else {
        for (guint i = 0; def->ips && i < def->ips->len; i++) {
            const SvNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
            g_autofree char *addr = NULL;
            if (!ip_is_v6(ip) || ip_has_dhcp(ip))
                continue;
            addr = sv_net_addr_canonical(ip->address);
            g_string_append_printf(s, "dhcp-range=%s,ra-only\n", addr);
        }
    }
    for (guint i = 0; def->dnsmasq_options && i < def->dnsmasq_options->len; i++)
        g_string_append_printf(s, "%s\n", (const char *)g_ptr_array_index(def->dnsmasq_options, i));
}

/* Every line of the file ends where libvirt's does: count them against what was meant
 * cannot be done here, so each value written is checked instead (no CR, no LF). */
static gboolean
value_ok(const char *v)
{
    return !v || !strpbrk(v, "\r\n");
}

static gboolean
conf_values_ok(const SvNetworkDef *def)
{
    const SvNetworkDnsDef *dns = &def->dns;
    gboolean ok = value_ok(def->name) && value_ok(def->bridge.name) && value_ok(def->domain);

    for (guint i = 0; dns->forwarders && i < dns->forwarders->len; i++) {
        const SvNetworkDnsForwarder *f = g_ptr_array_index(dns->forwarders, i);
        ok &= value_ok(f->domain);
    }
    for (guint i = 0; dns->txts && i < dns->txts->len; i++) {
        const SvNetworkDnsTxt *t = g_ptr_array_index(dns->txts, i);
        ok &= value_ok(t->name) && value_ok(t->value);
    }
    for (guint i = 0; dns->srvs && i < dns->srvs->len; i++) {
        const SvNetworkDnsSrv *v = g_ptr_array_index(dns->srvs, i);
        ok &= value_ok(v->service) && value_ok(v->protocol) && value_ok(v->domain) &&
              value_ok(v->target);
    }
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        const SvNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        ok &= value_ok(ip->tftp_root) && value_ok(ip->bootp_file);
        for (guint j = 0; ip->hosts && j < ip->hosts->len; j++) {
            const SvNetworkDhcpHost *h = g_ptr_array_index(ip->hosts, j);
            ok &= value_ok(h->name) && value_ok(h->id) && value_ok(h->mac);
        }
    }
    for (guint i = 0; dns->hosts && i < dns->hosts->len; i++) {
        const SvNetworkDnsHost *h = g_ptr_array_index(dns->hosts, i);
        for (guint j = 0; h->hostnames && j < h->hostnames->len; j++)
            ok &= value_ok(g_ptr_array_index(h->hostnames, j));
    }
    for (guint i = 0; def->dnsmasq_options && i < def->dnsmasq_options->len; i++)
        ok &= value_ok(g_ptr_array_index(def->dnsmasq_options, i));
    return ok;
}

char *
sv_net_dnsmasq_conf(const SvNetworkDef *def, const SvNetDnsmasqPaths *paths, GError **error)
{
    g_autoptr(GString) s = g_string_new(NULL);
    const SvNetworkIpDef *v4, *v6;
    guint leases = 0;

    if (!conf_values_ok(def)) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                     "network '%s' has a value with a line break, refused in dnsmasq's "
                     "configuration", def->name);
        return NULL;
    }
    if (!sv_net_dhcp_ips(def, &v4, &v6, error))
        return NULL;
    g_string_append_printf(s, HEADER, def->name);
    if (!conf_dns(s, def, error))
        return NULL;
    conf_listen(s, def, paths);
    conf_records(s, def);
    /* TFTP for every IPv4 <ip> that has it, met while libvirt looks for the DHCP ones */
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        const SvNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        if (!ip_is_v6(ip) && ip->tftp_root)
            g_string_append_printf(s, "enable-tftp\ntftp-root=%s\n", ip->tftp_root);
    }
    if (v4)
        conf_dhcp_ip(s, v4, &leases);
    if (v6)
        conf_dhcp_ip(s, v6, &leases);
    conf_tail(s, def, paths, v4, v6, leases);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* ------------------------------------------------------------ the hosts files */

static void
hostsfile_ip(GString *s, const SvNetworkIpDef *ip)
{
    gboolean v6 = ip_is_v6(ip);

    for (guint i = 0; ip->hosts && i < ip->hosts->len; i++) {
        const SvNetworkDhcpHost *h = g_ptr_array_index(ip->hosts, i);
        g_autofree char *addr = sv_net_addr_canonical(h->ip);
        g_autofree char *lt = lease_time(h->lease_expiry, h->lease_infinite, h->lease_unit);

        if (!addr)
            continue;
        if (v6) {
            if (h->id)
                g_string_append_printf(s, "id:%s%s", h->id, h->name ? "," : "");
            if (h->name)
                g_string_append(s, h->name);
            g_string_append_printf(s, ",[%s]", addr);
        } else if (h->name && h->mac) {
            g_string_append_printf(s, "%s,%s,%s", h->mac, addr, h->name);
        } else if (h->name) {
            g_string_append_printf(s, "%s,%s", h->name, addr);
        } else {
            g_string_append_printf(s, "%s,%s", h->mac ? h->mac : "", addr);
        }
        if (lt)
            g_string_append_printf(s, ",%s", lt);
        g_string_append_c(s, '\n');
    }
}

char *
sv_net_dnsmasq_hostsfile(const SvNetworkDef *def)
{
    GString *s = g_string_new(NULL);
    const SvNetworkIpDef *v4 = NULL, *v6 = NULL;

    /* two DHCP <ip>s of a family never reach a started network (the configuration
     * refuses them); the first of each is the one libvirt's refresh writes */
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        const SvNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        const SvNetworkIpDef **slot = ip_is_v6(ip) ? &v6 : &v4;
        if (ip_has_dhcp(ip) && !*slot)
            *slot = ip;
    }
    if (v4)
        hostsfile_ip(s, v4);
    if (v6)
        hostsfile_ip(s, v6);
    return g_string_free(s, FALSE);
}

char *
sv_net_dnsmasq_addnhosts(const SvNetworkDef *def)
{
    const SvNetworkDnsDef *dns = &def->dns;
    g_autoptr(GPtrArray) ips = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func((GDestroyNotify)NULL);
    GString *s = g_string_new(NULL);

    /* one line per address, in the order each first appears, names in order */
    for (guint i = 0; dns->hosts && i < dns->hosts->len; i++) {
        const SvNetworkDnsHost *h = g_ptr_array_index(dns->hosts, i);
        char *addr = sv_net_addr_canonical(h->ip);
        guint at;

        if (!addr)
            continue;
        if (!g_ptr_array_find_with_equal_func(ips, addr, g_str_equal, &at)) {
            g_ptr_array_add(ips, addr);
            g_ptr_array_add(lines, g_string_new(addr));
            g_string_append_c(g_ptr_array_index(lines, lines->len - 1), '\t');
            at = ips->len - 1;
        } else {
            g_free(addr);
        }
        for (guint j = 0; h->hostnames && j < h->hostnames->len; j++)
            g_string_append_printf(g_ptr_array_index(lines, at), "%s\t",
                                   (const char *)g_ptr_array_index(h->hostnames, j));
    }
    for (guint i = 0; i < lines->len; i++) {
        GString *l = g_ptr_array_index(lines, i);
        g_string_append_printf(s, "%s\n", l->str);
        g_string_free(l, TRUE);
    }
    return g_string_free(s, FALSE);
}
