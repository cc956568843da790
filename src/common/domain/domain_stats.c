/* domain_stats.c: NO_SUPPORT answers for the per-guest statistics procedures a driver does
 * not serve (domain_stats.h). */
#include "domain/domain_stats.h"

#include "domain/domain_driver.h"
#include "util/error.h"

static gboolean
no_support(const char *api, GError **error)
{
    sv_error_set(error, SV_FROM_DOMAIN, SV_ERR_NO_SUPPORT, "%s", api);
    return FALSE;
}

/* One handler per procedure (their argument and reply types differ). */
#define NO_SUPPORT_HANDLER(proc, api)                                                              \
    static gboolean ns_##proc(SvCall *call, remote_##proc##_args *a, remote_##proc##_ret *r,      \
                              GError **error)                                                      \
    {                                                                                              \
        (void)call;                                                                                \
        (void)a;                                                                                   \
        (void)r;                                                                                   \
        return no_support(api, error);                                                             \
    }

NO_SUPPORT_HANDLER(domain_get_vcpus, "virDomainGetVcpus")
NO_SUPPORT_HANDLER(domain_get_vcpus_flags, "virDomainGetVcpusFlags")
NO_SUPPORT_HANDLER(domain_get_vcpu_pin_info, "virDomainGetVcpuPinInfo")
NO_SUPPORT_HANDLER(domain_get_emulator_pin_info, "virDomainGetEmulatorPinInfo")
NO_SUPPORT_HANDLER(domain_get_block_info, "virDomainGetBlockInfo")
NO_SUPPORT_HANDLER(domain_get_job_info, "virDomainGetJobInfo")
NO_SUPPORT_HANDLER(domain_get_job_stats, "virDomainGetJobStats")
NO_SUPPORT_HANDLER(domain_get_time, "virDomainGetTime")
NO_SUPPORT_HANDLER(domain_get_blkio_parameters, "virDomainGetBlkioParameters")
NO_SUPPORT_HANDLER(domain_get_guest_info, "virDomainGetGuestInfo")

static gboolean
ns_domain_set_memory_stats_period(SvCall *call, remote_domain_set_memory_stats_period_args *a,
                                  GError **error)
{
    (void)call;
    (void)a;
    return no_support("virDomainSetMemoryStatsPeriod", error);
}

static gboolean
ns_domain_set_guest_vcpus(SvCall *call, remote_domain_set_guest_vcpus_args *a, GError **error)
{
    (void)call;
    (void)a;
    return no_support("virDomainSetGuestVcpus", error);
}

static gboolean
ns_domain_core_dump(SvCall *call, remote_domain_core_dump_args *a, GError **error)
{
    (void)call;
    (void)a;
    return no_support("virDomainCoreDump", error);
}

static gboolean
ns_domain_core_dump_with_format(SvCall *call, remote_domain_core_dump_with_format_args *a,
                                GError **error)
{
    (void)call;
    (void)a;
    return no_support("virDomainCoreDumpWithFormat", error);
}

/* libvirt's server calls virDomainListGetStats for named domains, else
 * virConnectGetAllDomainStats: the message names the one it called. */
static gboolean
ns_connect_get_all_domain_stats(SvCall *call, remote_connect_get_all_domain_stats_args *a,
                                remote_connect_get_all_domain_stats_ret *r, GError **error)
{
    (void)call;
    (void)r;
    return no_support(a->doms.doms_len ? "virDomainListGetStats" : "virConnectGetAllDomainStats",
                      error);
}

static gboolean
ns_domain_set_blkio_parameters(SvCall *call, remote_domain_set_blkio_parameters_args *a,
                               GError **error)
{
    (void)call;
    (void)a;
    return no_support("virDomainSetBlkioParameters", error);
}

void
sv_domain_stats_install_no_support(SvRemoteHandlers *h, guint which)
{
    if (which & SV_STATS_GET_VCPUS)
        h->domain_get_vcpus = ns_domain_get_vcpus;
    if (which & SV_STATS_GET_VCPUS_FLAGS)
        h->domain_get_vcpus_flags = ns_domain_get_vcpus_flags;
    if (which & SV_STATS_GET_VCPU_PIN_INFO)
        h->domain_get_vcpu_pin_info = ns_domain_get_vcpu_pin_info;
    if (which & SV_STATS_GET_EMULATOR_PIN_INFO)
        h->domain_get_emulator_pin_info = ns_domain_get_emulator_pin_info;
    if (which & SV_STATS_GET_BLOCK_INFO)
        h->domain_get_block_info = ns_domain_get_block_info;
    if (which & SV_STATS_GET_JOB_INFO)
        h->domain_get_job_info = ns_domain_get_job_info;
    if (which & SV_STATS_GET_JOB_STATS)
        h->domain_get_job_stats = ns_domain_get_job_stats;
    if (which & SV_STATS_SET_MEMORY_STATS_PERIOD)
        h->domain_set_memory_stats_period = ns_domain_set_memory_stats_period;
    if (which & SV_STATS_GET_TIME)
        h->domain_get_time = ns_domain_get_time;
    if (which & SV_STATS_CONNECT_GET_ALL_DOMAIN_STATS)
        h->connect_get_all_domain_stats = ns_connect_get_all_domain_stats;
    if (which & SV_STATS_GET_BLKIO_PARAMETERS)
        h->domain_get_blkio_parameters = ns_domain_get_blkio_parameters;
    if (which & SV_STATS_SET_BLKIO_PARAMETERS)
        h->domain_set_blkio_parameters = ns_domain_set_blkio_parameters;
    if (which & SV_STATS_GET_GUEST_INFO)
        h->domain_get_guest_info = ns_domain_get_guest_info;
    if (which & SV_STATS_SET_GUEST_VCPUS)
        h->domain_set_guest_vcpus = ns_domain_set_guest_vcpus;
    if (which & SV_STATS_CORE_DUMP)
        h->domain_core_dump = ns_domain_core_dump;
    if (which & SV_STATS_CORE_DUMP_WITH_FORMAT)
        h->domain_core_dump_with_format = ns_domain_core_dump_with_format;
}

gboolean
sv_domain_memory_stats_check_args(SvCall *call, const remote_domain_memory_stats_args *a,
                                  GError **error)
{
    if (!sv_domain_driver_check_flags(sv_domain_driver_of(call), a->flags, 0,
                                      "DomainMemoryStats", error))
        return FALSE;
    if (a->maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX) {
        sv_error_set(error, SV_FROM_RPC, SV_ERR_RPC, "maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX");
        return FALSE;
    }
    return TRUE;
}
