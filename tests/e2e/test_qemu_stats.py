"""test_qemu_stats.py: a guest's statistics through python3-libvirt and virsh (issue 18,
item 1, per-guest calls), with a real TCG guest (Guest A) under virtqemud.

Checked on a running guest: block stats by target and by path, their sum over all disks,
the typed-parameter form with libvirt's eight names; block info from the images (a qcow2's
virtual size, the blocks used, the file size); the balloon's memory stats with QEMU's rss;
the stats period set on the balloon; vCPUs with their threads' CPU time and affinity; vCPU
and emulator pinning as the definition gives it; total CPU time; no job (type NONE); the
control state; the guest clock's error without an agent. On a defined guest: libvirt's
errors, and block info from the files. Interface stats: on a tap in a network namespace,
counted as libvirt does (the host side's counters swapped), by target name and by MAC; a
user-mode interface's and an unknown name's errors. Errors are libvirt 9.0's, as Debian's
libvirtd answered them for the same calls (code, domain, message).
"""

import os
import signal
import subprocess
import threading
import time

import pytest

import rawrpc
from guests import RUNNING, libvirt, virsh_env
from test_qemu_net import (DIRECT, define_with, ip, live_target, nethost, netns,  # noqa: F401
                           uplink)

QEMU_IMG = "/usr/bin/qemu-img"
FROM_NONE, FROM_QEMU, FROM_DOMAIN, FROM_CGROUP = 0, 10, 20, 54
ERR_INTERNAL, ERR_INVALID_ARG, ERR_OP_INVALID = 1, 8, 55
ERR_ARG_UNSUPPORTED, ERR_OP_UNSUPPORTED = 74, 84
MiB = 1024 * 1024

BLOCK_FIELDS = ["wr_bytes", "wr_operations", "rd_bytes", "rd_operations", "flush_operations",
                "wr_total_times", "rd_total_times", "flush_total_times"]


def error_of(fn):
    try:
        fn()
    except libvirt.libvirtError as e:
        return (e.get_error_code(), e.get_error_domain(), e.get_error_message())
    raise AssertionError("no error")


def not_running(fn):
    assert error_of(fn) == (ERR_OP_INVALID, FROM_DOMAIN,
                            "Requested operation is not valid: domain is not running")


def stats_disks(root):
    """A 64 MiB qcow2 (vda) and a 32 MiB raw image (vdb) made in root: their <disk>s."""
    subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", str(root / "a.qcow2"), "64M"],
                   check=True)
    with open(root / "b.img", "wb") as f:
        f.truncate(32 * MiB)
    return ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            "<source file='%s/a.qcow2'/><target dev='vda' bus='virtio'/></disk>"
            "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            "<source file='%s/b.img'/><target dev='vdb' bus='virtio'/></disk>" % (root, root))


def stats_guest(host, name="stats"):
    """Guest A with a 64 MiB qcow2 (vda), a 32 MiB raw image (vdb), a virtio balloon, two
    vCPUs (vCPU 1 pinned to host CPU 0) and QEMU pinned to host CPU 1."""
    disks = stats_disks(host.root)
    xml = host.xml(name).replace("<memballoon model='none'/>", "<memballoon model='virtio'/>")
    xml = xml.replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu><cputune><vcpupin vcpu='1' cpuset='0'/>"
                      "<emulatorpin cpuset='1'/></cputune>")
    xml = xml.replace("<devices>", "<devices>" + disks, 1)
    return host.conn.defineXML(xml)


# python3-libvirt and virsh ask the host's CPU count (NODE_GET_CPU_MAP, a host fact served
# apart) before reading cpumaps, so the three calls with cpumaps go over raw RPC here.
PROC_GET_VCPUS, PROC_GET_VCPU_PIN_INFO, PROC_GET_EMULATOR_PIN_INFO = 20, 230, 280


def raw_dom(dom):
    return rawrpc.string(dom.name()) + rawrpc.opaque_fixed(dom.UUID(), 16) + rawrpc.i32(dom.ID())


def cpumaps(u, maplen):
    n = u.u32()
    data = u.opaque_fixed(n)
    return [tuple(bool(data[i + c // 8] >> (c % 8) & 1) for c in range(maplen * 8))
            for i in range(0, n, maplen)]


def raw_pin_info(host, dom, flags, maplen=1):
    """(vCPU cpumaps, emulator cpumap) of dom, maplen bytes each (8 CPUs)."""
    with rawrpc.Client(str(host.daemon.sock)) as c:
        c.open()
        u = c.call(PROC_GET_VCPU_PIN_INFO, raw_dom(dom) + rawrpc.i32(4) + rawrpc.i32(maplen) +
                   rawrpc.u32(flags))
        vcpu_maps = cpumaps(u, maplen)
        assert u.i32() == len(vcpu_maps)
        u = c.call(PROC_GET_EMULATOR_PIN_INFO, raw_dom(dom) + rawrpc.i32(maplen) +
                   rawrpc.u32(flags))
        (emulator,) = cpumaps(u, maplen)
        assert u.i32() == 1
        return vcpu_maps, emulator


def raw_vcpus(host, dom, maxinfo=4, maplen=1):
    """[(number, state, cpu time, cpu)], cpumaps of GET_VCPUS."""
    with rawrpc.Client(str(host.daemon.sock)) as c:
        c.open()
        u = c.call(PROC_GET_VCPUS, raw_dom(dom) + rawrpc.i32(maxinfo) + rawrpc.i32(maplen))
        info = [(u.u32(), u.i32(), u.uhyper(), u.i32()) for _ in range(u.u32())]
        return info, cpumaps(u, maplen)


def cpus(*on):
    return tuple(c in on for c in range(8))


def file_info(path):
    st = os.stat(path)
    return st.st_blocks * 512, st.st_size


def host_cpus():
    text = open("/sys/devices/system/cpu/present").read().strip()
    return int(text.replace(",", "-").split("-")[-1]) + 1


def virsh(host, *args):
    r = subprocess.run(["virsh", "-c", host.uri] + list(args), capture_output=True, text=True,
                       env=virsh_env(), timeout=60)
    return r.returncode, r.stdout, r.stderr


def test_stats_of_a_defined_guest(host):
    if host_cpus() < 2:
        pytest.skip("needs two host CPUs")
    dom = stats_guest(host, "idle")
    for fn in (lambda: dom.blockStats("vda"), lambda: dom.blockStatsFlags("vda", 0),
               lambda: dom.interfaceStats("vnet0"), dom.memoryStats, dom.jobInfo,
               lambda: dom.jobStats(0), dom.controlInfo, dom.getTime,
               lambda: dom.getCPUStats(True), lambda: dom.vcpusFlags(1),
               lambda: dom.setMemoryStatsPeriod(2, libvirt.VIR_DOMAIN_AFFECT_LIVE)):
        not_running(fn)
    with rawrpc.Client(str(host.daemon.sock)) as c:
        c.open()
        _, err = c.call_error(PROC_GET_VCPUS, raw_dom(dom) + rawrpc.i32(2) + rawrpc.i32(1))
        assert (err.code, err.domain, err.message) == (
            ERR_OP_INVALID, FROM_QEMU, "Requested operation is not valid: cannot retrieve vcpu "
            "information for inactive domain")
        _, err = c.call_error(PROC_GET_VCPU_PIN_INFO, raw_dom(dom) + rawrpc.i32(2) +
                              rawrpc.i32(1) + rawrpc.u32(libvirt.VIR_DOMAIN_AFFECT_LIVE))
        assert (err.code, err.domain, err.message) == (
            ERR_OP_INVALID, FROM_DOMAIN, "Requested operation is not valid: domain is not running")
    assert error_of(lambda: dom.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_GUEST)) == (
        ERR_INVALID_ARG, FROM_QEMU, "invalid argument: vCPU count provided by the guest agent "
        "can only be requested for live domains")
    # The completed job's statistics need no running guest: there are none.
    assert dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED) == {"type": 0}
    # The definition's vCPUs and pins.
    assert dom.vcpusFlags(0) == 2 and dom.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_MAXIMUM) == 2
    everywhere = cpus(*range(host_cpus()))
    assert raw_pin_info(host, dom, 0) == ([everywhere, cpus(0)], cpus(1))
    assert raw_pin_info(host, dom, libvirt.VIR_DOMAIN_AFFECT_CONFIG) == ([everywhere, cpus(0)],
                                                                        cpus(1))
    # Block info reads the images of a defined guest.
    alloc, size = file_info(host.root / "a.qcow2")
    assert dom.blockInfo("vda", 0) == [64 * MiB, alloc, size]
    alloc, size = file_info(host.root / "b.img")
    assert dom.blockInfo(str(host.root / "b.img"), 0) == [32 * MiB, alloc, 32 * MiB]
    assert error_of(lambda: dom.blockInfo("vdz", 0)) == (
        ERR_INVALID_ARG, FROM_QEMU, "invalid argument: invalid path vdz not assigned to domain")
    assert error_of(lambda: dom.blockInfo("vda", 1)) == (
        ERR_INVALID_ARG, FROM_QEMU,
        "unsupported flags (0x1) in function qemuDomainGetBlockInfo")
    dom.undefine()


def check_block_stats(dom, root):
    vda, vdb = dom.blockStats("vda"), dom.blockStats("vdb")
    assert len(vda) == 5 and vda[4] == -1 and vdb[4] == -1
    assert all(v >= 0 for v in vda[:4] + vdb[:4])
    assert dom.blockStats(str(root / "a.qcow2")) == vda
    # No path: every disk's counters summed (the guest does no I/O meanwhile).
    assert dom.blockStats("") == tuple(a + b for a, b in zip(vda[:4], vdb[:4])) + (-1,)
    flags = dom.blockStatsFlags("vda", 0)
    assert list(flags) == BLOCK_FIELDS
    assert (flags["rd_operations"], flags["rd_bytes"], flags["wr_operations"],
            flags["wr_bytes"]) == vda[:4]
    for fn in (lambda: dom.blockStats("vdz"), lambda: dom.blockStatsFlags("vdz", 0)):
        assert error_of(fn) == (ERR_INVALID_ARG, FROM_QEMU, "invalid argument: invalid path: vdz")
    assert error_of(lambda: dom.blockStatsFlags("vda", 8)) == (
        ERR_INVALID_ARG, FROM_QEMU,
        "unsupported flags (0x8) in function qemuDomainBlockStatsFlags")
    alloc, size = file_info(root / "a.qcow2")
    assert dom.blockInfo("vda", 0) == [64 * MiB, alloc, size]


def check_vcpus(host, dom, pid):
    n = host_cpus()
    info, maps = raw_vcpus(host, dom)
    assert [(v[0], v[1]) for v in info] == [(0, 1), (1, 1)]
    assert all(0 <= v[3] < n for v in info)
    # vCPU 1's thread runs where it is pinned; vCPU 0 anywhere.
    assert maps == [cpus(*range(n)), cpus(0)]
    # As many as asked for, with the map bytes asked for.
    assert len(raw_vcpus(host, dom, maxinfo=1)[0]) == 1
    threads = os.listdir("/proc/%d/task" % pid)
    assert len(threads) >= 3  # QEMU's main thread, two vCPUs
    for flags in (0, libvirt.VIR_DOMAIN_VCPU_LIVE, libvirt.VIR_DOMAIN_VCPU_CONFIG,
                  libvirt.VIR_DOMAIN_VCPU_MAXIMUM,
                  libvirt.VIR_DOMAIN_VCPU_MAXIMUM | libvirt.VIR_DOMAIN_VCPU_LIVE):
        assert dom.vcpusFlags(flags) == 2
    assert error_of(lambda: dom.vcpusFlags(libvirt.VIR_DOMAIN_VCPU_GUEST)) == (
        ERR_ARG_UNSUPPORTED, FROM_QEMU, "argument unsupported: QEMU guest agent is not configured")
    assert raw_pin_info(host, dom, libvirt.VIR_DOMAIN_AFFECT_LIVE) == (
        [cpus(*range(n)), cpus(0)], cpus(1))


def cgroup_usage_ns(pid):
    """The CPU time of QEMU's own cgroup (a guest's: NAME.libvirt-qemu), in ns, as the kernel
    counts it (v2 cpu.stat usage_usec, v1 cpuacct.usage); None when it runs in none."""
    for line in open("/proc/%d/cgroup" % pid).read().splitlines():
        _, controllers, path = line.split(":", 2)
        if not path.endswith(".libvirt-qemu"):
            continue
        if controllers == "":
            stat = "/sys/fs/cgroup%s/cpu.stat" % path
            if os.path.exists(stat):
                return int(open(stat).read().split("usage_usec ")[1].split()[0]) * 1000
        elif "cpuacct" in controllers.split(","):
            for mount in ("cpuacct", "cpu,cpuacct"):
                usage = "/sys/fs/cgroup/%s%s/cpuacct.usage" % (mount, path)
                if os.path.exists(usage):
                    return int(open(usage).read())
    return None


def check_cpu_and_jobs(dom, pid):
    before = cgroup_usage_ns(pid)
    (total,) = dom.getCPUStats(True)
    after = cgroup_usage_ns(pid)
    assert list(total) == ["cpu_time", "user_time", "system_time"]
    assert total["cpu_time"] > 0
    # The cgroup's time, as libvirt reads it, where the guest has one; its parts add up to
    # about the same (the kernel counts them apart).
    if before is not None:
        assert before <= total["cpu_time"] <= after
    assert abs(total["user_time"] + total["system_time"] - total["cpu_time"]) <= \
        max(total["cpu_time"] // 10, 20000000)
    assert error_of(lambda: dom.getCPUStats(False)) == (
        ERR_OP_UNSUPPORTED, FROM_CGROUP, "Operation not supported: operation "
        "'getCpuacctPercpuUsage' not supported for backend 'cgroup V2'")
    assert dom.jobInfo() == [0] * 12
    assert dom.jobStats(0) == {"type": 0}
    assert dom.controlInfo() == [0, 0, 0]
    assert error_of(dom.getTime) == (ERR_ARG_UNSUPPORTED, FROM_QEMU,
                                     "argument unsupported: QEMU guest agent is not configured")


def test_stats_of_a_running_guest(host):
    if host_cpus() < 2:
        pytest.skip("needs two host CPUs")
    dom = stats_guest(host)
    dom.create()
    assert dom.state()[0] == RUNNING
    pid = host.pid("stats")
    check_block_stats(dom, host.root)
    mem = dom.memoryStats()
    # The balloon holds all of the guest's 32 MiB; Guest A has no balloon driver, so QEMU
    # has no guest counters, only the time of their last update (never).
    assert list(mem) == ["actual", "last_update", "rss"]
    assert mem["actual"] == 32 * 1024 and mem["last_update"] == 0
    statm = open("/proc/%d/statm" % pid).read().split()
    assert abs(mem["rss"] - int(statm[1]) * os.sysconf("SC_PAGESIZE") // 1024) < 16 * 1024
    assert dom.setMemoryStatsPeriod(2, libvirt.VIR_DOMAIN_AFFECT_LIVE) == 0
    assert list(dom.memoryStats()) == ["actual", "last_update", "rss"]
    check_vcpus(host, dom, pid)
    check_cpu_and_jobs(dom, pid)

    # virsh shows the same.
    rc, out, err = virsh(host, "domblkstat", "stats", "vda")
    assert rc == 0, err
    assert "vda rd_req " in out and "vda flush_total_times " in out
    rc, out, err = virsh(host, "domblkinfo", "stats", "vda")
    assert rc == 0 and "Capacity:       %d" % (64 * MiB) in out, out + err
    rc, out, err = virsh(host, "dommemstat", "stats")
    assert rc == 0 and "actual 32768" in out and "rss " in out, out + err
    rc, out, err = virsh(host, "vcpucount", "stats")
    assert rc == 0 and "current      live           2" in out, out + err
    rc, out, err = virsh(host, "domjobinfo", "stats")
    assert rc == 0 and "Job type:         None" in out, out + err
    rc, out, err = virsh(host, "cpu-stats", "stats", "--total")
    assert rc == 0 and "cpu_time" in out, out + err
    dom.destroy()
    host.assert_clean()
    dom.undefine()


def test_interface_stats_of_a_tap(nethost):
    dom = define_with(nethost, "ifstats",
                      "<interface type='ethernet'><mac address='52:54:00:5a:01:02'/>"
                      "<model type='virtio'/></interface>"
                      "<interface type='user'><mac address='52:54:00:5a:01:03'/>"
                      "<model type='virtio'/></interface>")
    not_running(lambda: dom.interfaceStats("52:54:00:5a:01:02"))
    dom.create()
    tap = live_target(dom)

    def counters():
        names = ["rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
                 "tx_bytes", "tx_packets", "tx_errors", "tx_dropped"]
        out = ip("netns", "exec", nethost.netns, "sh", "-c",
                 "cd /sys/class/net/%s/statistics && cat %s" % (tap, " ".join(names))).stdout
        return [int(v) for v in out.split()]

    # Frames from the host side into the tap (a local experimental ethertype, to the guest
    # only): the host counts sent what the tap took (the first; the rest wait, as QEMU reads
    # nothing for a guest without a network driver), libvirt reports it as the guest's
    # received. The guest sends nothing.
    send = ("import socket; s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); "
            "s.bind(('%s', 0)); [s.send(b'\\xff' * 6 + b'\\x02' + b'\\0' * 5 + b'\\x88\\xb5' "
            "+ b'x' * 50) for _ in range(3)]" % tap)
    ip("netns", "exec", nethost.netns, "/usr/bin/python3", "-c", send)
    before = counters()
    assert before[5] >= 1 and before[1] == 0, before
    got = dom.interfaceStats(tap)
    after = counters()
    # The tap's host side counts the guest's traffic the other way round.
    assert got[1] >= 1 and got[5] == 0
    for i in range(4):
        assert before[4 + i] <= got[i] <= after[4 + i]
        assert before[i] <= got[4 + i] <= after[i]
    by_mac = dom.interfaceStats("52:54:00:5A:01:02")
    assert by_mac[0] >= got[0]
    rc, out, err = virsh(nethost, "domifstat", "ifstats", tap)
    assert rc == 0, err
    shown = dict(line.split(" ", 2)[1:] for line in out.splitlines() if line.strip())
    assert list(shown) == ["rx_bytes", "rx_packets", "rx_errs", "rx_drop", "tx_bytes",
                           "tx_packets", "tx_errs", "tx_drop"]
    assert int(shown["rx_bytes"]) >= got[0] and int(shown["tx_bytes"]) >= got[4]
    assert error_of(lambda: dom.interfaceStats("52:54:00:5a:01:03")) == (
        ERR_INTERNAL, FROM_NONE, "internal error: Interface name not provided")
    assert error_of(lambda: dom.interfaceStats("nope0")) == (
        ERR_INVALID_ARG, FROM_DOMAIN, "invalid argument: 'nope0' is not a known interface")
    dom.destroy()
    dom.undefine()


def test_control_info_while_qemu_does_not_answer(host):
    """A stats call waits for QEMU without holding anyone up: with QEMU stopped (SIGSTOP),
    another client's control info is answered at once, OCCUPIED for as long as the monitor
    command has waited; once QEMU runs again the call gets its answer and the monitor is OK."""
    dom = host.conn.defineXML(host.xml("busy").replace("<memballoon model='none'/>",
                                                       "<memballoon model='virtio'/>"))
    dom.create()
    pid = host.pid("busy")
    assert dom.controlInfo() == [0, 0, 0]
    other = host.open().lookupByName("busy")
    got = []
    os.kill(pid, signal.SIGSTOP)
    try:
        t = threading.Thread(target=lambda: got.append(other.memoryStats()), daemon=True)
        t.start()
        deadline = time.monotonic() + 10
        while dom.controlInfo()[0] != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        t0 = time.monotonic()
        state, details, ms = dom.controlInfo()
        assert time.monotonic() - t0 < 1.0  # answered while QEMU is stopped
        assert (state, details) == (2, 0) and ms >= 300, (state, details, ms)
        rc, out, err = virsh(host, "domcontrol", "busy")
        assert rc == 0 and out.startswith("occupied ("), out + err
        assert not got
    finally:
        os.kill(pid, signal.SIGCONT)
    t.join(15)
    assert got and "rss" in got[0]
    assert dom.controlInfo() == [0, 0, 0]
    # No disk: zeros for the sum, and no typed parameter at all, as libvirtd answered.
    assert dom.blockStats("") == (0, 0, 0, 0, -1)
    assert dom.blockStatsFlags("", 0) == {}
    dom.destroy()
    dom.undefine()


def stats_period(dom, flags):
    xml = dom.XMLDesc(flags)
    balloon = xml[xml.index("<memballoon"):xml.index("</memballoon>")]
    return balloon.split("<stats period='")[1].split("'")[0] if "<stats" in balloon else None


def test_memory_stats_period_live_and_config(host):
    """The period goes to the running balloon (the live XML shows it) and, with CONFIG, to
    the persistent definition on disk; a guest without a balloon and a transient guest get
    libvirt's errors."""
    dom = host.conn.defineXML(host.xml("period").replace("<memballoon model='none'/>",
                                                         "<memballoon model='virtio'/>"))
    # Defined only: 0 means CONFIG.
    assert dom.setMemoryStatsPeriod(7, 0) == 0
    assert stats_period(dom, libvirt.VIR_DOMAIN_XML_INACTIVE) == "7"
    dom.create()
    assert stats_period(dom, 0) == "7"
    assert dom.setMemoryStatsPeriod(3, libvirt.VIR_DOMAIN_AFFECT_LIVE) == 0
    assert stats_period(dom, 0) == "3"
    assert stats_period(dom, libvirt.VIR_DOMAIN_XML_INACTIVE) == "7"
    assert dom.setMemoryStatsPeriod(5, libvirt.VIR_DOMAIN_AFFECT_LIVE |
                                    libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 0
    assert stats_period(dom, 0) == "5"
    assert stats_period(dom, libvirt.VIR_DOMAIN_XML_INACTIVE) == "5"
    saved = (host.root / "etc" / "libvirt" / "qemu" / "period.xml").read_text()
    assert "<stats period='5'/>" in saved
    dom.destroy()
    dom.undefine()

    bare = host.conn.createXML(host.xml("bare"), 0)
    assert error_of(lambda: bare.setMemoryStatsPeriod(2, libvirt.VIR_DOMAIN_AFFECT_LIVE)) == (
        ERR_INTERNAL, FROM_QEMU, "internal error: No memory balloon device configured, can not "
        "set the collection period")
    assert error_of(lambda: bare.setMemoryStatsPeriod(2, libvirt.VIR_DOMAIN_AFFECT_CONFIG)) == (
        ERR_OP_INVALID, FROM_DOMAIN, "Requested operation is not valid: transient domains do "
        "not have any persistent config")
    # Without a balloon, QEMU's rss alone.
    assert list(bare.memoryStats()) == ["rss"]
    bare.destroy()


def test_interface_stats_of_a_macvtap(nethost, uplink):
    """A macvtap shares the guest's view: its counters are reported as they are. A frame
    sent to the guest over the uplink is the macvtap's received and the guest's received."""
    dom = define_with(nethost, "dirstats", DIRECT)
    dom.create()
    tap = live_target(dom)
    ip("-n", nethost.netns, "link", "set", "eth9p", "up")
    send = ("import socket; s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); "
            "s.bind(('eth9p', 0)); s.send(b'\\xff' * 6 + b'\\x02' + b'\\0' * 5 + b'\\x88\\xb5' "
            "+ b'x' * 50)")
    # A frame sent while the uplink just set up is still coming up can be lost: send until
    # the macvtap has counted one (a generous bound; it is usually the first).
    deadline = time.monotonic() + 10
    while True:
        ip("netns", "exec", nethost.netns, "/usr/bin/python3", "-c", send)
        out = ip("netns", "exec", nethost.netns, "sh", "-c",
                 "cd /sys/class/net/%s/statistics && cat rx_packets tx_packets" % tap).stdout
        host_rx, host_tx = [int(v) for v in out.split()]
        if host_rx >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    got = dom.interfaceStats(tap)
    assert host_rx >= 1 and got[1] >= host_rx and got[5] == host_tx
    dom.destroy()
    dom.undefine()


# ---------------------------------------------------------------- against libvirtd (slow)

def answers(dom, root):
    """What each call answers on dom: its shape where values are the run's own (counters,
    times), the value where it is deterministic, or the error (code, domain, message)."""
    def shape(fn):
        try:
            return ("ok", fn())
        except libvirt.libvirtError as e:
            return ("error", e.get_error_code(), e.get_error_domain(), e.get_error_message())

    a = {
        "blockStats vda": shape(lambda: (len(dom.blockStats("vda")), dom.blockStats("vda")[4])),
        "blockStats path": shape(lambda: len(dom.blockStats(str(root / "a.qcow2")))),
        "blockStats vdz": shape(lambda: dom.blockStats("vdz")),
        "blockStatsFlags vda": shape(lambda: list(dom.blockStatsFlags("vda", 0))),
        "blockStatsFlags all": shape(lambda: list(dom.blockStatsFlags("", 0))),
        "blockStatsFlags 0x8": shape(lambda: dom.blockStatsFlags("vda", 8)),
        "blockInfo vda": shape(lambda: dom.blockInfo("vda", 0)[0::2]),  # capacity, physical
        "blockInfo vdb": shape(lambda: dom.blockInfo(str(root / "b.img"), 0)[0::2]),
        "blockInfo vdz": shape(lambda: dom.blockInfo("vdz", 0)),
        "blockInfo 0x1": shape(lambda: dom.blockInfo("vda", 1)),
        "ifstat user": shape(lambda: dom.interfaceStats("52:54:00:5a:01:03")),
        "ifstat nope": shape(lambda: dom.interfaceStats("nope0")),
        "memoryStats": shape(lambda: sorted(dom.memoryStats())),
        "vcpusFlags": [shape(lambda f=f: dom.vcpusFlags(f)) for f in (0, 1, 2, 4, 5, 6, 8, 17, 32)],
        "cpuStats total": shape(lambda: [sorted(s) for s in dom.getCPUStats(True)]),
        "cpuStats percpu": shape(lambda: dom.getCPUStats(False)),
        "jobInfo": shape(dom.jobInfo),
        "jobStats": shape(lambda: dom.jobStats(0)),
        "jobStats completed": shape(lambda: dom.jobStats(1)),
        "jobStats keep": shape(lambda: dom.jobStats(3)),
        "controlInfo": shape(dom.controlInfo),
        "getTime": shape(dom.getTime),
        "period live": shape(lambda: dom.setMemoryStatsPeriod(2, 1)),
    }
    return a


def parity_guest(conn, root, kernel):
    xml = ("<domain type='qemu'><name>h-stats-par</name><memory unit='MiB'>32</memory>"
           "<vcpu>2</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>"
           "<kernel>%s</kernel></os><features><acpi/></features><devices>"
           "<emulator>/usr/bin/qemu-system-x86_64</emulator>%s"
           "<interface type='user'><mac address='52:54:00:5a:01:03'/><model type='virtio'/>"
           "</interface><serial type='pty'/><memballoon model='virtio'/></devices></domain>"
           % (kernel, stats_disks(root)))
    return conn.defineXML(xml)


@pytest.mark.slow
def test_stats_answers_match_libvirtd(host, ref, tmp_path):
    """The same guest on virtqemud and on Debian's libvirtd, defined then running: every
    call gives the same error, or a success of the same shape (the same values where
    they do not depend on the run)."""
    ours_root, ref_root = host.root / "ours", tmp_path / "ref"
    ours_root.mkdir()
    ref_root.mkdir()
    os.chmod(tmp_path, 0o755)
    kernel = ref_root / "svguest.elf"
    kernel.write_bytes(host.kernel.read_bytes())
    ours = parity_guest(host.conn, ours_root, host.kernel)
    rconn = libvirt.open(ref.uri)
    try:
        theirs = parity_guest(rconn, ref_root, kernel)
        try:
            got, want = answers(ours, ours_root), answers(theirs, ref_root)
            assert got == want
            ours.create()
            theirs.create()
            got, want = answers(ours, ours_root), answers(theirs, ref_root)
            assert got == want
        finally:
            if theirs.isActive():
                theirs.destroy()
            theirs.undefine()
    finally:
        rconn.close()
    ours.destroy()
    ours.undefine()
