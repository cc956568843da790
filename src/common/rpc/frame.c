/* frame.c: the pure frame reader. */
#include "rpc/frame.h"

#include <string.h>

#include "util/error.h"

#define INITIAL_CAP 4096
#define SHRINK_ABOVE (256 * 1024)

struct SvFrameReader {
    guint8 *buf;
    gsize cap;
    gsize start; /* first byte not yet returned */
    gsize end;   /* one past the last byte received */
    gsize max_message;
};

void
sv_header_decode(const guint8 *p, SvHeader *h)
{
    h->prog = sv_be32(p);
    h->vers = sv_be32(p + 4);
    h->proc = (gint32)sv_be32(p + 8);
    h->type = sv_be32(p + 12);
    h->serial = sv_be32(p + 16);
    h->status = sv_be32(p + 20);
}

void
sv_header_encode(guint8 *p, const SvHeader *h)
{
    sv_put_be32(p, h->prog);
    sv_put_be32(p + 4, h->vers);
    sv_put_be32(p + 8, (guint32)h->proc);
    sv_put_be32(p + 12, h->type);
    sv_put_be32(p + 16, h->serial);
    sv_put_be32(p + 20, h->status);
}

SvFrameReader *
sv_frame_reader_new(gsize max_message)
{
    SvFrameReader *r = g_new0(SvFrameReader, 1);

    r->max_message = MIN(max_message, SV_MESSAGE_MAX);
    return r;
}

void
sv_frame_reader_free(SvFrameReader *r)
{
    if (!r)
        return;
    g_free(r->buf);
    g_free(r);
}

guint8 *
sv_frame_reader_steal(SvFrameReader *r, gsize *len)
{
    /* Nothing received yet leaves buf NULL, and NULL + 0 is undefined. */
    guint8 *out = r->end > r->start ? g_memdup2(r->buf + r->start, r->end - r->start) : NULL;

    *len = r->end - r->start;
    r->start = r->end = 0;
    return out;
}

gsize
sv_frame_reader_pending(const SvFrameReader *r)
{
    return r->end - r->start;
}

/* Room kept free at the end of the buffer for one receive. */
#define MIN_ROOM 512

guint8 *
sv_frame_reader_space(SvFrameReader *r, gsize *size)
{
    gsize have = r->end - r->start;

    if (have == 0) {
        r->start = r->end = 0;
        if (r->cap > SHRINK_ABOVE) {
            g_free(r->buf);
            r->buf = NULL;
            r->cap = 0;
        }
    }
    /* The buffer grows with the bytes that actually arrived, never with what a length
     * word announces: a peer that promises 32 MiB and sends 28 bytes costs 4 KiB. */
    if (r->cap - r->end < MIN_ROOM) {
        if (r->start > 0 && have <= r->cap / 2) {
            /* Half the buffer or more is consumed frames: reuse it. */
            memmove(r->buf, r->buf + r->start, have);
            r->start = 0;
            r->end = have;
        } else {
            gsize cap = MAX(r->cap * 2, INITIAL_CAP);
            r->buf = g_realloc(r->buf, cap);
            r->cap = cap;
        }
    }
    *size = r->cap - r->end;
    return r->buf + r->end;
}

void
sv_frame_reader_commit(SvFrameReader *r, gsize n)
{
    g_assert(n <= r->cap - r->end);
    r->end += n;
}

const guint8 *
sv_frame_reader_peek(SvFrameReader *r, gsize *len, GError **error)
{
    gsize have = r->end - r->start;
    guint32 flen;

    if (have < SV_FRAME_LEN_SIZE)
        return NULL;
    flen = sv_be32(r->buf + r->start);
    if (flen < SV_FRAME_MIN) {
        sv_error_set_literal(error, SV_FROM_RPC, SV_ERR_RPC,
                             "packet %u bytes received from client too small", flen);
        return NULL;
    }
    if (flen - SV_FRAME_LEN_SIZE > r->max_message) {
        sv_error_set_literal(error, SV_FROM_RPC, SV_ERR_RPC,
                             "packet %u bytes received from client too large, want %zu", flen,
                             r->max_message);
        return NULL;
    }
    if (have < flen)
        return NULL;
    *len = flen;
    return r->buf + r->start;
}

void
sv_frame_reader_consume(SvFrameReader *r, gsize n)
{
    g_assert(n <= r->end - r->start);
    r->start += n;
}

const guint8 *
sv_frame_reader_next(SvFrameReader *r, gsize *len, GError **error)
{
    const guint8 *frame = sv_frame_reader_peek(r, len, error);

    if (frame)
        sv_frame_reader_consume(r, *len);
    return frame;
}
