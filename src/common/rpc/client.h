/* client.h: the client side of the protocol on the daemon's loop: one connection to a
 * server, the same framing, calls with replies, and raw frames for relays. */
#pragma once

#include <glib.h>

#include "rpc/frame.h"
#include "rpc/message.h"
#include "rpc/tls.h"

typedef struct SvRpcConn SvRpcConn;

typedef struct {
    /* A whole frame from the server that is not the reply to one of our own
     * calls nor keepalive (length word included). */
    void (*frame)(SvRpcConn *conn, const guint8 *frame, gsize len, gpointer user);
    /* The connection broke or the server closed it; nothing follows. */
    void (*closed)(SvRpcConn *conn, gpointer user);
    /* The output queue drained below half its pause mark. */
    void (*drained)(SvRpcConn *conn, gpointer user);
    /* Every frame of one read has been handed to `frame`. */
    void (*batch_done)(SvRpcConn *conn, gpointer user);
} SvRpcConnCallbacks;

/* Connect to a unix socket without blocking the loop for long (a local
 * connect completes or fails at once). Errors are libvirt's
 * "Failed to connect socket to 'PATH': ..." (SYSTEM_ERROR, RPC). */
int sv_rpc_connect_unix(const char *path, GError **error);

/* Take a connected socket (transfer full). */
SvRpcConn *sv_rpc_conn_new(int fd, const SvRpcConnCallbacks *cb, gpointer user);
/* The same over a TLS session on fd whose handshake is done (both transfer full; NULL
 * tls: plain). No descriptor can be sent on it. */
SvRpcConn *sv_rpc_conn_new_tls(int fd, SvTlsSession *tls, const SvRpcConnCallbacks *cb,
                               gpointer user);
/* Any callback may free the connection, also one run from inside a call, a send, an
 * uncork or a pause (a write that fails closes it, and its pending calls hear so at
 * once): the memory goes when the outermost of those returns, and their caller must not
 * use the connection after them unless it knows nobody freed it. */
void sv_rpc_conn_free(SvRpcConn *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvRpcConn, sv_rpc_conn_free)

/* From now on every byte each way crosses layer (transfer full), the SASL security layer
 * the authentication just agreed (on a plain connection: TLS has none). */
typedef struct SvSaslLayer SvSaslLayer;
void sv_rpc_conn_set_sasl_layer(SvRpcConn *conn, SvSaslLayer *layer);

/* Replace the callbacks and their data (a connection opened by someone else and handed
 * over, sv_remote_uri_open). */
void sv_rpc_conn_set_callbacks(SvRpcConn *conn, const SvRpcConnCallbacks *cb, gpointer user);

/* Reply to one of our own calls: status OK with ret decoded, or error set. */
typedef void (*SvRpcReplyFunc)(SvRpcConn *conn, const SvHeader *h, const guint8 *payload,
                               gsize len, const GError *error, gpointer data);

/* Send a call of our own; its reply goes to cb, never to the frame callback. */
void sv_rpc_conn_call(SvRpcConn *conn, guint32 prog, guint32 vers, int proc, xdrproc_t filter,
                      void *args, SvRpcReplyFunc cb, gpointer data);

/* Send a call of our own carrying one descriptor: a CALL_WITH_FDS message, then the
 * descriptor with its dummy byte (sv_net.x). A duplicate of fd is sent, so fd stays
 * the caller's; FALSE with *error set when the call cannot be queued. */
gboolean sv_rpc_conn_call_with_fd(SvRpcConn *conn, guint32 prog, guint32 vers, int proc,
                                  xdrproc_t filter, void *args, int fd, SvRpcReplyFunc cb,
                                  gpointer data, GError **error);

/* Queue raw frame bytes (copied once). */
void sv_rpc_conn_send_frame(SvRpcConn *conn, const guint8 *frame, gsize len);

gsize sv_rpc_conn_get_output_bytes(SvRpcConn *conn);

/* Keepalive as libvirt's client keeps it: every `interval` seconds without anything from
 * the server, a PING (which any libvirt server answers); after `count` of them in a row
 * unanswered the connection is closed, its pending calls failing with "connection closed
 * due to keepalive timeout", then `closed`. interval 0 stops it. */
void sv_rpc_conn_set_keepalive(SvRpcConn *conn, guint interval, guint count);

/* Hold writes until the matching uncork, to send a batch of frames at once. */
void sv_rpc_conn_cork(SvRpcConn *conn);
void sv_rpc_conn_uncork(SvRpcConn *conn);

/* Stop or resume reading (back-pressure). */
void sv_rpc_conn_pause(SvRpcConn *conn, gboolean paused);
