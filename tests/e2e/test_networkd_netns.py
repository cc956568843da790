"""test_networkd_netns.py: virtnetworkd starting and stopping a NAT network for real, in a
network namespace the test makes (and deletes), side by side with Debian's libvirtd 9.0.0 in
network and mount namespaces of its own (netns_libvirtd.py): the same definition started on
both gives the same live XML, the same status file (ROOT/run/libvirt/network/NAME.xml: the
<networkstatus> around the live definition), the same lifecycle events, the same port XML
for a guest's port on the network (a plug on the network's bridge) and connection count, the
same dnsmasq hosts file after a live net-update, the same dnsmasq replaced by one reading
the new configuration file after a live update of a TXT record, and a stop that leaves no
bridge. A daemon
killed while the network runs is replaced by one that takes the network over (its dnsmasq
too) with its port.
"""

import os
import signal
import threading
import time
from pathlib import Path

import libvirt
import pytest

from guests import ensure_event_loop
from netns_libvirtd import Netns, PrivateLibvirtd

pytestmark = pytest.mark.slow

NAME = "svnd-nat"
BRIDGE = "svndbr0"
NET_XML = """<network>
  <name>%s</name>
  <uuid>3e0d4a1c-9b7f-4a65-8c2d-7f1e6b5a4c3d</uuid>
  <forward mode='nat'/>
  <bridge name='%s' stp='on' delay='0'/>
  <mac address='52:54:00:6b:00:01'/>
  <dns>
    <host ip='192.168.153.10'><hostname>web</hostname></host>
  </dns>
  <ip address='192.168.153.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.153.100' end='192.168.153.150'/>
    </dhcp>
  </ip>
</network>
""" % (NAME, BRIDGE)
PORT_UUID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
PORT_XML = """<networkport>
  <uuid>%s</uuid>
  <owner>
    <name>guest1</name>
    <uuid>1c6b3f48-6f1a-4bd5-9a39-6a4a8f0d0a11</uuid>
  </owner>
  <mac address='52:54:00:6b:00:22'/>
</networkport>
""" % PORT_UUID
HOST = "<host mac='52:54:00:6b:00:33' name='fixed' ip='192.168.153.33'/>"


class Events:
    def __init__(self, conn):
        ensure_event_loop()
        self.cond = threading.Condition()
        self.log = []
        self.conn = conn
        self.id = conn.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE,
                                               self._cb, None)

    def _cb(self, conn, net, event, detail, opaque):
        with self.cond:
            self.log.append((net.name(), event, detail))
            self.cond.notify_all()

    def wait(self, n, timeout=60):
        with self.cond:
            self.cond.wait_for(lambda: len(self.log) >= n, timeout)
            return list(self.log)


def has_link(ns, name):
    return ns.run(["ip", "link", "show", name], check=False).returncode == 0


TXT = "<txt name='example' value='v=spf1 -all'/>"


def read_pid(state_dir):
    try:
        return int((state_dir / (NAME + ".pid")).read_text().strip())
    except (OSError, ValueError):
        return None


def wait_new_dnsmasq(state_dir, old, timeout=30):
    """Whether, within timeout seconds, the pid file names a running dnsmasq other than old
    (and old is gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = read_pid(state_dir)
        if pid and pid != old and os.path.exists("/proc/%d" % pid) and \
                not os.path.exists("/proc/%d" % old):
            return True
        time.sleep(0.1)
    return False


def steps(conn, state_dir, dnsmasq_dir, config_dir):
    """Start, look, update, plug a port, stop: what each side shows."""
    ev = Events(conn)
    out = {}
    net = conn.networkDefineXML(NET_XML)
    net.create()
    out["live"] = net.XMLDesc()
    out["status"] = (state_dir / (NAME + ".xml")).read_text()
    out["config"] = (config_dir / (NAME + ".xml")).read_text()
    net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
               libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, HOST,
               libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE | libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG)
    out["updated"] = net.XMLDesc()
    out["inactive"] = net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
    out["hostsfile"] = (dnsmasq_dir / (NAME + ".hostsfile")).read_text()
    # a TXT record lives in dnsmasq's configuration file: a live update replaces dnsmasq
    pid = read_pid(state_dir)
    net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
               libvirt.VIR_NETWORK_SECTION_DNS_TXT, -1, TXT,
               libvirt.VIR_NETWORK_UPDATE_AFFECT_LIVE | libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG)
    out["dnsmasq replaced"] = wait_new_dnsmasq(state_dir, pid)
    out["txt lines"] = [ln for ln in (dnsmasq_dir / (NAME + ".conf")).read_text().splitlines()
                        if ln.startswith("txt-record")]
    port = net.portCreateXML(PORT_XML)
    out["port"] = port.XMLDesc()
    out["connections"] = net.XMLDesc()
    out["ports"] = [p.UUIDString() for p in net.listAllPorts()]
    out["macs"] = (dnsmasq_dir / (BRIDGE + ".macs")).read_text()
    out["leases"] = net.DHCPLeases()
    port.delete()
    out["macs after"] = (dnsmasq_dir / (BRIDGE + ".macs")).read_text()
    net.destroy()
    net.undefine()
    out["files left"] = sorted(os.listdir(dnsmasq_dir))
    # libvirtd sends a network event when its event loop next turns: another call makes
    # sure it has (the events are compared, not when they come)
    conn.listAllNetworks()
    out["events"] = ev.wait(4)
    conn.networkEventDeregisterAny(ev.id)
    return out


def test_start_stop_like_libvirtd(daemons, root, tmp_path):
    ns = Netns.create("svnet-nd")
    ref = None
    try:
        ref = PrivateLibvirtd(tmp_path / "libvirtd")
        theirs_root = Path("/proc/%d/root" % ref.pid)
        tconn = libvirt.open("network:///system?socket=%s/libvirt-sock" % ref.sock_dir)
        try:
            theirs = steps(tconn, theirs_root / "run/libvirt/network",
                           theirs_root / "var/lib/libvirt/dnsmasq",
                           tmp_path / "libvirtd/etc/qemu/networks")
        finally:
            tconn.close()
        assert not has_link(ref.netns, BRIDGE)

        d = daemons.new(name="virtnetworkd", label="virtnetworkd",
                        wrapper=ns.argv([])).start()
        conn = libvirt.open("network:///system?socket=%s" % d.sock)
        try:
            ours = steps(conn, root / "run/libvirt/network", root / "var/lib/libvirt/dnsmasq",
                         root / "etc/libvirt/qemu/networks")
        finally:
            conn.close()
        assert not has_link(ns, BRIDGE)
    finally:
        if ref:
            ref.close()
        ns.delete()
    for key in theirs:
        assert ours[key] == theirs[key], "%s differs:\nours:     %r\nlibvirtd: %r" % (
            key, ours[key], theirs[key])
    assert "connections='1'" in ours["connections"]
    assert ours["dnsmasq replaced"] is True and ours["txt lines"], ours["txt lines"]
    assert ours["events"] == [(NAME, libvirt.VIR_NETWORK_EVENT_DEFINED, 0),
                              (NAME, libvirt.VIR_NETWORK_EVENT_STARTED, 0),
                              (NAME, libvirt.VIR_NETWORK_EVENT_STOPPED, 0),
                              (NAME, libvirt.VIR_NETWORK_EVENT_UNDEFINED, 0)]
    assert "<plug type='network' bridge='%s'/>" % BRIDGE in ours["port"]


def dnsmasq_pid(root):
    return int((root / "run/libvirt/network" / (NAME + ".pid")).read_text().strip())


def test_restart_takes_network_over(daemons, root):
    """virtnetworkd killed with the network running and a port on it: the next daemon finds
    it active, with its port and the same dnsmasq; its stop leaves no bridge and no dnsmasq;
    a network whose bridge went away meanwhile is found inactive."""
    ns = Netns.create("svnet-nd")
    try:
        wrap = ns.argv([])
        d = daemons.new(name="virtnetworkd", label="virtnetworkd-0", wrapper=wrap).start()
        conn = libvirt.open("network:///system?socket=%s" % d.sock)
        net = conn.networkDefineXML(NET_XML)
        net.create()
        net.portCreateXML(PORT_XML)
        pid = dnsmasq_pid(root)
        conn.close()
        d.expected_status = -signal.SIGKILL
        d.kill()
        d.wait_exit(30)
        assert os.path.exists("/proc/%d" % pid), "dnsmasq outlives the daemon"

        d2 = daemons.new(name="virtnetworkd", label="virtnetworkd-1", wrapper=wrap).start()
        conn = libvirt.open("network:///system?socket=%s" % d2.sock)
        net = conn.networkLookupByName(NAME)
        assert net.isActive() == 1
        assert [p.UUIDString() for p in net.listAllPorts()] == [PORT_UUID]
        assert dnsmasq_pid(root) == pid
        net.destroy()
        assert not has_link(ns, BRIDGE)
        deadline = time.monotonic() + 30
        while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not os.path.exists("/proc/%d" % pid)

        # The bridge removed behind the daemon's back while it is down: inactive at restart.
        net.create()
        conn.close()
        d2.stop()
        ns.run(["ip", "link", "del", BRIDGE])
        d3 = daemons.new(name="virtnetworkd", label="virtnetworkd-2", wrapper=wrap).start()
        conn = libvirt.open("network:///system?socket=%s" % d3.sock)
        net = conn.networkLookupByName(NAME)
        assert net.isActive() == 0
        assert not (root / "run/libvirt/network" / (NAME + ".xml")).exists()
        net.undefine()
        conn.close()
    finally:
        ns.delete()


BW_NAME = "svnd-bw"
BW_BRIDGE = "svndbr1"
BW_XML = """<network>
  <name>%s</name>
  <forward mode='nat'/>
  <bridge name='%s'/>
  <bandwidth>
    <inbound average='1000' peak='2000' burst='512'/>
    <outbound average='500'/>
  </bandwidth>
  <ip address='192.168.154.1' netmask='255.255.255.0'/>
</network>
""" % (BW_NAME, BW_BRIDGE)


def bandwidth_start(conn, ns):
    """Start the network with <bandwidth>: what the start answers and, when the kernel has
    libvirt's tc layout, the bridge's classes; the network is gone after."""
    net = conn.networkDefineXML(BW_XML)
    try:
        net.create()
    except libvirt.libvirtError as e:
        return ("refused", e.get_error_code(), e.get_error_domain(), e.get_error_message(),
                has_link(ns, BW_BRIDGE))
    try:
        classes = ns.run(["tc", "class", "show", "dev", BW_BRIDGE]).stdout
        return ("started", sorted(ln.split(" prio")[0] for ln in classes.splitlines()))
    finally:
        net.destroy()
        net.undefine()


def test_bandwidth_on_the_bridge_like_libvirtd(daemons, tmp_path):
    """A network's <bandwidth> goes on its bridge in libvirt's hierarchical layout (classes
    1:1 and 1:2). On a kernel without sch_sfq (these machines) both daemons refuse the start
    at the same tc command, whose text names the layout (parent 1:2), and leave no bridge;
    where the kernel has it, both make the same classes."""
    ns = Netns.create("svnet-bw")
    ref = None
    try:
        ref = PrivateLibvirtd(tmp_path / "libvirtd")
        tconn = libvirt.open("network:///system?socket=%s/libvirt-sock" % ref.sock_dir)
        try:
            theirs = bandwidth_start(tconn, ref.netns)
        finally:
            tconn.close()
        d = daemons.new(name="virtnetworkd", label="virtnetworkd", wrapper=ns.argv([])).start()
        conn = libvirt.open("network:///system?socket=%s" % d.sock)
        try:
            ours = bandwidth_start(conn, ns)
        finally:
            conn.close()
    finally:
        if ref:
            ref.close()
        ns.delete()
    assert ours == theirs, "ours %r\nlibvirtd's %r" % (ours, theirs)
    if ours[0] == "refused":
        assert "parent 1:2 handle 2: sfq" in ours[3] and ours[4] is False, ours
