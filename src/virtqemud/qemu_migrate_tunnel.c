/* qemu_migrate_tunnel.c: a tunnelled migration's data (TUNNELLED): QEMU's migration stream
 * carried over the libvirt connection as the STREAM messages of the destination's
 * PREPARE_TUNNEL3 call. On the destination, the stream's data goes into the pipe QEMU reads
 * its incoming migration from; on the source (peer-to-peer, the daemon's own connection to
 * the destination), what QEMU writes into its pipe goes out as that call's stream. */
#include "qemu_migrate_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <unistd.h>

#include "rpc/stream.h"
#include "util/error.h"
#include "util/fd.h"

/* Bytes queued to the destination before the source stops reading QEMU's pipe. */
#define SEND_HIGH (8u << 20)
#define CHUNK (256u << 10)

/* ---------------------------------------------------------------- destination */

struct MigTunnelIn {
    int fd;             /* the pipe's write end; QEMU reads the other */
    GByteArray *queue;  /* stream data QEMU has not taken yet */
    guint watch;
    gboolean eof;       /* the stream ended */
};

static void
tunnel_in_free(MigTunnelIn *t)
{
    if (t->watch)
        g_source_remove(t->watch);
    if (t->fd >= 0)
        close(t->fd);
    g_byte_array_unref(t->queue);
    g_free(t);
}

static gboolean tunnel_in_writable(gint fd, GIOCondition cond, gpointer data);

/* Write what QEMU takes; the rest waits for the pipe to have room. Freed once the stream
 * ended and everything went, or QEMU closed its end. */
static void
tunnel_in_flush(MigTunnelIn *t)
{
    if (!sv_fd_write_queued(t->fd, t->queue)) {
        g_debug("tunnelled migration: QEMU's end of the pipe is gone");
        g_byte_array_set_size(t->queue, 0);
        if (t->eof)
            tunnel_in_free(t);
        return;
    }
    if (t->queue->len && !t->watch)
        t->watch = g_unix_fd_add(t->fd, G_IO_OUT | G_IO_ERR, tunnel_in_writable, t);
    if (!t->queue->len && t->eof)
        tunnel_in_free(t);
}

static gboolean
tunnel_in_writable(gint fd, GIOCondition cond, gpointer data)
{
    MigTunnelIn *t = data;

    (void)fd;
    (void)cond;
    t->watch = 0;
    tunnel_in_flush(t);
    return G_SOURCE_REMOVE;
}

static void
tunnel_in_recv(SvStream *st, const guint8 *data, gsize len, gpointer user)
{
    MigTunnelIn *t = user;

    (void)st;
    g_byte_array_append(t->queue, data, (guint)len);
    if (!t->watch)
        tunnel_in_flush(t);
}

static void
tunnel_in_closed(SvStream *st, gboolean aborted, gpointer user)
{
    MigTunnelIn *t = user;

    (void)st;
    g_debug("tunnelled migration: the source's stream %s", aborted ? "aborted" : "ended");
    t->eof = TRUE;
    if (!t->watch)
        tunnel_in_flush(t);
}

int
mig_tunnel_in_new(SvCall *call, GError **error)
{
    static const SvStreamCallbacks cb = {tunnel_in_recv, tunnel_in_closed, NULL, NULL};
    int fds[2];
    MigTunnelIn *t;

    if (!g_unix_open_pipe(fds, FD_CLOEXEC, NULL) || !g_unix_set_fd_nonblocking(fds[1], TRUE,
                                                                               NULL)) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "%s",
                           "cannot pass pipe for tunnelled migration");
        return -1;
    }
    t = g_new0(MigTunnelIn, 1);
    t->fd = fds[1];
    t->queue = g_byte_array_new();
    sv_stream_new(call, &cb, t);
    return fds[0];
}

/* ---------------------------------------------------------------- source */

struct MigTunnelOut {
    SvRpcConn *conn;    /* (transfer none) the P2P driver's */
    guint32 serial;     /* of the destination's PREPARE_TUNNEL3 */
    int fd;             /* the pipe's read end; QEMU writes the other */
    guint watch;
    guint retry;
    GSourceFunc done;   /* told once everything QEMU wrote is sent (its end closed) */
    gpointer done_data;
};

static gboolean tunnel_out_readable(gint fd, GIOCondition cond, gpointer data);

static void
tunnel_out_send(MigTunnelOut *t, int status, const guint8 *data, gsize len)
{
    SvHeader h = {REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION,
                  REMOTE_PROC_DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS, SV_NET_STREAM, t->serial,
                  status};
    SvMsg *m = sv_msg_new_raw(&h, data, len);

    sv_rpc_conn_send_frame(t->conn, m->data, m->len);
    g_free(m);
}

static gboolean
tunnel_out_resume(gpointer data)
{
    MigTunnelOut *t = data;

    if (sv_rpc_conn_get_output_bytes(t->conn) > SEND_HIGH)
        return G_SOURCE_CONTINUE;
    t->retry = 0;
    t->watch = g_unix_fd_add(t->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, tunnel_out_readable, t);
    return G_SOURCE_REMOVE;
}

static gboolean
tunnel_out_readable(gint fd, GIOCondition cond, gpointer data)
{
    MigTunnelOut *t = data;
    g_autofree guint8 *buf = g_malloc(CHUNK);
    ssize_t n = read(fd, buf, CHUNK);

    (void)cond;
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        /* QEMU closed its end: the migration's data is all sent; the stream finishes. */
        tunnel_out_send(t, SV_NET_OK, NULL, 0);
        t->watch = 0;
        close(t->fd);
        t->fd = -1;
        if (t->done)
            t->done(t->done_data);
        return G_SOURCE_REMOVE;
    }
    tunnel_out_send(t, SV_NET_CONTINUE, buf, (gsize)n);
    if (sv_rpc_conn_get_output_bytes(t->conn) > SEND_HIGH) {
        t->watch = 0;
        t->retry = g_timeout_add(10, tunnel_out_resume, t);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

MigTunnelOut *
mig_tunnel_out_new(SvRpcConn *conn, guint32 serial, int *ret_qemu_fd, GError **error)
{
    int fds[2];
    MigTunnelOut *t;

    if (!g_unix_open_pipe(fds, FD_CLOEXEC, NULL) ||
        !g_unix_set_fd_nonblocking(fds[0], TRUE, NULL)) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "%s",
                           "cannot pass pipe for tunnelled migration");
        return NULL;
    }
    t = g_new0(MigTunnelOut, 1);
    t->conn = conn;
    t->serial = serial;
    t->fd = fds[0];
    t->watch = g_unix_fd_add(t->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, tunnel_out_readable, t);
    *ret_qemu_fd = fds[1];
    return t;
}

void
mig_tunnel_out_free(MigTunnelOut *t)
{
    if (!t)
        return;
    if (t->watch)
        g_source_remove(t->watch);
    if (t->retry)
        g_source_remove(t->retry);
    if (t->fd >= 0)
        close(t->fd);
    g_free(t);
}

gboolean
mig_tunnel_out_when_sent(MigTunnelOut *t, GSourceFunc fn, gpointer data)
{
    if (t->fd < 0)
        return FALSE;
    t->done = fn;
    t->done_data = data;
    return TRUE;
}
