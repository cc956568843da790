/* net_leases.h: a network's DHCP leases as libvirt's leases helper keeps them (the
 * BRIDGE.status JSON array dnsmasq's --dhcp-script maintains), read for
 * NETWORK_GET_DHCP_LEASES. */
#pragma once

#include <glib.h>

/* libvirt's virIPAddrType (the wire's lease type). */
typedef enum {
    SV_NET_LEASE_IPV4 = 0,
    SV_NET_LEASE_IPV6 = 1,
} SvNetLeaseType;

/* One lease, the fields of remote_network_dhcp_lease. */
typedef struct {
    char *iface;      /* the network's bridge */
    gint64 expiry;    /* seconds since the epoch; 0 for an infinite lease */
    int type;         /* SvNetLeaseType */
    char *mac;        /* or NULL (IPv6 leases may have none) */
    char *iaid;       /* IPv6 only, or NULL */
    char *ipaddr;
    guint prefix;
    char *hostname;   /* or NULL */
    char *clientid;   /* or NULL */
} SvNetLease;

void sv_net_lease_free(SvNetLease *lease);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvNetLease, sv_net_lease_free)
