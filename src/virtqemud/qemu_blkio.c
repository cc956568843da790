/* qemu_blkio.c: the QEMU side of the blkio procedures (src/common/domain/domain_blkio.c): a
 * running guest's block I/O weight and per-device limits in its own cgroup, through the
 * facts QEMU and LXC share (domain_cgroup.c). */
#include "qemu_blkio.h"

#include "domain/domain_blkio.h"
#include "domain/domain_cgroup.h"
#include "qemu_cgroup.h"
#include "qemu_domain.h"

static SvCgroup *
cgroup_open(SvDomainObj *obj)
{
    return qemu_cgroup_open(qemu_ctx_of(obj), obj->def->name);
}

void
qemu_blkio_install(SvDomainDriver *drv, SvRemoteHandlers *h)
{
    drv->cgroup_open = cgroup_open;
    drv->blkio = &sv_domain_cgroup_blkio_facts;
    h->domain_set_blkio_parameters = sv_domain_blkio_set;
    h->domain_get_blkio_parameters = sv_domain_blkio_get;
}
