/* domain_state.h: the guest lifecycle engine's run state: what a driver has under way with
 * a guest (starting it, pausing it, rebooting it, stopping it and why), its transition
 * table, and the one setter every driver changes it through.
 *
 * Two states live side by side on an SvDomainObj. obj->state/reason is libvirt's, what
 * clients see (RUNNING/BOOTED, SHUTDOWN/UNKNOWN, CRASHED/PANICKED, ...), changed through
 * sv_domain_driver_set_state(). obj->run_state/stop_cause is the engine's, what the
 * daemon is doing with the guest, changed through sv_domain_run_set(); guards ("is a
 * destroy under way?", "is it still starting?") read it. A guest SHUTDOWN for clients is
 * STOPPING with cause SHUTDOWN for the engine; a preserved panic (CRASHED for clients) is
 * RUNNING for the engine, as nothing is under way. */
#pragma once

#include "domain/domain_driver.h"

/* What the engine has under way with a guest. GONE is 0, so an object that never ran is
 * in it from its allocation. */
typedef enum {
    SV_RUN_GONE,      /* no process, no hypervisor domain: inactive */
    SV_RUN_STARTING,  /* a start under way, until the guest runs or the start fails */
    SV_RUN_RUNNING,   /* runs, nothing under way (also a preserved panic) */
    SV_RUN_PAUSING,   /* a client's pause is on its way to the hypervisor */
    SV_RUN_PAUSED,    /* paused (by a client, or the hypervisor) */
    SV_RUN_REBOOTING, /* reset in place after the guest's power-off, until it runs again */
    SV_RUN_STOPPING,  /* a stop under way (obj->stop_cause says why) */
    SV_RUN_STATE_LAST,
} SvRunState;

/* Why a guest is being stopped. Later causes may take an earlier one's place while the
 * stop goes on (sv_stop_cause_merge). */
typedef enum {
    SV_STOP_NONE,             /* not stopping */
    SV_STOP_SHUTDOWN,         /* the guest powered off: STOPPED/SHUTDOWN */
    SV_STOP_CRASH,            /* on_crash destroy: STOPPED/CRASHED */
    SV_STOP_CRASH_RESTART,    /* on_crash restart: STOPPED/CRASHED, then started again */
    SV_STOP_DESTROY_GRACEFUL, /* a client's destroy, SIGTERM only: STOPPED/DESTROYED */
    SV_STOP_DESTROY,          /* a client's (or AUTODESTROY's) destroy: STOPPED/DESTROYED */
    SV_STOP_START_FAILED,     /* the start failed: SHUTOFF/FAILED, no STOPPED */
    SV_STOP_CAUSE_LAST,
} SvStopCause;

/* Names for the log and the status files ("starting", "destroy-graceful"); NULL or -1 for
 * what is not one. */
const char *sv_run_state_to_string(SvRunState state);
int sv_run_state_from_string(const char *s);
const char *sv_stop_cause_to_string(SvStopCause cause);
int sv_stop_cause_from_string(const char *s);

/* Whether the transition table has from -> to. Staying in a state is always allowed (a
 * stop whose cause changes stays STOPPING). Pure. */
gboolean sv_run_transition_allowed(SvRunState from, SvRunState to);

/* The cause of a stop under way (old) once another one (new) is asked for: the stronger
 * one, in the order of the enum: a failed start stays a failed start whatever joins it, a
 * client's destroy outranks the guest's own power-off or crash, a forced destroy joining
 * a graceful one makes it forced, and a graceful one joining a forced one leaves it
 * forced. Pure. */
SvStopCause sv_stop_cause_merge(SvStopCause old, SvStopCause new_cause);

/* Whether cause is one of a client's destroys (graceful or not). */
gboolean sv_stop_cause_is_destroy(SvStopCause cause);

/* The one setter of the run state: checks from -> to against the table (a warning names a
 * transition it does not have: a driver bug), merges the cause of a stop that goes on,
 * logs "old -> new (cause), asked by ..." (obj->cause, sv_domain_obj_set_cause()), records
 * where a stop began (to withdraw a destroy that fails), releases what the new state no
 * longer owns (sv_domain_run_release_owned: the start's timer once the start is over; the
 * run and its data on GONE), then writes the status file. A state other than STOPPING has
 * no cause (cause is ignored). Events are the caller's: what clients see changes through
 * sv_domain_driver_set_state(). */
void sv_domain_run_set(SvDomainDriver *drv, SvDomainObj *obj, SvRunState to, SvStopCause cause);

/* sv_domain_run_set() without the status file, for a step that writes it once right
 * after for more than the run state (sv_domain_driver_set_state(), a kill whose mode and
 * deadline the file records), or whose new state the file does not record (PAUSING). */
void sv_domain_run_change(SvDomainObj *obj, SvRunState to, SvStopCause cause);

/* What clients see became state (libvirt's): a guest with nothing under way follows it
 * (RUNNING or PAUSING to PAUSED, PAUSED to RUNNING); a start, a reboot or a stop under way
 * keeps its run state. No file written. */
void sv_domain_run_follow(SvDomainObj *obj, int state);

/* A start has succeeded (sv_domain_driver_start_done()): RUNNING, or PAUSED when asked. A
 * stop asked meanwhile goes on, no longer part of the start (the guest ran: its end is a
 * STOPPED, not a failed start), and a destroy of it that fails goes back to RUNNING or
 * PAUSED. No file written. */
void sv_domain_run_start_done(SvDomainObj *obj, gboolean paused);

/* A destroy that failed (the process outlived its waits): the guest goes back to what it
 * was before the destroy was asked (running, paused, or the stop that was under way
 * before it), status file written. Nothing happens unless a destroy is the cause of the
 * stop under way (a failed start, for one, goes on). */
void sv_domain_run_withdraw_destroy(SvDomainDriver *drv, SvDomainObj *obj);

/* Whether obj's run is a start that has not finished: STARTING, or a stop that began
 * while it was starting (the start's caller hears of it as a failed start). */
gboolean sv_domain_run_in_start(const SvDomainObj *obj);

/* Whether obj is being stopped for cause (SV_STOP_NONE: for any cause). */
gboolean sv_domain_run_stopping(const SvDomainObj *obj, SvStopCause cause);

/* Whether a client's destroy, graceful or not, is under way. */
gboolean sv_domain_run_destroying(const SvDomainObj *obj);

/* Whether a stop for the guest's crash (on_crash destroy or restart) is under way. */
gboolean sv_domain_run_crashing(const SvDomainObj *obj);
