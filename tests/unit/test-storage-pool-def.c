/* test-storage-pool-def.c: conf/storage_pool_def.c, storage pool XML as libvirt 9.0's
 * storage_conf.c reads and writes it (dir, fs, disk and logical pools: the defaults each
 * type gets, the permissions, escaping), the type table's round trip, and libvirt's error
 * (code, domain, message) for each kind of bad document, as Debian's libvirtd 9.0.0 answered
 * them to virStoragePoolDefineXML. */
#include <glib.h>
#include <string.h>

#include "conf/storage_pool_def.h"
#include "conf/uuid.h"
#include "util/error.h"

#define UUID "6a0f2c1e-51b4-4d6e-9a1c-3b2f8e7d6c5b"
#define ZERO "  <capacity unit='bytes'>0</capacity>\n  <allocation unit='bytes'>0</allocation>\n" \
             "  <available unit='bytes'>0</available>\n"

static const struct {
    const char *in;
    const char *out;
} good[] = {
    /* A dir pool: an empty <source>, the path cleaned of doubled and trailing '/'. */
    {"<pool type='dir'><name>p</name><uuid>" UUID "</uuid><target><path>/var//lib/p/</path>"
     "</target></pool>",
     "<pool type='dir'>\n  <name>p</name>\n  <uuid>" UUID "</uuid>\n" ZERO
     "  <source>\n  </source>\n  <target>\n    <path>/var/lib/p</path>\n  </target>\n"
     "</pool>\n"},
    /* Permissions, octal mode written with a leading 0, a label escaped; a relative path
     * is kept, as libvirt 9.0 keeps it. */
    {"<pool type='dir'><name>p</name><uuid>" UUID "</uuid><target><path>rel</path>"
     "<permissions><mode>755</mode><owner>107</owner><group>-1</group><label>a&amp;b</label>"
     "</permissions></target></pool>",
     "<pool type='dir'>\n  <name>p</name>\n  <uuid>" UUID "</uuid>\n" ZERO
     "  <source>\n  </source>\n  <target>\n    <path>rel</path>\n    <permissions>\n"
     "      <mode>0755</mode>\n      <owner>107</owner>\n      <label>a&amp;b</label>\n"
     "    </permissions>\n  </target>\n</pool>\n"},
    /* fs: the device and the default format auto. */
    {"<pool type='fs'><name>f</name><uuid>" UUID "</uuid><source><device path='/dev/loop7'/>"
     "</source><target><path>/mnt/f</path></target></pool>",
     "<pool type='fs'>\n  <name>f</name>\n  <uuid>" UUID "</uuid>\n" ZERO
     "  <source>\n    <device path='/dev/loop7'/>\n    <format type='auto'/>\n  </source>\n"
     "  <target>\n    <path>/mnt/f</path>\n  </target>\n</pool>\n"},
    /* disk: the format given. */
    {"<pool type='disk'><name>d</name><uuid>" UUID "</uuid><source><device path='/dev/loop7'/>"
     "<format type='gpt'/></source><target><path>/dev</path></target></pool>",
     "<pool type='disk'>\n  <name>d</name>\n  <uuid>" UUID "</uuid>\n" ZERO
     "  <source>\n    <device path='/dev/loop7'/>\n    <format type='gpt'/>\n  </source>\n"
     "  <target>\n    <path>/dev</path>\n  </target>\n</pool>\n"},
    /* logical: the VG's name defaults to the pool's, the target is always /dev/VG. */
    {"<pool type='logical'><name>x</name><uuid>" UUID "</uuid><target><path>/tmp/x</path>"
     "</target></pool>",
     "<pool type='logical'>\n  <name>x</name>\n  <uuid>" UUID "</uuid>\n" ZERO
     "  <source>\n    <name>x</name>\n    <format type='lvm2'/>\n  </source>\n"
     "  <target>\n    <path>/dev/x</path>\n  </target>\n</pool>\n"},
};

static void
test_good(gconstpointer data)
{
    const __typeof__(good[0]) *t = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStoragePoolDef) def = sv_storage_pool_def_parse(t->in, &error);
    g_autoptr(SvStoragePoolDef) again = NULL;
    g_autoptr(SvStoragePoolDef) copy = NULL;
    g_autofree char *out = NULL, *out2 = NULL, *out3 = NULL;

    g_assert_no_error(error);
    out = sv_storage_pool_def_format(def);
    g_assert_cmpstr(out, ==, t->out);
    /* What is written reads back to the same document (the files on disk). */
    again = sv_storage_pool_def_parse(out, &error);
    g_assert_no_error(error);
    out2 = sv_storage_pool_def_format(again);
    g_assert_cmpstr(out2, ==, out);
    copy = sv_storage_pool_def_copy(def);
    out3 = sv_storage_pool_def_format(copy);
    g_assert_cmpstr(out3, ==, out);
}

/* libvirtd 9.0.0's answers (observed). */
static const struct {
    const char *in;
    int from;
    int code;
    const char *message;
} bad[] = {
    {"", SV_FROM_STORAGE, SV_ERR_XML_DETAIL,
     "(storage_pool_definition):1: Document is empty\n(null)\n^"},
    {"<network/>", SV_FROM_XML, SV_ERR_XML_ERROR,
     "XML error: expecting root element of 'pool', not 'network'"},
    {"<pool/>", SV_FROM_XML, SV_ERR_XML_ERROR,
     "XML error: Missing required attribute 'type' in element 'pool'"},
    {"<pool type='bogus'/>", SV_FROM_XML, SV_ERR_XML_ERROR,
     "XML error: Invalid value for attribute 'type' in element 'pool': 'bogus'."},
    {"<pool type='dir'/>", SV_FROM_STORAGE, SV_ERR_XML_ERROR,
     "XML error: missing pool source name element"},
    {"<pool type='dir'><name>a/b</name><target><path>/x</path></target></pool>",
     SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: name a/b cannot contain '/'"},
    {"<pool type='dir'><name>x</name></pool>", SV_FROM_STORAGE, SV_ERR_XML_ERROR,
     "XML error: missing storage pool target path"},
    {"<pool type='dir'><name>x</name><uuid>zz</uuid><target><path>/x</path></target></pool>",
     SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: malformed uuid element"},
    {"<pool type='fs'><name>x</name><target><path>/x</path></target></pool>",
     SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: missing storage pool source device name"},
    {"<pool type='disk'><name>x</name><target><path>/x</path></target></pool>",
     SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: missing storage pool source device name"},
    {"<pool type='fs'><name>x</name><source><device path='/dev/loop9'/><format type='bogus'/>"
     "</source><target><path>/x</path></target></pool>",
     SV_FROM_STORAGE, SV_ERR_CONFIG_UNSUPPORTED,
     "unsupported configuration: unknown pool format type bogus"},
    {"<pool type='netfs'><name>x</name><target><path>/x</path></target></pool>",
     SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: missing storage pool source host name"},
    {"<pool type='scsi'><name>x</name><target><path>/x</path></target></pool>",
     SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: missing storage pool source adapter"},
    /* Ours: a mode that is not octal (libvirt: the same words). */
    {"<pool type='dir'><name>x</name><target><path>/x</path><permissions><mode>9</mode>"
     "</permissions></target></pool>",
     SV_FROM_STORAGE, SV_ERR_XML_ERROR, "XML error: malformed octal mode"},
};

static void
test_bad(gconstpointer data)
{
    const __typeof__(bad[0]) *t = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStoragePoolDef) def = sv_storage_pool_def_parse(t->in, &error);

    g_assert_null(def);
    g_assert_nonnull(error);
    g_assert_cmpint(sv_error_get_from(error), ==, t->from);
    g_assert_cmpint(error->code, ==, t->code);
    g_assert_cmpstr(error->message, ==, t->message);
}

/* A type without a backend parses; define refuses it as libvirtd does zfs and vstorage. */
static void
test_backend(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvStoragePoolDef) zfs = sv_storage_pool_def_parse(
        "<pool type='zfs'><name>z</name><target><path>/x</path></target></pool>", &error);
    g_autoptr(SvStoragePoolDef) dir = sv_storage_pool_def_parse(
        "<pool type='dir'><name>d</name><target><path>/x</path></target></pool>", &error);

    g_assert_no_error(error);
    g_assert_true(sv_storage_pool_def_check_backend(dir, &error));
    g_assert_false(sv_storage_pool_def_check_backend(zfs, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_INTERNAL_ERROR);
    g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_STORAGE);
    g_assert_cmpstr(error->message, ==, "internal error: missing backend for pool type 12 (zfs)");
    g_assert_cmpstr(zfs->source.name, ==, "z");
}

static void
test_type_table(void)
{
    for (int i = 0; i < SV_STORAGE_POOL_TYPE_LAST; i++)
        g_assert_cmpint(sv_storage_pool_type_from_string(sv_storage_pool_type_to_string(i)), ==,
                        i);
    g_assert_null(sv_storage_pool_type_to_string(SV_STORAGE_POOL_TYPE_LAST));
    g_assert_cmpint(sv_storage_pool_type_from_string("nope"), ==, -1);
    /* libvirt's numbers, which its messages show */
    g_assert_cmpint(sv_storage_pool_type_from_string("rbd"), ==, 9);
    g_assert_cmpint(sv_storage_pool_type_from_string("vstorage"), ==, 13);
}

/* No <uuid>: a random one, different each time. */
static void
test_generated_uuid(void)
{
    const char *xml = "<pool type='dir'><name>p</name><target><path>/p</path></target></pool>";
    g_autoptr(SvStoragePoolDef) a = sv_storage_pool_def_parse(xml, NULL);
    g_autoptr(SvStoragePoolDef) b = sv_storage_pool_def_parse(xml, NULL);

    g_assert_nonnull(a);
    g_assert_nonnull(b);
    g_assert_true(memcmp(a->uuid, b->uuid, 16) != 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autofree char *name = g_strdup_printf("/storage-pool-def/good/%u", i);
        g_test_add_data_func(name, &good[i], test_good);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *name = g_strdup_printf("/storage-pool-def/bad/%u", i);
        g_test_add_data_func(name, &bad[i], test_bad);
    }
    g_test_add_func("/storage-pool-def/backend", test_backend);
    g_test_add_func("/storage-pool-def/type-table", test_type_table);
    g_test_add_func("/storage-pool-def/generated-uuid", test_generated_uuid);
    return g_test_run();
}
