"""test_qemu_net.py: a guest's interfaces on the host, with real TCG guests (Guest A).

virtqemud runs inside a network namespace the test makes (`ip netns add`), with a bridge
the test makes there, so every tap and bridge port lives and dies in that namespace and
nothing touches the host's own interfaces; the namespace is deleted at the end. Checked:
a bridge guest's tap (vnetN, shown in the live XML) is a port of the bridge, up, with
libvirt's FE-prefixed MAC while the guest runs and gone after destroy; an ethernet
guest's tap likewise, with its <mtu>; a tap the test made (managed='no') is used as it
is and left in place; a direct guest's macvtap (on one end of a veth pair) lives while
the guest runs and is removed after it, also by a restarted daemon that finds the guest
gone.
"""

import os
import signal
import subprocess
import time
import uuid

import pytest

from guests import (daemon_config, guest_elf, qemu_processes, uri_for, QEMU, Host, RUNNING,
                    SHUTOFF, libvirt)

ERR_INTERNAL_ERROR, ERR_OPERATION_INVALID = 1, 55
FROM_NONE, FROM_QEMU = 0, 10


def ip(*args, check=True):
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True, check=check)


# The names of the fixture's namespaces (each one's file is a mount, /run/netns/NAME, which
# test_lxc.py's check of the host's mounts leaves to the test that made it).
NETNS_PREFIX = "svnet-"


@pytest.fixture
def netns():
    """A network namespace with a bridge br0 (up), deleted with all it holds."""
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        pytest.skip("needs root and /dev/net/tun")
    name = NETNS_PREFIX + uuid.uuid4().hex[:8]
    ip("netns", "add", name)
    try:
        ip("-n", name, "link", "add", "br0", "type", "bridge")
        ip("-n", name, "link", "set", "br0", "up")
        yield name
    finally:
        ip("netns", "del", name, check=False)


@pytest.fixture
def nethost(daemons, root, request, netns):
    """The `host` fixture's guest host, with virtqemud inside netns."""
    if not guest_elf().exists():
        pytest.skip("test guest %s not built" % guest_elf())
    if not os.path.exists(QEMU):
        pytest.skip("%s not installed" % QEMU)
    d = daemons.start(config=daemon_config(root), wrapper=["ip", "netns", "exec", netns])
    h = Host(d, root)
    h.netns = netns
    yield h
    rep = getattr(request.node, "rep_call", None)
    problems = h.finish(test_failed=rep is not None and rep.failed)
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def uplink(nethost):
    """eth9, one end of a veth pair in the test's namespace, for macvtaps."""
    ip("-n", nethost.netns, "link", "add", "eth9", "type", "veth", "peer", "name", "eth9p")
    ip("-n", nethost.netns, "link", "set", "eth9", "up")
    return "eth9"


def define_with(host, name, interface):
    xml = host.xml(name).replace("<serial type='pty'/>", interface + "<serial type='pty'/>")
    return host.conn.defineXML(xml)


def link(host, dev):
    """`ip -o link show dev` in the test's namespace, or None when there is no such device."""
    r = ip("-n", host.netns, "-o", "link", "show", dev, check=False)
    return r.stdout if r.returncode == 0 else None


def live_target(dom):
    xml = dom.XMLDesc(0)
    start = xml.index("<target dev='") + len("<target dev='")
    return xml[start:xml.index("'", start)]


def test_bridge_tap(nethost):
    dom = define_with(nethost, "br-guest",
                      "<interface type='bridge'><source bridge='br0'/><model type='virtio'/>"
                      "<link state='down'/></interface>")
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "<mac address='52:54:00:" in inactive  # generated at define
    mac = inactive.split("<mac address='")[1][:17]
    dom.create()
    assert dom.state()[0] == RUNNING
    tap = live_target(dom)
    assert tap.startswith("vnet"), tap
    shown = link(nethost, tap)
    assert shown is not None
    assert "master br0" in shown, shown
    assert ",UP" in shown, shown
    assert "fe" + mac[2:] in shown, shown  # the host side's MAC, as libvirt sets it
    dom.destroy()
    assert dom.state()[0] == SHUTOFF
    assert link(nethost, tap) is None
    # The name was the run's: the definition never had it.
    assert "<target" not in dom.XMLDesc(0).split("<interface")[1].split("</interface>")[0]
    dom.undefine()


def test_ethernet_tap_with_mtu(nethost):
    dom = define_with(nethost, "eth-guest",
                      "<interface type='ethernet'><model type='virtio'/><mtu size='1400'/>"
                      "</interface>")
    dom.create()
    tap = live_target(dom)
    shown = link(nethost, tap)
    assert shown is not None and "mtu 1400" in shown, shown
    assert "master" not in shown, shown
    dom.destroy()
    assert link(nethost, tap) is None
    dom.undefine()


def test_unmanaged_tap_left_in_place(nethost):
    ip("-n", nethost.netns, "tuntap", "add", "dev", "svtap0", "mode", "tap", "vnet_hdr")
    dom = define_with(nethost, "kv-guest",
                      "<interface type='ethernet'><target dev='svtap0' managed='no'/>"
                      "<model type='virtio'/></interface>")
    dom.create()
    assert live_target(dom) == "svtap0"
    dom.destroy()
    assert link(nethost, "svtap0") is not None
    dom.undefine()


def test_host_side_errors(nethost):
    """libvirtd 9.0's errors for the same cases; nothing of the failed start is left."""
    cases = [
        ("<interface type='ethernet'><target dev='br0'/></interface>",
         (ERR_OPERATION_INVALID, FROM_NONE,
          "Requested operation is not valid: The br0 interface already exists")),
        ("<interface type='ethernet'><target dev='nosuch0' managed='no'/></interface>",
         (ERR_INTERNAL_ERROR, FROM_QEMU,
          "internal error: target managed='no' but specified dev doesn't exist")),
        ("<interface type='ethernet'><target managed='no'/></interface>",
         (ERR_INTERNAL_ERROR, FROM_QEMU,
          "internal error: target dev must be supplied when managed='no'")),
    ]
    for i, (iface, want) in enumerate(cases):
        dom = define_with(nethost, "bad%d" % i, iface)
        with pytest.raises(libvirt.libvirtError) as exc:
            dom.create()
        e = exc.value
        assert (e.get_error_code(), e.get_error_domain(), e.get_error_message()) == want
        assert dom.state()[0] == SHUTOFF
        dom.undefine()
    # A missing bridge: libvirt's SYSTEM_ERROR (its errno text follows the colon).
    dom = define_with(nethost, "nobr", "<interface type='bridge'><source bridge='nosuchbr'/>"
                      "</interface>")
    with pytest.raises(libvirt.libvirtError) as exc:
        dom.create()
    assert exc.value.get_error_message().startswith(
        "Cannot get interface MTU on 'nosuchbr': No such device")
    dom.undefine()
    assert ip("-n", nethost.netns, "-o", "link", "show", "type", "tun").stdout == ""


DIRECT = "<interface type='direct'><source dev='eth9' mode='bridge'/><model type='virtio'/>" \
         "</interface>"


def test_direct_macvtap(nethost, uplink):
    dom = define_with(nethost, "dir-guest", DIRECT)
    dom.create()
    tap = live_target(dom)
    assert tap.startswith("macvtap"), tap
    shown = ip("-n", nethost.netns, "-d", "-o", "link", "show", tap).stdout
    assert "@eth9" in shown and "macvtap mode bridge" in shown, shown
    dom.destroy()
    assert link(nethost, tap) is None
    dom.undefine()


def tap_devno(netns, tap):
    """The (major, minor) of macvtap tap's character device, by its namespace's sysfs."""
    index = ip("-n", netns, "-o", "link", "show", tap).stdout.split(":")[0]
    text = subprocess.run(["ip", "netns", "exec", netns, "cat",
                           "/sys/class/net/%s/macvtap/tap%s/dev" % (tap, index)],
                          capture_output=True, text=True, check=True).stdout
    return int(index), tuple(int(x) for x in text.strip().split(":"))


def test_macvtap_index_taken_in_another_namespace(nethost, uplink):
    """/dev/tapN names a macvtap by its ifindex, which is only unique within a network
    namespace: where another namespace's macvtap has the same index, /dev/tapN is that one's.
    The guest still gets its own macvtap (opened by its device number), never the other's."""
    # the index the namespace gives next: one after the last it gave
    ip("-n", nethost.netns, "link", "add", "svprobe", "type", "veth", "peer", "name", "svprobe2")
    nxt = max(int(ip("-n", nethost.netns, "-o", "link", "show", n).stdout.split(":")[0])
              for n in ("svprobe", "svprobe2")) + 1
    ip("-n", nethost.netns, "link", "del", "svprobe")
    other = NETNS_PREFIX + uuid.uuid4().hex[:8]
    ip("netns", "add", other)
    try:
        ip("-n", other, "link", "add", "d0", "type", "veth", "peer", "name", "d1")
        ip("-n", other, "link", "add", "link", "d0", "name", "mvx", "index", str(nxt), "type",
           "macvtap")
        _, theirs = tap_devno(other, "mvx")
        dom = define_with(nethost, "dir-index", DIRECT)
        dom.create()
        try:
            index, ours = tap_devno(nethost.netns, live_target(dom))
            if index != nxt:
                pytest.skip("the guest's macvtap got index %d, not %d" % (index, nxt))
            st = os.stat("/dev/tap%d" % nxt)
            assert (os.major(st.st_rdev), os.minor(st.st_rdev)) == theirs != ours
            qemu = nethost.pid("dir-index")
            held = set()
            for fd in os.listdir("/proc/%d/fd" % qemu):
                try:
                    st = os.stat("/proc/%d/fd/%s" % (qemu, fd))
                except OSError:
                    continue
                held.add((os.major(st.st_rdev), os.minor(st.st_rdev)))
            assert ours in held and theirs not in held, (ours, theirs, held)
        finally:
            dom.destroy()
            dom.undefine()
    finally:
        ip("netns", "del", other, check=False)


def test_macvtap_removed_by_restarted_daemon(nethost, uplink, daemons, root):
    """The daemon is killed, then its guest: the macvtap outlives both (it is a link), and
    the restarted daemon, finding the guest gone, removes it."""
    dom = define_with(nethost, "dir-restart", DIRECT)
    dom.create()
    tap = live_target(dom)
    qemu = nethost.pid("dir-restart")
    d = nethost.daemon
    d.send_signal(signal.SIGKILL)
    d.wait_exit(10)
    d.expected_status = -signal.SIGKILL
    os.kill(qemu, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while qemu in qemu_processes(root) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert link(nethost, tap) is not None
    nethost.daemon = daemons.start(config=daemon_config(root),
                                   wrapper=["ip", "netns", "exec", nethost.netns])
    nethost.conn = libvirt.open(uri_for(nethost.daemon.sock))
    assert nethost.conn.lookupByName("dir-restart").state()[0] == SHUTOFF
    assert link(nethost, tap) is None
    nethost.conn.lookupByName("dir-restart").undefine()


def test_stored_definition_without_mac(nethost, daemons, root):
    """A definition an older daemon stored has no <mac>: its start gets one (the daemon
    once crashed deriving the tap's MAC from none)."""
    dom = define_with(nethost, "old-def", "<interface type='bridge'><source bridge='br0'/>"
                      "</interface>")
    del dom
    nethost.conn.close()
    nethost.daemon.stop()
    stored = root / "etc" / "libvirt" / "qemu" / "old-def.xml"
    text = stored.read_text()
    start = text.index("<mac address=")
    stored.write_text(text[:start] + text[text.index("/>", start) + 2:])
    nethost.daemon = daemons.start(config=daemon_config(root),
                                   wrapper=["ip", "netns", "exec", nethost.netns])
    nethost.conn = libvirt.open(uri_for(nethost.daemon.sock))
    dom = nethost.conn.lookupByName("old-def")
    assert "<mac " not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    dom.create()
    assert "<mac address='52:54:00:" in dom.XMLDesc(0)
    assert link(nethost, live_target(dom)) is not None
    dom.destroy()
    dom.undefine()


def test_fds_and_link_state_reach_qemu(nethost):
    """With the stand-in emulator (standin_qemu.py record-qmp): the -netdev fds are open
    in QEMU and are taps (two queues: two), and each <link state='down'> is a set_link
    before the guest runs (QEMU has no option for it)."""
    import json
    record = nethost.root / "qmp.log"
    xml = nethost.xml("links", "record-qmp=%s" % record, emulator=str(nethost.standin))
    xml = xml.replace(
        "<serial type='pty'/>",
        "<interface type='bridge'><source bridge='br0'/><model type='virtio'/>"
        "<driver queues='2'/><link state='down'/></interface>"
        "<interface type='user'><link state='up'/></interface>"
        "<interface type='user'><link state='down'/><alias name='ua-lan'/></interface>"
        "<serial type='pty'/>")
    dom = nethost.conn.defineXML(xml)
    dom.create()
    lines = record.read_text().splitlines()
    assert lines[:2] == ["hostnet0 fds: /dev/net/tun", "hostnet0 fds: /dev/net/tun"], lines
    cmds = [json.loads(l) for l in lines[2:]]
    names = [c["execute"] for c in cmds]
    assert names == ["qmp_capabilities", "set_link", "set_link", "query-chardev", "cont"], names
    assert [c["arguments"] for c in cmds if c["execute"] == "set_link"] == [
        {"name": "net0", "up": False}, {"name": "ua-lan", "up": False}]
    dom.destroy()
    dom.undefine()
