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
