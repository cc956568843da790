/* domain_hotplug.h: DOMAIN_ATTACH_DEVICE(_FLAGS) and DOMAIN_DETACH_DEVICE(_FLAGS) on a
 * domain's persistent definition (AFFECT_CONFIG), for disks and interfaces, as libvirt 9.0's
 * QEMU driver changes it (issue 18 item 2, hotplug). The driver's check_def gives the new
 * definition its defaults and addresses, as at define. */
#pragma once

#include "domain/domain_driver.h"

/* Serve the four procedures in h. A change of the live guest (AFFECT_LIVE, and the calls
 * without flags on a running guest) is refused as libvirt refuses a device type it cannot
 * plug live: OPERATION_UNSUPPORTED. */
void sv_domain_hotplug_install(SvDomainDriver *drv, SvRemoteHandlers *h);
