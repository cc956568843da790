/* network_store.h: virtnetworkd's networks and their ports, in memory and on disk as libvirt
 * 9.0 keeps them: ROOT/etc/libvirt/qemu/networks/NAME.xml (a persistent network's definition),
 * the link ROOT/etc/libvirt/qemu/networks/autostart/NAME.xml, ROOT/run/libvirt/network/NAME.xml
 * (an active network's status: <networkstatus> around its live definition, which a restarted
 * daemon finds active again) and ROOT/run/libvirt/network/NAME/ports/UUID.xml (each port of an
 * active network). */
#pragma once

#include "conf/network_def.h"

typedef struct {
    SvNetworkDef *def;      /* the live definition (the only one while inactive) */
    SvNetworkDef *new_def;  /* while active: the persistent definition, applied at stop */
    gboolean active;
    gboolean persistent;
    gboolean autostart;
    gboolean busy;          /* a start or stop is on a worker */
    GPtrArray *ports;       /* SvNetworkPortDef, in creation order */
} NetworkObj;

typedef struct Networks Networks;

/* The networks of the directories config_dir (definitions; autostart/ in it) and state_dir
 * (status files and ports). (transfer full) */
Networks *networks_new(const char *config_dir, const char *state_dir);
void networks_free(Networks *nets);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Networks, networks_free)

/* Create the directories and load every definition, then every status file (those networks
 * are active again, with their ports; a status without a definition is a transient network).
 * A file that does not read, or whose name is not its network's, is skipped with a warning.
 * Returns how many networks there are, or -1 when the directories cannot be made. */
int networks_load(Networks *nets, GError **error);

/* The networks in definition order. (transfer none) */
GPtrArray *networks_list(Networks *nets);
/* With libvirt's NO_NETWORK errors when absent. (transfer none) */
NetworkObj *networks_find_name(Networks *nets, const char *name, GError **error);
NetworkObj *networks_find_uuid(Networks *nets, const guint8 uuid[16], GError **error);

/* Whether a network other than the one named skip_name (NULL: none skipped) uses bridge
 * `bridge` in its live or persistent definition (libvirt's virNetworkObjBridgeInUse). */
gboolean networks_bridge_in_use(Networks *nets, const char *bridge, const char *skip_name);

/* libvirt's virNetworkObjAssignDef checks for a new definition: a network with its UUID but
 * another name, or with its name but another UUID; with check_live (a create), the network of
 * its UUID must not be active. Returns the network def replaces (NULL for a new one, with
 * *error unset). */
NetworkObj *networks_check_add(Networks *nets, const SvNetworkDef *def, gboolean check_live,
                               GError **error);
/* Give def (transfer full) to `old` (what networks_check_add gave) or to a new network, as
 * libvirt's virNetworkObjUpdateAssignDef: live (a create): def becomes the live definition,
 * the persistent one kept aside; else def is the persistent definition (kept aside while the
 * network is active) and the network becomes persistent. */
NetworkObj *networks_assign(Networks *nets, NetworkObj *old, SvNetworkDef *def, gboolean live);
/* Forget net; it is freed. */
void networks_remove(Networks *nets, NetworkObj *net);
/* The persistent definition of net (new_def while active, else def). (transfer none) */
const SvNetworkDef *network_obj_persistent_def(const NetworkObj *net);

/* The definition file of net (its persistent definition), written durably. */
gboolean networks_save_config(Networks *nets, NetworkObj *net, GError **error);
/* Remove the definition file and the autostart link. */
gboolean networks_delete_config(Networks *nets, NetworkObj *net, GError **error);
/* Create or remove the autostart link (libvirt's errors). */
gboolean networks_set_autostart(Networks *nets, NetworkObj *net, gboolean on, GError **error);
/* The status file of an active network (its live definition). */
gboolean networks_save_status(Networks *nets, NetworkObj *net, GError **error);

/* Mark net active: from now on its status file is kept. */
void networks_activate(NetworkObj *net);
/* net stopped: status file and ports removed, inactive, the persistent definition back as its
 * only one. A transient network is removed (and freed): returns FALSE then. */
gboolean networks_deactivate(Networks *nets, NetworkObj *net);

/* Ports. With libvirt's NO_NETWORK_PORT error when absent. (transfer none) */
SvNetworkPortDef *networks_find_port(NetworkObj *net, const guint8 uuid[16], GError **error);
/* Add port (transfer full) and write its file; NETWORK_PORT_EXIST for a UUID in use. On
 * failure port is freed. */
gboolean networks_add_port(Networks *nets, NetworkObj *net, SvNetworkPortDef *port,
                           GError **error);
/* Rewrite the file of a port changed in place. */
gboolean networks_save_port(Networks *nets, NetworkObj *net, const SvNetworkPortDef *port,
                            GError **error);
/* Remove port (freed) and its file. */
void networks_delete_port(Networks *nets, NetworkObj *net, SvNetworkPortDef *port);
