/* stream.h: libvirt's data streams (virsh console) on one connection: STREAM messages
 * bound to the (prog, vers, proc, serial) of the call that opened them. */
#pragma once

#include "rpc/server.h"

typedef struct SvStream SvStream;

typedef struct {
    /* Data from the client (raw bytes, never acknowledged). */
    void (*recv)(SvStream *st, const guint8 *data, gsize len, gpointer user);
    /* The client finished (OK) or aborted (ERROR) the stream, or went away:
     * the stream is closed and freed right after this returns. */
    void (*closed)(SvStream *st, gboolean aborted, gpointer user);
    /* A hole of `length` bytes from the client (a sparse stream's HOLE message); NULL: the
     * stream is not sparse and holes are dropped. */
    void (*hole)(SvStream *st, gint64 length, gpointer user);
    /* The client finished (OK): with this set, the stream stays open until
     * sv_stream_finish_done() answers the finish (closed() is then not called for it), so
     * that a consumer still writing can report its failure as libvirt's fdstream does at
     * finish; NULL: the finish is acknowledged at once and closed() called. */
    void (*finish)(SvStream *st, gpointer user);
} SvStreamCallbacks;

/* A stream for the call being handled (use before replying to it). */
SvStream *sv_stream_new(SvCall *call, const SvStreamCallbacks *cb, gpointer user);

/* Send data (split into messages of at most 262120 bytes). */
void sv_stream_send(SvStream *st, const guint8 *data, gsize len);

/* A hole of `length` bytes (a sparse stream's HOLE message, flags 0). */
void sv_stream_send_hole(SvStream *st, gint64 length);

/* End of data from our side: an empty CONTINUE. The client then finishes. */
void sv_stream_send_eof(SvStream *st);

/* Answer a client's finish held by the finish() callback: OK, or the error; the stream is
 * closed and freed. */
void sv_stream_finish_done(SvStream *st, const GError *error);

/* Fail the stream: a STREAM ERROR with the error payload; the stream is then
 * closed on our side and freed (closed() is not called). */
void sv_stream_abort(SvStream *st, const GError *error);

/* Whether the client is keeping up: no more than `limit` bytes queued to it. */
gboolean sv_stream_can_send(SvStream *st, gsize limit);

/* Call fn once, when the client has caught up (its output queue drained below half the
 * mark at which the server stops reading its calls): for a producer that stopped on
 * sv_stream_can_send(). fn NULL cancels; the wait ends with the stream. */
typedef void (*SvStreamDrainedFunc)(SvStream *st, gpointer data);
void sv_stream_when_drained(SvStream *st, SvStreamDrainedFunc fn, gpointer data);

SvClient *sv_stream_get_client(SvStream *st);
