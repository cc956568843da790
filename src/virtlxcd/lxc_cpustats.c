/* lxc_cpustats.c: DOMAIN_GET_CPU_STATS of a container (issue 18, CPU stats), as libvirt's
 * lxcDomainGetCPUStats answers it: the totals (cpu_time, user_time, system_time) and each
 * host CPU's cpu_time, from the container's cpuacct cgroup; the layout on the wire is
 * src/common/domain/domain_cpustats.c's, which virtqemud's answer shares. */
#include "lxc_domain.h"

#include "domain/domain_cpustats.h"
#include "util/error.h"
#include "util/host_stats.h"

static char *
read_percpu(gpointer data, GError **error)
{
    return sv_cgroup_get_cpu_percpu(data, error);
}

/* The host's CPU count as libvirt's cgroup layer takes it (the highest present id + 1). */
static guint
host_cpus(GError **error)
{
    g_autofree guint8 *map = NULL;
    gsize len;
    guint online;
    int n = sv_host_cpu_map("/sys", &map, &len, &online, error);

    return n > 0 ? (guint)n : 0;
}

static gboolean
domain_get_cpu_stats(SvCall *call, remote_domain_get_cpu_stats_args *a,
                     remote_domain_get_cpu_stats_ret *ret, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of(call);
    SvDomainObj *obj;
    LxcDomain *ld;
    guint64 total = 0, user = 0, sys = 0;
    guint ncpus;

    /* VIR_TYPED_PARAM_STRING_OKAY (4) is the client's, as libvirt accepts it. */
    if (!sv_domain_cpu_stats_check_args(a, error) ||
        !sv_domain_driver_check_flags(drv, a->flags, 4, "DomainGetCPUStats", error) ||
        !(obj = sv_domain_driver_lookup(drv, &a->dom, error)) ||
        !sv_domain_driver_check_active(obj, error))
        return FALSE;
    ld = lxc_domain_of(obj);
    if (!ld || !ld->cgroup || !sv_cgroup_get_dir(ld->cgroup, "cpuacct")) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID,
                     "cgroup CPUACCT controller is not mounted");
        return FALSE;
    }
    if (a->start_cpu != -1) {
        if (!(ncpus = host_cpus(error)))
            return FALSE;
        return sv_domain_cpu_stats_percpu(a, ret, ncpus, read_percpu, ld->cgroup, error);
    }
    if (a->nparams > 0 && !sv_cgroup_get_cpu_times(ld->cgroup, &total, &user, &sys)) {
        sv_error_set(error, SV_FROM_CGROUP, SV_ERR_INTERNAL_ERROR, "unable to get cpu account");
        return FALSE;
    }
    sv_domain_cpu_stats_total(a, ret, total, user, sys);
    return TRUE;
}

void
lxc_cpustats_install(SvRemoteHandlers *h)
{
    h->domain_get_cpu_stats = domain_get_cpu_stats;
}
