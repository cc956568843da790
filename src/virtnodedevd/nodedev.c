/* nodedev.c: the host's devices from sysfs as libvirt's udev node-device driver lists
 * them: computer, PCI (nodedev_pci.c), USB devices and interfaces, network interfaces,
 * SCSI hosts, targets and devices (nodedev_scsi.c) and disks; every other kind of device is left out, as libvirt leaves out what it does not
 * know. Reading sysfs attributes never waits on a disk (the kernel makes them up on
 * read), so this runs on the loop. */
#include "nodedev.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "nodedev_sysfs.h"

static const char *const cap_names[NODEDEV_CAP_LAST] = {
    [NODEDEV_CAP_SYSTEM] = "system",       [NODEDEV_CAP_PCI] = "pci",
    [NODEDEV_CAP_USB_DEV] = "usb_device",  [NODEDEV_CAP_USB_INTERFACE] = "usb",
    [NODEDEV_CAP_NET] = "net",             [NODEDEV_CAP_STORAGE] = "storage",
    [NODEDEV_CAP_SCSI_HOST] = "scsi_host", [NODEDEV_CAP_SCSI_TARGET] = "scsi_target",
    [NODEDEV_CAP_SCSI] = "scsi",
};

const char *
nodedev_cap_to_string(NodeDevCap cap)
{
    g_return_val_if_fail(cap < NODEDEV_CAP_LAST, NULL);
    return cap_names[cap];
}

NodeDevCap
nodedev_cap_from_string(const char *name)
{
    for (guint i = 0; i < NODEDEV_CAP_LAST; i++) {
        if (g_strcmp0(cap_names[i], name) == 0)
            return i;
    }
    return NODEDEV_CAP_LAST;
}

void
nodedev_free(NodeDev *dev)
{
    if (!dev)
        return;
    g_free(dev->name);
    g_free(dev->parent);
    g_free(dev->path);
    g_free(dev->devnode);
    g_free(dev->driver);
    g_free(dev->cap_xml);
    g_free(dev->wwnn);
    g_free(dev->wwpn);
    g_ptr_array_unref(dev->subcaps);
    if (dev->devlinks)
        g_ptr_array_unref(dev->devlinks);
    g_free(dev);
}

/* ---------------------------------------------------------------- readers */

char *
nodedev_attr(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    return g_strstrip(text);
}

gint64
nodedev_attr_int(const char *dir, const char *name, guint base, gint64 fallback)
{
    g_autofree char *text = nodedev_attr(dir, name);
    char *end;
    gint64 v;

    if (!text || !*text)
        return fallback;
    v = g_ascii_strtoll(text, &end, base);
    return *end ? fallback : v;
}

char *
nodedev_udev_prop(const char *root, const char *id, const char *key)
{
    g_autofree char *path = g_strdup_printf("%s/run/udev/data/%s", root, id);
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    gsize klen = strlen(key);

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return NULL;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        const char *l = lines[i];
        if (g_str_has_prefix(l, "E:") && strncmp(l + 2, key, klen) == 0 && l[2 + klen] == '=')
            return g_strdup(l + 3 + klen);
    }
    return NULL;
}

char *
nodedev_uevent_get(const char *dir, const char *key)
{
    g_autofree char *text = nodedev_attr(dir, "uevent");
    g_auto(GStrv) lines = NULL;
    gsize klen = strlen(key);

    if (!text)
        return NULL;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (strncmp(lines[i], key, klen) == 0 && lines[i][klen] == '=')
            return g_strdup(lines[i] + klen + 1);
    }
    return NULL;
}

/* The symlinks udev made to the node of the device at dir (its database's "S:" lines),
 * each as /dev/LINK. */
static void
read_devlinks(const char *root, const char *dir, GPtrArray *out)
{
    g_autofree char *subsys_link = g_build_filename(dir, "subsystem", NULL);
    g_autofree char *subsys = g_file_read_link(subsys_link, NULL);
    g_autofree char *majmin = nodedev_attr(dir, "dev");
    g_autofree char *path = NULL, *text = NULL;
    g_auto(GStrv) lines = NULL;

    if (!majmin)
        return;
    path = g_strdup_printf("%s/run/udev/data/%c%s", root,
                           subsys && g_str_has_suffix(subsys, "/block") ? 'b' : 'c', majmin);
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return;
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], "S:"))
            g_ptr_array_add(out, g_strconcat("/dev/", lines[i] + 2, NULL));
    }
}

NodeDev *
nodedev_new(const char *root, const char *real_path, NodeDevCap cap)
{
    NodeDev *dev = g_new0(NodeDev, 1);
    g_autofree char *drv_link = g_build_filename(real_path, "driver", NULL);
    g_autofree char *drv = g_file_read_link(drv_link, NULL);
    g_autofree char *devname = nodedev_uevent_get(real_path, "DEVNAME");

    dev->cap = cap;
    dev->path = g_strdup(real_path + strlen(root));
    dev->driver = drv ? g_path_get_basename(drv) : NULL;
    dev->devnode = devname ? g_strconcat("/dev/", devname, NULL) : NULL;
    dev->subcaps = g_ptr_array_new_with_free_func(g_free);
    dev->devlinks = g_ptr_array_new_with_free_func(g_free);
    if (devname)
        read_devlinks(root, real_path, dev->devlinks);
    return dev;
}

char *
nodedev_make_name(const char *subsystem, const char *sysname, const char *suffix)
{
    char *name = suffix ? g_strdup_printf("%s_%s_%s", subsystem, sysname, suffix)
                        : g_strdup_printf("%s_%s", subsystem, sysname);

    for (char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p))
            *p = '_';
    }
    return name;
}

static char *
escaped(const char *s)
{
    return g_markup_escape_text(s, -1);
}

/* "  <ELEM ATTRS>VALUE</ELEM>", escaped; attrs "" or " type='dev'". */
static void
append_elem(GString *s, const char *indent, const char *elem, const char *attrs,
            const char *value)
{
    g_autofree char *e = escaped(value);

    g_string_append_printf(s, "%s<%s%s>%s</%s>\n", indent, elem, attrs, e, elem);
}

void
nodedev_append_text(GString *s, const char *indent, const char *elem, const char *value)
{
    append_elem(s, indent, elem, "", value);
}

/* ---------------------------------------------------------------- the kinds of device */

/* The system itself, from the DMI tables where the firmware gives them. */
static NodeDev *
computer_new(const char *root)
{
    g_autofree char *dmi = g_strdup_printf("%s/sys/class/dmi/id", root);
    static const char *const hw[] = {"sys_vendor", "vendor", "product_version", "version",
                                     "product_serial", "serial", NULL};
    static const char *const fw[] = {"bios_vendor", "vendor", "bios_version", "version",
                                     "bios_date", "release_date", NULL};
    g_autofree char *product = nodedev_attr(dmi, "product_name");
    g_autofree char *uuid = nodedev_attr(dmi, "product_uuid");
    NodeDev *dev = g_new0(NodeDev, 1);
    GString *s = g_string_new(NULL);

    dev->name = g_strdup("computer");
    dev->cap = NODEDEV_CAP_SYSTEM;
    dev->subcaps = g_ptr_array_new_with_free_func(g_free);
    if (product) {
        g_autofree char *e = escaped(product);
        g_string_append_printf(s, "    <product>%s</product>\n", e);
    }
    g_string_append(s, "    <hardware>\n");
    for (guint i = 0; hw[i]; i += 2) {
        g_autofree char *v = nodedev_attr(dmi, hw[i]);
        g_autofree char *e = v ? escaped(v) : NULL;
        if (e)
            g_string_append_printf(s, "      <%s>%s</%s>\n", hw[i + 1], e, hw[i + 1]);
    }
    g_string_append_printf(s, "      <uuid>%s</uuid>\n    </hardware>\n    <firmware>\n",
                           uuid && strlen(uuid) == 36 ? uuid
                                                      : "00000000-0000-0000-0000-000000000000");
    for (guint i = 0; fw[i]; i += 2) {
        g_autofree char *v = nodedev_attr(dmi, fw[i]);
        g_autofree char *e = v ? escaped(v) : NULL;
        if (e)
            g_string_append_printf(s, "      <%s>%s</%s>\n", fw[i + 1], e, fw[i + 1]);
    }
    g_string_append(s, "    </firmware>\n");
    dev->cap_xml = g_string_free(s, FALSE);
    return dev;
}

/* <product id='0x...'>NAME</product>, libvirt's USB form (a space before "/>"). */
static void
append_usb_id(GString *s, const char *elem, gint64 id, const char *name)
{
    g_autofree char *e = name ? escaped(name) : NULL;

    g_string_append_printf(s, "    <%s id='0x%04x'", elem, (guint)id);
    if (e)
        g_string_append_printf(s, ">%s</%s>\n", e, elem);
    else
        g_string_append(s, " />\n");
}

/* A USB device (usb_1_1) or one of its interfaces (usb_1_1_1_0). */
static NodeDev *
usb_new(const char *root, const char *dir)
{
    g_autofree char *sysname = g_path_get_basename(dir);
    g_autofree char *devtype = nodedev_uevent_get(dir, "DEVTYPE");
    NodeDev *dev;
    GString *s = g_string_new(NULL);

    if (g_strcmp0(devtype, "usb_interface") == 0) {
        dev = nodedev_new(root, dir, NODEDEV_CAP_USB_INTERFACE);
        g_string_append_printf(
            s,
            "    <number>%d</number>\n    <class>%d</class>\n    <subclass>%d</subclass>\n"
            "    <protocol>%d</protocol>\n",
            (int)nodedev_attr_int(dir, "bInterfaceNumber", 16, 0),
            (int)nodedev_attr_int(dir, "bInterfaceClass", 16, 0),
            (int)nodedev_attr_int(dir, "bInterfaceSubClass", 16, 0),
            (int)nodedev_attr_int(dir, "bInterfaceProtocol", 16, 0));
    } else if (g_strcmp0(devtype, "usb_device") == 0) {
        g_autofree char *db = NULL, *vendor = NULL, *product = NULL;
        g_autofree char *majmin = nodedev_attr(dir, "dev");

        db = g_strconcat("c", majmin ? majmin : "", NULL);
        vendor = nodedev_udev_prop(root, db, "ID_VENDOR_FROM_DATABASE");
        product = nodedev_udev_prop(root, db, "ID_MODEL_FROM_DATABASE");
        if (!vendor)
            vendor = nodedev_attr(dir, "manufacturer");
        if (!product)
            product = nodedev_attr(dir, "product");
        dev = nodedev_new(root, dir, NODEDEV_CAP_USB_DEV);
        g_string_append_printf(s, "    <bus>%d</bus>\n    <device>%d</device>\n",
                               (int)nodedev_attr_int(dir, "busnum", 10, 0),
                               (int)nodedev_attr_int(dir, "devnum", 10, 0));
        append_usb_id(s, "product", nodedev_attr_int(dir, "idProduct", 16, 0), product);
        append_usb_id(s, "vendor", nodedev_attr_int(dir, "idVendor", 16, 0), vendor);
    } else {
        g_string_free(s, TRUE);
        return NULL;
    }
    dev->name = nodedev_make_name("usb", sysname, NULL);
    dev->cap_xml = g_string_free(s, FALSE);
    return dev;
}

/* The kind of a disk udev's database does not give, guessed from its node as libvirt's
 * driver guesses it (virtio and NVMe disks); NULL: the disk is left out, as libvirt does. */
static char *
guess_drive_type(const char *devnode)
{
    if (devnode && (g_str_has_prefix(devnode, "/dev/vd") || g_str_has_prefix(devnode, "/dev/nvme")))
        return g_strdup("disk");
    return NULL;
}

/* A whole disk (not a partition): block_NAME[_SERIAL]. Removable media (CD, floppy, SD)
 * are not described yet: left out. */
static NodeDev *
block_new(const char *root, const char *dir)
{
    g_autofree char *sysname = g_path_get_basename(dir);
    g_autofree char *devtype = nodedev_uevent_get(dir, "DEVTYPE");
    g_autofree char *majmin = nodedev_attr(dir, "dev");
    g_autofree char *db = g_strconcat("b", majmin ? majmin : "", NULL);
    g_autofree char *type = nodedev_udev_prop(root, db, "ID_TYPE");
    g_autofree char *serial = nodedev_udev_prop(root, db, "ID_SERIAL");
    g_autofree char *bus = nodedev_udev_prop(root, db, "ID_BUS");
    g_autofree char *model = nodedev_attr(dir, "device/model");
    g_autofree char *vendor = nodedev_attr(dir, "device/vendor");
    gint64 blocks = nodedev_attr_int(dir, "size", 10, 0);
    gint64 lbs = nodedev_attr_int(dir, "queue/logical_block_size", 10, 0);
    const char *const shown[][2] = {{"bus", bus}, {"drive_type", NULL}, {"model", model},
                                    {"vendor", vendor}, {"serial", serial}};
    NodeDev *dev;
    GString *s;

    if (g_strcmp0(devtype, "disk") != 0)
        return NULL;
    dev = nodedev_new(root, dir, NODEDEV_CAP_STORAGE);
    if (!type || g_str_equal(type, "generic")) {
        g_free(type);
        type = guess_drive_type(dev->devnode);
    }
    if (g_strcmp0(type, "disk") != 0 || !dev->devnode) {
        nodedev_free(dev);
        return NULL;
    }
    dev->name = nodedev_make_name("block", sysname, serial);
    s = g_string_new(NULL);
    g_string_append_printf(s, "    <block>%s</block>\n", dev->devnode);
    for (gsize i = 0; i < G_N_ELEMENTS(shown); i++) {
        const char *v = i == 1 ? type : shown[i][1];
        g_autofree char *e = v ? escaped(v) : NULL;
        if (e)
            g_string_append_printf(s, "    <%s>%s</%s>\n", shown[i][0], e, shown[i][0]);
    }
    g_string_append_printf(s, "    <size>%" G_GINT64_FORMAT "</size>\n", blocks * lbs);
    if (lbs > 0)
        g_string_append_printf(s, "    <logical_block_size>%" G_GINT64_FORMAT
                                  "</logical_block_size>\n", lbs);
    if (blocks > 0)
        g_string_append_printf(s, "    <num_blocks>%" G_GINT64_FORMAT "</num_blocks>\n",
                               blocks);
    dev->cap_xml = g_string_free(s, FALSE);
    return dev;
}

/* ---------------------------------------------------------------- enumeration */

typedef NodeDev *(*DevNewFunc)(const char *root, const char *dir);

/* The kinds of device listed: the uevent subsystem, where sysfs lists them, the reader. */
static const struct {
    const char *subsystem;
    const char *class_dir;
    DevNewFunc fn;
} kinds[] = {
    {"pci", "bus/pci/devices", nodedev_pci_new},   {"usb", "bus/usb/devices", usb_new},
    {"net", "class/net", nodedev_net_new},         {"scsi", "bus/scsi/devices", nodedev_scsi_new},
    {"block", "class/block", block_new},
};

/* Each entry of ROOT/sys/CLASS_DIR, resolved to its device directory, given to fn. */
static void
scan(GPtrArray *out, const char *root, const char *class_dir, DevNewFunc fn)
{
    g_autofree char *dir = g_strdup_printf("%s/sys/%s", root, class_dir);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func(g_free);
    const char *e;

    while (d && (e = g_dir_read_name(d)))
        g_ptr_array_add(entries, g_strdup(e));
    g_ptr_array_sort(entries, (GCompareFunc)strcmp);
    for (guint i = 0; i < entries->len; i++) {
        g_autofree char *link = g_build_filename(dir, entries->pdata[i], NULL);
        char real[PATH_MAX];
        NodeDev *dev;

        if (!realpath(link, real) || !g_str_has_prefix(real, root))
            continue;
        if ((dev = fn(root, real)))
            g_ptr_array_add(out, dev);
    }
}

/* libvirt's parent: the nearest sysfs ancestor that is itself a listed device, else the
 * computer. */
static void
set_parents(GPtrArray *devs)
{
    g_autoptr(GHashTable) by_path = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 1; i < devs->len; i++) {
        NodeDev *dev = devs->pdata[i];
        g_hash_table_insert(by_path, dev->path, dev->name);
    }
    for (guint i = 1; i < devs->len; i++) {
        NodeDev *dev = devs->pdata[i];
        g_autofree char *up = g_path_get_dirname(dev->path);
        const char *found = NULL;

        while (!found && strlen(up) > 1) {
            char *next;
            found = g_hash_table_lookup(by_path, up);
            next = g_path_get_dirname(up);
            g_free(up);
            up = next;
        }
        dev->parent = g_strdup(found ? found : "computer");
    }
}

static gint
cmp_path(gconstpointer a, gconstpointer b)
{
    const NodeDev *x = *(NodeDev *const *)a, *y = *(NodeDev *const *)b;
    return g_strcmp0(x->path, y->path);
}

/* root made canonical (symlinks resolved), "" for the host's own. (transfer full) */
static char *
real_root(const char *root)
{
    char real[PATH_MAX];

    if (root && *root && realpath(root, real))
        return g_strdup(real);
    return g_strdup("");
}

GPtrArray *
nodedev_enumerate(const char *root)
{
    GPtrArray *devs = g_ptr_array_new_with_free_func((GDestroyNotify)nodedev_free);
    g_autoptr(GPtrArray) rest = g_ptr_array_new();
    g_autofree char *r = real_root(root);

    g_ptr_array_add(devs, computer_new(r));
    for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++)
        scan(devs, r, kinds[k].class_dir, kinds[k].fn);
    /* sysfs order: parents come before their children */
    for (guint i = 1; i < devs->len; i++)
        g_ptr_array_add(rest, devs->pdata[i]);
    g_ptr_array_sort(rest, cmp_path);
    for (guint i = 0; i < rest->len; i++)
        devs->pdata[i + 1] = rest->pdata[i];
    set_parents(devs);
    return devs;
}

/* ---------------------------------------------------------------- changes */

/* The index of the device listed at sysfs path `path` (/sys/devices/...), or -1. */
static int
index_by_path(GPtrArray *devs, const char *path)
{
    for (guint i = 1; i < devs->len; i++) {
        if (g_strcmp0(((NodeDev *)devs->pdata[i])->path, path) == 0)
            return i;
    }
    return -1;
}

/* The parent libvirt gives a device at path: as set_parents, for one device. */
static const char *
parent_of(GPtrArray *devs, const char *path)
{
    g_autofree char *up = g_path_get_dirname(path);

    while (strlen(up) > 1) {
        int i = index_by_path(devs, up);
        char *next;

        if (i > 0)
            return ((NodeDev *)devs->pdata[i])->name;
        next = g_path_get_dirname(up);
        g_free(up);
        up = next;
    }
    return "computer";
}

/* Put dev (transfer full) in its place in sysfs order, after the computer. */
static void
insert_sorted(GPtrArray *devs, NodeDev *dev)
{
    guint i = 1;

    while (i < devs->len && g_strcmp0(((NodeDev *)devs->pdata[i])->path, dev->path) < 0)
        i++;
    g_ptr_array_insert(devs, i, dev);
}

/* "add" or "change": the device at ROOT/syspath read again; it replaces the device of the
 * same name (libvirt's update) or is new. A device that is gone already, or that is not of
 * a kind listed, changes nothing. */
static void
apply_add(GPtrArray *devs, const char *root, DevNewFunc fn, const char *syspath,
          NodeDevChangeFunc notify, gpointer data)
{
    g_autofree char *dir = g_strconcat(root, syspath, NULL);
    char real[PATH_MAX];
    NodeDev *dev;
    NodeDevChange change = NODEDEV_CHANGE_CREATED;

    if (!realpath(dir, real) || !g_str_has_prefix(real, root) || !(dev = fn(root, real)))
        return;
    dev->parent = g_strdup(parent_of(devs, dev->path));
    for (guint i = 1; i < devs->len; i++) {
        if (g_str_equal(((NodeDev *)devs->pdata[i])->name, dev->name)) {
            g_ptr_array_remove_index(devs, i);
            change = NODEDEV_CHANGE_UPDATED;
            break;
        }
    }
    insert_sorted(devs, dev);
    notify(dev, change, data);
}

static void
apply_remove(GPtrArray *devs, const char *syspath, NodeDevChangeFunc notify, gpointer data)
{
    int i = syspath ? index_by_path(devs, syspath) : -1;

    if (i < 0)
        return;
    notify(devs->pdata[i], NODEDEV_CHANGE_DELETED, data);
    g_ptr_array_remove_index(devs, i);
}

void
nodedev_apply_uevent(GPtrArray *devs, const char *root, const NodeDevUevent *ev,
                     NodeDevChangeFunc notify, gpointer data)
{
    g_autofree char *r = real_root(root);
    DevNewFunc fn = NULL;

    for (gsize k = 0; k < G_N_ELEMENTS(kinds); k++) {
        if (g_strcmp0(ev->subsystem, kinds[k].subsystem) == 0)
            fn = kinds[k].fn;
    }
    if (g_strcmp0(ev->action, "remove") == 0) {
        apply_remove(devs, ev->syspath, notify, data);
    } else if (g_strcmp0(ev->action, "move") == 0) {
        /* a renamed network interface: its old name goes, the new one comes */
        apply_remove(devs, ev->syspath_old, notify, data);
        if (fn)
            apply_add(devs, r, fn, ev->syspath, notify, data);
    } else if (fn && (g_strcmp0(ev->action, "add") == 0 || g_strcmp0(ev->action, "change") == 0)) {
        apply_add(devs, r, fn, ev->syspath, notify, data);
    }
}

void
nodedev_resync(GPtrArray **devs, const char *root, NodeDevChangeFunc notify, gpointer data)
{
    g_autoptr(GPtrArray) old = *devs;
    GPtrArray *now = nodedev_enumerate(root);

    *devs = now;
    for (guint i = 1; i < old->len; i++) {
        if (!nodedev_find(now, ((NodeDev *)old->pdata[i])->name))
            notify(old->pdata[i], NODEDEV_CHANGE_DELETED, data);
    }
    for (guint i = 1; i < now->len; i++) {
        if (!nodedev_find(old, ((NodeDev *)now->pdata[i])->name))
            notify(now->pdata[i], NODEDEV_CHANGE_CREATED, data);
    }
}

NodeDev *
nodedev_find(GPtrArray *devs, const char *name)
{
    for (guint i = 0; i < devs->len; i++) {
        NodeDev *dev = devs->pdata[i];
        if (g_str_equal(dev->name, name))
            return dev;
    }
    return NULL;
}

gboolean
nodedev_has_cap(const NodeDev *dev, const char *name)
{
    if (g_strcmp0(nodedev_cap_to_string(dev->cap), name) == 0)
        return TRUE;
    for (guint i = 0; i < dev->subcaps->len; i++) {
        if (g_strcmp0(dev->subcaps->pdata[i], name) == 0)
            return TRUE;
    }
    return FALSE;
}

GPtrArray *
nodedev_caps(const NodeDev *dev)
{
    GPtrArray *caps = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(caps, g_strdup(nodedev_cap_to_string(dev->cap)));
    for (guint i = 0; i < dev->subcaps->len; i++)
        g_ptr_array_add(caps, g_strdup(dev->subcaps->pdata[i]));
    return caps;
}

char *
nodedev_format(const NodeDev *dev)
{
    GString *s = g_string_new("<device>\n");

    nodedev_append_text(s, "  ", "name", dev->name);
    if (dev->path)
        nodedev_append_text(s, "  ", "path", dev->path);
    if (dev->devnode)
        append_elem(s, "  ", "devnode", " type='dev'", dev->devnode);
    for (guint i = 0; dev->devlinks && i < dev->devlinks->len; i++)
        append_elem(s, "  ", "devnode", " type='link'", dev->devlinks->pdata[i]);
    if (dev->parent)
        nodedev_append_text(s, "  ", "parent", dev->parent);
    if (dev->driver) {
        g_string_append(s, "  <driver>\n");
        nodedev_append_text(s, "    ", "name", dev->driver);
        g_string_append(s, "  </driver>\n");
    }
    g_string_append_printf(s, "  <capability type='%s'>\n%s  </capability>\n</device>\n",
                           nodedev_cap_to_string(dev->cap), dev->cap_xml);
    return g_string_free(s, FALSE);
}
