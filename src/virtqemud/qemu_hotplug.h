/* qemu_hotplug.h: disks plugged into and unplugged from a running QEMU guest (issue 18 item
 * 2, live hotplug), the facts domain_hotplug.c asks for AFFECT_LIVE. */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/domain_obj.h"
#include "domain/domain_hotplug.h"

/* A running guest's unplugs waiting for QEMU (QemuDomain.hotplug). */
typedef struct QemuHotplug QemuHotplug;
void qemu_hotplug_free(QemuHotplug *hp);

/* QEMU's DEVICE_DELETED: the device of data's "device" leaves the live definition, its
 * block nodes are deleted, DEVICE_REMOVED goes out and a call waiting for it is answered. */
void qemu_hotplug_device_deleted(SvDomainObj *obj, JsonObject *data);

/* QEMU's ACPI_DEVICE_OST: a guest that refused an eject gives DEVICE_REMOVAL_FAILED. */
void qemu_hotplug_acpi_ost(SvDomainObj *obj, JsonObject *data);

extern const SvHotplugFacts qemu_hotplug_facts;
