/* qemu_blkio.h: virtqemud's blkio procedures (issue 18, blkio parameters). */
#pragma once

#include "domain/domain_driver.h"

/* Serve GET/SET_BLKIO_PARAMETERS for drv in h, a running guest's values in its cgroup
 * (qemu_cgroup.h). */
void qemu_blkio_install(SvDomainDriver *drv, SvRemoteHandlers *h);
