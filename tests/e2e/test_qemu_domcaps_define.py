"""test_qemu_domcaps_define.py: what our domain capabilities list is what define takes, and
what start does with it, as libvirt 9.0 does.

domcaps_walk.py turns every value of our `virsh domcapabilities` (qemu and kvm x pc and
q35) into a small domain XML that uses it.

- test_every_listed_value_defines (fast): each is defined and undefined on our daemon.
  KNOWN_REFUSED names the values still refused, each with its reason; such a value must
  still be refused with CONFIG_UNSUPPORTED (a name that no longer applies fails the test).
- test_define_as_libvirtd (slow): the same XMLs on Debian's libvirtd, which must take each
  one (so no case is wrongly built), the known refusals included (they are differences).
- test_start_outcomes (slow, real QEMU under TCG): the values this host can run reach
  RUNNING and are destroyed; host-passthrough under TCG, host devices, TPM passthrough and
  egl-headless without /dev/dri fail at start with libvirt 9.0's error (code, domain,
  message), and START_DIFFERENCES names where ours differs (sdl, dbus, file-backed memory, a lun whose device is missing, a 4 MiB flash image as ROM).
  NOT_STARTED names what is defined but not started.
- test_start_as_libvirtd (slow): the same guests started on Debian's libvirtd give the
  outcomes expected_at_start() says are libvirt's, and START_DIFFERENCES' libvirt side.
"""

import os
import socket
import subprocess
import xml.etree.ElementTree as ET

import pytest

import domcaps_walk as walk

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

QEMU = "/usr/bin/qemu-system-x86_64"
if not os.path.exists(QEMU):
    pytest.skip("qemu-system-x86_64 not installed", allow_module_level=True)

# Values our domain capabilities list that our define still refuses (libvirtd takes them
# all: test_define_as_libvirtd). Each is another area's element, not built yet.
KNOWN_REFUSED = {
}


VIRTTYPES = walk.VIRTTYPES
MACHINES = ["pc", "q35"]


def ours_uri(daemon):
    return "qemu+unix:///system?socket=%s" % daemon.sock


def outcome_of(call):
    try:
        call()
        return "ok"
    except libvirt.libvirtError as e:
        return (e.get_error_code(), e.get_error_domain(), e.get_error_message())


def define_undefine(conn, xml):
    def run():
        conn.defineXML(xml).undefine()
    return outcome_of(run)


def walk_cases(conn, virttype, machine, image=None):
    doc = ET.fromstring(conn.getDomainCapabilities(None, None, machine, virttype))
    return list(walk.cases(doc, image))


@pytest.mark.parametrize("virttype", VIRTTYPES)
@pytest.mark.parametrize("machine", MACHINES)
def test_every_listed_value_defines(daemon, virttype, machine):
    conn = libvirt.open(ours_uri(daemon))
    try:
        cases = walk_cases(conn, virttype, machine)
        labels = [label for label, _ in cases]
        assert len(labels) == len(set(labels))
        # The walk covers every section (a broken walk must not pass by finding nothing).
        for prefix in ("firmware-", "loader-", "cpu-model-", "memory-source-", "disk-bus-",
                       "graphics-", "video-", "hostdev-", "rng-", "filesystem-", "tpm-",
                       "redirdev-", "channel-", "feature-", "hyperv-"):
            assert any(lb.startswith(prefix) for lb in labels), prefix
        refused = {}
        for label, xml in cases:
            got = define_undefine(conn, xml)
            if label in KNOWN_REFUSED:
                assert got != "ok" and got[0] == libvirt.VIR_ERR_CONFIG_UNSUPPORTED, \
                    (label, got, "no longer refused: remove it from KNOWN_REFUSED")
            elif got != "ok":
                refused[label] = got
        assert refused == {}
        assert conn.listDefinedDomains() == []
    finally:
        conn.close()


# ---------------------------------------------------------------- against libvirtd (slow)


@pytest.fixture(scope="module")
def libvirtd_uri(tmp_path_factory):
    if not os.path.exists("/usr/sbin/libvirtd"):
        pytest.skip("Debian's libvirtd is not installed (scripts/deps.sh installs it)")
    from xmlparity import Reference
    ref = Reference(tmp_path_factory.mktemp("libvirtd"))
    yield ref.uri
    ref.close()


@pytest.mark.slow
@pytest.mark.parametrize("virttype", VIRTTYPES)
@pytest.mark.parametrize("machine", MACHINES)
def test_define_as_libvirtd(daemon, libvirtd_uri, virttype, machine):
    ours = libvirt.open(ours_uri(daemon))
    theirs = libvirt.open(libvirtd_uri)
    try:
        refused = {}
        for label, xml in walk_cases(ours, virttype, machine):
            got = define_undefine(theirs, xml)
            if got != "ok":
                refused[label] = got
        assert refused == {}
    finally:
        ours.close()
        theirs.close()


# ---------------------------------------------------------------- start (slow, real QEMU)

UNSUPPORTED = libvirt.VIR_ERR_CONFIG_UNSUPPORTED
RUNNING = "running"


def sys_error(path):
    return (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_NONE,
            "cannot open directory '%s': No such file or directory" % path)


def ours_unsupported(what):
    return (UNSUPPORTED, libvirt.VIR_FROM_QEMU,
            "unsupported configuration: %s passthrough is not supported by splitvirt" % what)


def host_outcome(path, found):
    """libvirt's error when the host lacks `path`; else `found`, what we say of a device we
    could reach but do not pass through (None: not compared with libvirtd then)."""
    if not os.path.exists(path):
        return sys_error(path), True
    return found, False


def expected_at_start():
    """label -> (outcome at start, whether libvirt 9.0 gives the same here), for every
    value that does not run: libvirt's errors, measured with the reference libvirtd."""
    pci = (UNSUPPORTED, libvirt.VIR_FROM_QEMU,
           "unsupported configuration: host doesn't support passthrough of host PCI devices")
    usb = host_outcome("/sys/bus/usb/devices", ours_unsupported("USB host device"))
    out = {"hostdev-policy-" + p: usb for p in ("mandatory", "requisite", "optional",
                                                 "default")}
    out["hostdev-subsys-usb"] = usb
    out["hostdev-subsys-pci"] = (pci, True) if not os.path.exists("/dev/vfio/vfio") else \
        (ours_unsupported("PCI host device"), False)
    out["hostdev-subsys-scsi"] = host_outcome("/sys/bus/scsi/devices/0:0:0:0/scsi_generic",
                                              ours_unsupported("SCSI host device"))
    if not os.path.exists("/dev/dri"):
        out["graphics-egl-headless"] = (sys_error("/dev/dri"), True)
    tpm = ((libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_QEMU,
            "Could not open TPM device /dev/tpm0: No such file or directory"), True) \
        if not os.path.exists("/dev/tpm0") else (ours_unsupported("TPM"), False)
    for label in ("tpm-model-tpm-tis", "tpm-model-tpm-crb", "tpm-backend-passthrough"):
        out[label] = tpm
    out["cpu-host-passthrough"] = ((UNSUPPORTED, libvirt.VIR_FROM_QEMU,
                                    "unsupported configuration: CPU mode 'host-passthrough' "
                                    "for x86_64 qemu domain on x86_64 host is not supported "
                                    "by hypervisor"), True)
    return out


# Where our start differs from libvirt 9.0's, each with its reason: label -> (ours, a
# test of libvirtd's outcome).
# - graphics-sdl: libvirt passes -display sdl to QEMU, which exits as Debian's
#   qemu-system-gui (its SDL module) is not installed: an internal error whose wording
#   depends on when libvirt sees QEMU go ("process exited while connecting to monitor" or
#   "qemu unexpectedly closed the monitor") with QEMU's "Display 'sdl' is not available".
#   We refuse before QEMU runs.
# - graphics-dbus: libvirt 9.0 starts a private dbus-daemon for the guest and runs it; the
#   DISPLAY area has no D-Bus display, so we refuse at start.
# - memory-source-file: file-backed guest memory is not built by the CPU area.
# - loader-type-rom: OVMF's 4 MiB flash image as a ROM (-bios): QEMU refuses it ("could not
#   load PC BIOS") under both daemons, which word QEMU's early exit differently (ours:
#   "QEMU failed to start: QEMU exited while starting"); matched on QEMU's words.
# - disk-device-lun: its host device (/dev/h-caps-lun) does not exist. libvirt checks the
#   storage first: SYSTEM_ERROR from the storage domain, "Cannot access storage file";
#   ours fails when the DAC step gives the missing file to QEMU's user (the same for any
#   missing image: the DISK area's start has no such check yet).
# - filesystem-handle: QEMU 7.2 has no "handle" fsdev backend any more; both daemons define
#   it and pass -fsdev handle,... to QEMU, which exits ("fsdriver handle not found"); the
#   daemons word QEMU's early exit differently, so it is matched on QEMU's words.
def qemu_refused(words):
    """An INTERNAL_ERROR of the QEMU domain that quotes QEMU's `words`."""
    return lambda o: (o != RUNNING and o[:2] == (libvirt.VIR_ERR_INTERNAL_ERROR,
                                                 libvirt.VIR_FROM_QEMU) and words in o[2])


START_DIFFERENCES = {
    "loader-type-rom": (qemu_refused("could not load PC BIOS"),
                        qemu_refused("could not load PC BIOS")),
    "filesystem-handle": (qemu_refused("fsdriver handle not found"),
                          qemu_refused("fsdriver handle not found")),
    "disk-device-lun": ((libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_SECURITY,
                         "unable to set user and group to '0:0' on '/dev/h-caps-lun': No such "
                         "file or directory"),
                        lambda o: o == (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_STORAGE,
                                        "Cannot access storage file '/dev/h-caps-lun': No such "
                                        "file or directory")),
    "graphics-sdl": ((UNSUPPORTED, libvirt.VIR_FROM_QEMU,
                      "unsupported configuration: sdl graphics are not supported by "
                      "splitvirt"),
                     lambda o: o != RUNNING and o[:2] == (libvirt.VIR_ERR_INTERNAL_ERROR,
                                                         libvirt.VIR_FROM_QEMU)
                     and "Display 'sdl' is not available" in o[2]),
    "graphics-dbus": ((UNSUPPORTED, libvirt.VIR_FROM_QEMU,
                       "unsupported configuration: dbus graphics are not supported by "
                       "splitvirt"),
                      lambda o: o == RUNNING),
    "memory-source-file": ((UNSUPPORTED, libvirt.VIR_FROM_DOMAIN,
                            "unsupported configuration: file-backed guest memory "
                            "(<memoryBacking> with <source type='file'>, or <access> without "
                            "<source type='memfd'>) is not supported by splitvirt"),
                           lambda o: o == RUNNING),
}

# Values defined but not started here, each with its reason.
NOT_STARTED = (
    # A writable loader would let the guest write the host's shared OVMF code file.
    "loader-readonly-no",
    # 53 CPU models x 2 machines x 2 daemons would cost minutes; qemu64 stands for them.
    "cpu-model-",
)


def startable(label):
    if label in KNOWN_REFUSED:
        return False
    if label == "cpu-model-qemu64":
        return True
    return not any(label.startswith(p) for p in NOT_STARTED)


def start_outcome(conn, xml):
    """RUNNING, another state's number, or the error of create (code, domain, message)."""
    dom = conn.defineXML(xml)
    try:
        dom.create()
    except libvirt.libvirtError as e:
        dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        return (e.get_error_code(), e.get_error_domain(), e.get_error_message())
    state = dom.state()[0]
    dom.destroy()
    # The UEFI guests' NVRAM (made from the template at start) goes with them.
    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
    return RUNNING if state == libvirt.VIR_DOMAIN_RUNNING else "state %d" % state


def extra_cpu_cases(doc):
    """host-passthrough, which TCG domcaps say no to, and host-model, started too."""
    for mode in ("host-passthrough", "host-model"):
        yield "cpu-" + mode, walk.domain(doc, walk.PREFIX + "cpu-" + mode,
                                         top="<cpu mode='%s'/>" % mode)


def start_all(uri, doc, root):
    """label -> start outcome on the daemon at uri, for every startable value of doc (a
    TCG domcaps document), with a disk image and an entropy daemon's socket of the test."""
    image = root / "h-caps-disk.img"
    if not image.exists():
        subprocess.run(["truncate", "-s", "1M", str(image)], check=True)
        os.chmod(image, 0o666)
        os.chmod(root, 0o755)
    # The egd rng backend connects to an entropy daemon: a listening socket stands for it.
    egd = socket.socket()
    egd.bind(("127.0.0.1", 0))
    egd.listen(8)
    conn = libvirt.open(uri)
    try:
        got = {}
        for label, xml in list(walk.cases(doc, str(image))) + list(extra_cpu_cases(doc)):
            if startable(label):
                xml = xml.replace("service='708'", "service='%d'" % egd.getsockname()[1])
                got[label] = start_outcome(conn, xml)
        return got
    finally:
        conn.close()
        egd.close()


def tcg_domcaps(daemon, machine):
    conn = libvirt.open(ours_uri(daemon))
    try:
        return ET.fromstring(conn.getDomainCapabilities(None, None, machine, "qemu"))
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("machine", MACHINES)
def test_start_outcomes(daemon, root, machine):
    got = start_all(ours_uri(daemon), tcg_domcaps(daemon, machine), root)
    expected = {k: v for k, (v, _) in expected_at_start().items()}
    expected.update({k: ours for k, (ours, _) in START_DIFFERENCES.items()})
    want = {label: expected.get(label, RUNNING) for label in got}
    # An expected outcome is a value, or a test of the outcome (matched apart).
    for label in [k for k, v in want.items() if callable(v)]:
        assert want.pop(label)(got.pop(label)), label
    assert got == want
    assert len([o for o in got.values() if o == RUNNING]) >= 20


@pytest.mark.slow
@pytest.mark.parametrize("machine", MACHINES)
def test_start_as_libvirtd(daemon, root, libvirtd_uri, machine):
    got = start_all(libvirtd_uri, tcg_domcaps(daemon, machine), root)
    expected = expected_at_start()
    wrong = {}
    for label, outcome in got.items():
        if label in START_DIFFERENCES:
            ok = START_DIFFERENCES[label][1](outcome)
        elif label in expected:
            want, same = expected[label]
            ok = not same or outcome == want
        else:
            ok = outcome == RUNNING
        if not ok:
            wrong[label] = outcome
    assert wrong == {}
