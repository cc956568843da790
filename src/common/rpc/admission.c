/* admission.c: the rules a call passes before its arguments are decoded (admission.h). */
#include "rpc/admission.h"

#include "protocol/sv_net.h"
#include "util/error.h"

/* The error domain of libvirt's read-only refusal: the public API's own (libvirt-secret.c
 * reports it as SECRET, libvirt-storage.c as STORAGE), by the API's family; DOMAIN for the rest. */
static int
readonly_error_from(const char *api)
{
    if (g_str_has_prefix(api, "virSecret"))
        return SV_FROM_SECRET;
    if (g_str_has_prefix(api, "virStorage") ||
        g_str_equal(api, "virConnectFindStoragePoolSources"))
        return SV_FROM_STORAGE; /* libvirt-storage.c */
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

const SvProcInfo *
sv_call_admit(const SvCallFacts *facts, GError **error)
{
    const SvProcInfo *p = admit_procedure(facts, error);

    if (!p)
        return NULL;
    if (!(p->flags & SV_PROC_NOOPEN) && !facts->open) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "hypervisor connection not open");
        return NULL;
    }
    if ((p->flags & SV_PROC_OPEN) && facts->open) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_INTERNAL_ERROR, "connection already open");
        return NULL;
    }
    if (facts->readonly && !(p->flags & SV_PROC_RO)) {
        sv_error_set(error, readonly_error_from(p->api), SV_ERR_OPERATION_DENIED,
                     "read only access prevents %s", p->api);
        return NULL;
    }
    /* Checked after the connection rules, as libvirt checks read-only access in
     * its public API before the driver can say it lacks the call. */
    if (!sv_proc_has_handler(p, facts->handlers) &&
        !(facts->relays && facts->relays(facts->relays_data, p))) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "unknown procedure: %d", facts->hdr->proc);
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
