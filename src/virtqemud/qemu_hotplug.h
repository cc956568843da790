/* qemu_hotplug.h: disks plugged into and unplugged from a running QEMU guest (issue 18 item
 * 2, live hotplug), the facts domain_hotplug.c asks for AFFECT_LIVE. */
#pragma once

#include <json-glib/json-glib.h>

#include "conf/domain_obj.h"
#include "domain/domain_hotplug.h"
#include "qemu_monitor.h"

/* A running guest's unplugs waiting for QEMU (QemuDomain.hotplug). */
typedef struct QemuHotplug QemuHotplug;
void qemu_hotplug_free(QemuHotplug *hp);

/* QEMU's DEVICE_DELETED: the device of data's "device" leaves the live definition, its
 * block nodes are deleted, DEVICE_REMOVED goes out and a call waiting for it is answered. */
void qemu_hotplug_device_deleted(SvDomainObj *obj, JsonObject *data);

/* QEMU's ACPI_DEVICE_OST: a guest that refused an eject gives DEVICE_REMOVAL_FAILED. */
void qemu_hotplug_acpi_ost(SvDomainObj *obj, JsonObject *data);

/* The QMP steps ({"execute", "arguments"}) of argv's "-blockdev JSON", "-netdev JSON" and
 * "-device JSON" pairs, in their order. (transfer full) */
GPtrArray *qemu_hotplug_steps(GPtrArray *argv);

/* The QMP command of a step ({"execute", "arguments"}) sent to mon; done as
 * qemu_monitor_command()'s. */
void qemu_hotplug_send_step(QemuMonitor *mon, JsonObject *step, QemuMonitorReplyFunc done,
                            gpointer data);

/* The node index of the next image plugged into obj: after every index the guest's disks
 * use, and never one used before in this run (libvirt counts on from its start). */
guint qemu_hotplug_next_node(SvDomainObj *obj);

/* blockdev-del of the nodes of disk's image and chain (nothing for an empty drive). */
void qemu_hotplug_del_nodes(SvDomainObj *obj, const SvDomainDiskDef *disk);

extern const SvHotplugFacts qemu_hotplug_facts;
