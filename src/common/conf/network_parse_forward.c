/* network_parse_forward.c: a network's <forward>, <route>s, <portgroup>s, dnsmasq:options
 * and its schema check, as libvirt 9.0 reads them (network_conf.c, networkcommon_conf.c,
 * the network driver's XML namespace, virxml.c's RelaxNG validation). */
#include "conf/network_def.h"

#include <libxml/relaxng.h>
#include <string.h>
#include <sys/socket.h>

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "conf/network_def_priv.h"
#include "util/error.h"

#define NET_ERROR(error, code, ...) sv_error_set(error, SV_FROM_NETWORK, code, __VA_ARGS__)

#define DNSMASQ_NS "http://libvirt.org/schemas/network/dnsmasq/1.0"
#define NETWORK_SCHEMA "/usr/share/libvirt/schemas/network.rng"

/* ---- <forward> ----------------------------------------------------------------------------- */

static gboolean
nat_range(const char *net, const xmlNode *nat, SvNetworkDef *def, GError **error)
{
    xmlNode *addr = NULL;
    g_autofree char *start = NULL, *end = NULL;
    SvNetAddr s, e;

    if (!sv_domain_single_child(nat, "address", &addr, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Only one <address> element is allowed in <nat> in <forward> in network %s",
                  net);
        return FALSE;
    }
    if (!addr)
        return TRUE;
    if (!(start = sv_xml_prop(addr, "start"))) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "missing 'start' attribute in <address> element in <nat> in <forward> in "
                  "network %s", net);
        return FALSE;
    }
    if (!(end = sv_xml_prop(addr, "end"))) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "missing 'end' attribute in <address> element in <nat> in <forward> in "
                  "network %s", net);
        return FALSE;
    }
    if (!sv_net_addr_parse(start, AF_INET, &s, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Bad ipv4 start address '%s' in <nat> in <forward> in network '%s'", start,
                  net);
        return FALSE;
    }
    if (!sv_net_addr_parse(end, AF_INET, &e, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Bad ipv4 end address '%s' in <nat> in <forward> in network '%s'", end, net);
        return FALSE;
    }
    if (!sv_net_addr_check_range(&s, &e, NULL, 0, error))
        return FALSE;
    def->forward.nat_addr_start = sv_net_addr_format(&s);
    def->forward.nat_addr_end = sv_net_addr_format(&e);
    return TRUE;
}

static gboolean
nat_ports(const char *net, const xmlNode *nat, SvNetworkDef *def, GError **error)
{
    xmlNode *port = NULL;
    g_autofree char *start = NULL, *end = NULL;
    guint s = 0, e = 0;

    if (!sv_domain_single_child(nat, "port", &port, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Only one <port> element is allowed in <nat> in <forward> in network %s", net);
        return FALSE;
    }
    if (!port)
        return TRUE;
    start = sv_xml_prop(port, "start");
    end = sv_xml_prop(port, "end");
    if (!start || !sv_domain_parse_uint(start, &s) || s > 65535) {
        NET_ERROR(error, SV_ERR_XML_DETAIL,
                  "Missing or invalid 'start' attribute in <port> in <nat> in <forward> in "
                  "network %s", net);
        return FALSE;
    }
    if (!end || !sv_domain_parse_uint(end, &e) || e > 65535 || e < s) {
        NET_ERROR(error, SV_ERR_XML_DETAIL,
                  "Missing or invalid 'end' attribute in <port> in <nat> in <forward> in "
                  "network %s", net);
        return FALSE;
    }
    def->forward.nat_port_start = s;
    def->forward.nat_port_end = e;
    return TRUE;
}

static gboolean
parse_nat(const char *net, const xmlNode *forward, SvNetworkDef *def, GError **error)
{
    xmlNode *nat = NULL;

    if (!sv_domain_single_child(forward, "nat", &nat, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Only one <nat> element is allowed in <forward> of network %s", net);
        return FALSE;
    }
    if (!nat)
        return TRUE;
    if (def->forward.type != SV_NETWORK_FORWARD_NAT) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "The <nat> element can only be used when <forward> 'mode' is 'nat' in network "
                  "%s", net);
        return FALSE;
    }
    return sv_net_prop_tristate(nat, "ipv6", &def->forward.nat_ipv6, error) &&
           nat_range(net, nat, def, error) && nat_ports(net, nat, def, error);
}

/* <interface dev=> list, merged with <forward dev=> as libvirt keeps it (dev first). */
static gboolean
parse_ifaces(const char *net, const xmlNode *forward, SvNetworkDef *def, const char *dev,
             GError **error)
{
    GPtrArray *ifs = def->forward.ifaces;
    guint i = 0;

    if (dev)
        g_ptr_array_add(ifs, g_strdup(dev));
    for (xmlNode *c = forward->children; c; c = c->next) {
        g_autofree char *d = NULL;

        if (!sv_xml_is(c, "interface"))
            continue;
        if (!(d = sv_xml_prop(c, "dev"))) {
            NET_ERROR(error, SV_ERR_XML_ERROR,
                      "Missing required dev attribute in <forward> <interface> element of "
                      "network %s", net);
            return FALSE;
        }
        if (i++ == 0 && dev) {
            if (!g_str_equal(d, dev)) {
                NET_ERROR(error, SV_ERR_XML_ERROR,
                          "<forward dev='%s'> must match first <interface dev='%s'/> in network "
                          "%s", dev, d, net);
                return FALSE;
            }
            continue;
        }
        for (guint j = 0; j < ifs->len; j++) {
            if (g_str_equal(g_ptr_array_index(ifs, j), d)) {
                NET_ERROR(error, SV_ERR_XML_ERROR,
                          "interface '%s' can only be listed once in network %s", d, net);
                return FALSE;
            }
        }
        g_ptr_array_add(ifs, g_steal_pointer(&d));
    }
    return TRUE;
}

static gboolean
parse_pf(const char *net, const xmlNode *forward, SvNetworkDef *def, GError **error)
{
    xmlNode *pf = NULL;
    char *dev;

    if (!sv_domain_single_child(forward, "pf", &pf, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Only one <pf> element is allowed in <forward> of network %s", net);
        return FALSE;
    }
    if (!pf)
        return TRUE;
    if (!(dev = sv_xml_prop(pf, "dev"))) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Missing required dev attribute in <pf> element of network '%s'", net);
        return FALSE;
    }
    g_ptr_array_add(def->forward.pfs, dev);
    return TRUE;
}

/* mode=, managed=, <driver name=>. */
static gboolean
forward_attrs(const xmlNode *node, SvNetworkDef *def, GError **error)
{
    static const char *const drivers[] = {"kvm", "vfio", NULL};
    g_autofree char *mode = sv_xml_prop(node, "mode");
    g_autofree char *managed = sv_xml_prop(node, "managed");
    g_autofree char *driver = sv_xml_child_prop(node, "driver", "name");

    def->forward.type = SV_NETWORK_FORWARD_NAT;
    if (mode && *mode && (def->forward.type = sv_network_forward_type_from_string(mode)) < 0) {
        def->forward.type = SV_NETWORK_FORWARD_NONE;
        NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED, "unknown forwarding type '%s'", mode);
        return FALSE;
    }
    if (managed && g_ascii_strcasecmp(managed, "yes") == 0)
        def->forward.managed = SV_NETWORK_TRISTATE_YES;
    if (driver && !g_strv_contains(drivers, driver)) {
        NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED, "Unknown forward <driver name='%s'/> in network "
                  "%s", driver, def->name);
        return FALSE;
    }
    def->forward.driver_name = g_steal_pointer(&driver);
    return TRUE;
}

gboolean
sv_network_forward_parse(const char *net, const xmlNode *node, SvNetworkDef *def, GError **error)
{
    g_autofree char *dev = sv_xml_prop(node, "dev");
    gboolean has_addr = sv_xml_child(node, "address") != NULL;

    if (dev && !*dev)
        g_clear_pointer(&dev, g_free);
    if (!forward_attrs(node, def, error) || !parse_nat(net, node, def, error))
        return FALSE;
    if (dev && (has_addr || sv_xml_child(node, "pf"))) {
        /* libvirt 9.0's message leaves its "%s" unformatted. */
        NET_ERROR(error, SV_ERR_XML_ERROR, "%s",
                  "the <forward> 'dev' attribute cannot be used when <address> or <pf> "
                  "sub-elements are present in network %s");
        return FALSE;
    }
    if (dev || sv_xml_child(node, "interface")) {
        if (!parse_ifaces(net, node, def, dev, error))
            return FALSE;
    } else if (has_addr) {
        /* A pool of PCI functions (hostdev networks): splitvirt has no SR-IOV plumbing. */
        NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED, "%s is not supported by splitvirt",
                  "<forward><address> (a PCI device pool)");
        return FALSE;
    } else if (!parse_pf(net, node, def, error)) {
        return FALSE;
    }
    if (def->forward.ifaces->len && !def->forward.pfs->len)
        def->forward.dev = g_strdup(g_ptr_array_index(def->forward.ifaces, 0));
    return TRUE;
}

gboolean
sv_network_check_forward_device_mode(const SvNetworkDef *def, GError **error)
{
    const char *mode = sv_network_forward_type_to_string(def->forward.type);

    if (def->forward.type != SV_NETWORK_FORWARD_BRIDGE) {
        if (def->bridge.name) {
            NET_ERROR(error, SV_ERR_XML_ERROR, "bridge name not allowed in %s mode (network '%s')",
                      mode, def->name);
            return FALSE;
        }
        if (def->bridge.zone) {
            NET_ERROR(error, SV_ERR_XML_ERROR, "bridge zone not allowed in %s mode (network '%s')",
                      mode, def->name);
            return FALSE;
        }
        if (def->bridge.mac_table_manager) {
            NET_ERROR(error, SV_ERR_XML_ERROR,
                      "bridge macTableManager setting not allowed in %s mode (network '%s')",
                      mode, def->name);
            return FALSE;
        }
    }
    if (def->bridge.delay || def->bridge.stp != SV_NETWORK_TRISTATE_ABSENT || def->bridge.zone) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "bridge delay/stp/zone options only allowed in route, nat, and isolated mode, "
                  "not in %s (network '%s')", mode, def->name);
        return FALSE;
    }
    if (def->bridge.name && (def->forward.ifaces->len || def->forward.pfs->len)) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "A network with forward mode='%s' can specify a bridge name or a forward dev, "
                  "but not both (network '%s')", mode, def->name);
        return FALSE;
    }
    return TRUE;
}

/* ---- <portgroup> --------------------------------------------------------------------------- */

SvNetworkPortGroupDef *
sv_network_portgroup_parse_node(const xmlNode *node, GError **error)
{
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(sv_network_portgroup_free);
    SvNetworkPortGroupDef *pg = g_new0(SvNetworkPortGroupDef, 1);
    g_autofree char *is_default = sv_xml_prop(node, "default");
    xmlNode *vport = sv_xml_child(node, "virtualport");
    xmlNode *bw = sv_xml_child(node, "bandwidth");
    xmlNode *vlan = sv_xml_child(node, "vlan");
    SvNetworkTristate trust = SV_NETWORK_TRISTATE_ABSENT;

    g_ptr_array_add(keep, pg);
    pg->name = sv_xml_prop(node, "name");
    if (!pg->name || !*pg->name) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "Missing required name attribute in portgroup");
        return NULL;
    }
    pg->is_default = is_default && g_ascii_strcasecmp(is_default, "yes") == 0;
    if (!sv_net_prop_tristate(node, "trustGuestRxFilters", &trust, error))
        return NULL;
    pg->trust_guest_rx_filters = trust;
    if (vport && !sv_net_virtualport_parse(vport, FALSE, &pg->virtualport_xml, error))
        return NULL;
    if (bw && !sv_domain_bandwidth_parse(bw, FALSE, &pg->bandwidth, error))
        return NULL;
    if (vlan && !sv_net_vlan_parse(vlan, &pg->vlan_xml, error))
        return NULL;
    return g_ptr_array_steal_index(keep, 0);
}

/* ---- dnsmasq:options ------------------------------------------------------------------------ */

static gboolean
is_dnsmasq(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           g_str_equal((const char *)n->ns->href, DNSMASQ_NS) &&
           g_str_equal((const char *)n->name, name);
}

gboolean
sv_network_dnsmasq_options_parse(const xmlNode *root, SvNetworkDef *def, GError **error)
{
    for (xmlNode *opts = root->children; opts; opts = opts->next) {
        if (!is_dnsmasq(opts, "options"))
            continue;
        for (xmlNode *o = opts->children; o; o = o->next) {
            char *value;

            if (!is_dnsmasq(o, "option"))
                continue;
            if (!xmlHasProp(o, (const xmlChar *)"value")) {
                NET_ERROR(error, SV_ERR_INTERNAL_ERROR, "No dnsmasq options value specified");
                return FALSE;
            }
            value = (char *)xmlGetProp(o, (const xmlChar *)"value");
            g_ptr_array_add(def->dnsmasq_options, g_strdup(value));
            xmlFree(value);
            if (!sv_network_check_dnsmasq_value(def->name, "dnsmasq option",
                                                g_ptr_array_index(def->dnsmasq_options,
                                                                  def->dnsmasq_options->len - 1),
                                                NULL, error))
                return FALSE;
        }
    }
    return TRUE;
}

/* ---- schema ------------------------------------------------------------------------------- */

static void
collect_rng_error(void *ctx, const char *fmt, ...)
{
    GString *lines = ctx;
    va_list ap;

    va_start(ap, fmt);
    g_string_append_vprintf(lines, fmt, ap);
    va_end(ap);
}

static void
ignore_rng_warning(void *ctx G_GNUC_UNUSED, const char *fmt G_GNUC_UNUSED, ...)
{
}

gboolean
sv_network_schema_validate(xmlDoc *doc, GError **error)
{
    xmlRelaxNGParserCtxt *pctxt = xmlRelaxNGNewParserCtxt(NETWORK_SCHEMA);
    xmlRelaxNG *rng = pctxt ? xmlRelaxNGParse(pctxt) : NULL;
    xmlRelaxNGValidCtxt *vctxt = rng ? xmlRelaxNGNewValidCtxt(rng) : NULL;
    g_autoptr(GString) lines = g_string_new(NULL);
    gboolean ok = FALSE;

    if (!vctxt) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_INTERNAL_ERROR,
                     "Unable to parse RNG %s", NETWORK_SCHEMA);
    } else {
        xmlRelaxNGSetValidErrors(vctxt, collect_rng_error, ignore_rng_warning, lines);
        ok = xmlRelaxNGValidateDoc(vctxt, doc) == 0;
        if (!ok)
            sv_error_set(error, SV_FROM_XML, SV_ERR_XML_INVALID_SCHEMA,
                         "XML document failed to validate against schema: Unable to validate "
                         "doc against %s\n%s", NETWORK_SCHEMA, lines->str);
    }
    if (vctxt)
        xmlRelaxNGFreeValidCtxt(vctxt);
    if (rng)
        xmlRelaxNGFree(rng);
    if (pctxt)
        xmlRelaxNGFreeParserCtxt(pctxt);
    return ok;
}

/* ---- <route> ------------------------------------------------------------------------------ */

/* prefix= and metric= as virXMLPropUInt reads them (metric: not zero). */
static gboolean
route_number(const xmlNode *node, const char *attr, gboolean nonzero, guint *out, gboolean *has,
             GError **error)
{
    g_autofree char *v = sv_xml_prop(node, attr);

    if (!v)
        return TRUE;
    if (!sv_domain_parse_uint(v, out)) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element 'route': '%s'. Expected "
                     "non-negative integer value",
                     attr, v);
        return FALSE;
    }
    if (nonzero && *out == 0) {
        sv_error_set(error, SV_FROM_XML, SV_ERR_XML_ERROR,
                     "Invalid value for attribute '%s' in element 'route': Zero is not permitted",
                     attr);
        return FALSE;
    }
    *has = TRUE;
    return TRUE;
}

/* family= against address=, gateway=, netmask=, prefix= (virNetDevIPRouteCreate). */
static gboolean
route_family(const char *net, SvNetworkRouteDef *r, const SvNetAddr *a, const SvNetAddr *gw,
             const SvNetAddr *mask, GError **error)
{
    gboolean v6 = r->family && g_str_equal(r->family, "ipv6");

    if (r->family && !v6 && !g_str_equal(r->family, "ipv4")) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "%s: Unrecognized family '%s' in route definition", net,
                  r->family);
        return FALSE;
    }
    if (a->family != (v6 ? AF_INET6 : AF_INET)) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  v6 ? "%s: ipv6 family specified for non-IPv6 address '%s' in route definition"
                  : r->family ? "%s: IPv4 family specified for non-IPv4 address '%s' in route "
                                "definition"
                              : "%s: No family specified for non-IPv4 address '%s' in route "
                                "definition", net, r->address);
        return FALSE;
    }
    if (v6 && r->netmask) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "%s: Specifying netmask invalid for IPv6 address '%s' in route definition", net,
                  r->address);
        return FALSE;
    }
    if (gw->family != a->family) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  v6 ? "%s: ipv6 specified for non-IPv6 gateway address '%s' in route definition"
                  : r->family ? "%s: IPv4 family specified for non-IPv4 gateway '%s' in route "
                                "definition"
                              : "%s: No family specified for non-IPv4 gateway '%s' in route "
                                "definition", net, r->gateway);
        return FALSE;
    }
    if (!v6 && r->netmask && mask->family != AF_INET) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "%s: Invalid netmask '%s' for address '%s' (both must be IPv4)", net,
                  r->netmask, r->address);
        return FALSE;
    }
    if (!v6 && r->netmask && r->has_prefix) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "%s: Route definition cannot have both a prefix and a netmask", net);
        return FALSE;
    }
    if (r->prefix > (v6 ? 128u : 32u)) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "%s: Invalid prefix %u specified in route definition, must be 0 - %u", net,
                  r->prefix, v6 ? 128u : 32u);
        return FALSE;
    }
    return TRUE;
}

static gboolean
route_addresses(const char *net, SvNetworkRouteDef *r, SvNetAddr *a, SvNetAddr *gw,
                SvNetAddr *mask, GError **error)
{
    SvNetAddr masked;
    int bits;

    if (!r->address) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "%s: Missing required address attribute in route definition", net);
        return FALSE;
    }
    if (!r->gateway) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "%s: Missing required gateway attribute in route definition", net);
        return FALSE;
    }
    if (!sv_net_addr_parse(r->address, AF_UNSPEC, a, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "%s: Bad network address '%s' in route definition",
                  net, r->address);
        return FALSE;
    }
    if (!sv_net_addr_parse(r->gateway, AF_UNSPEC, gw, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "%s: Bad gateway address '%s' in route definition",
                  net, r->gateway);
        return FALSE;
    }
    if (r->netmask && !sv_net_addr_parse(r->netmask, AF_UNSPEC, mask, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "%s: Bad netmask address '%s' in route definition",
                  net, r->netmask);
        return FALSE;
    }
    if (!route_family(net, r, a, gw, mask, error))
        return FALSE;
    bits = r->netmask ? sv_net_addr_netmask_bits(mask) : (int)r->prefix;
    sv_net_addr_mask(a, bits < 0 ? 0 : bits, &masked);
    if (!sv_net_addr_equal(a, &masked)) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "%s: Address '%s' in route definition is not a network address", net,
                  r->address);
        return FALSE;
    }
    return TRUE;
}

static void
route_clear(SvNetworkRouteDef *r)
{
    g_free(r->family);
    g_free(r->address);
    g_free(r->netmask);
    g_free(r->gateway);
}

static SvNetworkRouteDef *
parse_route(const char *net, const xmlNode *node, SvNetAddr *gw, GError **error)
{
    SvNetworkRouteDef r = {0};
    SvNetAddr a = {0}, mask = {0};
    SvNetworkRouteDef *out;

    r.family = sv_xml_prop(node, "family");
    r.address = sv_xml_prop(node, "address");
    r.netmask = sv_xml_prop(node, "netmask");
    r.gateway = sv_xml_prop(node, "gateway");
    if (!route_number(node, "prefix", FALSE, &r.prefix, &r.has_prefix, error) ||
        !route_number(node, "metric", TRUE, &r.metric, &r.has_metric, error)) {
        route_clear(&r);
        return NULL;
    }
    if (!route_addresses(net, &r, &a, gw, &mask, error)) {
        route_clear(&r);
        return NULL;
    }
    out = sv_network_route_new();
    *out = r;
    out->address = sv_net_addr_format(&a);
    out->gateway = sv_net_addr_format(gw);
    out->netmask = r.netmask ? sv_net_addr_format(&mask) : NULL;
    g_free(r.address);
    g_free(r.gateway);
    g_free(r.netmask);
    return out;
}

/* Whether `gw` lies in one of the network's <ip> subnets. */
static gboolean
gateway_reachable(const SvNetworkDef *def, const SvNetAddr *gw)
{
    for (guint i = 0; i < def->ips->len; i++) {
        const SvNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        SvNetAddr addr, mask = {0}, x, y;
        int prefix;

        if (!sv_net_addr_parse(ip->address, AF_UNSPEC, &addr, NULL) || addr.family != gw->family)
            continue;
        if (ip->netmask)
            sv_net_addr_parse(ip->netmask, AF_UNSPEC, &mask, NULL);
        prefix = sv_net_ip_prefix(&addr, ip->netmask ? &mask : NULL,
                                  ip->has_prefix ? ip->prefix : 0);
        if (prefix < 0)
            continue;
        sv_net_addr_mask(&addr, prefix, &x);
        sv_net_addr_mask(gw, prefix, &y);
        if (sv_net_addr_equal(&x, &y))
            return TRUE;
    }
    return FALSE;
}

gboolean
sv_network_routes_parse(const xmlNode *root, SvNetworkDef *def, GError **error)
{
    g_autoptr(GArray) gws = g_array_new(FALSE, FALSE, sizeof(SvNetAddr));

    for (xmlNode *c = root->children; c; c = c->next) {
        SvNetworkRouteDef *r;
        SvNetAddr gw;

        if (!sv_xml_is(c, "route"))
            continue;
        if (!(r = parse_route(def->name, c, &gw, error)))
            return FALSE;
        g_ptr_array_add(def->routes, r);
        g_array_append_val(gws, gw);
    }
    for (guint i = 0; i < gws->len; i++) {
        SvNetAddr *gw = &g_array_index(gws, SvNetAddr, i);

        if (!gateway_reachable(def, gw)) {
            g_autofree char *text = sv_net_addr_format(gw);

            NET_ERROR(error, SV_ERR_CONFIG_UNSUPPORTED,
                      "unreachable static route gateway '%s' specified for network '%s'", text,
                      def->name);
            return FALSE;
        }
    }
    return TRUE;
}
