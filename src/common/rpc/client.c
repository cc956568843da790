/* client.c: an outgoing protocol connection on the loop (virtproxyd's backends, tests). */
#include "rpc/client.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol/sv_net.h"
#include "rpc/sasl_layer.h"
#include "util/error.h"
#include "util/fd.h"

#define PAUSE_MARK (1024 * 1024)

typedef struct {
    guint32 serial;
    SvRpcReplyFunc cb;
    gpointer data;
} Pending;

/* A descriptor to send, with its dummy byte, once `after` is written (NULL: now). */
typedef struct {
    SvMsg *after;
    int fd; /* our own duplicate */
} FdSend;

struct SvRpcConn {
    int fd;
    SvTlsSession *tls; /* NULL: plain socket */
    SvSaslLayer *sasl; /* a SASL security layer agreed by the authentication, or NULL */
    guint tls_idle;    /* reads what the session or layer holds decoded (see update_watch) */
    guint watch;
    GIOCondition cond;
    SvFrameReader *reader;
    GQueue outq; /* SvMsg */
    GQueue fdq;  /* FdSend, in the order of the messages they follow */
    gsize out_bytes;
    SvRpcConnCallbacks cb;
    gpointer user;
    GArray *pending; /* Pending */
    guint32 next_serial;
    gboolean paused;
    gboolean closed;
    guint depth;             /* our entry points on the stack: callbacks may free us */
    gboolean free_requested; /* freed while depth > 0: done when the last one returns */
    guint corked;
    /* Keepalive of our own (sv_rpc_conn_set_keepalive). */
    guint ka_timer;
    guint ka_count;   /* PINGs unanswered before the connection is given up */
    guint ka_left;
    gboolean ka_rx;   /* something arrived since the last tick */
    gboolean ka_dead; /* closed by it: the pending calls hear so */
};

int
sv_rpc_connect_unix(const char *path, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_auto(SvFd) fd = -1;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        sv_error_set_errno(error, SV_FROM_RPC, ENAMETOOLONG, "Failed to connect socket to '%s'",
                           path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        sv_error_set_errno(error, SV_FROM_RPC, errno, "Failed to connect socket to '%s'", path);
        return -1;
    }
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    return g_steal_fd(&fd);
}

static void conn_close(SvRpcConn *conn);
static void conn_destroy(SvRpcConn *conn);

/* Every entry point that can reach a callback (a reply, closed, drained) brackets itself
 * with enter/leave: a callback may free the connection, which then happens in leave,
 * once nothing of ours is still using it. leave says whether it is still there. */
static void
enter(SvRpcConn *conn)
{
    conn->depth++;
}

static gboolean
leave(SvRpcConn *conn)
{
    if (--conn->depth == 0 && conn->free_requested) {
        conn_destroy(conn);
        return FALSE;
    }
    return TRUE;
}

static void
update_watch(SvRpcConn *conn);

/* Send the descriptor at the head of fdq, due now: 1 on success, 0 when the socket is
 * full, -1 on error. */
static int
send_fd(SvRpcConn *conn)
{
    FdSend *f = g_queue_peek_head(&conn->fdq);
    char dummy = 0;
    ssize_t n;

    do {
        n = sv_fd_send_with(conn->fd, &dummy, 1, f->fd);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EAGAIN ? 0 : -1;
    close(f->fd);
    g_free(g_queue_pop_head(&conn->fdq));
    return 1;
}

/* Account for w bytes written from the head of outq. */
static void
consume_output(SvRpcConn *conn, gsize w)
{
    conn->out_bytes -= w;
    while (w > 0) {
        SvMsg *m = g_queue_peek_head(&conn->outq);
        gsize left = m->len - m->off;
        FdSend *f = g_queue_peek_head(&conn->fdq);
        if (w < left) {
            m->off += w;
            return;
        }
        w -= left;
        if (f && f->after == m)
            f->after = NULL; /* its message is out: the descriptor is due */
        g_free(g_queue_pop_head(&conn->outq));
    }
}

static gssize
conn_writev(SvRpcConn *conn, const struct iovec *iov, int n)
{
    if (conn->sasl)
        return sv_sasl_layer_writev(conn->sasl, conn->fd, iov, n);
    return conn->tls ? sv_tls_session_writev(conn->tls, iov, n) : writev(conn->fd, iov, n);
}

static gssize
conn_recv(SvRpcConn *conn, void *buf, gsize len)
{
    if (conn->sasl)
        return sv_sasl_layer_recv(conn->sasl, conn->fd, buf, len);
    return conn->tls ? sv_tls_session_recv(conn->tls, buf, len) : recv(conn->fd, buf, len, 0);
}

/* Decoded bytes the TLS session or SASL layer holds: no readiness of the socket says so. */
static gboolean
input_held(SvRpcConn *conn)
{
    return (conn->tls && sv_tls_session_pending(conn->tls)) ||
           (conn->sasl && sv_sasl_layer_pending(conn->sasl));
}

static gboolean
output_pending(SvRpcConn *conn)
{
    return conn->outq.length || conn->fdq.length ||
           (conn->tls && sv_tls_session_unflushed(conn->tls)) ||
           (conn->sasl && sv_sasl_layer_unflushed(conn->sasl));
}

/* What the session or layer encoded and the socket did not take yet: 0, or -1 with errno. */
static int
conn_flush(SvRpcConn *conn)
{
    if (conn->sasl)
        return sv_sasl_layer_flush(conn->sasl, conn->fd);
    return conn->tls ? sv_tls_session_flush(conn->tls) : 0;
}

static void
flush(SvRpcConn *conn)
{
    gboolean was_full = conn->out_bytes >= PAUSE_MARK / 2;

    while ((conn->outq.length || conn->fdq.length) && !conn->closed) {
        FdSend *f = g_queue_peek_head(&conn->fdq);
        struct iovec iov[64];
        int n = 0, r;
        ssize_t w;

        if (f && !f->after) {
            /* Descriptors go right after their message, before any later byte. */
            if ((r = send_fd(conn)) < 0)
                conn_close(conn);
            if (r <= 0)
                break;
            continue;
        }
        for (GList *l = conn->outq.head; l && n < 64; l = l->next) {
            SvMsg *m = l->data;
            iov[n].iov_base = m->data + m->off;
            iov[n++].iov_len = m->len - m->off;
            if (f && f->after == m)
                break;
        }
        w = conn_writev(conn, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                conn_close(conn);
            break;
        }
        consume_output(conn, w);
    }
    if (!conn->closed && conn_flush(conn) < 0 && errno != EAGAIN)
        conn_close(conn);
    if (conn->closed)
        return;
    update_watch(conn);
    if (was_full && conn->out_bytes < PAUSE_MARK / 2 && conn->cb.drained)
        conn->cb.drained(conn, conn->user);
}

static void
queue(SvRpcConn *conn, SvMsg *m)
{
    if (conn->closed) {
        g_free(m);
        return;
    }
    conn->out_bytes += m->len;
    g_queue_push_tail(&conn->outq, m);
    if (!conn->corked) {
        enter(conn);
        flush(conn);
        leave(conn); /* the caller must not use conn after queueing */
    }
}

void
sv_rpc_conn_cork(SvRpcConn *conn)
{
    conn->corked++;
}

void
sv_rpc_conn_uncork(SvRpcConn *conn)
{
    g_return_if_fail(conn->corked > 0);
    if (--conn->corked == 0 && !conn->closed) {
        enter(conn);
        flush(conn);
        leave(conn);
    }
}

void
sv_rpc_conn_send_frame(SvRpcConn *conn, const guint8 *frame, gsize len)
{
    queue(conn, sv_msg_copy_frame(frame, len));
}

void
sv_rpc_conn_call(SvRpcConn *conn, guint32 prog, guint32 vers, int proc, xdrproc_t filter,
                 void *args, SvRpcReplyFunc cb, gpointer data)
{
    SvHeader h = {prog, vers, proc, SV_NET_CALL, conn->next_serial++, SV_NET_OK};
    Pending p = {h.serial, cb, data};
    g_autoptr(GError) error = NULL;
    SvMsg *m = sv_msg_encode(&h, filter, args, &error);

    if (!m) {
        cb(conn, &h, NULL, 0, error, data);
        return;
    }
    g_array_append_val(conn->pending, p);
    queue(conn, m);
}

typedef struct {
    guint32 nfds;
    xdrproc_t filter;
    void *args;
} WithFds;

/* A CALL_WITH_FDS payload: the descriptor count, then the arguments. */
static bool_t
xdr_with_fds(XDR *xdrs, void *obj)
{
    WithFds *w = obj;

    return xdr_u_int(xdrs, &w->nfds) && w->filter(xdrs, w->args, 0);
}

gboolean
sv_rpc_conn_call_with_fd(SvRpcConn *conn, guint32 prog, guint32 vers, int proc,
                         xdrproc_t filter, void *args, int fd, SvRpcReplyFunc cb, gpointer data,
                         GError **error)
{
    SvHeader h = {prog, vers, proc, SV_NET_CALL_WITH_FDS, conn->next_serial, SV_NET_OK};
    Pending p = {h.serial, cb, data};
    WithFds w = {1, filter, args};
    FdSend *f;
    SvMsg *m;
    int dup;

    if (conn->closed) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "connection closed");
        return FALSE;
    }
    if (conn->tls || conn->sasl) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_ARGUMENT_UNSUPPORTED, "%s",
                     "fd passing is not supported by this connection");
        return FALSE;
    }
    m = sv_msg_encode(&h, (xdrproc_t)xdr_with_fds, &w, error);
    if (!m)
        return FALSE;
    dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (dup < 0) {
        sv_error_set_errno(error, SV_FROM_RPC, errno, "cannot hand a connection over");
        g_free(m);
        return FALSE;
    }
    conn->next_serial++;
    g_array_append_val(conn->pending, p);
    f = g_new0(FdSend, 1);
    f->after = m;
    f->fd = dup;
    g_queue_push_tail(&conn->fdq, f);
    queue(conn, m);
    return TRUE;
}

static void
handle_frame(SvRpcConn *conn, const guint8 *frame, gsize len)
{
    SvHeader h;

    conn->ka_rx = TRUE;
    sv_header_decode(frame + SV_FRAME_LEN_SIZE, &h);
    if (h.type == SV_NET_MESSAGE && h.prog == SV_KEEPALIVE_PROGRAM) {
        if (h.proc == SV_KEEPALIVE_PROC_PING) {
            SvHeader pong = {SV_KEEPALIVE_PROGRAM, SV_KEEPALIVE_VERSION, SV_KEEPALIVE_PROC_PONG,
                             SV_NET_MESSAGE, 0, SV_NET_OK};
            queue(conn, sv_msg_new_raw(&pong, NULL, 0));
        }
        return;
    }
    if (h.type == SV_NET_REPLY) {
        for (guint i = 0; i < conn->pending->len; i++) {
            Pending p = g_array_index(conn->pending, Pending, i);
            if (p.serial != h.serial)
                continue;
            g_array_remove_index(conn->pending, i);
            if (h.status == SV_NET_OK) {
                p.cb(conn, &h, frame + SV_FRAME_MIN, len - SV_FRAME_MIN, NULL, p.data);
            } else {
                g_autoptr(GError) e =
                    sv_error_from_payload(frame + SV_FRAME_MIN, len - SV_FRAME_MIN);
                p.cb(conn, &h, NULL, 0, e, p.data);
            }
            return;
        }
    }
    if (conn->cb.frame)
        conn->cb.frame(conn, frame, len, conn->user);
}

static void
read_frames(SvRpcConn *conn)
{
    g_autoptr(GError) error = NULL;

    while (!conn->closed && !conn->paused && !conn->free_requested) {
        gsize len;
        const guint8 *f = sv_frame_reader_next(conn->reader, &len, &error);
        if (!f) {
            if (error) {
                g_message("backend connection: %s", error->message);
                conn_close(conn);
            }
            return;
        }
        handle_frame(conn, f, len);
    }
}

static gboolean
on_io(gint fd, GIOCondition cond, gpointer data)
{
    SvRpcConn *conn = data;

    (void)fd;
    enter(conn);
    if (cond & G_IO_OUT)
        flush(conn);
    if (!conn->closed && (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR))) {
        for (int round = 0; round < 16 && !conn->closed && !conn->paused; round++) {
            gsize size;
            guint8 *space = sv_frame_reader_space(conn->reader, &size);
            ssize_t n = conn_recv(conn, space, size);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EAGAIN)
                break;
            if (n <= 0) {
                read_frames(conn); /* what arrived before the end still counts */
                conn_close(conn);
                break;
            }
            sv_frame_reader_commit(conn->reader, n);
            read_frames(conn);
            if ((gsize)n < size && !input_held(conn))
                break;
        }
        if (!conn->closed && !conn->free_requested && conn->cb.batch_done)
            conn->cb.batch_done(conn, conn->user);
    }
    return leave(conn) ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Decrypted bytes the session holds: no readiness of the socket announces them. */
static gboolean
tls_pending_read(gpointer data)
{
    SvRpcConn *conn = data;

    conn->tls_idle = 0;
    on_io(conn->fd, G_IO_IN, conn);
    return G_SOURCE_REMOVE;
}

static void
update_watch(SvRpcConn *conn)
{
    GIOCondition want = 0;

    if (conn->closed)
        return;
    if (!conn->paused)
        want |= G_IO_IN;
    if (output_pending(conn))
        want |= G_IO_OUT;
    if ((want & G_IO_IN) && !conn->tls_idle && input_held(conn))
        conn->tls_idle = g_idle_add(tls_pending_read, conn);
    if (want == conn->cond && conn->watch)
        return;
    if (conn->watch)
        g_source_remove(conn->watch);
    conn->watch = want ? g_unix_fd_add(conn->fd, want, on_io, conn) : 0;
    conn->cond = want;
}

static void
conn_close(SvRpcConn *conn)
{
    if (conn->closed)
        return;
    conn->closed = TRUE;
    /* Removing the source being dispatched is allowed; it goes after dispatch. */
    if (conn->watch)
        g_source_remove(conn->watch);
    conn->watch = 0;
    if (conn->tls_idle)
        g_source_remove(conn->tls_idle);
    conn->tls_idle = 0;
    g_clear_handle_id(&conn->ka_timer, g_source_remove);
    /* Calls of our own still waiting learn it now. */
    while (conn->pending->len) {
        Pending p = g_array_index(conn->pending, Pending, 0);
        g_autoptr(GError) e = NULL;
        SvHeader h = {0};
        g_array_remove_index(conn->pending, 0);
        if (conn->ka_dead)
            sv_error_set(&e, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "%s",
                         "connection closed due to keepalive timeout");
        else
            sv_error_set_errno(&e, SV_FROM_RPC, EIO, "End of file while reading data");
        p.cb(conn, &h, NULL, 0, e, p.data);
    }
    if (conn->cb.closed)
        conn->cb.closed(conn, conn->user);
}

SvRpcConn *
sv_rpc_conn_new(int fd, const SvRpcConnCallbacks *cb, gpointer user)
{
    return sv_rpc_conn_new_tls(fd, NULL, cb, user);
}

SvRpcConn *
sv_rpc_conn_new_tls(int fd, SvTlsSession *tls, const SvRpcConnCallbacks *cb, gpointer user)
{
    SvRpcConn *conn = g_new0(SvRpcConn, 1);

    conn->fd = fd;
    conn->tls = tls;
    conn->cb = *cb;
    conn->user = user;
    conn->reader = sv_frame_reader_new(SV_MESSAGE_MAX);
    conn->pending = g_array_new(FALSE, FALSE, sizeof(Pending));
    g_queue_init(&conn->outq);
    g_queue_init(&conn->fdq);
    update_watch(conn);
    return conn;
}

static void
conn_destroy(SvRpcConn *conn)
{
    if (conn->watch)
        g_source_remove(conn->watch);
    g_clear_handle_id(&conn->ka_timer, g_source_remove);
    if (conn->tls_idle)
        g_source_remove(conn->tls_idle);
    g_clear_pointer(&conn->tls, sv_tls_session_free);
    g_clear_pointer(&conn->sasl, sv_sasl_layer_free);
    close(conn->fd);
    g_queue_clear_full(&conn->outq, g_free);
    while (conn->fdq.length) {
        FdSend *f = g_queue_pop_head(&conn->fdq);
        close(f->fd);
        g_free(f);
    }
    sv_frame_reader_free(conn->reader);
    g_array_unref(conn->pending);
    g_free(conn);
}

void
sv_rpc_conn_free(SvRpcConn *conn)
{
    if (!conn)
        return;
    if (conn->depth) {
        /* Nothing of the owner's is called any more: not its callbacks, nor the replies
         * to its calls still pending (conn_close may be going through them now). */
        conn->free_requested = TRUE;
        conn->cb = (SvRpcConnCallbacks){0};
        g_array_set_size(conn->pending, 0);
        conn->closed = TRUE;
        if (conn->watch)
            g_source_remove(conn->watch);
        conn->watch = 0;
        if (conn->tls_idle)
            g_source_remove(conn->tls_idle);
        conn->tls_idle = 0;
        g_clear_handle_id(&conn->ka_timer, g_source_remove);
        return;
    }
    conn_destroy(conn);
}

void
sv_rpc_conn_set_sasl_layer(SvRpcConn *conn, SvSaslLayer *layer)
{
    g_assert(!conn->tls && !conn->sasl);
    conn->sasl = layer;
}

void
sv_rpc_conn_set_callbacks(SvRpcConn *conn, const SvRpcConnCallbacks *cb, gpointer user)
{
    if (conn->free_requested)
        return;
    conn->cb = *cb;
    conn->user = user;
}

/* Every interval: a connection that brought nothing since the last tick is sent a PING,
 * and after `count` such ticks in a row it is closed. */
static gboolean
keepalive_tick(gpointer data)
{
    SvRpcConn *conn = data;
    SvHeader ping = {SV_KEEPALIVE_PROGRAM, SV_KEEPALIVE_VERSION, SV_KEEPALIVE_PROC_PING,
                     SV_NET_MESSAGE, 0, SV_NET_OK};

    if (conn->ka_rx) {
        conn->ka_rx = FALSE;
        conn->ka_left = conn->ka_count;
        return G_SOURCE_CONTINUE;
    }
    if (conn->ka_left == 0) {
        conn->ka_timer = 0;
        g_message("connection closed due to keepalive timeout");
        conn->ka_dead = TRUE;
        enter(conn);
        conn_close(conn);
        leave(conn);
        return G_SOURCE_REMOVE;
    }
    conn->ka_left--;
    queue(conn, sv_msg_new_raw(&ping, NULL, 0));
    return G_SOURCE_CONTINUE;
}

void
sv_rpc_conn_set_keepalive(SvRpcConn *conn, guint interval, guint count)
{
    g_clear_handle_id(&conn->ka_timer, g_source_remove);
    if (interval == 0 || conn->closed)
        return;
    conn->ka_count = conn->ka_left = count;
    conn->ka_rx = FALSE;
    conn->ka_timer = g_timeout_add_seconds(interval, keepalive_tick, conn);
}

gsize
sv_rpc_conn_get_output_bytes(SvRpcConn *conn)
{
    return conn->out_bytes;
}

void
sv_rpc_conn_pause(SvRpcConn *conn, gboolean paused)
{
    if (conn->closed || conn->paused == paused)
        return;
    conn->paused = paused;
    enter(conn);
    if (!paused)
        read_frames(conn);
    update_watch(conn);
    leave(conn);
}
