/* message.c: encoding of replies, errors and events into SvMsg buffers. */
#include "rpc/message.h"

#include <string.h>

#include "protocol/sv_net.h"
#include "util/error.h"

/* The loop is single-threaded, so one scratch buffer serves every encode;
 * the message is then copied out at its exact size. */
#define SCRATCH_SIZE (64 * 1024)
static guint8 scratch[SCRATCH_SIZE];

SvMsg *
sv_msg_alloc(gsize len)
{
    SvMsg *m = g_malloc(sizeof(SvMsg) + len);

    m->len = len;
    m->off = 0;
    m->fd = -1;
    return m;
}

SvMsg *
sv_msg_copy_frame(const guint8 *frame, gsize len)
{
    SvMsg *m = sv_msg_alloc(len);

    memcpy(m->data, frame, len);
    return m;
}

SvMsg *
sv_msg_new_fd(int fd)
{
    SvMsg *m = sv_msg_alloc(1);

    m->data[0] = 0;
    m->fd = fd;
    return m;
}

SvMsg *
sv_msg_with_fds(SvMsg *m, guint32 type, guint32 nfds)
{
    SvMsg *w = sv_msg_alloc(m->len + 4);
    SvHeader h;

    sv_header_decode(m->data + SV_FRAME_LEN_SIZE, &h);
    h.type = type;
    sv_put_be32(w->data, w->len);
    sv_header_encode(w->data + SV_FRAME_LEN_SIZE, &h);
    sv_put_be32(w->data + SV_FRAME_MIN, nfds);
    memcpy(w->data + SV_FRAME_MIN + 4, m->data + SV_FRAME_MIN, m->len - SV_FRAME_MIN);
    g_free(m);
    return w;
}

SvMsg *
sv_msg_encode(const SvHeader *h, xdrproc_t filter, void *obj, GError **error)
{
    gsize cap = SCRATCH_SIZE;
    guint8 *buf = scratch;
    g_autofree guint8 *big = NULL;

    for (;;) {
        XDR xdr;
        gboolean ok;
        guint len;
        SvMsg *m;

        xdrmem_create(&xdr, (char *)buf + SV_FRAME_MIN, cap - SV_FRAME_MIN, XDR_ENCODE);
        ok = filter(&xdr, obj, 0);
        len = xdr_getpos(&xdr);
        xdr_destroy(&xdr);
        if (ok) {
            m = sv_msg_alloc(SV_FRAME_MIN + len);
            sv_put_be32(m->data, m->len);
            sv_header_encode(m->data + SV_FRAME_LEN_SIZE, h);
            memcpy(m->data + SV_FRAME_MIN, buf + SV_FRAME_MIN, len);
            return m;
        }
        if (cap >= SV_MESSAGE_MAX + SV_FRAME_LEN_SIZE) {
            sv_error_set_literal(error, SV_FROM_RPC, SV_ERR_RPC,
                                 "Unable to encode message payload");
            return NULL;
        }
        cap = MIN(cap * 4, (gsize)SV_MESSAGE_MAX + SV_FRAME_LEN_SIZE);
        g_free(big);
        big = g_malloc(cap);
        buf = big;
    }
}

SvMsg *
sv_msg_new_raw(const SvHeader *h, const void *data, gsize len)
{
    SvMsg *m = sv_msg_alloc(SV_FRAME_MIN + len);

    sv_put_be32(m->data, m->len);
    sv_header_encode(m->data + SV_FRAME_LEN_SIZE, h);
    if (len)
        memcpy(m->data + SV_FRAME_MIN, data, len);
    return m;
}

SvMsg *
sv_msg_encode_error(const SvHeader *h, const GError *error)
{
    SvHeader eh = *h;
    sv_net_error e = {0};
    const SvErrorExtra *x = sv_error_get_extra(error);
    char *msg = error->message;
    SvMsg *m;

    eh.status = SV_NET_ERROR;
    if (x) {
        e.code = error->code;
        e.domain = sv_error_get_from(error);
        e.level = x->level;
        /* Encoding only reads through these pointers. */
        e.str1 = x->str1 ? (char **)&x->str1 : NULL;
        e.str2 = x->str2 ? (char **)&x->str2 : NULL;
        e.str3 = x->str3 ? (char **)&x->str3 : NULL;
        e.int1 = x->int1;
        e.int2 = x->int2;
    } else {
        /* A foreign GError (GLib, GIO): report it as libvirt reports an internal fault. */
        e.code = SV_ERR_INTERNAL_ERROR;
        e.domain = SV_FROM_RPC;
        e.level = 2;
        e.int1 = e.int2 = -1;
    }
    e.message = &msg;
    m = sv_msg_encode(&eh, (xdrproc_t)xdr_sv_net_error, &e, NULL);
    g_assert(m); /* an error payload is far below the limit unless its text is absurd */
    return m;
}

gboolean
sv_xdr_decode(const guint8 *payload, gsize len, xdrproc_t filter, void *obj, GError **error)
{
    XDR xdr;
    gboolean ok;

    xdrmem_create(&xdr, (char *)payload, len, XDR_DECODE);
    ok = filter(&xdr, obj, 0);
    xdr_destroy(&xdr);
    if (!ok) {
        xdr_free(filter, obj);
        sv_error_set_literal(error, SV_FROM_RPC, SV_ERR_RPC, "Unable to decode message payload");
        return FALSE;
    }
    return TRUE;
}

GError *
sv_error_from_payload(const guint8 *payload, gsize len)
{
    sv_net_error e = {0};
    GError *err;

    if (!sv_xdr_decode(payload, len, (xdrproc_t)xdr_sv_net_error, &e, NULL))
        return sv_error_new_full(SV_FROM_RPC, SV_ERR_RPC, "Unable to decode error payload", 2, NULL,
                                 NULL, NULL, -1, -1);
    err = sv_error_new_full(e.domain, e.code, e.message ? *e.message : NULL, e.level,
                            e.str1 ? *e.str1 : NULL, e.str2 ? *e.str2 : NULL,
                            e.str3 ? *e.str3 : NULL, e.int1, e.int2);
    xdr_free((xdrproc_t)xdr_sv_net_error, (char *)&e);
    return err;
}
