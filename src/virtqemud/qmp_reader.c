/* qmp_reader.c: splits QEMU's monitor output into JSON objects by tracking
 * brace depth outside strings; the text itself is parsed later with json-glib. */
#include "qmp_reader.h"

struct QmpReader {
    GString *cur;      /* the object being read */
    int depth;         /* braces and brackets open */
    gboolean in_string;
    gboolean escape;
    gsize max;
    gsize garbage;
};

QmpReader *
qmp_reader_new(gsize max_message)
{
    QmpReader *r = g_new0(QmpReader, 1);

    r->cur = g_string_new(NULL);
    r->max = max_message;
    return r;
}

void
qmp_reader_free(QmpReader *r)
{
    if (!r)
        return;
    g_string_free(r->cur, TRUE);
    g_free(r);
}

gsize
qmp_reader_garbage(const QmpReader *r)
{
    return r->garbage;
}

static void
reset(QmpReader *r)
{
    g_string_truncate(r->cur, 0);
    r->depth = 0;
    r->in_string = FALSE;
    r->escape = FALSE;
}

gboolean
qmp_reader_feed(QmpReader *r, const char *data, gsize len, GPtrArray *out)
{
    gboolean ok = TRUE;

    for (gsize i = 0; i < len; i++) {
        char c = data[i];

        if (r->depth == 0) {
            if (c == '{') {
                g_string_append_c(r->cur, c);
                r->depth = 1;
            } else if (!g_ascii_isspace(c)) {
                r->garbage++;
            }
            continue;
        }
        g_string_append_c(r->cur, c);
        if (r->cur->len > r->max) {
            reset(r);
            ok = FALSE;
            continue;
        }
        if (r->in_string) {
            if (r->escape)
                r->escape = FALSE;
            else if (c == '\\')
                r->escape = TRUE;
            else if (c == '"')
                r->in_string = FALSE;
            continue;
        }
        switch (c) {
        case '"':
            r->in_string = TRUE;
            break;
        case '{':
        case '[':
            r->depth++;
            break;
        case '}':
        case ']':
            if (--r->depth == 0) {
                g_ptr_array_add(out, g_strndup(r->cur->str, r->cur->len));
                g_string_truncate(r->cur, 0);
            }
            break;
        default:
            break;
        }
    }
    return ok;
}
