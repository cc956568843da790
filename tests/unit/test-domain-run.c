/* test-domain-run.c: the state setter the drivers share (the status file follows every
 * change, a failed write is logged), a run's data and what the setter releases, the end of
 * a start (record then release, start done, a failed start), the one teardown of a run and
 * AUTODESTROY when the starting client goes, with a fake driver. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "domain/domain_control.h"
#include "domain/domain_driver.h"
#include "domain/domain_run.h"
#include "rpc/server-internal.h" /* a waiting call without a dispatcher: struct SvCall */
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

/* ---------------------------------------------------------------- a fake driver */

/* Its private data of a run: the engine's part first, as every driver's. */
typedef struct {
    SvDomainRun run;
    int facts;
    int log_fd; /* the guest log, for facts that name it */
} FakePriv;

/* What the engine asked of the fake driver, in order. */
static GPtrArray *steps;

static void
step(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void
step(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(steps, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static void
fake_dispose(gpointer priv)
{
    (void)priv;
    step("dispose");
}

static void
fake_release(SvDomainObj *obj)
{
    step("release active=%d", sv_domain_obj_is_active(obj));
}

static GError *
fake_start_error(SvDomainObj *obj, GError *cause)
{
    step("start-error %s", cause ? cause->message : "none");
    g_prefix_error(&cause, "%s failed: ", obj->def->name);
    return cause;
}

static const SvRunFacts fake_facts = {
    .dispose = fake_dispose,
    .release = fake_release,
    .start_error = fake_start_error,
};

static void
fake_status(SvDomainObj *obj, SvStoreDoneFunc done, gpointer data)
{
    step("status %s/%d run=%d", sv_domain_state_to_string(obj->state), obj->reason,
         obj->priv != NULL);
    if (done)
        done(NULL, data);
}

static void
fake_emit(SvDomainDriver *drv, SvDomainObj *obj, int event, int detail)
{
    (void)drv;
    (void)obj;
    step("event %d/%d", event, detail);
}

static void
fake_hold(gpointer holder, gboolean on)
{
    SvDomainObj *obj = holder;

    step("hold %d restored=%d", on, obj->new_def == NULL);
}

static gboolean
fake_start(SvDomainObj *obj, SvCall *call, guint flags, GError **error)
{
    (void)call;
    (void)flags;
    (void)error;
    step("start active=%d run=%d", sv_domain_obj_is_active(obj), obj->priv != NULL);
    return TRUE;
}

static const SvGuestOps fake_guest = {.start = fake_start};

/* A fake driver (its list is drv.list) and the directory of its store. */
typedef struct {
    SvDomainDriver drv;
    char *dir;
} Fake;

static void
fake_init(Fake *f)
{
    f->dir = g_dir_make_tmp("domain-run-XXXXXX", NULL);
    f->drv = (SvDomainDriver){
        .from = SV_FROM_QEMU,
        .list = sv_domain_list_new(),
        .store = sv_domain_store_new(f->dir),
        .save_status = fake_status,
        .run_facts = &fake_facts,
        .hold = fake_hold,
        .on_emit = fake_emit,
        .guest = &fake_guest,
        .server = sv_server_new("test", NULL),
    };
    g_ptr_array_set_size(steps, 0);
    g_ptr_array_set_size(test_warnings, 0);
}

/* The store's directory is left empty (no guest log a destroy should have removed). */
static void
fake_clear(Fake *f)
{
    g_autofree char *dir = f->dir;

    sv_domain_store_flush(f->drv.store);
    sv_domain_store_free(f->drv.store);
    sv_domain_list_free(f->drv.list);
    sv_server_free(f->drv.server);
    g_assert_cmpint(rmdir(dir), ==, 0);
}

/* A running guest of f named name (persistent or not), on its live copy of the definition,
 * with a run of the fake driver. */
static SvDomainObj *
fake_running(Fake *f, const char *name, gboolean persistent)
{
    SvDomainObj *obj = sv_domain_list_add(f->drv.list, test_domain_def("kvm", name), persistent);

    if (persistent) {
        obj->new_def = obj->def;
        obj->def = sv_domain_def_copy(obj->new_def);
    }
    sv_domain_list_assign_id(f->drv.list, obj);
    sv_domain_run_new(&f->drv, obj, sizeof(FakePriv));
    f->drv.holder = obj;
    sv_domain_run_change(obj, SV_RUN_STARTING, SV_STOP_NONE);
    sv_domain_obj_set_state(obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_STARTING_UP);
    return obj;
}

/* A deferred call of a client that has gone away: answering it only finishes it (the
 * client's count of waiting calls drops), nothing is written. */
static SvCall *
gone_client_call(SvServer *srv, SvClient **ret_client)
{
    int sv[2];
    SvClient *c;
    SvCall call = {0};

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    c = sv_client_ref(sv_server_add_client_fd(srv, sv[1], FALSE));
    close(sv[0]);
    sv_client_close(c, "gone");
    call.client = c;
    *ret_client = c;
    return sv_call_defer(&call);
}

static void
assert_steps(const char *const *want)
{
    guint n = g_strv_length((char **)want);

    for (guint i = 0; i < MIN(n, steps->len); i++)
        g_assert_cmpstr(steps->pdata[i], ==, want[i]);
    g_assert_cmpuint(steps->len, ==, n);
}

/* ---------------------------------------------------------------- the teardown */

/* A guest whose on_crash=restart stop ended: in one order, the driver's release (still
 * active), inactive and SHUTOFF/CRASHED with the run and its data gone before the status
 * file follows (removed), STOPPED/CRASHED, the persistent definition back by the time the
 * daemon's hold goes, then the restart through the driver's start, the guest inactive;
 * the destroy call waiting is answered once the status file is gone, and its log removed. */
static void
test_teardown_order(void)
{
    Fake f;
    SvDomainObj *obj;
    SvDomainDef *on_disk;
    SvClient *client;
    g_autofree char *log = NULL;
    static const char *const want[] = {
        "release active=1", "dispose", "status shutoff/3 run=0", "event 5/2",
        "hold 0 restored=1", "start active=0 run=0", NULL};

    fake_init(&f);
    obj = fake_running(&f, "web", TRUE);
    on_disk = obj->new_def;
    sv_domain_run_start_finished(obj);
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_CRASH_RESTART);
    log = g_build_filename(f.dir, "web.log", NULL);
    g_assert_true(g_file_set_contents(log, "x", 1, NULL));
    sv_domain_run_add_stop_call(sv_domain_run_of(obj), gone_client_call(f.drv.server, &client),
                                log);
    g_assert_cmpuint(client->pending, ==, 1);
    g_ptr_array_set_size(steps, 0);

    sv_domain_run_teardown(obj, &(SvRunEnd){.reason = SV_DOMAIN_SHUTOFF_SHUTDOWN,
                                            .detail = SV_DOMAIN_EVENT_STOPPED_SHUTDOWN});
    assert_steps(want);
    g_assert_true(obj->def == on_disk);
    g_assert_cmpint(obj->run_state, ==, SV_RUN_GONE);
    g_assert_true(sv_domain_list_find_by_name(f.drv.list, "web") == obj);
    g_assert_false(g_file_test(log, G_FILE_TEST_EXISTS));
    sv_domain_store_flush(f.drv.store); /* the reply waits for the status file */
    g_assert_cmpuint(client->pending, ==, 0);
    sv_client_unref(client);
    fake_clear(&f);
}

/* A transient guest is removed once gone, and not started again for CRASH_RESTART unless
 * the driver says transient guests restart (virtxend); a driver's decided end wins over
 * the stop cause, and without a cause the driver's is used. */
static void
test_teardown_transient(void)
{
    Fake f;
    SvDomainObj *obj;
    SvRunFacts restarting = fake_facts;
    static const char *const removed[] = {
        "release active=1", "dispose", "status shutoff/1 run=0", "event 5/0",
        "hold 0 restored=1", NULL};
    static const char *const restarted[] = {
        "release active=1", "dispose", "status shutoff/3 run=0", "event 5/2",
        "hold 0 restored=1", "start active=0 run=0", NULL};

    fake_init(&f);
    obj = fake_running(&f, "tmp", FALSE);
    sv_domain_run_start_finished(obj);
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_CRASH_RESTART);
    g_ptr_array_set_size(steps, 0);
    /* The driver decided SHUTDOWN when the end was reported: it wins over the cause. */
    sv_domain_run_teardown(obj, &(SvRunEnd){.reason = SV_DOMAIN_SHUTOFF_SHUTDOWN,
                                            .detail = SV_DOMAIN_EVENT_STOPPED_SHUTDOWN,
                                            .decided = TRUE});
    assert_steps(removed);
    g_assert_null(sv_domain_list_find_by_name(f.drv.list, "tmp"));

    f.drv.run_facts = &restarting;
    restarting.restart_transient = TRUE;
    obj = fake_running(&f, "tmp2", FALSE);
    sv_domain_run_start_finished(obj);
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_CRASH_RESTART);
    g_ptr_array_set_size(steps, 0);
    sv_domain_run_teardown(obj, &(SvRunEnd){.reason = SV_DOMAIN_SHUTOFF_DESTROYED,
                                            .detail = SV_DOMAIN_EVENT_STOPPED_DESTROYED});
    assert_steps(restarted);
    g_assert_nonnull(sv_domain_list_find_by_name(f.drv.list, "tmp2"));

    /* No cause: the driver's end (xl destroy behind our back: DESTROYED). */
    sv_domain_list_assign_id(f.drv.list, obj);
    sv_domain_run_new(&f.drv, obj, sizeof(FakePriv));
    sv_domain_run_change(obj, SV_RUN_RUNNING, SV_STOP_NONE);
    sv_domain_obj_set_state(obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_BOOTED);
    g_ptr_array_set_size(steps, 0);
    sv_domain_run_teardown(obj, &(SvRunEnd){.reason = SV_DOMAIN_SHUTOFF_DESTROYED,
                                            .detail = SV_DOMAIN_EVENT_STOPPED_DESTROYED});
    g_assert_cmpstr(steps->pdata[3], ==, "event 5/1");
    g_assert_null(sv_domain_list_find_by_name(f.drv.list, "tmp2"));
    fake_clear(&f);
}

/* A start that fails: FAILED and no STOPPED whatever the driver's end, the driver shapes
 * the first cause into the call's error, a start nobody waits on is logged with it; no
 * restart, even with on_crash's cause. */
static void
test_teardown_failed_start(void)
{
    Fake f;
    SvDomainObj *obj;
    GError *cause = NULL;
    static const char *const want[] = {
        "start-error internal error: first", "release active=1", "dispose",
        "status shutoff/6 run=0", "hold 0 restored=1", NULL};

    fake_init(&f);
    obj = fake_running(&f, "web", TRUE);
    sv_error_set(&cause, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "first");
    sv_domain_run_start_failed(obj, cause);
    cause = NULL;
    sv_error_set(&cause, SV_FROM_QEMU, SV_ERR_INTERNAL_ERROR, "second");
    sv_domain_run_start_failed(obj, cause); /* the first cause is the one told */
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_CRASH_RESTART);
    g_ptr_array_set_size(steps, 0);
    sv_domain_run_teardown(obj, &(SvRunEnd){.reason = SV_DOMAIN_SHUTOFF_CRASHED,
                                            .detail = SV_DOMAIN_EVENT_STOPPED_CRASHED});
    assert_steps(want);
    g_assert_cmpint(obj->reason, ==, SV_DOMAIN_SHUTOFF_FAILED);
    g_assert_cmpuint(test_warnings->len, ==, 1);
    g_assert_cmpstr(test_warnings->pdata[0], ==,
                    "domain web: web failed: internal error: first");
    fake_clear(&f);
}

/* A driver that logs a failed start's end (virtlxcd) writes "shutting down, reason=failed"
 * in the guest log, unless the start failed before any process of the guest existed:
 * nothing shut down then, and the log says only what the driver wrote of its start. */
static void
test_teardown_never_ran(void)
{
    Fake f;
    SvRunFacts logging = fake_facts;
    g_autofree char *dir = g_dir_make_tmp("domain-run-log-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "web.log", NULL);
    g_autofree char *text = NULL;

    logging.log_fd_offset = G_STRUCT_OFFSET(FakePriv, log_fd);
    logging.log_failed_start = TRUE;
    fake_init(&f);
    f.drv.run_facts = &logging;
    for (int never_ran = 1; never_ran >= 0; never_ran--) {
        SvDomainObj *obj = fake_running(&f, "web", TRUE);
        FakePriv *priv = obj->priv;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        g_assert_cmpint(fd, >=, 0);
        priv->log_fd = fd; /* the fake's dispose leaves it open */
        sv_domain_run_teardown(obj, &(SvRunEnd){.never_ran = never_ran});
        g_assert_cmpint(obj->reason, ==, SV_DOMAIN_SHUTOFF_FAILED);
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        if (never_ran)
            g_assert_cmpstr(text, ==, "");
        else
            g_assert_true(g_str_has_suffix(text, ": shutting down, reason=failed\n"));
        g_clear_pointer(&text, g_free);
        close(fd);
    }
    g_assert_cmpuint(test_warnings->len, ==, 2); /* the two failed starts, nobody waiting */
    g_assert_cmpint(unlink(path), ==, 0);
    g_assert_cmpint(rmdir(dir), ==, 0);
    fake_clear(&f);
}

/* A destroy that did not come about fails every call joined to it, and their logs stay;
 * the guest lives on, and its end later answers only the calls that came after. */
static void
test_fail_stop_calls(void)
{
    Fake f;
    SvDomainObj *obj;
    SvClient *first, *second, *later;
    g_autofree char *log = NULL;
    g_autoptr(GError) error = NULL;

    fake_init(&f);
    obj = fake_running(&f, "web", TRUE);
    sv_domain_run_start_finished(obj);
    log = g_build_filename(f.dir, "web.log", NULL);
    g_assert_true(g_file_set_contents(log, "x", 1, NULL));
    sv_domain_run_add_stop_call(sv_domain_run_of(obj), gone_client_call(f.drv.server, &first),
                                log);
    sv_domain_run_add_stop_call(sv_domain_run_of(obj), gone_client_call(f.drv.server, &second),
                                NULL);
    sv_error_set(&error, SV_FROM_QEMU, SV_ERR_OPERATION_FAILED, "it outlived its kill");
    sv_domain_run_fail_stop_calls(sv_domain_run_of(obj), error);
    g_assert_cmpuint(first->pending, ==, 0);
    g_assert_cmpuint(second->pending, ==, 0);
    g_assert_true(g_file_test(log, G_FILE_TEST_EXISTS));
    g_assert_cmpuint(sv_domain_run_of(obj)->stop_calls->len, ==, 0);

    sv_domain_run_add_stop_call(sv_domain_run_of(obj), gone_client_call(f.drv.server, &later),
                                log);
    sv_domain_run_teardown(obj, &(SvRunEnd){.reason = SV_DOMAIN_SHUTOFF_DESTROYED,
                                            .detail = SV_DOMAIN_EVENT_STOPPED_DESTROYED});
    g_assert_false(g_file_test(log, G_FILE_TEST_EXISTS));
    sv_domain_store_flush(f.drv.store); /* the reply waits for the status file */
    g_assert_cmpuint(later->pending, ==, 0);
    sv_client_unref(first);
    sv_client_unref(second);
    sv_client_unref(later);
    fake_clear(&f);
}

/* ---------------------------------------------------------------- the setter's releases */

static gboolean
never(gpointer data)
{
    (void)data;
    g_assert_not_reached();
    return G_SOURCE_REMOVE;
}

static void
never_expires(SvDomainObj *obj, GError *error)
{
    (void)obj;
    (void)error;
    g_assert_not_reached();
}

/* The start's timer lasts while the start does (a destroy during it still is one), goes
 * when the start fails or succeeds; GONE ends the run and frees its data. */
static void
test_releases(void)
{
    Fake f;
    SvDomainObj *obj;
    SvDomainRun *run;
    gpointer key;

    fake_init(&f);
    obj = fake_running(&f, "web", TRUE);
    run = sv_domain_run_of(obj);
    key = sv_domain_obj_run_key(obj);
    sv_domain_run_arm_start_timer(obj, 3600 * 1000, "never", never_expires);
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_DESTROY);
    g_assert_cmpuint(run->start_timer, !=, 0); /* still the start's: it may fail yet */
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_START_FAILED);
    g_assert_cmpuint(run->start_timer, ==, 0);

    run->start_timer = g_timeout_add_seconds(3600, never, NULL);
    sv_domain_run_withdraw_destroy(&f.drv, obj); /* a failed start stays one */
    sv_domain_run_start_done(obj, FALSE);         /* the guest ran after all */
    g_assert_cmpuint(run->start_timer, ==, 0);

    g_ptr_array_set_size(steps, 0);
    sv_domain_run_change(obj, SV_RUN_GONE, SV_STOP_NONE);
    g_assert_cmpuint(steps->len, ==, 1);
    g_assert_cmpstr(steps->pdata[0], ==, "dispose");
    g_assert_null(obj->priv);
    g_assert_null(sv_domain_list_find_attached(f.drv.list, key));
    fake_clear(&f);
}

static SvDomainObj *expired_obj;

static void
record_expired(SvDomainObj *obj, GError *error)
{
    g_assert_error(error, sv_error_quark(SV_FROM_QEMU), SV_ERR_OPERATION_TIMEOUT);
    g_assert_cmpstr(error->message, ==, "Timed out during operation: nothing within 1 ms");
    g_error_free(error);
    g_assert_cmpuint(sv_domain_run_of(obj)->start_timer, ==, 0); /* spent */
    expired_obj = obj;
}

/* The start's deadline tells the driver, with the guest found again by its run. */
static void
test_start_timer(void)
{
    Fake f;
    SvDomainObj *obj;

    fake_init(&f);
    obj = fake_running(&f, "web", TRUE);
    expired_obj = NULL;
    sv_domain_run_arm_start_timer(obj, 1, "nothing within", record_expired);
    while (!expired_obj)
        g_main_context_iteration(NULL, TRUE);
    g_assert_true(expired_obj == obj);
    fake_clear(&f);
}

/* ---------------------------------------------------------------- the end of a start */

/* A start that succeeds: the waiting call is the start's, paused when its flags say so,
 * and its timer goes. */
static void
test_start_finished(void)
{
    Fake f;
    SvDomainObj *obj;
    SvDomainRun *run;
    SvClient *client;

    fake_init(&f);
    obj = fake_running(&f, "web", TRUE);
    run = sv_domain_run_of(obj);
    run->start_flags = SV_DOMAIN_START_PAUSED;
    run->start_call = gone_client_call(f.drv.server, &client);
    run->start_timer = g_timeout_add_seconds(3600, never, NULL);
    sv_domain_run_start_finished(obj);
    g_assert_cmpint(obj->run_state, ==, SV_RUN_PAUSED);
    g_assert_cmpint(obj->state, ==, SV_DOMAIN_PAUSED);
    g_assert_cmpint(obj->reason, ==, SV_DOMAIN_PAUSED_USER);
    g_assert_null(run->start_call);
    g_assert_cmpuint(run->start_timer, ==, 0);
    sv_domain_store_flush(f.drv.store);
    g_assert_cmpuint(client->pending, ==, 0); /* answered once the status was written */
    sv_client_unref(client);
    fake_clear(&f);
}

static SvProcess *held_child;

static SvProcess *
fake_held(SvDomainObj *obj)
{
    (void)obj;
    return held_child;
}

static void
fake_abandon(SvDomainObj *obj, const GError *error)
{
    (void)obj;
    step("abandon %s", error ? error->message : "none");
}

static void
fake_release_failed(SvDomainObj *obj, GError *error)
{
    (void)obj;
    step("release-failed %s", error->message);
    g_error_free(error);
}

static void
fake_released(SvDomainObj *obj)
{
    (void)obj;
    step("released");
}

static const SvRunReleaseFacts release_facts = {
    fake_held, fake_abandon, fake_release_failed, fake_released};

static GError *record_error;

static void
failing_status(SvDomainObj *obj, SvStoreDoneFunc done, gpointer data)
{
    (void)obj;
    done(record_error, data);
}

/* The held child is let go only once its record is on disk, and only while the start goes
 * on: a record that fails or a destroy under way abandons it; a start with nothing held
 * left (its kill under way) does nothing. */
static void
test_record_then_release(void)
{
    Fake f;
    SvDomainObj *obj;
    static const char *const want[] = {
        "abandon cannot write", "abandon none", NULL};

    fake_init(&f);
    f.drv.save_status = failing_status;
    obj = fake_running(&f, "web", TRUE);
    held_child = NULL; /* the start is ending: nothing to do */
    record_error = g_error_new_literal(G_FILE_ERROR, G_FILE_ERROR_NOSPC, "cannot write");
    sv_domain_run_record_then_release(obj, &release_facts);
    g_assert_cmpuint(steps->len, ==, 0);
    /* Never dereferenced on these paths: the child is never let go. */
    held_child = (SvProcess *)&f;
    sv_domain_run_record_then_release(obj, &release_facts);
    g_clear_error(&record_error);
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_DESTROY);
    sv_domain_run_record_then_release(obj, &release_facts);
    assert_steps(want);
    fake_clear(&f);
}

/* ---------------------------------------------------------------- AUTODESTROY */

static void
fake_destroy_quietly(SvDomainObj *obj, const char *why)
{
    step("destroy %s (%s)", obj->def->name, why);
    sv_domain_run_change(obj, SV_RUN_STOPPING, SV_STOP_DESTROY);
}

static const SvGuestOps autodestroy_guest = {
    .start = fake_start,
    .destroy_quietly = fake_destroy_quietly,
};

/* A connected client of srv; *ret_peer is the other end. (transfer full) */
static SvClient *
connected_client(SvServer *srv, int *ret_peer)
{
    int sv[2];

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    *ret_peer = sv[0];
    return sv_client_ref(sv_server_add_client_fd(srv, sv[1], FALSE));
}

/* A start takes its client from its call when its flags say AUTODESTROY. When that client
 * goes (the server's client_closed, registered by the driver's install), each guest it
 * started so is destroyed through the driver's fact, once; a guest of another client, one
 * it started without AUTODESTROY, or one being destroyed already is not. */
static void
test_autodestroy(void)
{
    Fake f;
    SvRemoteHandlers h = {0};
    SvClient *mine, *other;
    int peers[2];
    SvDomainObj *a, *b, *c, *d;
    guint64 id;
    static const char *const want[] = {"destroy a (its AUTODESTROY client went away)", NULL};
    static const char *const want_b[] = {"destroy a (its AUTODESTROY client went away)",
                                         "destroy b (its AUTODESTROY client went away)", NULL};

    fake_init(&f);
    sv_domain_driver_install_lifecycle(&f.drv, &autodestroy_guest, &h);
    mine = connected_client(f.drv.server, &peers[0]);
    other = connected_client(f.drv.server, &peers[1]);
    id = sv_client_get_id(mine);
    a = fake_running(&f, "a", FALSE);
    sv_domain_run_take_start(a, &(SvCall){.client = mine}, SV_DOMAIN_START_AUTODESTROY);
    g_assert_cmpuint(sv_domain_run_of(a)->autodestroy_client, ==, id);
    g_assert_nonnull(sv_domain_run_of(a)->start_call);
    b = fake_running(&f, "b", TRUE);
    sv_domain_run_of(b)->autodestroy_client = sv_client_get_id(other);
    c = fake_running(&f, "c", TRUE);
    sv_domain_run_of(c)->autodestroy_client = id;
    sv_domain_run_change(c, SV_RUN_STOPPING, SV_STOP_DESTROY); /* a client's destroy */
    d = fake_running(&f, "d", TRUE);
    sv_domain_run_take_start(d, &(SvCall){.client = mine}, 0);
    g_assert_cmpuint(sv_domain_run_of(d)->autodestroy_client, ==, 0);
    g_ptr_array_set_size(steps, 0);

    sv_client_close(mine, "gone");
    assert_steps(want);
    g_assert_true(sv_domain_run_stopping(a, SV_STOP_DESTROY));
    g_assert_cmpint(b->run_state, ==, SV_RUN_STARTING);
    g_assert_cmpint(d->run_state, ==, SV_RUN_STARTING);
    sv_domain_driver_client_gone(&f.drv, id); /* told again: a is being destroyed */
    assert_steps(want);
    sv_client_close(other, "gone"); /* b was the other client's */
    assert_steps(want_b);
    close(peers[0]);
    close(peers[1]);
    fake_clear(&f); /* the start calls of mine fail with the daemon's exit */
    sv_client_unref(mine);
    sv_client_unref(other);
}

/* ---------------------------------------------------------------- the status file */

/* The status facts of a fake driver: its files in the store's directory, a guest that
 * exists while its FakePriv.facts says so, its process and its own attribute and element. */
static const SvStatusStyle status_style = {
    .from = SV_FROM_QEMU,
    .process = "proc",
    .autodestroy = TRUE,
};

static const SvStatusStyle status_style_start = {
    .from = SV_FROM_QEMU,
    .process = "proc",
    .start_shut_off = TRUE,
};

static char *status_dir_path;

static const char *
fake_status_dir(SvDomainObj *obj)
{
    (void)obj;
    return status_dir_path;
}

static gboolean
fake_status_exists(SvDomainObj *obj)
{
    return ((FakePriv *)obj->priv)->facts != 0;
}

static void
fake_status_own(SvDomainObj *obj, SvStatusCommon *c, SvStatusOwn *own)
{
    (void)obj;
    c->pid = 4242;
    c->start_time = 7;
    own->attrs = g_strdup(" mine='1'");
    own->process_attrs = g_strdup(" sock='/run/s'");
    own->children = g_strdup("  <own path='/run/o'/>\n");
}

static void
count_done(const GError *error, gpointer data)
{
    g_assert_no_error(error);
    (*(int *)data)++;
}

/* Write obj's status file through the driver's save_status and wait for it. */
static void
save_and_wait(Fake *f, SvDomainObj *obj)
{
    int done = 0;

    f->drv.save_status(obj, count_done, &done);
    sv_domain_store_flush(f->drv.store);
    g_assert_cmpint(done, ==, 1);
}

/* The one save of the drivers (their default save_status): a guest that runs gets the
 * common part (state, persistence, AUTODESTROY, the start over) and the driver's own (its
 * process, attributes and elements), read back by the strict reader; a guest shut off or
 * whose process is gone has its file removed; with start_shut_off, a start under way is
 * recorded while the guest is still shut off. */
static void
test_save_status(void)
{
    Fake f;
    SvRunFacts facts = fake_facts;
    SvRemoteHandlers h = {0};
    SvDomainObj *obj;
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    g_autoptr(SvStatus) st = NULL;
    g_autoptr(GError) error = NULL;

    fake_init(&f);
    status_dir_path = f.dir;
    facts.status_style = &status_style;
    facts.status_dir = fake_status_dir;
    facts.status_exists = fake_status_exists;
    facts.status_own = fake_status_own;
    f.drv.run_facts = &facts;
    f.drv.save_status = NULL;
    sv_domain_driver_install(&f.drv, &h);
    g_assert_true(f.drv.save_status == sv_domain_run_save_status);
    obj = fake_running(&f, "web", TRUE);
    path = g_strdup_printf("%s/web.xml", f.dir);
    ((FakePriv *)obj->priv)->facts = 1;
    sv_domain_run_of(obj)->autodestroy_client = 3;
    sv_domain_run_change(obj, SV_RUN_RUNNING, SV_STOP_NONE);
    sv_domain_obj_set_state(obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_BOOTED);

    save_and_wait(&f, obj);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
g_assert_true(g_str_has_prefix(text, "<domstatus state='running' reason='1' statetime='"));
    g_assert_nonnull(strstr(text, "' persistent='1' starting='0' autodestroy='1' mine='1'>\n"
                                  "  <proc pid='4242' starttime='7' sock='/run/s'/>\n"
                                  "  <own path='/run/o'/>\n<domain type='kvm' id='1'>\n"));
    st = sv_status_load(path, &status_style, &error);
    g_assert_no_error(error);
    g_assert_cmpint(st->c.state, ==, SV_DOMAIN_RUNNING);
    g_assert_true(st->c.persistent && st->c.autodestroy && !st->c.starting);
    g_assert_cmpint(st->c.pid, ==, 4242);
    g_assert_cmpint(st->id, ==, obj->id);

    /* the guest's process is gone: no file */
    ((FakePriv *)obj->priv)->facts = 0;
    save_and_wait(&f, obj);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    /* shut off, its process still there: no file */
    ((FakePriv *)obj->priv)->facts = 1;
    save_and_wait(&f, obj);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    sv_domain_obj_set_state(obj, SV_DOMAIN_SHUTOFF, SV_DOMAIN_SHUTOFF_DESTROYED);
    save_and_wait(&f, obj);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

    /* a start recorded before its guest exists, still shut off */
    facts.status_style = &status_style_start;
    ((FakePriv *)obj->priv)->facts = 0;
    sv_domain_run_change(obj, SV_RUN_STARTING, SV_STOP_NONE);
    save_and_wait(&f, obj);
    g_clear_pointer(&text, g_free);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_true(g_str_has_prefix(text, "<domstatus state='shutoff' reason='2' statetime='"));
    g_assert_nonnull(strstr(text, "' persistent='1' starting='1' mine='1'>\n"));
    g_clear_pointer(&st, sv_status_free);
    st = sv_status_load(path, &status_style_start, &error);
    g_assert_no_error(error);
    g_assert_true(st->c.starting);
    /* its start over without a guest: no file */
    sv_domain_run_change(obj, SV_RUN_RUNNING, SV_STOP_NONE);
    save_and_wait(&f, obj);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

    g_hash_table_unref(f.drv.pending);
    fake_clear(&f);
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
    steps = g_ptr_array_new_with_free_func(g_free);
    test_warnings_capture();
    g_test_add_func("/domain-run/set-state", test_set_state);
    g_test_add_func("/domain-run/start-done", test_start_done);
    g_test_add_func("/domain-run/teardown-order", test_teardown_order);
    g_test_add_func("/domain-run/teardown-transient", test_teardown_transient);
    g_test_add_func("/domain-run/teardown-failed-start", test_teardown_failed_start);
    g_test_add_func("/domain-run/teardown-never-ran", test_teardown_never_ran);
    g_test_add_func("/domain-run/fail-stop-calls", test_fail_stop_calls);
    g_test_add_func("/domain-run/releases", test_releases);
    g_test_add_func("/domain-run/start-timer", test_start_timer);
    g_test_add_func("/domain-run/start-finished", test_start_finished);
    g_test_add_func("/domain-run/record-then-release", test_record_then_release);
    g_test_add_func("/domain-run/autodestroy", test_autodestroy);
    g_test_add_func("/domain-run/save-status", test_save_status);
    g_test_add_func("/domain-run/shutoff-reasons", test_shutoff_reasons);
    return g_test_run();
}
