/* fuzz-net-dnsmasq.c: libFuzzer harness for a network's dnsmasq files
 * (src/virtnetworkd/net_dnsmasq.c) from network XML (conf/network_def.c). Input: the XML.
 *
 * Whatever parses gives a configuration (or a NETWORK-domain error) whose every line is a
 * comment of libvirt's header, one of the options the generator writes, or one of the
 * definition's own <dnsmasq:option>s: no value of the definition can add an option, split a
 * line or repeat the ones that fix where dnsmasq listens. The hosts files keep one line per
 * host with the fields dnsmasq reads. */
#include <string.h>

#include "net_dnsmasq.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

#define FUZZ_MAX_XML (64 * 1024)

static const char *const KEYS[] = {
    "strict-order", "port=0", "server=", "no-resolv", "local=", "domain=", "expand-hosts",
    "domain-needed", "pid-file=", "except-interface=lo", "bind-dynamic", "interface=",
    "dhcp-option=3", "dhcp-option=option:mtu,", "ra-param=*,0,0", "txt-record=", "srv-host=",
    "enable-tftp", "tftp-root=", "dhcp-range=", "dhcp-no-override", "dhcp-authoritative",
    "dhcp-boot=", "dhcp-lease-max=", "dhcp-hostsfile=", "addn-hosts=", "enable-ra", NULL,
};

static gboolean
known_line(const SvNetworkDef *def, const char *line)
{
    if (g_str_has_prefix(line, "##"))
        return TRUE;
    for (guint i = 0; def->dnsmasq_options && i < def->dnsmasq_options->len; i++)
        if (g_str_equal(line, g_ptr_array_index(def->dnsmasq_options, i)))
            return TRUE;
    for (guint i = 0; KEYS[i]; i++)
        if (g_str_has_prefix(line, KEYS[i]))
            return TRUE;
    return FALSE;
}

static void
check_conf(const SvNetworkDef *def, const char *conf)
{
    g_auto(GStrv) lines = g_strsplit(conf, "\n", -1);
    guint interfaces = 0, pidfiles = 0, options = def->dnsmasq_options ?
                                                  def->dnsmasq_options->len : 0;

    g_assert(g_str_has_suffix(conf, "\n"));
    for (guint i = 0; lines[i] && lines[i + 1]; i++) {
        if (!known_line(def, lines[i]))
            g_error("line %u of the configuration is no option of ours: %s\n%s", i, lines[i],
                    conf);
        interfaces += g_str_has_prefix(lines[i], "interface=");
        pidfiles += g_str_has_prefix(lines[i], "pid-file=");
    }
    /* the user's own options may say anything; without them, these are fixed */
    if (options == 0)
        g_assert(interfaces == 1 && pidfiles == 1);
}

static void
check_hosts(const char *text, guint max_fields)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (guint i = 0; lines[i] && lines[i + 1]; i++) {
        g_auto(GStrv) fields = g_strsplit(lines[i], ",", -1);
        if (g_strv_length(fields) > max_fields)
            g_error("hosts file line with too many fields: %s", lines[i]);
    }
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    g_autofree char *xml = NULL;
    g_autofree char *conf = NULL, *hosts = NULL, *addn = NULL;
    g_autoptr(SvNetworkDef) def = NULL;
    g_autoptr(GError) error = NULL;
    SvNetDnsmasqPaths paths = {"/run/n.pid", "/d/n.hostsfile", "/d/n.addnhosts"};

    if (size > FUZZ_MAX_XML)
        return 0;
    xml = g_strndup((const char *)data, size);
    if (!(def = sv_network_def_parse(xml, 0, NULL)))
        return 0;
    if (!def->bridge.name)
        def->bridge.name = g_strdup("virbr0"); /* the driver's job at define */
    conf = sv_net_dnsmasq_conf(def, &paths, &error);
    g_assert((conf == NULL) == (error != NULL));
    if (!conf) {
        g_assert(sv_error_get_from(error) == SV_FROM_NETWORK);
        return 0;
    }
    check_conf(def, conf);
    /* mac|id:DUID, name, [ip] or ip, lease time */
    hosts = sv_net_dnsmasq_hostsfile(def);
    check_hosts(hosts, 4);
    addn = sv_net_dnsmasq_addnhosts(def);
    g_assert(!strchr(addn, ','));
    return 0;
}
