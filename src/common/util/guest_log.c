/* guest_log.c: a guest's log file and the daemon's timestamped lines in it. */
#include "util/guest_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fileio.h"

char *
sv_guest_log_path(const char *dir, const char *name)
{
    return g_strdup_printf("%s/%s.log", dir, name);
}

int
sv_guest_log_open(const char *dir, const char *name, int from, const char *what, GError **error)
{
    g_autofree char *path = sv_guest_log_path(dir, name);
    int fd;

    if (!sv_mkdir_p(dir, 0700, error))
        return -1;
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        sv_error_set_errno(error, from, errno, "%s '%s'", what, path);
    return fd;
}

void
sv_guest_log_printf(int fd, const char *fmt, ...)
{
    g_autoptr(GDateTime) now = NULL;
    g_autofree char *ts = NULL;
    g_autofree char *msg = NULL;
    g_autofree char *line = NULL;
    va_list ap;

    if (fd < 0)
        return;
    now = g_date_time_new_now_utc();
    ts = g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f");
    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* Milliseconds, as libvirt: the first 23 characters of the microsecond stamp. */
    line = g_strdup_printf("%.23s+0000: %s\n", ts, msg);
    if (write(fd, line, strlen(line)) < 0)
        g_debug("cannot write a guest's log: %s", g_strerror(errno));
}
