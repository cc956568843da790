/* qemu_cgroup.c: a QEMU guest's own cgroup, its tuning and its CPU affinity (qemu_cgroup.h). */
#include "qemu_cgroup.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include <string.h>

#include "util/cgroup.h"
#include "util/error.h"

static char *
cgroup_path(QemuProcessContext *ctx, const char *name)
{
    g_autofree char *leaf = g_strconcat(name, ".libvirt-qemu", NULL);

    return g_build_filename(ctx->cgroup_parent, leaf, NULL);
}

/* libvirt's virDomainCgroupSetupMemtune and friends: only what the definition sets. */
static gboolean
apply_tuning(SvCgroup *cg, const SvDomainDef *def, GError **error)
{
    const SvDomainMemtuneDef *mt = &def->memtune;
    guint64 swap = mt->swap_hard_limit;

    if (def->cputune.shares_specified &&
        !sv_cgroup_set_cpu_shares(cg, def->cputune.shares, error))
        return FALSE;
    if (mt->hard_limit < SV_DOMAIN_MEMORY_UNLIMITED &&
        !sv_cgroup_set_memory_limit(cg, mt->hard_limit * 1024, error))
        return FALSE;
    if (mt->soft_limit < SV_DOMAIN_MEMORY_UNLIMITED &&
        !sv_cgroup_set_memory_soft_limit(cg, mt->soft_limit * 1024, error))
        return FALSE;
    /* v2's swap.max is swap alone; v1's memsw is memory and swap. */
    if (swap < SV_DOMAIN_MEMORY_UNLIMITED && sv_cgroup_get_version(cg) == SV_CGROUP_V2 &&
        mt->hard_limit < SV_DOMAIN_MEMORY_UNLIMITED)
        swap = swap > mt->hard_limit ? swap - mt->hard_limit : 0;
    if (mt->swap_hard_limit < SV_DOMAIN_MEMORY_UNLIMITED &&
        !sv_cgroup_set_memory_swap_limit(cg, swap * 1024, error))
        return FALSE;
    if (def->blkio_weight && !sv_cgroup_set_blkio_weight(cg, def->blkio_weight, error))
        return FALSE;
    for (guint i = 0; i < def->blkio_devices->len; i++) {
        const SvDomainBlkioDeviceDef *dev = def->blkio_devices->pdata[i];

        if (dev->weight &&
            !sv_cgroup_set_blkio_device_weight(cg, dev->path, dev->weight, error))
            return FALSE;
    }
    return TRUE;
}

/* libvirt's qemuProcessInitCpuAffinity for a guest with <vcpu cpuset> alone: every thread
 * QEMU will start inherits the mask of its held process. */
static gboolean
set_affinity(const SvDomainDef *def, pid_t pid, GError **error)
{
    g_auto(GStrv) ranges = NULL;
    cpu_set_t *set;
    gsize size;
    guint max = 0;
    int rc;

    if (!def->vcpu_cpuset)
        return TRUE;
    ranges = g_strsplit(def->vcpu_cpuset, ",", -1);
    for (guint i = 0; ranges[i]; i++) {
        const char *dash = strchr(ranges[i], '-');
        max = MAX(max, (guint)strtoul(dash ? dash + 1 : ranges[i], NULL, 10));
    }
    set = CPU_ALLOC(max + 1);
    size = CPU_ALLOC_SIZE(max + 1);
    CPU_ZERO_S(size, set);
    /* The list is canonical ("0-3,8"): parsed by the definition already. */
    for (guint i = 0; ranges[i]; i++) {
        const char *dash = strchr(ranges[i], '-');
        guint lo = (guint)strtoul(ranges[i], NULL, 10);
        guint hi = dash ? (guint)strtoul(dash + 1, NULL, 10) : lo;

        for (guint cpu = lo; cpu <= hi; cpu++)
            CPU_SET_S(cpu, size, set);
    }
    rc = sched_setaffinity(pid, size, set);
    CPU_FREE(set);
    if (rc < 0) {
        sv_error_set_errno(error, SV_FROM_NONE, errno, "cannot set CPU affinity on process %d",
                           (int)pid);
        return FALSE;
    }
    return TRUE;
}

gboolean
qemu_cgroup_setup(QemuProcessContext *ctx, const SvDomainDef *def, pid_t pid, GError **error)
{
    g_autofree char *path = cgroup_path(ctx, def->name);
    g_autoptr(SvCgroup) cg = sv_cgroup_new(ctx->cgroup_root, path, error);

    if (!cg || !set_affinity(def, pid, error))
        return FALSE;
    if (sv_cgroup_create(cg, error) && apply_tuning(cg, def, error) &&
        sv_cgroup_add_process(cg, pid, error))
        return TRUE;
    g_prefix_error(error, "guest cgroup %s: ", path);
    sv_cgroup_remove(cg, NULL);
    return FALSE;
}

void
qemu_cgroup_remove(QemuProcessContext *ctx, const char *name)
{
    g_autofree char *path = cgroup_path(ctx, name);
    g_autoptr(SvCgroup) cg = sv_cgroup_new(ctx->cgroup_root, path, NULL);
    g_autoptr(GError) error = NULL;

    if (cg && !sv_cgroup_remove(cg, &error))
        g_debug("cannot remove cgroup %s: %s", path, error->message);
}
