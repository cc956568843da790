/* xen_domain.h: what the files of a Xen guest's life share inside virtxend: the per-guest
 * state, its status file, its end and libxl's events (xen_process.c), the start
 * (xen_start.c), the procedures (xen_control.c) and the reconnect after a restart
 * (xen_reconnect.c).
 *
 * A guest's run begins at its start or reconnect (xen_domain_new, which attaches the
 * per-guest state, which begins with the engine's SvDomainRun) and ends at its teardown
 * (sv_domain_run_teardown, domain/domain_run.h), or when the daemon exits. Every
 * completion, event and timer holds the run's key (sv_domain_obj_run_key), never a pointer,
 * and finds the object again with xen_domain_find_run(). */
#pragma once

#include "conf/domain_status.h"
#include "domain/domain_control.h"
#include "domain/domain_run.h"
#include "domain/domain_state.h"
#include "xen_process.h"

/* Why a guest's end began, the STOPPED event it will get, is the engine's stop cause
 * (obj->stop_cause while STOPPING, domain/domain_state.h): SHUTDOWN (the guest shut down
 * or rebooted), DESTROY (a destroy call, or a GRACEFUL one the guest obeyed), CRASH; none
 * when DOMAIN_DEATH comes unasked (someone else destroyed it). A destroy libxl fails is
 * withdrawn as every driver's is (sv_domain_run_withdraw_destroy): the guest goes back to
 * what it was before it was asked; a stop the guest began itself (SHUTDOWN, CRASH) stays,
 * and the next destroy tries again. */

/* Whether the status file's stop reason is one virtxend writes ("none", "shutdown",
 * "destroy", "crash"): the cause, or -1. */
int xen_stop_cause_from_string(const char *s);

/* A GRACEFUL destroy waiting for the guest to shut itself down. */
typedef struct {
    guint run;      /* the guest's run */
    SvGuestJob *job; /* the client's destroy (domain/domain_control.h); NULL when carried on
                        from an earlier daemon: its client is gone */
    gint64 deadline; /* g_get_monotonic_time() when it fails */
    guint timer;
} XenGracefulJob;

typedef struct {
    SvDomainRun run; /* the engine's part of the run (domain/domain_run.h): first; its
                        start_flags say whether the start leaves it paused */
    guint32 domid;                   /* 0 until created */
    libxl_evgen_domain_death *death; /* DOMAIN_SHUTDOWN and DOMAIN_DEATH for domid */
    libxl_domain_config *d_config; /* while creating: libxl reads it until the end */
    guint32 created_domid;         /* libxl writes it during the create */
    gboolean restart;         /* start again once gone (on_reboot, on_crash restart), unless
                                 a client's destroy ends it */
    gboolean destroy_started; /* libxl_domain_destroy is running */
    GList *graceful;          /* of XenGracefulJob */
} XenDomain;

/* The context of the driver obj belongs to (the SvDomainDriver's data): there is no
 * file-level one, so two drivers may share a process. */
static inline XenProcessContext *
xen_ctx_of(const SvDomainObj *obj)
{
    return sv_domain_driver_of_obj(obj)->data;
}

/* The context of the driver a client's call reached. */
static inline XenProcessContext *
xen_ctx_of_call(SvCall *call)
{
    return sv_domain_driver_of(call)->data;
}

static inline XenDomain *
xen_domain_of(SvDomainObj *obj)
{
    return obj->priv;
}

/* libxl's context of the driver obj belongs to (it has a hypervisor: obj has a run). */
static inline libxl_ctx *
xen_libxl_of(const SvDomainObj *obj)
{
    return xen_ctx_get(xen_ctx_of(obj)->xen);
}

/* Begin a run of obj with fresh per-guest state. */
XenDomain *xen_domain_new(SvDomainObj *obj);
/* The object of a callback's run handle, if that run goes on. */
SvDomainObj *xen_domain_find_run(gpointer data);

/* How virtxend's status files record the common part (no process; a start is recorded
 * before its domain exists), and its hook for its own: domid, stopreason, restart and
 * graceful (the deadline of a GRACEFUL destroy under way, 0 for none). */
extern const SvStatusStyle xen_status_style;
/* A guest's state changes in one place, sv_domain_driver_set_state(ctx->domains, ...),
 * which writes the status file through the driver's save_status;
 * sv_domain_driver_set_state_event() also sends the event clients get for the change. */

/* Start destroying the domain (once); the destroys waiting (the run's stop calls) are
 * answered when it is gone, or fail when libxl does. The _quietly form logs (and withdraws a client's
 * destroy, failing those waiting) instead of returning an error. */
gboolean xen_domain_begin_destroy(SvDomainObj *obj, GError **error);
void xen_domain_begin_destroy_quietly(SvDomainObj *obj);
/* Destroy a Xen domain nothing tracks (a start that failed, or never finished). */
void xen_domain_destroy_orphan(XenProcessContext *ctx, guint32 domid);

/* A GRACEFUL destroy (destroy: its job, NULL for one carried over a restart) that fails at
 * deadline unless the guest shuts down first. */
void xen_graceful_add(SvDomainObj *obj, SvGuestJob *destroy, gint64 deadline);
void xen_graceful_job_free(XenGracefulJob *job);

/* The start of the shared lifecycle (xen_start.c). */
gboolean xen_start_guest(SvDomainObj *obj, SvCall *call, guint flags, GError **error);
