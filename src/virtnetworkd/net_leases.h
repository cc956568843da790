/* net_leases.h: a network's DHCP leases as libvirt's leases helper keeps them: the JSON
 * array of BRIDGE.status under the dnsmasq state directory, which dnsmasq's --dhcp-script
 * (leaseshelper.c) maintains and NETWORK_GET_DHCP_LEASES reads. Pure functions on the
 * file's text. */
#pragma once

#include <glib.h>

#include "conf/network_def.h"

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

/* One object of the status file, its members in the order libvirt writes them. */
typedef struct {
    char *iaid;         /* or NULL */
    char *ip;
    char *mac;
    char *hostname;     /* or NULL */
    char *client_id;    /* or NULL */
    char *server_duid;  /* IPv6, or NULL */
    gint64 expiry;      /* 0: infinite */
} SvNetLeaseRecord;

void sv_net_lease_record_free(SvNetLeaseRecord *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvNetLeaseRecord, sv_net_lease_record_free)

/* Limit on the status file libvirt reads (32 MiB). */
#define SV_NET_LEASES_FILE_MAX (32 * 1024 * 1024)

/* The records of a status file's text for the helper: *ret_invalid set (and an empty
 * array returned) when it is not JSON at all, which the helper rewrites, as libvirt's;
 * error when it is JSON but not an array of objects each with "ip-address" and
 * "expiry-time". (transfer full) */
GPtrArray *sv_net_lease_records_parse(const char *text, gboolean *ret_invalid, GError **error);

/* The status file's text for records, byte for byte as libvirt's helper writes it
 * (two-space indents, "key": value). (transfer full) */
char *sv_net_lease_records_format(GPtrArray *records);

/* What the helper prints for dnsmasq's "init": the IPv4 leases in dnsmasq's lease file
 * format, then, when server_duid is known, "duid ..." and the IPv6 leases.
 * (transfer full) */
char *sv_net_lease_records_init_text(GPtrArray *records, const char *server_duid);

/* NETWORK_GET_DHCP_LEASES from a status file's text (path names it in messages): the
 * unexpired leases, of MAC mac only when given (compared ignoring case), with the prefix
 * of the network's <ip> of their family, errors as libvirt's. An empty text has none.
 * (transfer full): SvNetLease */
GPtrArray *sv_net_leases_from_status(const char *text, const char *path,
                                     const SvNetworkDef *def, const char *mac, gint64 now,
                                     GError **error);

/* ------------------------------------------------------------ BRIDGE.macs */

/* The domain-to-MACs map libvirt keeps beside the leases (BRIDGE.macs, read by libvirt's
 * NSS module to name guests): `text` (the file, "" when none) with `mac` added to or
 * removed from domain `owner`'s list, in libvirt's layout (domains sorted by name, MACs in
 * the order added, a domain without MACs dropped). Error (NETWORK, INTERNAL_ERROR) for a
 * file that is not such a map. (transfer full) */
char *sv_net_macs_update(const char *text, const char *owner, const char *mac, gboolean add,
                         GError **error);
