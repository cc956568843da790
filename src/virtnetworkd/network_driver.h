/* network_driver.h: virtnetworkd's driver, network:///system's remote program, and what its
 * files share: the driver state, the network handles of the wire, the checks and events
 * every call uses. */
#pragma once

#include "daemon/daemon.h"
#include "net_runtime.h"
#include "network_store.h"

extern const SvDaemonDriver network_daemon_driver;

typedef struct {
    SvDaemon *daemon;
    SvRemoteHandlers handlers;
    Networks *nets;
    SvNetRuntime *rt;
    char *state_dir; /* ROOT/run/libvirt/network */
    guint holds;     /* starts and stops on a worker: the daemon is held up for them */
} NetworkDriver;

NetworkDriver *network_driver_of(SvCall *call);

/* The network a call names (by UUID, as libvirt's network driver finds it), with NO_NETWORK
 * "no network with matching uuid 'UUID' (NAME)" when absent. (transfer none) */
NetworkObj *network_of(NetworkDriver *drv, const remote_nonnull_network *n, GError **error);
/* The wire handle of a network (its name copied). */
void network_make(remote_nonnull_network *out, const NetworkObj *net);
/* A lifecycle event (SV_NETWORK_EVENT_*, detail 0) for net. */
void network_emit(NetworkDriver *drv, const NetworkObj *net, int event);

/* libvirt's OPERATION_INVALID "network 'NAME' is not active" unless net is active. */
gboolean network_check_active(const NetworkObj *net, GError **error);
/* OPERATION_INVALID while a start or stop of net is on a worker (libvirt holds the network's
 * lock then, and the call would wait for it). */
gboolean network_check_idle(const NetworkObj *net, GError **error);

/* Install the calls that change networks (network_calls.c) and the update call
 * (network_update.c). */
void network_calls_install(SvRemoteHandlers *h);
void network_update_install(SvRemoteHandlers *h);

/* Start net (its live definition) on a worker: the call (may be NULL: autostart) is answered
 * when it is done, with the network as its reply when reply_net (a create from XML, which a
 * failure then removes). STARTED event. */
void network_start(NetworkDriver *drv, NetworkObj *net, SvCall *call, gboolean reply_net);

/* The networks found active at load: the data plane taken over, or the network marked
 * inactive when it is gone (its bridge missing); then autostart, once per boot. */
void network_recover(NetworkDriver *drv);
