/* log.h: the daemons' log output: one line per message on stderr, with levels, and
 * libvirt's log filters and outputs (log_filters/log_outputs, virt-admin). */
#pragma once

#include <glib.h>

#include "util/conffile.h"

/* Install the log writer; debug messages only when verbose. */
void sv_log_init(const char *progname, gboolean verbose);

/* Apply `log_level` (1 debug, 2 info, 3 warning, 4 error) from the configuration;
 * --verbose wins. Also applies `log_filters` and `log_outputs` (libvirt's syntax,
 * below); a value that does not parse is reported as a warning and ignored. */
void sv_config_logging(SvConfFile *conf, gboolean verbose);

/* Where an output sends lines ("LEVEL:stderr", "LEVEL:syslog:IDENT",
 * "LEVEL:file:PATH", "LEVEL:journald"). */
typedef enum {
    SV_LOG_DEST_STDERR,
    SV_LOG_DEST_SYSLOG,
    SV_LOG_DEST_FILE,
    SV_LOG_DEST_JOURNALD,
    SV_LOG_DEST_LAST,
} SvLogDest;

/* NULL for values out of range. */
const char *sv_log_dest_to_string(SvLogDest dest);
/* -1 for unknown or NULL strings. */
int sv_log_dest_from_string(const char *s);

/* A message's category, matched by filters: its source path below src/ without the
 * extension, dots for slashes ("../src/common/rpc/server.c" -> "common.rpc.server").
 * (transfer full) */
char *sv_log_category(const char *code_file);

/* Replace the filters with `spec`: space-separated "LEVEL:MATCH" items; a message
 * whose category contains MATCH (a glob; "*" and "?" allowed) is kept from LEVEL up,
 * the first matching filter deciding, others from the log level up. NULL or "" drops
 * every filter. On a parse error nothing changes (INVALID_ARG, libvirt's texts). */
gboolean sv_log_set_filters(const char *spec, GError **error);

/* The filters as libvirt prints them, "LEVEL:*MATCH* " each (trailing space
 * included), and their number. NULL when there are none. (transfer full) */
char *sv_log_get_filters(guint *ret_n);

/* Replace the outputs with `spec`: space-separated items as in SvLogDest; a later
 * item for the same destination replaces an earlier one. NULL or "" restores the
 * default: stderr at the log level. On error nothing changes. */
gboolean sv_log_set_outputs(const char *spec, GError **error);

/* The outputs, space-separated, and their number (at least 1). (transfer full) */
char *sv_log_get_outputs(guint *ret_n);
