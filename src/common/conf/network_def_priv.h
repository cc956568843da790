/* network_def_priv.h: what network_def.c (reading) shares with network_def_format.c
 * (writing, copying) and network_port_def.c: address handling as libvirt's virSocketAddr
 * does it and small value readers (the MAC reader also serves domain_net.c). Private to
 * src/common/conf. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include <netinet/in.h>

#include "conf/domain_enum.h"
#include "conf/network_def.h"

/* sv_network_<what>_to_string() and _from_string() over a table of names (as
 * SV_DOMAIN_ENUM_IMPL does for the domain's enums). */
#define SV_NETWORK_ENUM_IMPL(what, last, ...)                                                  \
    static const char *const what##_names[] = {__VA_ARGS__};                                   \
    G_STATIC_ASSERT(G_N_ELEMENTS(what##_names) == (last));                                     \
    const char *sv_network_##what##_to_string(int v)                                           \
    {                                                                                          \
        return v >= 0 && v < (last) ? what##_names[v] : NULL;                                  \
    }                                                                                          \
    int sv_network_##what##_from_string(const char *s)                                         \
    {                                                                                          \
        return sv_domain_table_index(what##_names, (last), s);                                 \
    }

/* An IP address as libvirt's virSocketAddr holds it. */
typedef struct {
    int family; /* AF_INET, AF_INET6; 0 = none */
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } a;
} SvNetAddr;

/* Parse `s` as libvirt's virSocketAddrParse (getaddrinfo with AI_NUMERICHOST, so IPv4
 * shorthands like "10.1" work); `family` AF_UNSPEC or the one wanted. On failure `error`
 * gets libvirt's "Cannot parse socket address" (SYSTEM_ERROR, no domain). */
gboolean sv_net_addr_parse(const char *s, int family, SvNetAddr *out, GError **error);
/* The address as inet_ntop writes it (libvirt's virSocketAddrFormat). (transfer full) */
char *sv_net_addr_format(const SvNetAddr *addr);
/* A normalized copy of a textual address already known to parse. (transfer full) */
char *sv_net_addr_normalize(const char *s);
/* The number of leading one bits of a netmask, -1 when they are not contiguous. */
int sv_net_addr_netmask_bits(const SvNetAddr *mask);
/* libvirt's virSocketAddrGetIPPrefix: prefix, else the netmask's bits, else the classful
 * prefix of an IPv4 address or 64 for IPv6; -1 when none applies. */
int sv_net_ip_prefix(const SvNetAddr *address, const SvNetAddr *netmask, guint prefix);
/* `addr` with all but its first `prefix` bits cleared. */
void sv_net_addr_mask(const SvNetAddr *addr, int prefix, SvNetAddr *out);
gboolean sv_net_addr_equal(const SvNetAddr *a, const SvNetAddr *b);

/* libvirt's virSocketAddrGetRange: checks a DHCP/NAT range (and that it lies in
 * `network`/`prefix` when network is not NULL), with libvirt's errors. */
gboolean sv_net_addr_check_range(const SvNetAddr *start, const SvNetAddr *end,
                                 const SvNetAddr *network, int prefix, GError **error);

/* libvirt's virMacAddrParse: six groups of one or two hex digits split by ':', optionally
 * followed by blanks. */
gboolean sv_net_mac_parse(const char *s, guint8 out[6]);
/* "aa:bb:cc:dd:ee:ff". (transfer full) */
char *sv_net_mac_format(const guint8 mac[6]);

/* An unsigned number as libvirt's virStrToLong_ui reads it: decimal digits, or '-' and
 * digits wrapping around ("-1" is 4294967295); nothing else. */
gboolean sv_net_parse_uint_wrap(const char *s, guint *out);

/* A tri-state yes/no attribute as libvirt's virXMLPropTristateBool: absent leaves *out at
 * ABSENT; anything but yes/no is the XML error libvirt gives. */
gboolean sv_net_prop_tristate(const xmlNode *node, const char *attr, SvNetworkTristate *out,
                              GError **error);
/* "yes"/"no" for a tri-state that is not absent. */
const char *sv_net_tristate_to_string(SvNetworkTristate v);

/* <vlan> and <virtualport> are kept as libvirt writes them: parse normalizes them to the
 * text the format writes back at indent 0 (each line ends with '\n'). */
gboolean sv_net_vlan_parse(const xmlNode *node, char **out, GError **error);
gboolean sv_net_virtualport_parse(const xmlNode *node, gboolean require_type, char **out,
                                  GError **error);
/* Append kept XML text (NULL: nothing), each line indented by `indent` spaces. */
void sv_net_append_indented(GString *buf, int indent, const char *text);

/* A deep copy of a <bandwidth> (NULL: NULL). (transfer full) */

/* ---- network_def.c ---------------------------------------------------------------------- */

const char *sv_network_mac_table_manager_to_string(int v);
int sv_network_mac_table_manager_from_string(const char *s);
/* The arrays of an empty definition. */
void sv_network_def_init_arrays(SvNetworkDef *def);
SvNetworkIpDef *sv_network_ip_def_new(void);
SvNetworkDhcpRange *sv_network_dhcp_range_new(void);
SvNetworkRouteDef *sv_network_route_new(void);
void sv_network_ip_def_free(gpointer ip);
void sv_network_portgroup_free(gpointer pg);
static inline void
sv_network_dhcp_host_unref(SvNetworkDhcpHost *host)
{
    sv_network_dhcp_host_free(host);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvNetworkDhcpHost, sv_network_dhcp_host_unref)
/* What dnsmasq's configuration parser gives a meaning to inside a value: '"' opens a quoted
 * part (one left open stops dnsmasq), '\\' escapes within it, '#' after a blank ends the
 * line. */
#define SV_DNSMASQ_META "\"\\#"

/* Refuse (XML_DETAIL, naming `what` of network `net`; `what` NULL: the network's name) a
 * value with a control character or one of `also` (NULL: none): it would change the shape
 * of dnsmasq's files. A NULL value is fine. */
gboolean sv_network_check_dnsmasq_value(const char *net, const char *what, const char *value,
                                        const char *also, GError **error);

/* ---- network_parse.c: the parts of a network ------------------------------------------- */

SvNetworkPortGroupDef *sv_network_portgroup_parse_node(const xmlNode *node, GError **error);
SvNetworkIpDef *sv_network_ip_parse_node(const char *net, const xmlNode *node, GError **error);
/* One <dhcp><host> of `ip` (partial_ok: a net-update delete, any one of mac/name/ip will
 * do). (transfer full) */
SvNetworkDhcpHost *sv_network_dhcp_host_parse_node(const char *net, const SvNetworkIpDef *ip,
                                                   const xmlNode *node, gboolean partial_ok,
                                                   GError **error);
SvNetworkDnsHost *sv_network_dns_host_parse_node(const char *net, const xmlNode *node,
                                                 gboolean partial_ok, GError **error);
gboolean sv_network_routes_parse(const xmlNode *root, SvNetworkDef *def, GError **error);
gboolean sv_network_dns_parse(const char *net, const xmlNode *node, SvNetworkDnsDef *dns,
                              GError **error);
gboolean sv_network_forward_parse(const char *net, const xmlNode *node, SvNetworkDef *def,
                                  GError **error);
/* The checks of a bridge/private/vepa/passthrough/hostdev network's other settings. */
gboolean sv_network_check_forward_device_mode(const SvNetworkDef *def, GError **error);
gboolean sv_network_dnsmasq_options_parse(const xmlNode *root, SvNetworkDef *def,
                                          GError **error);
/* Validate against libvirt's network.rng (VIR_NETWORK_DEFINE_VALIDATE). */
gboolean sv_network_schema_validate(xmlDoc *doc, GError **error);
