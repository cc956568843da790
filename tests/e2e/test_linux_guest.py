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

Run 10 is the third: the guest with a virtiofs share (virtqemud runs QEMU's virtiofsd)
mounts it and prints the file the test put there.

Slow: each boot is a real Linux under TCG (a few seconds to READY).
"""

import re
import subprocess
import uuid

import pytest

import linuxguest
from guests import RUNNING, SHUTOFF
from test_qemu_net import link, netns, nethost  # noqa: F401 (fixtures)
from test_qemu_fs import virtiofs_share, virtiofsd_pids, wait_gone, with_virtiofs
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


def test_virtiofs_share_mounted_and_read(ref, host, guest, tmp_path):
    """Run 10: the guest with a virtiofs share of a directory the test wrote, started
    through virtqemud (which runs QEMU's virtiofsd): the guest mounts the tag and prints
    the file it reads; the XMLs are libvirtd's; destroy stops virtiofsd."""
    share = virtiofs_share(tmp_path, {"hello.txt": "hello from the host\n"})
    disk = guest.copy_root(host.root / "root.qcow2")
    xml = with_virtiofs(linuxguest.domain_xml(
        "svlinux-fs", guest, disk, uuid=str(uuid.uuid4()), cmdline="sv.virtiofs=hostshare"),
        share, "hostshare")
    ours, theirs = define_both(ref, host.uri, xml, tmp_path)
    check_parity(ours, theirs, [])
    theirs_live = live_on_libvirtd(ref, xml, tmp_path)
    dom = host.conn.lookupByName("svlinux-fs")
    con = linuxguest.start(host, dom)
    check_parity(same_ptys(dom.XMLDesc(0)), same_ptys(theirs_live), LIVE_ALLOWED)
    assert line(con, "VIRTIO: ") == "VIRTIO: blk fs"
    assert line(con, "VIRTIOFS: ") == "VIRTIOFS: hello from the host"
    pids = virtiofsd_pids(share)
    assert len(pids) >= 1, "no virtiofsd serves %s" % share
    dom.destroy()
    assert dom.state()[0] == SHUTOFF
    wait_gone(pids)
    dom.undefine()
