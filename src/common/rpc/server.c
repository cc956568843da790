/* server.c: listening sockets, connections with bounded queues, call dispatch and keepalive. */
#include "server.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "protocol/sv_net.h"
#include "protocol/sv_remote.h"
#include "util/error.h"

#define READ_BUDGET (256 * 1024)         /* bytes read per wake-up before yielding */
#define OUTPUT_PAUSE_READS (1024 * 1024) /* stop reading calls while this much is queued */
#define IOV_BATCH 64

typedef struct {
    const SvProgramInfo *info;
    const void *handlers;
} Program;

typedef struct {
    GSource *source;
    gpointer tag;
    int fd;
    gboolean readonly;
    SvServer *srv;
} Listener;

struct SvServer {
    char *name;
    SvServerConfig cfg;
    GArray *programs; /* Program */
    GPtrArray *listeners;
    GQueue clients;
    guint64 next_client_id;
    void (*clients_changed)(SvServer *, gpointer);
    gpointer clients_changed_data;
    void (*client_closed)(SvClient *, gpointer);
    gpointer client_closed_data;
    gpointer user_data;
};

typedef struct {
    GSource base;
    SvClient *client;
} ClientSource;

struct SvClient {
    gint ref;
    guint64 id;
    SvServer *srv;
    GList *link; /* in srv->clients while connected */
    int fd;
    GSource *source;
    gpointer tag;
    GIOCondition cond;
    SvFrameReader *reader;
    GQueue outq; /* SvMsg */
    gsize out_bytes;
    guint pending; /* deferred calls */
    gboolean readonly;
    gboolean open;
    gboolean closing; /* close once the output queue is empty */
    gboolean closed;
    gboolean in_dispatch;
    gboolean have_cred;
    struct ucred cred;
    gint64 connect_time;
    guint ka_timer;
    guint ka_left;
    gboolean ka_rx;
    gpointer data;
    GDestroyNotify data_free;
    gpointer remote; /* SvRemoteClient, see remote.c */
    GDestroyNotify remote_free;
    void (*stream_fn)(SvClient *, const SvHeader *, const guint8 *, gsize, gpointer);
    gpointer stream_data;
    GArray *close_notify; /* CloseNotify */
    GList *streams;       /* SvStream, owned by stream.c */
    /* Relay mode (virtproxyd): every frame but keepalive goes to relay_fn. */
    void (*relay_fn)(SvClient *, const guint8 *frame, gsize len, gpointer);
    gpointer relay_data;
    void (*drain_fn)(SvClient *, gpointer);
    gpointer drain_data;
    gboolean paused; /* reads held by the owner (relay back-pressure) */
    guint corked;    /* output is queued, not written, while > 0 */
    GArray *fds;     /* descriptors received as SCM_RIGHTS, not yet taken */
    void (*relay_batch_fn)(SvClient *, gpointer);
};

typedef struct {
    void (*fn)(SvClient *, gpointer);
    gpointer data;
} CloseNotify;

struct SvCall {
    SvClient *client;
    SvHeader hdr;
    const SvProcInfo *proc;
    gboolean deferred;
    gboolean heap;
};

static void client_update_cond(SvClient *c);
static void client_flush(SvClient *c);
static void client_process(SvClient *c);

void
sv_server_config_init(SvServerConfig *cfg)
{
    cfg->max_clients = 5000;
    cfg->max_anonymous_clients = 20;
    cfg->max_client_requests = 5;
    cfg->max_message = SV_MESSAGE_MAX;
    cfg->max_client_output = 64 * 1024 * 1024;
    cfg->keepalive_interval = 5;
    cfg->keepalive_count = 5;
}

const SvProcInfo *
sv_program_info_lookup(const SvProgramInfo *info, int proc)
{
    guint lo = 0, hi = info->n_procs;

    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        if (info->procs[mid].proc == proc)
            return &info->procs[mid];
        if (info->procs[mid].proc < proc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* ---------------------------------------------------------------- clients */

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

gint64
sv_client_get_connect_time(SvClient *c)
{
    return c->connect_time;
}

void
sv_client_set_data(SvClient *c, gpointer data, GDestroyNotify free_fn)
{
    if (c->data && c->data_free)
        c->data_free(c->data);
    c->data = data;
    c->data_free = free_fn;
}

gpointer
sv_client_get_data(SvClient *c)
{
    return c->data;
}

gpointer *
sv_client_remote_slot(SvClient *c, GDestroyNotify free_fn)
{
    c->remote_free = free_fn;
    return &c->remote;
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
    CloseNotify n = {fn, data};

    if (!c->close_notify)
        c->close_notify = g_array_new(FALSE, FALSE, sizeof(CloseNotify));
    g_array_append_val(c->close_notify, n);
}

void
sv_client_remove_close_notify(SvClient *c, void (*fn)(SvClient *, gpointer), gpointer data)
{
    for (guint i = 0; c->close_notify && i < c->close_notify->len; i++) {
        CloseNotify *n = &g_array_index(c->close_notify, CloseNotify, i);
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
        client_process(c);
    else
        client_update_cond(c);
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

void
sv_client_close(SvClient *c, const char *reason)
{
    SvServer *srv = c->srv;
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
    g_queue_delete_link(&srv->clients, c->link);
    c->link = NULL;
    while ((m = g_queue_pop_head(&c->outq)))
        g_free(m);
    c->out_bytes = 0;
    sv_frame_reader_free(c->reader);
    c->reader = NULL;
    for (guint i = 0; c->fds && i < c->fds->len; i++)
        close(g_array_index(c->fds, int, i));
    g_clear_pointer(&c->fds, g_array_unref);
    if (c->close_notify) {
        g_autoptr(GArray) notify = g_steal_pointer(&c->close_notify);
        for (guint i = 0; i < notify->len; i++) {
            CloseNotify *n = &g_array_index(notify, CloseNotify, i);
            n->fn(c, n->data);
        }
    }
    if (srv->client_closed)
        srv->client_closed(c, srv->client_closed_data);
    if (c->data && c->data_free)
        c->data_free(c->data);
    c->data = NULL;
    if (c->remote && c->remote_free)
        c->remote_free(c->remote);
    c->remote = NULL;
    if (srv->clients_changed)
        srv->clients_changed(srv, srv->clients_changed_data);
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
        sv_client_close(c, "output queue over its limit");
        return FALSE;
    }
    if (!c->in_dispatch && !c->corked)
        client_flush(c);
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
        client_flush(c);
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

static void
send_keepalive(SvClient *c, int proc)
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
    send_keepalive(c, SV_KEEPALIVE_PROC_PING);
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

static void
client_update_cond(SvClient *c)
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

static void
client_flush(SvClient *c)
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
    client_update_cond(c);
    if (c->drain_fn && c->out_bytes < OUTPUT_PAUSE_READS / 2)
        c->drain_fn(c, c->drain_data);
}

/* ---------------------------------------------------------------- dispatch */

SvClient *
sv_call_get_client(SvCall *call)
{
    return call->client;
}

const SvHeader *
sv_call_get_header(SvCall *call)
{
    return &call->hdr;
}

const SvProcInfo *
sv_call_get_proc(SvCall *call)
{
    return call->proc;
}

static void
reply_error(SvClient *c, const SvHeader *call_hdr, const GError *error)
{
    SvHeader h = *call_hdr;

    h.type = SV_NET_REPLY;
    sv_client_send(c, sv_msg_encode_error(&h, error));
}

/* Send the OK reply of a call and apply its effect on the connection. */
static void
reply_ok(SvCall *call, void *ret)
{
    SvClient *c = call->client;
    SvHeader h = call->hdr;
    g_autoptr(GError) error = NULL;
    SvMsg *m;

    h.type = SV_NET_REPLY;
    h.status = SV_NET_OK;
    m = sv_msg_encode(&h, call->proc->ret_filter, ret, &error);
    if (!m) {
        reply_error(c, &call->hdr, error);
        return;
    }
    if (call->proc->flags & SV_PROC_OPEN)
        c->open = TRUE;
    if (call->proc->flags & SV_PROC_CLOSE) {
        c->closing = TRUE;
        c->open = FALSE;
    }
    sv_client_send(c, m);
}

SvCall *
sv_call_defer(SvCall *call)
{
    SvCall *h;

    g_return_val_if_fail(!call->heap && !call->deferred, NULL);
    h = g_new0(SvCall, 1);
    *h = *call;
    h->heap = TRUE;
    sv_client_ref(h->client);
    h->client->pending++;
    call->deferred = TRUE;
    return h;
}

static void
call_finish(SvCall *call)
{
    SvClient *c = call->client;

    c->pending--;
    if (!c->closed) {
        /* Frames left waiting while the client was at its request limit. */
        if (!c->in_dispatch && sv_frame_reader_pending(c->reader))
            client_process(c);
        else if (!c->in_dispatch)
            client_update_cond(c);
    }
    sv_client_unref(c);
    g_free(call);
}

void
sv_call_reply(SvCall *call, void *ret)
{
    g_return_if_fail(call->heap);
    if (!call->client->closed)
        reply_ok(call, ret);
    call_finish(call);
}

void
sv_call_reply_frame(SvCall *call, const guint8 *frame, gsize len)
{
    SvClient *c = call->client;

    g_return_if_fail(call->heap && len >= SV_FRAME_MIN);
    if (!c->closed) {
        SvMsg *m = g_malloc(sizeof(SvMsg) + len);
        SvHeader h;

        m->len = len;
        m->off = 0;
        memcpy(m->data, frame, len);
        sv_header_decode(frame + SV_FRAME_LEN_SIZE, &h);
        if ((call->proc->flags & SV_PROC_OPEN) && h.status == SV_NET_OK)
            c->open = TRUE;
        sv_client_send(c, m);
    }
    call_finish(call);
}

void
sv_call_abandon(SvCall *call)
{
    g_return_if_fail(call->heap);
    call_finish(call);
}

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
        client_flush(c);
}

void
sv_call_fail(SvCall *call, GError *error)
{
    g_return_if_fail(call->heap);
    if (!call->client->closed)
        reply_error(call->client, &call->hdr, error);
    g_error_free(error);
    call_finish(call);
}

static const Program *
find_program(SvServer *srv, guint32 prog, guint32 vers)
{
    for (guint i = 0; i < srv->programs->len; i++) {
        const Program *p = &g_array_index(srv->programs, Program, i);
        if (p->info->prog == prog && p->info->vers == vers)
            return p;
    }
    return NULL;
}

typedef union {
    guint8 b[512];
    gint64 align;
    double d;
    void *p;
} ArgBuf;

static void
dispatch_call(SvClient *c, const SvHeader *h, const guint8 *payload, gsize plen)
{
    g_autoptr(GError) error = NULL;
    const Program *prog;
    const SvProcInfo *p;
    SvCall call = {c, *h, NULL, FALSE, FALSE};
    ArgBuf args, ret;
    gboolean ok;

    if (h->status != SV_NET_OK) {
        sv_error_set(&error, SV_FROM_RPC, SV_ERR_RPC, "Unexpected message status %u", h->status);
        reply_error(c, h, error);
        return;
    }
    prog = find_program(c->srv, h->prog, h->vers);
    if (!prog) {
        sv_error_set(&error, SV_FROM_RPC, SV_ERR_RPC, "Cannot find program %d version %d",
                     (int)h->prog, (int)h->vers);
        reply_error(c, h, error);
        return;
    }
    p = sv_program_info_lookup(prog->info, h->proc);
    if (!p || (p->flags & SV_PROC_MSG)) {
        sv_error_set(&error, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: %d", h->proc);
        reply_error(c, h, error);
        return;
    }
    if (!(p->flags & SV_PROC_NOOPEN) && !c->open) {
        sv_error_set(&error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "hypervisor connection not open");
        reply_error(c, h, error);
        return;
    }
    if ((p->flags & SV_PROC_OPEN) && c->open) {
        sv_error_set(&error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "connection already open");
        reply_error(c, h, error);
        return;
    }
    if (c->readonly && !(p->flags & SV_PROC_RO)) {
        sv_error_set(&error, SV_FROM_DOMAIN, SV_ERR_OPERATION_DENIED,
                     "read only access prevents %s", p->api);
        reply_error(c, h, error);
        return;
    }
    /* Checked after the connection rules, as libvirt checks read-only access in
     * its public API before the driver can say it lacks the call. */
    if (!sv_proc_has_handler(p, prog->handlers)) {
        sv_error_set(&error, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: %d", h->proc);
        reply_error(c, h, error);
        return;
    }
    g_assert(p->args_size <= sizeof(args) && p->ret_size <= sizeof(ret));
    memset(&args, 0, p->args_size);
    memset(&ret, 0, p->ret_size);
    if (!sv_xdr_decode(payload, plen, p->args_filter, &args, &error)) {
        reply_error(c, h, error);
        return;
    }
    if ((p->flags & SV_PROC_OPEN) && h->prog == REMOTE_PROGRAM) {
        /* Read-only is the client's flag bit 0, or forced by the socket it came in on. */
        if (((remote_connect_open_args *)&args)->flags & 1)
            c->readonly = TRUE;
    }
    call.proc = p;
    ok = p->invoke(prog->handlers, &call, &args, &ret, &error);
    if (!ok) {
        if (!error)
            sv_error_set_literal(&error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                                 "Library function returned error but did not set virError");
        reply_error(c, h, error);
    } else if (!call.deferred) {
        reply_ok(&call, &ret);
    }
    xdr_free(p->args_filter, (char *)&args);
    xdr_free(p->ret_filter, (char *)&ret);
}

/* One whole frame from the client. */
static void
dispatch_frame(SvClient *c, const guint8 *frame, gsize len)
{
    SvHeader h;
    const guint8 *payload = frame + SV_FRAME_MIN;
    gsize plen = len - SV_FRAME_MIN;

    sv_header_decode(frame + SV_FRAME_LEN_SIZE, &h);
    c->ka_rx = TRUE;
    if (c->relay_fn && !(h.type == SV_NET_MESSAGE && h.prog == SV_KEEPALIVE_PROGRAM)) {
        c->relay_fn(c, frame, len, c->relay_data);
        return;
    }
    switch (h.type) {
    case SV_NET_CALL:
        dispatch_call(c, &h, payload, plen);
        break;
    case SV_NET_MESSAGE:
        if (h.prog == SV_KEEPALIVE_PROGRAM && h.proc == SV_KEEPALIVE_PROC_PING)
            send_keepalive(c, SV_KEEPALIVE_PROC_PONG);
        /* PONG only proves the peer alive; other MESSAGEs from clients mean nothing. */
        break;
    case SV_NET_STREAM:
    case SV_NET_STREAM_HOLE:
        if (c->stream_fn)
            c->stream_fn(c, &h, payload, plen, c->stream_data);
        break;
    default:
        /* Replies and fd-carrying calls from a client break the protocol: the
         * bytes that follow cannot be trusted, so the connection ends. */
        g_message("client %" G_GUINT64_FORMAT ": unexpected message type %u, closing", c->id,
                  h.type);
        sv_client_close(c, "unexpected message type");
        break;
    }
}

/* Dispatch buffered frames while the client may take more calls. */
static void
client_process(SvClient *c)
{
    g_autoptr(GError) error = NULL;

    sv_client_ref(c);
    c->in_dispatch = TRUE;
    while (!c->closed && !c->closing && !c->paused &&
           c->pending < c->srv->cfg.max_client_requests) {
        gsize len;
        const guint8 *frame = sv_frame_reader_next(c->reader, &len, &error);
        if (!frame) {
            if (error) {
                g_message("client %" G_GUINT64_FORMAT ": %s", c->id, error->message);
                sv_client_close(c, error->message);
            }
            break;
        }
        dispatch_frame(c, frame, len);
    }
    c->in_dispatch = FALSE;
    /* A relay forwards what one read brought in one write, too. */
    if (!c->closed && c->relay_fn && c->relay_batch_fn)
        c->relay_batch_fn(c, c->relay_data);
    if (!c->closed && !c->corked)
        client_flush(c);
    sv_client_unref(c);
}

static void
keep_fds(SvClient *c, struct msghdr *msg)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        for (gsize i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (!c->fds)
                c->fds = g_array_new(FALSE, FALSE, sizeof(int));
            if (c->fds->len >= 32) {
                close(fd); /* a client piling up descriptors gets none kept */
                continue;
            }
            g_array_append_val(c->fds, fd);
        }
    }
}

int
sv_client_take_fd(SvClient *c)
{
    int fd;

    if (!c->fds || !c->fds->len)
        return -1;
    fd = g_array_index(c->fds, int, 0);
    g_array_remove_index(c->fds, 0);
    return fd;
}

guint8 *
sv_client_steal_input(SvClient *c, gsize *len)
{
    return sv_frame_reader_steal(c->reader, len);
}

guint64
sv_server_adopt_client(SvServer *srv, int fd, gboolean readonly, gboolean keepalive,
                       const guint8 *input, gsize len)
{
    SvClient *c = sv_server_add_client_fd(srv, fd, readonly);
    guint64 id = c->id;

    if (keepalive)
        sv_client_start_keepalive(c);

    while (len > 0) {
        gsize size;
        guint8 *space = sv_frame_reader_space(c->reader, &size);
        gsize n = MIN(size, len);
        memcpy(space, input, n);
        sv_frame_reader_commit(c->reader, n);
        input += n;
        len -= n;
    }
    /* The client may be gone when this returns (it hung up meanwhile). */
    if (sv_frame_reader_pending(c->reader))
        client_process(c);
    return id;
}

static void
client_readable(SvClient *c)
{
    gsize total = 0;

    while (!c->closed && total < READ_BUDGET && (c->cond & G_IO_IN)) {
        gsize size;
        guint8 *space = sv_frame_reader_space(c->reader, &size);
        /* Descriptors may ride along (splitvirt's ADOPT_CLIENT): keep them. */
        union {
            struct cmsghdr align;
            char buf[CMSG_SPACE(sizeof(int) * 4)];
        } ctl;
        struct iovec iov = {space, size};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                             .msg_controllen = sizeof(ctl.buf)};
        ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);

        if (n > 0 && msg.msg_controllen)
            keep_fds(c, &msg);

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
        sv_frame_reader_commit(c->reader, n);
        total += n;
        client_process(c);
        if ((gsize)n < size)
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
            client_flush(c);
        if (!c->closed && (rev & (G_IO_IN | G_IO_HUP)))
            client_readable(c);
    }
    sv_client_unref(c);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs client_source_funcs = {
    .dispatch = client_dispatch,
};

static SvClient *
client_new(SvServer *srv, int fd, gboolean readonly)
{
    SvClient *c = g_new0(SvClient, 1);
    socklen_t sl = sizeof(c->cred);

    c->ref = 1;
    c->id = ++srv->next_client_id;
    c->srv = srv;
    c->fd = fd;
    c->readonly = readonly;
    c->reader = sv_frame_reader_new(srv->cfg.max_message);
    c->connect_time = g_get_real_time();
    c->have_cred = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &sl) == 0;
    c->source = g_source_new(&client_source_funcs, sizeof(ClientSource));
    ((ClientSource *)c->source)->client = c;
    c->cond = G_IO_IN;
    c->tag = g_source_add_unix_fd(c->source, fd, c->cond);
    g_source_attach(c->source, NULL);
    g_queue_push_tail(&srv->clients, c);
    c->link = srv->clients.tail;
    if (srv->clients_changed)
        srv->clients_changed(srv, srv->clients_changed_data);
    return c;
}

SvClient *
sv_server_add_client_fd(SvServer *srv, int fd, gboolean readonly)
{
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    return client_new(srv, fd, readonly);
}

/* ---------------------------------------------------------------- server */

static gboolean
listener_ready(gint fd, GIOCondition cond, gpointer data)
{
    Listener *l = data;
    SvServer *srv = l->srv;

    (void)cond;
    for (;;) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN)
                g_warning("accept on %s failed: %s", srv->name, g_strerror(errno));
            break;
        }
        if (srv->clients.length >= srv->cfg.max_clients) {
            g_message("%s: refusing a client over max_clients (%u)", srv->name,
                      srv->cfg.max_clients);
            close(cfd);
            continue;
        }
        client_new(srv, cfd, l->readonly);
    }
    return G_SOURCE_CONTINUE;
}

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
    srv->programs = g_array_new(FALSE, FALSE, sizeof(Program));
    srv->listeners = g_ptr_array_new();
    g_queue_init(&srv->clients);
    return srv;
}

static void
listener_free(Listener *l)
{
    g_source_destroy(l->source);
    g_source_unref(l->source);
    close(l->fd);
    g_free(l);
}

void
sv_server_close_listeners(SvServer *srv)
{
    for (guint i = 0; i < srv->listeners->len; i++)
        listener_free(srv->listeners->pdata[i]);
    g_ptr_array_set_size(srv->listeners, 0);
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
    g_ptr_array_unref(srv->listeners);
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
    Program p = {info, handlers};

    g_array_append_val(srv->programs, p);
}

void
sv_server_add_listener(SvServer *srv, int fd, gboolean readonly)
{
    Listener *l = g_new0(Listener, 1);

    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    l->fd = fd;
    l->readonly = readonly;
    l->srv = srv;
    l->source = g_unix_fd_source_new(fd, G_IO_IN);
    g_source_set_callback(l->source, (GSourceFunc)(void (*)(void))listener_ready, l, NULL);
    g_source_attach(l->source, NULL);
    g_ptr_array_add(srv->listeners, l);
}

guint
sv_server_n_clients(SvServer *srv)
{
    return srv->clients.length;
}

guint
sv_server_get_max_clients(SvServer *srv)
{
    return srv->cfg.max_clients;
}

guint
sv_server_get_max_anonymous_clients(SvServer *srv)
{
    return srv->cfg.max_anonymous_clients;
}

void
sv_server_set_client_limits(SvServer *srv, guint max_clients, guint max_anonymous_clients)
{
    srv->cfg.max_clients = max_clients;
    srv->cfg.max_anonymous_clients = max_anonymous_clients;
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
