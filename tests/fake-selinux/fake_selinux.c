/* fake_selinux.c: the libselinux calls virtqemud makes, faked for LD_PRELOAD, so its
 * SELinux driver can be tested on hosts without SELinux.
 *
 * SELinux is "enabled" and enforcing. Everything the daemon asks for is recorded in
 * the file $SV_FAKE_SELINUX_LOG, one line per call, fields separated by tabs:
 *   setexeccon CONTEXT|(null)
 *   setsockcreatecon CONTEXT|(null)
 *   setfilecon PATH CONTEXT
 * The log is also the fake's file system state, so it outlives the daemon: a file's
 * label (getfilecon) is the last one set on it, else FAKE_DEFAULT_FILE_LABEL. The
 * virtual domain and image context files sit next to the log and are written with
 * FAKE_DOMAIN_CONTEXTS and FAKE_IMAGE_CONTEXTS when missing. Nothing of the real
 * library's state is used, and the calls not listed here go to it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <selinux/selinux.h>

#define FAKE_DEFAULT_FILE_LABEL "system_u:object_r:fake_file_t:s0"
#define FAKE_DOMAIN_CONTEXTS                                                                   \
    "system_u:system_r:svirt_t:s0\n"                                                           \
    "system_u:system_r:svirt_tcg_t:s0\n"
#define FAKE_IMAGE_CONTEXTS                                                                    \
    "system_u:object_r:svirt_image_t:s0\n"                                                     \
    "system_u:object_r:virt_content_t:s0\n"

static const char *
log_path(void)
{
    return getenv("SV_FAKE_SELINUX_LOG");
}

static void
log_call(const char *call, const char *a, const char *b)
{
    const char *path = log_path();
    char line[3 * PATH_MAX];
    int n, fd;

    if (!path)
        return;
    if (b)
        n = snprintf(line, sizeof(line), "%s\t%s\t%s\n", call, a ? a : "(null)", b);
    else
        n = snprintf(line, sizeof(line), "%s\t%s\n", call, a ? a : "(null)");
    if (n < 0 || (size_t)n >= sizeof(line))
        return;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    /* One write per line: lines of concurrent writers never mix. */
    if (write(fd, line, (size_t)n) != n)
        fprintf(stderr, "fake-selinux: short write to %s\n", path);
    close(fd);
}

/* The file beside the log named `name`, written with `contents` unless it exists. */
static const char *
context_file(char *buf, size_t size, const char *name, const char *contents)
{
    const char *path = log_path();
    const char *slash = path ? strrchr(path, '/') : NULL;
    int fd;

    if (!slash)
        return NULL;
    if (snprintf(buf, size, "%.*s/%s", (int)(slash - path), path, name) >= (int)size)
        return NULL;
    fd = open(buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
        if (write(fd, contents, strlen(contents)) != (ssize_t)strlen(contents))
            fprintf(stderr, "fake-selinux: short write to %s\n", buf);
        close(fd);
    }
    return buf;
}

int
is_selinux_enabled(void)
{
    return 1;
}

int
security_getenforce(void)
{
    return 1;
}

const char *
selinux_virtual_domain_context_path(void)
{
    static char buf[PATH_MAX];

    return context_file(buf, sizeof(buf), "virtual_domain_context", FAKE_DOMAIN_CONTEXTS);
}

const char *
selinux_virtual_image_context_path(void)
{
    static char buf[PATH_MAX];

    return context_file(buf, sizeof(buf), "virtual_image_context", FAKE_IMAGE_CONTEXTS);
}

int
setexeccon_raw(const char *con)
{
    log_call("setexeccon", con, NULL);
    return 0;
}

int
setexeccon(const char *con)
{
    return setexeccon_raw(con);
}

int
setsockcreatecon_raw(const char *con)
{
    log_call("setsockcreatecon", con, NULL);
    return 0;
}

int
setsockcreatecon(const char *con)
{
    return setsockcreatecon_raw(con);
}

int
setfilecon_raw(const char *path, const char *con)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return -1;
    if (!con) {
        errno = EINVAL;
        return -1;
    }
    log_call("setfilecon", path, con);
    return 0;
}

int
setfilecon(const char *path, const char *con)
{
    return setfilecon_raw(path, con);
}

int
lsetfilecon_raw(const char *path, const char *con)
{
    return setfilecon_raw(path, con);
}

int
lsetfilecon(const char *path, const char *con)
{
    return setfilecon_raw(path, con);
}

/* The last label the log sets on path, else the default. */
int
getfilecon_raw(const char *path, char **con)
{
    char line[3 * PATH_MAX];
    char found[PATH_MAX] = FAKE_DEFAULT_FILE_LABEL;
    size_t plen = strlen(path);
    struct stat st;
    FILE *f;

    if (stat(path, &st) < 0)
        return -1;
    f = log_path() ? fopen(log_path(), "re") : NULL;
    while (f && fgets(line, sizeof(line), f)) {
        char *p = line + strlen("setfilecon\t");
        if (strncmp(line, "setfilecon\t", strlen("setfilecon\t")) != 0 ||
            strncmp(p, path, plen) != 0 || p[plen] != '\t')
            continue;
        p += plen + 1;
        p[strcspn(p, "\n")] = '\0';
        snprintf(found, sizeof(found), "%s", p);
    }
    if (f)
        fclose(f);
    *con = strdup(found);
    if (!*con)
        return -1;
    return (int)strlen(found) + 1;
}

int
getfilecon(const char *path, char **con)
{
    return getfilecon_raw(path, con);
}

int
lgetfilecon_raw(const char *path, char **con)
{
    return getfilecon_raw(path, con);
}

int
lgetfilecon(const char *path, char **con)
{
    return getfilecon_raw(path, con);
}

void
freecon(char *con)
{
    free(con);
}
