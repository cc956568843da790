/* domain_status.h: the drivers' status files, RUN_DIR/NAME.xml: one <domstatus> format
 * around the guest's live <domain>, with what every driver records in common (state and
 * reason, persistence, a start not finished, the guest's process, a kill under way) and
 * each driver's own attributes and children. Written by each driver on every change; read
 * back by a restarted daemon as hostile input, through one strict reader: every common
 * value is checked here, and the driver's hook checks its own, before anything a file
 * names is acted on. A file that cannot be trusted is set aside for a person to look at. */
#pragma once

#include <libxml/tree.h>
#include <sys/types.h>

#include "conf/domain_conf.h"
#include "conf/domain_obj.h"

/* A kill under way, as a status file records it. */
typedef enum {
    SV_STATUS_KILL_NONE,
    SV_STATUS_KILL_GRACEFUL, /* SIGTERM only, failing at its deadline */
    SV_STATUS_KILL_FORCED,   /* SIGKILL at its deadline */
    SV_STATUS_KILL_LAST
} SvStatusKill;

const char *sv_status_kill_to_string(int mode);
int sv_status_kill_from_string(const char *s);

/* What every driver's <domstatus> records in common: state ("running", as
 * sv_domain_state_to_string()), reason, statetime (g_get_real_time() of the last change),
 * persistent, starting (a start whose client has not heard it succeed), autodestroy, the
 * guest's process (pid and start time) and a kill under way (mode and deadline, on the
 * system's monotonic clock). Which of the last ones a driver records, and in which
 * attributes, is its SvStatusStyle's. */
typedef struct {
    int state; /* SvDomainState */
    int reason;
    gint64 state_time;
    gboolean persistent;
    gboolean starting;
    gboolean autodestroy;
    pid_t pid; /* 0: none */
    guint64 start_time;
    SvStatusKill kill_mode;
    gint64 kill_deadline;
} SvStatusCommon;

/* The common part of obj's status (the rest is the driver's to fill in). */
static inline SvStatusCommon
sv_status_common_of(const SvDomainObj *obj)
{
    return (SvStatusCommon){.state = obj->state,
                            .reason = obj->reason,
                            .state_time = obj->state_time,
                            .persistent = obj->persistent};
}

typedef struct SvStatus SvStatus;
typedef struct SvStatusStyle SvStatusStyle;

/* How a driver's files record the common part (the names they have always had), and its
 * hook for its own part. */
struct SvStatusStyle {
    int from;                  /* the driver's error domain */
    const char *process;       /* element with the process's pid and starttime: "" for
                                * <domstatus> itself, NULL for no process */
    const char *kill_mode;     /* attributes of a kill under way; NULL: none recorded */
    const char *kill_deadline;
    gboolean autodestroy;      /* autodestroy is recorded */
    gboolean start_shut_off;   /* a start is recorded before its guest exists, still shut
                                * off (otherwise the state of a file is one that runs) */
    /* Read and check the driver's own attributes and elements (root is <domstatus>, st
     * holds the common part and the definition, checked), setting st->own. */
    gboolean (*read_own)(const SvStatusStyle *style, xmlNodePtr root, SvStatus *st,
                         GError **error);
    GDestroyNotify free_own; /* frees st->own */
};

/* A status file read back, every value checked. */
struct SvStatus {
    SvStatusCommon c;
    SvDomainDef *def; /* the live definition */
    int id;           /* its id, -1 when it has none (0 and up otherwise) */
    xmlDocPtr doc;    /* the whole file, for the driver's hook */
    gpointer own;     /* the driver's record (style->read_own) */
    GDestroyNotify free_own;
};

void sv_status_free(SvStatus *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SvStatus, sv_status_free)

/* A driver's own part of a file: attributes of <domstatus> and of its process element
 * (" name='value'..."), and child elements (whole lines, indented); each may be NULL. */
typedef struct {
    const char *attrs;
    const char *process_attrs;
    const char *children;
} SvStatusOwn;

/* A status file's text: <domstatus> with c's attributes in style's names, the driver's
 * own attributes, the process element, the driver's children, then the live definition
 * (live formatted with its id); a state out of range is written "nostate". (transfer
 * full) */
char *sv_status_format(const SvStatusStyle *style, const SvStatusCommon *c,
                       const SvStatusOwn *own, const SvDomainDef *live, int id);

/* The one strict reader: text as a status file named file ("NAME.xml", or NULL not to
 * check), refusing what is not a <domstatus> with a <domain>, a definition named other
 * than the file, an unknown state (or one of a guest not running, but for a start of a style->start_shut_off driver), a
 * reason beyond 64, negative times, flags other than 0 and 1, an unknown kill mode, a
 * process without a pid above 1 and a start time, a domain id below 1; then style's hook
 * checks its own. NULL with INTERNAL_ERROR in style->from's domain saying why.
 * (transfer full) */
SvStatus *sv_status_parse(const char *text, gsize len, const char *file,
                          const SvStatusStyle *style, GError **error);
/* sv_status_parse() of the file at path (at most 16 MiB), named as its base name. */
SvStatus *sv_status_load(const char *path, const SvStatusStyle *style, GError **error);

/* A status file's text as a document whose root is <domstatus> (parsed without network
 * access or error output). NULL with INTERNAL_ERROR in error domain `from` otherwise.
 * (transfer full: xmlFreeDoc) */
xmlDocPtr sv_status_read(const char *text, gsize len, int from, GError **error);

/* The first child element of n named name; NULL when there is none or n is NULL. */
xmlNodePtr sv_status_child(xmlNodePtr n, const char *name);
/* An attribute's value; NULL when absent or n is NULL. (transfer full) */
char *sv_status_attr(xmlNodePtr n, const char *name);
/* An attribute as a decimal integer: 0 when absent, and no range check (the caller's). */
gint64 sv_status_attr_int(xmlNodePtr n, const char *name);
/* An attribute as a decimal integer in [min, max], `otherwise` when absent; FALSE with an
 * error in domain from naming it when it is not one. */
gboolean sv_status_attr_range(xmlNodePtr n, const char *name, gint64 min, gint64 max,
                              gint64 otherwise, gint64 *out, int from, GError **error);
/* An attribute that is 0 or 1 (absent: 0). */
gboolean sv_status_attr_flag(xmlNodePtr n, const char *name, gboolean *out, int from,
                             GError **error);

/* The live definition in dom, a <domain> element of doc (its id and pty paths kept, as
 * live state is). (transfer full) */
SvDomainDef *sv_status_parse_domain(xmlDocPtr doc, xmlNodePtr dom, GError **error);

/* A status file a restarted daemon cannot trust: renamed to PATH.rejected, with a warning
 * saying why. Nothing it names is touched, and nothing reads it again. */
void sv_status_set_aside(const char *path, const GError *why);

/* A restarted daemon's walk over its run directory, before any status file is written:
 * sv_file_walk_dir(run_dir, ".xml", fn, data) (util/fileio.h); the one loop over it is
 * domain/domain_reconnect.h's. */
