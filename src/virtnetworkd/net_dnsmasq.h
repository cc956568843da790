/* net_dnsmasq.h: a network's dnsmasq files as libvirt 9.0 writes them (NAME.conf,
 * NAME.hostsfile, NAME.addnhosts under the dnsmasq state directory) and the facts about
 * its addresses they are made of. Pure functions: text in, text out. */
#pragma once

#include <glib.h>

#include "conf/network_def.h"

/* Where the configuration points dnsmasq. */
typedef struct {
    const char *pid_file;   /* pid-file=, or NULL for none */
    const char *hostsfile;  /* dhcp-hostsfile= */
    const char *addnhosts;  /* addn-hosts= */
} SvNetDnsmasqPaths;

/* Whether the network runs dnsmasq at all: it has an address, and DHCP on one of them or
 * DNS not disabled (libvirt's networkStartDhcpDaemon). */
gboolean sv_net_dnsmasq_needed(const SvNetworkDef *def);

/* The configuration file. Errors as libvirt's (CONFIG_UNSUPPORTED for two DHCP
 * definitions of one family or a PTR domain that cannot be made). A value that would end
 * a line early is refused (INTERNAL_ERROR): the parser refuses those already, this is the
 * last guard before the file. (transfer full) */
char *sv_net_dnsmasq_conf(const SvNetworkDef *def, const SvNetDnsmasqPaths *paths,
                          GError **error);

/* dhcp-hostsfile's text: one line per <dhcp><host> with an address, of the DHCP <ip> of
 * each family. (transfer full) */
char *sv_net_dnsmasq_hostsfile(const SvNetworkDef *def);

/* addn-hosts' text: one line per <dns><host> address, its names tab-separated.
 * (transfer full) */
char *sv_net_dnsmasq_addnhosts(const SvNetworkDef *def);

/* The prefix length of an <ip> (prefix=, netmask=, or the classful default of an IPv4
 * address; 64 for IPv6), -1 when none applies. */
int sv_net_dnsmasq_ip_prefix(const SvNetworkIpDef *ip);

/* An address in the form libvirt prints it (inet_ntop's), or NULL when it is none.
 * (transfer full) */
char *sv_net_addr_canonical(const char *addr);

/* The IPv4 or IPv6 <ip> that carries DHCP (ranges or hosts), NULL when none; error when
 * two of one family do (libvirt's "multiple DHCP definitions"). */
gboolean sv_net_dhcp_ips(const SvNetworkDef *def, const SvNetworkIpDef **ret_v4,
                         const SvNetworkIpDef **ret_v6, GError **error);
