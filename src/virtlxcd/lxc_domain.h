/* lxc_domain.h: what the files of a running container's life share inside virtlxcd: the
 * per-container state and the steps every path goes through (lxc_process.c), the start
 * (lxc_start.c), the procedures that act on a running container (lxc_control.c) and the
 * reconnect after a restart (lxc_reconnect.c).
 *
 * A container's run begins at its start or reconnect (lxc_domain_new, which attaches the
 * per-container state, which begins with the engine's SvDomainRun) and ends at its teardown
 * (sv_domain_run_teardown, domain/domain_run.h), or when the daemon exits. Every
 * asynchronous callback holds the run's key (sv_domain_obj_run_key), never a pointer, and
 * finds the object again with lxc_domain_find_run(). */
#pragma once

#include "domain/domain_driver.h"
#include "domain/domain_run.h"
#include "domain/domain_state.h"
#include "util/cgroup.h"
#include "lxc_monitor.h"
#include "lxc_process.h"
#include "lxc_status.h"
#include "util/guest_log.h"
#include "util/process.h"

typedef struct {
    SvDomainRun run; /* the engine's part of the run (domain/domain_run.h): first */
    SvProcess *supervisor;
    SvProcess *init;      /* NULL until init runs, and between a reboot and the next init */
    LxcMonitor *mon;
    SvCgroup *cgroup;
    char *socket_path;
    /* The start's call, flags, timer and first error are the engine's (run). */
    /* A start, or our destroy (the end is then DESTROYED), under way: the engine's run
     * state (obj->run_state, domain/domain_state.h). */
    gboolean held;        /* the supervisor waits before exec until its record is on disk */
    gboolean ended;       /* the supervisor reported the end, or vanished: the end is
                             decided, the supervisor still cleans up (then GONE) */
    int shutoff_reason;   /* decided when ended */
    int stopped_detail;
    gboolean refreeze;       /* a GRACEFUL destroy thawed the paused container */
    /* AUTODESTROY's client is the engine's (run.autodestroy_client). */
    int log_fd;
    /* A destroy an earlier daemon began (STOPPING, its cause says whether GRACEFUL),
     * carried on once the supervisor names init. */
    gboolean carried;
    gint64 carried_deadline; /* g_get_monotonic_time() end of its SIGTERM wait */
    gboolean carrying;       /* the kill on init under way is that destroy */
} LxcDomain;

/* No global holds the driver's context: code finds it from what it holds, whatever the
 * number of drivers in the process. */

/* The context of the driver obj belongs to (the SvDomainDriver's data). */
static inline LxcProcessContext *
lxc_ctx_of(const SvDomainObj *obj)
{
    return sv_domain_driver_of_obj(obj)->data;
}

/* The context of the driver a client's call reached. */
static inline LxcProcessContext *
lxc_ctx_of_call(SvCall *call)
{
    return sv_domain_driver_of(call)->data;
}

static inline LxcDomain *
lxc_domain_of(SvDomainObj *obj)
{
    return obj->priv;
}

/* Begin a run of obj with fresh per-container state. */
LxcDomain *lxc_domain_new(SvDomainObj *obj);
/* The object of a callback's run handle, if that run goes on and has its state. */
SvDomainObj *lxc_domain_find_run(gpointer data);

/* The container's log file, ROOT/var/log/libvirt/lxc/NAME.log, opened for appending
 * (util/guest_log.h); the daemon's lines go in with sv_guest_log_printf(ld->log_fd, ...). */
int lxc_domain_open_log(SvDomainObj *obj, GError **error);

/* A container's state changes in one place, sv_domain_driver_set_state(), which writes the
 * status file through the driver's save_status (sv_domain_run_save_status, with
 * lxc_run_facts);
 * sv_domain_driver_set_state_event() also sends the event clients get for the change. */

/* Tell the supervisor to stop the container (SIGTERM; a supervisor still held before
 * exec is killed, as it has run nothing yet). */
void lxc_domain_stop_supervisor(LxcDomain *ld);
/* The supervisor's process and control connection callbacks of obj's run. */
void lxc_domain_watch_supervisor(SvDomainObj *obj, int control);
/* Kill init (or stop the supervisor when init is not known) with nobody waiting. */
void lxc_domain_destroy_quietly(SvDomainObj *obj, const char *why);
/* A kill of init from a destroy: graceful or not, SIGTERM wait ending at term_deadline. */
void lxc_domain_kill_init(SvDomainObj *obj, gboolean graceful, gint64 term_deadline);

/* The start of the shared lifecycle (lxc_start.c). */
gboolean lxc_start_container(SvDomainObj *obj, SvCall *call, guint flags, GError **error);
/* A host-side link name "vethN" (N from *next on, which moves past it) that neither the
 * host nor a running container of list has (lxc_start.c). (transfer full) */
char *lxc_free_link_name(SvDomainList *list, guint *next);
/* What libvirt fills in for interface n of a container of list, at its start and at its
 * live attach: a MAC and a host-side link name (lxc_free_link_name) when not given. */
void lxc_complete_interface(SvDomainList *list, SvDomainNetDef *n, guint *next);

/* issue 18, LXC tuning (lxc_tune.c): whether def sets any of the <cputune> (shares,
 * period, quota), <memtune> (hard, soft, swap limits) or <blkiotune> a container gets, and
 * those values written to the container's cgroup cg at its start. */
gboolean lxc_tune_needed(const SvDomainDef *def);
gboolean lxc_tune_apply(SvCgroup *cg, const SvDomainDef *def, GError **error);
