/* test-object-list.c: the list calls' shared pieces (programs/object_list.c): counts and
 * names of active or inactive objects, the maxnames limit and libvirt's filter groups. */
#include "programs/object_list.h"
#include "util/error.h"

typedef struct {
    const char *name;
    gboolean active;
} Obj;

static const Obj objs[] = {{"a", TRUE}, {"b", FALSE}, {"c", TRUE}, {"d", FALSE}, {"e", TRUE}};

static gboolean
obj_active(gconstpointer o)
{
    return ((const Obj *)o)->active;
}

static const char *
obj_name(gconstpointer o)
{
    return ((const Obj *)o)->name;
}

static GPtrArray *
all(void)
{
    GPtrArray *a = g_ptr_array_new();

    for (guint i = 0; i < G_N_ELEMENTS(objs); i++)
        g_ptr_array_add(a, (gpointer)&objs[i]);
    return a;
}

static void
test_count(void)
{
    g_autoptr(GPtrArray) a = all();
    g_autoptr(GPtrArray) none = g_ptr_array_new();

    g_assert_cmpint(sv_object_list_count(a, obj_active, TRUE), ==, 3);
    g_assert_cmpint(sv_object_list_count(a, obj_active, FALSE), ==, 2);
    g_assert_cmpint(sv_object_list_count(none, obj_active, TRUE), ==, 0);
}

static void
test_names(void)
{
    g_autoptr(GPtrArray) a = all();
    g_auto(GStrv) names = NULL;
    u_int n = 0;
    g_autoptr(GError) error = NULL;

    /* in order, at most maxnames */
    g_assert_true(sv_object_list_names(a, obj_active, obj_name, TRUE, 2, 10, "LIMIT", &names,
                                       &n, &error));
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpstr(names[0], ==, "a");
    g_assert_cmpstr(names[1], ==, "c");
    g_assert_null(names[2]);
    g_clear_pointer(&names, g_strfreev);
    g_assert_true(sv_object_list_names(a, obj_active, obj_name, FALSE, 10, 10, "LIMIT", &names,
                                       &n, &error));
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpstr(names[0], ==, "b");
    g_assert_cmpstr(names[1], ==, "d");
    g_clear_pointer(&names, g_strfreev);
    /* a negative maxnames lists nothing; one past the limit is the protocol's error */
    g_assert_true(sv_object_list_names(a, obj_active, obj_name, TRUE, -1, 10, "LIMIT", &names,
                                       &n, &error));
    g_assert_cmpuint(n, ==, 0);
    g_clear_pointer(&names, g_strfreev);
    g_assert_false(sv_object_list_names(a, obj_active, obj_name, TRUE, 11, 10, "LIMIT", &names,
                                        &n, &error));
    g_assert_cmpint(error->code, ==, SV_ERR_RPC);
    g_assert_cmpint(sv_error_get_from(error), ==, SV_FROM_RPC);
    g_assert_cmpstr(error->message, ==, "maxnames > LIMIT");
}

static void
test_filter(void)
{
    /* neither bit: everything */
    g_assert_true(sv_object_list_filter(0, 1, 2, TRUE));
    g_assert_true(sv_object_list_filter(4, 1, 2, FALSE));
    /* one bit: that value only */
    g_assert_true(sv_object_list_filter(1, 1, 2, TRUE));
    g_assert_false(sv_object_list_filter(1, 1, 2, FALSE));
    g_assert_true(sv_object_list_filter(2, 1, 2, FALSE));
    g_assert_false(sv_object_list_filter(2, 1, 2, TRUE));
    /* both bits: everything again */
    g_assert_true(sv_object_list_filter(3, 1, 2, TRUE));
    g_assert_true(sv_object_list_filter(3, 1, 2, FALSE));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/object-list/count", test_count);
    g_test_add_func("/object-list/names", test_names);
    g_test_add_func("/object-list/filter", test_filter);
    return g_test_run();
}
