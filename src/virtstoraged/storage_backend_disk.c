/* storage_backend_disk.c: the disk pool type (storage_backend_disk.h). */
#include "storage_backend_disk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/sv_wire_constants.h"
#include "storage_backend_blk.h"
#include "storage_backend_fs.h"
#include "util/error.h"

/* The bytes libvirt zeros at each end of the disk before writing a label. */
#define DISK_WIPE_BYTES (1024 * 1024)
/* libvirt counts free space from the first sector's end. */
#define SECTOR_SIZE 512
/* libvirt's virStorageVolType for a partition. */
#define VOL_BLOCK 1
/* parted by the path Debian's libvirt runs it (its failures name it). */
#define PARTED "/sbin/parted"

const char *storage_disk_label(const char *format)
{
    if (!format || g_str_equal(format, "unknown") || g_str_equal(format, "dos"))
        return "msdos";
    return format;
}

GStrv storage_disk_argv_mklabel(const char *device, const char *format)
{
    const char *argv[] = {PARTED, device, "mklabel", "--script", storage_disk_label(format), NULL};

    return g_strdupv((char **)argv);
}

GStrv storage_disk_argv_print(const char *device)
{
    const char *argv[] = {PARTED, "-m", "-s", device, "unit", "B", "print", "free", NULL};

    return g_strdupv((char **)argv);
}

char *storage_disk_partition_path(const char *device, guint number)
{
    size_t n = strlen(device);
    gboolean digit = n > 0 && g_ascii_isdigit(device[n - 1]);

    return g_strdup_printf("%s%s%u", device, digit ? "p" : "", number);
}

/* ---------------------------------------------------------------- refresh */

/* libvirt's stable path of a partition: a link in the pool's target directory to the
 * device, when the target is a directory under /dev other than /dev itself. */
static char *stable_path(const char *target, const char *devpath)
{
    g_autofree char *real = realpath(devpath, NULL);
    g_autoptr(GDir) d = NULL;
    const char *e;

    if (!target || !g_str_has_prefix(target, "/dev/") || g_str_equal(target, "/dev/") || !real ||
        !(d = g_dir_open(target, 0, NULL)))
        return g_strdup(devpath);
    while ((e = g_dir_read_name(d))) {
        g_autofree char *link = g_build_filename(target, e, NULL);
        g_autofree char *to = realpath(link, NULL);
        if (to && g_str_equal(to, real))
            return g_steal_pointer(&link);
    }
    return g_strdup(devpath);
}

/* A byte figure of parted's machine output: digits and B. */
static gboolean parse_bytes(const char *field, guint64 *ret)
{
    g_autofree char *s = g_strdup(field);
    size_t n = strlen(s);

    if (n < 2 || s[n - 1] != 'B')
        return FALSE;
    s[n - 1] = '\0';
    return g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, ret, NULL);
}

/* One line of a partition or free region: NUMBER:START:END:SIZE:FS:NAME:FLAGS; (free
 * regions: FS is "free"). */
static gboolean parse_part(const char *line, const char *device, const char *target,
                           StorageRefresh *r, GError **error)
{
    g_auto(GStrv) f = g_strsplit(line, ":", -1);
    guint64 num, start, end, size;
    StorageVol *vol;

    if (g_strv_length(f) < 5 || !g_ascii_string_to_unsigned(f[0], 10, 0, G_MAXUINT, &num, NULL) ||
        !parse_bytes(f[1], &start) || !parse_bytes(f[2], &end) || !parse_bytes(f[3], &size)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "cannot parse the partition line '%s' of %s", line, device);
        return FALSE;
    }
    /* libvirt's capacity: where the last partition or free region ends */
    r->capacity = MAX(r->capacity, end + 1);
    if (g_str_has_prefix(f[4], "free")) {
        r->available += end + 1 - MAX(start, (guint64)SECTOR_SIZE);
        return TRUE;
    }
    vol = g_new0(StorageVol, 1);
    {
        g_autofree char *devpath = storage_disk_partition_path(device, (guint)num);
        vol->name = g_path_get_basename(devpath);
        vol->path = stable_path(target, devpath);
    }
    vol->type = VOL_BLOCK;
    vol->capacity = vol->allocation = size;
    r->allocation += size;
    g_ptr_array_add(r->vols, vol);
    return TRUE;
}

StorageRefresh *storage_disk_parse_print(const char *text, const char *device, const char *target,
                                         GError **error)
{
    g_autoptr(StorageRefresh) r = g_new0(StorageRefresh, 1);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    guint i = 0;

    r->vols = g_ptr_array_new_with_free_func((GDestroyNotify)storage_vol_free);
    /* "BYT;", then the disk: PATH:SIZE:TRANSPORT:LSS:PSS:LABEL:MODEL:FLAGS; */
    while (lines[i] && !g_str_has_prefix(lines[i], "BYT;"))
        i++;
    if (!lines[i] || !lines[i + 1]) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "cannot read the partition table of %s", device);
        return NULL;
    }
    {
        g_auto(GStrv) d = g_strsplit(lines[i + 1], ":", -1);
        guint64 size;
        if (g_strv_length(d) < 2 || !parse_bytes(d[1], &size)) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                         "cannot read the size of %s", device);
            return NULL;
        }
    }
    for (i += 2; lines[i]; i++) {
        if (*g_strstrip(lines[i]) && !parse_part(lines[i], device, target, r, error))
            return NULL;
    }
    return g_steal_pointer(&r);
}

static const char *device_of(const SvStoragePoolDef *def)
{
    return def->source.devices->pdata[0];
}

StorageRefresh *storage_disk_refresh(const SvStoragePoolDef *def, GError **error)
{
    g_auto(GStrv) argv = storage_disk_argv_print(device_of(def));
    g_autofree char *out = NULL;
    StorageRefresh *r;

    if (access(device_of(def), F_OK) < 0) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INVALID_ARG, "device path '%s' doesn't exist",
                     device_of(def));
        return NULL;
    }
    if (!storage_tool_run((const char *const *)argv, &out, NULL, error))
        return NULL;
    if (!(r = storage_disk_parse_print(out, device_of(def), def->target_path, error)))
        return NULL;
    /* an active pool's format is settled: libvirt's start makes unknown dos */
    if (!def->source.format || g_str_equal(def->source.format, "unknown"))
        r->format = "dos";
    return r; /* no permissions: libvirt reads none for a disk pool's target */
}

/* ---------------------------------------------------------------- build, start, delete */

/* Without OVERWRITE only a disk blkid finds no label on (libvirt probes for the pool's
 * format as given); then the ends of the disk zeroed and the label written. */
gboolean storage_disk_build(const SvStoragePoolDef *def, unsigned int flags, GError **error)
{
    const char *format = def->source.format ? def->source.format : "unknown";
    g_auto(GStrv) argv = storage_disk_argv_mklabel(device_of(def), format);

    if (!(flags & SV_STORAGE_POOL_BUILD_OVERWRITE) &&
        !storage_blk_check_device(device_of(def), format, TRUE, TRUE, error))
        return FALSE;
    return storage_blk_zero_ends(device_of(def), DISK_WIPE_BYTES, error) &&
           storage_tool_run((const char *const *)argv, NULL, NULL, error);
}

/* The device must exist and hold a label of the pool's format (unknown: dos). */
gboolean storage_disk_start(const SvStoragePoolDef *def, GError **error)
{
    const char *format = def->source.format;

    if (!format || g_str_equal(format, "unknown"))
        format = "dos";
    if (access(device_of(def), F_OK) < 0) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INVALID_ARG, "device path '%s' doesn't exist",
                     device_of(def));
        return FALSE;
    }
    return storage_blk_check_device(device_of(def), format, TRUE, FALSE, error);
}

/* libvirt's disk pool deletion: the partition table wiped (the first and last MiB zeroed). */
gboolean storage_disk_delete(const SvStoragePoolDef *def, unsigned int flags, GError **error)
{
    return sv_check_flags(flags, 0, SV_FROM_STORAGE, "virStorageBackendDiskDeletePool", error) &&
           storage_blk_zero_ends(device_of(def), DISK_WIPE_BYTES, error);
}
