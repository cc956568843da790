/* qemu_console.c: DOMAIN_OPEN_CONSOLE: a guest's serial pty on a stream
 * (domain/domain_console.h), one client at a time unless forced. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "domain/domain_console.h"
#include "qemu_domain.h"
#include "util/error.h"
#include "util/fd.h"

/* One console per domain (exclusive access, as libvirt's QEMU driver): the driver's
 * context keeps them, uuid bytes -> Console. */
typedef struct {
    guint8 uuid[16];
    SvConsole *con;
    GHashTable *consoles; /* the table holding it; NULL once its guest's QEMU went */
} Console;

static void
console_closed(SvConsole *con, gpointer data)
{
    Console *c = data;

    (void)con;
    if (c->consoles)
        g_hash_table_remove(c->consoles, c->uuid); /* frees c */
    else
        g_free(c);
}

void
qemu_console_release(SvDomainObj *obj)
{
    GHashTable *consoles = qemu_ctx_of(obj)->consoles;
    Console *c = consoles ? g_hash_table_lookup(consoles, obj->def->uuid) : NULL;

    /* Its stream ends with the pty's data, whenever its client reads to the end; the
     * guest's next run (started again, or migrated back) is free for a new client. */
    if (c) {
        g_hash_table_steal(consoles, c->uuid);
        c->consoles = NULL;
    }
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

/* Another character device by its alias, as libvirt looks devices up: a console after
 * the first, or a channel. Its pty, if any, is in its live definition. */
static const SvDomainChrDef *
find_by_alias(SvDomainObj *obj, const char *dev_name)
{
    GPtrArray *lists[] = {obj->def->consoles, obj->def->channels};

    for (guint l = 0; l < G_N_ELEMENTS(lists); l++) {
        for (guint i = 0; i < lists[l]->len; i++) {
            const SvDomainChrDef *c = lists[l]->pdata[i];

            /* A console standing for a serial is that serial, found by its name. */
            if (lists[l] == obj->def->consoles && sv_domain_console_is_serial(obj->def, i))
                continue;
            if (g_strcmp0(c->info.alias, dev_name) == 0)
                return c;
        }
    }
    return NULL;
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
    QemuProcessContext *ctx = qemu_ctx_of_call(call);
    const char *dev = a->dev_name ? *a->dev_name : NULL;
    const SvDomainChrDef *chr = NULL;
    SvDomainObj *obj;
    Console *con, *old;
    const char *pty;
    int port, fd;

    if (!sv_check_flags(a->flags, SV_DOMAIN_CONSOLE_FORCE | SV_DOMAIN_CONSOLE_SAFE, SV_FROM_QEMU,
                        "qemuDomainOpenConsole", error))
        return FALSE;
    obj = sv_domain_list_lookup_handle(ctx->domains->list, &a->dom, SV_FROM_QEMU, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    port = resolve_device(obj, dev, &chr);
    if (port < 0 && dev)
        chr = find_by_alias(obj, dev);
    if (port < 0 && !chr) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "cannot find character device %s",
                     dev ? dev : "<null>");
        return FALSE;
    }
    if (chr->source.type != SV_DOMAIN_CHR_TYPE_PTY) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "character device %s is not using a PTY", dev ? dev : "serial0");
        return FALSE;
    }
    pty = port >= 0 ? qemu_process_get_pty(obj, (guint)port) : chr->source.path;
    if (!pty) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_OPERATION_FAILED,
                     "PTY device is not yet assigned");
        return FALSE;
    }
    old = g_hash_table_lookup(ctx->consoles, obj->def->uuid);
    if (old && !(a->flags & SV_DOMAIN_CONSOLE_FORCE)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                     "Active console session exists for this domain");
        return FALSE;
    }
    fd = open_pty(pty, error);
    if (fd < 0)
        return FALSE;
    if (old) {
        sv_console_take_away(old->con);
        g_hash_table_remove(ctx->consoles, old->uuid);
    }
    con = g_new0(Console, 1);
    memcpy(con->uuid, obj->def->uuid, 16);
    con->consoles = ctx->consoles;
    g_hash_table_insert(ctx->consoles, con->uuid, con);
    con->con = sv_console_open(call, fd, 0, console_closed, con);
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
qemu_console_install(QemuProcessContext *ctx, SvRemoteHandlers *h)
{
    if (!ctx->consoles)
        ctx->consoles = g_hash_table_new_full(uuid_hash, uuid_equal, NULL, g_free);
    h->domain_open_console = domain_open_console;
}

void
qemu_console_cleanup(QemuProcessContext *ctx)
{
    /* Empty by now: a console ends with its client's stream, and the clients went first. */
    g_clear_pointer(&ctx->consoles, g_hash_table_unref);
}
