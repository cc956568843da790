/* qmp_reader.h: the QMP byte-stream reader, a pure state machine: bytes in, whole JSON
 * messages out. No sockets, so tests drive it directly. */
#pragma once

#include <glib.h>

typedef struct QmpReader QmpReader;

/* max_message bounds one JSON message; a longer one is an error. */
QmpReader *qmp_reader_new(gsize max_message);
void qmp_reader_free(QmpReader *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpReader, qmp_reader_free)

/* Feed bytes; each complete top-level JSON object is appended to `out` as a
 * string (transfer full). Bytes outside any object other than white space
 * are garbage: they are skipped up to the next '{' and counted. Returns FALSE
 * when a message passes the limit (the reader then resets). */
gboolean qmp_reader_feed(QmpReader *r, const char *data, gsize len, GPtrArray *out);

/* Garbage bytes skipped so far. */
gsize qmp_reader_garbage(const QmpReader *r);
