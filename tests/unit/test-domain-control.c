/* test-domain-control.c: the procedures on a running guest (domain/domain_control.c) over a
 * fake driver's facts, without sockets or a hypervisor: flag errors name the driver's
 * function, the shared rules and the driver's, no-ops, the state and its event exactly
 * once whichever of the hypervisor's event and the action's completion comes first, and
 * the withdrawal of what a failed action began. */
#include <glib/gstdio.h>

#include "domain/domain_control.h"
#include "domain/domain_run.h"
#include "domain/domain_state.h"
#include "util/error.h"
#include "domain-test.h"
#include "warnings.h"

/* What the fake hypervisor was asked, and the jobs it has not finished. */
static GPtrArray *pending;
static int acts;
static gboolean fail_now;

/* The lifecycle events sent, as (event, detail) pairs. */
static GArray *events;
/* The completions: NULL for success, else the error's message. */
static GPtrArray *dones;

static gboolean
fake_act(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    (void)obj;
    acts++;
    if (fail_now) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "the hypervisor said no");
        return FALSE;
    }
    g_ptr_array_add(pending, job);
    return TRUE;
}

/* What the destroy's action found: the run state and cause the shared layer named, and
 * the kill's mode. */
static SvRunState destroy_saw_state;
static SvStopCause destroy_saw_cause;
static gboolean destroy_saw_graceful;

static gboolean
fake_destroy(SvGuestJob *job, SvDomainObj *obj, GError **error)
{
    destroy_saw_state = obj->run_state;
    destroy_saw_cause = obj->stop_cause;
    destroy_saw_graceful = job->graceful;
    return fake_act(job, obj, error);
}

/* The driver's own rule: a guest named "locked" is refused with its error. */
static gboolean
is_locked(const SvDomainObj *obj)
{
    return g_str_equal(obj->def->name, "locked");
}

static const SvGuestOps fake_ops = {
    .procs = {
        [SV_GUEST_SUSPEND] = {.rules = SV_GUEST_RULE_ACTIVE | SV_GUEST_RULE_PAUSED_NOOP |
                                       SV_GUEST_RULE_RUNNING,
                              .not_running_from = SV_FROM_DOMAIN,
                              .refuse = {{.when = is_locked, .from = SV_FROM_QEMU,
                                          .code = SV_ERR_OPERATION_INVALID,
                                          .message = "domain is locked"}},
                              .act = fake_act},
        [SV_GUEST_RESUME] = {.rules = SV_GUEST_RULE_ACTIVE, .act = fake_act},
        [SV_GUEST_DESTROY] = {.flags = SV_DOMAIN_DESTROY_GRACEFUL,
                              .func = "fakeDomainDestroyFlags",
                              .rules = SV_GUEST_RULE_ACTIVE | SV_GUEST_RULE_NAME_STOP,
                              .act = fake_destroy},
        [SV_GUEST_SHUTDOWN] = {.func = "fakeDomainShutdownFlags",
                               .rules = SV_GUEST_RULE_RUNNING, .not_running_from = SV_FROM_LXC,
                               .act = fake_act},
        [SV_GUEST_REBOOT] = {.flags = SV_DOMAIN_SHUTDOWN_SIGNAL, .func = "fakeDomainReboot",
                             .rules = SV_GUEST_RULE_RUNNING, .not_running_from = SV_FROM_DOMAIN,
                             .act = fake_act},
    },
};

static void
fake_save_status(SvDomainObj *obj, SvStoreDoneFunc done, gpointer data)
{
    (void)obj;
    done(NULL, data);
}

static void
record_event(SvDomainDriver *drv, SvDomainObj *obj, int event, int detail)
{
    int pair[2] = {event, detail};

    (void)drv;
    (void)obj;
    g_array_append_vals(events, pair, 2);
}

static void
record_done(SvDomainDriver *drv, const GError *error, gpointer data)
{
    (void)drv;
    (void)data;
    g_ptr_array_add(dones, error ? g_strdup(error->message) : NULL);
}

typedef struct {
    SvDomainList *list;
    SvServer *srv;
    SvDomainDriver drv;
    SvDomainObj *obj;
    remote_nonnull_domain dom;
} Fixture;

/* A run's data with nothing of a hypervisor in it. */
static const SvRunFacts fake_run_facts = {0};

/* A driver of the fake facts with one guest, name, running (or inactive). */
static void
fixture_set_up(Fixture *f, const char *name, gboolean running)
{
    f->list = sv_domain_list_new();
    f->srv = sv_server_new("test", NULL);
    f->drv = (SvDomainDriver){.prefix = "fake", .from = SV_FROM_QEMU,
                              .lookup_style = SV_LOOKUP_STYLE_QEMU, .server = f->srv,
                              .list = f->list, .save_status = fake_save_status,
                              .guest = &fake_ops, .on_emit = record_event,
                              .run_facts = &fake_run_facts};
    f->obj = test_domain_add(f->list, name);
    if (running) {
        sv_domain_list_assign_id(f->list, f->obj);
        sv_domain_run_new(&f->drv, f->obj, sizeof(SvDomainRun));
        sv_domain_obj_set_state(f->obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_BOOTED);
        f->obj->run_state = SV_RUN_RUNNING;
    }
    sv_domain_obj_to_remote(f->obj, &f->dom);
    g_ptr_array_set_size(pending, 0);
    g_array_set_size(events, 0);
    g_ptr_array_set_size(dones, 0);
    acts = 0;
    fail_now = FALSE;
}

static void
fixture_tear_down(Fixture *f)
{
    g_free(f->dom.name);
    sv_domain_list_free(f->list);
    sv_server_free(f->srv);
}

/* Admit op and, admitted, begin it as a client's call would. */
static gboolean
run_op(Fixture *f, SvGuestOp op, guint flags, gboolean *ret_noop, GError **error)
{
    SvDomainObj *obj = sv_guest_admit(&f->drv, op, &f->dom, flags, ret_noop, error);

    if (!obj)
        return FALSE;
    if (!*ret_noop) {
        sv_domain_obj_set_cause(obj, "a test");
        sv_guest_begin(&f->drv, obj, op, flags, NULL, record_done, NULL);
    }
    return TRUE;
}

static void
expect_refused(Fixture *f, SvGuestOp op, guint flags, int from, int code, const char *msg)
{
    g_autoptr(GError) error = NULL;
    gboolean noop = FALSE;

    g_assert_false(run_op(f, op, flags, &noop, &error));
    g_assert_nonnull(error);
    g_assert_cmpint(sv_error_get_from(error), ==, from);
    g_assert_cmpint(error->code, ==, code);
    g_assert_cmpstr(error->message, ==, msg);
    g_assert_cmpint(acts, ==, 0);
}

static void
finish_pending(const GError *error)
{
    g_assert_cmpuint(pending->len, ==, 1);
    sv_guest_job_done(g_ptr_array_steal_index(pending, 0), error);
}

static void
assert_events(int n, int event, int detail)
{
    g_assert_cmpuint(events->len, ==, (guint)n * 2);
    if (n) {
        g_assert_cmpint(g_array_index(events, int, 0), ==, event);
        g_assert_cmpint(g_array_index(events, int, 1), ==, detail);
    }
}

/* Flags are checked first (before the lookup), and their error names libvirt's function
 * of the procedure in the driver's error domain. */
static void
test_flags(void)
{
    Fixture f;

    fixture_set_up(&f, "web", TRUE);
    expect_refused(&f, SV_GUEST_DESTROY, SV_DOMAIN_DESTROY_REMOVE_LOGS, SV_FROM_QEMU,
                   SV_ERR_INVALID_ARG, "unsupported flags (0x2) in function fakeDomainDestroyFlags");
    expect_refused(&f, SV_GUEST_REBOOT, SV_DOMAIN_SHUTDOWN_ACPI_POWER_BTN, SV_FROM_QEMU,
                   SV_ERR_INVALID_ARG, "unsupported flags (0x1) in function fakeDomainReboot");
    expect_refused(&f, SV_GUEST_SHUTDOWN, SV_DOMAIN_SHUTDOWN_SIGNAL, SV_FROM_QEMU,
                   SV_ERR_INVALID_ARG, "unsupported flags (0x8) in function fakeDomainShutdownFlags");
    g_free(f.dom.name);
    f.dom.name = g_strdup("nobody");
    memset(f.dom.uuid, 0xab, sizeof(f.dom.uuid));
    expect_refused(&f, SV_GUEST_DESTROY, SV_DOMAIN_DESTROY_REMOVE_LOGS, SV_FROM_QEMU,
                   SV_ERR_INVALID_ARG, "unsupported flags (0x2) in function fakeDomainDestroyFlags");
    g_assert_cmpuint(events->len, ==, 0);
    fixture_tear_down(&f);
}

/* An inactive guest: the shared rule (DOMAIN), or the RUNNING rule in the error domain
 * the procedure's facts name; the driver's own rule with its own error. */
static void
test_not_active(void)
{
    Fixture f;

    fixture_set_up(&f, "web", FALSE);
    expect_refused(&f, SV_GUEST_SUSPEND, 0, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                   "Requested operation is not valid: domain is not running");
    expect_refused(&f, SV_GUEST_DESTROY, 0, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                   "Requested operation is not valid: domain is not running");
    expect_refused(&f, SV_GUEST_SHUTDOWN, 0, SV_FROM_LXC, SV_ERR_OPERATION_INVALID,
                   "Requested operation is not valid: domain is not running");
    fixture_tear_down(&f);

    fixture_set_up(&f, "locked", TRUE);
    expect_refused(&f, SV_GUEST_SUSPEND, 0, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                   "Requested operation is not valid: domain is locked");
    /* Running, but still starting: not running for the RUNNING rule. */
    f.obj->run_state = SV_RUN_STARTING;
    expect_refused(&f, SV_GUEST_REBOOT, 0, SV_FROM_DOMAIN, SV_ERR_OPERATION_INVALID,
                   "Requested operation is not valid: domain is not running");
    fixture_tear_down(&f);
}

/* Suspending a paused guest: success, nothing asked of the hypervisor, no event. */
static void
test_noop(void)
{
    Fixture f;
    g_autoptr(GError) error = NULL;
    gboolean noop = FALSE;

    fixture_set_up(&f, "web", TRUE);
    sv_domain_obj_set_state(f.obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_USER);
    f.obj->run_state = SV_RUN_PAUSED;
    g_assert_true(run_op(&f, SV_GUEST_SUSPEND, 0, &noop, &error));
    g_assert_no_error(error);
    g_assert_true(noop);
    g_assert_cmpint(acts, ==, 0);
    g_assert_cmpuint(events->len, ==, 0);
    g_assert_cmpint(f.obj->run_state, ==, SV_RUN_PAUSED);
    fixture_tear_down(&f);
}

/* The action completes before the hypervisor's own event (or it never comes): the
 * completion changes the state, one event. */
static void
test_suspend_event_after(void)
{
    Fixture f;
    g_autoptr(GError) error = NULL;
    gboolean noop;

    fixture_set_up(&f, "web", TRUE);
    g_assert_true(run_op(&f, SV_GUEST_SUSPEND, 0, &noop, &error));
    g_assert_false(noop);
    g_assert_cmpint(f.obj->run_state, ==, SV_RUN_PAUSING);
    g_assert_cmpuint(events->len, ==, 0);
    finish_pending(NULL);
    g_assert_cmpint(f.obj->state, ==, SV_DOMAIN_PAUSED);
    g_assert_cmpint(f.obj->reason, ==, SV_DOMAIN_PAUSED_USER);
    g_assert_cmpint(f.obj->run_state, ==, SV_RUN_PAUSED);
    assert_events(1, SV_DOMAIN_EVENT_SUSPENDED, SV_DOMAIN_EVENT_SUSPENDED_PAUSED);
    g_assert_cmpuint(dones->len, ==, 1);
    g_assert_null(dones->pdata[0]);
    fixture_tear_down(&f);
}

/* The hypervisor's event comes first (a driver's event handler sets the state and sends
 * it): the completion sends none, and makes the pause the client's. */
static void
test_suspend_event_before(void)
{
    Fixture f;
    g_autoptr(GError) error = NULL;
    gboolean noop;

    fixture_set_up(&f, "web", TRUE);
    g_assert_true(run_op(&f, SV_GUEST_SUSPEND, 0, &noop, &error));
    sv_domain_driver_set_state_event(&f.drv, f.obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_UNKNOWN,
                                     SV_DOMAIN_EVENT_SUSPENDED, SV_DOMAIN_EVENT_SUSPENDED_PAUSED);
    finish_pending(NULL);
    g_assert_cmpint(f.obj->state, ==, SV_DOMAIN_PAUSED);
    g_assert_cmpint(f.obj->reason, ==, SV_DOMAIN_PAUSED_USER);
    g_assert_cmpint(f.obj->run_state, ==, SV_RUN_PAUSED);
    assert_events(1, SV_DOMAIN_EVENT_SUSPENDED, SV_DOMAIN_EVENT_SUSPENDED_PAUSED);
    fixture_tear_down(&f);
}

/* Resume, both orders: one RESUMED event. */
static void
test_resume_once(void)
{
    for (int before = 0; before < 2; before++) {
        Fixture f;
        g_autoptr(GError) error = NULL;
        gboolean noop;

        fixture_set_up(&f, "web", TRUE);
        sv_domain_obj_set_state(f.obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_USER);
        f.obj->run_state = SV_RUN_PAUSED;
        g_assert_true(run_op(&f, SV_GUEST_RESUME, 0, &noop, &error));
        g_assert_false(noop);
        if (before)
            sv_domain_driver_set_state_event(&f.drv, f.obj, SV_DOMAIN_RUNNING,
                                             SV_DOMAIN_RUNNING_UNPAUSED, SV_DOMAIN_EVENT_RESUMED,
                                             SV_DOMAIN_EVENT_RESUMED_UNPAUSED);
        finish_pending(NULL);
        g_assert_cmpint(f.obj->state, ==, SV_DOMAIN_RUNNING);
        g_assert_cmpint(f.obj->run_state, ==, SV_RUN_RUNNING);
        assert_events(1, SV_DOMAIN_EVENT_RESUMED, SV_DOMAIN_EVENT_RESUMED_UNPAUSED);
        fixture_tear_down(&f);
    }
}

/* A pause that fails, at once or later: PAUSING is withdrawn, the state stays, no event,
 * the error reaches the caller once. */
static void
test_suspend_fails(void)
{
    for (int later = 0; later < 2; later++) {
        Fixture f;
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) hv = NULL;
        gboolean noop;

        fixture_set_up(&f, "web", TRUE);
        fail_now = !later;
        g_assert_true(run_op(&f, SV_GUEST_SUSPEND, 0, &noop, &error));
        if (later) {
            g_assert_cmpint(f.obj->run_state, ==, SV_RUN_PAUSING);
            sv_error_set(&hv, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "the hypervisor said no");
            finish_pending(hv);
        }
        g_assert_cmpint(f.obj->run_state, ==, SV_RUN_RUNNING);
        g_assert_cmpint(f.obj->state, ==, SV_DOMAIN_RUNNING);
        g_assert_cmpuint(events->len, ==, 0);
        g_assert_cmpuint(dones->len, ==, 1);
        g_assert_cmpstr(dones->pdata[0], ==, "operation failed: the hypervisor said no");
        fixture_tear_down(&f);
    }
}

/* A destroy whose kill fails: the stop it began is withdrawn, the guest runs on. */
static void
test_destroy_fails(void)
{
    Fixture f;
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) hv = NULL;
    gboolean noop;

    fixture_set_up(&f, "web", TRUE);
    g_assert_true(run_op(&f, SV_GUEST_DESTROY, SV_DOMAIN_DESTROY_GRACEFUL, &noop, &error));
    g_assert_true(sv_domain_run_destroying(f.obj));
    sv_error_set(&hv, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "it would not die");
    finish_pending(hv);
    g_assert_false(sv_domain_run_destroying(f.obj));
    g_assert_cmpint(f.obj->run_state, ==, SV_RUN_RUNNING);
    g_assert_cmpint(f.obj->state, ==, SV_DOMAIN_RUNNING);
    g_assert_cmpuint(events->len, ==, 0);
    g_assert_cmpstr(dones->pdata[0], ==, "operation failed: it would not die");
    fixture_tear_down(&f);
}

/* The destroy's cause (by GRACEFUL) and its kill's mode reach the driver's action, the
 * guest STOPPING; with REMOVE_LOGS the guest log goes once the guest is gone (the kill
 * done), and stays when the destroy fails. */
static void
test_destroy_cause_and_logs(void)
{
    static const struct {
        guint flags;
        gboolean fails;
        SvStopCause cause;
        gboolean log_stays;
    } cases[] = {
        {SV_DOMAIN_DESTROY_GRACEFUL | SV_DOMAIN_DESTROY_REMOVE_LOGS, FALSE,
         SV_STOP_DESTROY_GRACEFUL, FALSE},
        {SV_DOMAIN_DESTROY_REMOVE_LOGS, FALSE, SV_STOP_DESTROY, FALSE},
        {0, FALSE, SV_STOP_DESTROY, TRUE},
        {SV_DOMAIN_DESTROY_REMOVE_LOGS, TRUE, SV_STOP_DESTROY, TRUE},
    };
    g_autofree char *dir = g_dir_make_tmp("test-domain-control-XXXXXX", NULL);
    g_autofree char *log = g_build_filename(dir, "web.log", NULL);
    SvGuestOps ops = fake_ops; /* a driver that takes REMOVE_LOGS */

    g_assert_nonnull(dir);
    ops.procs[SV_GUEST_DESTROY].flags |= SV_DOMAIN_DESTROY_REMOVE_LOGS;
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        Fixture f;
        g_autoptr(GError) error = NULL;
        g_autoptr(GError) hv = NULL;
        gboolean noop;

        g_assert_true(g_file_set_contents(log, "a line\n", -1, NULL));
        fixture_set_up(&f, "web", TRUE);
        f.drv.guest = &ops;
        f.drv.log_dir = dir;
        g_assert_true(run_op(&f, SV_GUEST_DESTROY, cases[i].flags, &noop, &error));
        g_assert_cmpint(destroy_saw_state, ==, SV_RUN_STOPPING);
        g_assert_cmpint(destroy_saw_cause, ==, cases[i].cause);
        g_assert_cmpint(destroy_saw_graceful, ==, cases[i].cause == SV_STOP_DESTROY_GRACEFUL);
        g_assert_true(g_file_test(log, G_FILE_TEST_EXISTS)); /* the guest is not gone yet */
        if (cases[i].fails)
            sv_error_set(&hv, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "it would not die");
        finish_pending(hv);
        g_assert_cmpint(g_file_test(log, G_FILE_TEST_EXISTS), ==, cases[i].log_stays);
        g_assert_cmpint(sv_domain_run_destroying(f.obj), ==, !cases[i].fails);
        fixture_tear_down(&f);
    }
    g_unlink(log);
    g_rmdir(dir);
}

/* A completion after the run ended (the guest went meanwhile) touches nothing of it and
 * still answers. */
static void
test_run_ended(void)
{
    Fixture f;
    g_autoptr(GError) error = NULL;
    gboolean noop;

    fixture_set_up(&f, "web", TRUE);
    g_assert_true(run_op(&f, SV_GUEST_SUSPEND, 0, &noop, &error));
    sv_domain_run_teardown(f.obj, &(SvRunEnd){.reason = SV_DOMAIN_SHUTOFF_DESTROYED,
                                              .detail = SV_DOMAIN_EVENT_STOPPED_DESTROYED});
    g_array_set_size(events, 0);
    finish_pending(NULL);
    g_assert_cmpint(f.obj->state, ==, SV_DOMAIN_SHUTOFF);
    g_assert_cmpuint(events->len, ==, 0);
    g_assert_cmpuint(dones->len, ==, 1);
    fixture_tear_down(&f);
}

/* A procedure without an action gets no handler (the dispatcher's answer for a procedure
 * the driver does not serve); the others do. */
static void
test_not_served(void)
{
    Fixture f;
    SvRemoteHandlers h = {0};

    fixture_set_up(&f, "web", TRUE);
    sv_domain_control_install(&f.drv, &h);
    g_assert_null(h.domain_reset);
    g_assert_nonnull(h.domain_suspend);
    g_assert_nonnull(h.domain_resume);
    g_assert_nonnull(h.domain_destroy);
    g_assert_nonnull(h.domain_destroy_flags);
    g_assert_nonnull(h.domain_shutdown);
    g_assert_nonnull(h.domain_shutdown_flags);
    g_assert_nonnull(h.domain_reboot);
    fixture_tear_down(&f);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    pending = g_ptr_array_new();
    events = g_array_new(FALSE, FALSE, sizeof(int));
    dones = g_ptr_array_new_with_free_func(g_free);
    test_warnings_capture();
    g_test_add_func("/domain-control/flags", test_flags);
    g_test_add_func("/domain-control/not-active", test_not_active);
    g_test_add_func("/domain-control/noop", test_noop);
    g_test_add_func("/domain-control/suspend-event-after", test_suspend_event_after);
    g_test_add_func("/domain-control/suspend-event-before", test_suspend_event_before);
    g_test_add_func("/domain-control/resume-once", test_resume_once);
    g_test_add_func("/domain-control/suspend-fails", test_suspend_fails);
    g_test_add_func("/domain-control/destroy-fails", test_destroy_fails);
    g_test_add_func("/domain-control/destroy-cause-and-logs", test_destroy_cause_and_logs);
    g_test_add_func("/domain-control/run-ended", test_run_ended);
    g_test_add_func("/domain-control/not-served", test_not_served);
    return g_test_run();
}
