/* lxc_netdev.h: veth pairs for <interface type='ethernet'>, over rtnetlink. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Create a veth pair whose host end is `host_name`, in the caller's network namespace and
 * brought up, and whose other end is created directly inside the network namespace of
 * process `peer_pid`, named `peer_name`, with MAC address `peer_mac` ("aa:bb:..."). The
 * pair disappears by itself when that namespace dies. */
gboolean lxc_netdev_create_veth(const char *host_name, const char *peer_name,
                                const char *peer_mac, pid_t peer_pid, GError **error);

/* Delete a link of the caller's namespace; a missing one is not an error. */
gboolean lxc_netdev_delete(const char *name, GError **error);

/* Whether a link of that name exists in the caller's namespace. */
gboolean lxc_netdev_exists(const char *name);

/* Parse "aa:bb:cc:dd:ee:ff". */
gboolean lxc_netdev_parse_mac(const char *text, guint8 mac[6]);
