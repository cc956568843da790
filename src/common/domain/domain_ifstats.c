/* domain_ifstats.c: DOMAIN_INTERFACE_STATS (virsh domifstat; issue 18 item 1) from the
 * host side of a guest's interface (domain_ifstats.h). */
#include "domain/domain_ifstats.h"

#include <string.h>

#include "util/error.h"

/* The columns of /proc/net/dev (receive: bytes packets errs drop ..., then transmit from
 * column 8) of the counters asked for. */
static int
net_dev_column(const char *name)
{
    static const char *const kinds[] = {"bytes", "packets", "errors", "dropped"};
    gboolean tx = g_str_has_prefix(name, "tx_");

    if (!tx && !g_str_has_prefix(name, "rx_"))
        return -1;
    for (int k = 0; k < (int)G_N_ELEMENTS(kinds); k++) {
        if (g_str_equal(name + 3, kinds[k]))
            return (tx ? 8 : 0) + k;
    }
    return -1;
}

/* Read from /proc/net/dev, as libvirt's virNetDevTapInterfaceStats: it shows the reader's
 * network namespace (/sys/class/net shows the one sysfs was mounted in). */
gint64
sv_domain_net_counter(const char *dev, const char *name)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    int column = net_dev_column(name);

    if (column < 0 || !g_file_get_contents("/proc/net/dev", &text, NULL, NULL))
        return -1;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        const char *colon = strchr(lines[i], ':');
        g_autofree char *ifname = colon ? g_strstrip(g_strndup(lines[i], colon - lines[i]))
                                        : NULL;
        g_auto(GStrv) fields = NULL;

        if (!ifname || !g_str_equal(ifname, dev))
            continue;
        fields = g_strsplit_set(colon + 1, " \t", -1);
        for (guint f = 0, n = 0; fields[f]; f++) {
            if (*fields[f] && n++ == (guint)column)
                return g_ascii_strtoll(fields[f], NULL, 10);
        }
        return -1;
    }
    return -1;
}

gboolean
sv_domain_interface_stats(SvCall *call, remote_domain_interface_stats_args *a,
                          remote_domain_interface_stats_ret *ret, GError **error)
{
    SvDomainObj *obj = sv_domain_driver_lookup(sv_domain_driver_of(call), &a->dom, error);
    const SvDomainNetDef *net = NULL;
    gboolean swapped;
    const char *dev;
    gint64 rx[4], tx[4];
    static const char *const rx_names[] = {"rx_bytes", "rx_packets", "rx_errors", "rx_dropped"};
    static const char *const tx_names[] = {"tx_bytes", "tx_packets", "tx_errors", "tx_dropped"};

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    for (guint i = 0; !net && i < obj->def->interfaces->len; i++) {
        const SvDomainNetDef *n = obj->def->interfaces->pdata[i];
        if ((n->target_dev && g_str_equal(n->target_dev, a->path)) ||
            (n->mac && g_ascii_strcasecmp(n->mac, a->path) == 0))
            net = n;
    }
    if (!net) {
        sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG, "'%s' is not a known interface",
                     a->path);
        return FALSE;
    }
    dev = net->type == SV_DOMAIN_NET_TYPE_USER ? NULL : net->target_dev;
    if (!dev) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR, "Interface name not provided");
        return FALSE;
    }
    /* A tap's host side counts the other way round; a macvtap shares the guest's view. */
    swapped = net->type != SV_DOMAIN_NET_TYPE_DIRECT;
    for (guint i = 0; i < 4; i++) {
        rx[i] = sv_domain_net_counter(dev, swapped ? tx_names[i] : rx_names[i]);
        tx[i] = sv_domain_net_counter(dev, swapped ? rx_names[i] : tx_names[i]);
    }
    if (rx[0] < 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                     "/proc/net/dev: Interface not found");
        return FALSE;
    }
    *ret = (remote_domain_interface_stats_ret){rx[0], rx[1], rx[2], rx[3],
                                               tx[0], tx[1], tx[2], tx[3]};
    return TRUE;
}
