"""test_netguest_linux.py: the Linux test guest (linuxguest.py) on a NAT, a routed and an
isolated network of our virtnetworkd, both daemons in a network namespace the test makes (test_netguest.py's
NetHost): the guest takes a DHCP lease from the network's dnsmasq through its port's tap
(busybox udhcpc, `sv.net`) and pings the network's address; DOMAIN_INTERFACE_ADDRESSES with
the lease source (`virsh domifaddr --source lease`) and the network's own lease list
(`virsh net-dhcp-leases`) show that address for the guest's MAC, as libvirt shows them; a
second interface of type network plugged live and unplugged (the guest completes the
unplug) takes its port and gives it back.

Slow: it boots Linux under TCG.
"""

import re
import subprocess

import pytest

import linuxguest
from guests import RUNNING, libvirt
from test_netguest import NetHost, interfaces, ports, wait_until
from test_qemu_net import link, netns  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow

# A network of each kind a guest takes a lease on: NAT, routed, isolated (no <forward>).
NETWORK = """<network>
  <name>svnat</name>
  %s
  <bridge name='svbr1'/>
  <ip address='192.168.153.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.153.100' end='192.168.153.150'/>
    </dhcp>
  </ip>
</network>"""
FORWARDS = {"nat": "<forward mode='nat'/>", "route": "<forward mode='route'/>",
            "isolated": ""}


@pytest.fixture
def lhost(daemons, root, request, netns, guest):  # noqa: F811
    h = NetHost(daemons, root, netns)
    yield h
    rep = getattr(request.node, "rep_call", None)
    problems = h.finish(test_failed=rep is not None and rep.failed)
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


def virsh(host, *args):
    r = subprocess.run(["virsh", "-q", "-c", host.uri, *args], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, "virsh %s: %s" % (" ".join(args), r.stderr)
    return r.stdout


@pytest.mark.parametrize("forward", sorted(FORWARDS))
def test_dhcp_lease_on_a_network(lhost, guest, tmp_path, forward):
    net = lhost.conn.networkDefineXML(NETWORK % FORWARDS[forward])
    net.create()
    files = tmp_path / "files"
    files.mkdir()
    guest.copy_root(files / "root.qcow2")
    xml = linuxguest.domain_xml(
        "nglinux", guest, files / "root.qcow2",
        interface="<interface type='network'><source network='svnat'/>"
                  "<model type='virtio'/></interface>",
        cmdline="sv.net sv.ping=192.168.153.1")
    dom = lhost.conn.defineXML(xml)
    con = linuxguest.start(lhost, dom)
    assert dom.state()[0] == RUNNING
    live = interfaces(dom)[0]
    mac = live.find("mac").get("address")
    tap = live.find("target").get("dev")
    assert live.find("source").get("bridge") == "svbr1"
    text = con.data.decode(errors="replace").replace("\r", "")
    m = re.search(r"NET: eth0 mac=%s addr=(192\.168\.153\.\d+)/24\n" % mac, text)
    assert m, text
    addr = m.group(1)
    assert "PING: 192.168.153.1 ok\n" in text, text

    # The lease source: one interface, named after its tap, with the lease's address.
    found = dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE)
    assert found == {tap: {"hwaddr": mac, "addrs": [
        {"type": libvirt.VIR_IP_ADDR_TYPE_IPV4, "addr": addr, "prefix": 24}]}}, found
    out = virsh(lhost, "domifaddr", "nglinux", "--source", "lease")
    assert re.search(r"^\s*%s\s+%s\s+ipv4\s+%s/24\s*$" % (tap, mac, re.escape(addr)), out,
                     re.M), out
    leases = virsh(lhost, "net-dhcp-leases", "svnat")
    assert mac in leases and addr + "/24" in leases, leases

    # A second NIC plugged live, then unplugged: its port comes and goes.
    nic = ("<interface type='network'><mac address='52:54:00:5e:0b:02'/>"
           "<source network='svnat'/><model type='virtio'/></interface>")
    dom.attachDeviceFlags(nic, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert len(ports(net)) == 2
    second = [i for i in interfaces(dom) if i.find("mac").get("address") == "52:54:00:5e:0b:02"]
    tap2 = second[0].find("target").get("dev")
    assert "master svbr1" in link(lhost, tap2)
    dom.detachDeviceFlags(nic, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    wait_until(lambda: len(interfaces(dom)) == 1, "the guest to complete the unplug", 60)
    wait_until(lambda: len(ports(net)) == 1, "the second port to go")
    wait_until(lambda: link(lhost, tap2) is None, "the second tap to go")

    dom.destroy()
    wait_until(lambda: ports(net) == [], "the port to go")
    assert link(lhost, tap) is None
    dom.undefine()
    net.destroy()
    net.undefine()
