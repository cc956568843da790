/* daemon.h: the skeleton every splitvirt daemon's main() runs: options, configuration,
 * sockets (from systemd or bound here), sd_notify, signals and idle exit. */
#pragma once

#include <glib.h>

#include "programs/remote.h"
#include "rpc/server.h"
#include "util/conffile.h"

typedef struct SvDaemon SvDaemon;

typedef struct {
    const char *name;        /* "virtqemud": names the sockets' units, the config file, the server */
    const char *sock_prefix; /* "virtqemud" (or "libvirt" for the proxy): socket file names */
    const char *driver_name; /* libvirt's connection driver name, named by access errors
                              * ("QEMU"); NULL: "remote" */
    guint fds_per_client;    /* descriptors one client costs the daemon; 0: 1 */
    /* The families (SV_PROC_FAMILY_BIT) whose calls this daemon's clients make through it
     * to those drivers' daemons (programs/family_relay.h): a hypervisor daemon relays
     * SV_PROC_FAMILIES_SECONDARY, as libvirt's per-driver daemons open every secondary
     * driver for a hypervisor connection (libvirt's storage daemon co-opens the secret
     * driver: SV_PROC_FAMILY_BIT(SV_PROC_FAMILY_SECRET)); 0: none. */
    guint relay_families;
    /* The secondary driver the daemon is (SvRemoteConfig.family); 0
     * (SV_PROC_FAMILY_PRIMARY): a hypervisor daemon or the proxy. */
    SvProcFamily family;
    /* virtproxyd: it hands clients over and never adopts one. Every other daemon serving
     * the remote program takes the clients virtproxyd hands it (the private program). */
    gboolean routes_clients;
    /* virtproxyd: it takes --listen and the -tcp/-tls socket units (daemon_net.h), as
     * libvirt's virtproxyd alone of its modular daemons does. */
    gboolean listens_on_network;
    /* Set up the driver; called once the configuration is read, before any
     * client can connect. Adds the programs to sv_daemon_get_server(). */
    gboolean (*init)(SvDaemon *d, GError **error);
    /* Release the driver's state; guests are left running. */
    void (*cleanup)(SvDaemon *d);
} SvDaemonDriver;

/* Run a daemon to its end; returns the process exit status. */
int sv_daemon_main(const SvDaemonDriver *drv, int argc, char **argv);

/* ROOT + an absolute standard path ("/run/libvirt" -> "ROOT/run/libvirt"). (transfer full) */
char *sv_daemon_path(SvDaemon *d, const char *std_path);
/* libvirt's system token of this host (programs/backend.h, under ROOT/run/libvirt), read
 * or made on first use; "" when that failed (logged once): no internal call of this
 * daemon is elevated then, nor any of another daemon's recognised. */
const char *sv_daemon_system_token(SvDaemon *d);
/* The --root directory, "" without one. */
const char *sv_daemon_get_root(SvDaemon *d);
SvServer *sv_daemon_get_server(SvDaemon *d);
/* Serve the remote program on sv_daemon_get_server() with `handlers` (transfer none;
 * must outlive the daemon), told the daemon's proxy user and the driver's name; and,
 * unless the daemon routes clients itself, the private program that adopts the clients
 * virtproxyd hands over. */
void sv_daemon_serve_remote(SvDaemon *d, const SvRemoteHandlers *handlers);
SvServer *sv_daemon_get_admin_server(SvDaemon *d);
SvConfFile *sv_daemon_get_config(SvDaemon *d);
/* The host UUID from the configuration's host_uuid / host_uuid_source, as libvirt's
 * daemons read it at start (util/host.h). (transfer none) */
const char *sv_daemon_host_uuid(SvDaemon *d);
/* The directory of the daemon's configuration file (ROOT/etc/libvirt, or that of --config),
 * where a driver's own configuration files sit beside it (libvirt's secret.conf). (transfer
 * full) */
char *sv_daemon_config_dir(SvDaemon *d);
gboolean sv_daemon_is_verbose(SvDaemon *d);
gpointer sv_daemon_get_driver_data(SvDaemon *d);
void sv_daemon_set_driver_data(SvDaemon *d, gpointer data);

/* Exit after `timeout` seconds with no client and nothing inhibiting (0: never);
 * replaces --timeout at run time (virt-admin daemon-timeout). */
void sv_daemon_set_timeout(SvDaemon *d, guint timeout);

/* Hold off idle exit (guests running, work in flight); each inhibit needs one uninhibit. */
void sv_daemon_inhibit(SvDaemon *d);
void sv_daemon_uninhibit(SvDaemon *d);
/* sv_daemon_inhibit(daemon) when on, else sv_daemon_uninhibit(daemon): the hold hook of a
 * domain driver (SvDomainDriver.hold, with the daemon as its holder). */
void sv_daemon_hold(gpointer daemon, gboolean on);

/* Ask the loop to end (as SIGTERM does). */
void sv_daemon_quit(SvDaemon *d);
