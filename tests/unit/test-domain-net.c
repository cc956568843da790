/* test-domain-net.c: what the <interface> golden files cannot show: the string tables,
 * which target names a new definition forgets, generated MAC addresses, and a network
 * port's live state in status files and live XML. */
#include <string.h>

#include "conf/domain_conf.h"
#include "util/error.h"

typedef const char *(*ToString)(int v);
typedef int (*FromString)(const char *s);

static void
check_table(ToString to, FromString from, int last)
{
    for (int i = 0; i < last; i++) {
        g_assert_nonnull(to(i));
        g_assert_cmpint(from(to(i)), ==, i);
    }
    g_assert_null(to(last));
    g_assert_null(to(-1));
    g_assert_cmpint(from("no-such-value"), ==, -1);
    g_assert_cmpint(from(NULL), ==, -1);
}

static void
test_tables(void)
{
    check_table(sv_domain_net_type_to_string, sv_domain_net_type_from_string,
                SV_DOMAIN_NET_TYPE_LAST);
    check_table(sv_domain_net_backend_to_string, sv_domain_net_backend_from_string,
                SV_DOMAIN_NET_BACKEND_LAST);
    check_table(sv_domain_net_macvtap_mode_to_string, sv_domain_net_macvtap_mode_from_string,
                SV_DOMAIN_NET_MACVTAP_LAST);
    check_table(sv_domain_net_link_state_to_string, sv_domain_net_link_state_from_string,
                SV_DOMAIN_NET_LINK_LAST);
}

static SvDomainDef *
parse_iface(const char *iface, guint flags)
{
    g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>n</name>"
                                           "<memory>65536</memory><os><type>hvm</type></os>"
                                           "<devices>%s</devices></domain>",
                                           iface);
    g_autoptr(GError) error = NULL;
    SvDomainDef *def = sv_domain_def_parse(xml, flags, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(def->interfaces->len, ==, 1);
    return def;
}

static const char *
target_of(const SvDomainDef *def)
{
    return ((SvDomainNetDef *)def->interfaces->pdata[0])->target_dev;
}

/* A name the daemon chose (vnetN, macvtapN, macvlanN) is live state: a define forgets
 * it, a live definition read back keeps it; a name the user chose, or a tap that is not
 * the daemon's (managed='no'), is kept either way. As libvirtd 9.0 does. */
static void
test_inactive_target(void)
{
    static const struct {
        const char *iface;
        const char *inactive;
    } cases[] = {
        {"<interface type='bridge'><source bridge='br0'/><target dev='vnet7'/></interface>",
         NULL},
        {"<interface type='direct'><source dev='eth0'/><target dev='macvtap2'/></interface>",
         NULL},
        {"<interface type='ethernet'><target dev='macvlan0'/></interface>", NULL},
        {"<interface type='ethernet'><target dev='vnet5' managed='no'/></interface>", "vnet5"},
        {"<interface type='ethernet'><target dev='tap9'/></interface>", "tap9"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(SvDomainDef) defined = parse_iface(cases[i].iface, SV_DOMAIN_PARSE_INACTIVE);
        g_autoptr(SvDomainDef) live = parse_iface(cases[i].iface, 0);

        g_assert_cmpstr(target_of(defined), ==, cases[i].inactive);
        g_assert_nonnull(target_of(live));
    }
}

/* A port's id and plug (type network): a status file keeps them as libvirt's <actual>, the
 * live XML shows them on <source> (a host bridge's port as type 'bridge'), a define drops
 * them; libvirtd 9.0's shapes. */
static void
test_network_actual(void)
{
    static const char *iface =
        "<interface type='network'><mac address='52:54:00:11:22:33'/>"
        "<source network='lan' portid='926fe6f4-4782-463f-8c45-e7c823a82c03'/>"
        "<actual type='bridge'><source bridge='br7'/></actual><target dev='vnet3'/>"
        "</interface>";
    g_autoptr(SvDomainDef) status = parse_iface(iface, SV_DOMAIN_PARSE_STATUS);
    g_autoptr(SvDomainDef) given = parse_iface(iface, 0);
    g_autoptr(SvDomainDef) copy = NULL;
    SvDomainNetDef *n = status->interfaces->pdata[0];
    g_autofree char *live = NULL;
    g_autofree char *inactive = NULL;
    g_autofree char *file = NULL;

    g_assert_cmpstr(n->actual_bridge, ==, "br7");
    g_assert_cmpstr(sv_domain_net_bridge(n), ==, "br7");
    g_assert_cmpint(n->actual_type, ==, SV_DOMAIN_NET_TYPE_BRIDGE);
    /* Only a status file's <actual> is read. */
    g_assert_null(((SvDomainNetDef *)given->interfaces->pdata[0])->actual_bridge);
    g_assert_cmpstr(((SvDomainNetDef *)given->interfaces->pdata[0])->portid, ==,
                    "926fe6f4-4782-463f-8c45-e7c823a82c03");
    live = sv_domain_def_format(status, 1, 0);
    g_assert_nonnull(strstr(live, "<interface type='bridge'>\n      <mac address='52:54:00:11:22:33'/>\n"
                                  "      <source network='lan' "
                                  "portid='926fe6f4-4782-463f-8c45-e7c823a82c03' "
                                  "bridge='br7'/>\n      <target dev='vnet3'/>\n"));
    inactive = sv_domain_def_format(status, -1, SV_DOMAIN_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(inactive, "<interface type='network'>\n"));
    g_assert_nonnull(strstr(inactive, "<source network='lan'/>\n"));
    g_assert_null(strstr(inactive, "actual"));
    file = sv_domain_def_format(status, 1, SV_DOMAIN_FORMAT_STATUS);
    g_assert_nonnull(strstr(file, "<source network='lan' portid='926fe6f4-4782-463f-8c45-"
                                  "e7c823a82c03'/>\n      <actual type='bridge'>\n"
                                  "        <source bridge='br7'/>\n      </actual>\n"));
    copy = sv_domain_def_copy(status);
    n = copy->interfaces->pdata[0];
    g_assert_cmpstr(n->actual_bridge, ==, "br7");
    sv_domain_net_clear_actual(n);
    g_assert_null(n->portid);
    g_assert_null(sv_domain_net_bridge(n));
}

/* The port's rates (its port group's): kept inside <actual> in a status file, shown on the
 * live XML in place of the interface's own, which a definition keeps. */
static void
test_network_actual_bandwidth(void)
{
    static const char *iface =
        "<interface type='network'><mac address='52:54:00:11:22:33'/>"
        "<source network='lan' portid='926fe6f4-4782-463f-8c45-e7c823a82c03'/>"
        "<actual type='network'><source bridge='virbr1'/>"
        "<bandwidth><inbound average='300'/></bandwidth></actual>"
        "<bandwidth><outbound average='100'/></bandwidth></interface>";
    g_autoptr(SvDomainDef) status = parse_iface(iface, SV_DOMAIN_PARSE_STATUS);
    g_autoptr(SvDomainDef) copy = sv_domain_def_copy(status);
    const SvDomainNetDef *n = copy->interfaces->pdata[0];
    g_autofree char *live = sv_domain_def_format(status, 1, 0);
    g_autofree char *inactive = sv_domain_def_format(status, -1, SV_DOMAIN_FORMAT_INACTIVE);

    g_assert_cmpuint(sv_domain_net_bandwidth(n)->in->average, ==, 300);
    g_assert_cmpuint(n->bandwidth->out->average, ==, 100);
    g_assert_nonnull(strstr(live, "<bandwidth>\n        <inbound average='300'/>"));
    g_assert_null(strstr(live, "average='100'"));
    g_assert_nonnull(strstr(inactive, "<outbound average='100'/>"));
    g_assert_null(strstr(inactive, "average='300'"));
}

static void
test_generated_mac(void)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autofree char *first = NULL;
    g_autofree char *again = NULL;

    for (guint i = 0; i < 64; i++) {
        char *mac = sv_domain_net_generate_mac();
        g_autofree char *xml = g_strdup_printf("<interface type='user'><mac address='%s'/>"
                                               "</interface>",
                                               mac);
        g_autoptr(SvDomainDef) def = parse_iface(xml, SV_DOMAIN_PARSE_INACTIVE);

        /* QEMU's prefix, lowercase, and what the parser stores unchanged. */
        g_assert_true(g_str_has_prefix(mac, "52:54:00:"));
        g_assert_cmpuint(strlen(mac), ==, 17);
        g_assert_cmpstr(((SvDomainNetDef *)def->interfaces->pdata[0])->mac, ==, mac);
        g_hash_table_add(seen, mac);
    }
    /* 24 random bits: 64 draws all differ unless the generator is broken. */
    g_assert_cmpuint(g_hash_table_size(seen), >, 60);
    sv_domain_net_seed_mac(5);
    first = sv_domain_net_generate_mac();
    sv_domain_net_seed_mac(5);
    again = sv_domain_net_generate_mac();
    g_assert_cmpstr(first, ==, again);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-net/tables", test_tables);
    g_test_add_func("/domain-net/inactive-target", test_inactive_target);
    g_test_add_func("/domain-net/generated-mac", test_generated_mac);
    g_test_add_func("/domain-net/network-actual", test_network_actual);
    g_test_add_func("/domain-net/network-actual-bandwidth", test_network_actual_bandwidth);
    return g_test_run();
}
