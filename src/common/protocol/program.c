/* program.c: what every generated procedure table needs at run time: the void XDR filter
 * and the lookup of an entry by procedure number. */
#include "protocol/program.h"

bool_t
sv_xdr_void(XDR *xdrs, void *obj)
{
    (void)xdrs;
    (void)obj;
    return TRUE;
}

const SvProcInfo *
sv_program_info_lookup(const SvProgramInfo *info, int proc)
{
    guint lo = 0, hi = info->n_procs;

    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        if (info->procs[mid].proc == proc)
            return &info->procs[mid];
        if (info->procs[mid].proc < proc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static const char *const family_names[SV_PROC_FAMILY_LAST] = {
    [SV_PROC_FAMILY_PRIMARY] = "primary",     [SV_PROC_FAMILY_STORAGE] = "storage",
    [SV_PROC_FAMILY_SECRET] = "secret",       [SV_PROC_FAMILY_NODEDEV] = "nodedev",
    [SV_PROC_FAMILY_NETWORK] = "network",     [SV_PROC_FAMILY_INTERFACE] = "interface",
    [SV_PROC_FAMILY_NWFILTER] = "nwfilter",
};

const char *
sv_proc_family_to_string(SvProcFamily family)
{
    if ((guint)family >= SV_PROC_FAMILY_LAST)
        return NULL;
    return family_names[family];
}

int
sv_proc_family_from_string(const char *name)
{
    for (guint i = 0; name && i < SV_PROC_FAMILY_LAST; i++) {
        if (g_str_equal(family_names[i], name))
            return (int)i;
    }
    return -1;
}
