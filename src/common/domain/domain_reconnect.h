/* domain_reconnect.h: the one reconnect loop of a restarted daemon over its status files
 * (docs/lifecycle.md, "Restarts"), the same rule for every driver:
 *  - temporary files of interrupted status writes are removed (sv_file_walk_dir);
 *  - each NAME.xml is read by the one strict reader (conf/domain_status.h); a file that
 *    fails, or whose definition another domain's name or UUID contradicts
 *    (sv_domain_list_check_live), is set aside as NAME.xml.rejected, nothing it names
 *    touched;
 *  - the guest it names is looked for (the driver's find): something else in its place is
 *    set aside too; a guest gone (or a child held by a dead daemon before it ever ran,
 *    which only a start not finished can leave) is cleaned up (the driver's gone);
 *  - a live one is adopted: the definition on disk decides persistence
 *    (sv_domain_list_take_live), the state, reason and time are the file's, the engine's
 *    run state RUNNING or PAUSED as clients saw it, then the driver's attach, and an
 *    AUTODESTROY client recorded is one gone (SV_RUN_CLIENT_GONE); then a start that
 *    never finished is stopped at once (its client never heard it start), and anything
 *    else goes on as recorded (the driver's carry_on: a kill request in its mode, with its
 *    deadline, or the destroy of a guest whose AUTODESTROY client is gone);
 *  - then, unless a file was set aside (what it names cannot be told from leftovers), what
 *    no status file owns is removed (the driver's finish), and autostart runs.
 * Drivers give the facts: their file style, how a guest is found and attached, how one
 * that is gone is cleaned up. */
#pragma once

#include "conf/domain_status.h"
#include "domain/domain_driver.h"
#include "util/process.h"

/* What the driver found of a status file's guest. */
typedef enum {
    SV_RECONNECT_LIVE,    /* it lives and is ours: *ret_handle holds it */
    SV_RECONNECT_GONE,    /* it is gone, or never ran */
    SV_RECONNECT_FOREIGN, /* something else lives in its place (error set): set aside */
    SV_RECONNECT_DROPPED, /* alive but it cannot be managed: the driver stopped it */
} SvReconnectFound;

typedef struct {
    const SvStatusStyle *status;
    /* Find the guest of a checked file: its process or hypervisor domain. */
    SvReconnectFound (*find)(SvStatus *st, gpointer *ret_handle, gpointer data, GError **error);
    /* The guest is gone: remove what it left (its status file at path included); obj is
     * the domain of its definition, if one is defined, inactive. */
    void (*gone)(const char *path, SvStatus *st, SvDomainObj *obj, gpointer data);
    /* Take a live guest back (handle: find's): the run's driver data, its id, the rest of
     * its run state; the state, reason and time are set already, the run state RUNNING or
     * PAUSED. */
    void (*attach)(SvDomainObj *obj, SvStatus *st, gpointer handle, gpointer data);
    /* Stop the guest of a start that never finished, at once (NULL: find never finds one
     * live, a start's guest having nothing to take back yet). */
    void (*stop_unfinished)(SvDomainObj *obj, SvStatus *st, gpointer data);
    /* What was under way goes on (a kill request in its recorded mode with its deadline),
     * and the guest's state is brought up to date. */
    void (*carry_on)(SvDomainObj *obj, SvStatus *st, gpointer data);
    /* After the walk, before autostart (may be NULL): what is left to release, and, when
     * no file was set aside (rejected FALSE), what no status file owns is removed. */
    void (*finish)(gboolean rejected, gpointer data);
} SvReconnectFacts;

/* Apply the rule to every status file in run_dir, then autostart (once per boot). Returns
 * how many files were set aside. */
guint sv_domain_reconnect_all(SvDomainDriver *drv, const char *run_dir,
                              const SvReconnectFacts *facts, gpointer data);

/* find() for a guest that is one process recorded by pid and start time: it must run exe
 * (util/process.h, sv_process_attach_checked). One that still runs the daemon's own
 * executable is a child a dead daemon held before releasing it, which only a start not
 * finished leaves (gone, it exits by itself); for any other file it is something else.
 * what names the process in the error ("container supervisor"). */
SvReconnectFound sv_domain_reconnect_find_process(const SvStatus *st, const char *exe,
                                                  const char *what, SvProcess **ret_proc,
                                                  GError **error);
