/* lxc_hotplug.h: DOMAIN_ATTACH_DEVICE(_FLAGS), DOMAIN_DETACH_DEVICE(_FLAGS) and
 * DOMAIN_UPDATE_DEVICE_FLAGS for containers, as libvirt 9.0's LXC driver serves them
 * (issue 18 item 2, LXC hotplug; lxc_hotplug.c). */
#pragma once

#include "domain/domain_driver.h"

/* Install the four procedures, DETACH_DEVICE_ALIAS's NO_SUPPORT and UPDATE_DEVICE_FLAGS in
 * h, and drv's hotplug facts. */
void lxc_hotplug_install(SvDomainDriver *drv, SvRemoteHandlers *h);

/* After obj's container rebooted (its supervisor made a new init, in a new network
 * namespace, with the veth pairs of its start): the interfaces attached live since are
 * plugged again, as libvirt's reboot starts the container again from its live definition;
 * one that cannot be is dropped from it, with a warning. */
void lxc_hotplug_replug(SvDomainObj *obj);
