/* log.c: a structured-log writer in libvirt's line format, with libvirt's filters and
 * outputs. */
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "util/error.h"

typedef struct {
    char *match; /* a glob: "*qemu*" for the filter "1:qemu" */
    int priority;
} LogFilter;

typedef struct {
    int priority;
    SvLogDest dest;
    char *name; /* the file's path or the syslog ident; NULL otherwise */
    int fd;     /* file outputs */
} LogOutput;

static const char *prog = "splitvirt";
static int min_level = 2; /* libvirt's numbering: 1 debug, 2 info, 3 warning, 4 error */

/* Writers run on any thread (GTask workers log too) while the main loop may replace
 * filters and outputs. Recursive, so a message logged while writing cannot deadlock. */
static GRecMutex lock;
static GPtrArray *filters; /* LogFilter; NULL when there are none */
static GPtrArray *outputs; /* LogOutput; NULL means stderr at min_level */
static char *syslog_ident; /* openlog() keeps the pointer */

static const char *const dest_names[SV_LOG_DEST_LAST] = {
    [SV_LOG_DEST_STDERR] = "stderr",
    [SV_LOG_DEST_SYSLOG] = "syslog",
    [SV_LOG_DEST_FILE] = "file",
    [SV_LOG_DEST_JOURNALD] = "journald",
};

const char *
sv_log_dest_to_string(SvLogDest dest)
{
    if ((int)dest < 0 || dest >= SV_LOG_DEST_LAST)
        return NULL;
    return dest_names[dest];
}

int
sv_log_dest_from_string(const char *s)
{
    for (int i = 0; s && i < SV_LOG_DEST_LAST; i++) {
        if (g_str_equal(s, dest_names[i]))
            return i;
    }
    return -1;
}

static void
log_filter_free(gpointer p)
{
    LogFilter *f = p;

    g_free(f->match);
    g_free(f);
}

static void
log_output_free(gpointer p)
{
    LogOutput *o = p;

    if (o->fd >= 0)
        close(o->fd);
    g_free(o->name);
    g_free(o);
}

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

static int
syslog_priority(int level)
{
    static const int prio[] = {LOG_DEBUG, LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR};

    return prio[CLAMP(level, 1, 4)];
}

char *
sv_log_category(const char *code_file)
{
    const char *p = code_file ? code_file : "";
    const char *src = NULL;
    char *cat;

    /* The last "src/" path component wins (build trees may sit under another src/). */
    for (const char *s = strstr(p, "src/"); s; s = strstr(s + 1, "src/")) {
        if (s == p || s[-1] == '/')
            src = s + 4;
    }
    if (src)
        p = src;
    else {
        while (g_str_has_prefix(p, "../") || g_str_has_prefix(p, "./"))
            p += p[1] == '.' ? 3 : 2;
        while (*p == '/')
            p++;
    }
    cat = g_strdup(p);
    if (g_str_has_suffix(cat, ".c") || g_str_has_suffix(cat, ".h"))
        cat[strlen(cat) - 2] = '\0';
    g_strdelimit(cat, "/", '.');
    return cat;
}

/* The level a message of this category is kept from. Called with the lock held. */
static int
threshold_of(const char *code_file, const char *domain)
{
    g_autofree char *cat = NULL;

    if (!filters)
        return min_level;
    cat = code_file ? sv_log_category(code_file) : g_strdup(domain ? domain : "");
    for (guint i = 0; i < filters->len; i++) {
        LogFilter *f = filters->pdata[i];
        if (g_pattern_match_simple(f->match, cat))
            return f->priority;
    }
    return min_level;
}

static void
output_write(const LogOutput *o, int level, const char *line, const char *msg,
             const char *code_file)
{
    switch (o->dest) {
    case SV_LOG_DEST_STDERR:
        fputs(line, stderr);
        break;
    case SV_LOG_DEST_FILE:
        if (write(o->fd, line, strlen(line)) < 0) {
            /* Nowhere left to report it. */
        }
        break;
    case SV_LOG_DEST_SYSLOG:
        syslog(syslog_priority(level), "%s", msg);
        break;
    case SV_LOG_DEST_JOURNALD:
        sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", syslog_priority(level),
                        "SYSLOG_IDENTIFIER=%s", prog, "CODE_FILE=%s", code_file ? code_file : "",
                        NULL);
        break;
    case SV_LOG_DEST_LAST:
        break;
    }
}

static GLogWriterOutput
writer(GLogLevelFlags flags, const GLogField *fields, gsize n_fields, gpointer data)
{
    static const char *names[] = {"", "debug", "info", "warning", "error"};
    const char *msg = NULL, *code_file = NULL, *domain = NULL;
    int level = level_of(flags);
    g_autoptr(GDateTime) now = NULL;
    g_autofree char *ts = NULL;
    g_autofree char *line = NULL;
    g_autofree char *sized_msg = NULL;

    (void)data;
    for (gsize i = 0; i < n_fields; i++) {
        if (g_str_equal(fields[i].key, "MESSAGE")) {
            /* A length other than -1 means the value may lack its NUL. */
            if (msg)
                continue;
            if (fields[i].length >= 0)
                msg = sized_msg = g_strndup(fields[i].value, fields[i].length);
            else
                msg = fields[i].value;
        } else if (fields[i].length != -1) {
            continue;
        } else if (g_str_equal(fields[i].key, "CODE_FILE"))
            code_file = fields[i].value;
        else if (g_str_equal(fields[i].key, "GLIB_DOMAIN"))
            domain = fields[i].value;
    }
    g_rec_mutex_lock(&lock);
    if (level < threshold_of(code_file, domain)) {
        g_rec_mutex_unlock(&lock);
        return G_LOG_WRITER_HANDLED;
    }
    now = g_date_time_new_now_utc();
    ts = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
    line = g_strdup_printf("%.23s+0000: %d: %s : %s: %s\n", ts, (int)getpid(), names[level],
                           prog, msg ? msg : "");
    if (!outputs) {
        if (level >= min_level)
            fputs(line, stderr);
    } else {
        for (guint i = 0; i < outputs->len; i++) {
            const LogOutput *o = outputs->pdata[i];
            if (level >= o->priority)
                output_write(o, level, line, msg ? msg : "", code_file);
        }
    }
    g_rec_mutex_unlock(&lock);
    return G_LOG_WRITER_HANDLED;
}

void
sv_log_init(const char *progname, gboolean verbose)
{
    prog = progname;
    min_level = verbose ? 1 : 2;
    g_log_set_writer_func(writer, NULL, NULL);
}

/* JOURNAL_STREAM is "DEV:INODE" of the journal's stream; it counts only if
 * stderr is still that stream (not redirected since). */
static gboolean
stderr_is_journal(void)
{
    const char *js = g_getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
        return FALSE;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
sv_config_logging(SvConfFile *conf, gboolean verbose)
{
    guint level = (guint)min_level;
    const struct {
        const char *key;
        gboolean (*set)(const char *, GError **);
    } lists[] = {
        {"log_filters", sv_log_set_filters},
        {"log_outputs", sv_log_set_outputs},
    };

    if (sv_conf_file_get_uint(conf, "log_level", &level, NULL) && level >= 1 && level <= 4)
        min_level = (int)level;
    if (verbose)
        min_level = 1;
    gboolean outputs_set = FALSE;

    for (gsize i = 0; i < G_N_ELEMENTS(lists); i++) {
        g_autofree char *spec = NULL;
        g_autoptr(GError) error = NULL;

        if (!sv_conf_file_get_string(conf, lists[i].key, &spec, &error) ||
            (spec && !lists[i].set(spec, &error)))
            g_warning("ignoring %s: %s", lists[i].key, error->message);
        else if (spec && lists[i].set == sv_log_set_outputs)
            outputs_set = TRUE;
    }
    /* Under systemd, stderr may be the journal itself: then log to it natively
     * (levels and fields kept) unless log_outputs says otherwise. */
    if (!outputs_set && stderr_is_journal()) {
        g_autofree char *spec = g_strdup_printf("%d:journald", min_level);
        sv_log_set_outputs(spec, NULL);
    }
}

/* "1".."4" -> 1..4; -1 otherwise. */
static int
parse_priority(const char *s)
{
    guint64 v;

    if (!g_ascii_string_to_unsigned(s, 10, 1, 4, &v, NULL))
        return -1;
    return (int)v;
}

static LogFilter *
parse_filter(const char *item, GError **error)
{
    g_auto(GStrv) tok = g_strsplit(item, ":", -1);
    LogFilter *f;
    const char *match;
    int prio;

    if (!tok[0] || !tok[1]) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG, "Malformed format for filter '%s'",
                     item);
        return NULL;
    }
    prio = parse_priority(tok[0]);
    if (prio < 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                     "Invalid priority '%s' for filter '%s'", tok[0], item);
        return NULL;
    }
    /* A leading '+' once asked for stack traces; libvirt ignores it now. */
    match = tok[1][0] == '+' ? tok[1] + 1 : tok[1];
    if (!*match) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG, "Invalid match string '%s'",
                     tok[1]);
        return NULL;
    }
    f = g_new0(LogFilter, 1);
    /* libvirt matches a substring: "qemu" is the glob "*qemu*", and prints it so. */
    f->match = g_strdup_printf("*%s*", match);
    f->priority = prio;
    return f;
}

gboolean
sv_log_set_filters(const char *spec, GError **error)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(log_filter_free);
    g_auto(GStrv) items = g_strsplit(spec ? spec : "", " ", -1);

    for (char **it = items; *it; it++) {
        LogFilter *f;

        if (!**it)
            continue;
        f = parse_filter(*it, error);
        if (!f)
            return FALSE;
        g_ptr_array_add(list, f);
    }
    g_rec_mutex_lock(&lock);
    g_clear_pointer(&filters, g_ptr_array_unref);
    if (list->len)
        filters = g_steal_pointer(&list);
    g_rec_mutex_unlock(&lock);
    return TRUE;
}

char *
sv_log_get_filters(guint *ret_n)
{
    GString *s = g_string_new(NULL);
    guint n = 0;

    g_rec_mutex_lock(&lock);
    for (guint i = 0; filters && i < filters->len; i++, n++) {
        LogFilter *f = filters->pdata[i];
        g_string_append_printf(s, "%d:%s ", f->priority, f->match);
    }
    g_rec_mutex_unlock(&lock);
    *ret_n = n;
    return g_string_free(s, n == 0);
}

static LogOutput *
parse_output(const char *item, GError **error)
{
    g_auto(GStrv) tok = g_strsplit(item, ":", -1);
    guint count = g_strv_length(tok);
    LogOutput *o;
    int prio, dest;

    if (count < 2) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                     "Malformed format for log output '%s'", item);
        return NULL;
    }
    prio = parse_priority(tok[0]);
    if (prio < 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                     "Invalid log priority '%s' for log output '%s'", tok[0], item);
        return NULL;
    }
    dest = sv_log_dest_from_string(tok[1]);
    if (dest < 0) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                     "Invalid log destination '%s' for log output '%s'", tok[1], item);
        return NULL;
    }
    if (count != ((dest == SV_LOG_DEST_FILE || dest == SV_LOG_DEST_SYSLOG) ? 3 : 2)) {
        sv_error_set(error, SV_FROM_NONE, SV_ERR_INVALID_ARG,
                     "Log output '%s' does not meet the format requirements for destination "
                     "type '%s'",
                     item, tok[1]);
        return NULL;
    }
    o = g_new0(LogOutput, 1);
    o->priority = prio;
    o->dest = dest;
    o->fd = -1;
    if (dest == SV_LOG_DEST_SYSLOG)
        o->name = g_strdup(tok[2]);
    if (dest == SV_LOG_DEST_FILE) {
        o->name = g_canonicalize_filename(tok[2], NULL);
        o->fd = open(o->name, O_CREAT | O_APPEND | O_WRONLY | O_CLOEXEC, 0600);
        if (o->fd < 0) {
            sv_error_set_errno(error, SV_FROM_NONE, errno, "failed to open %s", o->name);
            log_output_free(o);
            return NULL;
        }
    }
    return o;
}

gboolean
sv_log_set_outputs(const char *spec, GError **error)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(log_output_free);
    g_auto(GStrv) items = g_strsplit(spec ? spec : "", " ", -1);
    const char *ident = NULL;

    for (char **it = items; *it; it++) {
        LogOutput *o;

        if (!**it)
            continue;
        o = parse_output(*it, error);
        if (!o)
            return FALSE;
        /* The last definition for a destination wins. */
        for (guint i = 0; i < list->len; i++) {
            LogOutput *old = list->pdata[i];
            if (old->dest == o->dest && g_strcmp0(old->name, o->name) == 0) {
                g_ptr_array_remove_index(list, i);
                break;
            }
        }
        g_ptr_array_add(list, o);
    }
    for (guint i = 0; i < list->len; i++) {
        LogOutput *o = list->pdata[i];
        if (o->dest == SV_LOG_DEST_SYSLOG)
            ident = o->name;
    }
    g_rec_mutex_lock(&lock);
    g_clear_pointer(&outputs, g_ptr_array_unref);
    if (list->len)
        outputs = g_steal_pointer(&list);
    /* Outputs are replaced whole, so the syslog connection follows the new ident. */
    closelog();
    g_clear_pointer(&syslog_ident, g_free);
    if (ident) {
        syslog_ident = g_strdup(ident);
        openlog(syslog_ident, 0, LOG_DAEMON);
    }
    g_rec_mutex_unlock(&lock);
    return TRUE;
}

char *
sv_log_get_outputs(guint *ret_n)
{
    GString *s = g_string_new(NULL);

    g_rec_mutex_lock(&lock);
    if (!outputs) {
        g_string_append_printf(s, "%d:%s", min_level, dest_names[SV_LOG_DEST_STDERR]);
        *ret_n = 1;
    } else {
        for (guint i = 0; i < outputs->len; i++) {
            LogOutput *o = outputs->pdata[i];
            if (i)
                g_string_append_c(s, ' ');
            g_string_append_printf(s, "%d:%s", o->priority, dest_names[o->dest]);
            if (o->name)
                g_string_append_printf(s, ":%s", o->name);
        }
        *ret_n = outputs->len;
    }
    g_rec_mutex_unlock(&lock);
    return g_string_free(s, FALSE);
}
