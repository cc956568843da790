/* log.c: a structured-log writer in libvirt's line format. */
#include "log.h"

#include <stdio.h>
#include <unistd.h>

static const char *prog = "splitvirt";
static int min_level = 2; /* libvirt's numbering: 1 debug, 2 info, 3 warning, 4 error */

static int
level_of(GLogLevelFlags flags)
{
    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return 4;
    if (flags & G_LOG_LEVEL_WARNING)
        return 3;
    if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        return 2;
    return 1;
}

static GLogWriterOutput
writer(GLogLevelFlags flags, const GLogField *fields, gsize n_fields, gpointer data)
{
    static const char *names[] = {"", "debug", "info", "warning", "error"};
    const char *msg = NULL;
    int level = level_of(flags);
    g_autoptr(GDateTime) now = NULL;
    g_autofree char *ts = NULL;

    (void)data;
    if (level < min_level)
        return G_LOG_WRITER_HANDLED;
    for (gsize i = 0; i < n_fields; i++) {
        if (g_str_equal(fields[i].key, "MESSAGE"))
            msg = fields[i].value;
    }
    now = g_date_time_new_now_utc();
    ts = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
    fprintf(stderr, "%.23s+0000: %d: %s : %s: %s\n", ts, (int)getpid(), names[level], prog,
            msg ? msg : "");
    return G_LOG_WRITER_HANDLED;
}

void
sv_log_init(const char *progname, gboolean verbose)
{
    prog = progname;
    min_level = verbose ? 1 : 2;
    g_log_set_writer_func(writer, NULL, NULL);
}

void
sv_config_logging(SvConfFile *conf, gboolean verbose)
{
    guint level = (guint)min_level;

    if (sv_conf_file_get_uint(conf, "log_level", &level, NULL) && level >= 1 && level <= 4)
        min_level = (int)level;
    if (verbose)
        min_level = 1;
}
