"""test_domain_memtune.py: DOMAIN_GET/SET_MEMORY_PARAMETERS (virsh memtune) on virtqemud.

On a defined domain the answers and the persistent <memtune> are Debian's libvirtd 9.0.0's
(checked by hand, and in test_memtune_equal_libvirtd in the same run). On a running Guest A
the live limits go to the guest's cgroup (its files read back) and the live definition.
The live values a get returns are those given to the cgroup, from the live definition (a
limit changed in cgroupfs behind the daemon's back is not seen; libvirt reads cgroupfs).
"""

import re
import subprocess
from pathlib import Path

import pytest

from calls import answer, on_both, tiny_xml
from guests import uri_for, virsh_env

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

LIVE, CONFIG = 1, 2
UNLIMITED = 9007199254740991


def memtune_xml(dom, flags=libvirt.VIR_DOMAIN_XML_INACTIVE):
    m = re.search(r"  <memtune>.*?</memtune>\n", dom.XMLDesc(flags), re.S)
    return m.group(0) if m else None


def memtune_sequence(d):
    calls = [
        (d.memoryParameters, 0), (d.memoryParameters, CONFIG), (d.memoryParameters, 8),
        (d.memoryParameters, LIVE | CONFIG), (d.memoryParameters, LIVE),
        (d.setMemoryParameters, {"hard_limit": 1048576}, CONFIG),
        (d.setMemoryParameters, {"soft_limit": 524288, "swap_hard_limit": 2097152}, CONFIG),
        (d.memoryParameters, CONFIG),
        (d.setMemoryParameters, {"swap_hard_limit": 1000}, 0),
        (d.setMemoryParameters, {"hard_limit": UNLIMITED}, 0),
        (d.memoryParameters, 0),
        (d.setMemoryParameters, {"hard_limit": 1048576}, LIVE),
    ]
    return [(answer(fn, *args), memtune_xml(d)) for fn, *args in calls]


# The persistent <memtune> with all three limits set, and a get's answer for them.
ALL_THREE = ("  <memtune>\n    <hard_limit unit='KiB'>1048576</hard_limit>\n"
             "    <soft_limit unit='KiB'>524288</soft_limit>\n"
             "    <swap_hard_limit unit='KiB'>2097152</swap_hard_limit>\n  </memtune>\n")
ALL_THREE_VALUES = {"hard_limit": 1048576, "soft_limit": 524288, "swap_hard_limit": 2097152}
UNLIMITED_VALUES = {"hard_limit": UNLIMITED, "soft_limit": UNLIMITED, "swap_hard_limit": UNLIMITED}
SWAP_BELOW_HARD = (8, 20, "invalid argument: memory hard_limit tunable value must be lower "
                   "than or equal to swap_hard_limit")
NOT_RUNNING = (55, 20, "Requested operation is not valid: domain is not running")

EXPECTED = [
    (("OK", UNLIMITED_VALUES), None),
    (("OK", UNLIMITED_VALUES), None),
    ((8, 10, "unsupported flags (0x8) in function qemuDomainGetMemoryParameters"), None),
    ((8, 20, "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually "
             "exclusive"), None),
    (NOT_RUNNING, None),
    (("OK", 0), "  <memtune>\n    <hard_limit unit='KiB'>1048576</hard_limit>\n  </memtune>\n"),
    (("OK", 0), ALL_THREE),
    (("OK", ALL_THREE_VALUES), ALL_THREE),
    (SWAP_BELOW_HARD, ALL_THREE),
    (SWAP_BELOW_HARD, ALL_THREE),
    (("OK", ALL_THREE_VALUES), ALL_THREE),
    (NOT_RUNNING, ALL_THREE),
]


def test_memtune_answers_as_libvirtd(daemon):
    conn = libvirt.open(uri_for(daemon.sock))
    dom = conn.defineXML(tiny_xml("memtune"))
    assert memtune_sequence(dom) == EXPECTED
    stored = (daemon.root / "etc" / "libvirt" / "qemu" / "memtune.xml").read_text()
    assert "<swap_hard_limit unit='KiB'>2097152</swap_hard_limit>" in stored
    dom.undefine()
    conn.close()


@pytest.mark.slow
def test_memtune_equal_libvirtd(ref, daemon):
    theirs, ours = on_both(ref, daemon, tiny_xml("sv-memtune-parity"), memtune_sequence)
    assert theirs == ours


def cgroup_file(host, name, v1, v2):
    """The guest's memory cgroup file (v1 name or v2 name, whichever the host has)."""
    for d in host.cgroup_dirs():
        base = Path(d) / (name + ".libvirt-qemu")
        for f in (base / v2, base / v1):
            if f.exists():
                return f
    raise AssertionError("no cgroup file %s/%s of %s in %r" % (v1, v2, name,
                                                               host.cgroup_dirs()))


def test_memtune_running_guest(host):
    """virsh memtune --live on Guest A: the limits reach its cgroup and its live definition
    only; --config the persistent one only."""
    dom = host.define("memtuneguest")
    dom.create()
    try:
        r = subprocess.run(["virsh", "-q", "-c", host.uri, "memtune", "memtuneguest", "--live",
                            "--hard-limit", "262144", "--soft-limit", "131072"],
                           capture_output=True, text=True, env=virsh_env(), timeout=60)
        assert r.returncode == 0, r.stderr
        hard = cgroup_file(host, "memtuneguest", "memory.limit_in_bytes", "memory.max")
        soft = cgroup_file(host, "memtuneguest", "memory.soft_limit_in_bytes", "memory.high")
        assert int(hard.read_text()) == 262144 * 1024
        assert int(soft.read_text()) == 131072 * 1024
        assert dom.memoryParameters(LIVE) == {"hard_limit": 262144, "soft_limit": 131072,
                                              "swap_hard_limit": UNLIMITED}
        assert "<hard_limit unit='KiB'>262144</hard_limit>" in memtune_xml(dom, 0)
        assert memtune_xml(dom) is None
        status = (host.qemu_run / "memtuneguest.xml").read_text()
        assert "<hard_limit unit='KiB'>262144</hard_limit>" in status
        dom.setMemoryParameters({"hard_limit": 524288}, CONFIG)
        assert dom.memoryParameters(CONFIG)["hard_limit"] == 524288
        assert int(hard.read_text()) == 262144 * 1024
        # Back to no limit: the cgroup's largest value ("max" on v2).
        dom.setMemoryParameters({"hard_limit": UNLIMITED}, LIVE)
        assert hard.read_text().strip() in ("max", "9223372036854771712")
        assert dom.memoryParameters(LIVE)["hard_limit"] == UNLIMITED
    finally:
        dom.destroy()
