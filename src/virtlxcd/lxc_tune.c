/* lxc_tune.c: the LXC side of the tuning procedures (issue 18, LXC tuning): a container's
 * CPU weight and CFS bandwidth (src/common/domain/domain_sched.c), memory limits
 * (domain_memtune.c) and block I/O tuning (domain_blkio.c) in its own cgroup, as libvirt's
 * LXC driver keeps them, and the <cputune>, <memtune> and <blkiotune> a definition sets
 * applied to that cgroup before the container's first process runs. */
#include "lxc_domain.h"
#include "lxc_spec.h"

#include "domain/domain_blkio.h"
#include "domain/domain_cgroup.h"
#include "domain/domain_ifstats.h"
#include "domain/domain_memtune.h"
#include "domain/domain_resize.h"
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

/* ---------------------------------------------------------------- memory */

/* A running container's cgroup with its memory controller, or libvirt's error. (transfer
 * none) */
static SvCgroup *
memory_cgroup(SvDomainObj *obj, GError **error)
{
    LxcDomain *ld = lxc_domain_of(obj);

    if (!ld || !ld->cgroup || !sv_cgroup_get_dir(ld->cgroup, "memory")) {
        sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_INVALID,
                     "cgroup memory controller is not mounted");
        return NULL;
    }
    return ld->cgroup;
}

static gboolean
memtune_check(SvDomainObj *obj, GError **error)
{
    return memory_cgroup(obj, error) != NULL;
}

static gboolean
memtune_live(SvDomainObj *obj, int which, guint64 kib, GError **error)
{
    SvCgroup *cg = memory_cgroup(obj, error);

    return cg && sv_domain_cgroup_set_memtune(cg, obj->def, which, kib, error);
}

/* As libvirt's LXC driver: what the cgroup has (the hard limit is the container's memory
 * unless <memtune> says otherwise). */
static gboolean
memtune_get_live(SvDomainObj *obj, guint64 out_kib[3], GError **error)
{
    SvCgroup *cg = memory_cgroup(obj, error);

    return cg && sv_domain_cgroup_get_memtune(cg, out_kib, error);
}

/* A container's memory is its cgroup's limit (lxcDomainSetMemoryFlags). */
static gboolean
set_live_memory(SvDomainObj *obj, guint64 kib, GError **error)
{
    LxcDomain *ld = lxc_domain_of(obj);
    g_autoptr(GError) local = NULL;

    if (ld && ld->cgroup && sv_cgroup_set_memory_limit(ld->cgroup, kib * 1024, &local))
        return TRUE;
    g_debug("domain %s: memory limit: %s", obj->def->name,
            local ? local->message : "no cgroup");
    sv_error_set(error, SV_FROM_LXC, SV_ERR_OPERATION_FAILED, "Failed to set memory for domain");
    return FALSE;
}

static const SvResizeFacts lxc_resize_facts = {
    .memtune_check = memtune_check,
    .memtune_live = memtune_live,
    .memtune_get_live = memtune_get_live,
    .set_live_memory = set_live_memory,
    .lxc_messages = TRUE,
};

static gboolean
memtune_used(const SvDomainDef *def)
{
    const SvDomainMemtuneDef *mt = &def->memtune;

    return mt->hard_limit < SV_DOMAIN_MEMORY_UNLIMITED ||
           mt->soft_limit < SV_DOMAIN_MEMORY_UNLIMITED ||
           mt->swap_hard_limit < SV_DOMAIN_MEMORY_UNLIMITED;
}

gboolean
lxc_tune_needed(const SvDomainDef *def)
{
    const SvDomainCputuneDef *ct = &def->cputune;

    return ct->shares_specified || ct->period || ct->quota || memtune_used(def) ||
           def->blkio_weight || def->blkio_devices->len;
}

gboolean
lxc_tune_apply(SvCgroup *cg, const SvDomainDef *def, GError **error)
{
    const SvDomainCputuneDef *ct = &def->cputune;

    if (ct->shares_specified && !sv_cgroup_set_cpu_shares(cg, ct->shares, error))
        return FALSE;
    if ((ct->period || ct->quota) &&
        !sv_cgroup_set_cpu_bandwidth(cg, NULL, ct->period, ct->quota, error))
        return FALSE;
    /* The container's memory limit first, as the supervisor writes it too: v1 refuses a
     * memory and swap limit below the memory limit. */
    if (memtune_used(def) &&
        (!sv_cgroup_set_memory_limit(cg, lxc_spec_memory_limit(def), error) ||
         !sv_domain_cgroup_apply_memtune(cg, def, error)))
        return FALSE;
    return sv_domain_cgroup_apply_blkio(cg, def, error);
}

/* ---------------------------------------------------------------- block I/O */

/* The container's cgroup, for the shared blkio facts (domain_cgroup.c). */
static SvCgroup *
cgroup_open(SvDomainObj *obj)
{
    LxcDomain *ld = lxc_domain_of(obj);

    if (!ld || !ld->cgroup)
        return NULL;
    return sv_cgroup_new(lxc_ctx_of(obj)->cgroup_root, sv_cgroup_get_path(ld->cgroup), NULL);
}

void
lxc_tune_install(LxcProcessContext *ctx, SvRemoteHandlers *h)
{
    ctx->domains->sched = &lxc_sched_facts;
    ctx->domains->resize = &lxc_resize_facts;
    ctx->domains->cgroup_open = cgroup_open;
    ctx->domains->blkio = &sv_domain_cgroup_blkio_facts;
    h->domain_interface_stats = sv_domain_interface_stats;
    h->domain_set_blkio_parameters = sv_domain_blkio_set;
    h->domain_get_blkio_parameters = sv_domain_blkio_get;
    h->domain_set_memory = sv_domain_resize_set_memory;
    h->domain_set_memory_flags = sv_domain_resize_set_memory_flags;
    h->domain_set_max_memory = sv_domain_resize_set_max_memory;
    h->domain_set_memory_parameters = sv_domain_memtune_set;
    h->domain_get_memory_parameters = sv_domain_memtune_get;
    h->domain_get_scheduler_type = sv_domain_sched_get_type;
    h->domain_get_scheduler_parameters = sv_domain_sched_get;
    h->domain_get_scheduler_parameters_flags = sv_domain_sched_get_flags;
    h->domain_set_scheduler_parameters = sv_domain_sched_set;
    h->domain_set_scheduler_parameters_flags = sv_domain_sched_set_flags;
}
