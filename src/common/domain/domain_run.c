/* domain_run.c: what the drivers share of a guest's run: the state setter of what clients
 * see, with the status file following every change, the run's data, the end of a start
 * (record then release, start done) and the one teardown once the guest is gone. */
#include "domain/domain_run.h"

#include "domain/domain_control.h"
#include "domain/domain_helper.h"

#include <unistd.h>

#include "util/error.h"
#include "util/guest_log.h"

static void
save_done(const GError *error, gpointer data)
{
    char *name = data;

    if (error)
        g_warning("domain %s: cannot write its status file: %s", name, error->message);
    g_free(name);
}

/* Whether obj has a status file: its guest exists and is not shut off, or its start is
 * under way before it does (a style's start_shut_off). */
static gboolean
status_recorded(const SvRunFacts *f, SvDomainObj *obj)
{
    if (!obj->priv)
        return FALSE;
    if (f->status_style->start_shut_off && sv_domain_run_in_start(obj))
        return TRUE;
    return obj->state != SV_DOMAIN_SHUTOFF && f->status_exists(obj);
}

void
sv_domain_run_save_status(SvDomainObj *obj, SvStoreDoneFunc done, gpointer data)
{
    SvDomainDriver *drv = sv_domain_driver_of_obj(obj);
    const SvRunFacts *f = drv->run_facts;
    g_autofree char *path = g_strdup_printf("%s/%s.xml", f->status_dir(obj), obj->def->name);
    SvStatusCommon common = sv_status_common_of(obj);
    SvStatusOwn own = {NULL, NULL, NULL};
    g_autofree char *text = NULL;

    if (!status_recorded(f, obj)) {
        sv_domain_store_remove_file_async(drv->store, path, done, data);
        return;
    }
    common.starting = sv_domain_run_in_start(obj);
    common.autodestroy = sv_domain_run_of(obj)->autodestroy_client != 0;
    f->status_own(obj, &common, &own);
    text = sv_status_format(f->status_style, &common, &own, obj->def, obj->id);
    g_free((char *)own.attrs);
    g_free((char *)own.process_attrs);
    g_free((char *)own.children);
    sv_domain_store_write_file_async(drv->store, path, text, done, data);
}

void
sv_domain_driver_save_status(SvDomainDriver *drv, SvDomainObj *obj)
{
    drv->save_status(obj, save_done, g_strdup(obj->def->name));
}

void
sv_domain_driver_set_state(SvDomainDriver *drv, SvDomainObj *obj, int state, int reason)
{
    sv_domain_obj_set_state(obj, state, reason);
    sv_domain_run_follow(obj, state);
    sv_domain_driver_save_status(drv, obj);
}

void
sv_domain_driver_set_state_event(SvDomainDriver *drv, SvDomainObj *obj, int state, int reason,
                                 int event, int detail)
{
    sv_domain_driver_set_state(drv, obj, state, reason);
    sv_domain_driver_emit(drv, obj, event, detail);
}

void
sv_domain_driver_start_done(SvDomainDriver *drv, SvDomainObj *obj, gboolean paused,
                            SvCall *call)
{
    sv_domain_run_start_done(obj, paused);
    if (paused) {
        sv_domain_driver_set_state_event(drv, obj, SV_DOMAIN_PAUSED, SV_DOMAIN_PAUSED_USER,
                                         SV_DOMAIN_EVENT_STARTED, SV_DOMAIN_EVENT_STARTED_BOOTED);
        sv_domain_driver_emit(drv, obj, SV_DOMAIN_EVENT_SUSPENDED,
                              SV_DOMAIN_EVENT_SUSPENDED_PAUSED);
    } else {
        sv_domain_driver_set_state_event(drv, obj, SV_DOMAIN_RUNNING, SV_DOMAIN_RUNNING_BOOTED,
                                         SV_DOMAIN_EVENT_STARTED, SV_DOMAIN_EVENT_STARTED_BOOTED);
    }
    if (call)
        sv_domain_driver_reply_started(drv, obj, call);
}

void
sv_domain_driver_hold(SvDomainDriver *drv, gboolean on)
{
    if (drv->hold)
        drv->hold(drv->holder, on);
}

/* ---------------------------------------------------------------- the run's data */

/* A destroy call waiting for the guest to be gone. */
typedef struct {
    SvCall *call;
    char *remove_log;
} StopCall;

static void
stop_call_free(StopCall *sc)
{
    g_free(sc->remove_log);
    g_free(sc);
}

/* The run's data is freed with its driver part first. Calls still waiting are answered
 * (the daemon exits with the guest running), so no client is left hanging. */
static void
run_free(gpointer priv)
{
    SvDomainRun *run = priv;
    g_autoptr(GError) e = NULL;

    if (run->drv->run_facts->dispose)
        run->drv->run_facts->dispose(priv);
    sv_error_set(&e, run->drv->from, SV_ERR_OPERATION_FAILED, "the daemon is shutting down");
    if (run->start_call)
        sv_call_fail(run->start_call, g_error_copy(e));
    for (guint i = 0; i < run->stop_calls->len; i++) {
        StopCall *sc = run->stop_calls->pdata[i];
        sv_call_fail(sc->call, g_error_copy(e));
        stop_call_free(sc);
    }
    g_ptr_array_unref(run->stop_calls);
    g_ptr_array_unref(run->helpers); /* they run on, unwatched: the daemon exits */
    if (run->start_timer)
        g_source_remove(run->start_timer);
    g_clear_error(&run->start_error);
    g_free(run);
}

gpointer
sv_domain_run_new(SvDomainDriver *drv, SvDomainObj *obj, gsize size)
{
    SvDomainRun *run = g_malloc0(MAX(size, sizeof(SvDomainRun)));

    run->drv = drv;
    run->stop_calls = g_ptr_array_new();
    run->helpers = sv_run_helpers_new();
    sv_domain_list_attach_run(drv->list, obj, run, run_free);
    return run;
}

void
sv_domain_run_take_start(SvDomainObj *obj, SvCall *call, guint flags)
{
    SvDomainRun *run = sv_domain_run_of(obj);

    run->start_flags = flags;
    if (!call)
        return;
    if (flags & SV_DOMAIN_START_AUTODESTROY)
        run->autodestroy_client = sv_client_get_id(sv_call_get_client(call));
    run->start_call = sv_call_defer(call);
}

typedef struct {
    SvDomainDriver *drv;
    gpointer run;
    guint ms;
    const char *what;
    void (*expired)(SvDomainObj *obj, GError *error);
} StartTimer;

static gboolean
start_timer_fired(gpointer data)
{
    StartTimer *t = data;
    SvDomainObj *obj = sv_domain_list_find_attached(t->drv->list, t->run);
    GError *error = NULL;

    if (obj) {
        sv_domain_run_of(obj)->start_timer = 0;
        sv_error_set(&error, t->drv->from, SV_ERR_OPERATION_TIMEOUT, "%s %u ms", t->what, t->ms);
        t->expired(obj, error);
    }
    return G_SOURCE_REMOVE;
}

void
sv_domain_run_arm_start_timer(SvDomainObj *obj, guint ms, const char *what,
                              void (*expired)(SvDomainObj *obj, GError *error))
{
    SvDomainRun *run = sv_domain_run_of(obj);
    StartTimer *t = g_new0(StartTimer, 1);

    t->drv = run->drv;
    t->run = sv_domain_obj_run_key(obj);
    t->ms = ms;
    t->what = what;
    t->expired = expired;
    if (run->start_timer)
        g_source_remove(run->start_timer);
    run->start_timer = g_timeout_add_full(G_PRIORITY_DEFAULT, ms, start_timer_fired, t, g_free);
}

void
sv_domain_run_start_failed(SvDomainObj *obj, GError *cause)
{
    SvDomainRun *run = sv_domain_run_of(obj);

    if (run->start_error)
        g_error_free(cause);
    else
        run->start_error = cause;
}

void
sv_domain_run_add_stop_call(SvDomainRun *run, SvCall *call, const char *remove_log)
{
    StopCall *sc = g_new0(StopCall, 1);

    sc->call = call;
    sc->remove_log = g_strdup(remove_log);
    g_ptr_array_add(run->stop_calls, sc);
}

void
sv_domain_run_fail_stop_calls(SvDomainRun *run, const GError *error)
{
    for (guint i = 0; i < run->stop_calls->len; i++) {
        StopCall *sc = run->stop_calls->pdata[i];
        sv_call_fail(sc->call, g_error_copy(error));
        stop_call_free(sc);
    }
    g_ptr_array_set_size(run->stop_calls, 0);
}

void
sv_domain_run_release_owned(SvDomainObj *obj)
{
    SvDomainRun *run = sv_domain_run_of(obj);

    if (!run)
        return;
    if (run->start_timer &&
        (!sv_domain_run_in_start(obj) || sv_domain_run_stopping(obj, SV_STOP_START_FAILED))) {
        g_source_remove(run->start_timer);
        run->start_timer = 0;
    }
    if (obj->run_state == SV_RUN_GONE)
        sv_domain_list_release_run(run->drv->list, obj);
}

/* ---------------------------------------------------------------- the end of a start */

typedef struct {
    SvDomainDriver *drv;
    gpointer run;
    const SvRunReleaseFacts *facts;
} ReleaseJob;

static void
recorded(const GError *error, gpointer data)
{
    ReleaseJob *job = data;
    SvDomainObj *obj = sv_domain_list_find_attached(job->drv->list, job->run);
    const SvRunReleaseFacts *f = job->facts;
    g_autoptr(GError) local = NULL;
    SvProcess *held;

    g_free(job);
    if (!obj || !sv_domain_run_in_start(obj) || !(held = f->held(obj)))
        return;
    if (error || sv_domain_run_destroying(obj)) {
        f->abandon(obj, error);
        return;
    }
    if (!sv_process_release(held, &local)) {
        f->release_failed(obj, g_steal_pointer(&local));
        return;
    }
    g_debug("domain %s: recorded; its process %d runs", obj->def->name,
            (int)sv_process_get_pid(held));
    if (f->released)
        f->released(obj);
}

void
sv_domain_run_record_then_release(SvDomainObj *obj, const SvRunReleaseFacts *facts)
{
    SvDomainRun *run = sv_domain_run_of(obj);
    ReleaseJob *job = g_new0(ReleaseJob, 1);

    job->drv = run->drv;
    job->run = sv_domain_obj_run_key(obj);
    job->facts = facts;
    run->drv->save_status(obj, recorded, job);
}

void
sv_domain_run_start_finished(SvDomainObj *obj)
{
    SvDomainRun *run = sv_domain_run_of(obj);

    sv_domain_driver_start_done(run->drv, obj, (run->start_flags & SV_DOMAIN_START_PAUSED) != 0,
                                g_steal_pointer(&run->start_call));
}

/* ---------------------------------------------------------------- the teardown */

gboolean
sv_domain_run_end_of_cause(const SvDomainObj *obj, int *ret_reason, int *ret_detail)
{
    switch (obj->run_state == SV_RUN_STOPPING ? obj->stop_cause : SV_STOP_NONE) {
    case SV_STOP_DESTROY:
    case SV_STOP_DESTROY_GRACEFUL:
        *ret_reason = SV_DOMAIN_SHUTOFF_DESTROYED;
        *ret_detail = SV_DOMAIN_EVENT_STOPPED_DESTROYED;
        return TRUE;
    case SV_STOP_CRASH:
    case SV_STOP_CRASH_RESTART:
        *ret_reason = SV_DOMAIN_SHUTOFF_CRASHED;
        *ret_detail = SV_DOMAIN_EVENT_STOPPED_CRASHED;
        return TRUE;
    case SV_STOP_SHUTDOWN:
        *ret_reason = SV_DOMAIN_SHUTOFF_SHUTDOWN;
        *ret_detail = SV_DOMAIN_EVENT_STOPPED_SHUTDOWN;
        return TRUE;
    case SV_STOP_START_FAILED:
        *ret_reason = SV_DOMAIN_SHUTOFF_FAILED;
        *ret_detail = -1;
        return TRUE;
    default:
        return FALSE;
    }
}

/* obj becomes inactive and SHUTOFF with reason (the status file follows: removed, as the
 * run and its data are released on GONE), STOPPED goes out with detail (none for -1), and
 * the persistent definition takes the live one's place. */
static void
run_stopped(SvDomainDriver *drv, SvDomainObj *obj, int reason, int detail)
{
    sv_domain_list_clear_id(drv->list, obj);
    sv_domain_run_change(obj, SV_RUN_GONE, SV_STOP_NONE);
    sv_domain_driver_set_state(drv, obj, SV_DOMAIN_SHUTOFF, reason);
    if (detail >= 0)
        sv_domain_driver_emit(drv, obj, SV_DOMAIN_EVENT_STOPPED, detail);
    sv_domain_obj_restore_def(obj);
}

/* The calls a run that is over leaves: its start's (transfer full of call and error) and
 * its destroys'. */
static void
answer_calls(SvDomainDriver *drv, SvDomainObj *obj, SvCall *start_call, GError *start_error,
             GPtrArray *stop_calls)
{
    if (start_error)
        g_warning("domain %s: %s", obj->def->name, start_error->message);
    if (start_call)
        sv_domain_driver_fail_when_saved(drv, start_call, start_error);
    else if (start_error)
        g_error_free(start_error);
    for (guint i = 0; i < stop_calls->len; i++) {
        StopCall *sc = stop_calls->pdata[i];
        if (sc->remove_log)
            unlink(sc->remove_log);
        sv_domain_driver_reply_when_saved(drv, g_steal_pointer(&sc->call), NULL, NULL);
        stop_call_free(sc);
    }
}

/* Start obj again after its run ended; FALSE (logged) when that cannot begin. */
static gboolean
restart(SvDomainDriver *drv, SvDomainObj *obj)
{
    g_autoptr(GError) error = NULL;

    if (drv->guest && drv->guest->start && drv->guest->start(obj, NULL, 0, &error))
        return TRUE;
    g_warning("domain %s: restart failed: %s", obj->def->name,
              error ? error->message : "the driver cannot start it");
    return FALSE;
}

void
sv_domain_run_teardown(SvDomainObj *obj, const SvRunEnd *end)
{
    SvDomainRun *run = sv_domain_run_of(obj);
    SvDomainDriver *drv = run->drv;
    const SvRunFacts *f = drv->run_facts;
    gboolean failed_start = sv_domain_run_in_start(obj);
    gboolean again = !failed_start &&
                     (sv_domain_run_stopping(obj, SV_STOP_CRASH_RESTART) || end->restart);
    SvCall *start_call = g_steal_pointer(&run->start_call);
    GError *start_error = g_steal_pointer(&run->start_error);
    g_autoptr(GPtrArray) stop_calls = NULL;
    int reason = end->reason, detail = end->detail;

    if (failed_start) {
        reason = SV_DOMAIN_SHUTOFF_FAILED;
        detail = -1;
        if (f->start_error)
            start_error = f->start_error(obj, start_error);
        if (!start_error)
            sv_error_set(&start_error, drv->from, SV_ERR_INTERNAL_ERROR, "guest failed to start");
    } else if (!end->decided) {
        sv_domain_run_end_of_cause(obj, &reason, &detail);
    }
    if (f->log_fd_offset && (!failed_start || f->log_failed_start) && !end->never_ran)
        sv_guest_log_printf(G_STRUCT_MEMBER(int, run, f->log_fd_offset),
                            "shutting down, reason=%s", sv_domain_shutoff_reason_to_string(reason));
    /* The guest is gone: its helpers go too, before the driver removes their files. */
    sv_run_helpers_stop(run->helpers);
    if (f->release)
        f->release(obj); /* may hand the engine destroy calls */
    stop_calls = g_steal_pointer(&run->stop_calls);
    run->stop_calls = g_ptr_array_new();
    run_stopped(drv, obj, reason, detail); /* the run's data is gone from here */
    sv_domain_driver_hold(drv, FALSE);
    answer_calls(drv, obj, start_call, start_error, stop_calls);
    if (again && (obj->persistent || f->restart_transient) && restart(drv, obj))
        return;
    if (!obj->persistent)
        sv_domain_list_remove(drv->list, obj);
}

/* ---------------------------------------------------------------- taints */

static const char *const taint_names[SV_DOMAIN_TAINT_LAST] = {"custom-monitor"};
static const char *const taint_messages[SV_DOMAIN_TAINT_LAST] = {
    "custom monitor control commands issued",
};

const char *
sv_domain_taint_to_string(SvDomainTaint t)
{
    return t < SV_DOMAIN_TAINT_LAST ? taint_names[t] : NULL;
}

const char *
sv_domain_taint_message(SvDomainTaint t)
{
    return t < SV_DOMAIN_TAINT_LAST ? taint_messages[t] : NULL;
}

gboolean
sv_domain_run_taint(SvDomainObj *obj, SvDomainTaint t)
{
    SvDomainRun *run = sv_domain_run_of(obj);

    g_return_val_if_fail(run && t < SV_DOMAIN_TAINT_LAST, FALSE);
    if (run->taints & (1u << t))
        return FALSE;
    run->taints |= 1u << t;
    return TRUE;
}
