/* lxc_monitor.c: a supervisor's control connection on the daemon's loop. */
#include "lxc_monitor.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"

struct LxcMonitor {
    int fd;
    guint watch;
    LxcLineReader *reader;
    LxcMonitorCallbacks cb;
    gpointer user;
    gboolean in_callback;
    gboolean free_pending;
};

int
lxc_monitor_connect(const char *path, const char *kind, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_auto(SvFd) fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    g_autofree char *hello = g_strconcat(kind, "\n", NULL);

    if (strlen(path) >= sizeof(sa.sun_path)) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "supervisor socket path '%s' is too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno,
                           "Failed to connect to the container supervisor at '%s'", path);
        return -1;
    }
    /* A few bytes into a fresh socket's empty buffer: this never blocks. */
    if (send(fd, hello, strlen(hello), MSG_NOSIGNAL) != (ssize_t)strlen(hello)) {
        sv_error_set_errno(error, SV_FROM_LXC, errno,
                           "Failed to talk to the container supervisor at '%s'", path);
        return -1;
    }
    return g_steal_fd(&fd);
}

static gboolean
on_readable(gint fd, GIOCondition cond, gpointer data)
{
    LxcMonitor *mon = data;
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
    char buf[4096];
    ssize_t n;

    (void)cond;
    n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    mon->in_callback = TRUE;
    if (n <= 0 || !lxc_line_reader_feed(mon->reader, buf, (gsize)n, lines)) {
        mon->watch = 0;
        if (mon->cb.eof)
            mon->cb.eof(mon, mon->user);
        mon->in_callback = FALSE;
        if (mon->free_pending)
            lxc_monitor_free(mon);
        return G_SOURCE_REMOVE;
    }
    for (guint i = 0; i < lines->len && !mon->free_pending; i++) {
        LxcMsg msg;
        g_autoptr(GError) error = NULL;

        if (!lxc_msg_parse(lines->pdata[i], &msg, &error)) {
            g_warning("%s", error->message);
            continue;
        }
        if (mon->cb.message)
            mon->cb.message(mon, &msg, mon->user);
        lxc_msg_clear(&msg);
    }
    mon->in_callback = FALSE;
    if (mon->free_pending) {
        mon->watch = 0; /* this source ends by returning */
        lxc_monitor_free(mon);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

LxcMonitor *
lxc_monitor_new(int fd, const LxcMonitorCallbacks *cb, gpointer user)
{
    LxcMonitor *mon = g_new0(LxcMonitor, 1);

    mon->fd = fd;
    mon->cb = *cb;
    mon->user = user;
    mon->reader = lxc_line_reader_new();
    mon->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, mon);
    return mon;
}

void
lxc_monitor_free(LxcMonitor *mon)
{
    if (!mon)
        return;
    if (mon->in_callback) {
        mon->free_pending = TRUE;
        mon->cb = (LxcMonitorCallbacks){0};
        return;
    }
    if (mon->watch)
        g_source_remove(mon->watch);
    close(mon->fd);
    lxc_line_reader_free(mon->reader);
    g_free(mon);
}
