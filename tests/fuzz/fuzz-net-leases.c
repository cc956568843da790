/* fuzz-net-leases.c: libFuzzer harness for a network's leases status file
 * (src/virtnetworkd/net_leases.c), the JSON array our leases helper rewrites on every DHCP
 * event with strings a guest chose (its hostname, its client id). Input: the file's text.
 *
 * The helper's reading either gives records or a NETWORK-domain error; records written
 * back read again to the same records and write to the same bytes (a fixed point), and
 * dnsmasq's "init" text has one line per lease (no value breaks a line). The daemon's
 * reading for NETWORK_GET_DHCP_LEASES gives leases or a NETWORK-domain error. */
#include <string.h>

#include "net_leases.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

#define FUZZ_MAX_TEXT (64 * 1024)

static SvNetworkDef *
network(void)
{
    static const char xml[] = "<network><name>n</name><bridge name='virbr0'/>"
                              "<ip address='192.168.122.1' prefix='24'/>"
                              "<ip family='ipv6' address='fd00::1' prefix='64'/></network>";

    return sv_network_def_parse(xml, 0, NULL);
}

static void
check_records(GPtrArray *recs)
{
    g_autofree char *text = sv_net_lease_records_format(recs);
    g_autofree char *again_text = NULL;
    g_autofree char *init = sv_net_lease_records_init_text(recs, "00:01");
    g_autoptr(GPtrArray) again = NULL;
    g_autoptr(GError) error = NULL;
    gboolean invalid = TRUE;
    guint newlines = 0;

    again = sv_net_lease_records_parse(text, &invalid, &error);
    if (!again || invalid)
        g_error("written leases do not read back: %s\n%s", error ? error->message : "", text);
    g_assert(again->len == recs->len);
    again_text = sv_net_lease_records_format(again);
    if (strcmp(again_text, text) != 0)
        g_error("leases format is not a fixed point:\n%s\n---\n%s", text, again_text);
    for (const char *p = init; *p; p++)
        newlines += *p == '\n';
    /* without line breaks in values: one line a lease, plus the DUID's */
    for (guint i = 0; i < recs->len; i++) {
        const SvNetLeaseRecord *r = recs->pdata[i];
        if ((r->mac && strchr(r->mac, '\n')) || (r->iaid && strchr(r->iaid, '\n')) ||
            (r->hostname && strchr(r->hostname, '\n')) ||
            (r->client_id && strchr(r->client_id, '\n')) || strchr(r->ip, '\n'))
            return;
    }
    g_assert(newlines == recs->len + 1);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    g_autofree char *text = NULL;
    g_autoptr(GPtrArray) recs = NULL;
    g_autoptr(GPtrArray) leases = NULL;
    g_autoptr(SvNetworkDef) def = network();
    g_autoptr(GError) error = NULL;
    gboolean invalid = FALSE;

    if (size > FUZZ_MAX_TEXT)
        return 0;
    text = g_strndup((const char *)data, size);
    recs = sv_net_lease_records_parse(text, &invalid, &error);
    g_assert((recs == NULL) == (error != NULL));
    if (recs)
        check_records(recs);
    else
        g_assert(sv_error_get_from(error) == SV_FROM_NETWORK);
    g_clear_error(&error);
    leases = sv_net_leases_from_status(text, "/x", def, NULL, 1000, &error);
    g_assert((leases == NULL) == (error != NULL));
    if (!leases)
        g_assert(sv_error_get_from(error) == SV_FROM_NETWORK);
    return 0;
}
