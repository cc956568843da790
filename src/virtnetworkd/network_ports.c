/* network_ports.c: the network port API (network_ports.h) as libvirt 9.0's network driver
 * serves it: a hypervisor daemon asks for a port when it plugs a guest's interface in, gets
 * the plug (the bridge, or the device and macvtap mode) filled in, and deletes the port when
 * it unplugs; a port given back with its plug (RECLAIM) after a restart is taken as it is.
 * Ports live in the network's state directory, so a restarted daemon has them all. */
#include "network_ports.h"

#include <string.h>

#include "conf/domain_conf.h"
#include "conf/uuid.h"
#include "domain/domain_typed.h"
#include "network_driver.h"
#include "util/error.h"

static gboolean
check_flags(unsigned int flags, unsigned int supported, const char *fn, GError **error)
{
    return sv_check_flags(flags, supported, SV_FROM_NETWORK, fn, error);
}

static void
port_make(remote_nonnull_network_port *out, const NetworkObj *net, const SvNetworkPortDef *p)
{
    network_make(&out->net, net);
    memcpy(out->uuid, p->uuid, 16);
}

/* The active network a port handle names and its port: libvirt looks the port up first,
 * then wants the network active. */
static SvNetworkPortDef *
port_of(SvCall *call, const remote_nonnull_network_port *h, NetworkObj **ret_net,
        GError **error)
{
    NetworkObj *net = network_of(network_driver_of(call), &h->net, error);
    SvNetworkPortDef *p;

    if (!net || !(p = networks_find_port(net, (const guint8 *)h->uuid, error)) ||
        !network_check_active(net, error))
        return NULL;
    *ret_net = net;
    return p;
}

/* ---------------------------------------------------------------- bandwidth */

static guint64
floor_of(const SvNetdevBandwidth *bw)
{
    return bw && bw->in ? bw->in->floor : 0;
}

/* libvirt's networkCheckBandwidth for a floor: the network must shape its inbound traffic.
 * libvirt then gives the port a class of its own on the bridge (tc htb) holding the floor;
 * splitvirt does not make those classes and refuses such a port rather than ignoring the
 * guarantee. A port without a floor has nothing done on the network's side (its own rates
 * are set on its tap by the hypervisor daemon). */
static gboolean
check_floor(const NetworkObj *net, const SvNetworkPortDef *p, const SvNetdevBandwidth *bw,
            GError **error)
{
    int type = net->def->forward.type;

    if (!floor_of(bw))
        return TRUE;
    if (type != SV_NETWORK_FORWARD_NONE && type != SV_NETWORK_FORWARD_NAT &&
        type != SV_NETWORK_FORWARD_ROUTE && type != SV_NETWORK_FORWARD_OPEN) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_OPERATION_UNSUPPORTED,
                     "Invalid use of 'floor' on interface with MAC address %s - 'floor' is only "
                     "supported for interface type 'network' with forward type 'nat', 'route', "
                     "'open' or none", p->mac);
        return FALSE;
    }
    if (!net->def->bandwidth || !net->def->bandwidth->in) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_OPERATION_UNSUPPORTED,
                     "Invalid use of 'floor' on interface with MAC address %s - network '%s' has "
                     "no inbound QoS set", p->mac, net->def->name);
        return FALSE;
    }
    sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                 "an inbound 'floor' on a port of network '%s' is not supported by splitvirt",
                 net->def->name);
    return FALSE;
}

/* ---------------------------------------------------------------- allocation */

/* The type='...' of a <virtualport> kept as text. (transfer full) */
static char *
virtualport_type(const char *xml)
{
    const char *t = strstr(xml, "type=");
    char quote;
    const char *end;

    if (!t)
        return g_strdup("");
    quote = t[5];
    end = strchr(t + 6, quote);
    return end ? g_strndup(t + 6, end - (t + 6)) : g_strdup("");
}

static gboolean
virtualport_refused(const NetworkObj *net, const char *vp, const char *what, GError **error)
{
    g_autofree char *type = virtualport_type(vp);

    sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                 "<virtualport type='%s'> not supported for network '%s' which uses %s", type,
                 net->def->name, what);
    return FALSE;
}

/* How many ports of net are plugged (macvtap) to device dev. */
static guint
dev_connections(const NetworkObj *net, const char *dev)
{
    guint n = 0;

    for (guint i = 0; i < net->ports->len; i++) {
        const SvNetworkPortDef *p = net->ports->pdata[i];
        n += p->plug_type == SV_NETWORK_PORT_PLUG_DIRECT && g_strcmp0(p->plug_dev, dev) == 0;
    }
    return n;
}

/* libvirt's choice of a macvtap device: the interface pool (the forward dev alone when there
 * is no pool); passthrough wants one nobody uses, the other modes the least used. */
static const char *
pick_direct_dev(const NetworkObj *net, GError **error)
{
    const SvNetworkDef *def = net->def;
    GPtrArray *ifaces = def->forward.ifaces;
    const char *only[] = {def->forward.dev, NULL};
    const char *const *pool = ifaces->len ? (const char *const *)ifaces->pdata : only;
    guint n = ifaces->len ? ifaces->len : (def->forward.dev ? 1 : 0);
    const char *best = NULL;

    if (n == 0) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                     "network '%s' uses a direct mode, but has no forward dev and no interface "
                     "pool", def->name);
        return NULL;
    }
    for (guint i = 0; i < n; i++) {
        guint used = dev_connections(net, pool[i]);
        if (def->forward.type == SV_NETWORK_FORWARD_PASSTHROUGH ? used == 0 && !best
            : !best || used < dev_connections(net, best))
            best = pool[i];
    }
    if (!best)
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                     "network '%s' requires exclusive access to interfaces, but none are "
                     "available", def->name);
    return best;
}

/* The plug of a new port, by the network's forward mode. */
static gboolean
fill_plug(const NetworkObj *net, SvNetworkPortDef *p, GError **error)
{
    const SvNetworkDef *def = net->def;
    const char *dev;

    switch (def->forward.type) {
    case SV_NETWORK_FORWARD_NONE:
    case SV_NETWORK_FORWARD_NAT:
    case SV_NETWORK_FORWARD_ROUTE:
    case SV_NETWORK_FORWARD_OPEN:
        if (p->virtualport_xml)
            return virtualport_refused(net, p->virtualport_xml, "IP forwarding", error);
        p->plug_type = SV_NETWORK_PORT_PLUG_NETWORK;
        p->plug_bridge = g_strdup(def->bridge.name);
        p->plug_mac_table_manager = def->bridge.mac_table_manager;
        return TRUE;
    case SV_NETWORK_FORWARD_BRIDGE:
        if (def->bridge.name) {
            if (p->virtualport_xml && !strstr(p->virtualport_xml, "openvswitch"))
                return virtualport_refused(net, p->virtualport_xml, "a bridge device", error);
            p->plug_type = SV_NETWORK_PORT_PLUG_BRIDGE;
            p->plug_bridge = g_strdup(def->bridge.name);
            p->plug_mac_table_manager = def->bridge.mac_table_manager;
            return TRUE;
        }
        /* no host bridge named: macvtap in bridge mode */
        G_GNUC_FALLTHROUGH;
    case SV_NETWORK_FORWARD_PRIVATE:
    case SV_NETWORK_FORWARD_VEPA:
    case SV_NETWORK_FORWARD_PASSTHROUGH:
        if (!(dev = pick_direct_dev(net, error)))
            return FALSE;
        p->plug_type = SV_NETWORK_PORT_PLUG_DIRECT;
        p->plug_dev = g_strdup(dev);
        p->plug_mode = g_strdup(sv_network_forward_type_to_string(def->forward.type));
        return TRUE;
    default:
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                     "network '%s' has forward mode '%s', whose ports splitvirt does not make",
                     def->name, sv_network_forward_type_to_string(def->forward.type));
        return FALSE;
    }
}

/* libvirt's networkAllocatePort: what the port does not say comes from its port group (or
 * the default one) and the network, then the plug. */
static gboolean
allocate(const NetworkObj *net, SvNetworkPortDef *p, GError **error)
{
    const SvNetworkDef *def = net->def;
    const SvNetworkPortGroupDef *pg = sv_network_def_portgroup(def, p->group);

    if (!p->bandwidth && pg && pg->bandwidth)
        p->bandwidth = sv_netdev_bandwidth_copy(pg->bandwidth);
    if (!p->vlan_xml)
        p->vlan_xml = g_strdup(pg && pg->vlan_xml ? pg->vlan_xml : def->vlan_xml);
    if (p->trust_guest_rx_filters == SV_NETWORK_TRISTATE_ABSENT)
        p->trust_guest_rx_filters = def->trust_guest_rx_filters;
    if (p->isolated == SV_NETWORK_TRISTATE_ABSENT)
        p->isolated = def->port_isolated;
    if (!p->virtualport_xml)
        p->virtualport_xml = g_strdup(pg && pg->virtualport_xml ? pg->virtualport_xml
                                                                : def->virtualport_xml);
    return fill_plug(net, p, error) && check_floor(net, p, p->bandwidth, error);
}

/* libvirt's networkNotifyPort: a port given back with its plug must still fit. */
static gboolean
reclaim(const NetworkObj *net, const SvNetworkPortDef *p, GError **error)
{
    switch (p->plug_type) {
    case SV_NETWORK_PORT_PLUG_NETWORK:
    case SV_NETWORK_PORT_PLUG_BRIDGE:
        if (!net->def->bridge.name) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR, "%s",
                         "Unexpectedly got a network port without a network bridge");
            return FALSE;
        }
        break;
    case SV_NETWORK_PORT_PLUG_DIRECT:
        if (net->def->forward.type == SV_NETWORK_FORWARD_PASSTHROUGH &&
            dev_connections(net, p->plug_dev) > 0) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                         "network '%s' claims dev='%s' is already in use by a different port",
                         net->def->name, p->plug_dev);
            return FALSE;
        }
        break;
    default:
        break;
    }
    return check_floor(net, p, p->bandwidth, error);
}

/* libvirt's virNetworkObjMacMgrAdd/Del: a network whose bridge is its own keeps the map of
 * its guests' MACs (BRIDGE.macs) that libvirt's NSS module reads. */
static gboolean
mac_map(NetworkDriver *drv, const NetworkObj *net, const SvNetworkPortDef *p, gboolean added,
        GError **error)
{
    if (p->plug_type != SV_NETWORK_PORT_PLUG_NETWORK)
        return TRUE;
    return sv_net_runtime_port_mac(drv->rt, net->def, p->owner_name, p->mac, added, error);
}

/* ---------------------------------------------------------------- the calls */

static gboolean
create_xml(SvCall *call, remote_network_port_create_xml_args *a,
           remote_network_port_create_xml_ret *ret, GError **error)
{
    NetworkDriver *drv = network_driver_of(call);
    gboolean reclaiming = (a->flags & SV_NETWORK_PORT_CREATE_RECLAIM) != 0;
    g_autoptr(SvNetworkPortDef) p = NULL;
    NetworkObj *net;
    SvNetworkPortDef *added;

    /* VIR_NETWORK_PORT_CREATE_VALIDATE (the XML checked against networkport.rng) is not
     * served: refused as an unsupported flag rather than ignored */
    if (!check_flags(a->flags, SV_NETWORK_PORT_CREATE_RECLAIM, "networkPortCreateXML", error) ||
        !(net = network_of(drv, &a->network, error)) ||
        !(p = sv_network_port_def_parse(a->xml, error)) || !network_check_active(net, error))
        return FALSE;
    if ((p->plug_type == SV_NETWORK_PORT_PLUG_NONE) == reclaiming) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INVALID_ARG, "%s",
                     reclaiming ? "Port reclaim requested but plug type is none"
                                : "Port reclaim not requested but plug type is not none");
        return FALSE;
    }
    if (!(reclaiming ? reclaim(net, p, error) : allocate(net, p, error)))
        return FALSE;
    added = p;
    if (!networks_add_port(drv->nets, net, g_steal_pointer(&p), error))
        return FALSE;
    if (!mac_map(drv, net, added, TRUE, error)) {
        networks_delete_port(drv->nets, net, added);
        return FALSE;
    }
    net->def->connections = net->ports->len;
    g_message("MAC %s using network %s (%u connections)", added->mac, net->def->name,
              net->def->connections);
    port_make(&ret->port, net, added);
    return TRUE;
}

static gboolean
lookup_by_uuid(SvCall *call, remote_network_port_lookup_by_uuid_args *a,
               remote_network_port_lookup_by_uuid_ret *ret, GError **error)
{
    NetworkObj *net = network_of(network_driver_of(call), &a->network, error);
    SvNetworkPortDef *p;

    if (!net || !(p = networks_find_port(net, (const guint8 *)a->uuid, error)) ||
        !network_check_active(net, error))
        return FALSE;
    port_make(&ret->port, net, p);
    return TRUE;
}

static gboolean
get_xml_desc(SvCall *call, remote_network_port_get_xml_desc_args *a,
             remote_network_port_get_xml_desc_ret *ret, GError **error)
{
    NetworkObj *net;
    SvNetworkPortDef *p;

    if (!check_flags(a->flags, 0, "networkPortGetXMLDesc", error) ||
        !(p = port_of(call, &a->port, &net, error)))
        return FALSE;
    ret->xml = sv_network_port_def_format(p);
    return TRUE;
}

static gboolean
delete(SvCall *call, remote_network_port_delete_args *a, GError **error)
{
    NetworkDriver *drv = network_driver_of(call);
    NetworkObj *net;
    SvNetworkPortDef *p;

    if (!check_flags(a->flags, 0, "networkPortDelete", error) ||
        !(p = port_of(call, &a->port, &net, error)))
        return FALSE;
    if (!mac_map(drv, net, p, FALSE, error))
        return FALSE;
    g_message("MAC %s releasing network %s", p->mac, net->def->name);
    networks_delete_port(drv->nets, net, p);
    net->def->connections = net->ports->len;
    return TRUE;
}

static gboolean
list_all_ports(SvCall *call, remote_network_list_all_ports_args *a,
               remote_network_list_all_ports_ret *ret, GError **error)
{
    NetworkObj *net;
    guint n;

    if (!check_flags(a->flags, 0, "networkListAllPorts", error) ||
        !(net = network_of(network_driver_of(call), &a->network, error)) ||
        !network_check_active(net, error))
        return FALSE;
    n = net->ports->len;
    if (n > REMOTE_NETWORK_PORT_LIST_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC,
                     "Too many network ports '%u' for limit '%d'", n,
                     REMOTE_NETWORK_PORT_LIST_MAX);
        return FALSE;
    }
    if (a->need_results) {
        ret->ports.ports_val = g_new0(remote_nonnull_network_port, n + 1);
        for (guint i = 0; i < n; i++)
            port_make(&ret->ports.ports_val[i], net, net->ports->pdata[i]);
        ret->ports.ports_len = n;
    }
    ret->ret = n;
    return TRUE;
}

/* libvirt's VIR_NETWORK_PORT_BANDWIDTH_* in the order its getter gives them. */
enum { IN_AVERAGE, IN_PEAK, IN_FLOOR, IN_BURST, OUT_AVERAGE, OUT_PEAK, OUT_BURST, N_PARAMS };
static const char *const param_names[N_PARAMS] = {
    "inbound.average", "inbound.peak", "inbound.floor", "inbound.burst",
    "outbound.average", "outbound.peak", "outbound.burst",
};

static gboolean
get_parameters(SvCall *call, remote_network_port_get_parameters_args *a,
               remote_network_port_get_parameters_ret *ret, GError **error)
{
    g_autoptr(GArray) params = g_array_new(FALSE, TRUE, sizeof(remote_typed_param));
    NetworkObj *net;
    SvNetworkPortDef *p;
    const SvNetdevBandwidthRate *in, *out;

    /* the API allocates the parameters itself: a client's nparams is whatever its caller's
     * variable held (python3-libvirt's is not set), and libvirt's daemon never reads it */
    if (!check_flags(a->flags, 0, "networkPortGetParameters", error) ||
        !(p = port_of(call, &a->port, &net, error)))
        return FALSE;
    in = p->bandwidth ? p->bandwidth->in : NULL;
    out = p->bandwidth ? p->bandwidth->out : NULL;
    if (in) {
        guint64 v[] = {in->average, in->peak, in->floor, in->burst};
        for (guint i = 0; i < 4; i++)
            sv_typed_params_add_uint(params, (guint)v[i], "%s", param_names[IN_AVERAGE + i]);
    }
    if (out) {
        guint64 v[] = {out->average, out->peak, out->burst};
        for (guint i = 0; i < 3; i++)
            sv_typed_params_add_uint(params, (guint)v[i], "%s", param_names[OUT_AVERAGE + i]);
    }
    ret->nparams = (int)params->len;
    ret->params.params_len = params->len;
    ret->params.params_val = (remote_typed_param *)g_array_free(g_steal_pointer(&params),
                                                                FALSE);
    return TRUE;
}

/* libvirt's networkPortSetParameters: the rates named replace the port's whole bandwidth (a
 * direction without its average, or inbound's floor, is dropped); unknown names are
 * ignored. */
static SvNetdevBandwidth *
requested_bandwidth(const remote_typed_param *params, guint n)
{
    SvNetdevBandwidth *bw = g_new0(SvNetdevBandwidth, 1);
    guint64 v[N_PARAMS] = {0};

    for (guint i = 0; i < n; i++) {
        for (guint k = 0; k < N_PARAMS; k++) {
            if (g_str_equal(params[i].field, param_names[k]))
                v[k] = params[i].value.remote_typed_param_value_u.ui;
        }
    }
    if (v[IN_AVERAGE] || v[IN_FLOOR]) {
        bw->in = g_new0(SvNetdevBandwidthRate, 1);
        *bw->in = (SvNetdevBandwidthRate){v[IN_AVERAGE], v[IN_PEAK], v[IN_FLOOR], v[IN_BURST]};
    }
    if (v[OUT_AVERAGE]) {
        bw->out = g_new0(SvNetdevBandwidthRate, 1);
        *bw->out = (SvNetdevBandwidthRate){v[OUT_AVERAGE], v[OUT_PEAK], 0, v[OUT_BURST]};
    }
    return bw;
}

static gboolean
set_parameters(SvCall *call, remote_network_port_set_parameters_args *a, GError **error)
{
    NetworkDriver *drv = network_driver_of(call);
    NetworkObj *net;
    SvNetworkPortDef *p;
    SvNetdevBandwidth *bw;

    if (!check_flags(a->flags, 0, "networkPortSetParameters", error) ||
        !(p = port_of(call, &a->port, &net, error)))
        return FALSE;
    bw = requested_bandwidth(a->params.params_val, a->params.params_len);
    if (floor_of(bw) != floor_of(p->bandwidth) && !check_floor(net, p, bw, error)) {
        sv_domain_bandwidth_free(bw);
        return FALSE;
    }
    sv_domain_bandwidth_free(p->bandwidth);
    p->bandwidth = bw;
    if (!bw->in && !bw->out)
        g_clear_pointer(&p->bandwidth, sv_domain_bandwidth_free);
    return networks_save_port(drv->nets, net, p, error);
}

void
network_ports_install(SvRemoteHandlers *h)
{
    h->network_port_create_xml = create_xml;
    h->network_port_lookup_by_uuid = lookup_by_uuid;
    h->network_port_get_xml_desc = get_xml_desc;
    h->network_port_delete = delete;
    h->network_list_all_ports = list_all_ports;
    h->network_port_get_parameters = get_parameters;
    h->network_port_set_parameters = set_parameters;
}
