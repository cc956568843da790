/* message.h: encoded outgoing messages and the XDR helpers around them. */
#pragma once

#include <glib.h>
#include <rpc/rpc.h>

#include "rpc/frame.h"

/* One whole message ready for the wire, length word included. */
typedef struct SvMsg {
    gsize len;
    gsize off; /* bytes already written */
    int fd;    /* sent (SCM_RIGHTS) with the message's one byte, then closed; -1: none */
    guint8 data[];
} SvMsg;

/* A message of len bytes, no descriptor, data for the caller to fill. */
SvMsg *sv_msg_alloc(gsize len);

/* A copy of a whole frame (length word included). */
SvMsg *sv_msg_copy_frame(const guint8 *frame, gsize len);

/* libvirt's carrier of a descriptor after a *_WITH_FDS message: one 0x00 byte sent with fd
 * (transfer full). */
SvMsg *sv_msg_new_fd(int fd);

/* The same message as `m` (consumed) with type `type` and the descriptor count nfds after the
 * header, as libvirt frames *_WITH_FDS messages. */
SvMsg *sv_msg_with_fds(SvMsg *m, guint32 type, guint32 nfds);

/* Header + XDR-encoded obj (filter may be xdr_void). NULL with error when
 * the payload does not encode or exceeds the message limit. */
SvMsg *sv_msg_encode(const SvHeader *h, xdrproc_t filter, void *obj, GError **error);

/* Header + raw payload bytes (stream data). */
SvMsg *sv_msg_new_raw(const SvHeader *h, const void *data, gsize len);

/* Header with status ERROR and the error payload built from `error`. */
SvMsg *sv_msg_encode_error(const SvHeader *h, const GError *error);

/* Decode `len` payload bytes with filter into obj (zeroed by the caller). */
gboolean sv_xdr_decode(const guint8 *payload, gsize len, xdrproc_t filter, void *obj,
                       GError **error);

/* Rebuild a GError from an error payload. */
GError *sv_error_from_payload(const guint8 *payload, gsize len);
