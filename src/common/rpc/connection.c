/* connection.c: a client connection's I/O: reading into the frame reader (with the
 * descriptors that come along, fdpass.c), the bounded output queue and its writes,
 * keepalive, and the owner's controls (pause, cork, relay, drain). Which clients exist,
 * their identity and what is attached to them are server.c; calls are dispatch.c. */
#include "rpc/server.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rpc/server-internal.h"
#include "util/fd.h"

#define READ_BUDGET (256 * 1024)         /* bytes read per wake-up before yielding */
#define OUTPUT_PAUSE_READS (1024 * 1024) /* stop reading calls while this much is queued */
#define IOV_BATCH 64
/* A TLS client that has not finished its handshake by then is closed: a connection that
 * never gets there must not hold its slot for ever. */
#define TLS_HANDSHAKE_TIMEOUT_S 30

typedef struct {
    GSource base;
    SvClient *client;
} ClientSource;

/* ---------------------------------------------------------------- output */

gboolean
sv_client_send(SvClient *c, SvMsg *msg)
{
    if (c->closed) {
        g_free(msg);
        return FALSE;
    }
    if (msg->fd >= 0 && c->transport != SV_TRANSPORT_UNIX) {
        /* No descriptor crosses TCP: the calls that pass one are refused before. */
        close(msg->fd);
        g_free(msg);
        return TRUE;
    }
    c->out_bytes += msg->len;
    g_queue_push_tail(&c->outq, msg);
    if (c->out_bytes > c->srv->cfg.max_client_output) {
        gint64 uid, pid;
        sv_client_get_who(c, &uid, &pid);
        g_warning("%s: dropping client %" G_GUINT64_FORMAT " (uid %" G_GINT64_FORMAT
                  ", pid %" G_GINT64_FORMAT "): it does not read what it is sent, and its "
                  "queue passed max_client_output (%zu bytes)",
                  c->srv->name, c->id, uid, pid, c->srv->cfg.max_client_output);
        sv_client_close(c, "output queue over its limit");
        return FALSE;
    }
    if (!c->in_dispatch && !c->corked)
        sv_client_flush(c);
    return !c->closed;
}

gboolean
sv_client_send_event(SvClient *c, guint32 prog, guint32 vers, int proc, xdrproc_t filter,
                     void *obj)
{
    SvHeader h = {prog, vers, proc, SV_NET_MESSAGE, 1, SV_NET_OK};
    g_autoptr(GError) error = NULL;
    SvMsg *m = sv_msg_encode(&h, filter, obj, &error);

    if (!m) {
        g_warning("cannot encode event %d: %s", proc, error->message);
        return FALSE;
    }
    return sv_client_send(c, m);
}

void
sv_client_send_keepalive(SvClient *c, int proc)
{
    SvHeader h = {SV_KEEPALIVE_PROGRAM, SV_KEEPALIVE_VERSION, proc, SV_NET_MESSAGE, 0, SV_NET_OK};

    sv_client_send(c, sv_msg_new_raw(&h, NULL, 0));
}

void
sv_client_cork(SvClient *c)
{
    c->corked++;
}

void
sv_client_uncork(SvClient *c)
{
    g_return_if_fail(c->corked > 0);
    if (--c->corked == 0 && !c->in_dispatch && !c->closed)
        sv_client_flush(c);
}

static void client_readable(SvClient *c);

/* Bytes the TLS session decrypted and we did not take yet: no readiness of the socket
 * announces them, so reading resumes from the loop. */
static gboolean
tls_pending_read(gpointer data)
{
    SvClient *c = data;

    c->tls_idle = 0;
    sv_client_ref(c);
    if (!c->closed && (c->cond & G_IO_IN))
        client_readable(c);
    sv_client_unref(c);
    return G_SOURCE_REMOVE;
}

/* Output not yet on the socket: queued messages, or TLS records sealed but unsent. */
static gboolean
output_pending(SvClient *c)
{
    return c->outq.length || (c->tls && sv_tls_session_unflushed(c->tls));
}

void
sv_client_update_cond(SvClient *c)
{
    GIOCondition want = 0;

    if (c->closed)
        return;
    if (c->tls && !c->tls_ready) {
        want = sv_tls_session_wants(c->tls);
    } else {
        if (!c->closing && !c->paused && c->pending < c->srv->cfg.max_client_requests &&
            c->out_bytes < OUTPUT_PAUSE_READS)
            want |= G_IO_IN;
        if (output_pending(c))
            want |= G_IO_OUT;
    }
    if ((want & G_IO_IN) && c->tls && c->tls_ready && !c->tls_idle &&
        sv_tls_session_pending(c->tls))
        c->tls_idle = g_idle_add(tls_pending_read, c);
    if (want != c->cond) {
        g_source_modify_unix_fd(c->source, c->tag, want);
        c->cond = want;
    }
}

/* The byte that carries a descriptor (sv_msg_new_fd), in a sendmsg of its own. */
static ssize_t
send_fd_byte(SvClient *c, SvMsg *m)
{
    ssize_t w = sv_fd_send_with(c->fd, m->data, 1, m->fd);

    if (w > 0) {
        close(m->fd);
        m->fd = -1;
    }
    return w;
}

/* writev(2) on the client's transport. */
static gssize
client_writev(SvClient *c, const struct iovec *iov, int n)
{
    return c->tls ? sv_tls_session_writev(c->tls, iov, n) : writev(c->fd, iov, n);
}

void
sv_client_flush(SvClient *c)
{
    if (c->tls && !c->tls_ready)
        return; /* the handshake first; what is queued waits for it */
    while (c->outq.length && !c->closed) {
        struct iovec iov[IOV_BATCH];
        SvMsg *head = g_queue_peek_head(&c->outq);
        int n = 0;
        ssize_t w;

        /* Plain messages go in one writev, up to the next one carrying a descriptor. */
        for (GList *l = c->outq.head; l && n < IOV_BATCH; l = l->next, n++) {
            SvMsg *m = l->data;
            if (m->fd >= 0)
                break;
            iov[n].iov_base = m->data + m->off;
            iov[n].iov_len = m->len - m->off;
        }
        w = n ? client_writev(c, iov, n) : send_fd_byte(c, head);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            sv_client_close(c, g_strerror(errno));
            return;
        }
        c->out_bytes -= w;
        while (w > 0) {
            SvMsg *m = g_queue_peek_head(&c->outq);
            gsize left = m->len - m->off;
            if ((gsize)w >= left) {
                w -= left;
                g_free(g_queue_pop_head(&c->outq));
            } else {
                m->off += w;
                w = 0;
            }
        }
    }
    if (c->closed)
        return;
    if (c->tls && sv_tls_session_flush(c->tls) < 0 && errno != EAGAIN) {
        sv_client_close(c, g_strerror(errno));
        return;
    }
    if (c->closing && !output_pending(c)) {
        sv_client_close(c, "closed by the client");
        return;
    }
    sv_client_update_cond(c);
    if (c->drain_fn && c->out_bytes < OUTPUT_PAUSE_READS / 2)
        c->drain_fn(c, c->drain_data);
}

void
sv_client_close_after_flush(SvClient *c)
{
    if (c->closed)
        return;
    c->closing = TRUE;
    if (!c->in_dispatch)
        sv_client_flush(c);
}

gsize
sv_client_get_output_bytes(SvClient *c)
{
    return c->out_bytes;
}

void
sv_client_set_drain_func(SvClient *c, void (*fn)(SvClient *, gpointer), gpointer data)
{
    c->drain_fn = fn;
    c->drain_data = data;
}

/* ---------------------------------------------------------------- keepalive */

static gboolean
keepalive_tick(gpointer data)
{
    SvClient *c = data;

    if (c->ka_rx) {
        c->ka_rx = FALSE;
        c->ka_left = c->srv->cfg.keepalive_count;
        return G_SOURCE_CONTINUE;
    }
    if (c->ka_left == 0) {
        c->ka_timer = 0;
        g_message("connection closed due to keepalive timeout (client %" G_GUINT64_FORMAT ")",
                  c->id);
        sv_client_close(c, "keepalive timeout");
        return G_SOURCE_REMOVE;
    }
    c->ka_left--;
    sv_client_send_keepalive(c, SV_KEEPALIVE_PROC_PING);
    return G_SOURCE_CONTINUE;
}

void
sv_client_start_keepalive(SvClient *c)
{
    if (c->ka_timer || c->srv->cfg.keepalive_interval == 0)
        return;
    c->ka_left = c->srv->cfg.keepalive_count;
    c->ka_rx = FALSE;
    c->ka_timer = g_timeout_add_seconds(c->srv->cfg.keepalive_interval, keepalive_tick, c);
}

gboolean
sv_client_keepalive_enabled(SvClient *c)
{
    return c->ka_timer != 0;
}

/* ---------------------------------------------------------------- input */

void
sv_client_set_relay(SvClient *c, void (*fn)(SvClient *, const guint8 *, gsize, gpointer),
                    void (*batch_done)(SvClient *, gpointer), gpointer data)
{
    c->relay_fn = fn;
    c->relay_batch_fn = batch_done;
    c->relay_data = data;
}

void
sv_client_pause(SvClient *c, gboolean paused)
{
    if (c->closed || c->paused == paused)
        return;
    c->paused = paused;
    if (!paused && sv_frame_reader_pending(c->reader) && !c->in_dispatch)
        sv_client_process(c);
    else
        sv_client_update_cond(c);
}

void
sv_client_feed(SvClient *c, const guint8 *input, gsize len)
{
    while (len > 0) {
        gsize size;
        guint8 *space = sv_frame_reader_space(c->reader, &size);
        gsize n = MIN(size, len);
        memcpy(space, input, n);
        sv_frame_reader_commit(c->reader, n);
        c->rx_pos += n;
        input += n;
        len -= n;
    }
}

guint64
sv_client_processed_pos(SvClient *c)
{
    return c->rx_pos - sv_frame_reader_pending(c->reader);
}

guint8 *
sv_client_steal_input(SvClient *c, gsize *len)
{
    guint8 *out = sv_frame_reader_steal(c->reader, len);

    /* Descriptors that came with those bytes stay behind, closed. */
    sv_fdpass_sweep(c, FALSE);
    return out;
}

void
sv_client_process(SvClient *c)
{
    g_autoptr(GError) error = NULL;

    sv_client_ref(c);
    c->in_dispatch = TRUE;
    while (!c->closed && !c->closing && !c->paused &&
           c->pending < c->srv->cfg.max_client_requests) {
        g_auto(SvFrameFds) fds = {0};
        gsize len;
        const guint8 *frame = sv_fdpass_next_frame(c, &len, &fds, &error);

        if (!frame) {
            if (error) {
                g_message("client %" G_GUINT64_FORMAT ": %s", c->id, error->message);
                sv_client_close(c, error->message);
            }
            break;
        }
        sv_dispatch_frame(c, frame, len, &fds);
    }
    c->in_dispatch = FALSE;
    if (!c->closed)
        sv_fdpass_sweep(c, c->paused || c->pending >= c->srv->cfg.max_client_requests);
    /* A relay forwards what one read brought in one write, too. */
    if (!c->closed && c->relay_fn && c->relay_batch_fn)
        c->relay_batch_fn(c, c->relay_data);
    if (!c->closed && !c->corked)
        sv_client_flush(c);
    sv_client_unref(c);
}

/* One recvmsg into the frame reader; the bytes read, 0 at end of file, -1 with errno
 * set (EAGAIN: nothing more now), or -2 after closing the client for a bad peer. */
static gssize
client_recv(SvClient *c, gsize *room)
{
    g_autoptr(GError) error = NULL;
    guint8 *space = sv_frame_reader_space(c->reader, room);
    if (c->tls) {
        gssize got = sv_tls_session_recv(c->tls, space, *room);
        if (got > 0) {
            sv_frame_reader_commit(c->reader, got);
            c->rx_pos += got;
        }
        return got;
    }
    /* Room for the most a message may carry: more is MSG_CTRUNC, a broken peer. */
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int) * SV_NET_NUM_FDS_MAX)];
    } ctl;
    struct iovec iov = {space, *room};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                         .msg_controllen = sizeof(ctl.buf)};
    ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);

    if (n <= 0)
        return n;
    if ((msg.msg_controllen || (msg.msg_flags & MSG_CTRUNC)) &&
        !sv_fdpass_received(c, &msg, n, &error)) {
        g_message("client %" G_GUINT64_FORMAT ": %s", c->id, error->message);
        sv_client_close(c, error->message);
        return -2;
    }
    sv_frame_reader_commit(c->reader, n);
    c->rx_pos += n;
    return n;
}

static void
client_readable(SvClient *c)
{
    gsize total = 0;

    while (!c->closed && total < READ_BUDGET && (c->cond & G_IO_IN)) {
        gsize room;
        gssize n = client_recv(c, &room);

        if (n == -2)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                sv_client_close(c, g_strerror(errno));
            break;
        }
        if (n == 0) {
            sv_client_close(c, "end of file");
            break;
        }
        total += n;
        sv_client_process(c);
        if ((gsize)n < room && !(c->tls && !c->closed && sv_tls_session_pending(c->tls)))
            break;
    }
}

/* One step of a TLS client's handshake; once done, its certificate is checked, and the
 * client told it was accepted by libvirt's confirmation byte (1) before any frame. One
 * refused is closed, which its side reports. */
static void
client_tls_step(SvClient *c)
{
    g_autoptr(GError) error = NULL;
    int r = sv_tls_session_handshake(c->tls, &error);
    SvMsg *confirm;

    if (r == 0) {
        sv_client_update_cond(c);
        return;
    }
    if (r < 0 || !sv_tls_session_check_peer(c->tls, &error)) {
        g_message("%s: TLS client %s refused: %s", c->srv->name,
                  c->sock_addr ? c->sock_addr : "?", error->message);
        sv_client_close(c, error->message);
        return;
    }
    c->tls_ready = TRUE;
    g_clear_handle_id(&c->tls_timer, g_source_remove);
    g_debug("client %" G_GUINT64_FORMAT ": TLS accepted, DN '%s'", c->id,
            sv_tls_session_get_dname(c->tls) ? sv_tls_session_get_dname(c->tls) : "");
    confirm = sv_msg_alloc(1);
    confirm->data[0] = 1;
    sv_client_send(c, confirm);
    if (!c->closed)
        sv_client_update_cond(c);
}

static gboolean
client_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    SvClient *c = ((ClientSource *)source)->client;
    GIOCondition rev = g_source_query_unix_fd(source, c->tag);

    (void)cb;
    (void)data;
    sv_client_ref(c);
    if (rev & (G_IO_ERR | G_IO_HUP | G_IO_NVAL) && !(rev & G_IO_IN) &&
        !(c->tls && !c->tls_ready)) {
        sv_client_close(c, "hang-up");
    } else if (c->tls && !c->tls_ready) {
        client_tls_step(c);
    } else {
        if (rev & G_IO_OUT)
            sv_client_flush(c);
        if (!c->closed && (rev & (G_IO_IN | G_IO_HUP)))
            client_readable(c);
    }
    sv_client_unref(c);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs client_source_funcs = {
    .dispatch = client_dispatch,
};

int
sv_client_get_fd(SvClient *c)
{
    return c->fd;
}

/* ---------------------------------------------------------------- start and stop */

static gboolean
tls_handshake_expired(gpointer data)
{
    SvClient *c = data;

    c->tls_timer = 0;
    g_message("%s: TLS client %s did not finish its handshake in %d s", c->srv->name,
              c->sock_addr ? c->sock_addr : "?", TLS_HANDSHAKE_TIMEOUT_S);
    sv_client_close(c, "TLS handshake timed out");
    return G_SOURCE_REMOVE;
}

void
sv_client_io_start(SvClient *c, gsize max_message)
{
    c->reader = sv_frame_reader_new(max_message);
    c->source = g_source_new(&client_source_funcs, sizeof(ClientSource));
    ((ClientSource *)c->source)->client = c;
    c->cond = c->tls ? sv_tls_session_wants(c->tls) : G_IO_IN;
    c->tag = g_source_add_unix_fd(c->source, c->fd, c->cond);
    g_source_attach(c->source, NULL);
    if (c->tls)
        c->tls_timer = g_timeout_add_seconds(TLS_HANDSHAKE_TIMEOUT_S, tls_handshake_expired, c);
}

void
sv_client_io_stop(SvClient *c)
{
    SvMsg *m;

    if (c->ka_timer)
        g_source_remove(c->ka_timer);
    c->ka_timer = 0;
    g_source_destroy(c->source);
    g_source_unref(c->source);
    c->source = NULL;
    if (c->tls_idle)
        g_source_remove(c->tls_idle);
    c->tls_idle = 0;
    g_clear_handle_id(&c->tls_timer, g_source_remove);
    g_clear_pointer(&c->tls, sv_tls_session_free);
    close(c->fd);
    c->fd = -1;
    while ((m = g_queue_pop_head(&c->outq))) {
        if (m->fd >= 0)
            close(m->fd);
        g_free(m);
    }
    c->out_bytes = 0;
    sv_frame_reader_free(c->reader);
    c->reader = NULL;
    sv_fdpass_clear(c);
}
