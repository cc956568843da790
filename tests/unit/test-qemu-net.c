/* test-qemu-net.c: the QEMU driver's MACs at define (qemu_net_assign_macs): generated for
 * interfaces without one, never one the daemon's domains already use; and what a stopped
 * guest's interfaces leave to clear (qemu_interface_release), through a recording tc. */
#include "conf/domain_obj.h"
#include "qemu_command_net.h"
#include "qemu_interface.h"
#include "util/netdev_bandwidth.h"

static SvDomainDef *
def_with(const char *name, const char *ifaces)
{
    g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>%s</name>"
                                           "<memory>65536</memory><os><type>hvm</type></os>"
                                           "<devices>%s</devices></domain>",
                                           name, ifaces);
    g_autoptr(GError) error = NULL;
    SvDomainDef *def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);

    g_assert_no_error(error);
    return def;
}

static const char *
mac_of(const SvDomainDef *def, guint i)
{
    return ((SvDomainNetDef *)def->interfaces->pdata[i])->mac;
}

static void
test_unique(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    g_autofree char *first = NULL;
    g_autofree char *iface = NULL;
    g_autoptr(SvDomainDef) def = NULL;

    /* The MAC the next draw gives is taken by a defined domain... */
    sv_domain_net_seed_mac(99);
    first = sv_domain_net_generate_mac();
    iface = g_strdup_printf("<interface type='user'><mac address='%s'/></interface>", first);
    sv_domain_list_add(list, def_with("other", iface), TRUE);
    /* ...so the same draw for a new definition is thrown away; a given MAC is kept. */
    sv_domain_net_seed_mac(99);
    def = def_with("new", "<interface type='user'/>"
                          "<interface type='user'><mac address='52:54:00:aa:bb:cc'/></interface>"
                          "<interface type='user'/>");
    qemu_net_assign_macs(def, list);
    g_assert_true(g_str_has_prefix(mac_of(def, 0), "52:54:00:"));
    g_assert_cmpstr(mac_of(def, 0), !=, first);
    g_assert_cmpstr(mac_of(def, 1), ==, "52:54:00:aa:bb:cc");
    g_assert_cmpstr(mac_of(def, 2), !=, first);
    g_assert_cmpstr(mac_of(def, 2), !=, mac_of(def, 0));
}

static gboolean
record(const char *const *argv, gboolean ignore_status, gpointer data, GError **error)
{
    (void)ignore_status;
    (void)error;
    g_ptr_array_add(data, g_strjoinv(" ", (char **)argv));
    return TRUE;
}

/* Only a tap given with managed='no' that had <bandwidth> outlives the guest with qdiscs:
 * they are deleted (libvirt's clear); the taps the daemon made are gone with QEMU. */
static void
test_release_clears_given_tap(void)
{
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    const char *bw = "<bandwidth><inbound average='10'/></bandwidth>";
    g_autofree char *ifaces = g_strdup_printf(
        "<interface type='ethernet'><target dev='given0' managed='no'/>%s</interface>"
        "<interface type='ethernet'><target dev='given1' managed='no'/></interface>"
        "<interface type='ethernet'><target dev='made0'/>%s</interface>"
        "<interface type='user'>%s</interface>", bw, bw, bw);
    g_autoptr(SvDomainDef) def = def_with("stopped", ifaces);

    sv_netdev_bandwidth_set_runner(record, lines);
    qemu_interface_release(def);
    sv_netdev_bandwidth_set_runner(NULL, NULL);
    g_assert_cmpuint(lines->len, ==, 2);
    g_assert_cmpstr(lines->pdata[0], ==, "tc qdisc del dev given0 root");
    g_assert_cmpstr(lines->pdata[1], ==, "tc qdisc del dev given0 ingress");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-net/unique-macs", test_unique);
    g_test_add_func("/qemu-net/release-clears-given-tap", test_release_clears_given_tap);
    return g_test_run();
}
