/* qemu_monitor.c: QMP over a unix socket: greeting, capabilities, commands with ids, events,
 * and clients' own commands passed through (qemu-monitor-command), with a descriptor sent
 * along (SCM_RIGHTS) where one comes with them. */
#include "qemu_monitor.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp_reader.h"
#include "util/error.h"
#include "util/fd.h"

#define QMP_MAX_MESSAGE (16 * 1024 * 1024)

/* A command's id on the wire is "libvirt-N", as libvirt's; a passed-through command without
 * "execute" goes without one (QEMU then answers without an id, in order). */
#define NO_ID G_MAXUINT64
#define ID_PREFIX "libvirt-"

typedef struct {
    guint64 id;
    char *cmd;
    char *text; /* the serialized command, while waiting for the handshake */
    int fd;     /* sent with the command (SCM_RIGHTS), or -1; ours until sent */
    QemuMonitorReplyFunc cb;
    QemuMonitorMessageFunc msg_cb; /* a passed-through command: the whole reply */
    gpointer data;
    gint64 since; /* g_get_real_time() when it was issued */
} Pending;

/* A descriptor to send with the byte at offset `at` of the output (counted from the
 * monitor's first byte). */
typedef struct {
    guint64 at;
    int fd;
} OutFd;

struct QemuMonitor {
    int fd;
    guint watch;
    QmpReader *reader;
    QemuMonitorCallbacks cb;
    gpointer user;
    gboolean negotiated;
    gboolean closed;
    gboolean in_callback;
    gboolean free_pending; /* freed from inside a callback */
    guint64 next_id;
    GQueue pending; /* Pending, in send order */
    GString *out;
    guint64 out_done;  /* bytes written so far */
    GQueue out_fds;    /* OutFd, in output order */
    gint64 event_seconds; /* the timestamp of the event being dispatched */
    guint event_micros;
};

static void pending_free(Pending *p)
{
    if (p->fd >= 0)
        close(p->fd);
    g_free(p->cmd);
    g_free(p->text);
    g_free(p);
}

static void
out_fd_free(OutFd *o)
{
    close(o->fd);
    g_free(o);
}

int
qemu_monitor_connect(const char *path, GError **error)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_auto(SvFd) fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    if (strlen(path) >= sizeof(sa.sun_path)) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                     "monitor socket path '%s' is too long", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        sv_error_set_errno(error, SV_FROM_QEMU, errno, "Failed to connect monitor socket '%s'",
                           path);
        return -1;
    }
    return g_steal_fd(&fd);
}

static void
flush_out(QemuMonitor *mon)
{
    while (mon->out->len && !mon->closed) {
        OutFd *next = g_queue_peek_head(&mon->out_fds);
        gboolean with_fd = next && next->at == mon->out_done;
        gsize len = mon->out->len;
        ssize_t n;

        /* A descriptor goes with its command's first byte: stop short of it. */
        if (next && !with_fd)
            len = MIN(len, next->at - mon->out_done);
        n = sv_fd_send_with(mon->fd, mon->out->str, len, with_fd ? next->fd : -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break; /* EAGAIN: the monitor socket buffer is large; tried again on next read */
        }
        if (with_fd && n > 0)
            out_fd_free(g_queue_pop_head(&mon->out_fds));
        g_string_erase(mon->out, 0, n);
        mon->out_done += n;
    }
}

static void
close_monitor(QemuMonitor *mon)
{
    g_autoptr(GError) error = NULL;
    Pending *p;

    if (mon->closed)
        return;
    mon->closed = TRUE;
    if (mon->watch)
        g_source_remove(mon->watch);
    mon->watch = 0;
    sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED,
                 "QEMU monitor closed before replying");
    while ((p = g_queue_pop_head(&mon->pending))) {
        if (p->msg_cb)
            p->msg_cb(mon, NULL, error, p->data);
        else if (p->cb)
            p->cb(mon, NULL, error, p->data);
        pending_free(p);
    }
    if (mon->cb.eof)
        mon->cb.eof(mon, mon->user);
}

/* Queue text, with fd (transfer full; -1: none) on its first byte. */
static void
send_text_fd(QemuMonitor *mon, const char *text, int fd)
{
    if (fd >= 0) {
        OutFd *o = g_new0(OutFd, 1);
        o->at = mon->out_done + mon->out->len;
        o->fd = fd;
        g_queue_push_tail(&mon->out_fds, o);
    }
    g_string_append(mon->out, text);
    g_string_append(mon->out, "\r\n");
    flush_out(mon);
}

static void
send_text(QemuMonitor *mon, const char *text)
{
    send_text_fd(mon, text, -1);
}

/* Members of QEMU's messages, checked: json-glib's typed getters only g_critical() on a
 * member of another type, and what QEMU writes is input like any other. */
const char *
qemu_json_string(JsonObject *obj, const char *name)
{
    JsonNode *n = obj ? json_object_get_member(obj, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

gboolean
qemu_json_bool(JsonObject *obj, const char *name, gboolean otherwise)
{
    JsonNode *n = obj ? json_object_get_member(obj, name) : NULL;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
        return otherwise;
    return json_node_get_boolean(n);
}

JsonObject *
qemu_json_array_object(JsonArray *a, guint i)
{
    JsonNode *n = json_array_get_element(a, i);

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonObject *
member_object(JsonObject *obj, const char *name)
{
    JsonNode *n = json_object_get_member(obj, name);

    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

/* The command id of a reply: N of "libvirt-N", 0 of the handshake's; NO_ID when absent or
 * of another form (a passed-through command's own). */
static guint64
member_id(JsonObject *obj)
{
    JsonNode *n = json_object_get_member(obj, "id");
    const char *s = qemu_json_string(obj, "id");
    guint64 id;

    if (s && g_str_has_prefix(s, ID_PREFIX) &&
        g_ascii_string_to_unsigned(s + strlen(ID_PREFIX), 10, 1, G_MAXUINT64 - 1, &id, NULL))
        return id;
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
        return NO_ID;
    return (guint64)json_node_get_int(n);
}

/* The timestamp QEMU gave an event. */
static void
event_time(QemuMonitor *mon, JsonObject *obj)
{
    JsonNode *n = json_object_get_member(obj, "timestamp");
    JsonObject *ts = n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
    JsonNode *sec = ts ? json_object_get_member(ts, "seconds") : NULL;
    JsonNode *usec = ts ? json_object_get_member(ts, "microseconds") : NULL;

    mon->event_seconds = sec && JSON_NODE_HOLDS_VALUE(sec) ? json_node_get_int(sec) : 0;
    mon->event_micros = usec && JSON_NODE_HOLDS_VALUE(usec) ? json_node_get_int(usec) : 0;
}

void
qemu_monitor_event_time(QemuMonitor *mon, gint64 *seconds, guint *micros)
{
    *seconds = mon->event_seconds;
    *micros = mon->event_micros;
}

/* Whether a reply with this id answers p, the oldest command waiting (QEMU answers in
 * order). A client's command sent without our id takes the next reply, whatever id the
 * client put in it; one with our id also takes a reply without any, QEMU's answer to input
 * it could not parse (more of them may follow: those are dropped). */
static gboolean
reply_is_for(const Pending *p, guint64 id)
{
    if (p->id == NO_ID)
        return TRUE;
    return p->id == id || (p->msg_cb && id == NO_ID);
}

static void
handle_message(QemuMonitor *mon, const char *text)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    JsonObject *obj;

    if (!json_parser_load_from_data(parser, text, -1, NULL) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        g_warning("QEMU monitor sent something that is not a JSON object");
        return;
    }
    obj = json_node_get_object(json_parser_get_root(parser));
    if (json_object_has_member(obj, "QMP")) {
        send_text(mon, "{\"execute\":\"qmp_capabilities\",\"id\":0}");
        return;
    }
    if (json_object_has_member(obj, "event")) {
        const char *name = qemu_json_string(obj, "event");
        if (!name) {
            g_warning("QEMU monitor sent an event without a name");
            return;
        }
        event_time(mon, obj);
        if (mon->cb.event)
            mon->cb.event(mon, name, member_object(obj, "data"), mon->user);
        return;
    }
    if (json_object_has_member(obj, "return") || json_object_has_member(obj, "error")) {
        guint64 id = member_id(obj);
        Pending *p;

        if (id == 0 && !mon->negotiated) {
            mon->negotiated = TRUE;
            for (GList *l = mon->pending.head; l; l = l->next) {
                Pending *q = l->data;
                send_text_fd(mon, q->text, q->fd);
                q->fd = -1;
                g_clear_pointer(&q->text, g_free);
            }
            if (mon->cb.ready)
                mon->cb.ready(mon, mon->user);
            return;
        }
        p = g_queue_peek_head(&mon->pending);
        if (!p || !reply_is_for(p, id)) {
            g_warning("QEMU monitor replied to unknown command id %" G_GUINT64_FORMAT, id);
            return;
        }
        g_queue_pop_head(&mon->pending);
        if (p->msg_cb) {
            p->msg_cb(mon, obj, NULL, p->data);
        } else if (p->cb) {
            if (json_object_has_member(obj, "error")) {
                g_autoptr(GError) error = NULL;
                JsonObject *e = member_object(obj, "error");
                const char *desc = e ? qemu_json_string(e, "desc") : NULL;
                sv_error_set(&error, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR,
                             "unable to execute QEMU command '%s': %s", p->cmd, desc ? desc : "?");
                p->cb(mon, NULL, error, p->data);
            } else {
                p->cb(mon, json_object_get_member(obj, "return"), NULL, p->data);
            }
        }
        pending_free(p);
    }
}

/* Read what is there; on EOF or error close. */
static void
read_some(QemuMonitor *mon, gboolean to_end)
{
    char buf[65536];

    mon->in_callback = TRUE;
    while (!mon->closed) {
        g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func(g_free);
        ssize_t n = recv(mon->fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN && !to_end)
            break;
        if (n < 0 && errno == EAGAIN) {
            /* The process is gone but its socket end lingers: nothing more will come. */
            close_monitor(mon);
            break;
        }
        if (n <= 0) {
            close_monitor(mon);
            break;
        }
        if (!qmp_reader_feed(mon->reader, buf, n, msgs))
            g_warning("QEMU monitor message over %d bytes dropped", QMP_MAX_MESSAGE);
        for (guint i = 0; i < msgs->len && !mon->free_pending; i++)
            handle_message(mon, msgs->pdata[i]);
        if (mon->free_pending)
            break;
    }
    mon->in_callback = FALSE;
    if (mon->free_pending)
        qemu_monitor_free(mon);
}

static gboolean
on_readable(gint fd, GIOCondition cond, gpointer data)
{
    QemuMonitor *mon = data;

    (void)fd;
    (void)cond;
    flush_out(mon);
    read_some(mon, FALSE);
    return G_SOURCE_CONTINUE;
}

QemuMonitor *
qemu_monitor_new(int fd, const QemuMonitorCallbacks *cb, gpointer user)
{
    QemuMonitor *mon = g_new0(QemuMonitor, 1);

    mon->fd = fd;
    mon->cb = *cb;
    mon->user = user;
    mon->reader = qmp_reader_new(QMP_MAX_MESSAGE);
    mon->next_id = 1;
    mon->out = g_string_new(NULL);
    g_queue_init(&mon->pending);
    g_queue_init(&mon->out_fds);
    mon->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, mon);
    return mon;
}

void
qemu_monitor_free(QemuMonitor *mon)
{
    if (!mon)
        return;
    if (mon->in_callback) {
        mon->free_pending = TRUE;
        mon->cb = (QemuMonitorCallbacks){0};
        return;
    }
    if (mon->watch)
        g_source_remove(mon->watch);
    g_queue_clear_full(&mon->pending, (GDestroyNotify)pending_free);
    g_queue_clear_full(&mon->out_fds, (GDestroyNotify)out_fd_free);
    close(mon->fd);
    qmp_reader_free(mon->reader);
    g_string_free(mon->out, TRUE);
    g_free(mon);
}

/* Queue p with its command's text (transfer full): sent now, or once the handshake is done. */
static void
enqueue(QemuMonitor *mon, Pending *p, char *text)
{
    p->since = g_get_real_time();
    p->text = text;
    g_queue_push_tail(&mon->pending, p);
    if (mon->negotiated) {
        send_text_fd(mon, p->text, p->fd);
        p->fd = -1;
        g_clear_pointer(&p->text, g_free);
    }
}

static char *
id_text(guint64 id)
{
    return g_strdup_printf(ID_PREFIX "%" G_GUINT64_FORMAT, id);
}

void
qemu_monitor_command(QemuMonitor *mon, const char *cmd, JsonObject *args, QemuMonitorReplyFunc cb,
                     gpointer data)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *id = NULL;
    Pending *p;

    if (mon->closed) {
        g_autoptr(GError) error = NULL;
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "QEMU monitor is closed");
        if (args)
            json_object_unref(args);
        if (cb)
            cb(mon, NULL, error, data);
        return;
    }
    p = g_new0(Pending, 1);
    p->id = mon->next_id++;
    p->fd = -1;
    p->cmd = g_strdup(cmd);
    p->cb = cb;
    p->data = data;
    id = id_text(p->id);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, cmd);
    if (args) {
        JsonNode *n = json_node_init_object(json_node_alloc(), args);
        json_builder_set_member_name(b, "arguments");
        json_builder_add_value(b, n);
        json_object_unref(args);
    }
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, id);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    enqueue(mon, p, json_generator_to_data(gen, NULL));
}

void
qemu_monitor_passthrough(QemuMonitor *mon, JsonNode *cmd, int fd, QemuMonitorMessageFunc cb,
                         gpointer data)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    JsonObject *obj = JSON_NODE_HOLDS_OBJECT(cmd) ? json_node_get_object(cmd) : NULL;
    Pending *p;

    if (mon->closed) {
        g_autoptr(GError) error = NULL;
        sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "QEMU monitor is closed");
        if (fd >= 0)
            close(fd);
        cb(mon, NULL, error, data);
        return;
    }
    p = g_new0(Pending, 1);
    p->id = NO_ID;
    p->fd = fd;
    p->msg_cb = cb;
    p->data = data;
    if (obj && json_object_has_member(obj, "execute")) {
        const char *name = qemu_json_string(obj, "execute");
        p->id = mon->next_id++;
        p->cmd = g_strdup(name ? name : "");
        g_autofree char *id = id_text(p->id);
        json_object_set_string_member(obj, "id", id);
    }
    json_generator_set_root(gen, cmd);
    enqueue(mon, p, json_generator_to_data(gen, NULL));
}

void
qemu_monitor_drain(QemuMonitor *mon)
{
    if (!mon->closed && !mon->in_callback)
        read_some(mon, TRUE);
}

gboolean
qemu_monitor_is_closed(QemuMonitor *mon)
{
    return mon->closed;
}

gint64
qemu_monitor_busy_since(QemuMonitor *mon)
{
    Pending *p = g_queue_peek_head(&mon->pending);

    return p ? p->since : 0;
}

JsonObject *
qemu_json_command1(const char *cmd, const char *key, const char *value)
{
    JsonObject *step = json_object_new();
    JsonObject *args = json_object_new();

    json_object_set_string_member(args, key, value);
    json_object_set_string_member(step, "execute", cmd);
    json_object_set_object_member(step, "arguments", args);
    return step;
}

GError *
qemu_monitor_reply_error(const char *cmd, JsonObject *reply, const GError *error)
{
    JsonObject *e = reply ? member_object(reply, "error") : NULL;
    const char *desc = e ? qemu_json_string(e, "desc") : NULL;

    if (error)
        return g_error_copy(error);
    if (!reply || !json_object_has_member(reply, "error"))
        return NULL;
    return g_error_new(sv_error_quark(SV_FROM_QEMU), SV_ERR_INTERNAL_ERROR,
                       "unable to execute QEMU command '%s': %s", cmd, desc ? desc : "?");
}
