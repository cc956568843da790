/* test-storage-logical.c: the logical pool type's command lines (golden, as libvirt 9.0's
 * storage_backend_logical.c gives them to lvm2, logical volumes' included: these machines
 * have no device-mapper to run those), the parsers of vgs, lvs and pvs output, and the
 * <sources> document of a logical source discovery. */
#include <glib.h>

#include "storage_backend_logical.h"
#include "util/error.h"

static SvStoragePoolDef *
parse(const char *xml)
{
    g_autoptr(GError) error = NULL;
    SvStoragePoolDef *def = sv_storage_pool_def_parse(xml, &error);

    g_assert_no_error(error);
    return def;
}

static void
check_argv(GStrv argv, const char *expected)
{
    g_auto(GStrv) owned = argv;
    g_autofree char *joined = g_strjoinv(" ", owned);

    g_assert_cmpstr(joined, ==, expected);
}

static void
test_logical_argv(void)
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
               "/sbin/lvcreate --name v -L 1048576K vg0 --yes");
    check_argv(storage_logical_argv_lvcreate(def, "v", 1000, 1000, NULL),
               "/sbin/lvcreate --name v -L 1K vg0 --yes");
    check_argv(storage_logical_argv_lvcreate(def, "v", 1 << 30, 0, NULL),
               "/sbin/lvcreate --name v -L 1K --type snapshot --virtualsize 1048576K vg0 --yes");
    check_argv(storage_logical_argv_lvcreate(def, "s", 1 << 20, 1 << 20, "/dev/vg0/v"),
               "/sbin/lvcreate --name s -L 1024K -s /dev/vg0/v --yes");
    check_argv(storage_logical_argv_lvremove("/dev/vg0/v"), "/sbin/lvremove -f /dev/vg0/v");
    check_argv(storage_logical_argv_lvchange_off("/dev/vg0/v"), "/sbin/lvchange -aln /dev/vg0/v");
}

static void
test_logical_parse(void)
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

static void
test_logical_sources(void)
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

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/storage-logical/argv", test_logical_argv);
    g_test_add_func("/storage-logical/parse", test_logical_parse);
    g_test_add_func("/storage-logical/sources", test_logical_sources);
    return g_test_run();
}
