/* sasl_layer.c: a SASL security layer under a server connection (sasl_layer.h). */
#include "rpc/sasl_layer.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define RAW_READ 16384 /* encoded bytes taken from the socket at once */

struct SvSaslLayer {
    SvSaslSession *s;
    gsize max_out;   /* plaintext per encoded block */
    GByteArray *out; /* encoded, not yet written */
    GByteArray *in;  /* decoded, not yet taken */
};

SvSaslLayer *
sv_sasl_layer_new(SvSaslSession *s)
{
    SvSaslLayer *l = g_new0(SvSaslLayer, 1);

    l->s = sv_sasl_session_ref(s);
    l->max_out = sv_sasl_session_max_out(s);
    l->out = g_byte_array_new();
    l->in = g_byte_array_new();
    return l;
}

void
sv_sasl_layer_free(SvSaslLayer *l)
{
    if (!l)
        return;
    sv_sasl_session_unref(l->s);
    g_byte_array_unref(l->out);
    g_byte_array_unref(l->in);
    g_free(l);
}

gboolean
sv_sasl_layer_unflushed(SvSaslLayer *l)
{
    return l->out->len > 0;
}

int
sv_sasl_layer_flush(SvSaslLayer *l, int fd)
{
    while (l->out->len) {
        ssize_t w = write(fd, l->out->data, l->out->len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        g_byte_array_remove_range(l->out, 0, (guint)w);
    }
    return 0;
}

gssize
sv_sasl_layer_writev(SvSaslLayer *l, int fd, const struct iovec *iov, int n)
{
    g_autoptr(GByteArray) plain = g_byte_array_new();
    g_autoptr(GError) error = NULL;

    if (sv_sasl_layer_flush(l, fd) < 0)
        return -1;
    for (int i = 0; i < n && plain->len < l->max_out; i++)
        g_byte_array_append(plain, iov[i].iov_base,
                            (guint)MIN(iov[i].iov_len, l->max_out - plain->len));
    if (!sv_sasl_session_encode(l->s, plain->data, plain->len, l->out, &error)) {
        g_debug("%s", error->message);
        errno = EPROTO;
        return -1;
    }
    /* The plaintext is taken either way: what the socket does not take now waits here. */
    if (sv_sasl_layer_flush(l, fd) < 0 && errno != EAGAIN)
        return -1;
    return (gssize)plain->len;
}

gssize
sv_sasl_layer_recv(SvSaslLayer *l, int fd, void *buf, gsize len)
{
    gsize take;

    if (!l->in->len) {
        guint8 raw[RAW_READ];
        g_autoptr(GError) error = NULL;
        ssize_t n = read(fd, raw, sizeof(raw));

        if (n <= 0)
            return n;
        if (!sv_sasl_session_decode(l->s, raw, (gsize)n, l->in, &error)) {
            g_debug("%s", error->message);
            errno = EPROTO;
            return -1;
        }
        if (!l->in->len) {
            errno = EAGAIN; /* a block not yet whole: the rest is on its way */
            return -1;
        }
    }
    take = MIN(len, l->in->len);
    memcpy(buf, l->in->data, take);
    g_byte_array_remove_range(l->in, 0, (guint)take);
    return (gssize)take;
}

gsize
sv_sasl_layer_pending(SvSaslLayer *l)
{
    return l->in->len;
}
