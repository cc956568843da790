/* qemu_sched.h: virtqemud's scheduler procedures (issue 18, scheduler parameters). */
#pragma once

#include "domain/domain_driver.h"

/* Serve GET_SCHEDULER_TYPE and GET/SET_SCHEDULER_PARAMETERS(_FLAGS) for drv in h, a running
 * guest's values in its cgroup (qemu_cgroup.h). */
void qemu_sched_install(SvDomainDriver *drv, SvRemoteHandlers *h);
