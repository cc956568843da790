"""test_qemu_iotune.py: DOMAIN_SET/GET_BLOCK_IO_TUNE (virsh blkdeviotune; issue 18 item 2,
block I/O throttling) on virtqemud.

On a defined guest every answer and the persistent <iotune> are Debian's libvirtd 9.0.0's
for the same calls (checked on qemu:///system by hand, and in test_iotune_equal_libvirtd in
the same run): flags, the count, an unknown disk, a total with its read or write part, a
limit beyond 10^15, a total clearing its parts and a part clearing its total. On a running
Guest A the values reach QEMU (block_set_io_throttle, read back with query-block through
qemu-monitor-command), the live definition and its status file, with the TUNABLE event
("blkdeviotune.*" names), and libvirt's checks of a burst against its base.
"""

import json
import re

import pytest

from calls import Tunables, answer, on_both, tiny_xml, virsh
from guests import uri_for

libvirt = pytest.importorskip("libvirt")
libvirt_qemu = pytest.importorskip("libvirt_qemu")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

LIVE, CONFIG = 1, 2
NAMES = ["total_bytes_sec", "read_bytes_sec", "write_bytes_sec", "total_iops_sec",
         "read_iops_sec", "write_iops_sec", "total_bytes_sec_max", "read_bytes_sec_max",
         "write_bytes_sec_max", "total_iops_sec_max", "read_iops_sec_max",
         "write_iops_sec_max", "size_iops_sec", "group_name", "total_bytes_sec_max_length",
         "read_bytes_sec_max_length", "write_bytes_sec_max_length",
         "total_iops_sec_max_length", "read_iops_sec_max_length", "write_iops_sec_max_length"]
ZERO = {n: ("" if n == "group_name" else 0) for n in NAMES}
NOT_RUNNING = (55, 20, "Requested operation is not valid: domain is not running")
DISK = ("<devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>"
        "<source file='/var/lib/libvirt/images/sv-iotune-none.img'/>"
        "<target dev='vda' bus='virtio'/></disk></devices>")


def iotune_xml(dom, flags=libvirt.VIR_DOMAIN_XML_INACTIVE):
    m = re.search(r"      <iotune>.*?</iotune>\n", dom.XMLDesc(flags), re.S)
    return m.group(0) if m else None


def with_values(**kw):
    out = dict(ZERO)
    out.update(kw)
    return out


def config_sequence(d):
    """The calls on d (defined, not running, disk vda) and their answers with the persistent
    <iotune> after each."""
    calls = [
        (d.blockIoTune, "vda", 0), (d.blockIoTune, "vda", CONFIG),
        (d.blockIoTune, "vda", LIVE), (d.blockIoTune, "vdb", CONFIG),
        (d.blockIoTune, "vda", 8), (d.blockIoTune, "vda", LIVE | CONFIG),
        (d.setBlockIoTune, "vda", {"total_bytes_sec": 100, "read_bytes_sec": 5}, CONFIG),
        (d.setBlockIoTune, "vda", {"total_iops_sec_max": 9, "write_iops_sec_max": 5}, 0),
        (d.setBlockIoTune, "vda", {"total_bytes_sec": 10 ** 15 + 1}, CONFIG),
        (d.setBlockIoTune, "vda", {"total_bytes_sec": 10 ** 15}, CONFIG),
        (d.setBlockIoTune, "vda", {"total_bytes_sec": 100, "total_bytes_sec_max": 50,
                                   "size_iops_sec": 3, "group_name": "g1",
                                   "total_bytes_sec_max_length": 5,
                                   "write_iops_sec": 7}, CONFIG),
        (d.setBlockIoTune, "vda", {"read_bytes_sec": 5, "total_iops_sec": 11}, 0),
        (d.blockIoTune, "vda", 0),
        (d.setBlockIoTune, "vda", {"total_bytes_sec": 1}, LIVE),
        (d.setBlockIoTune, "vda", {"total_bytes_sec": 1}, 4),
    ]
    return [(answer(fn, *args), iotune_xml(d)) for fn, *args in calls]


AFTER_G1 = ("      <iotune>\n        <total_bytes_sec>100</total_bytes_sec>\n"
            "        <write_iops_sec>7</write_iops_sec>\n"
            "        <total_bytes_sec_max>50</total_bytes_sec_max>\n"
            "        <size_iops_sec>3</size_iops_sec>\n        <group_name>g1</group_name>\n"
            "        <total_bytes_sec_max_length>5</total_bytes_sec_max_length>\n"
            "      </iotune>\n")
AFTER_READ = AFTER_G1.replace(
    "<total_bytes_sec>100</total_bytes_sec>\n", "<read_bytes_sec>5</read_bytes_sec>\n").replace(
    "        <write_iops_sec>7</write_iops_sec>\n",
    "        <total_iops_sec>11</total_iops_sec>\n")
BIG = "      <iotune>\n        <total_bytes_sec>1000000000000000</total_bytes_sec>\n      </iotune>\n"
EXPECTED = [
    (("OK", ZERO), None), (("OK", ZERO), None), (NOT_RUNNING, None),
    ((8, 10, "invalid argument: disk 'vdb' was not found in the domain config"), None),
    ((8, 10, "unsupported flags (0x8) in function qemuDomainGetBlockIoTune"), None),
    ((8, 20, "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually "
             "exclusive"), None),
    ((8, 10, "invalid argument: total and read/write of bytes_sec cannot be set at the same "
             "time"), None),
    ((8, 10, "invalid argument: total and read/write of iops_sec_max cannot be set at the "
             "same time"), None),
    ((74, 10, "argument unsupported: block I/O throttle limit value must be no more than "
              "1000000000000000"), None),
    (("OK", 0), BIG),
    (("OK", 0), AFTER_G1),
    (("OK", 0), AFTER_READ),
    (("OK", with_values(read_bytes_sec=5, total_iops_sec=11, total_bytes_sec_max=50,
                        size_iops_sec=3, group_name="g1", total_bytes_sec_max_length=5)),
     AFTER_READ),
    (NOT_RUNNING, AFTER_READ),
    ((8, 10, "unsupported flags (0x4) in function qemuDomainSetBlockIoTune"), AFTER_READ),
]


def test_iotune_on_a_defined_guest(daemon):
    uri = uri_for(daemon.sock)
    conn = libvirt.open(uri)
    dom = conn.defineXML(tiny_xml("sv-iotune").replace("</domain>", DISK + "</domain>"))
    try:
        assert config_sequence(dom) == EXPECTED
        stored = (daemon.root / "etc" / "libvirt" / "qemu" / "sv-iotune.xml").read_text()
        assert "<group_name>g1</group_name>" in stored
        assert "<read_bytes_sec>5</read_bytes_sec>" in stored
        # virsh: the count first, then the values; an unknown disk after the count.
        rc, out, err = virsh(uri, "blkdeviotune", "sv-iotune", "vda", "--config",
                             "--write-bytes-sec", "900")
        assert rc == 0, err
        rc, out, err = virsh(uri, "blkdeviotune", "sv-iotune", "vda")
        assert rc == 0, err
        got = dict((k.strip(), v.strip()) for k, _, v in
                   (line.partition(":") for line in out.splitlines()))
        assert got["write_bytes_sec"] == "900" and got["read_bytes_sec"] == "0"
        assert got["group_name"] == "g1" and list(got) == NAMES
        rc, out, err = virsh(uri, "blkdeviotune", "sv-iotune", "vdb")
        assert rc == 1 and "disk 'vdb' was not found in the domain config" in err, err
    finally:
        dom.undefine()
        conn.close()


@pytest.mark.slow
def test_iotune_equal_libvirtd(ref, daemon):
    """The same sequence on Debian's libvirtd and on ours, in the same run."""
    xml = tiny_xml("iotune-parity").replace("</domain>", DISK + "</domain>")
    theirs, ours = on_both(ref, daemon, xml, config_sequence)
    assert ours == theirs


def throttle(dom):
    """QEMU's own view of vda (query-block's "inserted"), through qemu-monitor-command."""
    out = json.loads(libvirt_qemu.qemuMonitorCommand(dom, '{"execute":"query-block"}', 0))
    for b in out["return"]:
        if b.get("qdev", "").startswith("/machine/peripheral/virtio-disk0/"):
            return b["inserted"]
    raise AssertionError(out)


def test_iotune_running_guest(host):
    """Guest A with vda throttled at start (<iotune>): the live values are QEMU's; virsh
    blkdeviotune --live reaches QEMU, the live definition and the status file only, with a
    TUNABLE event; a total cleared by its part, a group; libvirt's checks; --config the
    persistent definition only, no event."""
    import subprocess
    img = host.root / "v.img"
    subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(img), "4M"], check=True)
    disk = ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            "<source file='%s'/><target dev='vda' bus='virtio'/>"
            "<iotune><total_iops_sec>500</total_iops_sec></iotune></disk>" % img)
    dom = host.conn.defineXML(host.xml("iotune").replace("<serial type='pty'/>",
                                                         disk + "<serial type='pty'/>"))
    tun = Tunables(host.open(), dom)
    try:
        host.start_ready(dom)
        t = throttle(dom)
        assert t["iops"] == 500 and t["bps"] == 0
        default_group = "/machine/peripheral/virtio-disk0/virtio-backend"
        assert dom.blockIoTune("vda", LIVE) == with_values(total_iops_sec=500,
                                                           group_name=default_group)
        rc, out, err = virsh(host.uri, "blkdeviotune", "iotune", "vda", "--live",
                             "--total-bytes-sec", "1000000", "--read-iops-sec", "20",
                             "--total-bytes-sec-max", "2000000",
                             "--total-bytes-sec-max-length", "4")
        assert rc == 0, err
        t = throttle(dom)
        # read_iops_sec cleared total_iops_sec (as libvirt).
        assert (t["bps"], t["iops"], t["iops_rd"], t["bps_max"], t["bps_max_length"]) == \
            (1000000, 0, 20, 2000000, 4)
        events = tun.wait(1)
        assert events == [("iotune", {"blkdeviotune.disk": "vda",
                                      "blkdeviotune.total_bytes_sec": 1000000,
                                      "blkdeviotune.read_iops_sec": 20,
                                      "blkdeviotune.total_bytes_sec_max": 2000000,
                                      "blkdeviotune.total_bytes_sec_max_length": 4})]
        live = iotune_xml(dom, 0)
        assert "<total_bytes_sec>1000000</total_bytes_sec>" in live
        assert "<total_iops_sec>" not in live
        assert iotune_xml(dom) == ("      <iotune>\n        <total_iops_sec>500</total_iops_sec>"
                                   "\n      </iotune>\n")
        status = (host.qemu_run / "iotune.xml").read_text()
        assert "<total_bytes_sec_max>2000000</total_bytes_sec_max>" in status
        # A group: QEMU's "group" and the live definition's <group_name>.
        dom.setBlockIoTune("vda", {"group_name": "grp", "write_iops_sec": 30}, LIVE)
        t = throttle(dom)
        assert t["group"] == "grp" and t["iops_wr"] == 30 and t["bps"] == 1000000
        assert dom.blockIoTune("vda", 0)["group_name"] == "grp"
        assert "<group_name>grp</group_name>" in iotune_xml(dom, 0)
        # libvirt's checks of a burst against its base (live only); write_iops_sec cleared
        # read_iops_sec (a triple given in part is the call's).
        assert answer(dom.setBlockIoTune, "vda", {"read_iops_sec_max": 40}, LIVE) == (
            67, 10, "unsupported configuration: cannot reset 'read_iops_sec' when "
                    "'read_iops_sec_max' is set")
        assert answer(dom.setBlockIoTune, "vda", {"read_iops_sec": 20, "read_iops_sec_max": 10},
                      LIVE) == (
            67, 10, "unsupported configuration: value 'read_iops_sec_max' cannot be smaller "
                    "than 'read_iops_sec'")
        dom.setBlockIoTune("vda", {"read_iops_sec": 20, "read_iops_sec_max": 40}, LIVE)
        assert throttle(dom)["iops_rd_max"] == 40 and throttle(dom)["iops_wr"] == 0
        assert answer(dom.setBlockIoTune, "vda", {"total_iops_sec": 50}, LIVE) == (
            67, 10, "unsupported configuration: cannot reset 'read_iops_sec' when "
                    "'read_iops_sec_max' is set")
        assert answer(dom.setBlockIoTune, "vdz", {"total_iops_sec": 50}, LIVE) == (
            8, 10, "invalid argument: disk 'vdz' not found in domain")
        # --config while running: the persistent definition only, QEMU untouched.
        dom.setBlockIoTune("vda", {"total_iops_sec": 77}, CONFIG)
        assert dom.blockIoTune("vda", CONFIG)["total_iops_sec"] == 77
        assert throttle(dom)["iops"] == 0
        # Both (virsh: python's setBlockIoTune reads the types with the same flags first,
        # which LIVE|CONFIG refuses): QEMU and the persistent definition.
        rc, out, err = virsh(host.uri, "blkdeviotune", "iotune", "vda", "--live", "--config",
                             "--write-iops-sec", "33", "--read-iops-sec-max", "0")
        assert rc == 0, err
        assert throttle(dom)["iops_wr"] == 33
        assert dom.blockIoTune("vda", CONFIG)["write_iops_sec"] == 33
        assert dom.blockIoTune("vda", CONFIG)["total_iops_sec"] == 0
        events = tun.wait(4)
        assert len(events) == 4 and events[3][1] == {"blkdeviotune.disk": "vda",
                                                     "blkdeviotune.write_iops_sec": 33,
                                                     "blkdeviotune.read_iops_sec_max": 0}
    finally:
        tun.close()
        if dom.isActive():
            dom.destroy()
        dom.undefine()


def raw_call(sock, uri, proc, args):
    """A procedure sent as is on uri's driver; its error as (code, domain, message)."""
    from rawrpc import Client
    with Client(str(sock)) as c:
        c.open(uri)
        _, err = c.call_error(proc, args)
        return (err.code, err.domain, err.message)


def test_lxc_and_xen_answer_no_support(daemons):
    """libvirt's lxc and libxl drivers have no block I/O throttling: NO_SUPPORT for both
    procedures, before any lookup (the domain named here does not exist)."""
    from rawrpc import i32, opt_string, string, u32
    from svdaemon import daemon_binary
    dom = string("nosuch") + b"\x11" * 16 + i32(-1)
    calls = {
        252: dom + string("vda") + u32(0) + u32(0),           # SET: no parameters
        253: dom + opt_string("vda") + i32(0) + u32(0),       # GET: the count
    }
    served = 0
    for name, uri in (("virtlxcd", "lxc:///system"), ("virtxend", "xen:///system")):
        if not daemon_binary(name).exists():
            continue
        d = daemons.start(name=name, label=name, args=["--timeout", "0"])
        for proc, fn in ((252, "virDomainSetBlockIoTune"), (253, "virDomainGetBlockIoTune")):
            assert raw_call(d.sock, uri, proc, calls[proc]) == (
                3, 20, "this function is not supported by the connection driver: " + fn), name
        served += 1
    if not served:
        pytest.skip("neither virtlxcd nor virtxend is built")


# ---------------------------------------------------------------- a running guest, both daemons

THROTTLE_KEYS = ["bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr", "bps_max",
                 "iops_rd_max", "bps_max_length", "group"]


def live_xml(files, name):
    return ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>%s/guest.elf</kernel>"
            "<cmdline>ignore</cmdline></os>"
            "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator>"
            "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            "<source file='%s/disk.raw'/><target dev='vda' bus='virtio'/>"
            "<iotune><total_iops_sec>500</total_iops_sec></iotune></disk>"
            "<serial type='pty'/></devices></domain>" % (name, files, files))


def live_sequence(conn, dom):
    """The calls on a running guest: answers, QEMU's values, the live and persistent <iotune>,
    and the TUNABLE events."""
    tun = Tunables(conn, dom)
    try:
        calls = [
            (dom.blockIoTune, "vda", LIVE),
            (dom.setBlockIoTune, "vda", {"total_bytes_sec": 1000000, "read_iops_sec": 20,
                                         "total_bytes_sec_max": 2000000}, LIVE),
            (dom.setBlockIoTune, "vda", {"total_bytes_sec_max": 500}, LIVE),
            (dom.setBlockIoTune, "vda", {"total_bytes_sec": 0}, LIVE),
            (dom.setBlockIoTune, "vda", {"group_name": "grp", "write_iops_sec": 30}, LIVE),
            (dom.setBlockIoTune, "vda", {"read_iops_sec_max": 40}, LIVE),
            (dom.setBlockIoTune, "vda", {"read_iops_sec": 20, "read_iops_sec_max": 10}, LIVE),
            (dom.setBlockIoTune, "vda", {"read_iops_sec": 20, "read_iops_sec_max": 40}, LIVE),
            (dom.setBlockIoTune, "vda", {"total_iops_sec": 50}, LIVE),
            (dom.setBlockIoTune, "vdz", {"total_iops_sec": 5}, LIVE),
            (dom.setBlockIoTune, "vda", {"total_iops_sec": 77}, CONFIG),
            (dom.blockIoTune, "vda", LIVE), (dom.blockIoTune, "vda", CONFIG),
            (dom.blockIoTune, "vda", 0),
        ]
        out = [answer(fn, *args) for fn, *args in calls]
        t = throttle(dom)
        out.append({k: t.get(k) for k in THROTTLE_KEYS})
        out += [iotune_xml(dom, 0), iotune_xml(dom)]
        # Three live changes succeed; a CONFIG one sends no event (libvirtd neither). The
        # wait for a fourth bounds how long an extra one may take to come.
        out.append(tun.wait(4, timeout=5))
        return out
    finally:
        tun.close()


@pytest.mark.slow
def test_iotune_live_equal_libvirtd(ref, host, tmp_path):
    """Guest A throttled at start, then changed live, on Debian's libvirtd and on ours in the
    same run: every answer and error, QEMU's values, dumpxml live and inactive, the
    events."""
    import shutil
    from guests import guest_elf
    files = tmp_path / "files"
    files.mkdir()
    files.chmod(0o755)
    tmp_path.chmod(0o755)
    shutil.copyfile(guest_elf(), files / "guest.elf")
    with open(files / "disk.raw", "wb") as f:
        f.truncate(4 * 1024 * 1024)
    results = []
    for uri in (ref.uri, host.uri):
        conn = libvirt.open(uri)
        dom = conn.defineXML(live_xml(files, "iotune-live"))
        try:
            dom.create()
            results.append(live_sequence(conn, dom))
        finally:
            if dom.isActive():
                dom.destroy()
            dom.undefine()
            conn.close()
    theirs, ours = results
    assert ours == theirs
