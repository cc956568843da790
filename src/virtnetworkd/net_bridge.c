/* net_bridge.c: a network's bridge (net_bridge.h) over util/netdev.c's netlink calls; the
 * sysctls through /proc/sys, which is the caller's network namespace's. */
#include "net_bridge.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net_dnsmasq.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/netdev.h"

#define SYSCTL_NET "/proc/sys/net"

static gboolean
ip_is_v6(const SvNetworkIpDef *ip)
{
    return ip->is_ipv6 || (ip->address && strchr(ip->address, ':'));
}

/* An IPv4 address's value in /proc/net/route's byte order (the kernel's, printed %08X). */
static gboolean
ipv4_raw(const char *text, guint32 *ret)
{
    g_autoptr(GInetAddress) a = text ? g_inet_address_new_from_string(text) : NULL;

    if (!a || g_inet_address_get_family(a) != G_SOCKET_FAMILY_IPV4)
        return FALSE;
    memcpy(ret, g_inet_address_to_bytes(a), 4);
    return TRUE;
}

gboolean
sv_net_bridge_check_routes(const SvNetworkDef *def, const char *routes_text, GError **error)
{
    g_auto(GStrv) lines = g_strsplit(routes_text ? routes_text : "", "\n", -1);

    for (guint l = 1; lines[0] && lines[l]; l++) {
        char iface[65];
        unsigned int dest, mask;

        if (sscanf(lines[l], "%64s %x %*x %*x %*d %*d %*d %x", iface, &dest, &mask) != 3)
            continue;
        dest &= mask;
        for (guint i = 0; def->ips && i < def->ips->len; i++) {
            const SvNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
            int prefix = sv_net_dnsmasq_ip_prefix(ip);
            guint32 addr, netmask;
            if (ip_is_v6(ip) || prefix < 0 || !ipv4_raw(ip->address, &addr))
                continue;
            netmask = g_htonl(prefix ? 0xffffffffu << (32 - prefix) : 0);
            if ((addr & netmask) == dest && netmask == mask) {
                sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                             "Network is already in use by interface %s", iface);
                return FALSE;
            }
        }
    }
    return TRUE;
}

static gboolean
has_ipv6(const SvNetworkDef *def)
{
    for (guint i = 0; def->ips && i < def->ips->len; i++)
        if (ip_is_v6(g_ptr_array_index(def->ips, i)))
            return TRUE;
    return FALSE;
}

/* Write a /proc/sys file in place (it can be neither replaced nor created); errno on
 * failure. */
static int
sysctl_set(const char *path, const char *value)
{
    g_auto(SvFd) fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    size_t len = strlen(value);

    if (fd < 0)
        return errno;
    if (write(fd, value, len) != (ssize_t)len)
        return errno ? errno : EIO;
    return 0;
}

static gboolean
write_sysctl(const char *path, const char *value, const char *bridge, GError **error)
{
    int err = sysctl_set(path, value);

    if (err) {
        sv_error_set_errno(error, SV_FROM_NETWORK, err, "cannot write to '%s' on bridge '%s'",
                           path, bridge);
        return FALSE;
    }
    return TRUE;
}

/* disable_ipv6 follows whether the network has IPv6; guests' router advertisements are
 * never taken (accept_ra=0) and the bridge, a gateway, never autoconfigures. A kernel
 * without IPv6 on it has none of these files: nothing to do then. */
static gboolean
set_ipv6_sysctls(const SvNetworkDef *def, GError **error)
{
    const char *br = def->bridge.name;
    g_autofree char *dis = g_strdup_printf(SYSCTL_NET "/ipv6/conf/%s/disable_ipv6", br);
    g_autofree char *ra = g_strdup_printf(SYSCTL_NET "/ipv6/conf/%s/accept_ra", br);
    g_autofree char *ac = g_strdup_printf(SYSCTL_NET "/ipv6/conf/%s/autoconf", br);

    if (access(dis, W_OK) < 0 && errno == ENOENT)
        return TRUE;
    return write_sysctl(dis, has_ipv6(def) ? "0" : "1", br, error) &&
           write_sysctl(ra, "0", br, error) && write_sysctl(ac, "0", br, error);
}

gboolean
sv_net_bridge_create(const SvNetworkDef *def, GError **error)
{
    const char *br = def->bridge.name;
    gboolean stp = def->bridge.stp != SV_NETWORK_TRISTATE_NO;

    if (!br) {
        sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                     "network '%s' has no bridge name defined", def->name);
        return FALSE;
    }
    if (!sv_netdev_bridge_create(br, def->mac, error))
        return FALSE;
    if ((def->mtu && !sv_netdev_set_mtu(br, def->mtu, error)) ||
        !sv_netdev_bridge_set_stp(br, stp, def->bridge.delay * 1000, error) ||
        !set_ipv6_sysctls(def, error)) {
        sv_netdev_delete(br, NULL);
        return FALSE;
    }
    return TRUE;
}

static gboolean
enable_forwarding(const SvNetworkDef *def, GError **error)
{
    gboolean v4 = FALSE, v6 = FALSE;

    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        gboolean is6 = ip_is_v6(g_ptr_array_index(def->ips, i));
        v4 |= !is6;
        v6 |= is6;
    }
    int err = v4 ? sysctl_set(SYSCTL_NET "/ipv4/ip_forward", "1\n") : 0;

    if (!err && v6)
        err = sysctl_set(SYSCTL_NET "/ipv6/conf/all/forwarding", "1\n");
    if (err) {
        sv_error_set_errno(error, SV_FROM_NETWORK, err, "failed to enable IP forwarding");
        return FALSE;
    }
    return TRUE;
}

static void
add_routes(const SvNetworkDef *def)
{
    for (guint i = 0; def->routes && i < def->routes->len; i++) {
        const SvNetworkRouteDef *r = g_ptr_array_index(def->routes, i);
        g_autoptr(GError) err = NULL;
        int prefix = r->has_prefix ? (int)r->prefix : -1;

        if (prefix < 0 && r->netmask) {
            SvNetworkIpDef tmp = {.address = r->address, .netmask = r->netmask};
            prefix = sv_net_dnsmasq_ip_prefix(&tmp);
        }
        if (prefix < 0)
            prefix = strchr(r->address, ':') ? 64 : 32;
        /* libvirt goes on without a route it could not add: so does the network here */
        if (r->gateway && !sv_netdev_add_route(def->bridge.name, r->address, (guint)prefix,
                                               r->gateway, r->metric, &err))
            g_debug("network %s: %s", def->name, err->message);
    }
}

gboolean
sv_net_bridge_mac_table(const SvNetworkDef *def, GError **error)
{
    if (def->bridge.mac_table_manager != SV_NETWORK_MAC_TABLE_LIBVIRT || !def->bridge.name)
        return TRUE;
    return sv_netdev_bridge_set_vlan_filtering(def->bridge.name, TRUE, error);
}

gboolean
sv_net_bridge_start(const SvNetworkDef *def, GError **error)
{
    for (guint i = 0; def->ips && i < def->ips->len; i++) {
        const SvNetworkIpDef *ip = g_ptr_array_index(def->ips, i);
        int prefix = sv_net_dnsmasq_ip_prefix(ip);

        if (prefix < 0) {
            sv_error_set(error, SV_FROM_NETWORK, SV_ERR_INTERNAL_ERROR,
                         "bridge '%s' has an invalid netmask or IP address", def->bridge.name);
            return FALSE;
        }
        if (!sv_netdev_add_address(def->bridge.name, ip->address, (guint)prefix, error))
            return FALSE;
    }
    if (!sv_net_bridge_mac_table(def, error) || !sv_netdev_set_up(def->bridge.name, error))
        return FALSE;
    add_routes(def);
    if (def->forward.type != SV_NETWORK_FORWARD_NONE && !enable_forwarding(def, error))
        return FALSE;
    return TRUE;
}

void
sv_net_bridge_destroy(const SvNetworkDef *def)
{
    if (!sv_net_bridge_exists(def))
        return;
    sv_netdev_set_down(def->bridge.name, NULL);
    sv_netdev_delete(def->bridge.name, NULL);
}

gboolean
sv_net_bridge_exists(const SvNetworkDef *def)
{
    return def->bridge.name && sv_netdev_exists(def->bridge.name);
}
