/* domain_obj.h: the domains a driver knows: definitions with state, indexed by name, UUID and id. */
#pragma once

#include <glib.h>

#include "conf/domain_conf.h"
#include "protocol/sv_wire_constants.h"

typedef struct SvDomainList SvDomainList;

typedef struct {
    SvDomainDef *def;     /* the running definition, or the persistent one when inactive */
    SvDomainDef *new_def; /* the persistent definition defined while running, or NULL */
    int id;               /* -1 while inactive */
    int state;            /* SvDomainState */
    int reason;
    gint64 state_time;    /* g_get_real_time() of the last state change */
    gboolean persistent;
    gboolean autostart;
    gboolean busy;        /* its removal (undefine) is in flight */
    char *cause;          /* who asked for the change under way, for the log */
    /* The lifecycle engine's run state (domain/domain_state.h: SvRunState, SvStopCause),
     * changed only through sv_domain_run_set(). */
    int run_state;
    int stop_cause;
    int stop_from;        /* the run state a stop under way began in */
    int before_state;     /* run state and cause before the destroy under way, */
    int before_cause;     /* where a destroy that fails goes back to */
    guint run;            /* weak handle of the driver's current run, 0 for none */
    gpointer priv;        /* the driver's per-domain data */
    GDestroyNotify priv_free;
    SvDomainList *list;   /* the list holding it (transfer none) */
} SvDomainObj;

/* The state strings libvirt writes in status files ("running", "shutoff", ...). */
const char *sv_domain_state_to_string(int state);
int sv_domain_state_from_string(const char *s);

/* virDomainShutoffReason as libvirt's guest logs name it ("shutting down, reason=%s"):
 * "unknown", "shutdown", "destroyed", "crashed", "migrated", "saved", "failed"; a number
 * it does not know is "unknown" too. */
const char *sv_domain_shutoff_reason_to_string(int reason);

SvDomainList *sv_domain_list_new(void);
/* Free list and its objects; the runs of those that have one end first. */
void sv_domain_list_free(SvDomainList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvDomainList, sv_domain_list_free)

/* Who holds the list: an opaque pointer the layer above sets (the domain layer sets its
 * driver, domain/domain_driver.h), so code holding an object or a run handle reaches its
 * driver with no global. NULL until set. */
void sv_domain_list_set_owner(SvDomainList *list, gpointer owner);
/* The owner of the list holding obj. */
gpointer sv_domain_obj_get_owner(const SvDomainObj *obj);

/* A new inactive object for def (transfer full), added to the list. */
SvDomainObj *sv_domain_list_add(SvDomainList *list, SvDomainDef *def, gboolean persistent);
void sv_domain_list_remove(SvDomainList *list, SvDomainObj *obj);
/* obj (inactive: its definition alone has its name) under name from now on. */
void sv_domain_list_rename(SvDomainList *list, SvDomainObj *obj, const char *name);

SvDomainObj *sv_domain_list_find_by_name(SvDomainList *list, const char *name);
SvDomainObj *sv_domain_list_find_by_uuid(SvDomainList *list, const guint8 uuid[16]);
SvDomainObj *sv_domain_list_find_by_id(SvDomainList *list, int id);

/* Give obj a fresh id and index it (on start); sv_domain_list_clear_id on stop. */
void sv_domain_list_assign_id(SvDomainList *list, SvDomainObj *obj);
void sv_domain_list_clear_id(SvDomainList *list, SvDomainObj *obj);
/* Keep the id given (reconnect), and keep later ids above it. */
void sv_domain_list_set_id(SvDomainList *list, SvDomainObj *obj, int id);

/* Weak handles. A run is one life of a guest under a driver, from the start of a
 * start (or a reconnect) until the driver lets go of it. Callbacks of asynchronous
 * steps (a process exit, a monitor reply, a timer, a worker's completion) hold the
 * run's handle instead of a pointer, and look the object up again after anything
 * that may have ended the run or freed the object: a handle whose run has ended
 * finds nothing, and a later run of the same domain has another handle. Handles are
 * never 0, so GUINT_TO_POINTER(run) is a valid callback datum.
 *
 * Handles are unique in the process, not only in their list: two lists (two drivers in
 * one process) never hand out the same one, and a handle alone finds its object
 * (sv_domain_run_find), whose list's owner is its driver. */
guint sv_domain_list_begin_run(SvDomainList *list, SvDomainObj *obj);
void sv_domain_list_end_run(SvDomainList *list, SvDomainObj *obj);
/* The object of run in list; NULL when that run has ended or is another list's. */
SvDomainObj *sv_domain_list_find_run(SvDomainList *list, guint run);
/* The object of run, in whichever list; NULL once that run has ended. */
SvDomainObj *sv_domain_run_find(guint run);

/* The callback datum of obj's current run (GUINT_TO_POINTER of its handle). */
static inline gpointer
sv_domain_obj_run_key(const SvDomainObj *obj)
{
    return GUINT_TO_POINTER(obj->run);
}

/* A driver's data of a run. What a driver keeps about a running guest (its processes,
 * what is under way) lives in obj->priv, exactly as long as the run: it is attached when
 * the run begins (a start, a reconnect) and freed when the daemon lets go of the guest.
 *
 * Attach priv (transfer full; priv_free frees it, also when obj is removed) to obj, which
 * has none, and begin a run; its handle. */
guint sv_domain_list_attach_run(SvDomainList *list, SvDomainObj *obj, gpointer priv,
                                GDestroyNotify priv_free);
/* End obj's run and free its driver data (NULL first, then freed). */
void sv_domain_list_release_run(SvDomainList *list, SvDomainObj *obj);
/* The object of a callback's datum (sv_domain_obj_run_key()), if that run goes on with
 * its driver data; NULL once it has ended. */
SvDomainObj *sv_domain_list_find_attached(SvDomainList *list, gpointer key);
/* The same without the list: the object of key in whichever list, if that run goes on
 * with its driver data. */
SvDomainObj *sv_domain_run_find_attached(gpointer key);

/* A restarted daemon takes back a running guest from the live definition its status file
 * recorded. Whether it may: no other domain has its name or its UUID, and its own domain
 * is not running already (another status file named it). FALSE with INTERNAL_ERROR in
 * error domain `from` saying which. */
gboolean sv_domain_list_check_live(SvDomainList *list, const SvDomainDef *live, int from,
                                   GError **error);
/* The object of that guest, live (transfer full) its definition, once
 * sv_domain_list_check_live() has passed. The definition on disk decides persistence,
 * whatever the status file says (it may predate a define or an undefine): a domain defined
 * there is persistent and runs on live until it stops (its definition waits in new_def);
 * any other becomes a new transient domain. */
SvDomainObj *sv_domain_list_take_live(SvDomainList *list, SvDomainDef *live);

/* Replace obj's definition (same UUID; the name may not change here). */
void sv_domain_obj_set_def(SvDomainObj *obj, SvDomainDef *def);

/* The guest is gone (or its start failed): the persistent definition waiting in new_def,
 * if any, takes the place of the live one it ran on. */
void sv_domain_obj_restore_def(SvDomainObj *obj);
/* From here the guest runs on `live` (transfer full), a copy of its definition that gains
 * live state (aliases, ptys, ports); the persistent one comes back when it stops, through
 * sv_domain_obj_restore_def() (a definition written meanwhile replaces it there). */
void sv_domain_obj_run_on_live(SvDomainObj *obj, SvDomainDef *live);

gboolean sv_domain_obj_is_active(const SvDomainObj *obj);

/* Record who asked for what happens next to obj (a client's call, the guest, the
 * hypervisor, the daemon); the next transitions are logged with it. */
void sv_domain_obj_set_cause(SvDomainObj *obj, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* The one state-change step every driver shares: checks the transition against the
 * table every hypervisor follows (a warning for anything else), one log line (old state,
 * new state, reasons, who asked) when anything changes, then the new state and its time. */
void sv_domain_obj_set_state(SvDomainObj *obj, int state, int reason);

/* Objects matching virConnectListAllDomains flags, in no order. (transfer container) */
GPtrArray *sv_domain_list_filter(SvDomainList *list, guint flags);
guint sv_domain_list_count_active(SvDomainList *list, gboolean active);
guint sv_domain_list_size(SvDomainList *list);
