/* sv-net-xml-tool.c: network and network port XML (conf/network_def.c) from the command
 * line, for tests/e2e/test_network_xml.py's comparison with libvirtd's net-define and
 * net-dumpxml, and for the fuzz corpus's seeds.
 *
 *   sv-net-xml-tool network [--validate] [--live] < network.xml
 *       parse as net-define does (--validate: VIR_NETWORK_DEFINE_VALIDATE; the driver's own
 *       checks and the bridge name and MAC it gives an L3 network are not made) and print the
 *       XML net-dumpxml --inactive (or, --live, net-dumpxml) writes; a copy is formatted
 *       too and must give the same text.
 *   sv-net-xml-tool port < networkport.xml
 *       parse a <networkport> and print it as net-port-dumpxml writes it.
 *
 * A refused document prints "error DOMAIN CODE" and the message on the next line, on
 * stdout, and exits 1 (libvirt's error domain and code numbers). */
#include <stdio.h>
#include <string.h>

#include "conf/network_def.h"
#include "util/error.h"

static char *
read_stdin(void)
{
    g_autoptr(GString) s = g_string_new(NULL);
    char buf[4096];
    size_t n;

    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
        g_string_append_len(s, buf, (gssize)n);
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static int
report(const GError *error)
{
    printf("error %d %d\n%s\n", sv_error_get_from(error), error->code, error->message);
    return 1;
}

static int
network(const char *xml, unsigned int parse_flags, unsigned int format_flags)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvNetworkDef) def = sv_network_def_parse(xml, parse_flags, &error);
    g_autoptr(SvNetworkDef) copy = NULL;
    g_autofree char *out = NULL, *again = NULL;

    if (!def)
        return report(error);
    out = sv_network_def_format(def, format_flags);
    copy = sv_network_def_copy(def);
    again = sv_network_def_format(copy, format_flags);
    if (!g_str_equal(out, again)) {
        fprintf(stderr, "the copy formats differently:\n%s", again);
        return 2;
    }
    fputs(out, stdout);
    return 0;
}

static int
port(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvNetworkPortDef) def = sv_network_port_def_parse(xml, &error);
    g_autofree char *out = NULL;

    if (!def)
        return report(error);
    out = sv_network_port_def_format(def);
    fputs(out, stdout);
    return 0;
}

int
main(int argc, char **argv)
{
    g_autofree char *xml = NULL;
    unsigned int parse_flags = 0, format_flags = SV_NETWORK_FORMAT_INACTIVE;

    if (argc < 2) {
        fprintf(stderr, "usage: %s network [--validate] [--live] | port  < XML\n", argv[0]);
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        if (g_str_equal(argv[i], "--validate"))
            parse_flags |= SV_NETWORK_PARSE_VALIDATE;
        else if (g_str_equal(argv[i], "--live"))
            format_flags &= ~(unsigned int)SV_NETWORK_FORMAT_INACTIVE;
    }
    xml = read_stdin();
    if (g_str_equal(argv[1], "network"))
        return network(xml, parse_flags, format_flags);
    if (g_str_equal(argv[1], "port"))
        return port(xml);
    fprintf(stderr, "unknown kind '%s'\n", argv[1]);
    return 2;
}
