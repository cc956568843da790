/* fileio.c: durable writes (temp file, fsync, rename, directory fsync). */
#include "util/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"

/* sv_file_write_atomic()'s temporary files are "<path>" TEMP_INFIX "XXXXXX". */
#define TEMP_INFIX ".new-"
#define TEMP_RANDOM 6

static gboolean
fsync_dir_of(const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_auto(SvFd) fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 || fsync(fd) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot sync directory '%s'", dir);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_file_write_atomic(const char *path, const char *data, gsize len, guint mode, GError **error)
{
    g_autofree char *tmp = g_strconcat(path, TEMP_INFIX "XXXXXX", NULL);
    g_auto(SvFd) fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, mode);
    gsize off = 0;

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot create '%s'", tmp);
        return FALSE;
    }
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot write '%s'", tmp);
            unlink(tmp);
            return FALSE;
        }
        off += n;
    }
    if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot sync '%s'", tmp);
        unlink(tmp);
        return FALSE;
    }
    sv_fd_clear(&fd);
    if (rename(tmp, path) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot rename '%s' to '%s'", tmp, path);
        unlink(tmp);
        return FALSE;
    }
    return fsync_dir_of(path, error);
}

gboolean
sv_file_is_atomic_temp(const char *name)
{
    gsize len = strlen(name);
    gsize tail = strlen(TEMP_INFIX) + TEMP_RANDOM;

    return len > tail && strncmp(name + len - tail, TEMP_INFIX, strlen(TEMP_INFIX)) == 0;
}

void
sv_file_walk_dir(const char *dir, const char *suffix, SvFileWalkFunc fn, gpointer data)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func(g_free);
    const char *entry;

    while (d && (entry = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, entry, NULL);
        if (sv_file_is_atomic_temp(entry)) {
            if (unlink(path) < 0)
                g_warning("cannot remove '%s': %s", path, g_strerror(errno));
        } else if (g_str_has_suffix(entry, suffix)) {
            g_ptr_array_add(entries, g_strdup(entry));
        }
    }
    for (guint i = 0; i < entries->len; i++) {
        g_autofree char *path = g_build_filename(dir, entries->pdata[i], NULL);
        fn(path, entries->pdata[i], data);
    }
}

gboolean
sv_file_remove_durable(const char *path, GError **error)
{
    if (unlink(path) < 0) {
        if (errno == ENOENT)
            return TRUE;
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot remove '%s'", path);
        return FALSE;
    }
    return fsync_dir_of(path, error);
}

gboolean
sv_mkdir_p(const char *path, guint mode, GError **error)
{
    if (g_mkdir_with_parents(path, mode) < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot create directory '%s'", path);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_path_is_within(const char *path, const char *dir)
{
    gsize dlen;
    const char *rest;

    if (!path || !dir || path[0] != '/' || dir[0] != '/')
        return FALSE;
    dlen = strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    if (strncmp(path, dir, dlen) != 0 || (dlen > 1 && path[dlen] != '/'))
        return FALSE;
    rest = path + dlen + (dlen > 1 ? 1 : 0);
    if (!*rest)
        return FALSE;
    for (;;) {
        const char *slash = strchr(rest, '/');
        gsize n = slash ? (gsize)(slash - rest) : strlen(rest);
        if (n == 0 || (n == 1 && rest[0] == '.') || (n == 2 && rest[0] == '.' && rest[1] == '.'))
            return FALSE;
        if (!slash)
            return TRUE;
        rest = slash + 1;
    }
}
