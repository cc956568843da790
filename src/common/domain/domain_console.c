/* domain_console.c: a guest's console on a stream, both ways bounded (domain_console.h). */
#include "domain/domain_console.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"

#define OUTPUT_LIMIT (1024 * 1024) /* queued to the client before we stop reading */

struct SvConsole {
    SvStream *st;
    int fd;
    guint in_watch;
    guint out_watch;
    GByteArray *to_guest;
    gsize input_limit;
    gboolean eof_sent;
    SvConsoleClosedFunc closed;
    gpointer data;
};

static void watch_input(SvConsole *con);

static void
console_free(SvConsole *con)
{
    if (con->in_watch)
        g_source_remove(con->in_watch);
    if (con->out_watch)
        g_source_remove(con->out_watch);
    if (con->fd >= 0)
        close(con->fd);
    g_byte_array_unref(con->to_guest);
    g_free(con);
}

/* The guest is gone: end of data; the client then finishes. */
static void
send_eof(SvConsole *con)
{
    if (con->in_watch)
        g_source_remove(con->in_watch);
    con->in_watch = 0;
    if (!con->eof_sent) {
        con->eof_sent = TRUE;
        sv_stream_send_eof(con->st);
    }
}

static void
client_caught_up(SvStream *st, gpointer data)
{
    (void)st;
    watch_input(data);
}

static gboolean
on_readable(gint fd, GIOCondition cond, gpointer data)
{
    SvConsole *con = data;
    guint8 buf[65536];
    ssize_t n;

    (void)cond;
    if (!sv_stream_can_send(con->st, OUTPUT_LIMIT)) {
        /* The client is behind: stop reading until its queue drains. */
        con->in_watch = 0;
        sv_stream_when_drained(con->st, client_caught_up, con);
        return G_SOURCE_REMOVE;
    }
    n = read(fd, buf, sizeof(buf));
    if (n > 0) {
        sv_stream_send(con->st, buf, (gsize)n);
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    /* EIO on a pty whose other side closed, or the end of a socket's data. */
    con->in_watch = 0;
    send_eof(con);
    return G_SOURCE_REMOVE;
}

static void
watch_input(SvConsole *con)
{
    if (!con->in_watch && !con->eof_sent)
        con->in_watch = g_unix_fd_add(con->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, con);
}

static gboolean
on_writable(gint fd, GIOCondition cond, gpointer data)
{
    SvConsole *con = data;

    (void)fd;
    (void)cond;
    if (!sv_fd_write_queued(con->fd, con->to_guest) || con->to_guest->len == 0) {
        con->out_watch = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void
on_stream_recv(SvStream *st, const guint8 *data, gsize len, gpointer user)
{
    SvConsole *con = user;

    (void)st;
    if (con->eof_sent || (con->input_limit && con->to_guest->len > con->input_limit))
        return; /* the guest does not read its console: typing is lost, as on a tty */
    g_byte_array_append(con->to_guest, data, (guint)len);
    if (sv_fd_write_queued(con->fd, con->to_guest) && con->to_guest->len && !con->out_watch)
        con->out_watch = g_unix_fd_add(con->fd, G_IO_OUT, on_writable, con);
}

static void
on_stream_closed(SvStream *st, gboolean aborted, gpointer user)
{
    SvConsole *con = user;

    (void)st;
    (void)aborted;
    if (con->closed)
        con->closed(con, con->data);
    console_free(con);
}

SvConsole *
sv_console_open(SvCall *call, int fd, gsize input_limit, SvConsoleClosedFunc closed,
                gpointer data)
{
    SvStreamCallbacks cb = {.recv = on_stream_recv, .closed = on_stream_closed};
    SvConsole *con = g_new0(SvConsole, 1);
    int fl = fcntl(fd, F_GETFL);

    if (fl >= 0 && !(fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    con->fd = fd;
    con->input_limit = input_limit;
    con->to_guest = g_byte_array_new();
    con->closed = closed;
    con->data = data;
    /* The stream exists before the reply, and reading starts after it is queued. */
    con->st = sv_stream_new(call, &cb, con);
    watch_input(con);
    return con;
}

void
sv_console_take_away(SvConsole *con)
{
    g_autoptr(GError) e = NULL;

    sv_error_set_literal(&e, SV_FROM_STREAMS, SV_ERR_RPC, "stream had I/O failure");
    sv_stream_abort(con->st, e);
    console_free(con);
}
