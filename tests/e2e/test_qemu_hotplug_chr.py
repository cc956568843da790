"""test_qemu_hotplug_chr.py: issue 18 item 2, live hotplug of character devices on virtqemud
(DOMAIN_ATTACH_DEVICE_FLAGS / DOMAIN_DETACH_DEVICE_FLAGS with AFFECT_LIVE): virtio-serial
channels (the qemu-ga channel with its automatic socket path), virtio consoles, pci-serial
and usb-serial serials; chardev-add + device_add on attach, device_del and the wait for
QEMU's DEVICE_DELETED on detach (a virtio-serial port or a USB device goes at once, without
the guest), then chardev-remove; DEVICE_ADDED and DEVICE_REMOVED; libvirt's refusals.

The slow test runs the same sequence on Debian's libvirtd and compares every step.
"""

import json
import os
import re
import threading
import time

import pytest

from calls import answer
from guests import domain_xml
from test_qemu_hotplug_live import LIVE, DeviceEvents, on_ref_and_ours, peripherals, qmp

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


def run_on_guest_a(conn, xml, live, plan):
    """A Guest A (xml) defined and started on conn; plan(dom, step, steps) runs the steps:
    step(label, fn, *args) records (label, answer, whether it came back before the unplug
    wait, live(dom)), plan appends anything else to steps; the device events are the last
    step. The guest is destroyed and undefined after. The steps."""
    dom = conn.defineXML(xml)
    steps = []

    def step(label, fn, *args):
        begin = time.monotonic()
        got = answer(fn, *args)
        steps.append((label, got, time.monotonic() - begin < 4, live(dom)))

    try:
        dom.create()
        events = DeviceEvents(conn)
        try:
            plan(dom, step, steps)
            time.sleep(1)
            steps.append(("events", list(events.log)))
        finally:
            events.close()
            dom.destroy()
    finally:
        dom.undefine()
    return steps


def chr_sequence(conn, uri, name, kernel, tmp=None):
    """Character devices plugged into and unplugged from a running Guest A with a
    virtio-serial controller: each answer, whether it came back before the unplug wait, the
    live devices and controllers after it, QEMU's devices and chardevs, the events."""
    xml = domain_xml(name, kernel).replace(
        "<serial type='pty'/>", "<controller type='virtio-serial'/><serial type='pty'/>")

    def plan(dom, step, steps):
        attach, detach = dom.attachDeviceFlags, dom.detachDeviceFlags
        step("attach agent channel", attach, AGENT, LIVE)
        step("attach pty channel", attach, PTY_CHANNEL, LIVE)
        step("attach virtio console", attach, VIRTIO_CONSOLE, LIVE)
        step("attach pci-serial", attach, PCI_SERIAL, LIVE)
        step("attach usb-serial", attach, USB_SERIAL, LIVE)
        step("attach usb-serial again", attach,
             USB_SERIAL.replace("'usb-serial'", "'usb-serial' port='2'"), LIVE)
        step("attach isa-serial", attach, ISA_SERIAL, LIVE)
        step("attach serial console", attach, SERIAL_CONSOLE, LIVE)
        step("attach pty channel again", attach, PTY_CHANNEL, LIVE)
        steps.append(("devices", peripherals(uri, name), chardevs(uri, name)))
        step("detach pty channel without its path", detach, PTY_CHANNEL, LIVE)
        step("detach pty channel", detach, live_xml_of(dom, "channel1"), LIVE)
        step("detach usb-serial", detach, live_xml_of(dom, "serial2"), LIVE)
        step("detach agent channel without its path", detach, AGENT, LIVE)
        step("detach agent channel", detach, live_xml_of(dom, "channel0"), LIVE)
        step("detach virtio console", detach, live_xml_of(dom, "console1"), LIVE)
        step("detach isa-serial", detach, live_xml_of(dom, "serial0"), LIVE)
        step("detach missing channel", detach, PTY_CHANNEL, LIVE)
        steps.append(("devices after", peripherals(uri, name), chardevs(uri, name)))

    return run_on_guest_a(conn, xml, lambda dom: (chr_devices(dom, name), controllers(dom)),
                          plan)


def test_live_chr_hotplug(host, tmp_path):
    """The sequence on ours: the answers and the events (the slow test compares every step
    with libvirtd); and a virtio channel refused on a guest without a virtio-serial
    controller, as libvirt refuses it (it adds none)."""
    steps = chr_sequence(host.conn, host.uri, "hpc-a", host.kernel, tmp_path)
    answers = [(s[0], s[1]) for s in steps if len(s) == 4]
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
    assert all(s[2] for s in steps if len(s) == 4)
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
    theirs, ours = on_ref_and_ours(ref, host, tmp_path, chr_sequence, "hpc-ref")
    assert ours == theirs


def linux_sequence(conn, uri, dom, con):
    """On the running Linux test guest (its shell on con): the qemu-ga channel and an rng
    plugged, the agent started on the port, both unplugged; each answer, what the guest
    shows, the device and agent events in their order, the agent's answers, what QEMU still
    has."""
    import libvirt_qemu
    from test_qemu_hotplug_live import shell

    name = dom.name()
    log = []
    cond = threading.Condition()
    ping = '{"execute":"guest-ping"}'

    def agent_cb(c, d, state, reason, opaque):
        with cond:
            log.append(("agent", state, reason))
            cond.notify_all()

    def wait(pred, timeout=30):
        deadline = time.monotonic() + timeout
        with cond:
            while not pred(log):
                left = deadline - time.monotonic()
                assert left > 0, "timed out: %r" % log
                cond.wait(left)

    events = DeviceEvents(conn)
    events.log, events.cond = log, cond
    reg = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
                                      agent_cb, None)
    steps = []
    try:
        steps.append(answer(dom.attachDeviceFlags, AGENT, LIVE))
        steps.append(answer(dom.attachDeviceFlags, "<rng model='virtio'><backend "
                                                   "model='builtin'/></rng>", LIVE))
        steps.append(answer(dom.attachDeviceFlags, "<controller type='scsi' "
                                                   "model='virtio-scsi'/>", LIVE))
        steps.append(answer(dom.attachDeviceFlags, "<watchdog model='i6300esb'/>", LIVE))
        seen = shell(con, "for i in $(seq 50); do for p in /sys/class/virtio-ports/*; do "
                          "[ \"$(cat $p/name 2>/dev/null)\" = org.qemu.guest_agent.0 ] && "
                          "P=/dev/${p##*/}; done; R=$(cat /sys/class/misc/hw_random/"
                          "rng_available); [ -n \"$P\" ] && [ -n \"$R\" ] && break; "
                          "sleep 0.2; done; "
                          "mkdir -p /var/run /tmp/qga; qemu-ga -m virtio-serial -p $P "
                          "-t /tmp/qga </dev/null >/dev/null 2>&1 & "
                          "echo PORT=$P RNG=$(cat /sys/class/misc/hw_random/rng_available) "
                          "HP-$((1+1))", "HP-2")
        steps.append(re.sub(r"\d", "N", re.search(r"PORT=/\S* RNG=\S*", seen).group(0)))
        wait(lambda got: ("agent", 1, 2) in got)
        steps.append(json.loads(libvirt_qemu.qemuAgentCommand(dom, ping, 10, 0)))
        steps.append(answer(dom.detachDeviceFlags, live_rng_xml(dom), LIVE))
        steps.append(answer(dom.detachDeviceFlags, live_xml_of(dom, "channel0"), LIVE))
        steps.append(answer(dom.detachDeviceFlags, "<controller type='scsi' index='0'/>", LIVE))
        steps.append(answer(dom.detachDeviceFlags, re.search(
            r"<watchdog .*?</watchdog>", dom.XMLDesc(0), re.S).group(0), LIVE))
        steps.append(("left", [d for d in ("<rng", "<channel", "<watchdog", "'scsi'")
                               if d in dom.XMLDesc(0)],
                      [d for d in peripherals(uri, name)
                       if d in ("rng0", "channel0", "scsi0", "watchdog0")],
                      "charchannel0" in chardevs(uri, name),
                      [o["name"] for o in qmp(uri, name, "qom-list", path="/objects")
                       if o["name"] == "objrng0"]))
        gone = shell(con, "ls /sys/class/virtio-ports | wc -l | sed 's/^/PORTS=/'; "
                          "echo RNG=$(cat /sys/class/misc/hw_random/rng_available) "
                          "HP-$((2+2))", "HP-4")
        steps.append(re.sub(r"\s+", " ", re.search(r"PORTS=\d.*?HP-4", gone, re.S).group(0)))
        steps.append(answer(libvirt_qemu.qemuAgentCommand, dom, ping, 10, 0))
        # A vcpu plugged, brought online by the guest, then unplugged: the guest lets go.
        steps.append(answer(dom.setVcpusFlags, 2, LIVE))
        online = shell(con, "for i in $(seq 50); do [ -e /sys/devices/system/cpu/cpu1/online ] "
                            "&& break; sleep 0.2; done; echo 1 > /sys/devices/system/cpu/cpu1/"
                            "online; echo ONLINE=$(cat /sys/devices/system/cpu/online) "
                            "HP-$((5+1))", "HP-6")
        steps.append(re.search(r"ONLINE=\S*", online.split("HP-$")[-1]).group(0))
        # Offline first, so that the guest's eject fits libvirt's 5 s on a loaded host.
        shell(con, "echo 0 > /sys/devices/system/cpu/cpu1/online; echo HP-$((4+4))", "HP-8")
        # QEMU 7.2 sends DEVICE_DELETED of the vcpu's lapic at the guest's eject, and of the
        # vcpu itself later or not at all (its slot is empty at once): libvirt's call then
        # fails with its timeout error after its 5 s (at times it succeeds), and the live
        # count stays; the same on both daemons, so the answer is one of the two and the
        # live count is not compared.
        got = answer(dom.setVcpusFlags, 1, LIVE)
        steps.append(got if got not in (("OK", 0), VCPU_TIMEOUT) else "unplugged or timed out")
        online = shell(con, "echo ONLINE=$(cat /sys/devices/system/cpu/online) "
                            "CPU1=$(ls -d /sys/devices/system/cpu/cpu1 2>/dev/null) "
                            "HP-$((6+1))", "HP-7")
        steps.append(re.search(r"ONLINE=\S* CPU1=\S*", online.split("HP-$")[-1]).group(0))
        time.sleep(1)
        with cond:
            steps.append([e if e[0] == "agent" else e[1:] for e in log])
    finally:
        conn.domainEventDeregisterAny(reg)
        events.close()
    return steps


VCPU_TIMEOUT = (68, 10, "Timed out during operation: vcpu unplug request timed out. Unplug "
                        "result must be manually inspected in the domain")

EXPECTED_LINUX = [
    ("OK", 0), ("OK", 0), ("OK", 0), ("OK", 0),
    # The port and the RNG in the guest.
    "PORT=/dev/vportNpN RNG=virtio_rng.N",
    {"return": {}},
    ("OK", 0), ("OK", 0), ("OK", 0), ("OK", 0),
    # Nothing left in the live XML or in QEMU.
    ("left", [], [], False, []),
    "PORTS=0 RNG= HP-4",
    (74, 10, "argument unsupported: QEMU guest agent is not configured"),
    # vcpu 1 plugged and onlined by the guest, then unplugged: the guest lets go of it.
    ("OK", 0), "ONLINE=0-1", "unplugged or timed out",
    "ONLINE=0 CPU1=",
    [("added", "channel0"), ("added", "rng0"), ("added", "scsi0"), ("added", "watchdog0"),
     ("agent", 1, 2), ("removed", "rng0"), ("removed", "channel0"), ("removed", "scsi0"),
     ("removed", "watchdog0")],
]


@pytest.mark.slow  # Linux guests: the slow suite's (normal build only)
def test_live_hotplug_on_linux_guest(host, ref, guest, tmp_path):
    """On the Linux test guest, on Debian's libvirtd and on ours in the same run: the
    qemu-ga channel plugged live appears as a virtio-serial port in the guest, the agent
    started on it connects (AGENT_LIFECYCLE connected, reason channel) and answers; an rng
    plugged live becomes the guest's hardware RNG; a virtio-scsi controller and a watchdog
    plug too. Unplugged, the guest lets go of both
    within the call (DEVICE_REMOVED; nothing left in the live XML or QEMU), the port and
    the RNG leave the guest, and the agent goes with its channel, without an event. A
    vcpu plugged (setvcpus --live 2) and onlined by the guest is unplugged (setvcpus --live
    1): the guest lets go of it within libvirt's wait. Every step is the same on both."""
    rconn = libvirt.open(ref.uri)
    results = []
    try:
        for conn, uri, root in ((host.conn, host.uri, host.root), (rconn, ref.uri, tmp_path)):
            dom, con = boot_paused(conn, guest, root, tmp_path, conn is rconn)
            try:
                results.append(linux_sequence(conn, uri, dom, con))
            finally:
                con.stream.abort()
                dom.destroy()
                dom.undefine()
    finally:
        rconn.close()
    assert results[0] == EXPECTED_LINUX
    assert results[1] == results[0]


def boot_paused(conn, guest, root, tmp_path, theirs):
    """The Linux guest (two vcpus, one online; a virtio-serial controller) defined on conn
    and started paused, its console open, resumed, at its prompt: (dom, console). Debian's
    libvirtd's QEMU (theirs) reads copies of the kernel, initrd and disk in tmp_path."""
    import linuxguest
    from guests import ConsoleReader

    os.chmod(tmp_path, 0o755)
    disk = guest.copy_root(root / "hpc-linux.qcow2")
    os.chmod(disk, 0o666)
    xml = linuxguest.domain_xml("hpc-linux", guest, disk, vcpus=2, vcpus_current=1,
                                devices="<controller type='virtio-serial'/>")
    if theirs:
        files = linuxguest.boot_files_for(guest, tmp_path)
        xml = xml.replace(str(guest.kernel), str(files["kernel"])).replace(
            str(guest.initrd), str(files["initrd"]))
    dom = conn.defineXML(xml)
    try:
        dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
        con = ConsoleReader(conn, dom)
        dom.resume()
        con.wait_for(linuxguest.PROMPT, timeout=linuxguest.BOOT_TIMEOUT)
    except BaseException:
        if dom.isActive():
            dom.destroy()
        dom.undefine()
        raise
    return dom, con


def live_rng_xml(dom):
    return re.search(r"<rng .*?</rng>", dom.XMLDesc(0), re.S).group(0)
