/* domain_status.h: what the drivers share of their status files, RUN_DIR/NAME.xml: a
 * <domstatus> element, with each driver's own attributes and children, around the
 * guest's live <domain>. Written by each driver on every change; read back by a restarted
 * daemon as hostile input: the readers here take what is there and never trust it (each
 * driver checks every value before it acts on one), and a file that cannot be trusted is
 * set aside for a person to look at. */
#pragma once

#include <libxml/tree.h>

#include "conf/domain_conf.h"
#include "conf/domain_obj.h"

/* What every driver's <domstatus> says of the guest, in the same attributes: state
 * ("running", as sv_domain_state_to_string()), reason, statetime (g_get_real_time() of the
 * last change) and persistent. */
typedef struct {
    int state; /* SvDomainState; -1 when absent or unknown (read back) */
    int reason;
    gint64 state_time;
    gboolean persistent;
} SvStatusCommon;

/* The common part of obj's status. */
static inline SvStatusCommon
sv_status_common_of(const SvDomainObj *obj)
{
    return (SvStatusCommon){obj->state, obj->reason, obj->state_time, obj->persistent};
}

/* A status file's text: <domstatus> with c's attributes, then the driver's own (attrs:
 * " name='value'..." or NULL), its own child elements (children: whole lines, indented, or
 * NULL), then the live definition (live formatted with its id), the one format of every
 * driver; a state out of range is written "nostate". (transfer full) */
char *sv_status_format(const SvStatusCommon *c, const char *attrs, const char *children,
                       const SvDomainDef *live, int id);

/* The common attributes of a <domstatus> root as found (absent numbers are 0), for the
 * driver to check before it believes any. */
void sv_status_read_common(xmlNodePtr root, SvStatusCommon *c);

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

/* The live definition in dom, a <domain> element of doc (its id and pty paths kept, as
 * live state is). (transfer full) */
SvDomainDef *sv_status_parse_domain(xmlDocPtr doc, xmlNodePtr dom, GError **error);

/* A status file a restarted daemon cannot trust: renamed to PATH.rejected, with a warning
 * saying why. Nothing it names is touched, and nothing reads it again. */
void sv_status_set_aside(const char *path, const GError *why);

/* A restarted daemon's walk over its run directory, before any status file is written:
 * sv_file_walk_dir(run_dir, ".xml", fn, data) (util/fileio.h). */
