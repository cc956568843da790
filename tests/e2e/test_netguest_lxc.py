"""test_netguest_lxc.py: containers on bridges and virtual networks (issue 20 item 2, the
LXC side): virtlxcd (and virtnetworkd, for networks) in a network namespace of the test's
own (test_lxc_hotplug.py's Netns, with its bridge br0), so every veth and bridge stays
there.

- <interface type='bridge'> from the start: the supervisor's veth pair has its host end on
  the bridge, the container's end inside with the interface's MAC;
- <interface type='network'> from the start and attached live: a port of the network for
  each, the host end on the port's bridge, the live XML as libvirt shows it (<source
  network= portid= bridge=>), the ports given back at detach and when the container stops.
"""

import re

import pytest

from test_lxc import lxc, wait_until  # noqa: F401 (lxc: the fixture)
from test_lxc_hotplug import container_links, inactive, netns  # noqa: F401 (fixture)
from guests import libvirt

BRIDGE_NET = "<interface type='bridge'><mac address='%s'/><source bridge='br0'/></interface>"
# A network of forward mode bridge on the namespace's br0: its ports are plugged on br0
# (libvirt's live XML then says type 'bridge'); test_netguest.py has networks of both kinds.
NETWORK_XML = """<network>
  <name>lxcnet</name>
  <forward mode='bridge'/>
  <bridge name='br0'/>
</network>"""


def test_bridge_interface_from_the_start(lxc, netns):  # noqa: F811
    lxc.start_daemon(wrapper=netns.wrapper)
    c = lxc.open()
    try:
        dom = c.defineXML(lxc.xml("brstart", devices=BRIDGE_NET % "52:54:00:aa:ee:01"))
        dom.create()
        pid = lxc.init_pid("brstart")
        assert container_links(pid).get("eth0") == "52:54:00:aa:ee:01"
        host_end = re.search(r"<target dev='([^']+)'/>", dom.XMLDesc(0)).group(1)
        assert host_end in netns.ip("-o", "link", "show", "master", "br0")
        dom.destroy()
        assert host_end not in netns.ip("-o", "link")
        dom.undefine()
    finally:
        c.close()


def ports(net):
    return sorted(p.UUIDString() for p in net.listAllPorts())


def test_network_interfaces(lxc, netns, daemons):  # noqa: F811
    daemons.start(name="virtnetworkd", label="virtnetworkd-lxc", wrapper=netns.wrapper)
    lxc.start_daemon(wrapper=netns.wrapper)
    c = lxc.open()
    net = None
    try:
        net = c.networkDefineXML(NETWORK_XML)
        net.create()
        dom = c.defineXML(lxc.xml("netstart", devices=(
            "<interface type='network'><mac address='52:54:00:aa:ee:02'/>"
            "<source network='lxcnet'/></interface>")))
        dom.create()
        pid = lxc.init_pid("netstart")
        live = dom.XMLDesc(0)
        m = re.search(r"<interface type='bridge'>\s*<mac address='52:54:00:aa:ee:02'/>\s*"
                      r"<source network='lxcnet' portid='([0-9a-f-]{36})' bridge='br0'/>"
                      r"\s*<target dev='([^']+)'/>", live)
        assert m, live
        portid, host_end = m.groups()
        assert ports(net) == [portid]
        assert host_end in netns.ip("-o", "link", "show", "master", "br0")
        assert container_links(pid).get("eth0") == "52:54:00:aa:ee:02"
        assert "portid" not in inactive(dom)

        # Live attach and detach: a second port, given back.
        dom.attachDeviceFlags("<interface type='network'><mac address='52:54:00:aa:ee:03'/>"
                              "<source network='lxcnet'/></interface>",
                              libvirt.VIR_DOMAIN_AFFECT_LIVE)
        assert len(ports(net)) == 2
        assert "52:54:00:aa:ee:03" in container_links(pid).values()
        dom.detachDeviceFlags("<interface type='network'><mac address='52:54:00:aa:ee:03'/>"
                              "<source network='lxcnet'/></interface>",
                              libvirt.VIR_DOMAIN_AFFECT_LIVE)
        assert wait_until(lambda: ports(net) == [portid])

        dom.destroy()
        assert host_end not in netns.ip("-o", "link")
        assert wait_until(lambda: ports(net) == [])
        dom.undefine()
    finally:
        if net is not None:
            try:
                net.destroy()
            except libvirt.libvirtError:
                pass
            net.undefine()
        c.close()
