/* qemu_blkio.c: the QEMU side of the blkio procedures (src/common/domain/domain_blkio.c): a
 * running guest's block I/O weight and per-device limits in its cgroup. */
#include "qemu_blkio.h"

#include <stdlib.h>

#include "domain/domain_blkio.h"
#include "qemu_cgroup.h"
#include "qemu_domain.h"
#include "util/error.h"

/* The guest's cgroup with its block I/O controller, or libvirt's error. */
static SvCgroup *
blkio_cgroup(SvDomainObj *obj, GError **error)
{
    SvCgroup *cg = qemu_cgroup_open(qemu_ctx_of(obj), obj->def->name);

    if (!cg || !sv_cgroup_get_dir(cg, sv_cgroup_get_version(cg) == SV_CGROUP_V2 ? "io"
                                                                                 : "blkio")) {
        if (cg)
            sv_cgroup_free(cg);
        sv_error_set(error, SV_FROM_QEMU, SV_ERR_OPERATION_INVALID,
                     "blkio cgroup isn't mounted");
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
check(SvDomainObj *obj, GError **error)
{
    g_autoptr(SvCgroup) cg = blkio_cgroup(obj, error);

    return cg != NULL;
}

static gboolean
get_weight(SvDomainObj *obj, guint *out_weight, GError **error)
{
    g_autoptr(SvCgroup) cg = blkio_cgroup(obj, error);

    if (!cg || !weight_check(cg, error))
        return FALSE;
    return sv_cgroup_get_blkio_weight(cg, out_weight, error);
}

static gboolean
set_weight(SvDomainObj *obj, guint weight, GError **error)
{
    g_autoptr(SvCgroup) cg = blkio_cgroup(obj, error);

    return cg && weight_check(cg, error) && sv_cgroup_set_blkio_weight(cg, weight, error);
}

static gboolean
set_device(SvDomainObj *obj, const char *path, int which, guint64 value, GError **error)
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

static const SvBlkioFacts qemu_blkio_facts = {
    .check = check,
    .get_weight = get_weight,
    .set_weight = set_weight,
    .set_device = set_device,
};

void
qemu_blkio_install(SvDomainDriver *drv, SvRemoteHandlers *h)
{
    drv->blkio = &qemu_blkio_facts;
    h->domain_set_blkio_parameters = sv_domain_blkio_set;
    h->domain_get_blkio_parameters = sv_domain_blkio_get;
}
