/* remote.h: what every daemon's remote program shares: the handshake calls, close
 * callbacks, event registrations and the event fan-out. */
#pragma once

#include "protocol/remote_dispatch.h"
#include "rpc/server.h"

#include "protocol/sv_wire_constants.h"

/* The legacy REGISTER_ANY accepts the ids up to DEVICE_REMOVED (libvirt 9.0.0). */
#define SV_EVENT_ID_LEGACY_LAST (SV_DOMAIN_EVENT_ID_DEVICE_REMOVED + 1)

/* Fill h with the shared handlers: the AUTH_* calls (auth.h), CONNECT_SUPPORTS_FEATURE,
 * CONNECT_CLOSE, the close-callback pair, every event (de)registration, and the
 * host facts every driver reports alike (hostname, node info, free memory, library
 * version, is-secure, the "none" security model).
 * A driver overlays its own handlers on top. */
void sv_remote_common_handlers(SvRemoteHandlers *h);

/* The shared handlers of a secondary driver's daemon (secrets, node devices, ...): the
 * common ones less what libvirt's secondary connections have no driver for (host facts,
 * hostname, domain event registrations), which are left unserved: the daemon answers them
 * NO_SUPPORT naming the API, as libvirt's (SvRemoteConfig.family, rpc/admission.h). */
void sv_remote_secondary_handlers(SvRemoteHandlers *h);

/* For a driver's CONNECT_SUPPORTS_FEATURE: answers the features libvirt's RPC layer
 * answers itself (returns TRUE with *supported set), or fails before CONNECT_OPEN; returns
 * FALSE with *error unset when the driver must answer. A secondary driver of libvirt has
 * no answer of its own: every other feature is 0 there. */
gboolean sv_remote_protocol_feature(SvCall *call, int feature, int *supported, GError **error);

/* The same, and the features every hypervisor driver of libvirt 9.0 shares (typed string
 * parameters, the network update order; not REMOTE). */
gboolean sv_remote_generic_feature(SvCall *call, int feature, int *supported, GError **error);

/* Send a lifecycle event to every registration that matches, in both the
 * callback form (318) and the legacy form (107). */
void sv_remote_emit_lifecycle(SvServer *srv, const remote_nonnull_domain *dom, int event,
                              int detail);

/* Send a REBOOT event (319 / 169). */
void sv_remote_emit_reboot(SvServer *srv, const remote_nonnull_domain *dom);

/* issue 18 (metadata and tuning): an event libvirt sends only in the callback form.
 * send(c, callback_id, data) sends it to client c for each callback it registered for
 * event_id (on every domain, or on the one of uuid). */
typedef void (*SvRemoteEventSend)(SvClient *c, int callback_id, gpointer data);
void sv_remote_emit_callback_event(SvServer *srv, int event_id, const guint8 uuid[16],
                                   SvRemoteEventSend send, gpointer data);

/* issue 18 item 2 (live hotplug): DEVICE_REMOVED (callback form 333 and legacy form 311),
 * DEVICE_ADDED (354) or DEVICE_REMOVAL_FAILED (367) of the device `alias` of dom. */
void sv_remote_emit_device_event(SvServer *srv, int event_id, const remote_nonnull_domain *dom,
                                 const char *alias);
/* issue 18 item 2: an event libvirt sends in both forms (the callback one and the legacy
 * one of CONNECT_DOMAIN_EVENT_REGISTER_ANY), as sv_remote_emit_callback_event; send gets
 * callback_id 0 for a legacy registration. */
void sv_remote_emit_event(SvServer *srv, int event_id, const guint8 uuid[16],
                          SvRemoteEventSend send, gpointer data);

/* Whether the peer is root or the proxy user of the remote program served on the
 * client's server (root alone where none is served). */
gboolean sv_remote_peer_trusted(SvClient *c);

/* Whether the identity a trusted daemon set for this connection carries `system_token`
 * (libvirt's elevated identity: the daemon's own internal call, made for that user). */
gboolean sv_remote_client_is_elevated(SvClient *c, const char *system_token);

/* The identity a trusted proxy set for this connection; FALSE when none. */
gboolean sv_remote_client_get_identity(SvClient *c, gint64 *uid, gint64 *gid, gint64 *pid);

/* Refuse a CONNECT_SET_IDENTITY from a client that may not set one, with libvirt's
 * access error (ACCESS_DENIED, "access denied: 'QEMU' denied access", the driver name
 * of the remote program served on the client's server); the reason goes to the log. */
void sv_remote_identity_denied(SvClient *c, GError **error);

/* The remote program's hooks: its read-only checks that depend on arguments (asked for
 * calls allowed on read-only connections; see sv_remote.x), and its part of CONNECT_OPEN
 * (flag SV_CONNECT_RO makes the connection read-only; the socket it came in on may have
 * made it so already, and nothing makes it read-write again). */
extern const SvProgramHooks sv_remote_hooks;

/* What one server's remote program is told by its daemon. */
typedef struct {
    /* Besides root, the user whose connections may use CONNECT_SET_IDENTITY and hand
     * over connections (virtproxyd's); 0: root alone. */
    uid_t proxy_uid;
    /* libvirt's name of the daemon's connection driver ("QEMU", "LXC", "xenlight",
     * "remote" for the proxy), which access errors name; NULL: "remote". */
    const char *driver_name;
    /* The run directory (ROOT/run/libvirt) where the secondary drivers' sockets are, and
     * the families (SV_PROC_FAMILY_BIT) whose calls go to them (programs/family_relay.h)
     * when this daemon has no handler for them; NULL or 0: none is relayed. */
    const char *family_run_dir;
    guint relay_families;
    /* The family whose driver this daemon is (SV_PROC_FAMILY_STORAGE for virtstoraged, ...):
     * the calls of the others it does not relay are answered as libvirt's per-driver
     * daemons answer them (rpc/admission.h); SV_PROC_FAMILY_PRIMARY (0): a hypervisor
     * daemon or the proxy. */
    SvProcFamily family;
} SvRemoteConfig;

/* Serve the remote program on `srv` with `handlers` (transfer none; must outlive the
 * server), the remote program's hooks and `config` (copied; NULL: root alone, "remote").
 * Every daemon's remote program goes this way. */
void sv_remote_serve(SvServer *srv, const SvRemoteHandlers *handlers,
                     const SvRemoteConfig *config);

/* How many event registrations a client holds (tests, admin). */
guint sv_remote_client_n_registrations(SvClient *c);
