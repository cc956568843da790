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

/* libvirt's virDomainNetFindIdx: the index in def of the one interface net names (its MAC,
 * PCI address and alias, those it gives), or FALSE with libvirt's error. */
gboolean sv_domain_hotplug_net_find(const SvDomainDef *def, const SvDomainNetDef *net,
                                    guint *ret_index, GError **error);

/* def (transfer full) as a define of its XML makes it: parsed again, then given the driver's
 * defaults and addresses (check_def); the new definition, or NULL with the error. */
SvDomainDef *sv_domain_hotplug_redefine(SvDomainDriver *drv, SvDomainDef *def, GError **error);
