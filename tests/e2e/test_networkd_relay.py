"""test_networkd_relay.py: virtnetworkd reached the ways libvirt's clients reach its network
driver: through virtqemud (qemu:///system: its network calls and network events relayed to
virtnetworkd's socket, as libvirt's per-driver daemons open network:///system for a
hypervisor connection) and through virtproxyd (network:///system routed to virtnetworkd, by
hand-off and by relay), and the read-only socket. The ports a hypervisor daemon asks for
(NETWORK_PORT_CREATE_XML with RECLAIM after its restart) are checked here too."""

import threading

import libvirt
import pytest

from guests import ensure_event_loop
from test_family_relay import qemu_uri, start_family, start_qemud, virsh
from test_networkd import BRIDGE_XML, BRN, NAT, NAT_XML, PORT_UUID, PORT_XML, error_of


def net_uri(d, ro=False):
    return "network:///system?socket=%s" % (d.sock_ro if ro else d.sock)


def test_networks_through_qemud(daemons, root, tmp_path):
    """virsh and python3-libvirt on virtqemud's socket define, list, dump, start, stop and
    undefine networks; virtnetworkd holds them (the definition file is its). A network event
    registered through virtqemud arrives."""
    q = start_qemud(daemons)
    n = start_family(daemons, "virtnetworkd")
    u = qemu_uri(q)
    (tmp_path / "n.xml").write_text(NAT_XML)
    virsh(u, "net-define", str(tmp_path / "n.xml"))
    assert virsh(u, "net-list", "--all", "--name").split() == [NAT]
    assert virsh(u, "net-dumpxml", NAT) == virsh(net_uri(n), "net-dumpxml", NAT)
    assert (root / "etc/libvirt/qemu/networks" / (NAT + ".xml")).exists()

    ensure_event_loop()
    c = libvirt.open(u)
    seen = []
    cond = threading.Condition()

    def cb(conn, net, event, detail, opaque):
        with cond:
            seen.append((net.name(), event))
            cond.notify_all()

    cid = c.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, cb, None)
    try:
        net = c.networkDefineXML(BRIDGE_XML)
        net.create()
        port = net.portCreateXML(PORT_XML)
        assert [p.UUIDString() for p in net.listAllPorts()] == [PORT_UUID]
        port.delete()
        net.destroy()
        net.undefine()
        c.networkLookupByName(NAT).undefine()
        with cond:
            cond.wait_for(lambda: len(seen) >= 5, 30)
        assert seen == [(BRN, libvirt.VIR_NETWORK_EVENT_DEFINED),
                        (BRN, libvirt.VIR_NETWORK_EVENT_STARTED),
                        (BRN, libvirt.VIR_NETWORK_EVENT_STOPPED),
                        (BRN, libvirt.VIR_NETWORK_EVENT_UNDEFINED),
                        (NAT, libvirt.VIR_NETWORK_EVENT_UNDEFINED)]
        # The hypervisor's own calls are still its own.
        assert c.getType() == "QEMU"
    finally:
        c.networkEventDeregisterAny(cid)
        c.close()


def test_readonly(daemons):
    """The read-only socket lists and dumps; what changes a network is denied with libvirt's
    error naming the API."""
    n = start_family(daemons, "virtnetworkd")
    rw = libvirt.open(net_uri(n))
    ro = libvirt.openReadOnly(net_uri(n, ro=True))
    try:
        rw.networkDefineXML(BRIDGE_XML)
        assert [x.name() for x in ro.listAllNetworks()] == [BRN]
        assert "<name>%s</name>" % BRN in ro.networkLookupByName(BRN).XMLDesc()
        assert error_of(ro.networkLookupByName(BRN).create) == (
            libvirt.VIR_ERR_OPERATION_DENIED, libvirt.VIR_FROM_NETWORK,
            "operation forbidden: read only access prevents virNetworkCreate")
        assert error_of(ro.networkDefineXML, NAT_XML) == (
            libvirt.VIR_ERR_OPERATION_DENIED, libvirt.VIR_FROM_NETWORK,
            "operation forbidden: read only access prevents virNetworkDefineXML")
        rw.networkLookupByName(BRN).undefine()
    finally:
        rw.close()
        ro.close()


@pytest.mark.parametrize("mode", ["handoff", "relay"])
def test_proxy_routes_network_uri(daemons, root, mode):
    """virtproxyd routes network:///system to virtnetworkd, by hand-off and by relay."""
    etc = root / "etc" / "libvirt"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "virtproxyd.conf").write_text("client_handoff = %d\n" % (mode == "handoff"))
    start_family(daemons, "virtnetworkd")
    sock = root / "run" / "libvirt" / "libvirt-sock"
    daemons.start(name="virtproxyd", label="virtproxyd", ready_path=sock,
                  args=["--timeout", "0"])
    c = libvirt.open("network:///system?socket=%s" % sock)
    try:
        assert c.getURI().startswith("network:///system")
        c.networkDefineXML(NAT_XML)
        assert [x.name() for x in c.listAllNetworks()] == [NAT]
        c.networkLookupByName(NAT).undefine()
    finally:
        c.close()


def test_port_reclaim(daemons):
    """A hypervisor daemon restarted gives its ports back with their plug (RECLAIM): taken
    as they are; a port given back without one, or a new one with one, is refused as
    libvirt refuses them."""
    n = start_family(daemons, "virtnetworkd")
    c = libvirt.open(net_uri(n))
    try:
        net = c.networkDefineXML(BRIDGE_XML)
        net.create()
        port = net.portCreateXML(PORT_XML)
        plugged = port.XMLDesc()
        port.delete()
        assert error_of(net.portCreateXML, PORT_XML, libvirt.VIR_NETWORK_PORT_CREATE_RECLAIM) \
            == (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_NETWORK,
                "invalid argument: Port reclaim requested but plug type is none")
        assert error_of(net.portCreateXML, plugged, 0) == (
            libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_NETWORK,
            "invalid argument: Port reclaim not requested but plug type is not none")
        back = net.portCreateXML(plugged, libvirt.VIR_NETWORK_PORT_CREATE_RECLAIM)
        assert back.XMLDesc() == plugged
        assert error_of(net.portCreateXML, plugged, libvirt.VIR_NETWORK_PORT_CREATE_RECLAIM) \
            == (libvirt.VIR_ERR_NETWORK_PORT_EXIST, libvirt.VIR_FROM_NETWORK,
                "network port %s exists already"
                % ("Network port with UUID %s already exists" % PORT_UUID))
        net.destroy()
        assert error_of(net.portLookupByUUIDString, PORT_UUID) == (
            libvirt.VIR_ERR_NO_NETWORK_PORT, libvirt.VIR_FROM_NETWORK,
            "network port not found: Network port with UUID %s does not exist" % PORT_UUID)
        net.undefine()
    finally:
        c.close()
