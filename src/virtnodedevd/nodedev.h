/* nodedev.h: the host's devices as libvirt 9.0's udev node-device driver names and
 * describes them, read from sysfs (ROOT/sys), udev's device database (ROOT/run/udev/data,
 * which holds the names udev's hwdb gave USB devices and the disks' properties) and, for
 * PCI devices' names, the pci.ids database through libpciaccess, as libvirt reads it. */
#pragma once

#include <glib.h>

/* The capability types this driver reports; their names are libvirt's. */
typedef enum {
    NODEDEV_CAP_SYSTEM,
    NODEDEV_CAP_PCI,
    NODEDEV_CAP_USB_DEV,
    NODEDEV_CAP_USB_INTERFACE,
    NODEDEV_CAP_NET,
    NODEDEV_CAP_STORAGE,
    NODEDEV_CAP_SCSI_HOST,
    NODEDEV_CAP_SCSI_TARGET,
    NODEDEV_CAP_SCSI,
    NODEDEV_CAP_LAST
} NodeDevCap;

/* libvirt's name of a capability ("pci", "usb_device"). */
const char *nodedev_cap_to_string(NodeDevCap cap);
/* The capability of a name, or NODEDEV_CAP_LAST. */
NodeDevCap nodedev_cap_from_string(const char *name);

typedef struct {
    char *name;        /* "pci_0000_00_01_0" */
    char *parent;      /* "computer"; NULL for computer itself */
    char *path;        /* the sysfs path as the host names it (/sys/devices/...), or NULL */
    char *devnode;     /* "/dev/vda", or NULL */
    GPtrArray *devlinks; /* udev's links to it ("/dev/disk/by-path/..."), or NULL */
    char *driver;      /* the bound driver's name, or NULL */
    NodeDevCap cap;
    char *cap_xml;     /* the body of <capability type='CAP'>, indented for it */
    GPtrArray *subcaps; /* nested capability names listed and matched ("mdev_types") */
    char *wwnn, *wwpn; /* a Fibre Channel SCSI host's names, or NULL */
} NodeDev;

void nodedev_free(NodeDev *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NodeDev, nodedev_free)

/* Every device of the host whose sysfs is ROOT/sys ("" for the real one), computer first
 * and then in sysfs order, parents before their children. (transfer full) */
GPtrArray *nodedev_enumerate(const char *root);

/* What a device change did to the list (libvirt's CREATED, DELETED and update events). */
typedef enum {
    NODEDEV_CHANGE_CREATED,
    NODEDEV_CHANGE_DELETED,
    NODEDEV_CHANGE_UPDATED,
} NodeDevChange;

/* Told of each change: dev is listed (CREATED, UPDATED) or about to go (DELETED).
 * (transfer none) */
typedef void (*NodeDevChangeFunc)(const NodeDev *dev, NodeDevChange change, gpointer data);

/* One uevent as udev (or the kernel) announces it. */
typedef struct {
    const char *action;      /* "add", "change", "remove", "move" */
    const char *subsystem;   /* "net", "pci", ... */
    const char *syspath;     /* "/sys/devices/..." */
    const char *syspath_old; /* "move": where it was; else NULL */
} NodeDevUevent;

/* Bring devs (nodedev_enumerate's list for root) up to date with one uevent, reading only
 * the device it names under ROOT: "add" and "change" read it again (a device of that name
 * already listed is replaced: an update), "remove" drops the device listed at its path,
 * "move" drops the one at syspath_old and reads the new one. Devices of kinds not listed,
 * or gone before they are read, change nothing. notify hears every change. */
void nodedev_apply_uevent(GPtrArray *devs, const char *root, const NodeDevUevent *ev,
                          NodeDevChangeFunc notify, gpointer data);

/* Enumerate root again into *devs (the old list freed), telling notify of each device that
 * went or came: for when uevents were lost. */
void nodedev_resync(GPtrArray **devs, const char *root, NodeDevChangeFunc notify,
                    gpointer data);

/* The device named name, or NULL. (transfer none) */
NodeDev *nodedev_find(GPtrArray *devs, const char *name);

/* Whether dev has capability `name` (its type or a nested capability). */
gboolean nodedev_has_cap(const NodeDev *dev, const char *name);

/* Its capability names: the type, then the nested ones. (transfer full) */
GPtrArray *nodedev_caps(const NodeDev *dev);

/* libvirt's XML of dev (virsh nodedev-dumpxml). (transfer full) */
char *nodedev_format(const NodeDev *dev);
