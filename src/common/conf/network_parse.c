/* network_parse.c: the parts of a network's XML (<ip> and its <dhcp>, <dns>, <forward>,
 * <route>, <portgroup>, dnsmasq:options), read as libvirt 9.0's network_conf.c,
 * networkcommon_conf.c and the network driver's namespace parser read them. */
#include "conf/network_def.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "conf/network_def_priv.h"
#include "util/error.h"

#define NET_ERROR(error, code, ...) sv_error_set(error, SV_FROM_NETWORK, code, __VA_ARGS__)

/* What may not appear in a host name dnsmasq's hosts files carry: their separators. */
#define HOSTNAME_BAD " ," SV_DNSMASQ_META

/* ---- <dhcp> -------------------------------------------------------------------------------- */

/* A number as strtoull reads it with base 0 (decimal, 0x hex, 0 octal), whole and never
 * negative: libvirt reads the lease's expiry so (virXMLPropULongLong, base 0). */
static gboolean
parse_u64_any_base(const char *s, guint64 *out)
{
    char *end = NULL;

    errno = 0;
    *out = g_ascii_strtoull(s, &end, 0);
    return end != s && !*end && errno == 0 && !strchr(s, '-');
}

/* <lease expiry= unit=> (virNetworkDHCPLeaseTimeDefParseXML). */
static gboolean
parse_lease(const xmlNode *parent, guint64 *expiry, gboolean *infinite, int *unit,
            GError **error)
{
    static const char *const units[] = {"seconds", "minutes", "hours", NULL};
    static const guint64 unit_seconds[] = {1, 60, 3600};
    xmlNode *lease = sv_xml_child(parent, "lease");
    g_autofree char *v = lease ? sv_xml_prop(lease, "expiry") : NULL;
    g_autofree char *u = lease ? sv_xml_prop(lease, "unit") : NULL;
    guint64 n;
    int k = SV_NETWORK_LEASE_UNIT_MINUTES;

    if (!v)
        return TRUE;
    if (!parse_u64_any_base(v, &n)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'expiry' in element 'lease': '%s'. Expected "
                     "non-negative integer value",
                     v);
        return FALSE;
    }
    if (u) {
        for (k = 0; units[k] && !g_str_equal(units[k], u); k++)
            ;
        if (!units[k]) {
            sv_xml_error_invalid_attr(error, lease, "unit", u);
            return FALSE;
        }
    }
    if (n > 0 && ((k == SV_NETWORK_LEASE_UNIT_SECONDS && n < 120) ||
                  (k == SV_NETWORK_LEASE_UNIT_MINUTES && n < 2))) {
        NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED,
                  "The minimum lease time should be greater than 2 minutes");
        return FALSE;
    }
    *infinite = n == 0;
    *expiry = n * unit_seconds[k];
    *unit = k;
    return TRUE;
}

static gboolean
parse_dhcp_range(const char *net, const SvNetworkIpDef *ip, const SvNetAddr *ipaddr, int prefix,
                 const xmlNode *node, GError **error)
{
    g_autofree char *start = sv_xml_prop(node, "start");
    g_autofree char *end = sv_xml_prop(node, "end");
    g_autofree SvNetworkDhcpRange *r = NULL;
    SvNetAddr s, e;

    if (!start) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Missing 'start' attribute in dhcp range for network '%s'", net);
        return FALSE;
    }
    if (!sv_net_addr_parse(start, AF_UNSPEC, &s, error))
        return FALSE;
    if (!end) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "Missing 'end' attribute in dhcp range for network '%s'",
                  net);
        return FALSE;
    }
    if (!sv_net_addr_parse(end, AF_UNSPEC, &e, error) ||
        !sv_net_addr_check_range(&s, &e, ipaddr, prefix, error))
        return FALSE;
    r = sv_network_dhcp_range_new();
    if (!parse_lease(node, &r->lease_expiry, &r->lease_infinite, &r->lease_unit, error))
        return FALSE;
    r->start = sv_net_addr_format(&s);
    r->end = sv_net_addr_format(&e);
    g_ptr_array_add(ip->ranges, g_steal_pointer(&r));
    return TRUE;
}

static gboolean
dhcp_host_mac(const char *net, gboolean v6, const char *mac, GError **error)
{
    guint8 a[6];

    if (!mac)
        return TRUE;
    if (v6) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Invalid to specify MAC address '%s' in network '%s' IPv6 static host "
                  "definition",
                  mac, net);
        return FALSE;
    }
    if (!sv_net_mac_parse(mac, a)) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "Cannot parse MAC address '%s' in network '%s'", mac,
                  net);
        return FALSE;
    }
    if (a[0] & 1) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "expected unicast mac address, found multicast '%s' in network '%s'", mac,
                  net);
        return FALSE;
    }
    return TRUE;
}

/* mac, id, name and ip of a <host>: each checked on its own. */
static gboolean
dhcp_host_fields(const char *net, gboolean v6, SvNetworkDhcpHost *h, SvNetAddr *ip,
                 GError **error)
{
    size_t ok;

    if (!dhcp_host_mac(net, v6, h->mac, error))
        return FALSE;
    if (h->id && h->id[ok = strspn(h->id, "0123456789abcdefABCDEF:")]) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "Invalid character '%c' in id '%s' of network '%s'",
                  h->id[ok], h->id, net);
        return FALSE;
    }
    if (h->name && !g_ascii_isalpha(h->name[0]) && !g_ascii_isdigit(h->name[0])) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "Cannot use host name '%s' in network '%s'", h->name,
                  net);
        return FALSE;
    }
    if (!sv_network_check_dnsmasq_value(net, "DHCP host name", h->name, HOSTNAME_BAD, error))
        return FALSE;
    if (h->ip && !sv_net_addr_parse(h->ip, AF_UNSPEC, ip, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Invalid IP address in static host definition for network '%s'", net);
        return FALSE;
    }
    return TRUE;
}

/* Which of mac, id, name, ip a host must have (virNetworkDHCPHostDefParseXML). */
static gboolean
dhcp_host_required(const char *net, gboolean v6, const SvNetworkDhcpHost *h, gboolean partial_ok,
                   GError **error)
{
    if (partial_ok) {
        if (h->mac || h->name || h->ip)
            return TRUE;
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "At least one of name, mac, or ip attribute must be specified for static host "
                  "definition in network '%s' ",
                  net);
        return FALSE;
    }
    if (v6 && !h->id && !h->name) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Static host definition in IPv6 network '%s' must have id or name attribute",
                  net);
        return FALSE;
    }
    if (!v6 && !h->mac && !h->name) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Static host definition in IPv4 network '%s' must have mac or name attribute",
                  net);
        return FALSE;
    }
    if (!h->ip) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Missing IP address in static host definition for network '%s'", net);
        return FALSE;
    }
    return TRUE;
}

SvNetworkDhcpHost *
sv_network_dhcp_host_parse_node(const char *net, const SvNetworkIpDef *ip, const xmlNode *node,
                                gboolean partial_ok, GError **error)
{
    g_autoptr(SvNetworkDhcpHost) h = g_new0(SvNetworkDhcpHost, 1);
    SvNetAddr addr = {0};

    h->mac = sv_xml_prop(node, "mac");
    h->id = sv_xml_prop(node, "id");
    h->name = sv_xml_prop(node, "name");
    h->ip = sv_xml_prop(node, "ip");
    if (!dhcp_host_fields(net, ip->is_ipv6, h, &addr, error) ||
        !dhcp_host_required(net, ip->is_ipv6, h, partial_ok, error) ||
        !parse_lease(node, &h->lease_expiry, &h->lease_infinite, &h->lease_unit, error))
        return NULL;
    if (h->ip) {
        g_free(h->ip);
        h->ip = sv_net_addr_format(&addr);
    }
    return g_steal_pointer(&h);
}

SvNetworkDhcpHost *
sv_network_dhcp_host_parse(const char *net, const SvNetworkIpDef *ip, const char *xml,
                           gboolean partial_ok, GError **error)
{
    xmlDoc *doc = sv_xml_read_named_from(xml, "(network_update_xml)", SV_FROM_NETWORK, error);
    SvNetworkDhcpHost *h;

    if (!doc)
        return NULL;
    h = sv_network_dhcp_host_parse_node(net, ip, xmlDocGetRootElement(doc), partial_ok, error);
    xmlFreeDoc(doc);
    return h;
}

static gboolean
parse_bootp(const char *net, SvNetworkIpDef *ip, const xmlNode *bootp, GError **error)
{
    g_autofree char *server = sv_xml_prop(bootp, "server");
    SvNetAddr a;

    if (ip->is_ipv6)
        return TRUE;
    /* libvirt 9.0 skips a <bootp> without file=. */
    ip->bootp_file = sv_xml_prop(bootp, "file");
    if (!ip->bootp_file)
        return TRUE;
    if (!sv_network_check_dnsmasq_value(net, "bootp file", ip->bootp_file,
                                        "," SV_DNSMASQ_META, error))
        return FALSE;
    if (server) {
        if (!sv_net_addr_parse(server, AF_UNSPEC, &a, error))
            return FALSE;
        ip->bootp_server = sv_net_addr_format(&a);
    }
    return TRUE;
}

static gboolean
parse_dhcp(const char *net, SvNetworkIpDef *ip, const SvNetAddr *addr, int prefix,
           const xmlNode *dhcp, GError **error)
{
    xmlNode *bootp = sv_xml_child(dhcp, "bootp");

    ip->has_dhcp = TRUE;
    for (xmlNode *c = dhcp->children; c; c = c->next) {
        if (sv_xml_is(c, "range") && !parse_dhcp_range(net, ip, addr, prefix, c, error))
            return FALSE;
    }
    for (xmlNode *c = dhcp->children; c; c = c->next) {
        SvNetworkDhcpHost *h;

        if (!sv_xml_is(c, "host"))
            continue;
        if (!(h = sv_network_dhcp_host_parse_node(net, ip, c, FALSE, error)))
            return FALSE;
        g_ptr_array_add(ip->hosts, h);
    }
    return !bootp || parse_bootp(net, ip, bootp, error);
}

/* ---- <ip> ----------------------------------------------------------------------------------- */

static gboolean
check_ipv4(const char *net, SvNetworkIpDef *ip, const char *address, const SvNetAddr *addr,
           const SvNetAddr *mask, GError **error)
{
    if (addr->family != AF_INET) {
        NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED,
                  "%s family specified for non-IPv4 address '%s' in network '%s'",
                  ip->family ? "ipv4" : "no", address, net);
        return FALSE;
    }
    if (ip->netmask) {
        if (mask->family != AF_INET) {
            NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED,
                      "Invalid netmask '%s' for address '%s' in network '%s' (both must be "
                      "IPv4)",
                      ip->netmask, address, net);
            return FALSE;
        }
        if (ip->prefix > 0) {
            NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED,
                      "Network '%s' IP address cannot have both a prefix and a netmask", net);
            return FALSE;
        }
    } else if (ip->prefix > 32) {
        NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED, "Invalid IPv4 prefix '%u' in network '%s'",
                  ip->prefix, net);
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_family(const char *net, SvNetworkIpDef *ip, const char *address, const SvNetAddr *addr,
             const SvNetAddr *mask, GError **error)
{
    if (!ip->family || g_str_equal(ip->family, "ipv4"))
        return check_ipv4(net, ip, address, addr, mask, error);
    if (!g_str_equal(ip->family, "ipv6")) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "Unrecognized family '%s' in network '%s'", ip->family,
                  net);
        return FALSE;
    }
    if (addr->family != AF_INET6) {
        NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED,
                  "Family 'ipv6' specified for non-IPv6 address '%s' in network '%s'", address,
                  net);
        return FALSE;
    }
    if (ip->netmask) {
        NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED,
                  "netmask not allowed for IPv6 address '%s' in network '%s'", address, net);
        return FALSE;
    }
    if (ip->prefix > 128) {
        NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED, "Invalid IPv6 prefix '%u' in network '%s'",
                  ip->prefix, net);
        return FALSE;
    }
    return TRUE;
}

/* address=, netmask=, prefix=, localPtr=. */
static gboolean
ip_attrs(const char *net, const xmlNode *node, SvNetworkIpDef *ip, SvNetAddr *addr,
         SvNetAddr *mask, GError **error)
{
    g_autofree char *address = sv_xml_prop(node, "address");
    g_autofree char *prefix = sv_xml_prop(node, "prefix");

    if (!address || !*address) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "Missing required address attribute in network '%s'",
                  net);
        return FALSE;
    }
    if (!sv_net_addr_parse(address, AF_UNSPEC, addr, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "Invalid address '%s' in network '%s'", address, net);
        return FALSE;
    }
    ip->netmask = sv_xml_prop(node, "netmask");
    if (ip->netmask && !*ip->netmask)
        g_clear_pointer(&ip->netmask, g_free);
    if (ip->netmask && !sv_net_addr_parse(ip->netmask, AF_UNSPEC, mask, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "Invalid netmask '%s' in network '%s'", ip->netmask,
                  net);
        return FALSE;
    }
    if (prefix && !sv_domain_parse_uint(prefix, &ip->prefix)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute 'prefix' in element 'ip': '%s'. Expected "
                     "non-negative integer value",
                     prefix);
        return FALSE;
    }
    ip->has_prefix = ip->prefix > 0;
    if (!sv_net_prop_tristate(node, "localPtr", &ip->local_ptr, error) ||
        !check_family(net, ip, address, addr, mask, error))
        return FALSE;
    ip->is_ipv6 = addr->family == AF_INET6;
    ip->address = sv_net_addr_format(addr);
    return TRUE;
}

SvNetworkIpDef *
sv_network_ip_parse_node(const char *net, const xmlNode *node, GError **error)
{
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(sv_network_ip_def_free);
    SvNetworkIpDef *ip = sv_network_ip_def_new();
    SvNetAddr addr = {0}, mask = {0};
    xmlNode *dhcp = sv_xml_child(node, "dhcp");
    xmlNode *tftp = sv_xml_child(node, "tftp");
    int prefix;

    g_ptr_array_add(keep, ip);
    ip->family = sv_xml_prop(node, "family");
    if (ip->family && !*ip->family)
        g_clear_pointer(&ip->family, g_free);
    if (!ip_attrs(net, node, ip, &addr, &mask, error))
        return NULL;
    if (ip->netmask) {
        g_free(ip->netmask);
        ip->netmask = sv_net_addr_format(&mask);
    }
    prefix = sv_net_ip_prefix(&addr, ip->netmask ? &mask : NULL, ip->prefix);
    if (!ip->has_prefix && prefix > 0 && ip->netmask)
        ip->prefix = (guint)prefix;
    if (dhcp && !parse_dhcp(net, ip, &addr, prefix, dhcp, error))
        return NULL;
    if (tftp) {
        if (addr.family != AF_INET) {
            NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED,
                      "Unsupported <tftp> element in an IPv6 element in network '%s'", net);
            return NULL;
        }
        ip->tftp_root = sv_xml_prop(tftp, "root");
        if (!sv_network_check_dnsmasq_value(net, "tftp root", ip->tftp_root, SV_DNSMASQ_META,
                                            error))
            return NULL;
    }
    return g_ptr_array_steal_index(keep, 0);
}
