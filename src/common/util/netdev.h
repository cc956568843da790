/* netdev.h: host network devices for guests: tap, macvtap and veth devices, their MAC,
 * MTU, state and bridge port, set over rtnetlink (a small request/ack client of its own, no
 * external program). All calls act in the calling thread's network namespace and block
 * only for the kernel's answer. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Longest interface name the kernel takes (IFNAMSIZ - 1). */
#define SV_NETDEV_NAME_MAX 15

/* Whether `name` is a name the kernel accepts for an interface: 1 to 15 bytes, not "." or
 * "..", no '/', ':' or whitespace. */
gboolean sv_netdev_name_valid(const char *name);

/* Whether an interface `name` exists. */
gboolean sv_netdev_exists(const char *name);

/* Open `n_queues` queues of tap `name` (created when missing; a name with "%d" lets the
 * kernel number it). The tap is not persistent: it goes away with the last fd, so a guest's
 * tap lives as long as its QEMU. `vnet_hdr` for virtio-net. Fills `fds` (n_queues of them,
 * close-on-exec) and `ret_name` (transfer full) with the name the kernel gave. */
gboolean sv_netdev_tap_open(const char *name, guint n_queues, gboolean vnet_hdr, int *fds,
                            char **ret_name, GError **error);

/* Create macvtap `name` on `link` in mode `mode` (libvirt's names: vepa, private,
 * bridge, passthrough) with MAC `mac`; open its character device (/dev/tapIFINDEX) and
 * return that fd (the node udev makes). The link persists until sv_netdev_delete(). */
int sv_netdev_macvtap_create(const char *name, const char *link, const char *mode,
                             const char *mac, GError **error);

/* Create a veth pair whose end `host_name` is in the caller's network namespace, brought
 * up, and whose end `peer_name` is made directly in the network namespace of process
 * `peer_pid`, with MAC `peer_mac` (NULL: the kernel's). The pair ends with that namespace. */
gboolean sv_netdev_veth_create(const char *host_name, const char *peer_name,
                               const char *peer_mac, pid_t peer_pid, GError **error);

/* Parse "aa:bb:cc:dd:ee:ff" (nothing after it). */
gboolean sv_netdev_parse_mac(const char *text, guint8 mac[6]);

/* Set the MAC address ("aa:bb:cc:dd:ee:ff") of `name`. */
gboolean sv_netdev_set_mac(const char *name, const char *mac, GError **error);
/* Set the MTU of `name`. */
gboolean sv_netdev_set_mtu(const char *name, guint mtu, GError **error);
/* The MTU of `name`, 0 when it cannot be read. */
guint sv_netdev_get_mtu(const char *name);
/* Bring `name` up. */
gboolean sv_netdev_set_up(const char *name, GError **error);
/* The name of the bridge (or other master) `name` is a port of, NULL when none or when
 * `name` does not exist. (transfer full) */
char *sv_netdev_get_master(const char *name);
/* Make `port` a port of `bridge`, with libvirt's virNetDevBridgeAddPort error (ENODEV,
 * "Unable to add bridge BRIDGE port PORT") when the bridge is not there. */
gboolean sv_netdev_bridge_add_port(const char *bridge, const char *port, GError **error);
/* Make `name` a port of bridge `bridge`. */
gboolean sv_netdev_set_master(const char *name, const char *bridge, GError **error);
/* Delete interface `name`; one that is already gone is no error. */
gboolean sv_netdev_delete(const char *name, GError **error);

/* Bring `name` down. */
gboolean sv_netdev_set_down(const char *name, GError **error);

/* Create bridge `name` with MAC `mac` ("aa:bb:...", NULL: the kernel's), as libvirt's
 * virNetDevBridgeCreate; an existing interface of that name is an error. */
gboolean sv_netdev_bridge_create(const char *name, const char *mac, GError **error);

/* Set a bridge's STP forward delay (milliseconds) and turn STP on or off, in that order
 * (the kernel raises a delay under its STP minimum of 2 s when STP comes on, as it does for
 * libvirt's sysfs writes). */
gboolean sv_netdev_bridge_set_stp(const char *name, gboolean stp, guint delay_ms,
                                  GError **error);

/* Turn a bridge's VLAN filtering on or off (libvirt's macTableManager='libvirt' bridges
 * have it on: the guests' MACs are then the bridge's static entries). */
gboolean sv_netdev_bridge_set_vlan_filtering(const char *name, gboolean on, GError **error);

/* Add address `addr` (IPv4 or IPv6 text) with `prefix` to `name`; IPv4 addresses get
 * their network's broadcast address, as libvirt's virNetDevIPAddrAdd gives them. */
gboolean sv_netdev_add_address(const char *name, const char *addr, guint prefix,
                               GError **error);

/* Add a route to `addr`/`prefix` via `gateway` out of `name` with `metric`, as libvirt's
 * virNetDevIPRouteAdd. */
gboolean sv_netdev_add_route(const char *name, const char *addr, guint prefix,
                             const char *gateway, guint metric, GError **error);

/* The interfaces (by name, each once) that the IPv6 routes learnt from router
 * advertisements (protocol "ra") leave through, multipath routes' nexthops included;
 * *ret_has_ra tells whether there is any such route. (transfer full) */
GPtrArray *sv_netdev_ipv6_ra_route_devices(gboolean *ret_has_ra, GError **error);
