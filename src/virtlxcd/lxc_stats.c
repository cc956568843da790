/* lxc_stats.c: DOMAIN_BLOCK_STATS(_FLAGS) and DOMAIN_MEMORY_STATS of a container (issue
 * 18, LXC tuning), as libvirt's lxcDomainBlockStats(Flags) and lxcDomainMemoryStats
 * answer them, from the container's cgroup. Block statistics are every device summed, for
 * the empty path: a container runs with no <disk> (its start refuses them), so any other
 * path is libvirt's "invalid path". */
#include "lxc_domain.h"

#include "domain/domain_wire.h"
#include "programs/remote.h"
#include "domain/domain_stats.h"
#include "util/error.h"

/* libvirt's LXC_NB_DOMAIN_BLOCK_STAT_PARAM, in its order. */
static const char *const param_names[] = {"wr_bytes", "wr_operations", "rd_bytes",
                                          "rd_operations"};

/* rd_bytes, wr_bytes, rd_req, wr_req of a running container's cgroup, with libvirt's
 * errors. */
static gboolean
container_io(SvCall *call, const remote_nonnull_domain *dom, const char *path, gint64 out[4],
             GError **error)
{
    SvDomainObj *obj = sv_domain_driver_lookup(sv_domain_driver_of(call), dom, error);
    LxcDomain *ld;

    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ld = lxc_domain_of(obj);
    if (!ld || !ld->cgroup || !sv_cgroup_get_dir(ld->cgroup, "blkio")) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID, "blkio cgroup isn't mounted");
        return FALSE;
    }
    if (*path) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_INVALID_ARG, "invalid path: %s", path);
        return FALSE;
    }
    return sv_cgroup_get_blkio_serviced(ld->cgroup, &out[0], &out[1], &out[2], &out[3], error);
}

static gboolean
domain_block_stats(SvCall *call, remote_domain_block_stats_args *a,
                   remote_domain_block_stats_ret *ret, GError **error)
{
    gint64 io[4];

    if (!container_io(call, &a->dom, a->path, io, error))
        return FALSE;
    *ret = (remote_domain_block_stats_ret){io[2], io[0], io[3], io[1], -1};
    return TRUE;
}

static gboolean
domain_block_stats_flags(SvCall *call, remote_domain_block_stats_flags_args *a,
                         remote_domain_block_stats_flags_ret *ret, GError **error)
{
    GError *local = NULL;
    gint64 io[4];
    guint n;

    /* VIR_TYPED_PARAM_STRING_OKAY (4) is the client's, as libvirt accepts it. */
    if (!sv_domain_driver_check_flags(sv_domain_driver_of(call), a->flags, 4,
                                      "DomainBlockStatsFlags", error))
        return FALSE;
    if (a->nparams < 0 || a->nparams > REMOTE_DOMAIN_BLOCK_STATS_PARAMETERS_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "nparams too large");
        return FALSE;
    }
    /* Asked for none: the count, before any lookup. */
    if (a->nparams == 0) {
        ret->nparams = G_N_ELEMENTS(param_names);
        return TRUE;
    }
    if (!container_io(call, &a->dom, a->path, io, &local)) {
        /* A cgroup that could not be read is libvirt's generic failure. */
        if (g_error_matches(local, sv_error_quark(SV_FROM_CGROUP), SV_ERR_INTERNAL_ERROR)) {
            g_clear_error(&local);
            sv_error_set(&local, SV_FROM_LXC, SV_ERR_INTERNAL_ERROR, "domain stats query failed");
        }
        g_propagate_error(error, local);
        return FALSE;
    }
    n = MIN((guint)a->nparams, G_N_ELEMENTS(param_names));
    ret->params.params_val = g_new0(remote_typed_param, n);
    ret->params.params_len = n;
    for (guint i = 0; i < n; i++) {
        const gint64 value[] = {io[1], io[3], io[0], io[2]};

        sv_typed_param_set_llong(&ret->params.params_val[i], param_names[i], value[i]);
    }
    ret->nparams = (int)n;
    return TRUE;
}

/* libvirt's three, in its order: the current memory, memory and swap used (tagged
 * SWAP_IN), memory used (RSS), in KiB. */
static gboolean
domain_memory_stats(SvCall *call, remote_domain_memory_stats_args *a,
                    remote_domain_memory_stats_ret *ret, GError **error)
{
    SvDomainObj *obj;
    LxcDomain *ld;
    guint64 mem = 0, memsw = 0;
    guint n;

    if (!sv_domain_memory_stats_check_args(call, a, error))
        return FALSE;
    obj = sv_domain_driver_lookup(sv_domain_driver_of(call), &a->dom, error);
    if (!obj || !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ld = lxc_domain_of(obj);
    if (!ld || !ld->cgroup) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_OPERATION_INVALID,
                     "cgroup memory controller is not mounted");
        return FALSE;
    }
    if (!sv_cgroup_get_memory_usage(ld->cgroup, &mem, &memsw, error))
        return FALSE;
    const remote_domain_memory_stat all[] = {
        {SV_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, obj->def->current_memory_kib},
        {SV_DOMAIN_MEMORY_STAT_SWAP_IN, memsw >> 10},
        {SV_DOMAIN_MEMORY_STAT_RSS, mem >> 10},
    };
    n = MIN(a->maxStats, G_N_ELEMENTS(all));
    ret->stats.stats_len = n;
    ret->stats.stats_val = g_memdup2(all, sizeof(all[0]) * MAX(n, 1));
    return TRUE;
}

void
lxc_stats_install(SvRemoteHandlers *h)
{
    h->domain_memory_stats = domain_memory_stats;
    h->domain_block_stats = domain_block_stats;
    h->domain_block_stats_flags = domain_block_stats_flags;
}
