/* fd.h: an owned file descriptor for g_auto() (GLib 2.74 has no g_autofd). */
#pragma once

#include <errno.h>
#include <glib.h>
#include <unistd.h>

typedef int SvFd;

static inline void
sv_fd_clear(SvFd *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
        *fd = -1;
    }
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SvFd, sv_fd_clear)

/* Usage: g_auto(SvFd) fd = open(...); ... return g_steal_fd(&fd); */

/* Write what a non-blocking fd takes of buf, removing it from buf; FALSE when the fd
 * failed (anything but EAGAIN). A socket's gone peer is EPIPE: every process of ours
 * ignores SIGPIPE. */
static inline gboolean
sv_fd_write_queued(int fd, GByteArray *buf)
{
    while (buf->len) {
        ssize_t n = write(fd, buf->data, buf->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN;
        g_byte_array_remove_range(buf, 0, (guint)n);
    }
    return TRUE;
}

/* Send len bytes of buf on the unix socket sock (MSG_NOSIGNAL), with fd (SCM_RIGHTS; -1:
 * none) on the first byte: send(2)'s answer. fd stays the caller's. */
ssize_t sv_fd_send_with(int sock, const void *buf, gsize len, int fd);
