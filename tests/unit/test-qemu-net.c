/* test-qemu-net.c: the QEMU driver's MACs at define (qemu_net_assign_macs): generated for
 * interfaces without one, never one the daemon's domains already use. */
#include "conf/domain_obj.h"
#include "qemu_command_net.h"

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

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qemu-net/unique-macs", test_unique);
    return g_test_run();
}
