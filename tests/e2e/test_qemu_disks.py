"""test_qemu_disks.py: a TCG guest with the disks and controllers clients define (a qcow2
disk on virtio-blk behind a pcie-root-port, a cdrom on q35's sata, a disk on virtio-scsi)
starts: QEMU accepts libvirt's -blockdev/-device command line for them, holds the images
open, and the live XML names the disks as libvirt does; destroy leaves nothing.

What the goldens cannot show: that QEMU 7.2 itself takes the command line (node names,
bus names such as "ide.0" and "scsi0.0", controller ids) and opens what it names.
"""

import os
import subprocess
import xml.etree.ElementTree as ET

from guests import RUNNING, domain_xml, libvirt, qemu_processes

QEMU_IMG = "/usr/bin/qemu-img"

CONTROLLERS = (
    "<controller type='pci' index='0' model='pcie-root'/>"
    "<controller type='pci' index='1' model='pcie-root-port'>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'"
    " multifunction='on'/></controller>"
    "<controller type='pci' index='2' model='pcie-root-port'>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x1'/></controller>"
    "<controller type='sata' index='0'>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x2'/></controller>"
    "<controller type='scsi' index='0' model='virtio-scsi'>"
    "<address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></controller>"
    "<controller type='usb' index='0' model='ich9-ehci1'>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x1d' function='0x7'/></controller>"
    "<controller type='usb' index='0' model='ich9-uhci1'><master startport='0'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x1d' function='0x0'"
    " multifunction='on'/></controller>"
)
# Throttling on every kind of disk: each is named by its own QOM path.
IOTUNE = "<iotune><total_iops_sec>1000</total_iops_sec></iotune>"


def disks_xml(root):
    return (
        "<disk type='file' device='disk'>"
        "<driver name='qemu' type='qcow2' cache='none' discard='unmap'/>"
        "<source file='%(r)s/root.qcow2'/><target dev='vda' bus='virtio'/>%(io)s"
        "<serial>ROOT-1</serial>"
        "<address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></disk>"
        "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
        "<source file='%(r)s/config.iso'/><target dev='sda' bus='sata'/>%(io)s</disk>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='%(r)s/data.img'/><target dev='sdb' bus='scsi'/>%(io)s</disk>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='%(r)s/usb.img'/><target dev='sdc' bus='usb'/>%(io)s"
        "<address type='usb' bus='0' port='1'/></disk>"
        % {"r": root, "io": IOTUNE})


def open_files(pid):
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out.add(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass
    return out


def test_virtio_sata_scsi_disks_run(host):
    root = host.root
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", str(root / "root.qcow2"), "16M"],
                   check=True)
    for name in ("config.iso", "data.img", "usb.img"):
        with open(root / name, "wb") as f:
            f.truncate(1024 * 1024)
    xml = domain_xml("disks", host.kernel, machine="q35").replace(
        "<devices>", "<devices>" + CONTROLLERS + disks_xml(root), 1)
    dom = host.conn.defineXML(xml)
    dom.create()
    assert dom.state()[0] == RUNNING

    # QEMU took every node and device, and holds the three images open.
    pid = host.pid("disks")
    assert qemu_processes(root).keys() == {pid}
    files = open_files(pid)
    for name in ("root.qcow2", "config.iso", "data.img", "usb.img"):
        assert str(root / name) in files
    # The hotplug slots and controllers are QEMU's devices (it would have refused bus
    # names that do not exist).
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        cmdline = f.read()
    for device in (b'{"driver":"pcie-root-port","port":16,"chassis":1,"id":"pci.1"',
                   b'{"driver":"pcie-root-port","port":17,"chassis":2,"id":"pci.2"',
                   b'{"driver":"virtio-scsi-pci","id":"scsi0","bus":"pci.2"',
                   b'{"driver":"ich9-usb-uhci1","masterbus":"usb.0","firstport":0'):
        assert device in cmdline

    # The live XML: libvirt's aliases and drive addresses.
    live = ET.fromstring(dom.XMLDesc(0))
    got = {d.find("target").get("dev"): (d.find("alias").get("name"),
                                          d.find("address").get("type"))
           for d in live.iter("disk")}
    assert got == {"vda": ("virtio-disk0", "pci"), "sda": ("sata0-0-0", "drive"),
                   "sdb": ("scsi0-0-0-1", "drive"), "sdc": ("usb-disk2", "usb")}
    # libvirt's node indexes (the last disk is 1) and the known ends of the chains: raw
    # images have no backing file, and the qcow2 header says it has none.
    index = {d.find("target").get("dev"): d.find("source").get("index")
             for d in live.iter("disk")}
    assert index == {"vda": "4", "sda": "3", "sdb": "2", "sdc": "1"}
    ends = {d.find("target").get("dev") for d in live.iter("disk")
            if d.find("backingStore") is not None}
    assert ends == {"vda", "sda", "sdb", "sdc"}
    ctrl = {(c.get("type"), c.get("index")): c.find("alias").get("name")
            for c in live.iter("controller")}
    assert ctrl[("scsi", "0")] == "scsi0"
    assert ctrl[("sata", "0")] == "ide"
    assert ctrl[("pci", "1")] == "pci.1"

    dom.destroy()
    assert dom.state()[0] != RUNNING
    host.assert_clean()
    dom.undefine()


def test_bad_scsi_controller_model_refused(host):
    """A scsi model libvirt knows and splitvirt does not run is refused at define."""
    xml = domain_xml("badscsi", host.kernel, machine="q35").replace(
        "<devices>", "<devices><controller type='scsi' model='lsisas1068'/>", 1)
    try:
        host.conn.defineXML(xml)
        raise AssertionError("defined")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED


def throttled_xml(host, name, iotune):
    disk = ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            "<source file='%s/t.img'/><target dev='vda' bus='virtio'/>"
            "<iotune>%s</iotune></disk>" % (host.root, iotune))
    with open(host.root / "t.img", "wb") as f:
        f.truncate(1024 * 1024)
    return domain_xml(name, host.kernel).replace("<devices>", "<devices>" + disk, 1)


def test_iotune_reaches_qemu(host):
    """<iotune> goes to QEMU with block_set_io_throttle before the guest runs, as libvirt
    9.0 does with -blockdev: values QEMU takes start; a burst without its rate, which
    libvirt defines too, fails the start with QEMU's refusal and leaves nothing."""
    dom = host.conn.defineXML(throttled_xml(
        host, "iot", "<total_bytes_sec>1048576</total_bytes_sec>"
                     "<read_iops_sec>100</read_iops_sec><write_iops_sec>50</write_iops_sec>"
                     "<total_bytes_sec_max>2097152</total_bytes_sec_max>"
                     "<total_bytes_sec_max_length>3</total_bytes_sec_max_length>"))
    dom.create()
    assert dom.state()[0] == RUNNING
    dom.destroy()
    host.assert_clean()

    dom = host.conn.defineXML(throttled_xml(
        host, "iotbad", "<read_bytes_sec_max>5</read_bytes_sec_max>"))
    try:
        dom.create()
        raise AssertionError("started")
    except libvirt.libvirtError as e:
        assert "block_set_io_throttle" in e.get_error_message() or \
            "require" in e.get_error_message(), e.get_error_message()
    assert not dom.isActive()
    host.assert_clean()


QEMU_NBD = "/usr/bin/qemu-nbd"


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_path(path, timeout=10.0):
    import time
    deadline = time.monotonic() + timeout
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.path.exists(path)


def test_nbd_disks_over_unix_and_tcp(host):
    """Network disks of protocol nbd reach QEMU's nbd driver: an export on a unix socket and
    one over TCP, both served by qemu-nbd, are opened when the guest starts; with the
    server gone the start fails and leaves nothing."""
    root = host.root
    img = root / "nbd.qcow2"
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", str(img), "16M"], check=True)
    raw = root / "nbd.raw"
    with open(raw, "wb") as f:
        f.truncate(1024 * 1024)
    sock = root / "nbd.sock"
    port = free_port()
    pidfile = root / "nbd-tcp.pid"
    servers = [
        subprocess.Popen([QEMU_NBD, "--persistent", "-k", str(sock), "-f", "raw", "-x", "exp",
                          str(img)], stdin=subprocess.DEVNULL),
        subprocess.Popen([QEMU_NBD, "--persistent", "-b", "127.0.0.1", "-p", str(port), "-f",
                          "raw", "--pid-file", str(pidfile), str(raw)],
                         stdin=subprocess.DEVNULL),
    ]
    try:
        wait_path(sock)
        wait_path(pidfile)
        disks = (
            "<disk type='network' device='disk'><driver name='qemu' type='qcow2'/>"
            "<source protocol='nbd' name='exp'><host transport='unix' socket='%s'/></source>"
            "<target dev='vda' bus='virtio'/></disk>"
            "<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
            "<source protocol='nbd'><host name='127.0.0.1' port='%d'/></source>"
            "<target dev='vdb' bus='virtio'/></disk>" % (sock, port))
        xml = domain_xml("nbd", host.kernel).replace("<devices>", "<devices>" + disks, 1)
        dom = host.conn.defineXML(xml)
        dom.create()
        assert dom.state()[0] == RUNNING
        live = ET.fromstring(dom.XMLDesc(0))
        assert [d.find("alias").get("name") for d in live.iter("disk")] == \
            ["virtio-disk0", "virtio-disk1"]
        dom.destroy()
        host.assert_clean()
    finally:
        for s in servers:
            s.terminate()
            s.wait(10)
    # No server: QEMU cannot open the export, and the start fails cleanly.
    try:
        dom.create()
        raise AssertionError("started without an NBD server")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_INTERNAL_ERROR, e.get_error_message()
    assert not dom.isActive()
    host.assert_clean()


def test_optional_images_missing_at_start(host):
    """startupPolicy='optional' as libvirt applies it at a cold boot: a missing cdrom image
    leaves the drive empty, a missing disk image leaves the disk out; the definition keeps
    both."""
    root = host.root
    with open(root / "here.img", "wb") as f:
        f.truncate(1024 * 1024)
    disks = (
        "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
        "<source file='%(r)s/gone.iso' startupPolicy='optional'/>"
        "<target dev='hdc' bus='ide'/></disk>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='%(r)s/gone.img' startupPolicy='optional'/>"
        "<target dev='vdb' bus='virtio'/></disk>"
        "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='%(r)s/here.img' startupPolicy='optional'/>"
        "<target dev='vda' bus='virtio'/></disk>" % {"r": root})
    xml = domain_xml("optional", host.kernel).replace("<devices>", "<devices>" + disks, 1)
    dom = host.conn.defineXML(xml)
    dom.create()
    assert dom.state()[0] == RUNNING
    live = ET.fromstring(dom.XMLDesc(0))
    got = {d.find("target").get("dev"): d.find("source") for d in live.iter("disk")}
    assert set(got) == {"hdc", "vda"}
    # As libvirtd 9.0: the emptied cdrom has no <source> left; the images were numbered
    # before vdb was dropped (vdb 1, vda 2).
    assert got["hdc"] is None
    assert got["vda"].get("file") == str(root / "here.img")
    assert got["vda"].get("index") == "2"
    inactive = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert {d.find("target").get("dev") for d in inactive.iter("disk")} == {"hdc", "vda", "vdb"}
    dom.destroy()
    host.assert_clean()


def test_qcow2_backing_chain_read_at_start(host):
    """A qcow2 overlay whose <disk> names no <backingStore>: its chain is read from the
    image headers at start as libvirt reads it (the relative name taken from the overlay's
    directory), QEMU is given every image, and the live XML shows the chain with its node
    indexes; the inactive XML stays as defined. (An image recording no backing format is
    refused, as libvirt refuses it: test-qemu-disk-chain.)"""
    root = host.root
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", str(root / "base.qcow2"), "16M"],
                   check=True)
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
                    str(root / "top.qcow2")], check=True)
    disk = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            "<source file='%s/top.qcow2'/><target dev='vda' bus='virtio'/></disk>" % root)
    dom = host.conn.defineXML(
        domain_xml("chain", host.kernel).replace("<devices>", "<devices>" + disk, 1))
    dom.create()
    assert dom.state()[0] == RUNNING
    pid = host.pid("chain")
    files = open_files(pid)
    assert str(root / "top.qcow2") in files and str(root / "base.qcow2") in files
    live = ET.fromstring(dom.XMLDesc(0)).find("devices/disk")
    assert live.find("source").get("index") == "1"
    back = live.find("backingStore")
    assert (back.get("type"), back.get("index")) == ("file", "2")
    assert back.find("format").get("type") == "qcow2"
    assert back.find("source").get("file") == str(root / "base.qcow2")
    end = back.find("backingStore")
    assert end is not None and end.get("type") is None and len(end) == 0
    inactive = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert inactive.find("devices/disk/backingStore") is None
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        assert b'"backing":"libvirt-2-format"' in f.read()
    dom.destroy()
    host.assert_clean()


def test_disk_live_state_survives_a_daemon_restart(daemons, root):
    """The live disk state (aliases, node indexes, probed chains, drive addresses) is kept
    in the guest's status file: a daemon started again on the running guest shows the
    same live XML."""
    import shutil
    from guests import DAEMON_CONFIG, guest_elf, uri_for
    kernel = root / "svguest.elf"
    shutil.copyfile(guest_elf(), kernel)
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", str(root / "base.qcow2"), "16M"],
                   check=True)
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2",
                    str(root / "top.qcow2")], check=True)
    with open(root / "data.img", "wb") as f:
        f.truncate(1024 * 1024)
    disks = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
             "<source file='%(r)s/top.qcow2'/><target dev='vda' bus='virtio'/></disk>"
             "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
             "<source file='%(r)s/data.img'/><target dev='hdb' bus='ide'/>"
             "<iotune><total_iops_sec>500</total_iops_sec></iotune></disk>"
             "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>"
             % {"r": root})
    d = daemons.start(config=DAEMON_CONFIG)
    c = libvirt.open(uri_for(d.sock))
    dom = c.defineXML(domain_xml("restart", kernel).replace("<devices>", "<devices>" + disks, 1))
    dom.create()
    before = dom.XMLDesc(0)
    c.close()
    assert d.stop() == 0

    d2 = daemons.start(config=DAEMON_CONFIG)
    c = libvirt.open(uri_for(d2.sock))
    dom = c.lookupByName("restart")
    assert dom.state()[0] == RUNNING
    assert dom.XMLDesc(0) == before
    assert "<backingStore type='file' index='4'>" in before
    dom.destroy()
    c.close()


def strip_backing_format(image):
    """Rename the backing format header extension of a qcow2 image: qemu-img 7.2 always
    records the format, images made by older tools may not."""
    data = bytearray(image.read_bytes())
    at = data.index(bytes.fromhex("e2792aca"), 72)
    data[at:at + 4] = bytes.fromhex("12345678")
    image.write_bytes(bytes(data))


def test_backing_file_without_format(host):
    """A backing file whose format its overlay does not record is probed where libvirt 9.0
    probes it (an image naming no backing file itself: here raw, and the guest runs with the
    chain libvirtd shows), and refused with libvirt's error otherwise, leaving nothing."""
    root = host.root
    with open(root / "base.raw", "wb") as f:
        f.truncate(1024 * 1024)
    mid = root / "mid.qcow2"
    top = root / "top.qcow2"
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw",
                    str(mid)], check=True)
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2",
                    str(top)], check=True)
    strip_backing_format(mid)
    strip_backing_format(top)

    def guest(name, image):
        disk = ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                "<source file='%s'/><target dev='vda' bus='virtio'/></disk>" % image)
        return host.conn.defineXML(
            domain_xml(name, host.kernel).replace("<devices>", "<devices>" + disk, 1))

    dom = guest("probed", mid)
    dom.create()
    back = ET.fromstring(dom.XMLDesc(0)).find("devices/disk/backingStore")
    assert back.find("format").get("type") == "raw"
    assert back.find("source").get("file") == str(root / "base.raw")
    dom.destroy()
    host.assert_clean()

    dom = guest("refused", top)
    try:
        dom.create()
        raise AssertionError("started")
    except libvirt.libvirtError as e:
        assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
        assert e.get_error_domain() == libvirt.VIR_FROM_STORAGE
        assert e.get_error_message() == (
            "Requested operation is not valid: format of backing image 'mid.qcow2' of image "
            "'%s' was not specified in the image metadata (See "
            "https://libvirt.org/kbase/backing_chains.html for troubleshooting)" % top)
    assert not dom.isActive()
    host.assert_clean()
