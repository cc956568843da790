/* qemu_hotplug_priv.h: what qemu_hotplug.c (disks, interfaces, the unplug wait) shares with
 * the files plugging the other device kinds into a running guest (qemu_hotplug_chr.c). */
#pragma once

#include "qemu_hotplug.h"

/* The end of a plug whose QMP steps all succeeded: the device (element `kind`) at `index`
 * of its list in newlive joins obj's live definition and DEVICE_ADDED goes out. `pty` is the pty a
 * chardev-add step gave, or NULL. */
typedef void (*QemuHotplugJoin)(SvDomainObj *obj, SvDomainDef *newlive, const char *kind,
                                guint index, const char *pty);

/* Send QEMU `steps` ({"execute", "arguments"}, transfer full) in order, after handing it
 * `fd` (transfer full; -1: none) as `fdname` with getfd; join once all succeeded, then
 * done(NULL, data). A failed step takes back the backends added (blockdev-add, netdev_add,
 * chardev-add) and done gets its error. newlive is transfer full. */
void qemu_hotplug_plug(SvDomainObj *obj, SvDomainDef *newlive, const char *kind, guint index,
                       GPtrArray *steps, int fd, const char *fdname, QemuHotplugJoin join,
                       SvStoreDoneFunc done, gpointer data);

/* The disk of dev (its only device; stolen from it) plugged into running obj, as
 * SvHotplugFacts.attach_live. A volume disk must be resolved already (qemu_volume.h). */
gboolean qemu_hotplug_attach_disk(SvDomainObj *obj, SvDomainDef *dev, SvStoreDoneFunc done,
                                  gpointer data, GError **error);

/* The interface of dev (its only device; stolen from it) plugged into running obj: user
 * networking, or a tap (ethernet, bridge, network) handed to QEMU; macvtap (direct) is
 * refused. An interface of type network first gets its port, for the client of call. */
gboolean qemu_hotplug_attach_net(SvCall *call, SvDomainObj *obj, SvDomainDef *dev,
                                 SvStoreDoneFunc done, gpointer data, GError **error);

/* device_del of obj's device `alias`; with `wait`, done runs once QEMU confirmed the unplug
 * or after libvirt's wait (5 s), else as soon as QEMU took the request. */
gboolean qemu_hotplug_unplug(SvDomainObj *obj, const char *alias, gboolean wait,
                             SvStoreDoneFunc done, gpointer data, GError **error);

/* The same with the wait, where the call fails with timeout_error (transfer full) when the
 * wait ends before QEMU's DEVICE_DELETED (libvirt's vcpu unplug). */
gboolean qemu_hotplug_unplug_or_fail(SvDomainObj *obj, const char *alias,
                                     GError *timeout_error, SvStoreDoneFunc done,
                                     gpointer data, GError **error);

/* The running guest's monitor, or libvirt's "domain is not running". */
gboolean qemu_hotplug_monitor_of(SvDomainObj *obj, QemuMonitor **ret, GError **error);

/* DEVICE_ADDED, DEVICE_REMOVED or DEVICE_REMOVAL_FAILED for obj's device `alias`. */
void qemu_hotplug_emit_device_event(SvDomainObj *obj, int event_id, const char *alias);

/* libvirt's alias of a plugged device: prefix and one more than the highest index in use
 * among `devices` (each starting with its SvDomainDeviceInfo). (transfer full) */
char *qemu_hotplug_next_alias(GPtrArray *devices, const char *prefix);

/* device (transfer full; starting with its SvDomainDeviceInfo) appended to `list` of def
 * as libvirt plugs it: its alias (the next of `prefix` when it has none), its PCI or USB
 * address; refused when it would need a controller def lacks (element `kind`). */
gboolean qemu_hotplug_place(SvDomainDef *def, GPtrArray *list, gpointer device,
                            const char *prefix, const char *kind, GError **error);

/* The device of alias `alias` among the n lists (of devices starting with their
 * SvDomainDeviceInfo): its list's place in *ret_list and its place in *ret_index (either
 * may be NULL); FALSE when none has it. */
gboolean qemu_hotplug_find_alias(GPtrArray *const *lists, guint n, const char *alias,
                                 guint *ret_list, guint *ret_index);

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

/* libvirt's refusal of a device XML the kind's code cannot plug: OPERATION_UNSUPPORTED,
 * "live attach (detach) of device 'KIND' is not supported". FALSE. */
gboolean qemu_hotplug_unsupported(const char *what, const char *kind, GError **error);

/* Send QEMU the options in argv (a start's, for the one device at `index` of newlive
 * (transfer full); argv stays the caller's) as QMP commands, as qemu_hotplug_plug; a tap
 * (tapfd, net) goes first. */
void qemu_hotplug_plug_argv(SvDomainObj *obj, SvDomainDef *newlive, gboolean net, guint index,
                            GPtrArray *argv, int tapfd, SvStoreDoneFunc done, gpointer data);
/* Disk `index` of newlive (transfer full) has a LUKS key: fetch it, then plug it
 * (qemu_hotplug_luks.c); `done` hears the outcome either way. */
void qemu_hotplug_attach_keyed_disk(SvDomainObj *obj, SvDomainDef *newlive, guint index,
                                    SvStoreDoneFunc done, gpointer data);

/* A family of device kinds plugged by a file of its own: qemu_hotplug_chr.c (serial,
 * console, channel), qemu_hotplug_dev.c (rng, input), qemu_hotplug_ctl.c (controller,
 * watchdog). attach and detach as SvHotplugFacts's for the device elements `handles`
 * accepts; has_alias: whether def has such a device of alias `alias`; removed: QEMU let
 * go of the device `alias` (DEVICE_DELETED): when it is one of the family's, its backends
 * are deleted, it leaves the live definition and DEVICE_REMOVED goes out; FALSE when obj
 * has no such device. */
typedef struct {
    gboolean (*handles)(const char *kind);
    gboolean (*attach)(SvDomainObj *obj, SvDomainDef *dev, const char *kind,
                       SvStoreDoneFunc done, gpointer data, GError **error);
    gboolean (*detach)(SvDomainObj *obj, SvDomainDef *dev, const char *kind,
                       SvStoreDoneFunc done, gpointer data, GError **error);
    gboolean (*has_alias)(const SvDomainDef *def, const char *alias);
    gboolean (*removed)(SvDomainObj *obj, const char *alias);
} QemuHotplugFamily;

extern const QemuHotplugFamily qemu_hotplug_chr; /* the agent's channel closes the agent */
extern const QemuHotplugFamily qemu_hotplug_dev;
extern const QemuHotplugFamily qemu_hotplug_ctl;
