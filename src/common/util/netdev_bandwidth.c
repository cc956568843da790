/* netdev_bandwidth.c: rate limits on a host network device with tc (netdev_bandwidth.h).
 * The commands, their order, units and the error of one that fails are libvirt 9.0's, as
 * Debian's libvirtd runs them (checked in the same run by test_qemu_bandwidth.py). */
#include "util/netdev_bandwidth.h"

#include <string.h>

#include "util/command.h"
#include "util/error.h"

/* htb's quantum is computed for a 1500-byte MTU, as libvirt does. */
#define BANDWIDTH_MTU 1500


SvNetdevBandwidth *
sv_netdev_bandwidth_copy(const SvNetdevBandwidth *bw)
{
    SvNetdevBandwidth *copy;

    if (!bw)
        return NULL;
    copy = g_new0(SvNetdevBandwidth, 1);
    copy->in = bw->in ? g_memdup2(bw->in, sizeof(*bw->in)) : NULL;
    copy->out = bw->out ? g_memdup2(bw->out, sizeof(*bw->out)) : NULL;
    return copy;
}

static SvTcRunFunc runner = sv_netdev_tc_run;
static gpointer runner_data;

void
sv_netdev_bandwidth_set_runner(SvTcRunFunc fn, gpointer data)
{
    runner = fn ? fn : sv_netdev_tc_run;
    runner_data = fn ? data : NULL;
}

gboolean
sv_netdev_tc_run(const char *const *argv, gboolean ignore_status, gpointer data, GError **error)
{
    (void)data;
    return sv_command_run_status(argv, NULL, ignore_status, NULL, error);
}

static gboolean
tc_argv(GPtrArray *argv, gboolean ignore_status, GError **error)
{
    g_ptr_array_add(argv, NULL);
    return runner((const char *const *)argv->pdata, ignore_status, runner_data, error);
}

/* A tc command line: "tc" then the arguments given, up to NULL. (transfer full) */
static GPtrArray *
tc_line(const char *first, ...) G_GNUC_NULL_TERMINATED;

static GPtrArray *
tc_line(const char *first, ...)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    va_list ap;

    g_ptr_array_add(argv, g_strdup("tc"));
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        g_ptr_array_add(argv, g_strdup(a));
    va_end(ap);
    return argv;
}

/* Run one tc command given as its arguments and free them. */
static gboolean
tc(GPtrArray *argv, GError **error)
{
    g_autoptr(GPtrArray) owned = argv;

    return tc_argv(owned, FALSE, error);
}

static void
add_value(GPtrArray *argv, const char *name, guint64 v, const char *unit)
{
    g_ptr_array_add(argv, g_strdup(name));
    g_ptr_array_add(argv, g_strdup_printf("%" G_GUINT64_FORMAT "%s", v, unit));
}

/* htb's quantum for a class of `average` kbytes/s: its bytes per MTU-sized turn, at least
 * 1 (libvirt's arithmetic, wrapping as its unsigned long long does; no cap, as in 9.0). */
static guint64
quantum(guint64 average)
{
    guint64 q = average * 1024 / 8 / BANDWIDTH_MTU;

    return q ? q : 1;
}

/* What the host sends: root htb, its one class at the rate, sfq under it, and the filter
 * that sends marked traffic to the class. Hierarchical (a network's bridge): class 1:1
 * holds the whole rate (ceil: the peak, else the average) and the default class 1:2 under
 * it takes the traffic without a guaranteed floor, as libvirt lays it out for the classes
 * of floors. */
static gboolean
shape(const char *ifname, const SvNetdevBandwidthRate *r, gboolean hierarchical,
      GError **error)
{
    g_autofree char *average = g_strdup_printf("%" G_GUINT64_FORMAT "kbps", r->average);
    const char *leaf = hierarchical ? "1:2" : "1:1";
    GPtrArray *cls;

    if (!tc(tc_line("qdisc", "add", "dev", ifname, "root", "handle", "1:", "htb", "default",
                    hierarchical ? "2" : "1", NULL),
            error))
        return FALSE;
    if (hierarchical) {
        cls = tc_line("class", "add", "dev", ifname, "parent", "1:", "classid", "1:1", "htb",
                      "rate", average, NULL);
        add_value(cls, "ceil", r->peak ? r->peak : r->average, "kbps");
        add_value(cls, "quantum", quantum(r->average), "");
        if (!tc(cls, error))
            return FALSE;
    }
    cls = tc_line("class", "add", "dev", ifname, "parent", hierarchical ? "1:1" : "1:",
                  "classid", leaf, "htb", "rate", average, NULL);
    if (r->peak)
        add_value(cls, "ceil", r->peak, "kbps");
    if (r->burst)
        add_value(cls, "burst", r->burst, "kb");
    add_value(cls, "quantum", quantum(r->average), "");
    return tc(cls, error) &&
           tc(tc_line("qdisc", "add", "dev", ifname, "parent", leaf, "handle", "2:", "sfq",
                      "perturb", "10", NULL),
              error) &&
           tc(tc_line("filter", "add", "dev", ifname, "parent", "1:0", "protocol", "all",
                      "prio", "1", "handle", "1", "fw", "flowid", "1", NULL),
              error);
}

/* What the host receives: the ingress qdisc and a filter that drops what exceeds the rate;
 * without a burst, one second's worth, kept within what tc stores in 32 bits of bytes. */
static gboolean
police(const char *ifname, const SvNetdevBandwidthRate *r, GError **error)
{
    guint64 burst = r->burst ? r->burst : MIN(r->average, (guint64)G_MAXUINT32 / 1024);
    g_autofree char *average = g_strdup_printf("%" G_GUINT64_FORMAT "kbps", r->average);
    g_autofree char *burst_text = g_strdup_printf("%" G_GUINT64_FORMAT "kb", burst);

    return tc(tc_line("qdisc", "add", "dev", ifname, "ingress", NULL), error) &&
           tc(tc_line("filter", "add", "dev", ifname, "parent", "ffff:", "protocol", "all",
                      "u32", "match", "u32", "0", "0", "police", "rate", average, "burst",
                      burst_text, "mtu", "64kb", "drop", "flowid", ":1", NULL),
              error);
}

gboolean
sv_netdev_bandwidth_set(const char *ifname, const SvNetdevBandwidth *bw, gboolean swapped,
                        GError **error)
{
    return sv_netdev_bandwidth_set_classes(ifname, bw, swapped, FALSE, error);
}

gboolean
sv_netdev_bandwidth_set_classes(const char *ifname, const SvNetdevBandwidth *bw,
                                gboolean swapped, gboolean hierarchical, GError **error)
{
    const SvNetdevBandwidthRate *rx, *tx; /* as the guest sees them */

    if (!bw)
        return TRUE;
    if (geteuid() != 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_UNSUPPORTED,
                     "Network bandwidth tuning is not available in session mode");
        return FALSE;
    }
    if (!ifname) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_UNSUPPORTED,
                     "Unable to set bandwidth for interface because device name is unknown");
        return FALSE;
    }
    rx = swapped ? bw->out : bw->in;
    tx = swapped ? bw->in : bw->out;
    /* A failure to clear is libvirt's to ignore too: the adds below then report. */
    if (!sv_netdev_bandwidth_clear(ifname, error))
        return FALSE;
    if (tx && tx->average && !shape(ifname, tx, hierarchical, error))
        return FALSE;
    return !rx || police(ifname, rx, error);
}

gboolean
sv_netdev_bandwidth_clear(const char *ifname, GError **error)
{
    g_autoptr(GPtrArray) root = tc_line("qdisc", "del", "dev", ifname, "root", NULL);
    g_autoptr(GPtrArray) ingress = tc_line("qdisc", "del", "dev", ifname, "ingress", NULL);

    return tc_argv(root, TRUE, error) && tc_argv(ingress, TRUE, error);
}

gboolean
sv_netdev_bandwidth_set_root_qdisc(const char *ifname, const char *qdisc, GError **error)
{
    g_autoptr(GPtrArray) argv = tc_line("qdisc", "add", "dev", ifname, "root", "handle", "0:",
                                        qdisc, NULL);

    return tc_argv(argv, TRUE, error);
}

gboolean
sv_netdev_bandwidth_has_floor(const SvNetdevBandwidth *bw)
{
    return bw && bw->in && bw->in->floor;
}

void
sv_netdev_bandwidth_floor_error(const char *mac, int from, GError **error)
{
    sv_error_set(error, from, SV_ERR_OPERATION_UNSUPPORTED,
                 "Invalid use of 'floor' on interface with MAC address %s - 'floor' is only "
                 "supported for interface type 'network' with forward type 'nat', 'route', "
                 "'open' or none",
                 mac);
}
