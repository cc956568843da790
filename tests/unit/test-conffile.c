/* test-conffile.c: the libvirt-style configuration parser. */
#include "util/conffile.h"
#include "util/error.h"

static void
test_values(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvConfFile) c = sv_conf_file_parse("# comment\n"
                                                 "max_clients = 20   # trailing\n"
                                                 "unix_sock_rw_perms = \"0660\"\n"
                                                 "log_outputs = [ \"1:stderr\",\n  '2:file' ]\n"
                                                 "\n",
                                                 "t.conf", &error);
    guint u = 7;
    g_autofree char *s = NULL;
    g_auto(GStrv) v = NULL;

    g_assert_no_error(error);
    g_assert_true(sv_conf_file_get_uint(c, "max_clients", &u, &error));
    g_assert_cmpuint(u, ==, 20);
    g_assert_true(sv_conf_file_get_uint(c, "absent", &u, &error));
    g_assert_cmpuint(u, ==, 20);
    g_assert_true(sv_conf_file_get_string(c, "unix_sock_rw_perms", &s, &error));
    g_assert_cmpstr(s, ==, "0660");
    g_assert_true(sv_conf_file_get_strv(c, "log_outputs", &v, &error));
    g_assert_cmpuint(g_strv_length(v), ==, 2);
    g_assert_cmpstr(v[1], ==, "2:file");
    g_assert_false(sv_conf_file_get_uint(c, "unix_sock_rw_perms", &u, &error));
    g_assert_error(error, sv_error_quark(SV_FROM_CONF), SV_ERR_CONFIG_UNSUPPORTED);
    g_assert_nonnull(g_strstr_len(error->message, -1, "t.conf:3"));
}

static void
expect_bad(const char *text)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvConfFile) c = sv_conf_file_parse(text, "bad.conf", &error);

    g_assert_null(c);
    g_assert_error(error, sv_error_quark(SV_FROM_CONF), SV_ERR_CONFIG_UNSUPPORTED);
}

static void
test_errors(void)
{
    expect_bad("key\n");
    expect_bad("key = \"unterminated\n");
    expect_bad("= 3\n");
    expect_bad("k = [ 1 ]\n");
    expect_bad("k = 1 2\n");
    expect_bad("k = nonsense\n");
}

static void
test_range(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvConfFile) c = sv_conf_file_parse("a = -1\nb = 99999999999\n", "r", &error);
    guint u = 0;

    g_assert_false(sv_conf_file_get_uint(c, "a", &u, &error));
    g_clear_error(&error);
    g_assert_false(sv_conf_file_get_uint(c, "b", &u, &error));
}

static void
test_missing_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SvConfFile) opt = sv_conf_file_load("/nonexistent/x.conf", TRUE, &error);
    g_autoptr(SvConfFile) req = NULL;

    g_assert_nonnull(opt);
    req = sv_conf_file_load("/nonexistent/x.conf", FALSE, &error);
    g_assert_null(req);
    g_assert_nonnull(error);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conffile/values", test_values);
    g_test_add_func("/conffile/errors", test_errors);
    g_test_add_func("/conffile/range", test_range);
    g_test_add_func("/conffile/missing", test_missing_file);
    return g_test_run();
}
