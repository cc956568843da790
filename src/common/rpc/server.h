/* server.h: the RPC server: listening sockets and client limits (listener.c), the server
 * and its clients (server.c), each connection's I/O and keepalive (connection.c),
 * descriptors (fdpass.c), dispatch (dispatch.c). */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "protocol/program.h"
#include "rpc/frame.h"
#include "rpc/message.h"
#include "rpc/tls.h"
#include "rpc/transport.h"

typedef struct SvServer SvServer;
typedef struct SvClient SvClient;

typedef struct {
    guint max_clients;           /* connections from read-write sockets; further ones are
                                  * answered with an error and closed (listener.c) */
    guint max_readonly_clients;  /* the same for read-only sockets, counted apart */
    guint max_anonymous_clients; /* reported limit on clients before authentication */
    guint max_client_requests;   /* deferred calls per client before its reads pause */
    gsize max_message;           /* header + payload, at most SV_MESSAGE_MAX */
    gsize max_client_output;     /* queued bytes to one client before it is dropped */
    guint keepalive_interval;    /* seconds; 0 disables server PINGs */
    guint keepalive_count;
} SvServerConfig;

/* libvirt's defaults. */
void sv_server_config_init(SvServerConfig *cfg);

SvServer *sv_server_new(const char *name, const SvServerConfig *cfg);
/* Closes the listeners and every client (their close hooks run) and lets go of the
 * programs; the server stays allocated, with no client, so that work finishing later (a
 * store completing during the driver's cleanup) emits its events to no one. */
void sv_server_shutdown(SvServer *srv);
void sv_server_free(SvServer *srv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvServer, sv_server_free)

const char *sv_server_get_name(SvServer *srv);

/* Serve `info` with `handlers` (transfer none; must outlive the server). */
void sv_server_add_program(SvServer *srv, const SvProgramInfo *info, const void *handlers);

/* The same with the program's hooks (transfer none; must outlive the server) and its
 * module's data for this server (transfer full; freed with data_free, which may be
 * NULL, after the server's clients are gone). */
void sv_server_add_program_hooks(SvServer *srv, const SvProgramInfo *info, const void *handlers,
                                 const SvProgramHooks *hooks, gpointer data,
                                 GDestroyNotify data_free);

/* The data `info` was served with on srv, or NULL when srv does not serve it.
 * (transfer none) */
gpointer sv_server_get_program_data(SvServer *srv, const SvProgramInfo *info);

/* Accept on a listening socket (transfer full). Connections from it are
 * read-only when `readonly`. */
void sv_server_add_listener(SvServer *srv, int fd, gboolean readonly);

/* Accept TCP clients (tls NULL) or TLS ones (tls: the server's credentials, transfer
 * none) on a listening TCP socket (transfer full). A TLS client's handshake and
 * certificate check come before its first frame; one refused is closed. */
void sv_server_add_listener_net(SvServer *srv, int fd, SvTlsContext *tls);

/* Stop accepting (for shutdown); clients are left alone. */
void sv_server_close_listeners(SvServer *srv);

guint sv_server_n_clients(SvServer *srv);

/* The client limits (virt-admin srv-clients-info/-set). Lowering a limit below the
 * current count keeps the connected clients and refuses new ones. The anonymous limit
 * counts the clients still to authenticate (a listener asking for SASL): one more is
 * refused as one over max_clients is (listener.c). */
guint sv_server_get_max_clients(SvServer *srv);
guint sv_server_get_max_readonly_clients(SvServer *srv);
guint sv_server_get_max_anonymous_clients(SvServer *srv);
void sv_server_set_client_limits(SvServer *srv, guint max_clients, guint max_anonymous_clients);
void sv_server_set_max_readonly_clients(SvServer *srv, guint max);
/* Clients that came in on a read-only socket. */
guint sv_server_n_readonly_clients(SvServer *srv);
/* Whether the server has a read-only listener (so its read-only limit means something). */
gboolean sv_server_serves_readonly(SvServer *srv);

/* The client with this id, or NULL when it is gone. (transfer none) */
SvClient *sv_server_lookup_client(SvServer *srv, guint64 id);

/* Data for the programs served on srv, e.g. the admin program's context. (transfer none) */
void sv_server_set_user_data(SvServer *srv, gpointer data);
gpointer sv_server_get_user_data(SvServer *srv);

/* Called after a client connects or goes away (for idle accounting). */
void sv_server_set_clients_changed(SvServer *srv, void (*fn)(SvServer *, gpointer), gpointer data);

/* Called when a client goes away, before its state is freed, so drivers can
 * drop what they keep for it. */
void sv_server_set_client_closed(SvServer *srv, void (*fn)(SvClient *, gpointer), gpointer data);

/* Each client, in connection order. */
void sv_server_foreach_client(SvServer *srv, void (*fn)(SvClient *, gpointer), gpointer data);

/* Connect a socketpair end as a client (tests, in-process use). */
SvClient *sv_server_add_client_fd(SvServer *srv, int fd, gboolean readonly);

/* Take over a connection another daemon accepted (transfer full on success), with
 * the bytes it had read from it and not answered, processed as if read here.
 * Returns the new client's id (the client itself may already be gone), or 0 with
 * *error set when the client's limit is reached. */
guint64 sv_server_adopt_client(SvServer *srv, int fd, gboolean readonly, gboolean keepalive,
                               const guint8 *input, gsize len, GError **error);

/* ---- clients ---- */
SvClient *sv_client_ref(SvClient *c);
void sv_client_unref(SvClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvClient, sv_client_unref)

guint64 sv_client_get_id(SvClient *c);
SvServer *sv_client_get_server(SvClient *c);
gboolean sv_client_is_readonly(SvClient *c);
void sv_client_set_readonly(SvClient *c);
gboolean sv_client_is_open(SvClient *c);
gboolean sv_client_is_closed(SvClient *c);
/* Peer credentials from SO_PEERCRED; FALSE when unknown. */
gboolean sv_client_get_peer(SvClient *c, uid_t *uid, gid_t *gid, pid_t *pid);
/* The identity a trusted proxy forwarded for this connection (CONNECT_SET_IDENTITY,
 * checked by remote.c); get returns FALSE when none was set. */
void sv_client_set_identity(SvClient *c, gint64 uid, gint64 gid, gint64 pid);
gboolean sv_client_get_identity(SvClient *c, gint64 *uid, gint64 *gid, gint64 *pid);
/* Who the client is for logs: the forwarded identity, else the peer; -1 unknown. */
void sv_client_get_who(SvClient *c, gint64 *uid, gint64 *pid);
gint64 sv_client_get_connect_time(SvClient *c); /* g_get_real_time() at accept */
/* What the client came in over (unix for in-process and adopted clients). */
SvTransportKind sv_client_get_transport(SvClient *c);
/* A TCP or TLS client's address, "ADDR;PORT"; NULL for a unix one. */
const char *sv_client_get_sock_addr(SvClient *c);
/* A TLS client's certificate DN once accepted, or the one a trusted proxy forwarded for
 * the client it relays (CONNECT_SET_IDENTITY's x509-distinguished-name), else NULL. */
const char *sv_client_get_x509_dname(SvClient *c);
void sv_client_set_x509_dname(SvClient *c, const char *dname);
/* A TLS client's cipher key size in bytes, 0 for any other (SASL's external SSF). */
int sv_client_get_tls_key_size(SvClient *c);

/* ---- authentication (client_auth.c; the AUTH_* calls are programs/auth.c) ---- */
/* What a client must pass before any call but the AUTH_* ones is served: libvirt's
 * remote_auth_type numbers, which AUTH_LIST answers. */
typedef enum {
    SV_AUTH_NONE = 0,
    SV_AUTH_SASL = 1,
    SV_AUTH_POLKIT = 2,
    SV_AUTH_LAST,
} SvAuth;

/* "none", "sasl", "polkit" (the configuration's words); NULL out of range. */
const char *sv_auth_to_string(SvAuth auth);
/* The method named so, or -1. */
int sv_auth_from_string(const char *name);

/* The authentication the clients accepted on listening socket fd (one added with
 * sv_server_add_listener) must pass; SV_AUTH_NONE until set. Clients handed over by the
 * proxy (which authenticated them) and in-process ones need none. */
void sv_server_set_listener_auth(SvServer *srv, int fd, SvAuth auth);

/* What the client must still pass: its listener's method until it has authenticated,
 * then SV_AUTH_NONE (AUTH_LIST answers NONE from then on, as libvirt's). */
SvAuth sv_client_get_auth(SvClient *c);
/* The client has authenticated: every call of it is served from now on. */
void sv_client_set_authenticated(SvClient *c);
/* The SASL username the client authenticated as, or that the trusted proxy relaying it
 * forwarded (CONNECT_SET_IDENTITY's sasl-user-name); NULL: none. (transfer none) */
const char *sv_client_get_sasl_user(SvClient *c);
void sv_client_set_sasl_user(SvClient *c, const char *user);
/* Whether the connection itself keeps what crosses it from others, so that SASL needs no
 * security layer of its own (libvirt's virNetServerClientIsSecure): a unix socket or TLS. */
gboolean sv_client_is_secure(SvClient *c);
/* The connection's local and peer addresses as SASL takes them ("ADDR;PORT"), NULL for a
 * unix socket. (transfer full) */
char *sv_client_sasl_local_addr(SvClient *c);
char *sv_client_sasl_remote_addr(SvClient *c);
/* Connected clients that have not authenticated yet (virt-admin's nclients_unauth). */
guint sv_server_n_unauth_clients(SvServer *srv);

/* ---- attachments ---- */
/* What an owner above the transport (a program's module, a driver, the proxy) keeps
 * for a connection is an attachment, found by the owner's key: each owner defines one
 * static SvAttachKey and passes its address. The transport compares key addresses and
 * reads only the level, so it names no owner.
 *
 * Attachments go when the connection goes, after its close notifications and the
 * server's client_closed: level by level, the highest first, and within a level the
 * most recently attached first. A driver's state may still use a program's while it is
 * freed (a pending call it fails, say), never the reverse, so SV_ATTACH_LEVEL_DRIVER
 * attachments go before SV_ATTACH_LEVEL_PROGRAM ones. While they are freed, none of the
 * connection's attachments can be found any more. */
#define SV_ATTACH_LEVEL_PROGRAM 0 /* a program's per-connection state (remote.c) */
#define SV_ATTACH_LEVEL_DRIVER 1  /* a driver's or the proxy's connection */

typedef struct {
    const char *name; /* for debugging */
    guint level;      /* SV_ATTACH_LEVEL_* */
} SvAttachKey;

/* Attach `data` under `key` (transfer full), freed with free_fn (may be NULL) when the
 * connection goes or when another attach replaces it; NULL data just frees what was
 * there. What is attached to a connection already closed goes with its last reference. */
void sv_client_attach(SvClient *c, const SvAttachKey *key, gpointer data, GDestroyNotify free_fn);

/* What is attached under `key`, or NULL. (transfer none) */
gpointer sv_client_attachment(SvClient *c, const SvAttachKey *key);

/* Queue an encoded message (transfer full). A client whose output queue
 * passes the limit is closed; returns FALSE then. */
gboolean sv_client_send(SvClient *c, SvMsg *msg);

/* Queue a MESSAGE of program `prog` (events: serial 1, status OK). */
gboolean sv_client_send_event(SvClient *c, guint32 prog, guint32 vers, int proc,
                              xdrproc_t filter, void *obj);

/* Called once when the connection goes (before the driver's client_closed). */
void sv_client_add_close_notify(SvClient *c, void (*fn)(SvClient *, gpointer), gpointer data);
void sv_client_remove_close_notify(SvClient *c, void (*fn)(SvClient *, gpointer), gpointer data);

/* Relay mode: from now on every frame but keepalive goes to fn, whole (length
 * word included), instead of being dispatched. */
void sv_client_set_relay(SvClient *c, void (*fn)(SvClient *, const guint8 *frame, gsize len,
                                                 gpointer),
                         void (*batch_done)(SvClient *, gpointer), gpointer data);

/* Hold writes to the client until the matching uncork (batching frames that
 * arrive together elsewhere into one write). */
void sv_client_cork(SvClient *c);
void sv_client_uncork(SvClient *c);

/* Called when the output queue has drained below half the read-pause mark. */
void sv_client_set_drain_func(SvClient *c, void (*fn)(SvClient *, gpointer), gpointer data);

/* Stop or resume reading from the client (back-pressure from elsewhere). */
void sv_client_pause(SvClient *c, gboolean paused);

/* Mark the connection open (a relayed CONNECT_OPEN succeeded). */
void sv_client_mark_open(SvClient *c);

/* The connection's socket (transfer none). */
int sv_client_get_fd(SvClient *c);

/* Whether server PINGs run for this client. */
gboolean sv_client_keepalive_enabled(SvClient *c);


/* Every byte read from the client and not yet dispatched. (transfer full) */
guint8 *sv_client_steal_input(SvClient *c, gsize *len);

/* The connection's open streams (stream.c's list). */
GList **sv_client_streams(SvClient *c);

/* Bytes queued to the client and not yet written (flow control of streams). */
gsize sv_client_get_output_bytes(SvClient *c);

/* Close once everything queued has been written. */
void sv_client_close_after_flush(SvClient *c);

/* Close the connection now (pending output is dropped). */
void sv_client_close(SvClient *c, const char *reason);

/* Start server PINGs for this client (the keepalive feature was asked for). */
void sv_client_start_keepalive(SvClient *c);

/* Handler for client STREAM messages (console streams; NULL drops them). */
void sv_client_set_stream_handler(SvClient *c,
                                  void (*fn)(SvClient *, const SvHeader *, const guint8 *payload,
                                             gsize len, gpointer),
                                  gpointer data);

/* ---- calls ---- */
SvClient *sv_call_get_client(SvCall *call); /* (transfer none) */
/* The user data of the server the call came in on (sv_server_set_user_data), i.e. the
 * driver or program context serving it. (transfer none) */
gpointer sv_call_get_server_data(SvCall *call);
const SvHeader *sv_call_get_header(SvCall *call);
const SvProcInfo *sv_call_get_proc(SvCall *call);

/* The next descriptor that came with the call (a CALL_WITH_FDS of a procedure whose
 * .x annotation takes them; fdpass.c), transfer full, or -1. Those not taken are
 * closed when the call completes. */
int sv_call_take_fd(SvCall *call);

/* Keep the call to answer it later: returns the owned handle to pass to
 * sv_call_reply() or sv_call_fail(). The handler then returns TRUE. On such a handle
 * (a call deferred earlier, handed to code that defers calls itself) it returns it. */
SvCall *sv_call_defer(SvCall *call);

/* Complete a deferred call with its return value (transfer none; the caller
 * frees it) or with an error (transfer full). Either consumes the call. */
void sv_call_reply(SvCall *call, void *ret);
void sv_call_fail(SvCall *call, GError *error);

/* Complete a deferred call with its return value (transfer none) and one descriptor
 * (transfer full), as libvirt sends one: a REPLY_WITH_FDS, then the descriptor. */
void sv_call_reply_fd(SvCall *call, void *ret, int fd);

/* Finish a deferred call without answering it: its connection has been
 * handed to another daemon, which answers. */
void sv_call_abandon(SvCall *call);

/* Complete a deferred call with a whole reply frame received from elsewhere
 * (a relayed CONNECT_OPEN); an OK status opens the connection. */
void sv_call_reply_frame(SvCall *call, const guint8 *frame, gsize len);
