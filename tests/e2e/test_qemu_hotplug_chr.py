"""test_qemu_hotplug_chr.py: issue 18 item 2, live hotplug of character devices on virtqemud
(DOMAIN_ATTACH_DEVICE_FLAGS / DOMAIN_DETACH_DEVICE_FLAGS with AFFECT_LIVE): virtio-serial
channels (the qemu-ga channel with its automatic socket path), virtio consoles, pci-serial
and usb-serial serials; chardev-add + device_add on attach, device_del and the wait for
QEMU's DEVICE_DELETED on detach (a virtio-serial port or a USB device goes at once, without
the guest), then chardev-remove; DEVICE_ADDED and DEVICE_REMOVED; libvirt's refusals.

The slow test runs the same sequence on Debian's libvirtd and compares every step.
"""

import re
import time

import pytest

from calls import answer
from guests import domain_xml, guest_elf
from test_qemu_hotplug_live import LIVE, DeviceEvents, peripherals, qmp

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

AGENT = ("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/>"
         "</channel>")
PTY_CHANNEL = "<channel type='pty'><target type='virtio' name='org.test.0'/></channel>"
VIRTIO_CONSOLE = "<console type='pty'><target type='virtio'/></console>"
PCI_SERIAL = "<serial type='pty'><target type='pci-serial'/></serial>"
USB_SERIAL = "<serial type='null'><target type='usb-serial'/></serial>"
ISA_SERIAL = "<serial type='pty'><target type='isa-serial'/></serial>"
SERIAL_CONSOLE = "<console type='pty'><target type='serial'/></console>"


def chr_devices(dom, name, root=""):
    """Each live serial, console and channel: its XML with the parts that vary per run (pty
    numbers, the guest's directory of sockets) replaced."""
    out = []
    for d in re.findall(r"<(?:serial|console|channel) .*?</(?:serial|console|channel)>",
                        dom.XMLDesc(0), re.S):
        d = re.sub(r"/dev/pts/\d+", "/dev/pts/N", d)
        d = re.sub(r"path='[^']*/channel/target/domain-\d+-", "path='CHANNELS/domain-ID-", d)
        out.append(re.sub(r"\s+", " ", d))
    return out


def controllers(dom):
    return re.findall(r"<controller type='(\w+)' index='(\d+)'(?: model='([\w-]+)')?",
                      dom.XMLDesc(0))


def chardevs(uri, name):
    return sorted(c["label"] for c in qmp(uri, name, "query-chardev"))


def live_xml_of(dom, alias):
    """The live XML of the character device `alias` (what virsh detach-device is given from
    dumpxml)."""
    for d in re.findall(r"<(?:serial|console|channel) .*?</(?:serial|console|channel)>",
                        dom.XMLDesc(0), re.S):
        if "<alias name='%s'/>" % alias in d:
            return d
    return "<channel type='pty'><target type='virtio' name='%s'/></channel>" % alias


def chr_sequence(conn, uri, name, kernel, tmp):
    """Character devices plugged into and unplugged from a running Guest A with a
    virtio-serial controller: each answer, whether it came back before the unplug wait, the
    live devices and controllers after it, QEMU's devices and chardevs, the events."""
    xml = domain_xml(name, kernel).replace(
        "<serial type='pty'/>", "<controller type='virtio-serial'/><serial type='pty'/>")
    dom = conn.defineXML(xml)
    steps = []

    def step(label, fn, xml):
        begin = time.monotonic()
        got = answer(fn, xml, LIVE)
        steps.append((label, got, time.monotonic() - begin < 4, chr_devices(dom, name),
                      controllers(dom)))

    try:
        dom.create()
        events = DeviceEvents(conn)
        try:
            step("attach agent channel", dom.attachDeviceFlags, AGENT)
            step("attach pty channel", dom.attachDeviceFlags, PTY_CHANNEL)
            step("attach virtio console", dom.attachDeviceFlags, VIRTIO_CONSOLE)
            step("attach pci-serial", dom.attachDeviceFlags, PCI_SERIAL)
            step("attach usb-serial", dom.attachDeviceFlags, USB_SERIAL)
            step("attach usb-serial again", dom.attachDeviceFlags,
                 USB_SERIAL.replace("'usb-serial'", "'usb-serial' port='2'"))
            step("attach isa-serial", dom.attachDeviceFlags, ISA_SERIAL)
            step("attach serial console", dom.attachDeviceFlags, SERIAL_CONSOLE)
            step("attach pty channel again", dom.attachDeviceFlags, PTY_CHANNEL)
            steps.append(("devices", peripherals(uri, name), chardevs(uri, name)))
            step("detach pty channel without its path", dom.detachDeviceFlags, PTY_CHANNEL)
            step("detach pty channel", dom.detachDeviceFlags, live_xml_of(dom, "channel1"))
            step("detach usb-serial", dom.detachDeviceFlags, live_xml_of(dom, "serial2"))
            step("detach agent channel without its path", dom.detachDeviceFlags, AGENT)
            step("detach agent channel", dom.detachDeviceFlags, live_xml_of(dom, "channel0"))
            step("detach virtio console", dom.detachDeviceFlags, live_xml_of(dom, "console1"))
            step("detach isa-serial", dom.detachDeviceFlags, live_xml_of(dom, "serial0"))
            step("detach missing channel", dom.detachDeviceFlags, PTY_CHANNEL)
            steps.append(("devices after", peripherals(uri, name), chardevs(uri, name)))
            time.sleep(1)
            steps.append(("events", list(events.log)))
        finally:
            events.close()
            dom.destroy()
    finally:
        dom.undefine()
    return steps


def test_live_chr_hotplug(host, tmp_path):
    """The sequence on ours: the answers and the events (the slow test compares every step
    with libvirtd); and a virtio channel refused on a guest without a virtio-serial
    controller, as libvirt refuses it (it adds none)."""
    steps = chr_sequence(host.conn, host.uri, "hpc-a", host.kernel, tmp_path)
    answers = [(s[0], s[1]) for s in steps if len(s) == 5]
    assert answers == [
        ("attach agent channel", ("OK", 0)),
        ("attach pty channel", ("OK", 0)),
        ("attach virtio console", ("OK", 0)),
        ("attach pci-serial", ("OK", 0)),
        ("attach usb-serial", ("OK", 0)),
        ("attach usb-serial again", (55, 10, "Requested operation is not valid: chardev "
                                             "already exists")),
        ("attach isa-serial", (1, 10, "internal error: unable to execute QEMU command "
                                      "'device_add': Bus 'isa.0' does not support hotplugging")),
        ("attach serial console", (67, 10, "unsupported configuration: unsupported console "
                                           "target type serial")),
        ("attach pty channel again", (1, 10, "internal error: unable to execute QEMU command "
                                             "'device_add': virtio-serial-bus: A port already "
                                             "exists by name org.test.0")),
        ("detach pty channel without its path", MISSING_CHANNEL),
        ("detach pty channel", ("OK", 0)),
        ("detach usb-serial", ("OK", 0)),
        ("detach agent channel without its path", MISSING_CHANNEL),
        ("detach agent channel", ("OK", 0)),
        ("detach virtio console", ("OK", 0)),
        ("detach isa-serial", (1, 10, "internal error: unable to execute QEMU command "
                                      "'device_del': Bus 'isa.0' does not support hotplugging")),
        ("detach missing channel", MISSING_CHANNEL),
    ]
    # A virtio-serial port and a USB device go without the guest: no call waited.
    assert all(s[2] for s in steps if len(s) == 5)
    assert steps[-1] == ("events", [("hpc-a", "added", a) for a in
                                    ("channel0", "channel1", "console1", "serial1", "serial2")]
                         + [("hpc-a", "removed", a) for a in
                            ("channel1", "serial2", "channel0", "console1")])
    assert steps[-2] == ("devices after", ["serial0", "serial1", "type", "usb",
                                           "virtio-serial0"],
                         ["charmonitor", "charserial0", "charserial1"])
    dom = host.conn.defineXML(domain_xml("hpc-noctl", host.kernel))
    try:
        dom.create()
        assert answer(dom.attachDeviceFlags, AGENT, LIVE) == (
            1, 20, "internal error: no virtio-serial controllers are available")
        assert controllers(dom) == [("usb", "0", "piix3-uhci"), ("pci", "0", "pci-root")]
        dom.destroy()
    finally:
        dom.undefine()


MISSING_CHANNEL = (99, 10, "device not found: chr type 'channel' device not present in "
                           "domain configuration")


@pytest.mark.slow
def test_live_chr_hotplug_equal_libvirtd(ref, host, tmp_path):
    """The sequence on Debian's libvirtd and on ours: every answer, the live XML of the
    character devices and the controllers, QEMU's devices and chardevs, the events."""
    ref_conn = libvirt.open(ref.uri)
    try:
        theirs = chr_sequence(ref_conn, ref.uri, "hpc-ref", guest_elf(), tmp_path)
    finally:
        ref_conn.close()
    ours = chr_sequence(host.conn, host.uri, "hpc-ref", host.kernel, tmp_path)
    assert ours == theirs
