/* xl_cfg.c: a lexer and a recursive-descent parser for xl.cfg, and its formatter.
 *
 * The grammar is libxlutil's (libxlu_cfg_y.y): settings separated by newlines or ';',
 * values that are atoms or bracketed lists, newlines allowed inside lists and a trailing
 * comma before ']'. Escapes are those xl's dequoting understands; \x and octal escapes are
 * refused because xl itself mis-reads them. Input comes from clients, so list nesting is
 * bounded. */
#include "xl_cfg.h"

#include <string.h>

#include "util/error.h"

#define XL_MAX_DEPTH 8

struct XlCfg {
    GPtrArray *entries; /* of XlEntry */
};

static const char *const value_type_names[] = {"string", "number", "list"};
G_STATIC_ASSERT(G_N_ELEMENTS(value_type_names) == XL_VALUE_LAST);

const char *
xl_value_type_to_string(int v)
{
    return v >= 0 && v < XL_VALUE_LAST ? value_type_names[v] : NULL;
}

int
xl_value_type_from_string(const char *s)
{
    for (int i = 0; s && i < XL_VALUE_LAST; i++) {
        if (g_str_equal(s, value_type_names[i]))
            return i;
    }
    return -1;
}

void
xl_value_free(XlValue *v)
{
    if (!v)
        return;
    g_free(v->str);
    if (v->items)
        g_ptr_array_unref(v->items);
    g_free(v);
}

static XlValue *
value_new(XlValueType type, const char *str)
{
    XlValue *v = g_new0(XlValue, 1);

    v->type = type;
    v->str = g_strdup(str);
    if (type == XL_VALUE_LIST)
        v->items = g_ptr_array_new_with_free_func((GDestroyNotify)xl_value_free);
    return v;
}

static void
entry_free(gpointer p)
{
    XlEntry *e = p;

    g_free(e->key);
    xl_value_free(e->value);
    g_free(e);
}

XlCfg *
xl_cfg_new(void)
{
    XlCfg *cfg = g_new0(XlCfg, 1);

    cfg->entries = g_ptr_array_new_with_free_func(entry_free);
    return cfg;
}

void
xl_cfg_free(XlCfg *cfg)
{
    if (!cfg)
        return;
    g_ptr_array_unref(cfg->entries);
    g_free(cfg);
}

guint
xl_cfg_size(const XlCfg *cfg)
{
    return cfg->entries->len;
}

const XlEntry *
xl_cfg_get_entry(const XlCfg *cfg, guint i)
{
    g_return_val_if_fail(i < cfg->entries->len, NULL);
    return cfg->entries->pdata[i];
}

static XlEntry *
find(const XlCfg *cfg, const char *key)
{
    for (guint i = 0; i < cfg->entries->len; i++) {
        XlEntry *e = cfg->entries->pdata[i];

        if (g_str_equal(e->key, key))
            return e;
    }
    return NULL;
}

const XlValue *
xl_cfg_lookup(const XlCfg *cfg, const char *key)
{
    XlEntry *e = find(cfg, key);

    return e ? e->value : NULL;
}

/* Store (transfer full of value). */
static void
set_value(XlCfg *cfg, const char *key, XlValue *value, guint line)
{
    XlEntry *e = find(cfg, key);

    if (e) {
        xl_value_free(e->value);
        e->value = value;
        e->line = line;
        return;
    }
    e = g_new0(XlEntry, 1);
    e->key = g_strdup(key);
    e->value = value;
    e->line = line;
    g_ptr_array_add(cfg->entries, e);
}

void
xl_cfg_set_string(XlCfg *cfg, const char *key, const char *value)
{
    set_value(cfg, key, value_new(XL_VALUE_STRING, value), 0);
}

void
xl_cfg_set_number(XlCfg *cfg, const char *key, guint64 value)
{
    g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT, value);

    set_value(cfg, key, value_new(XL_VALUE_NUMBER, text), 0);
}

void
xl_cfg_set_string_list(XlCfg *cfg, const char *key, const char *const *strv)
{
    XlValue *list = value_new(XL_VALUE_LIST, NULL);

    for (; strv && *strv; strv++)
        g_ptr_array_add(list->items, value_new(XL_VALUE_STRING, *strv));
    set_value(cfg, key, list, 0);
}

/* ---------------------------------------------------------------- lexer */

typedef enum {
    TOK_EOF,
    TOK_NEWLINE,
    TOK_SEMICOLON,
    TOK_ID,
    TOK_NUMBER,
    TOK_STRING,
    TOK_ASSIGN,
    TOK_APPEND,
    TOK_LBRACKET,
    TOK_RBRACKET,
    TOK_COMMA,
} TokType;

typedef struct {
    const char *p;
    guint line;
    /* The current token. */
    TokType type;
    char *text; /* ID, NUMBER, STRING (unescaped); owned */
    guint tok_line;
    char *quoted; /* describe()'s last answer; owned */
} Lexer;

static void
fail(GError **error, guint line, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void
fail(GError **error, guint line, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    sv_error_set(error, SV_FROM_CONF, SV_ERR_CONFIG_UNSUPPORTED, "xl.cfg:%u: %s", line, msg);
}

/* What a token looks like in an error message. (transfer none, valid until the next token) */
static const char *
describe(Lexer *lx)
{
    static const char *const names[] = {"end of file", "end of line", "';'", NULL,  NULL,
                                        NULL,          "'='",         "'+='", "'['", "']'",
                                        "','"};

    if (names[lx->type])
        return names[lx->type];
    g_free(lx->quoted);
    lx->quoted = g_strdup_printf(lx->type == TOK_STRING ? "\"%s\"" : "'%s'", lx->text);
    return lx->quoted;
}

static gboolean
lex_string(Lexer *lx, GError **error)
{
    char quote = *lx->p++;
    GString *s = g_string_new(NULL);
    static const char escapes[] = "\"\"''\\\\a\ab\bf\fn\nr\rt\tv\v";

    while (*lx->p != quote) {
        char c = *lx->p;
        const char *e;

        if (c == '\0' || c == '\n') {
            fail(error, lx->line, "unterminated string");
            g_string_free(s, TRUE);
            return FALSE;
        }
        lx->p++;
        if (c != '\\') {
            g_string_append_c(s, c);
            continue;
        }
        for (e = escapes; *e && *e != *lx->p; e += 2)
            ;
        if (!*lx->p || !*e) {
            fail(error, lx->line, "unsupported escape '\\%c' in a string", *lx->p ? *lx->p : ' ');
            g_string_free(s, TRUE);
            return FALSE;
        }
        g_string_append_c(s, e[1]);
        lx->p++;
    }
    lx->p++;
    lx->type = TOK_STRING;
    lx->text = g_string_free(s, FALSE);
    return TRUE;
}

static gboolean
lex_word(Lexer *lx, GError **error)
{
    const char *start = lx->p;
    gboolean number = g_ascii_isdigit(*start);

    while (g_ascii_isalnum(*lx->p) || *lx->p == '_' || *lx->p == '.')
        lx->p++;
    lx->text = g_strndup(start, lx->p - start);
    lx->type = number ? TOK_NUMBER : TOK_ID;
    if (number) {
        const char *digits = lx->text;
        gboolean hex = g_str_has_prefix(digits, "0x") || g_str_has_prefix(digits, "0X");

        for (digits += hex ? 2 : 0; *digits; digits++) {
            if (!(hex ? g_ascii_isxdigit(*digits) : g_ascii_isdigit(*digits)))
                break;
        }
        if (*digits || (hex && strlen(lx->text) == 2)) {
            fail(error, lx->line, "'%s' is not a number", lx->text);
            return FALSE;
        }
    }
    return TRUE;
}

/* Read the next token. */
static gboolean
lex(Lexer *lx, GError **error)
{
    g_clear_pointer(&lx->text, g_free);
    for (;;) {
        while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r')
            lx->p++;
        if (*lx->p != '#')
            break;
        while (*lx->p && *lx->p != '\n')
            lx->p++;
    }
    lx->tok_line = lx->line;
    switch (*lx->p) {
    case '\0':
        lx->type = TOK_EOF;
        return TRUE;
    case '\n':
        lx->line++;
        lx->p++;
        lx->type = TOK_NEWLINE;
        return TRUE;
    case ';':
        lx->p++;
        lx->type = TOK_SEMICOLON;
        return TRUE;
    case '=':
        lx->p++;
        lx->type = TOK_ASSIGN;
        return TRUE;
    case '[':
        lx->p++;
        lx->type = TOK_LBRACKET;
        return TRUE;
    case ']':
        lx->p++;
        lx->type = TOK_RBRACKET;
        return TRUE;
    case ',':
        lx->p++;
        lx->type = TOK_COMMA;
        return TRUE;
    case '"':
    case '\'':
        return lex_string(lx, error);
    default:
        break;
    }
    if (lx->p[0] == '+' && lx->p[1] == '=') {
        lx->p += 2;
        lx->type = TOK_APPEND;
        return TRUE;
    }
    if (g_ascii_isalnum(*lx->p) || *lx->p == '_')
        return lex_word(lx, error);
    fail(error, lx->line, "unexpected character '%c'", *lx->p);
    return FALSE;
}

/* Skip the newlines a list may contain. */
static gboolean
lex_skip_newlines(Lexer *lx, GError **error)
{
    while (lx->type == TOK_NEWLINE) {
        if (!lex(lx, error))
            return FALSE;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- parser */

/* A value starting at the current token; leaves the token after it current. */
static XlValue *
parse_value(Lexer *lx, guint depth, GError **error)
{
    g_autoptr(XlValue) list = NULL;

    if (lx->type == TOK_STRING || lx->type == TOK_NUMBER) {
        XlValue *v = value_new(lx->type == TOK_STRING ? XL_VALUE_STRING : XL_VALUE_NUMBER,
                               lx->text);
        return lex(lx, error) ? v : (xl_value_free(v), NULL);
    }
    if (lx->type != TOK_LBRACKET) {
        fail(error, lx->tok_line, "expected a value, not %s", describe(lx));
        return NULL;
    }
    if (depth >= XL_MAX_DEPTH) {
        fail(error, lx->tok_line, "lists nested more than %d deep", XL_MAX_DEPTH);
        return NULL;
    }
    list = value_new(XL_VALUE_LIST, NULL);
    if (!lex(lx, error) || !lex_skip_newlines(lx, error))
        return NULL;
    while (lx->type != TOK_RBRACKET) {
        XlValue *item = parse_value(lx, depth + 1, error);

        if (!item)
            return NULL;
        g_ptr_array_add(list->items, item);
        if (!lex_skip_newlines(lx, error))
            return NULL;
        if (lx->type == TOK_RBRACKET)
            break;
        if (lx->type != TOK_COMMA) {
            fail(error, lx->tok_line, "expected ',' or ']' in a list, not %s", describe(lx));
            return NULL;
        }
        if (!lex(lx, error) || !lex_skip_newlines(lx, error))
            return NULL;
    }
    return lex(lx, error) ? g_steal_pointer(&list) : NULL;
}

/* xl's `+=`: append to an earlier string or list; with nothing earlier, assign. */
static gboolean
append_value(XlCfg *cfg, const char *key, XlValue *value, guint line, GError **error)
{
    XlEntry *e = find(cfg, key);

    if (!e) {
        set_value(cfg, key, value, line);
        return TRUE;
    }
    if (e->value->type == XL_VALUE_LIST && value->type == XL_VALUE_LIST) {
        for (guint i = 0; i < value->items->len; i++)
            g_ptr_array_add(e->value->items, g_steal_pointer(&value->items->pdata[i]));
        xl_value_free(value);
        return TRUE;
    }
    if (e->value->type != XL_VALUE_LIST && value->type != XL_VALUE_LIST) {
        char *joined = g_strconcat(e->value->str, value->str, NULL);

        g_free(e->value->str);
        e->value->str = joined;
        e->value->type = XL_VALUE_STRING;
        xl_value_free(value);
        return TRUE;
    }
    xl_value_free(value);
    fail(error, line, "'+=' mixes a list and a string for '%s'", key);
    return FALSE;
}

static gboolean
parse_setting(Lexer *lx, XlCfg *cfg, GError **error)
{
    g_autofree char *key = g_steal_pointer(&lx->text);
    guint line = lx->tok_line;
    gboolean append;
    XlValue *value;

    if (!lex(lx, error))
        return FALSE;
    if (lx->type != TOK_ASSIGN && lx->type != TOK_APPEND) {
        fail(error, lx->tok_line, "expected '=' after '%s', not %s", key, describe(lx));
        return FALSE;
    }
    append = lx->type == TOK_APPEND;
    if (!lex(lx, error))
        return FALSE;
    value = parse_value(lx, 0, error);
    if (!value)
        return FALSE;
    if (lx->type != TOK_NEWLINE && lx->type != TOK_SEMICOLON && lx->type != TOK_EOF) {
        fail(error, lx->tok_line, "unexpected %s after the value of '%s'", describe(lx), key);
        xl_value_free(value);
        return FALSE;
    }
    if (append)
        return append_value(cfg, key, value, line, error);
    set_value(cfg, key, value, line);
    return TRUE;
}

XlCfg *
xl_cfg_parse(const char *text, GError **error)
{
    g_autoptr(XlCfg) cfg = xl_cfg_new();
    Lexer lx = {.p = text, .line = 1};
    gboolean ok = TRUE;

    g_return_val_if_fail(text != NULL, NULL);
    while (ok && (ok = lex(&lx, error)) && lx.type != TOK_EOF) {
        if (lx.type == TOK_NEWLINE || lx.type == TOK_SEMICOLON)
            continue;
        if (lx.type != TOK_ID) {
            fail(error, lx.tok_line, "expected a setting name, not %s", describe(&lx));
            ok = FALSE;
            break;
        }
        ok = parse_setting(&lx, cfg, error);
        /* The token ending the setting is current; a final EOF ends the loop below. */
        if (ok && lx.type == TOK_EOF)
            break;
    }
    g_free(lx.text);
    g_free(lx.quoted);
    return ok ? g_steal_pointer(&cfg) : NULL;
}

/* ---------------------------------------------------------------- formatter */

static void
format_value(GString *out, const XlValue *v)
{
    switch (v->type) {
    case XL_VALUE_NUMBER:
        g_string_append(out, v->str);
        break;
    case XL_VALUE_STRING:
        g_string_append_c(out, '"');
        for (const char *p = v->str; *p; p++) {
            switch (*p) {
            case '"':
            case '\\':
                g_string_append_c(out, '\\');
                g_string_append_c(out, *p);
                break;
            case '\n':
                g_string_append(out, "\\n");
                break;
            case '\t':
                g_string_append(out, "\\t");
                break;
            case '\r':
                g_string_append(out, "\\r");
                break;
            default:
                g_string_append_c(out, *p);
            }
        }
        g_string_append_c(out, '"');
        break;
    case XL_VALUE_LIST:
        g_string_append_c(out, '[');
        for (guint i = 0; i < v->items->len; i++) {
            g_string_append(out, i ? ", " : " ");
            format_value(out, v->items->pdata[i]);
        }
        g_string_append(out, v->items->len ? " ]" : "]");
        break;
    case XL_VALUE_LAST:
        g_assert_not_reached();
    }
}

char *
xl_cfg_format(const XlCfg *cfg)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < cfg->entries->len; i++) {
        const XlEntry *e = cfg->entries->pdata[i];

        g_string_append_printf(out, "%s = ", e->key);
        format_value(out, e->value);
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}
