/* nodedev_pci.c: a PCI device as libvirt's udev driver describes it: class, address,
 * vendor and product (their names from the pci.ids database through libpciaccess, where
 * libvirt 9.0 takes them, not from udev's hwdb),
 * SR-IOV functions, bridge header, mediated-device types, IOMMU group, NUMA node and
 * PCI Express link, in libvirt's element order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pciaccess.h>

#include "nodedev_sysfs.h"

#define PCI_HEADER_TYPE 0x0e
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_EXP 0x10
#define PCI_EXP_FLAGS 0x02
#define PCI_EXP_LNKCAP 0x0c
#define PCI_EXP_LNKSTA 0x12
#define PCI_EXT_CONFIG_SIZE 4096
#define PCI_EXP_TYPE_RC_END 0x9 /* integrated endpoint: no link */
#define PCI_EXP_TYPE_RC_EC 0xa  /* event collector: no link */

/* libvirt's names of the PCIe link speeds (virPCIELinkSpeed), by the register's code. */
static const char *const link_speeds[] = {"", "2.5", "5", "8", "16", "32", "64"};

typedef struct {
    guint domain, bus, slot, function;
} PciAddr;

static gboolean
pci_addr_parse(const char *s, PciAddr *a)
{
    return sscanf(s, "%x:%x:%x.%x", &a->domain, &a->bus, &a->slot, &a->function) == 4;
}

static void
append_addr(GString *s, const char *indent, const PciAddr *a)
{
    g_string_append_printf(s,
                           "%s<address domain='0x%04x' bus='0x%02x' slot='0x%02x' "
                           "function='0x%u'/>\n",
                           indent, a->domain, a->bus, a->slot, a->function);
}

/* "<product id='0x1234'>NAME</product>" or the empty form. */
static void
append_id(GString *s, const char *elem, gint64 id, const char *name)
{
    g_string_append_printf(s, "    <%s id='0x%04x'", elem, (guint)id);
    if (name) {
        g_autofree char *esc = g_markup_escape_text(name, -1);
        g_string_append_printf(s, ">%s</%s>\n", esc, elem);
    } else {
        g_string_append(s, "/>\n");
    }
}

/* The PCI addresses of the links named prefix* in dir ("virtfn0", ...), sorted. */
static GPtrArray *
linked_addrs(const char *dir, const char *prefix)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *e;

    while (d && (e = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, e, NULL);
        g_autofree char *target = NULL;
        if (!g_str_has_prefix(e, prefix) || !(target = g_file_read_link(path, NULL)))
            continue;
        g_ptr_array_add(out, g_path_get_basename(target));
    }
    g_ptr_array_sort(out, (GCompareFunc)g_strcmp0);
    return out;
}

static gint
cmp_str_ptr(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static void
append_sriov(GString *s, const char *dir)
{
    g_autofree char *pf = g_build_filename(dir, "physfn", NULL);
    g_autofree char *pf_target = g_file_read_link(pf, NULL);
    gint64 total = nodedev_attr_int(dir, "sriov_totalvfs", 10, 0);
    PciAddr a;

    if (pf_target) {
        g_autofree char *base = g_path_get_basename(pf_target);
        if (pci_addr_parse(base, &a)) {
            g_string_append(s, "    <capability type='phys_function'>\n");
            append_addr(s, "      ", &a);
            g_string_append(s, "    </capability>\n");
        }
    }
    if (total > 0) {
        g_autoptr(GPtrArray) vfs = linked_addrs(dir, "virtfn");
        g_ptr_array_sort(vfs, cmp_str_ptr);
        g_string_append_printf(s, "    <capability type='virt_functions' maxCount='%u'",
                               (guint)total);
        if (vfs->len == 0) {
            g_string_append(s, "/>\n");
            return;
        }
        g_string_append(s, ">\n");
        for (guint i = 0; i < vfs->len; i++) {
            if (pci_addr_parse(vfs->pdata[i], &a))
                append_addr(s, "      ", &a);
        }
        g_string_append(s, "    </capability>\n");
    }
}

/* The mediated-device types a parent offers (mdev_supported_types/TYPE/...); TRUE when
 * it has the directory (libvirt then lists the capability, types or not). */
static gboolean
append_mdev_types(GString *s, const char *dir)
{
    g_autofree char *types = g_build_filename(dir, "mdev_supported_types", NULL);
    g_autoptr(GDir) d = g_dir_open(types, 0, NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *e;

    if (!d)
        return FALSE;
    while ((e = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(e));
    g_ptr_array_sort(names, cmp_str_ptr);
    g_string_append(s, "    <capability type='mdev_types'>\n");
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *tdir = g_build_filename(types, names->pdata[i], NULL);
        g_autofree char *name = nodedev_attr(tdir, "name");
        g_autofree char *api = nodedev_attr(tdir, "device_api");
        g_autofree char *id = g_markup_escape_text(names->pdata[i], -1);

        g_string_append_printf(s, "      <type id='%s'>\n", id);
        if (name) {
            g_autofree char *esc = g_markup_escape_text(name, -1);
            g_string_append_printf(s, "        <name>%s</name>\n", esc);
        }
        if (api) {
            g_autofree char *esc = g_markup_escape_text(api, -1);
            g_string_append_printf(s, "        <deviceAPI>%s</deviceAPI>\n", esc);
        }
        g_string_append_printf(s, "        <availableInstances>%u</availableInstances>\n",
                               (guint)nodedev_attr_int(tdir, "available_instances", 10, 0));
        g_string_append(s, "      </type>\n");
    }
    g_string_append(s, "    </capability>\n");
    return TRUE;
}

static void
append_iommu_group(GString *s, const char *root, const char *dir)
{
    g_autofree char *link = g_build_filename(dir, "iommu_group", NULL);
    g_autofree char *target = g_file_read_link(link, NULL);
    g_autofree char *number = NULL, *devs_dir = NULL;
    g_autoptr(GDir) d = NULL;
    g_autoptr(GPtrArray) members = g_ptr_array_new_with_free_func(g_free);
    const char *e;
    PciAddr a;

    if (!target)
        return;
    number = g_path_get_basename(target);
    devs_dir = g_strdup_printf("%s/sys/kernel/iommu_groups/%s/devices", root, number);
    d = g_dir_open(devs_dir, 0, NULL);
    while (d && (e = g_dir_read_name(d)))
        g_ptr_array_add(members, g_strdup(e));
    if (members->len == 0)
        return;
    g_ptr_array_sort(members, cmp_str_ptr);
    g_string_append_printf(s, "    <iommuGroup number='%d'>\n", atoi(number));
    for (guint i = 0; i < members->len; i++) {
        if (pci_addr_parse(members->pdata[i], &a))
            append_addr(s, "      ", &a);
    }
    g_string_append(s, "    </iommuGroup>\n");
}

static void
append_link(GString *s, const char *validity, int port, guint speed, guint width)
{
    g_string_append_printf(s, "      <link validity='%s'", validity);
    if (port >= 0)
        g_string_append_printf(s, " port='%d'", port);
    if (speed > 0 && speed < G_N_ELEMENTS(link_speeds))
        g_string_append_printf(s, " speed='%s'", link_speeds[speed]);
    g_string_append_printf(s, " width='%u'/>\n", width);
}

/* The offset of the PCI Express capability in the config space, 0 when none. */
static guint
pcie_cap_offset(const guint8 *cfg, gsize len)
{
    guint pos;

    if (len < 256 || !(cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST))
        return 0;
    pos = cfg[PCI_CAPABILITY_LIST] & ~3u;
    for (int guard = 0; pos >= 0x40 && pos + 1 < len && guard < 48; guard++) {
        if (cfg[pos] == PCI_CAP_ID_EXP)
            return pos + PCI_EXP_LNKSTA + 2 <= len ? pos : 0;
        pos = cfg[pos + 1] & ~3u;
    }
    return 0;
}

/* A bridge's header type, from the config space (root alone may read past its first 64
 * bytes; libvirt's daemon reads it as root, and so do we). */
static void
append_header_type(GString *s, const guint8 *cfg, gsize len)
{
    if (len > PCI_HEADER_TYPE && (cfg[PCI_HEADER_TYPE] & 0x7f) == 1)
        g_string_append(s, "    <capability type='pci-bridge'/>\n");
    else if (len > PCI_HEADER_TYPE && (cfg[PCI_HEADER_TYPE] & 0x7f) == 2)
        g_string_append(s, "    <capability type='cardbus-bridge'/>\n");
}

/* <pci-express>, after the NUMA node as libvirt puts it; cap_off 0: an extended config
 * space without the capability (no link to describe). */
static void
append_pcie(GString *s, const guint8 *cfg, guint cap_off)
{
    guint type;
    guint32 lnkcap;
    guint16 lnksta;

    type = cap_off ? (cfg[cap_off + PCI_EXP_FLAGS] >> 4) & 0xf : 0;
    if (!cap_off || type == PCI_EXP_TYPE_RC_END || type == PCI_EXP_TYPE_RC_EC) {
        g_string_append(s, "    <pci-express/>\n");
        return;
    }
    memcpy(&lnkcap, cfg + cap_off + PCI_EXP_LNKCAP, 4);
    memcpy(&lnksta, cfg + cap_off + PCI_EXP_LNKSTA, 2);
    lnkcap = GUINT32_FROM_LE(lnkcap);
    lnksta = GUINT16_FROM_LE(lnksta);
    g_string_append(s, "    <pci-express>\n");
    append_link(s, "cap", lnkcap >> 24, lnkcap & 0xf, (lnkcap >> 4) & 0x3f);
    append_link(s, "sta", -1, lnksta & 0xf, (lnksta >> 4) & 0x3f);
    g_string_append(s, "    </pci-express>\n");
}

/* The names pci.ids gives vendor and device (libpciaccess reads the file on first use and
 * keeps what it read), or NULLs. (transfer full) */
static void
pci_names(guint vendor, guint device, char **ret_vendor, char **ret_product)
{
    struct pci_id_match m = {
        .vendor_id = vendor,
        .device_id = device,
        .subvendor_id = PCI_MATCH_ANY,
        .subdevice_id = PCI_MATCH_ANY,
    };
    const char *v = NULL, *d = NULL;

    pci_get_strings(&m, &d, &v, NULL, NULL);
    *ret_vendor = g_strdup(v);
    *ret_product = g_strdup(d);
}

NodeDev *
nodedev_pci_new(const char *root, const char *dir)
{
    g_autofree char *sysname = g_path_get_basename(dir);
    g_autofree char *vendor_name = NULL, *product_name = NULL;
    gint64 vendor = nodedev_attr_int(dir, "vendor", 16, 0);
    gint64 device = nodedev_attr_int(dir, "device", 16, 0);
    g_autofree char *cfg_path = g_build_filename(dir, "config", NULL);
    g_autofree guint8 *cfg = NULL;
    gsize cfg_len = 0;
    guint pcie = 0;
    gboolean express = FALSE;
    gint64 klass = nodedev_attr_int(dir, "class", 16, -1);
    gint64 numa = nodedev_attr_int(dir, "numa_node", 10, -1);
    g_autoptr(NodeDev) dev = NULL;
    GString *s;
    PciAddr a;

    if (!pci_addr_parse(sysname, &a))
        return NULL;
    pci_names(vendor, device, &vendor_name, &product_name);
    dev = nodedev_new(root, dir, NODEDEV_CAP_PCI);
    dev->name = nodedev_make_name("pci", sysname, NULL);
    s = g_string_new(NULL);
    if (klass >= 0)
        g_string_append_printf(s, "    <class>0x%06x</class>\n", (guint)klass);
    g_string_append_printf(s, "    <domain>%u</domain>\n    <bus>%u</bus>\n", a.domain, a.bus);
    g_string_append_printf(s, "    <slot>%u</slot>\n    <function>%u</function>\n", a.slot,
                           a.function);
    append_id(s, "product", device, product_name);
    append_id(s, "vendor", vendor, vendor_name);
    append_sriov(s, dir);
    if (g_file_get_contents(cfg_path, (char **)&cfg, &cfg_len, NULL)) {
        append_header_type(s, cfg, cfg_len);
        pcie = pcie_cap_offset(cfg, cfg_len);
        /* as libvirt: PCI Express when it has the capability or the 4 KiB extended
         * configuration space */
        express = pcie || cfg_len == PCI_EXT_CONFIG_SIZE;
    }
    if (append_mdev_types(s, dir))
        g_ptr_array_add(dev->subcaps, g_strdup("mdev_types"));
    append_iommu_group(s, root, dir);
    if (numa >= 0)
        g_string_append_printf(s, "    <numa node='%d'/>\n", (int)numa);
    if (express)
        append_pcie(s, cfg, pcie);
    dev->cap_xml = g_string_free(s, FALSE);
    return g_steal_pointer(&dev);
}
