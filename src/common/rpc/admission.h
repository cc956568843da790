/* admission.h: whether a call goes on to its handler: the rules every program's procedures
 * share, as one pure function of the facts the dispatcher gathers (dispatch.c). */
#pragma once

#include <glib.h>

#include "protocol/program.h"
#include "rpc/frame.h"

/* What admission looks at; the dispatcher fills it from the call's header and its
 * connection. Nothing here is owned. */
typedef struct {
    const SvHeader *hdr;
    const SvProgramInfo *program; /* the program served with hdr's number and version, or NULL */
    const void *handlers;         /* that program's handler struct (NULL: none at all) */
    gboolean open;                /* the connection is open (CONNECT_OPEN answered OK) */
    gboolean authenticated;       /* the client has nothing left to pass (server.h, SvAuth) */
    gboolean readonly;            /* the connection is read-only */
    /* Whether the program relays a procedure it has no handler for on this server (a
     * hypervisor daemon's secondary families); NULL: nothing is. */
    SvRelaysFunc relays;
    gpointer relays_data;
    /* The family whose driver the daemon is (SvServedFamilyFunc): PRIMARY for a hypervisor
     * daemon, the proxy and every program but remote. */
    SvProcFamily family;
} SvCallFacts;

/* The table entry of the call when it may go on to decoding its arguments; NULL with
 * *error set to the libvirt error to reply with when it may not. The rules, in libvirt's
 * order: the header's status, the program, the procedure, the client having authenticated
 * (only the AUTH_* calls are served before: "noauth"), the connection being open (or
 * not yet, for one that opens it; a secondary driver's daemon has no connection of another
 * family it does not relay), read-only access, whether a handler exists (or the program
 * relays the call; a secondary driver's daemon answers the hypervisor API's calls it lacks
 * with libvirt's NO_SUPPORT naming the API, any daemon others with "unknown procedure"), and last
 * whether its types fit the dispatcher's buffer (SV_PROC_BUF_SIZE; only a table made by
 * hand can fail that, the generated ones are checked at build time). Pure: it reads
 * `facts` and the tables they point to, and nothing else. */
const SvProcInfo *sv_call_admit(const SvCallFacts *facts, GError **error);
