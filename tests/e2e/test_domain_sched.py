"""test_domain_sched.py: DOMAIN_GET_SCHEDULER_TYPE and DOMAIN_GET/SET_SCHEDULER_PARAMETERS
(_FLAGS) (virsh schedinfo) on virtqemud.

On a defined domain the answers and the persistent <cputune> are Debian's libvirtd 9.0.0's
(checked by hand against qemu:///system, and in test_sched_equal_libvirtd in the same run).
On a running Guest A the live values go to the guest's cgroup (its files read back: the
guest's own cgroup for cpu_shares and global_*, the per-thread children vcpuN, emulator and
iothreadN for the others) and to the live definition, and each live change sends the
TUNABLE event with libvirt's "cputune.*" names.
"""

import re
from pathlib import Path

import pytest

from calls import Tunables, answer, on_both, tiny_xml, virsh
from guests import uri_for

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

LIVE, CONFIG = 1, 2
NAMES = ["cpu_shares", "vcpu_period", "vcpu_quota", "emulator_period", "emulator_quota",
         "global_period", "global_quota", "iothread_period", "iothread_quota"]
ZERO = dict.fromkeys(NAMES, 0)


def cputune_xml(dom, flags=libvirt.VIR_DOMAIN_XML_INACTIVE):
    m = re.search(r"  <cputune>.*?</cputune>\n", dom.XMLDesc(flags), re.S)
    return m.group(0) if m else None


def sched_sequence(d):
    every = {"vcpu_period": 100000, "vcpu_quota": 50000, "emulator_period": 200000,
             "emulator_quota": -1, "global_period": 300000, "global_quota": 60000,
             "iothread_period": 400000, "iothread_quota": 70000}
    calls = [
        (d.schedulerType,), (d.schedulerParameters,), (d.schedulerParametersFlags, 0),
        (d.schedulerParametersFlags, CONFIG), (d.schedulerParametersFlags, LIVE),
        (d.schedulerParametersFlags, LIVE | CONFIG), (d.schedulerParametersFlags, 8),
        (d.setSchedulerParametersFlags, {"cpu_shares": 512}, CONFIG),
        (d.setSchedulerParametersFlags, every, 0),
        (d.schedulerParametersFlags, CONFIG),
        (d.setSchedulerParametersFlags, {"vcpu_period": 10}, CONFIG),
        (d.setSchedulerParametersFlags, {"vcpu_quota": 10}, CONFIG),
        (d.setSchedulerParametersFlags, {"vcpu_quota": 0}, CONFIG),
        (d.setSchedulerParametersFlags, {"vcpu_quota": -5}, CONFIG),
        (d.setSchedulerParametersFlags, {"vcpu_quota": 17592186044416}, CONFIG),
        (d.setSchedulerParametersFlags, {"cpu_shares": 262145}, CONFIG),
        (d.setSchedulerParametersFlags, {"vcpu_period": 0}, CONFIG),
        (d.setSchedulerParametersFlags, {"cpu_shares": 512}, LIVE),
        (d.setSchedulerParameters, {"cpu_shares": 700}),
        (d.schedulerParameters,),
    ]
    return [(answer(fn, *args), cputune_xml(d)) for fn, *args in calls]


ALL_SET = ("  <cputune>\n    <shares>512</shares>\n    <period>100000</period>\n"
           "    <quota>50000</quota>\n    <global_period>300000</global_period>\n"
           "    <global_quota>60000</global_quota>\n    <emulator_period>200000</emulator_period>\n"
           "    <emulator_quota>-1</emulator_quota>\n    <iothread_period>400000</iothread_period>\n"
           "    <iothread_quota>70000</iothread_quota>\n  </cputune>\n")
NO_QUOTA = ALL_SET.replace("    <quota>50000</quota>\n", "")
MINUS5 = ALL_SET.replace("<quota>50000</quota>", "<quota>-5</quota>")
BIG_SHARES = MINUS5.replace("<shares>512</shares>", "<shares>262145</shares>")
NO_PERIOD = BIG_SHARES.replace("    <period>100000</period>\n", "")
SHARES_700 = NO_PERIOD.replace("<shares>262145</shares>", "<shares>700</shares>")
PERIOD_RANGE = (8, 10, "invalid argument: value of 'vcpu_period' is out of range "
                       "[1000, 1000000]")
QUOTA_RANGE = (8, 10, "invalid argument: value of 'vcpu_quota' is out of range "
                      "[1000, 17592186044415]")
NOT_RUNNING = (55, 20, "Requested operation is not valid: domain is not running")

EXPECTED = [
    (("OK", ("posix", 9)), None),
    (("OK", ZERO), None),
    (("OK", ZERO), None),
    (("OK", ZERO), None),
    (NOT_RUNNING, None),
    ((8, 20, "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually "
             "exclusive"), None),
    ((8, 10, "unsupported flags (0x8) in function qemuDomainGetSchedulerParametersFlags"),
     None),
    (("OK", 0), "  <cputune>\n    <shares>512</shares>\n  </cputune>\n"),
    (("OK", 0), ALL_SET),
    (("OK", {"cpu_shares": 512, "vcpu_period": 100000, "vcpu_quota": 50000,
             "emulator_period": 200000, "emulator_quota": -1, "global_period": 300000,
             "global_quota": 60000, "iothread_period": 400000, "iothread_quota": 70000}),
     ALL_SET),
    (PERIOD_RANGE, ALL_SET),
    (QUOTA_RANGE, ALL_SET),
    (("OK", 0), NO_QUOTA),
    (("OK", 0), MINUS5),
    (QUOTA_RANGE, MINUS5),
    (("OK", 0), BIG_SHARES),
    (("OK", 0), NO_PERIOD),
    (NOT_RUNNING, NO_PERIOD),
    (("OK", 0), SHARES_700),
    (("OK", {"cpu_shares": 700, "vcpu_period": 0, "vcpu_quota": -5,
             "emulator_period": 200000, "emulator_quota": -1, "global_period": 300000,
             "global_quota": 60000, "iothread_period": 400000, "iothread_quota": 70000}),
     SHARES_700),
]


def test_sched_answers_as_libvirtd(daemon):
    conn = libvirt.open(uri_for(daemon.sock))
    dom = conn.defineXML(tiny_xml("sched"))
    assert sched_sequence(dom) == EXPECTED
    stored = (daemon.root / "etc" / "libvirt" / "qemu" / "sched.xml").read_text()
    assert "<iothread_quota>70000</iothread_quota>" in stored
    assert "<shares>700</shares>" in stored
    # The new <cputune> elements are read back from disk by a restarted daemon too.
    dom.undefine()
    conn.close()


def test_sched_define_checks_ranges(daemon):
    """<global_period> and <iothread_quota> in a definition: kept, and checked against
    libvirt's ranges with its error."""
    conn = libvirt.open(uri_for(daemon.sock))
    xml = tiny_xml("schedxml").replace(
        "</os>", "</os><cputune><global_period>5000</global_period>"
                 "<iothread_quota>2000</iothread_quota></cputune>")
    dom = conn.defineXML(xml)
    assert cputune_xml(dom) == ("  <cputune>\n    <global_period>5000</global_period>\n"
                                "    <iothread_quota>2000</iothread_quota>\n  </cputune>\n")
    dom.undefine()
    bad = xml.replace("<global_period>5000", "<global_period>10")
    assert answer(conn.defineXML, bad) == (
        67, 20, "unsupported configuration: Value of cputune 'global_period' must be in range "
                "[1000, 1000000]")
    bad = xml.replace("<iothread_quota>2000", "<iothread_quota>x")
    assert answer(conn.defineXML, bad) == (
        27, 20, "XML error: can't parse cputune iothread quota value")
    conn.close()


@pytest.mark.slow
def test_sched_equal_libvirtd(ref, daemon):
    theirs, ours = on_both(ref, daemon, tiny_xml("sv-sched-parity"), sched_sequence)
    assert ours == theirs


def schedinfo_values(text):
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(":")
        out[k.strip()] = v.strip()
    return out


def test_virsh_schedinfo_config(daemon):
    uri = uri_for(daemon.sock)
    conn = libvirt.open(uri)
    dom = conn.defineXML(tiny_xml("schedvirsh"))
    try:
        rc, out, err = virsh(uri, "schedinfo", "schedvirsh", "--config", "--set",
                             "cpu_shares=300", "--set", "emulator_quota=5000")
        assert rc == 0, err
        got = schedinfo_values(out)
        assert got["Scheduler"] == "posix"
        assert got["cpu_shares"] == "300" and got["emulator_quota"] == "5000"
        assert got["vcpu_period"] == "0"
        assert "<emulator_quota>5000</emulator_quota>" in cputune_xml(dom)
        rc, out, err = virsh(uri, "schedinfo", "schedvirsh", "--live")
        assert rc != 0 and "domain is not running" in err
    finally:
        dom.undefine()
        conn.close()


def cpu_file(host, name, child, v1):
    for d in host.cgroup_dirs():
        base = Path(d) / (name + ".libvirt-qemu")
        if child:
            base = base / child
        if (base / v1).exists():
            return base / v1
    raise AssertionError("no %s/%s of %s in %r" % (child, v1, name, host.cgroup_dirs()))


def tuned_xml(host, name, cputune):
    return host.xml(name).replace("<devices>", "<cputune>%s</cputune><devices>" % cputune)


def test_sched_running_guest(host):
    """virsh schedinfo --live on Guest A started with vCPU and emulator bandwidth: each value
    reaches its cgroup file and the live definition only, with a TUNABLE event; --config the
    persistent one only."""
    if not host.cgroup_dirs() and not Path("/sys/fs/cgroup/cpu").is_dir():
        pytest.skip("no cpu cgroup here")
    dom = host.conn.defineXML(tuned_xml(host, "schedguest",
                                        "<period>100000</period><quota>50000</quota>"
                                        "<emulator_period>100000</emulator_period>"
                                        "<emulator_quota>40000</emulator_quota>"
                                        "<global_quota>80000</global_quota>"))
    tun = Tunables(host.open(), dom)
    dom.create()
    try:
        live = dom.schedulerParametersFlags(LIVE)
        assert live["vcpu_quota"] == 50000 and live["emulator_quota"] == 40000
        assert live["vcpu_period"] == 100000
        assert live["cpu_shares"] == int(cpu_file(host, "schedguest", None,
                                                  "cpu.shares").read_text())
        # <global_quota> went to the guest's own cgroup at start.
        assert live["global_quota"] == 80000
        assert int(cpu_file(host, "schedguest", None, "cpu.cfs_quota_us").read_text()) == 80000
        rc, out, err = virsh(host.uri, "schedinfo", "schedguest", "--live", "--set",
                             "cpu_shares=512", "--set", "vcpu_quota=30000")
        assert rc == 0, err
        assert schedinfo_values(out)["cpu_shares"] == "512"
        assert int(cpu_file(host, "schedguest", None, "cpu.shares").read_text()) == 512
        assert int(cpu_file(host, "schedguest", "vcpu0", "cpu.cfs_quota_us").read_text()) \
            == 30000
        events = tun.wait(1)
        assert events[0] == ("schedguest", {"cputune.cpu_shares": 512,
                                            "cputune.vcpu_quota": 30000})
        dom.setSchedulerParametersFlags({"global_period": 200000, "global_quota": 150000},
                                        LIVE)
        assert int(cpu_file(host, "schedguest", None, "cpu.cfs_period_us").read_text()) \
            == 200000
        assert int(cpu_file(host, "schedguest", None, "cpu.cfs_quota_us").read_text()) \
            == 150000
        events = tun.wait(2)
        assert events[1] == ("schedguest", {"cputune.global_period": 200000,
                                            "cputune.global_quota": 150000})
        assert dom.schedulerParametersFlags(LIVE)["global_quota"] == 150000
        # A 0 leaves the running guest as it is, with no event (as libvirt).
        dom.setSchedulerParametersFlags({"global_quota": 0}, LIVE)
        assert int(cpu_file(host, "schedguest", None, "cpu.cfs_quota_us").read_text()) \
            == 150000
        assert "<global_quota>150000</global_quota>" in cputune_xml(dom, 0)
        live_xml = cputune_xml(dom, 0)
        assert "<shares>512</shares>" in live_xml and "<quota>30000</quota>" in live_xml
        assert "<global_quota>150000</global_quota>" in live_xml
        assert "<shares>" not in cputune_xml(dom)
        status = (host.qemu_run / "schedguest.xml").read_text()
        assert "<global_quota>150000</global_quota>" in status
        # --config: the persistent definition only, no event.
        dom.setSchedulerParametersFlags({"cpu_shares": 2048}, CONFIG)
        assert dom.schedulerParametersFlags(CONFIG)["cpu_shares"] == 2048
        assert int(cpu_file(host, "schedguest", None, "cpu.shares").read_text()) == 512
        assert len(tun.wait(3, timeout=1)) == 2
    finally:
        tun.close()
        dom.destroy()
        dom.undefine()


def test_sched_running_guest_without_thread_cgroups(host):
    """A guest whose <cputune> set no per-thread bandwidth runs without vcpuN/emulator
    children: its live vcpu bandwidth is its cgroup's (libvirtd's always-made children
    report the same 100000/-1 for an untuned guest), and changing it live is refused.
    Difference kept on purpose: libvirtd always makes the children and sets them; ours are
    made at start only when the definition asks, and are not made later."""
    if not Path("/sys/fs/cgroup/cpu").is_dir():
        pytest.skip("no cpu cgroup here")
    dom = host.define("schedplain")
    dom.create()
    try:
        # What libvirtd (qemu:///system here) answered for its running untuned guest.
        assert dom.schedulerType() == ("posix", 9)
        assert dom.schedulerParametersFlags(LIVE) == {
            "cpu_shares": 1024, "vcpu_period": 100000, "vcpu_quota": -1,
            "emulator_period": 100000, "emulator_quota": -1, "global_period": 100000,
            "global_quota": -1, "iothread_period": 100000, "iothread_quota": -1}
        assert dom.schedulerParametersFlags(CONFIG) == ZERO
        err = answer(dom.setSchedulerParametersFlags, {"vcpu_quota": 20000}, LIVE)
        assert err[0] == 84 and "no per-thread cgroups" in err[2]
    finally:
        dom.destroy()
        dom.undefine()


def test_sched_iothread_bandwidth(host):
    """<iothread_period>/<iothread_quota> reach each I/O thread's child cgroup at start, and
    a live change reaches them again."""
    if not Path("/sys/fs/cgroup/cpu").is_dir():
        pytest.skip("no v1 cpu cgroup here")
    xml = tuned_xml(host, "schedio", "<iothread_period>50000</iothread_period>"
                                     "<iothread_quota>25000</iothread_quota>")
    xml = xml.replace("<vcpu>1</vcpu>", "<vcpu>1</vcpu><iothreads>1</iothreads>")
    dom = host.conn.defineXML(xml)
    dom.create()
    try:
        quota = cpu_file(host, "schedio", "iothread1", "cpu.cfs_quota_us")
        period = cpu_file(host, "schedio", "iothread1", "cpu.cfs_period_us")
        assert int(quota.read_text()) == 25000 and int(period.read_text()) == 50000
        live = dom.schedulerParametersFlags(LIVE)
        assert (live["iothread_period"], live["iothread_quota"]) == (50000, 25000)
        dom.setSchedulerParametersFlags({"iothread_quota": 10000}, LIVE)
        assert int(quota.read_text()) == 10000
        assert "<iothread_quota>10000</iothread_quota>" in cputune_xml(dom, 0)
    finally:
        dom.destroy()
        dom.undefine()


@pytest.mark.slow
def test_sched_running_equal_libvirtd(ref, host):
    """A running untuned guest on both daemons (a tiny one on libvirtd, Guest A here): the
    scheduler type and live parameters, and the live blkio answer (libvirt's cgroup error on
    a host without a weight-aware I/O scheduler), are the same."""
    def running_answers(dom):
        return [answer(dom.schedulerType), answer(dom.schedulerParametersFlags, LIVE),
                answer(dom.blkioParameters, LIVE)]

    conn = libvirt.open(ref.uri)
    theirs = conn.defineXML(tiny_xml("sv-sched-running"))
    try:
        theirs.create()
        ref_answers = running_answers(theirs)
        theirs.destroy()
    finally:
        theirs.undefine()
        conn.close()
    ours = host.define("schedrun")
    ours.create()
    try:
        assert running_answers(ours) == ref_answers
    finally:
        ours.destroy()
        ours.undefine()
