/* test-domain-netport.c: guest interfaces' ports on networks (domain/domain_netport.c), in
 * one process: server N, a stand-in virtnetworkd on RUN/virtnetworkd-sock with networks
 * "lan" (ports plugged on bridge virbr3) and "host" (plugged on the host bridge br0),
 * records the port XML it is given and the ports it holds; the client side runs on the
 * same loop. */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf/network_def.h"
#include "conf/uuid.h"
#include "domain/domain_netport.h"
#include "programs/remote.h"
#include "protocol/remote_dispatch.h"
#include "protocol/sv_wire_constants.h"
#include "rpc-test.h"
#include "util/error.h"

typedef struct {
    char *run;
    SvServer *n;
    SvRemoteHandlers remote;
    GHashTable *ports;  /* port uuid text -> its network's name */
    GPtrArray *created; /* the XML of each create, "FLAGS XML" */
    guint deletes;
    /* the client side */
    gboolean done;
    GError *error;
    SvNetportWork *work;
    GArray *ifaces;
    char *hostname;
} Fixture;

static Fixture *fx;

static const char *bridge_of(const char *network)
{
    return g_str_equal(network, "lan") ? "virbr3" : "br0";
}

static gboolean n_open(SvCall *call, remote_connect_open_args *a, GError **error)
{
    (void)call, (void)error;
    g_assert_cmpstr(*a->name, ==, "network:///system");
    return TRUE;
}

static gboolean n_identity(SvCall *call, remote_connect_set_identity_args *a, GError **error)
{
    (void)call, (void)a, (void)error;
    return TRUE;
}

static gboolean n_lookup(SvCall *call, remote_network_lookup_by_name_args *a,
                         remote_network_lookup_by_name_ret *ret, GError **error)
{
    (void)call;
    if (!g_str_equal(a->name, "lan") && !g_str_equal(a->name, "host")) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_NO_NETWORK,
                     "no network with matching name '%s'", a->name);
        return FALSE;
    }
    ret->net.name = g_strdup(a->name);
    ret->net.uuid[0] = a->name[0];
    return TRUE;
}

static gboolean n_create(SvCall *call, remote_network_port_create_xml_args *a,
                         remote_network_port_create_xml_ret *ret, GError **error)
{
    g_autoptr(SvNetworkPortDef) p = sv_network_port_def_parse(a->xml, error);
    char uuid[SV_UUID_STRING_LEN + 1];

    (void)call;
    if (!p)
        return FALSE;
    g_assert_cmpint(a->network.uuid[0], ==, a->network.name[0]);
    g_ptr_array_add(fx->created, g_strdup_printf("%u %s", a->flags, a->xml));
    sv_uuid_format(p->uuid, uuid);
    g_hash_table_insert(fx->ports, g_strdup(uuid), g_strdup(a->network.name));
    ret->port.net.name = g_strdup(a->network.name);
    memcpy(ret->port.net.uuid, a->network.uuid, sizeof(ret->port.net.uuid));
    memcpy(ret->port.uuid, p->uuid, 16);
    return TRUE;
}

static gboolean known(const char *network, const char *uuid_bytes, char *out, GError **error)
{
    sv_uuid_format((const guint8 *)uuid_bytes, out);
    if (g_strcmp0(g_hash_table_lookup(fx->ports, out), network) == 0)
        return TRUE;
    sv_error_set(error, SV_FROM_NETWORK, SV_ERR_NO_NETWORK_PORT,
                 "network port with UUID %s not found", out);
    return FALSE;
}

static gboolean n_port_lookup(SvCall *call, remote_network_port_lookup_by_uuid_args *a,
                              remote_network_port_lookup_by_uuid_ret *ret, GError **error)
{
    char uuid[SV_UUID_STRING_LEN + 1];

    (void)call;
    if (!known(a->network.name, a->uuid, uuid, error))
        return FALSE;
    ret->port.net.name = g_strdup(a->network.name);
    memcpy(ret->port.uuid, a->uuid, 16);
    return TRUE;
}

static gboolean n_port_xml(SvCall *call, remote_network_port_get_xml_desc_args *a,
                           remote_network_port_get_xml_desc_ret *ret, GError **error)
{
    char uuid[SV_UUID_STRING_LEN + 1];
    const char *plug = g_str_equal(a->port.net.name, "lan") ? "network" : "bridge";

    (void)call;
    if (!known(a->port.net.name, a->port.uuid, uuid, error))
        return FALSE;
    /* "lan"'s ports get their port group's rates. */
    ret->xml = g_strdup_printf(
        "<networkport><uuid>%s</uuid><owner><name>g</name>"
        "<uuid>4a1d6c2e-98a4-4b1e-9a43-1f0c3c7d2e11</uuid></owner>"
        "<mac address='52:54:00:00:00:01'/>%s"
        "<plug type='%s' bridge='%s'/></networkport>",
        uuid,
        g_str_equal(plug, "network") ? "<bandwidth><outbound average='700'/></bandwidth>" : "",
        plug, bridge_of(a->port.net.name));
    return TRUE;
}

static gboolean n_port_delete(SvCall *call, remote_network_port_delete_args *a, GError **error)
{
    char uuid[SV_UUID_STRING_LEN + 1];

    (void)call;
    if (!known(a->port.net.name, a->port.uuid, uuid, error))
        return FALSE;
    g_hash_table_remove(fx->ports, uuid);
    fx->deletes++;
    return TRUE;
}

static gboolean n_leases(SvCall *call, remote_network_get_dhcp_leases_args *a,
                         remote_network_get_dhcp_leases_ret *ret, GError **error)
{
    remote_network_dhcp_lease *l;

    (void)call, (void)error;
    g_assert_nonnull(a->mac);
    if (!g_str_equal(*a->mac, "52:54:00:00:00:02"))
        return TRUE;
    l = g_new0(remote_network_dhcp_lease, 1);
    l->iface = g_strdup(bridge_of(a->net.name));
    l->type = 0;
    l->mac = g_new0(char *, 1);
    *l->mac = g_strdup(*a->mac);
    l->ipaddr = g_strdup("192.168.3.40");
    l->prefix = 24;
    l->hostname = g_new0(char *, 1);
    *l->hostname = g_strdup("guest-b");
    ret->leases.leases_val = l;
    ret->leases.leases_len = 1;
    ret->ret = 1;
    return TRUE;
}

static void setup(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    SvServerConfig cfg;
    int fd;

    fx = g_new0(Fixture, 1);
    fx->run = g_dir_make_tmp("sv-netport-XXXXXX", NULL);
    fx->ports = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    fx->created = g_ptr_array_new_with_free_func(g_free);
    sv_server_config_init(&cfg);
    fx->n = sv_server_new("n", &cfg);
    sv_remote_common_handlers(&fx->remote);
    fx->remote.connect_open = n_open;
    fx->remote.connect_set_identity = n_identity;
    fx->remote.network_lookup_by_name = n_lookup;
    fx->remote.network_port_create_xml = n_create;
    fx->remote.network_port_lookup_by_uuid = n_port_lookup;
    fx->remote.network_port_get_xml_desc = n_port_xml;
    fx->remote.network_port_delete = n_port_delete;
    fx->remote.network_get_dhcp_leases = n_leases;
    sv_remote_serve(fx->n, &fx->remote, NULL);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/virtnetworkd-sock", fx->run);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(fd, 16), ==, 0);
    sv_server_add_listener(fx->n, fd, FALSE);
}

static void teardown(void)
{
    g_autofree char *sock = g_strdup_printf("%s/virtnetworkd-sock", fx->run);
    g_autofree char *common = g_strdup_printf("%s/common", fx->run);
    g_autofree char *token = g_strdup_printf("%s/common/system.token", fx->run);

    rpc_test_spin(50);
    sv_server_shutdown(fx->n);
    sv_server_free(fx->n);
    unlink(sock);
    unlink(token);
    rmdir(common);
    g_assert_cmpint(rmdir(fx->run), ==, 0);
    g_free(fx->run);
    g_hash_table_unref(fx->ports);
    g_ptr_array_unref(fx->created);
    g_clear_error(&fx->error);
    if (fx->ifaces)
        g_array_unref(fx->ifaces);
    g_free(fx->hostname);
    g_clear_pointer(&fx, g_free);
}

static void wait_done(void)
{
    for (int i = 0; i < 5000 && !fx->done; i++)
        rpc_test_spin(1);
    g_assert_true(fx->done);
    fx->done = FALSE;
}

static void work_done(SvNetportWork *work, const GError *error, gpointer data)
{
    (void)data;
    fx->done = TRUE;
    fx->work = work;
    g_clear_error(&fx->error);
    if (error)
        fx->error = g_error_copy(error);
}

static SvDomainDef *guest(const char *interfaces)
{
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>g</name><uuid>4a1d6c2e-98a4-4b1e-9a43-1f0c3c7d2e11</uuid>"
        "<memory>65536</memory><os><type>hvm</type></os><devices>%s</devices></domain>",
        interfaces);
    g_autoptr(GError) error = NULL;
    SvDomainDef *def = sv_domain_def_parse(xml, 0, &error);

    g_assert_no_error(error);
    return def;
}

static const SvDomainNetDef *net_at(const SvDomainDef *def, guint i)
{
    return def->interfaces->pdata[i];
}

#define TWO_NICS                                                                                   \
    "<interface type='network'><mac address='52:54:00:00:00:01'/>"                                 \
    "<source network='lan' portgroup='pg'/>"                                                       \
    "<bandwidth><inbound average='100' floor='50'/></bandwidth></interface>"                       \
    "<interface type='user'/>"                                                                     \
    "<interface type='network'><mac address='52:54:00:00:00:02'/>"                                 \
    "<source network='host'/><target dev='vnet9'/></interface>"

/* A start's ports: one per interface of type network, in order, with libvirt's port XML
 * (owner, group, MAC, bandwidth); the plugs come back into the definition; a port is given
 * back at release. */
static void test_allocate_and_release(void)
{
    g_autoptr(SvDomainDef) def = guest(TWO_NICS);
    g_autoptr(SvNetworkPortDef) first = NULL;
    g_autoptr(GError) error = NULL;

    setup();
    g_assert_true(sv_netport_pending(def));
    g_assert_nonnull(sv_netport_allocate(def, -1, fx->run, NULL, work_done, NULL));
    wait_done();
    g_assert_no_error(fx->error);
    g_assert_cmpuint(fx->created->len, ==, 2);
    g_assert_true(g_str_has_prefix(fx->created->pdata[0], "0 "));
    first = sv_network_port_def_parse((char *)fx->created->pdata[0] + 2, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(first->owner_name, ==, "g");
    g_assert_cmpstr(first->group, ==, "pg");
    g_assert_cmpstr(first->mac, ==, "52:54:00:00:00:01");
    g_assert_cmpuint(first->bandwidth->in->floor, ==, 50);
    g_assert_cmpint(first->plug_type, ==, SV_NETWORK_PORT_PLUG_NONE);
    sv_netport_apply(fx->work, def);
    g_clear_pointer(&fx->work, sv_netport_work_free);
    g_assert_false(sv_netport_pending(def));
    g_assert_cmpstr(sv_domain_net_bridge(net_at(def, 0)), ==, "virbr3");
    g_assert_cmpint(net_at(def, 0)->actual_type, ==, SV_DOMAIN_NET_TYPE_NETWORK);
    /* The port's rates are the tap's; the interface keeps its own. */
    g_assert_cmpuint(sv_domain_net_bandwidth(net_at(def, 0))->out->average, ==, 700);
    g_assert_cmpuint(net_at(def, 0)->bandwidth->in->average, ==, 100);
    g_assert_null(sv_domain_net_bandwidth(net_at(def, 2)));
    g_assert_cmpstr(sv_domain_net_bridge(net_at(def, 2)), ==, "br0");
    g_assert_cmpint(net_at(def, 2)->actual_type, ==, SV_DOMAIN_NET_TYPE_BRIDGE);
    g_assert_true(g_hash_table_contains(fx->ports, net_at(def, 0)->portid));
    g_assert_true(g_hash_table_contains(fx->ports, net_at(def, 2)->portid));
    /* Nothing left to allocate. */
    g_assert_null(sv_netport_allocate(def, -1, fx->run, NULL, work_done, NULL));

    sv_netport_release(def, 2, fx->run);
    for (int i = 0; i < 5000 && fx->deletes < 1; i++)
        rpc_test_spin(1);
    g_assert_cmpuint(g_hash_table_size(fx->ports), ==, 1);
    g_assert_true(g_hash_table_contains(fx->ports, net_at(def, 0)->portid));
    sv_domain_net_clear_actual(def->interfaces->pdata[2]); /* unplugged */
    sv_netport_release(def, -1, fx->run);
    for (int i = 0; i < 5000 && fx->deletes < 2; i++)
        rpc_test_spin(1);
    g_assert_cmpuint(g_hash_table_size(fx->ports), ==, 0);
    teardown();
}

/* The first error is the network daemon's, and the ports made before it go again. */
static void test_failure_undone(void)
{
    g_autoptr(SvDomainDef) def =
        guest("<interface type='network'><mac address='52:54:00:00:00:01'/>"
              "<source network='lan'/></interface>"
              "<interface type='network'><mac address='52:54:00:00:00:03'/>"
              "<source network='nosuch'/></interface>");

    setup();
    sv_netport_allocate(def, -1, fx->run, NULL, work_done, NULL);
    wait_done();
    g_assert_error(fx->error, sv_error_quark(SV_FROM_NETWORK), SV_ERR_NO_NETWORK);
    g_assert_cmpstr(fx->error->message, ==,
                    "Network not found: no network with matching name 'nosuch'");
    g_clear_pointer(&fx->work, sv_netport_work_free);
    for (int i = 0; i < 5000 && fx->deletes < 1; i++)
        rpc_test_spin(1);
    g_assert_cmpuint(fx->created->len, ==, 1);
    g_assert_cmpuint(g_hash_table_size(fx->ports), ==, 0);
    teardown();
}

/* A reconnect finds a port the network has, and makes again (RECLAIM, same id and plug) one
 * it lost. */
static void test_reconnect_reclaims(void)
{
    g_autoptr(SvDomainDef) def = guest(TWO_NICS);
    g_autoptr(SvNetworkPortDef) again = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *lost = NULL;

    setup();
    sv_netport_allocate(def, -1, fx->run, NULL, work_done, NULL);
    wait_done();
    sv_netport_apply(fx->work, def);
    g_clear_pointer(&fx->work, sv_netport_work_free);
    lost = g_strdup(net_at(def, 2)->portid);
    g_hash_table_remove(fx->ports, lost);
    g_ptr_array_set_size(fx->created, 0);
    g_assert_nonnull(sv_netport_reconnect(def, fx->run, NULL, work_done, NULL));
    wait_done();
    g_assert_no_error(fx->error);
    g_clear_pointer(&fx->work, sv_netport_work_free);
    g_assert_cmpuint(fx->created->len, ==, 1);
    g_assert_true(g_str_has_prefix(fx->created->pdata[0], "1 ")); /* RECLAIM */
    again = sv_network_port_def_parse((char *)fx->created->pdata[0] + 2, &error);
    g_assert_no_error(error);
    g_assert_cmpint(again->plug_type, ==, SV_NETWORK_PORT_PLUG_BRIDGE);
    g_assert_cmpstr(again->plug_bridge, ==, "br0");
    g_assert_true(g_hash_table_contains(fx->ports, lost));
    g_assert_cmpuint(g_hash_table_size(fx->ports), ==, 2);
    teardown();
}

static void leases_done(GArray *ifaces, const char *hostname, const GError *error, gpointer data)
{
    (void)data;
    g_assert_no_error((GError *)error);
    fx->done = TRUE;
    fx->ifaces = ifaces;
    fx->hostname = g_strdup(hostname);
}

/* The lease source: the interfaces with leases, named after their host devices; the
 * hostname a lease gives. */
static void test_leases(void)
{
    g_autoptr(SvDomainDef) def = guest(TWO_NICS);
    const remote_domain_interface *iface;

    setup();
    sv_netport_leases(def, fx->run, NULL, FALSE, leases_done, NULL);
    wait_done();
    g_assert_cmpuint(fx->ifaces->len, ==, 1);
    iface = &g_array_index(fx->ifaces, remote_domain_interface, 0);
    g_assert_cmpstr(iface->name, ==, "vnet9");
    g_assert_cmpstr(*iface->hwaddr, ==, "52:54:00:00:00:02");
    g_assert_cmpuint(iface->addrs.addrs_len, ==, 1);
    g_assert_cmpstr(iface->addrs.addrs_val[0].addr, ==, "192.168.3.40");
    g_assert_cmpuint(iface->addrs.addrs_val[0].prefix, ==, 24);
    g_assert_cmpstr(fx->hostname, ==, "guest-b");
    teardown();
}

/* No network daemon: every work fails with the connection's error, later on the loop. */
static void test_no_daemon(void)
{
    g_autoptr(SvDomainDef) def = guest(TWO_NICS);
    g_autofree char *sock = NULL;

    setup();
    sock = g_strdup_printf("%s/virtnetworkd-sock", fx->run);
    unlink(sock);
    sv_netport_allocate(def, -1, fx->run, NULL, work_done, NULL);
    g_assert_false(fx->done);
    wait_done();
    g_assert_nonnull(fx->error);
    g_assert_true(g_str_has_prefix(fx->error->message, "Failed to connect socket to '"));
    g_clear_pointer(&fx->work, sv_netport_work_free);
    teardown();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-netport/allocate-release", test_allocate_and_release);
    g_test_add_func("/domain-netport/failure-undone", test_failure_undone);
    g_test_add_func("/domain-netport/reconnect-reclaims", test_reconnect_reclaims);
    g_test_add_func("/domain-netport/leases", test_leases);
    g_test_add_func("/domain-netport/no-daemon", test_no_daemon);
    return g_test_run();
}
