/* qemu_pci_connect.c: which devices libvirt's QEMU driver puts on PCI, how each connects
 * (conventional PCI, PCI Express, virtio), and the order in which they get their slots
 * (qemu_pci.h). The rules follow libvirt 9.0's qemuDomainDeviceCalculatePCIConnectFlags. */
#include "qemu_pci.h"

#include <stddef.h>

void
qemu_pci_flags_init(QemuPciFlags *f, gboolean pcie_root)
{
    f->pci = QEMU_PCI_TYPE_PCI_DEVICE | QEMU_PCI_AUTOASSIGN;
    f->pcie = (pcie_root ? QEMU_PCI_TYPE_PCIE_DEVICE : QEMU_PCI_TYPE_PCI_DEVICE) |
              QEMU_PCI_AUTOASSIGN;
    /* QEMU 7.2's virtio-*-pci devices can be PCI Express (libvirt's VIRTIO_PCI_TRANSITIONAL
     * capability), so they connect as PCIe devices do. */
    f->virtio = f->pcie;
}

static gboolean
is(const char *s, const char *value)
{
    return s && g_str_equal(s, value);
}

/* A virtio model: transitional ones only work in conventional slots. */
static guint
virtio_model(const char *model, const QemuPciFlags *f)
{
    return is(model, "virtio-transitional") ? f->pci : f->virtio;
}

guint
qemu_pci_connect_pci_controller(const char *model)
{
    static const struct {
        const char *model;
        guint flags;
    } table[] = {
        {"pci-bridge", QEMU_PCI_TYPE_PCI_BRIDGE},
        {"pci-expander-bus", QEMU_PCI_TYPE_PCI_EXPANDER_BUS},
        {"pcie-expander-bus", QEMU_PCI_TYPE_PCIE_EXPANDER_BUS},
        {"dmi-to-pci-bridge", QEMU_PCI_TYPE_DMI_TO_PCI_BRIDGE},
        {"pcie-to-pci-bridge", QEMU_PCI_TYPE_PCIE_TO_PCI_BRIDGE},
        {"pcie-root-port", QEMU_PCI_TYPE_PCIE_ROOT_PORT | QEMU_PCI_AGGREGATE_SLOT},
        {"pcie-switch-upstream-port", QEMU_PCI_TYPE_PCIE_SWITCH_UPSTREAM_PORT},
        {"pcie-switch-downstream-port", QEMU_PCI_TYPE_PCIE_SWITCH_DOWNSTREAM_PORT},
    };

    /* pci-root and pcie-root are the machine's own: they plug into nothing. */
    for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
        if (is(model, table[i].model))
            return table[i].flags;
    }
    return 0;
}

static guint
connect_usb(const char *model, const QemuPciFlags *f)
{
    static const char *const none[] = {"qusb1", "qusb2", "none", NULL};

    if (is(model, "nec-xhci") || is(model, "qemu-xhci"))
        return f->pcie;
    if (model && g_strv_contains(none, model))
        return 0;
    /* The UHCI/OHCI/EHCI ones, and no model at all ("-usb"). */
    return f->pci;
}

static guint
connect_scsi(const char *model, const QemuPciFlags *f)
{
    if (!model || is(model, "ncr53c90"))
        return 0;
    if (is(model, "virtio-scsi") || is(model, "virtio-non-transitional"))
        return f->virtio;
    return f->pci; /* lsilogic, buslogic, lsisas1068/1078, vmpvscsi, dc390, am53c974 ... */
}

guint
qemu_pci_connect_controller(const SvDomainControllerDef *c, const QemuPciFlags *f)
{
    switch (c->type) {
    case SV_DOMAIN_CONTROLLER_PCI:
        return qemu_pci_connect_pci_controller(c->model);
    case SV_DOMAIN_CONTROLLER_SATA:
    case SV_DOMAIN_CONTROLLER_IDE:
        return f->pci;
    case SV_DOMAIN_CONTROLLER_USB:
        return connect_usb(c->model, f);
    case SV_DOMAIN_CONTROLLER_SCSI:
        return connect_scsi(c->model, f);
    case SV_DOMAIN_CONTROLLER_VIRTIO_SERIAL:
        return virtio_model(c->model, f);
    default:
        return 0; /* fdc, ccid, xenbus, isa */
    }
}

guint
qemu_pci_connect_disk(const SvDomainDiskDef *d, const QemuPciFlags *f)
{
    /* Only virtio disks are PCI devices; the rest hang off their controllers. */
    return d->bus == SV_DOMAIN_DISK_BUS_VIRTIO ? f->virtio : 0;
}

guint
qemu_pci_connect_net(const SvDomainNetDef *n, const QemuPciFlags *f)
{
    const char *model = n->model;

    if (is(model, "usb-net"))
        return 0;
    if (is(model, "virtio") || is(model, "virtio-non-transitional"))
        return f->virtio;
    if (is(model, "virtio-transitional"))
        return f->pci;
    if (is(model, "e1000e") || is(model, "igb"))
        return f->pcie;
    /* No model yet: libvirt gives x86 guests an rtl8139 first (a conventional device). */
    return f->pci;
}

guint
qemu_pci_connect_fs(const char *driver, const char *model, const QemuPciFlags *f)
{
    if (!driver || is(driver, "path") || is(driver, "handle"))
        return virtio_model(model, f); /* virtio-9p-pci */
    if (is(driver, "virtiofs"))
        return f->virtio; /* vhost-user-fs-pci */
    return 0;                 /* loop, nbd, ploop */
}

guint
qemu_pci_connect_memballoon(const char *model, const QemuPciFlags *f)
{
    if (is(model, "virtio") || is(model, "virtio-non-transitional"))
        return f->virtio;
    if (is(model, "virtio-transitional"))
        return f->pci;
    return 0; /* none, xen */
}

guint
qemu_pci_connect_sound(const char *model, const QemuPciFlags *f)
{
    static const char *const pci[] = {"es1370", "ac97", "ich6", "ich9", NULL};

    return model && g_strv_contains(pci, model) ? f->pci : 0; /* sb16, pcspk, usb, ich7 */
}

guint
qemu_pci_connect_video(const char *type, const QemuPciFlags *f)
{
    static const char *const pci[] = {"vga", "cirrus", "vmvga", "xen", "vbox", "qxl",
                                      "parallels", NULL};

    if (is(type, "virtio"))
        return f->virtio;
    if (is(type, "bochs"))
        return f->pcie;
    return type && g_strv_contains(pci, type) ? f->pci : 0; /* none, ramfb, gop */
}

guint
qemu_pci_connect_rng(const char *model, const QemuPciFlags *f)
{
    return virtio_model(model, f); /* every rng the QEMU driver takes is virtio */
}

guint
qemu_pci_connect_watchdog(const char *model, const QemuPciFlags *f)
{
    return is(model, "i6300esb") ? f->pci : 0; /* ib700, diag288, itco */
}

guint
qemu_pci_connect_input(const char *bus, const char *model, const QemuPciFlags *f)
{
    return is(bus, "virtio") ? virtio_model(model, f) : 0;
}

guint
qemu_pci_connect_serial(const char *target_type, const QemuPciFlags *f)
{
    return is(target_type, "pci-serial") ? f->pci : 0;
}

/* ---------------------------------------------------------------- the kinds, in order */

static gboolean
is_pci_controller(gconstpointer dev)
{
    return ((const SvDomainControllerDef *)dev)->type == SV_DOMAIN_CONTROLLER_PCI;
}

static gboolean
is_other_controller(gconstpointer dev)
{
    return !is_pci_controller(dev);
}

static guint
kind_controller(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f)
{
    (void)def;
    return qemu_pci_connect_controller(dev, f);
}

static guint
kind_fs(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f)
{
    const SvDomainFsDef *fs = dev;

    (void)def;
    return qemu_pci_connect_fs(fs->driver == SV_DOMAIN_FS_DRIVER_NONE
                                   ? NULL
                                   : sv_domain_fs_driver_to_string(fs->driver),
                               fs->model ? sv_domain_fs_model_to_string(fs->model) : NULL, f);
}

static guint
kind_net(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f)
{
    (void)def;
    return qemu_pci_connect_net(dev, f);
}

static guint
kind_disk(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f)
{
    (void)def;
    return qemu_pci_connect_disk(dev, f);
}

static guint
kind_memballoon(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f)
{
    (void)def;
    return qemu_pci_connect_memballoon(((const SvDomainMemballoonDef *)dev)->model, f);
}

static guint
kind_serial(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f)
{
    (void)def;
    return qemu_pci_connect_serial(((const SvDomainChrDef *)dev)->target_type, f);
}

static guint
kind_sound(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f)
{
    (void)def;
    return qemu_pci_connect_sound(
        sv_domain_sound_model_to_string(((const SvDomainSoundDef *)dev)->model), f);
}

static guint
kind_rng(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f)
{
    (void)def;
    return qemu_pci_connect_rng(((const SvDomainRngDef *)dev)->model, f);
}

static guint
kind_watchdog(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f)
{
    (void)def;
    return qemu_pci_connect_watchdog(
        sv_domain_watchdog_model_to_string(((const SvDomainWatchdogDef *)dev)->model), f);
}

static guint
kind_video(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f)
{
    (void)def;
    return qemu_pci_connect_video(
        sv_domain_video_type_to_string(((const SvDomainVideoDef *)dev)->type), f);
}

static guint
kind_input(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f)
{
    (void)def;
    return qemu_pci_connect_input(
        sv_domain_input_bus_to_string(((const SvDomainInputDef *)dev)->bus), NULL, f);
}

/* A PCI host device connects as an Express device where there are Express slots, as libvirt
 * connects one whose host side it cannot read (this driver reads none). */
static gboolean
is_pci_hostdev(gconstpointer dev)
{
    return ((const SvDomainHostdevDef *)dev)->type == SV_DOMAIN_HOSTDEV_PCI;
}

static guint
kind_hostdev(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f)
{
    (void)def;
    (void)dev;
    return f->pcie;
}

#define LIST(field) offsetof(SvDomainDef, field)

/* libvirt's order (qemuDomainAssignDevicePCISlots). A new kind of device is one line at its
 * place: its list, and a function giving its connect flags (the qemu_pci_connect_* rule for
 * it). The places of the kinds other areas add are marked. */
static const QemuPciKind kinds[] = {
    {"pci controller", LIST(controllers), is_pci_controller, kind_controller},
    {"filesystem", LIST(filesystems), NULL, kind_fs},
    {"interface", LIST(interfaces), NULL, kind_net},
    /* An unaddressed ich9 on q35 goes to 00:1b.0 first (qemu_pci.c, chipset slots). */
    {"sound", LIST(sounds), NULL, kind_sound},
    {"controller", LIST(controllers), is_other_controller, kind_controller},
    {"disk", LIST(disks), NULL, kind_disk},
    {"hostdev", LIST(hostdevs), is_pci_hostdev, kind_hostdev},
    {"memballoon", QEMU_PCI_LIST_MEMBALLOON, NULL, kind_memballoon},
    {"rng", LIST(rngs), NULL, kind_rng},
    {"watchdog", QEMU_PCI_LIST_WATCHDOG, NULL, kind_watchdog},
    /* The primary video (the first) is placed before everything else (qemu_pci.c, chipset
     * slots). */
    {"video", LIST(videos), NULL, kind_video},
    /* shmem: out of scope */
    {"input", LIST(inputs), NULL, kind_input},
    {"serial", LIST(serials), NULL, kind_serial},
    /* iommu, vsock, memory devices, crypto: out of scope; panic pvpanic-pci is not in 9.0 */
};

const QemuPciKind *
qemu_pci_kinds(guint *n_out)
{
    *n_out = G_N_ELEMENTS(kinds);
    return kinds;
}
