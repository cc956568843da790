/* program.h: what the RPC layer knows of a program: its procedures as table entries. */
#pragma once

#include <glib.h>
#include <rpc/rpc.h>

typedef struct SvCall SvCall;

/* The void filter with the signature every XDR filter has (libtirpc declares xdr_void(void)). */
bool_t sv_xdr_void(XDR *xdrs, void *obj);

enum {
    SV_PROC_RO = 1 << 0,     /* allowed on a read-only connection */
    SV_PROC_NOOPEN = 1 << 1, /* allowed before CONNECT_OPEN */
    SV_PROC_OPEN = 1 << 2,   /* opens the connection */
    SV_PROC_CLOSE = 1 << 3,  /* closes the connection once the reply is out */
    SV_PROC_MSG = 1 << 4,    /* a MESSAGE sent by the server, never a call */
    SV_PROC_STREAM = 1 << 5, /* its OK reply opens a stream on the call's serial */
    SV_PROC_NOAUTH = 1 << 6, /* allowed before the client has authenticated */
};

/* The most bytes a procedure's decoded arguments, or its return value, may take: the
 * dispatcher holds both on its stack. The generated table of every program asserts at
 * build time that its types fit; the admission of a call checks it again for a table
 * made by hand (rpc/admission.c). */
#define SV_PROC_BUF_SIZE 512

/* The driver family of a procedure: which of libvirt's connections serves it. A hypervisor
 * daemon serves SV_PROC_FAMILY_PRIMARY itself and relays the others to their daemons
 * (programs/family_relay.h). gen_dispatch.py --families sets it from the procedure's name
 * (see there); other programs' procedures are all primary. */
typedef enum {
    SV_PROC_FAMILY_PRIMARY = 0,
    SV_PROC_FAMILY_STORAGE,
    SV_PROC_FAMILY_SECRET,
    SV_PROC_FAMILY_NODEDEV,
    SV_PROC_FAMILY_NETWORK,
    SV_PROC_FAMILY_INTERFACE,
    SV_PROC_FAMILY_NWFILTER,
    SV_PROC_FAMILY_LAST,
} SvProcFamily;

/* A set of families, one bit each; every secondary family (all but the primary). */
#define SV_PROC_FAMILY_BIT(family) (1u << (family))
#define SV_PROC_FAMILIES_SECONDARY                                                              \
    (((1u << SV_PROC_FAMILY_LAST) - 1) & ~SV_PROC_FAMILY_BIT(SV_PROC_FAMILY_PRIMARY))

/* "storage", "secret", "nodedev", "network", "interface", "nwfilter" (the URI scheme and
 * the daemon's name: virt<name>d), "primary"; NULL out of range. */
const char *sv_proc_family_to_string(SvProcFamily family);
/* The family named so, or -1. */
int sv_proc_family_from_string(const char *name);

typedef gboolean (*SvInvokeFunc)(const void *handlers, SvCall *call, void *args, void *ret,
                                 GError **error);

typedef struct {
    int proc;
    const char *name; /* "CONNECT_OPEN" */
    const char *api;  /* "virConnectOpen", for the read-only denial */
    xdrproc_t args_filter;
    guint args_size;
    xdrproc_t ret_filter;
    guint ret_size;
    guint flags;
    guint max_fds;        /* descriptors a CALL_WITH_FDS of it may carry (.x "fds:N") */
    gsize handler_offset; /* offset of the handler in the program's handler struct */
    SvInvokeFunc invoke;
    SvProcFamily family;
} SvProcInfo;

/* Asked, after the arguments are decoded, about a call allowed on read-only
 * connections: FALSE with *error set when these arguments are not (libvirt's checks
 * that depend on flags, e.g. virDomainGetXMLDesc with the secure flag). */
typedef gboolean (*SvReadonlyCheckFunc)(SvCall *call, const SvProcInfo *proc, const void *args,
                                        GError **error);

/* Told, after the arguments of a call that opens the connection (SV_PROC_OPEN) are decoded
 * and before its handler runs, what the open asks for beyond "open": the remote program's
 * CONNECT_OPEN makes the connection read-only when its flags say so. The transport knows
 * no program's arguments; this is how a program applies them to the connection. */
typedef void (*SvOpenFunc)(SvCall *call, const void *args);

/* The generated table of a program. */
typedef struct {
    guint32 prog;
    guint32 vers;
    const SvProcInfo *procs; /* sorted by proc */
    guint n_procs;
} SvProgramInfo;

/* What a program adds to its table when it is served (sv_server_add_program_hooks): the
 * hooks the dispatcher calls with the decoded arguments of some calls. The program's own
 * module defines them (programs/remote.c), so neither the generated table nor the
 * transport names them. */
typedef struct SvClient SvClient;

/* Relaying calls of procedures a server has no handler for (a hypervisor daemon's calls of
 * the secondary families). `relays` says, for an admitted call without a handler, whether
 * the program relays it on this server (data: the program's data there); `relay` then takes
 * the call, whole frame and all (the length word included; a CALL_WITH_FDS comes as a
 * plain CALL), deferring it to answer it later. `relay_stream` is offered every STREAM
 * frame of the program's number from a client first: TRUE when it relayed it. */
typedef gboolean (*SvRelaysFunc)(gpointer data, const SvProcInfo *proc);
typedef void (*SvRelayFunc)(gpointer data, SvCall *call, const guint8 *frame, gsize len);
typedef gboolean (*SvRelayStreamFunc)(gpointer data, SvClient *client, const guint8 *frame,
                                      gsize len);

/* The family whose driver the program's daemon is on this server (data: the program's
 * data there): a secondary driver's daemon (SV_PROC_FAMILY_STORAGE, ...) answers the calls
 * it has no driver for as libvirt's per-driver daemons do (rpc/admission.h);
 * SV_PROC_FAMILY_PRIMARY: a hypervisor daemon, or the proxy. */
typedef SvProcFamily (*SvServedFamilyFunc)(gpointer data);

typedef struct {
    SvReadonlyCheckFunc readonly_check; /* NULL: the table's "ro" says it all */
    SvOpenFunc on_open;                 /* NULL: opening changes nothing else */
    SvRelaysFunc relays;                /* NULL: nothing is relayed */
    SvRelayFunc relay;
    SvRelayStreamFunc relay_stream;
    SvServedFamilyFunc served_family; /* NULL: SV_PROC_FAMILY_PRIMARY */
} SvProgramHooks;

/* The entry for `proc`, or NULL. */
const SvProcInfo *sv_program_info_lookup(const SvProgramInfo *info, int proc);

/* Whether `handlers` has a handler for this entry. */
static inline gboolean
sv_proc_has_handler(const SvProcInfo *p, const void *handlers)
{
    return p->invoke && handlers &&
           *(void *const *)((const char *)handlers + p->handler_offset) != NULL;
}
