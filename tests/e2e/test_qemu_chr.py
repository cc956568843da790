"""test_qemu_chr.py: character devices and their neighbours on a real TCG guest.

One guest (Guest A of guests.py) with a file serial logged through <log>, the qemu-ga
unix channel without a path (libvirt's automatic socket under the channel directory), a
virtio rng and a virtio balloon with stats. It starts under TCG and prints READY into the
serial file and its log (descriptors the daemon opened, as libvirt's); the channel socket
is at libvirt's path and listening while the guest runs (its state from query-chardev),
and it and its directory are gone after; the balloon's statistics period is set through
QOM during the start (a refusal would fail it). The defined XML of these devices is
and the live XML are compared with what Debian's libvirtd 9.0 gives for the same input
(its guest started too), when it runs here.
"""

import json
import os
import re
import socket
import stat
import subprocess
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET

import pytest

from guests import RUNNING, libvirt
from xmlparity import system_libvirtd_dumps

ADDED, BOOTED = "DEFINED/ADDED", "STARTED/BOOTED"
AGENT = "org.qemu.guest_agent.0"
# The device elements this area writes, in libvirt's order.
CHR_ELEMENTS = ("controller", "serial", "console", "channel", "memballoon", "rng")


def chr_xml(host, name, serial, log):
    return (
        "<domain type='qemu'><name>%s</name><uuid>%s</uuid>"
        "<memory unit='MiB'>32</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s</kernel>"
        "<cmdline>tick</cmdline></os><features><acpi/></features>"
        "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
        "<serial type='file'><source path='%s'/><log file='%s' append='off'/></serial>"
        "<channel type='unix'><source mode='bind'/>"
        "<target type='virtio' name='%s'/></channel>"
        "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
        "<memballoon model='virtio'><stats period='5'/></memballoon>"
        "</devices></domain>"
        % (name, uuidlib.uuid4(), host.kernel, serial, log, AGENT))


def wait_for_text(path, text, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    pytest.fail("%s never showed %r: %r" % (path, text,
                                            path.read_text() if path.exists() else None))


def device_elements(xml):
    """This area's device elements of a dumped definition, canonical, without PCI
    addresses (libvirt assigns them at define; splitvirt's are the addresses area's, not
    here yet) and without the implicit controllers other than virtio-serial (that area's
    too), nor libvirt's default memballoon for a guest without one."""
    out = []
    for dev in ET.fromstring(xml).find("devices"):
        if dev.tag not in CHR_ELEMENTS:
            continue
        if dev.tag == "controller" and dev.get("type") != "virtio-serial":
            continue
        for addr in dev.findall("address"):
            if addr.get("type") == "pci":
                dev.remove(addr)
        dev.text = dev.tail = None
        for child in dev.iter():
            if child is not dev:
                child.tail = None
                if not list(child) and child.text and not child.text.strip():
                    child.text = None
        out.append(ET.tostring(dev, encoding="unicode"))
    return out


def libvirtd_dumps(xml):
    """libvirtd's inactive XML for xml and its live XML once started (defined under a unique
    name, then destroyed and undefined), or None when the system libvirtd does not answer.
    Its guest writes files named theirs-*."""
    xml = re.sub(r"<uuid>[^<]*</uuid>", "", xml)
    xml = re.sub(r"(path|file)='([^']*)/", r"\1='\2/theirs-", xml)
    return system_libvirtd_dumps(xml, "h-chr-e2e-%d" % os.getpid())


def normalized(xml):
    """Device elements with the guest's own names out: the channel directory (root, id,
    name) and libvirtd's guest's files."""
    xml = re.sub(r"path='[^']*/channel/target/domain-\d+-[^/']*/", "path='CHANNEL_DIR/", xml)
    return [d.replace("theirs-", "") for d in device_elements(xml)]


def test_serial_file_log_channel_rng_balloon(host, tmp_path):
    os.chmod(tmp_path, 0o755)
    serial, log = tmp_path / "serial.txt", tmp_path / "serial.log"
    xml = chr_xml(host, "chr", serial, log)
    dom = host.conn.defineXML(xml)
    defined = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    # libvirt's define-time defaults: a virtio-serial controller, the channel's address,
    # an isa-serial target and a console standing for the serial.
    # (with the PCI address libvirt gives it at define)
    assert re.search(r"<controller type='virtio-serial' index='0'>\s*<address type='pci'",
                     defined), defined
    assert "<address type='virtio-serial' controller='0' bus='0' port='1'/>" in defined
    theirs = libvirtd_dumps(xml)
    if theirs is not None:
        assert len(device_elements(theirs[0])) == 6, theirs[0]
        assert normalized(defined) == normalized(theirs[0]), (defined, theirs[0])

    dom.create()
    assert dom.state()[0] == RUNNING
    wait_for_text(serial, "READY")
    wait_for_text(log, "READY")
    sock_dir = host.qemu_lib / "channel" / "target" / ("domain-%d-chr" % dom.ID())
    sock = sock_dir / AGENT
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(sock))  # QEMU listens on it
    live = dom.XMLDesc(0)
    assert ("<source mode='bind' path='%s'/>" % sock) in live, live
    if theirs is not None:
        assert normalized(live) == normalized(theirs[1]), (live, theirs[1])
    # Guest A opens no virtio port: query-chardev's frontend-open, as libvirt shows it.
    assert "<target type='virtio' name='%s' state='disconnected'/>" % AGENT in live, live
    for alias in ("serial0", "channel0", "rng0", "balloon0", "virtio-serial0"):
        assert "<alias name='%s'/>" % alias in live, live
    cmdline = open("/proc/%d/cmdline" % host.pid("chr"), "rb").read().split(b"\0")
    rngs = [json.loads(a) for a in cmdline if a.startswith(b'{"driver":"virtio-rng-pci"')]
    assert [(r["rng"], r["id"]) for r in rngs] == [("objrng0", "rng0")], cmdline
    # As libvirt at start: the daemon opens the serial's file and log and the channel's
    # listening socket, and QEMU gets descriptors (fd sets for files).
    fds = [a for a in cmdline if re.match(rb"set=\d+,fd=\d+,opaque=serial0-(source|log)$", a)]
    assert len(fds) == 2, cmdline
    assert b"file,id=charserial0,path=/dev/fdset/0,append=on,logfile=/dev/fdset/1,logappend=on" \
        in cmdline, cmdline
    assert any(re.match(rb"socket,id=charchannel0,fd=\d+,server=on,wait=off$", a)
               for a in cmdline), cmdline

    dom.destroy()
    host.events.expect("chr", [ADDED, BOOTED, "STOPPED/DESTROYED"])
    assert not sock.exists() and not sock_dir.exists()
    # The persistent definition kept no live state: no socket path, no aliases.
    assert dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE) == defined
    host.assert_clean()


def test_spicevmc_needs_spice_graphics(host):
    xml = chr_xml(host, "chr", "/dev/null", "/dev/null").replace(
        "<rng ", "<channel type='spicevmc'><target type='virtio' "
        "name='com.redhat.spice.0'/></channel><rng ")
    with pytest.raises(libvirt.libvirtError) as exc:
        host.conn.defineXML(xml)
    e = exc.value
    assert (e.get_error_code(), e.get_error_domain(), e.get_error_message()) == (
        67, 10, "unsupported configuration: chardev 'spicevmc' not supported without spice "
        "graphics")
    host.assert_clean()


def test_console_streams_of_virtio_consoles_and_channels(host):
    """virDomainOpenConsole finds the other character devices by alias, as libvirt does: a
    virtio console's pty opens; a unix channel is no pty."""
    xml = host.xml("chr").replace(
        "<panic model='isa'/>",
        "<console type='pty'><target type='virtio'/></console>"
        "<channel type='unix'><source mode='bind'/>"
        "<target type='virtio' name='%s'/></channel><panic model='isa'/>" % AGENT)
    dom = host.conn.defineXML(xml)
    dom.create()
    live = dom.XMLDesc(0)
    # libvirt 9.0 writes tty='...' for the console on port 0 alone (checked on Debian's
    # libvirtd: a virtio console on port 1 has none).
    assert re.search(r"<console type='pty'>\s*<source path='/dev/pts/\d+'/>"
                     r"\s*<target type='virtio' port='1'/>\s*<alias name='console1'/>", live), live
    # As libvirt's: no alias for a balloon of model none (no device).
    assert "<memballoon model='none'/>" in live, live
    st = host.conn.newStream(0)
    dom.openConsole("console1", st, 0)
    st.abort()
    st = host.conn.newStream(0)
    with pytest.raises(libvirt.libvirtError) as exc:
        dom.openConsole("channel0", st, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
    st.abort()
    e = exc.value
    assert (e.get_error_code(), e.get_error_domain(), e.get_error_message()) == (
        1, 10, "internal error: character device channel0 is not using a PTY")
    dom.destroy()
    host.assert_clean()


def test_channel_socket_outlives_a_daemon_restart(rhost, tmp_path):
    """A restarted daemon finds the channel's live state in the status file, and the
    channel directory still goes when the guest stops."""
    import signal
    os.chmod(tmp_path, 0o755)
    rhost.start_daemon()
    dom = rhost.conn.defineXML(chr_xml(rhost, "chr", tmp_path / "s.txt", tmp_path / "s.log"))
    dom.create()
    sock_dir = rhost.qemu_lib / "channel" / "target" / ("domain-%d-chr" % dom.ID())
    live = dom.XMLDesc(0)
    rhost.kill_daemon(signal.SIGKILL)
    rhost.start_daemon()
    dom = rhost.dom("chr")
    assert dom.XMLDesc(0) == live
    assert stat.S_ISSOCK(os.stat(sock_dir / AGENT).st_mode)
    dom.destroy()
    assert not sock_dir.exists()


def test_unprivileged_qemu_writes_serial_files_it_cannot_reach(nobody_host, tmp_path):
    """The daemon opens the serial's file and log and the channel's socket, so a QEMU that
    is not root writes to a directory it cannot even enter (0700, root's), as libvirt's."""
    host = nobody_host
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    serial, log = private / "serial.txt", private / "serial.log"
    dom = host.conn.defineXML(chr_xml(host, "chr", serial, log))
    dom.create()
    wait_for_text(serial, "READY")
    wait_for_text(log, "READY")
    status = open("/proc/%d/status" % host.pid("chr")).read()
    assert re.search(r"^Uid:\s+65534\s", status, re.M), status
    sock = host.qemu_lib / "channel" / "target" / ("domain-%d-chr" % dom.ID()) / AGENT
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(sock))
    dom.destroy()
    host.assert_clean()
