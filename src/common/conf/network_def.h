/* network_def.h: a virtual network's definition and a network port's, their XML read and
 * written as libvirt 9.0's network_conf.c and virnetworkportdef.c do (the network and
 * networkport schemas, `virsh net-dumpxml`, `virsh net-port-dumpxml`). */
#pragma once

#include <glib.h>

#include "util/netdev_bandwidth.h"

/* libvirt's virNetworkForwardType, in its order (the numbers appear in messages). */
typedef enum {
    SV_NETWORK_FORWARD_NONE,        /* isolated: no <forward> */
    SV_NETWORK_FORWARD_NAT,
    SV_NETWORK_FORWARD_ROUTE,
    SV_NETWORK_FORWARD_OPEN,
    SV_NETWORK_FORWARD_BRIDGE,
    SV_NETWORK_FORWARD_PRIVATE,
    SV_NETWORK_FORWARD_VEPA,
    SV_NETWORK_FORWARD_PASSTHROUGH,
    SV_NETWORK_FORWARD_HOSTDEV,
    SV_NETWORK_FORWARD_LAST
} SvNetworkForwardType;

const char *sv_network_forward_type_to_string(int type);
int sv_network_forward_type_from_string(const char *s);

/* <bridge macTableManager=> */
typedef enum {
    SV_NETWORK_MAC_TABLE_DEFAULT,
    SV_NETWORK_MAC_TABLE_KERNEL,
    SV_NETWORK_MAC_TABLE_LIBVIRT,
    SV_NETWORK_MAC_TABLE_LAST
} SvNetworkMacTableManager;

/* A tri-state attribute (yes/no/absent), as libvirt's virTristateBool. */
typedef enum {
    SV_NETWORK_TRISTATE_ABSENT,
    SV_NETWORK_TRISTATE_YES,
    SV_NETWORK_TRISTATE_NO,
} SvNetworkTristate;

/* <lease unit=>: the unit given (libvirt writes the lease back in it, and dnsmasq gets
 * "N" plus the unit's first letter). */
typedef enum {
    SV_NETWORK_LEASE_UNIT_SECONDS,
    SV_NETWORK_LEASE_UNIT_MINUTES, /* the default */
    SV_NETWORK_LEASE_UNIT_HOURS,
    SV_NETWORK_LEASE_UNIT_LAST
} SvNetworkLeaseUnit;

/* <ip><dhcp><range> and <host>; addresses normalized as libvirt writes them back
 * (validated: parse fails otherwise). */
typedef struct {
    char *start;
    char *end;
    guint64 lease_expiry; /* <lease expiry=> in seconds; 0 = absent */
    gboolean lease_infinite; /* <lease expiry='0'> */
    int lease_unit;          /* SvNetworkLeaseUnit of <lease unit=> when a lease is given */
} SvNetworkDhcpRange;

typedef struct {
    char *mac;       /* IPv4 hosts: the MAC as given (libvirt keeps its case), or NULL */
    char *id;        /* IPv6 hosts: DUID, or NULL */
    char *name;      /* hostname, or NULL */
    char *ip;        /* or NULL */
    guint64 lease_expiry;
    gboolean lease_infinite;
    int lease_unit;  /* SvNetworkLeaseUnit */
} SvNetworkDhcpHost;

typedef struct {
    char *family;        /* "ipv4", "ipv6", or NULL (IPv4, written without family=) */
    gboolean is_ipv6;
    char *address;
    char *netmask;       /* as given, or NULL */
    guint prefix;        /* from prefix= or netmask=; 0 = absent (classful default used) */
    gboolean has_prefix; /* prefix= given (written back as prefix=) */
    SvNetworkTristate local_ptr;
    char *tftp_root;
    GPtrArray *ranges;   /* SvNetworkDhcpRange */
    GPtrArray *hosts;    /* SvNetworkDhcpHost */
    gboolean has_dhcp;   /* <dhcp> present (even empty) */
    char *bootp_file;
    char *bootp_server;
} SvNetworkIpDef;

/* <route> */
typedef struct {
    char *family;
    char *address;
    char *netmask;
    guint prefix;
    gboolean has_prefix;
    char *gateway;
    guint metric;        /* 0 = absent */
    gboolean has_metric;
} SvNetworkRouteDef;

/* <dns> children */
typedef struct {
    char *domain;        /* or NULL */
    char *addr;          /* or NULL */
} SvNetworkDnsForwarder;

typedef struct {
    char *name;
    char *value;
} SvNetworkDnsTxt;

typedef struct {
    char *ip;
    GPtrArray *hostnames; /* char * */
} SvNetworkDnsHost;

typedef struct {
    char *service;
    char *protocol;
    char *domain;    /* or NULL */
    char *target;    /* or NULL */
    guint port, priority, weight; /* 0 = absent */
    gboolean has_port, has_priority, has_weight;
} SvNetworkDnsSrv;

typedef struct {
    SvNetworkTristate enable;
    SvNetworkTristate forward_plain_names;
    GPtrArray *forwarders; /* SvNetworkDnsForwarder */
    GPtrArray *txts;       /* SvNetworkDnsTxt */
    GPtrArray *hosts;      /* SvNetworkDnsHost */
    GPtrArray *srvs;       /* SvNetworkDnsSrv */
} SvNetworkDnsDef;

typedef struct {
    char *name;
    gboolean is_default;
    SvNetworkTristate trust_guest_rx_filters; /* <portgroup trustGuestRxFilters=> */
    SvNetdevBandwidth *bandwidth; /* or NULL */
    char *vlan_xml;        /* <vlan> kept as its XML text (written back as given), or NULL */
    char *virtualport_xml; /* <virtualport> likewise, or NULL */
} SvNetworkPortGroupDef;

typedef struct {
    char *name;
    guint8 uuid[16];
    gboolean has_uuid;       /* <uuid> given (else a random one was made) */
    char *title;             /* unused: libvirt 9.0 reads no network <title> */
    char *description;       /* unused: nor <description> */
    char *metadata_xml;      /* <metadata> as its XML text, or NULL */
    SvNetworkTristate ipv6;  /* <network ipv6=> */
    SvNetworkTristate trust_guest_rx_filters;
    guint connections;       /* live only: ports plugged in (written on live XML) */

    struct {
        int type;            /* SvNetworkForwardType */
        char *dev;
        SvNetworkTristate managed;
        char *driver_name;   /* <driver name=> (hostdev) */
        guint nat_port_start, nat_port_end;   /* 0 = absent */
        char *nat_addr_start, *nat_addr_end;  /* or NULL */
        SvNetworkTristate nat_ipv6;
        GPtrArray *ifaces;   /* <interface dev=>: char * */
        GPtrArray *pfs;      /* <pf dev=>: char * */
    } forward;

    struct {
        char *name;          /* NULL until the driver picks virbrN */
        char *zone;
        SvNetworkTristate stp;   /* absent means on */
        guint delay;
        gboolean has_delay;
        int mac_table_manager;   /* SvNetworkMacTableManager */
    } bridge;

    guint mtu;               /* 0 = absent */
    char *mac;               /* <mac address=>: lowercase, or NULL (the driver makes one) */
    gboolean mac_given;      /* the user gave it (else generated at define) */
    char *domain;            /* <domain name=> */
    SvNetworkTristate domain_local_only;
    SvNetworkDnsDef dns;
    GPtrArray *ips;          /* SvNetworkIpDef */
    GPtrArray *routes;       /* SvNetworkRouteDef */
    GPtrArray *portgroups;   /* SvNetworkPortGroupDef */
    SvNetdevBandwidth *bandwidth; /* or NULL */
    char *vlan_xml;
    char *virtualport_xml;
    SvNetworkTristate port_isolated; /* <port isolated=> */
    GPtrArray *dnsmasq_options; /* <dnsmasq:options><dnsmasq:option value=>: char * */
} SvNetworkDef;

void sv_network_def_free(SvNetworkDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvNetworkDef, sv_network_def_free)

/* Parse flags. */
enum {
    SV_NETWORK_PARSE_VALIDATE = 1 << 0, /* VIR_NETWORK_DEFINE_VALIDATE: check the schema too */
};

/* Parse a network's XML with libvirt's errors (codes and messages of network_conf.c; error
 * domain NETWORK, XML_ERROR for malformed XML). A missing <uuid> gets a random one. Values
 * that would change the shape of dnsmasq's configuration (newlines and the like in names,
 * hostnames, TXT values, SRV fields) are refused. (transfer full) */
SvNetworkDef *sv_network_def_parse(const char *xml, unsigned int flags, GError **error);

/* Format flags: libvirt's VIR_NETWORK_XML_INACTIVE. */
enum {
    SV_NETWORK_FORMAT_INACTIVE = 1 << 0,
};

/* The XML libvirt writes for def (NETWORK_GET_XML_DESC and the file on disk).
 * (transfer full) */
char *sv_network_def_format(const SvNetworkDef *def, unsigned int flags);

/* A deep copy. (transfer full) */
SvNetworkDef *sv_network_def_copy(const SvNetworkDef *def);

/* A <host> of an <ip>'s <dhcp>, the element alone as net-update sends it, read as libvirt
 * reads it for `ip` of network `net` (virNetworkDHCPHostDefParseXML, its errors):
 * partial_ok for a delete, where any one of mac, name and ip will do. (transfer full:
 * sv_network_dhcp_host_free) */
SvNetworkDhcpHost *sv_network_dhcp_host_parse(const char *net, const SvNetworkIpDef *ip,
                                              const char *xml, gboolean partial_ok,
                                              GError **error);
void sv_network_dhcp_host_free(gpointer host);
/* A <dns><host> likewise (virNetworkDNSHostDefParseXML): partial_ok for a delete, where the
 * ip or a host name will do. (transfer full: sv_network_dns_host_free) */
SvNetworkDnsHost *sv_network_dns_host_parse(const char *net, const char *xml,
                                            gboolean partial_ok, GError **error);
void sv_network_dns_host_free(gpointer host);

/* The first IPv4 (ipv6 FALSE) or IPv6 <ip> with a <dhcp> or any <ip> of that family when
 * dhcp_only is FALSE; NULL when none. (transfer none) */
const SvNetworkIpDef *sv_network_def_ip(const SvNetworkDef *def, gboolean ipv6, gboolean dhcp_only);

/* The port group named `name`, or the default one when name is NULL; NULL when none.
 * (transfer none) */
const SvNetworkPortGroupDef *sv_network_def_portgroup(const SvNetworkDef *def, const char *name);

/* ---------------------------------------------------------------- network ports */

/* <plug type=> of a port: how the hypervisor daemon connects the guest. */
typedef enum {
    SV_NETWORK_PORT_PLUG_NONE,
    SV_NETWORK_PORT_PLUG_NETWORK,    /* a tap on the network's bridge (nat/route/open/none) */
    SV_NETWORK_PORT_PLUG_BRIDGE,     /* a tap on a host bridge (forward mode bridge) */
    SV_NETWORK_PORT_PLUG_DIRECT,     /* macvtap on a device (private/vepa/passthrough/bridge
                                      * with <interface>s) */
    SV_NETWORK_PORT_PLUG_HOSTDEV_PCI,
    SV_NETWORK_PORT_PLUG_LAST
} SvNetworkPortPlugType;

typedef struct {
    guint8 uuid[16];
    char *owner_name;
    guint8 owner_uuid[16];
    char *group;              /* <group>: the port group, or NULL */
    char *mac;                /* lowercase */
    SvNetdevBandwidth *bandwidth; /* or NULL */
    guint class_id;           /* <class id=> for floor bandwidth; 0 = none */
    SvNetworkTristate trust_guest_rx_filters;
    SvNetworkTristate isolated;
    char *vlan_xml;
    char *virtualport_xml;
    int plug_type;            /* SvNetworkPortPlugType */
    char *plug_bridge;        /* network/bridge: the bridge */
    int plug_mac_table_manager; /* network/bridge */
    char *plug_dev;           /* direct: the device */
    char *plug_mode;          /* direct: vepa, private, passthrough, bridge */
} SvNetworkPortDef;

void sv_network_port_def_free(SvNetworkPortDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvNetworkPortDef, sv_network_port_def_free)

const char *sv_network_port_plug_type_to_string(int type);
int sv_network_port_plug_type_from_string(const char *s);

/* Parse a <networkport> with libvirt's errors; a missing <uuid> is refused as libvirt
 * refuses it ("network port has no uuid": the hypervisor daemon makes one).
 * (transfer full) */
SvNetworkPortDef *sv_network_port_def_parse(const char *xml, GError **error);
/* The XML libvirt writes for a port (NETWORK_PORT_GET_XML_DESC and the port's state file).
 * (transfer full) */
char *sv_network_port_def_format(const SvNetworkPortDef *def);
