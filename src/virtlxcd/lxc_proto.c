/* lxc_proto.c: supervisor protocol messages and the line splitter. */
#include "lxc_proto.h"

#include <string.h>

#include "util/error.h"

static const char *const msg_names[LXC_MSG_LAST] = {"SUPERVISOR", "RUNNING", "REBOOTED",
                                                    "EXITED", "FAILED"};

const char *
lxc_msg_type_to_string(int v)
{
    return v >= 0 && v < LXC_MSG_LAST ? msg_names[v] : NULL;
}

int
lxc_msg_type_from_string(const char *s)
{
    for (int i = 0; s && i < LXC_MSG_LAST; i++) {
        if (g_str_equal(s, msg_names[i]))
            return i;
    }
    return -1;
}

void
lxc_msg_clear(LxcMsg *msg)
{
    g_free(msg->pty);
    g_free(msg->text);
    memset(msg, 0, sizeof(*msg));
}

char *
lxc_msg_format(const LxcMsg *msg)
{
    const char *name = lxc_msg_type_to_string(msg->type);
    g_autofree char *text = NULL;

    g_return_val_if_fail(name, NULL);
    switch (msg->type) {
    case LXC_MSG_SUPERVISOR:
        return g_strdup_printf("%s %d %d\n", name, msg->version, (int)msg->pid);
    case LXC_MSG_RUNNING:
        return g_strdup_printf("%s %d %" G_GUINT64_FORMAT " %s\n", name, (int)msg->pid,
                               msg->start_time, msg->pty ? msg->pty : "-");
    case LXC_MSG_REBOOTED:
        return g_strdup_printf("%s %d %" G_GUINT64_FORMAT "\n", name, (int)msg->pid,
                               msg->start_time);
    case LXC_MSG_EXITED:
        return g_strdup_printf("%s %s %d\n", name, msg->signaled ? "signaled" : "exited",
                               msg->code);
    case LXC_MSG_FAILED:
        text = g_strescape(msg->text ? msg->text : "", NULL);
        return g_strdup_printf("%s %s\n", name, text);
    default:
        g_return_val_if_reached(NULL);
    }
}

static gboolean
parse_int(const char *s, gint64 min, gint64 max, gint64 *out)
{
    char *end;
    gint64 v;

    if (!s || !g_ascii_isdigit(*s))
        return FALSE;
    v = g_ascii_strtoll(s, &end, 10);
    if (*end || v < min || v > max)
        return FALSE;
    *out = v;
    return TRUE;
}

static gboolean
parse_fields(LxcMsg *m, char **f, guint n)
{
    gint64 a = 0, b = 0;

    switch (m->type) {
    case LXC_MSG_SUPERVISOR:
        if (n != 3 || !parse_int(f[1], 0, G_MAXINT, &a) || !parse_int(f[2], 1, G_MAXINT, &b))
            return FALSE;
        m->version = (int)a;
        m->pid = (pid_t)b;
        return TRUE;
    case LXC_MSG_RUNNING:
    case LXC_MSG_REBOOTED:
        if (n != (m->type == LXC_MSG_RUNNING ? 4u : 3u) || !parse_int(f[1], 1, G_MAXINT, &a) ||
            !parse_int(f[2], 0, G_MAXINT64, &b))
            return FALSE;
        m->pid = (pid_t)a;
        m->start_time = (guint64)b;
        if (m->type == LXC_MSG_RUNNING && !g_str_equal(f[3], "-"))
            m->pty = g_strdup(f[3]);
        return TRUE;
    case LXC_MSG_EXITED:
        if (n != 3 || !(g_str_equal(f[1], "exited") || g_str_equal(f[1], "signaled")) ||
            !parse_int(f[2], 0, 255, &a))
            return FALSE;
        m->signaled = g_str_equal(f[1], "signaled");
        m->code = (int)a;
        return TRUE;
    default:
        return FALSE;
    }
}

gboolean
lxc_msg_parse(const char *line, LxcMsg *out, GError **error)
{
    g_auto(GStrv) f = NULL;
    const char *sp = strchr(line, ' ');
    g_autofree char *word = g_strndup(line, sp ? (gsize)(sp - line) : strlen(line));
    int type = lxc_msg_type_from_string(word);

    memset(out, 0, sizeof(*out));
    if (type < 0)
        goto bad;
    out->type = type;
    if (type == LXC_MSG_FAILED) {
        /* Everything after the first space, as escaped. */
        out->text = g_strcompress(sp ? sp + 1 : "");
        return TRUE;
    }
    f = g_strsplit(line, " ", -1);
    if (parse_fields(out, f, g_strv_length(f)))
        return TRUE;
    lxc_msg_clear(out);
bad:
    sv_error_set(error, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                 "malformed message from the container supervisor: '%.80s'", line);
    return FALSE;
}

struct LxcLineReader {
    GString *buf;
};

LxcLineReader *
lxc_line_reader_new(void)
{
    LxcLineReader *r = g_new0(LxcLineReader, 1);

    r->buf = g_string_new(NULL);
    return r;
}

void
lxc_line_reader_free(LxcLineReader *r)
{
    if (!r)
        return;
    g_string_free(r->buf, TRUE);
    g_free(r);
}

gssize
lxc_line_reader_feed_one(LxcLineReader *r, const char *data, gsize len, char **line)
{
    const char *nl = memchr(data, '\n', len);
    gsize take = nl ? (gsize)(nl - data) + 1 : len;

    *line = NULL;
    g_string_append_len(r->buf, data, take);
    if (r->buf->len > LXC_PROTO_LINE_MAX) {
        g_string_truncate(r->buf, 0);
        return -1;
    }
    if (nl) {
        g_string_truncate(r->buf, r->buf->len - 1);
        *line = g_strdup(r->buf->str);
        g_string_truncate(r->buf, 0);
    }
    return (gssize)take;
}

gboolean
lxc_line_reader_feed(LxcLineReader *r, const char *data, gsize len, GPtrArray *out)
{
    while (len > 0) {
        char *line;
        gssize n = lxc_line_reader_feed_one(r, data, len, &line);

        if (n < 0)
            return FALSE;
        if (line)
            g_ptr_array_add(out, line);
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}
