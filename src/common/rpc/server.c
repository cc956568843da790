/* server.c: client connections: their state, bounded output queues, reading (with the
 * descriptors that come along, fdpass.c), keepalive, and the server object. Listening
 * sockets and client limits are listener.c; calls are dispatch.c. */
#include "rpc/server.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rpc/server-internal.h"
#include "util/error.h"

#define READ_BUDGET (256 * 1024)         /* bytes read per wake-up before yielding */
#define OUTPUT_PAUSE_READS (1024 * 1024) /* stop reading calls while this much is queued */
#define IOV_BATCH 64

typedef struct {
    GSource base;
    SvClient *client;
} ClientSource;

void
sv_server_config_init(SvServerConfig *cfg)
{
    cfg->max_clients = 5000;
    cfg->max_readonly_clients = 1000;
    cfg->max_anonymous_clients = 20;
    cfg->max_client_requests = 5;
    cfg->max_message = SV_MESSAGE_MAX;
    cfg->max_client_output = 64 * 1024 * 1024;
    cfg->keepalive_interval = 5;
    cfg->keepalive_count = 5;
}

/* ---------------------------------------------------------------- clients */

static void client_free_attachments(SvClient *c);

SvClient *
sv_client_ref(SvClient *c)
{
    g_atomic_int_inc(&c->ref);
    return c;
}

void
sv_client_unref(SvClient *c)
{
    if (!c || !g_atomic_int_dec_and_test(&c->ref))
        return;
    g_assert(c->closed);
    client_free_attachments(c); /* those attached after it closed */
    g_free(c);
}

guint64
sv_client_get_id(SvClient *c)
{
    return c->id;
}

SvServer *
sv_client_get_server(SvClient *c)
{
    return c->srv;
}

gboolean
sv_client_is_readonly(SvClient *c)
{
    return c->readonly;
}

void
sv_client_set_readonly(SvClient *c)
{
    c->readonly = TRUE;
}

gboolean
sv_client_is_open(SvClient *c)
{
    return c->open;
}

gboolean
sv_client_is_closed(SvClient *c)
{
    return c->closed;
}

gboolean
sv_client_get_peer(SvClient *c, uid_t *uid, gid_t *gid, pid_t *pid)
{
    if (!c->have_cred)
        return FALSE;
    if (uid)
        *uid = c->cred.uid;
    if (gid)
        *gid = c->cred.gid;
    if (pid)
        *pid = c->cred.pid;
    return TRUE;
}

void
sv_client_set_identity(SvClient *c, gint64 uid, gint64 gid, gint64 pid)
{
    c->has_identity = TRUE;
    c->id_uid = uid;
    c->id_gid = gid;
    c->id_pid = pid;
}

gboolean
sv_client_get_identity(SvClient *c, gint64 *uid, gint64 *gid, gint64 *pid)
{
    if (!c->has_identity)
        return FALSE;
    *uid = c->id_uid;
    *gid = c->id_gid;
    *pid = c->id_pid;
    return TRUE;
}

void
sv_client_get_who(SvClient *c, gint64 *uid, gint64 *pid)
{
    gint64 gid;

    *uid = *pid = -1;
    if (!sv_client_get_identity(c, uid, &gid, pid) && c->have_cred) {
        *uid = c->cred.uid;
        *pid = c->cred.pid;
    }
}

gint64
sv_client_get_connect_time(SvClient *c)
{
    return c->connect_time;
}

void
sv_client_attach(SvClient *c, const SvAttachKey *key, gpointer data, GDestroyNotify free_fn)
{
    SvAttachment a = {key, data, free_fn};
    SvAttachment old = {0};

    if (!c->attachments)
        c->attachments = g_array_new(FALSE, FALSE, sizeof(SvAttachment));
    for (guint i = 0; i < c->attachments->len; i++) {
        if (g_array_index(c->attachments, SvAttachment, i).key == key) {
            old = g_array_index(c->attachments, SvAttachment, i);
            g_array_remove_index(c->attachments, i);
            break;
        }
    }
    if (data)
        g_array_append_val(c->attachments, a);
    /* Freed after the array is consistent: the free function may look at it. */
    if (old.data && old.free_fn)
        old.free_fn(old.data);
}

gpointer
sv_client_attachment(SvClient *c, const SvAttachKey *key)
{
    for (guint i = 0; c->attachments && i < c->attachments->len; i++) {
        SvAttachment *a = &g_array_index(c->attachments, SvAttachment, i);
        if (a->key == key)
            return a->data;
    }
    return NULL;
}

/* Free every attachment in the order server.h documents: highest level first, within a
 * level the most recently attached first. */
static void
client_free_attachments(SvClient *c)
{
    g_autoptr(GArray) all = g_steal_pointer(&c->attachments);

    while (all && all->len) {
        guint pick = all->len - 1;
        SvAttachment a;

        for (guint i = pick; i-- > 0;) {
            if (g_array_index(all, SvAttachment, i).key->level >
                g_array_index(all, SvAttachment, pick).key->level)
                pick = i;
        }
        a = g_array_index(all, SvAttachment, pick);
        g_array_remove_index(all, pick);
        if (a.free_fn)
            a.free_fn(a.data);
    }
}

void
sv_client_set_stream_handler(SvClient *c,
                             void (*fn)(SvClient *, const SvHeader *, const guint8 *, gsize,
                                        gpointer),
                             gpointer data)
{
    c->stream_fn = fn;
    c->stream_data = data;
}

void
sv_client_add_close_notify(SvClient *c, void (*fn)(SvClient *, gpointer), gpointer data)
{
    SvCloseNotify n = {fn, data};

    if (!c->close_notify)
        c->close_notify = g_array_new(FALSE, FALSE, sizeof(SvCloseNotify));
    g_array_append_val(c->close_notify, n);
}

void
sv_client_remove_close_notify(SvClient *c, void (*fn)(SvClient *, gpointer), gpointer data)
{
    for (guint i = 0; c->close_notify && i < c->close_notify->len; i++) {
        SvCloseNotify *n = &g_array_index(c->close_notify, SvCloseNotify, i);
        if (n->fn == fn && n->data == data) {
            g_array_remove_index(c->close_notify, i);
            return;
        }
    }
}

void
sv_client_set_relay(SvClient *c, void (*fn)(SvClient *, const guint8 *, gsize, gpointer),
                    void (*batch_done)(SvClient *, gpointer), gpointer data)
{
    c->relay_fn = fn;
    c->relay_batch_fn = batch_done;
    c->relay_data = data;
}

void
sv_client_set_drain_func(SvClient *c, void (*fn)(SvClient *, gpointer), gpointer data)
{
    c->drain_fn = fn;
    c->drain_data = data;
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
sv_client_mark_open(SvClient *c)
{
    c->open = TRUE;
}

GList **
sv_client_streams(SvClient *c)
{
    return &c->streams;
}

gsize
sv_client_get_output_bytes(SvClient *c)
{
    return c->out_bytes;
}

/* What the driver and the owner keep for a connected client goes with it. */
static void
client_closed_hooks(SvClient *c)
{
    SvServer *srv = c->srv;

    if (c->close_notify) {
        g_autoptr(GArray) notify = g_steal_pointer(&c->close_notify);
        for (guint i = 0; i < notify->len; i++) {
            SvCloseNotify *n = &g_array_index(notify, SvCloseNotify, i);
            n->fn(c, n->data);
        }
    }
    if (srv->client_closed)
        srv->client_closed(c, srv->client_closed_data);
    client_free_attachments(c);
}

void
sv_client_close(SvClient *c, const char *reason)
{
    SvServer *srv = c->srv;
    gboolean refused = c->refusal != NULL;
    SvMsg *m;

    if (c->closed)
        return;
    g_debug("client %" G_GUINT64_FORMAT " closed: %s", c->id, reason);
    c->closed = TRUE;
    if (c->ka_timer)
        g_source_remove(c->ka_timer);
    c->ka_timer = 0;
    g_source_destroy(c->source);
    g_source_unref(c->source);
    c->source = NULL;
    close(c->fd);
    c->fd = -1;
    g_queue_delete_link(c->queue, c->link);
    c->link = NULL;
    if (c->slot < SV_SLOT_LAST)
        srv->n_slot[c->slot]--;
    while ((m = g_queue_pop_head(&c->outq)))
        g_free(m);
    c->out_bytes = 0;
    sv_frame_reader_free(c->reader);
    c->reader = NULL;
    sv_fdpass_clear(c);
    g_clear_error(&c->refusal);
    if (!refused) {
        client_closed_hooks(c);
        if (srv->clients_changed)
            srv->clients_changed(srv, srv->clients_changed_data);
    }
    sv_listeners_fd_released(srv);
    sv_client_unref(c); /* the server's reference */
}

gboolean
sv_client_send(SvClient *c, SvMsg *msg)
{
    if (c->closed) {
        g_free(msg);
        return FALSE;
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

void
sv_client_update_cond(SvClient *c)
{
    GIOCondition want = 0;

    if (c->closed)
        return;
    if (!c->closing && !c->paused && c->pending < c->srv->cfg.max_client_requests &&
        c->out_bytes < OUTPUT_PAUSE_READS)
        want |= G_IO_IN;
    if (c->outq.length)
        want |= G_IO_OUT;
    if (want != c->cond) {
        g_source_modify_unix_fd(c->source, c->tag, want);
        c->cond = want;
    }
}

void
sv_client_flush(SvClient *c)
{
    while (c->outq.length && !c->closed) {
        struct iovec iov[IOV_BATCH];
        int n = 0;
        ssize_t w;

        for (GList *l = c->outq.head; l && n < IOV_BATCH; l = l->next, n++) {
            SvMsg *m = l->data;
            iov[n].iov_base = m->data + m->off;
            iov[n].iov_len = m->len - m->off;
        }
        w = writev(c->fd, iov, n);
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
    if (c->closing && c->outq.length == 0) {
        sv_client_close(c, "closed by the client");
        return;
    }
    sv_client_update_cond(c);
    if (c->drain_fn && c->out_bytes < OUTPUT_PAUSE_READS / 2)
        c->drain_fn(c, c->drain_data);
}

/* ---------------------------------------------------------------- dispatch */
int
sv_client_get_fd(SvClient *c)
{
    return c->fd;
}

gboolean
sv_client_keepalive_enabled(SvClient *c)
{
    return c->ka_timer != 0;
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

guint8 *
sv_client_steal_input(SvClient *c, gsize *len)
{
    guint8 *out = sv_frame_reader_steal(c->reader, len);

    /* Descriptors that came with those bytes stay behind, closed. */
    sv_fdpass_sweep(c, FALSE);
    return out;
}

guint64
sv_client_processed_pos(SvClient *c)
{
    return c->rx_pos - sv_frame_reader_pending(c->reader);
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
        if ((gsize)n < room)
            break;
    }
}

static gboolean
client_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    SvClient *c = ((ClientSource *)source)->client;
    GIOCondition rev = g_source_query_unix_fd(source, c->tag);

    (void)cb;
    (void)data;
    sv_client_ref(c);
    if (rev & (G_IO_ERR | G_IO_HUP | G_IO_NVAL) && !(rev & G_IO_IN)) {
        sv_client_close(c, "hang-up");
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

SvClient *
sv_client_new_internal(SvServer *srv, int fd, gboolean readonly, SvSlot slot, GError *refusal,
                       gsize max_message)
{
    SvClient *c = g_new0(SvClient, 1);
    socklen_t sl = sizeof(c->cred);

    c->ref = 1;
    c->id = ++srv->next_client_id;
    c->srv = srv;
    c->fd = fd;
    c->readonly = readonly;
    c->slot = refusal ? SV_SLOT_LAST : slot;
    c->refusal = refusal;
    c->reader = sv_frame_reader_new(max_message ? max_message : srv->cfg.max_message);
    c->connect_time = g_get_real_time();
    c->have_cred = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &sl) == 0;
    c->source = g_source_new(&client_source_funcs, sizeof(ClientSource));
    ((ClientSource *)c->source)->client = c;
    c->cond = G_IO_IN;
    c->tag = g_source_add_unix_fd(c->source, fd, c->cond);
    g_source_attach(c->source, NULL);
    c->queue = refusal ? &srv->refused : &srv->clients;
    g_queue_push_tail(c->queue, c);
    c->link = c->queue->tail;
    if (refusal)
        return c;
    if (c->slot < SV_SLOT_LAST)
        srv->n_slot[c->slot]++;
    if (srv->clients_changed)
        srv->clients_changed(srv, srv->clients_changed_data);
    return c;
}

SvClient *
sv_server_add_client_fd(SvServer *srv, int fd, gboolean readonly)
{
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    return sv_client_new_internal(srv, fd, readonly, SV_SLOT_LAST, NULL, 0);
}

/* ---------------------------------------------------------------- server */

SvServer *
sv_server_new(const char *name, const SvServerConfig *cfg)
{
    SvServer *srv = g_new0(SvServer, 1);

    srv->name = g_strdup(name);
    if (cfg)
        srv->cfg = *cfg;
    else
        sv_server_config_init(&srv->cfg);
    srv->cfg.max_message = MIN(srv->cfg.max_message, SV_MESSAGE_MAX);
    srv->programs = g_array_new(FALSE, FALSE, sizeof(SvServerProgram));
    srv->listeners = g_ptr_array_new();
    g_queue_init(&srv->clients);
    g_queue_init(&srv->refused);
    return srv;
}

void
sv_server_free(SvServer *srv)
{
    if (!srv)
        return;
    sv_server_close_listeners(srv);
    srv->clients_changed = NULL;
    while (srv->clients.head)
        sv_client_close(srv->clients.head->data, "server shutting down");
    while (srv->refused.head)
        sv_client_close(srv->refused.head->data, "server shutting down");
    sv_listeners_free(srv);
    for (guint i = 0; i < srv->programs->len; i++) {
        SvServerProgram *p = &g_array_index(srv->programs, SvServerProgram, i);
        if (p->data && p->data_free)
            p->data_free(p->data);
    }
    g_array_unref(srv->programs);
    g_free(srv->name);
    g_free(srv);
}

const char *
sv_server_get_name(SvServer *srv)
{
    return srv->name;
}

void
sv_server_add_program(SvServer *srv, const SvProgramInfo *info, const void *handlers)
{
    static const SvProgramHooks none;

    sv_server_add_program_hooks(srv, info, handlers, &none, NULL, NULL);
}

void
sv_server_add_program_hooks(SvServer *srv, const SvProgramInfo *info, const void *handlers,
                            const SvProgramHooks *hooks, gpointer data, GDestroyNotify data_free)
{
    SvServerProgram p = {info, handlers, hooks, data, data_free};

    g_array_append_val(srv->programs, p);
    /* What a connection may hold on to before a message claims it (fdpass.c). */
    for (guint i = 0; i < info->n_procs; i++)
        srv->max_call_fds = MAX(srv->max_call_fds, info->procs[i].max_fds);
}

gpointer
sv_server_get_program_data(SvServer *srv, const SvProgramInfo *info)
{
    for (guint i = 0; i < srv->programs->len; i++) {
        SvServerProgram *p = &g_array_index(srv->programs, SvServerProgram, i);
        if (p->info == info)
            return p->data;
    }
    return NULL;
}

guint
sv_server_n_clients(SvServer *srv)
{
    return srv->clients.length;
}

SvClient *
sv_server_lookup_client(SvServer *srv, guint64 id)
{
    for (GList *l = srv->clients.head; l; l = l->next) {
        SvClient *c = l->data;
        if (c->id == id && !c->closed)
            return c;
    }
    return NULL;
}

void
sv_server_set_user_data(SvServer *srv, gpointer data)
{
    srv->user_data = data;
}

gpointer
sv_server_get_user_data(SvServer *srv)
{
    return srv->user_data;
}

void
sv_server_set_clients_changed(SvServer *srv, void (*fn)(SvServer *, gpointer), gpointer data)
{
    srv->clients_changed = fn;
    srv->clients_changed_data = data;
}

void
sv_server_set_client_closed(SvServer *srv, void (*fn)(SvClient *, gpointer), gpointer data)
{
    srv->client_closed = fn;
    srv->client_closed_data = data;
}

void
sv_server_foreach_client(SvServer *srv, void (*fn)(SvClient *, gpointer), gpointer data)
{
    /* A callback may close clients: walk a snapshot holding references. */
    g_autoptr(GPtrArray) snap = g_ptr_array_new_with_free_func((GDestroyNotify)sv_client_unref);

    for (GList *l = srv->clients.head; l; l = l->next)
        g_ptr_array_add(snap, sv_client_ref(l->data));
    for (guint i = 0; i < snap->len; i++) {
        SvClient *c = snap->pdata[i];
        if (!c->closed)
            fn(c, data);
    }
}
