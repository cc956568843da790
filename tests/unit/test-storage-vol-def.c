/* test-storage-vol-def.c: conf/storage_vol_def.c, storage volume XML as libvirt 9.0's
 * storage_conf.c reads and writes it: sizes and their units, formats by pool kind,
 * permissions, encryption, compat and features, the backing store, what only vol-dumpxml
 * writes (read back with SV_VOL_PARSE_DISPLAY), the directory pool's name rules, and
 * libvirt's error (code, domain, message) for each kind of bad document. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "conf/storage_vol_def.h"
#include "conf/uuid.h"
#include "util/error.h"

#define UUID "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"

/* What `virsh vol-create-as p v.qcow2 1G --allocation 10M --format qcow2 --backing-vol
 * /b.img --backing-vol-format raw` sends (virsh's own text). */
static void
test_create_input(void)
{
    const char *xml = "<volume>\n  <name>v.qcow2</name>\n  <capacity>1073741824</capacity>\n"
                      "  <allocation>10485760</allocation>\n  <target>\n"
                      "    <format type='qcow2'/>\n  </target>\n  <backingStore>\n"
                      "    <path>/b.img</path>\n    <format type='raw'/>\n  </backingStore>\n"
                      "</volume>\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStorageVolDef) def =
        sv_storage_vol_def_parse(xml, SV_VOL_FORMATS_FILE, SV_VOL_PARSE_OPT_CAPACITY, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(def->name, ==, "v.qcow2");
    g_assert_null(def->key);
    g_assert_cmpint(def->type, ==, SV_VOL_TYPE_FILE);
    g_assert_cmpuint(def->capacity, ==, 1073741824);
    g_assert_cmpuint(def->allocation, ==, 10485760);
    g_assert_true(def->has_allocation);
    g_assert_cmpint(def->target.format, ==, SV_VOL_FORMAT_QCOW2);
    g_assert_null(def->target.path);
    g_assert_cmpint(def->target.perms.mode, ==, -1);
    g_assert_nonnull(def->backing);
    g_assert_cmpstr(def->backing->path, ==, "/b.img");
    g_assert_cmpint(def->backing->format, ==, SV_VOL_FORMAT_RAW);
}

/* Units scale as virScaleInteger; no <allocation> means the capacity; no format means raw. */
static void
test_units(void)
{
    static const struct {
        const char *cap;
        guint64 bytes;
    } u[] = {
        {"<capacity>5</capacity>", 5},
        {"<capacity unit='bytes'>5</capacity>", 5},
        {"<capacity unit='K'>2</capacity>", 2048},
        {"<capacity unit='KiB'>2</capacity>", 2048},
        {"<capacity unit='KB'>2</capacity>", 2000},
        {"<capacity unit='M'>1</capacity>", 1048576},
        {"<capacity unit='G'>1</capacity>", 1073741824},
        {"<capacity unit='GB'>1</capacity>", 1000000000},
        {"<capacity unit='t'>1</capacity>", G_GUINT64_CONSTANT(1099511627776)},
        {"<capacity unit='EiB'>7</capacity>", G_GUINT64_CONSTANT(7) << 60},
    };

    for (guint i = 0; i < G_N_ELEMENTS(u); i++) {
        g_autofree char *xml = g_strdup_printf("<volume><name>a</name>%s</volume>", u[i].cap);
        g_autoptr(GError) error = NULL;
        g_autoptr(SvStorageVolDef) def =
            sv_storage_vol_def_parse(xml, SV_VOL_FORMATS_FILE, 0, &error);

        g_assert_no_error(error);
        g_assert_cmpuint(def->capacity, ==, u[i].bytes);
        g_assert_cmpuint(def->allocation, ==, u[i].bytes);
        g_assert_false(def->has_allocation);
        g_assert_cmpint(def->target.format, ==, SV_VOL_FORMAT_RAW);
    }
}

/* A vol-dumpxml of every part libvirt writes, parsed with DISPLAY and written back: the
 * same text. */
static const char *const dumped[] = {
    "<volume type='file'>\n"
    "  <name>enc.qcow2</name>\n"
    "  <key>/p/enc.qcow2</key>\n"
    "  <capacity unit='bytes'>1073741824</capacity>\n"
    "  <allocation unit='bytes'>200704</allocation>\n"
    "  <physical unit='bytes'>196624</physical>\n"
    "  <target>\n"
    "    <path>/p/enc.qcow2</path>\n"
    "    <format type='qcow2'/>\n"
    "    <permissions>\n"
    "      <mode>0600</mode>\n"
    "      <owner>107</owner>\n"
    "      <group>0</group>\n"
    "      <label>system_u:object_r:virt_image_t:s0</label>\n"
    "    </permissions>\n"
    "    <timestamps>\n"
    "      <atime>1733412345.123456789</atime>\n"
    "      <mtime>1733412345</mtime>\n"
    "      <ctime>1733412345.000000010</ctime>\n"
    "    </timestamps>\n"
    "    <encryption format='luks'>\n"
    "      <secret type='passphrase' uuid='" UUID "'/>\n"
    "      <cipher name='aes' size='256' mode='xts' hash='sha256'/>\n"
    "      <ivgen name='plain64' hash='sha256'/>\n"
    "    </encryption>\n"
    "    <compat>1.1</compat>\n"
    "    <clusterSize unit='B'>65536</clusterSize>\n"
    "    <features>\n"
    "      <lazy_refcounts/>\n"
    "    </features>\n"
    "  </target>\n"
    "  <backingStore>\n"
    "    <path>/p/base&amp;.img</path>\n"
    "    <format type='raw'/>\n"
    "    <permissions>\n"
    "      <mode>0644</mode>\n"
    "      <owner>0</owner>\n"
    "      <group>0</group>\n"
    "    </permissions>\n"
    "  </backingStore>\n"
    "</volume>\n",
    "<volume type='file'>\n"
    "  <name>u.img</name>\n"
    "  <key>/p/u.img</key>\n"
    "  <capacity unit='bytes'>0</capacity>\n"
    "  <allocation unit='bytes'>0</allocation>\n"
    "  <target>\n"
    "    <path>/p/u.img</path>\n"
    "    <format type='qcow2'/>\n"
    "    <encryption format='luks' engine='qemu'>\n"
    "      <secret type='passphrase' usage='/p/u.img'/>\n"
    "    </encryption>\n"
    "    <compat>0.10</compat>\n"
    "    <features/>\n"
    "  </target>\n"
    "</volume>\n",
};

static void
test_dumped(gconstpointer data)
{
    const char *xml = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStorageVolDef) def =
        sv_storage_vol_def_parse(xml, SV_VOL_FORMATS_FILE, SV_VOL_PARSE_DISPLAY, &error);
    g_autofree char *out = NULL;

    g_assert_no_error(error);
    out = sv_storage_vol_def_format(def, SV_VOL_FORMATS_FILE);
    g_assert_cmpstr(out, ==, xml);
}

/* Without DISPLAY, what libvirt does not read is dropped (physical, timestamps). */
static void
test_display_only(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStorageVolDef) def =
        sv_storage_vol_def_parse(dumped[0], SV_VOL_FORMATS_FILE, 0, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(def->physical, ==, 0);
    g_assert_false(def->target.has_timestamps);
    g_assert_cmpstr(def->key, ==, "/p/enc.qcow2");
    g_assert_cmpint(def->target.perms.uid, ==, 107);
    g_assert_cmpint(def->target.encryption->format, ==, SV_VOL_ENC_LUKS);
    g_assert_cmpuint(def->target.cluster_size, ==, 65536);
    g_assert_cmpuint(def->target.features, ==, 1u << SV_VOL_FEATURE_LAZY_REFCOUNTS);
    g_assert_cmpint(def->backing->perms.mode, ==, 0644);
}

/* <features> without <compat> means compat 1.1; a disk pool's formats are partition types;
 * a logical pool's volumes have no <format>. */
static void
test_formats(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStorageVolDef) q = sv_storage_vol_def_parse(
        "<volume><name>a</name><capacity unit='M'>1</capacity><target><format type='qcow2'/>"
        "<features/></target></volume>",
        SV_VOL_FORMATS_FILE, 0, &error);
    g_autoptr(SvStorageVolDef) d = NULL;
    g_autoptr(SvStorageVolDef) l = NULL;
    g_autofree char *dout = NULL, *lout = NULL;

    g_assert_no_error(error);
    g_assert_cmpstr(q->target.compat, ==, "1.1");
    d = sv_storage_vol_def_parse("<volume><name>sda1</name><capacity>1</capacity><target>"
                                 "<format type='linux-swap'/></target></volume>",
                                 SV_VOL_FORMATS_DISK, 0, &error);
    g_assert_no_error(error);
    g_assert_cmpint(d->target.format, ==, SV_VOL_DISK_LINUX_SWAP);
    dout = sv_storage_vol_def_format(d, SV_VOL_FORMATS_DISK);
    g_assert_nonnull(strstr(dout, "<format type='linux-swap'/>"));
    l = sv_storage_vol_def_parse("<volume><name>lv</name><capacity>1</capacity><target>"
                                 "<format type='whatever'/></target></volume>",
                                 SV_VOL_FORMATS_NONE, 0, &error);
    g_assert_no_error(error);
    lout = sv_storage_vol_def_format(l, SV_VOL_FORMATS_NONE);
    g_assert_null(strstr(lout, "<format"));
}

/* The names tables and their way back. */
static void
test_names(void)
{
    for (int i = 0; i < SV_VOL_TYPE_LAST; i++)
        g_assert_cmpint(sv_vol_type_from_string(sv_vol_type_to_string(i)), ==, i);
    for (int i = 1; i < SV_VOL_FORMAT_LAST; i++)
        g_assert_cmpint(sv_vol_format_from_string(sv_vol_format_to_string(i)), ==, i);
    g_assert_cmpint(sv_vol_format_from_string("none"), ==, -1);
    for (int i = 0; i < SV_VOL_DISK_LAST; i++)
        g_assert_cmpint(sv_vol_disk_format_from_string(sv_vol_disk_format_to_string(i)), ==, i);
    for (int i = 0; i < SV_VOL_ENC_LAST; i++)
        g_assert_cmpint(sv_vol_enc_format_from_string(sv_vol_enc_format_to_string(i)), ==, i);
    for (int i = 0; i < SV_VOL_FEATURE_LAST; i++)
        g_assert_cmpint(sv_vol_feature_from_string(sv_vol_feature_to_string(i)), ==, i);
    g_assert_null(sv_vol_format_to_string(SV_VOL_FORMAT_LAST));
}

/* libvirt's errors. */
static const struct {
    const char *xml;
    guint flags;
    int from, code;
    const char *message;
} bad[] = {
    {"<pool/>", 0, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
     "XML error: unexpected root element <pool>, expecting <volume>"},
    {"<volume><capacity>1</capacity></volume>", 0, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
     "XML error: missing volume name element"},
    {"<volume><name></name><capacity>1</capacity></volume>", 0, SV_FROM_STORAGE,
     SV_ERR_XML_ERROR, "XML error: missing volume name element"},
    {"<volume type='tape'><name>a</name><capacity>1</capacity></volume>", 0, SV_FROM_STORAGE,
     SV_ERR_CONFIG_UNSUPPORTED, "unsupported configuration: unknown volume type 'tape'"},
    {"<volume><name>a</name></volume>", 0, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
     "XML error: missing capacity element"},
    {"<volume><name>a</name></volume>", SV_VOL_PARSE_OPT_CAPACITY, SV_FROM_STORAGE,
     SV_ERR_XML_ERROR, "XML error: missing capacity element"},
    {"<volume><name>a</name><capacity>-1</capacity></volume>", 0, SV_FROM_STORAGE,
     SV_ERR_XML_ERROR, "XML error: malformed capacity element"},
    {"<volume><name>a</name><capacity>1x</capacity></volume>", 0, SV_FROM_STORAGE,
     SV_ERR_XML_ERROR, "XML error: malformed capacity element"},
    {"<volume><name>a</name><capacity>1</capacity><allocation>z</allocation></volume>", 0,
     SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: malformed capacity element"},
    {"<volume><name>a</name><capacity unit='X'>1</capacity></volume>", 0, SV_FROM_NONE,
     SV_ERR_INVALID_ARG, "invalid argument: unknown suffix 'X'"},
    {"<volume><name>a</name><capacity unit='EiB'>8</capacity></volume>", 0, SV_FROM_NONE,
     SV_ERR_OVERFLOW, "numerical overflow: value too large: 8EiB"},
    {"<volume><name>a</name><capacity>1</capacity><target><format type='none'/></target>"
     "</volume>",
     0, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
     "unsupported configuration: unknown volume format type none"},
    {"<volume><name>a</name><capacity>1</capacity><backingStore><path>/b</path>"
     "<format type='qcow3'/></backingStore></volume>",
     0, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
     "unsupported configuration: unknown volume format type qcow3"},
    {"<volume><name>a</name><capacity>1</capacity><target><permissions><mode>01777</mode>"
     "</permissions></target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: malformed octal mode"},
    {"<volume><name>a</name><capacity>1</capacity><target><permissions><mode>9</mode>"
     "</permissions></target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: malformed octal mode"},
    {"<volume><name>a</name><capacity>1</capacity><target><permissions><owner>x</owner>"
     "</permissions></target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: malformed owner element"},
    {"<volume><name>a</name><capacity>1</capacity><target><permissions><group>-2</group>"
     "</permissions></target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: malformed group element"},
    {"<volume><name>a</name><capacity>1</capacity><target><encryption/></target></volume>", 0,
     SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: unknown volume encryption format"},
    {"<volume><name>a</name><capacity>1</capacity><target><encryption format='luks3'/>"
     "</target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
     "unsupported configuration: unknown volume encryption format type luks3"},
    {"<volume><name>a</name><capacity>1</capacity><target><encryption format='luks'>"
     "<secret uuid='" UUID "'/></encryption></target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: unknown volume encryption secret type"},
    {"<volume><name>a</name><capacity>1</capacity><target><encryption format='luks'>"
     "<secret type='pass' uuid='" UUID "'/></encryption></target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
     "unsupported configuration: unknown volume encryption secret type pass"},
    {"<volume><name>a</name><capacity>1</capacity><target><encryption format='luks'>"
     "<secret type='passphrase'/></encryption></target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: missing secret uuid or usage attribute"},
    {"<volume><name>a</name><capacity>1</capacity><target><encryption format='luks'>"
     "<secret type='passphrase' uuid='" UUID "' usage='u'/></encryption></target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: either secret uuid or usage expected"},
    {"<volume><name>a</name><capacity>1</capacity><target><encryption format='luks'>"
     "<secret type='passphrase' uuid='nope'/></encryption></target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: invalid secret uuid 'nope'"},
    {"<volume><name>a</name><capacity>1</capacity><target><encryption format='luks'>"
     "<ivgen name='plain64'/></encryption></target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: ivgen element found, but cipher is missing"},
    {"<volume><name>a</name><capacity>1</capacity><target><encryption format='luks'>"
     "<cipher size='256'/></encryption></target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: cipher info missing 'name' attribute"},
    {"<volume><name>a</name><capacity>1</capacity><target><encryption format='luks' "
     "engine='default'/></target></volume>",
     0, SV_FROM_XML, SV_ERR_XML_ERROR,
     "XML error: Invalid value for attribute 'engine' in element 'encryption': 'default'."},
    {"<volume><name>a</name><capacity>1</capacity><target><compat>1</compat></target>"
     "</volume>",
     0, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
     "XML error: forbidden characters in 'compat' attribute"},
    {"<volume><name>a</name><capacity>1</capacity><target><compat>1.x</compat></target>"
     "</volume>",
     0, SV_FROM_STORAGE, SV_ERR_XML_ERROR,
     "XML error: forbidden characters in 'compat' attribute"},
    {"<volume><name>a</name><capacity>1</capacity><target><features><zero/></features>"
     "</target></volume>",
     0, SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
     "unsupported configuration: unsupported feature zero"},
    {"<volume><name>a</name><capacity>1</capacity><target><clusterSize>big</clusterSize>"
     "</target></volume>",
     0, SV_FROM_NONE, SV_ERR_XML_ERROR, "XML error: could not parse element ./target/clusterSize"},
    {"<volume><name>a</name><capacity>1</capacity><target><clusterSize unit='q'>1"
     "</clusterSize></target></volume>",
     0, SV_FROM_NONE, SV_ERR_INVALID_ARG, "invalid argument: unknown suffix 'q'"},
};

static void
test_bad(gconstpointer data)
{
    const __typeof__(bad[0]) *t = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStorageVolDef) def =
        sv_storage_vol_def_parse(t->xml, SV_VOL_FORMATS_FILE, t->flags, &error);

    g_assert_null(def);
    g_assert_nonnull(error);
    g_assert_cmpint(sv_error_get_from(error), ==, t->from);
    g_assert_cmpint(error->code, ==, t->code);
    g_assert_cmpstr(error->message, ==, t->message);
}

/* A volume with a backing store may leave out its capacity under OPT_CAPACITY (create), and
 * any may under NO_CAPACITY. */
static void
test_capacity_flags(void)
{
    const char *xml = "<volume><name>a</name><backingStore><path>/b</path></backingStore>"
                      "</volume>";
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStorageVolDef) a =
        sv_storage_vol_def_parse(xml, SV_VOL_FORMATS_FILE, SV_VOL_PARSE_OPT_CAPACITY, &error);
    g_autoptr(SvStorageVolDef) b = NULL;

    g_assert_no_error(error);
    g_assert_cmpuint(a->capacity, ==, 0);
    g_assert_cmpint(a->backing->format, ==, SV_VOL_FORMAT_RAW);
    b = sv_storage_vol_def_parse("<volume><name>a</name></volume>", SV_VOL_FORMATS_FILE,
                                 SV_VOL_PARSE_NO_CAPACITY, &error);
    g_assert_no_error(error);
}

/* Malformed XML is a STORAGE error naming libvirt's document. */
static void
test_malformed(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStorageVolDef) def =
        sv_storage_vol_def_parse("<volume><name>", SV_VOL_FORMATS_FILE, 0, &error);

    g_assert_null(def);
    g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_STORAGE);
    g_assert_cmpint(error->code, ==, SV_ERR_XML_DETAIL);
    g_assert_nonnull(strstr(error->message, "(storage_volume_definition)"));
}

/* A directory pool's volume: no '/' in its name, nothing at its path yet; path and key set,
 * the type from the format. */
static void
test_local_target(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-vol-XXXXXX", NULL);
    g_autofree char *taken = g_build_filename(dir, "taken", NULL);
    g_autofree char *want = g_build_filename(dir, "new", NULL);
    g_autofree char *msg = NULL;
    g_autoptr(SvStorageVolDef) def = sv_storage_vol_def_new();
    g_autoptr(GError) error = NULL;

    g_assert_true(g_file_set_contents(taken, "", 0, NULL));
    def->name = g_strdup("../etc");
    g_assert_false(sv_storage_vol_def_local_target(def, dir, &error));
    g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_STORAGE);
    g_assert_cmpint(error->code, ==, SV_ERR_OPERATION_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "Requested operation is not valid: volume name '../etc' cannot contain '/'");
    g_clear_error(&error);
    g_free(def->name);
    def->name = g_strdup("taken");
    g_assert_false(sv_storage_vol_def_local_target(def, dir, &error));
    msg = g_strdup_printf("Requested operation is not valid: volume target path '%s' already "
                          "exists", taken);
    g_assert_cmpstr(error->message, ==, msg);
    g_clear_error(&error);
    g_free(def->name);
    def->name = g_strdup("new");
    def->target.format = SV_VOL_FORMAT_DIR;
    g_assert_true(sv_storage_vol_def_local_target(def, dir, &error));
    g_assert_cmpstr(def->target.path, ==, want);
    g_assert_cmpstr(def->key, ==, want);
    g_assert_cmpint(def->type, ==, SV_VOL_TYPE_DIR);
    g_unlink(taken);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/storage-vol-def/create-input", test_create_input);
    g_test_add_func("/storage-vol-def/units", test_units);
    for (guint i = 0; i < G_N_ELEMENTS(dumped); i++) {
        g_autofree char *name = g_strdup_printf("/storage-vol-def/dumped/%u", i);
        g_test_add_data_func(name, dumped[i], test_dumped);
    }
    g_test_add_func("/storage-vol-def/display-only", test_display_only);
    g_test_add_func("/storage-vol-def/formats", test_formats);
    g_test_add_func("/storage-vol-def/names", test_names);
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *name = g_strdup_printf("/storage-vol-def/bad/%u", i);
        g_test_add_data_func(name, &bad[i], test_bad);
    }
    g_test_add_func("/storage-vol-def/capacity-flags", test_capacity_flags);
    g_test_add_func("/storage-vol-def/malformed", test_malformed);
    g_test_add_func("/storage-vol-def/local-target", test_local_target);
    return g_test_run();
}
