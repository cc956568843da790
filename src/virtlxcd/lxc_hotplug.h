/* lxc_hotplug.h: DOMAIN_ATTACH_DEVICE(_FLAGS), DOMAIN_DETACH_DEVICE(_FLAGS) and
 * DOMAIN_UPDATE_DEVICE_FLAGS for containers, as libvirt 9.0's LXC driver serves them
 * (issue 18 item 2, LXC hotplug; lxc_hotplug.c). */
#pragma once

#include "domain/domain_driver.h"

/* Install the four procedures, DETACH_DEVICE_ALIAS's NO_SUPPORT and UPDATE_DEVICE_FLAGS in
 * h, and drv's hotplug facts. */
void lxc_hotplug_install(SvDomainDriver *drv, SvRemoteHandlers *h);

/* After obj's container rebooted (its supervisor made a new init, in a new network
 * namespace, with the veth pairs of its start, and a new /dev): the interfaces and disks
 * attached live since are plugged again, as libvirt's reboot starts the container again
 * from its live definition; an interface that cannot be is dropped from it, with a
 * warning. */
void lxc_hotplug_replug(SvDomainObj *obj);

/* lxc_hotplug_disk.c, for lxc_hotplug.c: host block device disk (transfer none) given to
 * the running container whose init is pid (allowed in its devices cgroup, made as
 * /dev/TARGET there), or libvirt's refusal; and the disk of obj's live definition with
 * target taken back (the node removed, the device denied) and removed from it. */
gboolean lxc_hotplug_disk_attach(SvDomainObj *obj, pid_t pid, const SvDomainDiskDef *disk,
                                 GError **error);
gboolean lxc_hotplug_disk_detach(SvDomainObj *obj, pid_t pid, const char *target,
                                 GError **error);
/* After a reboot: the /dev nodes of obj's live disks made again in the new init's /dev. */
void lxc_hotplug_disk_replug(SvDomainObj *obj, pid_t pid);
