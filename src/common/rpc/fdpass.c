/* fdpass.c: descriptors a client sends (SCM_RIGHTS) and the CALL_WITH_FDS framing that
 * claims them.
 *
 * libvirt's framing (sv_net.x): a CALL_WITH_FDS message has a u32 count after the
 * header; after the message, each descriptor comes in its own sendmsg with one 0x00
 * byte. On a stream socket the kernel hands a descriptor over with the last byte of
 * the recvmsg that brings it (a read ends after a buffer that carries descriptors), so
 * each descriptor is noted with the stream position of that byte (a "mark"). When
 * the frame reader yields a CALL_WITH_FDS message, its dummy bytes are the positions
 * right after it, and each must carry one descriptor, as libvirt requires.
 *
 * A connection keeps at most as many descriptors as the procedures served on it can
 * take (one, today: ADOPT_CLIENT), and a read-only or refused connection none: any
 * other is closed on arrival. Those kept are closed as soon as the bytes received are
 * processed and no message waiting for its dummy bytes announced them. */
#include <string.h>
#include <unistd.h>

#include "rpc/server-internal.h"
#include "util/error.h"

typedef struct {
    guint64 pos; /* stream position of the byte the descriptor came with */
    int fd;      /* -1: closed on arrival */
} SvFdMark;

void
sv_frame_fds_clear(SvFrameFds *fds)
{
    for (guint i = 0; i < fds->n; i++) {
        if (fds->fd[i] >= 0)
            close(fds->fd[i]);
    }
    fds->n = 0;
}

static guint
marks_kept(SvClient *c)
{
    guint n = 0;

    for (guint i = 0; c->marks && i < c->marks->len; i++)
        n += g_array_index(c->marks, SvFdMark, i).fd >= 0;
    return n;
}

static void
close_cmsg_fds(struct msghdr *msg)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        for (gsize i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            close(fd);
        }
    }
}

gboolean
sv_fdpass_received(SvClient *c, struct msghdr *msg, gsize n, GError **error)
{
    guint keep = (c->readonly || c->refusal) ? 0 : c->srv->max_call_fds;
    guint64 pos = c->rx_pos + n - 1;

    if (msg->msg_flags & MSG_CTRUNC) {
        /* The kernel dropped descriptors that did not fit: no message can be whole. */
        close_cmsg_fds(msg);
        sv_error_set_literal(error, SV_FROM_RPC, SV_ERR_RPC,
                             "more descriptors received than a message may carry");
        return FALSE;
    }
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        for (gsize i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            SvFdMark m = {pos, -1};
            memcpy(&m.fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (marks_kept(c) >= keep) {
                close(m.fd);
                m.fd = -1;
            }
            if (!c->marks)
                c->marks = g_array_new(FALSE, FALSE, sizeof(SvFdMark));
            g_array_append_val(c->marks, m);
        }
    }
    /* A message carries at most SV_NET_NUM_FDS_MAX, and a message is processed as soon
     * as its dummy bytes are in: more waiting means a peer that is not framing them. */
    if (c->marks && c->marks->len > SV_NET_NUM_FDS_MAX) {
        sv_error_set_literal(error, SV_FROM_RPC, SV_ERR_RPC,
                             "more descriptors received than a message may carry");
        return FALSE;
    }
    return TRUE;
}

/* Take the descriptor that came with the byte at pos. */
static gboolean
claim(SvClient *c, guint64 pos, int *out_fd, GError **error)
{
    for (guint i = 0; c->marks && i < c->marks->len; i++) {
        SvFdMark m = g_array_index(c->marks, SvFdMark, i);
        if (m.pos == pos) {
            g_array_remove_index(c->marks, i);
            *out_fd = m.fd;
            return TRUE;
        }
    }
    /* libvirt's receiver fails the same way: recvmsg of the byte finds no descriptor. */
    sv_error_set_literal(error, SV_FROM_RPC, SV_ERR_RPC,
                         "a descriptor announced by a message did not arrive with it");
    return FALSE;
}

const guint8 *
sv_fdpass_next_frame(SvClient *c, gsize *len, SvFrameFds *fds, GError **error)
{
    guint64 end;
    const guint8 *frame = sv_frame_reader_peek(c->reader, len, error);
    guint32 n;

    fds->n = 0;
    if (!frame)
        return NULL;
    if (sv_be32(frame + SV_FRAME_LEN_SIZE + 12) != SV_NET_CALL_WITH_FDS) {
        sv_frame_reader_consume(c->reader, *len);
        return frame;
    }
    if (*len < SV_FRAME_MIN + 4) {
        sv_error_set_literal(error, SV_FROM_RPC, SV_ERR_RPC,
                             "Unable to decode number of FDs");
        return NULL;
    }
    n = sv_be32(frame + SV_FRAME_MIN);
    if (n > SV_NET_NUM_FDS_MAX) {
        sv_error_set_literal(error, SV_FROM_RPC, SV_ERR_RPC,
                             "Too many FDs to receive: %u", n);
        return NULL;
    }
    /* The message is complete only with its dummy bytes (and their descriptors). */
    if (sv_frame_reader_pending(c->reader) < *len + n)
        return NULL;
    end = sv_client_processed_pos(c) + *len;
    sv_frame_reader_consume(c->reader, *len + n);
    for (guint i = 0; i < n; i++) {
        if (!claim(c, end + i, &fds->fd[i], error)) {
            sv_frame_fds_clear(fds);
            return NULL;
        }
        fds->n++;
    }
    return frame;
}

void
sv_fdpass_sweep(SvClient *c, gboolean blocked)
{
    guint64 done = sv_client_processed_pos(c);
    guint64 lo = done, hi = done; /* the dummy bytes a waiting message announced */

    if (!blocked) {
        gsize len;
        const guint8 *frame = sv_frame_reader_peek(c->reader, &len, NULL);
        if (frame && len >= SV_FRAME_MIN + 4 &&
            sv_be32(frame + SV_FRAME_LEN_SIZE + 12) == SV_NET_CALL_WITH_FDS) {
            lo = done + len;
            hi = lo + MIN(sv_be32(frame + SV_FRAME_MIN), SV_NET_NUM_FDS_MAX);
        }
    }
    /* With every whole message processed, a descriptor no waiting message announced
     * came inside a message or outside any: it goes at once. While processing is held
     * (requests in flight, the owner pausing), those of unprocessed bytes wait. */
    for (guint i = 0; c->marks && i < c->marks->len;) {
        SvFdMark m = g_array_index(c->marks, SvFdMark, i);
        if (m.pos >= done && (blocked || (m.pos >= lo && m.pos < hi))) {
            i++;
            continue;
        }
        if (m.fd >= 0)
            close(m.fd);
        g_array_remove_index(c->marks, i);
    }
}

void
sv_fdpass_clear(SvClient *c)
{
    for (guint i = 0; c->marks && i < c->marks->len; i++) {
        int fd = g_array_index(c->marks, SvFdMark, i).fd;
        if (fd >= 0)
            close(fd);
    }
    g_clear_pointer(&c->marks, g_array_unref);
}
