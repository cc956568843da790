/* qemu_sched.c: the QEMU side of the scheduler procedures (src/common/domain/domain_sched.c):
 * a running guest's CPU weight and bandwidth in its cgroup, laid out as qemu_cgroup.c makes
 * it: the guest's own cgroup (cpu_shares, global_*), and, where its <cputune> asked for
 * them at start, per-thread children "vcpuN", "emulator" and "iothreadN" (v1). */
#include "qemu_sched.h"

#include "domain/domain_sched.h"
#include "qemu_cgroup.h"
#include "qemu_domain.h"
#include "util/error.h"

/* The guest's cgroup with its cpu controller, or libvirt's error. */
static SvCgroup *
cpu_cgroup(SvDomainObj *obj, GError **error)
{
    SvCgroup *cg = qemu_cgroup_open(qemu_ctx_of(obj), obj->def->name);

    if (!cg || !sv_cgroup_get_dir(cg, "cpu")) {
        if (cg)
            sv_cgroup_free(cg);
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "cgroup CPU controller is not mounted");
        return NULL;
    }
    return cg;
}

static gboolean
check(SvDomainObj *obj, GError **error)
{
    g_autoptr(SvCgroup) cg = cpu_cgroup(obj, error);

    return cg != NULL;
}

/* The children of one kind ("vcpu", "emulator", "iothread") the guest's cgroup has. */
static GPtrArray *
children(SvCgroup *cg, const SvDomainDef *def, int which)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

    if (which == SV_SCHED_EMULATOR_PERIOD || which == SV_SCHED_EMULATOR_QUOTA) {
        if (sv_cgroup_has_cpu_child(cg, "emulator"))
            g_ptr_array_add(names, g_strdup("emulator"));
    } else if (which == SV_SCHED_VCPU_PERIOD || which == SV_SCHED_VCPU_QUOTA) {
        for (guint i = 0; i < def->vcpus; i++) {
            g_autofree char *name = g_strdup_printf("vcpu%u", i);

            if (sv_cgroup_has_cpu_child(cg, name))
                g_ptr_array_add(names, g_steal_pointer(&name));
        }
    } else {
        for (guint i = 1; i <= def->iothreads; i++) {
            g_autofree char *name = g_strdup_printf("iothread%u", i);

            if (sv_cgroup_has_cpu_child(cg, name))
                g_ptr_array_add(names, g_steal_pointer(&name));
        }
    }
    return names;
}

/* A kind's bandwidth: its first child's, else the guest cgroup's its threads are in. */
static gboolean
get_pair(SvCgroup *cg, const SvDomainDef *def, int period_index, gint64 values[],
         GError **error)
{
    g_autoptr(GPtrArray) names =
        period_index == SV_SCHED_GLOBAL_PERIOD ? NULL : children(cg, def, period_index);
    const char *child = names && names->len ? names->pdata[0] : NULL;
    guint64 period = 0;
    gint64 quota = 0;

    if (!sv_cgroup_get_cpu_bandwidth(cg, child, &period, &quota, error))
        return FALSE;
    values[period_index] = (gint64)period;
    values[period_index + 1] = quota;
    return TRUE;
}

static gboolean
get_live(SvDomainObj *obj, gint64 values[SV_SCHED_LAST], GError **error)
{
    g_autoptr(SvCgroup) cg = cpu_cgroup(obj, error);
    guint64 shares = 0;

    if (!cg || !sv_cgroup_get_cpu_shares(cg, &shares, error))
        return FALSE;
    values[SV_SCHED_CPU_SHARES] = (gint64)shares;
    return get_pair(cg, obj->def, SV_SCHED_VCPU_PERIOD, values, error) &&
           get_pair(cg, obj->def, SV_SCHED_EMULATOR_PERIOD, values, error) &&
           get_pair(cg, obj->def, SV_SCHED_GLOBAL_PERIOD, values, error) &&
           get_pair(cg, obj->def, SV_SCHED_IOTHREAD_PERIOD, values, error);
}

static gboolean
set_bandwidth(SvCgroup *cg, const char *child, gboolean period, gint64 value, GError **error)
{
    return sv_cgroup_set_cpu_bandwidth(cg, child, period ? (guint64)value : 0,
                                       period ? 0 : value, error);
}

static gboolean
set_live(SvDomainObj *obj, int which, gint64 *value, GError **error)
{
    g_autoptr(SvCgroup) cg = cpu_cgroup(obj, error);
    g_autoptr(GPtrArray) names = NULL;
    gboolean period = which % 2;
    guint64 shares = 0;

    if (!cg)
        return FALSE;
    if (which == SV_SCHED_CPU_SHARES) {
        if (!sv_cgroup_set_cpu_shares(cg, (guint64)*value, error) ||
            !sv_cgroup_get_cpu_shares(cg, &shares, error))
            return FALSE;
        *value = (gint64)shares;
        return TRUE;
    }
    if (which == SV_SCHED_GLOBAL_PERIOD || which == SV_SCHED_GLOBAL_QUOTA)
        return set_bandwidth(cg, NULL, period, *value, error);
    names = children(cg, obj->def, which);
    if (names->len == 0) {
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_UNSUPPORTED,
                     "guest '%s' has no per-thread cgroups for '%s': they are made at its "
                     "start when its <cputune> sets a vcpu, emulator or iothread bandwidth",
                     obj->def->name, which <= SV_SCHED_VCPU_QUOTA       ? "vcpu"
                                     : which <= SV_SCHED_EMULATOR_QUOTA ? "emulator"
                                                                        : "iothread");
        return FALSE;
    }
    for (guint i = 0; i < names->len; i++) {
        if (!set_bandwidth(cg, names->pdata[i], period, *value, error))
            return FALSE;
    }
    return TRUE;
}

static const SvSchedFacts qemu_sched_facts = {
    .nparams = SV_SCHED_LAST,
    .qemu_checks = TRUE,
    .check = check,
    .get_live = get_live,
    .set_live = set_live,
};

void
qemu_sched_install(SvDomainDriver *drv, SvRemoteHandlers *h)
{
    drv->sched = &qemu_sched_facts;
    h->domain_get_scheduler_type = sv_domain_sched_get_type;
    h->domain_get_scheduler_parameters = sv_domain_sched_get;
    h->domain_get_scheduler_parameters_flags = sv_domain_sched_get_flags;
    h->domain_set_scheduler_parameters = sv_domain_sched_set;
    h->domain_set_scheduler_parameters_flags = sv_domain_sched_set_flags;
}
