/* server-internal.h: what the files of the RPC server share: server.c (the server and
 * its clients), connection.c (a client connection's I/O), listener.c (sockets, client
 * limits, accept), dispatch.c (calls) and fdpass.c (descriptors that come with a
 * client's bytes). Nothing outside them includes it. */
#pragma once

#include <sys/socket.h>

#include "protocol/sv_net.h"
#include "rpc/server.h"
#include "rpc/tls.h"
#include "rpc/transport.h"

typedef struct {
    const SvProgramInfo *info;
    const void *handlers;
    const SvProgramHooks *hooks; /* never NULL */
    gpointer data;               /* the program module's, for this server */
    GDestroyNotify data_free;
} SvServerProgram;

/* Which limit a client counts against: the socket it came in on. */
typedef enum {
    SV_SLOT_RW,   /* max_clients */
    SV_SLOT_RO,   /* max_readonly_clients */
    SV_SLOT_LAST, /* refused clients and in-process ones count nowhere */
} SvSlot;

typedef struct SvListener SvListener;

struct SvServer {
    char *name;
    SvServerConfig cfg;
    GArray *programs;   /* SvServerProgram */
    guint max_call_fds; /* the most descriptors any procedure served here takes */
    GPtrArray *listeners;
    GQueue clients;        /* connected clients, in connection order */
    guint n_slot[SV_SLOT_LAST];
    GQueue refused;        /* over a limit: answered once with an error, then closed */
    gboolean limit_logged[SV_SLOT_LAST];
    gboolean accept_paused;  /* out of descriptors: listeners unwatched */
    gboolean accept_episode; /* logged; until an accept succeeds again */
    guint accept_retry;     /* timer resuming them when no client of ours frees one */
    guint64 next_client_id;
    void (*clients_changed)(SvServer *, gpointer);
    gpointer clients_changed_data;
    void (*client_closed)(SvClient *, gpointer);
    gpointer client_closed_data;
    gpointer user_data;
};

typedef struct {
    void (*fn)(SvClient *, gpointer);
    gpointer data;
} SvCloseNotify;

typedef struct {
    const SvAttachKey *key;
    gpointer data;
    GDestroyNotify free_fn;
} SvAttachment;

struct SvClient {
    gint ref;
    guint64 id;
    SvServer *srv;
    GQueue *queue; /* srv->clients or srv->refused while connected */
    GList *link;   /* in *queue */
    SvSlot slot;
    GError *refusal; /* the answer to a client over a limit */
    int fd;
    SvTransportKind transport;
    SvTlsSession *tls;   /* TLS clients: the session, handshaken before any frame */
    gboolean tls_ready;  /* handshake done and the peer's certificate accepted */
    guint tls_idle;      /* reads what the session holds decrypted once reading resumes */
    guint tls_timer;     /* the handshake's deadline */
    char *sock_addr;     /* TCP and TLS: the peer's "ADDR;PORT" */
    char *id_x509_dname; /* the DN a trusted proxy forwarded (CONNECT_SET_IDENTITY) */
    char *sock_addr_local;
    GSource *source;
    gpointer tag;
    GIOCondition cond;
    SvFrameReader *reader;
    guint64 rx_pos; /* bytes received from the client so far */
    GArray *marks;  /* SvFdMark: descriptors of bytes not yet processed */
    GQueue outq;    /* SvMsg */
    gsize out_bytes;
    guint pending; /* deferred calls */
    gboolean readonly;
    gboolean open;
    gboolean closing; /* close once the output queue is empty */
    gboolean closed;
    gboolean in_dispatch;
    gboolean have_cred;
    struct ucred cred;
    gboolean has_identity; /* set by a trusted proxy (CONNECT_SET_IDENTITY) */
    /* Authentication (client_auth.c): what the client must still pass (its listener's
     * method, SV_AUTH_NONE once passed) and the SASL username it passed as, or that a
     * trusted proxy forwarded for it. */
    SvAuth auth;
    char *sasl_user;
    gint64 id_uid, id_gid, id_pid;
    gint64 connect_time;
    guint ka_timer; /* keepalive, or the deadline of a refused client */
    guint ka_left;
    gboolean ka_rx;
    GArray *attachments; /* SvAttachment, in the order attached; NULL when none */
    void (*stream_fn)(SvClient *, const SvHeader *, const guint8 *, gsize, gpointer);
    gpointer stream_data;
    GArray *close_notify; /* SvCloseNotify */
    GList *streams;       /* SvStream, owned by stream.c */
    /* Relay mode (virtproxyd): every frame but keepalive goes to relay_fn. */
    void (*relay_fn)(SvClient *, const guint8 *frame, gsize len, gpointer);
    gpointer relay_data;
    void (*drain_fn)(SvClient *, gpointer);
    gpointer drain_data;
    gboolean paused; /* reads held by the owner (relay back-pressure) */
    guint corked;    /* output is queued, not written, while > 0 */
    void (*relay_batch_fn)(SvClient *, gpointer);
};

/* The descriptors that came with one CALL_WITH_FDS message: -1 for one closed on
 * arrival (a connection that may keep none). */
typedef struct {
    guint n;
    int fd[SV_NET_NUM_FDS_MAX];
} SvFrameFds;

/* Close every descriptor still held and empty the set. */
void sv_frame_fds_clear(SvFrameFds *fds);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SvFrameFds, sv_frame_fds_clear)

struct SvCall {
    SvClient *client;
    SvHeader hdr;
    const SvProcInfo *proc;
    gboolean deferred;
    gboolean heap;
    SvFrameFds *fds; /* accepted descriptors not yet taken, or NULL */
};

/* ---- server.c ---- */
/* A connected client counted in `slot`; with a refusal (transfer full) a refused one,
 * counted nowhere and unseen by the server's callbacks. max_message 0: the server's. */
SvClient *sv_client_new_internal(SvServer *srv, int fd, gboolean readonly, SvSlot slot,
                                 GError *refusal, gsize max_message);
/* The same for a TCP or TLS client (tls: the listener's context, NULL for TCP); NULL (fd
 * closed) when no TLS session can be made for it. */
SvClient *sv_client_new_net(SvServer *srv, int fd, SvSlot slot, SvTlsContext *tls);

/* ---- connection.c ---- */
/* Start reading c->fd on the loop, messages up to max_message bytes. */
void sv_client_io_start(SvClient *c, gsize max_message);
/* Stop keepalive and reading, close the socket, and drop the queued output, the bytes
 * not yet processed and the descriptors that came with them. */
void sv_client_io_stop(SvClient *c);
/* Take bytes as if read from the client (an adopted connection's first bytes). */
void sv_client_feed(SvClient *c, const guint8 *input, gsize len);
/* Dispatch buffered frames while the client may take more calls. */
void sv_client_process(SvClient *c);
void sv_client_flush(SvClient *c);
void sv_client_update_cond(SvClient *c);
void sv_client_send_keepalive(SvClient *c, int proc);
/* Bytes received and already taken from the frame reader. */
guint64 sv_client_processed_pos(SvClient *c);

/* ---- listener.c ---- */
/* A client went away: listeners paused for want of descriptors may accept again. */
void sv_listeners_fd_released(SvServer *srv);
void sv_listeners_free(SvServer *srv);

/* ---- dispatch.c ---- */
/* One whole frame from the client; takes the descriptors that came with it. */
void sv_dispatch_frame(SvClient *c, const guint8 *frame, gsize len, SvFrameFds *fds);
const SvServerProgram *sv_server_find_program(SvServer *srv, guint32 prog, guint32 vers);

/* ---- fdpass.c ---- */
/* Note the descriptors one recvmsg of n bytes brought; FALSE with *error set when the
 * connection must end (control data truncated, more descriptors pending than a
 * message may carry). Descriptors the connection may not keep are closed at once. */
gboolean sv_fdpass_received(SvClient *c, struct msghdr *msg, gsize n, GError **error);

/* The next whole message from the client with the descriptors that came with it, the
 * dummy bytes of a CALL_WITH_FDS message consumed; NULL when more bytes are needed,
 * or on error (*error set: the connection must end). */
const guint8 *sv_fdpass_next_frame(SvClient *c, gsize *len, SvFrameFds *fds, GError **error);

/* Close the descriptors no message claimed or may still claim: those of processed
 * bytes, and, unless processing is `blocked` with bytes left, every one but those a
 * message waiting for its dummy bytes announced. */
void sv_fdpass_sweep(SvClient *c, gboolean blocked);

/* Close every descriptor the connection still holds. */
void sv_fdpass_clear(SvClient *c);
