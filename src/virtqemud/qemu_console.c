/* qemu_console.c: DOMAIN_OPEN_CONSOLE: a guest's serial pty relayed over a stream. */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "qemu_process.h"
#include "stream.h"
#include "util/error.h"
#include "util/fd.h"

#define OUTPUT_LIMIT (1024 * 1024) /* queued to the client before we stop reading */

typedef struct {
    guint8 uuid[16];
    SvStream *st;
    int fd;
    guint in_watch;
    guint out_watch;
    GByteArray *to_guest;
    gboolean eof_sent;
} Console;

static QemuProcessContext *ctx;
static GHashTable *consoles; /* uuid bytes -> Console (one per domain: exclusive access) */

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
    g_byte_array_unref(con->to_guest);
    g_free(con);
}

static void
console_forget(Console *con)
{
    g_hash_table_remove(consoles, con->uuid); /* frees con */
}

static void
console_eof(Console *con)
{
    if (con->in_watch)
        g_source_remove(con->in_watch);
    con->in_watch = 0;
    if (!con->eof_sent) {
        con->eof_sent = TRUE;
        sv_stream_send_eof(con->st); /* the client answers with a finish */
    }
}

static void
client_caught_up(SvStream *st, gpointer data)
{
    (void)st;
    console_watch_input(data);
}

static gboolean
on_pty_readable(gint fd, GIOCondition cond, gpointer data)
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
    n = read(fd, buf, sizeof(buf));
    if (n > 0) {
        sv_stream_send(con->st, buf, n);
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    /* EIO: QEMU closed its side, the guest is gone. */
    con->in_watch = 0;
    console_eof(con);
    return G_SOURCE_REMOVE;
}

static void
console_watch_input(Console *con)
{
    if (!con->in_watch && !con->eof_sent)
        con->in_watch = g_unix_fd_add(con->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_pty_readable,
                                      con);
}

static gboolean
flush_to_guest(Console *con)
{
    while (con->to_guest->len) {
        ssize_t n = write(con->fd, con->to_guest->data, con->to_guest->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN;
        g_byte_array_remove_range(con->to_guest, 0, n);
    }
    return TRUE;
}

static gboolean
on_pty_writable(gint fd, GIOCondition cond, gpointer data)
{
    Console *con = data;

    (void)fd;
    (void)cond;
    if (!flush_to_guest(con) || con->to_guest->len == 0) {
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
    if (con->eof_sent)
        return;
    g_byte_array_append(con->to_guest, data, len);
    if (flush_to_guest(con) && con->to_guest->len && !con->out_watch)
        con->out_watch = g_unix_fd_add(con->fd, G_IO_OUT, on_pty_writable, con);
}

static void
on_stream_closed(SvStream *st, gboolean aborted, gpointer user)
{
    (void)st;
    (void)aborted;
    console_forget(user);
}

/* Which serial port a console device name means: consoleN is serialN's alias
 * (libvirt's hvm console), serialN itself; -1 when there is none. */
static int
resolve_device(SvDomainObj *obj, const char *dev_name, const SvDomainChrDef **chr)
{
    GPtrArray *serials = obj->def->serials->len ? obj->def->serials : obj->def->consoles;
    guint n;

    if (!dev_name) {
        if (serials->len == 0)
            return -1;
        *chr = serials->pdata[0];
        return 0;
    }
    if (g_str_has_prefix(dev_name, "console") && obj->def->consoles->len) {
        n = (guint)g_ascii_strtoull(dev_name + 7, NULL, 10);
        if (n != 0 || !g_ascii_isdigit(dev_name[7]) || serials->len == 0)
            return -1;
        *chr = serials->pdata[0];
        return 0;
    }
    if (g_str_has_prefix(dev_name, "serial") && g_ascii_isdigit(dev_name[6])) {
        n = (guint)g_ascii_strtoull(dev_name + 6, NULL, 10);
        if (n >= serials->len)
            return -1;
        *chr = serials->pdata[n];
        return (int)n;
    }
    return -1;
}

static int
open_pty(const char *path, GError **error)
{
    g_auto(SvFd) fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    struct termios t;

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "Unable to open tty %s", path);
        return -1;
    }
    /* Raw: bytes pass as they are, in both directions. */
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
    return g_steal_fd(&fd);
}

static gboolean
domain_open_console(SvCall *call, remote_domain_open_console_args *a, GError **error)
{
    const char *dev = a->dev_name ? *a->dev_name : NULL;
    const SvDomainChrDef *chr = NULL;
    SvStreamCallbacks cb = {on_stream_recv, on_stream_closed};
    SvDomainObj *obj;
    Console *con, *old;
    const char *pty;
    int port;

    if (!sv_check_flags(a->flags, SV_DOMAIN_CONSOLE_FORCE | SV_DOMAIN_CONSOLE_SAFE, SV_FROM_QEMU,
                        "qemuDomainOpenConsole", error))
        return FALSE;
    obj = sv_domain_list_lookup_handle(ctx->domains->list, &a->dom, SV_FROM_QEMU, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    port = resolve_device(obj, dev, &chr);
    if (port < 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "cannot find character device %s",
                     dev ? dev : "<null>");
        return FALSE;
    }
    if (chr->type != SV_DOMAIN_CHR_TYPE_PTY) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "character device %s is not using a PTY", dev ? dev : "serial0");
        return FALSE;
    }
    pty = qemu_process_get_pty(obj, (guint)port);
    if (!pty) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_FAILED,
                     "PTY device is not yet assigned");
        return FALSE;
    }
    old = g_hash_table_lookup(consoles, obj->def->uuid);
    if (old && !(a->flags & SV_DOMAIN_CONSOLE_FORCE)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "Active console session exists for this domain");
        return FALSE;
    }
    con = g_new0(Console, 1);
    con->fd = open_pty(pty, error);
    if (con->fd < 0) {
        g_free(con);
        return FALSE;
    }
    if (old) {
        g_autoptr(GError) e = NULL;
        sv_error_set_literal(&e, SV_FROM_STREAMS, SV_ERR_RPC, "stream had I/O failure");
        sv_stream_abort(old->st, e);
        console_forget(old);
    }
    memcpy(con->uuid, obj->def->uuid, 16);
    con->to_guest = g_byte_array_new();
    /* The stream exists before the reply, and reading starts after it is queued. */
    con->st = sv_stream_new(call, &cb, con);
    g_hash_table_insert(consoles, con->uuid, con);
    console_watch_input(con);
    return TRUE;
}

static guint
uuid_hash(gconstpointer p)
{
    guint h;

    memcpy(&h, p, sizeof(h));
    return h;
}

static gboolean
uuid_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, 16) == 0;
}

void
qemu_console_install(QemuProcessContext *c, SvRemoteHandlers *h)
{
    ctx = c;
    if (!consoles)
        consoles = g_hash_table_new_full(uuid_hash, uuid_equal, NULL,
                                         (GDestroyNotify)console_free);
    h->domain_open_console = domain_open_console;
}
