"""test_nodedevd.py: virtnodedevd (issue 19 item 4), the read-only node-device daemon,
driven with stock virsh and python3-libvirt on nodedev:///system.

Fast tests read this machine's own devices (the daemon's --root holds no sys/, so it
reads /sys) and check the answers against sysfs itself, or a small fake sysfs tree made
here (--root with ROOT/sys) for what this machine lacks (mediated-device types, udev's
names). The slow test compares the same calls with Debian's libvirtd 9.0.0 (`ref`).
"""

import os
import re
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest
from guests import ensure_event_loop

import eventreg
import rawrpc

NAME = "virtnodedevd"


def uri(d, ro=False):
    return "nodedev:///system?socket=%s" % (d.sock_ro if ro else d.sock)


def virsh(u, *args, check=True):
    r = subprocess.run(["virsh", "-q", "-c", u, *args], capture_output=True, text=True,
                       timeout=60)
    if check:
        assert r.returncode == 0, "virsh %s: %s" % (" ".join(args), r.stderr)
    return r


def pci_names_in(sys_dir):
    """libvirt's names of the PCI devices of a sysfs tree."""
    p = Path(sys_dir) / "bus" / "pci" / "devices"
    return sorted("pci_" + re.sub(r"[^A-Za-z0-9]", "_", e.name) for e in p.iterdir()) \
        if p.is_dir() else []


@pytest.fixture
def nodedevd(daemons):
    return daemons.start(name=NAME, label=NAME)


def test_list_and_tree_match_sysfs(nodedevd):
    """nodedev-list --cap pci lists every PCI device of /sys; --tree hangs every listed
    device under its parent, computer at the top."""
    u = uri(nodedevd)
    pci = virsh(u, "nodedev-list", "--cap", "pci").stdout.split()
    assert pci == pci_names_in("/sys")
    everything = set(virsh(u, "nodedev-list").stdout.split())
    assert "computer" in everything and set(pci) <= everything
    tree = virsh(u, "nodedev-list", "--tree").stdout
    names = re.findall(r"^[ |]*(?:\+- )?([A-Za-z0-9_]+)\s*$", tree, re.M)
    assert names[0] == "computer"
    assert set(names) == everything
    conn = libvirt.openReadOnly(uri(nodedevd, ro=True))
    try:
        for n in everything - {"computer"}:
            parent = conn.nodeDeviceLookupByName(n).parent()
            assert parent in everything, (n, parent)
            # the tree shows a child after its parent
            assert names.index(parent) < names.index(n)
    finally:
        conn.close()


def test_pci_dumpxml_from_sysfs(nodedevd):
    """nodedev-dumpxml of each PCI device says what its sysfs directory says."""
    u = uri(nodedevd)
    devs = sorted(Path("/sys/bus/pci/devices").iterdir()) \
        if Path("/sys/bus/pci/devices").is_dir() else []
    if not devs:
        pytest.skip("this machine has no PCI device")
    for sysdev in devs:
        name = "pci_" + re.sub(r"[^A-Za-z0-9]", "_", sysdev.name)
        x = ET.fromstring(virsh(u, "nodedev-dumpxml", name).stdout)
        assert x.findtext("name") == name
        assert x.findtext("path") == os.path.realpath(sysdev)
        cap = x.find("capability[@type='pci']")
        read = lambda f: (sysdev / f).read_text().strip()  # noqa: E731
        assert int(cap.findtext("class"), 16) == int(read("class"), 16)
        assert int(cap.find("vendor").get("id"), 16) == int(read("vendor"), 16)
        assert int(cap.find("product").get("id"), 16) == int(read("device"), 16)
        dom, bus, rest = sysdev.name.split(":")
        slot, fn = rest.split(".")
        assert [int(cap.findtext(k)) for k in ("domain", "bus", "slot", "function")] == \
            [int(dom, 16), int(bus, 16), int(slot, 16), int(fn, 16)]
        drv = sysdev / "driver"
        assert x.findtext("driver/name") == (os.path.basename(os.readlink(drv))
                                             if drv.exists() else None)


def test_python_nova_calls(nodedevd):
    """Nova's calls: listAllDevices(CAP_PCI_DEV) and listDevices('mdev_types'), on the
    read-only socket; the counts agree with the lists."""
    conn = libvirt.openReadOnly(uri(nodedevd, ro=True))
    try:
        pci = sorted(d.name() for d in
                     conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV))
        assert pci == pci_names_in("/sys")
        assert sorted(conn.listDevices("pci", 0)) == pci
        assert conn.numOfDevices("pci", 0) == len(pci)
        with_mdev = sorted(n for n in pci_names_in("/sys")
                           if list(Path("/sys/bus/pci/devices").glob(
                               n[4:8] + ":" + n[9:11] + ":" + n[12:14] + "." + n[15:]
                               + "/mdev_supported_types")))
        assert sorted(conn.listDevices("mdev_types", 0)) == with_mdev
        assert len(conn.listAllDevices(0)) == conn.numOfDevices(None, 0)
        computer = conn.nodeDeviceLookupByName("computer")
        assert computer.listCaps() == ["system"]
        assert computer.numOfCaps() == 1
    finally:
        conn.close()


def test_errors_as_libvirt(nodedevd):
    """Unknown names, WWNs no SCSI host has, and the operations this daemon does not serve
    answer as libvirt does."""
    conn = libvirt.open(uri(nodedevd))
    try:
        with pytest.raises(libvirt.libvirtError) as e:
            conn.nodeDeviceLookupByName("pci_nope")
        assert e.value.get_error_code() == libvirt.VIR_ERR_NO_NODE_DEVICE
        assert e.value.get_error_domain() == libvirt.VIR_FROM_NODEDEV
        assert str(e.value) == \
            "Node device not found: no node device with matching name 'pci_nope'"
        # libvirt 9.0 finds no FC host without saying why: its dispatcher's stand-in error
        with pytest.raises(libvirt.libvirtError) as e:
            conn.nodeDeviceLookupSCSIHostByWWN("2000000000000001", "1000000000000001", 0)
        assert (e.value.get_error_code(), e.value.get_error_domain(), str(e.value)) == \
            (libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_NONE,
             "An error occurred, but the cause is unknown")
        # libvirt's dispatcher answers the computer's missing parent with no name
        assert conn.nodeDeviceLookupByName("computer").parent() is None
        # Kept difference: libvirt creates mdevs and NPIV vports here; this daemon does
        # not serve the procedure yet, which the client reports as NO_SUPPORT.
        with pytest.raises(libvirt.libvirtError) as e:
            conn.nodeDeviceCreateXML("<device><parent>computer</parent></device>", 0)
        assert e.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT
        assert conn.getType() == "nodedev"
    finally:
        conn.close()


def test_list_limits_on_the_wire(nodedevd):
    """Counts a client sends are checked as libvirt's dispatcher checks them (RPC error,
    the connection still usable); a list cut short by maxnames is the first names."""
    import rawrpc
    from rawrpc import i32, opt_string, string, u32

    list_devices, list_caps = 112, 117  # REMOTE_PROC_NODE_LIST_DEVICES, _DEVICE_LIST_CAPS
    with rawrpc.Client(str(nodedevd.sock_ro)) as c:
        c.open("nodedev:///system")
        for n in (-1, 65537):
            with pytest.raises(rawrpc.RpcFailed) as e:
                c.call(list_devices, opt_string(None) + i32(n) + u32(0))
            assert "maxnames > REMOTE_NODE_DEVICE_LIST_MAX" in str(e.value)
            with pytest.raises(rawrpc.RpcFailed) as e:
                c.call(list_caps, string("computer") + i32(n))
            assert "maxnames > REMOTE_NODE_DEVICE_CAPS_LIST_MAX" in str(e.value)
        u = c.call(list_devices, opt_string(None) + i32(1) + u32(0))
        assert [u.string() for _ in range(u.u32())] == ["computer"]
        with pytest.raises(rawrpc.RpcFailed) as e:
            c.call(list_devices, opt_string(None) + i32(1) + u32(1))
        assert "unsupported flags (0x1) in function nodeListDevices" in str(e.value)
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "nodedev"


def fake_sysfs(root):
    """A PCI GPU offering an mdev type (and, for the WWN lookup, an FC SCSI host below
    it); udev's database names it otherwise than pci.ids,
    whose names libvirt shows."""
    dev = root / "sys/devices/pci0000:00/0000:00:05.0"
    t = dev / "mdev_supported_types" / "nvidia-35"
    t.mkdir(parents=True)
    for f, v in (("vendor", "0x10de"), ("device", "0x13f2"), ("class", "0x030000")):
        (dev / f).write_text(v + "\n")
    for f, v in (("name", "GRID M60-1Q"), ("device_api", "vfio-pci"),
                 ("available_instances", "8")):
        (t / f).write_text(v + "\n")
    (root / "sys/bus/pci/devices").mkdir(parents=True)
    (root / "sys/bus/pci/devices/0000:00:05.0").symlink_to(
        "../../../devices/pci0000:00/0000:00:05.0")
    host = dev / "host3"
    host.mkdir()
    (host / "uevent").write_text("DEVTYPE=scsi_host\n")
    (root / "sys/bus/scsi/devices").mkdir(parents=True)
    (root / "sys/bus/scsi/devices/host3").symlink_to(
        "../../../devices/pci0000:00/0000:00:05.0/host3")
    fc = root / "sys/class/fc_host/host3"
    fc.mkdir(parents=True)
    (fc / "port_name").write_text("0x2100001b32a9da4e\n")
    (fc / "node_name").write_text("0x2000001b32a9da4e\n")
    (root / "run/udev/data").mkdir(parents=True)
    (root / "run/udev/data/+pci:0000:00:05.0").write_text(
        "E:ID_VENDOR_FROM_DATABASE=udev's vendor\n"
        "E:ID_MODEL_FROM_DATABASE=udev's model\n")


def test_fake_sysfs_mdev_types(root, daemons):
    """With ROOT/sys the daemon reads that tree: Nova's listDevices('mdev_types') finds the
    GPU, and its XML has pci.ids' names and the mdev type."""
    fake_sysfs(root)
    d = daemons.start(name=NAME, label=NAME)
    conn = libvirt.openReadOnly(uri(d, ro=True))
    try:
        assert conn.listDevices("mdev_types", 0) == ["pci_0000_00_05_0"]
        devs = conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV_TYPES)
        assert [x.name() for x in devs] == ["pci_0000_00_05_0"]
        dev = conn.nodeDeviceLookupByName("pci_0000_00_05_0")
        assert dev.listCaps() == ["pci", "mdev_types"]
        x = ET.fromstring(dev.XMLDesc(0))
        assert x.findtext("capability/vendor") == "NVIDIA Corporation"
        assert x.findtext("capability/product") == "GM204GL [Tesla M60]"
        t = x.find("capability/capability[@type='mdev_types']/type")
        assert t.get("id") == "nvidia-35"
        assert [t.findtext(k) for k in ("name", "deviceAPI", "availableInstances")] == \
            ["GRID M60-1Q", "vfio-pci", "8"]
        assert sorted(conn.listDevices(None, 0)) == \
            ["computer", "pci_0000_00_05_0", "scsi_host3"]
        assert conn.nodeDeviceLookupSCSIHostByWWN(
            "2000001b32a9da4e", "2100001b32a9da4e", 0).name() == "scsi_host3"
        assert conn.listDevices("fc_host", 0) == ["scsi_host3"]
    finally:
        conn.close()


# ---------------------------------------------------------------- hotplug and events

def ip_link(*args):
    subprocess.run(["ip", "link", *args], check=True, capture_output=True, timeout=30)


def add_test_link(ifname):
    """A dummy interface; where the kernel has no dummy driver (these test machines'
    kernels), one end of a veth pair (its peer, "svp" + the name's fourth character on, goes
    with it)."""
    r = subprocess.run(["ip", "link", "add", ifname, "type", "dummy"], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0 and "Unknown device type" in r.stderr:
        ip_link("add", ifname, "type", "veth", "peer", "name", "svp" + ifname[3:])
    else:
        assert r.returncode == 0, r.stderr


def net_name(ifname):
    mac = Path("/sys/class/net/%s/address" % ifname).read_text().strip()
    return "net_%s_%s" % (ifname, mac.replace(":", "_"))


class DeviceEvents:
    """Every node-device event one connection receives: (name, event, detail) for
    lifecycle events, (name, "update") for updates."""

    def __init__(self, conn, dev=None):
        self.conn, self.got, self.cond = conn, [], threading.Condition()
        self.ids = [conn.nodeDeviceEventRegisterAny(
                        dev, libvirt.VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE, self._lifecycle, None),
                    conn.nodeDeviceEventRegisterAny(
                        dev, libvirt.VIR_NODE_DEVICE_EVENT_ID_UPDATE, self._update, None)]

    def _add(self, item):
        with self.cond:
            self.got.append(item)
            self.cond.notify_all()

    def _lifecycle(self, conn, dev, event, detail, opaque):
        self._add((dev.name(), event, detail))

    def _update(self, conn, dev, opaque):
        self._add((dev.name(), "update"))

    def wait_for(self, item, timeout=10):
        with self.cond:
            assert self.cond.wait_for(lambda: item in self.got, timeout=timeout), \
                (item, self.got)

    def of(self, *names):
        with self.cond:
            return [e for e in self.got if e[0] in names]

    def close(self):
        for i in self.ids:
            self.conn.nodeDeviceEventDeregisterAny(i)


def test_hotplug_updates_lists_and_sends_events(nodedevd):
    """A dummy network interface (or a veth pair's end) made, changed, renamed and removed
    in the host's network namespace (this test's and the daemon's): its net_NAME_MAC device is in
    NODE_LIST_DEVICES and CONNECT_LIST_ALL_NODE_DEVICES while it exists, and a read-only
    connection (libvirt lets one register) gets libvirt's events: CREATED, an update for
    the "change" uevent, DELETED and CREATED for the rename, DELETED (detail 0 each).

    Kept difference, named: this machine runs no udevd, and libvirtd 9.0 listens to udevd's
    announcements only, so it would see none of this (its list stays as at its start, no
    event comes). Without udevd virtnodedevd listens to the kernel's uevents instead, so
    that its lists stay true; with udevd it listens to udevd as libvirt does."""
    ensure_event_loop()
    ifname, renamed = "svnd%d" % (os.getpid() % 100000), "svnr%d" % (os.getpid() % 100000)
    conn = libvirt.openReadOnly(uri(nodedevd, ro=True))
    net = libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_NET
    listed = lambda: (set(conn.listDevices("net", 0)),  # noqa: E731
                      {d.name() for d in conn.listAllDevices(net)})
    events = DeviceEvents(conn)
    one = None
    try:
        add_test_link(ifname)
        try:
            name = net_name(ifname)
            events.wait_for((name, libvirt.VIR_NODE_DEVICE_EVENT_CREATED, 0))
            assert all(name in s for s in listed())
            x = ET.fromstring(conn.nodeDeviceLookupByName(name).XMLDesc(0))
            assert x.findtext("capability/interface") == ifname
            assert x.findtext("parent") == "computer"
            # a registration for this one device hears of it alone
            one = DeviceEvents(conn, conn.nodeDeviceLookupByName(name))
            Path("/sys/class/net/%s/uevent" % ifname).write_text("change")
            events.wait_for((name, "update"))
            one.wait_for((name, "update"))
            ip_link("set", ifname, "name", renamed)
            new = net_name(renamed)
            events.wait_for((new, libvirt.VIR_NODE_DEVICE_EVENT_CREATED, 0))
            assert all(new in s and name not in s for s in listed())
            ifname = renamed
        finally:
            ip_link("del", ifname)
        events.wait_for((new, libvirt.VIR_NODE_DEVICE_EVENT_DELETED, 0))
        assert not any(n in s for s in listed() for n in (name, new))
        assert events.of(name, new) == [
            (name, libvirt.VIR_NODE_DEVICE_EVENT_CREATED, 0), (name, "update"),
            (name, libvirt.VIR_NODE_DEVICE_EVENT_DELETED, 0),
            (new, libvirt.VIR_NODE_DEVICE_EVENT_CREATED, 0),
            (new, libvirt.VIR_NODE_DEVICE_EVENT_DELETED, 0)]
        assert one.got == [(name, "update"), (name, libvirt.VIR_NODE_DEVICE_EVENT_DELETED, 0)]
    finally:
        if one:
            one.close()
        events.close()
        conn.close()


def test_event_registration_on_the_wire(nodedevd):
    """CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY answers libvirt's errors for an event id out
    of range and DEREGISTER_ANY for an id not registered (both INTERNAL_ERROR in the RPC
    domain); callback ids are the daemon's, counted across connections, never reused."""
    import rawrpc
    from rawrpc import i32, u32

    register, deregister = 374, 375
    with rawrpc.Client(str(nodedevd.sock_ro)) as a, rawrpc.Client(str(nodedevd.sock)) as b:
        a.open("nodedev:///system")
        b.open("nodedev:///system")
        for bad in (-1, 2):
            with pytest.raises(rawrpc.RpcFailed) as e:
                a.call(register, i32(bad) + u32(0))
            assert (e.value.err.code, e.value.err.domain, e.value.err.message) == (
                rawrpc.ERR_INTERNAL_ERROR, rawrpc.FROM_RPC,
                "internal error: unsupported node device event ID %d" % bad)
        ids = [c.call(register, i32(ev) + u32(0)).i32() for c, ev in ((a, 0), (b, 1), (a, 1))]
        assert ids[1] == ids[0] + 1 and ids[2] == ids[0] + 2
        a.call(deregister, i32(ids[0]))
        for c, cb in ((a, ids[0]), (a, ids[1])):
            with pytest.raises(rawrpc.RpcFailed) as e:
                c.call(deregister, i32(cb))
            assert (e.value.err.code, e.value.err.message) == (
                rawrpc.ERR_INTERNAL_ERROR,
                "internal error: node device event callback %d not registered" % cb)
        assert a.call(register, i32(0) + u32(0)).i32() == ids[2] + 1


# ---------------------------------------------------------------- against libvirtd

def settled(get_ours, get_theirs, tries=10):
    """Both daemons' answers about this machine's devices, asked again (a second apart, up
    to tries times) while they differ: the suites running beside this one (the other
    builds') add and remove network devices of the host, which one daemon's answer may show
    and the other's, a moment later, not."""
    for _ in range(tries):
        mine, theirs = get_ours(), get_theirs()
        if mine == theirs:
            break
        time.sleep(1)
    return mine, theirs


def dumpxml(run, name):
    r = run("nodedev-dumpxml", name, check=False)
    return r.returncode, r.stdout


@pytest.mark.slow
def test_same_answers_as_libvirtd(ref, nodedevd):
    """On this machine's own devices: nodedev-list --tree, nodedev-list --cap pci,
    nodedev-dumpxml of every device (PCI ones first of all), listAllDevices(CAP_PCI_DEV) and
    listDevices('mdev_types') answer as Debian's libvirtd 9.0.0 does."""
    ours = uri(nodedevd)

    def on_ours(*args, check=True):
        return virsh(ours, *args, check=check)

    mine, theirs = settled(lambda: on_ours("nodedev-list", "--tree").stdout,
                           lambda: ref.virsh("nodedev-list", "--tree").stdout)
    assert mine == theirs
    pci = on_ours("nodedev-list", "--cap", "pci").stdout
    assert pci == ref.virsh("nodedev-list", "--cap", "pci").stdout
    # every device: the PCI ones (Nova's), and the computer, network interfaces (link,
    # ethtool's offload features), disks and the rest this machine has
    for name in on_ours("nodedev-list").stdout.split():
        mine, theirs = settled(lambda: dumpxml(on_ours, name), lambda: dumpxml(ref.virsh, name))
        assert mine == theirs, name
    mine = libvirt.openReadOnly(uri(nodedevd, ro=True))
    theirs = libvirt.openReadOnly(ref.uri)
    try:
        flag = libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV
        assert sorted(d.name() for d in mine.listAllDevices(flag)) == \
            sorted(d.name() for d in theirs.listAllDevices(flag))
        assert sorted(mine.listDevices("mdev_types", 0)) == \
            sorted(theirs.listDevices("mdev_types", 0))
        both = settled(lambda: sorted(mine.listDevices(None, 0)),
                       lambda: sorted(theirs.listDevices(None, 0)))
        assert both[0] == both[1]
    finally:
        mine.close()
        theirs.close()


def answer(conn, call):
    try:
        return ("ok", call(conn))
    except libvirt.libvirtError as e:
        return ("error", e.get_error_code(), e.get_error_domain(), str(e))


# The same calls on both daemons; each answer (value, or error code, domain and message)
# compared.
SAME_CALLS = {
    "lookup-missing": lambda c: c.nodeDeviceLookupByName("pci_nope").name(),
    "wwn-missing": lambda c: c.nodeDeviceLookupSCSIHostByWWN(
        "2000000000000001", "1000000000000001", 0).name(),
    "computer-parent": lambda c: c.nodeDeviceLookupByName("computer").parent(),
    "caps-and-parents": lambda c: [(d.name(), d.listCaps(), d.numOfCaps(), d.parent())
                                   for d in sorted(c.listAllDevices(0), key=lambda d: d.name())],
    "num-pci": lambda c: c.numOfDevices("pci", 0),
    "num-unknown-cap": lambda c: c.numOfDevices("bogus", 0),
    "list-bad-flags": lambda c: c.listDevices(None, 1),
    "list-inactive": lambda c: [d.name() for d in c.listAllDevices(
        libvirt.VIR_CONNECT_LIST_NODE_DEVICES_INACTIVE)],
    "xml-bad-flags": lambda c: c.nodeDeviceLookupByName("computer").XMLDesc(1),
}


@pytest.mark.slow
def test_same_errors_and_caps_as_libvirtd(ref, nodedevd):
    """Lookups that find nothing, the computer's parent, every device's capabilities and
    parent, counts and flags checks answer as libvirtd's. Kept difference, named: creating
    and detaching devices are not served here (NO_SUPPORT), where libvirtd does them."""
    mine = libvirt.openReadOnly(uri(nodedevd, ro=True))
    theirs = libvirt.openReadOnly(ref.uri)
    try:
        for what, call in SAME_CALLS.items():
            got = settled(lambda: answer(mine, call), lambda: answer(theirs, call))
            assert got[0] == got[1], what
        rw = libvirt.open(uri(nodedevd))
        try:
            create = answer(rw, lambda c: c.nodeDeviceCreateXML("<device/>", 0))
        finally:
            rw.close()
        assert create[:2] == ("error", libvirt.VIR_ERR_NO_SUPPORT)
    finally:
        mine.close()
        theirs.close()


def registration_answers(sock):
    """The node-device registration calls' answers (eventreg.py): one device named whether
    it exists or not."""
    return eventreg.registration_answers(sock, "nodedev:///system", 374, 375, [
        rawrpc.string(n) for n in ("computer", "no_such_device")])


@pytest.mark.slow
def test_event_registration_as_libvirtd(ref, nodedevd):
    """The registration calls answer as Debian's libvirtd 9.0.0's node-device driver
    (through its own socket as nodedev:///system): the same errors for event ids out of
    range and for ids not registered, filters on any device name, callback ids counted
    up. And the hotplug difference named in
    test_hotplug_updates_lists_and_sends_events, checked as it stands: with udevd running
    both daemons list a new interface; without it only this one does."""
    assert registration_answers(nodedevd.sock) == registration_answers(ref.daemon.sock)
    ifname = "svns%d" % (os.getpid() % 100000)
    mine = libvirt.openReadOnly(uri(nodedevd, ro=True))
    theirs = libvirt.openReadOnly("nodedev:///system?socket=%s-ro" % ref.daemon.sock)
    try:
        add_test_link(ifname)
        try:
            name = net_name(ifname)
            deadline = time.monotonic() + 10
            while name not in mine.listDevices("net", 0) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert name in mine.listDevices("net", 0)
            time.sleep(1)  # libvirtd's chance to have heard of it, were anything said
            udevd = os.path.exists("/run/udev/control")
            assert (name in theirs.listDevices("net", 0)) == udevd
        finally:
            ip_link("del", ifname)
    finally:
        mine.close()
        theirs.close()
