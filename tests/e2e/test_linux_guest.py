"""test_linux_guest.py: issue 17's run 9: the Linux test guest (linuxguest.py: Debian's
cloud kernel, a busybox initramfs, an ext4 root disk in qcow2) defined and started through
python3-libvirt on our virtqemud under TCG, by direct kernel boot.

Two boots cover the run's options once each:
- the root disk on virtio-blk with a user (slirp) NIC: the guest boots from the disk (it
  prints the disk's marker), takes 10.0.2.15 from slirp's DHCP with the MAC of the live
  XML, reaches its shell prompt, and powers off on `shutdown` (the ACPI button);
- the root disk on virtio-scsi with a bridge NIC, virtqemud running in a network
  namespace the test makes, with a bridge there carrying an address: the guest shows the
  live XML's MAC and pings the bridge's address through its tap; `destroy` stops it and
  the tap goes.

Slow: each boot is a real Linux under TCG (a few seconds to READY).
"""

import subprocess
import time

import pytest

import linuxguest
from guests import RUNNING, SHUTOFF, libvirt
from test_qemu_net import link, netns, nethost  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow

BOOT_TIMEOUT = 90.0  # READY comes after ~3-6 s under TCG; generous for a loaded machine


@pytest.fixture(scope="module")
def guest():
    try:
        return linuxguest.build()
    except linuxguest.GuestBuildError as e:
        pytest.fail("cannot build the Linux test guest: %s" % e, pytrace=False)


def boot(host, name, xml):
    """Define and start the guest (paused, so the console is open before it prints), wait
    for its prompt; (domain, console reader, seconds from resume to READY)."""
    dom = host.conn.defineXML(xml)
    dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    con = host.console(dom)
    start = time.monotonic()
    dom.resume()
    con.wait_for("READY", timeout=BOOT_TIMEOUT)
    took = time.monotonic() - start
    con.wait_for(linuxguest.PROMPT, timeout=BOOT_TIMEOUT)
    print("%s: READY %.1f s after resume" % (name, took))
    assert dom.state()[0] == RUNNING
    return dom, con, took


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


def test_virtio_blk_root_and_user_nic(host, guest):
    disk = guest.copy_root(host.root / "root.qcow2")
    xml = linuxguest.domain_xml(
        "lg-blk", guest, disk, bus="virtio",
        interface="<interface type='user'><model type='virtio'/></interface>",
        cmdline="sv.net")
    dom, con, _ = boot(host, "lg-blk", xml)
    assert line(con, "ROOT: ") == "ROOT: %s on /dev/vda" % linuxguest.ROOT_MARKER
    assert line(con, "NET: ") == "NET: eth0 mac=%s addr=10.0.2.15/24" % live_mac(dom)
    assert "MODULE: " not in con.data.decode(errors="replace")
    # A clean guest shutdown: the ACPI power button, the guest powers itself off.
    dom.shutdown()
    host.events.wait_event("lg-blk", "STOPPED/SHUTDOWN", timeout=BOOT_TIMEOUT)
    assert "POWER: button pressed" in con.data.decode(errors="replace")
    assert dom.state()[0] == SHUTOFF
    dom.undefine()


BRIDGE_ADDR, GUEST_ADDR = "192.168.77.1", "192.168.77.2/24"


def test_virtio_scsi_root_and_bridge_nic(nethost, guest):
    subprocess.run(["ip", "-n", nethost.netns, "addr", "add", BRIDGE_ADDR + "/24", "dev",
                    "br0"], check=True)
    disk = guest.copy_root(nethost.root / "root.qcow2")
    xml = linuxguest.domain_xml(
        "lg-scsi", guest, disk, bus="scsi",
        interface="<interface type='bridge'><source bridge='br0'/><model type='virtio'/>"
                  "</interface>",
        cmdline="sv.ip=%s sv.ping=%s" % (GUEST_ADDR, BRIDGE_ADDR))
    dom, con, _ = boot(nethost, "lg-scsi", xml)
    assert line(con, "ROOT: ") == "ROOT: %s on /dev/sda" % linuxguest.ROOT_MARKER
    assert line(con, "NET: ") == "NET: eth0 mac=%s addr=%s" % (live_mac(dom), GUEST_ADDR)
    assert line(con, "PING: ") == "PING: %s ok" % BRIDGE_ADDR
    tap = live_interface(dom).split("<target dev='")[1].split("'")[0]
    assert tap.startswith("vnet"), tap
    assert "master br0" in (link(nethost, tap) or ""), tap
    dom.destroy()
    assert dom.state()[0] == SHUTOFF
    assert link(nethost, tap) is None
    dom.undefine()
