/* network_parse_dns.c: a network's <dns> (forwarders, TXT, SRV and host records) read as
 * libvirt 9.0's network_conf.c reads it, refusing what would change dnsmasq's files. */
#include "conf/network_def.h"

#include <string.h>
#include <sys/socket.h>

#include "conf/domain_parse.h"
#include "conf/domain_xml.h"
#include "conf/network_def_priv.h"
#include "util/error.h"

#define NET_ERROR(error, code, ...) sv_error_set(error, SV_FROM_NETWORK, code, __VA_ARGS__)

/* libvirt's limit on an SRV service name: a DNS record minus the SRV overhead. */
#define DNS_RECORD_LENGTH_SRV (512 - 30)

/* The characters libvirt lets service and protocol names have ('.' would split the SRV
 * record's fields). */
#define PROTOCOL_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-+/"
#define SERVICE_CHARS PROTOCOL_CHARS "_*"

/* Separators of dnsmasq's host files and option values. */
#define NAME_BAD " ,/" SV_DNSMASQ_META

static gboolean
parse_forwarder(const char *net, const xmlNode *node, SvNetworkDnsDef *dns, GError **error)
{
    g_autofree char *addr = sv_xml_prop(node, "addr");
    g_autofree char *domain = sv_xml_prop(node, "domain");
    SvNetworkDnsForwarder *f;
    SvNetAddr a;

    if (addr && !sv_net_addr_parse(addr, AF_UNSPEC, &a, NULL)) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "Invalid forwarder IP address '%s' in network '%s'",
                  addr, net);
        return FALSE;
    }
    if (!addr && !domain) {
        NET_ERROR(error, SV_ERR_XML_ERROR,
                  "Invalid forwarder element, must contain at least one of addr or domain");
        return FALSE;
    }
    if (!sv_network_check_dnsmasq_value(net, "DNS forwarder domain", domain, NAME_BAD, error))
        return FALSE;
    f = g_new0(SvNetworkDnsForwarder, 1);
    f->domain = g_steal_pointer(&domain);
    f->addr = addr ? sv_net_addr_format(&a) : NULL;
    g_ptr_array_add(dns->forwarders, f);
    return TRUE;
}

SvNetworkDnsHost *
sv_network_dns_host_parse_node(const char *net, const xmlNode *node, gboolean partial_ok,
                               GError **error)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *ip = sv_xml_prop(node, "ip");
    SvNetworkDnsHost *h;
    SvNetAddr a;

    for (xmlNode *c = node->children; c; c = c->next) {
        char *name;

        /* libvirt 9.0 skips an empty <hostname/>. */
        if (!sv_xml_is(c, "hostname") || !c->children)
            continue;
        name = sv_xml_text_raw(c);
        g_ptr_array_add(names, name);
        if (!sv_network_check_dnsmasq_value(net, "DNS host name", name, NAME_BAD, error))
            return NULL;
    }
    if (names->len == 0 && !partial_ok) {
        NET_ERROR(error, SV_ERR_XML_DETAIL, "Missing hostname in network '%s' DNS HOST record",
                  net);
        return NULL;
    }
    if (ip && !sv_net_addr_parse(ip, AF_UNSPEC, &a, NULL)) {
        NET_ERROR(error, SV_ERR_XML_DETAIL, "Invalid IP address in network '%s' DNS HOST record",
                  net);
        return NULL;
    }
    if (!ip && !partial_ok) {
        NET_ERROR(error, SV_ERR_XML_DETAIL, "Missing IP address in network '%s' DNS HOST record",
                  net);
        return NULL;
    }
    if (!ip && names->len == 0) {
        NET_ERROR(error, SV_ERR_XML_DETAIL,
                  "Missing ip and hostname in network '%s' DNS HOST record", net);
        return NULL;
    }
    h = g_new0(SvNetworkDnsHost, 1);
    h->ip = ip ? sv_net_addr_format(&a) : NULL;
    h->hostnames = g_steal_pointer(&names);
    return h;
}

SvNetworkDnsHost *
sv_network_dns_host_parse(const char *net, const char *xml, gboolean partial_ok, GError **error)
{
    xmlDoc *doc = sv_xml_read_named_from(xml, "(network_update_xml)", SV_FROM_NETWORK, error);
    SvNetworkDnsHost *h;

    if (!doc)
        return NULL;
    h = sv_network_dns_host_parse_node(net, xmlDocGetRootElement(doc), partial_ok, error);
    xmlFreeDoc(doc);
    return h;
}

/* service= and protocol= of an <srv>. */
static gboolean
srv_names(const char *net, SvNetworkDnsSrv *srv, gboolean partial_ok, GError **error)
{
    if (!srv->service && !partial_ok) {
        NET_ERROR(error, SV_ERR_XML_DETAIL,
                  "missing required service attribute in DNS SRV record of network '%s'", net);
        return FALSE;
    }
    if (srv->service && strlen(srv->service) > DNS_RECORD_LENGTH_SRV) {
        NET_ERROR(error, SV_ERR_XML_DETAIL,
                  "service attribute '%s' in network '%s' is too long, limit is %d bytes",
                  srv->service, net, DNS_RECORD_LENGTH_SRV);
        return FALSE;
    }
    if (srv->service && strspn(srv->service, SERVICE_CHARS) < strlen(srv->service)) {
        NET_ERROR(error, SV_ERR_XML_DETAIL,
                  "invalid character in service attribute '%s' in DNS SRV record of network '%s'",
                  srv->service, net);
        return FALSE;
    }
    if (!srv->protocol && !partial_ok) {
        NET_ERROR(error, SV_ERR_XML_DETAIL,
                  "missing required protocol attribute in DNS SRV record '%s' of network '%s'",
                  srv->service, net);
        return FALSE;
    }
    if (srv->protocol && strspn(srv->protocol, PROTOCOL_CHARS) < strlen(srv->protocol)) {
        NET_ERROR(error, SV_ERR_XML_DETAIL,
                  "invalid character in protocol attribute '%s' in DNS SRV record of network "
                  "'%s'",
                  srv->protocol, net);
        return FALSE;
    }
    return TRUE;
}

/* port=, priority=, weight= (virXPathUInt: an unsigned number, "-N" wrapping around). */
static gboolean
srv_number(const char *net, const xmlNode *node, SvNetworkDnsSrv *srv, const char *attr,
           const char *cap, guint min, guint *out, gboolean *has, GError **error)
{
    g_autofree char *v = sv_xml_prop(node, attr);
    guint n = 0;
    gboolean ok;

    if (!v || !*v)
        return TRUE;
    ok = sv_net_parse_uint_wrap(v, &n);
    if (!srv->target) {
        NET_ERROR(error, SV_ERR_XML_DETAIL,
                  "DNS SRV %s attribute not permitted without target for service '%s' in "
                  "network '%s'",
                  attr, srv->service, net);
        return FALSE;
    }
    if (!ok || n < min || n > 65535) {
        NET_ERROR(error, SV_ERR_XML_DETAIL, "%s DNS SRV %s attribute for service '%s' in network "
                  "'%s'", cap, attr, srv->service, net);
        return FALSE;
    }
    *out = n;
    *has = TRUE;
    return TRUE;
}

static SvNetworkDnsSrv *
parse_srv(const char *net, const xmlNode *node, gboolean partial_ok, GError **error)
{
    g_autofree SvNetworkDnsSrv *srv = g_new0(SvNetworkDnsSrv, 1);
    gboolean ok;

    srv->service = sv_xml_prop(node, "service");
    srv->protocol = sv_xml_prop(node, "protocol");
    srv->domain = sv_xml_prop(node, "domain");
    srv->target = sv_xml_prop(node, "target");
    ok = srv_names(net, srv, partial_ok, error) &&
         srv_number(net, node, srv, "port", "invalid", 1, &srv->port, &srv->has_port, error) &&
         srv_number(net, node, srv, "priority", "Invalid", 0, &srv->priority, &srv->has_priority,
                    error) &&
         srv_number(net, node, srv, "weight", "invalid", 0, &srv->weight, &srv->has_weight,
                    error) &&
         sv_network_check_dnsmasq_value(net, "DNS SRV domain", srv->domain, NAME_BAD, error) &&
         sv_network_check_dnsmasq_value(net, "DNS SRV target", srv->target, NAME_BAD, error);
    if (!ok) {
        g_free(srv->service);
        g_free(srv->protocol);
        g_free(srv->domain);
        g_free(srv->target);
        return NULL;
    }
    return g_steal_pointer(&srv);
}

static gboolean
parse_txt(const char *net, const xmlNode *node, SvNetworkDnsDef *dns, GError **error)
{
    g_autofree char *name = sv_xml_prop(node, "name");
    g_autofree char *value = sv_xml_prop(node, "value");
    SvNetworkDnsTxt *t;

    if (!name) {
        NET_ERROR(error, SV_ERR_XML_DETAIL,
                  "missing required name attribute in DNS TXT record of network %s", net);
        return FALSE;
    }
    if (strcspn(name, " ,") != strlen(name)) {
        NET_ERROR(error, SV_ERR_XML_DETAIL,
                  "prohibited character in DNS TXT record name '%s' of network %s", name, net);
        return FALSE;
    }
    if (!value) {
        NET_ERROR(error, SV_ERR_XML_DETAIL,
                  "missing required value attribute in DNS TXT record named '%s' of network %s",
                  name, net);
        return FALSE;
    }
    if (!sv_network_check_dnsmasq_value(net, "DNS TXT record name", name, NAME_BAD, error) ||
        !sv_network_check_dnsmasq_value(net, "DNS TXT record value", value,
                                            SV_DNSMASQ_META, error))
        return FALSE;
    t = g_new0(SvNetworkDnsTxt, 1);
    t->name = g_steal_pointer(&name);
    t->value = g_steal_pointer(&value);
    g_ptr_array_add(dns->txts, t);
    return TRUE;
}

gboolean
sv_network_dns_parse(const char *net, const xmlNode *node, SvNetworkDnsDef *dns, GError **error)
{
    if (!sv_net_prop_tristate(node, "enable", &dns->enable, error) ||
        !sv_net_prop_tristate(node, "forwardPlainNames", &dns->forward_plain_names, error))
        return FALSE;
    for (xmlNode *c = node->children; c; c = c->next) {
        if (sv_xml_is(c, "forwarder") && !parse_forwarder(net, c, dns, error))
            return FALSE;
    }
    for (xmlNode *c = node->children; c; c = c->next) {
        SvNetworkDnsHost *h;

        if (!sv_xml_is(c, "host"))
            continue;
        if (!(h = sv_network_dns_host_parse_node(net, c, FALSE, error)))
            return FALSE;
        g_ptr_array_add(dns->hosts, h);
    }
    for (xmlNode *c = node->children; c; c = c->next) {
        SvNetworkDnsSrv *s;

        if (!sv_xml_is(c, "srv"))
            continue;
        if (!(s = parse_srv(net, c, FALSE, error)))
            return FALSE;
        g_ptr_array_add(dns->srvs, s);
    }
    for (xmlNode *c = node->children; c; c = c->next) {
        if (sv_xml_is(c, "txt") && !parse_txt(net, c, dns, error))
            return FALSE;
    }
    if (dns->enable == SV_NETWORK_TRISTATE_NO &&
        (dns->forwarders->len || dns->hosts->len || dns->srvs->len || dns->txts->len)) {
        NET_ERROR(error, SV_ERR_XML_ERROR, "Extra data in disabled network '%s'", net);
        return FALSE;
    }
    return TRUE;
}
