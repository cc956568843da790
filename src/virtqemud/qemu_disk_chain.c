/* qemu_disk_chain.c: qcow2 backing chains read from image headers (qemu_disk_chain.h). */
#include "qemu_disk_chain.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/storage_vol_probe.h"
#include "util/error.h"

/* What of an image is read: its header, extensions and backing name live in its first
 * cluster, and qcow2 clusters are at least 512 bytes; 64 KiB is QEMU's default cluster. */
#define HEADER_READ 65536
/* libvirt's limit on the length of a chain. */
#define MAX_DEPTH 200

static void
set_malformed(GError **error, const char *what)
{
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR, "malformed qcow2 header: %s",
                 what);
}

gboolean
qemu_qcow2_backing(const guint8 *buf, gsize len, char **ret_name, char **ret_format,
                   GError **error)
{
    SvQcow2Header h;

    *ret_name = *ret_format = NULL;
    if (!sv_qcow2_header_parse(buf, len, &h)) {
        set_malformed(error, h.malformed);
        return FALSE;
    }
    if (h.backing_out_of_reach) {
        set_malformed(error, "backing file name out of reach");
        return FALSE;
    }
    *ret_name = g_steal_pointer(&h.backing);
    *ret_format = g_steal_pointer(&h.backing_format);
    return TRUE;
}

/* The first HEADER_READ bytes of `path`, or NULL when it cannot be read. */
static GBytes *
read_header(const char *path)
{
    guint8 *buf;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return NULL;
    buf = g_malloc(HEADER_READ);
    do
        n = pread(fd, buf, HEADER_READ, 0);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0) {
        g_free(buf);
        return NULL;
    }
    return g_bytes_new_take(buf, (gsize)n);
}

/* A backing name as QEMU resolves it: relative to the directory of the image naming it. */
static char *
resolve(const char *image, const char *name)
{
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(name))
        return g_strdup(name);
    dir = g_path_get_dirname(image);
    return g_build_filename(dir, name, NULL);
}

static void
backing_free_one(SvDomainDiskBackingDef *b)
{
    g_free(b->path);
    g_free(b);
}

/* The format of a backing file its parent does not name, as libvirt 9.0 settles it: only
 * where probing is safe, that is for an image that names no backing file itself (qcow2,
 * or else raw); -1 for a qcow2 image with a backing file of its own. */
static int
probe_format(const char *path)
{
    g_autoptr(GBytes) header = read_header(path);
    g_autofree char *name = NULL;
    g_autofree char *format = NULL;

    if (!header || !qemu_qcow2_backing(g_bytes_get_data(header, NULL), g_bytes_get_size(header),
                                       &name, &format, NULL))
        return SV_DOMAIN_DISK_FORMAT_RAW;
    return name ? -1 : SV_DOMAIN_DISK_FORMAT_QCOW2;
}

/* Follow the chain of `d` from `start`, its last known image. */
static gboolean
probe_chain(SvDomainDiskDef *d, const char *start, GError **error)
{
    g_autofree char *path = g_strdup(start);

    for (guint depth = 0; depth < MAX_DEPTH; depth++) {
        g_autoptr(GBytes) header = read_header(path);
        g_autofree char *name = NULL;
        g_autofree char *format = NULL;
        SvDomainDiskBackingDef *b;
        struct stat st;
        int fmt;

        /* Unreadable, or no qcow2 after all: QEMU opens it and says what is wrong. */
        if (!header || !qemu_qcow2_backing(g_bytes_get_data(header, NULL),
                                           g_bytes_get_size(header), &name, &format, NULL))
            return TRUE;
        if (!name) {
            d->backing_end = TRUE;
            return TRUE;
        }
        /* Network backing files ("nbd://", "json:{...}") stay QEMU's to open. */
        if (strstr(name, "://") || g_str_has_prefix(name, "json:"))
            return TRUE;
        b = g_new0(SvDomainDiskBackingDef, 1);
        b->path = resolve(path, name);
        fmt = sv_domain_disk_format_from_string(format);
        if (fmt <= SV_DOMAIN_DISK_FORMAT_NONE)
            fmt = probe_format(b->path);
        if (fmt < 0) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                         "format of backing image '%s' of image '%s' was not specified in the "
                         "image metadata (See https://libvirt.org/kbase/backing_chains.html "
                         "for troubleshooting)",
                         name, path);
            backing_free_one(b);
            return FALSE;
        }
        b->format = fmt;
        b->type = stat(b->path, &st) == 0 && S_ISBLK(st.st_mode) ? SV_DOMAIN_DISK_TYPE_BLOCK
                                                                 : SV_DOMAIN_DISK_TYPE_FILE;
        g_ptr_array_add(d->backing, b);
        if (fmt != SV_DOMAIN_DISK_FORMAT_QCOW2) {
            /* A raw image ends the chain; other formats' backing files are not read. */
            d->backing_end = fmt == SV_DOMAIN_DISK_FORMAT_RAW;
            return TRUE;
        }
        g_free(path);
        path = g_strdup(b->path);
    }
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                 "backing chain of disk '%s' is longer than %d images", d->target_dev,
                 MAX_DEPTH);
    return FALSE;
}

gboolean
qemu_disk_probe_chain(SvDomainDiskDef *d, GError **error)
{
    const SvDomainDiskBackingDef *last =
        d->backing->len ? d->backing->pdata[d->backing->len - 1] : NULL;

    if (d->type == SV_DOMAIN_DISK_TYPE_NETWORK || !d->source || d->backing_end)
        return TRUE;
    /* A chain the XML starts goes on from its last image, as libvirt's does. */
    if (last && last->format == SV_DOMAIN_DISK_FORMAT_RAW)
        d->backing_end = TRUE;
    if ((last ? last->format : d->format) != SV_DOMAIN_DISK_FORMAT_QCOW2)
        return TRUE;
    return probe_chain(d, last ? last->path : d->source, error);
}

gboolean
qemu_disk_probe_chains(SvDomainDef *def, GError **error)
{
    for (guint i = 0; i < def->disks->len; i++) {
        if (!qemu_disk_probe_chain(def->disks->pdata[i], error))
            return FALSE;
    }
    return TRUE;
}
