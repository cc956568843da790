"""test_qemu_agent_info.py: DOMAIN_GET_GUEST_INFO (virsh guestinfo, issue 18,
qemu_agent_info.c) and DOMAIN_SET_GUEST_VCPUS (virsh guestvcpus --cpulist, qemu_agent_calls.c).

Against the Linux test guest (linuxguest.py) with Debian's qemu-ga inside: each group's values
checked against what the guest has (its kernel, its hostname, its root filesystem on vda, its
NIC's live MAC and DHCP address), the selectors, groups whose commands the agent disabled,
setGuestVcpus on a guest with two vcpus, and virsh guestinfo's output compared line by line
with Debian's libvirtd's for the same guest (slow, `ref` fixture). Without an agent
(Guest A), libvirt's errors, the same as libvirtd's. virtlxcd and virtxend answer NO_SUPPORT
as libvirt's lxc and libxl drivers, which have neither call.
"""

import itertools
import re
import time
import uuid

import pytest

import linuxguest
from calls import answer, guest_a_on_both, virsh
from guests import libvirt
from test_qemu_agent import CONNECTED, agent_events
from test_qemu_agent_calls import AGENT_CHANNEL, wait_agent
from test_qemu_guestops import check_lxc_and_xen, no_support
from test_qemu_program import AGENT_CHANNEL as AGENT_ONLY_CHANNEL
from test_qemu_program import NOT_CONFIGURED, NOT_CONNECTED, NOT_RUNNING, running

libvirt.registerErrorHandler(lambda ctx, err: None, None)

HOSTNAME = libvirt.VIR_DOMAIN_GUEST_INFO_HOSTNAME
FILESYSTEM = libvirt.VIR_DOMAIN_GUEST_INFO_FILESYSTEM
INTERFACES = libvirt.VIR_DOMAIN_GUEST_INFO_INTERFACES
USERS = libvirt.VIR_DOMAIN_GUEST_INFO_USERS
MAC = "52:54:00:5a:17:0e"
NIC = ("<interface type='user'><mac address='%s'/><model type='virtio'/></interface>" % MAC)
BAD_TYPES = (8, 10, "invalid argument: unsupported guest information types '0x400'")
BAD_FLAGS = (8, 10, "unsupported flags (0x1) in function qemuDomainGetGuestInfo")
# libvirt asks the agent's availability (QEMU's error domain) without checking the guest is
# active first, as the other agent calls do (the DOMAIN error domain).
NOT_RUNNING = (NOT_RUNNING[0], 10, NOT_RUNNING[2])


# virReportInvalidArg: the message alone, without "invalid argument: "
BAD_STATE = (8, 10, "unsupported state value")
BAD_SET_FLAGS = (8, 10, "unsupported flags (0x1) in function qemuDomainSetGuestVcpus")


def bad_map(s):
    return (8, 0, "invalid argument: Failed to parse bitmap '%s'" % s)


def info_calls(dom, uri):
    """guestInfo with every group, with one, with a group libvirt does not know, with a
    flag; virsh guestinfo's error; setGuestVcpus, with a bad state, bad lists (the last id
    libvirt takes is 4095) and a flag."""
    rc, out, err = virsh(uri, "guestinfo", dom.name())
    return [answer(dom.guestInfo, 0, 0), answer(dom.guestInfo, HOSTNAME, 0),
            answer(dom.guestInfo, 1 << 10, 0), answer(dom.guestInfo, 0, 1),
            (rc, err.strip()),
            answer(dom.setGuestVcpus, "0", 1, 0), answer(dom.setGuestVcpus, "0", 2, 0),
            answer(dom.setGuestVcpus, "x", 0, 0), answer(dom.setGuestVcpus, "4096", 1, 0),
            answer(dom.setGuestVcpus, "0", 1, 1)]


def expected(agent_error):
    return [agent_error] * 2 + [BAD_TYPES, BAD_FLAGS, (1, "error: " + agent_error[2]),
                                agent_error, BAD_STATE, bad_map("x"), bad_map("4096"),
                                BAD_SET_FLAGS]


def test_without_an_agent(host):
    """Guest A never opens the agent's port: "not connected" with the channel, "not
    configured" without, "domain is not running" once it stopped; unknown groups and flags
    are refused first, as libvirt refuses them. Before this change, an unknown procedure."""
    dom = running(host, "svgai-none", AGENT_ONLY_CHANNEL)
    assert info_calls(dom, host.uri) == expected(NOT_CONNECTED)
    dom.destroy()
    dom.undefine()
    dom = running(host, "svgai-none2")
    assert info_calls(dom, host.uri) == expected(NOT_CONFIGURED)
    dom.destroy()
    assert info_calls(dom, host.uri) == expected(NOT_RUNNING)
    dom.undefine()


@pytest.mark.slow
def test_answers_match_libvirtd(host, ref, tmp_path):
    """The same calls on Guest A of virtqemud and of Debian's libvirtd, with the agent's
    channel (never connected) and without, defined and running: the same answers."""
    rconn = libvirt.open(ref.uri)
    try:
        for name, extra in (("h-agentinfo-ch", AGENT_ONLY_CHANNEL), ("h-agentinfo-none", "")):
            with guest_a_on_both(host, rconn, tmp_path, name, extra) as doms:
                got, want = [], []
                for d, out, uri in zip(doms, (got, want), (host.uri, ref.uri)):
                    out.append(info_calls(d, uri))
                    d.create()
                    out.append(info_calls(d, uri))
                    d.destroy()
                for a, b in zip(got, want):
                    assert a == b, (name, "\n".join(map(str, itertools.zip_longest(a, b))))
    finally:
        rconn.close()


def test_lxc_and_xen_answer_no_support(daemons):
    """libvirt's lxc and libxl drivers have no guestinfo or set-guest-vcpus: NO_SUPPORT in
    the DOMAIN error domain whatever the domain and the arguments."""
    from rawrpc import i32, string, u32
    dom = string("nosuch") + b"\x11" * 16 + i32(-1)
    check_lxc_and_xen(daemons, [(418, dom + u32(0) + u32(0)), (418, dom + u32(1 << 10) + u32(1)),
                                (372, dom + string("0") + i32(1) + u32(0)),
                                (372, dom + string("x") + i32(5) + u32(1))],
                      [no_support("virDomainGetGuestInfo")] * 2 +
                      [no_support("virDomainSetGuestVcpus")] * 2)


def guest_says(con, command, prefix, timeout=30):
    """Run command on the guest's console; the value of the line it prints after prefix."""
    con.stream.send(command.encode() + b"\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = con.data.decode(errors="replace").replace("\r", "")
        m = re.search(r"^%s(\S*)$" % re.escape(prefix), text, re.M)
        if m:
            return m.group(1)
        time.sleep(0.2)
    raise AssertionError("no %r from the guest: %r" % (prefix, con.data[-2000:]))


@pytest.mark.slow
def test_guest_info_in_the_linux_guest(host, guest):
    """The Linux test guest with qemu-ga and a user NIC (slirp's DHCP gives 10.0.2.15):
    - every group: no user logged in, the guest's kernel release and version (os.*; the
      initramfs has no os-release, so no id or name), the timezone (UTC, offset 0), the
      guest's hostname, one filesystem "/" ext4 on vda with the disk's target and device,
      its size and use, the disk vda (not a partition) with the target, the interfaces eth0
      with the live XML's MAC and its DHCP address and lo with 127.0.0.1/8;
    - one group asked (hostname, filesystem, interfaces) gives only that group;
    - virsh guestinfo --hostname and --filesystem print the same.
    Before this change the call was an unknown procedure."""
    reg = agent_events(host)
    try:
        disk = guest.copy_root(host.root / "svgai.qcow2")
        dom = host.conn.defineXML(linuxguest.domain_xml(
            "svgai", guest, disk, uuid=str(uuid.uuid4()), devices=AGENT_CHANNEL,
            interface=NIC, cmdline="sv.ga sv.net"))
        con = linuxguest.start(host, dom)
        host.events.wait_event("svgai", CONNECTED, timeout=linuxguest.BOOT_TIMEOUT)
        con.wait_for("NET: ", timeout=linuxguest.BOOT_TIMEOUT)
        release = guest_says(con, 'echo "KREL=$(uname -r)"', "KREL=")
        hostname = guest_says(con, 'echo "HOST=$(cat /proc/sys/kernel/hostname)"', "HOST=")
        info = dom.guestInfo(0, 0)
        check_groups(info, release, hostname)
        assert dom.guestInfo(HOSTNAME, 0) == {"hostname": hostname}
        assert dom.guestInfo(FILESYSTEM, 0) == {k: v for k, v in info.items()
                                                if k.startswith("fs.")}
        # The interfaces group alone: the same interfaces; their addresses as far as they
        # are not moving (slirp's router advertisement adds IPv6 ones at a moment of its own,
        # which may fall between the two calls).
        only_if = dom.guestInfo(INTERFACES, 0)
        assert not_addr_keys(only_if) == not_addr_keys(info, "if."), only_if
        for n in range(only_if["if.count"]):
            ipv4 = {a for a in addrs(info, n) if a[0] == "ipv4"}
            assert {a for a in addrs(only_if, n) if a[0] == "ipv4"} == ipv4, only_if
        rc, out, err = virsh(host.uri, "guestinfo", "svgai", "--hostname")
        assert rc == 0 and out.split() == ["hostname", ":", hostname], (out, err)
        rc, out, err = virsh(host.uri, "guestinfo", "svgai", "--filesystem")
        assert rc == 0 and re.search(r"^fs\.0\.mountpoint +: /$", out, re.M), (out, err)
        assert re.search(r"^fs\.0\.disk\.0\.alias +: vda$", out, re.M), (out, err)
        dom.destroy()
        dom.undefine()
    finally:
        host.events.conn.domainEventDeregisterAny(reg)


def check_groups(info, release, hostname):
    assert info["user.count"] == 0, info
    assert info["os.kernel-release"] == release, info
    assert "os.id" not in info and info["os.machine"] == "x86_64", info
    assert info["timezone.offset"] == 0, info
    assert info["hostname"] == hostname, info
    fs = {k: v for k, v in info.items() if k.startswith("fs.")}
    assert fs["fs.count"] == 1 and fs["fs.0.mountpoint"] == "/", fs
    assert (fs["fs.0.name"], fs["fs.0.fstype"]) == ("vda", "ext4"), fs
    assert 0 < fs["fs.0.used-bytes"] < fs["fs.0.total-bytes"], fs
    assert fs["fs.0.disk.count"] == 1 and fs["fs.0.disk.0.alias"] == "vda", fs
    assert fs["fs.0.disk.0.device"] == "/dev/vda", fs
    disks = {info["disk.%d.name" % i]: i for i in range(info["disk.count"])}
    n = disks["/dev/vda"]
    assert info["disk.%d.partition" % n] is False and info["disk.%d.alias" % n] == "vda", info
    ifaces = {info["if.%d.name" % i]: i for i in range(info["if.count"])}
    eth, lo = ifaces["eth0"], ifaces["lo"]
    assert info["if.%d.hwaddr" % eth] == MAC, info
    assert addrs(info, eth) >= {("ipv4", "10.0.2.15", 24)}, info
    assert addrs(info, lo) >= {("ipv4", "127.0.0.1", 8)}, info


def not_addr_keys(info, prefix=""):
    """The keys of info (those starting with prefix) but the interfaces' addresses."""
    return {k for k in info if k.startswith(prefix) and not re.match(r"if\.\d+\.addr\.", k)}


def addrs(info, n):
    return {(info["if.%d.addr.%d.type" % (n, j)], info["if.%d.addr.%d.addr" % (n, j)],
             info["if.%d.addr.%d.prefix" % (n, j)]) for j in range(info["if.%d.addr.count" % n])}


def virsh_lines(uri, name):
    """virsh guestinfo's lines in order, as (field, value), without what changes from one
    moment to the next: the addresses slirp's router advertisement gives (fec0::/64, which
    come at a moment of their own; the interfaces' address counts with them, whose place
    is kept) and the filesystem's use."""
    rc, out, err = virsh(uri, "guestinfo", name)
    assert rc == 0, (out, err)
    lines = [tuple(s.strip() for s in l.split(":", 1)) for l in out.splitlines() if l.strip()]
    drop = {re.sub(r"\.type$", "", f) for f, v in lines if v == "ipv6"}
    return [(f, None if re.match(r"if\.\d+\.addr\.count$", f) else v) for f, v in lines
            if not f.endswith("used-bytes") and not any(f.startswith(p + ".") for p in drop)]


@pytest.mark.slow
def test_results_match_libvirtd(host, ref, guest, tmp_path):
    """The Linux test guest with its agent on virtqemud and on Debian's libvirtd in the same
    run: virsh guestinfo prints the same fields in the same order with the same values
    (but what changes between two moments: IPv6 addresses from slirp's router, the
    filesystem's use), and each group asked alone gives the same."""
    rconn = libvirt.open(ref.uri)
    try:
        with linuxguest.on_both(host, rconn, guest, tmp_path, "h-agentinfo-par", interface=NIC,
                                cmdline="sv.ga sv.net", devices=AGENT_CHANNEL) as doms:
            check_info_on_both(host, ref, doms)
    finally:
        rconn.close()


def check_info_on_both(host, ref, doms):
    """virsh guestinfo and guestInfo per group on both guests, once their agents answer."""
    for d in doms:
        assert wait_agent(d) == ("OK", '{"return":{}}')
    # The DHCP lease first: both guests' eth0 have their IPv4 address.
    deadline = time.monotonic() + linuxguest.BOOT_TIMEOUT
    while time.monotonic() < deadline and not all(
            "10.0.2.15" in str(answer(d.guestInfo, INTERFACES, 0)) for d in doms):
        time.sleep(1)
    ours, theirs = (virsh_lines(uri, "h-agentinfo-par") for uri in (host.uri, ref.uri))
    assert ("fs.0.disk.0.alias", "vda") in ours, ours
    assert ours == theirs, "\n".join(map(str, itertools.zip_longest(ours, theirs)))
    for types in (HOSTNAME, FILESYSTEM, libvirt.VIR_DOMAIN_GUEST_INFO_OS, USERS,
                  libvirt.VIR_DOMAIN_GUEST_INFO_DISKS, libvirt.VIR_DOMAIN_GUEST_INFO_TIMEZONE):
        a, b = (answer(d.guestInfo, types, 0) for d in doms)
        if a[0] == "OK" and types == FILESYSTEM:
            a[1].pop("fs.0.used-bytes", None)
            b[1].pop("fs.0.used-bytes", None)
        assert a == b, (types, a, b)


def set_vcpus_sequence(dom, uri):
    """On a guest with two vcpus (cpu0 the boot CPU, cpu1 offlinable): what the agent says
    of them around setGuestVcpus taking cpu1 offline and back (also virsh guestvcpus
    --cpulist --disable/--enable), and libvirt's errors for cpu0 going offline and for
    vcpus the guest lacks."""
    out = [answer(dom.guestVcpus, 0), answer(dom.setGuestVcpus, "1", 0, 0),
           answer(dom.guestVcpus, 0), answer(dom.vcpusFlags, libvirt.VIR_DOMAIN_VCPU_GUEST),
           answer(dom.setGuestVcpus, "0-1", 1, 0), answer(dom.guestVcpus, 0),
           answer(dom.setGuestVcpus, "0", 0, 0), answer(dom.setGuestVcpus, "0-3,7", 1, 0),
           answer(dom.setGuestVcpus, "0-1", 0, 0), answer(dom.guestVcpus, 0)]
    rc, text, err = virsh(uri, "guestvcpus", dom.name(), "--cpulist", "1", "--disable")
    out += [(rc, err.strip()), answer(dom.guestVcpus, 0)]
    rc, text, err = virsh(uri, "guestvcpus", dom.name(), "--cpulist", "1", "--enable")
    out += [(rc, err.strip()), answer(dom.guestVcpus, 0)]
    return out


BOTH = {"vcpus": "0-1", "online": "0-1", "offlinable": "1"}
CPU0 = {"vcpus": "0-1", "online": "0", "offlinable": "1"}
SET_VCPUS_EXPECTED = [
    ("OK", BOTH), ("OK", 0), ("OK", CPU0), ("OK", 1), ("OK", 0), ("OK", BOTH),
    (84, 10, "Operation not supported: vCPU '0' is not offlinable"),
    (8, 10, "invalid argument: guest is missing vCPUs '2-3,7'"),
    (84, 10, "Operation not supported: vCPU '0' is not offlinable"), ("OK", BOTH),
    (0, ""), ("OK", CPU0), (0, ""), ("OK", BOTH)]


@pytest.mark.slow
def test_set_guest_vcpus_matches_libvirtd(host, ref, guest, tmp_path):
    """The Linux test guest with two vcpus and its agent on virtqemud and on Debian's
    libvirtd in the same run: setGuestVcpus takes cpu1 offline and back (the agent's
    guest-get-vcpus and vcpucount --guest follow), refuses cpu0 and vcpus the guest lacks,
    the same on both. Before this change, an unknown procedure."""
    rconn = libvirt.open(ref.uri)
    try:
        with linuxguest.on_both(host, rconn, guest, tmp_path, "h-agentinfo-vcpu", cmdline="sv.ga",
                                devices=AGENT_CHANNEL, vcpus=2) as doms:
            for d in doms:
                assert wait_agent(d) == ("OK", '{"return":{}}')
            ours, theirs = (set_vcpus_sequence(d, uri)
                            for d, uri in zip(doms, (host.uri, ref.uri)))
            assert ours == SET_VCPUS_EXPECTED, ours
            assert ours == theirs, "\n".join(map(str, itertools.zip_longest(ours, theirs)))
    finally:
        rconn.close()


def blocked_sequence(dom):
    """guestInfo of every group, of users alone and of disks with the hostname (the
    filesystem's use dropped: it moves)."""
    out = [answer(dom.guestInfo, 0, 0), answer(dom.guestInfo, USERS, 0),
           answer(dom.guestInfo, libvirt.VIR_DOMAIN_GUEST_INFO_DISKS | HOSTNAME, 0)]
    if out[0][0] == "OK":
        out[0][1].pop("fs.0.used-bytes", None)
    return out


@pytest.mark.slow
def test_commands_the_agent_disabled(host, ref, guest, tmp_path):
    """The guest's qemu-ga with guest-get-users and guest-get-disks disabled (-b): with no
    group named, those groups are left out and the others answered; a disabled group named
    fails with the agent's error; the same as libvirtd's."""
    rconn = libvirt.open(ref.uri)
    try:
        with linuxguest.on_both(host, rconn, guest, tmp_path, "h-agentinfo-blk",
                                cmdline="sv.ga.block=guest-get-users,guest-get-disks",
                                devices=AGENT_CHANNEL) as doms:
            for d in doms:
                assert wait_agent(d) == ("OK", '{"return":{}}')
            ours, theirs = (blocked_sequence(d) for d in doms)
            assert ours[0][0] == "OK" and "hostname" in ours[0][1], ours
            assert not [k for k in ours[0][1] if k.startswith(("user.", "disk."))], ours
            assert ours[1][:2] == (1, 10) and ours[1][2].startswith(
                "internal error: unable to execute QEMU agent command 'guest-get-users': "), ours
            assert ours[2][:2] == (1, 10) and "'guest-get-disks'" in ours[2][2], ours
            assert ours == theirs, "\n".join(map(str, itertools.zip_longest(ours, theirs)))
    finally:
        rconn.close()
