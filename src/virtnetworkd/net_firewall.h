/* net_firewall.h: a virtual network's firewall (nat, route, open, isolated) as nftables rules
 * in a table of splitvirt's own per network, the rule set of libvirt 9.0's iptables rules. */
#pragma once

#include <glib.h>

#include "conf/network_def.h"

/* The network's table: family inet, named "splitvirt-BRIDGE" (the bridge is unique among
 * active networks and the rules are about it), with the network's name as its comment.
 * (transfer full) */
char *sv_net_firewall_table_name(const SvNetworkDef *def);

/* The nft script that sv_net_firewall_add feeds to `nft -f -`: it (re)creates the
 * network's table in one transaction. An open, bridge, hostdev... network has none: NULL.
 * def->bridge.name must be set. FALSE with error for a bridge name nft cannot hold.
 * (transfer full in *ret_script) */
gboolean sv_net_firewall_script(const SvNetworkDef *def, char **ret_script, GError **error);

/* Add the network's rules in its own table; idempotent: the table is replaced atomically,
 * so a second call (daemon restart, firewall reload) leaves exactly one set of rules.
 * Nothing outside the table is touched. First, as libvirt does, the bridge goes into
 * firewalld's zone when firewalld runs (<bridge zone=>, else its "libvirt" zone, or
 * "libvirt-routed" for a route network, when they exist); a zone asked for without
 * firewalld is libvirt's error. Blocking (runs nft, asks firewalld): call from a worker.
 * A mode without rules (open, bridge, ...) succeeds and does nothing. */
gboolean sv_net_firewall_add(const SvNetworkDef *def, GError **error);

/* Remove the network's table if present; nothing else is touched. Blocking: a worker. */
void sv_net_firewall_remove(const SvNetworkDef *def);

/* TRUE when the network's table exists (or the network needs none). Blocking: a worker. */
gboolean sv_net_firewall_present(const SvNetworkDef *def);

/* How nft is run: argv (argv[0] "nft"), the script on its stdin (or NULL); stdout into
 * *ret_out (may be NULL). FALSE with libvirt's command error when it fails. */
typedef gboolean (*SvNetFirewallRunner)(const char *const *argv, const char *input,
                                        char **ret_out, gpointer data, GError **error);

/* Tests: run nft through runner instead (golden scripts, a fake ruleset); NULL restores
 * the real nft. Not thread safe: set it before any network starts. */
void sv_net_firewall_set_runner(SvNetFirewallRunner runner, gpointer data);

/* ------------------------------------------------------------- reload detection */

/* Someone else rebuilt the firewall: firewalld's Reloaded D-Bus signal, or a table of ours
 * deleted behind our back (`nft flush ruleset`, `nft delete table`), seen through a child
 * `nft monitor tables` process read on the main loop. The callback runs on the main loop
 * with the deleted table's name, or NULL for a firewalld reload or start (anything may be
 * gone).
 * The owner re-adds the rules (sv_net_firewall_add, idempotent, from a worker) of each
 * network whose table that is (all for NULL), if its start has finished and its stop has
 * not begun: our own removes show up here too, and that rule makes them harmless. */
typedef struct SvNetFirewallWatch SvNetFirewallWatch;
typedef void (*SvNetFirewallLostFunc)(const char *table, gpointer data);

/* Start watching (an `nft monitor` child and a system bus subscription when the bus is
 * there). NULL with error when nft cannot be started. A monitor that ends is started again
 * two seconds later, and the callback then gets NULL (deletions meanwhile were missed).
 * (transfer full) */
SvNetFirewallWatch *sv_net_firewall_watch_new(SvNetFirewallLostFunc func, gpointer data,
                                              GError **error);
/* The table a line of `nft monitor tables` says was deleted, when it is one of ours
 * ("splitvirt-..."); NULL otherwise. Exposed for tests. (transfer full) */
char *sv_net_firewall_monitor_table(const char *line);

/* Stop watching: the monitor child is killed and reaped. NULL does nothing. */
void sv_net_firewall_watch_free(SvNetFirewallWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvNetFirewallWatch, sv_net_firewall_watch_free)
