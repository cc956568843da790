/* test-domain-state.c: the lifecycle engine's run state without sockets or hypervisors: the
 * names, the whole transition table, how the causes of a stop combine, and the one setter
 * (checked, logged with who asked, written, withdrawn after a failed destroy). */
#include "domain/domain_state.h"
#include "domain-test.h"
#include "warnings.h"

/* Every pair of states, spelled out: a row is "from", a column "to", in enum order (gone,
 * starting, running, pausing, paused, rebooting, stopping). */
static const char *const expected_table[SV_RUN_STATE_LAST] = {
    /*              g s r p P b S */
    [SV_RUN_GONE] = "1110101",
    [SV_RUN_STARTING] = "1110101",
    [SV_RUN_RUNNING] = "1011111",
    [SV_RUN_PAUSING] = "1011101",
    [SV_RUN_PAUSED] = "1010101",
    [SV_RUN_REBOOTING] = "1011011",
    [SV_RUN_STOPPING] = "1111111",
};

static void
test_table(void)
{
    for (int from = 0; from < SV_RUN_STATE_LAST; from++) {
        char row[SV_RUN_STATE_LAST + 1] = {0};

        for (int to = 0; to < SV_RUN_STATE_LAST; to++)
            row[to] = sv_run_transition_allowed(from, to) ? '1' : '0';
        g_test_message("from %s", sv_run_state_to_string(from));
        g_assert_cmpstr(row, ==, expected_table[from]);
    }
    g_assert_false(sv_run_transition_allowed(SV_RUN_STATE_LAST, SV_RUN_GONE));
    g_assert_false(sv_run_transition_allowed(SV_RUN_GONE, SV_RUN_STATE_LAST));
    g_assert_false(sv_run_transition_allowed(-1, SV_RUN_GONE));
}

static void
test_names(void)
{
    for (int i = 0; i < SV_RUN_STATE_LAST; i++) {
        g_assert_nonnull(sv_run_state_to_string(i));
        g_assert_cmpint(sv_run_state_from_string(sv_run_state_to_string(i)), ==, i);
    }
    for (int i = 0; i < SV_STOP_CAUSE_LAST; i++) {
        g_assert_nonnull(sv_stop_cause_to_string(i));
        g_assert_cmpint(sv_stop_cause_from_string(sv_stop_cause_to_string(i)), ==, i);
    }
    g_assert_cmpstr(sv_run_state_to_string(SV_RUN_STOPPING), ==, "stopping");
    g_assert_cmpstr(sv_stop_cause_to_string(SV_STOP_DESTROY_GRACEFUL), ==, "destroy-graceful");
    g_assert_null(sv_run_state_to_string(SV_RUN_STATE_LAST));
    g_assert_null(sv_stop_cause_to_string(SV_STOP_CAUSE_LAST));
    g_assert_cmpint(sv_run_state_from_string("shutoff"), ==, -1);
    g_assert_cmpint(sv_run_state_from_string(NULL), ==, -1);
    g_assert_cmpint(sv_stop_cause_from_string("kill"), ==, -1);
}

static void
test_merge(void)
{
    /* A forced destroy joining a graceful one makes it forced; not the other way. */
    g_assert_cmpint(sv_stop_cause_merge(SV_STOP_DESTROY_GRACEFUL, SV_STOP_DESTROY), ==,
                    SV_STOP_DESTROY);
    g_assert_cmpint(sv_stop_cause_merge(SV_STOP_DESTROY, SV_STOP_DESTROY_GRACEFUL), ==,
                    SV_STOP_DESTROY);
    /* A client's destroy outranks the guest's power-off and crash. */
    g_assert_cmpint(sv_stop_cause_merge(SV_STOP_SHUTDOWN, SV_STOP_DESTROY_GRACEFUL), ==,
                    SV_STOP_DESTROY_GRACEFUL);
    g_assert_cmpint(sv_stop_cause_merge(SV_STOP_CRASH_RESTART, SV_STOP_DESTROY), ==,
                    SV_STOP_DESTROY);
    /* A panic while powering off is a crash. */
    g_assert_cmpint(sv_stop_cause_merge(SV_STOP_SHUTDOWN, SV_STOP_CRASH), ==, SV_STOP_CRASH);
    g_assert_cmpint(sv_stop_cause_merge(SV_STOP_CRASH, SV_STOP_SHUTDOWN), ==, SV_STOP_CRASH);
    /* A failed start stays one. */
    for (int c = 0; c < SV_STOP_CAUSE_LAST; c++)
        g_assert_cmpint(sv_stop_cause_merge(SV_STOP_START_FAILED, c), ==, SV_STOP_START_FAILED);
    g_assert_cmpint(sv_stop_cause_merge(SV_STOP_NONE, SV_STOP_SHUTDOWN), ==, SV_STOP_SHUTDOWN);
    g_assert_true(sv_stop_cause_is_destroy(SV_STOP_DESTROY));
    g_assert_true(sv_stop_cause_is_destroy(SV_STOP_DESTROY_GRACEFUL));
    g_assert_false(sv_stop_cause_is_destroy(SV_STOP_CRASH));
}

/* ---------------------------------------------------------------- the setter */

static GPtrArray *saved; /* "state/cause" of each status write */

static void
fake_save_status(SvDomainObj *obj, SvStoreDoneFunc done, gpointer data)
{
    g_ptr_array_add(saved, g_strdup_printf("%s/%s", sv_run_state_to_string(obj->run_state),
                                           sv_stop_cause_to_string(obj->stop_cause)));
    done(NULL, data);
}

static void
assert_saved(guint i, const char *what)
{
    g_assert_cmpuint(saved->len, >, i);
    g_assert_cmpstr(saved->pdata[i], ==, what);
}

/* Each change written; a transition outside the table warned about (and made all the
 * same: the state is what the driver says). */
static void
test_set(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvDomainDriver drv = {.list = list, .save_status = fake_save_status};
    SvDomainObj *obj = test_domain_add(list, "web");

    g_ptr_array_set_size(saved, 0);
    g_ptr_array_set_size(test_warnings, 0);
    g_assert_cmpint(obj->run_state, ==, SV_RUN_GONE);
    sv_domain_obj_set_cause(obj, "client 3 (uid 0, pid 42) virDomainCreate");
    sv_domain_run_set(&drv, obj, SV_RUN_STARTING, SV_STOP_DESTROY); /* cause ignored */
    assert_saved(0, "starting/none");
    g_assert_true(sv_domain_run_in_start(obj));
    sv_domain_run_set(&drv, obj, SV_RUN_RUNNING, SV_STOP_NONE);
    g_assert_false(sv_domain_run_in_start(obj));
    sv_domain_run_set(&drv, obj, SV_RUN_PAUSING, SV_STOP_NONE);
    sv_domain_run_set(&drv, obj, SV_RUN_PAUSED, SV_STOP_NONE);
    assert_saved(3, "paused/none");
    g_assert_cmpuint(test_warnings->len, ==, 0);
    sv_domain_run_set(&drv, obj, SV_RUN_REBOOTING, SV_STOP_NONE); /* not in the table */
    g_assert_cmpuint(test_warnings->len, ==, 1);
    g_assert_cmpstr(test_warnings->pdata[0], ==,
                    "domain web: unexpected transition of its run paused -> rebooting");
    g_assert_cmpint(obj->run_state, ==, SV_RUN_REBOOTING);
    assert_saved(4, "rebooting/none");
}

/* A stop: its cause merged as requests join it, guards read it, the run ends GONE. */
static void
test_stop(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvDomainDriver drv = {.list = list, .save_status = fake_save_status};
    SvDomainObj *obj = test_domain_add(list, "web");

    g_ptr_array_set_size(saved, 0);
    g_ptr_array_set_size(test_warnings, 0);
    sv_domain_run_set(&drv, obj, SV_RUN_RUNNING, SV_STOP_NONE);
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_SHUTDOWN);
    g_assert_true(sv_domain_run_stopping(obj, SV_STOP_SHUTDOWN));
    g_assert_true(sv_domain_run_stopping(obj, SV_STOP_NONE));
    g_assert_false(sv_domain_run_destroying(obj));
    g_assert_false(sv_domain_run_crashing(obj));
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_CRASH_RESTART);
    g_assert_true(sv_domain_run_crashing(obj));
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_DESTROY_GRACEFUL);
    g_assert_true(sv_domain_run_destroying(obj));
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_DESTROY);
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_DESTROY_GRACEFUL);
    g_assert_cmpint(obj->stop_cause, ==, SV_STOP_DESTROY);
    g_assert_false(sv_domain_run_crashing(obj));
    assert_saved(5, "stopping/destroy");
    g_assert_false(sv_domain_run_in_start(obj));
    sv_domain_run_set(&drv, obj, SV_RUN_GONE, SV_STOP_NONE);
    g_assert_cmpint(obj->stop_cause, ==, SV_STOP_NONE);
    g_assert_false(sv_domain_run_stopping(obj, SV_STOP_NONE));
    g_assert_cmpuint(test_warnings->len, ==, 0);
}

/* A destroy that fails goes back to where it was asked: running, paused, the stop under
 * way before it; a failed start is never withdrawn. */
static void
test_withdraw(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvDomainDriver drv = {.list = list, .save_status = fake_save_status};
    SvDomainObj *obj = test_domain_add(list, "web");

    g_ptr_array_set_size(test_warnings, 0);
    sv_domain_run_set(&drv, obj, SV_RUN_PAUSED, SV_STOP_NONE);
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_DESTROY_GRACEFUL);
    g_ptr_array_set_size(saved, 0);
    sv_domain_run_withdraw_destroy(&drv, obj);
    g_assert_cmpint(obj->run_state, ==, SV_RUN_PAUSED);
    assert_saved(0, "paused/none");

    sv_domain_run_set(&drv, obj, SV_RUN_RUNNING, SV_STOP_NONE);
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_SHUTDOWN);
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_DESTROY);
    sv_domain_run_withdraw_destroy(&drv, obj);
    g_assert_true(sv_domain_run_stopping(obj, SV_STOP_SHUTDOWN));
    sv_domain_run_withdraw_destroy(&drv, obj); /* no destroy under way: nothing */
    g_assert_true(sv_domain_run_stopping(obj, SV_STOP_SHUTDOWN));

    /* A destroy asked during a start, then the start failing: still a start's end. */
    sv_domain_run_set(&drv, obj, SV_RUN_GONE, SV_STOP_NONE);
    sv_domain_run_set(&drv, obj, SV_RUN_STARTING, SV_STOP_NONE);
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_DESTROY);
    g_assert_true(sv_domain_run_in_start(obj));
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_START_FAILED);
    sv_domain_run_withdraw_destroy(&drv, obj);
    g_assert_true(sv_domain_run_stopping(obj, SV_STOP_START_FAILED));
    g_assert_true(sv_domain_run_in_start(obj));

    /* Adopted from a status file with a destroy under way: back to what clients see. */
    sv_domain_run_set(&drv, obj, SV_RUN_GONE, SV_STOP_NONE);
    obj->state = SV_DOMAIN_RUNNING;
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_DESTROY_GRACEFUL);
    sv_domain_run_withdraw_destroy(&drv, obj);
    g_assert_cmpint(obj->run_state, ==, SV_RUN_RUNNING);
    g_assert_cmpuint(test_warnings->len, ==, 0);
}

/* A start that succeeds under a destroy asked during it: the destroy goes on, of a guest
 * that ran (no longer a failed start), and withdrawn it leaves the guest running. */
static void
test_start_under_stop(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvServer *srv = sv_server_new("test", NULL);
    SvDomainDriver drv = {.list = list, .save_status = fake_save_status, .server = srv};
    SvDomainObj *obj = test_domain_add(list, "web");

    g_ptr_array_set_size(test_warnings, 0);
    sv_domain_list_assign_id(list, obj);
    sv_domain_run_set(&drv, obj, SV_RUN_STARTING, SV_STOP_NONE);
    sv_domain_driver_set_state(&drv, obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_STARTING_UP);
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_DESTROY);
    sv_domain_driver_start_done(&drv, obj, FALSE, NULL);
    g_assert_true(sv_domain_run_destroying(obj));
    g_assert_false(sv_domain_run_in_start(obj));
    sv_domain_run_withdraw_destroy(&drv, obj);
    g_assert_cmpint(obj->run_state, ==, SV_RUN_RUNNING);

    sv_domain_run_set(&drv, obj, SV_RUN_GONE, SV_STOP_NONE);
    sv_domain_run_set(&drv, obj, SV_RUN_STARTING, SV_STOP_NONE);
    sv_domain_driver_start_done(&drv, obj, TRUE, NULL);
    g_assert_cmpint(obj->run_state, ==, SV_RUN_PAUSED);
    g_assert_cmpuint(test_warnings->len, ==, 0);
    sv_server_free(srv);
}

/* What clients see moves a guest with nothing under way, never a start, reboot or stop. */
static void
test_follow(void)
{
    g_autoptr(SvDomainList) list = sv_domain_list_new();
    SvDomainDriver drv = {.list = list, .save_status = fake_save_status};
    SvDomainObj *obj = test_domain_add(list, "web");

    sv_domain_list_assign_id(list, obj);
    sv_domain_run_set(&drv, obj, SV_RUN_STARTING, SV_STOP_NONE);
    sv_domain_driver_set_state(&drv, obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_STARTING_UP);
    g_assert_cmpint(obj->run_state, ==, SV_RUN_STARTING);
    sv_domain_run_set(&drv, obj, SV_RUN_PAUSING, SV_STOP_NONE);
    sv_domain_driver_set_state(&drv, obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_USER);
    g_assert_cmpint(obj->run_state, ==, SV_RUN_PAUSED);
    sv_domain_driver_set_state(&drv, obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_UNPAUSED);
    g_assert_cmpint(obj->run_state, ==, SV_RUN_RUNNING);
    sv_domain_run_set(&drv, obj, SV_RUN_STOPPING, SV_STOP_SHUTDOWN);
    sv_domain_driver_set_state(&drv, obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_UNKNOWN);
    g_assert_true(sv_domain_run_stopping(obj, SV_STOP_SHUTDOWN));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    saved = g_ptr_array_new_with_free_func(g_free);
    test_warnings_capture();
    g_test_add_func("/domain-state/table", test_table);
    g_test_add_func("/domain-state/names", test_names);
    g_test_add_func("/domain-state/merge", test_merge);
    g_test_add_func("/domain-state/set", test_set);
    g_test_add_func("/domain-state/stop", test_stop);
    g_test_add_func("/domain-state/withdraw", test_withdraw);
    g_test_add_func("/domain-state/start-under-stop", test_start_under_stop);
    g_test_add_func("/domain-state/follow", test_follow);
    return g_test_run();
}
