"""test_virsh_runs_devices.py: the device commands of issue 18's second "Done when" that
test_virsh_runs.py leaves out, run with stock virsh on a defined and on a running guest:
attach-disk/detach-disk and attach-interface --type bridge/detach-interface, each --live,
--config and both (--persistent); update-device (an interface with <link state='down'/>,
live and config); domifaddr --source agent and --source arp and domfsinfo (the Linux test
guest with qemu-ga). change-media is another helper's.

Each step's answer is parsed (test_virsh_runs.py's parsers and step runner), and after each
change the devices of dumpxml (live) and dumpxml --inactive are read back, with QEMU's view
(query-block, query-pci) on the running guest. Guest A (the tiny guest) never acknowledges
an unplug: a live detach succeeds after libvirt's 5 s wait and the device stays in the live
definition, as on libvirt 9.0; the Linux test guest lets go of the device, and sees disks and
NICs come and go. The slow twins give the same steps to Debian's libvirtd and compare every
parsed value: Guest A's without the live bridge interfaces (libvirtd's namespace has no
bridge), the Linux guest's with a user NIC for the same reason; kept difference: domifaddr
--source arp (KEPT_ARP).
"""

import json
import os
import re
import subprocess
import time
import uuid

import pytest

import linuxguest
from calls import virsh
from test_qemu_agent import AGENT_CHANNEL, CONNECTED, agent_events
from test_qemu_net import netns, nethost  # noqa: F401 (the fixtures)
from test_virsh_runs import (NOT_RUNNING, define_and_run, guest_files, guest_xml, parsed,
                             run_steps, tap_name)
from test_virsh_runs import NAME as RUNS_NAME

libvirt = pytest.importorskip("libvirt")

NAME = "nova-svvd-guest"
MAC_CFG, MAC_LIVE, MAC_BOTH = "52:54:00:5a:7e:11", "52:54:00:5a:7e:12", "52:54:00:5a:7e:13"
BRIDGE = "br0"  # test_qemu_net.netns's bridge, in the namespace virtqemud runs in


# ---------------------------------------------------------------- parsers

def disks_of(xml):
    """(target, bus, source file name) of each disk of a dumped definition."""
    out = []
    for d in re.findall(r"<disk .*?</disk>", xml, re.S):
        src = re.search(r"<source file='([^']*)'", d)
        out.append((re.search(r"<target dev='(\w+)'", d).group(1),
                    re.search(r"<target dev='\w+' bus='(\w+)'", d).group(1),
                    os.path.basename(src.group(1)) if src else None))
    return out


def nets_of(xml):
    """(type, mac, bridge, model, link state) of each interface of a dumped definition."""
    out = []
    for n in re.findall(r"<interface .*?</interface>", xml, re.S):
        bridge = re.search(r"<source bridge='([^']*)'", n)
        link = re.search(r"<link state='(\w+)'/>", n)
        out.append((re.search(r"<interface type='(\w+)'", n).group(1),
                    re.search(r"<mac address='([\w:]+)'", n).group(1),
                    bridge and bridge.group(1),
                    re.search(r"<model type='([\w-]+)'/>", n).group(1),
                    link and link.group(1)))
    return out


@parsed
def devices(out):
    """dumpxml's disks and interfaces."""
    return {"disks": disks_of(out), "nets": nets_of(out)}


@parsed
def query_block(out):
    """QMP query-block: the qdev id of each block device with a device (the peripheral's
    name), sorted."""
    ids = []
    for b in json.loads(out)["return"]:
        m = re.match(r"/machine/peripheral/([\w-]+)/", b.get("qdev", ""))
        if m:
            ids.append(m.group(1))
    return sorted(ids)


@parsed
def query_pci(out):
    """QMP query-pci: the qdev ids of the devices on bus 0 that have one, sorted."""
    return sorted(d["qdev_id"] for bus in json.loads(out)["return"] for d in bus["devices"]
                  if d.get("qdev_id"))


def quiet(rc, out, err):
    """A change command under virsh -q (no 'attached successfully' line): its success with
    nothing printed, or its error lines (virsh adds its own 'Failed to ...' after some)."""
    if rc == 0:
        return "ok" if out.strip() == "" else ("printed", out)
    lines = [re.sub(r"/[^' ]*/([\w-]+\.(raw|xml))\b", r"DIR/\1", l[len("error: "):])
             for l in err.splitlines() if l.startswith("error: ")]
    return ("error",) + tuple(lines or [err.strip()])


# ---------------------------------------------------------------- the steps

def link_xml(files, mac, state, name, kind="bridge"):
    """An update-device file: the bridge (or user) interface `mac` with <link state>."""
    path = files / name
    source = "<source bridge='%s'/>" % BRIDGE if kind == "bridge" else ""
    path.write_text("<interface type='%s'><mac address='%s'/>%s"
                    "<model type='virtio'/><link state='%s'/></interface>"
                    % (kind, mac, source, state))
    return str(path)


def views(label, running, name=NAME):
    """The steps reading back the definitions (and QEMU's view of a running guest)."""
    steps = [(label + " live", ["dumpxml", name], devices),
             (label + " config", ["dumpxml", "--inactive", name], devices)]
    if running:
        steps += [(label + " query-block", ["qemu-monitor-command", name,
                                             '{"execute":"query-block"}'], query_block),
                  (label + " query-pci", ["qemu-monitor-command", name,
                                           '{"execute":"query-pci"}'], query_pci)]
    return steps


def iface(mac, *flags):
    return ["--type", "bridge", "--source", BRIDGE, "--mac", mac, "--model", "virtio"] + \
        list(flags)


def change(label, command, *args):
    """A step changing NAME: virsh COMMAND NAME ARGS, quiet."""
    return (label, [command, NAME] + list(args), quiet)


def attach_disk(label, image, target, flag):
    return change(label, "attach-disk", image, target, flag)


def detach_iface(label, mac, flag):
    return change(label, "detach-interface", "--type", "bridge", "--mac", mac, flag)


def update(label, files, mac, flag, file_name="cfg-down.xml"):
    return change(label, "update-device", link_xml(files, mac, "down", file_name), flag)


def defined_steps(files):
    f = str(files)
    return [
        attach_disk("attach-disk config", f + "/b.raw", "vdb", "--config"),
        attach_disk("attach-disk live", f + "/c.raw", "vdc", "--live"),
        attach_disk("attach-disk persistent", f + "/c.raw", "vdc", "--persistent"),
        change("attach-interface config", "attach-interface", *iface(MAC_CFG, "--config")),
        change("attach-interface live", "attach-interface", *iface(MAC_LIVE, "--live")),
        change("attach-interface persistent", "attach-interface",
               *iface(MAC_BOTH, "--persistent")),
    ] + views("attached", False) + [
        update("update-device config", files, MAC_CFG, "--config"),
        update("update-device live", files, MAC_CFG, "--live"),
    ] + views("updated", False) + [
        change("detach-disk live", "detach-disk", "vdb", "--live"),
        change("detach-disk config", "detach-disk", "vdb", "--config"),
        change("detach-disk persistent", "detach-disk", "vdc", "--persistent"),
        change("detach-disk nosuch", "detach-disk", "vdz", "--config"),
        detach_iface("detach-interface live", MAC_CFG, "--live"),
        detach_iface("detach-interface config", MAC_CFG, "--config"),
        detach_iface("detach-interface persistent", MAC_BOTH, "--persistent"),
        detach_iface("detach-interface nosuch", MAC_BOTH, "--config"),
    ] + views("detached", False)


def running_steps(files, bridge_live=True):
    """The running Guest A's steps; bridge_live: the live bridge interfaces too (the daemon
    has BRIDGE)."""
    f = str(files)
    live_ifaces = bridge_live and [
        change("attach-interface live", "attach-interface", *iface(MAC_LIVE, "--live")),
        change("attach-interface persistent", "attach-interface",
               *iface(MAC_BOTH, "--persistent"))]
    live_updates = bridge_live and [
        update("update-device live", files, MAC_LIVE, "--live", "live-down.xml"),
        update("update-device persistent", files, MAC_BOTH, "--persistent", "both-down.xml")]
    live_detaches = bridge_live and [
        detach_iface("detach-interface live", MAC_LIVE, "--live"),
        detach_iface("detach-interface persistent", MAC_BOTH, "--persistent")]
    return [
        attach_disk("attach-disk live", f + "/b.raw", "vdb", "--live"),
        attach_disk("attach-disk config", f + "/c.raw", "vdc", "--config"),
        attach_disk("attach-disk persistent", f + "/d.raw", "vdd", "--persistent"),
        attach_disk("attach-disk again", f + "/e.raw", "vdb", "--live"),
        change("attach-interface config", "attach-interface", *iface(MAC_CFG, "--config")),
    ] + (live_ifaces or []) + views("attached", True) + [
        update("update-device config", files, MAC_CFG, "--config"),
        update("update-device live absent", files, MAC_CFG, "--live"),
    ] + (live_updates or []) + views("updated", True) + [
        change("detach-disk config", "detach-disk", "vdc", "--config"),
        change("detach-disk live", "detach-disk", "vdb", "--live"),
        change("detach-disk persistent", "detach-disk", "vdd", "--persistent"),
        change("detach-disk nosuch", "detach-disk", "vdz", "--live"),
        detach_iface("detach-interface config", MAC_CFG, "--config"),
    ] + (live_detaches or []) + views("detached", True)


def runs(uri, files, tap, bridge_live=True):
    """The defined guest's steps, then (defined afresh) the running guest's; the guest is
    undefined after. {"defined": ..., "running": ...}."""
    for img in ("b", "c", "d", "e"):
        with open(files / ("%s.raw" % img), "wb") as fh:
            fh.truncate(8 << 20)
    path = files / "guest.xml"
    path.write_text(guest_xml(files, tap).replace(RUNS_NAME, NAME))
    return define_and_run(uri, path, NAME, defined_steps(files),
                          running_steps(files, bridge_live))


# ---------------------------------------------------------------- what ours answers

VDA = ("vda", "virtio", "disk.raw")
ETH = ("ethernet", "52:54:00:5a:7e:01", None, "virtio", None)


def br(mac, link=None):
    return ("bridge", mac, BRIDGE, "virtio", link)


def failed(what, message):
    """virsh's 'Failed to WHAT' line, then the daemon's error."""
    return ("error", "Failed to " + what, message)


NOT_RUNNING_MSG = NOT_RUNNING[1]
UPDATE_FAILED = "update device from DIR/cfg-down.xml"

EXPECT_DEFINED = {
    "attach-disk config": "ok",
    "attach-disk live": failed("attach disk", NOT_RUNNING_MSG),
    "attach-disk persistent": "ok",  # virsh: --config on a guest not running
    "attach-interface config": "ok",
    "attach-interface live": failed("attach interface", NOT_RUNNING_MSG),
    "attach-interface persistent": "ok",
    "attached live": {"disks": [VDA, ("vdb", "virtio", "b.raw"), ("vdc", "virtio", "c.raw")],
                      "nets": [ETH, br(MAC_CFG), br(MAC_BOTH)]},
    "update-device config": "ok",
    "update-device live": failed(UPDATE_FAILED, NOT_RUNNING_MSG),
    "updated live": {"disks": [VDA, ("vdb", "virtio", "b.raw"), ("vdc", "virtio", "c.raw")],
                     "nets": [ETH, br(MAC_CFG, "down"), br(MAC_BOTH)]},
    "detach-disk live": failed("detach disk", NOT_RUNNING_MSG),
    "detach-disk config": "ok",
    "detach-disk persistent": "ok",
    # virsh's own errors: it looks the device up in the dumped XML first.
    "detach-disk nosuch": ("error", "No disk found whose source path or target is vdz"),
    "detach-interface live": failed("detach interface", NOT_RUNNING_MSG),
    "detach-interface config": "ok",
    "detach-interface persistent": "ok",
    "detach-interface nosuch": ("error", "No interface found whose type is bridge",
                                "Failed to detach interface"),
    "detached live": {"disks": [VDA], "nets": [ETH]},
}
# A defined guest's live and inactive definitions are the same.
for _k in ("attached", "updated", "detached"):
    EXPECT_DEFINED[_k + " config"] = EXPECT_DEFINED[_k + " live"]

B, C, D = (("vd%s" % x, "virtio", "%s.raw" % x) for x in "bcd")
QEMU_DISKS = ["virtio-disk0", "virtio-disk1", "virtio-disk3"]

EXPECT_RUNNING = {
    "attach-disk live": "ok",
    "attach-disk config": "ok",
    "attach-disk persistent": "ok",
    "attach-disk again": failed("attach disk", "XML error: target 'vdb' duplicated for disk "
                                "sources 'DIR/b.raw' and 'DIR/e.raw'"),
    "attach-interface config": "ok",
    "attach-interface live": "ok",
    "attach-interface persistent": "ok",
    # The live disk and the persistent one (vdd, the 4th disk libvirt names: virtio-disk3)
    # in the live definition and in QEMU, the config one (vdc) only in the inactive one.
    "attached live": {"disks": [VDA, B, D], "nets": [ETH, br(MAC_LIVE), br(MAC_BOTH)]},
    "attached config": {"disks": [VDA, C, D], "nets": [ETH, br(MAC_CFG), br(MAC_BOTH)]},
    "attached query-block": QEMU_DISKS,
    "attached query-pci": ["balloon0", "net0", "net1", "net2", "usb", "video0"] + QEMU_DISKS,
    "update-device config": "ok",
    "update-device live absent": failed(
        UPDATE_FAILED, "device not found: no device found at address '(<null>)' matching MAC "
        "address '%s' and alias '(<null>)'" % MAC_CFG),
    "update-device live": "ok",
    "update-device persistent": "ok",
    "updated live": {"disks": [VDA, B, D],
                     "nets": [ETH, br(MAC_LIVE, "down"), br(MAC_BOTH, "down")]},
    "updated config": {"disks": [VDA, C, D],
                       "nets": [ETH, br(MAC_CFG, "down"), br(MAC_BOTH, "down")]},
    "detach-disk config": "ok",
    # Guest A never lets go: the live detach succeeds after libvirt's 5 s wait, the disk
    # stays in the live definition and in QEMU; --persistent takes it from the config.
    "detach-disk live": "ok",
    "detach-disk persistent": "ok",
    "detach-disk nosuch": ("error", "No disk found whose source path or target is vdz"),
    "detach-interface config": "ok",
    "detach-interface live": "ok",
    "detach-interface persistent": "ok",
    "detached live": {"disks": [VDA, B, D],
                      "nets": [ETH, br(MAC_LIVE, "down"), br(MAC_BOTH, "down")]},
    "detached config": {"disks": [VDA], "nets": [ETH]},
}


def check_running(got):
    for label, want in EXPECT_RUNNING.items():
        assert got[label] == want, (label, got[label])
    # QEMU's view does not change with a link state or an unacknowledged unplug.
    for label in ("query-block", "query-pci"):
        assert got["updated " + label] == got["detached " + label] == got["attached " + label]


def test_virsh_devices_on_a_defined_and_a_running_guest(nethost):
    files = guest_files(nethost.root / "svvd")
    got = runs(nethost.uri, files, tap_name("d"))
    for label, want in EXPECT_DEFINED.items():
        assert got["defined"][label] == want, (label, got["defined"][label])
    check_running(got["running"])


# ---------------------------------------------------------------- against libvirtd

# Debian's libvirtd runs in the host's network namespace, which has no bridge (the tests
# make theirs in a namespace of their own and do not add one to the host): the twin leaves
# out the live bridge interfaces on both sides; the config ones need no bridge.
@pytest.mark.slow
def test_virsh_devices_like_libvirtd(ref, nethost, tmp_path_factory):
    theirs = runs(ref.uri, guest_files(tmp_path_factory.mktemp("svvd") / "files"),
                  tap_name("e"), bridge_live=False)
    ours = runs(nethost.uri, guest_files(nethost.root / "svvd"), tap_name("d"),
                bridge_live=False)
    # Not two failures alike: the live disks are in libvirtd's QEMU.
    assert theirs["running"]["attached query-block"] == QEMU_DISKS, theirs["running"]
    diffs = []
    for state in ("defined", "running"):
        assert sorted(ours[state]) == sorted(theirs[state])
        for label, want in theirs[state].items():
            if ours[state][label] != want:
                diffs.append("%s %s:\n    libvirtd: %r\n    ours:     %r"
                             % (state, label, want, ours[state][label]))
    assert not diffs, "virsh answers unlike libvirtd's:\n  " + "\n  ".join(diffs)


# ---------------------------------------------------------------- the Linux test guest

LINUX = "svvd-linux"
BRIDGE_ADDR, GUEST_ADDR = "192.168.79.1", "192.168.79.2"
MAC_GUEST, MAC_PLUG = "52:54:00:5a:7e:21", "52:54:00:5a:7e:22"


def in_guest(con, script, tag):
    """The words the guest's shell prints for script, between tag markers (the markers are
    built by the shell, so the command's echo does not match)."""
    start = len(con.data)
    con.stream.send(b"echo %s-$((1+1)): $(%s) :END\n" % (tag.encode(), script.encode()))
    answer = re.compile(rb"%s-2: (.*?) ?:END" % re.escape(tag.encode()), re.S)
    deadline = time.monotonic() + 30
    while not answer.search(con.data, start) and time.monotonic() < deadline:
        time.sleep(0.2)
    m = answer.search(con.data, start)
    assert m, con.data[-400:]
    return m.group(1).decode(errors="replace").split()


def wait_in_guest(con, script, tag, pred):
    """in_guest until pred(words) holds (10 s)."""
    deadline = time.monotonic() + 10
    n = 0
    while True:
        n += 1
        words = in_guest(con, script, "%s%d" % (tag, n))
        if pred(words) or time.monotonic() > deadline:
            return words
        time.sleep(0.5)


def ok(uri, *args):
    rc, out, err = virsh(uri, *args)
    assert (rc, out.strip()) == (0, ""), (args, out, err)


def qemu_ids(uri, name, cmd):
    rc, out, err = virsh(uri, "qemu-monitor-command", name, '{"execute":"%s"}' % cmd)
    return {"query-block": query_block, "query-pci": query_pci}[cmd](rc, out, err)


def dumped(uri, name, *flags):
    rc, out, err = virsh(uri, "dumpxml", name, *flags)
    assert rc == 0, err
    return devices(rc, out, err)


@parsed
def addr_rows(out):
    """domifaddr's rows: (name, MAC, protocol, address) of the rows naming an interface."""
    return [tuple(r.split()) for r in out.splitlines()
            if re.match(r"\s*\S+\s+[0-9a-f]{2}(:[0-9a-f]{2}){5}\s", r)]


@parsed
def fs_rows(out):
    return [tuple(r.split()) for r in out.splitlines() if r.strip().startswith("/")]


@pytest.mark.slow
def test_virsh_devices_and_agent_on_linux_guest(nethost, guest):
    """The Linux test guest with qemu-ga and a NIC on br0 (192.168.79.2/24, pinging the
    bridge's address at boot):
    - domifaddr --source agent: eth0 with the guest's MAC and address, lo 127.0.0.1/8;
      --source arp: the guest's address under its tap's name with its MAC, prefix 0;
    - domfsinfo: the root filesystem, ext4 on vda;
    - attach-disk --live: the disk in the live definition only, in QEMU (query-block), in
      the guest (/sys/block/vdb); detach-disk --live: gone from all three within the call
      (the guest lets go); --persistent: in both definitions and the guest, then gone;
    - attach-interface --type bridge --live: the NIC in the live definition only, QEMU
      (query-pci), a port of br0 and in the guest (its MAC); detach-interface --live: gone
      from all; --persistent: in both definitions too, then gone;
    - update-device --live with <link state='down'/>: the guest's carrier drops, and comes
      back with 'up'; --config: only the inactive definition says down."""
    files = nethost.root / "svvd-linux"
    files.mkdir(mode=0o755)
    img = files / "b.raw"
    with open(img, "wb") as fh:
        fh.truncate(8 << 20)
    subprocess.run(["ip", "-n", nethost.netns, "addr", "add", BRIDGE_ADDR + "/24", "dev",
                    BRIDGE], check=True)
    reg = agent_events(nethost)
    uri, n = nethost.uri, LINUX
    dom = None
    try:
        disk = guest.copy_root(files / "root.qcow2")
        xml = linuxguest.domain_xml(
            n, guest, disk, uuid=str(uuid.uuid4()), devices=AGENT_CHANNEL,
            interface="<interface type='bridge'><source bridge='%s'/><mac address='%s'/>"
                      "<model type='virtio'/></interface>" % (BRIDGE, MAC_GUEST),
            cmdline="sv.ga sv.ip=%s/24 sv.ping=%s" % (GUEST_ADDR, BRIDGE_ADDR))
        dom = nethost.conn.defineXML(xml)
        con = linuxguest.start(nethost, dom)
        nethost.events.wait_event(n, CONNECTED, timeout=linuxguest.BOOT_TIMEOUT)
        tap = re.search(r"<target dev='(vnet\d+)'/>", dom.XMLDesc(0)).group(1)

        # The guest agent and the ARP table.
        rows = addr_rows(*virsh(uri, "domifaddr", n, "--source", "agent"))
        assert ("eth0", MAC_GUEST, "ipv4", GUEST_ADDR + "/24") in rows, rows
        assert ("lo", "00:00:00:00:00:00", "ipv4", "127.0.0.1/8") in rows, rows
        assert addr_rows(*virsh(uri, "domifaddr", n, "--source", "arp")) == [
            (tap, MAC_GUEST, "ipv4", GUEST_ADDR + "/0")]
        assert fs_rows(*virsh(uri, "domfsinfo", n)) == [("/", "vda", "ext4", "vda")]

        # Disks, live and persistent.
        root = ("vda", "virtio", "root.qcow2")
        plugged = ("vdb", "virtio", "b.raw")
        blocks = "ls /sys/block"
        for flag in ("--live", "--persistent"):
            ok(uri, "attach-disk", n, str(img), "vdb", flag)
            assert dumped(uri, n)["disks"] == [root, plugged]
            assert dumped(uri, n, "--inactive")["disks"] == (
                [root, plugged] if flag == "--persistent" else [root])
            assert "virtio-disk1" in qemu_ids(uri, n, "query-block")
            assert "vdb" in wait_in_guest(con, blocks, "BLK", lambda w: "vdb" in w)
            ok(uri, "detach-disk", n, "vdb", flag)
            assert dumped(uri, n)["disks"] == dumped(uri, n, "--inactive")["disks"] == [root]
            assert qemu_ids(uri, n, "query-block") == ["virtio-disk0"]
            assert "vdb" not in wait_in_guest(con, blocks, "NOBLK", lambda w: "vdb" not in w)

        # A bridge interface, live and persistent.
        guest_nic = ("bridge", MAC_GUEST, BRIDGE, "virtio", None)
        macs = "cat /sys/class/net/*/address"
        for flag in ("--live", "--persistent"):
            ok(uri, "attach-interface", n, *iface(MAC_PLUG, flag))
            assert dumped(uri, n)["nets"] == [guest_nic, br(MAC_PLUG)]
            assert dumped(uri, n, "--inactive")["nets"] == (
                [guest_nic, br(MAC_PLUG)] if flag == "--persistent" else [guest_nic])
            assert "net1" in qemu_ids(uri, n, "query-pci")
            ports = subprocess.run(["ip", "-n", nethost.netns, "-o", "link", "show", "master",
                                    BRIDGE], capture_output=True, text=True, check=True).stdout
            assert len(re.findall(r"\bvnet\d+\b", ports)) == 2, ports
            assert MAC_PLUG in wait_in_guest(con, macs, "MAC", lambda w: MAC_PLUG in w)
            ok(uri, "detach-interface", n, "--type", "bridge", "--mac", MAC_PLUG, flag)
            assert dumped(uri, n)["nets"] == dumped(uri, n, "--inactive")["nets"] == \
                [guest_nic]
            assert "net1" not in qemu_ids(uri, n, "query-pci")
            assert MAC_PLUG not in wait_in_guest(con, macs, "NOMAC",
                                                 lambda w: MAC_PLUG not in w)

        # The guest's NIC's link, live then config.
        carrier = "cat /sys/class/net/eth0/carrier"
        assert in_guest(con, carrier, "CARRIER") == ["1"]
        ok(uri, "update-device", n, link_xml(files, MAC_GUEST, "down", "down.xml"), "--live")
        assert dumped(uri, n)["nets"] == [guest_nic[:4] + ("down",)]
        assert wait_in_guest(con, carrier, "DOWN", lambda w: w == ["0"]) == ["0"]
        ok(uri, "update-device", n, link_xml(files, MAC_GUEST, "up", "up.xml"), "--live")
        assert dumped(uri, n)["nets"] == [guest_nic[:4] + ("up",)]
        assert wait_in_guest(con, carrier, "UP", lambda w: w == ["1"]) == ["1"]
        ok(uri, "update-device", n, link_xml(files, MAC_GUEST, "down", "down.xml"), "--config")
        assert dumped(uri, n, "--inactive")["nets"] == [guest_nic[:4] + ("down",)]
        assert dumped(uri, n)["nets"] == [guest_nic[:4] + ("up",)]
        assert in_guest(con, carrier, "STILL") == ["1"]
        con.close()
    finally:
        nethost.events.conn.domainEventDeregisterAny(reg)
        if dom is not None:
            if dom.isActive():
                dom.destroy()
            dom.undefine()


# The Linux test guest on both daemons, with a user NIC (libvirtd's namespace has no bridge).
PAR = "virsh2-svvd-linux"
MAC_USER = "52:54:00:5a:7e:31"


@parsed
def agent_rows(out):
    """domifaddr --source agent's rows without the IPv6 addresses slirp's router
    advertisement gives (fec0::/64): they come at a moment of their own."""
    return [r for r in addr_rows(0, out, "") if not r[3].startswith("fec0:")]


def quiet_rows(rc, out, err):
    """domifaddr's rows, or its error lines."""
    return addr_rows(rc, out, err) if rc == 0 else quiet(rc, out, err)


# A difference kept on purpose: libvirtd 9.0's ARP source fails on this machine's kernel
# (its netlink neighbour dump parser gives up, as test_qemu_agent_calls.py shows); ours reads
# the table, which has no entry for a user NIC (slirp's network is inside QEMU).
KEPT_ARP = {"libvirtd": ("error", "Failed to query for interfaces addresses",
                         "internal error: wrong nlmsg len"), "ours": []}


def linux_phases(files, img):
    """The twin's steps in phases: between two, the guest is given time to see a plugged
    disk before it is asked to let go of it."""
    n = PAR
    return [
        [("domfsinfo", ["domfsinfo", n], fs_rows),
         ("domifaddr agent", ["domifaddr", n, "--source", "agent"], agent_rows),
         ("domifaddr arp", ["domifaddr", n, "--source", "arp"], quiet_rows),
         ("attach-disk live", ["attach-disk", n, img, "vdb", "--live"], quiet)]
        + views("attached live", True, n),
        [("detach-disk live", ["detach-disk", n, "vdb", "--live"], quiet)]
        + views("detached live", True, n)
        + [("attach-disk persistent", ["attach-disk", n, img, "vdb", "--persistent"], quiet)]
        + views("attached persistent", True, n),
        [("detach-disk persistent", ["detach-disk", n, "vdb", "--persistent"], quiet)]
        + views("detached persistent", True, n)
        + [("update-device live", ["update-device", n, link_xml(
            files, MAC_USER, "down", "down.xml", "user"), "--live"], quiet),
           ("update-device config", ["update-device", n, link_xml(
               files, MAC_USER, "down", "down.xml", "user"), "--config"], quiet),
           ("update-device absent", ["update-device", n, link_xml(
               files, MAC_PLUG, "down", "absent.xml", "user"), "--live"], quiet)]
        + views("updated", False, n),
    ]


def linux_run(conn, uri, guest, files, kernel, initrd):
    """The Linux guest defined on conn's daemon from files, its agent up, the phases'
    answers; the guest destroyed and undefined after."""
    from test_qemu_agent_calls import wait_agent
    disk = guest.copy_root(files / "root.qcow2")
    os.chmod(disk, 0o666)
    img = files / "b.raw"
    with open(img, "wb") as fh:
        fh.truncate(8 << 20)
    xml = linuxguest.domain_xml(
        PAR, guest, disk, devices=AGENT_CHANNEL, cmdline="sv.ga sv.net",
        interface="<interface type='user'><mac address='%s'/><model type='virtio'/>"
                  "</interface>" % MAC_USER)
    xml = xml.replace(str(guest.kernel), str(kernel)).replace(str(guest.initrd), str(initrd))
    dom = conn.defineXML(xml)
    try:
        dom.create()
        assert wait_agent(dom) == ("OK", '{"return":{}}')
        got = {}
        for i, phase in enumerate(linux_phases(files, str(img))):
            if i:
                time.sleep(5)
            got.update(run_steps(uri, phase))
        return got
    finally:
        if dom.isActive():
            dom.destroy()
        dom.undefine()


@pytest.mark.slow
def test_virsh_devices_on_linux_guest_like_libvirtd(host, ref, guest, tmp_path):
    """The Linux test guest on virtqemud and on Debian's libvirtd: domfsinfo, domifaddr
    --source agent, attach-disk/detach-disk --live and --persistent (the guest lets go
    within the call: the disk leaves both definitions and QEMU), update-device link down
    live, config and for a NIC the guest lacks; every answer, definition and QEMU view the
    same on both."""
    theirs_files = tmp_path / "ref"
    for d in (theirs_files, host.root / "svvd-par"):
        d.mkdir(mode=0o755)
        d.chmod(0o755)
    os.chmod(tmp_path, 0o755)
    copies = linuxguest.boot_files_for(guest, theirs_files)
    rconn = libvirt.open(ref.uri)
    try:
        theirs = linux_run(rconn, ref.uri, guest, theirs_files, copies["kernel"],
                           copies["initrd"])
    finally:
        rconn.close()
    ours = linux_run(host.conn, host.uri, guest, host.root / "svvd-par", guest.kernel,
                     guest.initrd)
    assert ours["domfsinfo"] == [("/", "vda", "ext4", "vda")]
    assert ours["detached live live"]["disks"] == [("vda", "virtio", "root.qcow2")]
    assert ours["updated live"]["nets"] == [("user", MAC_USER, None, "virtio", "down")]
    assert {"libvirtd": theirs.pop("domifaddr arp"), "ours": ours.pop("domifaddr arp")} == \
        KEPT_ARP
    diffs = ["%s:\n    libvirtd: %r\n    ours:     %r" % (label, want, ours[label])
             for label, want in theirs.items() if ours[label] != want]
    assert not diffs, "virsh answers unlike libvirtd's:\n  " + "\n  ".join(diffs)
