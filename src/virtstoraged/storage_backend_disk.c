/* storage_backend_disk.c: the disk pool's host work (a partition table on the pool's device,
 * its partitions the volumes), as libvirt 9.0's storage_backend_disk.c does it: parted mklabel
 * at build, the table's type checked at start, the partitions and free extents read at
 * refresh (parted's machine output, where libvirt runs its own parted helper), the table
 * wiped at delete. Runs on workers. */
#include "storage_backend_disk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "protocol/sv_wire_constants.h"
#include "storage_backend_fs.h"
#include "storage_vol.h"
#include "util/error.h"
#include "util/fd.h"

/* found in the tools' PATH, as libvirt 9.0 runs it (its errors name the bare command) */
#define PARTED "parted"
/* libvirt's first block, never free whatever the table says */
#define SECTOR_SIZE 512

/* A disk pool's table type as blkid and libvirt name it: "unknown" means dos. */
static const char *
table_type(const SvStoragePoolDef *def)
{
    return g_str_equal(def->source.format, "unknown") ? "dos" : def->source.format;
}

/* parted with args (after the program). */
static gboolean
parted_run(const char *const *args, char **ret_out, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();

    g_ptr_array_add(argv, (gpointer)PARTED);
    for (guint i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    return storage_tool_run((const char *const *)argv->pdata, ret_out, NULL, error);
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
    const char *args[] = {dev, "mklabel", "--script", g_str_equal(type, "dos") ? "msdos" : type,
                          NULL};

    if (!(flags & SV_STORAGE_POOL_BUILD_OVERWRITE) &&
        !storage_fs_check_empty(dev, def->source.format, error))
        return FALSE;
    return storage_zero_ends(dev, error) && parted_run(args, NULL, error);
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
partition_vol(const char *dev, guint num, guint64 start, guint64 end)
{
    StorageVol *vol = g_new0(StorageVol, 1);
    gboolean digit = *dev && g_ascii_isdigit(dev[strlen(dev) - 1]);

    vol->path = g_strdup_printf("%s%s%u", dev, digit ? "p" : "", num);
    vol->name = g_path_get_basename(vol->path);
    storage_vol_set_def(vol, storage_vol_partition_def(dev, vol->path, start, end));
    return vol;
}

/* One line of parted's listing: a partition (num) or a free region. */
typedef struct {
    guint num;
    gboolean free;
    guint64 start;
    guint64 end;
} Region;

/* Whether the listing's device line ("PATH:SIZE:TRANSPORT:LSS:PSS:LABEL:MODEL:;") names an
 * msdos table: parted's machine output gives no partition types, so a dos table's logical
 * partitions are told by their numbers (5 and up) and its extended partition by what lies
 * inside it. */
static gboolean
listing_is_dos(char **lines)
{
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], ":", -1);
        if (g_strv_length(f) >= 6 && f[0][0] == '/')
            return g_str_equal(f[5], "msdos");
    }
    return FALSE;
}

/* A dos table's primary partition holding logical partitions or free space is its extended
 * one (parted lists the free space inside it apart from the rest). */
static gboolean
region_is_extended(const GArray *regions, const Region *p)
{
    if (p->free || p->num > 4)
        return FALSE;
    for (guint k = 0; k < regions->len; k++) {
        const Region *q = &g_array_index(regions, Region, k);
        if (q != p && (q->free || q->num > 4) && q->start >= p->start && q->end <= p->end)
            return TRUE;
    }
    return FALSE;
}

/* The extended partition's volume: its extent is its capacity, its allocation what the
 * logical partitions in it take (libvirt's MakeDataVol). */
static void
add_to_extended(StorageRefresh *r, guint64 allocation)
{
    for (guint i = 0; i < r->vols->len; i++) {
        StorageVol *v = r->vols->pdata[i];
        if (v->part_type == STORAGE_PART_EXTENDED) {
            storage_vol_def(v)->allocation += allocation;
            v->allocation += allocation;
        }
    }
}

static void
add_region(StorageRefresh *r, const char *dev, const GArray *regions, const Region *x,
           gboolean dos, const Region *ext)
{
    StorageFreeExtent fx = {.start = x->start, .end = x->end};
    StorageVol *vol;

    r->capacity = MAX(r->capacity, x->end);
    if (x->free) {
        if (fx.start == 0)
            fx.start = SECTOR_SIZE;
        fx.logical = ext && x->start >= ext->start && x->end <= ext->end;
        g_array_append_val(r->free_extents, fx);
        r->available += fx.end - fx.start;
        return;
    }
    vol = partition_vol(dev, x->num, x->start, x->end);
    vol->part_type = !dos ? STORAGE_PART_PRIMARY
                     : x->num > 4 ? STORAGE_PART_LOGICAL
                     : region_is_extended(regions, x) ? STORAGE_PART_EXTENDED
                                                      : STORAGE_PART_PRIMARY;
    g_ptr_array_add(r->vols, vol);
    if (vol->part_type == STORAGE_PART_EXTENDED) {
        storage_vol_def(vol)->allocation = vol->allocation = 0;
        return;
    }
    if (vol->part_type == STORAGE_PART_LOGICAL)
        add_to_extended(r, vol->allocation);
    r->allocation += vol->allocation;
}

gboolean
storage_disk_parse_parted(const char *dev, const char *text, StorageRefresh *r)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GArray) regions = g_array_new(FALSE, FALSE, sizeof(Region));
    gboolean dos = listing_is_dos(lines);
    const Region *ext = NULL;

    r->capacity = r->allocation = r->available = 0;
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = NULL;
        Region x;

        if (!parse_region(g_strstrip(lines[i]), &x.num, &x.start, &x.end, &f))
            continue;
        x.free = g_str_has_prefix(f[4], "free");
        g_array_append_val(regions, x);
    }
    for (guint i = 0; dos && i < regions->len; i++)
        if (region_is_extended(regions, &g_array_index(regions, Region, i)))
            ext = &g_array_index(regions, Region, i);
    for (guint i = 0; i < regions->len; i++)
        add_region(r, dev, regions, &g_array_index(regions, Region, i), dos, ext);
    return TRUE;
}

/* An extended partition's node is the kernel's two-sector stub: libvirt's physical size is
 * that node's size (its capacity the extent). Left as it was when the node does not open. */
static void
extended_physical(StorageVol *vol)
{
    g_auto(SvFd) fd = open(vol->path, O_RDONLY | O_CLOEXEC);
    off_t end;

    if (fd >= 0 && (end = lseek(fd, 0, SEEK_END)) >= 0)
        storage_vol_def(vol)->physical = (guint64)end;
}

StorageRefresh *
storage_disk_refresh(const SvStoragePoolDef *def, GError **error)
{
    const char *dev = def->source.devices->pdata[0];
    const char *args[] = {"-s", "-m", dev, "unit", "B", "print", "free", NULL};
    g_autoptr(StorageRefresh) r = g_new0(StorageRefresh, 1);
    g_autofree char *out = NULL;

    r->vols = g_ptr_array_new_with_free_func((GDestroyNotify)storage_vol_free);
    r->free_extents = g_array_new(FALSE, FALSE, sizeof(StorageFreeExtent));
    if (!device_exists(dev, error) || !parted_run(args, &out, error))
        return NULL;
    storage_disk_parse_parted(dev, out, r);
    for (guint i = 0; i < r->vols->len; i++) {
        StorageVol *v = r->vols->pdata[i];
        storage_vol_stat_block(v);
        if (v->part_type == STORAGE_PART_EXTENDED)
            extended_physical(v);
    }
    return g_steal_pointer(&r);
}

gboolean
storage_disk_delete(const SvStoragePoolDef *def, unsigned int flags, GError **error)
{
    return sv_check_flags(flags, 0, SV_FROM_STORAGE, "virStorageBackendDiskDeletePool", error) &&
           storage_zero_ends(def->source.devices->pdata[0], error);
}

/* ---------------------------------------------------------------- volumes */

gboolean
storage_disk_parse_geometry(const char *text, guint *ret_heads, guint *ret_sectors)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    /* "CHS;", the device line, then "CYLINDERS:HEADS:SECTORS:CYLSIZE;" */
    for (guint i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(g_strstrip(lines[i]), ":", -1);
        char *e1 = NULL, *e2 = NULL;
        guint64 h, sec;

        if (g_strv_length(f) != 4 || !g_ascii_isdigit(f[0][0]))
            continue;
        h = g_ascii_strtoull(f[1], &e1, 10);
        sec = g_ascii_strtoull(f[2], &e2, 10);
        if (*e1 || *e2 || !h || !sec || h > G_MAXUINT16 || sec > G_MAXUINT16)
            return FALSE;
        *ret_heads = (guint)h;
        *ret_sectors = (guint)sec;
        return TRUE;
    }
    return FALSE;
}

/* libvirt's parted file system names of the partition formats (virStoragePartedFs). */
static const char *const parted_fs[SV_VOL_DISK_LAST] = {
    [SV_VOL_DISK_NONE] = "ext2",       [SV_VOL_DISK_LINUX] = "ext2",
    [SV_VOL_DISK_FAT16] = "fat16",     [SV_VOL_DISK_FAT32] = "fat32",
    [SV_VOL_DISK_LINUX_SWAP] = "linux-swap", [SV_VOL_DISK_LINUX_LVM] = "ext2",
    [SV_VOL_DISK_LINUX_RAID] = "ext2", [SV_VOL_DISK_EXTENDED] = "extended",
};

static gboolean
has_extended(const StorageRefresh *r)
{
    for (guint i = 0; i < r->vols->len; i++)
        if (((StorageVol *)r->vols->pdata[i])->part_type == STORAGE_PART_EXTENDED)
            return TRUE;
    return FALSE;
}

/* A dos table takes four primary and extended partitions; then logical ones. */
static StoragePartType
type_to_create(const StorageRefresh *r, gboolean dos)
{
    guint n = 0;

    for (guint i = 0; dos && i < r->vols->len; i++) {
        StoragePartType t = ((StorageVol *)r->vols->pdata[i])->part_type;
        n += t == STORAGE_PART_PRIMARY || t == STORAGE_PART_EXTENDED;
    }
    return n >= 4 ? STORAGE_PART_LOGICAL : STORAGE_PART_PRIMARY;
}

char *
storage_disk_part_format(const StorageRefresh *r, gboolean dos, int format, GError **error)
{
    if (!dos)
        return g_strdup("primary");
    if (format < 0 || format >= SV_VOL_DISK_LAST) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR, "%s",
                     "Invalid partition type");
        return NULL;
    }
    if (format == SV_VOL_DISK_EXTENDED) {
        if (has_extended(r)) {
            sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR, "%s",
                         "extended partition already exists");
            return NULL;
        }
        return g_strdup(parted_fs[format]);
    }
    if (type_to_create(r, dos) == STORAGE_PART_PRIMARY)
        return g_strdup_printf("primary %s", parted_fs[format]);
    if (!has_extended(r)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR, "%s",
                     "no extended partition found and no primary partition available");
        return NULL;
    }
    return g_strdup_printf("logical %s", parted_fs[format]);
}

gboolean
storage_disk_part_bounds(const StorageRefresh *r, gboolean dos, guint64 cyl, guint64 size,
                         guint64 *ret_start, guint64 *ret_end, GError **error)
{
    gboolean logical = type_to_create(r, dos) == STORAGE_PART_LOGICAL;
    guint64 extra = cyl - size % cyl, best_size = 0, aligned = size;
    const StorageFreeExtent *best = NULL;

    /* the smallest free region of the right kind that holds the size rounded up to a
     * cylinder (dos), an extra cylinder when the region starts too far into one, and for a
     * logical partition one sector before it */
    for (guint i = 0; i < r->free_extents->len; i++) {
        const StorageFreeExtent *x = &g_array_index(r->free_extents, StorageFreeExtent, i);
        guint64 room = x->end - x->start, need = size;

        if (dos) {
            need += extra;
            if (x->start % cyl > extra)
                need += cyl;
            if (logical)
                room -= SECTOR_SIZE;
        }
        if (room > need && (!best_size || room < best_size) && x->logical == logical) {
            best_size = room;
            best = x;
            aligned = need;
        }
    }
    if (!best) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR, "%s",
                     "no large enough free extent");
        return FALSE;
    }
    *ret_start = best->start + (logical ? SECTOR_SIZE : 0);
    *ret_end = *ret_start + aligned - (dos ? *ret_start % cyl : 0) - 1;
    return TRUE;
}

/* The cylinder's bytes (libparted's BIOS geometry of the device). */
static gboolean
cylinder_size(const char *dev, guint64 *ret, GError **error)
{
    const char *args[] = {"-s", "-m", dev, "unit", "chs", "print", NULL};
    g_autofree char *out = NULL;
    guint heads, sectors;

    if (!parted_run(args, &out, error))
        return FALSE;
    if (!storage_disk_parse_geometry(out, &heads, &sectors)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR, "%s",
                     "Failed to create disk pool geometry");
        return FALSE;
    }
    *ret = (guint64)heads * sectors * SECTOR_SIZE;
    return TRUE;
}

static StorageVol *
find_path(const StorageRefresh *r, const char *path)
{
    for (guint i = 0; i < r->vols->len; i++)
        if (g_str_equal(((StorageVol *)r->vols->pdata[i])->path, path))
            return r->vols->pdata[i];
    return NULL;
}

/* The partition the new listing has and the old one had not. */
static StorageVol *
find_new(const StorageRefresh *before, const StorageRefresh *after)
{
    for (guint i = 0; i < after->vols->len; i++) {
        StorageVol *v = after->vols->pdata[i];
        if (!find_path(before, v->path))
            return v;
    }
    return NULL;
}

/* What libvirt's pool knows after a partition whose name was wrong: its listing stopped
 * at that partition, so only the free regions before it (the figures from those alone). */
static StorageRefresh *
listing_cut_at(const StorageRefresh *after, const StorageVol *made)
{
    StorageRefresh *r = g_new0(StorageRefresh, 1);
    const SvStorageVolDef *def = made->def;
    const SvVolExtent *at = def->extents->pdata[0];

    r->vols = g_ptr_array_new_with_free_func((GDestroyNotify)storage_vol_free);
    r->free_extents = g_array_new(FALSE, FALSE, sizeof(StorageFreeExtent));
    for (guint i = 0; i < after->free_extents->len; i++) {
        StorageFreeExtent x = g_array_index(after->free_extents, StorageFreeExtent, i);
        if (x.end > at->start)
            continue;
        g_array_append_val(r->free_extents, x);
        r->available += x.end - x.start;
        r->capacity = MAX(r->capacity, x.end);
    }
    return r;
}

StorageRefresh *
storage_disk_create_vol(const SvStoragePoolDef *def, const char *name, int format,
                        guint64 capacity, StorageRefresh **ret_cut, GError **error)
{
    const char *dev = def->source.devices->pdata[0];
    gboolean dos = g_str_equal(table_type(def), "dos");
    g_autoptr(StorageRefresh) before = storage_disk_refresh(def, error);
    g_autoptr(StorageRefresh) after = NULL;
    g_autofree char *fmt = NULL, *start_s = NULL, *end_s = NULL;
    guint64 cyl = 0, start, end;
    StorageVol *made;

    if (!before || !(fmt = storage_disk_part_format(before, dos, format, error)) ||
        !cylinder_size(dev, &cyl, error) ||
        !storage_disk_part_bounds(before, dos, cyl, capacity, &start, &end, error))
        return NULL;
    start_s = g_strdup_printf("%" G_GUINT64_FORMAT "B", start);
    end_s = g_strdup_printf("%" G_GUINT64_FORMAT "B", end);
    {
        const char *args[] = {dev, "mkpart", "--script", fmt, start_s, end_s, NULL};
        if (!parted_run(args, NULL, error))
            return NULL;
    }
    if (!(after = storage_disk_refresh(def, error)))
        return NULL;
    if (!(made = find_new(before, after))) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "no new partition on '%s'", dev);
        return NULL;
    }
    if (!g_str_equal(made->name, name)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INVALID_ARG,
                     "invalid partition name '%s', expected '%s'", name, made->name);
        *ret_cut = listing_cut_at(after, made);
        /* libvirt's best effort to take the partition away again */
        storage_refresh_free(storage_disk_delete_vol(def, made->path, NULL));
        return NULL;
    }
    return g_steal_pointer(&after);
}

char *
storage_disk_part_number(const char *dev, const char *part_path, GError **error)
{
    g_autofree char *dev_name = g_path_get_basename(part_path);
    g_autofree char *src_name = g_path_get_basename(dev);
    const char *num;

    if (!g_str_has_prefix(dev_name, src_name)) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "Volume path '%s' did not start with parent pool source device name.",
                     dev_name);
        return NULL;
    }
    num = dev_name + strlen(src_name);
    if (!*num) {
        sv_error_set(error, SV_FROM_STORAGE, SV_ERR_INTERNAL_ERROR,
                     "cannot parse partition number from target '%s'", dev_name);
        return NULL;
    }
    return g_strdup(num);
}

StorageRefresh *
storage_disk_delete_vol(const SvStoragePoolDef *def, const char *path, GError **error)
{
    const char *dev = def->source.devices->pdata[0];
    g_autofree char *resolved = realpath(path, NULL);
    g_autofree char *num = NULL;

    if (!resolved) {
        sv_error_set_errno(error, SV_FROM_STORAGE, errno,
                           "Couldn't read volume target path '%s'", path);
        return NULL;
    }
    if (!(num = storage_disk_part_number(dev, resolved, error)))
        return NULL;
    {
        const char *args[] = {dev, "rm", "--script", num, NULL};
        if (!parted_run(args, NULL, error))
            return NULL;
    }
    return storage_disk_refresh(def, error);
}
