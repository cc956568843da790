"""test_network_guests.py: guests on virtual networks (issue 20's Done-when), against our
daemons (virtnetworkd + virtqemud) and against Debian's libvirtd 9.0.0 in the same test.

Each side runs in a namespace of its own (test_virt_install_default_pool.Namespace with a
network namespace): its bridges, dnsmasq and firewall rules never reach the host's. A second
network namespace, made by the test, stands in for the outside world: a veth pair joins it
(OUTSIDE_ADDR) to the side's namespace (UPLINK_ADDR, default route through the outside), so
a guest reaches OUTSIDE_ADDR only through the side's NAT or routing.

The guest is the Linux test guest (linuxguest.py) with no disk, started by `virt-install
--network network=NAME` with direct kernel boot: its init takes a DHCP lease with busybox
udhcpc (`sv.net`), looks a name up through the lease's DNS server (`sv.dns=`) and pings an
address (`sv.ping=`), printing what it got on the serial console, read through the side's
daemon. Then `virsh net-dhcp-leases` and `virsh domifaddr --source lease` must show the
address the guest printed.

What is compared: the guest's lease (in the network's range), the DNS answer (the network's
<dns><host>), reachability of the outside, and what net-dhcp-leases and domifaddr show,
normalised for what must differ between two runs (MACs, expiry times, the address picked).
Slow; starts a libvirtd of its own (run it under the libvirtd lock). Differences kept on
purpose are named where they are checked: libvirt 9.0 writes iptables rules, we write
nftables rules (test_net_firewall.py compares the rules themselves).
"""

import os
import re
import shutil
import subprocess
import time
import uuid

import libvirt
import pytest

import linuxguest
from guests import uri_for
from test_virt_install_default_pool import Namespace, start_libvirtd
from test_virt_install_disks import Side
from xmlparity import bench_lib

pytestmark = pytest.mark.slow

LIBVIRTD = "/usr/sbin/libvirtd"
OUTSIDE_ADDR = "198.51.100.1"
UPLINK_ADDR = "198.51.100.2"
DNS_NAME = "outside.example"
DNS_ADDR = "192.0.2.77"
BOOT_TIMEOUT = 180

# The default network as Debian's libvirt-daemon-config-network installs it, with one DNS
# host entry for the guest to resolve.
NAT_XML = """<network>
  <name>%(name)s</name>
  <forward mode='nat'/>
  <bridge name='%(bridge)s' stp='on' delay='0'/>
  <dns><host ip='%(dns_addr)s'><hostname>%(dns_name)s</hostname></host></dns>
  <ip address='%(prefix)s.1' netmask='255.255.255.0'>
    <dhcp><range start='%(prefix)s.2' end='%(prefix)s.254'/></dhcp>
  </ip>
</network>
"""


def skip_without_tools():
    for tool in ("unshare", "nsenter", "virt-install", "ip"):
        if not shutil.which(tool):
            pytest.skip("needs %s" % tool)
    if not os.path.exists(LIBVIRTD):
        pytest.skip("Debian's libvirtd is not installed (scripts/deps.sh installs it)")


def ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=30,
                          check=check)


class Outside:
    """A network namespace standing for the outside world, joined to the side namespace
    `ns` (held by ns.proc) by a veth pair: OUTSIDE_ADDR there, UPLINK_ADDR in ns, whose
    default route goes through it. routes: (subnet, via) the outside knows back."""

    def __init__(self, ns):
        self.name = "svout-" + uuid.uuid4().hex[:8]
        ip("netns", "add", self.name)
        tag = uuid.uuid4().hex[:6]
        up, out = "svu" + tag, "svo" + tag
        ip("link", "add", up, "type", "veth", "peer", "name", out)
        ip("link", "set", out, "netns", self.name)
        ip("link", "set", up, "netns", str(ns.proc.pid))
        ip("-n", self.name, "link", "set", "lo", "up")
        ip("-n", self.name, "addr", "add", OUTSIDE_ADDR + "/24", "dev", out)
        ip("-n", self.name, "link", "set", out, "up")
        inside = ns.wrap + ["ip"]
        for args in (["link", "set", up, "name", "uplink0"],
                     ["addr", "add", UPLINK_ADDR + "/24", "dev", "uplink0"],
                     ["link", "set", "uplink0", "up"],
                     ["route", "add", "default", "via", OUTSIDE_ADDR]):
            subprocess.run(inside + args, check=True, capture_output=True, timeout=30)

    def route_back(self, subnet):
        ip("-n", self.name, "route", "replace", subnet, "via", UPLINK_ADDR)

    def close(self):
        ip("netns", "del", self.name, check=False)


class NetSide(Side):
    """A Side (test_virt_install_disks.py) with a network namespace and its outside."""

    def __init__(self, label, uri, top, root, ns, conn_uri):
        super().__init__(label, uri, top, root, ns.wrap, ns.view)
        self.ns = ns
        self.conn_uri = conn_uri  # the URI this process reaches the daemon through
        self.outside = Outside(ns)


@pytest.fixture(scope="module")
def guest():
    return linuxguest.build()


@pytest.fixture(scope="module")
def ours_side(module_daemons, tmp_path_factory):
    skip_without_tools()
    work = tmp_path_factory.mktemp("ours-netns")
    ns = Namespace("ours", work, net=True)
    try:
        started = {}
        for name in ("virtnetworkd", "virtqemud"):
            started[name] = d = module_daemons.start(name=name, label=name + "-netns",
                                                     args=["--timeout", "0"], wrapper=ns.wrap)
        # dnsmasq reads its hosts files as `nobody`, as libvirt runs it: the test's root
        # must let it through (the system's /var/lib/libvirt/dnsmasq does)
        os.chmod(d.root, 0o755)
        side = NetSide("ours", uri_for(d.sock), work, d.root, ns, uri_for(d.sock))
        side.daemons, side.module_daemons = started, module_daemons
        try:
            yield side
        finally:
            for name in side.names("list", "--all", "--name"):
                side.virsh("destroy", name, check=False)
            for name in side.names("net-list", "--all", "--name"):
                side.virsh("net-destroy", name, check=False)  # dnsmasq outlives its daemon
            side.outside.close()
    finally:
        ns.close()


@pytest.fixture(scope="module")
def libvirtd_side(tmp_path_factory):
    skip_without_tools()
    lib = bench_lib()
    lib.ensure_account()
    lib.ensure_qemu_conf()
    work = tmp_path_factory.mktemp("libvirtd-netns")
    shutil.copytree("/etc/libvirt", work / "etc-libvirt", ignore=shutil.ignore_patterns(
        "storage", "qemu", "secrets"))
    ns = Namespace("libvirtd", work, net=True)
    try:
        procs, side = start_libvirtd(ns, work)
        sock = "%s/run/libvirt/libvirt-sock" % ns.view
        nside = NetSide("libvirtd", side.uri, work, None, ns, "qemu:///system?socket=" + sock)
        try:
            yield nside
        finally:
            for name in nside.names("list", "--all", "--name"):
                nside.virsh("destroy", name, check=False)
            for name in nside.names("net-list", "--all", "--name"):
                nside.virsh("net-destroy", name, check=False)
            nside.outside.close()
            procs.stop_all()
    finally:
        ns.close()


def define_network(side, xml):
    path = side.top / "net.xml"
    path.write_text(xml)
    side.virsh("net-define", str(path))


def install_guest(side, guest, name, network, words):
    """virt-install NAME on network NETWORK: the Linux test guest booting its initramfs with
    the kernel command-line words, its serial console in a file; started by virt-install
    and left running (--noautoconsole). The console file's path."""
    files = linuxguest.boot_files_for(guest, side.top)
    side.top.chmod(0o755)
    log = side.top / ("%s.console" % name)
    args = ["virt-install", "--connect", side.uri, "--virt-type", "qemu", "--name", name,
            "--memory", "256", "--vcpus", "1", "--osinfo", "debian11", "--graphics", "none",
            "--disk", "none", "--network", "network=%s,model=virtio" % network,
            "--boot", "kernel=%s,initrd=%s,kernel_args=%s" % (
                files["kernel"], files["initrd"],
                " ".join([linuxguest.CMDLINE_BASE] + words)),
            "--install", "no_install=yes", "--serial", "file,path=%s" % log,
            "--noautoconsole"]
    r = subprocess.run(side.wrap + args, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, "%s: virt-install: %s%s" % (side.label, r.stdout, r.stderr)
    return log


def wait_console(log, marker, timeout=BOOT_TIMEOUT):
    """The console file's text once it holds marker (generous: a TCG guest's boot)."""
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(errors="replace") if log.exists() else ""
        if marker in text:
            return text
        if time.monotonic() > deadline:
            raise AssertionError("no %r on %s within %d s; output:\n%s"
                                 % (marker, log, timeout, text[-3000:]))
        time.sleep(0.5)


def console_fields(text, key):
    """The words after `KEY: ` on the guest's console lines."""
    return [ln.split(": ", 1)[1].split() for ln in text.splitlines()
            if ln.startswith(key + ": ")]


def net_xml(name, bridge, prefix, forward="<forward mode='nat'/>"):
    xml = NAT_XML % dict(name=name, bridge=bridge, prefix=prefix, dns_addr=DNS_ADDR,
                         dns_name=DNS_NAME)
    return xml.replace("<forward mode='nat'/>", forward)


def guest_net(text):
    """(mac, address) the guest printed on its NET line."""
    fields = dict(w.split("=", 1) for w in console_fields(text, "NET")[0][1:])
    return fields["mac"], fields["addr"]


def leases(side, network):
    """net-dhcp-leases NETWORK's lines as (MAC, protocol, address/prefix, hostname,
    client id): the expiry time differs by when each side ran."""
    out = side.virsh("net-dhcp-leases", network).stdout
    rows = []
    for ln in out.splitlines():
        f = ln.split()
        if len(f) >= 7 and re.match(r"\d{4}-\d\d-\d\d", f[0]):
            rows.append(tuple(f[2:7]))
    return sorted(rows)


def domifaddr(side, name):
    """domifaddr NAME --source lease: (MAC, protocol, address/prefix) per line."""
    out = side.virsh("domifaddr", name, "--source", "lease").stdout
    return sorted(tuple(ln.split()[1:4]) for ln in out.splitlines()
                  if ln.split() and re.match(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", ln.split()[1]))


def in_side(side, *argv):
    return subprocess.run(side.wrap + list(argv), capture_output=True, text=True, timeout=60)


def host_ping(side, addr):
    """Whether the side's namespace reaches addr (busybox's ping: iputils may be absent)."""
    return in_side(side, "busybox", "ping", "-c", "1", "-W", "5", addr).returncode == 0


def boot_on(side, guest, name, network, words):
    """The guest's console text once READY, and its (mac, address)."""
    log = install_guest(side, guest, name, network, words)
    text = wait_console(log, "READY")
    return text, guest_net(text)


def observe_nat(side, guest):
    """The NAT scenario on one side: what a client sees, with the values that must differ
    between sides (MAC, the address picked in the range) replaced by names."""
    side.virsh("net-start", "default")
    name = "svnet-nat"
    text, (mac, addr) = boot_on(side, guest, name, "default",
                                ["sv.net", "sv.dns=" + DNS_NAME, "sv.ping=" + OUTSIDE_ADDR])
    seen = {"addr_in_range": addr.startswith("192.168.122.") and addr.endswith("/24"),
            "dns": console_fields(text, "DNS"), "ping": console_fields(text, "PING")}
    def subst(row):  # the client id udhcpc sends is 01:MAC
        return tuple("ADDR" if v == addr else v.replace(mac, "MAC") for v in row)
    seen["leases"] = [subst(r) for r in leases(side, "default")]
    seen["domifaddr"] = [subst(r) for r in domifaddr(side, name)]
    seen["host_to_guest"] = host_ping(side, addr.split("/")[0])
    return seen, addr


@pytest.fixture(scope="module")
def sides(libvirtd_side, ours_side):
    for s in (libvirtd_side, ours_side):
        define_network(s, net_xml("default", "virbr0", "192.168.122"))
    return libvirtd_side, ours_side


def test_nat_network(sides, guest):
    """virt-install --network network=default: lease, DNS host entry, NAT to the outside,
    net-dhcp-leases and domifaddr --source lease; the same on both sides."""
    theirs, ours = sides
    seen_theirs, _ = observe_nat(theirs, guest)
    seen_ours, _ = observe_nat(ours, guest)
    assert seen_theirs["addr_in_range"] and seen_theirs["dns"] == [[DNS_NAME, DNS_ADDR]], \
        seen_theirs
    assert seen_theirs["ping"] == [[OUTSIDE_ADDR, "ok"]], seen_theirs
    assert seen_theirs["leases"] and seen_theirs["leases"][0][0] == "MAC", seen_theirs
    assert seen_ours == seen_theirs, "ours %r\nlibvirtd's %r" % (seen_ours, seen_theirs)


def observe_route(side, guest):
    """A routed network: the outside knows the way back, so the guest reaches it without
    NAT; DNS as on the NAT network."""
    define_network(side, net_xml("routed", "virbr1", "192.168.100",
                                 "<forward mode='route'/>"))
    side.virsh("net-start", "routed")
    side.outside.route_back("192.168.100.0/24")
    text, (_mac, addr) = boot_on(side, guest, "svnet-route", "routed",
                                 ["sv.net", "sv.dns=" + DNS_NAME, "sv.ping=" + OUTSIDE_ADDR])
    return {"addr_in_range": addr.startswith("192.168.100."),
            "dns": console_fields(text, "DNS"), "ping": console_fields(text, "PING"),
            "leases": len(leases(side, "routed"))}


def observe_isolated(side, guest):
    """An isolated network (no <forward>): a guest does not reach the outside (even with a
    route back), a second guest reaches the first."""
    define_network(side, net_xml("isolated", "virbr2", "192.168.101", ""))
    side.virsh("net-start", "isolated")
    side.outside.route_back("192.168.101.0/24")
    text_a, (_mac, addr_a) = boot_on(side, guest, "svnet-iso-a", "isolated",
                                     ["sv.net", "sv.ping=" + OUTSIDE_ADDR])
    text_b, (_mac, addr_b) = boot_on(side, guest, "svnet-iso-b", "isolated",
                                     ["sv.net", "sv.ping=" + addr_a.split("/")[0]])
    return {"in_range": [a.startswith("192.168.101.") for a in (addr_a, addr_b)],
            "outside": console_fields(text_a, "PING"),
            "guest_to_guest": [f[1] for f in console_fields(text_b, "PING")],
            "leases": len(leases(side, "isolated"))}


def test_routed_network(sides, guest):
    theirs, ours = sides
    seen = [observe_route(s, guest) for s in (theirs, ours)]
    assert seen[0] == {"addr_in_range": True, "dns": [[DNS_NAME, DNS_ADDR]],
                       "ping": [[OUTSIDE_ADDR, "ok"]], "leases": 1}, seen[0]
    assert seen[1] == seen[0], "ours %r\nlibvirtd's %r" % (seen[1], seen[0])


def test_isolated_network(sides, guest):
    theirs, ours = sides
    seen = [observe_isolated(s, guest) for s in (theirs, ours)]
    assert seen[0] == {"in_range": [True, True], "outside": [[OUTSIDE_ADDR, "failed"]],
                       "guest_to_guest": ["ok"], "leases": 2}, seen[0]
    assert seen[1] == seen[0], "ours %r\nlibvirtd's %r" % (seen[1], seen[0])


def kill_and_restart(side, name):
    """SIGKILL our daemon NAME and start a new one on the same root (and namespace)."""
    old = side.daemons[name]
    old.expected_status = -9
    old.kill()
    old.proc.wait(timeout=30)
    side.daemons[name] = side.module_daemons.start(
        name=name, label="%s-netns-%d" % (name, len(side.module_daemons.daemons)),
        args=["--timeout", "0"], wrapper=side.ns.wrap)


def port_list(side, network):
    return sorted(side.virsh("net-port-list", network).stdout.split())


def test_restarts_lose_nothing(sides, guest):
    """Ours only: with a guest plugged into the NAT network, SIGKILL virtnetworkd, then
    virtqemud: its port, its lease and its connectivity survive both."""
    _theirs, ours = sides
    if "default" not in ours.names("net-list", "--name"):
        ours.virsh("net-start", "default")
    _text, (mac, addr) = boot_on(ours, guest, "svnet-restart", "default", ["sv.net"])
    before = (port_list(ours, "default"), leases(ours, "default"))
    assert any(r[0] == mac for r in before[1]), before
    for name in ("virtnetworkd", "virtqemud"):
        kill_and_restart(ours, name)
        assert (port_list(ours, "default"), leases(ours, "default")) == before, name
        assert host_ping(ours, addr.split("/")[0]), "guest unreachable after %s restart" % name
        assert [r[0] for r in domifaddr(ours, "svnet-restart")] == [mac]


def stop_everything(side):
    """Destroy the side's guests, stop and undefine its networks; the files then left in
    its dnsmasq directory."""
    for name in side.names("list", "--all", "--name"):
        side.virsh("destroy", name, check=False)
        side.virsh("undefine", name)
    for name in side.names("net-list", "--all", "--name"):
        side.virsh("net-destroy", name, check=False)
        side.virsh("net-undefine", name)
    base = side.file("/var/lib/libvirt/dnsmasq") if side.root is None else \
        side.root / "var/lib/libvirt/dnsmasq"
    return sorted(p.name for p in base.glob("*")) if base.exists() else []


def test_nothing_left_behind(sides):
    """Guests destroyed and networks stopped and undefined: no bridge or tap, no dnsmasq,
    no nftables table of ours, no lease, status or pid file remains. The files left in the
    dnsmasq directory are the same on both sides. Kept difference: libvirt 9.0 leaves its
    (empty) LIBVIRT_* iptables chains behind after the last network stops; we remove our
    nftables tables with the last rule, so `nft list tables` is empty on our side."""
    theirs, ours = sides
    files = [stop_everything(s) for s in (theirs, ours)]
    assert files[1] == files[0], "ours %r, libvirtd's %r" % (files[1], files[0])
    links = in_side(ours, "ip", "-o", "link", "show").stdout
    assert not re.search(r"\b(virbr\d+|vnet\d+)\b", links), links
    assert in_side(ours, "nft", "list", "tables").stdout.strip() == ""
    assert "LIBVIRT_" in in_side(theirs, "iptables-save").stdout  # the difference named
    procs = subprocess.run(["pgrep", "-a", "dnsmasq"], capture_output=True, text=True).stdout
    assert str(ours.root) not in procs, procs
    pids = list((ours.root / "run/libvirt/network").glob("*.pid"))
    assert pids == [], pids
