/* domain_helper.h: the helper processes of a guest's run (virtiofsd for a QEMU guest's
 * virtiofs shares), which live and die with the guest as libvirt's external devices do.
 *
 * Each helper is held by a pidfd (util/process.h) under an id unique in its run (the
 * device's alias). A driver spawns it held before exec and adds it to the run
 * (SvDomainRun.helpers) before the status file is written; the status file names it
 * (sv_run_helpers_format_status), and only then is it let go (sv_run_helpers_release), so
 * no helper of ours ever runs that a restarted daemon cannot find. The engine ends every
 * helper of a run at its teardown (sv_run_helpers_stop); when the daemon exits with the
 * guest running they run on, and the restarted daemon takes them back from the status file
 * (sv_run_helpers_take_status), checking each is still the process recorded and runs the
 * program the definition names. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "util/process.h"

/* How long a helper gets after SIGTERM, then after SIGKILL (libvirt kills its external
 * devices "painfully": SIGTERM, then SIGKILL after 10 s). */
#define SV_RUN_HELPER_TERM_MS 10000
#define SV_RUN_HELPER_KILL_MS 5000

typedef struct SvRunHelper SvRunHelper;

/* A run's helpers: a list of SvRunHelper, freed (each process left running, unwatched) with
 * the list. (transfer full) */
GPtrArray *sv_run_helpers_new(void);

/* Add proc (transfer full), running program `exe`, under `id`. */
void sv_run_helpers_add(GPtrArray *helpers, const char *id, const char *exe, SvProcess *proc);

/* The process of helper `id`, or NULL. (transfer none) */
SvProcess *sv_run_helpers_find(GPtrArray *helpers, const char *id);

/* Let every helper spawned held (SvSpawnOptions.hold_exec) run its program; FALSE with the
 * first failure (the helper has then exited). Helpers not held are left as they are. */
gboolean sv_run_helpers_release(GPtrArray *helpers, GError **error);

/* End every helper: SIGTERM, then SIGKILL, nobody waiting; each is freed once gone, and the
 * list is emptied at once. */
void sv_run_helpers_stop(GPtrArray *helpers);

/* For the status file: one "  <helper id='...' pid='N' starttime='N' exe='...'/>" line per
 * helper. */
void sv_run_helpers_format_status(const GPtrArray *helpers, GString *out);

/* What program helper `id` of a guest must run (NULL: the guest has no such helper), from
 * the guest's definition, for sv_run_helpers_take_status. (transfer none) */
typedef const char *(*SvRunHelperExe)(const char *id, gpointer data);

/* A restarted daemon takes back the <helper> children of `domstatus` that are still the
 * processes recorded (pid and start time) running the program exe_of gives for their id
 * (the status file is read as hostile input: nothing else is ever signalled); the others
 * are skipped with a message. */
void sv_run_helpers_take_status(GPtrArray *helpers, xmlNodePtr domstatus, SvRunHelperExe exe_of,
                                gpointer data);
