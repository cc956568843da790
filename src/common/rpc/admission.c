/* admission.c: the rules a call passes before its arguments are decoded (admission.h). */
#include "rpc/admission.h"

#include "protocol/sv_net.h"
#include "util/error.h"

/* The error domain of the libvirt public API file a procedure's API lives in, which its
 * read-only refusal and its "not supported" answer report: the family's own
 * (libvirt-storage.c reports STORAGE, libvirt-secret.c SECRET, ...); DOMAIN for the primary
 * family's calls, host calls included (libvirt-host.c reports DOMAIN too), but for the
 * snapshots', checkpoints' and node devices' files (a device's detach is the hypervisor
 * driver's call, libvirt-nodedev.c's API), and libvirt-qemu.c's, which reports none. */
static int
api_error_from(const SvProcInfo *p)
{
    static const int family_from[SV_PROC_FAMILY_LAST] = {
        [SV_PROC_FAMILY_PRIMARY] = SV_FROM_DOMAIN,     [SV_PROC_FAMILY_STORAGE] = SV_FROM_STORAGE,
        [SV_PROC_FAMILY_SECRET] = SV_FROM_SECRET,      [SV_PROC_FAMILY_NODEDEV] = SV_FROM_NODEDEV,
        [SV_PROC_FAMILY_NETWORK] = SV_FROM_NETWORK,    [SV_PROC_FAMILY_INTERFACE] = SV_FROM_INTERFACE,
        [SV_PROC_FAMILY_NWFILTER] = SV_FROM_NWFILTER,
    };

    if (p->family != SV_PROC_FAMILY_PRIMARY)
        return family_from[p->family];
    if (g_str_has_prefix(p->api, "virDomainSnapshot"))
        return SV_FROM_DOMAIN_SNAPSHOT;
    if (g_str_has_prefix(p->api, "virDomainCheckpoint"))
        return SV_FROM_DOMAIN_CHECKPOINT;
    if (g_str_has_prefix(p->api, "virNodeDevice"))
        return SV_FROM_NODEDEV;
    if (g_str_has_prefix(p->api, "virDomainQemu") ||
        g_str_has_prefix(p->api, "virConnectDomainQemu"))
        return SV_FROM_NONE;
    return SV_FROM_DOMAIN;
}

/* The header and the tables: is there such a procedure at all? */
static const SvProcInfo *
admit_procedure(const SvCallFacts *facts, GError **error)
{
    const SvHeader *h = facts->hdr;
    const SvProcInfo *p;

    if (h->status != SV_NET_OK) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "Unexpected message status %u", h->status);
        return NULL;
    }
    if (!facts->program) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "Cannot find program %d version %d",
                     (int)h->prog, (int)h->vers);
        return NULL;
    }
    p = sv_program_info_lookup(facts->program, h->proc);
    if (!p || (p->flags & SV_PROC_MSG)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: %d", h->proc);
        return NULL;
    }
    return p;
}

/* Whether the program serves the call on this server: a handler, or a relay. */
static gboolean
served(const SvCallFacts *facts, const SvProcInfo *p)
{
    return sv_proc_has_handler(p, facts->handlers) ||
           (facts->relays && facts->relays(facts->relays_data, p));
}

/* Whether the libvirt connection the call needs is there. Before CONNECT_OPEN none is; the
 * hypervisor connection's calls and the secondary families' are told so in different words
 * (libvirt's remoteGetHypervisorConn, remoteGetStorageConn, ...). After it, a secondary
 * driver's daemon (facts->family) holds its own family's connection, and as its primary
 * connection the same one, whose hypervisor API lacks nearly every call (answered
 * NO_SUPPORT below, after the read-only check that API makes first); a family that is
 * neither is one it never opened, unless it relays it (libvirt's storage daemon co-opens
 * the secret driver). */
static gboolean
admit_connection(const SvCallFacts *facts, const SvProcInfo *p, GError **error)
{
    if (!(p->flags & SV_PROC_NOOPEN) && !facts->open) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "%s",
                     p->family == SV_PROC_FAMILY_PRIMARY ? "hypervisor connection not open"
                                                         : "connection not open");
        return FALSE;
    }
    if ((p->flags & SV_PROC_OPEN) && facts->open) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "connection already open");
        return FALSE;
    }
    if (facts->family != SV_PROC_FAMILY_PRIMARY && p->family != SV_PROC_FAMILY_PRIMARY &&
        p->family != facts->family && !served(facts, p)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "connection not open");
        return FALSE;
    }
    return TRUE;
}

const SvProcInfo *
sv_call_admit(const SvCallFacts *facts, GError **error)
{
    const SvProcInfo *p = admit_procedure(facts, error);

    if (!p)
        return NULL;
    /* libvirt answers so rather than AUTH_FAILED, which old clients did not know. */
    if (!facts->authenticated && !(p->flags & SV_PROC_NOAUTH)) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "authentication required");
        return NULL;
    }
    if (!admit_connection(facts, p, error))
        return NULL;
    if (facts->readonly && !(p->flags & SV_PROC_RO)) {
        sv_error_set(error, api_error_from(p), SV_ERR_OPERATION_DENIED,
                     "read only access prevents %s", p->api);
        return NULL;
    }
    /* Checked after the connection rules, as libvirt checks read-only access in
     * its public API before the driver can say it lacks the call. A secondary driver's
     * daemon lacks the hypervisor driver's calls as libvirt's does; any other call without
     * a handler is one this project has not written. */
    if (!served(facts, p)) {
        if (facts->family != SV_PROC_FAMILY_PRIMARY && p->family == SV_PROC_FAMILY_PRIMARY)
            sv_error_set(error, api_error_from(p), SV_ERR_NO_SUPPORT, "%s", p->api);
        else
            sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: %d",
                         facts->hdr->proc);
        return NULL;
    }
    if (p->args_size > SV_PROC_BUF_SIZE || p->ret_size > SV_PROC_BUF_SIZE) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR,
                     "procedure %s: arguments or return value over %d bytes", p->name,
                     SV_PROC_BUF_SIZE);
        return NULL;
    }
    return p;
}
