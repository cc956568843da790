/* lxc_relay.c: the supervisor's connections and the console relay.
 *
 * The supervisor keeps a descriptor of the pty's slave open itself, so the master never
 * reads as hung up while no init holds the console (between a reboot and the next init),
 * and the console outlives any daemon. With no console connected, output is read and
 * dropped, so a container never blocks on its console; with consoles connected, reading
 * pauses while any of them is more than OUTPUT_LIMIT behind, like a slow serial line. */
#include "lxc_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"

#define OUTPUT_LIMIT (256 * 1024) /* queued to one console connection */
#define INPUT_LIMIT (64 * 1024)   /* queued for the pty before we stop reading a connection */
#define MAX_CONNECTIONS 64

typedef enum { CONN_HELLO, CONN_CONTROL, CONN_CONSOLE } ConnKind;

typedef struct {
    LxcRelay *relay;
    int fd;
    ConnKind kind;
    LxcLineReader *reader;
    GByteArray *out;
    guint in_watch;
    guint out_watch;
} Conn;

struct LxcRelay {
    int listen_fd;
    guint listen_watch;
    char *socket_path;
    int master;
    int slave;
    char *pty_path;
    guint master_in;
    guint master_out;
    GByteArray *to_pty;
    GPtrArray *conns; /* Conn */
    Conn *control;
    char *status; /* the formatted status message, or NULL */
    gboolean final;
    gboolean final_sent;
    void (*done)(gpointer data);
    gpointer data;
};

static void conn_close(Conn *c);
static void update_master_watch(LxcRelay *r);
static void update_conn_watch(Conn *c);

static void
conn_free(gpointer p)
{
    Conn *c = p;

    if (c->in_watch)
        g_source_remove(c->in_watch);
    if (c->out_watch)
        g_source_remove(c->out_watch);
    close(c->fd);
    lxc_line_reader_free(c->reader);
    g_byte_array_unref(c->out);
    g_free(c);
}

static gboolean
flush_conn(Conn *c)
{
    return sv_fd_write_queued(c->fd, c->out);
}

static gboolean
on_conn_writable(gint fd, GIOCondition cond, gpointer data)
{
    Conn *c = data;
    LxcRelay *r = c->relay;

    (void)fd;
    (void)cond;
    c->out_watch = 0;
    if (!flush_conn(c)) {
        conn_close(c);
        return G_SOURCE_REMOVE;
    }
    update_conn_watch(c);
    update_master_watch(r);
    return G_SOURCE_REMOVE;
}

static void
conn_queue(Conn *c, const void *data, gsize len)
{
    g_byte_array_append(c->out, data, (guint)len);
    if (!flush_conn(c)) {
        conn_close(c);
        return;
    }
    update_conn_watch(c);
}

static void
send_line(Conn *c, const char *line)
{
    conn_queue(c, line, strlen(line));
}

/* Data from a console connection goes to the pty as fast as the pty takes it. */
static gboolean
flush_pty(LxcRelay *r)
{
    return sv_fd_write_queued(r->master, r->to_pty);
}

static gboolean
on_master_writable(gint fd, GIOCondition cond, gpointer data)
{
    LxcRelay *r = data;

    (void)fd;
    (void)cond;
    r->master_out = 0;
    if (!flush_pty(r))
        g_byte_array_set_size(r->to_pty, 0);
    update_master_watch(r);
    for (guint i = 0; i < r->conns->len; i++)
        update_conn_watch(r->conns->pdata[i]);
    return G_SOURCE_REMOVE;
}

static void
to_pty(LxcRelay *r, const guint8 *data, gsize len)
{
    g_byte_array_append(r->to_pty, data, (guint)len);
    if (!flush_pty(r))
        g_byte_array_set_size(r->to_pty, 0);
    update_master_watch(r);
}

static void
handle_hello(Conn *c, const char *line, const guint8 *rest, gsize rest_len)
{
    LxcRelay *r = c->relay;

    if (g_str_equal(line, "control")) {
        LxcMsg hello = {.type = LXC_MSG_SUPERVISOR, .version = LXC_PROTO_VERSION,
                        .pid = getpid()};
        g_autofree char *text = lxc_msg_format(&hello);

        if (r->control)
            conn_close(r->control); /* a newer daemon replaces the old one */
        c->kind = CONN_CONTROL;
        r->control = c;
        send_line(c, text);
        if (r->status && r->control == c)
            send_line(c, r->status);
        if (r->final && r->control == c)
            r->final_sent = TRUE;
    } else if (g_str_equal(line, "console")) {
        c->kind = CONN_CONSOLE;
        if (rest_len)
            to_pty(r, rest, rest_len);
    } else {
        g_warning("unknown connection kind '%.40s'", line);
        conn_close(c);
    }
}

static gboolean
on_conn_readable(gint fd, GIOCondition cond, gpointer data)
{
    Conn *c = data;
    LxcRelay *r = c->relay;
    guint8 buf[16384];
    ssize_t n;

    (void)cond;
    n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        gboolean acknowledged = c == r->control && r->final_sent;
        c->in_watch = 0;
        conn_close(c);
        if (acknowledged && r->done)
            r->done(r->data);
        return G_SOURCE_REMOVE;
    }
    if (c->kind == CONN_HELLO) {
        g_autofree char *line = NULL;
        gssize used = lxc_line_reader_feed_one(c->reader, (const char *)buf, (gsize)n, &line);
        if (used < 0) {
            c->in_watch = 0;
            conn_close(c);
            return G_SOURCE_REMOVE;
        }
        if (line)
            handle_hello(c, line, buf + used, (gsize)(n - used));
        return G_SOURCE_CONTINUE;
    }
    if (c->kind == CONN_CONSOLE) {
        to_pty(r, buf, (gsize)n);
        if (r->to_pty->len > INPUT_LIMIT) {
            c->in_watch = 0;
            return G_SOURCE_REMOVE; /* resumed by update_conn_watch once the pty drains */
        }
    }
    /* The control connection has nothing more to say; anything else is ignored. */
    return G_SOURCE_CONTINUE;
}

static void
update_conn_watch(Conn *c)
{
    if (c->out->len && !c->out_watch)
        c->out_watch = g_unix_fd_add(c->fd, G_IO_OUT, on_conn_writable, c);
    if (!c->in_watch && !(c->kind == CONN_CONSOLE && c->relay->to_pty->len > INPUT_LIMIT))
        c->in_watch = g_unix_fd_add(c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_conn_readable, c);
}

static void
conn_close(Conn *c)
{
    LxcRelay *r = c->relay;

    if (r->control == c)
        r->control = NULL;
    g_ptr_array_remove(r->conns, c); /* frees it */
    update_master_watch(r);
}

static gboolean
on_master_readable(gint fd, GIOCondition cond, gpointer data)
{
    LxcRelay *r = data;
    guint8 buf[16384];
    ssize_t n;

    (void)cond;
    n = read(fd, buf, sizeof(buf));
    if (n <= 0)
        return G_SOURCE_CONTINUE; /* EAGAIN; EIO cannot happen while we hold the slave */
    for (guint i = r->conns->len; i > 0; i--) {
        Conn *c = r->conns->pdata[i - 1];
        if (c->kind == CONN_CONSOLE)
            conn_queue(c, buf, (gsize)n);
    }
    update_master_watch(r);
    return r->master_in ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Read the console unless a console connection is too far behind; write while input waits. */
static void
update_master_watch(LxcRelay *r)
{
    gboolean behind = FALSE;

    for (guint i = 0; i < r->conns->len; i++) {
        Conn *c = r->conns->pdata[i];
        if (c->kind == CONN_CONSOLE && c->out->len > OUTPUT_LIMIT)
            behind = TRUE;
    }
    if (behind && r->master_in) {
        g_source_remove(r->master_in);
        r->master_in = 0;
    } else if (!behind && !r->master_in) {
        r->master_in = g_unix_fd_add(r->master, G_IO_IN, on_master_readable, r);
    }
    if (r->to_pty->len && !r->master_out)
        r->master_out = g_unix_fd_add(r->master, G_IO_OUT, on_master_writable, r);
}

static gboolean
on_accept(gint fd, GIOCondition cond, gpointer data)
{
    LxcRelay *r = data;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    Conn *c;

    (void)cond;
    if (cfd < 0)
        return G_SOURCE_CONTINUE;
    if (r->conns->len >= MAX_CONNECTIONS) {
        close(cfd);
        return G_SOURCE_CONTINUE;
    }
    c = g_new0(Conn, 1);
    c->relay = r;
    c->fd = cfd;
    c->reader = lxc_line_reader_new();
    c->out = g_byte_array_new();
    g_ptr_array_add(r->conns, c);
    update_conn_watch(c);
    return G_SOURCE_CONTINUE;
}

static gboolean
open_pty(LxcRelay *r, GError **error)
{
    char name[64];

    r->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (r->master < 0 || grantpt(r->master) < 0 || unlockpt(r->master) < 0 ||
        ptsname_r(r->master, name, sizeof(name)) != 0) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "Failed to allocate tty");
        return FALSE;
    }
    r->pty_path = g_strdup(name);
    r->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (r->slave < 0 || !g_unix_set_fd_nonblocking(r->master, TRUE, NULL)) {
        sv_error_set_errno(error, SV_FROM_LXC, errno, "Failed to open tty '%s'", name);
        return FALSE;
    }
    return TRUE;
}

LxcRelay *
lxc_relay_new(int listen_fd, const char *socket_path, void (*done)(gpointer data), gpointer data,
              GError **error)
{
    LxcRelay *r = g_new0(LxcRelay, 1);

    r->listen_fd = listen_fd;
    r->socket_path = g_strdup(socket_path);
    r->master = r->slave = -1;
    r->done = done;
    r->data = data;
    r->to_pty = g_byte_array_new();
    r->conns = g_ptr_array_new_with_free_func(conn_free);
    if (!open_pty(r, error)) {
        r->listen_fd = -1; /* the caller still owns it on failure */
        lxc_relay_free(r);
        return NULL;
    }
    g_unix_set_fd_nonblocking(listen_fd, TRUE, NULL);
    r->listen_watch = g_unix_fd_add(listen_fd, G_IO_IN, on_accept, r);
    update_master_watch(r);
    return r;
}

void
lxc_relay_free(LxcRelay *r)
{
    if (!r)
        return;
    if (r->listen_watch)
        g_source_remove(r->listen_watch);
    if (r->master_in)
        g_source_remove(r->master_in);
    if (r->master_out)
        g_source_remove(r->master_out);
    g_ptr_array_unref(r->conns);
    if (r->listen_fd >= 0) {
        close(r->listen_fd);
        unlink(r->socket_path);
    }
    sv_fd_clear(&r->master);
    sv_fd_clear(&r->slave);
    g_byte_array_unref(r->to_pty);
    g_free(r->pty_path);
    g_free(r->status);
    g_free(r->socket_path);
    g_free(r);
}

const char *
lxc_relay_get_pty_path(LxcRelay *r)
{
    return r->pty_path;
}

void
lxc_relay_set_status(LxcRelay *r, const LxcMsg *msg)
{
    g_free(r->status);
    r->status = msg ? lxc_msg_format(msg) : NULL;
    if (!msg)
        return;
    if (r->control)
        send_line(r->control, r->status);
}

void
lxc_relay_send(LxcRelay *r, const LxcMsg *msg)
{
    g_autofree char *text = lxc_msg_format(msg);

    if (r->control)
        send_line(r->control, text);
}

void
lxc_relay_close_consoles(LxcRelay *r)
{
    for (guint i = r->conns->len; i > 0; i--) {
        Conn *c = r->conns->pdata[i - 1];
        /* Queued output goes first: the container's last words. */
        if (c->kind == CONN_CONSOLE) {
            flush_conn(c);
            conn_close(c);
        }
    }
}

void
lxc_relay_set_final(LxcRelay *r)
{
    r->final = TRUE;
    if (r->control)
        r->final_sent = TRUE;
}

gboolean
lxc_relay_has_control(LxcRelay *r)
{
    return r->control != NULL;
}
