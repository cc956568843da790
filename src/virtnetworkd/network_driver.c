/* network_driver.c: virtnetworkd's remote program: network:///system's connection
 * procedures, the network queries, lists and leases, and the daemon glue (the calls that
 * change networks are in network_calls.c and network_update.c, ports in network_ports.c),
 * as libvirt 9.0's network driver (bridge_driver.c) answers them. */
#include "network_driver.h"

#include <string.h>

#include "conf/network_def_priv.h"
#include "conf/uuid.h"
#include "domain/domain_connect.h"
#include "network_events.h"
#include "network_ports.h"
#include "programs/object_list.h"
#include "programs/qemu.h"
#include "util/error.h"

NetworkDriver *
network_driver_of(SvCall *call)
{
    return sv_call_get_server_data(call);
}

/* ---------------------------------------------------------------- connection */

/* libvirt's networkConnectOpen on a privileged daemon: network:///system alone. The
 * connection's driver is named "network" (no connectGetType of its own). */
static const char *const network_paths[] = {"/system", NULL};
static const SvConnectFacts network_connect = {
    .scheme = "network",
    .paths = network_paths,
    .path_error = "unexpected network URI path",
    .path_error_from = SV_FROM_NONE,
    .default_uri = "network:///system",
    .uri_is_default = TRUE,
    .type = "network",
};

/* libvirt's networkConnectSupportsFeature: the RPC layer's features, and the network
 * update's argument order (1: the wire's command and section fields are what they say). */
static gboolean
supports_feature(SvCall *call, remote_connect_supports_feature_args *a,
                 remote_connect_supports_feature_ret *ret, GError **error)
{
    if (sv_remote_generic_feature(call, a->feature, &ret->supported, error))
        return TRUE;
    if (error && *error)
        return FALSE;
    ret->supported = 0;
    return TRUE;
}

/* ---------------------------------------------------------------- shared helpers */

NetworkObj *
network_of(NetworkDriver *drv, const remote_nonnull_network *n, GError **error)
{
    NetworkObj *net = networks_find_uuid(drv->nets, (const guint8 *)n->uuid, NULL);

    if (!net) {
        char uuid[SV_UUID_STRING_LEN + 1];
        sv_uuid_format((const guint8 *)n->uuid, uuid);
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_NO_NETWORK,
                     "no network with matching uuid '%s' (%s)", uuid, n->name);
    }
    return net;
}

void
network_make(remote_nonnull_network *out, const NetworkObj *net)
{
    out->name = g_strdup(net->def->name);
    memcpy(out->uuid, net->def->uuid, 16);
}

void
network_emit(NetworkDriver *drv, const NetworkObj *net, int event)
{
    remote_nonnull_network n;

    network_make(&n, net);
    network_events_emit(sv_daemon_get_server(drv->daemon), &n, event);
    g_free(n.name);
}

gboolean
network_check_active(const NetworkObj *net, GError **error)
{
    if (net->active)
        return TRUE;
    sv_error_set(error, SV_FROM_NETWORK, SV_ERR_OPERATION_INVALID, "network '%s' is not active",
                 net->def->name);
    return FALSE;
}

gboolean
network_check_idle(const NetworkObj *net, GError **error)
{
    if (!net->busy)
        return TRUE;
    sv_error_set(error, SV_FROM_NETWORK, SV_ERR_OPERATION_INVALID,
                 "network '%s' is being started or stopped", net->def->name);
    return FALSE;
}

static gboolean
check_flags(unsigned int flags, unsigned int supported, const char *fn, GError **error)
{
    return sv_check_flags(flags, supported, SV_FROM_NETWORK, fn, error);
}

/* ---------------------------------------------------------------- lists */

static gboolean
net_active(gconstpointer obj)
{
    return ((const NetworkObj *)obj)->active;
}

static const char *
net_name(gconstpointer obj)
{
    return ((const NetworkObj *)obj)->def->name;
}

static gboolean
num_of_networks(SvCall *call, remote_connect_num_of_networks_ret *ret, GError **error)
{
    (void)error;
    ret->num = sv_object_list_count(networks_list(network_driver_of(call)->nets), net_active,
                                    TRUE);
    return TRUE;
}

static gboolean
num_of_defined_networks(SvCall *call, remote_connect_num_of_defined_networks_ret *ret,
                        GError **error)
{
    (void)error;
    ret->num = sv_object_list_count(networks_list(network_driver_of(call)->nets), net_active,
                                    FALSE);
    return TRUE;
}

/* The names of the active (or inactive) networks, at most maxnames. */
static gboolean
list_names(NetworkDriver *drv, gboolean active, int maxnames, char ***out, u_int *out_len,
           GError **error)
{
    return sv_object_list_names(networks_list(drv->nets), net_active, net_name, active,
                                maxnames, REMOTE_NETWORK_LIST_MAX, "REMOTE_NETWORK_LIST_MAX",
                                out, out_len, error);
}

static gboolean
list_networks(SvCall *call, remote_connect_list_networks_args *a,
              remote_connect_list_networks_ret *ret, GError **error)
{
    return list_names(network_driver_of(call), TRUE, a->maxnames, &ret->names.names_val,
                      &ret->names.names_len, error);
}

static gboolean
list_defined_networks(SvCall *call, remote_connect_list_defined_networks_args *a,
                      remote_connect_list_defined_networks_ret *ret, GError **error)
{
    return list_names(network_driver_of(call), FALSE, a->maxnames, &ret->names.names_val,
                      &ret->names.names_len, error);
}

static gboolean
list_matches(const NetworkObj *n, unsigned int flags)
{
    return sv_object_list_filter(flags, SV_CONNECT_LIST_NETWORKS_ACTIVE,
                                 SV_CONNECT_LIST_NETWORKS_INACTIVE, n->active) &&
           sv_object_list_filter(flags, SV_CONNECT_LIST_NETWORKS_PERSISTENT,
                                 SV_CONNECT_LIST_NETWORKS_TRANSIENT, n->persistent) &&
           sv_object_list_filter(flags, SV_CONNECT_LIST_NETWORKS_AUTOSTART,
                                 SV_CONNECT_LIST_NETWORKS_NO_AUTOSTART, n->autostart);
}

static gboolean
list_all_networks(SvCall *call, remote_connect_list_all_networks_args *a,
                  remote_connect_list_all_networks_ret *ret, GError **error)
{
    GPtrArray *all = networks_list(network_driver_of(call)->nets);
    guint n = 0;

    if (!check_flags(a->flags, SV_CONNECT_LIST_ALL_NETWORKS_FLAGS_ALL,
                     "networkConnectListAllNetworks", error))
        return FALSE;
    if (a->need_results)
        ret->nets.nets_val = g_new0(remote_nonnull_network, all->len + 1);
    for (guint i = 0; i < all->len; i++) {
        const NetworkObj *net = all->pdata[i];
        if (!list_matches(net, a->flags))
            continue;
        if (a->need_results)
            network_make(&ret->nets.nets_val[n], net);
        n++;
    }
    ret->nets.nets_len = a->need_results ? n : 0;
    ret->ret = n;
    return TRUE;
}

/* ---------------------------------------------------------------- lookups and queries */

static gboolean
lookup_by_name(SvCall *call, remote_network_lookup_by_name_args *a,
               remote_network_lookup_by_name_ret *ret, GError **error)
{
    NetworkObj *n = networks_find_name(network_driver_of(call)->nets, a->name, error);

    if (!n)
        return FALSE;
    network_make(&ret->net, n);
    return TRUE;
}

static gboolean
lookup_by_uuid(SvCall *call, remote_network_lookup_by_uuid_args *a,
               remote_network_lookup_by_uuid_ret *ret, GError **error)
{
    NetworkObj *n = networks_find_uuid(network_driver_of(call)->nets, (const guint8 *)a->uuid,
                                       error);

    if (!n)
        return FALSE;
    network_make(&ret->net, n);
    return TRUE;
}

static gboolean
get_xml_desc(SvCall *call, remote_network_get_xml_desc_args *a,
             remote_network_get_xml_desc_ret *ret, GError **error)
{
    NetworkObj *n;

    if (!check_flags(a->flags, SV_NETWORK_XML_INACTIVE, "networkGetXMLDesc", error) ||
        !(n = network_of(network_driver_of(call), &a->net, error)))
        return FALSE;
    n->def->connections = n->active ? n->ports->len : 0;
    ret->xml = sv_network_def_format((a->flags & SV_NETWORK_XML_INACTIVE) && n->new_def
                                     ? n->new_def : n->def,
                                     a->flags & SV_NETWORK_XML_INACTIVE
                                     ? SV_NETWORK_FORMAT_INACTIVE : 0);
    return TRUE;
}

static gboolean
get_bridge_name(SvCall *call, remote_network_get_bridge_name_args *a,
                remote_network_get_bridge_name_ret *ret, GError **error)
{
    NetworkObj *n = network_of(network_driver_of(call), &a->net, error);

    if (!n)
        return FALSE;
    if (!n->def->bridge.name) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                     "network '%s' does not have a bridge name.", n->def->name);
        return FALSE;
    }
    ret->name = g_strdup(n->def->bridge.name);
    return TRUE;
}

static gboolean
get_autostart(SvCall *call, remote_network_get_autostart_args *a,
              remote_network_get_autostart_ret *ret, GError **error)
{
    NetworkObj *n = network_of(network_driver_of(call), &a->net, error);

    if (!n)
        return FALSE;
    ret->autostart = n->autostart;
    return TRUE;
}

static gboolean
set_autostart(SvCall *call, remote_network_set_autostart_args *a, GError **error)
{
    NetworkDriver *drv = network_driver_of(call);
    NetworkObj *n = network_of(drv, &a->net, error);

    if (!n)
        return FALSE;
    if (!n->persistent) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_OPERATION_INVALID, "%s",
                     "cannot set autostart for transient network");
        return FALSE;
    }
    if (!!a->autostart == n->autostart)
        return TRUE;
    return networks_set_autostart(drv->nets, n, a->autostart != 0, error);
}

static gboolean
is_active(SvCall *call, remote_network_is_active_args *a, remote_network_is_active_ret *ret,
          GError **error)
{
    NetworkObj *n = network_of(network_driver_of(call), &a->net, error);

    if (!n)
        return FALSE;
    ret->active = n->active;
    return TRUE;
}

static gboolean
is_persistent(SvCall *call, remote_network_is_persistent_args *a,
              remote_network_is_persistent_ret *ret, GError **error)
{
    NetworkObj *n = network_of(network_driver_of(call), &a->net, error);

    if (!n)
        return FALSE;
    ret->persistent = n->persistent;
    return TRUE;
}

/* ---------------------------------------------------------------- DHCP leases */

static char **
opt_string(const char *s)
{
    char **p;

    if (!s)
        return NULL;
    p = g_new0(char *, 1);
    *p = g_strdup(s);
    return p;
}

static void
lease_to_wire(remote_network_dhcp_lease *out, const SvNetLease *l)
{
    out->iface = g_strdup(l->iface ? l->iface : "");
    out->expirytime = l->expiry;
    out->type = l->type;
    out->mac = opt_string(l->mac);
    out->iaid = opt_string(l->iaid);
    out->ipaddr = g_strdup(l->ipaddr ? l->ipaddr : "");
    out->prefix = l->prefix;
    out->hostname = opt_string(l->hostname);
    out->clientid = opt_string(l->clientid);
}

/* libvirt's networkGetDHCPLeases: the MAC checked first, then the network; its leases
 * (expired ones left out) from the leases helper's file, active or not. */
static gboolean
get_dhcp_leases(SvCall *call, remote_network_get_dhcp_leases_args *a,
                remote_network_get_dhcp_leases_ret *ret, GError **error)
{
    NetworkDriver *drv = network_driver_of(call);
    const char *mac = a->mac ? *a->mac : NULL;
    guint8 parsed[6];
    g_autoptr(GPtrArray) leases = NULL;
    NetworkObj *n;

    if (!check_flags(a->flags, 0, "networkGetDHCPLeases", error))
        return FALSE;
    if (mac && !sv_net_mac_parse(mac, parsed)) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INVALID_MAC, "%s", mac);
        return FALSE;
    }
    if (!(n = network_of(drv, &a->net, error)) ||
        !(leases = sv_net_runtime_leases(drv->rt, n->def, mac, error)))
        return FALSE;
    if (leases->len > REMOTE_NETWORK_DHCP_LEASES_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                     "Number of leases is %u, which exceeds max limit: %d", leases->len,
                     REMOTE_NETWORK_DHCP_LEASES_MAX);
        return FALSE;
    }
    if (a->need_results) {
        ret->leases.leases_val = g_new0(remote_network_dhcp_lease, leases->len + 1);
        for (guint i = 0; i < leases->len; i++)
            lease_to_wire(&ret->leases.leases_val[i], leases->pdata[i]);
        ret->leases.leases_len = leases->len;
    }
    ret->ret = leases->len;
    return TRUE;
}

/* ---------------------------------------------------------------- daemon glue */

static void
install_handlers(NetworkDriver *drv)
{
    SvRemoteHandlers own = {
        .connect_num_of_networks = num_of_networks,
        .connect_list_networks = list_networks,
        .connect_num_of_defined_networks = num_of_defined_networks,
        .connect_list_defined_networks = list_defined_networks,
        .connect_list_all_networks = list_all_networks,
        .network_lookup_by_name = lookup_by_name,
        .network_lookup_by_uuid = lookup_by_uuid,
        .network_get_xml_desc = get_xml_desc,
        .network_get_bridge_name = get_bridge_name,
        .network_get_autostart = get_autostart,
        .network_set_autostart = set_autostart,
        .network_is_active = is_active,
        .network_is_persistent = is_persistent,
        .network_get_dhcp_leases = get_dhcp_leases,
    };

    sv_remote_secondary_handlers(&drv->handlers);
    sv_remote_handlers_overlay(&drv->handlers, &own);
    network_calls_install(&drv->handlers);
    network_update_install(&drv->handlers);
    network_ports_install(&drv->handlers);
    sv_connect_install(&drv->handlers, &network_connect);
    drv->handlers.connect_supports_feature = supports_feature;
    network_events_install(&drv->handlers);
}

static gboolean
network_init(SvDaemon *d, GError **error)
{
    g_autofree char *config_dir = sv_daemon_path(d, "/etc/libvirt/qemu/networks");
    g_autofree char *state_dir = sv_daemon_path(d, "/run/libvirt/network");
    g_autoptr(Networks) nets = networks_new(config_dir, state_dir);
    g_autoptr(SvNetRuntime) rt = sv_net_runtime_new(sv_daemon_get_root(d), error);
    NetworkDriver *drv;
    int n;

    if (!rt || (n = networks_load(nets, error)) < 0)
        return FALSE;
    g_debug("loaded %d networks from %s", n, config_dir);
    drv = g_new0(NetworkDriver, 1);
    drv->daemon = d;
    drv->nets = g_steal_pointer(&nets);
    drv->rt = g_steal_pointer(&rt);
    drv->state_dir = g_steal_pointer(&state_dir);
    sv_daemon_system_token(d); /* at once: the hypervisor daemons' calls come with it */
    install_handlers(drv);
    sv_server_set_user_data(sv_daemon_get_server(d), drv);
    sv_daemon_serve_remote(d, &drv->handlers);
    /* libvirt's per-driver daemons all register libvirt-qemu: none of it here. */
    sv_qemu_serve_unsupported(sv_daemon_get_server(d), TRUE);
    sv_daemon_set_driver_data(d, drv);
    network_recover(drv);
    return TRUE;
}

/* The networks stay up (their bridges, dnsmasq and rules outlive the daemon, as libvirt's);
 * a restarted daemon takes them over. */
static void
network_cleanup(SvDaemon *d)
{
    NetworkDriver *drv = sv_daemon_get_driver_data(d);

    sv_net_runtime_free(drv->rt);
    networks_free(drv->nets);
    g_free(drv->state_dir);
    g_free(drv);
    sv_daemon_set_driver_data(d, NULL);
}

const SvDaemonDriver network_daemon_driver = {
    .name = "virtnetworkd",
    .sock_prefix = "virtnetworkd",
    .driver_name = "network",
    .family = SV_PROC_FAMILY_NETWORK,
    .init = network_init,
    .cleanup = network_cleanup,
};
