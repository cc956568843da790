/* domain_cgroup.c: a guest's <memtune> in its cgroup (domain_cgroup.h). */
#include "domain/domain_cgroup.h"

#include "domain/domain_blkio.h"
#include "domain/domain_memtune.h"
#include "util/error.h"

gboolean
sv_domain_cgroup_set_memtune(SvCgroup *cg, const SvDomainDef *def, int which, guint64 kib,
                             GError **error)
{
    guint64 hard = def->memtune.hard_limit;

    switch (which) {
    case SV_MEMTUNE_HARD:
        return sv_cgroup_set_memory_limit(cg, kib * 1024, error);
    case SV_MEMTUNE_SOFT:
        return sv_cgroup_set_memory_soft_limit(cg, kib * 1024, error);
    default:
        if (sv_cgroup_get_version(cg) == SV_CGROUP_V2 && kib < SV_DOMAIN_MEMORY_UNLIMITED &&
            hard < SV_DOMAIN_MEMORY_UNLIMITED)
            kib = kib > hard ? kib - hard : 0;
        return sv_cgroup_set_memory_swap_limit(cg, kib * 1024, error);
    }
}

gboolean
sv_domain_cgroup_apply_memtune(SvCgroup *cg, const SvDomainDef *def, GError **error)
{
    const SvDomainMemtuneDef *mt = &def->memtune;
    /* The hard limit goes first: v1 refuses a memory and swap limit below it. */
    const guint64 kib[SV_MEMTUNE_LAST] = {mt->hard_limit, mt->soft_limit, mt->swap_hard_limit};

    for (int k = 0; k < SV_MEMTUNE_LAST; k++) {
        if (kib[k] < SV_DOMAIN_MEMORY_UNLIMITED &&
            !sv_domain_cgroup_set_memtune(cg, def, k, kib[k], error))
            return FALSE;
    }
    return TRUE;
}

gboolean
sv_domain_cgroup_get_memtune(SvCgroup *cg, guint64 out_kib[3], GError **error)
{
    guint64 bytes[3];

    if (!sv_cgroup_get_memory_limits(cg, bytes, error))
        return FALSE;
    if (sv_cgroup_get_version(cg) == SV_CGROUP_V2 && bytes[SV_MEMTUNE_SWAP] != G_MAXUINT64 &&
        bytes[SV_MEMTUNE_HARD] != G_MAXUINT64)
        bytes[SV_MEMTUNE_SWAP] += bytes[SV_MEMTUNE_HARD];
    for (int k = 0; k < SV_MEMTUNE_LAST; k++) {
        out_kib[k] = bytes[k] == G_MAXUINT64 ? SV_DOMAIN_MEMORY_UNLIMITED
                                             : MIN(bytes[k] / 1024, SV_DOMAIN_MEMORY_UNLIMITED);
    }
    return TRUE;
}

gboolean
sv_domain_cgroup_apply_blkio(SvCgroup *cg, const SvDomainDef *def, GError **error)
{
    if (def->blkio_weight && !sv_cgroup_set_blkio_weight(cg, def->blkio_weight, error))
        return FALSE;
    for (guint i = 0; i < def->blkio_devices->len; i++) {
        const SvDomainBlkioDeviceDef *dev = def->blkio_devices->pdata[i];
        const guint64 limits[SV_BLKIO_THROTTLE_LAST] = {dev->read_iops, dev->write_iops,
                                                        dev->read_bytes, dev->write_bytes};

        if (dev->weight &&
            !sv_cgroup_set_blkio_device_weight(cg, dev->path, dev->weight, error))
            return FALSE;
        for (int k = 0; k < SV_BLKIO_THROTTLE_LAST; k++) {
            if (limits[k] &&
                !sv_cgroup_set_blkio_device_throttle(cg, dev->path, k, limits[k], error))
                return FALSE;
        }
    }
    return TRUE;
}

/* ---------------------------------------------------------------- blkio facts */

/* The guest's cgroup with its block I/O controller, or libvirt's error. */
static SvCgroup *
blkio_cgroup(SvDomainObj *obj, GError **error)
{
    SvDomainDriver *drv = sv_domain_driver_of_obj(obj);
    SvCgroup *cg = drv->cgroup_open(obj);

    if (!cg || !sv_cgroup_get_dir(cg, sv_cgroup_get_version(cg) == SV_CGROUP_V2 ? "io"
                                                                                 : "blkio")) {
        if (cg)
            sv_cgroup_free(cg);
        sv_error_set(error, drv->from, SV_ERR_OPERATION_INVALID, "blkio cgroup isn't mounted");
        return NULL;
    }
    return cg;
}

/* libvirt's error where the kernel offers no weight (no bfq or cfq I/O scheduler). */
static gboolean
weight_check(SvCgroup *cg, GError **error)
{
    if (sv_cgroup_has_blkio_weight(cg, NULL))
        return TRUE;
    sv_error_set(error, SV_FROM_CGROUP, SV_ERR_OPERATION_INVALID,
                 "blkio device weight is valid only for bfq or cfq scheduler");
    return FALSE;
}

static gboolean
blkio_check(SvDomainObj *obj, GError **error)
{
    g_autoptr(SvCgroup) cg = blkio_cgroup(obj, error);

    return cg != NULL;
}

static gboolean
blkio_get_weight(SvDomainObj *obj, guint *out_weight, GError **error)
{
    g_autoptr(SvCgroup) cg = blkio_cgroup(obj, error);

    if (!cg || !weight_check(cg, error))
        return FALSE;
    return sv_cgroup_get_blkio_weight(cg, out_weight, error);
}

static gboolean
blkio_set_weight(SvDomainObj *obj, guint weight, GError **error)
{
    g_autoptr(SvCgroup) cg = blkio_cgroup(obj, error);

    return cg && weight_check(cg, error) && sv_cgroup_set_blkio_weight(cg, weight, error);
}

static gboolean
blkio_set_device(SvDomainObj *obj, const char *path, int which, guint64 value, GError **error)
{
    g_autoptr(SvCgroup) cg = blkio_cgroup(obj, error);

    if (!cg)
        return FALSE;
    if (which == SV_BLKIO_DEVICE_WEIGHT)
        return weight_check(cg, error) &&
               sv_cgroup_set_blkio_device_weight(cg, path, (guint)value, error);
    return sv_cgroup_set_blkio_device_throttle(cg, path, which - SV_BLKIO_DEVICE_READ_IOPS,
                                               value, error);
}

const SvBlkioFacts sv_domain_cgroup_blkio_facts = {
    .check = blkio_check,
    .get_weight = blkio_get_weight,
    .set_weight = blkio_set_weight,
    .set_device = blkio_set_device,
};
