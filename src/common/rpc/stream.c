/* stream.c: server side of libvirt streams. */
#include "rpc/stream.h"

#include "protocol/sv_net.h"
#include "util/error.h"

#define CHUNK_MAX 262120 /* VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX: what libvirtd sends at most */

struct SvStream {
    SvClient *client; /* not a reference: the stream never outlives its connection */
    SvHeader hdr;
    SvStreamCallbacks cb;
    gpointer user;
    SvStreamDrainedFunc drained; /* a producer waiting for the client to catch up */
    gboolean finishing;          /* the client's finish waits for sv_stream_finish_done() */
    gpointer drained_data;
};

static void
stream_remove(SvStream *st)
{
    GList **l = sv_client_streams(st->client);

    *l = g_list_remove(*l, st);
    g_free(st);
}

static void
on_client_closed(SvClient *c, gpointer data)
{
    GList **l = sv_client_streams(c);

    (void)data;
    while (*l) {
        SvStream *st = (*l)->data;
        if (st->cb.closed)
            st->cb.closed(st, TRUE, st->user);
        stream_remove(st);
    }
}

static void
send_status(SvStream *st, guint32 status)
{
    SvHeader h = st->hdr;

    h.type = SV_NET_STREAM;
    h.status = status;
    sv_client_send(st->client, sv_msg_new_raw(&h, NULL, 0));
}

/* A HOLE (sv_net_stream_hole: hyper length, unsigned int flags) from a client: to the
 * stream's hole callback; dropped by a stream that takes none (not a sparse one). */
static void
on_hole(SvStream *st, const SvHeader *h, const guint8 *payload, gsize len)
{
    guint64 length = 0;

    if (!st->cb.hole || h->status != SV_NET_CONTINUE || len != 12)
        return;
    for (int i = 0; i < 8; i++)
        length = (length << 8) | payload[i];
    if ((gint64)length < 0)
        return;
    st->cb.hole(st, (gint64)length, st->user);
}

static void
on_stream_message(SvClient *c, const SvHeader *h, const guint8 *payload, gsize len, gpointer data)
{
    GList **l = sv_client_streams(c);
    SvStream *st = NULL;

    (void)data;
    for (GList *it = *l; it; it = it->next) {
        SvStream *s = it->data;
        if (s->hdr.prog == h->prog && s->hdr.vers == h->vers && s->hdr.proc == h->proc &&
            s->hdr.serial == h->serial) {
            st = s;
            break;
        }
    }
    if (!st || st->finishing)
        return; /* unmatched, or after a finish: dropped, as libvirt does */
    if (h->type == SV_NET_STREAM_HOLE) {
        on_hole(st, h, payload, len);
        return;
    }
    if (h->type != SV_NET_STREAM)
        return;
    switch (h->status) {
    case SV_NET_CONTINUE:
        if (st->cb.recv)
            st->cb.recv(st, payload, len, st->user);
        break;
    case SV_NET_OK: /* finish */
        if (st->cb.finish) {
            st->finishing = TRUE;
            st->cb.finish(st, st->user); /* answered by sv_stream_finish_done() */
            break;
        }
        /* fall through */
    case SV_NET_ERROR: /* abort */
        send_status(st, SV_NET_OK);
        if (st->cb.closed)
            st->cb.closed(st, h->status == SV_NET_ERROR, st->user);
        stream_remove(st);
        break;
    default: {
        g_autoptr(GError) error = NULL;
        sv_error_set(&error, SV_FROM_STREAMS, SV_ERR_RPC,
                     "stream aborted with unexpected status %u", h->status);
        sv_stream_abort(st, error);
        break;
    }
    }
}

SvStream *
sv_stream_new(SvCall *call, const SvStreamCallbacks *cb, gpointer user)
{
    SvStream *st = g_new0(SvStream, 1);
    SvClient *c = sv_call_get_client(call);
    GList **l = sv_client_streams(c);

    st->client = c;
    st->hdr = *sv_call_get_header(call);
    st->cb = *cb;
    st->user = user;
    if (!*l) {
        sv_client_set_stream_handler(c, on_stream_message, NULL);
        sv_client_remove_close_notify(c, on_client_closed, NULL);
        sv_client_add_close_notify(c, on_client_closed, NULL);
    }
    *l = g_list_append(*l, st);
    return st;
}

void
sv_stream_send(SvStream *st, const guint8 *data, gsize len)
{
    SvHeader h = st->hdr;

    h.type = SV_NET_STREAM;
    h.status = SV_NET_CONTINUE;
    while (len > 0) {
        gsize n = MIN(len, CHUNK_MAX);
        if (!sv_client_send(st->client, sv_msg_new_raw(&h, data, n)))
            return;
        data += n;
        len -= n;
    }
}

void
sv_stream_send_hole(SvStream *st, gint64 length)
{
    SvHeader h = st->hdr;
    guint8 p[12] = {0};

    h.type = SV_NET_STREAM_HOLE;
    h.status = SV_NET_CONTINUE;
    for (int i = 0; i < 8; i++)
        p[i] = (guint8)((guint64)length >> (56 - 8 * i));
    sv_client_send(st->client, sv_msg_new_raw(&h, p, sizeof(p)));
}

void
sv_stream_send_eof(SvStream *st)
{
    send_status(st, SV_NET_CONTINUE);
}

void
sv_stream_finish_done(SvStream *st, const GError *error)
{
    if (error) {
        sv_stream_abort(st, error);
        return;
    }
    send_status(st, SV_NET_OK);
    stream_remove(st);
}

void
sv_stream_abort(SvStream *st, const GError *error)
{
    SvHeader h = st->hdr;

    h.type = SV_NET_STREAM;
    sv_client_send(st->client, sv_msg_encode_error(&h, error));
    stream_remove(st);
}

gboolean
sv_stream_can_send(SvStream *st, gsize limit)
{
    return sv_client_get_output_bytes(st->client) <= limit;
}

SvClient *
sv_stream_get_client(SvStream *st)
{
    return st->client;
}

/* The connection's output queue drained: every stream of it waiting for that goes on. */
static void
on_client_drained(SvClient *c, gpointer data)
{
    g_autoptr(GPtrArray) waiting = g_ptr_array_new();

    (void)data;
    for (GList *it = *sv_client_streams(c); it; it = it->next) {
        SvStream *st = it->data;
        if (st->drained)
            g_ptr_array_add(waiting, st);
    }
    /* Each callback may only resume its producer; none removes a stream. */
    for (guint i = 0; i < waiting->len; i++) {
        SvStream *st = waiting->pdata[i];
        SvStreamDrainedFunc fn = st->drained;

        st->drained = NULL;
        fn(st, st->drained_data);
    }
}

void
sv_stream_when_drained(SvStream *st, SvStreamDrainedFunc fn, gpointer data)
{
    st->drained = fn;
    st->drained_data = data;
    if (fn)
        sv_client_set_drain_func(st->client, on_client_drained, NULL);
}
