/* test-domain-wire.c: the typed parameters domain_wire.c fills for replies. */
#include <glib.h>

#include "domain/domain_wire.h"

static void
test_typed_param_llong(void)
{
    remote_typed_param p = {0};
    char field[] = "rd_req";

    sv_typed_param_set_llong(&p, field, -5);
    field[0] = 'x'; /* the parameter keeps its own copy */
    g_assert_cmpstr(p.field, ==, "rd_req");
    g_assert_cmpint(p.value.type, ==, SV_TYPED_PARAM_LLONG);
    g_assert_cmpint(p.value.remote_typed_param_value_u.l, ==, -5);
    g_free(p.field);
}

static void
test_typed_param_ullong(void)
{
    remote_typed_param p = {0};

    sv_typed_param_set_ullong(&p, "cpu_time", G_MAXUINT64);
    g_assert_cmpstr(p.field, ==, "cpu_time");
    g_assert_cmpint(p.value.type, ==, SV_TYPED_PARAM_ULLONG);
    g_assert_cmpuint(p.value.remote_typed_param_value_u.ul, ==, G_MAXUINT64);
    g_free(p.field);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/domain-wire/typed-param-llong", test_typed_param_llong);
    g_test_add_func("/domain-wire/typed-param-ullong", test_typed_param_ullong);
    return g_test_run();
}
