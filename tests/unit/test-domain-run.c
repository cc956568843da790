/* test-domain-run.c: the state setter the drivers share (the status file follows every
 * change, a failed write is logged), the end of a start that succeeded, and the end of a
 * run once the guest is gone. */
#include "domain/domain_driver.h"
#include "util/error.h"
#include "domain-test.h"
#include "warnings.h"

/* The status writes asked for, as a driver's save_status sees them. */
typedef struct {
    SvDomainObj *obj;
    int state;
    int reason;
    SvStoreDoneFunc done;
    gpointer data;
} Save;

static GArray *saves;

static void
fake_save_status(SvDomainObj *obj, SvStoreDoneFunc done, gpointer data)
{
    Save s = {obj, obj->state, obj->reason, done, data};

    g_array_append_val(saves, s);
}

/* Every state change is followed by the status file; the written one is the new state. */
static void
test_set_state(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvDomainDriver drv = {.list = list, .save_status = fake_save_status};
    SvDomainObj *obj = test_domain_add(list, "web");
    g_autoptr(GError) error = NULL;
    Save *s;

    g_array_set_size(saves, 0);
    g_ptr_array_set_size(test_warnings, 0);
    sv_domain_list_assign_id(list, obj);
    sv_domain_driver_set_state(&drv, obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_STARTING_UP);
    g_assert_cmpint(obj->state, ==, SV_DOMAIN_PAUSED);
    g_assert_cmpint(obj->reason, ==, SV_DOMAIN_PAUSED_STARTING_UP);
    g_assert_cmpuint(saves->len, ==, 1);
    s = &g_array_index(saves, Save, 0);
    g_assert_true(s->obj == obj);
    g_assert_cmpint(s->state, ==, SV_DOMAIN_PAUSED);
    g_assert_nonnull(s->done);
    s->done(NULL, s->data); /* written: nothing said */
    g_assert_cmpuint(test_warnings->len, ==, 0);

    sv_domain_driver_set_state(&drv, obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_UNPAUSED);
    g_assert_cmpuint(saves->len, ==, 2);
    s = &g_array_index(saves, Save, 1);
    g_assert_cmpint(s->state, ==, SV_DOMAIN_RUNNING);
    sv_error_set_errno(&error, SV_FROM_NONE, 28, "cannot write '%s'", "web.xml");
    s->done(error, s->data);
    g_assert_cmpuint(test_warnings->len, ==, 1);
    g_assert_cmpstr(test_warnings->pdata[0], ==,
                    "domain web: cannot write its status file: cannot write 'web.xml': "
                    "No space left on device");
}

/* A start that succeeded: RUNNING/BOOTED, or PAUSED/USER when asked, each written. */
static void
test_start_done(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvServer *srv = sv_server_new("test", NULL);
    SvDomainDriver drv = {.list = list, .save_status = fake_save_status, .server = srv};
    SvDomainObj *a = test_domain_add(list, "a");
    SvDomainObj *b = test_domain_add(list, "b");

    g_array_set_size(saves, 0);
    sv_domain_list_assign_id(list, a);
    sv_domain_list_assign_id(list, b);
    sv_domain_obj_set_state(a, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_STARTING_UP);
    sv_domain_obj_set_state(b, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_STARTING_UP);
    sv_domain_driver_start_done(&drv, a, FALSE, NULL);
    g_assert_cmpint(a->state, ==, SV_DOMAIN_RUNNING);
    g_assert_cmpint(a->reason, ==, SV_DOMAIN_RUNNING_BOOTED);
    sv_domain_driver_start_done(&drv, b, TRUE, NULL);
    g_assert_cmpint(b->state, ==, SV_DOMAIN_PAUSED);
    g_assert_cmpint(b->reason, ==, SV_DOMAIN_PAUSED_USER);
    g_assert_cmpuint(saves->len, ==, 2);
    for (guint i = 0; i < saves->len; i++) {
        Save *s = &g_array_index(saves, Save, i);
        s->done(NULL, s->data);
    }
    sv_server_free(srv);
}

static void
count_free(gpointer p)
{
    (*(int *)p)++;
}

/* The guest is gone: inactive, SHUTOFF with its reason written, the persistent definition
 * back, the run and its data ended. */
static void
test_stopped(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvServer *srv = sv_server_new("test", NULL);
    SvDomainDriver drv = {.list = list, .save_status = fake_save_status, .server = srv};
    SvDomainObj *obj = test_domain_add(list, "web");
    SvDomainDef *on_disk = obj->def;
    SvDomainDef *live = sv_domain_def_copy(on_disk);
    int freed = 0;
    gpointer key;

    g_array_set_size(saves, 0);
    obj->new_def = on_disk; /* started: it runs on its live copy */
    obj->def = live;
    sv_domain_list_assign_id(list, obj);
    sv_domain_list_attach_run(list, obj, &freed, count_free);
    key = sv_domain_obj_run_key(obj);
    sv_domain_obj_set_state(obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_BOOTED);
    sv_domain_driver_stopped(&drv, obj, SV_DOMAIN_SHUTOFF_DESTROYED,
                             SV_DOMAIN_EVENT_STOPPED_DESTROYED);
    g_assert_false(sv_domain_obj_is_active(obj));
    g_assert_null(sv_domain_list_find_by_id(list, 1));
    g_assert_cmpint(obj->state, ==, SV_DOMAIN_SHUTOFF);
    g_assert_cmpint(obj->reason, ==, SV_DOMAIN_SHUTOFF_DESTROYED);
    g_assert_cmpuint(saves->len, ==, 1);
    g_assert_cmpint(g_array_index(saves, Save, 0).state, ==, SV_DOMAIN_SHUTOFF);
    g_array_index(saves, Save, 0).done(NULL, g_array_index(saves, Save, 0).data);
    g_assert_true(obj->def == on_disk);
    g_assert_null(obj->new_def);
    g_assert_cmpint(freed, ==, 1);
    g_assert_null(obj->priv);
    g_assert_null(sv_domain_list_find_attached(list, key));
    sv_server_free(srv);
}

static void
test_shutoff_reasons(void)
{
    g_assert_cmpstr(sv_domain_shutoff_reason_to_string(0), ==, "unknown");
    g_assert_cmpstr(sv_domain_shutoff_reason_to_string(2), ==, "destroyed");
    g_assert_cmpstr(sv_domain_shutoff_reason_to_string(6), ==, "failed");
    g_assert_cmpstr(sv_domain_shutoff_reason_to_string(7), ==, "unknown");
    g_assert_cmpstr(sv_domain_shutoff_reason_to_string(-1), ==, "unknown");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    saves = g_array_new(FALSE, TRUE, sizeof(Save));
    test_warnings_capture();
    g_test_add_func("/domain-run/set-state", test_set_state);
    g_test_add_func("/domain-run/start-done", test_start_done);
    g_test_add_func("/domain-run/stopped", test_stopped);
    g_test_add_func("/domain-run/shutoff-reasons", test_shutoff_reasons);
    return g_test_run();
}
