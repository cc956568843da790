/* network_def_format.c: a network's XML written as libvirt 9.0's virNetworkDefFormatBuf
 * writes it (element order, defaults written or left out, indentation), its deep copy and
 * lookups (network_def.h). */
#include "conf/network_def.h"

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "conf/network_def_priv.h"
#include "conf/uuid.h"

#define DNSMASQ_NS "http://libvirt.org/schemas/network/dnsmasq/1.0"

static const char *const lease_units[SV_NETWORK_LEASE_UNIT_LAST] = {"seconds", "minutes",
                                                                    "hours"};
static const guint64 lease_unit_seconds[SV_NETWORK_LEASE_UNIT_LAST] = {1, 60, 3600};

static void
indent(GString *buf, int n)
{
    g_string_append_printf(buf, "%*s", n, "");
}

static void
append_tristate(GString *buf, const char *name, SvNetworkTristate v)
{
    sv_xml_append_attr(buf, name, sv_net_tristate_to_string(v));
}

static void
format_lease(GString *buf, int ind, const char *elem, guint64 expiry, gboolean infinite,
             int unit)
{
    if (!expiry && !infinite) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    indent(buf, ind + 2);
    if (infinite)
        g_string_append(buf, "<lease expiry='0'/>\n");
    else
        g_string_append_printf(buf, "<lease expiry='%" G_GUINT64_FORMAT "' unit='%s'/>\n",
                               expiry / lease_unit_seconds[unit], lease_units[unit]);
    indent(buf, ind);
    g_string_append_printf(buf, "</%s>\n", elem);
}

static void
format_dhcp(GString *buf, const SvNetworkIpDef *ip)
{
    if (!ip->ranges->len && !ip->hosts->len)
        return;
    g_string_append(buf, "    <dhcp>\n");
    for (guint i = 0; i < ip->ranges->len; i++) {
        const SvNetworkDhcpRange *r = g_ptr_array_index(ip->ranges, i);

        g_string_append_printf(buf, "      <range start='%s' end='%s'", r->start, r->end);
        format_lease(buf, 6, "range", r->lease_expiry, r->lease_infinite, r->lease_unit);
    }
    for (guint i = 0; i < ip->hosts->len; i++) {
        const SvNetworkDhcpHost *h = g_ptr_array_index(ip->hosts, i);

        g_string_append(buf, "      <host");
        sv_xml_append_attr(buf, "mac", h->mac);
        sv_xml_append_attr(buf, "id", h->id);
        sv_xml_append_attr(buf, "name", h->name);
        sv_xml_append_attr(buf, "ip", h->ip);
        format_lease(buf, 6, "host", h->lease_expiry, h->lease_infinite, h->lease_unit);
    }
    if (ip->bootp_file) {
        g_string_append(buf, "      <bootp");
        sv_xml_append_attr(buf, "file", ip->bootp_file);
        sv_xml_append_attr(buf, "server", ip->bootp_server);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "    </dhcp>\n");
}

static void
format_ip(GString *buf, const SvNetworkIpDef *ip)
{
    g_string_append(buf, "  <ip");
    sv_xml_append_attr(buf, "family", ip->family);
    sv_xml_append_attr(buf, "address", ip->address);
    sv_xml_append_attr(buf, "netmask", ip->netmask);
    if (ip->has_prefix && ip->prefix > 0)
        g_string_append_printf(buf, " prefix='%u'", ip->prefix);
    append_tristate(buf, "localPtr", ip->local_ptr);
    g_string_append(buf, ">\n");
    if (ip->tftp_root) {
        g_string_append(buf, "    <tftp");
        sv_xml_append_attr(buf, "root", ip->tftp_root);
        g_string_append(buf, "/>\n");
    }
    format_dhcp(buf, ip);
    g_string_append(buf, "  </ip>\n");
}

static void
format_route(GString *buf, const SvNetworkRouteDef *r)
{
    g_string_append(buf, "  <route");
    sv_xml_append_attr(buf, "family", r->family);
    sv_xml_append_attr(buf, "address", r->address);
    sv_xml_append_attr(buf, "netmask", r->netmask);
    if (r->has_prefix)
        g_string_append_printf(buf, " prefix='%u'", r->prefix);
    sv_xml_append_attr(buf, "gateway", r->gateway);
    if (r->has_metric && r->metric > 0)
        g_string_append_printf(buf, " metric='%u'", r->metric);
    g_string_append(buf, "/>\n");
}

static void
format_dns_records(GString *buf, const SvNetworkDnsDef *dns)
{
    for (guint i = 0; i < dns->forwarders->len; i++) {
        const SvNetworkDnsForwarder *f = g_ptr_array_index(dns->forwarders, i);

        g_string_append(buf, "    <forwarder");
        sv_xml_append_attr(buf, "domain", f->domain);
        sv_xml_append_attr(buf, "addr", f->addr);
        g_string_append(buf, "/>\n");
    }
    for (guint i = 0; i < dns->txts->len; i++) {
        const SvNetworkDnsTxt *t = g_ptr_array_index(dns->txts, i);

        g_string_append(buf, "    <txt");
        sv_xml_append_attr(buf, "name", t->name);
        sv_xml_append_attr(buf, "value", t->value);
        g_string_append(buf, "/>\n");
    }
    for (guint i = 0; i < dns->srvs->len; i++) {
        const SvNetworkDnsSrv *s = g_ptr_array_index(dns->srvs, i);

        if (!s->service || !s->protocol)
            continue;
        g_string_append(buf, "    <srv");
        sv_xml_append_attr(buf, "service", s->service);
        sv_xml_append_attr(buf, "protocol", s->protocol);
        sv_xml_append_attr(buf, "domain", s->domain);
        sv_xml_append_attr(buf, "target", s->target);
        if (s->port)
            g_string_append_printf(buf, " port='%u'", s->port);
        if (s->priority)
            g_string_append_printf(buf, " priority='%u'", s->priority);
        if (s->weight)
            g_string_append_printf(buf, " weight='%u'", s->weight);
        g_string_append(buf, "/>\n");
    }
    for (guint i = 0; i < dns->hosts->len; i++) {
        const SvNetworkDnsHost *h = g_ptr_array_index(dns->hosts, i);

        g_string_append_printf(buf, "    <host ip='%s'>\n", h->ip ? h->ip : "");
        for (guint j = 0; j < h->hostnames->len; j++)
            sv_xml_append_text_elem(buf, 6, "hostname", g_ptr_array_index(h->hostnames, j));
        g_string_append(buf, "    </host>\n");
    }
}

static void
format_dns(GString *buf, const SvNetworkDnsDef *dns)
{
    gboolean records = dns->forwarders->len || dns->hosts->len || dns->srvs->len ||
                       dns->txts->len;

    if (!dns->enable && !dns->forward_plain_names && !records)
        return;
    g_string_append(buf, "  <dns");
    append_tristate(buf, "enable", dns->enable);
    append_tristate(buf, "forwardPlainNames", dns->forward_plain_names);
    if (!records) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    format_dns_records(buf, dns);
    g_string_append(buf, "  </dns>\n");
}

static void
format_nat(GString *buf, const SvNetworkDef *def)
{
    gboolean inner = def->forward.nat_addr_start || def->forward.nat_addr_end ||
                     def->forward.nat_port_start || def->forward.nat_port_end;

    if (!inner && !def->forward.nat_ipv6)
        return;
    g_string_append(buf, "    <nat");
    append_tristate(buf, "ipv6", def->forward.nat_ipv6);
    if (!inner) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    if (def->forward.nat_addr_start) {
        g_string_append(buf, "      <address");
        sv_xml_append_attr(buf, "start", def->forward.nat_addr_start);
        sv_xml_append_attr(buf, "end", def->forward.nat_addr_end);
        g_string_append(buf, "/>\n");
    }
    if (def->forward.nat_port_start || def->forward.nat_port_end) {
        g_string_append_printf(buf, "      <port start='%u'", def->forward.nat_port_start);
        if (def->forward.nat_port_end)
            g_string_append_printf(buf, " end='%u'", def->forward.nat_port_end);
        g_string_append(buf, "/>\n");
    }
    g_string_append(buf, "    </nat>\n");
}

static void
format_forward(GString *buf, const SvNetworkDef *def, unsigned int flags)
{
    const GPtrArray *ifs = def->forward.ifaces;
    const GPtrArray *pfs = def->forward.pfs;
    gboolean is_short;

    if (def->forward.type == SV_NETWORK_FORWARD_NONE)
        return;
    is_short = !(ifs->len || pfs->len || def->forward.nat_addr_start || def->forward.nat_addr_end ||
                 def->forward.nat_port_start || def->forward.nat_port_end ||
                 def->forward.driver_name || def->forward.nat_ipv6);
    g_string_append(buf, "  <forward");
    if (!pfs->len && ifs->len)
        sv_xml_append_attr(buf, "dev", g_ptr_array_index(ifs, 0));
    sv_xml_append_attr(buf, "mode", sv_network_forward_type_to_string(def->forward.type));
    if (def->forward.type == SV_NETWORK_FORWARD_HOSTDEV)
        sv_xml_append_attr(buf, "managed",
                           def->forward.managed == SV_NETWORK_TRISTATE_YES ? "yes" : "no");
    g_string_append(buf, is_short ? "/>\n" : ">\n");
    if (def->forward.driver_name)
        g_string_append_printf(buf, "    <driver name='%s'/>\n", def->forward.driver_name);
    if (def->forward.type == SV_NETWORK_FORWARD_NAT)
        format_nat(buf, def);
    if (pfs->len) {
        g_string_append(buf, "    <pf");
        sv_xml_append_attr(buf, "dev", g_ptr_array_index(pfs, 0));
        g_string_append(buf, "/>\n");
    }
    for (guint i = 0; (!pfs->len || !(flags & SV_NETWORK_FORMAT_INACTIVE)) && i < ifs->len; i++) {
        g_string_append(buf, "    <interface");
        sv_xml_append_attr(buf, "dev", g_ptr_array_index(ifs, i));
        g_string_append(buf, "/>\n");
    }
    if (!is_short)
        g_string_append(buf, "  </forward>\n");
}

static void
format_bridge(GString *buf, const SvNetworkDef *def)
{
    gboolean has_bridge = def->forward.type <= SV_NETWORK_FORWARD_OPEN;

    if (!has_bridge && !def->bridge.name && !def->bridge.mac_table_manager)
        return;
    g_string_append(buf, "  <bridge");
    sv_xml_append_attr(buf, "name", def->bridge.name);
    sv_xml_append_attr(buf, "zone", def->bridge.zone);
    if (has_bridge)
        g_string_append_printf(buf, " stp='%s' delay='%u'",
                               def->bridge.stp == SV_NETWORK_TRISTATE_NO ? "off" : "on",
                               def->bridge.delay);
    if (def->bridge.mac_table_manager)
        sv_xml_append_attr(buf, "macTableManager",
                           sv_network_mac_table_manager_to_string(def->bridge.mac_table_manager));
    g_string_append(buf, "/>\n");
}

static void
format_portgroup(GString *buf, const SvNetworkPortGroupDef *pg)
{
    g_autofree char *bw_indent = g_strnfill(4, ' ');

    g_string_append(buf, "  <portgroup");
    sv_xml_append_attr(buf, "name", pg->name);
    if (pg->is_default)
        g_string_append(buf, " default='yes'");
    append_tristate(buf, "trustGuestRxFilters", pg->trust_guest_rx_filters);
    g_string_append(buf, ">\n");
    sv_net_append_indented(buf, 4, pg->vlan_xml);
    sv_net_append_indented(buf, 4, pg->virtualport_xml);
    sv_domain_bandwidth_format(buf, bw_indent, pg->bandwidth);
    g_string_append(buf, "  </portgroup>\n");
}

/* <network> with its attributes and the identity elements. */
static void
format_head(GString *buf, const SvNetworkDef *def, unsigned int flags)
{
    char uuid[SV_UUID_STRING_LEN + 1];

    g_string_append(buf, "<network");
    if (def->dnsmasq_options->len)
        g_string_append(buf, " xmlns:dnsmasq='" DNSMASQ_NS "'");
    if (!(flags & SV_NETWORK_FORMAT_INACTIVE) && def->connections > 0)
        g_string_append_printf(buf, " connections='%u'", def->connections);
    if (def->ipv6 == SV_NETWORK_TRISTATE_YES)
        g_string_append(buf, " ipv6='yes'");
    append_tristate(buf, "trustGuestRxFilters", def->trust_guest_rx_filters);
    g_string_append(buf, ">\n");
    sv_xml_append_text_elem(buf, 2, "name", def->name);
    sv_uuid_format(def->uuid, uuid);
    sv_xml_append_text_elem(buf, 2, "uuid", uuid);
    sv_xml_append_metadata(buf, def->metadata_xml);
}

static void
format_middle(GString *buf, const SvNetworkDef *def)
{
    if (def->mtu)
        g_string_append_printf(buf, "  <mtu size='%u'/>\n", def->mtu);
    if (def->mac && def->mac_given)
        g_string_append_printf(buf, "  <mac address='%s'/>\n", def->mac);
    if (def->domain) {
        g_string_append(buf, "  <domain");
        sv_xml_append_attr(buf, "name", def->domain);
        append_tristate(buf, "localOnly", def->domain_local_only);
        g_string_append(buf, "/>\n");
    }
    format_dns(buf, &def->dns);
    sv_net_append_indented(buf, 2, def->vlan_xml);
    sv_domain_bandwidth_format(buf, "  ", def->bandwidth);
    if (def->port_isolated)
        g_string_append_printf(buf, "  <port isolated='%s'/>\n",
                               sv_net_tristate_to_string(def->port_isolated));
}

char *
sv_network_def_format(const SvNetworkDef *def, unsigned int flags)
{
    GString *buf = g_string_new(NULL);

    format_head(buf, def, flags);
    format_forward(buf, def, flags);
    format_bridge(buf, def);
    format_middle(buf, def);
    for (guint i = 0; i < def->ips->len; i++)
        format_ip(buf, g_ptr_array_index(def->ips, i));
    for (guint i = 0; i < def->routes->len; i++)
        format_route(buf, g_ptr_array_index(def->routes, i));
    sv_net_append_indented(buf, 2, def->virtualport_xml);
    for (guint i = 0; i < def->portgroups->len; i++)
        format_portgroup(buf, g_ptr_array_index(def->portgroups, i));
    if (def->dnsmasq_options->len) {
        g_string_append(buf, "  <dnsmasq:options>\n");
        for (guint i = 0; i < def->dnsmasq_options->len; i++) {
            g_string_append(buf, "    <dnsmasq:option");
            sv_xml_append_attr(buf, "value", g_ptr_array_index(def->dnsmasq_options, i));
            g_string_append(buf, "/>\n");
        }
        g_string_append(buf, "  </dnsmasq:options>\n");
    }
    g_string_append(buf, "</network>\n");
    return g_string_free(buf, FALSE);
}

/* ---- lookups ---------------------------------------------------------------------------- */

const SvNetworkIpDef *
sv_network_def_ip(const SvNetworkDef *def, gboolean ipv6, gboolean dhcp_only)
{
    for (guint i = 0; i < def->ips->len; i++) {
        const SvNetworkIpDef *ip = g_ptr_array_index(def->ips, i);

        if (ip->is_ipv6 == ipv6 && (!dhcp_only || ip->has_dhcp))
            return ip;
    }
    return NULL;
}

const SvNetworkPortGroupDef *
sv_network_def_portgroup(const SvNetworkDef *def, const char *name)
{
    for (guint i = 0; i < def->portgroups->len; i++) {
        const SvNetworkPortGroupDef *pg = g_ptr_array_index(def->portgroups, i);

        if (name ? g_str_equal(pg->name, name) : pg->is_default)
            return pg;
    }
    return NULL;
}
