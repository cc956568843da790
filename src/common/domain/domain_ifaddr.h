/* domain_ifaddr.h: a guest's interface addresses from the host's side (issue 18 item 1,
 * DOMAIN_INTERFACE_ADDRESSES): the ARP table's entries for its NICs' MACs, and the DHCP
 * leases of its NICs on libvirt networks; and the agent-less procedures of the guest agent
 * (SET_TIME, FSFREEZE, FSTHAW, GET_FSINFO, SET_USER_PASSWORD) answered NO_SUPPORT for the
 * drivers that have no agent. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"
#include "programs/remote.h"
#include "protocol/sv_wire_constants.h"

/* Append to ifaces one interface per entry of `arp` (the text of /proc/net/arp) whose MAC
 * is one of def's NICs', as libvirt's ARP source: named after the NIC's host-side device
 * (its live <target dev>), with its MAC and the entry's IPv4 address, prefix 0. */
void sv_domain_ifaddr_from_arp(const SvDomainDef *def, const char *arp, GArray *ifaces);

/* The ARP source for a running guest's def: the host's table (/proc/net/arp of the
 * daemon's network namespace) read, as above. FALSE with libvirt's error when the table
 * cannot be read. */
gboolean sv_domain_ifaddr_arp(const SvDomainDef *def, remote_domain_interface_addresses_ret *ret,
                              GError **error);

/* The LEASE source: the leases of def's NICs of type network, asked of the network daemon
 * (socket under run_dir) for the client of call, which is answered later
 * (domain/domain_netport.h sv_netport_leases); a guest without such a NIC gets an empty
 * list, as libvirt answers. The handler returns TRUE. */
void sv_domain_ifaddr_lease(SvCall *call, const SvDomainDef *def, const char *run_dir);

/* DOMAIN_GET_HOSTNAME with the LEASE flag (libvirt's qemuDomainGetHostnameLease): the
 * first hostname a DHCP lease of def's NICs of type network gives, asked of the network
 * daemon for the client of call, which is answered later; none: "no hostname found for
 * domain NAME" (NO_HOSTNAME, in the driver's error domain `from`). The handler returns
 * TRUE. */
void sv_domain_hostname_lease(SvCall *call, const SvDomainDef *def, const char *run_dir,
                              int from);

/* ret->ifaces from an array of remote_domain_interface (which it takes). */
void sv_domain_ifaddr_set(remote_domain_interface_addresses_ret *ret, GArray *ifaces);

/* One address of an interface (strings copied). */
void sv_domain_ifaddr_add(remote_domain_interface *iface, int type, const char *addr, guint prefix);

/* For a driver without a guest agent (libvirt's lxc and libxl drivers have none of these):
 * SET_TIME, FSFREEZE, FSTHAW, GET_FSINFO and SET_USER_PASSWORD answered NO_SUPPORT ("this
 * function is not supported by the connection driver: virDomainSetTime"), whatever the
 * domain, after virDomainSetUserPassword's own argument checks. */
void sv_domain_agent_install_no_support(SvRemoteHandlers *h);

/* virDomainSetUserPassword's checks of its arguments, which libvirt's daemon runs before
 * any driver: a user and a password ("invalid argument: user in virDomainSetUserPassword
 * must not be NULL"). */
gboolean sv_domain_password_check(const remote_domain_set_user_password_args *a, GError **error);
