/* xl_cfg.h: the syntax of xl.cfg files (xl.cfg(5)), pure text in and out: settings
 * `key = value` or `key += value`, where a value is a number, a "quoted" or 'quoted' string
 * or a [ list ] of values; '#' starts a comment, a newline or ';' ends a setting, and lists
 * may span lines. What the settings mean is xen_xl.c's business. */
#pragma once

#include <glib.h>

typedef enum {
    XL_VALUE_STRING, /* quoted text */
    XL_VALUE_NUMBER, /* unquoted digits, kept as written (xl itself reads both as strings) */
    XL_VALUE_LIST,
    XL_VALUE_LAST
} XlValueType;

typedef struct XlValue XlValue;
struct XlValue {
    XlValueType type;
    char *str;        /* STRING and NUMBER: the text, unescaped; NULL for lists */
    GPtrArray *items; /* LIST: of XlValue, never NULL for lists */
};

void xl_value_free(XlValue *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XlValue, xl_value_free)

typedef struct {
    char *key;
    XlValue *value;
    guint line; /* where it was set (0 when built, not parsed) */
} XlEntry;

/* An ordered set of settings, each key at most once. */
typedef struct XlCfg XlCfg;

XlCfg *xl_cfg_new(void);
void xl_cfg_free(XlCfg *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XlCfg, xl_cfg_free)

/* Parse xl.cfg text. A key set twice keeps its place and takes the later value, as xl
 * reads it; `+=` appends to an earlier string or list. Syntax errors are CONFIG_UNSUPPORTED
 * in error domain CONF, "xl.cfg:LINE: what". Returns (transfer full) or NULL. */
XlCfg *xl_cfg_parse(const char *text, GError **error);

/* One `key = value` line per setting, in order; strings double-quoted with xl's escapes,
 * lists on one line as `[ "a", "b" ]`. Parsing the result gives the same settings.
 * (transfer full) */
char *xl_cfg_format(const XlCfg *cfg);

guint xl_cfg_size(const XlCfg *cfg);
/* The i-th setting (transfer none). */
const XlEntry *xl_cfg_get_entry(const XlCfg *cfg, guint i);
/* The value of key, or NULL (transfer none). */
const XlValue *xl_cfg_lookup(const XlCfg *cfg, const char *key);

/* Set key (replacing any earlier value in place, else appending). */
void xl_cfg_set_string(XlCfg *cfg, const char *key, const char *value);
void xl_cfg_set_number(XlCfg *cfg, const char *key, guint64 value);
/* A list of strings (transfer none of strv). */
void xl_cfg_set_string_list(XlCfg *cfg, const char *key, const char *const *strv);

const char *xl_value_type_to_string(int v);
int xl_value_type_from_string(const char *s);
