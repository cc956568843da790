/* test-storage-backend.c: virtstoraged's backends on a temporary directory: a dir pool's
 * build (mode, existing directory), refresh (the figures of statvfs, the entries as volumes:
 * files, directories, nothing else) and delete (only when empty); and the reading of
 * /proc/self/mounts the fs pool's start and stop ask; the LVM tools' and parted's output. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf/storage_vol_def.h"
#include "protocol/sv_wire_constants.h"
#include "storage_backend.h"
#include "storage_backend_disk.h"
#include "storage_backend_fs.h"
#include "storage_backend_logical.h"
#include "util/error.h"

static SvStoragePoolDef *
dir_def(const char *path)
{
    g_autofree char *xml = g_strdup_printf(
        "<pool type='dir'><name>t</name><target><path>%s</path></target></pool>", path);

    return sv_storage_pool_def_parse(xml, NULL);
}

static void
test_dir_pool(void)
{
    g_autofree char *tmp = g_dir_make_tmp("sv-stor-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(tmp, "a", "pool", NULL);
    g_autofree char *file = g_build_filename(path, "disk.img", NULL);
    g_autofree char *sub = g_build_filename(path, "sub", NULL);
    g_autofree char *sock = g_build_filename(path, "sock", NULL);
    g_autoptr(SvStoragePoolDef) def = dir_def(path);
    g_autoptr(GError) error = NULL;
    g_autoptr(StorageRefresh) r = NULL;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct statvfs vfs;
    struct stat st;
    int fd;

    g_assert_true(storage_backend_build(def, 0, &error));
    g_assert_no_error(error);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 07777, ==, 0711); /* libvirt's default, parents made */
    g_assert_true(storage_backend_build(def, 0, &error)); /* again: no error */
    g_assert_false(storage_backend_build(def, SV_STORAGE_POOL_BUILD_OVERWRITE, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_OPERATION_INVALID);
    g_clear_error(&error);

    g_assert_true(g_file_set_contents(file, "12345", 5, NULL));
    g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
    fd = socket(AF_UNIX, SOCK_STREAM, 0); /* neither file nor directory: not a volume */
    g_strlcpy(sa.sun_path, sock, sizeof(sa.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    r = storage_backend_start(def, &error);
    g_assert_no_error(error);
    g_assert_cmpint(statvfs(path, &vfs), ==, 0);
    g_assert_cmpuint(r->capacity, ==, (guint64)vfs.f_frsize * vfs.f_blocks);
    g_assert_cmpint(r->mode, ==, 0711);
    g_assert_cmpuint(r->vols->len, ==, 2);
    g_assert_cmpstr(((StorageVol *)r->vols->pdata[0])->name, ==, "disk.img");
    g_assert_cmpuint(((StorageVol *)r->vols->pdata[0])->capacity, ==, 5);
    g_assert_cmpstr(((StorageVol *)r->vols->pdata[0])->path, ==, file);
    g_assert_cmpstr(((StorageVol *)r->vols->pdata[1])->name, ==, "sub");
    g_assert_cmpint(((StorageVol *)r->vols->pdata[1])->type, ==, 2);

    g_assert_false(storage_backend_delete(def, 0, &error)); /* not empty */
    g_assert_cmpint(error->code, ==, SV_ERR_SYSTEM_ERROR);
    g_clear_error(&error);
    g_assert_false(storage_backend_delete(def, 1, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_INVALID_ARG);
    g_clear_error(&error);
    close(fd);
    g_assert_cmpint(unlink(sock), ==, 0);
    g_assert_cmpint(unlink(file), ==, 0);
    g_assert_cmpint(rmdir(sub), ==, 0);
    g_assert_true(storage_backend_delete(def, 0, &error));
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_null(storage_backend_refresh(def, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_SYSTEM_ERROR);
    g_autofree char *parent = g_path_get_dirname(path);
    g_assert_cmpint(rmdir(parent), ==, 0);
    g_assert_cmpint(rmdir(tmp), ==, 0);
}

static void
test_mounts(void)
{
    const char *mounts = "sysfs /sys sysfs rw 0 0\n"
                         "/dev/loop3 /srv/my\\040pool ext4 rw,relatime 0 0\n"
                         "/dev/loop4 /srv/p ext4 rw 0 0\n";

    g_assert_true(storage_fs_mounts_has(mounts, "/srv/my pool"));
    g_assert_true(storage_fs_mounts_has(mounts, "/srv/p"));
    g_assert_false(storage_fs_mounts_has(mounts, "/srv/my\\040pool"));
    g_assert_false(storage_fs_mounts_has(mounts, "/srv"));
    g_assert_false(storage_fs_mounts_has("", "/srv/p"));
}

/* Captured from pvs --noheadings -o pv_name,vg_name and vgs (LVM 2.03.16): a PV without a
 * VG is no source. */
static void
test_lvm_output(void)
{
    g_autoptr(GPtrArray) vgs = storage_logical_parse_pvs(
        "  /dev/loop1 vg0\n  /dev/loop2       \n  /dev/loop3 vg1\n  /dev/loop4 vg0\n");
    g_autofree char *xml = NULL;
    guint64 size = 0, free_bytes = 0;

    g_assert_cmpuint(vgs->len, ==, 2);
    g_assert_cmpstr(((StorageLogicalSource *)vgs->pdata[0])->devices->pdata[0], ==,
                    "/dev/loop1");
    g_assert_cmpstr(((StorageLogicalSource *)vgs->pdata[1])->name, ==, "vg1");
    xml = storage_logical_format_sources(vgs);
    g_assert_cmpstr(xml, ==,
                    "<sources>\n  <source>\n    <device path='/dev/loop1'/>\n"
                    "    <device path='/dev/loop4'/>\n    <name>vg0</name>\n"
                    "    <format type='lvm2'/>\n  </source>\n  <source>\n"
                    "    <device path='/dev/loop3'/>\n    <name>vg1</name>\n"
                    "    <format type='lvm2'/>\n  </source>\n</sources>\n");
    g_assert_true(storage_logical_parse_vgs("  62914560:58720256\n", &size, &free_bytes, NULL));
    g_assert_cmpuint(size, ==, 62914560);
    g_assert_cmpuint(free_bytes, ==, 58720256);
    g_assert_false(storage_logical_parse_vgs("  62914560\n", &size, &free_bytes, NULL));
    g_assert_false(storage_logical_parse_vgs("1:2", &size, &free_bytes, NULL)); /* free > size */
    g_assert_false(storage_logical_parse_vgs("x:1", &size, &free_bytes, NULL));
}

/* Captured from parted 3.5 -s -m DEV unit B print free: a gpt table with a partition. */
static void
test_parted_output(void)
{
    g_autoptr(StorageRefresh) r = g_new0(StorageRefresh, 1);
    const StorageFreeExtent *x;

    r->vols = g_ptr_array_new_with_free_func((GDestroyNotify)storage_vol_free);
    r->free_extents = g_array_new(FALSE, FALSE, sizeof(StorageFreeExtent));
    g_assert_true(storage_disk_parse_parted(
        "/dev/loop0",
        "BYT;\n/dev/loop0:67108864B:loopback:512:512:gpt:Loopback device:;\n"
        "1:17408B:1048575B:1031168B:free;\n"
        "1:1048576B:34603007B:33554432B:ext4:primary:;\n"
        "1:34603008B:67091967B:32488960B:free;\n", r));
    g_assert_cmpuint(r->capacity, ==, 67091968);
    g_assert_cmpuint(r->allocation, ==, 33554432);
    g_assert_cmpuint(r->available, ==, 1031168 + 32488960);
    g_assert_cmpuint(r->free_extents->len, ==, 2);
    x = &g_array_index(r->free_extents, StorageFreeExtent, 0);
    g_assert_cmpuint(x->start, ==, 17408);
    g_assert_cmpuint(x->end, ==, 1048576);
    g_assert_cmpuint(r->vols->len, ==, 1);
    g_assert_cmpstr(((StorageVol *)r->vols->pdata[0])->path, ==, "/dev/loop0p1");
    g_assert_cmpstr(((StorageVol *)r->vols->pdata[0])->name, ==, "loop0p1");
    /* a free region from byte 0 starts at libvirt's first sector */
    g_array_set_size(r->free_extents, 0);
    g_assert_true(storage_disk_parse_parted("/dev/sdb", "1:0B:1023B:1024B:free;\n", r));
    g_assert_cmpuint(g_array_index(r->free_extents, StorageFreeExtent, 0).start, ==, 512);
    g_assert_cmpuint(r->available, ==, 512);
}

/* Captured from parted 3.5 on a 64 MiB loop device: a dos table with a primary partition,
 * an extended one holding a logical one, free space inside and after it. */
static const char dos_listing[] =
    "BYT;\n/dev/loop0:67108864B:loopback:512:512:msdos:Loopback device:;\n"
    "1:1024B:1048575B:1047552B:free;\n"
    "1:1048576B:5242879B:4194304B:::;\n"
    "2:5242880B:40000511B:34757632B:::lba;\n"
    "5:5243392B:10000383B:4756992B:::;\n"
    "1:10000384B:40000511B:30000128B:free;\n"
    "1:40000512B:67108863B:27108352B:free;\n";

static StorageRefresh *
listing_new(const char *text)
{
    StorageRefresh *r = g_new0(StorageRefresh, 1);

    r->vols = g_ptr_array_new_with_free_func((GDestroyNotify)storage_vol_free);
    r->free_extents = g_array_new(FALSE, FALSE, sizeof(StorageFreeExtent));
    g_assert_true(storage_disk_parse_parted("/dev/loop0", text, r));
    return r;
}

static void
test_parted_dos(void)
{
    g_autoptr(StorageRefresh) r = listing_new(dos_listing);
    StorageVol *ext, *logical;
    const StorageFreeExtent *x;

    g_assert_cmpuint(r->vols->len, ==, 3);
    g_assert_cmpint(((StorageVol *)r->vols->pdata[0])->part_type, ==, STORAGE_PART_PRIMARY);
    ext = r->vols->pdata[1];
    logical = r->vols->pdata[2];
    g_assert_cmpstr(ext->name, ==, "loop0p2");
    g_assert_cmpint(ext->part_type, ==, STORAGE_PART_EXTENDED);
    g_assert_cmpint(logical->part_type, ==, STORAGE_PART_LOGICAL);
    /* the extended partition: its extent as capacity, the logical ones' as allocation */
    g_assert_cmpuint(ext->capacity, ==, 34757632);
    g_assert_cmpuint(ext->allocation, ==, 4756992);
    g_assert_cmpuint(r->allocation, ==, 4194304 + 4756992);
    g_assert_cmpuint(r->free_extents->len, ==, 3);
    x = &g_array_index(r->free_extents, StorageFreeExtent, 1);
    g_assert_cmpuint(x->start, ==, 10000384);
    g_assert_true(x->logical);
    g_assert_false(g_array_index(r->free_extents, StorageFreeExtent, 0).logical);
    g_assert_false(g_array_index(r->free_extents, StorageFreeExtent, 2).logical);
}

static void
test_parted_geometry(void)
{
    guint heads = 0, sectors = 0;

    g_assert_true(storage_disk_parse_geometry(
        "CHS;\n/dev/loop0:257,0,1:loopback:512:512:msdos:Loopback device:;\n257:255:2:261kB;\n",
        &heads, &sectors));
    g_assert_cmpuint(heads, ==, 255);
    g_assert_cmpuint(sectors, ==, 2);
    g_assert_false(storage_disk_parse_geometry("CHS;\n", &heads, &sectors));
    g_assert_false(storage_disk_parse_geometry("257:0:2:261kB;\n", &heads, &sectors));
}

static void
add_primary(StorageRefresh *r, guint n)
{
    StorageVol *v = g_new0(StorageVol, 1);

    v->name = g_strdup_printf("sda%u", n);
    v->part_type = STORAGE_PART_PRIMARY;
    g_ptr_array_add(r->vols, v);
}

/* libvirt's parted mkpart arguments and its choice of place. */
static void
test_part_rules(void)
{
    g_autoptr(StorageRefresh) r = listing_new(dos_listing);
    g_autoptr(StorageRefresh) full = listing_new("");
    g_autoptr(StorageRefresh) fresh = listing_new(dos_listing);
    g_autoptr(GError) error = NULL;
    g_autofree char *f1 = NULL, *f2 = NULL, *f3 = NULL, *f4 = NULL;
    guint64 start, end;

    g_assert_cmpstr((f1 = storage_disk_part_format(r, FALSE, SV_VOL_DISK_LINUX, NULL)), ==,
                    "primary");
    g_assert_cmpstr((f2 = storage_disk_part_format(r, TRUE, SV_VOL_DISK_FAT32, NULL)), ==,
                    "primary fat32");
    g_assert_null(storage_disk_part_format(r, TRUE, SV_VOL_DISK_EXTENDED, &error));
    g_assert_cmpstr(error->message, ==, "internal error: extended partition already exists");
    g_clear_error(&error);
    add_primary(r, 3);
    add_primary(r, 4);
    g_assert_cmpstr((f3 = storage_disk_part_format(r, TRUE, SV_VOL_DISK_NONE, NULL)), ==,
                    "logical ext2");
    for (guint n = 1; n <= 4; n++)
        add_primary(full, n);
    g_assert_null(storage_disk_part_format(full, TRUE, SV_VOL_DISK_LINUX_SWAP, &error));
    g_assert_cmpstr(error->message, ==,
                    "internal error: no extended partition found and no primary partition available");
    g_clear_error(&error);
    g_assert_cmpstr((f4 = storage_disk_part_format(full, TRUE, SV_VOL_DISK_EXTENDED, NULL)), ==,
                    "extended");

    /* 3 MiB, cylinders of 255 heads of 2 sectors: the last free region (the first is too
     * small), rounded up to where a cylinder ends */
    g_assert_true(storage_disk_part_bounds(fresh, TRUE, 261120, 3 << 20, &start, &end, NULL));
    g_assert_cmpuint(start, ==, 40000512);
    g_assert_cmpuint(end, ==, 43345919);
    g_assert_cmpuint((end + 1) % 261120, ==, 0);
    /* without cylinders (GPT) the size as asked */
    g_assert_true(storage_disk_part_bounds(fresh, FALSE, 261120, 1 << 20, &start, &end, NULL));
    g_assert_cmpuint(start, ==, 40000512);
    g_assert_cmpuint(end, ==, 40000512 + (1 << 20) - 1);
    /* a logical partition: inside the extended one, a sector after the free region's start */
    g_assert_true(storage_disk_part_bounds(r, TRUE, 261120, 1 << 20, &start, &end, NULL));
    g_assert_cmpuint(start, ==, 10000384 + 512);
    g_assert_false(storage_disk_part_bounds(r, TRUE, 261120, 64 << 20, &start, &end, &error));
    g_assert_cmpstr(error->message, ==, "internal error: no large enough free extent");
}

static void
test_part_number(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *a = storage_disk_part_number("/dev/sda", "/dev/sda2", NULL);
    g_autofree char *b = storage_disk_part_number("/dev/loop0", "/dev/loop0p1", NULL);
    g_autofree char *c = storage_disk_part_number("/dev/disk/by-id/x", "/dev/x12", NULL);

    g_assert_cmpstr(a, ==, "2");
    g_assert_cmpstr(b, ==, "p1");
    g_assert_cmpstr(c, ==, "12");
    g_assert_null(storage_disk_part_number("/dev/sda", "/dev/sdb1", &error));
    g_assert_cmpstr(error->message, ==, "internal error: Volume path 'sdb1' did not start "
                    "with parent pool source device name.");
    g_clear_error(&error);
    g_assert_null(storage_disk_part_number("/dev/sda", "/dev/sda", &error));
    g_assert_cmpstr(error->message, ==,
                    "internal error: cannot parse partition number from target 'sda'");
}

static StorageVol *
vol_named(const char *name)
{
    StorageVol *v = g_new0(StorageVol, 1);

    v->name = g_strdup(name);
    return v;
}

/* A refresh's listing replaces a pool's volumes: one found again keeps its marks, one still
 * being built (which no listing knows yet) stays, one gone is dropped. */
static void
test_replace_vols(void)
{
    StoragePool pool = {.vols = g_ptr_array_new_with_free_func((GDestroyNotify)storage_vol_free)};
    GPtrArray *now = g_ptr_array_new_with_free_func((GDestroyNotify)storage_vol_free);
    StorageVol *a = vol_named("a"), *b = vol_named("b");

    a->in_use = 2;
    b->building = TRUE;
    g_ptr_array_add(pool.vols, a);
    g_ptr_array_add(pool.vols, b);
    g_ptr_array_add(pool.vols, vol_named("gone"));
    g_ptr_array_add(now, vol_named("a"));
    g_ptr_array_add(now, vol_named("c"));
    storage_pool_replace_vols(&pool, now);
    g_assert_true(pool.vols == now);
    g_assert_cmpuint(now->len, ==, 3);
    g_assert_cmpstr(((StorageVol *)now->pdata[0])->name, ==, "a");
    g_assert_cmpuint(((StorageVol *)now->pdata[0])->in_use, ==, 2);
    g_assert_cmpstr(((StorageVol *)now->pdata[1])->name, ==, "c");
    g_assert_true(now->pdata[2] == b && b->building);
    g_ptr_array_unref(pool.vols);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/storage-backend/dir", test_dir_pool);
    g_test_add_func("/storage-backend/mounts", test_mounts);
    g_test_add_func("/storage-backend/lvm-output", test_lvm_output);
    g_test_add_func("/storage-backend/parted-output", test_parted_output);
    g_test_add_func("/storage-backend/parted-dos", test_parted_dos);
    g_test_add_func("/storage-backend/parted-geometry", test_parted_geometry);
    g_test_add_func("/storage-backend/part-rules", test_part_rules);
    g_test_add_func("/storage-backend/replace-vols", test_replace_vols);
    g_test_add_func("/storage-backend/part-number", test_part_number);
    return g_test_run();
}
