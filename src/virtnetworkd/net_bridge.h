/* net_bridge.h: a virtual network's bridge as libvirt 9.0's network driver makes it
 * (networkStartNetworkVirtual): the bridge with its MAC, MTU, STP, IPv6 sysctls, addresses,
 * static routes, and the host's IP forwarding. Acts in the caller's network namespace;
 * blocking (netlink, /proc/sys): call from a worker. */
#pragma once

#include <glib.h>

#include "conf/network_def.h"

/* libvirt's check before anything is made: an IPv4 <ip>'s network already routed through
 * some interface (routes_text: /proc/net/route's) is "Network is already in use by
 * interface X". Pure, for tests. */
gboolean sv_net_bridge_check_routes(const SvNetworkDef *def, const char *routes_text,
                                    GError **error);

/* Create the bridge down, configured: MAC, MTU, STP delay then STP, IPv6 sysctls
 * (disable_ipv6 unless it has an IPv6 address, accept_ra=0, autoconf=0). On failure the
 * bridge is gone again. */
gboolean sv_net_bridge_create(const SvNetworkDef *def, GError **error);

/* <bridge macTableManager='libvirt'>: VLAN filtering on the bridge (libvirt's
 * networkStartHandleMACTableManagerMode), for a network's own bridge or a host bridge
 * (forward mode bridge); nothing for the other managers. */
gboolean sv_net_bridge_mac_table(const SvNetworkDef *def, GError **error);

/* Add every <ip>'s address, then the MAC table manager's setting, bring the bridge up, add the <route>s (a failing route is
 * skipped, as libvirt does), then enable IP forwarding for the families present when the
 * network forwards. */
gboolean sv_net_bridge_start(const SvNetworkDef *def, GError **error);

/* Bring the bridge down and delete it; a missing bridge is no error. */
void sv_net_bridge_destroy(const SvNetworkDef *def);

/* Whether the network's bridge exists. */
gboolean sv_net_bridge_exists(const SvNetworkDef *def);
