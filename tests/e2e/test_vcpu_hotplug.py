"""test_vcpu_hotplug.py: live vcpu hotplug, DOMAIN_SET_VCPUS(_FLAGS) with AFFECT_LIVE
(`virsh setvcpus NAME N --live`) on a running Guest A (pc machine, <vcpu current='1'>2),
as libvirt 9.0 does it: QEMU's free cpu slot (query-hotpluggable-cpus) plugged with
device_add (id 'vcpu1'), the live XML then listing every vcpu in <vcpus> with
enabled/hotpluggable/order, the status file written.

Lowering the count unplugs the hotpluggable vcpus as libvirt does: device_del of the
highest and the wait for QEMU's DEVICE_DELETED of it, else libvirt's timeout error (a Linux
guest ejects the vcpu: test_qemu_hotplug_chr.py's Linux-guest test); QEMU refuses it for a
guest that never
switched to ACPI cpu hotplug (Guest A) or has no ACPI (the tiny guest), with libvirt's
error; vcpus the guest started with are refused with libvirt's own error.
"""

import json
import re
import subprocess
import time

import pytest

from calls import answer, on_both, tiny_xml
from guests import virsh_env

libvirt = pytest.importorskip("libvirt")
libvirt_qemu = pytest.importorskip("libvirt_qemu")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

LIVE, CONFIG, MAXIMUM = 1, 2, 4
UNPLUG_WAIT = 5.0  # libvirt's wait for QEMU's DEVICE_DELETED

# libvirtd 9.0.0's live XML after `setvcpus NAME 2 --live` on a guest started with one of
# two vcpus (read on Debian's libvirtd, and in test_vcpu_hotplug_equals_libvirtd).
PLUGGED = ("<vcpu placement='static'>2</vcpu>\n"
           "  <vcpus>\n"
           "    <vcpu id='0' enabled='yes' hotpluggable='no' order='1'/>\n"
           "    <vcpu id='1' enabled='yes' hotpluggable='yes' order='2'/>\n"
           "  </vcpus>")


def run_virsh(uri, *args):
    r = subprocess.run(["virsh", "-q", "-c", uri, *args], capture_output=True, text=True,
                       env=virsh_env(), timeout=60)
    return r.returncode, r.stdout, r.stderr


def cpus(dom):
    """QEMU's vcpus (query-cpus-fast): (cpu-index, qom-path, socket-id) of each."""
    out = json.loads(libvirt_qemu.qemuMonitorCommand(
        dom, json.dumps({"execute": "query-cpus-fast"}), 0))["return"]
    return sorted((c["cpu-index"], c["qom-path"], c["props"]["socket-id"]) for c in out)


def vcpu_block(xml):
    """<vcpu> and, when there, <vcpus> of a domain's XML."""
    return re.search(r"<vcpu [^>]*>\d+</vcpu>(\n\s*<vcpus>.*?</vcpus>)?", xml, re.S).group(0)


def start_two(host, name):
    xml = host.xml(name).replace("<vcpu>1</vcpu>", "<vcpu current='1'>2</vcpu>")
    assert "<vcpu current='1'>2</vcpu>" in xml
    dom = host.conn.defineXML(xml)
    dom.create()
    return dom


def test_vcpu_hotplug_live(host):
    """setvcpus --live plugs the second vcpu into QEMU; vcpucount, vcpuinfo, the live XML
    and the status file show it; the persistent definition is unchanged."""
    dom = start_two(host, "hotcpu")
    try:
        assert cpus(dom) == [(0, "/machine/unattached/device[0]", 0)]
        assert "<vcpus>" not in dom.XMLDesc(0)
        assert run_virsh(host.uri, "setvcpus", "hotcpu", "2", "--live")[0] == 0
        assert cpus(dom) == [(0, "/machine/unattached/device[0]", 0),
                             (1, "/machine/peripheral/vcpu1", 1)]
        rc, out, err = run_virsh(host.uri, "vcpucount", "hotcpu")
        assert rc == 0, err
        assert re.findall(r"(\w+)\s+(\w+)\s+(\d+)", out) == [
            ("maximum", "config", "2"), ("maximum", "live", "2"),
            ("current", "config", "1"), ("current", "live", "2")]
        rc, out, err = run_virsh(host.uri, "vcpuinfo", "hotcpu")
        assert rc == 0, err
        assert re.findall(r"^VCPU:\s+(\d+)", out, re.M) == ["0", "1"]
        assert [v[0] for v in dom.vcpus()[0]] == [0, 1]
        assert vcpu_block(dom.XMLDesc(0)) == PLUGGED
        assert vcpu_block(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) == (
            "<vcpu placement='static' current='1'>2</vcpu>")
        status = (host.qemu_run / "hotcpu.xml").read_text()
        assert "<vcpu id='1' enabled='yes' hotpluggable='yes' order='2'/>" in status
        # libvirt's errors: beyond the maximum; an unplug QEMU refuses for Guest A (no
        # guest cpu hotplug; read on Debian's libvirtd), the vcpu staying.
        assert answer(dom.setVcpusFlags, 3, LIVE) == (
            8, 10, "invalid argument: requested vcpus is greater than max allowable vcpus for "
                   "the live domain: 3 > 2")
        assert answer(dom.setVcpusFlags, 1, LIVE) == (
            1, 10, "internal error: unable to execute QEMU command 'device_del': acpi: device "
                   "unplug request for not supported device type: qemu64-x86_64-cpu")
        assert vcpu_block(dom.XMLDesc(0)) == PLUGGED
        assert answer(dom.setVcpusFlags, 2, LIVE) == ("OK", 0)  # the count it has
        assert len(cpus(dom)) == 2
    finally:
        dom.destroy()
    # The next start is the persistent definition's again.
    assert "<vcpus>" not in dom.XMLDesc(0)


def test_vcpu_hotplug_live_and_config(host):
    """--live --config: the vcpu is plugged and the persistent count follows, on disk."""
    dom = start_two(host, "hotcpu2")
    try:
        assert answer(dom.setVcpusFlags, 2, LIVE | CONFIG) == ("OK", 0)
        assert len(cpus(dom)) == 2
        assert vcpu_block(dom.XMLDesc(0)) == PLUGGED
        assert vcpu_block(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) == (
            "<vcpu placement='static'>2</vcpu>")
        config = (host.root / "etc" / "libvirt" / "qemu" / "hotcpu2.xml").read_text()
        assert "<vcpu placement='static'>2</vcpu>" in config
        assert "<vcpus>" not in config
    finally:
        dom.destroy()


def hotplug_sequence(dom):
    """On a diskless guest started with one of two vcpus: the answers and live facts of a
    hotplug; the guest is destroyed after."""
    dom.create()
    try:
        steps = [answer(dom.setVcpusFlags, 2, LIVE), vcpu_block(dom.XMLDesc(0)),
                 dom.vcpusFlags(LIVE), dom.vcpusFlags(LIVE | MAXIMUM), dom.vcpusFlags(CONFIG),
                 answer(dom.setVcpusFlags, 3, LIVE), len(dom.vcpus()[0])]
        # An unplug QEMU refuses (the tiny guest has no ACPI): at once, libvirt's error;
        # the vcpu stays.
        begin = time.monotonic()
        steps += [answer(dom.setVcpusFlags, 1, LIVE),
                  time.monotonic() - begin < UNPLUG_WAIT - 1,
                  vcpu_block(dom.XMLDesc(0)), dom.vcpusFlags(LIVE), len(dom.vcpus()[0])]
        return steps
    finally:
        dom.destroy()


@pytest.mark.slow
def test_vcpu_hotplug_equals_libvirtd(ref, daemon):
    """The same hotplug on Debian's libvirtd and on ours, in the same run."""
    xml = tiny_xml("vcpuhot-parity",
                   "<memory unit='MiB'>32</memory><vcpu current='1'>2</vcpu>")
    theirs, ours = on_both(ref, daemon, xml, hotplug_sequence)
    assert theirs == ours
    assert ours[1] == PLUGGED


def test_vcpu_hotplug_outlives_a_daemon_restart(rhost):
    """A restarted daemon reads the hotplugged vcpu back from the status file: the same live
    XML, vcpu count and QEMU vcpus."""
    import signal
    from guests import domain_xml

    rhost.start_daemon()
    xml = domain_xml("hotcpu3", rhost.kernel).replace("<vcpu>1</vcpu>",
                                                      "<vcpu current='1'>2</vcpu>")
    dom = rhost.conn.defineXML(xml)
    dom.create()
    assert answer(dom.setVcpusFlags, 2, LIVE) == ("OK", 0)
    live = dom.XMLDesc(0)
    assert vcpu_block(live) == PLUGGED
    rhost.kill_daemon(signal.SIGKILL)
    rhost.start_daemon()
    dom = rhost.dom("hotcpu3")
    assert dom.XMLDesc(0) == live
    assert dom.vcpusFlags(LIVE) == 2
    assert len(cpus(dom)) == 2
    dom.destroy()
