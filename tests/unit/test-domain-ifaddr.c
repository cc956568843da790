/* test-domain-ifaddr.c: the ARP source of a guest's interface addresses
 * (domain/domain_ifaddr.h): the entries of /proc/net/arp whose MAC is one of the guest's
 * NICs' (any case), one interface each, named after the NIC's host device, prefix 0;
 * others (another MAC, an incomplete entry, a short line) are left out. */
#include "domain/domain_ifaddr.h"

#include <rpc/xdr.h>

static const char ARP[] =
    "IP address       HW type     Flags       HW address            Mask     Device\n"
    "192.168.78.2     0x1         0x2         52:54:00:5a:17:0b     *        br0\n"
    "192.168.78.9     0x1         0x2         52:54:00:00:00:09     *        br0\n"
    "192.168.78.7     0x1         0x0         00:00:00:00:00:00     *        br0\n"
    "10.0.0.5         0x1         0x2         52:54:00:5A:17:0C     *        br1\n"
    "broken line\n";

static SvDomainDef *
def_with_nics(void)
{
    g_autoptr(GError) error = NULL;
    SvDomainDef *def = sv_domain_def_parse(
        "<domain type='qemu'><name>t</name><memory>65536</memory><os><type>hvm</type></os>"
        "<devices><interface type='bridge'><source bridge='br0'/>"
        "<mac address='52:54:00:5a:17:0b'/><target dev='vnet3'/></interface>"
        "<interface type='bridge'><source bridge='br1'/>"
        "<mac address='52:54:00:5a:17:0c'/><target dev='vnet4'/></interface>"
        "</devices></domain>",
        0, &error);

    g_assert_no_error(error);
    return def;
}

static void
test_arp(void)
{
    g_autoptr(SvDomainDef) def = def_with_nics();
    GArray *ifaces = g_array_new(FALSE, TRUE, sizeof(remote_domain_interface));
    remote_domain_interface_addresses_ret ret = {0};
    remote_domain_interface *i;

    sv_domain_ifaddr_from_arp(def, ARP, ifaces);
    sv_domain_ifaddr_set(&ret, ifaces);
    g_assert_cmpuint(ret.ifaces.ifaces_len, ==, 2);
    i = &ret.ifaces.ifaces_val[0];
    g_assert_cmpstr(i->name, ==, "vnet3");
    g_assert_cmpstr(*i->hwaddr, ==, "52:54:00:5a:17:0b");
    g_assert_cmpuint(i->addrs.addrs_len, ==, 1);
    g_assert_cmpstr(i->addrs.addrs_val[0].addr, ==, "192.168.78.2");
    g_assert_cmpuint(i->addrs.addrs_val[0].prefix, ==, 0);
    g_assert_cmpint(i->addrs.addrs_val[0].type, ==, SV_IP_ADDR_TYPE_IPV4);
    i = &ret.ifaces.ifaces_val[1];
    g_assert_cmpstr(i->name, ==, "vnet4");
    g_assert_cmpstr(*i->hwaddr, ==, "52:54:00:5a:17:0c");
    g_assert_cmpstr(i->addrs.addrs_val[0].addr, ==, "10.0.0.5");
    xdr_free((xdrproc_t)xdr_remote_domain_interface_addresses_ret, (char *)&ret);
}

static void
test_arp_empty(void)
{
    g_autoptr(SvDomainDef) def = def_with_nics();
    GArray *ifaces = g_array_new(FALSE, TRUE, sizeof(remote_domain_interface));

    sv_domain_ifaddr_from_arp(def, "", ifaces);
    sv_domain_ifaddr_from_arp(def, ARP, ifaces); /* appends */
    g_assert_cmpuint(ifaces->len, ==, 2);
    sv_domain_ifaddr_from_arp(def, "IP address HW type Flags HW address Mask Device\n", ifaces);
    g_assert_cmpuint(ifaces->len, ==, 2);
    for (guint n = 0; n < ifaces->len; n++)
        xdr_free((xdrproc_t)xdr_remote_domain_interface,
                 (char *)&g_array_index(ifaces, remote_domain_interface, n));
    g_array_free(ifaces, TRUE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-ifaddr/arp", test_arp);
    g_test_add_func("/domain-ifaddr/arp-empty", test_arp_empty);
    return g_test_run();
}
