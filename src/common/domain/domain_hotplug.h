/* domain_hotplug.h: DOMAIN_ATTACH_DEVICE(_FLAGS) and DOMAIN_DETACH_DEVICE(_FLAGS) on a
 * domain's persistent definition (AFFECT_CONFIG), for disks and interfaces (domain_hotplug.c)
 * and the other kinds (domain_hotplug_config.c), as libvirt 9.0's QEMU driver changes it
 * (issue 18 item 2, hotplug). The driver's check_def gives the new definition its defaults
 * and addresses, as at define. */
#pragma once

#include "domain/domain_driver.h"

/* issue 18 item 2, live hotplug: how a driver changes a running guest's devices. attach_live
 * plugs the one device of dev (transfer none; kind is its element's name) into running obj
 * for the client of call (transfer none, for the duration of attach_live only: whose
 * identity the driver's own calls to other daemons carry),
 * detach_live unplugs the device of obj that dev names; FALSE with error for a refusal
 * before anything reached the guest, else done(error, data) runs later on the loop, once
 * (the live definition changed, or the error). */
typedef struct SvHotplugFacts {
    gboolean (*attach_live)(SvCall *call, SvDomainObj *obj, SvDomainDef *dev,
                            const char *kind, SvStoreDoneFunc done, gpointer data,
                            GError **error);
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

/* ---- domain_hotplug_config.c: the other devices of a persistent change ---- */

/* The device of dev (kind: its element; the driver may steal it) beyond disks and
 * interfaces added to (attach) or removed from def as libvirt 9.0's QEMU driver does, or
 * FALSE with its error; *handled FALSE (and no error) for a kind it does not change. */
gboolean sv_domain_hotplug_attach_other(SvDomainDef *def, SvDomainDef *dev, const char *kind,
                                        gboolean *handled, GError **error);
gboolean sv_domain_hotplug_detach_other(SvDomainDef *def, SvDomainDef *dev, const char *kind,
                                        gboolean *handled, GError **error);

/* DETACH_DEVICE_ALIAS on def for those devices: TRUE when one had `alias` (removed). */
gboolean sv_domain_hotplug_detach_alias_other(SvDomainDef *def, const char *alias);

/* A controller index or serial port the device XML (xml, of kind) leaves out set to
 * G_MAXUINT in dev, for the config change to number against the domain as libvirt does. */
void sv_domain_hotplug_mark_auto(SvDomainDef *dev, const char *kind, const char *xml);

/* Matching rules libvirt's conf gives, shared with the live hotplug: */
gboolean sv_domain_hotplug_pci_equal(const SvDomainDeviceAddress *a,
                                     const SvDomainDeviceAddress *b);
/* def's list of serials, consoles or channels (kind). */
GPtrArray *sv_domain_hotplug_chr_list(SvDomainDef *def, const char *kind);
/* virDomainChrFind: the index in def's list for kind of the device equal to want, or -1. */
int sv_domain_hotplug_chr_find(SvDomainDef *def, const char *kind, const SvDomainChrDef *want);
/* The target type and model libvirt's QEMU post-parse gives a serial without them. */
void sv_domain_hotplug_serial_defaults(SvDomainChrDef *c);
/* virDomainRNGFind (kind "rng") or virDomainInputDefFind ("input"): index or -1. */
int sv_domain_hotplug_dev_find(SvDomainDef *def, const char *kind, gconstpointer want);
/* virDomainControllerFind: index or -1. */
int sv_domain_hotplug_controller_find(const SvDomainDef *def, SvDomainControllerType type,
                                      guint index);
/* Where virDomainControllerInsert puts c among def's controllers. */
guint sv_domain_hotplug_controller_insert_at(const SvDomainDef *def,
                                             const SvDomainControllerDef *c);
