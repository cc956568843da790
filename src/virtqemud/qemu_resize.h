/* qemu_resize.h: virtqemud's memory and vcpu procedures (issue 18, metadata and tuning). */
#pragma once

#include "domain/domain_driver.h"

/* Serve SET_MEMORY(_FLAGS), SET_MAX_MEMORY and SET_VCPUS(_FLAGS) for drv in h, a running
 * guest's memory through its balloon. */
void qemu_resize_install(SvDomainDriver *drv, SvRemoteHandlers *h);
