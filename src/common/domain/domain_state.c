/* domain_state.c: the lifecycle engine's run state: names, the transition table, how the
 * causes of a stop combine, and the one setter. */
#include "domain/domain_state.h"

#include "domain/domain_run.h"

static const char *const run_state_names[SV_RUN_STATE_LAST] = {
    [SV_RUN_GONE] = "gone",         [SV_RUN_STARTING] = "starting",
    [SV_RUN_RUNNING] = "running",   [SV_RUN_PAUSING] = "pausing",
    [SV_RUN_PAUSED] = "paused",     [SV_RUN_REBOOTING] = "rebooting",
    [SV_RUN_STOPPING] = "stopping",
};

static const char *const stop_cause_names[SV_STOP_CAUSE_LAST] = {
    [SV_STOP_NONE] = "none",
    [SV_STOP_SHUTDOWN] = "shutdown",
    [SV_STOP_CRASH] = "crash",
    [SV_STOP_CRASH_RESTART] = "crash-restart",
    [SV_STOP_DESTROY_GRACEFUL] = "destroy-graceful",
    [SV_STOP_DESTROY] = "destroy",
    [SV_STOP_START_FAILED] = "start-failed",
};

static int
name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++) {
        if (g_str_equal(s, names[i]))
            return i;
    }
    return -1;
}

const char *
sv_run_state_to_string(SvRunState state)
{
    return (int)state >= 0 && state < SV_RUN_STATE_LAST ? run_state_names[state] : NULL;
}

int
sv_run_state_from_string(const char *s)
{
    return name_index(run_state_names, SV_RUN_STATE_LAST, s);
}

const char *
sv_stop_cause_to_string(SvStopCause cause)
{
    return (int)cause >= 0 && cause < SV_STOP_CAUSE_LAST ? stop_cause_names[cause] : NULL;
}

int
sv_stop_cause_from_string(const char *s)
{
    return name_index(stop_cause_names, SV_STOP_CAUSE_LAST, s);
}

#define TO(s) (1u << (s))

/* A run begins with a start, or with a restarted daemon adopting a guest in the state its
 * status file recorded (running, paused, or with a stop under way). A start ends running
 * (or paused, when asked), or in a stop. A client may ask for a pause during a reboot in
 * place (the guest still runs for clients). A stop ends the run, or is withdrawn (a
 * destroy that failed) back to the state it began in, which may be any but GONE. */
static const guint transitions[SV_RUN_STATE_LAST] = {
    [SV_RUN_GONE] = TO(SV_RUN_STARTING) | TO(SV_RUN_RUNNING) | TO(SV_RUN_PAUSED) |
                    TO(SV_RUN_STOPPING),
    [SV_RUN_STARTING] = TO(SV_RUN_RUNNING) | TO(SV_RUN_PAUSED) | TO(SV_RUN_STOPPING) |
                        TO(SV_RUN_GONE),
    [SV_RUN_RUNNING] = TO(SV_RUN_PAUSING) | TO(SV_RUN_PAUSED) | TO(SV_RUN_REBOOTING) |
                       TO(SV_RUN_STOPPING) | TO(SV_RUN_GONE),
    [SV_RUN_PAUSING] = TO(SV_RUN_RUNNING) | TO(SV_RUN_PAUSED) | TO(SV_RUN_STOPPING) |
                       TO(SV_RUN_GONE),
    [SV_RUN_PAUSED] = TO(SV_RUN_RUNNING) | TO(SV_RUN_STOPPING) | TO(SV_RUN_GONE),
    [SV_RUN_REBOOTING] = TO(SV_RUN_RUNNING) | TO(SV_RUN_PAUSING) | TO(SV_RUN_STOPPING) |
                         TO(SV_RUN_GONE),
    [SV_RUN_STOPPING] = TO(SV_RUN_STARTING) | TO(SV_RUN_RUNNING) | TO(SV_RUN_PAUSING) |
                        TO(SV_RUN_PAUSED) | TO(SV_RUN_REBOOTING) | TO(SV_RUN_GONE),
};

gboolean
sv_run_transition_allowed(SvRunState from, SvRunState to)
{
    if ((int)from < 0 || from >= SV_RUN_STATE_LAST || (int)to < 0 || to >= SV_RUN_STATE_LAST)
        return FALSE;
    return from == to || (transitions[from] & TO(to)) != 0;
}

SvStopCause
sv_stop_cause_merge(SvStopCause old, SvStopCause new_cause)
{
    return MAX(old, new_cause);
}

gboolean
sv_stop_cause_is_destroy(SvStopCause cause)
{
    return cause == SV_STOP_DESTROY || cause == SV_STOP_DESTROY_GRACEFUL;
}

/* Record obj's new run state and cause, one log line when anything changed. */
static void
run_enter(SvDomainObj *obj, SvRunState to, SvStopCause cause)
{
    if (obj->run_state == (int)to && obj->stop_cause == (int)cause)
        return;
    g_message("domain %s: run %s%s%s -> %s%s%s, asked by %s", obj->def->name,
              sv_run_state_to_string(obj->run_state), obj->stop_cause ? "/" : "",
              obj->stop_cause ? sv_stop_cause_to_string(obj->stop_cause) : "",
              sv_run_state_to_string(to), cause ? "/" : "",
              cause ? sv_stop_cause_to_string(cause) : "", obj->cause ? obj->cause : "the daemon");
    obj->run_state = to;
    obj->stop_cause = cause;
}

void
sv_domain_run_change(SvDomainObj *obj, SvRunState to, SvStopCause cause)
{
    SvRunState from = obj->run_state;
    SvStopCause old = obj->stop_cause;

    if (!sv_run_transition_allowed(from, to))
        g_warning("domain %s: unexpected transition of its run %s -> %s", obj->def->name,
                  sv_run_state_to_string(from), sv_run_state_to_string(to));
    if (to != SV_RUN_STOPPING) {
        cause = SV_STOP_NONE;
    } else if (from != SV_RUN_STOPPING) {
        obj->stop_from = from;
        obj->before_state = from;
        obj->before_cause = SV_STOP_NONE;
    } else {
        cause = sv_stop_cause_merge(old, cause);
        if (sv_stop_cause_is_destroy(cause) && !sv_stop_cause_is_destroy(old)) {
            obj->before_state = SV_RUN_STOPPING;
            obj->before_cause = old;
        }
    }
    run_enter(obj, to, cause);
    sv_domain_run_release_owned(obj);
}

void
sv_domain_run_set(SvDomainDriver *drv, SvDomainObj *obj, SvRunState to, SvStopCause cause)
{
    sv_domain_run_change(obj, to, cause);
    sv_domain_driver_save_status(drv, obj);
}

void
sv_domain_run_withdraw_destroy(SvDomainDriver *drv, SvDomainObj *obj)
{
    if (obj->run_state != SV_RUN_STOPPING || !sv_stop_cause_is_destroy(obj->stop_cause))
        return;
    if (obj->before_state == SV_RUN_STOPPING) {
        /* Back to the stop that was under way before the destroy joined it. */
        run_enter(obj, SV_RUN_STOPPING, obj->before_cause);
        sv_domain_driver_save_status(drv, obj);
        return;
    }
    /* A guest adopted with its destroy under way began it before this daemon knew it. */
    if (obj->before_state == SV_RUN_GONE)
        obj->before_state = obj->state == SV_DOMAIN_PAUSED ? SV_RUN_PAUSED : SV_RUN_RUNNING;
    sv_domain_run_set(drv, obj, obj->before_state, SV_STOP_NONE);
}

void
sv_domain_run_follow(SvDomainObj *obj, int state)
{
    if (state == SV_DOMAIN_PAUSED &&
        (obj->run_state == SV_RUN_RUNNING || obj->run_state == SV_RUN_PAUSING))
        sv_domain_run_change(obj, SV_RUN_PAUSED, SV_STOP_NONE);
    else if (state == SV_DOMAIN_RUNNING && obj->run_state == SV_RUN_PAUSED)
        sv_domain_run_change(obj, SV_RUN_RUNNING, SV_STOP_NONE);
}

void
sv_domain_run_start_done(SvDomainObj *obj, gboolean paused)
{
    SvRunState ran = paused ? SV_RUN_PAUSED : SV_RUN_RUNNING;

    if (obj->run_state != SV_RUN_STOPPING) {
        sv_domain_run_change(obj, ran, SV_STOP_NONE);
        return;
    }
    /* A stop asked during the start goes on, now the stop of a guest that ran. */
    if (obj->stop_from == SV_RUN_STARTING)
        obj->stop_from = ran;
    if (obj->before_state == SV_RUN_STARTING)
        obj->before_state = ran;
    sv_domain_run_release_owned(obj);
}

gboolean
sv_domain_run_in_start(const SvDomainObj *obj)
{
    return obj->run_state == SV_RUN_STARTING ||
           (obj->run_state == SV_RUN_STOPPING && obj->stop_from == SV_RUN_STARTING);
}

gboolean
sv_domain_run_stopping(const SvDomainObj *obj, SvStopCause cause)
{
    return obj->run_state == SV_RUN_STOPPING &&
           (cause == SV_STOP_NONE || obj->stop_cause == (int)cause);
}

gboolean
sv_domain_run_destroying(const SvDomainObj *obj)
{
    return obj->run_state == SV_RUN_STOPPING && sv_stop_cause_is_destroy(obj->stop_cause);
}

gboolean
sv_domain_run_crashing(const SvDomainObj *obj)
{
    return obj->run_state == SV_RUN_STOPPING &&
           (obj->stop_cause == SV_STOP_CRASH || obj->stop_cause == SV_STOP_CRASH_RESTART);
}
