/* qemu_cgroup.c: a QEMU guest's own cgroup and its tuning (qemu_cgroup.h). */
#include "qemu_cgroup.h"

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

gboolean
qemu_cgroup_setup(QemuProcessContext *ctx, const SvDomainDef *def, pid_t pid, GError **error)
{
    g_autofree char *path = cgroup_path(ctx, def->name);
    g_autoptr(SvCgroup) cg = sv_cgroup_new(ctx->cgroup_root, path, error);

    if (!cg)
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
