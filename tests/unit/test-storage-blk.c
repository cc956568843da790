/* test-storage-blk.c: the disk and logical pool types' command lines (golden, as libvirt
 * 9.0's storage_backend_logical.c and storage_backend_disk.c give them to lvm2 and parted),
 * the parsers of vgs, lvs, pvs and parted's output, the <sources> document of a logical
 * source discovery, and the verdicts of the device probe. */
#include <glib.h>

#include "storage_backend_blk.h"
#include "storage_backend_disk.h"
#include "storage_backend_logical.h"
#include "util/error.h"

static SvStoragePoolDef *parse(const char *xml)
{
    g_autoptr(GError) error = NULL;
    SvStoragePoolDef *def = sv_storage_pool_def_parse(xml, &error);

    g_assert_no_error(error);
    return def;
}

static void check_argv(GStrv argv, const char *expected)
{
    g_auto(GStrv) owned = argv;
    g_autofree char *joined = g_strjoinv(" ", owned);

    g_assert_cmpstr(joined, ==, expected);
}

static void test_logical_argv(void)
{
    g_autoptr(SvStoragePoolDef) def =
        parse("<pool type='logical'><name>p</name><source><device path='/dev/sdb'/>"
              "<device path='/dev/sdc'/><name>vg0</name></source></pool>");

    check_argv(storage_logical_argv_pvcreate("/dev/sdb"), "/sbin/pvcreate /dev/sdb");
    check_argv(storage_logical_argv_pvremove("/dev/sdb"), "/sbin/pvremove /dev/sdb");
    check_argv(storage_logical_argv_vgcreate(def), "/sbin/vgcreate vg0 /dev/sdb /dev/sdc");
    check_argv(storage_logical_argv_vgchange(def, TRUE), "/sbin/vgchange -aly vg0");
    check_argv(storage_logical_argv_vgchange(def, FALSE), "/sbin/vgchange -aln vg0");
    check_argv(storage_logical_argv_vgremove(def), "/sbin/vgremove -f vg0");
    check_argv(storage_logical_argv_vgs(def), "/sbin/vgs --separator : --noheadings --units b "
                                              "--unbuffered --nosuffix --options "
                                              "vg_size,vg_free vg0");
    check_argv(storage_logical_argv_lvs(def),
               "/sbin/lvs --separator # --noheadings --units b --unbuffered --nosuffix --options "
               "lv_name,origin,uuid,devices,segtype,stripes,seg_size,vg_extent_size,size,"
               "lv_attr vg0");
    check_argv(storage_logical_argv_pvs(), "/sbin/pvs --noheadings -o pv_name,vg_name");
    /* volumes: sizes in KiB rounded up; a smaller allocation is a sparse (virtual) one;
     * a backing volume makes a snapshot of it */
    check_argv(storage_logical_argv_lvcreate(def, "v", 1 << 30, 1 << 30, NULL),
               "/sbin/lvcreate --name v -L 1048576K vg0");
    check_argv(storage_logical_argv_lvcreate(def, "v", 1000, 1000, NULL),
               "/sbin/lvcreate --name v -L 1K vg0");
    check_argv(storage_logical_argv_lvcreate(def, "v", 1 << 30, 0, NULL),
               "/sbin/lvcreate --name v -L 1K --virtualsize 1048576K vg0");
    check_argv(storage_logical_argv_lvcreate(def, "s", 1 << 20, 1 << 20, "/dev/vg0/v"),
               "/sbin/lvcreate --name s -L 1024K -s /dev/vg0/v");
    check_argv(storage_logical_argv_lvremove("/dev/vg0/v"), "/sbin/lvremove -f /dev/vg0/v");
    check_argv(storage_logical_argv_lvchange_off("/dev/vg0/v"), "/sbin/lvchange -aln /dev/vg0/v");
}

static void test_logical_parse(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) vols = g_ptr_array_new_with_free_func((GDestroyNotify)storage_vol_free);
    guint64 size = 0, free_bytes = 0;
    StorageVol *v;
    /* two segments of one volume, a thin pool, an inactive volume, a snapshot */
    const char *lvs =
        "  root##Ab12-x#/dev/sdb(0)#linear#1#5234491392#4194304#6274678784#-wi-ao----\n"
        "  root##Ab12-x#/dev/sdc(10)#linear#1#1040187392#4194304#6274678784#-wi-ao----\n"
        "  tp##Cd34-y#tp_tdata(0)#thin-pool#1#104857600#4194304#104857600#twi-a-tz--\n"
        "  off##Ef56-z#/dev/sdb(300)#linear#1#8388608#4194304#8388608#-wi-------\n"
        "  snap#root#Gh78-w#/dev/sdb(400)#linear#1#4194304#4194304#4194304#swi-a-s---\n"
        "garbage line\n";

    g_assert_true(
        storage_logical_parse_vgs("  10603200512:4328521728\n", &size, &free_bytes, &error));
    g_assert_cmpuint(size, ==, 10603200512ULL);
    g_assert_cmpuint(free_bytes, ==, 4328521728ULL);
    g_assert_true(storage_logical_parse_vgs("  62914560:62914560:\n", &size, &free_bytes, NULL));
    g_assert_cmpuint(size, ==, 62914560);
    g_assert_false(
        storage_logical_parse_vgs("  Volume group not found\n", &size, &free_bytes, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_STORAGE), SV_ERR_INTERNAL_ERROR);
    g_clear_error(&error);

    g_assert_true(storage_logical_parse_lvs(lvs, "/dev/vg0", vols, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(vols->len, ==, 2);
    v = vols->pdata[0];
    g_assert_cmpstr(v->name, ==, "root");
    g_assert_cmpstr(v->path, ==, "/dev/vg0/root");
    g_assert_cmpint(v->type, ==, 1);
    g_assert_cmpuint(v->capacity, ==, 6274678784ULL);
    g_assert_cmpuint(v->allocation, ==, 6274678784ULL);
    g_assert_cmpstr(((StorageVol *)vols->pdata[1])->name, ==, "snap");
    g_assert_true(storage_logical_parse_lvs("", "/dev/vg0", vols, NULL)); /* no volumes */
}

static void test_logical_sources(void)
{
    g_autoptr(GPtrArray) s = storage_logical_parse_pvs("  /dev/sda2 vg0\n"
                                                       "  /dev/sdb\n"
                                                       "  /dev/sdc   vg1\n"
                                                       "  /dev/sdd vg0\n");
    g_autofree char *xml = NULL;
    g_autoptr(GPtrArray) none = storage_logical_parse_pvs("");
    g_autofree char *empty = storage_logical_format_sources(none);

    g_assert_cmpuint(s->len, ==, 2);
    xml = storage_logical_format_sources(s);
    g_assert_cmpstr(xml, ==,
                    "<sources>\n"
                    "  <source>\n"
                    "    <device path='/dev/sda2'/>\n"
                    "    <device path='/dev/sdd'/>\n"
                    "    <name>vg0</name>\n"
                    "    <format type='lvm2'/>\n"
                    "  </source>\n"
                    "  <source>\n"
                    "    <device path='/dev/sdc'/>\n"
                    "    <name>vg1</name>\n"
                    "    <format type='lvm2'/>\n"
                    "  </source>\n"
                    "</sources>\n");
    g_assert_cmpstr(empty, ==, "<sources>\n</sources>\n");
}

static void test_disk_argv(void)
{
    check_argv(storage_disk_argv_mklabel("/dev/sdb", "dos"),
               "/sbin/parted /dev/sdb mklabel --script msdos");
    check_argv(storage_disk_argv_mklabel("/dev/sdb", "unknown"),
               "/sbin/parted /dev/sdb mklabel --script msdos");
    check_argv(storage_disk_argv_mklabel("/dev/sdb", "gpt"),
               "/sbin/parted /dev/sdb mklabel --script gpt");
    check_argv(storage_disk_argv_print("/dev/sdb"),
               "/sbin/parted -m -s /dev/sdb unit B print free");
    g_assert_cmpstr(storage_disk_label("mac"), ==, "mac");
    {
        g_autofree char *a = storage_disk_partition_path("/dev/sda", 1);
        g_autofree char *b = storage_disk_partition_path("/dev/loop5", 2);
        g_autofree char *c = storage_disk_partition_path("/dev/nvme0n1", 3);
        g_assert_cmpstr(a, ==, "/dev/sda1");
        g_assert_cmpstr(b, ==, "/dev/loop5p2");
        g_assert_cmpstr(c, ==, "/dev/nvme0n1p3");
    }
}

static void test_disk_parse(void)
{
    g_autoptr(GError) error = NULL;
    /* a 64 MiB GPT disk with two partitions, as parted prints it */
    const char *gpt = "BYT;\n"
                      "/dev/loop5:67108864B:loopback:512:512:gpt:Loopback device:;\n"
                      "1:17408B:1048575B:1031168B:free;\n"
                      "1:1048576B:20971519B:19922944B::a:;\n"
                      "2:20971520B:31457279B:10485760B:ext4:b:;\n"
                      "1:31457280B:67091967B:35634688B:free;\n";
    g_autoptr(StorageRefresh) r = storage_disk_parse_print(gpt, "/dev/loop5", "/dev", &error);
    g_autoptr(StorageRefresh) empty = NULL;
    StorageVol *v;

    g_assert_no_error(error);
    g_assert_cmpuint(r->capacity, ==, 67091968); /* GPT's backup table not counted */
    g_assert_cmpuint(r->allocation, ==, 19922944 + 10485760);
    g_assert_cmpuint(r->available, ==, 1031168 + 35634688);
    g_assert_cmpuint(r->vols->len, ==, 2);
    v = r->vols->pdata[1];
    g_assert_cmpstr(v->name, ==, "loop5p2");
    g_assert_cmpstr(v->path, ==, "/dev/loop5p2");
    g_assert_cmpint(v->type, ==, 1);
    g_assert_cmpuint(v->capacity, ==, 10485760);
    g_assert_cmpuint(v->allocation, ==, 10485760);

    /* free space from byte 0 counts from the first sector's end, as libvirt counts it */
    empty = storage_disk_parse_print("BYT;\n/dev/sdb:1048576B:scsi:512:512:loop:x:;\n"
                                     "1:0B:1048575B:1048576B:free;\n",
                                     "/dev/sdb", "/dev", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(empty->available, ==, 1048576 - 512);
    g_assert_cmpuint(empty->vols->len, ==, 0);

    g_assert_null(storage_disk_parse_print("Error: no\n", "/dev/sdb", "/dev", &error));
    g_assert_error(error, sv_error_quark(SV_FROM_STORAGE), SV_ERR_INTERNAL_ERROR);
    g_clear_error(&error);
    g_assert_null(storage_disk_parse_print("BYT;\n/dev/sdb:1B:x:;\n1:x:y:z:free;\n", "/dev/sdb",
                                           "/dev", &error));
    g_assert_error(error, sv_error_quark(SV_FROM_STORAGE), SV_ERR_INTERNAL_ERROR);
}

static void test_probe(void)
{
    const char *lvm = "DEVNAME=/dev/sdb\nUUID=x\nVERSION=LVM2 001\nTYPE=LVM2_member\n";
    const char *ext4 = "DEVNAME=/dev/sdb\nTYPE=ext4\n";
    const char *dos = "DEVNAME=/dev/sdb\nPTUUID=4de58c78\nPTTYPE=dos\n";

    /* a file system's format: superblocks only */
    g_assert_cmpint(storage_blk_probe_parse(NULL, "LVM2_member", FALSE), ==,
                    STORAGE_BLK_PROBE_UNDEFINED);
    g_assert_cmpint(storage_blk_probe_parse(lvm, "LVM2_member", FALSE), ==,
                    STORAGE_BLK_PROBE_MATCH);
    g_assert_cmpint(storage_blk_probe_parse(ext4, "LVM2_member", FALSE), ==,
                    STORAGE_BLK_PROBE_DIFFERENT);
    g_assert_cmpint(storage_blk_probe_parse(dos, "LVM2_member", FALSE), ==,
                    STORAGE_BLK_PROBE_UNDEFINED);
    /* a partition table's: partition tables only, and only those blkid knows */
    g_assert_cmpint(storage_blk_probe_parse(dos, "dos", TRUE), ==, STORAGE_BLK_PROBE_MATCH);
    g_assert_cmpint(storage_blk_probe_parse(dos, "gpt", TRUE), ==, STORAGE_BLK_PROBE_DIFFERENT);
    g_assert_cmpint(storage_blk_probe_parse(ext4, "gpt", TRUE), ==, STORAGE_BLK_PROBE_UNDEFINED);
    g_assert_cmpint(storage_blk_probe_parse(NULL, "gpt", TRUE), ==, STORAGE_BLK_PROBE_UNDEFINED);
    g_assert_cmpint(storage_blk_probe_parse(NULL, "pc98", TRUE), ==, STORAGE_BLK_PROBE_UNKNOWN);
    g_assert_cmpint(storage_blk_probe_parse(dos, "unknown", TRUE), ==, STORAGE_BLK_PROBE_UNKNOWN);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/storage-blk/logical/argv", test_logical_argv);
    g_test_add_func("/storage-blk/logical/parse", test_logical_parse);
    g_test_add_func("/storage-blk/logical/sources", test_logical_sources);
    g_test_add_func("/storage-blk/disk/argv", test_disk_argv);
    g_test_add_func("/storage-blk/disk/parse", test_disk_parse);
    g_test_add_func("/storage-blk/probe", test_probe);
    return g_test_run();
}
