/* domain_hotplug.h: DOMAIN_ATTACH_DEVICE(_FLAGS) and DOMAIN_DETACH_DEVICE(_FLAGS) on a
 * domain's persistent definition (AFFECT_CONFIG), for disks and interfaces, as libvirt 9.0's
 * QEMU driver changes it (issue 18 item 2, hotplug). The driver's check_def gives the new
 * definition its defaults and addresses, as at define. */
#pragma once

#include "domain/domain_driver.h"

/* issue 18 item 2, live hotplug: how a driver changes a running guest's devices. attach_live
 * plugs the one device of dev (transfer none; kind is its element's name) into running obj,
 * detach_live unplugs the device of obj that dev names; FALSE with error for a refusal
 * before anything reached the guest, else done(error, data) runs later on the loop, once
 * (the live definition changed, or the error). */
typedef struct SvHotplugFacts {
    gboolean (*attach_live)(SvDomainObj *obj, SvDomainDef *dev, const char *kind,
                            SvStoreDoneFunc done, gpointer data, GError **error);
    gboolean (*detach_live)(SvDomainObj *obj, SvDomainDef *dev, const char *kind,
                            SvStoreDoneFunc done, gpointer data, GError **error);
    /* DETACH_DEVICE_ALIAS: the unplug of obj's device `alias` asked of the hypervisor;
     * done once it was asked (libvirt does not wait for the device to go). */
    gboolean (*detach_alias)(SvDomainObj *obj, const char *alias, SvStoreDoneFunc done,
                             gpointer data, GError **error);
    /* Optional, for a driver whose persistent changes libvirt words differently (its lxc
     * driver): the device of dev (transfer none; the driver may steal it) added to or
     * removed from def, or FALSE with the driver's error. NULL: the QEMU driver's way. A
     * NULL attach_live or detach_live refuses that live change as without facts. */
    gboolean (*attach_config)(SvDomainDef *def, SvDomainDef *dev, const char *kind,
                              GError **error);
    gboolean (*detach_config)(SvDomainDef *def, SvDomainDef *dev, const char *kind,
                              GError **error);
    /* The names, after the driver's prefix, its flag errors give ATTACH_DEVICE_FLAGS and
     * DETACH_DEVICE_FLAGS ("DomainAttachDeviceFlags"); NULL: the QEMU driver's. */
    const char *attach_fn;
    const char *detach_fn;
} SvHotplugFacts;

/* libvirt's name of a device element's type in its errors ("net" for "interface"). */
const char *sv_domain_hotplug_type_name(const char *kind);

/* Where libvirt puts a new disk among def's (virDomainDiskInsert). */
guint sv_domain_hotplug_disk_insert_at(const SvDomainDef *def, const SvDomainDiskDef *disk);

/* libvirt's virDomainNetFindIdx: the one interface of def with the MAC, PCI address and
 * alias `net` gives (those it gives), or libvirt's error. */
gboolean sv_domain_hotplug_net_find(const SvDomainDef *def, const SvDomainNetDef *net,
                                    guint *ret_index, GError **error);

/* Serve the four procedures and DETACH_DEVICE_ALIAS in h. A change of the live guest (AFFECT_LIVE, and the calls
 * without flags on a running guest) goes to drv->hotplug; without one it is refused as
 * libvirt refuses a device type it cannot plug live: OPERATION_UNSUPPORTED. */
void sv_domain_hotplug_install(SvDomainDriver *drv, SvRemoteHandlers *h);

/* def (transfer full) as a define of its XML makes it: parsed again, then given the driver's
 * defaults and addresses (check_def); the new definition, or NULL with the error. */
SvDomainDef *sv_domain_hotplug_redefine(SvDomainDriver *drv, SvDomainDef *def, GError **error);

/* changed (transfer full) made obj's persistent definition (the next one of a running
 * domain, else its definition), saved, and call answered (deferred) once it is on disk. */
void sv_domain_hotplug_save_config(SvCall *call, SvDomainObj *obj, SvDomainDef *changed);

/* For a driver without DETACH_DEVICE_ALIAS (libvirt's lxc and libxl): its NO_SUPPORT, before
 * any lookup. */
void sv_domain_hotplug_install_alias_no_support(SvRemoteHandlers *h);
