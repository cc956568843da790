"""test_domain_resize.py: DOMAIN_SET_MEMORY(_FLAGS), DOMAIN_SET_MAX_MEMORY and
DOMAIN_SET_VCPUS(_FLAGS) (virsh setmem, setmaxmem, setvcpus) on virtqemud.

On a defined domain every answer and every change of <memory>, <currentMemory> and <vcpu>
is Debian's libvirtd 9.0.0's for the same calls (checked on it by hand, and in
test_resize_calls_equal_libvirtd in the same run). On a running Guest A: the live forms
libvirt refuses are refused with its errors, the config forms change only the persistent
definition, and the balloon of a guest that has one is set through QMP.

Live vcpu hotplug is test_vcpu_hotplug.py's. Kept on purpose (named where tested): vcpus
through the guest agent or marked hotpluggable are refused with OPERATION_UNSUPPORTED,
never answered with a success.
"""

import re
import subprocess

import pytest

from calls import answer, on_both, tiny_xml
from guests import uri_for, virsh_env

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

CUR, LIVE, CONFIG, MAXIMUM = 0, 1, 2, 4
GUEST, HOTPLUGGABLE = 8, 16
NOT_RUNNING = (55, 20, "Requested operation is not valid: domain is not running")


# A definition with a balloon target under its memory and fewer vcpus than its maximum.
SIZES = ("<memory unit='KiB'>65536</memory><currentMemory unit='KiB'>32768</currentMemory>"
         "<vcpu placement='static' current='1'>2</vcpu>")


def sizes(dom, flags=libvirt.VIR_DOMAIN_XML_INACTIVE):
    return re.findall(r"<(?:memory|currentMemory|vcpu)[^>]*>[^<]*<", dom.XMLDesc(flags))


def resize_sequence(d):
    """The calls on d (defined, not running): each answer and the sizes after it."""
    calls = [
        (d.setMemory, 0), (d.setMemory, 30000),
        (d.setMemoryFlags, 30000, CONFIG), (d.setMemoryFlags, 40000, CUR),
        (d.setMemoryFlags, 70000, CUR), (d.setMemoryFlags, 30000, 8),
        (d.setMemoryFlags, 30000, LIVE), (d.setMemoryFlags, 0, CONFIG),
        (d.setMaxMemory, 50000), (d.setMemoryFlags, 80000, MAXIMUM | CONFIG),
        (d.setMaxMemory, 0), (d.setMemoryFlags, 20000, MAXIMUM | CONFIG),
        (d.setMemoryFlags, 65536, MAXIMUM),
        (d.setVcpus, 0), (d.setVcpus, 2),
        (d.setVcpusFlags, 2, CONFIG), (d.setVcpusFlags, 3, CONFIG),
        (d.setVcpusFlags, 0, CONFIG), (d.setVcpusFlags, 4, MAXIMUM | CONFIG),
        (d.setVcpusFlags, 1, MAXIMUM), (d.setVcpusFlags, 1, MAXIMUM | GUEST),
        (d.setVcpusFlags, 2, MAXIMUM | CONFIG | GUEST), (d.setVcpusFlags, 1, GUEST),
        (d.setVcpusFlags, 1, 64), (d.setVcpusFlags, 70000, CONFIG),
        (d.setVcpusFlags, 1, MAXIMUM | CONFIG), (d.setVcpusFlags, 5000, MAXIMUM | CONFIG),
        (d.setVcpusFlags, 2, MAXIMUM | CONFIG), (d.setVcpusFlags, 2, CUR),
    ]
    return [(answer(fn, *args), sizes(d)) for fn, *args in calls]


def run_virsh(uri, *args):
    return subprocess.run(["virsh", "-q", "-c", uri, *args], capture_output=True, text=True,
                          env=virsh_env(), timeout=60)


def vcpu_sizes(found):
    """(memory, currentMemory, current vcpus, maximum vcpus) of sizes()."""
    num = [int(re.search(r">(\d+)<", f).group(1)) for f in found]
    cur = re.search(r"current='(\d+)'", found[2])
    return (num[0], num[1], int(cur.group(1)) if cur else num[2], num[2])


# libvirtd 9.0.0's answers to resize_sequence, and the sizes after each call.
EXPECTED = [
    ((8, 20, 'memory in virDomainSetMemory must not be zero'), (65536, 32768, 1, 2)),
    ((55, 20, 'Requested operation is not valid: domain is not running'), (65536, 32768, 1, 2)),
    (('OK', 0), (65536, 30000, 1, 2)),
    (('OK', 0), (65536, 40000, 1, 2)),
    ((8, 10, 'invalid argument: cannot set memory higher than max memory'), (65536, 40000, 1, 2)),
    ((8, 10, 'unsupported flags (0x8) in function qemuDomainSetMemoryFlags'), (65536, 40000, 1, 2)),
    ((55, 20, 'Requested operation is not valid: domain is not running'), (65536, 40000, 1, 2)),
    ((8, 20, 'memory in virDomainSetMemoryFlags must not be zero'), (65536, 40000, 1, 2)),
    (('OK', 0), (50000, 40000, 1, 2)),
    (('OK', 0), (80000, 40000, 1, 2)),
    ((8, 20, 'memory in virDomainSetMaxMemory must not be zero'), (80000, 40000, 1, 2)),
    (('OK', 0), (20000, 20000, 1, 2)),
    (('OK', 0), (65536, 20000, 1, 2)),
    ((8, 20, 'nvcpus in virDomainSetVcpus must not be zero'), (65536, 20000, 1, 2)),
    ((55, 20, 'Requested operation is not valid: domain is not running'), (65536, 20000, 1, 2)),
    (('OK', 0), (65536, 20000, 2, 2)),
    ((8, 10, 'invalid argument: requested vcpus is greater than max allowable vcpus for the persistent domain: 3 > 2'), (65536, 20000, 2, 2)),
    ((8, 20, 'nvcpus in virDomainSetVcpusFlags must not be zero'), (65536, 20000, 2, 2)),
    (('OK', 0), (65536, 20000, 2, 4)),
    ((8, 20, "Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required by flag 'VIR_DOMAIN_VCPU_MAXIMUM'"), (65536, 20000, 2, 4)),
    ((8, 20, "Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required by flag 'VIR_DOMAIN_VCPU_MAXIMUM'"), (65536, 20000, 2, 4)),
    ((8, 20, "Flags 'VIR_DOMAIN_VCPU_GUEST' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive"), (65536, 20000, 2, 4)),
    ((55, 10, 'Requested operation is not valid: domain is not running'), (65536, 20000, 2, 4)),
    ((8, 10, 'unsupported flags (0x40) in function qemuDomainSetVcpusFlags'), (65536, 20000, 2, 4)),
    ((8, 10, 'invalid argument: requested vcpus is greater than max allowable vcpus for the persistent domain: 70000 > 4'), (65536, 20000, 2, 4)),
    (('OK', 0), (65536, 20000, 1, 1)),
    (('OK', 0), (65536, 20000, 1, 5000)),
    (('OK', 0), (65536, 20000, 1, 2)),
    (('OK', 0), (65536, 20000, 2, 2)),]


def compact(results):
    return [(a, vcpu_sizes(s)) for a, s in results]


def test_resize_calls_answer_as_libvirtd(daemon):
    conn = libvirt.open(uri_for(daemon.sock))
    dom = conn.defineXML(tiny_xml("resize", SIZES))
    assert compact(resize_sequence(dom)) == EXPECTED
    # On disk: a fresh read of the definition shows the last sizes.
    stored = (daemon.root / "etc" / "libvirt" / "qemu" / "resize.xml").read_text()
    assert "<memory unit='KiB'>65536</memory>" in stored
    assert "<currentMemory unit='KiB'>20000</currentMemory>" in stored
    assert "<vcpu placement='static'>2</vcpu>" in stored
    # Kept on purpose: HOTPLUGGABLE marks vcpus in a <vcpus> list these definitions do
    # not model; libvirtd accepts it, we refuse it rather than drop the marks.
    assert answer(dom.setVcpusFlags, 1, CONFIG | HOTPLUGGABLE) == (
        84, 10, "Operation not supported: hotpluggable vcpus are not supported")
    dom.undefine()
    conn.close()


@pytest.mark.slow
def test_resize_calls_equal_libvirtd(ref, daemon):
    """The same sequence on Debian's libvirtd and on ours, in the same run."""
    theirs, ours = on_both(ref, daemon, tiny_xml("sv-resize-parity", SIZES), resize_sequence)
    assert theirs == ours


def test_resize_running_guest_without_balloon(host):
    """Guest A (no balloon, one vcpu) running: libvirt's errors for the live forms, and the
    config forms change only the persistent definition (virsh setmem, setmaxmem,
    setvcpus)."""
    dom = host.define("resizeguest")
    dom.create()
    live_before = sizes(dom, 0)
    assert answer(dom.setMemory, 16384) == (
        55, 10, "Requested operation is not valid: Unable to change memory of active domain "
                "without the balloon device and guest OS balloon driver")
    assert answer(dom.setMemory, 65536) == (
        8, 10, "invalid argument: cannot set memory higher than max memory")
    assert answer(dom.setMaxMemory, 16384) == (
        55, 10, "Requested operation is not valid: cannot resize the maximum memory on an "
                "active domain")
    assert answer(dom.setMemoryFlags, 16384, MAXIMUM | LIVE)[2].endswith(
        "cannot resize the maximum memory on an active domain")
    assert answer(dom.setVcpus, 1) == ("OK", 0)  # the count it has: nothing to do
    assert answer(dom.setVcpus, 2) == (
        8, 10, "invalid argument: requested vcpus is greater than max allowable vcpus for the "
               "live domain: 2 > 1")
    assert answer(dom.setVcpusFlags, 3, MAXIMUM | CONFIG | LIVE) == (
        84, 10, "Operation not supported: maximum vcpu count of a live domain can't be "
                "modified")
    for args in (("setmaxmem", "resizeguest", "--config", "48M"),
                 ("setmem", "resizeguest", "--config", "24M"),
                 ("setvcpus", "resizeguest", "--config", "--maximum", "2"),
                 ("setvcpus", "resizeguest", "--config", "2")):
        r = run_virsh(host.uri, *args)
        assert r.returncode == 0, (args, r.stderr)
    assert vcpu_sizes(sizes(dom)) == (49152, 24576, 2, 2)
    assert sizes(dom, 0) == live_before
    config = (host.root / "etc" / "libvirt" / "qemu" / "resizeguest.xml").read_text()
    assert "<currentMemory unit='KiB'>24576</currentMemory>" in config
    # After a restart both vcpus are the ones QEMU started with: none can be unplugged,
    # with libvirtd's error (read on it; hotplug itself is test_vcpu_hotplug.py's).
    dom.destroy()
    assert vcpu_sizes(sizes(dom)) == (49152, 24576, 2, 2)
    dom.create()
    assert answer(dom.setVcpus, 1) == (
        67, 10, "unsupported configuration: failed to find appropriate hotpluggable vcpus to "
                "reach the desired target vcpu count")
    assert re.search(r"<vcpu placement='static'>2<", "".join(sizes(dom, 0)))
    dom.destroy()


def test_resize_running_guest_balloon(host):
    """Guest A with a virtio balloon: setmem live goes to QEMU's balloon (its answer is
    the call's), the persistent <currentMemory> follows with --live --config, and the live
    one stays until the guest reports a change, as libvirtd's does."""
    xml = host.xml("balloonguest").replace("<memballoon model='none'/>",
                                           "<memballoon model='virtio'/>")
    dom = host.conn.defineXML(xml)
    dom.create()
    try:
        r = run_virsh(host.uri, "setmem", "balloonguest", "--live", "--config", "20M")
        assert r.returncode == 0, r.stderr
        assert vcpu_sizes(sizes(dom))[:2] == (32768, 20480)
        assert vcpu_sizes(sizes(dom, 0))[:2] == (32768, 32768)
        assert answer(dom.setMemory, 24576) == ("OK", 0)
        assert vcpu_sizes(sizes(dom))[:2] == (32768, 20480)
    finally:
        dom.destroy()
