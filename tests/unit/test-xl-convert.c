/* test-xl-convert.c: domain XML and xl.cfg conversions against golden files in
 * tests/data/xl/, checked against libxlutil, xl's own configuration parser.
 *
 * Cases, by file name:
 *   CASE.xml + CASE.cfg          both directions, byte for byte;
 *   CASE.in.xml + CASE.out.cfg   to xl.cfg only (input normalized on the way);
 *   CASE.in.cfg + CASE.out.xml   to domain XML only;
 *   err-CASE.xml or err-CASE.cfg + err-CASE.err   the conversion's error, "code domain
 *                                message".
 * Every xl.cfg produced is also read back by libxlutil (xlu_cfg_readdata), which must find
 * the same settings, and by our parser; every result converts back to itself (XML to
 * xl.cfg to XML, and xl.cfg to XML to xl.cfg). SV_REGENERATE=1 rewrites the expected
 * files instead of comparing: review the diff. */
#include <stdio.h>
#include <string.h>

#include <libxlutil.h>

#include "util/error.h"
#include "xen_xl.h"
#include "xl_cfg.h"

#ifndef SV_TEST_DATA_DIR
#define SV_TEST_DATA_DIR "tests/data/xl"
#endif

static const char *data_dir = SV_TEST_DATA_DIR;
static gboolean regenerate;

static char *
data_path(const char *name, const char *ext)
{
    g_autofree char *file = g_strconcat(name, ext, NULL);

    return g_build_filename(data_dir, file, NULL);
}

static char *
read_data(const char *name, const char *ext)
{
    g_autofree char *path = data_path(name, ext);
    g_autoptr(GError) error = NULL;
    char *text = NULL;

    g_file_get_contents(path, &text, NULL, &error);
    g_assert_no_error(error);
    return text;
}

/* Compare with the golden file, or rewrite it. */
static void
check_golden(const char *name, const char *ext, const char *got)
{
    g_autofree char *path = data_path(name, ext);
    g_autofree char *want = NULL;

    if (regenerate)
        g_assert_true(g_file_set_contents(path, got, -1, NULL));
    want = read_data(name, ext);
    g_assert_cmpstr(got, ==, want);
}

static char *
describe_error(const GError *error)
{
    return g_strdup_printf("%d %d %s\n", error->code, sv_error_get_from(error), error->message);
}

/* libxlutil must read `text` and find each of our settings with the same value. */
static void
check_with_libxlutil(const char *text)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(XlCfg) cfg = xl_cfg_parse(text, &error);
    g_autofree char *report = NULL;
    gsize report_len = 0;
    FILE *f = open_memstream(&report, &report_len);
    XLU_Config *xlu = xlu_cfg_init(f, "generated.cfg");
    int rc;

    g_assert_no_error(error);
    g_assert_nonnull(xlu);
    rc = xlu_cfg_readdata(xlu, text, (int)strlen(text));
    fflush(f);
    if (rc != 0)
        g_test_message("libxlutil: %s", report);
    g_assert_cmpint(rc, ==, 0);
    for (guint i = 0; i < xl_cfg_size(cfg); i++) {
        const XlEntry *e = xl_cfg_get_entry(cfg, i);

        if (e->value->type == XL_VALUE_LIST) {
            XLU_ConfigList *list = NULL;
            int n = -1;

            g_assert_cmpint(xlu_cfg_get_list(xlu, e->key, &list, &n, 0), ==, 0);
            g_assert_cmpint(n, ==, (int)e->value->items->len);
            for (int j = 0; j < n; j++) {
                const XlValue *item = e->value->items->pdata[j];
                g_assert_cmpstr(xlu_cfg_get_listitem(list, j), ==, item->str);
            }
            /* Disks must also be what xl's disk parser accepts. */
            for (int j = 0; g_str_equal(e->key, "disk") && j < n; j++) {
                const char *spec = xlu_cfg_get_listitem(list, j);
                libxl_device_disk disk;

                libxl_device_disk_init(&disk);
                g_assert_cmpint(xlu_disk_parse(xlu, 1, &spec, &disk), ==, 0);
                libxl_device_disk_dispose(&disk);
            }
        } else if (e->value->type == XL_VALUE_NUMBER) {
            long v = -1;

            g_assert_cmpint(xlu_cfg_get_long(xlu, e->key, &v, 0), ==, 0);
            g_assert_cmpint(v, ==, g_ascii_strtoll(e->value->str, NULL, 10));
        } else {
            const char *v = NULL;

            g_assert_cmpint(xlu_cfg_get_string(xlu, e->key, &v, 0), ==, 0);
            g_assert_cmpstr(v, ==, e->value->str);
        }
    }
    xlu_cfg_destroy(xlu);
    fclose(f);
}

static char *
to_native(const char *xml)
{
    g_autoptr(GError) error = NULL;
    char *cfg = xen_xl_domxml_to_native(xml, &error);

    if (!cfg)
        return describe_error(error);
    /* Every xl.cfg we write: xl reads it as we meant it, and we read it back unchanged. */
    check_with_libxlutil(cfg);
    {
        g_autoptr(XlCfg) parsed = xl_cfg_parse(cfg, &error);
        g_autofree char *again = NULL;

        g_assert_no_error(error);
        again = xl_cfg_format(parsed);
        g_assert_cmpstr(again, ==, cfg);
    }
    return cfg;
}

static char *
from_native(const char *cfg)
{
    g_autoptr(GError) error = NULL;
    char *xml = xen_xl_native_to_domxml(cfg, &error);

    return xml ? xml : describe_error(error);
}

/* What a successful conversion gave must convert back to itself. */
static void
check_round_trip_xml(const char *xml)
{
    g_autofree char *cfg = to_native(xml);
    g_autofree char *back = from_native(cfg);

    g_assert_cmpstr(back, ==, xml);
}

static void
check_round_trip_cfg(const char *cfg)
{
    g_autofree char *xml = from_native(cfg);
    g_autofree char *back = to_native(xml);

    g_assert_cmpstr(back, ==, cfg);
}

static void
test_both_ways(gconstpointer data)
{
    const char *name = data;
    g_autofree char *xml = read_data(name, ".xml");
    g_autofree char *got_cfg = to_native(xml);
    g_autofree char *cfg = NULL;
    g_autofree char *got_xml = NULL;

    check_golden(name, ".cfg", got_cfg);
    cfg = read_data(name, ".cfg");
    got_xml = from_native(cfg);
    check_golden(name, ".xml", got_xml);
    check_round_trip_xml(got_xml);
    check_round_trip_cfg(got_cfg);
}

static void
test_to_native(gconstpointer data)
{
    const char *name = data;
    g_autofree char *xml = read_data(name, ".in.xml");
    g_autofree char *got = to_native(xml);

    check_golden(name, ".out.cfg", got);
    check_round_trip_cfg(got);
}

static void
test_from_native(gconstpointer data)
{
    const char *name = data;
    g_autofree char *cfg = read_data(name, ".in.cfg");
    g_autofree char *got = from_native(cfg);

    check_golden(name, ".out.xml", got);
    check_round_trip_xml(got);
}

static void
test_error(gconstpointer data)
{
    const char *name = data;
    g_autofree char *xml_path = data_path(name, ".xml");
    g_autofree char *input = NULL;
    g_autofree char *got = NULL;
    g_autoptr(GError) error = NULL;
    char *out;

    if (g_file_test(xml_path, G_FILE_TEST_EXISTS)) {
        input = read_data(name, ".xml");
        out = xen_xl_domxml_to_native(input, &error);
    } else {
        input = read_data(name, ".cfg");
        out = xen_xl_native_to_domxml(input, &error);
    }
    g_assert_null(out);
    g_assert_nonnull(error);
    got = describe_error(error);
    check_golden(name, ".err", got);
}

/* Values that need xl's escapes survive both parsers. */
static void
test_escapes(void)
{
    const char *xml = "<domain type='xen'><name>esc</name>"
                      "<uuid>8f1fbb9b-4ee8-4f6e-9f59-0c5b1de0c2a1</uuid>"
                      "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                      "<os><type>xen</type><kernel>/boot/a \"quoted\" \\ kernel</kernel>"
                      "<cmdline>console=hvc0\tquiet 'single'</cmdline></os></domain>";
    g_autofree char *cfg = to_native(xml);
    g_autofree char *back = from_native(cfg);

    g_assert_nonnull(strstr(cfg, "kernel = \"/boot/a \\\"quoted\\\" \\\\ kernel\"\n"));
    g_assert_nonnull(strstr(cfg, "cmdline = \"console=hvc0\\tquiet 'single'\"\n"));
    /* The domain XML formatter escapes quotes in text, as libvirt's does. */
    g_assert_nonnull(strstr(back, "<kernel>/boot/a &quot;quoted&quot; \\ kernel</kernel>"));
    g_assert_nonnull(strstr(back, "<cmdline>console=hvc0\tquiet &apos;single&apos;</cmdline>"));
}

/* A disk target with commas must stay last in its spec, where xl takes the rest. */
static void
test_disk_spec_target_last(void)
{
    SvDomainDiskDef disk = {.type = SV_DOMAIN_DISK_TYPE_FILE,
                            .format = SV_DOMAIN_DISK_FORMAT_QCOW2,
                            .source = (char *)"/images/a,b.qcow2",
                            .target_dev = (char *)"xvdb",
                            .bus = SV_DOMAIN_DISK_BUS_XEN,
                            .readonly = TRUE};
    g_autofree char *spec = xen_xl_disk_spec(&disk);

    g_assert_cmpstr(spec, ==, "format=qcow2,vdev=xvdb,access=ro,target=/images/a,b.qcow2");
}

static void
add_cases(void)
{
    g_autoptr(GDir) dir = g_dir_open(data_dir, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *e;

    g_assert_nonnull(dir);
    while ((e = g_dir_read_name(dir)))
        g_ptr_array_add(names, g_strdup(e));
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    for (guint i = 0; i < names->len; i++) {
        const char *file = names->pdata[i];
        g_autofree char *path = NULL;
        char *name = NULL;
        GTestDataFunc fn = NULL;

        if (g_str_has_prefix(file, "err-") && g_str_has_suffix(file, ".err")) {
            name = g_strndup(file, strlen(file) - 4);
            fn = test_error;
        } else if (g_str_has_suffix(file, ".in.xml")) {
            name = g_strndup(file, strlen(file) - 7);
            fn = test_to_native;
        } else if (g_str_has_suffix(file, ".in.cfg")) {
            name = g_strndup(file, strlen(file) - 7);
            fn = test_from_native;
        } else if (g_str_has_suffix(file, ".cfg") && !g_str_has_prefix(file, "err-") &&
                   !g_str_has_suffix(file, ".out.cfg")) {
            name = g_strndup(file, strlen(file) - 4);
            fn = test_both_ways;
        } else {
            continue;
        }
        path = g_strdup_printf("/xl-convert/%s/%s",
                               fn == test_error        ? "error"
                               : fn == test_to_native  ? "to-native"
                               : fn == test_from_native ? "from-native"
                                                        : "both-ways",
                               name);
        g_test_add_data_func_full(path, name, fn, g_free);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc > 1)
        data_dir = argv[1];
    regenerate = g_strcmp0(g_getenv("SV_REGENERATE"), "1") == 0;
    add_cases();
    g_test_add_func("/xl-convert/escapes", test_escapes);
    g_test_add_func("/xl-convert/disk-spec-target-last", test_disk_spec_target_last);
    return g_test_run();
}
