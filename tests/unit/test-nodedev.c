/* test-nodedev.c: virtnodedevd's view of a small fake sysfs tree (made here in a temporary
 * directory): the names, parents, capabilities and XML libvirt's udev node-device driver
 * gives the same devices (issue 19 item 4). */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "nodedev.h"

static char *root;

static void
put(const char *rel, const char *content)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autofree char *dir = g_path_get_dirname(path);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, content, -1, NULL));
}

static void
put_bytes(const char *rel, const guint8 *data, gsize len)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);

    g_assert_true(g_file_set_contents(path, (const char *)data, len, NULL));
}

static void
link_to(const char *rel, const char *target)
{
    g_autofree char *path = g_build_filename(root, rel, NULL);
    g_autofree char *dir = g_path_get_dirname(path);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_cmpint(symlink(target, path), ==, 0);
}

#define BRIDGE "sys/devices/pci0000:00/0000:00:01.0"
#define NIC BRIDGE "/0000:01:00.0"
#define USBHC "sys/devices/pci0000:00/0000:00:02.0"

/* A bridge with a NIC behind it (in IOMMU group 7, with mdev types), a USB controller with its root hub and the hub's interface, and the NIC's
 * interface eth0. */
static void
make_tree(void)
{
    guint8 cfg[64] = {0};

    put(BRIDGE "/vendor", "0x8086\n");
    put(BRIDGE "/device", "0x29c1\n");
    put(BRIDGE "/class", "0x060400\n");
    cfg[0x0e] = 0x01; /* header type: PCI-to-PCI bridge */
    put_bytes(BRIDGE "/config", cfg, sizeof(cfg));
    link_to("sys/bus/pci/devices/0000:00:01.0", "../../../devices/pci0000:00/0000:00:01.0");

    put(NIC "/vendor", "0x8086\n");
    put(NIC "/device", "0x10d3\n");
    put(NIC "/class", "0x020000\n");
    put(NIC "/numa_node", "0\n");
    put(NIC "/mdev_supported_types/nvidia-11/name", "GRID M60-0B\n");
    put(NIC "/mdev_supported_types/nvidia-11/device_api", "vfio-pci\n");
    put(NIC "/mdev_supported_types/nvidia-11/available_instances", "16\n");
    link_to(NIC "/iommu_group", "../../../../kernel/iommu_groups/7");
    link_to(NIC "/driver", "../../../../bus/pci/drivers/e1000e");
    link_to("sys/kernel/iommu_groups/7/devices/0000:01:00.0",
            "../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
    link_to("sys/bus/pci/devices/0000:01:00.0",
            "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
    /* udev's names are not what libvirt shows for PCI devices (pci.ids is) */
    put("run/udev/data/+pci:0000:01:00.0",
        "I:123\nE:ID_VENDOR_FROM_DATABASE=Not Intel\nE:ID_MODEL_FROM_DATABASE=Not it\n");

    put(NIC "/net/eth0/address", "52:54:00:ab:cd:ef\n");
    put(NIC "/net/eth0/operstate", "up\n");
    put(NIC "/net/eth0/speed", "1000\n");
    link_to("sys/class/net/eth0", "../../devices/pci0000:00/0000:00:01.0/0000:01:00.0/net/eth0");

    put(USBHC "/vendor", "0x8086\n");
    put(USBHC "/device", "0xfffe\n"); /* a device pci.ids does not name */
    put(USBHC "/class", "0x0c0300\n");
    {
        g_autofree guint8 *ext = g_malloc0(4096); /* extended config space, no capability */
        put_bytes(USBHC "/config", ext, 4096);
    }
    link_to("sys/bus/pci/devices/0000:00:02.0", "../../../devices/pci0000:00/0000:00:02.0");
    put(USBHC "/usb1/uevent", "MAJOR=189\nMINOR=0\nDEVNAME=bus/usb/001/001\nDEVTYPE=usb_device\n");
    put(USBHC "/usb1/busnum", "1\n");
    put(USBHC "/usb1/devnum", "1\n");
    put(USBHC "/usb1/idVendor", "1d6b\n");
    put(USBHC "/usb1/idProduct", "0002\n");
    put(USBHC "/usb1/manufacturer", "Linux 6.1.0 ehci_hcd\n");
    put(USBHC "/usb1/product", "EHCI Host Controller\n");
    put(USBHC "/usb1/1-0:1.0/uevent", "DEVTYPE=usb_interface\n");
    put(USBHC "/usb1/1-0:1.0/bInterfaceNumber", "00\n");
    put(USBHC "/usb1/1-0:1.0/bInterfaceClass", "09\n");
    put(USBHC "/usb1/1-0:1.0/bInterfaceSubClass", "00\n");
    put(USBHC "/usb1/1-0:1.0/bInterfaceProtocol", "00\n");
    link_to("sys/bus/usb/devices/usb1", "../../../devices/pci0000:00/0000:00:02.0/usb1");
    link_to("sys/bus/usb/devices/1-0:1.0",
            "../../../devices/pci0000:00/0000:00:02.0/usb1/1-0:1.0");

    /* a virtio disk (its kind guessed from its node, as libvirt does) and a loop device
     * (no kind: left out) */
    put(USBHC "/virtio1/vendor", "0x1af4\n");
    put(USBHC "/virtio1/block/vda/uevent", "MAJOR=253\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n");
    put(USBHC "/virtio1/block/vda/dev", "253:0\n");
    put(USBHC "/virtio1/block/vda/size", "2048\n");
    put(USBHC "/virtio1/block/vda/queue/logical_block_size", "512\n");
    link_to(USBHC "/virtio1/block/vda/device", "../../../virtio1");
    link_to(USBHC "/virtio1/block/vda/subsystem", "../../../../../../class/block");
    link_to("sys/class/block/vda", "../../devices/pci0000:00/0000:00:02.0/virtio1/block/vda");
    put("run/udev/data/b253:0", "S:disk/by-path/virtio-pci-0000:00:02.0\nE:ID_BUS=virtio\n");
    put("sys/devices/virtual/block/loop0/uevent", "MAJOR=7\nMINOR=0\nDEVNAME=loop0\nDEVTYPE=disk\n");
    put("sys/devices/virtual/block/loop0/dev", "7:0\n");
    link_to("sys/class/block/loop0", "../../devices/virtual/block/loop0");

    /* a Fibre Channel HBA's SCSI host with a target and a disk LUN */
    put(USBHC "/host3/uevent", "DEVTYPE=scsi_host\n");
    put(USBHC "/host3/target3:0:0/uevent", "DEVTYPE=scsi_target\n");
    put(USBHC "/host3/target3:0:0/3:0:0:1/uevent", "DEVTYPE=scsi_device\n");
    put(USBHC "/host3/target3:0:0/3:0:0:1/type", "0\n");
    link_to("sys/bus/scsi/devices/host3", "../../../devices/pci0000:00/0000:00:02.0/host3");
    link_to("sys/bus/scsi/devices/target3:0:0",
            "../../../devices/pci0000:00/0000:00:02.0/host3/target3:0:0");
    link_to("sys/bus/scsi/devices/3:0:0:1",
            "../../../devices/pci0000:00/0000:00:02.0/host3/target3:0:0/3:0:0:1");
    put("sys/class/scsi_host/host3/unique_id", "5\n");
    put("sys/class/fc_host/host3/port_name", "0x2100001b32a9da4e\n");
    put("sys/class/fc_host/host3/node_name", "0x2000001b32a9da4e\n");
    put("sys/class/fc_host/host3/fabric_name", "0x2001000dec9877c1\n");
}

static void
test_names_and_parents(void)
{
    g_autoptr(GPtrArray) devs = nodedev_enumerate(root);
    static const char *const expect[][2] = {
        {"computer", NULL},
        {"pci_0000_00_01_0", "computer"},
        {"pci_0000_01_00_0", "pci_0000_00_01_0"},
        {"net_eth0_52_54_00_ab_cd_ef", "pci_0000_01_00_0"},
        {"pci_0000_00_02_0", "computer"},
        {"usb_usb1", "pci_0000_00_02_0"},
        {"usb_1_0_1_0", "usb_usb1"},
        {"block_vda", "pci_0000_00_02_0"},
        {"scsi_host3", "pci_0000_00_02_0"},
        {"scsi_target3_0_0", "scsi_host3"},
        {"scsi_3_0_0_1", "scsi_target3_0_0"},
    };

    g_assert_cmpuint(devs->len, ==, G_N_ELEMENTS(expect));
    for (gsize i = 0; i < G_N_ELEMENTS(expect); i++) {
        NodeDev *dev = nodedev_find(devs, expect[i][0]);
        g_assert_nonnull(dev);
        g_assert_cmpstr(dev->parent, ==, expect[i][1]);
    }
    g_assert_cmpstr(((NodeDev *)devs->pdata[0])->name, ==, "computer");
}

static void
test_pci_xml(void)
{
    g_autoptr(GPtrArray) devs = nodedev_enumerate(root);
    g_autofree char *xml = nodedev_format(nodedev_find(devs, "pci_0000_01_00_0"));
    g_autofree char *bridge = nodedev_format(nodedev_find(devs, "pci_0000_00_01_0"));
    g_autofree char *usbhc = nodedev_format(nodedev_find(devs, "pci_0000_00_02_0"));

    g_assert_cmpstr(xml, ==,
                    "<device>\n"
                    "  <name>pci_0000_01_00_0</name>\n"
                    "  <path>/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0</path>\n"
                    "  <parent>pci_0000_00_01_0</parent>\n"
                    "  <driver>\n"
                    "    <name>e1000e</name>\n"
                    "  </driver>\n"
                    "  <capability type='pci'>\n"
                    "    <class>0x020000</class>\n"
                    "    <domain>0</domain>\n"
                    "    <bus>1</bus>\n"
                    "    <slot>0</slot>\n"
                    "    <function>0</function>\n"
                    "    <product id='0x10d3'>82574L Gigabit Network Connection</product>\n"
                    "    <vendor id='0x8086'>Intel Corporation</vendor>\n"
                    "    <capability type='mdev_types'>\n"
                    "      <type id='nvidia-11'>\n"
                    "        <name>GRID M60-0B</name>\n"
                    "        <deviceAPI>vfio-pci</deviceAPI>\n"
                    "        <availableInstances>16</availableInstances>\n"
                    "      </type>\n"
                    "    </capability>\n"
                    "    <iommuGroup number='7'>\n"
                    "      <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
                    "    </iommuGroup>\n"
                    "    <numa node='0'/>\n"
                    "  </capability>\n"
                    "</device>\n");
    /* names from pci.ids (installed with libpciaccess, as for libvirt); none there: the
     * empty element. The header says bridge. */
    g_assert_nonnull(strstr(bridge, "<product id='0x29c1'>82G33/G31/P35/P31 Express PCI "
                                    "Express Root Port</product>\n"));
    /* libvirt calls a device with the 4 KiB configuration space PCI Express, and without
     * the capability has no link to show */
    g_assert_nonnull(strstr(usbhc, "    <pci-express/>\n  </capability>\n"));
    g_assert_null(strstr(bridge, "<pci-express"));
    g_assert_nonnull(strstr(usbhc, "<product id='0xfffe'/>\n"
                                   "    <vendor id='0x8086'>Intel Corporation</vendor>\n"));
    g_assert_nonnull(strstr(bridge, "<capability type='pci-bridge'/>\n"));
    g_assert_null(strstr(bridge, "<iommuGroup"));
}

static void
test_caps(void)
{
    g_autoptr(GPtrArray) devs = nodedev_enumerate(root);
    NodeDev *nic = nodedev_find(devs, "pci_0000_01_00_0");
    NodeDev *bridge = nodedev_find(devs, "pci_0000_00_01_0");
    g_autoptr(GPtrArray) caps = nodedev_caps(nic);

    g_assert_cmpuint(caps->len, ==, 2);
    g_assert_cmpstr(caps->pdata[0], ==, "pci");
    g_assert_cmpstr(caps->pdata[1], ==, "mdev_types");
    /* Nova's listDevices('mdev_types') finds the parent of mdev types alone */
    g_assert_true(nodedev_has_cap(nic, "mdev_types"));
    g_assert_false(nodedev_has_cap(bridge, "mdev_types"));
    g_assert_true(nodedev_has_cap(bridge, "pci"));
    g_assert_true(nodedev_has_cap(nodedev_find(devs, "usb_usb1"), "usb_device"));
    g_assert_true(nodedev_has_cap(nodedev_find(devs, "usb_1_0_1_0"), "usb"));
    for (guint i = 0; i < NODEDEV_CAP_LAST; i++)
        g_assert_cmpuint(nodedev_cap_from_string(nodedev_cap_to_string(i)), ==, i);
    g_assert_cmpuint(nodedev_cap_from_string("nonsense"), ==, NODEDEV_CAP_LAST);
}

static void
test_net_and_usb_xml(void)
{
    g_autoptr(GPtrArray) devs = nodedev_enumerate(root);
    g_autofree char *net = nodedev_format(nodedev_find(devs, "net_eth0_52_54_00_ab_cd_ef"));
    g_autofree char *usb = nodedev_format(nodedev_find(devs, "usb_usb1"));

    g_assert_nonnull(strstr(net, "  <capability type='net'>\n"
                                 "    <interface>eth0</interface>\n"
                                 "    <address>52:54:00:ab:cd:ef</address>\n"
                                 "    <link speed='1000' state='up'/>\n"
                                 "    <capability type='80203'/>\n"));
    g_assert_nonnull(strstr(usb, "  <devnode type='dev'>/dev/bus/usb/001/001</devnode>\n"));
    g_assert_nonnull(strstr(usb, "    <bus>1</bus>\n    <device>1</device>\n"
                                 "    <product id='0x0002'>EHCI Host Controller</product>\n"
                                 "    <vendor id='0x1d6b'>Linux 6.1.0 ehci_hcd</vendor>\n"));
}

static void
test_disk_xml(void)
{
    g_autoptr(GPtrArray) devs = nodedev_enumerate(root);
    g_autofree char *xml = nodedev_format(nodedev_find(devs, "block_vda"));

    g_assert_cmpstr(xml, ==,
                    "<device>\n"
                    "  <name>block_vda</name>\n"
                    "  <path>/sys/devices/pci0000:00/0000:00:02.0/virtio1/block/vda</path>\n"
                    "  <devnode type='dev'>/dev/vda</devnode>\n"
                    "  <devnode type='link'>/dev/disk/by-path/virtio-pci-0000:00:02.0</devnode>\n"
                    "  <parent>pci_0000_00_02_0</parent>\n"
                    "  <capability type='storage'>\n"
                    "    <block>/dev/vda</block>\n"
                    "    <bus>virtio</bus>\n"
                    "    <drive_type>disk</drive_type>\n"
                    "    <vendor>0x1af4</vendor>\n"
                    "    <size>1048576</size>\n"
                    "    <logical_block_size>512</logical_block_size>\n"
                    "    <num_blocks>2048</num_blocks>\n"
                    "  </capability>\n"
                    "</device>\n");
    g_assert_null(nodedev_find(devs, "block_loop0"));
}

static void
test_scsi(void)
{
    g_autoptr(GPtrArray) devs = nodedev_enumerate(root);
    NodeDev *host = nodedev_find(devs, "scsi_host3");
    g_autofree char *xml = nodedev_format(host);
    g_autofree char *lun = nodedev_format(nodedev_find(devs, "scsi_3_0_0_1"));
    g_autofree char *target = nodedev_format(nodedev_find(devs, "scsi_target3_0_0"));

    g_assert_nonnull(strstr(xml, "  <capability type='scsi_host'>\n"
                                 "    <host>3</host>\n"
                                 "    <unique_id>5</unique_id>\n"
                                 "    <capability type='fc_host'>\n"
                                 "      <wwnn>2000001b32a9da4e</wwnn>\n"
                                 "      <wwpn>2100001b32a9da4e</wwpn>\n"
                                 "      <fabric_wwn>2001000dec9877c1</fabric_wwn>\n"
                                 "    </capability>\n"
                                 "  </capability>\n"));
    g_assert_true(nodedev_has_cap(host, "fc_host"));
    g_assert_false(nodedev_has_cap(host, "vports"));
    g_assert_cmpstr(host->wwnn, ==, "2000001b32a9da4e");
    g_assert_cmpstr(host->wwpn, ==, "2100001b32a9da4e");
    g_assert_nonnull(strstr(lun, "    <host>3</host>\n    <bus>0</bus>\n    <target>0</target>\n"
                                 "    <lun>1</lun>\n    <type>disk</type>\n"));
    g_assert_nonnull(strstr(target, "  <capability type='scsi_target'>\n"
                                    "    <target>target3:0:0</target>\n"));
}

typedef struct {
    GString *log;
    GPtrArray *devs;
} Changes;

static void
record(const NodeDev *dev, NodeDevChange change, gpointer data)
{
    Changes *c = data;
    static const char *const what[] = {"created", "deleted", "updated"};

    /* a device is listed while it is told of, until it has been told it is deleted */
    if (c->devs)
        g_assert_true(nodedev_find(c->devs, dev->name) == dev);
    g_string_append_printf(c->log, "%s %s (%s);", what[change], dev->name, dev->parent);
}

#define ETH_DIR "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/net/"

static void
apply(Changes *c, const char *action, const char *subsystem, const char *syspath,
      const char *old)
{
    NodeDevUevent ev = {action, subsystem, syspath, old};

    nodedev_apply_uevent(c->devs, root, &ev, record, c);
}

/* Uevents change the list one device at a time, with libvirt's events: an interface
 * added, changed, renamed and removed; what is not listed changes nothing. */
static void
test_uevents(void)
{
    g_autoptr(GPtrArray) devs = nodedev_enumerate(root);
    g_autoptr(GString) log = g_string_new(NULL);
    Changes c = {log, devs};
    g_autofree char *eth1 = g_build_filename(root, ETH_DIR "eth1", NULL);
    g_autofree char *eth2 = g_build_filename(root, ETH_DIR "eth2", NULL);
    g_autofree char *addr2 = g_build_filename(eth2, "address", NULL);
    guint n = devs->len;

    put(NIC "/net/eth1/address", "52:54:00:00:00:01\n");
    apply(&c, "add", "net", ETH_DIR "eth1", NULL);
    /* after eth0, in sysfs order */
    g_assert_cmpstr(((NodeDev *)devs->pdata[4])->name, ==, "net_eth1_52_54_00_00_00_01");
    apply(&c, "change", "net", ETH_DIR "eth1", NULL);
    apply(&c, "add", "queues", ETH_DIR "eth1/queues/rx-0", NULL);
    apply(&c, "bind", "net", ETH_DIR "eth1", NULL);
    g_assert_cmpint(g_rename(eth1, eth2), ==, 0);
    apply(&c, "move", "net", ETH_DIR "eth2", ETH_DIR "eth1");
    g_assert_cmpuint(devs->len, ==, n + 1);
    g_assert_cmpint(g_unlink(addr2), ==, 0);
    g_assert_cmpint(g_rmdir(eth2), ==, 0);
    apply(&c, "add", "net", ETH_DIR "eth2", NULL); /* gone before it is read */
    apply(&c, "remove", "net", ETH_DIR "eth2", NULL);
    apply(&c, "remove", "net", ETH_DIR "eth9", NULL);
    g_assert_cmpstr(log->str, ==,
                    "created net_eth1_52_54_00_00_00_01 (pci_0000_01_00_0);"
                    "updated net_eth1_52_54_00_00_00_01 (pci_0000_01_00_0);"
                    "deleted net_eth1_52_54_00_00_00_01 (pci_0000_01_00_0);"
                    "created net_eth2_52_54_00_00_00_01 (pci_0000_01_00_0);"
                    "deleted net_eth2_52_54_00_00_00_01 (pci_0000_01_00_0);");
    g_assert_cmpuint(devs->len, ==, n);
}

/* Reading everything again tells of what went and came meanwhile. */
static void
test_resync(void)
{
    GPtrArray *devs = nodedev_enumerate(root);
    g_autoptr(GString) log = g_string_new(NULL);
    Changes c = {log, NULL};
    NodeDev *ghost = g_new0(NodeDev, 1);
    g_autofree char *last = g_strdup(((NodeDev *)devs->pdata[devs->len - 1])->name);
    g_autofree char *want = NULL;

    ghost->name = g_strdup("net_ghost");
    ghost->parent = g_strdup("computer");
    ghost->path = g_strdup("/sys/devices/virtual/net/ghost");
    ghost->subcaps = g_ptr_array_new();
    g_ptr_array_remove_index(devs, devs->len - 1);
    g_ptr_array_add(devs, ghost);
    nodedev_resync(&devs, root, record, &c);
    want = g_strdup_printf("deleted net_ghost (computer);created %s (%s);", last,
                           nodedev_find(devs, last)->parent);
    g_assert_cmpstr(log->str, ==, want);
    g_ptr_array_unref(devs);
}

static void
remove_tree(const char *path)
{
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    const char *e;

    while (d && (e = g_dir_read_name(d))) {
        g_autofree char *child = g_build_filename(path, e, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
            !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            remove_tree(child);
        else
            g_unlink(child);
    }
    g_rmdir(path);
}

int
main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    root = g_dir_make_tmp("sv-nodedev-XXXXXX", NULL);
    g_assert_nonnull(root);
    make_tree();
    g_test_add_func("/nodedev/names-and-parents", test_names_and_parents);
    g_test_add_func("/nodedev/pci-xml", test_pci_xml);
    g_test_add_func("/nodedev/caps", test_caps);
    g_test_add_func("/nodedev/net-and-usb-xml", test_net_and_usb_xml);
    g_test_add_func("/nodedev/disk-xml", test_disk_xml);
    g_test_add_func("/nodedev/scsi", test_scsi);
    g_test_add_func("/nodedev/uevents", test_uevents);
    g_test_add_func("/nodedev/resync", test_resync);
    rc = g_test_run();
    remove_tree(root);
    g_free(root);
    return rc;
}
