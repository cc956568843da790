/* lxc_console.c: DOMAIN_OPEN_CONSOLE: a container's console, relayed between a stream and a
 * console connection to its supervisor (which owns the pty, lxc_proto.h). As in libvirt's
 * LXC driver there is no exclusive access: every open gets its own connection. */
#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lxc_monitor.h"
#include "lxc_process.h"
#include "rpc/stream.h"
#include "util/error.h"
#include "util/fd.h"

#define OUTPUT_LIMIT (1024 * 1024) /* queued to the client before we stop reading */
#define INPUT_LIMIT (256 * 1024)   /* queued for the supervisor before we drop the console */

typedef struct {
    SvStream *st;
    int fd;
    guint in_watch;
    guint out_watch;
    GByteArray *to_container;
    gboolean eof_sent;
} Console;

static LxcProcessContext *ctx;

static void console_watch_input(Console *con);

static void
console_free(Console *con)
{
    if (con->in_watch)
        g_source_remove(con->in_watch);
    if (con->out_watch)
        g_source_remove(con->out_watch);
    if (con->fd >= 0)
        close(con->fd);
    g_byte_array_unref(con->to_container);
    g_free(con);
}

/* The container is gone (or its supervisor): end of data; the client then finishes. */
static void
console_eof(Console *con)
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
    console_watch_input(data);
}

static gboolean
on_readable(gint fd, GIOCondition cond, gpointer data)
{
    Console *con = data;
    guint8 buf[65536];
    ssize_t n;

    (void)cond;
    if (!sv_stream_can_send(con->st, OUTPUT_LIMIT)) {
        /* The client is behind: stop reading until its queue drains. */
        con->in_watch = 0;
        sv_stream_when_drained(con->st, client_caught_up, con);
        return G_SOURCE_REMOVE;
    }
    n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
        sv_stream_send(con->st, buf, (gsize)n);
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    con->in_watch = 0;
    console_eof(con);
    return G_SOURCE_REMOVE;
}

static void
console_watch_input(Console *con)
{
    if (!con->in_watch && !con->eof_sent)
        con->in_watch = g_unix_fd_add(con->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, con);
}

static gboolean
flush_to_container(Console *con)
{
    while (con->to_container->len) {
        ssize_t n = send(con->fd, con->to_container->data, con->to_container->len,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN;
        g_byte_array_remove_range(con->to_container, 0, (guint)n);
    }
    return TRUE;
}

static gboolean
on_writable(gint fd, GIOCondition cond, gpointer data)
{
    Console *con = data;

    (void)fd;
    (void)cond;
    if (!flush_to_container(con) || con->to_container->len == 0) {
        con->out_watch = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void
on_stream_recv(SvStream *st, const guint8 *data, gsize len, gpointer user)
{
    Console *con = user;

    (void)st;
    if (con->eof_sent || con->to_container->len > INPUT_LIMIT)
        return; /* the container does not read its console: typing is lost, as on a tty */
    g_byte_array_append(con->to_container, data, (guint)len);
    if (flush_to_container(con) && con->to_container->len && !con->out_watch)
        con->out_watch = g_unix_fd_add(con->fd, G_IO_OUT, on_writable, con);
}

static void
on_stream_closed(SvStream *st, gboolean aborted, gpointer user)
{
    (void)st;
    (void)aborted;
    console_free(user);
}

/* libvirt's LXC rules: a name matches a console's alias (consoleN); no name means the first
 * console, else the first serial. */
static const SvDomainChrDef *
find_console(SvDomainObj *obj, const char *dev_name, char **ret_alias)
{
    if (!dev_name) {
        GPtrArray *devs = obj->def->consoles->len ? obj->def->consoles : obj->def->serials;
        if (!devs->len)
            return NULL;
        *ret_alias = g_strdup(devs == obj->def->consoles ? "console0" : "serial0");
        return devs->pdata[0];
    }
    for (guint i = 0; i < obj->def->consoles->len; i++) {
        g_autofree char *alias = g_strdup_printf("console%u", i);
        if (g_str_equal(alias, dev_name)) {
            *ret_alias = g_steal_pointer(&alias);
            return obj->def->consoles->pdata[i];
        }
    }
    return NULL;
}

static gboolean
domain_open_console(SvCall *call, remote_domain_open_console_args *a, GError **error)
{
    const char *dev = a->dev_name ? *a->dev_name : NULL;
    SvStreamCallbacks cb = {on_stream_recv, on_stream_closed};
    g_autofree char *alias = NULL;
    const SvDomainChrDef *chr;
    const char *socket_path;
    SvDomainObj *obj;
    Console *con;
    int fd;

    if (!sv_check_flags(a->flags, 0, SV_FROM_LXC, "lxcDomainOpenConsole", error))
        return FALSE;
    obj = sv_domain_list_lookup_handle(ctx->domains->list, &a->dom, SV_FROM_LXC, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    chr = find_console(obj, dev, &alias);
    if (!chr) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "cannot find console device '%s'", dev ? dev : "default");
        return FALSE;
    }
    /* Only the first console exists in a container (lxc_spec.c): its /dev/console. */
    if (chr->type != SV_DOMAIN_CHR_TYPE_PTY || obj->def->consoles->len == 0 ||
        chr != obj->def->consoles->pdata[0]) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                     "character device %s is not using a PTY", dev ? dev : alias);
        return FALSE;
    }
    socket_path = lxc_process_get_console_socket(obj);
    if (!socket_path) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_FAILED,
                     "PTY device is not yet assigned");
        return FALSE;
    }
    fd = lxc_monitor_connect(socket_path, "console", error);
    if (fd < 0)
        return FALSE;
    con = g_new0(Console, 1);
    con->fd = fd;
    con->to_container = g_byte_array_new();
    /* The stream exists before the reply, and reading starts after it is queued. */
    con->st = sv_stream_new(call, &cb, con);
    console_watch_input(con);
    return TRUE;
}

void
lxc_console_install(LxcProcessContext *c, SvRemoteHandlers *h)
{
    ctx = c;
    h->domain_open_console = domain_open_console;
}
