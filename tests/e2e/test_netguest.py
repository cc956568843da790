"""test_netguest.py: guests on virtual networks (issue 20 item 2), with real TCG guests
(Guest A) and our virtnetworkd.

virtnetworkd and virtqemud run in a network namespace the test makes (`ip netns add`) under
one private root, so every bridge and tap lives and dies there; the namespace is deleted at
the end. The client talks to virtqemud only: its network calls are relayed to virtnetworkd,
as `virsh -c qemu:///system net-list` reaches libvirt's network driver. Checked, with what
Debian's libvirtd 9.0 shows for the same steps (seen on it in a network namespace of its
own, libvirt's shapes written below):
- a guest started with <interface type='network'> gets a port from the network: the live
  XML's <source network= portid= bridge=> and <target dev='vnetN'>, the tap a port of the
  network's bridge, the port listed by the network with the guest as owner and the plug's
  bridge, gone once the guest is destroyed (tap and port);
- a missing network and a network not active refuse the start with the network driver's
  errors, and leave no port;
- an interface of type network plugged into a running guest takes a port, given back when
  the guest stops;
- virtqemud or virtnetworkd killed with SIGKILL and started again: the guest keeps its port
  (same id) and its tap stays on the bridge; a port the network lost meanwhile is made again
  under its old id when virtqemud reconnects (libvirt's RECLAIM);
- `virt-install --network network=NAME` makes and starts a guest plugged into it;
- the network destroyed under a running guest: its ports go, the guest runs on unchanged;
  started again, then virtqemud restarted: the port made again, the tap back on the bridge;
- DOMAIN_INTERFACE_ADDRESSES with the lease source and DOMAIN_GET_HOSTNAME with the LEASE
  flag ask the network (no lease here: Guest A runs no DHCP client).
"""

import re
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from guests import RUNNING, SHUTOFF, Host, daemon_config, libvirt
from test_qemu_net import ip, link, netns  # noqa: F401 (fixture)

ERR_NO_NETWORK, ERR_OPERATION_INVALID = 43, 55
ERR_NO_NETWORK_PORT = 107
FROM_NETWORK = 19

# The networks a guest is put on: one with a bridge of its own (isolated: virtnetworkd makes
# the bridge, plug type network), and one of forward mode bridge on the namespace's br0
# (plug type bridge: libvirt's live XML then says <interface type='bridge'>).
NETWORKS = {
    "own-bridge": ("""<network>
  <name>svnet</name>
  <bridge name='svbr0'/>
  <ip address='192.168.151.1' netmask='255.255.255.0'/>
</network>""", "svbr0", "network"),
    "host-bridge": ("""<network>
  <name>svnet</name>
  <forward mode='bridge'/>
  <bridge name='br0'/>
</network>""", "br0", "bridge"),
}


def wait_until(pred, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


class NetHost(Host):
    """virtqemud and virtnetworkd in the test's namespace, under one root."""

    def __init__(self, daemons, root, netns_name):
        self.daemons, self.netns = daemons, netns_name
        self.netd = self.start_netd()
        super().__init__(self.start_qemud(), root)

    def wrapper(self):
        return ["ip", "netns", "exec", self.netns]

    def start_netd(self):
        return self.daemons.start(name="virtnetworkd", label="virtnetworkd-%d" %
                                  len(self.daemons.daemons), wrapper=self.wrapper())

    def start_qemud(self):
        return self.daemons.start(config=daemon_config(self.daemons.root),
                                  wrapper=self.wrapper())

    def kill(self, d):
        d.send_signal(signal.SIGKILL)
        d.wait_exit(10)
        d.expected_status = -signal.SIGKILL

    def restart_qemud(self):
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass
        self.kill(self.daemon)
        self.daemon = self.start_qemud()
        self.conn = libvirt.open(self.uri)

    def restart_netd(self):
        self.kill(self.netd)
        self.netd = self.start_netd()

    def network(self, start=True):
        net = self.conn.networkDefineXML(self.net_xml)
        if start:
            net.create()
        return net

    def define_on(self, name, interface):
        xml = self.xml(name).replace("<serial type='pty'/>", interface + "<serial type='pty'/>")
        return self.conn.defineXML(xml)


@pytest.fixture(params=sorted(NETWORKS))
def nhost(daemons, root, request, netns):  # noqa: F811 (the fixture imported above)
    import guests
    if not guests.guest_elf().exists():
        pytest.skip("test guest %s not built" % guests.guest_elf())
    h = NetHost(daemons, root, netns)
    h.net_xml, h.bridge, h.plug = NETWORKS[request.param]
    yield h
    for net in h.conn.listAllNetworks():
        try:
            if net.isActive():
                net.destroy()
            net.undefine()
        except libvirt.libvirtError:
            pass
    rep = getattr(request.node, "rep_call", None)
    problems = h.finish(test_failed=rep is not None and rep.failed)
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


def interfaces(dom, flags=0):
    return ET.fromstring(dom.XMLDesc(flags)).findall("devices/interface")


def ports(net):
    return sorted(p.UUIDString() for p in net.listAllPorts())


def port_xml(net, portid):
    return ET.fromstring(net.portLookupByUUIDString(portid).XMLDesc())


def check_plugged(host, dom, net, iface):
    """iface (live XML) is on net's bridge through its port, as libvirt shows it: a port
    plugged on a host bridge makes the live type 'bridge'."""
    assert iface.get("type") == host.plug
    src = iface.find("source")
    assert src.get("network") == net.name()
    assert src.get("bridge") == host.bridge
    portid = src.get("portid")
    assert re.fullmatch(r"[0-9a-f-]{36}", portid or ""), portid
    tap = iface.find("target").get("dev")
    assert tap.startswith("vnet"), tap
    shown = link(host, tap)
    assert shown is not None and "master %s" % host.bridge in shown and ",UP" in shown, shown
    port = port_xml(net, portid)
    assert port.findtext("owner/name") == dom.name()
    assert port.findtext("owner/uuid") == dom.UUIDString()
    mac = iface.find("mac").get("address")
    assert port.find("mac").get("address") == mac
    assert port.find("plug").get("type") == host.plug
    assert port.find("plug").get("bridge") == host.bridge
    return portid, tap


def test_guest_on_network(nhost):
    net = nhost.network()
    dom = nhost.define_on("ng1", "<interface type='network'><source network='svnet'/>"
                          "<model type='virtio'/></interface>")
    inactive = interfaces(dom, libvirt.VIR_DOMAIN_XML_INACTIVE)[0]
    assert inactive.find("source").attrib == {"network": "svnet"}
    dom.create()
    assert dom.state()[0] == RUNNING
    portid, tap = check_plugged(nhost, dom, net, interfaces(dom)[0])
    assert ports(net) == [portid]
    # The network counts it (libvirt's <network connections=>).
    assert "<network connections='1'>" in net.XMLDesc(0)
    # The inactive XML keeps the type defined.
    assert interfaces(dom, libvirt.VIR_DOMAIN_XML_INACTIVE)[0].get("type") == "network"
    # The inactive XML keeps only what was defined.
    assert interfaces(dom, libvirt.VIR_DOMAIN_XML_INACTIVE)[0].find("source").attrib == \
        {"network": "svnet"}
    dom.destroy()
    assert dom.state()[0] == SHUTOFF
    wait_until(lambda: ports(net) == [], "the port to go")
    assert link(nhost, tap) is None
    assert interfaces(dom)[0].find("source").attrib == {"network": "svnet"}
    assert interfaces(dom)[0].get("type") == "network"
    dom.undefine()


def test_missing_and_inactive_network(nhost):
    dom = nhost.define_on("ng2", "<interface type='network'><source network='nosuch'/>"
                          "</interface>")
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    assert (e.value.get_error_code(), e.value.get_error_domain()) == \
        (ERR_NO_NETWORK, FROM_NETWORK)
    assert e.value.get_error_message() == \
        "Network not found: no network with matching name 'nosuch'"
    assert dom.state()[0] == SHUTOFF
    dom.undefine()

    net = nhost.network(start=False)
    dom = nhost.define_on("ng3", "<interface type='network'><source network='svnet'/>"
                          "</interface>")
    with pytest.raises(libvirt.libvirtError) as e:
        dom.create()
    assert (e.value.get_error_code(), e.value.get_error_domain()) == \
        (ERR_OPERATION_INVALID, FROM_NETWORK)
    assert e.value.get_error_message() == \
        "Requested operation is not valid: network 'svnet' is not active"
    assert dom.state()[0] == SHUTOFF
    net.create()
    assert ports(net) == []
    dom.undefine()


def test_hotplug_network_interface(nhost):
    """A port for an interface plugged live, given back when the guest stops (Guest A never
    completes an unplug: the Linux guest's test has the detach)."""
    net = nhost.network()
    dom = nhost.define("ng4")
    dom.create()
    # A network that is not there refuses the attach with the network's error.
    with pytest.raises(libvirt.libvirtError) as e:
        dom.attachDeviceFlags("<interface type='network'><source network='nosuch'/>"
                              "</interface>", libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert (e.value.get_error_code(), e.value.get_error_domain()) == \
        (ERR_NO_NETWORK, FROM_NETWORK)
    assert not interfaces(dom)
    dom.attachDeviceFlags("<interface type='network'><mac address='52:54:00:aa:bb:01'/>"
                          "<source network='svnet'/><model type='e1000'/></interface>",
                          libvirt.VIR_DOMAIN_AFFECT_LIVE)
    portid, tap = check_plugged(nhost, dom, net, interfaces(dom)[0])
    assert ports(net) == [portid]
    assert not interfaces(dom, libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.destroy()
    wait_until(lambda: ports(net) == [], "the port to go")
    assert link(nhost, tap) is None
    dom.undefine()


def test_daemon_restarts_keep_the_port(nhost):
    net = nhost.network()
    dom = nhost.define_on("ng5", "<interface type='network'><source network='svnet'/>"
                          "</interface>")
    dom.create()
    portid, tap = check_plugged(nhost, dom, net, interfaces(dom)[0])

    nhost.restart_qemud()
    dom = nhost.conn.lookupByName("ng5")
    net = nhost.conn.networkLookupByName("svnet")
    assert dom.state()[0] == RUNNING
    assert check_plugged(nhost, dom, net, interfaces(dom)[0]) == (portid, tap)
    assert ports(net) == [portid]

    nhost.restart_netd()
    net = nhost.conn.networkLookupByName("svnet")
    assert ports(net) == [portid]
    assert check_plugged(nhost, dom, net, interfaces(dom)[0]) == (portid, tap)

    # The network loses the port behind the guest's back: virtqemud's reconnect makes it
    # again under the same id (libvirt's VIR_NETWORK_PORT_CREATE_RECLAIM).
    net.portLookupByUUIDString(portid).delete()
    with pytest.raises(libvirt.libvirtError) as e:
        net.portLookupByUUIDString(portid)
    assert e.value.get_error_code() == ERR_NO_NETWORK_PORT
    nhost.restart_qemud()
    net = nhost.conn.networkLookupByName("svnet")
    wait_until(lambda: ports(net) == [portid], "the port to be made again")
    dom = nhost.conn.lookupByName("ng5")
    assert check_plugged(nhost, dom, net, interfaces(dom)[0]) == (portid, tap)
    dom.destroy()
    wait_until(lambda: ports(net) == [], "the port to go")
    dom.undefine()


def test_lease_source_asks_the_network(nhost):
    nhost.network()
    dom = nhost.define_on("ng6", "<interface type='network'><source network='svnet'/>"
                          "</interface>")
    dom.create()
    assert dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE) == {}
    out = subprocess.run(["virsh", "-q", "-c", nhost.uri, "domifaddr", "ng6", "--source",
                          "lease"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
    # No lease names the guest: libvirt's error for the hostname's lease lookup.
    with pytest.raises(libvirt.libvirtError) as e:
        dom.hostname(libvirt.VIR_DOMAIN_GET_HOSTNAME_LEASE)
    assert (e.value.get_error_code(), e.value.get_error_domain()) == \
        (libvirt.VIR_ERR_NO_HOSTNAME, libvirt.VIR_FROM_QEMU)
    assert e.value.get_error_message() == \
        "no hostname found: no hostname found for domain ng6"
    dom.destroy()
    dom.undefine()


# ---------------------------------------------------------------- parity with libvirtd

PARITY_XML = """<domain type='qemu'>
  <name>svparity-netguest</name>
  <uuid>5a1d6c2e-98a4-4b1e-9a43-1f0c3c7d2e11</uuid>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <interface type='network'>
      <mac address='52:54:00:61:e6:67'/>
      <source network='default' portgroup='pg1'
              portid='926fe6f4-4782-463f-8c45-e7c823a82c03' bridge='virbr5'/>
      <target dev='vnet4'/>
      <bandwidth><inbound average='1000' floor='200'/><outbound average='500'/></bandwidth>
      <model type='virtio'/>
    </interface>
    <interface type='network'>
      <mac address='52:54:00:11:22:33'/>
      <source network='other'/>
      <target dev='mytap1'/>
    </interface>
  </devices>
</domain>
"""


@pytest.mark.slow
def test_defined_xml_as_libvirtd(ref, daemons, tmp_path):
    """What a define keeps of <interface type='network'> (network, portgroup, MAC,
    bandwidth with a floor, a target name not the daemon's) and drops (the live port id and
    bridge, a vnetN name), as libvirtd 9.0 does; the networks need not exist to define."""
    from xmlparity import check_parity, define_both
    from guests import uri_for

    d = daemons.start()
    ours, theirs = define_both(ref, uri_for(d.sock), PARITY_XML, tmp_path, keep_ours=False)
    check_parity(ours, theirs, [])
    assert "portid" not in ours and "bridge=" not in ours and "vnet4" not in ours
    assert "<source network='default' portgroup='pg1'/>" in ours


def test_network_destroyed_under_a_running_guest(nhost):
    """As libvirtd 9.0 behaves: the network's ports go with it, the guest runs on with its
    live XML unchanged; its destroy then finds no port to give back (logged), and the
    network started again has none."""
    net = nhost.network()
    dom = nhost.define_on("ng7", "<interface type='network'><source network='svnet'/>"
                          "</interface>")
    dom.create()
    portid, tap = check_plugged(nhost, dom, net, interfaces(dom)[0])
    before = ET.tostring(interfaces(dom)[0])
    net.destroy()
    with pytest.raises(libvirt.libvirtError) as e:
        net.listAllPorts()
    assert (e.value.get_error_code(), e.value.get_error_message()) == \
        (ERR_OPERATION_INVALID, "Requested operation is not valid: network 'svnet' is not active")
    assert dom.state()[0] == RUNNING
    assert ET.tostring(interfaces(dom)[0]) == before
    dom.destroy()
    assert dom.state()[0] == SHUTOFF
    net.create()
    assert ports(net) == []
    dom.undefine()


def test_virt_install_network_option(nhost):
    """`virt-install --network network=NAME` against virtqemud (its network calls relayed to
    virtnetworkd): the guest it makes is on the network, started, with its port."""
    net = nhost.network()
    r = subprocess.run(
        ["virt-install", "--connect", nhost.uri, "--name", "ngvi", "--virt-type", "qemu",
         "--memory", "32", "--vcpus", "1", "--osinfo", "generic", "--network", "network=svnet",
         "--boot", "kernel=%s" % nhost.kernel, "--disk", "none", "--graphics", "none",
         "--noautoconsole", "--import"], capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    dom = nhost.conn.lookupByName("ngvi")
    assert dom.state()[0] == RUNNING
    check_plugged(nhost, dom, net, interfaces(dom)[0])
    assert interfaces(dom, libvirt.VIR_DOMAIN_XML_INACTIVE)[0].find("source").attrib == \
        {"network": "svnet"}
    dom.destroy()
    wait_until(lambda: ports(net) == [], "the port to go")
    dom.undefine()


def test_network_restarted_then_virtqemud_reconnects(nhost):
    """The network destroyed and started again under a running guest (its bridge made anew,
    the tap no longer on it, the port gone): virtqemud restarted makes the port again under
    its id and puts the tap back on the bridge, as libvirt's reconnect does."""
    net = nhost.network()
    dom = nhost.define_on("ng8", "<interface type='network'><source network='svnet'/>"
                          "</interface>")
    dom.create()
    portid, tap = check_plugged(nhost, dom, net, interfaces(dom)[0])
    net.destroy()
    net.create()
    assert ports(net) == []
    nhost.restart_qemud()
    net = nhost.conn.networkLookupByName("svnet")
    wait_until(lambda: ports(net) == [portid], "the port to be made again")
    dom = nhost.conn.lookupByName("ng8")
    wait_until(lambda: "master %s" % nhost.bridge in (link(nhost, tap) or ""),
               "the tap to be back on the bridge")
    assert check_plugged(nhost, dom, net, interfaces(dom)[0]) == (portid, tap)
    dom.destroy()
    wait_until(lambda: ports(net) == [], "the port to go")
    dom.undefine()
