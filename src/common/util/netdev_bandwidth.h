/* netdev_bandwidth.h: an interface's rate limits set on a host network device with tc, in
 * libvirt 9.0's layout (virNetDevBandwidthSet/Clear), for any driver: what the host sends
 * through the device is shaped by an htb root qdisc with one class and an sfq leaf, what it
 * receives is policed by a u32 filter on the ingress qdisc. tc runs as a program (argv, a
 * clean environment, never a shell), synchronously: each run is a few milliseconds. */
#pragma once

#include <glib.h>

/* One direction: kbytes/s, burst in kbytes; 0 = absent. */
typedef struct {
    guint64 average;
    guint64 peak;
    guint64 floor;
    guint64 burst;
} SvNetdevBandwidthRate;

/* in: towards the guest; out: from it. Each NULL when absent. */
typedef struct {
    SvNetdevBandwidthRate *in;
    SvNetdevBandwidthRate *out;
} SvNetdevBandwidth;

/* A deep copy; NULL for NULL. (transfer full: free the rates and the struct with g_free) */
SvNetdevBandwidth *sv_netdev_bandwidth_copy(const SvNetdevBandwidth *bw);

/* Runs one tc command (argv[0] "tc", NULL-terminated): FALSE with error when it could not
 * run or, unless ignore_status, when it exited other than 0 (libvirt's "Child process (...)
 * unexpected exit status N: STDERR", INTERNAL_ERROR). */
typedef gboolean (*SvTcRunFunc)(const char *const *argv, gboolean ignore_status, gpointer data,
                                GError **error);

/* Replace how tc commands run (tests record them); NULL: run the real tc again. */
void sv_netdev_bandwidth_set_runner(SvTcRunFunc fn, gpointer data);

/* The runner used when none is set: tc found in /usr/sbin:/usr/bin:/sbin:/bin, LC_ALL=C. */
gboolean sv_netdev_tc_run(const char *const *argv, gboolean ignore_status, gpointer data,
                          GError **error);

/* Set `bw` on `ifname` after clearing what was there (NULL bw: nothing at all, not even the
 * clear; a bw with neither direction: only the clear). `swapped` when the device is the
 * host end of a pipe to the guest (a tap, a veth): then `in` shapes what the host sends and
 * `out` polices what it receives; else the other way round. Floors are not set here (they
 * belong to a network's bridge). Stops at the first command that fails, leaving what the
 * earlier ones made, as libvirt does. */
gboolean sv_netdev_bandwidth_set(const char *ifname, const SvNetdevBandwidth *bw,
                                 gboolean swapped, GError **error);

/* The same with `hierarchical` (libvirt's hierarchical_class, for a network's bridge): the
 * shaping class 1:1 holds the network's whole rate and the default class 1:2 under it the
 * traffic of ports without a floor. */
gboolean sv_netdev_bandwidth_set_classes(const char *ifname, const SvNetdevBandwidth *bw,
                                         gboolean swapped, gboolean hierarchical,
                                         GError **error);

/* Delete `ifname`'s root and ingress qdiscs; their absence is no error. */
gboolean sv_netdev_bandwidth_clear(const char *ifname, GError **error);

/* Replace `ifname`'s root qdisc by `qdisc` (libvirt gives a tap without a rate "noqueue");
 * tc refusing is no error (the device keeps its default), only tc not running is. */
gboolean sv_netdev_bandwidth_set_root_qdisc(const char *ifname, const char *qdisc,
                                            GError **error);

/* Whether bw's inbound has a floor. NULL is fine. */
gboolean sv_netdev_bandwidth_has_floor(const SvNetdevBandwidth *bw);

/* The error a floor gets on an interface that is not on a network (libvirt's, for the
 * interface with MAC `mac`), as error domain `from`. */
void sv_netdev_bandwidth_floor_error(const char *mac, int from, GError **error);
