"""test_qemu_hotplug_live.py: issue 18 item 2, live hotplug of disks on virtqemud
(DOMAIN_ATTACH_DEVICE(_FLAGS) and DOMAIN_DETACH_DEVICE(_FLAGS) with AFFECT_LIVE, and
LIVE|CONFIG): blockdev-add + device_add on attach, device_del and libvirt's 5 s wait for
QEMU's DEVICE_DELETED on detach, the DEVICE_ADDED and DEVICE_REMOVED events.

Guest A (the tiny guest) never acknowledges an unplug: the detach call succeeds after the
wait and the disk stays in the live definition, as on libvirt 9.0. The Linux test guest
(Guest B) ejects the disk (ACPI PCI hotplug on the pc machine): the disk leaves the live
definition within the call, DEVICE_REMOVED is sent, and the guest sees the disk come and go.
The slow tests run the same sequences on Debian's libvirtd and compare.
"""

import json
import re
import subprocess
import threading
import time

import pytest

import linuxguest
import rawrpc
from calls import answer, virsh
from guests import domain_xml, guest_elf
from test_qemu_net import netns, nethost  # noqa: F401 (the fixtures)

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

LIVE, CONFIG = 1, 2
UNPLUG_WAIT = 5.0  # libvirt's wait for DEVICE_DELETED


def disk_xml(path, target, bus="virtio", device="disk", fmt="raw"):
    return ("<disk type='file' device='%s'><driver name='qemu' type='%s'/>"
            "<source file='%s'/><target dev='%s' bus='%s'/></disk>"
            % (device, fmt, path, target, bus))


def make_image(path, size_mib=8):
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(path), "%dM" % size_mib],
                   check=True)
    return str(path)


class DeviceEvents:
    """The DEVICE_ADDED, DEVICE_REMOVED and DEVICE_REMOVAL_FAILED events of one client."""

    def __init__(self, conn):
        self.conn = conn
        self.cond = threading.Condition()
        self.log = []
        self.ids = [
            conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
                                        self._cb, "added"),
            conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                        self._cb, "removed"),
            conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
                                        self._cb, "removal-failed"),
        ]

    def _cb(self, conn, dom, alias, kind):
        with self.cond:
            self.log.append((dom.name(), kind, alias))
            self.cond.notify_all()

    def wait(self, n, timeout=30):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.log) < n:
                left = deadline - time.monotonic()
                assert left > 0, "timed out waiting for %d device events: %r" % (n, self.log)
                self.cond.wait(left)
            return list(self.log)

    def close(self):
        for i in self.ids:
            self.conn.domainEventDeregisterAny(i)


def live_disks(dom):
    """(target, alias, pci slot, source index) of each disk in the live XML."""
    out = []
    for d in re.findall(r"<disk .*?</disk>", dom.XMLDesc(0), re.S):
        target = re.search(r"<target dev='(\w+)'", d).group(1)
        alias = re.search(r"<alias name='([\w-]+)'/>", d)
        slot = re.search(r"<address type='pci' .*?slot='(0x\w+)'", d)
        index = re.search(r"<source [^>]*index='(\d+)'", d)
        out.append((target, alias and alias.group(1), slot and slot.group(1),
                    index and index.group(1)))
    return out


def live_nets(dom):
    """(type, model, alias, pci slot, whether it has a MAC) of each live interface."""
    out = []
    for n in re.findall(r"<interface .*?</interface>", dom.XMLDesc(0), re.S):
        slot = re.search(r"<address type='pci' .*?slot='(0x\w+)'", n)
        out.append((re.search(r"type='(\w+)'", n).group(1),
                    re.search(r"<model type='([\w-]+)'/>", n).group(1),
                    re.search(r"<alias name='([\w-]+)'/>", n).group(1),
                    slot and slot.group(1), "<mac address='52:54:00:" in n))
    return out


def tap_of(dom, alias):
    """The live interface `alias`'s <target dev> as libvirt names taps (vnetN), and whether
    the host has that tap, up."""
    m = re.search(r"<interface type='ethernet'>.*?<target dev='([\w-]+)'/>.*?"
                  r"<alias name='%s'/>" % alias, dom.XMLDesc(0), re.S)
    if not m:
        return None
    r = subprocess.run(["ip", "-o", "link", "show", "dev", m.group(1)], capture_output=True,
                       text=True)
    return (re.sub(r"\d+$", "N", m.group(1)), r.returncode == 0 and "UP" in r.stdout)


def qmp(uri, name, cmd, **args):
    rc, out, err = virsh(uri, "qemu-monitor-command", name,
                         json.dumps({"execute": cmd, "arguments": args} if args
                                    else {"execute": cmd}))
    assert rc == 0, err
    return json.loads(out)["return"]


def peripherals(uri, name):
    return sorted(p["name"] for p in qmp(uri, name, "qom-list", path="/machine/peripheral"))


def block_nodes(uri, name):
    return sorted(n["node-name"] for n in qmp(uri, name, "query-named-block-nodes"))


def guest_a_sequence(conn, uri, name, img_b, img_c):
    """The live hotplug calls on a running Guest A, each answer with the live disks after it,
    QEMU's devices and nodes, and the timing of the detach (never acknowledged)."""
    dom = conn.lookupByName(name)
    events = DeviceEvents(conn)
    steps = []
    try:
        steps.append(("attach vdb", answer(dom.attachDeviceFlags, disk_xml(img_b, "vdb"), LIVE),
                      live_disks(dom)))
        steps.append(("devices", peripherals(uri, name), block_nodes(uri, name)))
        steps.append(("attach vdb again",
                      answer(dom.attachDeviceFlags, disk_xml(img_c, "vdb"), LIVE)))
        steps.append(("attach vdc live+config",
                      answer(dom.attachDeviceFlags, disk_xml(img_c, "vdc"), LIVE | CONFIG),
                      live_disks(dom),
                      re.findall(r"<target dev='(\w+)'",
                                 dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))))
        steps.append(("events after attach", events.wait(2)))
        begin = time.monotonic()
        steps.append(("detach vdb", answer(dom.detachDeviceFlags, disk_xml(img_b, "vdb"), LIVE),
                      live_disks(dom)))
        waited = time.monotonic() - begin
        steps.append(("waited the unplug time", UNPLUG_WAIT - 0.5 <= waited < UNPLUG_WAIT + 20))
        steps.append(("detach missing", answer(dom.detachDeviceFlags,
                                               disk_xml(img_b, "vdz"), LIVE)))
        steps.append(("attach ide", answer(dom.attachDeviceFlags,
                                           disk_xml(img_b, "hdb", bus="ide"), LIVE)))
        steps.append(("attach interface", answer(
            dom.attachDeviceFlags, "<interface type='user'><model type='virtio'/></interface>",
            LIVE), live_nets(dom)))
        begin = time.monotonic()
        steps.append(("detach interface", answer(
            dom.detachDeviceFlags, "<interface type='user'/>", LIVE), live_nets(dom),
            time.monotonic() - begin >= UNPLUG_WAIT - 0.5))
        steps.append(("attach ethernet", answer(
            dom.attachDeviceFlags, "<interface type='ethernet'><model type='virtio'/>"
                                   "</interface>", LIVE), live_nets(dom), tap_of(dom, "net1")))
        time.sleep(1)
        steps.append(("events at the end", list(events.log)))
    finally:
        events.close()
    return steps


def run_guest_a(conn, uri, name, kernel, tmp):
    img_b = make_image(tmp / ("%s-b.img" % name))
    img_c = make_image(tmp / ("%s-c.img" % name))
    dom = conn.defineXML(domain_xml(name, kernel))
    try:
        dom.create()
        try:
            return guest_a_sequence(conn, uri, name, img_b, img_c)
        finally:
            dom.destroy()
    finally:
        dom.undefine()


# Debian's libvirtd 9.0.0's answers (test_live_disk_hotplug_guest_a_equal_libvirtd compares
# the whole sequence in the same run).
EXPECTED_GUEST_A = [
    ("attach vdb", ("OK", 0), [("vdb", "virtio-disk1", "0x02", "1")]),
    ("devices", ["serial0", "type", "usb", "virtio-disk1"],
     ["libvirt-1-format", "libvirt-1-storage"]),
    ("attach vdb again", (27, 20, "XML error: target 'vdb' duplicated for disk sources "
                                  "'IMG_B' and 'IMG_C'")),
    ("attach vdc live+config", ("OK", 0),
     [("vdb", "virtio-disk1", "0x02", "1"), ("vdc", "virtio-disk2", "0x03", "2")], ["vdc"]),
    ("events after attach", [("NAME", "added", "virtio-disk1"),
                             ("NAME", "added", "virtio-disk2")]),
    # Guest A never lets go: the call succeeds after the wait and the disk stays.
    ("detach vdb", ("OK", 0),
     [("vdb", "virtio-disk1", "0x02", "1"), ("vdc", "virtio-disk2", "0x03", "2")]),
    ("waited the unplug time", True),
    ("detach missing", (99, 10, "device not found: disk vdz not found")),
    # libvirt lets QEMU refuse a bus without hotplug.
    ("attach ide", (1, 10, "internal error: unable to execute QEMU command 'device_add': "
                           "Bus 'ide.0' does not support hotplugging")),
    ("attach interface", ("OK", 0), [("user", "virtio", "net0", "0x04", True)]),
    # Guest A never lets go of the NIC either.
    ("detach interface", ("OK", 0), [("user", "virtio", "net0", "0x04", True)], True),
    # A tap made by the daemon (up, named as libvirt names them) and handed to QEMU.
    ("attach ethernet", ("OK", 0), [("user", "virtio", "net0", "0x04", True),
                                    ("ethernet", "virtio", "net1", "0x05", True)],
     ("vnetN", True)),
    ("events at the end", [("NAME", "added", "virtio-disk1"),
                           ("NAME", "added", "virtio-disk2"), ("NAME", "added", "net0"),
                           ("NAME", "added", "net1")]),
]


def expected_guest_a(name, img_b, img_c):
    text = repr(EXPECTED_GUEST_A).replace("NAME", name).replace("IMG_B", img_b)
    return eval(text.replace("IMG_C", img_c))  # noqa: S307 (our own literal)


def on_ref_and_ours(ref, host, tmp, sequence, name):
    """sequence(conn, uri, name, kernel, tmp) on Debian's libvirtd, then on ours: both
    results, libvirtd's first."""
    ref_conn = libvirt.open(ref.uri)
    try:
        theirs = sequence(ref_conn, ref.uri, name, guest_elf(), tmp)
    finally:
        ref_conn.close()
    return theirs, sequence(host.conn, host.uri, name, host.kernel, tmp)


def test_live_disk_hotplug_guest_a(host, tmp_path):
    """Attach live and live+config on a running Guest A: the disks get the alias, PCI slot
    and node names a cold start gives (QEMU has the device and the nodes), DEVICE_ADDED with
    the alias; the detach waits libvirt's 5 s for the unplug Guest A never acknowledges and
    succeeds, the disk stays; libvirt's errors; a user-networking NIC plugged and unplugged
    the same way."""
    steps = run_guest_a(host.conn, host.uri, "hpl-a", host.kernel, tmp_path)
    want = expected_guest_a("hpl-a", str(tmp_path / "hpl-a-b.img"),
                            str(tmp_path / "hpl-a-c.img"))
    assert steps == want


@pytest.mark.slow
def test_live_disk_hotplug_guest_a_equal_libvirtd(ref, host, tmp_path):
    """The same sequence on Debian's libvirtd and on ours: every answer, the live disks
    (alias, PCI slot, node index) and interfaces, QEMU's devices and nodes, and the events
    are equal."""
    theirs, ours = on_ref_and_ours(ref, host, tmp_path, run_guest_a, "hpl-ref")
    assert ours == theirs


def guest_b_xml(name, guest, root):
    return linuxguest.domain_xml(name, guest, root)


def shell(con, command, marker):
    """Run command on the guest's shell; the console's text from the command on, once
    marker is printed (the command builds it, so its echo does not match)."""
    start = len(con.data)
    con.stream.send(command.encode() + b"\n")
    return con.wait_for(marker)[start:].decode(errors="replace")


@pytest.mark.slow  # a Linux guest: the slow suite's (normal build only)
def test_live_detach_completes_on_linux_guest(host, guest, tmp_path):
    """The Linux guest acknowledges the unplug: the detach returns once QEMU's
    DEVICE_DELETED came (within the 5 s), the disk has left the live definition and QEMU
    (device and nodes), DEVICE_REMOVED carries its alias, and the guest saw the disk come
    (/sys/block/vdb) and go; the same for a user-networking NIC (its MAC in the guest) and
    for a tap NIC, whose tap leaves the host."""
    root = guest.copy_root(host.root / "root.qcow2")
    img = make_image(tmp_path / "b.img")
    dom = host.conn.defineXML(guest_b_xml("hpl-linux", guest, root))
    events = DeviceEvents(host.conn)
    try:
        con = linuxguest.start(host, dom)
        assert answer(dom.attachDeviceFlags, disk_xml(img, "vdb"), LIVE) == ("OK", 0)
        assert events.wait(1) == [("hpl-linux", "added", "virtio-disk1")]
        seen = shell(con, "for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/block/vdb ] && break; "
                          "sleep 1; done; ls /sys/block | tr '\\n' ' '; echo HP-SEEN-$((1+1))",
                     "HP-SEEN-2")
        assert re.search(r"\bvda vdb\b", seen), seen
        index = [d[3] for d in live_disks(dom) if d[0] == "vdb"][0]
        begin = time.monotonic()
        assert answer(dom.detachDeviceFlags, disk_xml(img, "vdb"), LIVE) == ("OK", 0)
        took = time.monotonic() - begin
        assert [d[0] for d in live_disks(dom)] == ["vda"]
        assert events.wait(2)[1] == ("hpl-linux", "removed", "virtio-disk1")
        assert "virtio-disk1" not in peripherals(host.uri, "hpl-linux")
        assert not [n for n in block_nodes(host.uri, "hpl-linux")
                    if n.startswith("libvirt-%s-" % index)]
        print("detach acknowledged after %.1f s" % took)
        shell(con, "[ -e /sys/block/vdb ] && echo HP-STILL-$((2+2)) || echo HP-GONE-$((3+3))",
              "HP-GONE-6")
        # A user-networking NIC: plugged, seen by the guest, unplugged within the call.
        nic = "<interface type='user'><mac address='52:54:00:aa:bb:01'/>" \
              "<model type='virtio'/></interface>"
        assert answer(dom.attachDeviceFlags, nic, LIVE) == ("OK", 0)
        assert events.wait(3)[2] == ("hpl-linux", "added", "net0")
        seen = shell(con, "for i in 1 2 3 4 5 6 7 8 9 10; do grep -qs 52:54:00:aa:bb:01 "
                          "/sys/class/net/*/address && break; sleep 1; done; "
                          "cat /sys/class/net/*/address | tr '\\n' ' '; echo HP-NIC-$((4+4))",
                     "HP-NIC-8")
        assert "52:54:00:aa:bb:01" in seen, seen
        assert answer(dom.detachDeviceFlags, nic, LIVE) == ("OK", 0)
        assert events.wait(4)[3] == ("hpl-linux", "removed", "net0")
        assert live_nets(dom) == []
        assert "net0" not in peripherals(host.uri, "hpl-linux")
        # A tap (ethernet): gone from the host once the guest let go of the NIC.
        eth = "<interface type='ethernet'><model type='virtio'/></interface>"
        assert answer(dom.attachDeviceFlags, eth, LIVE) == ("OK", 0)
        assert events.wait(5)[4] == ("hpl-linux", "added", "net0")
        tap = re.search(r"<target dev='(vnet\d+)'/>", dom.XMLDesc(0)).group(1)
        assert tap_of(dom, "net0") == ("vnetN", True)
        time.sleep(3)  # the guest's driver binds the NIC before it is asked to let go
        assert answer(dom.detachDeviceFlags, eth, LIVE) == ("OK", 0)
        assert events.wait(6)[5] == ("hpl-linux", "removed", "net0")
        deadline = time.monotonic() + 10
        while subprocess.run(["ip", "link", "show", "dev", tap],
                             capture_output=True).returncode == 0:
            assert time.monotonic() < deadline, "tap %s still there" % tap
            time.sleep(0.2)
    finally:
        events.close()
        dom.destroy()
        dom.undefine()


PROC_DOMAIN_EVENT_DEVICE_REMOVED = 311  # the legacy form of DEVICE_REMOVED


def legacy_device_removed(c, timeout=30):
    """The next message of a raw client registered the legacy way (REGISTER_ANY, 167) for
    DEVICE_REMOVED: (domain name, alias) of a DOMAIN_EVENT_DEVICE_REMOVED (311)."""
    m = c.messages.pop(0) if c.messages else c.recv_message(timeout=timeout)
    assert (m.prog, m.proc, m.type, m.status) == \
        (rawrpc.REMOTE_PROGRAM, PROC_DOMAIN_EVENT_DEVICE_REMOVED, rawrpc.MESSAGE, rawrpc.OK), m
    u = m.unpacker()
    name = u.string()
    u.opaque_fixed(16)
    u.i32()
    alias = u.string()
    u.done()
    return name, alias


@pytest.mark.slow  # a Linux guest: the slow suite's (normal build only)
def test_live_detach_completes_later_on_paused_linux_guest(host, guest, tmp_path):
    """A paused Linux guest cannot let go of the disk within libvirt's 5 s: the detach
    succeeds after the wait with the disk still in the live definition and no
    DEVICE_REMOVED; once the guest runs again it ejects the disk, QEMU's DEVICE_DELETED
    removes it from the live definition and the status file, and DEVICE_REMOVED goes out
    then, in the callback form and in the legacy form (311) alike."""
    root = guest.copy_root(host.root / "root.qcow2")
    img = make_image(tmp_path / "b.img")
    dom = host.conn.defineXML(guest_b_xml("hpl-late", guest, root))
    events = DeviceEvents(host.conn)
    legacy = rawrpc.Client(str(host.daemon.sock))
    try:
        legacy.open()
        legacy.call(rawrpc.PROC_CONNECT_DOMAIN_EVENT_REGISTER_ANY,
                    rawrpc.i32(libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED)).done()
        linuxguest.start(host, dom)
        assert answer(dom.attachDeviceFlags, disk_xml(img, "vdb"), LIVE | CONFIG) == ("OK", 0)
        assert events.wait(1) == [("hpl-late", "added", "virtio-disk1")]
        # Let the guest take the disk in before it stops.
        time.sleep(3)
        dom.suspend()
        begin = time.monotonic()
        assert answer(dom.detachDeviceFlags, disk_xml(img, "vdb"), LIVE | CONFIG) == ("OK", 0)
        assert time.monotonic() - begin >= UNPLUG_WAIT - 0.5
        assert [d[0] for d in live_disks(dom)] == ["vda", "vdb"]
        assert "vdb" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        assert len(events.log) == 1
        status = host.qemu_run / "hpl-late.xml"
        assert "virtio-disk1" in status.read_text()
        dom.resume()
        assert events.wait(2, timeout=60)[1] == ("hpl-late", "removed", "virtio-disk1")
        assert legacy_device_removed(legacy) == ("hpl-late", "virtio-disk1")
        assert [d[0] for d in live_disks(dom)] == ["vda"]
        assert "virtio-disk1" not in peripherals(host.uri, "hpl-late")
        deadline = time.monotonic() + 10
        while "virtio-disk1" in status.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "virtio-disk1" not in status.read_text()
    finally:
        legacy.close()
        events.close()
        dom.destroy()
        dom.undefine()


def alias_sequence(conn, uri, name, kernel, tmp):
    """DETACH_DEVICE_ALIAS on a running Guest A: each answer, how long it took, and the live
    and persistent disks after it."""
    img = make_image(tmp / ("%s-alias.img" % name))
    dom = conn.defineXML(domain_xml(name, kernel))
    vdb = disk_xml(img, "vdb").replace("</disk>", "<alias name='ua-b'/></disk>")

    def step(label, fn, *args):
        begin = time.monotonic()
        got = answer(fn, *args)
        quick = time.monotonic() - begin < UNPLUG_WAIT - 1
        return (label, got, quick, [d[:2] for d in live_disks(dom)],
                re.findall(r"<target dev='(\w+)'", dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)))

    try:
        dom.create()
        try:
            return [
                step("missing", dom.detachDeviceAlias, "ua-nope", LIVE),
                step("missing config", dom.detachDeviceAlias, "ua-nope", CONFIG),
                step("attach", dom.attachDeviceFlags, vdb, LIVE | CONFIG),
                step("bad flag", dom.detachDeviceAlias, "ua-b", 8),
                step("config", dom.detachDeviceAlias, "ua-b", CONFIG),
                step("live", dom.detachDeviceAlias, "ua-b", LIVE),
            ]
        finally:
            dom.destroy()
    finally:
        dom.undefine()


EXPECTED_ALIAS = [
    ("missing", (1, 20, "internal error: no device found with alias ua-nope"), True, [], []),
    ("missing config", (1, 20, "internal error: no device found with alias ua-nope"), True, [],
     []),
    ("attach", ("OK", 0), True, [("vdb", "ua-b")], ["vdb"]),
    ("bad flag", (8, 10, "unsupported flags (0x8) in function "
                            "qemuDomainDetachDeviceAliasLiveAndConfig"),
     True, [("vdb", "ua-b")], ["vdb"]),
    ("config", ("OK", 0), True, [("vdb", "ua-b")], []),
    # libvirt does not wait for the device to go: the call returns once QEMU took the
    # request, and Guest A keeps the disk.
    ("live", ("OK", 0), True, [("vdb", "ua-b")], []),
]


def test_detach_device_alias(host, tmp_path):
    """virDomainDetachDeviceAlias live and config: libvirt's errors, the persistent disk
    removed at once, the live unplug asked without the wait."""
    assert alias_sequence(host.conn, host.uri, "hpl-alias", host.kernel, tmp_path) == \
        EXPECTED_ALIAS


@pytest.mark.slow
def test_detach_device_alias_equal_libvirtd(ref, host, tmp_path):
    theirs, ours = on_ref_and_ours(ref, host, tmp_path, alias_sequence, "hpl-alias-ref")
    assert ours == theirs


def test_live_bridge_interface(nethost, tmp_path):
    """A bridge interface plugged into a running Guest A (virtqemud in the test's network
    namespace, with its bridge br0): the tap the daemon makes is a port of br0, up, named in
    the live XML; DEVICE_ADDED carries net0; the unplug Guest A never acknowledges leaves it
    until the guest goes, and the tap goes with QEMU."""
    dom = nethost.conn.defineXML(nethost.xml("hpl-br"))
    events = DeviceEvents(nethost.conn)
    nic = ("<interface type='bridge'><source bridge='br0'/><mac address='52:54:00:aa:bb:02'/>"
           "<model type='virtio'/></interface>")
    try:
        dom.create()
        assert answer(dom.attachDeviceFlags, nic, LIVE) == ("OK", 0)
        assert events.wait(1) == [("hpl-br", "added", "net0")]
        live = dom.XMLDesc(0)
        tap = re.search(r"<target dev='(vnet\d+)'/>", live).group(1)
        ports = subprocess.run(["ip", "-n", nethost.netns, "-o", "link", "show", "master",
                                "br0"], capture_output=True, text=True, check=True).stdout
        assert re.search(r"\b%s\b.*\bUP\b" % tap, ports), ports
        assert "net0" in peripherals(nethost.uri, "hpl-br")
        assert answer(dom.detachDeviceFlags, nic, LIVE) == ("OK", 0)
        assert "<alias name='net0'/>" in dom.XMLDesc(0)
        dom.destroy()
        ports = subprocess.run(["ip", "-n", nethost.netns, "-o", "link", "show", "master",
                                "br0"], capture_output=True, text=True, check=True).stdout
        assert tap not in ports
    finally:
        events.close()
        if dom.isActive():
            dom.destroy()
        dom.undefine()


def bus_sequence(conn, uri, name, kernel, tmp):
    """A scsi disk plugged onto the guest's virtio-scsi controller and a usb disk onto its
    USB controller: each answer, the live disks' targets, aliases and addresses, QEMU's
    devices."""
    img_s = make_image(tmp / ("%s-s.img" % name))
    img_u = make_image(tmp / ("%s-u.img" % name))
    xml = domain_xml(name, kernel).replace(
        "<serial type='pty'/>", "<controller type='scsi' model='virtio-scsi'/>"
                                "<serial type='pty'/>")
    dom = conn.defineXML(xml)
    try:
        dom.create()
        try:
            steps = [answer(dom.attachDeviceFlags, disk_xml(img_s, "sda", bus="scsi"), LIVE),
                     answer(dom.attachDeviceFlags, disk_xml(img_u, "sdb", bus="usb"), LIVE)]
            disks = [re.search(r"<target dev='(\w+)' bus='(\w+)'/>.*?<alias name='([\w-]+)'/>"
                               r"\s*<address (.*?)/>", d, re.S).groups()
                     for d in re.findall(r"<disk .*?</disk>", dom.XMLDesc(0), re.S)]
            return steps, disks, peripherals(uri, name)
        finally:
            dom.destroy()
    finally:
        dom.undefine()


def test_live_scsi_and_usb_disks(host, tmp_path):
    """scsi and usb disks plug live where the guest has their controller, with the drive
    and USB port addresses and the aliases a start gives."""
    steps, disks, devices = bus_sequence(host.conn, host.uri, "hpl-bus", host.kernel,
                                         tmp_path)
    assert steps == [("OK", 0), ("OK", 0)]
    assert disks == [
        ("sda", "scsi", "scsi0-0-0-0", "type='drive' controller='0' bus='0' target='0' unit='0'"),
        ("sdb", "usb", "usb-disk1", "type='usb' bus='0' port='1'")]
    assert "scsi0-0-0-0" in devices and "usb-disk1" in devices


@pytest.mark.slow
def test_live_scsi_and_usb_disks_equal_libvirtd(ref, host, tmp_path):
    theirs, ours = on_ref_and_ours(ref, host, tmp_path, bus_sequence, "hpl-bus-ref")
    assert ours == theirs


@pytest.mark.parametrize("daemon_name,uri_scheme", [("virtlxcd", "lxc"), ("virtxend", "xen")])
def test_detach_device_alias_other_drivers(daemons, daemon_name, uri_scheme):
    """libvirt's LXC and libxl drivers have no DETACH_DEVICE_ALIAS: virtlxcd and virtxend
    answer their NO_SUPPORT (DOMAIN error domain) before any lookup."""
    from svdaemon import daemon_binary

    if not daemon_binary(daemon_name).exists():
        pytest.skip("%s not built in this build tree" % daemon_name)
    d = daemons.start(name=daemon_name, label=daemon_name, args=["--timeout", "0"])
    with rawrpc.Client(str(d.sock)) as c:
        c.open("%s:///system" % uri_scheme)
        dom = rawrpc.string("nosuch") + b"\x11" * 16 + rawrpc.i32(-1)
        _, err = c.call_error(392, dom + rawrpc.string("ua-x") + rawrpc.u32(0))
        assert (err.code, err.domain, err.message) == (
            3, 20, "this function is not supported by the connection driver: "
                   "virDomainDetachDeviceAlias")
