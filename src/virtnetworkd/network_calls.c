/* network_calls.c: the calls that change networks: define, undefine, create (transient),
 * start and destroy, with libvirt 9.0's checks (networkValidate: the bridge name picked or
 * checked, the bridge's MAC made, what each forward mode allows), errors and events. A
 * network's data plane is started and stopped on a worker (net_runtime.h); those calls are
 * answered when it is done. */
#include <errno.h>
#include <string.h>

#include "conf/uuid.h"
#include "network_driver.h"
#include "network_events.h"
#include "util/error.h"
#include "util/netdev.h"
#include "util/netdev_bandwidth.h"

/* libvirt's MAX_BRIDGE_ID: the last N of virbrN tried. */
#define MAX_BRIDGE_ID 256

static gboolean
check_flags(unsigned int flags, unsigned int supported, const char *fn, GError **error)
{
    return sv_check_flags(flags, supported, SV_FROM_NETWORK, fn, error);
}

/* The forward modes whose bridge, addresses and dnsmasq the driver makes itself. */
static gboolean
is_virtual(int type)
{
    return type == SV_NETWORK_FORWARD_NONE || type == SV_NETWORK_FORWARD_NAT ||
           type == SV_NETWORK_FORWARD_ROUTE || type == SV_NETWORK_FORWARD_OPEN;
}

/* ---------------------------------------------------------------- validation */

/* libvirt's networkFindUnusedBridgeName: the first virbrN (or N of the user's template with
 * one %d) that no other network uses and no host device has. */
static gboolean
pick_bridge_name(Networks *nets, SvNetworkDef *def, GError **error)
{
    const char *templ = "virbr%d";
    const char *pct = def->bridge.name ? strchr(def->bridge.name, '%') : NULL;

    if (pct && pct == strrchr(def->bridge.name, '%') && pct[1] == 'd')
        templ = def->bridge.name;
    for (int id = 0; id <= MAX_BRIDGE_ID; id++) {
        g_autofree char *prefix = g_strndup(templ, strstr(templ, "%d") - templ);
        g_autofree char *name = g_strdup_printf("%s%d%s", prefix, id, strstr(templ, "%d") + 2);

        if (!networks_bridge_in_use(nets, name, def->name) && !sv_netdev_exists(name)) {
            g_free(def->bridge.name);
            def->bridge.name = g_steal_pointer(&name);
            return TRUE;
        }
    }
    sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                 "Bridge generation exceeded max id %d", MAX_BRIDGE_ID);
    return FALSE;
}

/* libvirt's networkBridgeNameValidate: a name given is checked, a template or none is
 * filled in. */
static gboolean
validate_bridge_name(Networks *nets, SvNetworkDef *def, GError **error)
{
    if (def->bridge.name && !strstr(def->bridge.name, "%d")) {
        if (networks_bridge_in_use(nets, def->bridge.name, def->name)) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                         "bridge name '%s' already in use.", def->bridge.name);
            return FALSE;
        }
        return TRUE;
    }
    return pick_bridge_name(nets, def, error);
}

/* libvirt's virNetworkSetBridgeMacAddr: a random address of QEMU's 52:54:00 prefix, written
 * out from then on as if the user had given it. */
static void
make_bridge_mac(SvNetworkDef *def)
{
    if (def->mac)
        return;
    def->mac_given = TRUE;
    def->mac = g_strdup_printf("52:54:00:%02x:%02x:%02x", g_random_int_range(0, 256),
                               g_random_int_range(0, 256), g_random_int_range(0, 256));
}

static gboolean
unsupported(GError **error, const char *what, const SvNetworkDef *def)
{
    sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                 "Unsupported %s element in network %s with forward mode='%s'", what,
                 def->name, sv_network_forward_type_to_string(def->forward.type));
    return FALSE;
}

/* What the modes whose host side libvirt does not make refuse. */
static gboolean
check_external(const SvNetworkDef *def, GError **error)
{
    if (def->mac)
        return unsupported(error, "<mac>", def);
    if (def->ips->len)
        return unsupported(error, "<ip>", def);
    if (def->dns.txts->len || def->dns.hosts->len || def->dns.srvs->len)
        return unsupported(error, "<dns>", def);
    if (def->domain)
        return unsupported(error, "<domain>", def);
    return TRUE;
}

/* libvirt's rule: DHCP on one IPv4 and one IPv6 address at most. */
static gboolean
check_dhcp_ips(const SvNetworkDef *def, GError **error)
{
    gboolean v4 = FALSE, v6 = FALSE;

    for (guint i = 0; i < def->ips->len; i++) {
        const SvNetworkIpDef *ip = def->ips->pdata[i];
        gboolean *seen = ip->is_ipv6 ? &v6 : &v4;

        if (!ip->ranges->len && !ip->hosts->len)
            continue;
        if (*seen) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                         "Multiple IPv%c dhcp sections found -- dhcp is supported only for a "
                         "single IPv%c address on each network", ip->is_ipv6 ? '6' : '4',
                         ip->is_ipv6 ? '6' : '4');
            return FALSE;
        }
        *seen = TRUE;
    }
    return TRUE;
}

static gboolean
is_ovs(const char *virtualport_xml)
{
    return virtualport_xml && strstr(virtualport_xml, "openvswitch") != NULL;
}

/* libvirt's port group checks: one default, distinct names, bandwidth where allowed, a
 * <vlan> only where the mode (or an Open vSwitch port group) can tag. */
static gboolean
check_portgroups(const SvNetworkDef *def, gboolean bandwidth_ok, GError **error)
{
    int type = def->forward.type;
    gboolean vlan_ok = type == SV_NETWORK_FORWARD_HOSTDEV ||
                       type == SV_NETWORK_FORWARD_PASSTHROUGH ||
                       (type == SV_NETWORK_FORWARD_BRIDGE && is_ovs(def->virtualport_xml));
    gboolean bad_vlan = FALSE;
    const SvNetworkPortGroupDef *dflt = NULL;

    for (guint i = 0; i < def->portgroups->len; i++) {
        const SvNetworkPortGroupDef *pg = def->portgroups->pdata[i];

        if (def->vlan_xml || pg->vlan_xml) {
            if (pg->virtualport_xml)
                bad_vlan |= type != SV_NETWORK_FORWARD_BRIDGE || !is_ovs(pg->virtualport_xml);
            else
                bad_vlan |= !vlan_ok;
        }
        if (pg->is_default && dflt) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                         "network '%s' has multiple default <portgroup> elements (%s and %s), "
                         "but only one default is allowed", def->name, dflt->name, pg->name);
            return FALSE;
        }
        if (pg->is_default)
            dflt = pg;
        for (guint j = i + 1; j < def->portgroups->len; j++) {
            if (g_str_equal(pg->name, ((SvNetworkPortGroupDef *)def->portgroups->pdata[j])->name)) {
                sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                             "multiple <portgroup> elements with the same name (%s) in network "
                             "'%s'", pg->name, def->name);
                return FALSE;
            }
        }
        if (pg->bandwidth && !bandwidth_ok) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                         "Unsupported <bandwidth> element in network '%s' in portgroup '%s' with "
                         "forward mode='%s'", def->name, pg->name,
                         sv_network_forward_type_to_string(type));
            return FALSE;
        }
    }
    if (bad_vlan || (def->vlan_xml && !vlan_ok && !dflt)) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                     "<vlan> element specified for network %s, whose type doesn't support vlan "
                     "configuration", def->name);
        return FALSE;
    }
    return TRUE;
}

/* libvirt's networkValidate, run on every new definition before it is added. */
static gboolean
validate(NetworkDriver *drv, SvNetworkDef *def, GError **error)
{
    gboolean bandwidth_ok = is_virtual(def->forward.type) ||
                            (def->forward.type == SV_NETWORK_FORWARD_BRIDGE &&
                             def->bridge.name);

    if (is_virtual(def->forward.type)) {
        if (!validate_bridge_name(drv->nets, def, error))
            return FALSE;
        make_bridge_mac(def);
    } else if (!check_external(def, error)) {
        return FALSE;
    }
    if (def->bandwidth && !bandwidth_ok) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                     "Unsupported network-wide <bandwidth> element in network %s with forward "
                     "mode='%s'", def->name,
                     sv_network_forward_type_to_string(def->forward.type));
        return FALSE;
    }
    if (def->forward.type == SV_NETWORK_FORWARD_HOSTDEV && def->forward.ifaces->len) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                     "hostdev network '%s' lists '%s' in the device pool, but hostdev networks "
                     "require all devices to be listed by PCI address, not network device name",
                     def->name, (const char *)def->forward.ifaces->pdata[0]);
        return FALSE;
    }
    if (def->forward.pfs->len && def->forward.ifaces->len) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                     "<address>, <interface>, and <pf> elements of <forward> in network %s are "
                     "mutually exclusive", def->name);
        return FALSE;
    }
    return check_dhcp_ips(def, error) && check_portgroups(def, bandwidth_ok, error);
}

/* A new definition from a client: parsed (VALIDATE: against the schema too), validated,
 * no clash; *ret_old is the network it replaces. */
static SvNetworkDef *
parse_new(NetworkDriver *drv, const char *xml, gboolean validate_schema, gboolean live,
          NetworkObj **ret_old, GError **error)
{
    g_autoptr(SvNetworkDef) def =
        sv_network_def_parse(xml, validate_schema ? SV_NETWORK_PARSE_VALIDATE : 0, error);
    GError *refused = NULL;

    if (!def || !validate(drv, def, error))
        return NULL;
    *ret_old = networks_check_add(drv->nets, def, live, &refused);
    if (refused) {
        g_propagate_error(error, refused);
        return NULL;
    }
    return g_steal_pointer(&def);
}

/* ---------------------------------------------------------------- start and stop */

typedef struct {
    NetworkDriver *drv;
    guint8 uuid[16];
    gboolean starting;
    gboolean reply_net;
    SvCall *call;        /* or NULL */
    SvNetworkDef *def;   /* the definition the data plane works from (a copy) */
} NetworkJob;

static void
job_free(NetworkJob *j)
{
    sv_network_def_free(j->def);
    g_free(j);
}

static void
job_reply(NetworkJob *j, NetworkObj *net, GError *error)
{
    if (!j->call) {
        if (error) {
            g_message("%s of network failed: %s", j->starting ? "start" : "stop",
                      error->message);
            g_error_free(error);
        }
        return;
    }
    if (error) {
        sv_call_fail(g_steal_pointer(&j->call), error);
    } else if (j->reply_net) {
        remote_network_create_xml_ret r;
        network_make(&r.net, net);
        sv_call_reply(g_steal_pointer(&j->call), &r);
        g_free(r.net.name);
    } else {
        sv_call_reply(g_steal_pointer(&j->call), NULL);
    }
}

/* libvirt's virNetworkObjUnsetDefTransient: the persistent definition is the only one
 * again. */
static void
unset_transient(NetworkObj *net)
{
    if (net->new_def) {
        sv_network_def_free(net->def);
        net->def = g_steal_pointer(&net->new_def);
    }
}

/* libvirt's networkRemoveInactive: a network no longer defined leaves no dnsmasq file. */
static void
forget_files(NetworkDriver *drv, const NetworkObj *net)
{
    if (is_virtual(net->def->forward.type))
        sv_net_runtime_remove_files(drv->rt, net->def);
}

static void
start_done(NetworkJob *j, NetworkObj *net, gboolean ok, GError *error)
{
    NetworkDriver *drv = j->drv;

    if (ok && !networks_save_status(drv->nets, net, &error))
        ok = FALSE;
    if (!ok) {
        unset_transient(net);
        if (!net->persistent) {
            job_reply(j, NULL, error);
            networks_remove(drv->nets, net);
            return;
        }
        job_reply(j, net, error);
        return;
    }
    networks_activate(net);
    g_message("network '%s' started up", net->def->name);
    network_emit(drv, net, SV_NETWORK_EVENT_STARTED);
    job_reply(j, net, NULL);
}

static void
stop_done(NetworkJob *j, NetworkObj *net, gboolean ok, GError *error)
{
    NetworkDriver *drv = j->drv;
    remote_nonnull_network handle;

    network_make(&handle, net);
    g_message("network '%s' shut down", net->def->name);
    unset_transient(net);
    if (!net->persistent)
        forget_files(drv, net);
    (void)networks_deactivate(drv->nets, net); /* a transient network is gone now */
    network_events_emit(sv_daemon_get_server(drv->daemon), &handle, SV_NETWORK_EVENT_STOPPED);
    g_free(handle.name);
    job_reply(j, NULL, ok ? NULL : error);
}

static void
job_done(GObject *src, GAsyncResult *res, gpointer data)
{
    NetworkJob *j = data;
    NetworkDriver *drv = j->drv;
    GError *error = NULL;
    gboolean ok;
    /* a busy network stays: undefine and destroy wait for it */
    NetworkObj *net = networks_find_uuid(drv->nets, j->uuid, NULL);

    (void)src;
    if (G_IS_TASK(res) && g_task_get_source_tag(G_TASK(res)) == job_done)
        ok = g_task_propagate_boolean(G_TASK(res), &error);
    else if (j->starting)
        ok = sv_net_runtime_start_finish(drv->rt, res, &error);
    else
        ok = sv_net_runtime_stop_finish(drv->rt, res, &error);
    g_assert(net && net->busy);
    net->busy = FALSE;
    if (--drv->holds == 0)
        sv_daemon_uninhibit(drv->daemon);
    if (j->starting)
        start_done(j, net, ok, error);
    else
        stop_done(j, net, ok, error);
    job_free(j);
}

/* A bridge-mode network on a host bridge: its network-wide <bandwidth> on that bridge. The
 * other modes libvirt does not plumb have nothing to set up. */
static void
external_thread(GTask *task, gpointer src, gpointer data, GCancellable *c)
{
    NetworkJob *j = data;
    GError *error = NULL;
    const SvNetworkDef *def = j->def;
    gboolean ok = TRUE;

    (void)src;
    (void)c;
    if (def->forward.type == SV_NETWORK_FORWARD_BRIDGE && def->bridge.name && def->bandwidth)
        ok = j->starting ? sv_netdev_bandwidth_set(def->bridge.name, def->bandwidth, TRUE, &error)
                         : sv_netdev_bandwidth_clear(def->bridge.name, &error);
    if (ok || !j->starting) {
        if (error)
            g_clear_error(&error);
        g_task_return_boolean(task, TRUE);
    } else {
        g_task_return_error(task, error);
    }
}

static void
job_run(NetworkDriver *drv, NetworkObj *net, NetworkJob *j)
{
    g_autoptr(GTask) task = NULL;

    j->drv = drv;
    memcpy(j->uuid, net->def->uuid, 16);
    j->def = sv_network_def_copy(net->def);
    net->busy = TRUE;
    if (drv->holds++ == 0)
        sv_daemon_inhibit(drv->daemon); /* no idle exit with work under way */
    if (is_virtual(j->def->forward.type)) {
        if (j->starting)
            sv_net_runtime_start(drv->rt, j->def, job_done, j);
        else
            sv_net_runtime_stop(drv->rt, j->def, job_done, j);
        return;
    }
    task = g_task_new(NULL, NULL, job_done, j);
    g_task_set_source_tag(task, job_done);
    g_task_set_task_data(task, j, NULL);
    g_task_run_in_thread(task, external_thread);
}

void
network_start(NetworkDriver *drv, NetworkObj *net, SvCall *call, gboolean reply_net)
{
    NetworkJob *j = g_new0(NetworkJob, 1);

    j->starting = TRUE;
    j->call = call;
    j->reply_net = reply_net;
    /* libvirt's virNetworkObjSetDefTransient: the live definition becomes a copy, the
     * persistent one waits aside for the stop */
    if (net->persistent && !net->new_def)
        net->new_def = sv_network_def_copy(net->def);
    /* libvirt's live definition of a NAT network names the masquerade's port range */
    if (net->def->forward.type == SV_NETWORK_FORWARD_NAT && !net->def->forward.nat_port_start &&
        !net->def->forward.nat_port_end) {
        net->def->forward.nat_port_start = 1024;
        net->def->forward.nat_port_end = 65535;
    }
    job_run(drv, net, j);
}

static void
network_stop(NetworkDriver *drv, NetworkObj *net, SvCall *call)
{
    NetworkJob *j = g_new0(NetworkJob, 1);

    j->call = call;
    job_run(drv, net, j);
}

/* What a start refuses before any work: an active network, a mode not served here. */
static gboolean
check_startable(const NetworkObj *net, GError **error)
{
    if (net->active) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_OPERATION_INVALID, "%s",
                     "network is already active");
        return FALSE;
    }
    if (net->def->forward.type == SV_NETWORK_FORWARD_HOSTDEV) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_CONFIG_UNSUPPORTED,
                     "network '%s' has forward mode 'hostdev' (SR-IOV virtual functions), which "
                     "splitvirt does not serve", net->def->name);
        return FALSE;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- the calls */

static gboolean
define_common(SvCall *call, const char *xml, unsigned int flags, const char *fn,
              remote_nonnull_network *out, GError **error)
{
    NetworkDriver *drv = network_driver_of(call);
    NetworkObj *old = NULL, *n;
    SvNetworkDef *def;
    gboolean was_persistent;

    if (!check_flags(flags, SV_NETWORK_DEFINE_VALIDATE, fn, error) ||
        !(def = parse_new(drv, xml, flags & SV_NETWORK_DEFINE_VALIDATE, FALSE, &old, error)))
        return FALSE;
    if (old && !network_check_idle(old, error)) {
        sv_network_def_free(def);
        return FALSE;
    }
    was_persistent = old && old->persistent;
    n = networks_assign(drv->nets, old, def, FALSE);
    if (!networks_save_config(drv->nets, n, error)) {
        if (!old) {
            networks_remove(drv->nets, n);
        } else if (!was_persistent) {
            g_clear_pointer(&n->new_def, sv_network_def_free);
            n->persistent = FALSE;
        }
        return FALSE;
    }
    g_message("defining network '%s'", n->def->name);
    network_emit(drv, n, SV_NETWORK_EVENT_DEFINED);
    network_make(out, n);
    return TRUE;
}

static gboolean
define_xml(SvCall *call, remote_network_define_xml_args *a, remote_network_define_xml_ret *ret,
           GError **error)
{
    return define_common(call, a->xml, 0, "networkDefineXMLFlags", &ret->net, error);
}

static gboolean
define_xml_flags(SvCall *call, remote_network_define_xml_flags_args *a,
                 remote_network_define_xml_flags_ret *ret, GError **error)
{
    return define_common(call, a->xml, a->flags, "networkDefineXMLFlags", &ret->net, error);
}

static gboolean
create_common(SvCall *call, const char *xml, unsigned int flags, GError **error)
{
    NetworkDriver *drv = network_driver_of(call);
    NetworkObj *old = NULL, *n;
    SvNetworkDef *def;

    if (!check_flags(flags, SV_NETWORK_CREATE_VALIDATE, "networkCreateXMLFlags", error) ||
        !(def = parse_new(drv, xml, flags & SV_NETWORK_CREATE_VALIDATE, TRUE, &old, error)))
        return FALSE;
    if (old && !network_check_idle(old, error)) {
        sv_network_def_free(def);
        return FALSE;
    }
    n = networks_assign(drv->nets, old, def, TRUE);
    if (!check_startable(n, error)) {
        unset_transient(n);
        if (!n->persistent)
            networks_remove(drv->nets, n);
        return FALSE;
    }
    network_start(drv, n, sv_call_defer(call), TRUE);
    return TRUE;
}

static gboolean
create_xml(SvCall *call, remote_network_create_xml_args *a, remote_network_create_xml_ret *ret,
           GError **error)
{
    (void)ret;
    return create_common(call, a->xml, 0, error);
}

static gboolean
create_xml_flags(SvCall *call, remote_network_create_xml_flags_args *a,
                 remote_network_create_xml_flags_ret *ret, GError **error)
{
    (void)ret;
    return create_common(call, a->xml, a->flags, error);
}

static gboolean
undefine(SvCall *call, remote_network_undefine_args *a, GError **error)
{
    NetworkDriver *drv = network_driver_of(call);
    NetworkObj *n = network_of(drv, &a->net, error);

    if (!n || !network_check_idle(n, error))
        return FALSE;
    if (!n->persistent) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_OPERATION_INVALID, "%s",
                     "can't undefine transient network");
        return FALSE;
    }
    if (!networks_delete_config(drv->nets, n, error))
        return FALSE;
    g_message("undefining network '%s'", n->def->name);
    network_emit(drv, n, SV_NETWORK_EVENT_UNDEFINED);
    if (!n->active) {
        forget_files(drv, n);
        networks_remove(drv->nets, n);
        return TRUE;
    }
    /* still running: transient from now on */
    g_clear_pointer(&n->new_def, sv_network_def_free);
    n->persistent = FALSE;
    return TRUE;
}

static gboolean
create(SvCall *call, remote_network_create_args *a, GError **error)
{
    NetworkDriver *drv = network_driver_of(call);
    NetworkObj *n = network_of(drv, &a->net, error);

    if (!n || !network_check_idle(n, error) || !check_startable(n, error))
        return FALSE;
    network_start(drv, n, sv_call_defer(call), FALSE);
    return TRUE;
}

static gboolean
destroy(SvCall *call, remote_network_destroy_args *a, GError **error)
{
    NetworkDriver *drv = network_driver_of(call);
    NetworkObj *n = network_of(drv, &a->net, error);

    if (!n || !network_check_idle(n, error) || !network_check_active(n, error))
        return FALSE;
    network_stop(drv, n, sv_call_defer(call));
    return TRUE;
}

void
network_calls_install(SvRemoteHandlers *h)
{
    h->network_define_xml = define_xml;
    h->network_define_xml_flags = define_xml_flags;
    h->network_create_xml = create_xml;
    h->network_create_xml_flags = create_xml_flags;
    h->network_undefine = undefine;
    h->network_create = create;
    h->network_destroy = destroy;
}

/* ---------------------------------------------------------------- restart and autostart */

/* Every network marked autostart that is not active starts, once per boot of the host: a
 * marker in the state directory (a tmpfs there) says it was done, as libvirt's
 * virDriverShouldAutostart. */
static void
autostart_networks(NetworkDriver *drv)
{
    g_autofree char *marker = g_build_filename(drv->state_dir, "autostarted", NULL);
    GPtrArray *all = networks_list(drv->nets);

    if (g_file_test(marker, G_FILE_TEST_EXISTS))
        return;
    if (!g_file_set_contents_full(marker, "", 0, G_FILE_SET_CONTENTS_NONE, 0600, NULL))
        g_warning("cannot create autostart marker '%s'", marker);
    for (guint i = 0; i < all->len; i++) {
        NetworkObj *n = all->pdata[i];
        GError *error = NULL;

        if (!n->autostart || n->active)
            continue;
        if (!check_startable(n, &error)) {
            g_warning("cannot autostart network '%s': %s", n->def->name, error->message);
            g_error_free(error);
            continue;
        }
        g_message("autostarting network %s", n->def->name);
        network_start(drv, n, NULL, FALSE);
    }
}

/* libvirt's networkUpdateState for one network found active: a virtual network whose bridge
 * is gone, or whose data plane cannot be taken over, is inactive; a bridge-mode network on a
 * missing host bridge too. */
static gboolean
still_active(NetworkDriver *drv, NetworkObj *n)
{
    g_autoptr(GError) error = NULL;

    if (is_virtual(n->def->forward.type)) {
        if (!n->def->bridge.name || !sv_netdev_exists(n->def->bridge.name))
            return FALSE;
        if (!sv_net_runtime_reattach(drv->rt, n->def, &error)) {
            g_warning("network '%s' cannot be taken over: %s", n->def->name,
                      error ? error->message : "bridge gone");
            return FALSE;
        }
        return TRUE;
    }
    if (n->def->forward.type == SV_NETWORK_FORWARD_BRIDGE && n->def->bridge.name)
        return sv_netdev_exists(n->def->bridge.name);
    return TRUE;
}

typedef struct {
    NetworkDriver *drv;
    SvNetworkDef *def;
} Remnants;

static void
remnants_gone(GObject *src, GAsyncResult *res, gpointer data)
{
    Remnants *r = data;
    g_autoptr(GError) error = NULL;

    (void)src;
    if (!sv_net_runtime_stop_finish(r->drv->rt, res, &error))
        g_warning("cleaning up after network '%s': %s", r->def->name, error->message);
    if (--r->drv->holds == 0)
        sv_daemon_uninhibit(r->drv->daemon);
    sv_network_def_free(r->def);
    g_free(r);
}

/* A virtual network found gone leaves nothing running: its dnsmasq (when the pid file still
 * names it) and its firewall rules go, which libvirt leaves behind. */
static void
clean_remnants(NetworkDriver *drv, const NetworkObj *n)
{
    Remnants *r;

    if (!is_virtual(n->def->forward.type))
        return;
    r = g_new0(Remnants, 1);
    r->drv = drv;
    r->def = sv_network_def_copy(n->def);
    if (drv->holds++ == 0)
        sv_daemon_inhibit(drv->daemon);
    sv_net_runtime_stop(drv->rt, r->def, remnants_gone, r);
}

/* libvirt's virNetworkLoadConfig: a definition file without the bridge's MAC (one written
 * by hand, or the install's default network) gets one, saved at once, so the bridge keeps
 * it from start to start. */
static void
give_mac(NetworkDriver *drv, NetworkObj *n)
{
    SvNetworkDef *def = n->new_def ? n->new_def : n->def;
    g_autoptr(GError) error = NULL;

    if (!n->persistent || !is_virtual(def->forward.type) || def->mac)
        return;
    make_bridge_mac(def);
    if (!networks_save_config(drv->nets, n, &error))
        g_warning("cannot save network '%s': %s", def->name, error->message);
}

void
network_recover(NetworkDriver *drv)
{
    GPtrArray *all = networks_list(drv->nets);

    for (guint i = all->len; i-- > 0;) {
        NetworkObj *n = all->pdata[i];

        give_mac(drv, n);
        n->def->connections = n->ports->len;
        if (!n->active || still_active(drv, n))
            continue;
        g_message("network '%s' found inactive", n->def->name);
        clean_remnants(drv, n);
        unset_transient(n);
        if (!n->persistent)
            forget_files(drv, n);
        (void)networks_deactivate(drv->nets, n);
    }
    autostart_networks(drv);
}
