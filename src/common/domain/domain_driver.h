/* domain_driver.h: the domain procedures every hypervisor driver shares: define, undefine,
 * lookups, listing, queries and autostart, with libvirt's errors and events. */
#pragma once

#include "conf/domain_obj.h"
#include "conf/domain_store.h"
#include "domain/domain_connect.h"
#include "domain/domain_wire.h"
#include "programs/remote.h"
#include "util/conffile.h"

/* How a driver words "no such domain" (they differ, and clients show it). */
typedef enum {
    SV_LOOKUP_STYLE_QEMU,  /* "no domain with matching name 'x'" */
    SV_LOOKUP_STYLE_LXC,   /* "No domain with matching name 'x'" */
    SV_LOOKUP_STYLE_LIBXL, /* "Domain not found", no detail */
} SvLookupStyle;

/* The waits of the kill state machine and of a start, shared by the drivers. */
typedef struct {
    guint term_timeout_ms;     /* SIGTERM to SIGKILL in a plain destroy */
    guint kill_timeout_ms;     /* SIGKILL to giving up */
    guint graceful_timeout_ms; /* SIGTERM to failing a GRACEFUL destroy */
    guint start_timeout_ms;    /* exec to the guest being up */
} SvKillTimeouts;

/* Read term_timeout, kill_timeout, graceful_timeout and start_timeout (seconds;
 * defaults 10, 5, 15, 30) or their *_ms variants (for tests) from a daemon's
 * configuration. */
gboolean sv_kill_timeouts_load(SvConfFile *conf, SvKillTimeouts *t, GError **error);

/* The wait from SIGTERM (or its like) to the next step of a destroy: SIGKILL, or failing a
 * GRACEFUL one. */
static inline guint
sv_kill_timeouts_term(const SvKillTimeouts *t, gboolean graceful)
{
    return graceful ? t->graceful_timeout_ms : t->term_timeout_ms;
}

/* A driver's facts of the procedures that start a domain and act on a running one
 * (CREATE*, DESTROY*, SHUTDOWN*, REBOOT, RESET, SUSPEND, RESUME): domain_control.h. */
typedef struct SvGuestOps SvGuestOps;

typedef struct SvDomainDriver SvDomainDriver;
typedef struct SvRunFacts SvRunFacts; /* domain_run.h */
typedef struct SvResizeFacts SvResizeFacts; /* domain_resize.h */
typedef struct SvSchedFacts SvSchedFacts;   /* domain_sched.h */
typedef struct SvBlkioFacts SvBlkioFacts;   /* domain_blkio.h */
typedef struct SvHotplugFacts SvHotplugFacts; /* domain_hotplug.h */

struct SvDomainDriver {
    const char *prefix; /* "qemu", "lxc", "libxl": names functions in flag errors */
    int from;           /* the driver's error domain */
    SvLookupStyle lookup_style;
    SvServer *server;
    SvDomainList *list;
    SvDomainStore *store;
    /* Refuse definitions this driver cannot run (virt type, os type, ...), and fill in the
     * driver's defaults. */
    gboolean (*check_def)(SvDomainDriver *drv, SvDomainDef *def, GError **error);
    /* Before an undefine with `flags` (SvDomainUndefineFlagsValues): what the driver keeps
     * beside the definition (QEMU's NVRAM file), removed, kept or refused as the flags
     * say. NULL: nothing. */
    gboolean (*undefine_extras)(SvDomainDriver *drv, SvDomainObj *obj, guint flags,
                                GError **error);
    /* Whether check_def can run now (it may need facts the driver gathers at start, as
     * virtqemud's QEMU probe); when not, a define waits: wait_defs_ready(drv, fn, data)
     * calls fn on the loop once it can, with an error when it never will. NULL: always. */
    gboolean (*defs_ready)(SvDomainDriver *drv);
    void (*wait_defs_ready)(SvDomainDriver *drv, SvStoreDoneFunc fn, gpointer data);
    /* Nanoseconds of CPU a running domain has used; NULL reports 0. */
    guint64 (*cpu_time)(SvDomainDriver *drv, SvDomainObj *obj);
    /* A running domain's control state (DOMAIN_GET_CONTROL_INFO) where it is not OK (its
     * monitor gone, or busy with a call since ret->stateTime ms): ret comes set to OK, with
     * no details, for 0 ms. NULL: always OK. */
    void (*control_info)(SvDomainDriver *drv, SvDomainObj *obj,
                         remote_domain_get_control_info_ret *ret);
    /* Write obj's status file (or remove it once the guest is gone), off the loop, in
     * order; done (may be NULL) runs on the loop once it is on disk or failed. Called
     * on every state change (sv_domain_driver_set_state) and when a running domain is
     * defined or undefined (its persistence is in the file, or a restarted daemon
     * forgets it). NULL: the driver keeps no status files. */
    void (*save_status)(SvDomainObj *obj, SvStoreDoneFunc done, gpointer data);
    const SvConnectFacts *connect; /* the connection procedures' facts (domain_connect.h) */
    const SvRunFacts *run_facts;   /* a run's data and end (domain_run.h) */
    /* Hold off the daemon's idle exit while a guest runs: hold(holder, TRUE) as a run
     * begins, hold(holder, FALSE) at its teardown (daemon/daemon.h sv_daemon_hold). NULL:
     * nothing to hold. */
    void (*hold)(gpointer holder, gboolean on);
    gpointer holder;
    const SvGuestOps *guest;       /* set by sv_domain_driver_install_lifecycle */
    /* Where the guest logs are (util/guest_log.h sv_guest_log_path), removed by a destroy
     * with REMOVE_LOGS once the guest is gone; NULL: the driver keeps none. */
    const char *log_dir;
    /* Told of every lifecycle event sent (NULL: nobody): a window for tests. */
    void (*on_emit)(SvDomainDriver *drv, SvDomainObj *obj, int event, int detail);
    /* The hypervisor driver's own context (transfer none), which its code reaches from a
     * call (sv_domain_driver_of(call)->data) or from an object or a run handle
     * (sv_domain_driver_of_obj(obj)->data), never through a global. */
    gpointer data;
    GHashTable *pending; /* name -> uuid of definitions being written */
    /* issue 18, metadata and tuning: how a running guest's memory changes (domain_resize.h);
     * NULL: the driver serves no resize procedure. */
    const SvResizeFacts *resize;
    /* issue 18, scheduler parameters: a running guest's CPU tuning (domain_sched.h); NULL:
     * the driver serves no scheduler procedure. */
    const SvSchedFacts *sched;
    /* issue 18, blkio parameters: a running guest's block I/O tuning (domain_blkio.h); NULL:
     * the driver serves no blkio procedure. */
    const SvBlkioFacts *blkio;
    /* issue 18, LXC tuning: a running guest's own cgroup (util/cgroup.h; transfer full), or
     * NULL when it has none: what the shared cgroup facts (domain_cgroup.h) act on. */
    struct SvCgroup *(*cgroup_open)(SvDomainObj *obj);
    /* issue 18 item 2, live hotplug: a running guest's devices plugged and unplugged
     * (domain_hotplug.h); NULL: AFFECT_LIVE is refused. */
    const SvHotplugFacts *hotplug;
};

/* Serve the shared domain and connection procedures in h; their handlers find drv as the
 * user data of drv->server (sv_domain_driver_of), so two drivers may share a process.
 * drv becomes the owner of drv->list: its objects, and the handles of their runs, lead
 * back to it (sv_domain_driver_of_obj). */
void sv_domain_driver_install(SvDomainDriver *drv, SvRemoteHandlers *h);

/* The domain driver a call reached: its server's. */
SvDomainDriver *sv_domain_driver_of(SvCall *call);

/* The domain driver of an object: the owner of its list. Callbacks of asynchronous steps
 * find their object from the run handle they hold (sv_domain_run_find_attached,
 * conf/domain_obj.h), then their driver from it. */
SvDomainDriver *sv_domain_driver_of_obj(const SvDomainObj *obj);

/* The domain a call names, or libvirt's "no domain" of the driver. */
SvDomainObj *sv_domain_driver_lookup(SvDomainDriver *drv, const remote_nonnull_domain *dom,
                                     GError **error);
/* Refuse flags beyond `supported` with libvirt's error naming the driver's function
 * (prefix + suffix: "qemu" "DomainCreateWithFlags"). */
gboolean sv_domain_driver_check_flags(SvDomainDriver *drv, guint flags, guint supported,
                                      const char *suffix, GError **error);

/* Send a lifecycle event for obj to every registered client. */
void sv_domain_driver_emit(SvDomainDriver *drv, SvDomainObj *obj, int event, int detail);
/* The REBOOT event of obj (the guest reset itself and runs on). */
void sv_domain_driver_emit_reboot(SvDomainDriver *drv, SvDomainObj *obj);


/* Serve CREATE, CREATE_WITH_FLAGS and CREATE_XML in h with ops (kept in drv; transfer
 * none), and the procedures on a running guest it has actions for
 * (sv_domain_control_install). With ops->destroy_quietly, a client of drv->server that goes
 * is drv's AUTODESTROY client no more (sv_domain_driver_client_gone, the server's
 * client_closed). */
void sv_domain_driver_install_lifecycle(SvDomainDriver *drv, const SvGuestOps *ops,
                                        SvRemoteHandlers *h);

/* The client with id client has gone: every active guest it started with AUTODESTROY
 * (domain_run.h, autodestroy_client) and not being destroyed already is destroyed, once,
 * through drv->guest->destroy_quietly. */
void sv_domain_driver_client_gone(SvDomainDriver *drv, guint64 client);

/* Start every inactive domain marked autostart with the installed start function, once per boot
 * of the host: a marker in run_dir (a tmpfs there) says it was done, so a daemon activated
 * again later does not start what was stopped on purpose. */
void sv_domain_driver_autostart(SvDomainDriver *drv, const char *run_dir);

/* Reply to a call that changed a guest's state once the status files written before
 * it are on disk: a daemon killed right after replying must not come back believing
 * something else. (transfer full of call and ret; free_ret frees ret after the reply) */
void sv_domain_driver_reply_when_saved(SvDomainDriver *drv, SvCall *call, gpointer ret,
                                       GDestroyNotify free_ret);
/* The same for a call that failed (a start whose guest is gone, its status file with it).
 * (transfer full of call and error) */
void sv_domain_driver_fail_when_saved(SvDomainDriver *drv, SvCall *call, GError *error);
/* The reply to a start once the guest runs (and its status file says so): nothing for
 * CREATE, the domain for CREATE_WITH_FLAGS and CREATE_XML. */
void sv_domain_driver_reply_started(SvDomainDriver *drv, SvDomainObj *obj, SvCall *call);

/* Name the client call as the cause of obj's next transitions: its connection id, the
 * peer's uid and pid, and the API it called. */
void sv_domain_driver_set_cause_call(SvDomainObj *obj, SvCall *call);

/* The end of a define the daemon makes itself: obj (transfer none) is the domain, NULL with
 * error when the definition could not be written. */
typedef void (*SvDefineDoneFunc)(const GError *error, SvDomainObj *obj, gpointer data);

/* Write def (transfer full; checked by the caller) as its domain's persistent definition,
 * as a define does, and once it is on disk make it so, with the DEFINED event (ADDED for a
 * domain that was not persistent, UPDATED otherwise: libvirt's migration's persist); done
 * runs on the loop. */
void sv_domain_driver_define_def(SvDomainDriver *drv, SvDomainDef *def, SvDefineDoneFunc done,
                                 gpointer data);

/* Fail with the driver's "domain is not running" (OPERATION_INVALID, DOMAIN). */
gboolean sv_domain_driver_check_active(SvDomainObj *obj, GError **error);

/* A guest's run (domain_run.c). */

/* Write obj's status file (drv->save_status); a write that fails is logged, for a guest
 * whose status is not on disk is found shut off by a restarted daemon. */
void sv_domain_driver_save_status(SvDomainDriver *drv, SvDomainObj *obj);

/* The one state setter of a driver: sv_domain_obj_set_state() (checked, logged), then the
 * status file follows. Events are the caller's, after it. */
void sv_domain_driver_set_state(SvDomainDriver *drv, SvDomainObj *obj, int state, int reason);

/* sv_domain_driver_set_state(), then the lifecycle event clients get for that change (event,
 * detail) to every registration. */
void sv_domain_driver_set_state_event(SvDomainDriver *drv, SvDomainObj *obj, int state,
                                      int reason, int event, int detail);

/* Hold off (on) or allow again the daemon's idle exit (drv->hold), one release per hold. */
void sv_domain_driver_hold(SvDomainDriver *drv, gboolean on);

/* A start has succeeded: RUNNING/BOOTED with STARTED/BOOTED, or, asked to start paused,
 * PAUSED/USER with STARTED/BOOTED then SUSPENDED/PAUSED; the waiting call (transfer full;
 * NULL for a start nobody waits on) is answered once the status file saying so is on
 * disk (sv_domain_driver_reply_started). */
void sv_domain_driver_start_done(SvDomainDriver *drv, SvDomainObj *obj, gboolean paused,
                                 SvCall *call);
