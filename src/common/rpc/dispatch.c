/* dispatch.c: calls: admission (admission.c: open, read-only, handler), descriptors,
 * decoding, the handler, and the reply, now or deferred. */
#include <string.h>
#include <unistd.h>

#include "rpc/admission.h"
#include "rpc/server-internal.h"
#include "util/error.h"

SvClient *
sv_call_get_client(SvCall *call)
{
    return call->client;
}

gpointer
sv_call_get_server_data(SvCall *call)
{
    return sv_server_get_user_data(sv_client_get_server(call->client));
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

int
sv_call_take_fd(SvCall *call)
{
    for (guint i = 0; call->fds && i < call->fds->n; i++) {
        int fd = call->fds->fd[i];
        if (fd >= 0) {
            call->fds->fd[i] = -1;
            return fd;
        }
    }
    return -1;
}

static void
call_fds_free(SvCall *call)
{
    if (call->fds) {
        sv_frame_fds_clear(call->fds);
        g_clear_pointer(&call->fds, g_free);
    }
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

    if (call->heap)
        return call; /* a handle already, passed on by the code that deferred it */
    g_return_val_if_fail(!call->deferred, NULL);
    h = g_new0(SvCall, 1);
    *h = *call;
    h->heap = TRUE;
    call->fds = NULL; /* they go with the deferred call */
    sv_client_ref(h->client);
    h->client->pending++;
    call->deferred = TRUE;
    return h;
}

static void
call_finish(SvCall *call)
{
    SvClient *c = call->client;

    call_fds_free(call);
    c->pending--;
    if (!c->closed) {
        /* Frames left waiting while the client was at its request limit. */
        if (!c->in_dispatch && sv_frame_reader_pending(c->reader))
            sv_client_process(c);
        else if (!c->in_dispatch)
            sv_client_update_cond(c);
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
sv_call_reply_fd(SvCall *call, void *ret, int fd)
{
    SvClient *c = call->client;
    SvHeader h = call->hdr;
    g_autoptr(GError) error = NULL;
    SvMsg *m;

    g_return_if_fail(call->heap && fd >= 0);
    h.type = SV_NET_REPLY;
    h.status = SV_NET_OK;
    if (c->closed) {
        close(fd);
    } else if (!(m = sv_msg_encode(&h, call->proc->ret_filter, ret, &error))) {
        close(fd);
        reply_error(c, &call->hdr, error);
    } else {
        /* The message, then the descriptor with its byte: nothing may come between. */
        sv_client_cork(c);
        sv_client_send(c, sv_msg_with_fds(m, SV_NET_REPLY_WITH_FDS, 1));
        sv_client_send(c, sv_msg_new_fd(fd));
        sv_client_uncork(c);
    }
    call_finish(call);
}

void
sv_call_reply_frame(SvCall *call, const guint8 *frame, gsize len)
{
    SvClient *c = call->client;

    g_return_if_fail(call->heap && len >= SV_FRAME_MIN);
    if (!c->closed) {
        SvMsg *m = sv_msg_copy_frame(frame, len);
        SvHeader h;

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

void
sv_call_fail(SvCall *call, GError *error)
{
    g_return_if_fail(call->heap);
    if (!call->client->closed)
        reply_error(call->client, &call->hdr, error);
    g_error_free(error);
    call_finish(call);
}

const SvServerProgram *
sv_server_find_program(SvServer *srv, guint32 prog, guint32 vers)
{
    for (guint i = 0; i < srv->programs->len; i++) {
        const SvServerProgram *p = &g_array_index(srv->programs, SvServerProgram, i);
        if (p->info->prog == prog && p->info->vers == vers)
            return p;
    }
    return NULL;
}

/* The rules before the arguments are decoded (admission.c), on the facts of this
 * connection. */
static const SvProcInfo *
check_call(SvClient *c, const SvHeader *h, const SvServerProgram **out_prog, GError **error)
{
    const SvServerProgram *prog = sv_server_find_program(c->srv, h->prog, h->vers);
    SvCallFacts facts = {
        .hdr = h,
        .program = prog ? prog->info : NULL,
        .handlers = prog ? prog->handlers : NULL,
        .open = c->open,
        .authenticated = c->auth == SV_AUTH_NONE,
        .readonly = c->readonly,
        .relays = prog ? prog->hooks->relays : NULL,
        .relays_data = prog ? prog->data : NULL,
        .family = prog && prog->hooks->served_family ? prog->hooks->served_family(prog->data)
                                                     : SV_PROC_FAMILY_PRIMARY,
    };
    const SvProcInfo *p = sv_call_admit(&facts, error);

    *out_prog = prog;
    return p;
}

/* The descriptors of a CALL_WITH_FDS go to the call only for a procedure that takes
 * that many, on a read-write connection, open unless the procedure needs none; any
 * others are closed unread, and the call is served as if it had come without them
 * (libvirt's server keeps and ignores them). */
static void
accept_fds(SvCall *call, SvFrameFds *fds)
{
    SvClient *c = call->client;
    const SvProcInfo *p = call->proc;
    gboolean ok = fds->n > 0 && fds->n <= p->max_fds && !c->readonly &&
                  ((p->flags & SV_PROC_NOOPEN) || c->open);

    for (guint i = 0; ok && i < fds->n; i++)
        ok = fds->fd[i] >= 0;
    if (!ok) {
        if (fds->n)
            g_debug("client %" G_GUINT64_FORMAT ": %u descriptors with %s closed unread",
                    c->id, fds->n, p->name);
        sv_frame_fds_clear(fds);
        return;
    }
    call->fds = g_memdup2(fds, sizeof(*fds));
    fds->n = 0;
}

/* Admission and the generated tables (protocol/program.h) keep every procedure's types
 * within it. */
typedef union {
    guint8 b[SV_PROC_BUF_SIZE];
    gint64 align;
    double d;
    void *p;
} ArgBuf;

/* A relay forwards calls as they came, but not descriptors it does not pass on: the
 * backend sees the call as if sent without them. (transfer full) */
static guint8 *
strip_fd_count(const guint8 *frame, gsize len, gsize *out_len)
{
    guint8 *out = g_malloc(len - 4);

    memcpy(out, frame, SV_FRAME_MIN);
    memcpy(out + SV_FRAME_MIN, frame + SV_FRAME_MIN + 4, len - SV_FRAME_MIN - 4);
    sv_put_be32(out, len - 4);
    sv_put_be32(out + SV_FRAME_LEN_SIZE + 12, SV_NET_CALL);
    *out_len = len - 4;
    return out;
}

/* A call the program relays elsewhere goes as it came, without descriptors (none of the
 * relayed procedures takes any): the relay defers it and answers it with the reply it
 * gets back. */
static void
relay_call(const SvServerProgram *prog, SvCall *call, const guint8 *frame, gsize len,
           SvFrameFds *fds)
{
    g_autofree guint8 *copy = NULL;

    if (call->hdr.type == SV_NET_CALL_WITH_FDS) {
        sv_frame_fds_clear(fds);
        copy = strip_fd_count(frame, len, &len);
        frame = copy;
    }
    prog->hooks->relay(prog->data, call, frame, len);
}

static void
dispatch_call(SvClient *c, const SvHeader *h, const guint8 *frame, gsize len, SvFrameFds *fds)
{
    g_autoptr(GError) error = NULL;
    const SvServerProgram *prog = NULL;
    const SvProcInfo *p = check_call(c, h, &prog, &error);
    SvCall call = {c, *h, p, FALSE, FALSE, NULL};
    gsize skip = SV_FRAME_MIN + (h->type == SV_NET_CALL_WITH_FDS ? 4 : 0);
    const guint8 *payload = frame + skip;
    gsize plen = len - skip;
    ArgBuf args, ret;
    gboolean ok;

    if (!p) {
        reply_error(c, h, error);
        return;
    }
    if (!sv_proc_has_handler(p, prog->handlers)) {
        relay_call(prog, &call, frame, len, fds); /* admitted without one: relayed */
        return;
    }
    memset(&args, 0, p->args_size);
    memset(&ret, 0, p->ret_size);
    if (!sv_xdr_decode(payload, plen, p->args_filter, &args, &error)) {
        reply_error(c, h, error);
        return;
    }
    if (c->readonly && prog->hooks->readonly_check &&
        !prog->hooks->readonly_check(&call, p, &args, &error)) {
        reply_error(c, h, error);
        xdr_free(p->args_filter, (char *)&args);
        return;
    }
    if ((p->flags & SV_PROC_OPEN) && prog->hooks->on_open)
        prog->hooks->on_open(&call, &args);
    accept_fds(&call, fds);
    ok = p->invoke(prog->handlers, &call, &args, &ret, &error);
    if (!ok) {
        if (!error)
            sv_error_set_literal(&error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                                 "Library function returned error but did not set virError");
        reply_error(c, h, error);
    } else if (!call.deferred) {
        reply_ok(&call, &ret);
    }
    call_fds_free(&call);
    xdr_free(p->args_filter, (char *)&args);
    xdr_free(p->ret_filter, (char *)&ret);
}

/* A client over a limit: its first call is answered with why, then it goes. */
static void
dispatch_refused(SvClient *c, const SvHeader *h)
{
    if (h->type != SV_NET_CALL && h->type != SV_NET_CALL_WITH_FDS)
        return;
    reply_error(c, h, c->refusal);
    sv_client_close_after_flush(c);
}

static void
dispatch_relay(SvClient *c, const SvHeader *h, const guint8 *frame, gsize len, SvFrameFds *fds)
{
    g_autofree guint8 *copy = NULL;

    if (h->type == SV_NET_CALL_WITH_FDS) {
        sv_frame_fds_clear(fds);
        copy = strip_fd_count(frame, len, &len);
        frame = copy;
    }
    c->relay_fn(c, frame, len, c->relay_data);
}

/* A STREAM frame of a relayed call (a storage volume's upload) goes where the call went. */
static gboolean
relay_stream(SvClient *c, const SvHeader *h, const guint8 *frame, gsize len)
{
    const SvServerProgram *prog = sv_server_find_program(c->srv, h->prog, h->vers);

    return prog && prog->hooks->relay_stream &&
           prog->hooks->relay_stream(prog->data, c, frame, len);
}

void
sv_dispatch_frame(SvClient *c, const guint8 *frame, gsize len, SvFrameFds *fds)
{
    SvHeader h;
    const guint8 *payload = frame + SV_FRAME_MIN;
    gsize plen = len - SV_FRAME_MIN;

    sv_header_decode(frame + SV_FRAME_LEN_SIZE, &h);
    c->ka_rx = TRUE;
    if (c->refusal) {
        dispatch_refused(c, &h);
        return;
    }
    if (c->relay_fn && !(h.type == SV_NET_MESSAGE && h.prog == SV_KEEPALIVE_PROGRAM)) {
        dispatch_relay(c, &h, frame, len, fds);
        return;
    }
    switch (h.type) {
    case SV_NET_CALL:
    case SV_NET_CALL_WITH_FDS: /* its count was read by fdpass.c; the arguments follow it */
        dispatch_call(c, &h, frame, len, fds);
        break;
    case SV_NET_MESSAGE:
        if (h.prog == SV_KEEPALIVE_PROGRAM && h.proc == SV_KEEPALIVE_PROC_PING)
            sv_client_send_keepalive(c, SV_KEEPALIVE_PROC_PONG);
        /* PONG only proves the peer alive; other MESSAGEs from clients mean nothing. */
        break;
    case SV_NET_STREAM:
    case SV_NET_STREAM_HOLE:
        if (relay_stream(c, &h, frame, len))
            break;
        if (c->stream_fn)
            c->stream_fn(c, &h, payload, plen, c->stream_data);
        break;
    default:
        /* Replies from a client break the protocol: the bytes that follow cannot be
         * trusted, so the connection ends. */
        g_message("client %" G_GUINT64_FORMAT ": unexpected message type %u, closing", c->id,
                  h.type);
        sv_client_close(c, "unexpected message type");
        break;
    }
}
