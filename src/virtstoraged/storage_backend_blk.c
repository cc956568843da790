/* storage_backend_blk.c: the block-device pool types' shared host work (storage_backend_blk.h). */
#include "storage_backend_blk.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "storage_backend_fs.h"
#include "util/error.h"

/* ---------------------------------------------------------------- wipe */

static gboolean zero_at(int fd, const char *path, off_t at, guint64 len, GError **error)
{
    static const char zeros[65536];

    if (lseek(fd, at, SEEK_SET) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "Failed to seek to %llu in %s",
                           (unsigned long long)at, path);
        return FALSE;
    }
    while (len > 0) {
        size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
        ssize_t w = write(fd, zeros, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            sv_error_set_errno(error, SV_FROM_STORAGE, errno ? errno : EIO, "cannot fill file '%s'",
                               path);
            return FALSE;
        }
        len -= (guint64)w;
    }
    return TRUE;
}

gboolean storage_blk_zero_ends(const char *path, guint64 size, GError **error)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    off_t end;
    guint64 n;
    gboolean ok;

    if (fd < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot open volume '%s'", path);
        return FALSE;
    }
    end = lseek(fd, 0, SEEK_END);
    if (end < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "Failed to seek to the end in %s", path);
        close(fd);
        return FALSE;
    }
    n = MIN(size, (guint64)end);
    ok = zero_at(fd, path, 0, n, error) && zero_at(fd, path, end - (off_t)n, n, error);
    if (ok && fdatasync(fd) < 0) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno, "cannot sync data to file '%s'", path);
        ok = FALSE;
    }
    close(fd);
    return ok;
}

/* ---------------------------------------------------------------- probe */

/* The value of KEY= in blkid's export text. (transfer full) */
static char *export_value(const char *text, const char *key)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    size_t klen = strlen(key);

    for (guint i = 0; lines[i]; i++) {
        if (strncmp(lines[i], key, klen) == 0 && lines[i][klen] == '=')
            return g_strdup(lines[i] + klen + 1);
    }
    return NULL;
}

StorageBlkProbe storage_blk_probe_parse(const char *export_text, const char *format,
                                        gboolean partition_table)
{
    /* the partition tables blkid knows among libvirt's disk formats */
    static const char *const known_pt[] = {"dos", "gpt", "mac", "bsd", "sun", NULL};
    g_autofree char *type = export_text ? export_value(export_text, "TYPE") : NULL;
    g_autofree char *pttype = export_text ? export_value(export_text, "PTTYPE") : NULL;

    /* a file system's format is probed among superblocks alone; a partition table's (which
     * blkid may not know) among partition tables alone */
    if (!partition_table)
        return !type                       ? STORAGE_BLK_PROBE_UNDEFINED
               : g_str_equal(type, format) ? STORAGE_BLK_PROBE_MATCH
                                           : STORAGE_BLK_PROBE_DIFFERENT;
    if (!g_strv_contains(known_pt, format))
        return STORAGE_BLK_PROBE_UNKNOWN;
    if (pttype)
        return g_str_equal(pttype, format) ? STORAGE_BLK_PROBE_MATCH : STORAGE_BLK_PROBE_DIFFERENT;
    return STORAGE_BLK_PROBE_UNDEFINED;
}

/* libvirt's messages for each verdict. */
static gboolean probe_verdict(StorageBlkProbe p, const char *device, const char *format,
                              gboolean writelabel, GError **error)
{
    switch (p) {
    case STORAGE_BLK_PROBE_UNKNOWN:
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_STORAGE_PROBE_FAILED,
                     "Not capable of probing for format type '%s', requires build --overwrite",
                     format);
        return FALSE;
    case STORAGE_BLK_PROBE_UNDEFINED:
        if (writelabel)
            return TRUE;
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_STORAGE_PROBE_FAILED,
                     "Device '%s' is unrecognized, requires build", device);
        return FALSE;
    case STORAGE_BLK_PROBE_MATCH:
        if (!writelabel)
            return TRUE;
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_STORAGE_POOL_BUILT,
                     "Device '%s' already formatted using '%s'", device, format);
        return FALSE;
    case STORAGE_BLK_PROBE_DIFFERENT:
    default:
        if (writelabel)
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_STORAGE_POOL_BUILT,
                         "Format of device '%s' does not match the expected format '%s', "
                         "forced overwrite is necessary",
                         device, format);
        else
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                         "Format of device '%s' does not match the expected format '%s'", device,
                         format);
        return FALSE;
    }
}

gboolean storage_blk_check_device(const char *device, const char *format, gboolean partition_table,
                                  gboolean writelabel, GError **error)
{
    const char *argv[] = {"blkid", "-p", "-o", "export", device, NULL};
    g_autofree char *out = NULL;
    int status;

    if (!storage_tool_run(argv, &out, &status, error))
        return FALSE;
    if (status != 0 && status != 2) { /* 2: blkid found nothing */
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_STORAGE_PROBE_FAILED,
                     "Failed to create filesystem probe for device %s", device);
        return FALSE;
    }
    return probe_verdict(storage_blk_probe_parse(status == 0 ? out : NULL, format, partition_table),
                         device, format, writelabel, error);
}
