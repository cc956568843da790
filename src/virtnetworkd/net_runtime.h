/* net_runtime.h: a virtual network's data plane (bridge, addresses, firewall, ip forwarding,
 * dnsmasq and its leases) as libvirt 9.0's network driver sets it up, behind one small API
 * used by the network driver. Paths are libvirt's, all below the daemon's root. */
#pragma once

#include <gio/gio.h>

#include "conf/network_def.h"
#include "net_leases.h"

typedef struct SvNetRuntime SvNetRuntime;

/* paths: ROOT-based dirs; the runtime owns dnsmasq supervision (pidfd), leases, and the
 * firewall's reload watch (running networks get their rules back after a firewalld reload
 * or an `nft flush ruleset`). `root` is "" or NULL for none. (transfer full) */
SvNetRuntime *sv_net_runtime_new(const char *root, GError **error);
/* Running networks stay up (a restarted daemon reattaches them). Free it only when no start,
 * stop or dnsmasq restart is under way (the daemon's exit). */
void sv_net_runtime_free(SvNetRuntime *rt);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvNetRuntime, sv_net_runtime_free)

/* Start a network's data plane: bridge (def->bridge.name must be set), addresses,
 * firewall (netfw's net_firewall.h), ip forwarding when needed, dnsmasq. Blocking work on
 * a worker; the callback runs on the main loop. On failure everything done is undone. */
void sv_net_runtime_start(SvNetRuntime *rt, const SvNetworkDef *def,
                          GAsyncReadyCallback cb, gpointer data);
gboolean sv_net_runtime_start_finish(SvNetRuntime *rt, GAsyncResult *res, GError **error);

/* Stop it: dnsmasq, firewall, bridge (its addresses), lease/status files as libvirt (the
 * dnsmasq files and BRIDGE.status stay until sv_net_runtime_remove_files(); the pid file
 * goes, which libvirt leaves behind). */
void sv_net_runtime_stop(SvNetRuntime *rt, const SvNetworkDef *def,
                         GAsyncReadyCallback cb, gpointer data);
gboolean sv_net_runtime_stop_finish(SvNetRuntime *rt, GAsyncResult *res, GError **error);

/* After a daemon restart, for each network found active: take over its dnsmasq (pid file
 * + pidfd), re-apply the firewall. FALSE when the network is gone (bridge missing). */
gboolean sv_net_runtime_reattach(SvNetRuntime *rt, const SvNetworkDef *def, GError **error);

/* dnsmasq's view changed (net-update): rewrite its hosts files and SIGHUP it, or with
 * restart (what its configuration file holds changed: DHCP ranges, TXT and SRV records,
 * DHCP turned on or off) end it and start one on the new configuration, as libvirt's
 * networkRestartDhcpDaemon. */
gboolean sv_net_runtime_reload(SvNetRuntime *rt, const SvNetworkDef *def, gboolean restart,
                               GError **error);

/* Forget a network that is no longer defined (undefine, a transient network's stop), as
 * libvirt's networkRemoveInactive: its dnsmasq files (NAME.conf, NAME.hostsfile,
 * NAME.addnhosts, NAME.leases), BRIDGE.status and BRIDGE.macs. Nothing runs: blocking
 * only on unlink. */
void sv_net_runtime_remove_files(SvNetRuntime *rt, const SvNetworkDef *def);

/* A port of domain `owner` with MAC `mac` was plugged into (added TRUE) or unplugged from
 * the network: BRIDGE.macs, the domain-to-MACs map libvirt's NSS module reads, is updated
 * as libvirt's virMacMap does at port creation and deletion (the file stays after the
 * network stops, and goes with sv_net_runtime_remove_files()). Blocking only on the file.
 * Errors as libvirt's for a map file it cannot read. */
gboolean sv_net_runtime_port_mac(SvNetRuntime *rt, const SvNetworkDef *def, const char *owner,
                                 const char *mac, gboolean added, GError **error);

/* The leases helper dnsmasq runs (--dhcp-script); by default virtnetworkd-leaseshelper
 * beside the daemon's executable, else in the install's libexecdir. Tests set it. */
void sv_net_runtime_set_leaseshelper(SvNetRuntime *rt, const char *path);

/* The network's DHCP leases (NETWORK_GET_DHCP_LEASES), mac filter optional (NULL: all).
 * (transfer full): a GPtrArray of SvNetLease, freeing its elements. */
GPtrArray *sv_net_runtime_leases(SvNetRuntime *rt, const SvNetworkDef *def,
                                 const char *mac, GError **error);
