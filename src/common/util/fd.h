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
