"""test_libvirt_parity_bridge.py: issue 17's run 5: `virt-install --print-xml --network
bridge=BR` against Debian's libvirtd (the Debian-server options of the other runs: q35,
qcow2 root disk on virtio, user-less bridge NIC, serial console, no graphics), the XML
defined on libvirtd and on ours and `dumpxml --inactive` compared (xmlparity.py), then
started on ours, virtqemud running in a network namespace the test makes with the bridge
there: RUNNING, its tap a port of the bridge, gone after destroy.

The guest is the Linux test guest (linuxguest.py: `--boot kernel=,initrd=,kernel_args=`
and its root disk), so the NIC of virt-install's XML is also seen working from inside: the
guest shows the live XML's MAC and pings the bridge's address through the tap.

Slow: it starts (or uses) the system's libvirtd and boots Linux under TCG.
"""

import re
import subprocess

import pytest

import linuxguest
from guests import RUNNING, SHUTOFF, uri_for
from test_qemu_net import link, netns, nethost  # noqa: F401 (fixtures)
from xmlparity import (LIVE_ALLOWED, check_parity, define_both, devtree, live_on_libvirtd,
                       native_argv, pid_argv, same_run_paths, unexplained, virsh_on,
                       virt_install_xml)

pytestmark = pytest.mark.slow

QEMU = "/usr/bin/qemu-system-x86_64"

BRIDGE, BRIDGE_ADDR, GUEST_ADDR = "br0", "192.168.78.1", "192.168.78.2/24"

# Differences from libvirtd's inactive XML allowed in this run, each with its reason.
ALLOWED = []
# ... and from its live XML (libvirtd's copy runs without the NIC: see below).
LIVE_ALLOWED_HERE = LIVE_ALLOWED + [
    (r"^devices/interface\[type=bridge,.*source\.bridge=br0,.*\]: only in ours$",
     "libvirtd's copy runs without the NIC (br0 is in the test's namespace)"),
]


# domxml-to-native's device tree against our running QEMU's, each difference with its reason.
NATIVE_ALLOWED = []


def live_interface(dom):
    xml = dom.XMLDesc(0)
    return xml[xml.index("<interface "):xml.index("</interface>")]


def test_virt_install_bridge_guest(ref, nethost, guest, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    files.chmod(0o755)
    guest.copy_root(files / "root.qcow2")
    args = ["--osinfo", "debian11", "--machine", "q35",
            "--disk", "path=@DIR@/root.qcow2,format=qcow2,bus=virtio",
            "--network", "bridge=" + BRIDGE,
            "--graphics", "none", "--console", "pty,target_type=serial",
            "--boot", "kernel=%s,initrd=%s,kernel_args=%s sv.root=/dev/vda sv.ip=%s sv.ping=%s"
            % (guest.kernel, guest.initrd, linuxguest.CMDLINE_BASE, GUEST_ADDR, BRIDGE_ADDR),
            "--import"]
    xml = virt_install_xml(ref, "svparity-bridge", args, files)
    assert "<interface type=\"bridge\">" in xml and "<source bridge=\"%s\"/>" % BRIDGE in xml
    uri = uri_for(nethost.daemon.sock)
    ours, theirs = define_both(ref, uri, xml, tmp_path)
    check_parity(ours, theirs, ALLOWED)
    # libvirtd's live XML: its own definition started paused without the NIC (br0 exists
    # only in the test's namespace).
    theirs_live = live_on_libvirtd(
        ref, re.sub(r"<interface .*?</interface>", "", theirs, flags=re.S), tmp_path)

    subprocess.run(["ip", "-n", nethost.netns, "addr", "add", BRIDGE_ADDR + "/24", "dev",
                    BRIDGE], check=True)
    dom = nethost.conn.lookupByName("svparity-bridge")
    con = linuxguest.start(nethost, dom)
    assert dom.state()[0] == RUNNING
    check_parity(same_run_paths(dom.XMLDesc(0), nethost.root), same_run_paths(theirs_live),
                 LIVE_ALLOWED_HERE)
    iface = live_interface(dom)
    mac = iface.split("<mac address='")[1][:17]
    tap = iface.split("<target dev='")[1].split("'")[0]
    assert tap.startswith("vnet"), tap
    shown = link(nethost, tap)
    assert shown is not None and "master %s" % BRIDGE in shown and ",UP" in shown, shown
    text = con.data.decode(errors="replace").replace("\r", "")
    assert "ROOT: %s on /dev/vda\n" % linuxguest.ROOT_MARKER in text, text
    assert "NET: eth0 mac=%s addr=%s\n" % (mac, GUEST_ADDR) in text, text
    assert "PING: %s ok\n" % BRIDGE_ADDR in text, text
    # What virt-install's XML gives the guest, seen from inside: the virtio disk, the
    # virtio-serial controller with the qemu-ga port, the NIC, rng and balloon.
    assert "VIRTIO: balloon blk console net rng\n" in text, text
    assert "VPORT: org.qemu.guest_agent.0\n" in text, text
    # The guest's hardware: our QEMU's device tree is the one domxml-to-native gives.
    dt = devtree()
    ours_argv = pid_argv(nethost.daemon.run_dir / "qemu" / "svparity-bridge.pid")
    found = dt.diff(dt.tree(ours_argv), dt.tree(native_argv(ref, tmp_path / "domain.xml")))
    left = unexplained(found, NATIVE_ALLOWED)
    assert not left, "device tree differs from domxml-to-native's:\n  " + "\n  ".join(left)

    virsh_on(uri, "destroy", "svparity-bridge")
    assert dom.state()[0] == SHUTOFF
    assert link(nethost, tap) is None, "the tap outlived the guest"
    dom.undefine()
