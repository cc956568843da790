"""test_netguest_libvirtd.py: a guest on a virtual network, on Debian's libvirtd 9.0 and on
ours, the live XML of its interface and the network's port compared.

Debian's libvirtd starts networks for real (bridges, firewall), so it runs here in network
and mount namespaces of its own (`unshare -m -n`): private copies of libvirt's directories
(/etc, /run, /var/lib, /var/log and /var/cache of libvirt) and its socket in the test's
directory, so it shares nothing with the session's reference libvirtd and nothing it makes
reaches the host. Ours (virtnetworkd and virtqemud) runs in a namespace of the test's too
(test_netguest.py's NetHost). The same network (forward mode bridge on a bridge br0 the test
makes in each namespace: libvirt's host-bridge network, whose start needs no data plane) and
the same guest (Guest A, TCG) on both; compared:
- the live <interface> (libvirt's public form of the port: type 'bridge', <source network=
  portid= bridge=>, <target dev='vnet0'>), the port id aside (each network makes its own);
- the port's XML (net-port-dumpxml): owner, MAC, group, plug;
- the status file's form (<actual type=><source bridge=/></actual>);
- the inactive XML after destroy, and no port left.
And the Linux test guest (same MAC) on the same NAT network of each: the DHCP lease it
takes, DOMAIN_INTERFACE_ADDRESSES with the lease source, `net-dhcp-leases` (expiry aside)
and DOMAIN_GET_HOSTNAME by lease are the same.
And a network with a bridge of its own restarted under a running guest, then the hypervisor
daemon restarted: the port gone until then, there again under its id after, the tap back on
the bridge, on both.
The namespaces go with the processes that hold them.
"""

import os
import re
import shutil
import signal
import subprocess
import time
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import linuxguest
from guests import QEMU, domain_xml, ensure_event_loop, guest_elf, libvirt
from test_netguest import NetHost, wait_until
from test_qemu_net import netns  # noqa: F401 (fixture)

pytestmark = pytest.mark.slow

LIBVIRTD = "/usr/sbin/libvirtd"

NETWORK = """<network>
  <name>svnet</name>
  <forward mode='bridge'/>
  <bridge name='br0'/>
  <portgroup name='pg1'/>
</network>"""

INTERFACE = ("<interface type='network'><mac address='52:54:00:5e:0a:01'/>"
             "<source network='svnet' portgroup='pg1'/><model type='virtio'/></interface>")

# Run by python3 inside the new namespaces: libvirt's directories made private, then
# libvirtd in the foreground (argv: work dir).
INNER = r"""
import os, subprocess, sys
work = sys.argv[1]
def run(*argv):
    subprocess.run(argv, check=True)
run("mount", "-t", "tmpfs", "tmpfs", "/run/libvirt")
for d, own in (("/etc/libvirt", "etc"), ("/var/lib/libvirt", "lib"),
               ("/var/log/libvirt", "log"), ("/var/cache/libvirt", "cache")):
    run("mount", "--bind", os.path.join(work, own), d)
run("ip", "link", "set", "lo", "up")
run("ip", "link", "add", "br0", "type", "bridge")
run("ip", "link", "set", "br0", "up")
os.execv("/usr/sbin/libvirtd", ["libvirtd", "-f", "/etc/libvirt/libvirtd.conf",
                                "-p", os.path.join(work, "libvirtd.pid")])
"""


class PrivateLibvirtd:
    """Debian's libvirtd in namespaces of its own, reached on work/sock/libvirt-sock."""

    def __init__(self, work):
        self.work = Path(work)
        self.work.mkdir()
        for own in ("lib", "log", "cache", "sock"):
            (self.work / own).mkdir()
        shutil.copytree("/etc/libvirt", self.work / "etc", symlinks=True)
        (self.work / "etc" / "libvirtd.conf").write_text(
            'unix_sock_dir = "%s"\n' % (self.work / "sock"))
        if os.path.isdir("/var/cache/libvirt/qemu"):  # QEMU's probe, done once already
            shutil.copytree("/var/cache/libvirt/qemu", self.work / "cache" / "qemu",
                            symlinks=True)
        self.log = open(self.work / "libvirtd.log", "wb")
        self.proc = subprocess.Popen(
            ["unshare", "-m", "-n", "--propagation", "private", "/usr/bin/python3", "-c",
             INNER, str(self.work)], stdout=self.log, stderr=subprocess.STDOUT)
        self.sock = self.work / "sock" / "libvirt-sock"
        self.uri = "qemu+unix:///system?socket=%s" % self.sock
        deadline = time.monotonic() + 120
        while not self.sock.exists():
            assert self.proc.poll() is None, "libvirtd exited: %s" % self.tail()
            assert time.monotonic() < deadline, "libvirtd did not listen: %s" % self.tail()
            time.sleep(0.1)
        ensure_event_loop()  # before the connection, or its console streams never read
        self.conn = libvirt.open(self.uri)

    def tail(self):
        return (self.work / "libvirtd.log").read_text(errors="replace")[-2000:]

    def pid(self):
        return int((self.work / "libvirtd.pid").read_text().split()[0])

    def status_file(self, name):
        """Its status file, seen through its mount namespace."""
        return Path("/proc/%d/root/run/libvirt/qemu/%s.xml" % (self.pid(), name))

    def restart(self, holder_pid):
        """libvirtd stopped and started again in the same namespaces (held meanwhile by
        holder_pid, a guest's QEMU)."""
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        self.sock.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            ["nsenter", "-t", str(holder_pid), "-m", "-n", LIBVIRTD, "-f",
             "/etc/libvirt/libvirtd.conf", "-p", str(self.work / "libvirtd.pid")],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not self.sock.exists():
            assert self.proc.poll() is None, "libvirtd exited: %s" % self.tail()
            assert time.monotonic() < deadline, "libvirtd did not listen: %s" % self.tail()
            time.sleep(0.1)
        self.conn = libvirt.open(self.uri)

    def qemu_pid(self, name):
        path = Path("/proc/%d/root/run/libvirt/qemu/%s.pid" % (self.pid(), name))
        return int(path.read_text().split()[0])

    def links(self):
        return subprocess.run(["nsenter", "-t", str(self.pid()), "-n", "ip", "-o", "link"],
                              capture_output=True, text=True, check=True).stdout

    def close(self):
        try:
            for dom in self.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                dom.destroy()
            self.conn.close()
        finally:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()


@pytest.fixture
def private_libvirtd(tmp_path):
    if not os.path.exists(LIBVIRTD) or not os.path.exists(QEMU):
        pytest.skip("Debian's libvirtd or QEMU is not installed")
    d = PrivateLibvirtd(tmp_path / "libvirtd")
    yield d
    d.close()


def interface_of(xml):
    return ET.fromstring(xml).find("devices/interface")


def shape(el):
    """An element as text with the port id made the same (each network makes its own)."""
    text = ET.tostring(el, encoding="unicode")
    return re.sub(r"portid=\"[0-9a-f-]{36}\"", "portid=\"ID\"", text)


def run_on(conn, kernel, tmp_path):
    """net and guest defined and started on conn: (live XML, port XML, port id)."""
    net = conn.networkDefineXML(NETWORK)
    net.create()
    xml = domain_xml("ngparity", kernel).replace("<serial type='pty'/>",
                                                 INTERFACE + "<serial type='pty'/>")
    dom = conn.defineXML(xml)
    dom.create()
    live = dom.XMLDesc(0)
    portid = interface_of(live).find("source").get("portid")
    port = net.portLookupByUUIDString(portid).XMLDesc()
    return net, dom, live, port, portid


def test_live_interface_and_port_as_libvirtd(private_libvirtd, daemons, root, netns,  # noqa
                                             tmp_path):
    if not guest_elf().exists():
        pytest.skip("test guest %s not built" % guest_elf())
    kernel = tmp_path / "svguest.elf"
    shutil.copyfile(guest_elf(), kernel)
    theirs = run_on(private_libvirtd.conn, kernel, tmp_path)
    ours_host = NetHost(daemons, root, netns)
    try:
        ours = run_on(ours_host.conn, kernel, tmp_path)
        t_net, t_dom, t_live, t_port, t_id = theirs
        o_net, o_dom, o_live, o_port, o_id = ours
        # The live interface, as libvirtd shows it.
        assert shape(interface_of(o_live)) == shape(interface_of(t_live))
        assert "<source network=\"svnet\" portgroup=\"pg1\" portid=\"ID\" bridge=\"br0\" />" \
            in shape(interface_of(t_live))
        # The port: the same but for its id and the guest's UUID (each daemon's domain).
        same = (lambda x, pid, dom: x.replace(pid, "ID").replace(dom.UUIDString(), "DOM"))
        assert same(o_port, o_id, o_dom) == same(t_port, t_id, t_dom)
        # What the status file keeps of the plug.
        t_status = private_libvirtd.status_file("ngparity").read_text()
        o_status = (root / "run" / "libvirt" / "qemu" / "ngparity.xml").read_text()
        actual = r"<source network='svnet' portgroup='pg1' portid='[0-9a-f-]{36}'/>\s*" \
                 r"<actual type='bridge'>\s*<source bridge='br0'/>\s*</actual>"
        assert re.search(actual, t_status), t_status
        assert re.search(actual, o_status), o_status
        # Destroyed: no port, the inactive XML as defined, the tap gone.
        for net, dom in ((t_net, t_dom), (o_net, o_dom)):
            dom.destroy()
            wait_until(lambda: not net.listAllPorts(), "the port to go")
        assert shape(interface_of(o_dom.XMLDesc(0))) == shape(interface_of(t_dom.XMLDesc(0)))
        assert "vnet0" not in private_libvirtd.links()
        for net, dom in ((t_net, t_dom), (o_net, o_dom)):
            dom.undefine()
            net.destroy()
            net.undefine()
    finally:
        problems = ours_host.finish()
        assert not problems, problems


# ---------------------------------------------------------------- a lease, seen by each

NAT_NETWORK = """<network>
  <name>svnat</name>
  <forward mode='nat'/>
  <bridge name='svbr2'/>
  <ip address='192.168.154.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.154.100' end='192.168.154.150'/>
    </dhcp>
  </ip>
</network>"""

LINUX_MAC = "52:54:00:5e:0c:01"


def boot_linux(conn, boot, disk):
    """The Linux guest on conn's NAT network (boot: kernel and initrd readable by any
    daemon's QEMU), started paused with its console open, then let go; (domain, console)."""
    from guests import ConsoleReader

    net = conn.networkDefineXML(NAT_NETWORK)
    net.create()
    xml = linuxguest.domain_xml(
        "nglease", boot, disk,
        interface="<interface type='network'><mac address='%s'/>"
                  "<source network='svnat'/><model type='virtio'/></interface>" % LINUX_MAC,
        cmdline="sv.net sv.ping=192.168.154.1")
    dom = conn.defineXML(xml)
    dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    con = ConsoleReader(conn, dom)
    dom.resume()
    con.wait_for("READY", timeout=linuxguest.BOOT_TIMEOUT)
    return net, dom, con


def lease_rows(uri):
    """virsh net-dhcp-leases svnat without the expiry time (each daemon's clock)."""
    out = subprocess.run(["virsh", "-q", "-c", uri, "net-dhcp-leases", "svnat"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [line.split()[2:] for line in out.splitlines() if line.strip()]


def test_linux_guest_lease_as_libvirtd(private_libvirtd, daemons, root, netns,  # noqa: F811
                                       guest, tmp_path):
    """The same guest (MAC included) on the same NAT network of each: the lease its DHCP
    client takes, the lease source of DOMAIN_INTERFACE_ADDRESSES, the network's lease list
    (expiry aside) and the hostname lookup by lease are the same."""
    os.chmod(tmp_path, 0o755)
    files = tmp_path / "files"
    files.mkdir(mode=0o755)
    boot = types.SimpleNamespace(**linuxguest.boot_files_for(guest, files))
    results = {}
    ours_host = NetHost(daemons, root, netns)
    try:
        for who, conn, uri in (("libvirtd", private_libvirtd.conn, private_libvirtd.uri),
                               ("ours", ours_host.conn, ours_host.uri)):
            disk = files / ("root-%s.qcow2" % who)
            guest.copy_root(disk)
            os.chmod(disk, 0o644)
            net, dom, con = boot_linux(conn, boot, disk)
            text = con.data.decode(errors="replace")
            m = re.search(r"NET: eth0 mac=%s addr=(\S+)\r?\n" % LINUX_MAC, text)
            assert m and "PING: 192.168.154.1 ok" in text, (who, text)
            try:
                dom.hostname(libvirt.VIR_DOMAIN_GET_HOSTNAME_LEASE)
                hostname = "ok"
            except libvirt.libvirtError as e:
                hostname = (e.get_error_code(), e.get_error_domain(), e.get_error_message())
            results[who] = (m.group(1),
                            dom.interfaceAddresses(
                                libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE),
                            lease_rows(uri), hostname)
            con.close()
            dom.destroy()
            dom.undefine()
            net.destroy()
            net.undefine()
        assert results["ours"] == results["libvirtd"]
        assert results["ours"][0].startswith("192.168.154.")
    finally:
        problems = ours_host.finish()
        assert not problems, problems


# ---------------------------------------------------------------- a network restarted

ISOLATED = "<network><name>sviso</name><bridge name='svbr9'/></network>"


def master_of(links, tap):
    m = re.search(r"^\d+: %s[:@].* master (\S+)" % re.escape(tap), links, re.M)
    return m.group(1) if m else None


def test_network_restart_then_reconnect_as_libvirtd(private_libvirtd, daemons, root,  # noqa
                                                    netns, tmp_path):
    """A network (with a bridge of its own) destroyed and started again under a running
    guest, then the hypervisor daemon restarted: on libvirtd and on ours, the port is gone
    until the restart, then there again under the same id, and the tap back on the new
    bridge."""
    if not guest_elf().exists():
        pytest.skip("test guest %s not built" % guest_elf())
    kernel = tmp_path / "svguest.elf"
    shutil.copyfile(guest_elf(), kernel)
    ours_host = NetHost(daemons, root, netns)
    seen = {}
    try:
        for who in ("libvirtd", "ours"):
            conn = private_libvirtd.conn if who == "libvirtd" else ours_host.conn
            links = private_libvirtd.links if who == "libvirtd" else \
                (lambda: subprocess.run(["ip", "-n", netns, "-o", "link"], capture_output=True,
                                        text=True, check=True).stdout)
            net = conn.networkDefineXML(ISOLATED)
            net.create()
            dom = conn.defineXML(domain_xml("ngre", kernel).replace(
                "<serial type='pty'/>", "<interface type='network'><source network='sviso'/>"
                "</interface><serial type='pty'/>"))
            dom.create()
            src = interface_of(dom.XMLDesc(0)).find("source")
            tap = interface_of(dom.XMLDesc(0)).find("target").get("dev")
            portid = src.get("portid")
            steps = [(len(net.listAllPorts()), master_of(links(), tap))]
            net.destroy()
            net.create()
            steps.append((len(net.listAllPorts()), master_of(links(), tap)))
            if who == "libvirtd":
                private_libvirtd.restart(private_libvirtd.qemu_pid("ngre"))
                conn = private_libvirtd.conn
            else:
                ours_host.restart_qemud()
                conn = ours_host.conn
            net = conn.networkLookupByName("sviso")
            wait_until(lambda: net.listAllPorts(), "the port to be there again")
            wait_until(lambda: master_of(links(), tap), "the tap to be on a bridge")
            steps.append(([p.UUIDString() for p in net.listAllPorts()] == [portid],
                          master_of(links(), tap)))
            dom = conn.lookupByName("ngre")
            steps.append(interface_of(dom.XMLDesc(0)).find("source").get("portid") == portid)
            seen[who] = steps
            dom.destroy()
            dom.undefine()
            net.destroy()
            net.undefine()
        assert seen["libvirtd"] == [(1, "svbr9"), (0, None), (True, "svbr9"), True]
        assert seen["ours"] == seen["libvirtd"]
    finally:
        problems = ours_host.finish()
        assert not problems, problems
