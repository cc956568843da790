/* nodedev_sysfs.h: small readers of sysfs attributes and udev's device database, shared by
 * nodedev.c and nodedev_pci.c. */
#pragma once

#include <glib.h>

#include "nodedev.h"

/* The attribute file dir/name, whitespace-stripped, or NULL when it cannot be read.
 * (transfer full) */
char *nodedev_attr(const char *dir, const char *name);
/* An attribute as a number in base (0: C rules), or fallback. */
gint64 nodedev_attr_int(const char *dir, const char *name, guint base, gint64 fallback);

/* The value of key in udev's database entry id ("+pci:0000:00:01.0", "n2", "b253:0")
 * under ROOT/run/udev/data, as udev stores it (lines "E:KEY=VALUE"), or NULL.
 * (transfer full) */
char *nodedev_udev_prop(const char *root, const char *id, const char *key);

/* The value of KEY in the uevent file of dir ("DEVNAME", "DEVTYPE"), or NULL.
 * (transfer full) */
char *nodedev_uevent_get(const char *dir, const char *key);

/* The device of a sysfs directory (canonical path under ROOT), its host path set from
 * it; the caller fills the rest. (transfer full) */
NodeDev *nodedev_new(const char *root, const char *real_path, NodeDevCap cap);

/* libvirt's device name: "SUBSYS_SYSNAME[_SUFFIX]", every byte that is not a letter or
 * digit made '_'. (transfer full) */
char *nodedev_make_name(const char *subsystem, const char *sysname, const char *suffix);

/* "INDENT<ELEM>VALUE</ELEM>", the value escaped. */
void nodedev_append_text(GString *s, const char *indent, const char *elem, const char *value);

/* The network interface at the canonical sysfs directory `dir`. (transfer full) */
NodeDev *nodedev_net_new(const char *root, const char *dir);

/* The PCI device at the canonical sysfs directory `dir` (pci_DDDD_BB_SS_F), or NULL
 * when it is not one. (transfer full) */
NodeDev *nodedev_pci_new(const char *root, const char *dir);

/* The SCSI host, target or device at the canonical sysfs directory `dir` (by its
 * DEVTYPE), or NULL. (transfer full) */
NodeDev *nodedev_scsi_new(const char *root, const char *dir);
