"""test_cpu_compare.py: virConnectCompareCPU, virConnectBaselineCPU and their hypervisor
forms (issue 18 item 5) through python3-libvirt and virsh: the inputs OpenStack Nova and
virsh send (a capabilities host CPU, host-model, a named model such as qemu64 or
Skylake-Client, bad XML, another architecture), each answer checked; the slow test asks
Debian's libvirtd the same and compares.

compareCPU and baselineCPU answer from libvirt's CPU map (Debian's libvirt0 installs it) and
the capabilities' host CPU decoded through it, as libvirtd does; the hypervisor forms from
the host-model CPU libvirt computes, QEMU's "max" (TCG) or "host" (KVM) CPU decoded through
the map among QEMU's models. The slow test compares every model of the map with each form and flag,
Nova's host CPU baseline with each flag, and the errors.

Kept differences from libvirtd, each with its reason:
- DIFF_NO_KVM: where libvirtd finds KVM usable and our daemon does not (QEMU's user cannot
  open /dev/kvm; the same difference as domain capabilities'), without a virt type libvirtd
  compares with its KVM host CPU and we with TCG's; the comparisons here name virttype
  'qemu', as Nova does with virt_type=qemu.
- DIFF_NO_SCHEMA: VALIDATE_XML makes libvirt check the document against its cpu.rng
  (XML_INVALID_SCHEMA); we read it as without the flag, so such a document gets the
  parser's error (or none).
virtlxcd answers NO_SUPPORT, as libvirt's lxc driver has none of the four. virtxend does
not serve them yet ("unknown procedure"; libvirt's libxl driver has compareCPU and
baselineCPU, from the same CPU map).
"""

import re

import pytest

from calls import virsh
from domcaps_walk import VIRTTYPES

libvirt = pytest.importorskip("libvirt")

INCOMPATIBLE, IDENTICAL, SUPERSET = 0, 1, 2
FAIL_INCOMPATIBLE, VALIDATE_XML = 1, 2
EXPAND_FEATURES, MIGRATABLE = 1, 2
ERR_INTERNAL, ERR_NO_SUPPORT, ERR_INVALID_ARG, ERR_XML_ERROR, ERR_XML_DETAIL = 1, 3, 8, 27, 35
ERR_OPERATION_DENIED, ERR_CONFIG_UNSUPPORTED, ERR_OPERATION_UNSUPPORTED = 29, 67, 84
ERR_CPU_INCOMPATIBLE = 91
FROM_XML, FROM_QEMU, FROM_DOMAIN, FROM_CPU = 5, 10, 20, 31

# Models QEMU runs under TCG that libvirt's map still finds incompatible with TCG's
# host-model CPU (the map gives them vme, which QEMU's TCG "max" lacks).
TCG_MAP_INCOMPATIBLE = {"pentium3", "pentium2", "pentium", "n270", "coreduo", "core2duo",
                        "athlon", "486"}

DOCS = {
    "host-model": "<cpu mode='host-model'/>",
    "host-passthrough": "<cpu mode='host-passthrough'/>",
    "maximum": "<cpu mode='maximum'/>",
    "empty": "<cpu/>",
    "qemu64": "<cpu match='exact'><model>qemu64</model></cpu>",
    "skylake": "<cpu match='exact'><model>Skylake-Client</model></cpu>",
    "nonexist": "<cpu match='exact'><model>Nonexist</model></cpu>",
    "versioned": "<cpu match='exact'><model>Haswell-v4</model></cpu>",
    "arm": "<cpu><arch>aarch64</arch><model>cortex-a57</model></cpu>",
    "bad": "<cpu",
    "blank": "",
    "not-cpu": "<foo/>",
    "domain": "<domain><cpu match='exact'><model>qemu64</model></cpu></domain>",
    "bad-policy": "<cpu match='exact'><model>qemu64</model>"
                  "<feature policy='bogus' name='svm'/></cpu>",
    "bad-match": "<cpu match='bogus'><model>qemu64</model></cpu>",
    "vendor-only": "<cpu><vendor>AMD</vendor></cpu>",
    "features-only": "<cpu><feature name='sse2'/></cpu>",
    "no-model-host": "<cpu><arch>x86_64</arch><vendor>AMD</vendor></cpu>",
    "forbid-sse2": "<cpu match='exact'><model>kvm64</model>"
                   "<feature policy='forbid' name='sse2'/></cpu>",
    "unknown-feature": "<cpu match='exact'><model>kvm64</model><feature name='foo'/></cpu>",
    "strict-qemu64": "<cpu match='strict'><model>qemu64</model></cpu>",
}


def qemu_uri(d, ro=False):
    return "qemu+unix:///system?socket=%s" % (d.sock_ro if ro else d.sock)


def answer(fn, *args):
    """fn's result, or ("error", code, domain, message)."""
    try:
        return fn(*args)
    except libvirt.libvirtError as e:
        return ("error", e.get_error_code(), e.get_error_domain(), e.get_error_message())


def host_vendor():
    text = open("/proc/cpuinfo").read()
    m = re.search(r"^vendor_id\s*:\s*(\S+)", text, re.M)
    return {"GenuineIntel": "Intel", "AuthenticAMD": "AMD"}.get(m.group(1) if m else "")


def expected_errors():
    """libvirt 9.0's answer (compareCPU and compareHypervisorCPU alike) for the documents
    whose answer does not depend on the host's CPU."""
    unknown_model = ("error", ERR_INTERNAL, FROM_CPU, "internal error: Unknown CPU model Nonexist")
    return {
        "host-model": SUPERSET, "host-passthrough": SUPERSET, "maximum": SUPERSET,
        "empty": SUPERSET,
        "nonexist": unknown_model,
        # QEMU's versioned names are not in libvirt's map.
        "versioned": ("error", ERR_INTERNAL, FROM_CPU,
                      "internal error: Unknown CPU model Haswell-v4"),
        "bad": ("error", ERR_XML_DETAIL, FROM_CPU,
                "(CPU_definition):1: Couldn't find end of Start Tag cpu line 1\n<cpu\n----^"),
        "blank": ("error", ERR_XML_DETAIL, FROM_CPU,
                  "(CPU_definition):1: Document is empty\n(null)\n^"),
        "not-cpu": ("error", ERR_XML_ERROR, FROM_CPU,
                    "XML error: XML does not contain expected 'cpu' element"),
        "domain": ("error", ERR_XML_ERROR, FROM_CPU,
                   "XML error: XML does not contain expected 'cpu' element"),
        "bad-policy": ("error", ERR_CONFIG_UNSUPPORTED, FROM_CPU,
                       "unsupported configuration: Invalid CPU feature policy"),
        "bad-match": ("error", ERR_XML_ERROR, FROM_XML,
                      "XML error: Invalid value for attribute 'match' in element 'cpu': "
                      "'bogus'."),
        "vendor-only": ("error", ERR_XML_ERROR, FROM_CPU,
                        "XML error: CPU vendor specified without CPU model"),
        "features-only": ("error", ERR_XML_ERROR, FROM_CPU,
                          "XML error: Non-empty feature list specified without CPU model"),
        "no-model-host": ("error", ERR_XML_ERROR, FROM_CPU, "XML error: Missing CPU model name"),
        "arm": INCOMPATIBLE,
    }


def test_compare_cpu(daemon):
    conn = libvirt.open(qemu_uri(daemon))
    try:
        for name, want in expected_errors().items():
            assert answer(conn.compareCPU, DOCS[name], 0) == want, name
            assert answer(conn.compareHypervisorCPU, None, None, None, "qemu", DOCS[name],
                          0) == want, name
        # Another architecture with FAIL_INCOMPATIBLE: the error says why.
        assert answer(conn.compareCPU, DOCS["arm"], FAIL_INCOMPATIBLE) == (
            "error", ERR_CPU_INCOMPATIBLE, FROM_CPU,
            "the CPU is incompatible with host CPU: CPU arch aarch64 does not match host arch")
        # A vendor other than the host's is incompatible before the model is looked at.
        other = "Intel" if host_vendor() != "Intel" else "AMD"
        doc = "<cpu match='exact'><model>Nonexist</model><vendor>%s</vendor></cpu>" % other
        assert answer(conn.compareCPU, doc, 0) == INCOMPATIBLE
        assert answer(conn.compareCPU, doc, FAIL_INCOMPATIBLE) == (
            "error", ERR_CPU_INCOMPATIBLE, FROM_CPU,
            "the CPU is incompatible with host CPU: host CPU vendor does not match required "
            "CPU vendor %s" % other)
        # The capabilities' host CPU is identical to the host CPU; a strict match of its
        # model alone finds the extra features; a forbidden feature every x86-64 CPU has.
        caps = conn.getCapabilities()
        host_cpu = re.search(r"<host>.*?(<cpu>.*?</cpu>)", caps, re.S).group(1)
        model = re.search(r"<model>([^<]+)</model>", host_cpu).group(1)
        assert answer(conn.compareCPU, host_cpu, 0) == IDENTICAL
        strict = "<cpu match='strict'><model>%s</model></cpu>" % model
        assert answer(conn.compareCPU, strict, 0) == INCOMPATIBLE
        assert answer(conn.compareCPU, strict, FAIL_INCOMPATIBLE)[3].startswith(
            "the CPU is incompatible with host CPU: Host CPU does not strictly match guest "
            "CPU: Extra features: ")
        assert answer(conn.compareCPU, DOCS["forbid-sse2"], FAIL_INCOMPATIBLE) == (
            "error", ERR_CPU_INCOMPATIBLE, FROM_CPU,
            "the CPU is incompatible with host CPU: Host CPU provides forbidden features: sse2")
        assert answer(conn.compareCPU, DOCS["unknown-feature"], 0) == (
            "error", ERR_INTERNAL, FROM_CPU, "internal error: Unknown CPU feature foo")
        # A named model's answer is the host's (the slow test compares them with libvirtd).
        assert answer(conn.compareCPU, DOCS["qemu64"], 0) in (INCOMPATIBLE, IDENTICAL, SUPERSET)
        assert answer(conn.compareCPU, DOCS["qemu64"], 8) == (
            "error", ERR_INVALID_ARG, FROM_QEMU,
            "unsupported flags (0x8) in function qemuConnectCompareCPU")
    finally:
        conn.close()


def usable_models(conn):
    """The x86 models our domain capabilities list for TCG, usable or not."""
    caps = conn.getDomainCapabilities(None, None, None, "qemu", 0)
    return dict((m, u == "yes") for u, m in
                re.findall(r"<model usable='(\w+)' vendor='[^']*'>([^<]+)</model>", caps))


def test_compare_hypervisor_cpu(daemon):
    conn = libvirt.open(qemu_uri(daemon))
    try:
        models = usable_models(conn)
        assert models["qemu64"] and not models["Skylake-Client"]
        # TCG's host-model CPU has what QEMU runs, but the map's vme of the oldest models.
        for model, usable in models.items():
            doc = "<cpu match='exact'><model>%s</model></cpu>" % model
            got = answer(conn.compareHypervisorCPU, None, None, None, "qemu", doc, 0)
            want = INCOMPATIBLE if not usable or model in TCG_MAP_INCOMPATIBLE else SUPERSET
            assert got == want, model
        got = answer(conn.compareHypervisorCPU, None, None, None, "qemu", DOCS["skylake"],
                     FAIL_INCOMPATIBLE)
        assert got[:3] == ("error", ERR_CPU_INCOMPATIBLE, FROM_CPU)
        assert got[3].startswith("the CPU is incompatible with host CPU: Host CPU does not "
                                 "provide required features: ") and "hle" in got[3], got
        # TCG emulates svm.
        doc = "<cpu match='exact'><model>qemu64</model><feature name='svm'/></cpu>"
        assert answer(conn.compareHypervisorCPU, None, None, None, "qemu", doc, 0) == SUPERSET
        # The hypervisor arguments, checked as libvirt checks them.
        x = DOCS["host-model"]
        assert answer(conn.compareHypervisorCPU, None, "foo", None, None, x, 0) == (
            "error", ERR_INVALID_ARG, FROM_QEMU, "invalid argument: unknown architecture: foo")
        assert answer(conn.compareHypervisorCPU, None, "aarch64", None, None, x, 0) == (
            "error", ERR_CONFIG_UNSUPPORTED, FROM_QEMU,
            "unsupported configuration: unable to find any emulator to serve 'aarch64' "
            "architecture")
        assert answer(conn.compareHypervisorCPU, None, None, "nomach", "qemu", x, 0)[:3] == (
            "error", ERR_INVALID_ARG, FROM_QEMU)
        assert answer(conn.compareHypervisorCPU, None, None, None, None, x, 8) == (
            "error", ERR_INVALID_ARG, FROM_QEMU,
            "unsupported flags (0x8) in function qemuConnectCompareHypervisorCPU")
    finally:
        conn.close()


TWO = ["<cpu><arch>x86_64</arch><model>qemu64</model></cpu>",
       "<cpu><arch>x86_64</arch><model>kvm64</model></cpu>"]


def test_baseline(daemon):
    conn = libvirt.open(qemu_uri(daemon))
    try:
        # Nova's call: the capabilities' host CPU with EXPAND_FEATURES: its model (which it
        # prefers), its vendor, every feature of the model and the host's, sorted.
        caps = conn.getCapabilities()
        host_cpu = re.search(r"<host>.*?(<cpu>.*?</cpu>)", caps, re.S).group(1)
        model = re.search(r"<model>([^<]+)</model>", host_cpu).group(1)
        vendor = re.search(r"<vendor>([^<]+)</vendor>", host_cpu).group(1)
        got = conn.baselineCPU([host_cpu], EXPAND_FEATURES)
        assert got.startswith("<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>"
                              "%s</model>\n  <vendor>%s</vendor>\n" % (model, vendor)), got
        names = re.findall(r"<feature policy='require' name='([^']+)'/>", got)
        assert names == sorted(names) and "sse2" in names and "osxsave" not in names
        assert names == sorted(set(names) | set(re.findall(r"<feature name='([^']+)'/>",
                                                           host_cpu)) - {"osxsave", "ospke"})
        assert answer(conn.baselineCPU, [DOCS["qemu64"]], 0) == (
            "error", ERR_XML_ERROR, FROM_CPU, "XML error: Missing CPU architecture")
        assert answer(conn.baselineCPU, [DOCS["host-model"]], 0) == (
            "error", ERR_CONFIG_UNSUPPORTED, FROM_CPU,
            "unsupported configuration: Attribute mode is only allowed for guest CPU")
        assert answer(conn.baselineCPU, ["<cpu><arch>x86_64</arch><model>Nonexist</model></cpu>"],
                      0) == ("error", ERR_INTERNAL, FROM_CPU,
                             "internal error: Unknown CPU model Nonexist")
        assert answer(conn.baselineCPU, [], 0) == (
            "error", ERR_INVALID_ARG, FROM_DOMAIN,
            "xmlCPUs in virConnectBaselineCPU must not be NULL")
        # qemu64 is kvm64 and svm: their baseline is kvm64, which neither names alone.
        assert answer(conn.baselineCPU, TWO, 0) == (
            "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>kvm64</model>\n"
            "</cpu>\n")
        assert answer(conn.baselineCPU, TWO, 4)[:3] == ("error", ERR_INVALID_ARG, FROM_QEMU)
        # The hypervisor form reads guest CPUs: each needs a model, which the map must know.
        hv = conn.baselineHypervisorCPU
        assert answer(hv, None, None, None, "qemu", [DOCS["host-model"]], 0) == (
            "error", ERR_INVALID_ARG, FROM_CPU,
            "invalid argument: no CPU model specified at index 0")
        assert answer(hv, None, None, None, "qemu", [DOCS["arm"]], 0) == (
            "error", ERR_INTERNAL, FROM_CPU, "internal error: Unknown CPU model cortex-a57")
        assert answer(hv, None, None, None, "qemu", [DOCS["qemu64"]], 0) == (
            "<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>qemu64</model>\n"
            "</cpu>\n")
        assert answer(hv, None, None, None, None, [DOCS["qemu64"]], 8) == (
            "error", ERR_INVALID_ARG, FROM_QEMU,
            "unsupported flags (0x8) in function qemuConnectBaselineHypervisorCPU")
    finally:
        conn.close()


def test_read_only_and_virsh(daemon, tmp_path):
    """compareCPU and baselineCPU are allowed on a read-only connection, the hypervisor
    forms are not (libvirt's public API checks); virsh prints the answers."""
    ro = libvirt.openReadOnly(qemu_uri(daemon, ro=True))
    try:
        assert ro.compareCPU(DOCS["host-model"], 0) == SUPERSET
        assert answer(ro.compareHypervisorCPU, None, None, None, "qemu", DOCS["host-model"],
                      0) == ("error", ERR_OPERATION_DENIED, FROM_DOMAIN,
                             "operation forbidden: read only access prevents "
                             "virConnectCompareHypervisorCPU")
        assert answer(ro.baselineHypervisorCPU, None, None, None, "qemu", [DOCS["qemu64"]],
                      0)[:3] == ("error", ERR_OPERATION_DENIED, FROM_DOMAIN)
    finally:
        ro.close()
    hm = tmp_path / "hm.xml"
    hm.write_text(DOCS["host-model"])
    q = tmp_path / "qemu64.xml"
    q.write_text(DOCS["qemu64"])
    uri = qemu_uri(daemon)
    rc, out, err = virsh(uri, "cpu-compare", str(hm))
    assert rc == 0 and "Host CPU is a superset of CPU described in %s" % hm in out, err
    rc, out, err = virsh(uri, "hypervisor-cpu-compare", "--virttype", "qemu", str(q))
    assert rc == 0, err
    assert ("The CPU provided by hypervisor on the host is a superset of CPU described in %s"
            % q) in out
    # --error: FAIL_INCOMPATIBLE, virsh exits 1 with the daemon's reason.
    sky = tmp_path / "sky.xml"
    sky.write_text(DOCS["skylake"])
    rc, out, err = virsh(uri, "hypervisor-cpu-compare", "--virttype", "qemu", "--error",
                         str(sky))
    assert rc == 1 and "Host CPU does not provide required features: " in err, err


def test_lxc_has_none(daemons):
    """libvirt's lxc driver has no CPU comparison or baseline: its public API answers
    NO_SUPPORT naming the call, whatever the arguments (an empty baseline list is refused
    before, as for every driver)."""
    d = daemons.start(name="virtlxcd", label="virtlxcd")
    conn = libvirt.open("lxc+unix:///system?socket=%s" % d.sock)
    try:
        def unsupported(api):
            return ("error", ERR_NO_SUPPORT, FROM_DOMAIN,
                    "this function is not supported by the connection driver: %s" % api)

        assert answer(conn.compareCPU, DOCS["host-model"], 0) == \
            unsupported("virConnectCompareCPU")
        assert answer(conn.compareCPU, DOCS["bad"], 8) == unsupported("virConnectCompareCPU")
        assert answer(conn.baselineCPU, [DOCS["qemu64"]], 0) == \
            unsupported("virConnectBaselineCPU")
        assert answer(conn.baselineCPU, [], 0) == (
            "error", ERR_INVALID_ARG, FROM_DOMAIN,
            "xmlCPUs in virConnectBaselineCPU must not be NULL")
        assert answer(conn.compareHypervisorCPU, None, None, None, None, DOCS["qemu64"], 0) == \
            unsupported("virConnectCompareHypervisorCPU")
        assert answer(conn.baselineHypervisorCPU, None, None, None, None, [DOCS["qemu64"]],
                      0) == unsupported("virConnectBaselineHypervisorCPU")
    finally:
        conn.close()


@pytest.mark.slow
def test_cpu_compare_like_libvirtd(daemon, ref):
    ours = libvirt.open(qemu_uri(daemon))
    theirs = libvirt.open(ref.uri)
    try:
        # The capabilities' host CPU: the same model, vendor and features (the whole <cpu>
        # but the TSC counter, which each daemon reads its own way).
        def host_cpu(conn):
            return re.search(r"<host>.*?(<cpu>.*?</cpu>)", conn.getCapabilities(),
                             re.S).group(1)

        def no_counter(cpu):
            return re.sub(r"\s*<counter [^>]*/>", "", cpu)

        mine_cpu, theirs_cpu = host_cpu(ours), host_cpu(theirs)
        assert no_counter(mine_cpu) == no_counter(theirs_cpu)
        for name, doc in DOCS.items():
            for flags in (0, FAIL_INCOMPATIBLE):
                mine = answer(ours.compareCPU, doc, flags)
                assert mine == answer(theirs.compareCPU, doc, flags), (name, flags)
                mine = answer(ours.compareHypervisorCPU, None, None, None, "qemu", doc, flags)
                want = answer(theirs.compareHypervisorCPU, None, None, None, "qemu", doc, flags)
                assert mine == want, ("hv", name, flags)
        # Every model of the map against the host, and its baseline (alone, expanded,
        # migratable): the map's answers, model by model.
        models = theirs.getCPUModelNames("x86_64", 0)
        for model in models:
            doc = "<cpu match='exact'><model>%s</model></cpu>" % model
            hdoc = "<cpu><arch>x86_64</arch><model>%s</model></cpu>" % model
            for flags in (0, FAIL_INCOMPATIBLE):
                assert answer(ours.compareCPU, doc, flags) == \
                    answer(theirs.compareCPU, doc, flags), (model, flags)
            for flags in (0, EXPAND_FEATURES | MIGRATABLE):
                assert answer(ours.baselineCPU, [hdoc], flags) == \
                    answer(theirs.baselineCPU, [hdoc], flags), (model, flags)
        # The hypervisor forms under TCG (and KVM where it is usable), model by model:
        # compare (with its reasons) and baseline (alone, expanded, migratable).
        for vt, model in [(vt, m) for vt in VIRTTYPES for m in models]:
            doc = "<cpu match='exact'><model>%s</model></cpu>" % model
            for flags in (0, FAIL_INCOMPATIBLE):
                assert answer(ours.compareHypervisorCPU, None, None, None, vt, doc,
                              flags) == answer(theirs.compareHypervisorCPU, None, None, None,
                                               vt, doc, flags), (vt, model, flags)
            for flags in (0, EXPAND_FEATURES | MIGRATABLE):
                assert answer(ours.baselineHypervisorCPU, None, None, None, vt, [doc],
                              flags) == answer(theirs.baselineHypervisorCPU, None, None, None,
                                               vt, [doc], flags), (vt, model, flags)
        # Baseline: Nova's (the capabilities' host CPU) with every flag, each daemon's own.
        for flags in (0, EXPAND_FEATURES, MIGRATABLE, EXPAND_FEATURES | MIGRATABLE):
            assert answer(ours.baselineCPU, [mine_cpu], flags) == \
                answer(theirs.baselineCPU, [theirs_cpu], flags), flags
        vendor_clash = ["<cpu><arch>x86_64</arch><model>EPYC</model><vendor>Intel</vendor></cpu>",
                        "<cpu><arch>x86_64</arch><model>EPYC</model></cpu>"]
        cases = [["<cpu><arch>x86_64</arch><model>Nonexist</model></cpu>"], [DOCS["qemu64"]],
                 [DOCS["host-model"]], [DOCS["bad"]], [], TWO, vendor_clash,
                 ["<cpu><arch>x86_64</arch><model>qemu64</model><vendor>Foo</vendor></cpu>"],
                 ["<cpu><arch>x86_64</arch><model>qemu64</model><feature name='foo'/></cpu>"]]
        for cpus in cases:
            assert answer(ours.baselineCPU, cpus, 0) == answer(theirs.baselineCPU, cpus, 0), cpus
        two_guest = ["<cpu match='exact'><model>Haswell-noTSX</model></cpu>",
                     "<cpu match='exact'><model>EPYC</model><feature name='svm'/></cpu>"]
        for cpus in ([DOCS["host-model"]], [DOCS["arm"]], [DOCS["nonexist"]], [DOCS["bad"]],
                     two_guest, [DOCS["qemu64"], DOCS["versioned"]]):
            assert answer(ours.baselineHypervisorCPU, None, None, None, "qemu", cpus, 0) == \
                answer(theirs.baselineHypervisorCPU, None, None, None, "qemu", cpus, 0), cpus
        for args in ((None, "foo", None, None), (None, "aarch64", None, None),
                     (None, None, "nomach", "qemu")):
            assert answer(ours.compareHypervisorCPU, *args, DOCS["host-model"], 0) == \
                answer(theirs.compareHypervisorCPU, *args, DOCS["host-model"], 0), args
    finally:
        ours.close()
        theirs.close()


def test_missing_cpu_map(daemons, tmp_path):
    """Without libvirt's CPU map (SV_CPU_MAP_DIR naming an empty directory) the daemon runs
    on: the capabilities' host CPU has no model or features, the host-model mode is not
    supported, and the calls that need the map fail with an internal error naming the
    file."""
    d = daemons.start(name="virtqemud", label="virtqemud-nomap",
                      env={"SV_CPU_MAP_DIR": str(tmp_path)})
    conn = libvirt.open(qemu_uri(d))
    try:
        host_cpu = re.search(r"<host>.*?(<cpu>.*?</cpu>)", conn.getCapabilities(),
                             re.S).group(1)
        assert "<arch>x86_64</arch>" in host_cpu
        assert "<model>" not in host_cpu and "<feature " not in host_cpu
        why = ("error", ERR_INTERNAL, FROM_CPU,
               "internal error: cannot read libvirt's CPU map file '%s/index.xml' "
               "(is libvirt0 installed?)" % tmp_path)
        assert answer(conn.compareCPU, DOCS["qemu64"], 0) == why
        assert answer(conn.baselineCPU, TWO, 0) == why
        assert answer(conn.getCPUModelNames, "x86_64", 0) == why
        assert "<mode name='host-model' supported='no'/>" in \
            conn.getDomainCapabilities(None, None, None, "qemu", 0)
        # Documents refused before the map is needed keep their errors.
        assert answer(conn.compareCPU, DOCS["bad-match"], 0) == \
            expected_errors()["bad-match"]
        assert conn.getLibVersion() > 0
    finally:
        conn.close()
