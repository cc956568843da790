"""test_linux_guest.py: issue 17's run 9: the Linux test guest (linuxguest.py: Debian's
cloud kernel, a busybox initramfs, an ext4 root disk in qcow2) defined and started through
python3-libvirt on our virtqemud under TCG, by direct kernel boot.

Two boots cover the run's options once each:
- the root disk on virtio-blk with a user (slirp) NIC: the guest boots from the disk (it
  prints the disk's marker), takes 10.0.2.15 from slirp's DHCP with the MAC of the live
  XML, reaches its shell prompt and runs a command typed on the console, reboots from
  inside (`reboot -f`) and comes back, and powers off on `shutdown` (the ACPI button);
- the root disk on virtio-scsi with a bridge NIC, virtqemud running in a network
  namespace the test makes, with a bridge there carrying an address: the guest shows the
  live XML's MAC and pings the bridge's address through its tap; `destroy` stops it and
  the tap goes.
Each guest's XML is also given to Debian's libvirtd in the same run: the inactive XMLs
are equal, and so are the live ones (libvirtd's copy started paused), but for the
differences named in LIVE_ALLOWED with their reasons.

A third test checks the guest's `sv.virtiofs=TAG` word (run 10's) with QEMU and QEMU's
virtiofsd run by the test, without the daemon.

Slow: each boot is a real Linux under TCG (a few seconds to READY).
"""

import os
import re
import subprocess
import time
import uuid

import pytest

import linuxguest
from guests import QEMU, RUNNING, SHUTOFF
from test_qemu_net import link, netns, nethost  # noqa: F401 (fixtures)
from xmlparity import (LIVE_ALLOWED, check_parity, define_both, live_on_libvirtd,
                       same_ptys)

pytestmark = pytest.mark.slow

BOOT_TIMEOUT = linuxguest.BOOT_TIMEOUT


def console_lines(con):
    return con.data.decode(errors="replace").replace("\r", "").split("\n")


def line(con, prefix):
    found = [l for l in console_lines(con) if l.startswith(prefix)]
    assert len(found) == 1, "console lines starting %r: %r; console %r" % (prefix, found, con.data)
    return found[0]


def live_interface(dom):
    """The live XML's interface element (text)."""
    xml = dom.XMLDesc(0)
    return xml[xml.index("<interface "):xml.index("</interface>")]


def live_mac(dom):
    return live_interface(dom).split("<mac address='")[1][:17]


def test_virtio_blk_root_and_user_nic(ref, host, guest, tmp_path):
    disk = guest.copy_root(host.root / "root.qcow2")
    xml = linuxguest.domain_xml(
        "svlinux-blk", guest, disk, bus="virtio", uuid=str(uuid.uuid4()),
        interface="<interface type='user'><mac address='52:54:00:5a:17:09'/>"
                  "<model type='virtio'/></interface>",
        cmdline="sv.net")
    ours, theirs = define_both(ref, host.uri, xml, tmp_path)
    check_parity(ours, theirs, [])
    theirs_live = live_on_libvirtd(ref, xml, tmp_path)
    dom = host.conn.lookupByName("svlinux-blk")
    con = linuxguest.start(host, dom)
    assert dom.state()[0] == RUNNING
    check_parity(same_ptys(dom.XMLDesc(0)), same_ptys(theirs_live), LIVE_ALLOWED)
    assert line(con, "ROOT: ") == "ROOT: %s on /dev/vda" % linuxguest.ROOT_MARKER
    assert line(con, "VIRTIO: ") == "VIRTIO: blk net"
    assert line(con, "NET: ") == "NET: eth0 mac=%s addr=10.0.2.15/24" % live_mac(dom)
    assert "MODULE: " not in con.data.decode(errors="replace")
    # The console works both ways: a command typed at the prompt runs.
    con.stream.send(b"echo SV-$((6 * 7))\n")
    con.wait_for("SV-42", timeout=BOOT_TIMEOUT)
    # A reboot from inside: the guest comes back (on_reboot restart) in the same QEMU. A
    # REBOOT event per reset QEMU reports, as libvirtd 9.0 sends them: two or three here
    # (the kernel's reset methods may each land before the reset takes effect, then
    # SeaBIOS's own; libvirtd gave two in a run by hand), and nothing else.
    before = len(host.events.of("svlinux-blk"))
    con.stream.send(b"reboot -f\n")
    con.wait_for("READY", count=2, timeout=BOOT_TIMEOUT)
    con.wait_for(linuxguest.PROMPT, count=2, timeout=BOOT_TIMEOUT)
    after = host.events.of("svlinux-blk")[before:]
    assert after and set(after) == {"REBOOT"}, after
    assert dom.state()[0] == RUNNING
    # A clean guest shutdown: the ACPI power button, the guest powers itself off.
    dom.shutdown()
    host.events.wait_event("svlinux-blk", "STOPPED/SHUTDOWN", timeout=BOOT_TIMEOUT)
    assert "POWER: button pressed" in con.data.decode(errors="replace")
    assert dom.state()[0] == SHUTOFF
    dom.undefine()


BRIDGE_ADDR, GUEST_ADDR = "192.168.77.1", "192.168.77.2/24"


def test_virtio_scsi_root_and_bridge_nic(ref, nethost, guest, tmp_path):
    subprocess.run(["ip", "-n", nethost.netns, "addr", "add", BRIDGE_ADDR + "/24", "dev",
                    "br0"], check=True)
    disk = guest.copy_root(nethost.root / "root.qcow2")
    xml = linuxguest.domain_xml(
        "svlinux-scsi", guest, disk, bus="scsi", uuid=str(uuid.uuid4()),
        interface="<interface type='bridge'><source bridge='br0'/>"
                  "<mac address='52:54:00:5a:17:0a'/><model type='virtio'/></interface>",
        cmdline="sv.ip=%s sv.ping=%s" % (GUEST_ADDR, BRIDGE_ADDR))
    ours, theirs = define_both(ref, nethost.uri, xml, tmp_path)
    check_parity(ours, theirs, [])
    # libvirtd's start would need br0 in the host's namespace: its live XML is of its own
    # definition (PCI addresses assigned with the NIC there) without the NIC.
    theirs_live = live_on_libvirtd(
        ref, re.sub(r"<interface .*?</interface>", "", theirs, flags=re.S), tmp_path)
    dom = nethost.conn.lookupByName("svlinux-scsi")
    con = linuxguest.start(nethost, dom)
    assert dom.state()[0] == RUNNING
    check_parity(same_ptys(dom.XMLDesc(0)), same_ptys(theirs_live), LIVE_ALLOWED + [
        (r"^devices/interface\[type=bridge,.*source\.bridge=br0,.*\]: only in ours$",
         "libvirtd's copy runs without the NIC (br0 is in the test's namespace)")])
    assert line(con, "ROOT: ") == "ROOT: %s on /dev/sda" % linuxguest.ROOT_MARKER
    assert line(con, "VIRTIO: ") == "VIRTIO: net scsi"
    assert line(con, "NET: ") == "NET: eth0 mac=%s addr=%s" % (live_mac(dom), GUEST_ADDR)
    assert line(con, "PING: ") == "PING: %s ok" % BRIDGE_ADDR
    tap = live_interface(dom).split("<target dev='")[1].split("'")[0]
    assert tap.startswith("vnet"), tap
    assert "master br0" in (link(nethost, tap) or ""), tap
    dom.destroy()
    assert dom.state()[0] == SHUTOFF
    assert link(nethost, tap) is None
    dom.undefine()


VIRTIOFSD = "/usr/lib/qemu/virtiofsd"


def test_guest_side_of_virtiofs_with_plain_qemu(guest, tmp_path):
    """The guest's sv.virtiofs=TAG word (what issue 17's run 10 boots through virtqemud),
    checked without the daemon: QEMU started here with QEMU's virtiofsd serving a directory
    the test wrote; the guest mounts the tag and prints the file it reads."""
    if not os.path.exists(VIRTIOFSD):
        pytest.fail("%s is missing (package qemu-system-common)" % VIRTIOFSD, pytrace=False)
    share = tmp_path / "share"
    share.mkdir()
    (share / "hello.txt").write_text("hello from the host\n")
    sock, serial = tmp_path / "vfs.sock", tmp_path / "serial.log"
    procs = [subprocess.Popen([VIRTIOFSD, "--socket-path=%s" % sock, "-o",
                               "source=%s" % share, "-o", "cache=none"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 10
        while not sock.exists():
            assert time.monotonic() < deadline and procs[0].poll() is None, "no virtiofsd"
            time.sleep(0.05)
        procs.append(subprocess.Popen(
            [QEMU, "-nodefaults", "-accel", "tcg", "-m", "256", "-display", "none",
             "-no-reboot", "-kernel", str(guest.kernel), "-initrd", str(guest.initrd),
             "-append", linuxguest.CMDLINE_BASE + " sv.virtiofs=myfs",
             "-object", "memory-backend-memfd,id=mem,size=256M,share=on",
             "-numa", "node,memdev=mem",
             "-chardev", "socket,id=vfs,path=%s" % sock,
             "-device", "vhost-user-fs-pci,chardev=vfs,tag=myfs",
             "-serial", "file:%s" % serial, "-monitor", "none"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + BOOT_TIMEOUT
        text = ""
        while "READY" not in text:
            assert time.monotonic() < deadline and procs[1].poll() is None, \
                "no READY on the console: %r" % text
            time.sleep(0.1)
            text = serial.read_text(errors="replace") if serial.exists() else ""
        lines = text.replace("\r", "").split("\n")
        assert "VIRTIO: fs" in lines, text
        assert "VIRTIOFS: hello from the host" in lines, text
    finally:
        for p in reversed(procs):
            p.kill()
            p.wait()
