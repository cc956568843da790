/* fuzz-network-xml.c: libFuzzer harness for network and network port XML
 * (conf/network_def.c and its parts, conf/network_port_def.c). Input: byte 0 picks what
 * the rest is (bit 0: a <networkport>, else a <network>; bit 1: a network is also checked
 * against libvirt's schema, VIR_NETWORK_DEFINE_VALIDATE); then the XML text.
 *
 * A document either parses or fails with an error of the NETWORK, XML or no domain. What
 * parses is formatted (inactive and live), and each output must parse again and, from then
 * on, format to the same text; a copy must format the same. (Once, not at once: libvirt
 * writes a <bandwidth> whose rates are all 0 as an empty element, which reads back as no
 * <bandwidth> at all; tests/data/network/bw-zero has libvirtd doing it.) Nothing that reaches dnsmasq's files (names,
 * host names, DNS records, the domain, the TFTP root and boot file, dnsmasq:options) may hold
 * a control character. */
#include <string.h>

#include "conf/network_def.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

#define FUZZ_MAX_XML (64 * 1024)

static void
check_error(const GError *error)
{
    int from = sv_error_get_from(error);

    g_assert(error != NULL);
    g_assert(from == SV_FROM_NETWORK || from == SV_FROM_XML || from == SV_FROM_NONE);
}

static void
assert_clean(const char *s)
{
    for (const char *p = s; p && *p; p++)
        g_assert((guchar)*p >= 0x20 && *p != 0x7f);
}

static void
check_ip_clean(const SvNetworkIpDef *ip)
{
    assert_clean(ip->tftp_root);
    assert_clean(ip->bootp_file);
    for (guint j = 0; j < ip->hosts->len; j++)
        assert_clean(((SvNetworkDhcpHost *)g_ptr_array_index(ip->hosts, j))->name);
}

/* What the parser promises dnsmasq's files. */
static void
check_dnsmasq_clean(const SvNetworkDef *def)
{
    assert_clean(def->name);
    assert_clean(def->domain);
    assert_clean(def->bridge.name);
    for (guint i = 0; i < def->dns.txts->len; i++) {
        const SvNetworkDnsTxt *t = g_ptr_array_index(def->dns.txts, i);

        assert_clean(t->name);
        assert_clean(t->value);
    }
    for (guint i = 0; i < def->dns.srvs->len; i++) {
        const SvNetworkDnsSrv *s = g_ptr_array_index(def->dns.srvs, i);

        assert_clean(s->domain);
        assert_clean(s->target);
    }
    for (guint i = 0; i < def->dns.hosts->len; i++) {
        const SvNetworkDnsHost *h = g_ptr_array_index(def->dns.hosts, i);

        for (guint j = 0; j < h->hostnames->len; j++)
            assert_clean(g_ptr_array_index(h->hostnames, j));
    }
    for (guint i = 0; i < def->dns.forwarders->len; i++)
        assert_clean(((SvNetworkDnsForwarder *)g_ptr_array_index(def->dns.forwarders, i))->domain);
    for (guint i = 0; i < def->ips->len; i++)
        check_ip_clean(g_ptr_array_index(def->ips, i));
    for (guint i = 0; i < def->dnsmasq_options->len; i++)
        assert_clean(g_ptr_array_index(def->dnsmasq_options, i));
}

/* parse(out) formatted again with the flags that made out (the live count of ports is the
 * driver's, not read back from XML). (transfer full) */
static char *
reformat(const char *out, unsigned int flags, guint connections)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvNetworkDef) again = sv_network_def_parse(out, 0, &error);

    if (!again)
        g_error("formatted network XML does not parse: %s\n%s", error->message, out);
    again->connections = connections;
    return sv_network_def_format(again, flags);
}

static void
check_fixed_point(const char *out, unsigned int flags, guint connections)
{
    g_autofree char *second = reformat(out, flags, connections);
    g_autofree char *third = reformat(second, flags, connections);

    if (strcmp(second, third) != 0)
        g_error("format is not a fixed point:\n%s\n---\n%s", second, third);
}

static void
fuzz_network(const char *xml, unsigned int parse_flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvNetworkDef) def = sv_network_def_parse(xml, parse_flags, &error);
    g_autoptr(SvNetworkDef) copy = NULL;
    g_autofree char *out = NULL, *live = NULL, *copied = NULL;

    g_assert((def == NULL) == (error != NULL));
    if (!def) {
        check_error(error);
        return;
    }
    check_dnsmasq_clean(def);
    out = sv_network_def_format(def, SV_NETWORK_FORMAT_INACTIVE);
    check_fixed_point(out, SV_NETWORK_FORMAT_INACTIVE, 0);
    def->connections = 2;
    live = sv_network_def_format(def, 0);
    check_fixed_point(live, 0, def->connections);
    copy = sv_network_def_copy(def);
    copied = sv_network_def_format(copy, 0);
    g_assert(strcmp(copied, live) == 0);
}

static void
fuzz_port(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvNetworkPortDef) def = sv_network_port_def_parse(xml, &error);
    g_autoptr(SvNetworkPortDef) again = NULL;
    g_autofree char *out = NULL, *second = NULL;

    g_assert((def == NULL) == (error != NULL));
    if (!def) {
        check_error(error);
        return;
    }
    out = sv_network_port_def_format(def);
    again = sv_network_port_def_parse(out, &error);
    if (!again)
        g_error("formatted port XML does not parse: %s\n%s", error->message, out);
    second = sv_network_port_def_format(again);
    g_clear_pointer(&again, sv_network_port_def_free);
    again = sv_network_port_def_parse(second, &error);
    if (!again)
        g_error("formatted port XML does not parse: %s\n%s", error->message, second);
    g_free(out);
    out = sv_network_port_def_format(again);
    if (strcmp(second, out) != 0)
        g_error("port format is not a fixed point:\n%s\n---\n%s", second, out);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    g_autofree char *xml = NULL;

    if (size < 1 || size > FUZZ_MAX_XML)
        return 0;
    xml = g_strndup((const char *)data + 1, size - 1);
    if (data[0] & 1)
        fuzz_port(xml);
    else
        fuzz_network(xml, (data[0] & 2) ? SV_NETWORK_PARSE_VALIDATE : 0);
    return 0;
}
