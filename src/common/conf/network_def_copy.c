/* network_def_copy.c: deep copies of a network's definition and of its parts
 * (network_def.h). Field by field: a copy never fails and keeps what the XML does not
 * carry (whether the uuid or MAC was given, live counts). */
#include "conf/network_def.h"

#include <string.h>

#include "conf/network_def_priv.h"

typedef gpointer (*CopyFunc)(gconstpointer src);

static void
copy_array(GPtrArray *dst, const GPtrArray *src, CopyFunc fn)
{
    for (guint i = 0; i < src->len; i++)
        g_ptr_array_add(dst, fn(g_ptr_array_index(src, i)));
}

static gpointer
copy_string(gconstpointer s)
{
    return g_strdup(s);
}

static gpointer
copy_range(gconstpointer p)
{
    const SvNetworkDhcpRange *r = p;
    SvNetworkDhcpRange *c = g_memdup2(r, sizeof(*r));

    c->start = g_strdup(r->start);
    c->end = g_strdup(r->end);
    return c;
}

SvNetworkDhcpHost *
sv_network_dhcp_host_copy(const SvNetworkDhcpHost *h)
{
    SvNetworkDhcpHost *c = g_memdup2(h, sizeof(*h));

    c->mac = g_strdup(h->mac);
    c->id = g_strdup(h->id);
    c->name = g_strdup(h->name);
    c->ip = g_strdup(h->ip);
    return c;
}

static gpointer
copy_ip(gconstpointer p)
{
    const SvNetworkIpDef *ip = p;
    SvNetworkIpDef *c = sv_network_ip_def_new();
    GPtrArray *ranges = c->ranges, *hosts = c->hosts;

    *c = *ip;
    c->ranges = ranges;
    c->hosts = hosts;
    c->family = g_strdup(ip->family);
    c->address = g_strdup(ip->address);
    c->netmask = g_strdup(ip->netmask);
    c->tftp_root = g_strdup(ip->tftp_root);
    c->bootp_file = g_strdup(ip->bootp_file);
    c->bootp_server = g_strdup(ip->bootp_server);
    copy_array(c->ranges, ip->ranges, copy_range);
    copy_array(c->hosts, ip->hosts, (CopyFunc)sv_network_dhcp_host_copy);
    return c;
}

static gpointer
copy_route(gconstpointer p)
{
    const SvNetworkRouteDef *r = p;
    SvNetworkRouteDef *c = g_memdup2(r, sizeof(*r));

    c->family = g_strdup(r->family);
    c->address = g_strdup(r->address);
    c->netmask = g_strdup(r->netmask);
    c->gateway = g_strdup(r->gateway);
    return c;
}

static gpointer
copy_forwarder(gconstpointer p)
{
    const SvNetworkDnsForwarder *f = p;
    SvNetworkDnsForwarder *c = g_new0(SvNetworkDnsForwarder, 1);

    c->domain = g_strdup(f->domain);
    c->addr = g_strdup(f->addr);
    return c;
}

static gpointer
copy_txt(gconstpointer p)
{
    const SvNetworkDnsTxt *t = p;
    SvNetworkDnsTxt *c = g_new0(SvNetworkDnsTxt, 1);

    c->name = g_strdup(t->name);
    c->value = g_strdup(t->value);
    return c;
}

SvNetworkDnsHost *
sv_network_dns_host_copy(const SvNetworkDnsHost *h)
{
    SvNetworkDnsHost *c = g_new0(SvNetworkDnsHost, 1);

    c->ip = g_strdup(h->ip);
    c->hostnames = g_ptr_array_new_with_free_func(g_free);
    copy_array(c->hostnames, h->hostnames, copy_string);
    return c;
}

static gpointer
copy_srv(gconstpointer p)
{
    const SvNetworkDnsSrv *s = p;
    SvNetworkDnsSrv *c = g_memdup2(s, sizeof(*s));

    c->service = g_strdup(s->service);
    c->protocol = g_strdup(s->protocol);
    c->domain = g_strdup(s->domain);
    c->target = g_strdup(s->target);
    return c;
}

SvNetworkPortGroupDef *
sv_network_portgroup_copy(const SvNetworkPortGroupDef *pg)
{
    SvNetworkPortGroupDef *c = g_memdup2(pg, sizeof(*pg));

    c->name = g_strdup(pg->name);
    c->bandwidth = sv_netdev_bandwidth_copy(pg->bandwidth);
    c->vlan_xml = g_strdup(pg->vlan_xml);
    c->virtualport_xml = g_strdup(pg->virtualport_xml);
    return c;
}

static void
copy_dns(SvNetworkDnsDef *c, const SvNetworkDnsDef *dns)
{
    c->enable = dns->enable;
    c->forward_plain_names = dns->forward_plain_names;
    copy_array(c->forwarders, dns->forwarders, copy_forwarder);
    copy_array(c->txts, dns->txts, copy_txt);
    copy_array(c->hosts, dns->hosts, (CopyFunc)sv_network_dns_host_copy);
    copy_array(c->srvs, dns->srvs, copy_srv);
}

static void
copy_forward(SvNetworkDef *c, const SvNetworkDef *def)
{
    GPtrArray *ifaces = c->forward.ifaces, *pfs = c->forward.pfs;

    c->forward = def->forward;
    c->forward.ifaces = ifaces;
    c->forward.pfs = pfs;
    c->forward.dev = g_strdup(def->forward.dev);
    c->forward.driver_name = g_strdup(def->forward.driver_name);
    c->forward.nat_addr_start = g_strdup(def->forward.nat_addr_start);
    c->forward.nat_addr_end = g_strdup(def->forward.nat_addr_end);
    copy_array(c->forward.ifaces, def->forward.ifaces, copy_string);
    copy_array(c->forward.pfs, def->forward.pfs, copy_string);
}

SvNetworkDef *
sv_network_def_copy(const SvNetworkDef *def)
{
    SvNetworkDef *c = g_new0(SvNetworkDef, 1);

    sv_network_def_init_arrays(c);
    memcpy(c->uuid, def->uuid, sizeof(c->uuid));
    c->has_uuid = def->has_uuid;
    c->name = g_strdup(def->name);
    c->title = g_strdup(def->title);
    c->description = g_strdup(def->description);
    c->metadata_xml = g_strdup(def->metadata_xml);
    c->ipv6 = def->ipv6;
    c->trust_guest_rx_filters = def->trust_guest_rx_filters;
    c->connections = def->connections;
    copy_forward(c, def);
    c->bridge = def->bridge;
    c->bridge.name = g_strdup(def->bridge.name);
    c->bridge.zone = g_strdup(def->bridge.zone);
    c->mtu = def->mtu;
    c->mac = g_strdup(def->mac);
    c->mac_given = def->mac_given;
    c->domain = g_strdup(def->domain);
    c->domain_local_only = def->domain_local_only;
    copy_dns(&c->dns, &def->dns);
    copy_array(c->ips, def->ips, copy_ip);
    copy_array(c->routes, def->routes, copy_route);
    copy_array(c->portgroups, def->portgroups, (CopyFunc)sv_network_portgroup_copy);
    c->bandwidth = sv_netdev_bandwidth_copy(def->bandwidth);
    c->vlan_xml = g_strdup(def->vlan_xml);
    c->virtualport_xml = g_strdup(def->virtualport_xml);
    c->port_isolated = def->port_isolated;
    copy_array(c->dnsmasq_options, def->dnsmasq_options, copy_string);
    return c;
}
