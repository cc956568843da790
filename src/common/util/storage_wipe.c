/* storage_wipe.c: volume wipes (storage_wipe.h). */
#include "util/storage_wipe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fd.h"
#include "util/qemu_img.h"

/* libvirt's order (virStorageVolWipeAlgorithm). */
static const char *const algorithms[] = {
    "zero", "nnsa", "dod", "bsi", "gutmann", "schneier", "pfitzner7", "pfitzner33",
    "random", "trim",
};

gboolean
sv_storage_wipe_known(const char *algorithm)
{
    for (guint i = 0; algorithm && i < G_N_ELEMENTS(algorithms); i++) {
        if (g_str_equal(algorithms[i], algorithm))
            return TRUE;
    }
    return FALSE;
}

char **
sv_storage_wipe_scrub_argv(const char *scrub, const char *algorithm, const char *path)
{
    const char *argv[] = {scrub ? scrub : SV_SCRUB_PATH, "-f", "-p", algorithm, path, NULL};

    return g_strdupv((char **)argv);
}

/* A sparse file made zeros without writing them: POSIX says the extended part reads as
 * zeros. */
static gboolean
zero_sparse(const char *path, int fd, off_t size, GError **error)
{
    if (ftruncate(fd, 0) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno,
                           "Failed to truncate volume with path '%s' to 0 bytes", path);
        return FALSE;
    }
    if (ftruncate(fd, size) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno,
                           "Failed to truncate volume with path '%s' to %ju bytes", path,
                           (uintmax_t)size);
        return FALSE;
    }
    return TRUE;
}

/* `len` zeros from the start, in blocks of `block` bytes (libvirt's storageBackendWipeLocal). */
static gboolean
zero_write(const char *path, int fd, guint64 len, gsize block, GError **error)
{
    g_autofree char *zeros = g_malloc0(block);

    if (lseek(fd, 0, SEEK_SET) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno,
                           "Failed to seek to the start in volume with path '%s'", path);
        return FALSE;
    }
    while (len > 0) {
        gsize n = MIN(block, len);
        gsize done = 0;

        while (done < n) {
            ssize_t w = write(fd, zeros + done, n - done);

            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                sv_error_set_errno(error, SV_FROM_STORAGE, w < 0 ? errno : ENOSPC,
                                   "Failed to write %zu bytes to storage volume with path '%s'",
                                   n, path);
                return FALSE;
            }
            done += w;
        }
        len -= n;
    }
    if (fdatasync(fd) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno,
                           "cannot sync data to volume with path '%s'", path);
        return FALSE;
    }
    return TRUE;
}

gboolean
sv_storage_wipe(const char *path, const char *algorithm, guint64 allocation, const char *scrub,
                GError **error)
{
    g_auto(SvFd) fd = open(path, O_RDWR | O_CLOEXEC);
    g_auto(GStrv) argv = NULL;
    struct stat st;

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno,
                           "Failed to open storage volume with path '%s'", path);
        return FALSE;
    }
    if (fstat(fd, &st) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno,
                           "Failed to stat storage volume with path '%s'", path);
        return FALSE;
    }
    if (!sv_storage_wipe_known(algorithm)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INVALID_ARG, "unsupported algorithm %s",
                     algorithm ? algorithm : "(null)");
        return FALSE;
    }
    if (g_str_equal(algorithm, "trim")) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_ARGUMENT_UNSUPPORTED,
                     "'trim' algorithm not supported");
        return FALSE;
    }
    if (!g_str_equal(algorithm, "zero")) {
        argv = sv_storage_wipe_scrub_argv(scrub, algorithm, path);
        return sv_storage_tool_run((const char *const *)argv, NULL, error);
    }
    if (S_ISREG(st.st_mode) && st.st_blocks < st.st_size / 512)
        return zero_sparse(path, fd, st.st_size, error);
    return zero_write(path, fd, allocation, st.st_blksize > 0 ? st.st_blksize : 4096, error);
}
