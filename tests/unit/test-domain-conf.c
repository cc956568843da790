/* test-domain-conf.c: domain XML parsing, validation and formatting against golden files.
 *
 * Each tests/data/domain/CASE.xml is parsed and compared byte for byte with CASE.out (the
 * formatted definition) or CASE.err ("code domain message" of the error). Cases named
 * validate-* are parsed with SV_DOMAIN_PARSE_VALIDATE, inactive-* with
 * SV_DOMAIN_PARSE_INACTIVE. The data directory is argv[1], else $SV_TEST_DATA, else the
 * build's SV_TEST_DATA_DIR. SV_REGENERATE=1 rewrites the expected files instead: review the
 * diff before committing it. */
#include <string.h>

#include <glib/gstdio.h>

#include "conf/domain_conf.h"
#include "conf/domain_obj.h"
#include "conf/domain_schema.h"
#include "conf/uuid.h"
#include "domain-test.h"
#include "util/error.h"

#ifndef SV_TEST_DATA_DIR
#define SV_TEST_DATA_DIR "tests/data/domain"
#endif

static const char *data_dir;
static gboolean regenerate;

typedef struct {
    char *name;
    guint flags;
} Case;

static void
case_free(gpointer p)
{
    Case *c = p;

    g_free(c->name);
    g_free(c);
}

static char *
case_path(const Case *c, const char *ext)
{
    g_autofree char *file = g_strconcat(c->name, ext, NULL);

    return g_build_filename(data_dir, file, NULL);
}

static char *
read_file(const char *path)
{
    g_autoptr(GError) error = NULL;
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, &error));
    g_assert_no_error(error);
    return text;
}

/* "code domain message\n": what the .err files hold. */
static char *
describe_error(const GError *error)
{
    return g_strdup_printf("%d %d %s\n", error->code, sv_error_get_from(error), error->message);
}

/* Parse, then check that formatting is a fixed point and that a copy formats the same. */
static char *
parse_and_format(const char *xml, guint flags, GError **error)
{
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(xml, flags, error);
    g_autoptr(SvDomainDef) again = NULL;
    g_autoptr(SvDomainDef) copy = NULL;
    g_autoptr(GError) again_error = NULL;
    g_autofree char *second = NULL;
    g_autofree char *copied = NULL;
    char *out;

    if (!def)
        return NULL;
    out = sv_domain_def_format(def, -1, 0);
    again = sv_domain_def_parse(out, 0, &again_error);
    g_assert_no_error(again_error);
    second = sv_domain_def_format(again, -1, 0);
    g_assert_cmpstr(second, ==, out);
    g_assert_cmpmem(again->uuid, 16, def->uuid, 16);
    copy = sv_domain_def_copy(def);
    copied = sv_domain_def_format(copy, -1, 0);
    g_assert_cmpstr(copied, ==, out);
    return out;
}

static void
check_expected(const Case *c, const char *ext, const char *other_ext, const char *actual)
{
    g_autofree char *path = case_path(c, ext);
    g_autofree char *other = case_path(c, other_ext);
    g_autofree char *expected = NULL;

    if (regenerate) {
        g_autoptr(GError) error = NULL;

        g_assert_true(g_file_set_contents(path, actual, -1, &error));
        g_assert_no_error(error);
        (void)g_remove(other);
        return;
    }
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_test_message("%s: expected %s, got:\n%s", c->name, ext, actual);
        g_test_fail();
        return;
    }
    expected = read_file(path);
    g_assert_cmpstr(actual, ==, expected);
}

static void
test_golden(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *xml_path = case_path(c, ".xml");
    g_autofree char *xml = read_file(xml_path);
    g_autoptr(GError) error = NULL;
    g_autofree char *out = parse_and_format(xml, c->flags, &error);

    if (out) {
        check_expected(c, ".out", ".err", out);
        return;
    }
    g_assert_nonnull(error);
    {
        g_autofree char *err = describe_error(error);

        check_expected(c, ".err", ".out", err);
    }
}

/* Every .out is itself a fixed point: parsing and formatting it gives it back. */
static void
test_roundtrip(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *path = case_path(c, ".out");
    g_autofree char *expected = read_file(path);
    g_autoptr(GError) error = NULL;
    g_autofree char *out = parse_and_format(expected, 0, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(out, ==, expected);
}

static void
assert_error(const char *xml, guint flags, int code, int from, const char *message)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(xml, flags, &error);

    g_assert_null(def);
    g_assert_nonnull(error);
    g_assert_cmpint(error->code, ==, code);
    g_assert_cmpint(sv_error_get_from(error), ==, from);
    if (message)
        g_assert_cmpstr(error->message, ==, message);
}

/* 100,000 nested elements: libxml2's depth limit (256 without XML_PARSE_HUGE) must stop the
 * parse at once with libvirt's error format, and the message must stay bounded although the
 * offending line is 300 KB long. */
static void
test_deep_nesting(void)
{
    const guint depth = 100000;
    g_autoptr(GString) xml = g_string_new("<domain type='kvm'><name>deep</name>");
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    gint64 start;

    for (guint i = 0; i < depth; i++)
        g_string_append(xml, "<a>");
    for (guint i = 0; i < depth; i++)
        g_string_append(xml, "</a>");
    g_string_append(xml, "</domain>");
    start = g_get_monotonic_time();
    def = sv_domain_def_parse(xml->str, 0, &error);
    g_assert_null(def);
    g_assert_error(error, sv_error_quark(SV_FROM_DOMAIN), SV_ERR_XML_DETAIL);
    g_assert_true(g_str_has_prefix(error->message, "(domain_definition):1: Excessive depth in "
                                                   "document: 256 use XML_PARSE_HUGE option\n"));
    g_assert_cmpuint(strlen(error->message), <, 70000);
    /* Generous for sanitizer builds; an unbounded parse would take far longer. */
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
}

/* An external entity pointing at a real file is refused before anything is read. */
static void
test_external_entity_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("sv-domain-conf-XXXXXX", &error);
    g_autofree char *secret = NULL;
    g_autofree char *dtd = NULL;
    g_autofree char *xml = NULL;

    g_assert_no_error(error);
    secret = g_build_filename(dir, "secret", NULL);
    dtd = g_build_filename(dir, "evil.dtd", NULL);
    g_assert_true(g_file_set_contents(secret, "TOPSECRET", -1, NULL));
    xml = g_strdup_printf("<!DOCTYPE domain SYSTEM 'file://%s' [<!ENTITY s SYSTEM 'file://%s'>]>"
                          "<domain type='kvm'><name>&s;</name><memory>1024</memory>"
                          "<os><type>hvm</type></os></domain>",
                          dtd, secret);
    assert_error(xml, 0, SV_ERR_XML_ERROR, SV_FROM_DOMAIN,
                 "XML error: entity references and DTDs are not allowed in domain XML");
    /* An external DTD that would declare the entity is not loaded either. */
    g_assert_true(g_file_set_contents(dtd, "<!ENTITY s SYSTEM 'secret'>", -1, NULL));
    g_free(xml);
    xml = g_strdup_printf("<!DOCTYPE domain SYSTEM 'file://%s'>"
                          "<domain type='kvm'><name>&s;</name><memory>1024</memory>"
                          "<os><type>hvm</type></os></domain>",
                          dtd);
    assert_error(xml, 0, SV_ERR_XML_ERROR, SV_FROM_DOMAIN, NULL);
    g_assert_cmpint(g_remove(secret), ==, 0);
    g_assert_cmpint(g_remove(dtd), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* The wire fields beyond the message, as libvirt sets them. */
static void
test_error_extras(void)
{
    struct {
        const char *xml;
        guint flags;
        const char *str1;
        gboolean has_str2;
    } cases[] = {
        {"hello", 0, "%s", TRUE},
        {"<domain type='kvm'><memory>1</memory></domain>", 0, "missing name information", FALSE},
        {"<domain type='kvm'><name>x</name><memory>1</memory><os><type>hvm</type></os>"
         "<bogus/></domain>",
         SV_DOMAIN_PARSE_VALIDATE, "XML document failed to validate against schema: %s", TRUE},
        {"<domain type='kvm'><name>x</name><memory unit='T'>99999999999</memory>"
         "<os><type>hvm</type></os></domain>",
         0, "numerical overflow: %s", TRUE},
        {"<domain type='kvm'><name>x</name><memory>1</memory><os><type>hvm</type></os>"
         "<devices><disk><target dev='vda'/></disk></devices></domain>",
         0, "missing source information for device %s", TRUE},
        {"<domain type='kvm'><name>x</name><memory>1</memory><os><type>hvm</type></os>"
         "<devices><disk device='cdrom'/></devices></domain>",
         0, "missing target information for device", FALSE},
        {"<domain type='kvm'><name>x</name><memory>1</memory><os><type>hvm</type></os>"
         "<devices><smartcard/></devices></domain>",
         0, "unsupported configuration: %s", TRUE},
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SvDomainDef) def = sv_domain_def_parse(cases[i].xml, cases[i].flags, &error);
        const SvErrorExtra *x;

        g_assert_null(def);
        x = sv_error_get_extra(error);
        g_assert_nonnull(x);
        g_assert_cmpstr(x->str1, ==, cases[i].str1);
        g_assert_true((x->str2 != NULL) == cases[i].has_str2);
        g_assert_cmpint(x->level, ==, 2);
        g_assert_cmpint(x->int1, ==, -1);
    }
}

static void
test_uuid_parse(void)
{
    static const guint8 want[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    const char *good[] = {
        "01234567-89ab-cdef-0123-456789abcdef",
        "01234567-89AB-CDEF-0123-456789ABCDEF",
        "0123456789abcdef0123456789abcdef",
        "  0123456789ABCDEF0123456789abcdef\n",
        "0123-4567-89ab-cdef-0123-4567-89ab-cdef", /* libvirt's liberal separators */
        "01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef",
    };
    const char *bad[] = {
        "",
        "0123456789abcdef0123456789abcde",
        "0123456789abcdef0123456789abcdef0",
        "0123456789abcdef0123456789abcdeg",
        "0-123456789abcdef0123456789abcdef",
        "01234567-89ab-cdef-0123-456789abcdef-",
        "01234567-89ab-cdef-0123-456789abcdef x",
        "{01234567-89ab-cdef-0123-456789abcdef}",
    };

    for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
        guint8 out[16] = {0};

        g_assert_true(sv_uuid_parse(good[i], out));
        g_assert_cmpmem(out, 16, want, 16);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        guint8 out[16];

        g_assert_false(sv_uuid_parse(bad[i], out));
    }
}

static void
test_uuid_format_generate(void)
{
    static const guint8 uuid[16] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x4a, 0xbc,
                                    0x80, 0x00, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa};
    char text[SV_UUID_STRING_LEN + 1];
    guint8 a[16];
    guint8 b[16];
    guint8 back[16];

    sv_uuid_format(uuid, text);
    g_assert_cmpstr(text, ==, "deadbeef-0001-4abc-8000-ffeeddccbbaa");
    sv_uuid_generate(a);
    sv_uuid_generate(b);
    g_assert_true(memcmp(a, b, 16) != 0);
    g_assert_cmpuint(a[6] >> 4, ==, 4);
    g_assert_cmpuint(a[8] >> 6, ==, 2);
    sv_uuid_format(a, text);
    g_assert_true(sv_uuid_parse(text, back));
    g_assert_cmpmem(back, 16, a, 16);
}

/* A missing <uuid> gets a fresh random one, kept by formatting. */
static void
test_uuid_generated(void)
{
    const char *xml = "<domain type='kvm'><name>gen</name><memory>1024</memory>"
                      "<os><type>hvm</type></os></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) a = sv_domain_def_parse(xml, 0, &error);
    g_autoptr(SvDomainDef) b = sv_domain_def_parse(xml, 0, &error);
    g_autoptr(SvDomainDef) again = NULL;
    g_autofree char *out = NULL;

    g_assert_no_error(error);
    g_assert_true(memcmp(a->uuid, b->uuid, 16) != 0);
    g_assert_cmpuint(a->uuid[6] >> 4, ==, 4);
    out = sv_domain_def_format(a, -1, 0);
    again = sv_domain_def_parse(out, 0, &error);
    g_assert_no_error(error);
    g_assert_cmpmem(again->uuid, 16, a->uuid, 16);
}

typedef const char *(*ToString)(int v);
typedef int (*FromString)(const char *s);

static void
check_table(const char *what, ToString to, FromString from, int last)
{
    g_test_message("%s", what);
    for (int i = 0; i < last; i++) {
        const char *s = to(i);

        g_assert_nonnull(s);
        g_assert_cmpint(from(s), ==, i);
    }
    g_assert_null(to(last));
    g_assert_null(to(-1));
    g_assert_cmpint(from("no-such-value"), ==, -1);
    g_assert_cmpint(from(NULL), ==, -1);
}

#define CHECK_TABLE(what, last)                                                                \
    check_table(#what, sv_domain_##what##_to_string, sv_domain_##what##_from_string, last)

static void
test_string_tables(void)
{
    CHECK_TABLE(virt_type, SV_DOMAIN_VIRT_LAST);
    CHECK_TABLE(lifecycle_action, SV_DOMAIN_LIFECYCLE_LAST);
    CHECK_TABLE(cpu_placement, SV_DOMAIN_CPU_PLACEMENT_LAST);
    CHECK_TABLE(boot_dev, SV_DOMAIN_BOOT_LAST);
    CHECK_TABLE(loader_type, SV_DOMAIN_LOADER_TYPE_LAST);
    CHECK_TABLE(tristate, SV_DOMAIN_TRISTATE_LAST);
    CHECK_TABLE(cpu_mode, SV_DOMAIN_CPU_MODE_LAST);
    CHECK_TABLE(cpu_match, SV_DOMAIN_CPU_MATCH_LAST);
    CHECK_TABLE(cpu_check, SV_DOMAIN_CPU_CHECK_LAST);
    CHECK_TABLE(switch, SV_DOMAIN_SWITCH_LAST);
    CHECK_TABLE(cpu_fallback, SV_DOMAIN_CPU_FALLBACK_LAST);
    CHECK_TABLE(clock_offset, SV_DOMAIN_CLOCK_OFFSET_LAST);
    CHECK_TABLE(disk_type, SV_DOMAIN_DISK_TYPE_LAST);
    CHECK_TABLE(disk_vol_mode, SV_DOMAIN_DISK_VOL_MODE_LAST);
    CHECK_TABLE(disk_device, SV_DOMAIN_DISK_DEVICE_LAST);
    CHECK_TABLE(disk_format, SV_DOMAIN_DISK_FORMAT_LAST);
    CHECK_TABLE(disk_bus, SV_DOMAIN_DISK_BUS_LAST);
    CHECK_TABLE(disk_cache, SV_DOMAIN_DISK_CACHE_LAST);
    CHECK_TABLE(disk_model, SV_DOMAIN_DISK_MODEL_LAST);
    CHECK_TABLE(disk_error_policy, SV_DOMAIN_DISK_ERROR_POLICY_LAST);
    CHECK_TABLE(disk_io, SV_DOMAIN_DISK_IO_LAST);
    CHECK_TABLE(disk_discard, SV_DOMAIN_DISK_DISCARD_LAST);
    CHECK_TABLE(disk_detect_zeroes, SV_DOMAIN_DISK_DETECT_ZEROES_LAST);
    CHECK_TABLE(startup_policy, SV_DOMAIN_STARTUP_POLICY_LAST);
    CHECK_TABLE(iotune, SV_DOMAIN_IOTUNE_LAST);
    CHECK_TABLE(disk_protocol, SV_DOMAIN_DISK_PROTOCOL_LAST);
    CHECK_TABLE(disk_transport, SV_DOMAIN_DISK_TRANSPORT_LAST);
    CHECK_TABLE(fs_type, SV_DOMAIN_FS_TYPE_LAST);
    CHECK_TABLE(fs_access_mode, SV_DOMAIN_FS_ACCESS_LAST);
    CHECK_TABLE(net_type, SV_DOMAIN_NET_TYPE_LAST);
    CHECK_TABLE(chr_type, SV_DOMAIN_CHR_TYPE_LAST);
    CHECK_TABLE(controller_type, SV_DOMAIN_CONTROLLER_LAST);
    CHECK_TABLE(idmap_kind, SV_DOMAIN_IDMAP_LAST);
    /* cpu, vcpus, memory and tuning */
    CHECK_TABLE(cpu_feature_policy, SV_DOMAIN_CPU_FEATURE_LAST);
    CHECK_TABLE(memory_source, SV_DOMAIN_MEMORY_SOURCE_LAST);
    CHECK_TABLE(memory_access, SV_DOMAIN_MEMORY_ACCESS_LAST);
    CHECK_TABLE(memory_allocation, SV_DOMAIN_MEMORY_ALLOCATION_LAST);
    CHECK_TABLE(chr_mode, SV_DOMAIN_CHR_MODE_LAST);
    CHECK_TABLE(chr_tcp_protocol, SV_DOMAIN_CHR_TCP_LAST);
    CHECK_TABLE(rng_backend, SV_DOMAIN_RNG_BACKEND_LAST);
    CHECK_TABLE(watchdog_model, SV_DOMAIN_WATCHDOG_LAST);
    CHECK_TABLE(watchdog_action, SV_DOMAIN_WATCHDOG_ACTION_LAST);
    CHECK_TABLE(fs_driver, SV_DOMAIN_FS_DRIVER_LAST);
    g_assert_cmpstr(sv_domain_lifecycle_action_to_string(SV_DOMAIN_LIFECYCLE_RENAME_RESTART), ==,
                    "rename-restart");

    /* Features are bits: the table maps each bit. */
    for (int bit = 1; bit < SV_DOMAIN_FEATURE_LAST; bit <<= 1) {
        const char *s = sv_domain_feature_to_string(bit);

        g_assert_nonnull(s);
        g_assert_cmpint(sv_domain_feature_from_string(s), ==, bit);
    }
    g_assert_null(sv_domain_feature_to_string(SV_DOMAIN_FEATURE_LAST));
    g_assert_null(sv_domain_feature_to_string(SV_DOMAIN_FEATURE_ACPI | SV_DOMAIN_FEATURE_PAE));
    g_assert_cmpint(sv_domain_feature_from_string("hap"), ==, -1);
}

static gboolean
has_word(const char *list, const char *word)
{
    g_auto(GStrv) words = g_strsplit(list, " ", -1);

    return g_strv_contains((const char *const *)words, word);
}

/* The table generated at build time from the installed libvirt schema: sorted as the
 * lookup's bsearch() needs, and saying what libvirt 9.0.0's domain.rng says. */
static void
test_schema_table(void)
{
    const SvSchemaElement *domain = sv_domain_schema_find("domain");
    const SvSchemaElement *disk = sv_domain_schema_find("disk");

    g_assert_cmpuint(sv_domain_schema_known_len, >, 100);
    for (gsize i = 0; i < sv_domain_schema_known_len; i++) {
        const SvSchemaElement *e = &sv_domain_schema_known[i];

        if (i > 0)
            g_assert_cmpint(strcmp(sv_domain_schema_known[i - 1].name, e->name), <, 0);
        g_assert_true(sv_domain_schema_find(e->name) == e);
        g_assert_true(*e->children || *e->attrs);
    }
    g_assert_nonnull(domain);
    g_assert_true(has_word(domain->children, "devices"));
    g_assert_true(has_word(domain->children, "memoryBacking"));
    g_assert_true(has_word(domain->attrs, "type"));
    /* qemu:commandline is known by its namespace, never as a bare <commandline>. */
    g_assert_false(has_word(domain->children, "commandline"));
    g_assert_nonnull(disk);
    g_assert_true(has_word(disk->children, "iotune"));
    g_assert_true(has_word(disk->attrs, "snapshot"));
    /* The host CPU's definition counts too: every definition of <cpu> adds up. */
    g_assert_true(has_word(sv_domain_schema_find("cpu")->children, "arch"));
    g_assert_null(sv_domain_schema_find("no-such-element"));
    /* A text-only leaf has no entry. */
    g_assert_null(sv_domain_schema_find("name"));
}

static void
test_name_check(void)
{
    g_autofree char *max = g_strnfill(200, 'n');
    g_autofree char *too_long = g_strnfill(201, 'n');
    const char *good[] = {"vm-1", "a.b", "x.", "Ünïcode 日本", "with space", max};
    struct {
        const char *name;
        int code;
        int from;
    } bad[] = {
        {NULL, SV_ERR_NO_NAME, SV_FROM_DOMAIN},
        {"", SV_ERR_NO_NAME, SV_FROM_DOMAIN},
        {"a/b", SV_ERR_XML_ERROR, SV_FROM_DOMAIN},
        {"/", SV_ERR_XML_ERROR, SV_FROM_DOMAIN},
        {".hidden", SV_ERR_XML_ERROR, SV_FROM_DOMAIN},
        {"..", SV_ERR_XML_ERROR, SV_FROM_DOMAIN},
        {"bad\xff", SV_ERR_XML_ERROR, SV_FROM_DOMAIN},
        {"a\x01", SV_ERR_XML_ERROR, SV_FROM_DOMAIN},
        {"a\tb", SV_ERR_XML_ERROR, SV_FROM_DOMAIN},
        {"a\x7f", SV_ERR_XML_ERROR, SV_FROM_DOMAIN},
        {"a\nb", SV_ERR_XML_DETAIL, SV_FROM_XML},
        {too_long, SV_ERR_XML_ERROR, SV_FROM_DOMAIN},
    };

    for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
        g_autoptr(GError) error = NULL;

        g_assert_true(sv_domain_name_check(good[i], &error));
        g_assert_no_error(error);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;

        g_assert_false(sv_domain_name_check(bad[i].name, &error));
        g_assert_error(error, sv_error_quark(bad[i].from), bad[i].code);
    }
}

/* The live id, and pty paths: live state shown only without INACTIVE, dropped on a define
 * (PARSE_INACTIVE). */
static void
test_live_and_inactive(void)
{
    const char *xml = "<domain type='qemu'><name>live</name><memory>1024</memory>"
                      "<os><type>hvm</type></os><devices>"
                      "<serial type='pty'><source path='/dev/pts/3'/></serial>"
                      "<console type='pty'><source path='/dev/pts/3'/></console>"
                      "</devices></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(xml, 0, &error);
    g_autoptr(SvDomainDef) defined = NULL;
    g_autofree char *live = NULL;
    g_autofree char *inactive = NULL;
    g_autofree char *fresh = NULL;

    g_assert_no_error(error);
    live = sv_domain_def_format(def, 7, 0);
    inactive = sv_domain_def_format(def, 7, SV_DOMAIN_FORMAT_INACTIVE);
    g_assert_true(g_str_has_prefix(live, "<domain type='qemu' id='7'>\n"));
    g_assert_nonnull(strstr(live, "<console type='pty' tty='/dev/pts/3'>\n"
                                  "      <source path='/dev/pts/3'/>\n"));
    g_assert_nonnull(strstr(live, "<serial type='pty'>\n      <source path='/dev/pts/3'/>\n"));
    g_assert_true(g_str_has_prefix(inactive, "<domain type='qemu'>\n"));
    g_assert_null(strstr(inactive, "/dev/pts/3"));
    g_assert_null(strstr(inactive, "tty="));

    defined = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    g_assert_no_error(error);
    fresh = sv_domain_def_format(defined, 7, 0);
    g_assert_null(strstr(fresh, "/dev/pts/3"));
}

/* Fields drivers read, as documented in domain_conf.h. */
/* <target tray=>: kept for a cdrom (as libvirt keeps it, live and inactive), never written
 * for a disk, "closed" the default, any other word refused. */
static void
test_disk_tray(void)
{
    const char *fmt = "<domain type='qemu'><name>t</name><memory>1024</memory>"
                      "<os><type>hvm</type></os><devices>"
                      "<disk type='file' device='%s'><source file='/x'/>"
                      "<target dev='hdc' bus='ide' tray='%s'/></disk></devices></domain>";
    g_autofree char *cdrom = g_strdup_printf(fmt, "cdrom", "open");
    g_autofree char *disk = g_strdup_printf(fmt, "disk", "open");
    g_autofree char *closed = g_strdup_printf(fmt, "cdrom", "closed");
    g_autofree char *bad = g_strdup_printf(fmt, "cdrom", "ajar");
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(cdrom, SV_DOMAIN_PARSE_INACTIVE, &error);
    g_autoptr(SvDomainDef) d2 = NULL;
    g_autoptr(SvDomainDef) d3 = NULL;
    g_autofree char *out = NULL;
    g_autofree char *out2 = NULL;
    g_autofree char *out3 = NULL;

    g_assert_no_error(error);
    g_assert_true(((SvDomainDiskDef *)def->disks->pdata[0])->tray_open);
    out = sv_domain_def_format(def, -1, SV_DOMAIN_FORMAT_INACTIVE);
    g_assert_nonnull(strstr(out, "<target dev='hdc' bus='ide' tray='open'/>"));
    d2 = sv_domain_def_parse(disk, 0, &error);
    g_assert_no_error(error);
    out2 = sv_domain_def_format(d2, -1, 0);
    g_assert_null(strstr(out2, "tray="));
    d3 = sv_domain_def_parse(closed, 0, &error);
    g_assert_no_error(error);
    out3 = sv_domain_def_format(d3, -1, 0);
    g_assert_null(strstr(out3, "tray="));
    g_assert_null(sv_domain_def_parse(bad, 0, &error));
    g_assert_nonnull(error);
}

/* A volume disk's resolution (its path and type) is live state the daemon keeps for itself:
 * read and written with the STATUS flags only (status files, copies), never shown to a
 * client, never taken from a definition. */
static void
test_disk_volume_status(void)
{
    const char *xml = "<domain type='qemu'><name>t</name><memory>1024</memory>"
                      "<os><type>hvm</type></os><devices>"
                      "<disk type='volume' device='disk'><source pool='p' volume='v.img' "
                      "volpath='/pools/p/v.img' voltype='block' index='2'/>"
                      "<target dev='vda' bus='virtio'/></disk></devices></domain>";
    const char *bad = "<domain type='qemu'><name>t</name><memory>1024</memory>"
                      "<os><type>hvm</type></os><devices>"
                      "<disk type='volume' device='disk'><source pool='p' volume='v.img' "
                      "volpath='relative' voltype='file'/>"
                      "<target dev='vda' bus='virtio'/></disk></devices></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) status = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_STATUS, &error);
    g_autoptr(SvDomainDef) client = NULL;
    g_autoptr(SvDomainDef) copy = NULL;
    g_autofree char *live = NULL;
    g_autofree char *kept = NULL;
    g_autofree char *inactive = NULL;
    const SvDomainDiskDef *d;

    g_assert_no_error(error);
    d = status->disks->pdata[0];
    g_assert_cmpstr(d->source, ==, "/pools/p/v.img");
    g_assert_cmpint(sv_domain_disk_actual_type(d), ==, SV_DOMAIN_DISK_TYPE_BLOCK);
    g_assert_false(sv_domain_disk_vol_unresolved(d));
    live = sv_domain_def_format(status, 3, 0);
    g_assert_nonnull(strstr(live, "<source pool='p' volume='v.img' index='2'/>"));
    g_assert_null(strstr(live, "/pools/p"));
    kept = sv_domain_def_format(status, 3, SV_DOMAIN_FORMAT_STATUS);
    g_assert_nonnull(strstr(kept, "<source pool='p' volume='v.img' volpath='/pools/p/v.img' "
                                  "voltype='block' index='2'/>"));
    inactive = sv_domain_def_format(status, -1,
                                    SV_DOMAIN_FORMAT_INACTIVE | SV_DOMAIN_FORMAT_STATUS);
    g_assert_nonnull(strstr(inactive, "<source pool='p' volume='v.img'/>"));
    copy = sv_domain_def_copy(status);
    g_assert_cmpstr(((SvDomainDiskDef *)copy->disks->pdata[0])->source, ==, "/pools/p/v.img");
    /* A client's XML (a definition or a live one) names no path. */
    client = sv_domain_def_parse(xml, 0, &error);
    g_assert_no_error(error);
    g_assert_true(sv_domain_disk_vol_unresolved(client->disks->pdata[0]));
    g_assert_null(sv_domain_def_parse(bad, SV_DOMAIN_PARSE_STATUS, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_DOMAIN), SV_ERR_XML_ERROR);
}

static void
test_fields(void)
{
    g_autofree char *path = g_build_filename(data_dir, "qemu-full.xml", NULL);
    g_autofree char *xml = read_file(path);
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = sv_domain_def_parse(xml, 0, &error);
    const SvDomainDiskDef *disk;
    const SvDomainChrDef *serial;

    g_assert_no_error(error);
    g_assert_cmpint(def->type, ==, SV_DOMAIN_VIRT_KVM);
    g_assert_cmpstr(def->name, ==, "full-guest");
    g_assert_cmpuint(def->memory_kib, ==, 2097152);
    g_assert_cmpuint(def->current_memory_kib, ==, 1572864);
    g_assert_cmpuint(def->vcpus, ==, 4);
    g_assert_cmpstr(def->os.type, ==, "hvm");
    g_assert_cmpuint(def->os.n_boot_devs, ==, 3);
    g_assert_cmpint(def->os.boot_devs[0], ==, SV_DOMAIN_BOOT_CDROM);
    g_assert_cmpuint(def->features, ==,
                     SV_DOMAIN_FEATURE_ACPI | SV_DOMAIN_FEATURE_APIC | SV_DOMAIN_FEATURE_PAE);
    g_assert_cmpint(def->on_crash, ==, SV_DOMAIN_LIFECYCLE_COREDUMP_RESTART);
    g_assert_cmpuint(def->disks->len, ==, 4);
    disk = def->disks->pdata[0];
    g_assert_cmpstr(disk->source, ==, "/var/lib/libvirt/images/full.qcow2");
    g_assert_cmpint(disk->format, ==, SV_DOMAIN_DISK_FORMAT_QCOW2);
    g_assert_cmpint(disk->bus, ==, SV_DOMAIN_DISK_BUS_VIRTIO);
    g_assert_cmpuint(def->serials->len, ==, 2);
    serial = def->serials->pdata[1];
    g_assert_cmpint(serial->source.type, ==, SV_DOMAIN_CHR_TYPE_FILE);
    g_assert_cmpuint(serial->target_port, ==, 1);
    g_assert_nonnull(sv_domain_def_find_graphics(def, SV_DOMAIN_GRAPHICS_NONE));
    g_assert_cmpuint(def->panics->len, ==, 1);
    g_assert_cmpstr(def->memballoon->model, ==, "virtio");
    g_assert_null(def->metadata);
}

static int
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Register one golden test per CASE.xml and one round-trip test per CASE.out. */
static GPtrArray *
add_golden_tests(void)
{
    GPtrArray *cases = g_ptr_array_new_with_free_func(case_free);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) dir = g_dir_open(data_dir, 0, &error);
    const char *entry;

    g_assert_no_error(error);
    while ((entry = g_dir_read_name(dir))) {
        if (g_str_has_suffix(entry, ".xml"))
            g_ptr_array_add(names, g_strndup(entry, strlen(entry) - 4));
    }
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        Case *c = g_new0(Case, 1);
        g_autofree char *golden = NULL;
        g_autofree char *out = NULL;

        c->name = g_strdup(names->pdata[i]);
        if (g_str_has_prefix(c->name, "validate-"))
            c->flags |= SV_DOMAIN_PARSE_VALIDATE;
        if (g_str_has_prefix(c->name, "inactive-"))
            c->flags |= SV_DOMAIN_PARSE_INACTIVE;
        g_ptr_array_add(cases, c);
        golden = g_strdup_printf("/domain-conf/golden/%s", c->name);
        g_test_add_data_func(golden, c, test_golden);
        out = case_path(c, ".out");
        if (!regenerate && g_file_test(out, G_FILE_TEST_EXISTS)) {
            g_autofree char *roundtrip = g_strdup_printf("/domain-conf/roundtrip/%s", c->name);

            g_test_add_data_func(roundtrip, c, test_roundtrip);
        }
    }
    return cases;
}

/* Weak handles: a run's handle finds its object while the run lasts and nothing after,
 * not even a later run of the same domain or a new object in the same memory. */
static void
test_list_runs(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvDomainObj *a = sv_domain_list_add(list, test_domain_def("qemu", "a"), TRUE);
    SvDomainObj *b = sv_domain_list_add(list, test_domain_def("qemu", "b"), FALSE);
    guint ra = sv_domain_list_begin_run(list, a);
    guint rb = sv_domain_list_begin_run(list, b);
    guint ra2;

    g_assert_cmpuint(ra, !=, 0);
    g_assert_cmpuint(ra, !=, rb);
    g_assert_true(sv_domain_list_find_run(list, ra) == a);
    g_assert_true(sv_domain_list_find_run(list, rb) == b);
    g_assert_null(sv_domain_list_find_run(list, 0));
    sv_domain_list_end_run(list, a);
    g_assert_null(sv_domain_list_find_run(list, ra));
    g_assert_cmpuint(a->run, ==, 0);
    ra2 = sv_domain_list_begin_run(list, a);
    g_assert_cmpuint(ra2, !=, ra);
    g_assert_null(sv_domain_list_find_run(list, ra));
    g_assert_true(sv_domain_list_find_run(list, ra2) == a);
    /* Removing the object ends its run. */
    sv_domain_list_remove(list, b);
    g_assert_null(sv_domain_list_find_run(list, rb));
    b = sv_domain_list_add(list, test_domain_def("qemu", "b"), FALSE);
    g_assert_null(sv_domain_list_find_run(list, rb));
    g_assert_cmpuint(b->run, ==, 0);
}

/* A rename: the object found under its new name (the same object, its UUID unchanged) and
 * no longer under its old one; the other objects untouched; freed with the list. */
static void
test_list_rename(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvDomainObj *a = sv_domain_list_add(list, test_domain_def("qemu", "a"), TRUE);
    SvDomainObj *b = sv_domain_list_add(list, test_domain_def("qemu", "b"), TRUE);
    guint8 uuid[16];

    memcpy(uuid, a->def->uuid, 16);
    sv_domain_list_rename(list, a, "c");
    g_assert_cmpstr(a->def->name, ==, "c");
    g_assert_null(sv_domain_list_find_by_name(list, "a"));
    g_assert_true(sv_domain_list_find_by_name(list, "c") == a);
    g_assert_true(sv_domain_list_find_by_uuid(list, uuid) == a);
    g_assert_true(sv_domain_list_find_by_name(list, "b") == b);
    g_assert_cmpuint(sv_domain_list_size(list), ==, 2);
    sv_domain_list_remove(list, a);
    g_assert_null(sv_domain_list_find_by_name(list, "c"));
    g_assert_cmpuint(sv_domain_list_size(list), ==, 1);
}

static int priv_freed;
static gboolean priv_expect_detached;

static void
priv_free(gpointer p)
{
    if (priv_expect_detached)
        g_assert_null(((SvDomainObj *)((gpointer *)p)[0])->priv); /* detached first */
    priv_freed++;
    g_free(p);
}

/* A run's driver data: attached with the run, found through the run's key while both
 * last, freed when the daemon lets go of the guest or the object goes. */
static void
test_list_run_data(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvDomainObj *a = sv_domain_list_add(list, test_domain_def("qemu", "a"), TRUE);
    SvDomainObj *b = sv_domain_list_add(list, test_domain_def("qemu", "b"), TRUE);
    gpointer *pa = g_new0(gpointer, 1), *pb = g_new0(gpointer, 1);
    gpointer key;

    pa[0] = a;
    pb[0] = b;
    priv_freed = 0;
    priv_expect_detached = TRUE;
    g_assert_cmpuint(sv_domain_list_attach_run(list, a, pa, priv_free), ==, a->run);
    key = sv_domain_obj_run_key(a);
    g_assert_true(a->priv == pa);
    g_assert_true(sv_domain_list_find_attached(list, key) == a);
    g_assert_null(sv_domain_list_find_attached(list, NULL));
    sv_domain_list_release_run(list, a);
    g_assert_cmpint(priv_freed, ==, 1);
    g_assert_null(a->priv);
    g_assert_cmpuint(a->run, ==, 0);
    g_assert_null(sv_domain_list_find_attached(list, key));
    /* A run without driver data is found by its handle, not as attached. */
    key = GUINT_TO_POINTER(sv_domain_list_begin_run(list, a));
    g_assert_true(sv_domain_list_find_run(list, GPOINTER_TO_UINT(key)) == a);
    g_assert_null(sv_domain_list_find_attached(list, key));
    sv_domain_list_end_run(list, a);
    /* Removing an object frees its data with it. */
    sv_domain_list_attach_run(list, b, pb, priv_free);
    key = sv_domain_obj_run_key(b);
    priv_expect_detached = FALSE;
    sv_domain_list_remove(list, b);
    g_assert_cmpint(priv_freed, ==, 2);
    g_assert_null(sv_domain_list_find_attached(list, key));
}

static SvDomainDef *
def_with_uuid(const char *name, const char *uuid)
{
    SvDomainDef *def = test_domain_def("qemu", name);

    g_assert_true(sv_uuid_parse(uuid, def->uuid));
    return def;
}

/* The rule a restarted daemon applies to a live definition read back: no name or UUID of
 * another domain, not running twice, and the definition on disk decides persistence. */
static void
test_list_take_live(void)
{
    static const char *u1 = "11111111-1111-4111-8111-111111111111";
    static const char *u2 = "22222222-2222-4222-8222-222222222222";
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvDomainObj *defined = sv_domain_list_add(list, def_with_uuid("web", u1), TRUE);
    SvDomainDef *on_disk = defined->def;
    g_autoptr(SvDomainDef) other_uuid = def_with_uuid("web", u2);
    g_autoptr(SvDomainDef) other_name = def_with_uuid("db", u1);
    g_autoptr(GError) error = NULL;
    SvDomainDef *live = def_with_uuid("web", u1);
    SvDomainObj *obj;

    g_assert_false(sv_domain_list_check_live(list, other_uuid, SV_FROM_LXC, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_LXC), SV_ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(error->message, "domain 'web' is defined with another UUID"));
    g_clear_error(&error);
    g_assert_false(sv_domain_list_check_live(list, other_name, SV_FROM_LIBXL, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_LIBXL), SV_ERR_INTERNAL_ERROR);
    g_assert_nonnull(strstr(error->message, "its UUID belongs to domain 'web'"));
    g_clear_error(&error);

    /* Defined on disk: persistent, running on the live definition, the one on disk kept. */
    g_assert_true(sv_domain_list_check_live(list, live, SV_FROM_QEMU, &error));
    g_assert_no_error(error);
    obj = sv_domain_list_take_live(list, live);
    g_assert_true(obj == defined);
    g_assert_true(obj->def == live);
    g_assert_true(obj->new_def == on_disk);
    g_assert_true(obj->persistent);
    sv_domain_list_attach_run(list, obj, g_new0(int, 1), g_free);
    /* A second status file for the same guest. */
    g_assert_false(sv_domain_list_check_live(list, live, SV_FROM_QEMU, &error));
    g_assert_nonnull(strstr(error->message, "domain 'web' runs already"));
    g_clear_error(&error);

    /* Not defined: a new transient domain, whatever its status file said. */
    live = def_with_uuid("scratch", u2);
    g_assert_true(sv_domain_list_check_live(list, live, SV_FROM_QEMU, &error));
    obj = sv_domain_list_take_live(list, live);
    g_assert_true(sv_domain_list_find_by_name(list, "scratch") == obj);
    g_assert_true(obj->def == live);
    g_assert_null(obj->new_def);
    g_assert_false(obj->persistent);
}

int
main(int argc, char **argv)
{
    g_autoptr(GPtrArray) cases = NULL;

    g_test_init(&argc, &argv, NULL);
    data_dir = argc > 1 ? argv[1] : g_getenv("SV_TEST_DATA");
    if (!data_dir)
        data_dir = SV_TEST_DATA_DIR;
    regenerate = g_strcmp0(g_getenv("SV_REGENERATE"), "1") == 0;

    cases = add_golden_tests();
    g_test_add_func("/domain-conf/deep-nesting", test_deep_nesting);
    g_test_add_func("/domain-conf/external-entity-file", test_external_entity_file);
    g_test_add_func("/domain-conf/error-extras", test_error_extras);
    g_test_add_func("/domain-conf/uuid/parse", test_uuid_parse);
    g_test_add_func("/domain-conf/uuid/format-generate", test_uuid_format_generate);
    g_test_add_func("/domain-conf/uuid/generated", test_uuid_generated);
    g_test_add_func("/domain-conf/string-tables", test_string_tables);
    g_test_add_func("/domain-conf/schema-table", test_schema_table);
    g_test_add_func("/domain-conf/name-check", test_name_check);
    g_test_add_func("/domain-list/runs", test_list_runs);
    g_test_add_func("/domain-list/rename", test_list_rename);
    g_test_add_func("/domain-conf/disk-tray", test_disk_tray);
    g_test_add_func("/domain-conf/disk-volume-status", test_disk_volume_status);
    g_test_add_func("/domain-list/run-data", test_list_run_data);
    g_test_add_func("/domain-list/take-live", test_list_take_live);
    g_test_add_func("/domain-conf/live-and-inactive", test_live_and_inactive);
    g_test_add_func("/domain-conf/fields", test_fields);
    return g_test_run();
}
