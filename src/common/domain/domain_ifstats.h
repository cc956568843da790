/* domain_ifstats.h: DOMAIN_INTERFACE_STATS as libvirt's QEMU and LXC drivers answer it
 * (virNetDevTapInterfaceStats): the counters of the host side of the guest's interface
 * (a tap, a container's veth), found by its target dev or MAC in the running definition,
 * seen the other way round unless the interface shares the guest's view (macvtap). */
#pragma once

#include "domain/domain_driver.h"

/* One counter of host interface DEV ("rx_bytes", "tx_dropped": rx_ or tx_ and bytes,
 * packets, errors or dropped) from /proc/net/dev, or -1. */
gint64 sv_domain_net_counter(const char *dev, const char *name);

gboolean sv_domain_interface_stats(SvCall *call, remote_domain_interface_stats_args *a,
                                   remote_domain_interface_stats_ret *ret, GError **error);
