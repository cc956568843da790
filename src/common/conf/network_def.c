/* network_def.c: a virtual network's XML read as libvirt 9.0's network_conf.c reads it
 * (network_def.h): the same elements, the same checks in the same order, the same errors.
 * Writing and copying are in network_def_format.c, addresses in network_addr.c. */
#include "conf/network_def.h"

#include <string.h>
#include <sys/socket.h>

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "conf/network_def_priv.h"
#include "conf/uuid.h"
#include "util/error.h"

SV_NETWORK_ENUM_IMPL(forward_type, SV_NETWORK_FORWARD_LAST, "none", "nat", "route", "open",
                     "bridge", "private", "vepa", "passthrough", "hostdev")
SV_NETWORK_ENUM_IMPL(mac_table_manager, SV_NETWORK_MAC_TABLE_LAST, "default", "kernel",
                     "libvirt")

/* ---- freeing ------------------------------------------------------------------------------ */

void
sv_network_dhcp_host_free(gpointer p)
{
    SvNetworkDhcpHost *h = p;

    if (!h)
        return;
    g_free(h->mac);
    g_free(h->id);
    g_free(h->name);
    g_free(h->ip);
    g_free(h);
}

static void
dhcp_range_free(gpointer p)
{
    SvNetworkDhcpRange *r = p;

    g_free(r->start);
    g_free(r->end);
    g_free(r);
}

void
sv_network_ip_def_free(gpointer p)
{
    SvNetworkIpDef *ip = p;

    if (!ip)
        return;
    g_free(ip->family);
    g_free(ip->address);
    g_free(ip->netmask);
    g_free(ip->tftp_root);
    g_clear_pointer(&ip->ranges, g_ptr_array_unref);
    g_clear_pointer(&ip->hosts, g_ptr_array_unref);
    g_free(ip->bootp_file);
    g_free(ip->bootp_server);
    g_free(ip);
}

static void
route_free(gpointer p)
{
    SvNetworkRouteDef *r = p;

    g_free(r->family);
    g_free(r->address);
    g_free(r->netmask);
    g_free(r->gateway);
    g_free(r);
}

static void
forwarder_free(gpointer p)
{
    SvNetworkDnsForwarder *f = p;

    g_free(f->domain);
    g_free(f->addr);
    g_free(f);
}

static void
txt_free(gpointer p)
{
    SvNetworkDnsTxt *t = p;

    g_free(t->name);
    g_free(t->value);
    g_free(t);
}

void
sv_network_dns_host_free(gpointer p)
{
    SvNetworkDnsHost *h = p;

    if (!h)
        return;
    g_free(h->ip);
    g_clear_pointer(&h->hostnames, g_ptr_array_unref);
    g_free(h);
}

static void
srv_free(gpointer p)
{
    SvNetworkDnsSrv *s = p;

    g_free(s->service);
    g_free(s->protocol);
    g_free(s->domain);
    g_free(s->target);
    g_free(s);
}

void
sv_network_portgroup_free(gpointer p)
{
    SvNetworkPortGroupDef *pg = p;

    if (!pg)
        return;
    g_free(pg->name);
    sv_domain_bandwidth_free(pg->bandwidth);
    g_free(pg->vlan_xml);
    g_free(pg->virtualport_xml);
    g_free(pg);
}

void
sv_network_def_init_arrays(SvNetworkDef *def)
{
    def->forward.ifaces = g_ptr_array_new_with_free_func(g_free);
    def->forward.pfs = g_ptr_array_new_with_free_func(g_free);
    def->dns.forwarders = g_ptr_array_new_with_free_func(forwarder_free);
    def->dns.txts = g_ptr_array_new_with_free_func(txt_free);
    def->dns.hosts = g_ptr_array_new_with_free_func(sv_network_dns_host_free);
    def->dns.srvs = g_ptr_array_new_with_free_func(srv_free);
    def->ips = g_ptr_array_new_with_free_func(sv_network_ip_def_free);
    def->routes = g_ptr_array_new_with_free_func(route_free);
    def->portgroups = g_ptr_array_new_with_free_func(sv_network_portgroup_free);
    def->dnsmasq_options = g_ptr_array_new_with_free_func(g_free);
}

SvNetworkIpDef *
sv_network_ip_def_new(void)
{
    SvNetworkIpDef *ip = g_new0(SvNetworkIpDef, 1);

    ip->ranges = g_ptr_array_new_with_free_func(dhcp_range_free);
    ip->hosts = g_ptr_array_new_with_free_func(sv_network_dhcp_host_free);
    return ip;
}

SvNetworkDhcpRange *
sv_network_dhcp_range_new(void)
{
    return g_new0(SvNetworkDhcpRange, 1);
}

SvNetworkRouteDef *
sv_network_route_new(void)
{
    return g_new0(SvNetworkRouteDef, 1);
}

void
sv_network_def_free(SvNetworkDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->title);
    g_free(def->description);
    g_free(def->metadata_xml);
    g_free(def->forward.dev);
    g_free(def->forward.driver_name);
    g_free(def->forward.nat_addr_start);
    g_free(def->forward.nat_addr_end);
    g_clear_pointer(&def->forward.ifaces, g_ptr_array_unref);
    g_clear_pointer(&def->forward.pfs, g_ptr_array_unref);
    g_free(def->bridge.name);
    g_free(def->bridge.zone);
    g_free(def->mac);
    g_free(def->domain);
    g_clear_pointer(&def->dns.forwarders, g_ptr_array_unref);
    g_clear_pointer(&def->dns.txts, g_ptr_array_unref);
    g_clear_pointer(&def->dns.hosts, g_ptr_array_unref);
    g_clear_pointer(&def->dns.srvs, g_ptr_array_unref);
    g_clear_pointer(&def->ips, g_ptr_array_unref);
    g_clear_pointer(&def->routes, g_ptr_array_unref);
    g_clear_pointer(&def->portgroups, g_ptr_array_unref);
    sv_domain_bandwidth_free(def->bandwidth);
    g_free(def->vlan_xml);
    g_free(def->virtualport_xml);
    g_clear_pointer(&def->dnsmasq_options, g_ptr_array_unref);
    g_free(def);
}

/* ---- values that reach dnsmasq ---------------------------------------------------------- */

gboolean
sv_network_check_dnsmasq_value(const char *net, const char *what, const char *value,
                               const char *also, GError **error)
{
    g_autofree char *shown = NULL;

    if (!value)
        return TRUE;
    for (const char *p = value; *p; p++) {
        if ((guchar)*p >= 0x20 && *p != 0x7f && (!also || !strchr(also, *p)))
            continue;
        shown = g_strescape(value, NULL);
        if (!what)
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_DETAIL,
                         "network name '%s' contains a character that dnsmasq's configuration "
                         "cannot carry",
                         shown);
        else
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_DETAIL,
                         "%s '%s' in network '%s' contains a character that dnsmasq's "
                         "configuration cannot carry",
                         what, shown, net);
        return FALSE;
    }
    return TRUE;
}

/* ---- the network ------------------------------------------------------------------------- */

/* name, uuid, title, description, ipv6=, trustGuestRxFilters=: virNetworkDefParseXML's
 * first steps. */
static gboolean
parse_identity(const xmlNode *root, SvNetworkDef *def, GError **error)
{
    g_autofree char *uuid = sv_xml_child_text(root, "uuid");
    g_autofree char *ipv6 = sv_xml_prop(root, "ipv6");

    def->name = sv_xml_child_text(root, "name");
    if (!def->name) {
        sv_error_set_literal(error, SV_FROM_NETWORK, SV_ERR_NO_NAME, "missing name information");
        return FALSE;
    }
    if (strchr(def->name, '/')) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_DETAIL, "invalid char in name: /");
        return FALSE;
    }
    /* libvirt refuses a newline in the name when the driver validates the definition, after
     * the rest is read; here it comes first. Other control characters would reach
     * dnsmasq's configuration (its files are named after the network). */
    if (strchr(def->name, '\n')) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_DETAIL, "invalid char in name: \n");
        return FALSE;
    }
    if (!sv_network_check_dnsmasq_value(NULL, NULL, def->name, NULL, error))
        return FALSE;
    if (!uuid) {
        sv_uuid_generate(def->uuid);
    } else if (!sv_uuid_parse(uuid, def->uuid)) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR, "malformed uuid element");
        return FALSE;
    }
    def->has_uuid = uuid != NULL;
    /* libvirt 9.0 has no network <title> nor <description>: both are dropped. */
    if (ipv6 && *ipv6) {
        if (!g_str_equal(ipv6, "yes") && !g_str_equal(ipv6, "no")) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_ERROR,
                         "Invalid ipv6 setting '%s' in network '%s'", ipv6, def->name);
            return FALSE;
        }
        def->ipv6 = g_str_equal(ipv6, "yes") ? SV_NETWORK_TRISTATE_YES : SV_NETWORK_TRISTATE_NO;
    }
    return sv_net_prop_tristate(root, "trustGuestRxFilters", &def->trust_guest_rx_filters,
                                error);
}

/* <domain>, <bandwidth>, <vlan>, <port>: the next steps. */
static gboolean
parse_domain_and_options(const xmlNode *root, SvNetworkDef *def, GError **error)
{
    xmlNode *domain = sv_xml_child(root, "domain");
    xmlNode *bw = sv_xml_child(root, "bandwidth");
    xmlNode *vlan = sv_xml_child(root, "vlan");
    xmlNode *port = sv_xml_child(root, "port");

    if (domain) {
        def->domain = sv_xml_prop(domain, "name");
        if (!sv_net_prop_tristate(domain, "localOnly", &def->domain_local_only, error) ||
            !sv_network_check_dnsmasq_value(def->name, "domain name", def->domain, " ,/#\"\\",
                                            error))
            return FALSE;
    }
    if (bw && !sv_domain_bandwidth_parse(bw, FALSE, &def->bandwidth, error))
        return FALSE;
    if (vlan && !sv_net_vlan_parse(vlan, &def->vlan_xml, error))
        return FALSE;
    return !port || sv_net_prop_tristate(port, "isolated", &def->port_isolated, error);
}

/* <bridge> and <mac>, <mtu>. */
static gboolean
parse_bridge(const xmlNode *root, SvNetworkDef *def, GError **error)
{
    xmlNode *bridge = sv_xml_child(root, "bridge");
    g_autofree char *stp = bridge ? sv_xml_prop(bridge, "stp") : NULL;
    g_autofree char *delay = bridge ? sv_xml_prop(bridge, "delay") : NULL;
    g_autofree char *mtm = bridge ? sv_xml_prop(bridge, "macTableManager") : NULL;
    g_autofree char *mac = sv_xml_child_prop(root, "mac", "address");
    g_autofree char *mtu = sv_xml_child_prop(root, "mtu", "size");
    guint64 v;
    guint8 addr[6];

    if (bridge) {
        def->bridge.name = sv_xml_prop(bridge, "name");
        def->bridge.zone = sv_xml_prop(bridge, "zone");
        if (def->bridge.name && !*def->bridge.name)
            g_clear_pointer(&def->bridge.name, g_free);
        if (def->bridge.zone && !*def->bridge.zone)
            g_clear_pointer(&def->bridge.zone, g_free);
    }
    if (!sv_network_check_dnsmasq_value(def->name, "bridge name", def->bridge.name, " /,",
                                        error))
        return FALSE;
    if (stp && *stp)
        def->bridge.stp = g_str_equal(stp, "off") ? SV_NETWORK_TRISTATE_NO
                                                  : SV_NETWORK_TRISTATE_YES;
    if (delay && *delay) {
        if (!sv_domain_parse_u64(delay, &v) || v > G_MAXUINT) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_ERROR,
                         "Invalid delay value in network '%s'", def->name);
            return FALSE;
        }
        def->bridge.delay = (guint)v;
        def->bridge.has_delay = TRUE;
    }
    if (mtm && *mtm) {
        def->bridge.mac_table_manager = sv_network_mac_table_manager_from_string(mtm);
        if (def->bridge.mac_table_manager <= 0) {
            def->bridge.mac_table_manager = 0;
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_ERROR,
                         "Invalid macTableManager setting '%s' in network '%s'", mtm, def->name);
            return FALSE;
        }
    }
    if (mac) {
        if (!sv_net_mac_parse(mac, addr)) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_ERROR,
                         "Invalid bridge mac address '%s' in network '%s'", mac, def->name);
            return FALSE;
        }
        if (addr[0] & 1) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_ERROR,
                         "Invalid multicast bridge mac address '%s' in network '%s'", mac,
                         def->name);
            return FALSE;
        }
        def->mac = sv_net_mac_format(addr);
        def->mac_given = TRUE;
    }
    if (mtu && !sv_net_parse_uint_wrap(mtu, &def->mtu)) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_ERROR,
                     "Invalid mtu size '%s' in network '%s'", mtu, def->name);
        return FALSE;
    }
    return TRUE;
}

/* <virtualport>, each <portgroup>, each <ip>, each <route>. */
static gboolean
parse_lists(const xmlNode *root, SvNetworkDef *def, GError **error)
{
    xmlNode *vport = sv_xml_child(root, "virtualport");

    if (vport && !sv_net_virtualport_parse(vport, TRUE, &def->virtualport_xml, error))
        return FALSE;
    for (xmlNode *c = root->children; c; c = c->next) {
        SvNetworkPortGroupDef *pg;

        if (!sv_xml_is(c, "portgroup"))
            continue;
        if (!(pg = sv_network_portgroup_parse_node(c, error)))
            return FALSE;
        g_ptr_array_add(def->portgroups, pg);
    }
    for (xmlNode *c = root->children; c; c = c->next) {
        SvNetworkIpDef *ip;

        if (!sv_xml_is(c, "ip"))
            continue;
        if (!(ip = sv_network_ip_parse_node(def->name, c, error)))
            return FALSE;
        g_ptr_array_add(def->ips, ip);
    }
    return sv_network_routes_parse(root, def, error);
}

/* The checks of the rest against the forward mode (virNetworkDefParseXML's end). */
static gboolean
check_forward_mode(SvNetworkDef *def, GError **error)
{
    const char *mode = sv_network_forward_type_to_string(def->forward.type);
    guint nifs = def->forward.ifaces->len;

    switch (def->forward.type) {
    case SV_NETWORK_FORWARD_NONE:
        return TRUE;
    case SV_NETWORK_FORWARD_ROUTE:
    case SV_NETWORK_FORWARD_NAT:
        if (def->ips->len == 0) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_ERROR,
                         "%s forwarding requested, but no IP address provided for network '%s'",
                         mode, def->name);
            return FALSE;
        }
        if (nifs > 1) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_ERROR,
                         "multiple forwarding interfaces specified for network '%s', only one "
                         "is supported",
                         def->name);
            return FALSE;
        }
        return TRUE;
    case SV_NETWORK_FORWARD_OPEN:
        if (nifs) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_ERROR,
                         "forward dev not allowed for network '%s' with forward mode='%s'",
                         def->name, mode);
            return FALSE;
        }
        return TRUE;
    default:
        return sv_network_check_forward_device_mode(def, error);
    }
}

static gboolean
check_mtu(const SvNetworkDef *def, GError **error)
{
    if (!def->mtu || def->forward.type <= SV_NETWORK_FORWARD_OPEN)
        return TRUE;
    sv_error_set(error, SV_FROM_NETWORK, SV_ERR_XML_ERROR,
                 "mtu size only allowed in open, route, nat, and isolated mode, not in %s "
                 "(network '%s')",
                 sv_network_forward_type_to_string(def->forward.type), def->name);
    return FALSE;
}

static gboolean
parse_root(xmlNode *root, SvNetworkDef *def, GError **error)
{
    xmlNode *dns = sv_xml_child(root, "dns");
    xmlNode *forward = sv_xml_child(root, "forward");
    xmlNode *metadata = sv_xml_child(root, "metadata");

    if (!parse_identity(root, def, error) || !parse_domain_and_options(root, def, error) ||
        !parse_bridge(root, def, error))
        return FALSE;
    if (dns && !sv_network_dns_parse(def->name, dns, &def->dns, error))
        return FALSE;
    if (!parse_lists(root, def, error))
        return FALSE;
    if (forward && !sv_network_forward_parse(def->name, forward, def, error))
        return FALSE;
    if (!check_forward_mode(def, error) || !check_mtu(def, error))
        return FALSE;
    def->metadata_xml = sv_xml_metadata_copy(metadata);
    return sv_network_dnsmasq_options_parse(root, def, error);
}

SvNetworkDef *
sv_network_def_parse(const char *xml, unsigned int flags, GError **error)
{
    g_autoptr(SvNetworkDef) def = g_new0(SvNetworkDef, 1);
    xmlDoc *doc = sv_xml_read_named_from(xml, "(network_definition)", SV_FROM_NETWORK, error);
    xmlNode *root;
    gboolean ok = FALSE;

    if (!doc)
        return NULL;
    sv_network_def_init_arrays(def);
    root = xmlDocGetRootElement(doc);
    if (!root || !sv_xml_is(root, "network")) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "expecting root element of 'network', not '%s'",
                     root ? (const char *)root->name : "");
        goto out;
    }
    if ((flags & SV_NETWORK_PARSE_VALIDATE) && !sv_network_schema_validate(doc, error))
        goto out;
    ok = parse_root(root, def, error);
out:
    xmlFreeDoc(doc);
    return ok ? g_steal_pointer(&def) : NULL;
}
