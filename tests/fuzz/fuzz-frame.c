/* fuzz-frame.c: libFuzzer harness for the frame reader (frame.c) and message decoding
 * (message.c): the input is a byte stream as a peer sends it, fed in pieces.
 *
 * Input: byte 0 picks the piece size (1..256 bytes, so split length words and headers
 * are covered); the rest is the stream. Every frame the reader returns is checked
 * (length word, bounds), its header decoded and re-encoded, and its payload decoded the
 * way a peer would: an error payload into a GError, any other with the XDR filter the
 * remote program's table names for that procedure (arguments of a CALL, return value of
 * a REPLY). What decodes is encoded again and must then decode and encode to the same
 * bytes. */
#include <string.h>

#include "protocol/remote_dispatch.h"
#include "protocol/sv_net.h"
#include "rpc/frame.h"
#include "rpc/message.h"
#include "util/error.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

/* Reader limit: small, so the "too large" path is reachable with short inputs. */
#define FUZZ_MAX_MESSAGE (256 * 1024)

typedef union {
    guint8 b[512];
    gint64 align;
    void *p;
} ObjBuf;

/* Decode with filter; encode; decode and encode again: both encodings must match. */
static void
check_xdr_round_trip(const guint8 *payload, gsize len, xdrproc_t filter, guint size)
{
    SvHeader h = {REMOTE_PROGRAM, 1, 0, SV_NET_REPLY, 0, SV_NET_OK};
    ObjBuf obj, again;
    g_autofree SvMsg *m1 = NULL;
    g_autofree SvMsg *m2 = NULL;

    g_assert(size <= sizeof(obj.b));
    memset(&obj, 0, sizeof(obj));
    if (!sv_xdr_decode(payload, len, filter, &obj, NULL))
        return;
    m1 = sv_msg_encode(&h, filter, &obj, NULL);
    xdr_free(filter, (char *)&obj);
    if (!m1)
        return; /* decodable but not encodable: e.g. over the encode limit */
    memset(&again, 0, sizeof(again));
    g_assert(sv_xdr_decode(m1->data + SV_FRAME_MIN, m1->len - SV_FRAME_MIN, filter, &again,
                           NULL));
    m2 = sv_msg_encode(&h, filter, &again, NULL);
    xdr_free(filter, (char *)&again);
    g_assert(m2);
    g_assert(m1->len == m2->len && memcmp(m1->data, m2->data, m1->len) == 0);
}

/* An error payload: rebuild the GError, send it back out, read it again. */
static void
check_error_payload(const SvHeader *h, const guint8 *payload, gsize len)
{
    g_autoptr(GError) e = sv_error_from_payload(payload, len);
    g_autoptr(GError) e2 = NULL;
    g_autofree SvMsg *m = NULL;

    g_assert(e);
    m = sv_msg_encode_error(h, e);
    e2 = sv_error_from_payload(m->data + SV_FRAME_MIN, m->len - SV_FRAME_MIN);
    g_assert(e2->code == e->code && e2->domain == e->domain);
    g_assert(g_strcmp0(e2->message, e->message) == 0);
}

static void
check_frame(const guint8 *frame, gsize len)
{
    const guint8 *payload = frame + SV_FRAME_MIN;
    gsize plen = len - SV_FRAME_MIN;
    guint8 hdr[SV_FRAME_HEADER_SIZE];
    const SvProcInfo *p;
    SvHeader h;

    g_assert(len >= SV_FRAME_MIN && len - SV_FRAME_LEN_SIZE <= FUZZ_MAX_MESSAGE);
    g_assert(sv_be32(frame) == len);
    sv_header_decode(frame + SV_FRAME_LEN_SIZE, &h);
    sv_header_encode(hdr, &h);
    g_assert(memcmp(hdr, frame + SV_FRAME_LEN_SIZE, sizeof(hdr)) == 0);

    if (h.status == SV_NET_ERROR) {
        check_error_payload(&h, payload, plen);
        return;
    }
    if (h.prog != REMOTE_PROGRAM)
        return;
    p = sv_program_info_lookup(&sv_remote_handlers_info, h.proc);
    if (!p)
        return;
    /* Events (MESSAGEs) carry their data where calls carry arguments. */
    if (h.type == SV_NET_CALL || (h.type == SV_NET_MESSAGE && (p->flags & SV_PROC_MSG)))
        check_xdr_round_trip(payload, plen, p->args_filter, p->args_size);
    else if (h.type == SV_NET_REPLY)
        check_xdr_round_trip(payload, plen, p->ret_filter, p->ret_size);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
    g_autoptr(SvFrameReader) r = sv_frame_reader_new(FUZZ_MAX_MESSAGE);
    g_autoptr(GError) error = NULL;
    gsize step, off = 0, taken = 0;

    if (size < 1)
        return 0;
    step = (gsize)data[0] + 1;
    data++;
    size--;

    while (off < size && !error) {
        gsize space_len, n, flen;
        guint8 *space = sv_frame_reader_space(r, &space_len);
        const guint8 *frame;

        g_assert(space_len >= 1);
        n = MIN(MIN(step, space_len), size - off);
        memcpy(space, data + off, n);
        sv_frame_reader_commit(r, n);
        off += n;
        while ((frame = sv_frame_reader_next(r, &flen, &error))) {
            /* Frames come out in order, exactly as they went in. */
            g_assert(memcmp(frame, data + taken, flen) == 0);
            taken += flen;
            check_frame(frame, flen);
        }
    }
    if (!error) {
        gsize rest;
        g_autofree guint8 *tail = NULL;

        g_assert(sv_frame_reader_pending(r) == size - taken);
        tail = sv_frame_reader_steal(r, &rest);
        g_assert(rest == size - taken);
        g_assert(rest == 0 || memcmp(tail, data + taken, rest) == 0);
        g_assert(sv_frame_reader_pending(r) == 0);
    }
    return 0;
}
