/* qemu_hotplug_priv.h: what qemu_hotplug.c (disks, interfaces, the unplug wait) shares with
 * the files plugging the other device kinds into a running guest (qemu_hotplug_chr.c). */
#pragma once

#include "qemu_hotplug.h"

/* The end of a plug whose QMP steps all succeeded: the device at `index` of its list in
 * newlive joins obj's live definition and DEVICE_ADDED goes out. `pty` is the pty a
 * chardev-add step gave, or NULL. */
typedef void (*QemuHotplugJoin)(SvDomainObj *obj, SvDomainDef *newlive, guint index,
                                const char *pty);

/* Send QEMU `steps` ({"execute", "arguments"}, transfer full) in order, after handing it
 * `fd` (transfer full; -1: none) as `fdname` with getfd; join once all succeeded, then
 * done(NULL, data). A failed step takes back the backends added (blockdev-add, netdev_add,
 * chardev-add) and done gets its error. newlive is transfer full. */
void qemu_hotplug_plug(SvDomainObj *obj, SvDomainDef *newlive, guint index, GPtrArray *steps,
                       int fd, const char *fdname, QemuHotplugJoin join, SvStoreDoneFunc done,
                       gpointer data);

/* device_del of obj's device `alias`; with `wait`, done runs once QEMU confirmed the unplug
 * or after libvirt's wait (5 s), else as soon as QEMU took the request. */
gboolean qemu_hotplug_unplug(SvDomainObj *obj, const char *alias, gboolean wait,
                             SvStoreDoneFunc done, gpointer data, GError **error);

/* The running guest's monitor, or libvirt's "domain is not running". */
gboolean qemu_hotplug_monitor_of(SvDomainObj *obj, QemuMonitor **ret, GError **error);

/* DEVICE_ADDED, DEVICE_REMOVED or DEVICE_REMOVAL_FAILED for obj's device `alias`. */
void qemu_hotplug_emit_device_event(SvDomainObj *obj, int event_id, const char *alias);

/* libvirt's alias of a plugged device: prefix and one more than the highest index in use
 * among `devices` (each starting with its SvDomainDeviceInfo). (transfer full) */
char *qemu_hotplug_next_alias(GPtrArray *devices, const char *prefix);

/* ---- character devices (qemu_hotplug_chr.c) ---- */

/* cmd (chardev-remove, object-del) of the backend `id` sent to obj's QEMU, unanswered. */
void qemu_hotplug_del_backend(SvDomainObj *obj, const char *cmd, const char *id);
/* A QMP step {"execute": cmd, "arguments": args (transfer full)}. (transfer full) */
JsonObject *qemu_hotplug_step(const char *cmd, JsonObject *args);
/* The chardev-add step of the chardev "char"+alias for src; a listening socket is the fd
 * QEMU got as `fdname` (NULL: none). (transfer full) */
JsonObject *qemu_hotplug_chardev_add(const SvDomainChrSource *src, const char *alias,
                                     const char *fdname);
/* The JSON value of the `option` ("-device", "-object") of argv whose "id" is `id`, or
 * NULL. (transfer full) */
JsonObject *qemu_hotplug_find_option(GPtrArray *argv, const char *option, const char *id);

/* TRUE for the device elements qemu_hotplug_chr.c plugs: serial, console, channel. */
gboolean qemu_hotplug_is_chr(const char *kind);
gboolean qemu_hotplug_attach_chr(SvDomainObj *obj, SvDomainDef *dev, const char *kind,
                                 SvStoreDoneFunc done, gpointer data, GError **error);
gboolean qemu_hotplug_detach_chr(SvDomainObj *obj, SvDomainDef *dev, const char *kind,
                                 SvStoreDoneFunc done, gpointer data, GError **error);
/* Whether def has a serial, console or channel of alias `alias`. */
gboolean qemu_hotplug_chr_find_alias(const SvDomainDef *def, const char *alias);
/* QEMU let go of the device `alias`: when it is a character device, its chardev is
 * removed, it leaves the live definition (the agent's channel closes the agent) and
 * DEVICE_REMOVED goes out; FALSE when obj has no such character device. */
gboolean qemu_hotplug_chr_removed(SvDomainObj *obj, const char *alias);

/* ---- rng and input devices (qemu_hotplug_dev.c) ---- */

/* TRUE for the device elements qemu_hotplug_dev.c plugs: rng, input. */
gboolean qemu_hotplug_is_dev(const char *kind);
gboolean qemu_hotplug_attach_dev(SvDomainObj *obj, SvDomainDef *dev, const char *kind,
                                 SvStoreDoneFunc done, gpointer data, GError **error);
gboolean qemu_hotplug_detach_dev(SvDomainObj *obj, SvDomainDef *dev, const char *kind,
                                 SvStoreDoneFunc done, gpointer data, GError **error);
/* Whether def has an rng or input device of alias `alias`. */
gboolean qemu_hotplug_dev_find_alias(const SvDomainDef *def, const char *alias);
/* As qemu_hotplug_chr_removed, for rng (its backend object and chardev deleted) and input
 * devices. */
gboolean qemu_hotplug_dev_removed(SvDomainObj *obj, const char *alias);

/* ---- controllers and the watchdog (qemu_hotplug_ctl.c) ---- */

/* TRUE for the device elements qemu_hotplug_ctl.c plugs: controller, watchdog. */
gboolean qemu_hotplug_is_ctl(const char *kind);
gboolean qemu_hotplug_attach_ctl(SvDomainObj *obj, SvDomainDef *dev, const char *kind,
                                 SvStoreDoneFunc done, gpointer data, GError **error);
gboolean qemu_hotplug_detach_ctl(SvDomainObj *obj, SvDomainDef *dev, const char *kind,
                                 SvStoreDoneFunc done, gpointer data, GError **error);
/* Whether def has a controller or watchdog of alias `alias`. */
gboolean qemu_hotplug_ctl_find_alias(const SvDomainDef *def, const char *alias);
/* As qemu_hotplug_chr_removed, for controllers and the watchdog. */
gboolean qemu_hotplug_ctl_removed(SvDomainObj *obj, const char *alias);

/* libvirt's refusal of a device XML the kind's code cannot plug: OPERATION_UNSUPPORTED,
 * "live attach (detach) of device 'KIND' is not supported". FALSE. */
gboolean qemu_hotplug_unsupported(const char *what, const char *kind, GError **error);
