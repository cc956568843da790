/* sasl_layer.h: a SASL security layer under a server connection (libvirt's, for a mechanism
 * that agreed one over plain TCP, DIGEST-MD5 or GSSAPI): every byte after the negotiation's
 * last reply goes out encoded in blocks and comes in decoded. The same shape as a TLS
 * session's I/O (tls.h), for connection.c. */
#pragma once

#include <glib.h>
#include <sys/uio.h>

#include "rpc/sasl.h"

typedef struct SvSaslLayer SvSaslLayer;

/* A layer over the session that negotiated it (a reference is taken). */
SvSaslLayer *sv_sasl_layer_new(SvSaslSession *s);
void sv_sasl_layer_free(SvSaslLayer *l);

/* Take up to one block of plaintext from iov, encoded and written as far as fd takes it
 * now: the plaintext bytes taken, or -1 with errno (EAGAIN: an earlier block still waits
 * for the socket). */
gssize sv_sasl_layer_writev(SvSaslLayer *l, int fd, const struct iovec *iov, int n);
/* Whether encoded bytes wait for the socket, and write them: 0 when all went, -1 with
 * errno (EAGAIN: not all). */
gboolean sv_sasl_layer_unflushed(SvSaslLayer *l);
int sv_sasl_layer_flush(SvSaslLayer *l, int fd);

/* Up to len decoded bytes: those left from an earlier read, else what one read of fd
 * completes; 0 at end of file, -1 with errno (EAGAIN: no whole block yet; EPROTO: the
 * peer's data did not decode). */
gssize sv_sasl_layer_recv(SvSaslLayer *l, int fd, void *buf, gsize len);
/* Decoded bytes not taken yet: no readiness of the socket announces them. */
gsize sv_sasl_layer_pending(SvSaslLayer *l);
