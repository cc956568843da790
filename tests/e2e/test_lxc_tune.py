"""test_lxc_tune.py: virtlxcd's scheduler procedures (issue 18, LXC tuning), on real
containers (test_lxc.py's fixture): DOMAIN_GET_SCHEDULER_TYPE and
DOMAIN_GET/SET_SCHEDULER_PARAMETERS(_FLAGS), as libvirt 9.0's LXC driver
(lxcDomainGetSchedulerType, lxcDomainGet/SetSchedulerParametersFlags) answers them: three
parameters, cpu_shares, vcpu_period and vcpu_quota, read from and written to the
container's own cgroup (cpu.shares, cpu.cfs_period_us, cpu.cfs_quota_us; every value is
checked against those files), or the persistent definition's <cputune>, which the next
start writes to the cgroup. Out-of-range values get the cgroup layer's INVALID_ARG; no
TUNABLE event, as libvirt's LXC driver sends none.

No libvirtd LXC driver runs here (Debian's libvirt-daemon-driver-lxc is not installed),
so the expected answers are libvirt 9.0's source, not a comparison in the same run.
"""

import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import libvirt
import pytest

from rawrpc import Client, i32, string, u32, uhyper
from test_domain_blkio import block_device
from test_lxc import cgroup_of, ensure_event_loop, error_of, lxc  # noqa: F401  (lxc: the fixture)

PARAMS = ["cpu_shares", "vcpu_period", "vcpu_quota"]
PROC_SET_SCHEDULER_PARAMETERS = 58
TYPED_PARAM_ULLONG = 4


def cpu_files(lxc_fixture, name):
    cg = cgroup_of(lxc_fixture.init_pid(name), "cpu")
    return {"cpu_shares": int((cg / "cpu.shares").read_text()),
            "vcpu_period": int((cg / "cpu.cfs_period_us").read_text()),
            "vcpu_quota": int((cg / "cpu.cfs_quota_us").read_text())}


@pytest.fixture
def conn(lxc):
    """virtlxcd started, and a connection to it (events can be delivered)."""
    ensure_event_loop()
    lxc.start_daemon()
    c = lxc.open()
    yield c
    c.close()


def running(lxc_fixture, c, name, cputune=""):
    xml = lxc_fixture.xml(name)
    if cputune:
        xml = xml.replace("</domain>", "<cputune>%s</cputune></domain>" % cputune)
    dom = c.defineXML(xml)
    dom.create()
    lxc_fixture.init_pid(name)
    return dom


def test_schedinfo_live_reads_and_writes_the_cgroup(lxc, conn):
    c = conn
    dom = running(lxc, c, "web")
    assert dom.schedulerType() == ("posix", 3)
    got = dom.schedulerParameters()
    assert list(got) == PARAMS
    assert got == cpu_files(lxc, "web")
    # Fewer asked for: the first ones, in libvirt's order (virsh asks for nparams).
    r = lxc.virsh("schedinfo", "web")
    assert re.search(r"^Scheduler\s*: posix$", r.stdout, re.M), r.stdout
    assert re.search(r"^cpu_shares\s*: %d$" % got["cpu_shares"], r.stdout, re.M)

    seen = []
    cb = c.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_TUNABLE,
                                  lambda *a: seen.append(a), None)
    dom.setSchedulerParametersFlags({"cpu_shares": 512, "vcpu_period": 50000,
                                     "vcpu_quota": 25000},
                                    libvirt.VIR_DOMAIN_AFFECT_LIVE)
    assert cpu_files(lxc, "web") == {"cpu_shares": 512, "vcpu_period": 50000,
                                     "vcpu_quota": 25000}
    assert dom.schedulerParameters() == cpu_files(lxc, "web")
    # The live definition records them; the persistent one does not change.
    live = dom.XMLDesc(0)
    assert "<shares>512</shares>" in live and "<period>50000</period>" in live
    assert "<quota>25000</quota>" in live
    assert "<cputune>" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    # virsh schedinfo --set; a quota of -1 is no limit; 0 leaves a value as it is.
    lxc.virsh("schedinfo", "web", "--live", "vcpu_quota=-1", "vcpu_period=0")
    assert cpu_files(lxc, "web")["vcpu_quota"] == -1
    assert cpu_files(lxc, "web")["vcpu_period"] == 50000
    # libvirt's LXC driver sends no TUNABLE event (its QEMU driver does).
    threading.Event().wait(0.5)
    assert seen == []
    c.domainEventDeregisterAny(cb)


def test_schedinfo_config_is_applied_at_start(lxc, conn):
    c = conn
    dom = running(lxc, c, "db")
    dom.setSchedulerParametersFlags({"cpu_shares": 300, "vcpu_quota": 40000},
                                    libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    assert dom.schedulerParametersFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == {
        "cpu_shares": 300, "vcpu_period": 0, "vcpu_quota": 40000}
    # Not the running container's.
    assert cpu_files(lxc, "db")["cpu_shares"] != 300
    dom.destroy()
    # An inactive guest: CURRENT is its definition; LIVE is refused.
    assert dom.schedulerType() == ("posix", 3)
    assert dom.schedulerParameters() == {"cpu_shares": 300, "vcpu_period": 0,
                                         "vcpu_quota": 40000}
    assert error_of(dom.schedulerParametersFlags, libvirt.VIR_DOMAIN_AFFECT_LIVE) == (
        libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_DOMAIN,
        "Requested operation is not valid: domain is not running")
    dom.create()
    files = cpu_files(lxc, "db")
    assert files["cpu_shares"] == 300 and files["vcpu_quota"] == 40000
    assert dom.schedulerParameters() == files
    # A definition with <cputune> shares, period and quota is accepted and applied.
    dom2 = running(lxc, c, "app", "<shares>700</shares><period>20000</period>"
                                  "<quota>10000</quota>")
    assert cpu_files(lxc, "app") == {"cpu_shares": 700, "vcpu_period": 20000,
                                     "vcpu_quota": 10000}
    assert dom2.schedulerParameters() == cpu_files(lxc, "app")


def test_schedinfo_errors(lxc):
    d = lxc.start_daemon()
    c = lxc.open()
    try:
        dom = running(lxc, c, "err")
        before = cpu_files(lxc, "err")
        # A parameter libvirt's LXC driver does not have (its QEMU driver does): python
        # refuses it before sending, so it goes raw.
        with Client(str(d.sock)) as raw:
            raw.open("lxc:///system")
            param = string("emulator_period") + i32(TYPED_PARAM_ULLONG) + uhyper(10000)
            _, err = raw.call_error(PROC_SET_SCHEDULER_PARAMETERS,
                                    string("err") + dom.UUID() + i32(dom.ID()) + u32(1) + param)
            assert (err.code, err.domain, err.message) == (
                libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED, libvirt.VIR_FROM_NONE,
                "argument unsupported: parameter 'emulator_period' not supported")
        assert error_of(dom.setSchedulerParameters, {"vcpu_period": 10}) == (
            libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_CGROUP,
            "invalid argument: cfs_period '10' must be in range (1000, 1000000)")
        assert error_of(dom.setSchedulerParameters, {"vcpu_quota": 999}) == (
            libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_CGROUP,
            "invalid argument: cfs_quota '999' must be in range (1000, 17592186044415)")
        # Kept on purpose, unlike libvirt's LXC driver: an out-of-range value is not stored
        # in the persistent definition either (libvirt stores it, then cannot load it).
        assert error_of(dom.setSchedulerParametersFlags, {"vcpu_period": 10},
                        libvirt.VIR_DOMAIN_AFFECT_CONFIG)[:2] == (
            libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_CGROUP)
        assert cpu_files(lxc, "err") == before
        assert error_of(dom.schedulerParametersFlags, 1 << 6)[0] == \
            libvirt.VIR_ERR_INVALID_ARG
        # A read-only connection reads but does not change.
        ro = libvirt.openReadOnly(lxc.uri)
        try:
            rdom = ro.lookupByName("err")
            assert rdom.schedulerParameters() == before
            assert error_of(rdom.setSchedulerParameters, {"cpu_shares": 10}) == (
                libvirt.VIR_ERR_OPERATION_DENIED, libvirt.VIR_FROM_DOMAIN,
                "operation forbidden: read only access prevents virDomainSetSchedulerParameters")
        finally:
            ro.close()
        # The definition with <cputune> survives a daemon restart.
        for flags in (libvirt.VIR_DOMAIN_AFFECT_CONFIG, libvirt.VIR_DOMAIN_AFFECT_LIVE):
            dom.setSchedulerParametersFlags({"cpu_shares": 222}, flags)
        c.close()
        c = None
        d.stop()
        lxc.start_daemon()
        c = lxc.open()
        dom = c.lookupByName("err")
        assert dom.schedulerParametersFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG)["cpu_shares"] == 222
        assert dom.schedulerParameters() == cpu_files(lxc, "err")
        assert cpu_files(lxc, "err")["cpu_shares"] == 222
    finally:
        if c:
            c.close()


# ---------------------------------------------------------------- memory parameters

UNLIMITED = 9007199254740991  # VIR_DOMAIN_MEMORY_PARAM_UNLIMITED, KiB
MIB = 1024  # KiB


def memory_files(lxc_fixture, name):
    """The three limits in the container's memory cgroup, in KiB (None: no limit)."""
    cg = cgroup_of(lxc_fixture.init_pid(name), "memory")

    def kib(f):
        v = int((cg / f).read_text())
        return None if v >= 9223372036854771712 else v // 1024
    return {"hard_limit": kib("memory.limit_in_bytes"),
            "soft_limit": kib("memory.soft_limit_in_bytes"),
            "swap_hard_limit": kib("memory.memsw.limit_in_bytes")}


def test_memtune_live_reads_and_writes_the_cgroup(lxc, conn):
    c = conn
    dom = running(lxc, c, "mem")
    # As libvirt's LXC driver: the cgroup's values, the hard limit the container's memory.
    assert memory_files(lxc, "mem") == {"hard_limit": 64 * MIB, "soft_limit": None,
                                        "swap_hard_limit": None}
    assert dom.memoryParameters() == {"hard_limit": 64 * MIB, "soft_limit": UNLIMITED,
                                      "swap_hard_limit": UNLIMITED}
    dom.setMemoryParameters({"hard_limit": 100 * MIB, "soft_limit": 50 * MIB,
                             "swap_hard_limit": 200 * MIB},
                            libvirt.VIR_DOMAIN_AFFECT_LIVE)
    want = {"hard_limit": 100 * MIB, "soft_limit": 50 * MIB, "swap_hard_limit": 200 * MIB}
    assert memory_files(lxc, "mem") == want
    assert dom.memoryParameters() == want
    r = lxc.virsh("memtune", "mem")
    assert re.search(r"^\s*hard_limit\s*: %d$" % (100 * MIB), r.stdout, re.M), r.stdout
    # virsh memtune --live lowers the hard limit (before the swap limit).
    lxc.virsh("memtune", "mem", "--live", "--hard-limit", str(80 * MIB))
    assert memory_files(lxc, "mem")["hard_limit"] == 80 * MIB
    assert "<memtune>" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert error_of(dom.setMemoryParameters, {"hard_limit": 300 * MIB}, 0) == (
        libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_DOMAIN,
        "invalid argument: memory hard_limit tunable value must be lower than or equal "
        "to swap_hard_limit")
    assert memory_files(lxc, "mem")["hard_limit"] == 80 * MIB


def test_memtune_config_is_applied_at_start(lxc, conn):
    c = conn
    dom = running(lxc, c, "mc")
    dom.setMemoryParameters({"hard_limit": 48 * MIB, "swap_hard_limit": 96 * MIB},
                            libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    assert memory_files(lxc, "mc")["hard_limit"] == 64 * MIB  # not the running one's
    assert dom.memoryParameters(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == {
        "hard_limit": 48 * MIB, "soft_limit": UNLIMITED, "swap_hard_limit": 96 * MIB}
    dom.destroy()
    assert dom.memoryParameters() == {"hard_limit": 48 * MIB, "soft_limit": UNLIMITED,
                                      "swap_hard_limit": 96 * MIB}
    dom.create()
    assert memory_files(lxc, "mc") == {"hard_limit": 48 * MIB, "soft_limit": None,
                                       "swap_hard_limit": 96 * MIB}
    # Read-only: reads, no change.
    ro = libvirt.openReadOnly(lxc.uri)
    try:
        assert ro.lookupByName("mc").memoryParameters()["hard_limit"] == 48 * MIB
        assert error_of(ro.lookupByName("mc").setMemoryParameters,
                        {"hard_limit": MIB}, 0)[0] == libvirt.VIR_ERR_OPERATION_DENIED
    finally:
        ro.close()
    # A definition with <memtune> is accepted and applied; <min_guarantee> is not.
    xml = lxc.xml("mt").replace(
        "</domain>", "<memtune><soft_limit unit='MiB'>20</soft_limit></memtune></domain>")
    dom2 = c.defineXML(xml)
    dom2.create()
    assert memory_files(lxc, "mt") == {"hard_limit": 64 * MIB, "soft_limit": 20 * MIB,
                                       "swap_hard_limit": None}
    assert error_of(c.defineXML, lxc.xml("mg").replace(
        "</domain>", "<memtune><min_guarantee unit='MiB'>20</min_guarantee></memtune>"
                     "</domain>")) == (
        libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_LXC,
        "unsupported configuration: <memtune> is not supported by the LXC driver")


# ---------------------------------------------------------------- blkio parameters

def blkio_file(lxc_fixture, name, f):
    return (cgroup_of(lxc_fixture.init_pid(name), "blkio") / f).read_text()


def test_blkiotune_live_config_and_start(lxc):
    """As libvirt's LXC driver: a live per-device limit goes to the container's blkio
    throttle file and its live definition; a config one to the persistent definition and,
    at the next start, to the cgroup; the weight needs a weight-aware I/O scheduler, which
    this host has not (then libvirt's cgroup error), else it is the cgroup's."""
    dev = block_device()
    if not Path("/sys/fs/cgroup/blkio").is_dir() or dev is None:
        pytest.skip("no v1 blkio cgroup or no block device here")
    rdev = os.stat(dev).st_rdev
    majmin = "%d:%d" % (os.major(rdev), os.minor(rdev))
    lxc.start_daemon()
    c = lxc.open()
    try:
        dom = running(lxc, c, "blk")
        lxc.virsh("blkiotune", "blk", "--live", "--device-read-iops-sec", "%s,1234" % dev)
        assert "%s 1234" % majmin in blkio_file(lxc, "blk", "blkio.throttle.read_iops_device")
        live = dom.XMLDesc(0)
        assert "<read_iops_sec>1234</read_iops_sec>" in live
        assert "<blkiotune>" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        cg = cgroup_of(lxc.init_pid("blk"), "blkio")
        if (cg / "blkio.weight").exists() or (cg / "blkio.bfq.weight").exists():
            dom.setBlkioParameters({"weight": 300}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
            assert dom.blkioParameters()["weight"] == 300
        else:
            no_weight = (libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_CGROUP,
                         "Requested operation is not valid: blkio device weight is valid "
                         "only for bfq or cfq scheduler")
            assert error_of(dom.blkioParameters, libvirt.VIR_DOMAIN_AFFECT_LIVE) == no_weight
        dom.setBlkioParameters({"device_write_bytes_sec": "%s,1048576" % dev},
                               libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        conf = dom.blkioParameters(libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        assert conf["device_write_bytes_sec"] == "%s,1048576" % dev
        assert "%s 1048576" % majmin not in blkio_file(lxc, "blk",
                                                        "blkio.throttle.write_bps_device")
        dom.destroy()
        dom.create()
        assert "%s 1048576" % majmin in blkio_file(lxc, "blk", "blkio.throttle.write_bps_device")
        # A read-only connection reads it (python's set asks for the live values first,
        # which fail here without a weight; the refusal is the shared one tested above).
        ro = libvirt.openReadOnly(lxc.uri)
        try:
            assert ro.lookupByName("blk").blkioParameters(
                libvirt.VIR_DOMAIN_AFFECT_CONFIG)["device_write_bytes_sec"] == \
                "%s,1048576" % dev
        finally:
            ro.close()
    finally:
        c.close()


# ---------------------------------------------------------------- memory

def test_setmem_is_the_cgroup_limit(lxc, conn):
    """lxcDomainSetMemoryFlags: a running container's memory is its cgroup's limit, set at
    once (no balloon); its live and persistent <currentMemory> follow; the maximum only
    changes in the persistent definition of an inactive container."""
    c = conn
    dom = running(lxc, c, "sm")
    lxc.virsh("setmem", "sm", "%dM" % 40)
    assert memory_files(lxc, "sm")["hard_limit"] == 40 * MIB
    assert dom.info()[1] == 64 * MIB  # the maximum stays
    assert "<currentMemory unit='KiB'>%d</currentMemory>" % (40 * MIB) in dom.XMLDesc(0)
    assert dom.memoryParameters()["hard_limit"] == 40 * MIB
    dom.setMemoryFlags(48 * MIB, libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    assert memory_files(lxc, "sm")["hard_limit"] == 48 * MIB
    assert "<currentMemory unit='KiB'>%d</currentMemory>" % (48 * MIB) in \
        dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert error_of(dom.setMemory, 65 * MIB) == (
        libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_LXC,
        "invalid argument: Cannot set memory higher than max memory")
    assert error_of(dom.setMaxMemory, 128 * MIB) == (
        libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_LXC,
        "Requested operation is not valid: Cannot resize the max memory on an active domain")
    assert memory_files(lxc, "sm")["hard_limit"] == 48 * MIB
    dom.destroy()
    dom.setMaxMemory(32 * MIB)
    inactive = dom.XMLDesc(0)
    assert "<memory unit='KiB'>%d</memory>" % (32 * MIB) in inactive
    assert "<currentMemory unit='KiB'>%d</currentMemory>" % (32 * MIB) in inactive
    assert error_of(dom.setMemoryFlags, 16 * MIB, libvirt.VIR_DOMAIN_AFFECT_LIVE) == (
        libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_DOMAIN,
        "Requested operation is not valid: domain is not running")
    dom.create()
    assert memory_files(lxc, "sm")["hard_limit"] == 32 * MIB


# ---------------------------------------------------------------- interface statistics

def test_domifstat_is_the_host_veth(lxc):
    """lxcDomainInterfaceStats: the counters of the container's veth seen from the host
    (/proc/net/dev of the daemon's network namespace), the other way round; by target dev
    or MAC. The daemon runs in a private network namespace, as test_lxc.py's."""
    if not shutil.which("unshare") or not shutil.which("nsenter"):
        pytest.skip("needs unshare and nsenter")
    d = lxc.start_daemon(wrapper=["unshare", "-n"])
    devices = ("<interface type='ethernet'><mac address='52:54:00:aa:bb:07'/>"
               "<target dev='svvethst'/></interface>")
    c = lxc.open()
    try:
        dom = c.createXML(lxc.xml("ifs", devices=devices), 0)
        con = lxc.console("ifs")
        try:
            con.run("ip link set eth0 up; ip addr add 10.9.9.2/24 dev eth0; "
                    "ping -c 3 -W 1 10.9.9.1 >/dev/null 2>&1; true")
            inside = con.run("cat /sys/class/net/eth0/statistics/tx_packets "
                             "/sys/class/net/eth0/statistics/tx_bytes").split()
        finally:
            assert con.close() == 0

        def host_counters():
            r = subprocess.run(["nsenter", "-t", str(d.pid), "-n", "cat", "/proc/net/dev"],
                               capture_output=True, text=True, check=True)
            line = [l for l in r.stdout.splitlines() if l.strip().startswith("svvethst:")][0]
            return [int(v) for v in line.split(":", 1)[1].split()]
        # The kernel may still send a packet (IPv6 solicitations) between two reads: the
        # answer lies between the host's counters read before and after it.
        before = host_counters()
        stats = dom.interfaceStats("svvethst")
        after = host_counters()
        # rx_bytes, rx_packets, rx_errs, rx_drop are the host side's transmit counters.
        expect = [(8, 0), (9, 1), (10, 2), (11, 3), (0, 4), (1, 5), (2, 6), (3, 7)]
        for host_col, i in expect:
            assert before[host_col] <= stats[i] <= after[host_col], (host_col, i, stats)
        # What the container sent, the host side received: the guest-view tx counters.
        assert stats[5] >= int(inside[0]) and stats[4] >= int(inside[1])
        by_mac = dom.interfaceStats("52:54:00:aa:bb:07")
        assert by_mac[1] >= stats[1] and by_mac[5] >= stats[5]
        r = lxc.virsh("domifstat", "ifs", "svvethst")
        got = int(re.search(r"svvethst rx_packets (\d+)$", r.stdout, re.M).group(1))
        assert got >= stats[1], r.stdout
        assert error_of(dom.interfaceStats, "nosuch") == (
            libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_DOMAIN,
            "invalid argument: 'nosuch' is not a known interface")
        dom.destroy()
    finally:
        c.close()


# ---------------------------------------------------------------- block statistics

def blkio_sums(lxc_fixture, name):
    """rd_bytes, wr_bytes, rd_req, wr_req summed over the devices of the container's v1
    blkio throttle files."""
    cg = cgroup_of(lxc_fixture.init_pid(name), "blkio")
    out = []
    for f in ("blkio.throttle.io_service_bytes", "blkio.throttle.io_serviced"):
        rd = wr = 0
        for line in (cg / f).read_text().splitlines():
            w = line.split()
            if len(w) == 3 and ":" in w[0]:
                rd += int(w[2]) if w[1] == "Read" else 0
                wr += int(w[2]) if w[1] == "Write" else 0
        out += [rd, wr]
    return out  # bytes read, bytes written, reads, writes


def test_domblkstat_is_the_cgroup_io(lxc, conn):
    """lxcDomainBlockStats(Flags): the empty path is the container's whole block I/O, from
    its cgroup (every device summed); errs is -1; other paths are invalid (a container has
    no <disk>); a stopped container is refused."""
    if not Path("/sys/fs/cgroup/blkio").is_dir():
        pytest.skip("no v1 blkio cgroup here")
    c = conn
    dom = running(lxc, c, "bs")
    con = lxc.console("bs")
    try:
        # Direct I/O reaches the device (and its cgroup's counters) where the root
        # filesystem is on one; on tmpfs the counters stay 0 and are checked as such.
        con.run("dd if=/dev/zero of=/tmp/f bs=4096 count=64 oflag=direct 2>/dev/null; "
                "dd if=/tmp/f of=/dev/null bs=4096 iflag=direct 2>/dev/null; true")
    finally:
        assert con.close() == 0
    # Between the cgroup's counters read before and after (the kernel may still do I/O).
    before = blkio_sums(lxc, "bs")
    rd_req, rd_bytes, wr_req, wr_bytes, errs = dom.blockStats("")
    flags = dom.blockStatsFlags("")
    after = blkio_sums(lxc, "bs")
    assert errs == -1
    assert list(flags) == ["wr_bytes", "wr_operations", "rd_bytes", "rd_operations"]
    for got, col in ((rd_bytes, 0), (wr_bytes, 1), (rd_req, 2), (wr_req, 3),
                     (flags["rd_bytes"], 0), (flags["wr_bytes"], 1),
                     (flags["rd_operations"], 2), (flags["wr_operations"], 3)):
        assert before[col] <= got <= after[col], (col, got, before, after)
    r = lxc.virsh("domblkstat", "bs")
    assert re.search(r"^ wr_bytes \d+$", r.stdout, re.M), r.stdout
    assert error_of(dom.blockStats, "vda") == (
        libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_LXC, "invalid argument: invalid path: vda")
    dom.destroy()
    assert error_of(dom.blockStats, "") == (
        libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_DOMAIN,
        "Requested operation is not valid: domain is not running")


def test_dommemstat_is_the_cgroup_usage(lxc, conn):
    """lxcDomainMemoryStats: actual (the current memory), swap_in (the cgroup's memory and
    swap usage, as libvirt tags it) and rss (its memory usage), in KiB."""
    c = conn
    dom = running(lxc, c, "ms")
    cg = cgroup_of(lxc.init_pid("ms"), "memory")
    stats = dom.memoryStats()
    mem = int((cg / "memory.usage_in_bytes").read_text()) // 1024
    memsw = int((cg / "memory.memsw.usage_in_bytes").read_text()) // 1024
    assert set(stats) == {"actual", "swap_in", "rss"}
    assert stats["actual"] == 64 * MIB
    # The container runs: its usage moves a little between two reads.
    assert abs(stats["rss"] - mem) < 4096 and stats["rss"] > 0
    assert abs(stats["swap_in"] - memsw) < 4096 and stats["swap_in"] >= stats["rss"] - 4096
    r = lxc.virsh("dommemstat", "ms")
    assert re.search(r"^actual %d$" % (64 * MIB), r.stdout, re.M), r.stdout
    dom.destroy()
    assert error_of(dom.memoryStats) == (
        libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_DOMAIN,
        "Requested operation is not valid: domain is not running")
