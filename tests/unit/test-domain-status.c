/* test-domain-status.c: what the drivers share of their status files: reading one back as
 * hostile input, setting one aside, and the run directory's walk after a restart. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/domain_status.h"
#include "util/error.h"
#include "util/fileio.h"

/* The warnings logged (fatal in tests otherwise), their texts. */
static GPtrArray *warnings;

static GLogWriterOutput
capture_writer(GLogLevelFlags level, const GLogField *fields, gsize n, gpointer data)
{
    (void)data;
    for (gsize i = 0; i < n && (level & G_LOG_LEVEL_WARNING); i++) {
        if (g_str_equal(fields[i].key, "MESSAGE"))
            g_ptr_array_add(warnings, g_strdup(fields[i].value));
    }
    return G_LOG_WRITER_HANDLED;
}

static const char *status_xml =
    "<domstatus state='running' reason='1' statetime='1700000000' pid='4242'>\n"
    "  <monitor path='/run/x/monitor.sock'/>\n"
    "  <domain type='qemu' id='7'><name>web</name><memory>65536</memory>"
    "<os><type>hvm</type></os></domain>\n"
    "</domstatus>\n";

static void
test_read(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    g_autofree char *state = NULL;
    xmlDocPtr doc = sv_status_read(status_xml, strlen(status_xml), SV_FROM_QEMU, &error);
    xmlNodePtr root, dom;

    g_assert_no_error(error);
    g_assert_nonnull(doc);
    root = xmlDocGetRootElement(doc);
    state = sv_status_attr(root, "state");
    g_assert_cmpstr(state, ==, "running");
    g_assert_cmpint(sv_status_attr_int(root, "pid"), ==, 4242);
    g_assert_cmpint(sv_status_attr_int(root, "statetime"), ==, 1700000000);
    g_assert_cmpint(sv_status_attr_int(root, "absent"), ==, 0);
    g_assert_null(sv_status_attr(root, "absent"));
    g_assert_null(sv_status_child(root, "absent"));
    /* Absent elements give absent values, never a crash. */
    g_assert_null(sv_status_attr(NULL, "state"));
    g_assert_cmpint(sv_status_attr_int(NULL, "pid"), ==, 0);
    g_assert_null(sv_status_child(NULL, "domain"));
    dom = sv_status_child(root, "domain");
    g_assert_nonnull(dom);
    def = sv_status_parse_domain(doc, dom, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(def->name, ==, "web");
    xmlFreeDoc(doc);
}

static void
test_read_refuses(void)
{
    static const char *bad[] = {
        "garbage",
        "<domain type='qemu'><name>web</name></domain>",
        "<domstatus><unclosed></domstatus>",
        "",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_null(sv_status_read(bad[i], strlen(bad[i]), SV_FROM_LXC, &error));
        g_assert_error(error, sv_error_quark(SV_FROM_LXC), SV_ERR_INTERNAL_ERROR);
    }
}

static void
write_file(const char *dir, const char *name, const char *text)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

static gboolean
exists(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);

    return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* What the walk saw: the entries given, each set aside as a driver would. */
static void
on_status(const char *path, const char *entry, gpointer data)
{
    GPtrArray *seen = data;
    g_autoptr(GError) why = NULL;
    g_autofree char *base = g_path_get_basename(path);

    g_assert_cmpstr(base, ==, entry);
    g_ptr_array_add(seen, g_strdup(entry));
    sv_error_set(&why, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "a test");
    sv_status_set_aside(path, why);
}

static gint
compare_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
test_dir_walk(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-status-XXXXXX", NULL);
    g_autofree char *missing = g_build_filename(dir, "missing", NULL);
    g_autoptr(GPtrArray) seen = g_ptr_array_new_with_free_func(g_free);
    static const char *kept[] = {"c.xml.rejected", "web.sock", "web.pid", "x.xmlnot"};
    static const char *walked[] = {"a.xml", "b.xml", "web.xml"};

    for (gsize i = 0; i < G_N_ELEMENTS(walked); i++)
        write_file(dir, walked[i], status_xml);
    for (gsize i = 0; i < G_N_ELEMENTS(kept); i++)
        write_file(dir, kept[i], "keep");
    write_file(dir, "web.xml.new-a1B2c3", "<domstatus"); /* a write a killed daemon left */

    sv_file_walk_dir(dir, ".xml", on_status, seen);
    g_ptr_array_sort(seen, compare_str);
    g_assert_cmpuint(seen->len, ==, G_N_ELEMENTS(walked));
    g_assert_cmpuint(warnings->len, ==, G_N_ELEMENTS(walked));
    for (gsize i = 0; i < G_N_ELEMENTS(walked); i++) {
        g_autofree char *aside = g_strconcat(walked[i], ".rejected", NULL);
        g_autofree char *warning = g_strdup_printf(
            "setting aside status file '%s/%s' as '%s/%s', touching nothing it names: "
            "internal error: a test", dir, walked[i], dir, aside);
        g_assert_true(g_ptr_array_find_with_equal_func(warnings, warning, g_str_equal, NULL));
        g_assert_cmpstr(seen->pdata[i], ==, walked[i]);
        /* Set aside: renamed, contents whole. */
        g_assert_false(exists(dir, walked[i]));
        g_assert_true(exists(dir, aside));
    }
    for (gsize i = 0; i < G_N_ELEMENTS(kept); i++)
        g_assert_true(exists(dir, kept[i]));
    g_assert_false(exists(dir, "web.xml.new-a1B2c3"));

    /* No directory: nothing to walk. */
    g_ptr_array_set_size(seen, 0);
    sv_file_walk_dir(missing, ".xml", on_status, seen);
    g_assert_cmpuint(seen->len, ==, 0);

    {
        g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
        const char *e;
        while ((e = g_dir_read_name(d))) {
            g_autofree char *path = g_build_filename(dir, e, NULL);
            unlink(path);
        }
    }
    g_assert_cmpint(rmdir(dir), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    warnings = g_ptr_array_new_with_free_func(g_free);
    g_log_set_writer_func(capture_writer, NULL, NULL);
    g_test_add_func("/domain-status/read", test_read);
    g_test_add_func("/domain-status/read-refuses", test_read_refuses);
    g_test_add_func("/domain-status/dir-walk", test_dir_walk);
    return g_test_run();
}
