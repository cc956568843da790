/* test-qemu-argv.c: golden QEMU command lines: tests/data/qemu-argv/CASE.xml beside
 * CASE.args (one argument per line) or CASE.err (code domain message).
 * SV_REGENERATE=1 rewrites the expected files instead of comparing. */
#include <string.h>

#include "conf/domain_conf.h"
#include "qemu_command.h"
#include "util/error.h"

static const char *data_dir = SV_TEST_DATA_DIR;

static char *
render(const char *xml_path)
{
    g_autofree char *xml = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SvDomainDef) def = NULL;
    g_auto(GStrv) argv = NULL;
    QemuCommandOptions opts = {"/usr/bin/qemu-system-x86_64", 3};

    g_assert_true(g_file_get_contents(xml_path, &xml, NULL, NULL));
    def = sv_domain_def_parse(xml, SV_DOMAIN_PARSE_INACTIVE, &error);
    g_assert_no_error(error);
    argv = qemu_command_build(def, &opts, &error);
    if (!argv)
        return g_strdup_printf("%d %d %s\n", error->code, sv_error_get_from(error),
                               error->message);
    {
        g_autofree char *joined = g_strjoinv("\n", argv);
        return g_strconcat(joined, "\n", NULL);
    }
}

static void
check_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *xml = g_strdup_printf("%s/%s.xml", data_dir, name);
    g_autofree char *got = render(xml);
    gboolean is_err = g_str_has_prefix(name, "err-");
    g_autofree char *want_path =
        g_strdup_printf("%s/%s.%s", data_dir, name, is_err ? "err" : "args");
    g_autofree char *want = NULL;

    if (g_getenv("SV_REGENERATE"))
        g_assert_true(g_file_set_contents(want_path, got, -1, NULL));
    g_assert_true(g_file_get_contents(want_path, &want, NULL, NULL));
    g_assert_cmpstr(got, ==, want);
}

static void
test_dir_name(void)
{
    g_autofree char *a = qemu_domain_dir_name(3, "a-very-long-guest-name-indeed");
    g_autofree char *b = qemu_domain_dir_name(1, "short");
    /* 20 bytes, never half a UTF-8 character: "é" is 2 bytes at offset 19. */
    g_autofree char *c = qemu_domain_dir_name(2, "0123456789012345678é");

    g_assert_cmpstr(a, ==, "domain-3-a-very-long-guest-na");
    g_assert_cmpstr(b, ==, "domain-1-short");
    g_assert_cmpstr(c, ==, "domain-2-0123456789012345678");
}

int
main(int argc, char **argv)
{
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *e;

    g_test_init(&argc, &argv, NULL);
    if (argc > 1)
        data_dir = argv[1];
    dir = g_dir_open(data_dir, 0, NULL);
    g_assert_nonnull(dir);
    while ((e = g_dir_read_name(dir))) {
        if (g_str_has_suffix(e, ".xml"))
            g_ptr_array_add(names, g_strndup(e, strlen(e) - 4));
    }
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path = g_strdup_printf("/qemu-argv/%s", (char *)names->pdata[i]);
        g_test_add_data_func(path, names->pdata[i], check_case);
    }
    g_test_add_func("/qemu-argv/dir-name", test_dir_name);
    return g_test_run();
}
