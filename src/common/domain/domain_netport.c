/* domain_netport.c: guest interfaces' ports on virtual networks (domain_netport.h).
 *
 * One work goes through its ports one after the other, each in libvirt's order of calls,
 * so the first failure is the one libvirt reports: the network by name, then the port
 * made (or, at a reconnect, looked up, and made again when missing), then its XML for the
 * plug. A failed allocation deletes the ports it made before telling. */
#include "domain/domain_netport.h"

#include <string.h>

#include "conf/network_def.h"
#include "conf/uuid.h"
#include "domain/domain_ifaddr.h"
#include "programs/family_client.h"
#include "protocol/sv_wire_constants.h"
#include "util/error.h"
#include "util/netdev.h"

typedef enum {
    STEP_NETWORK, /* NETWORK_LOOKUP_BY_NAME */
    STEP_LOOKUP,  /* reconnect: NETWORK_PORT_LOOKUP_BY_UUID */
    STEP_CREATE,  /* NETWORK_PORT_CREATE_XML */
    STEP_XML,     /* NETWORK_PORT_GET_XML_DESC */
    STEP_DELETE,  /* release: NETWORK_PORT_DELETE */
    STEP_LEASES,  /* NETWORK_GET_DHCP_LEASES */
    STEP_DONE,
} Step;

typedef enum {
    MODE_ALLOCATE,
    MODE_RECONNECT,
    MODE_RELEASE,
    MODE_LEASES,
} Mode;

/* One interface's port: what the definition said, and what the network daemon gave. */
typedef struct {
    char *network;
    char *portgroup;
    char *mac;
    char *ifname;                        /* its host device (leases name it) */
    SvDomainBandwidth *bandwidth;        /* or NULL */
    char portid[SV_UUID_STRING_LEN + 1]; /* the port's: given (reconnect, release) or made */
    gboolean made;                       /* created by this work (deleted again if it fails) */
    int plug_type;                       /* SvDomainNetType (NETWORK, BRIDGE) */
    char *bridge;
    SvDomainBandwidth *port_bandwidth; /* the port's rates, as the network gave them */
} Port;

struct SvNetportWork {
    Mode mode;
    GPtrArray *ports; /* of Port */
    guint at;
    Step step;
    char *run_dir;
    char *owner_name;
    guint8 owner_uuid[16];
    SvFamilyClient *fc;
    remote_nonnull_network net; /* what the lookup of the port's network gave */
    GArray *ifaces;             /* MODE_LEASES: remote_domain_interface found */
    char *hostname;             /* MODE_LEASES: the first lease's hostname */
    gboolean hostname_only;     /* done at the first interface whose lease has one */
    SvNetportDone done;
    SvNetportLeasesFunc leases_done;
    gpointer data;
    guint idle;     /* tells a failure to connect */
    GError *failed; /* that failure */
};

static void port_free(gpointer p)
{
    Port *port = p;

    g_free(port->network);
    g_free(port->portgroup);
    g_free(port->mac);
    g_free(port->ifname);
    sv_domain_bandwidth_free(port->bandwidth);
    g_free(port->bridge);
    sv_domain_bandwidth_free(port->port_bandwidth);
    g_free(port);
}

static void ifaces_clear(gpointer p)
{
    xdr_free((xdrproc_t)xdr_remote_domain_interface, p);
}

void sv_netport_work_free(SvNetportWork *work)
{
    if (!work)
        return;
    if (work->idle)
        g_source_remove(work->idle);
    g_clear_pointer(&work->fc, sv_family_client_free);
    g_ptr_array_unref(work->ports);
    g_free(work->run_dir);
    g_free(work->owner_name);
    g_free(work->net.name);
    if (work->ifaces)
        g_array_unref(work->ifaces);
    g_free(work->hostname);
    g_clear_error(&work->failed);
    g_free(work);
}

gboolean sv_netport_pending(const SvDomainDef *def)
{
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];

        if (n->type == SV_DOMAIN_NET_TYPE_NETWORK && !n->actual_bridge)
            return TRUE;
    }
    return FALSE;
}

/* ---------------------------------------------------------------- ports gone again */

static void release_ports(const char *run_dir, GPtrArray *ports);

/* A failed allocation's ports: deleted with the daemon's own identity. */
static void undo_made(SvNetportWork *work)
{
    g_autoptr(GPtrArray) made = g_ptr_array_new_with_free_func(port_free);

    for (guint i = 0; i < work->ports->len; i++) {
        Port *p = work->ports->pdata[i];

        if (!p->made)
            continue;
        p->made = FALSE;
        g_ptr_array_add(made, g_ptr_array_steal_index(work->ports, i--));
    }
    if (made->len)
        release_ports(work->run_dir, g_steal_pointer(&made));
}

void sv_netport_work_undo(SvNetportWork *work)
{
    undo_made(work);
}

static void finish(SvNetportWork *work, const GError *error)
{
    g_clear_pointer(&work->fc, sv_family_client_free);
    if (work->mode == MODE_RELEASE) {
        sv_netport_work_free(work);
        return;
    }
    if (work->mode == MODE_LEASES) {
        GArray *ifaces = error ? NULL : g_steal_pointer(&work->ifaces);

        work->leases_done(ifaces, work->hostname, error, work->data);
        sv_netport_work_free(work);
        return;
    }
    if (error && work->mode == MODE_ALLOCATE)
        undo_made(work);
    work->done(work, error, work->data); /* may free work */
}

/* ---------------------------------------------------------------- the steps */

static void step_send(SvNetportWork *work);

/* The first step of the next port, or the end. */
static void next_port(SvNetportWork *work)
{
    work->step = STEP_NETWORK;
    if (++work->at >= work->ports->len)
        finish(work, NULL);
    else
        step_send(work);
}

/* The port's XML as libvirt's domain side writes it (virDomainNetDefToNetworkPort): a
 * reclaimed port keeps its id and plug. */
static char *port_xml(const SvNetportWork *work, const Port *p, gboolean reclaim)
{
    g_autoptr(SvNetworkPortDef) def = g_new0(SvNetworkPortDef, 1);

    if (reclaim)
        sv_uuid_parse(p->portid, def->uuid);
    else
        sv_uuid_generate(def->uuid);
    def->owner_name = g_strdup(work->owner_name);
    memcpy(def->owner_uuid, work->owner_uuid, 16);
    def->group = g_strdup(p->portgroup);
    def->mac = g_strdup(p->mac);
    def->bandwidth = sv_netdev_bandwidth_copy(p->bandwidth);
    if (reclaim) {
        def->plug_type = p->plug_type == SV_DOMAIN_NET_TYPE_BRIDGE ? SV_NETWORK_PORT_PLUG_BRIDGE
                                                                   : SV_NETWORK_PORT_PLUG_NETWORK;
        def->plug_bridge = g_strdup(p->bridge);
    }
    return sv_network_port_def_format(def);
}

/* The port's plug: a tap on a bridge is what guests here are given; a port the network
 * wants plugged otherwise (macvtap, a PCI device) is refused. */
static gboolean take_plug(Port *p, const char *xml, GError **error)
{
    g_autoptr(SvNetworkPortDef) def = sv_network_port_def_parse(xml, error);

    if (!def)
        return FALSE;
    if ((def->plug_type != SV_NETWORK_PORT_PLUG_NETWORK &&
         def->plug_type != SV_NETWORK_PORT_PLUG_BRIDGE) ||
        !def->plug_bridge) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_CONFIG_UNSUPPORTED,
                     "network '%s' plugs its ports in a way splitvirt does not support "
                     "(only bridges are)",
                     p->network);
        return FALSE;
    }
    p->plug_type = def->plug_type == SV_NETWORK_PORT_PLUG_BRIDGE ? SV_DOMAIN_NET_TYPE_BRIDGE
                                                                 : SV_DOMAIN_NET_TYPE_NETWORK;
    g_free(p->bridge);
    p->bridge = g_strdup(def->plug_bridge);
    sv_domain_bandwidth_free(p->port_bandwidth);
    p->port_bandwidth = sv_netdev_bandwidth_copy(def->bandwidth);
    return TRUE;
}

/* One network's leases for an interface: an entry when it has any. */
static void take_leases(SvNetportWork *work, const Port *p, remote_network_get_dhcp_leases_ret *r)
{
    remote_domain_interface iface = {0};

    for (guint i = 0; !work->hostname && i < r->leases.leases_len; i++) {
        if (r->leases.leases_val[i].hostname)
            work->hostname = g_strdup(*r->leases.leases_val[i].hostname);
    }
    if (!r->leases.leases_len)
        return;
    iface.name = g_strdup(p->ifname ? p->ifname : "");
    iface.hwaddr = g_new0(char *, 1);
    *iface.hwaddr = g_strdup(p->mac);
    for (guint i = 0; i < r->leases.leases_len; i++) {
        const remote_network_dhcp_lease *l = &r->leases.leases_val[i];

        sv_domain_ifaddr_add(&iface, l->type, l->ipaddr, l->prefix);
    }
    g_array_append_val(work->ifaces, iface);
}

/* A reply: what it tells is kept, and the step after it chosen. */
static gboolean step_take(SvNetportWork *work, void *ret, const GError *error, GError **out)
{
    Port *p = work->ports->pdata[work->at];

    /* A reconnect whose port the network no longer has makes it again (libvirt's). */
    if (error && work->step == STEP_LOOKUP &&
        g_error_matches(error, sv_error_quark(SV_FROM_NETWORK), SV_ERR_NO_NETWORK_PORT)) {
        work->step = STEP_CREATE;
        return TRUE;
    }
    if (error) {
        *out = g_error_copy(error);
        return FALSE;
    }
    switch (work->step) {
    case STEP_NETWORK: {
        remote_network_lookup_by_name_ret *r = ret;
        g_free(work->net.name);
        work->net.name = g_strdup(r->net.name);
        memcpy(work->net.uuid, r->net.uuid, sizeof(work->net.uuid));
        work->step = work->mode == MODE_ALLOCATE    ? STEP_CREATE
                     : work->mode == MODE_RECONNECT ? STEP_LOOKUP
                     : work->mode == MODE_RELEASE   ? STEP_DELETE
                                                    : STEP_LEASES;
        return TRUE;
    }
    case STEP_CREATE: {
        remote_network_port_create_xml_ret *r = ret;
        sv_uuid_format((const guint8 *)r->port.uuid, p->portid);
        p->made = work->mode == MODE_ALLOCATE;
        work->step = work->mode == MODE_ALLOCATE ? STEP_XML : STEP_DONE;
        return TRUE;
    }
    case STEP_LOOKUP:
    case STEP_DELETE:
        work->step = STEP_DONE;
        return TRUE;
    case STEP_XML:
        work->step = STEP_DONE;
        return take_plug(p, ((remote_network_port_get_xml_desc_ret *)ret)->xml, out);
    case STEP_LEASES:
        take_leases(work, p, ret);
        work->step = STEP_DONE;
        /* libvirt's hostname lookup stops at the first interface whose lease names one. */
        if (work->hostname_only && work->hostname)
            work->at = work->ports->len;
        return TRUE;
    default:
        g_assert_not_reached();
    }
}

static void step_done(SvFamilyClient *fc, void *ret, const GError *error, gpointer data)
{
    SvNetportWork *work = data;
    g_autoptr(GError) err = NULL;

    (void)fc;
    if (!step_take(work, ret, error, &err)) {
        if (work->mode == MODE_RELEASE) {
            /* libvirt logs a port it could not release and goes on with the next. */
            g_message("cannot release port of network '%s': %s",
                      ((Port *)work->ports->pdata[work->at])->network, err->message);
            next_port(work);
            return;
        }
        finish(work, err);
        return;
    }
    if (work->step == STEP_DONE)
        next_port(work);
    else
        step_send(work);
}

/* The port of the network last looked up with `uuid_text`. */
static remote_nonnull_network_port port_ref(const SvNetportWork *work, const char *uuid_text)
{
    remote_nonnull_network_port port = {work->net, {0}};

    sv_uuid_parse(uuid_text, (guint8 *)port.uuid);
    return port;
}

static void step_send(SvNetportWork *work)
{
    Port *p = work->ports->pdata[work->at];

#define CALL(PROC, ARGS, args, RET, RETSIZE)                                                       \
    sv_family_client_call(work->fc, PROC, (xdrproc_t)xdr_##ARGS, args, (xdrproc_t)xdr_##RET,       \
                          RETSIZE, step_done, work)
    switch (work->step) {
    case STEP_NETWORK: {
        remote_network_lookup_by_name_args a = {p->network};
        CALL(REMOTE_PROC_NETWORK_LOOKUP_BY_NAME, remote_network_lookup_by_name_args, &a,
             remote_network_lookup_by_name_ret, sizeof(remote_network_lookup_by_name_ret));
        break;
    }
    case STEP_LOOKUP: {
        remote_network_port_lookup_by_uuid_args a = {work->net, {0}};
        sv_uuid_parse(p->portid, (guint8 *)a.uuid);
        CALL(REMOTE_PROC_NETWORK_PORT_LOOKUP_BY_UUID, remote_network_port_lookup_by_uuid_args, &a,
             remote_network_port_lookup_by_uuid_ret,
             sizeof(remote_network_port_lookup_by_uuid_ret));
        break;
    }
    case STEP_CREATE: {
        gboolean reclaim = work->mode == MODE_RECONNECT;
        g_autofree char *xml = port_xml(work, p, reclaim);
        remote_network_port_create_xml_args a = {work->net, xml,
                                                 reclaim ? SV_NETWORK_PORT_CREATE_RECLAIM : 0};
        CALL(REMOTE_PROC_NETWORK_PORT_CREATE_XML, remote_network_port_create_xml_args, &a,
             remote_network_port_create_xml_ret, sizeof(remote_network_port_create_xml_ret));
        break;
    }
    case STEP_XML: {
        remote_network_port_get_xml_desc_args a = {port_ref(work, p->portid), 0};
        CALL(REMOTE_PROC_NETWORK_PORT_GET_XML_DESC, remote_network_port_get_xml_desc_args, &a,
             remote_network_port_get_xml_desc_ret, sizeof(remote_network_port_get_xml_desc_ret));
        break;
    }
    case STEP_DELETE: {
        remote_network_port_delete_args a = {port_ref(work, p->portid), 0};
        sv_family_client_call(work->fc, REMOTE_PROC_NETWORK_PORT_DELETE,
                              (xdrproc_t)xdr_remote_network_port_delete_args, &a,
                              (xdrproc_t)sv_xdr_void, 0, step_done, work);
        break;
    }
    case STEP_LEASES: {
        char *mac = p->mac;
        remote_network_get_dhcp_leases_args a = {work->net, &mac, 1, 0};
        CALL(REMOTE_PROC_NETWORK_GET_DHCP_LEASES, remote_network_get_dhcp_leases_args, &a,
             remote_network_get_dhcp_leases_ret, sizeof(remote_network_get_dhcp_leases_ret));
        break;
    }
    default:
        g_assert_not_reached();
    }
#undef CALL
}

/* ---------------------------------------------------------------- making works */

/* No connection: the work fails with its error (a release just ends). */
static gboolean tell_failure(gpointer data)
{
    SvNetportWork *work = data;
    g_autoptr(GError) error = g_steal_pointer(&work->failed);

    work->idle = 0;
    if (work->mode == MODE_RELEASE)
        g_message("cannot release network ports: %s", error->message);
    finish(work, error);
    return G_SOURCE_REMOVE;
}

static SvNetportWork *work_new(Mode mode, const SvDomainDef *def, const char *run_dir)
{
    SvNetportWork *work = g_new0(SvNetportWork, 1);

    work->mode = mode;
    work->ports = g_ptr_array_new_with_free_func(port_free);
    work->run_dir = g_strdup(run_dir);
    if (def) {
        work->owner_name = g_strdup(def->name);
        memcpy(work->owner_uuid, def->uuid, 16);
    }
    return work;
}

static Port *port_of(const SvDomainNetDef *n)
{
    Port *p = g_new0(Port, 1);

    p->network = g_strdup(n->network);
    p->portgroup = g_strdup(n->portgroup);
    p->mac = g_strdup(n->mac);
    p->ifname = g_strdup(n->target_dev);
    /* A port made again keeps the rates it had (libvirt's actual device's). */
    p->bandwidth = sv_netdev_bandwidth_copy(sv_domain_net_bandwidth(n));
    if (n->portid)
        g_strlcpy(p->portid, n->portid, sizeof(p->portid));
    p->plug_type = n->actual_type;
    p->bridge = g_strdup(n->actual_bridge);
    return p;
}

/* Start the work on its connection, or tell its failure from an idle; NULL (freed) when it
 * has no port. */
static SvNetportWork *work_start(SvNetportWork *work, const SvBackendIdentity *id)
{
    SvBackendIdentity own;

    if (!work->ports->len) {
        sv_netport_work_free(work);
        return NULL;
    }
    if (!id) {
        sv_backend_identity_of_daemon(&own);
        id = &own;
    }
    work->fc = sv_family_client_new(work->run_dir, SV_PROC_FAMILY_NETWORK, id, &work->failed);
    if (!work->fc)
        work->idle = g_idle_add(tell_failure, work);
    else
        step_send(work);
    return work;
}

SvNetportWork *sv_netport_allocate(const SvDomainDef *def, int index, const char *run_dir,
                                   const SvBackendIdentity *id, SvNetportDone done, gpointer data)
{
    SvNetportWork *work = work_new(MODE_ALLOCATE, def, run_dir);

    work->done = done;
    work->data = data;
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];

        if (n->type != SV_DOMAIN_NET_TYPE_NETWORK || n->actual_bridge ||
            (index >= 0 && (guint)index != i))
            continue;
        g_assert(n->mac);
        g_ptr_array_add(work->ports, port_of(n));
    }
    return work_start(work, id);
}

/* The interfaces of type network of def that have a port (all, or the one at index). */
static void add_plugged(SvNetportWork *work, const SvDomainDef *def, int index)
{
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];

        if (n->type == SV_DOMAIN_NET_TYPE_NETWORK && n->portid && (index < 0 || (guint)index == i))
            g_ptr_array_add(work->ports, port_of(n));
    }
}

SvNetportWork *sv_netport_reconnect(const SvDomainDef *def, const char *run_dir,
                                    const SvBackendIdentity *id, SvNetportDone done, gpointer data)
{
    SvNetportWork *work = work_new(MODE_RECONNECT, def, run_dir);

    work->done = done;
    work->data = data;
    add_plugged(work, def, -1);
    return work_start(work, id);
}

static void release_ports(const char *run_dir, GPtrArray *ports)
{
    SvNetportWork *work = work_new(MODE_RELEASE, NULL, run_dir);

    g_ptr_array_unref(work->ports);
    work->ports = ports;
    work_start(work, NULL);
}

void sv_netport_release(const SvDomainDef *def, int index, const char *run_dir)
{
    SvNetportWork *work = work_new(MODE_RELEASE, def, run_dir);

    add_plugged(work, def, index);
    work_start(work, NULL);
}

void sv_netport_leases(const SvDomainDef *def, const char *run_dir, const SvBackendIdentity *id,
                       gboolean hostname_only, SvNetportLeasesFunc done, gpointer data)
{
    SvNetportWork *work = work_new(MODE_LEASES, def, run_dir);

    work->hostname_only = hostname_only;
    work->leases_done = done;
    work->data = data;
    work->ifaces = g_array_new(FALSE, TRUE, sizeof(remote_domain_interface));
    g_array_set_clear_func(work->ifaces, ifaces_clear);
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];

        if (n->type == SV_DOMAIN_NET_TYPE_NETWORK && n->mac)
            g_ptr_array_add(work->ports, port_of(n));
    }
    if (!work->ports->len) {
        /* Nothing to ask: an empty answer, still later on the loop. */
        work->idle = g_idle_add(tell_failure, work);
        return;
    }
    work_start(work, id);
}

void
sv_netport_reconnected(const SvDomainDef *def, const GError *checked)
{
    if (checked)
        g_warning("domain %s: its network ports: %s", def->name, checked->message);
    for (guint i = 0; i < def->interfaces->len; i++) {
        const SvDomainNetDef *n = def->interfaces->pdata[i];
        g_autofree char *master = NULL;
        g_autoptr(GError) error = NULL;

        if (n->type != SV_DOMAIN_NET_TYPE_NETWORK || !n->actual_bridge || !n->target_dev ||
            !sv_netdev_exists(n->target_dev))
            continue;
        master = sv_netdev_get_master(n->target_dev);
        if (g_strcmp0(master, n->actual_bridge) == 0)
            continue;
        if (!sv_netdev_set_master(n->target_dev, n->actual_bridge, &error))
            g_message("cannot put %s back on bridge %s: %s", n->target_dev, n->actual_bridge,
                      error->message);
    }
}

void sv_netport_apply(const SvNetportWork *work, SvDomainDef *def)
{
    for (guint i = 0; i < work->ports->len; i++) {
        const Port *p = work->ports->pdata[i];

        for (guint k = 0; k < def->interfaces->len; k++) {
            SvDomainNetDef *n = def->interfaces->pdata[k];

            if (n->type != SV_DOMAIN_NET_TYPE_NETWORK || g_strcmp0(n->mac, p->mac) != 0 ||
                g_strcmp0(n->network, p->network) != 0)
                continue;
            sv_domain_net_clear_actual(n);
            n->portid = g_strdup(p->portid);
            n->actual_type = p->plug_type;
            n->actual_bridge = g_strdup(p->bridge);
            n->actual_bandwidth = sv_netdev_bandwidth_copy(p->port_bandwidth);
            break;
        }
    }
}
