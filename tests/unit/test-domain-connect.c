/* test-domain-connect.c: CONNECT_OPEN's URI check from a driver's facts
 * (domain/domain_connect.c), without sockets: the URI each accepted name reports and
 * libvirt's errors for the others. */
#include <glib.h>

#include "domain/domain_connect.h"
#include "util/error.h"

static const char *const qemu_like_paths[] = {"/system", "/session", NULL};
static const SvConnectFacts qemu_like = {
    .scheme = "qemu",
    .paths = qemu_like_paths,
    .path_error = "unexpected qemu URI path",
    .path_error_from = SV_FROM_NONE,
    .default_uri = "qemu:///system",
    .type = "QEMU",
};

static const char *const lxc_like_paths[] = {"", "/", "/system", NULL};
static const SvConnectFacts lxc_like = {
    .scheme = "lxc",
    .paths = lxc_like_paths,
    .path_error = "Unexpected LXC URI path",
    .path_error_from = SV_FROM_LXC,
    .default_uri = "lxc:///system",
    .uri_is_default = TRUE,
    .type = "LXC",
};

static void
expect_uri(const SvConnectFacts *f, const char *name, const char *uri)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *got = sv_connect_check_uri(f, name, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, uri);
}

static void
expect_error(const SvConnectFacts *f, const char *name, int from, int code, const char *msg)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *got = sv_connect_check_uri(f, name, &error);

    g_assert_null(got);
    g_assert_nonnull(error);
    g_assert_cmpint(sv_error_get_from(error), ==, from);
    g_assert_cmpint(error->code, ==, code);
    g_assert_cmpstr(error->message, ==, msg);
}

static void
test_reported_uri(void)
{
    expect_uri(&qemu_like, NULL, "qemu:///system");
    expect_uri(&qemu_like, "", "qemu:///system");
    expect_uri(&qemu_like, "qemu:///system", "qemu:///system");
    expect_uri(&qemu_like, "QEMU:///session", "qemu:///session");
    expect_uri(&qemu_like, "qemu:///system?socket=/x", "qemu:///system");
    expect_uri(&lxc_like, "lxc://", "lxc:///system");
    expect_uri(&lxc_like, "lxc:///", "lxc:///system");
    expect_uri(&lxc_like, "lxc:///system", "lxc:///system");
}

static void
test_refused(void)
{
    expect_error(&qemu_like, "lxc:///system", SV_FROM_NONE, SV_ERR_NO_CONNECT,
                 "no connection driver available for lxc:///system");
    expect_error(&qemu_like, "qemu", SV_FROM_NONE, SV_ERR_NO_CONNECT,
                 "no connection driver available for qemu");
    expect_error(&qemu_like, "qemu:///", SV_FROM_NONE, SV_ERR_INTERNAL_ERROR,
                 "internal error: unexpected qemu URI path '/', try qemu:///system");
    expect_error(&lxc_like, "lxc:///session", SV_FROM_LXC, SV_ERR_INTERNAL_ERROR,
                 "internal error: Unexpected LXC URI path '/session', try lxc:///system");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-connect/reported-uri", test_reported_uri);
    g_test_add_func("/domain-connect/refused", test_refused);
    return g_test_run();
}
