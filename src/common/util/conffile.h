/* conffile.h: libvirt-style configuration files: `key = value` lines, where a value is an
 * integer, a "string" or a [ "list", "of", "strings" ], and # starts a comment. */
#pragma once

#include <glib.h>

typedef struct SvConfFile SvConfFile;

/* Parse text; `origin` names it in errors ("virtqemud.conf:12: ..."). */
SvConfFile *sv_conf_file_parse(const char *text, const char *origin, GError **error);

/* Read and parse a file; a missing file gives an empty configuration when `optional`. */
SvConfFile *sv_conf_file_load(const char *path, gboolean optional, GError **error);

SvConfFile *sv_conf_file_new_empty(void);
void sv_conf_file_free(SvConfFile *conf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvConfFile, sv_conf_file_free)

/* Each getter leaves *out alone when the key is absent and fails when the
 * value has the wrong type or range. */
gboolean sv_conf_file_get_uint(SvConfFile *conf, const char *key, guint *out, GError **error);
gboolean sv_conf_file_get_string(SvConfFile *conf, const char *key, char **out, GError **error);
/* A list, or a single string taken as a list of one. (transfer full) */
gboolean sv_conf_file_get_strv(SvConfFile *conf, const char *key, GStrv *out, GError **error);

gboolean sv_conf_file_has(SvConfFile *conf, const char *key);
