/* lxc_tune.c: the LXC side of the tuning procedures (issue 18, LXC tuning): a container's
 * CPU weight and CFS bandwidth in its own cgroup (src/common/domain/domain_sched.c), as
 * libvirt's LXC driver keeps them, and the <cputune> a definition sets applied to that
 * cgroup before the container's first process runs. */
#include "lxc_domain.h"

#include "domain/domain_sched.h"
#include "util/error.h"

/* A running container's cgroup with its cpu controller, or libvirt's error. (transfer
 * none) */
static SvCgroup *
cpu_cgroup(SvDomainObj *obj, GError **error)
{
    LxcDomain *ld = lxc_domain_of(obj);

    if (!ld || !ld->cgroup || !sv_cgroup_get_dir(ld->cgroup, "cpu")) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID,
                     "cgroup CPU controller is not mounted");
        return NULL;
    }
    return ld->cgroup;
}

static gboolean
check(SvDomainObj *obj, GError **error)
{
    return cpu_cgroup(obj, error) != NULL;
}

/* cpu_shares, vcpu_period and vcpu_quota: the container's cgroup's own. */
static gboolean
get_live(SvDomainObj *obj, gint64 values[SV_SCHED_LAST], GError **error)
{
    SvCgroup *cg = cpu_cgroup(obj, error);
    guint64 shares = 0, period = 0;
    gint64 quota = 0;

    if (!cg || !sv_cgroup_get_cpu_shares(cg, &shares, error) ||
        !sv_cgroup_get_cpu_bandwidth(cg, NULL, &period, &quota, error))
        return FALSE;
    values[SV_SCHED_CPU_SHARES] = (gint64)shares;
    values[SV_SCHED_VCPU_PERIOD] = (gint64)period;
    values[SV_SCHED_VCPU_QUOTA] = quota;
    return TRUE;
}

/* As libvirt's LXC driver, the value asked for is what the definition records (the
 * kernel's rounding of shares is not read back). */
static gboolean
set_live(SvDomainObj *obj, int which, gint64 *value, GError **error)
{
    SvCgroup *cg = cpu_cgroup(obj, error);

    if (!cg)
        return FALSE;
    if (which == SV_SCHED_CPU_SHARES)
        return sv_cgroup_set_cpu_shares(cg, (guint64)*value, error);
    if (which == SV_SCHED_VCPU_PERIOD)
        return sv_cgroup_set_cpu_bandwidth(cg, NULL, (guint64)*value, 0, error);
    return sv_cgroup_set_cpu_bandwidth(cg, NULL, 0, *value, error);
}

static const SvSchedFacts lxc_sched_facts = {
    .nparams = SV_SCHED_VCPU_QUOTA + 1,
    .qemu_checks = FALSE,
    .check = check,
    .get_live = get_live,
    .set_live = set_live,
};

gboolean
lxc_tune_apply(SvCgroup *cg, const SvDomainDef *def, GError **error)
{
    const SvDomainCputuneDef *ct = &def->cputune;

    if (ct->shares_specified && !sv_cgroup_set_cpu_shares(cg, ct->shares, error))
        return FALSE;
    return !(ct->period || ct->quota) ||
           sv_cgroup_set_cpu_bandwidth(cg, NULL, ct->period, ct->quota, error);
}

void
lxc_tune_install(LxcProcessContext *ctx, SvRemoteHandlers *h)
{
    ctx->domains->sched = &lxc_sched_facts;
    h->domain_get_scheduler_type = sv_domain_sched_get_type;
    h->domain_get_scheduler_parameters = sv_domain_sched_get;
    h->domain_get_scheduler_parameters_flags = sv_domain_sched_get_flags;
    h->domain_set_scheduler_parameters = sv_domain_sched_set;
    h->domain_set_scheduler_parameters_flags = sv_domain_sched_set_flags;
}
