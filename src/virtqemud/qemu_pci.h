/* qemu_pci.h: PCI addresses as libvirt's QEMU driver assigns them at define
 * (qemuDomainAssignPCIAddresses): which devices sit on PCI and how they connect
 * (qemu_pci_connect.c), and the allocator that gives them slots, adding the pcie-root-ports
 * and bridges they need (qemu_pci.c). */
#pragma once

#include "conf/domain_conf.h"

/* How a device connects to PCI, and what a bus accepts (libvirt's virDomainPCIConnectFlags):
 * a device fits a bus when they share a TYPE. */
typedef enum {
    QEMU_PCI_HOTPLUGGABLE = 1 << 0,   /* bus: takes hotplug */
    QEMU_PCI_AUTOASSIGN = 1 << 1,     /* bus: libvirt may place devices there by itself */
    QEMU_PCI_AGGREGATE_SLOT = 1 << 2, /* device: may share a slot (pcie-root-ports) */
    QEMU_PCI_INTEGRATED = 1 << 3,     /* device: only on bus 0 */
    QEMU_PCI_TYPE_PCI_DEVICE = 1 << 4,
    QEMU_PCI_TYPE_PCIE_DEVICE = 1 << 5,
    QEMU_PCI_TYPE_PCIE_ROOT_PORT = 1 << 6,
    QEMU_PCI_TYPE_PCIE_SWITCH_UPSTREAM_PORT = 1 << 7,
    QEMU_PCI_TYPE_PCIE_SWITCH_DOWNSTREAM_PORT = 1 << 8,
    QEMU_PCI_TYPE_DMI_TO_PCI_BRIDGE = 1 << 9,
    QEMU_PCI_TYPE_PCI_EXPANDER_BUS = 1 << 10,
    QEMU_PCI_TYPE_PCIE_EXPANDER_BUS = 1 << 11,
    QEMU_PCI_TYPE_PCI_BRIDGE = 1 << 12,
    QEMU_PCI_TYPE_PCIE_TO_PCI_BRIDGE = 1 << 13,
} QemuPciConnect;

#define QEMU_PCI_TYPES_ENDPOINT (QEMU_PCI_TYPE_PCI_DEVICE | QEMU_PCI_TYPE_PCIE_DEVICE)
#define QEMU_PCI_TYPES_MASK                                                                    \
    (QEMU_PCI_TYPES_ENDPOINT | QEMU_PCI_TYPE_PCIE_ROOT_PORT |                                  \
     QEMU_PCI_TYPE_PCIE_SWITCH_UPSTREAM_PORT | QEMU_PCI_TYPE_PCIE_SWITCH_DOWNSTREAM_PORT |      \
     QEMU_PCI_TYPE_DMI_TO_PCI_BRIDGE | QEMU_PCI_TYPE_PCI_EXPANDER_BUS |                        \
     QEMU_PCI_TYPE_PCIE_EXPANDER_BUS | QEMU_PCI_TYPE_PCI_BRIDGE |                              \
     QEMU_PCI_TYPE_PCIE_TO_PCI_BRIDGE)

/* The connect flags of the three kinds of endpoint on this machine: a conventional PCI
 * device, a PCI Express one (conventional where the machine has no PCIe root), and a virtio
 * one (as a PCIe one with QEMU 7.2, whose virtio devices are transitional). */
typedef struct {
    guint pci;
    guint pcie;
    guint virtio;
} QemuPciFlags;

void qemu_pci_flags_init(QemuPciFlags *f, gboolean pcie_root);

/* ---- connect rules (qemu_pci_connect.c): 0 = not a PCI device -------------------------- */

/* PCI controllers by model ("pcie-root-port" ...): what they plug into. */
guint qemu_pci_connect_pci_controller(const char *model);
guint qemu_pci_connect_controller(const SvDomainControllerDef *c, const QemuPciFlags *f);
guint qemu_pci_connect_disk(const SvDomainDiskDef *d, const QemuPciFlags *f);
guint qemu_pci_connect_net(const SvDomainNetDef *n, const QemuPciFlags *f);
/* <filesystem>: `driver` is <driver type=> (NULL: the default, 9p), `model` its model. */
guint qemu_pci_connect_fs(const char *driver, const char *model, const QemuPciFlags *f);
guint qemu_pci_connect_memballoon(const char *model, const QemuPciFlags *f);
/* For the device kinds other areas add, on the fields libvirt decides on. */
guint qemu_pci_connect_sound(const char *model, const QemuPciFlags *f);
guint qemu_pci_connect_video(const char *type, const QemuPciFlags *f);
guint qemu_pci_connect_rng(const char *model, const QemuPciFlags *f);
guint qemu_pci_connect_watchdog(const char *model, const QemuPciFlags *f);
guint qemu_pci_connect_input(const char *bus, const char *model, const QemuPciFlags *f);
guint qemu_pci_connect_serial(const char *target_type, const QemuPciFlags *f);

/* One kind of device in the order libvirt gives them slots: its list in SvDomainDef (an
 * offset of a GPtrArray whose elements start with their SvDomainDeviceInfo), which of its
 * elements belong to the kind (NULL: all), and how each connects. */
typedef struct {
    const char *what;
    gsize list;
    gboolean (*member)(gconstpointer dev);
    guint (*connect)(const SvDomainDef *def, gconstpointer dev, const QemuPciFlags *f);
} QemuPciKind;

/* `list` of the <memballoon>, which has no device info in SvDomainDef yet (a string field):
 * its slot is taken as libvirt takes it, but its address is not kept. */
#define QEMU_PCI_LIST_MEMBALLOON G_MAXSIZE
#define QEMU_PCI_LIST_WATCHDOG (G_MAXSIZE - 1)

/* The kinds, in libvirt's order (qemuDomainAssignDevicePCISlots); n_out gets their number. */
const QemuPciKind *qemu_pci_kinds(guint *n_out);

/* ---- the allocator (qemu_pci.c) --------------------------------------------------------- */

/* Give every PCI device of `def` without an address one, as libvirt does at define, adding
 * the PCI controllers (pcie-root-ports, bridges) they need and filling in those controllers'
 * <model name>/<target>. Addresses already in `def` are kept; a conflict or an address a
 * device cannot have fails with libvirt's error. `def` has its root controller already
 * (qemu_topo_add_implicit_controllers). */
gboolean qemu_pci_assign_addresses(SvDomainDef *def, GError **error);
