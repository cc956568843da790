/* test-log.c: log categories, filters and outputs in libvirt's syntax, and what reaches a
 * file output. */
#include <glib/gstdio.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"

static void
test_dest_strings(void)
{
    for (int i = 0; i < SV_LOG_DEST_LAST; i++)
        g_assert_cmpint(sv_log_dest_from_string(sv_log_dest_to_string(i)), ==, i);
    g_assert_null(sv_log_dest_to_string(SV_LOG_DEST_LAST));
    g_assert_cmpint(sv_log_dest_from_string("nowhere"), ==, -1);
    g_assert_cmpint(sv_log_dest_from_string(NULL), ==, -1);
}

static void
test_category(void)
{
    static const struct {
        const char *file, *category;
    } cases[] = {
        {"../src/common/rpc/server.c", "common.rpc.server"},
        {"../src/virtqemud/qemu_monitor.c", "virtqemud.qemu_monitor"},
        {"/home/x/src/proj/src/common/util/log.h", "common.util.log"},
        {"../tests/unit/test-log.c", "tests.unit.test-log"},
        {"main.c", "main"},
        {"", ""},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *cat = sv_log_category(cases[i].file);
        g_assert_cmpstr(cat, ==, cases[i].category);
    }
}

static void
test_filters(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *got = NULL;
    g_autofree char *none = NULL;
    guint n = 99;

    g_assert_true(sv_log_set_filters(" 1:qemu  3:+util.json 4:a:b", &error));
    got = sv_log_get_filters(&n);
    /* libvirt stores the substring as a glob and prints it so, trailing space included. */
    g_assert_cmpstr(got, ==, "1:*qemu* 3:*util.json* 4:*a* ");
    g_assert_cmpuint(n, ==, 3);

    g_assert_true(sv_log_set_filters("", &error));
    none = sv_log_get_filters(&n);
    g_assert_null(none);
    g_assert_cmpuint(n, ==, 0);
    g_assert_true(sv_log_set_filters(NULL, &error));
}

static void
test_filter_errors(void)
{
    static const struct {
        const char *spec, *message;
    } cases[] = {
        {"bad", "invalid argument: Malformed format for filter 'bad'"},
        {"0:x", "invalid argument: Invalid priority '0' for filter '0:x'"},
        {"5:x", "invalid argument: Invalid priority '5' for filter '5:x'"},
        {"1x:x", "invalid argument: Invalid priority '1x' for filter '1x:x'"},
        {"1:+", "invalid argument: Invalid match string '+'"},
        {"1:", "invalid argument: Invalid match string ''"},
    };
    g_autofree char *kept = NULL;
    guint n;

    g_assert_true(sv_log_set_filters("2:keep", NULL));
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(sv_log_set_filters(cases[i].spec, &error));
        g_assert_cmpint(error->code, ==, SV_ERR_INVALID_ARG);
        g_assert_cmpstr(error->message, ==, cases[i].message);
    }
    /* A failed set leaves the filters as they were. */
    kept = sv_log_get_filters(&n);
    g_assert_cmpstr(kept, ==, "2:*keep* ");
    g_assert_true(sv_log_set_filters(NULL, NULL));
}

static void
test_outputs(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-log-XXXXXX", NULL);
    g_autofree char *a = g_build_filename(dir, "a.log", NULL);
    g_autofree char *spec = g_strdup_printf("3:stderr 1:file:%s 2:file:%s 4:stderr", a, a);
    g_autofree char *want = g_strdup_printf("2:file:%s 4:stderr", a);
    g_autofree char *got = NULL;
    g_autofree char *def = NULL;
    g_autoptr(GError) error = NULL;
    guint n;

    /* Before any set: the default, stderr at the log level (2 without --verbose). */
    def = sv_log_get_outputs(&n);
    g_assert_cmpstr(def, ==, "2:stderr");
    g_assert_cmpuint(n, ==, 1);

    /* The last item for a destination replaces earlier ones. */
    g_assert_true(sv_log_set_outputs(spec, &error));
    got = sv_log_get_outputs(&n);
    g_assert_cmpstr(got, ==, want);
    g_assert_cmpuint(n, ==, 2);

    g_assert_true(sv_log_set_outputs("", &error));
    g_free(got);
    got = sv_log_get_outputs(&n);
    g_assert_cmpstr(got, ==, "2:stderr");
    g_unlink(a);
    g_rmdir(dir);
}

static void
test_output_errors(void)
{
    static const struct {
        const char *spec, *message;
    } cases[] = {
        {"stderr", "invalid argument: Malformed format for log output 'stderr'"},
        {"9:stderr", "invalid argument: Invalid log priority '9' for log output '9:stderr'"},
        {"1:nowhere", "invalid argument: Invalid log destination 'nowhere' for log output "
                      "'1:nowhere'"},
        {"1:file", "invalid argument: Log output '1:file' does not meet the format "
                   "requirements for destination type 'file'"},
        {"1:stderr:x", "invalid argument: Log output '1:stderr:x' does not meet the format "
                       "requirements for destination type 'stderr'"},
        {"1:file:/nonexistent-dir/x.log",
         "failed to open /nonexistent-dir/x.log: No such file or directory"},
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(sv_log_set_outputs(cases[i].spec, &error));
        g_assert_cmpstr(error->message, ==, cases[i].message);
    }
}

static char *
file_text(const char *path)
{
    char *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

/* Filters decide per category; each output then applies its own level. */
static void
test_file_output_and_filters(void)
{
    g_autofree char *dir = g_dir_make_tmp("sv-log-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "out.log", NULL);
    g_autofree char *spec = g_strdup_printf("1:file:%s", path);
    g_autofree char *text = NULL;

    g_assert_true(sv_log_set_outputs(spec, NULL));
    g_debug("dropped: below the log level, no filter");
    g_assert_true(sv_log_set_filters("1:unit.test-log", NULL));
    g_debug("kept: debug let through by the filter");
    g_assert_true(sv_log_set_filters("3:no-such-category 2:test-log", NULL));
    g_debug("dropped: the first matching filter wants info");
    g_message("kept: info");
    g_assert_true(sv_log_set_filters(NULL, NULL));
    g_assert_true(sv_log_set_outputs(NULL, NULL));
    g_message("not in the file: outputs reset");

    text = file_text(path);
    g_assert_null(strstr(text, "dropped"));
    g_assert_nonnull(strstr(text, ": debug : test-log: kept: debug let through by the filter\n"));
    g_assert_nonnull(strstr(text, ": info : test-log: kept: info\n"));
    g_assert_null(strstr(text, "not in the file"));
    g_unlink(path);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    sv_log_init("test-log", FALSE);
    g_test_add_func("/log/dest-strings", test_dest_strings);
    g_test_add_func("/log/category", test_category);
    g_test_add_func("/log/filters", test_filters);
    g_test_add_func("/log/filter-errors", test_filter_errors);
    g_test_add_func("/log/outputs", test_outputs);
    g_test_add_func("/log/output-errors", test_output_errors);
    g_test_add_func("/log/file-output-and-filters", test_file_output_and_filters);
    return g_test_run();
}
