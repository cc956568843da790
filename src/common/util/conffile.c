/* conffile.c: a small parser for libvirt-style configuration files. */
#include "util/conffile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

typedef enum { VAL_INT, VAL_STRING, VAL_LIST } ValType;

typedef struct {
    ValType type;
    gint64 i;
    char *s;
    GStrv list;
    int line;
} Value;

struct SvConfFile {
    char *origin;
    GHashTable *values; /* key -> Value */
};

static void
value_free(gpointer p)
{
    Value *v = p;

    g_free(v->s);
    g_strfreev(v->list);
    g_free(v);
}

SvConfFile *
sv_conf_file_new_empty(void)
{
    SvConfFile *conf = g_new0(SvConfFile, 1);

    conf->origin = g_strdup("(defaults)");
    conf->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, value_free);
    return conf;
}

void
sv_conf_file_free(SvConfFile *conf)
{
    if (!conf)
        return;
    g_hash_table_unref(conf->values);
    g_free(conf->origin);
    g_free(conf);
}

typedef struct {
    const char *p;
    int line;
    const char *origin;
} Lexer;

static void
skip_blank(Lexer *lx, gboolean newlines)
{
    for (;;) {
        if (*lx->p == '#') {
            while (*lx->p && *lx->p != '\n')
                lx->p++;
        } else if (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r') {
            lx->p++;
        } else if (newlines && *lx->p == '\n') {
            lx->line++;
            lx->p++;
        } else {
            return;
        }
    }
}

static gboolean
fail(Lexer *lx, GError **error, const char *what)
{
    sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED, "%s:%d: %s", lx->origin, lx->line,
                 what);
    return FALSE;
}

static gboolean
parse_string(Lexer *lx, char **out, GError **error)
{
    char quote = *lx->p++;
    GString *s = g_string_new(NULL);

    while (*lx->p && *lx->p != quote && *lx->p != '\n')
        g_string_append_c(s, *lx->p++);
    if (*lx->p != quote) {
        g_string_free(s, TRUE);
        return fail(lx, error, "unterminated string");
    }
    lx->p++;
    *out = g_string_free(s, FALSE);
    return TRUE;
}

static gboolean
parse_value(Lexer *lx, Value *v, GError **error)
{
    if (*lx->p == '"' || *lx->p == '\'') {
        v->type = VAL_STRING;
        return parse_string(lx, &v->s, error);
    }
    if (*lx->p == '[') {
        g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
        lx->p++;
        v->type = VAL_LIST;
        for (;;) {
            char *s;
            skip_blank(lx, TRUE);
            if (*lx->p == ']') {
                lx->p++;
                break;
            }
            if (*lx->p != '"' && *lx->p != '\'')
                return fail(lx, error, "expected a string in the list");
            if (!parse_string(lx, &s, error))
                return FALSE;
            g_ptr_array_add(items, s);
            skip_blank(lx, TRUE);
            if (*lx->p == ',')
                lx->p++;
            else if (*lx->p != ']')
                return fail(lx, error, "expected ',' or ']'");
        }
        g_ptr_array_add(items, NULL);
        v->list = (GStrv)g_ptr_array_steal(items, NULL);
        return TRUE;
    }
    if (*lx->p == '-' || g_ascii_isdigit(*lx->p)) {
        char *end;
        errno = 0;
        v->type = VAL_INT;
        v->i = g_ascii_strtoll(lx->p, &end, 0);
        if (errno || end == lx->p)
            return fail(lx, error, "bad integer");
        lx->p = end;
        return TRUE;
    }
    return fail(lx, error, "expected a value");
}

SvConfFile *
sv_conf_file_parse(const char *text, const char *origin, GError **error)
{
    g_autoptr(SvConfFile) conf = sv_conf_file_new_empty();
    Lexer lx = {text, 1, origin};

    g_free(conf->origin);
    conf->origin = g_strdup(origin);
    for (;;) {
        const char *start;
        g_autofree char *key = NULL;
        Value *v;

        skip_blank(&lx, TRUE);
        if (!*lx.p)
            break;
        start = lx.p;
        while (g_ascii_isalnum(*lx.p) || *lx.p == '_' || *lx.p == '.')
            lx.p++;
        if (lx.p == start) {
            fail(&lx, error, "expected a key");
            return NULL;
        }
        key = g_strndup(start, lx.p - start);
        skip_blank(&lx, FALSE);
        if (*lx.p != '=') {
            fail(&lx, error, "expected '='");
            return NULL;
        }
        lx.p++;
        skip_blank(&lx, FALSE);
        v = g_new0(Value, 1);
        v->line = lx.line;
        if (!parse_value(&lx, v, error)) {
            value_free(v);
            return NULL;
        }
        g_hash_table_replace(conf->values, g_steal_pointer(&key), v);
        skip_blank(&lx, FALSE);
        if (*lx.p && *lx.p != '\n') {
            fail(&lx, error, "trailing text after the value");
            return NULL;
        }
    }
    return g_steal_pointer(&conf);
}

SvConfFile *
sv_conf_file_load(const char *path, gboolean optional, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;

    if (!g_file_get_contents(path, &text, NULL, &local)) {
        if (optional && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return sv_conf_file_new_empty();
        sv_error_set(error, SV_FROM_CONF, SV_ERR_OPERATION_FAILED,
                     "cannot read configuration file: %s", local->message);
        return NULL;
    }
    return sv_conf_file_parse(text, path, error);
}

gboolean
sv_conf_file_has(SvConfFile *conf, const char *key)
{
    return g_hash_table_contains(conf->values, key);
}

static Value *
lookup(SvConfFile *conf, const char *key, ValType type, GError **error)
{
    Value *v = g_hash_table_lookup(conf->values, key);
    static const char *names[] = {"an integer", "a string", "a list of strings"};

    if (v && v->type != type && !(type == VAL_LIST && v->type == VAL_STRING)) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED, "%s:%d: '%s' must be %s",
                     conf->origin, v->line, key, names[type]);
        return GINT_TO_POINTER(-1);
    }
    return v;
}

gboolean
sv_conf_file_get_uint(SvConfFile *conf, const char *key, guint *out, GError **error)
{
    Value *v = lookup(conf, key, VAL_INT, error);

    if (v == GINT_TO_POINTER(-1))
        return FALSE;
    if (!v)
        return TRUE;
    if (v->i < 0 || v->i > G_MAXUINT) {
        sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED,
                     "%s:%d: '%s' is out of range", conf->origin, v->line, key);
        return FALSE;
    }
    *out = (guint)v->i;
    return TRUE;
}

gboolean
sv_conf_file_get_string(SvConfFile *conf, const char *key, char **out, GError **error)
{
    Value *v = lookup(conf, key, VAL_STRING, error);

    if (v == GINT_TO_POINTER(-1))
        return FALSE;
    if (v) {
        g_free(*out);
        *out = g_strdup(v->s);
    }
    return TRUE;
}

gboolean
sv_conf_file_get_strv(SvConfFile *conf, const char *key, GStrv *out, GError **error)
{
    Value *v = lookup(conf, key, VAL_LIST, error);

    if (v == GINT_TO_POINTER(-1))
        return FALSE;
    if (v) {
        g_strfreev(*out);
        if (v->type == VAL_STRING) {
            *out = g_new0(char *, 2);
            (*out)[0] = g_strdup(v->s);
        } else {
            *out = g_strdupv(v->list);
        }
    }
    return TRUE;
}
