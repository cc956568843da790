/* storage_backend_disk.c: the disk pool's host work (a partition table on the pool's device,
 * its partitions the volumes), as libvirt 9.0's storage_backend_disk.c does it: parted mklabel
 * at build, the table's type checked at start, the partitions and free extents read at
 * refresh (parted's machine output, where libvirt runs its own parted helper), the table
 * wiped at delete. Runs on workers. */
#include "storage_backend_disk.h"

#include <string.h>
#include <unistd.h>

#include "protocol/sv_wire_constants.h"
#include "storage_backend_fs.h"
#include "util/error.h"

#define PARTED "/sbin/parted"
/* libvirt's first block, never free whatever the table says */
#define SECTOR_SIZE 512

/* A disk pool's table type as blkid and libvirt name it: "unknown" means dos. */
static const char *
table_type(const SvStoragePoolDef *def)
{
    return g_str_equal(def->source.format, "unknown") ? "dos" : def->source.format;
}

static gboolean
device_exists(const char *path, GError **error)
{
    if (access(path, F_OK) == 0)
        return TRUE;
    sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INVALID_ARG, "device path '%s' doesn't exist",
                 path);
    return FALSE;
}

gboolean
storage_disk_build(const SvStoragePoolDef *def, unsigned int flags, GError **error)
{
    const char *dev = def->source.devices->pdata[0];
    const char *type = table_type(def);
    const char *argv[] = {PARTED, dev, "mklabel", "--script",
                          g_str_equal(type, "dos") ? "msdos" : type, NULL};

    if (!(flags & SV_STORAGE_POOL_BUILD_OVERWRITE) &&
        !storage_fs_check_empty(dev, def->source.format, error))
        return FALSE;
    return storage_zero_ends(dev, error) && storage_tool_run(argv, NULL, NULL, error);
}

gboolean
storage_disk_check(const SvStoragePoolDef *def, GError **error)
{
    const char *dev = def->source.devices->pdata[0];
    g_autofree char *found = NULL;

    if (!device_exists(dev, error) || !(found = storage_probe_device(dev, error)))
        return FALSE;
    if (!*found) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_STORAGE_PROBE_FAILED,
                     "Device '%s' is unrecognized, requires build", dev);
        return FALSE;
    }
    if (!g_str_equal(found, table_type(def))) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_OPERATION_INVALID,
                     "Format of device '%s' does not match the expected format '%s'", dev,
                     table_type(def));
        return FALSE;
    }
    return TRUE;
}

/* "N:STARTB:ENDB:SIZEB:..." with the numbers in bytes; FALSE for another line. */
static gboolean
parse_region(const char *line, guint *num, guint64 *start, guint64 *end, char ***ret_fields)
{
    g_auto(GStrv) f = g_strsplit(line, ":", -1);
    char *e = NULL;

    if (g_strv_length(f) < 5 || !g_str_has_suffix(f[1], "B") || !g_str_has_suffix(f[2], "B"))
        return FALSE;
    *num = (guint)g_ascii_strtoull(f[0], &e, 10);
    if (e == f[0] || *e)
        return FALSE;
    *start = g_ascii_strtoull(f[1], &e, 10);
    if (g_strcmp0(e, "B") != 0)
        return FALSE;
    *end = g_ascii_strtoull(f[2], &e, 10) + 1; /* parted's end is the last byte */
    if (g_strcmp0(e, "B") != 0 || *end <= *start)
        return FALSE;
    *ret_fields = g_steal_pointer(&f);
    return TRUE;
}

/* A partition as a volume: DEVICE + N, with a 'p' when the device's name ends in a digit. */
static StorageVol *
partition_vol(const char *dev, guint num, guint64 size)
{
    StorageVol *vol = g_new0(StorageVol, 1);
    gboolean digit = *dev && g_ascii_isdigit(dev[strlen(dev) - 1]);

    vol->path = g_strdup_printf("%s%s%u", dev, digit ? "p" : "", num);
    vol->name = g_path_get_basename(vol->path);
    vol->type = 1; /* block */
    vol->capacity = size;
    vol->allocation = size;
    return vol;
}

gboolean
storage_disk_parse_parted(const char *dev, const char *text, StorageRefresh *r)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    r->capacity = r->allocation = r->available = 0;
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = NULL;
        StorageFreeExtent x;
        guint num;

        if (!parse_region(g_strstrip(lines[i]), &num, &x.start, &x.end, &f))
            continue;
        if (g_str_has_prefix(f[4], "free")) {
            if (x.start == 0)
                x.start = SECTOR_SIZE;
            g_array_append_val(r->free_extents, x);
            r->available += x.end - x.start;
        } else {
            g_ptr_array_add(r->vols, partition_vol(dev, num, x.end - x.start));
            r->allocation += x.end - x.start;
        }
        r->capacity = MAX(r->capacity, x.end);
    }
    return TRUE;
}

StorageRefresh *
storage_disk_refresh(const SvStoragePoolDef *def, GError **error)
{
    const char *dev = def->source.devices->pdata[0];
    const char *argv[] = {PARTED, "-s", "-m", dev, "unit", "B", "print", "free", NULL};
    g_autoptr(StorageRefresh) r = g_new0(StorageRefresh, 1);
    g_autofree char *out = NULL;

    r->vols = g_ptr_array_new_with_free_func((GDestroyNotify)storage_vol_free);
    r->free_extents = g_array_new(FALSE, FALSE, sizeof(StorageFreeExtent));
    if (!device_exists(dev, error) || !storage_tool_run(argv, &out, NULL, error))
        return NULL;
    storage_disk_parse_parted(dev, out, r);
    return g_steal_pointer(&r);
}

gboolean
storage_disk_delete(const SvStoragePoolDef *def, unsigned int flags, GError **error)
{
    return sv_check_flags(flags, 0, SV_FROM_STORAGE, "virStorageBackendDiskDeletePool", error) &&
           storage_zero_ends(def->source.devices->pdata[0], error);
}
