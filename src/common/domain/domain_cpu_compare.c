/* domain_cpu_compare.c: NO_SUPPORT answers for the CPU comparison and baseline procedures
 * of a driver without them (domain_cpu_compare.h). */
#include "domain/domain_cpu_compare.h"

#include "util/error.h"

static gboolean
no_support(const char *api, GError **error)
{
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "%s", api);
    return FALSE;
}

static gboolean
compare_cpu(SvCall *call, remote_connect_compare_cpu_args *a,
            remote_connect_compare_cpu_ret *r, GError **error)
{
    (void)call, (void)a, (void)r;
    return no_support("virConnectCompareCPU", error);
}

/* libvirt's public API refuses an empty list (which arrives as NULL) before the driver. */
static gboolean
baseline_cpu(SvCall *call, remote_connect_baseline_cpu_args *a,
             remote_connect_baseline_cpu_ret *r, GError **error)
{
    (void)call, (void)r;
    if (!a->xmlCPUs.xmlCPUs_len)
        return sv_domain_error_no_cpus("virConnectBaselineCPU", error);
    return no_support("virConnectBaselineCPU", error);
}

static gboolean
compare_hypervisor_cpu(SvCall *call, remote_connect_compare_hypervisor_cpu_args *a,
                       remote_connect_compare_hypervisor_cpu_ret *r, GError **error)
{
    (void)call, (void)a, (void)r;
    return no_support("virConnectCompareHypervisorCPU", error);
}

static gboolean
baseline_hypervisor_cpu(SvCall *call, remote_connect_baseline_hypervisor_cpu_args *a,
                        remote_connect_baseline_hypervisor_cpu_ret *r, GError **error)
{
    (void)call, (void)r;
    if (!a->xmlCPUs.xmlCPUs_len)
        return sv_domain_error_no_cpus("virConnectBaselineHypervisorCPU", error);
    return no_support("virConnectBaselineHypervisorCPU", error);
}

gboolean
sv_domain_error_no_cpus(const char *api, GError **error)
{
    sv_error_set_literal(error, SV_FROM_DOMAIN, SV_ERR_INVALID_ARG,
                         "xmlCPUs in %s must not be NULL", api);
    return FALSE;
}

void
sv_domain_cpu_compare_install_no_support(SvRemoteHandlers *h)
{
    h->connect_compare_cpu = compare_cpu;
    h->connect_baseline_cpu = baseline_cpu;
    h->connect_compare_hypervisor_cpu = compare_hypervisor_cpu;
    h->connect_baseline_hypervisor_cpu = baseline_hypervisor_cpu;
}
