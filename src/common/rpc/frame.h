/* frame.h: message framing: the 24-byte header and a pure reader turning bytes into frames. */
#pragma once

#include <glib.h>

#define SV_FRAME_LEN_SIZE 4
#define SV_FRAME_HEADER_SIZE 24
#define SV_FRAME_MIN (SV_FRAME_LEN_SIZE + SV_FRAME_HEADER_SIZE)
#define SV_MESSAGE_MAX 33554432u /* header + payload, without the length word */

typedef struct {
    guint32 prog;
    guint32 vers;
    gint32 proc;
    guint32 type;
    guint32 serial;
    guint32 status;
} SvHeader;

/* Decode/encode the header at p (the bytes right after the length word). */
void sv_header_decode(const guint8 *p, SvHeader *h);
void sv_header_encode(guint8 *p, const SvHeader *h);

static inline guint32
sv_be32(const guint8 *p)
{
    return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static inline void
sv_put_be32(guint8 *p, guint32 v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* The frame reader: bytes in, whole frames out, no I/O. The caller receives
 * into sv_frame_reader_space(), commits what arrived, then takes frames with
 * sv_frame_reader_next() until it returns NULL. */
typedef struct SvFrameReader SvFrameReader;

/* max_message bounds header + payload (SV_MESSAGE_MAX at most). */
SvFrameReader *sv_frame_reader_new(gsize max_message);
void sv_frame_reader_free(SvFrameReader *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvFrameReader, sv_frame_reader_free)

/* Where to put the next bytes; *size is at least 1. The buffer grows with the
 * bytes received, never ahead to a length word's promise. (transfer none) */
guint8 *sv_frame_reader_space(SvFrameReader *r, gsize *size);

/* Account for n bytes written into the space. */
void sv_frame_reader_commit(SvFrameReader *r, gsize n);

/* The next complete frame (length word included), valid until the next call
 * on the reader; NULL when none is complete yet or on error (then *error is
 * set: length under 28 or over the limit; the stream cannot be resynced). */
const guint8 *sv_frame_reader_next(SvFrameReader *r, gsize *len, GError **error);

/* The same frame without taking it: it stays first until consumed. The pointer
 * stays valid across sv_frame_reader_consume(), until the next space() or free. */
const guint8 *sv_frame_reader_peek(SvFrameReader *r, gsize *len, GError **error);

/* Drop n buffered bytes (n <= pending) from the front: a peeked frame, or bytes
 * that follow a frame outside the framing (the dummy bytes of descriptors). */
void sv_frame_reader_consume(SvFrameReader *r, gsize n);

/* Take every byte buffered and not yet returned as a frame. (transfer full) */
guint8 *sv_frame_reader_steal(SvFrameReader *r, gsize *len);

/* Bytes buffered but not yet returned as frames. */
gsize sv_frame_reader_pending(const SvFrameReader *r);
