"""test_xen.py: virtxend, the Xen daemon, driven by stock virsh and python3-libvirt.

Three groups:
- without a hypervisor (this host has no /proc/xen): the connection opens, conversions
  between domain XML and xl.cfg match tests/data/xl/ through `virsh domxml-to-native` and
  `domxml-from-native`, definitions and capabilities work, every call that needs Xen says
  so, and the daemon idles out;
- with the fake libxl (tests/fake-libxl, LD_PRELOADed, its "hypervisor" a directory):
  create, shutdown, destroy, GRACEFUL destroy that times out, pause and resume, what the
  guest does by itself (poweroff, reboot, crash, `xl destroy`), and a daemon SIGKILLed and
  restarted that finds its running domain again from the status file and libxl's list;
- through virtproxyd: xen:///system on the proxy's socket reaches virtxend.

Error codes, domains and texts: libvirt-wire-facts.md sections 4 and 11 (libxl rows).
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import rawrpc
from guests import Events
from svdaemon import assert_transitions, build_dir, daemon_binary

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

if not daemon_binary("virtxend").exists():
    pytest.skip("virtxend not built (libxenlight missing, or -Dxen=disabled)",
                allow_module_level=True)

DATA = Path(__file__).resolve().parents[1] / "data" / "xl"
FAKE_LIBXL = build_dir() / "tests" / "fake-libxl" / "fake-libxl.so"
GRACEFUL_MS = 1000
VIRSH_TIMEOUT = 30

# virErrorNumber / virErrorDomain (section 4).
ERR_INTERNAL_ERROR, ERR_INVALID_ARG, ERR_OPERATION_FAILED = 1, 8, 9
ERR_SYSTEM_ERROR, ERR_NO_DOMAIN, ERR_OPERATION_INVALID, ERR_CONFIG_UNSUPPORTED = 38, 42, 55, 67
FROM_DOMAIN, FROM_LIBXL = 20, 41
EBUSY = 16
RUNNING, PAUSED, SHUTOFF = 1, 3, 5

NO_XEN = "operation failed: the Xen hypervisor is not available on this host"

PV_XML = """<domain type='xen'>
  <name>%(name)s</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type>xen</type><kernel>/boot/vmlinuz</kernel><cmdline>console=hvc0</cmdline></os>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file'><driver name='qemu' type='raw'/>
      <source file='/var/lib/xen/images/%(name)s.img'/><target dev='xvda'/></disk>
    <interface type='ethernet'><mac address='00:16:3e:00:00:01'/></interface>
    <console type='pty'><target type='xen'/></console>
  </devices>
</domain>"""


def pv_xml(name):
    return PV_XML % {"name": name}


def uri_for(path):
    return "xen+unix:///system?socket=%s" % path


def error_of(fn, *args):
    """(code, domain, message) of the libvirtError fn(*args) raises."""
    with pytest.raises(libvirt.libvirtError) as exc:
        fn(*args)
    e = exc.value
    return (e.get_error_code(), e.get_error_domain(), e.get_error_message())


def virsh(uri, *args, check=True):
    env = dict(os.environ, LC_ALL="C")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    argv = ["timeout", "-k", "5", str(VIRSH_TIMEOUT), "virsh", "-c", uri] + [str(a) for a in args]
    r = subprocess.run(argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if check:
        assert r.returncode == 0, "%s failed (%d):\n%s" % (" ".join(argv), r.returncode, r.stderr)
    return r


def start_xend(daemons, root, config="", env=None, args=("--timeout", "0"), label="virtxend",
               wrapper=()):
    return daemons.start(name="virtxend", label=label, config=config or None, env=env,
                         args=list(args), wrapper=list(wrapper))


# ---------------------------------------------------------------- without Xen

def test_no_xen_host_calls(daemons, root):
    d = start_xend(daemons, root)
    conn = libvirt.open(uri_for(d.sock))
    try:
        assert conn.getType() == "Xen"
        assert conn.getVersion() == 0  # virsh: "Cannot extract running Xen hypervisor version"
        caps = conn.getCapabilities()
        for needle in ("<os_type>hvm</os_type>", "<os_type>xen</os_type>",
                       "<domain type='xen'/>", "<machine>xenpv</machine>"):
            assert needle in caps
        assert error_of(conn.getMaxVcpus, "kvm") == (ERR_INVALID_ARG, FROM_LIBXL,
                                                     "invalid argument: unknown type 'kvm'")
        assert conn.getInfo()[1] > 0
    finally:
        conn.close()


def test_no_xen_definitions_work_and_starting_fails(daemons, root):
    d = start_xend(daemons, root)
    conn = libvirt.open(uri_for(d.sock))
    try:
        dom = conn.defineXML(pv_xml("nox"))
        assert (root / "etc" / "libvirt" / "libxl" / "nox.xml").exists()
        assert [x.name() for x in conn.listAllDomains(0)] == ["nox"]
        assert conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE) == []
        assert [x.name() for x in conn.listAllDomains(
            libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)] == ["nox"]
        assert dom.state() == [SHUTOFF, 0]
        expected = (ERR_OPERATION_FAILED, FROM_LIBXL, NO_XEN)
        assert error_of(dom.create) == expected
        assert error_of(dom.createWithFlags, libvirt.VIR_DOMAIN_START_PAUSED) == expected
        assert error_of(conn.createXML, pv_xml("nox2"), 0) == expected
        assert error_of(dom.shutdown) == expected
        assert error_of(dom.destroy) == expected
        assert error_of(dom.suspend) == expected
        assert error_of(conn.lookupByName, "nox2") == (ERR_NO_DOMAIN, FROM_LIBXL,
                                                        "Domain not found")
        dom.undefine()
        assert conn.listAllDomains(0) == []
    finally:
        conn.close()


def test_no_xen_define_refuses_other_types(daemons, root):
    d = start_xend(daemons, root)
    conn = libvirt.open(uri_for(d.sock))
    try:
        xml = ("<domain type='kvm'><name>k</name><memory>65536</memory>"
               "<os><type>hvm</type></os></domain>")
        assert error_of(conn.defineXML, xml) == (
            ERR_CONFIG_UNSUPPORTED, FROM_LIBXL,
            "unsupported configuration: domain type 'kvm' is not supported by libxenlight; "
            "use 'xen'")
    finally:
        conn.close()


def test_wrong_uri_path(daemons, root):
    d = start_xend(daemons, root)
    uri = "xen+unix:///session?socket=%s" % d.sock
    assert error_of(libvirt.open, uri) == (
        ERR_INTERNAL_ERROR, FROM_LIBXL,
        "internal error: unexpected Xen URI path '/session', try xen:///system")


def test_uri_paths_and_reported_uri(daemons, root):
    """libxl takes "", "/" and "/system" (the client shows its own URI; the raw reply is
    the server's)."""
    d = start_xend(daemons, root)
    for name, want in (("xen:///system", "xen:///system"), ("xen:///", "xen:///"),
                       (None, "xen:///system")):
        with rawrpc.Client(str(d.sock)) as c:
            c.auth_list()
            c.connect_open(name)
            assert c.get_string(rawrpc.PROC_CONNECT_GET_URI) == want
            assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "Xen"
    assert error_of(libvirt.open, "lxc+unix:///system?socket=%s" % d.sock)[:2] == (5, 0)


def golden_pairs():
    """(input, expected output, direction) for every case of tests/data/xl/."""
    cases = []
    for cfg in sorted(DATA.glob("*.cfg")):
        n = cfg.name
        if n.startswith("err-") or n.endswith(".out.cfg"):
            continue
        if n.endswith(".in.cfg"):
            cases.append((cfg, DATA / n.replace(".in.cfg", ".out.xml"), "domxml-from-native"))
        else:
            xml = cfg.with_suffix(".xml")
            cases.append((xml, cfg, "domxml-to-native"))
            cases.append((cfg, xml, "domxml-from-native"))
    for xml in sorted(DATA.glob("*.in.xml")):
        cases.append((xml, DATA / xml.name.replace(".in.xml", ".out.cfg"), "domxml-to-native"))
    return cases


def test_virsh_conversions_match_golden_files(daemons, root):
    d = start_xend(daemons, root)
    uri = uri_for(d.sock)
    cases = golden_pairs()
    assert len(cases) >= 10
    for src, want, command in cases:
        r = virsh(uri, command, "xen-xl", src)
        # virsh prints the result and a newline of its own.
        assert r.stdout == want.read_text() + "\n", "%s %s" % (command, src.name)


def test_virsh_conversion_errors(daemons, root):
    d = start_xend(daemons, root)
    uri = uri_for(d.sock)
    r = virsh(uri, "domxml-to-native", "xen-xl", DATA / "err-user-net.xml", check=False)
    assert r.returncode == 1
    assert ("error: unsupported configuration: interface type 'user'; Xen guests use "
            "'ethernet'") in r.stderr
    r = virsh(uri, "domxml-from-native", "xen-xl", DATA / "err-bridge.cfg", check=False)
    assert r.returncode == 1
    assert "setting 'bridge' (bridged interfaces are not supported" in r.stderr
    r = virsh(uri, "domxml-to-native", "xen-xm", DATA / "pv-basic.xml", check=False)
    assert "error: invalid argument: unsupported config type xen-xm" in r.stderr


def test_conversions_through_python(daemons, root):
    d = start_xend(daemons, root)
    conn = libvirt.open(uri_for(d.sock))
    try:
        xml = (DATA / "pv-basic.xml").read_text()
        assert conn.domainXMLToNative("xen-xl", xml, 0) == (DATA / "pv-basic.cfg").read_text()
        cfg = (DATA / "hvm-basic.cfg").read_text()
        assert conn.domainXMLFromNative("xen-xl", cfg, 0) == (DATA / "hvm-basic.xml").read_text()
        assert error_of(conn.domainXMLToNative, "xen-xl", xml, 1) == (
            ERR_INVALID_ARG, FROM_LIBXL,
            "unsupported flags (0x1) in function libxlConnectDomainXMLToNative")
        assert error_of(conn.domainXMLFromNative, "xen-xl", "name = ", 0) == (
            ERR_CONFIG_UNSUPPORTED, 9,  # CONF: the file's syntax
            "unsupported configuration: xl.cfg:1: expected a value, not end of file")
    finally:
        conn.close()


def test_real_libxl_without_a_hypervisor(daemons, root):
    """The probe says "control domain" but libxl cannot reach Xen: the same answers."""
    caps = root / "xen-capabilities"
    caps.write_text("control_d\n")
    d = start_xend(daemons, root, config='xen_capabilities_path = "%s"\n' % caps)
    conn = libvirt.open(uri_for(d.sock))
    try:
        dom = conn.defineXML(pv_xml("real"))
        assert error_of(dom.create) == (ERR_OPERATION_FAILED, FROM_LIBXL, NO_XEN)
        assert conn.getVersion() == 0
    finally:
        conn.close()
    assert "Xen hypervisor not usable" in d.stderr_text()


def test_no_xen_daemon_idles_out(daemons, root):
    d = start_xend(daemons, root, args=("--timeout", "1"))
    conn = libvirt.open(uri_for(d.sock))
    conn.defineXML(pv_xml("idle"))
    conn.close()
    assert d.wait_exit(10) == 0


# ---------------------------------------------------------------- with the fake libxl

def asan_runtime():
    """The sanitizer runtime, when virtxend is ASan-instrumented: it must come first in
    LD_PRELOAD."""
    out = subprocess.run(["ldd", str(daemon_binary("virtxend"))], capture_output=True,
                         text=True).stdout
    if "libasan" not in out:
        return None
    return subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                          text=True).stdout.strip()


class FakeXen:
    """A virtxend over the fake libxl, a python3-libvirt connection and an event client."""

    def __init__(self, daemons, root):
        if not FAKE_LIBXL.exists():
            pytest.skip("fake libxl %s not built" % FAKE_LIBXL)
        self.daemons = daemons
        self.root = root
        self.state = root / "fakexen"
        self.state.mkdir()
        caps = root / "xen-capabilities"
        caps.write_text("control_d\n")
        self.config = ('xen_capabilities_path = "%s"\ngraceful_timeout_ms = %d\n'
                       % (caps, GRACEFUL_MS))
        preload = [p for p in (asan_runtime(), str(FAKE_LIBXL)) if p]
        self.env = {"LD_PRELOAD": ":".join(preload), "SV_FAKE_LIBXL_DIR": str(self.state),
                    "SV_FAKE_LIBXL_DELAY_MS": "30"}
        self.conn = None
        self.events = None
        self.start()

    def start(self, wrapper=(), config=None):
        n = len(self.daemons.daemons)
        self.daemon = start_xend(self.daemons, self.root, config=config or self.config,
                                 env=self.env, label="virtxend-%d" % n, wrapper=wrapper)
        self.uri = uri_for(self.daemon.sock)
        self.conn = libvirt.open(self.uri)
        self.events = Events(self.uri)

    def close(self):
        if self.events:
            self.events.close()
        if self.conn:
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass
        self.events = self.conn = None

    def calls(self):
        p = self.state / "calls"
        return p.read_text().splitlines() if p.exists() else []

    def domains(self):
        """{domid: (uuid, state, name)} of the fake hypervisor."""
        out = {}
        for f in (self.state / "domains").iterdir():
            # The fake writes each file whole through a temporary one beside it
            # (g_file_set_contents: DOMID.XXXXXX, then renamed): only DOMID is a domain.
            if not f.name.isdigit():
                continue
            uuid, state, _, name = f.read_text().split()
            out[int(f.name)] = (uuid, state, name)
        return out

    def ctl(self, line):
        with open(self.state / "ctl", "w") as f:
            f.write(line + "\n")

    def flag(self, name, on=True):
        p = self.state / name
        if on:
            p.touch()
        elif p.exists():
            p.unlink()

    def status_file(self, name):
        return self.root / "run" / "libvirt" / "libxl" / ("%s.xml" % name)

    def kill_daemon(self):
        """SIGKILL the daemon, as a crash would."""
        self.close()
        self.daemon.expected_status = -signal.SIGKILL
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait_exit(10)

    def add_domain(self, domid, uuid, name, state="running"):
        """A domain in the fake hypervisor that no daemon made."""
        (self.state / "domains" / str(domid)).write_text("%s %s -1 %s\n" % (uuid, state, name))


@pytest.fixture
def xen(daemons, root):
    x = FakeXen(daemons, root)
    yield x
    x.close()


def wait_until(pred, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "timed out waiting for %s" % what
        time.sleep(0.02)


def wait_state(dom, state, timeout=10):
    deadline = time.monotonic() + timeout
    while dom.state()[0] != state:
        assert time.monotonic() < deadline, "%s state %r, waited for %d" % (
            dom.name(), dom.state(), state)
        time.sleep(0.02)
    return dom.state()


def test_fake_create_and_shutdown(xen):
    dom = xen.conn.defineXML(pv_xml("vm1"))
    dom.create()
    assert dom.isActive() and dom.state() == [RUNNING, 1]  # booted
    domid = dom.ID()
    assert xen.domains()[domid][1:] == ("running", "vm1")
    assert ("create vm1 type=pv maxmem=262144 mem=262144 vcpus=1 disks=1 nics=1 "
            "kernel=/boot/vmlinuz") in xen.calls()
    assert xen.conn.lookupByID(domid).name() == "vm1"
    assert dom.info()[4] == domid * 10**9  # CPU time, from libxl_domain_info
    assert xen.conn.getMaxVcpus("xen") == 64
    assert xen.conn.getVersion() == 4017002
    assert "id='%d'" % domid in dom.XMLDesc(0)
    # Status files are written off the loop, in order.
    wait_until(xen.status_file("vm1").exists, "the status file of vm1")
    assert error_of(dom.create) == (ERR_OPERATION_INVALID, FROM_LIBXL,
                                    "Requested operation is not valid: Domain is already running")
    dom.shutdown()
    xen.events.expect("vm1", ["DEFINED/ADDED", "STARTED/BOOTED", "SHUTDOWN/GUEST",
                              "STOPPED/SHUTDOWN"])
    assert dom.state() == [SHUTOFF, 1]  # shutdown
    assert xen.conn.lookupByName("vm1").ID() == -1
    # The shut-down domain was reaped, and nothing of it is left.
    assert "destroy %d" % domid in xen.calls()
    assert domid not in xen.domains()
    wait_until(lambda: not xen.status_file("vm1").exists(), "vm1's status file to go")


def test_fake_destroy(xen):
    dom = xen.conn.defineXML(pv_xml("vm2"))
    dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    assert dom.state() == [PAUSED, 1]  # user
    domid = dom.ID()
    assert "unpause %d" % domid not in xen.calls()
    dom.destroy()
    xen.events.expect("vm2", ["DEFINED/ADDED", "STARTED/BOOTED", "SUSPENDED/PAUSED",
                              "STOPPED/DESTROYED"])
    assert dom.state() == [SHUTOFF, 2]  # destroyed
    assert domid not in xen.domains()
    assert error_of(dom.destroy) == (ERR_OPERATION_INVALID, FROM_DOMAIN,
                                     "Requested operation is not valid: domain is not running")



LIBXL_ERROR_FAIL = -3


def destroy_failed(domid):
    return (ERR_OPERATION_FAILED, FROM_LIBXL,
            "operation failed: libxenlight failed to destroy domain '%d' (error %d)"
            % (domid, LIBXL_ERROR_FAIL))


def test_fake_destroy_that_libxl_fails_is_withdrawn(xen):
    """libxl's destroy completes with an error: the call fails with it, and the destroy is
    withdrawn (as virtqemud's and virtlxcd's are): the guest runs on, or stays paused, as if
    none had been asked, so what it does by itself is seen again; a destroy joining the
    guest's own stop goes back to that stop; a second destroy ends it."""
    dom = xen.conn.defineXML(pv_xml("tough"))
    dom.create()
    domid = dom.ID()
    xen.flag("fail-destroy")
    assert error_of(dom.destroy) == destroy_failed(domid)
    assert "destroy %d" % domid in xen.calls()
    assert dom.state() == [RUNNING, 1]
    assert xen.domains()[domid][1] == "running"
    # A destroy of a paused guest that fails leaves it paused.
    dom.suspend()
    assert error_of(dom.destroy) == destroy_failed(domid)
    assert dom.state() == [PAUSED, 1]
    dom.resume()
    # The guest powers itself off: seen and acted on (a stop still under way ignored it).
    xen.ctl("poweroff %d" % domid)
    wait_until(lambda: "ctl poweroff %d" % domid in xen.calls(), "the poweroff")
    wait_state(dom, 4)  # SHUTDOWN: on_poweroff destroys it, and libxl fails that too
    assert xen.domains()[domid][1] == "shutdown"
    # A client's destroy joining that stop fails as well; the stop it joined stays.
    assert error_of(dom.destroy) == destroy_failed(domid)
    assert dom.state()[0] == 4
    wait_until(lambda: "stopreason='shutdown'" in xen.status_file("tough").read_text(),
               "the status file to record the guest's own stop again")
    # The engine's log: each failed destroy went back to where it was asked.
    for back in ("running", "paused", "stopping/shutdown"):
        assert "domain tough: run stopping/destroy -> %s," % back in xen.daemon.stderr_text()
    xen.flag("fail-destroy", False)
    dom.destroy()
    assert dom.state() == [SHUTOFF, 2]  # destroyed
    assert domid not in xen.domains()
    xen.events.expect("tough", ["DEFINED/ADDED", "STARTED/BOOTED", "SUSPENDED/PAUSED",
                                "RESUMED/UNPAUSED", "SHUTDOWN/GUEST", "STOPPED/DESTROYED"])


def test_fake_failed_destroy_is_not_carried_over_a_restart(xen):
    """A destroy libxl failed is over: a daemon restarted after it reconnects to the guest,
    running, and destroys nothing."""
    dom = xen.conn.defineXML(pv_xml("stays"))
    dom.create()
    domid = dom.ID()
    xen.flag("fail-destroy")
    assert error_of(dom.destroy) == destroy_failed(domid)
    xen.flag("fail-destroy", False)
    wait_until(lambda: "stopreason='none'" in xen.status_file("stays").read_text(),
               "the status file to forget the destroy")
    calls = len(xen.calls())
    xen.kill_daemon()
    xen.start()
    dom = xen.conn.lookupByName("stays")
    assert dom.state() == [RUNNING, 1] and dom.ID() == domid
    time.sleep(0.5)  # a carried destroy would be asked for at once
    assert not any(c.startswith("destroy") for c in xen.calls()[calls:])
    assert xen.domains()[domid][1] == "running"
    dom.destroy()
    assert dom.state() == [SHUTOFF, 2]



def test_fake_failed_destroy_keeps_the_reboot_it_joined(xen):
    """The guest reboots (on_reboot restart) and libxl fails to reap its domain; a client's
    destroy joining that stop fails as well and is withdrawn back to it, the restart
    included: when the domain does go (`xl destroy`), the guest starts again, as its reboot
    asked."""
    dom = xen.conn.defineXML(pv_xml("again"))
    dom.create()
    first = dom.ID()
    xen.flag("fail-destroy")
    xen.ctl("reboot %d" % first)
    wait_until(lambda: "libxenlight failed to destroy domain '%d'" % first
               in xen.daemon.stderr_text(), "the reap of the rebooted domain to fail")
    assert error_of(dom.destroy) == destroy_failed(first)
    assert "domain again: run stopping/destroy -> stopping/shutdown" in xen.daemon.stderr_text()
    xen.flag("fail-destroy", False)
    xen.ctl("destroy %d" % first)
    xen.events.expect("again", ["DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/SHUTDOWN",
                                "STARTED/BOOTED"])
    dom = xen.conn.lookupByName("again")
    assert dom.state() == [RUNNING, 1] and dom.ID() != first
    dom.destroy()
    assert dom.state() == [SHUTOFF, 2]


def test_fake_graceful_destroy_times_out_without_forcing(xen):
    dom = xen.conn.defineXML(pv_xml("vm3"))
    dom.create()
    domid = dom.ID()
    xen.flag("ignore-shutdown")
    t0 = time.monotonic()
    with pytest.raises(libvirt.libvirtError) as exc:
        dom.destroyFlags(libvirt.VIR_DOMAIN_DESTROY_GRACEFUL)
    waited = time.monotonic() - t0
    e = exc.value
    assert (e.get_error_code(), e.get_error_domain(), e.get_error_message()) == (
        ERR_SYSTEM_ERROR, FROM_LIBXL,
        "Failed to terminate domain %d with shutdown: Device or resource busy" % domid)
    assert e.get_int1() == EBUSY
    assert GRACEFUL_MS / 1000 - 0.1 <= waited < GRACEFUL_MS / 1000 + 5
    # Asked to shut down, never destroyed: the guest runs on.
    assert "shutdown %d" % domid in xen.calls()
    assert "destroy %d" % domid not in xen.calls()
    assert dom.state() == [RUNNING, 1]
    assert xen.domains()[domid][1] == "running"
    # A guest that listens: GRACEFUL ends it as a destroy, reaping it once it shut down.
    xen.flag("ignore-shutdown", False)
    dom.destroyFlags(libvirt.VIR_DOMAIN_DESTROY_GRACEFUL)
    xen.events.expect("vm3", ["DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/DESTROYED"])
    assert dom.state() == [SHUTOFF, 2]
    assert error_of(dom.destroyFlags, 4) == (
        ERR_INVALID_ARG, FROM_LIBXL, "unsupported flags (0x4) in function libxlDomainDestroyFlags")


def test_fake_pause_and_resume(xen):
    dom = xen.conn.defineXML(pv_xml("vm4"))
    dom.create()
    domid = dom.ID()
    dom.suspend()
    assert dom.state() == [PAUSED, 1]  # user
    assert xen.domains()[domid][1] == "paused"
    dom.suspend()  # already paused: no error, no event
    dom.resume()
    assert dom.state() == [RUNNING, 5]  # unpaused
    assert xen.domains()[domid][1] == "running"
    dom.resume()  # libxl's driver: no error for a running domain
    dom.destroy()
    xen.events.expect("vm4", ["DEFINED/ADDED", "STARTED/BOOTED", "SUSPENDED/PAUSED",
                              "RESUMED/UNPAUSED", "STOPPED/DESTROYED"])


def test_fake_guest_initiated_events(xen):
    dom = xen.conn.defineXML(pv_xml("vm5"))
    dom.create()
    xen.ctl("poweroff %d" % dom.ID())
    wait_state(dom, SHUTOFF)
    assert dom.state() == [SHUTOFF, 1]
    dom.create()
    xen.ctl("crash %d" % dom.ID())  # on_crash destroy
    wait_state(dom, SHUTOFF)
    assert dom.state() == [SHUTOFF, 3]  # crashed
    dom.create()
    first = dom.ID()
    xen.ctl("reboot %d" % first)  # on_reboot restart: a new Xen domain
    xen.events.wait_count("vm5", 10)
    dom = xen.conn.lookupByName("vm5")
    assert dom.state() == [RUNNING, 1] and dom.ID() != first
    xen.ctl("destroy %d" % dom.ID())  # xl destroy, behind the daemon's back
    wait_state(dom, SHUTOFF)
    assert dom.state() == [SHUTOFF, 2]
    xen.events.expect("vm5", [
        "DEFINED/ADDED",
        "STARTED/BOOTED", "SHUTDOWN/GUEST", "STOPPED/SHUTDOWN",
        "STARTED/BOOTED", "CRASHED/PANICKED", "STOPPED/CRASHED",
        "STARTED/BOOTED", "STOPPED/SHUTDOWN", "STARTED/BOOTED",
        "STOPPED/DESTROYED"])
    assert xen.domains() == {}


def test_fake_reboot(xen):
    dom = xen.conn.defineXML(pv_xml("vm6"))
    dom.create()
    first = dom.ID()
    dom.reboot()
    # Xen reboots a guest as a new domain: libvirt's libxl driver reports a stop and a start.
    xen.events.expect("vm6", ["DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/SHUTDOWN",
                              "STARTED/BOOTED"])
    dom = xen.conn.lookupByName("vm6")
    assert dom.state() == [RUNNING, 1] and dom.ID() != first
    assert "reboot %d" % first in xen.calls() and "destroy %d" % first in xen.calls()
    assert error_of(dom.reboot, 1) == (
        ERR_INVALID_ARG, FROM_LIBXL, "unsupported flags (0x1) in function libxlDomainReboot")
    dom.destroy()


def test_fake_autostart_once_per_boot(xen):
    dom = xen.conn.defineXML(pv_xml("auto"))
    dom.setAutostart(1)
    marker = xen.root / "run" / "libvirt" / "libxl" / "autostarted"
    assert marker.exists()  # this daemon's start was the boot's autostart
    xen.close()
    assert xen.daemon.stop() == 0
    marker.unlink()  # a new boot: ROOT/run is a tmpfs
    xen.start()
    dom = xen.conn.lookupByName("auto")
    wait_state(dom, RUNNING)
    dom.destroy()
    xen.close()
    assert xen.daemon.stop() == 0
    # Same boot: a daemon restarted (socket activation, idle exit) does not start it again.
    xen.start()
    assert not xen.conn.lookupByName("auto").isActive()
    assert sum(c.startswith("create auto") for c in xen.calls()) == 1


def test_fake_transient_domain(xen):
    dom = xen.conn.createXML(pv_xml("tr"), 0)
    assert dom.isActive() and not dom.isPersistent()
    dom.destroy()
    xen.events.expect("tr", ["STARTED/BOOTED", "STOPPED/DESTROYED"])
    assert error_of(xen.conn.lookupByName, "tr") == (ERR_NO_DOMAIN, FROM_LIBXL,
                                                      "Domain not found")


def test_fake_create_failure(xen):
    dom = xen.conn.defineXML(pv_xml("bad"))
    xen.flag("fail-create")
    assert error_of(dom.create) == (
        ERR_INTERNAL_ERROR, FROM_LIBXL,
        "internal error: libxenlight failed to create new domain 'bad' (error -3)")
    assert dom.state() == [SHUTOFF, 6]  # failed
    assert not dom.isActive()


def test_fake_restart_reconnects_to_running_domain(xen):
    dom = xen.conn.defineXML(pv_xml("keep"))
    dom.create()
    dom.suspend()
    dom2 = xen.conn.createXML(pv_xml("gone"), 0)
    ids = {"keep": dom.ID(), "gone": dom2.ID()}
    wait_until(lambda: (xen.status_file("keep").exists() and xen.status_file("gone").exists()
                        and "paused" in xen.status_file("keep").read_text()),
               "the status files")
    xen.close()
    xen.daemon.expected_status = -signal.SIGKILL
    xen.daemon.send_signal(signal.SIGKILL)
    xen.daemon.wait_exit(10)
    # While no daemon watched: one guest shut itself down.
    line = (xen.state / "domains" / str(ids["gone"])).read_text().split()
    (xen.state / "domains" / str(ids["gone"])).write_text(
        "%s shutdown 0 %s\n" % (line[0], line[3]))
    calls_before = len(xen.calls())
    xen.start()
    dom = xen.conn.lookupByName("keep")
    assert dom.isActive() and dom.ID() == ids["keep"]
    assert dom.state() == [PAUSED, 1]
    assert dom.isPersistent()
    new_calls = xen.calls()[calls_before:]
    assert "list" in new_calls and "evenable %d" % ids["keep"] in new_calls
    assert not any(c.startswith("create") for c in new_calls)
    # The other one is finished now: libxl reports its shutdown, the daemon reaps it (it
    # may do so before this client could register for events).
    def gone():
        try:
            xen.conn.lookupByName("gone")
            return False
        except libvirt.libvirtError as e:
            return e.get_error_code() == ERR_NO_DOMAIN

    wait_until(gone, "the transient domain to be reaped and forgotten")
    assert "destroy %d" % ids["gone"] in xen.calls()
    assert ids["gone"] not in xen.domains()
    dom.resume()
    dom.shutdown()
    xen.events.expect("keep", ["RESUMED/UNPAUSED", "SHUTDOWN/GUEST", "STOPPED/SHUTDOWN"])
    assert xen.domains() == {}
    wait_until(lambda: not xen.status_file("keep").exists(), "keep's status file to go")


# ---------------------------------------------------------------- through virtproxyd

@pytest.mark.parametrize("handoff", [1, 0], ids=["handoff", "relay"])
def test_proxy_reaches_virtxend(daemons, root, handoff):
    if not daemon_binary("virtproxyd").exists():
        pytest.skip("virtproxyd not built")
    start_xend(daemons, root)
    proxy = daemons.start(name="virtproxyd", label="virtproxyd", args=["--timeout", "0"],
                          config="client_handoff = %d\n" % handoff,
                          ready_path=root / "run" / "libvirt" / "libvirt-sock")
    uri = uri_for(proxy.run_dir / "libvirt-sock")
    conn = libvirt.open(uri)
    try:
        assert conn.getType() == "Xen"
        conn.defineXML(pv_xml("via-proxy"))
        assert (root / "etc" / "libvirt" / "libxl" / "via-proxy.xml").exists()
    finally:
        conn.close()
    r = virsh(uri, "domxml-to-native", "xen-xl", DATA / "pv-disks.xml")
    assert r.stdout == (DATA / "pv-disks.cfg").read_text() + "\n"



def test_fake_log_says_who_asked(xen):
    dom = xen.conn.defineXML(pv_xml("who"))
    dom.create()
    dom.suspend()
    dom.resume()
    xen.ctl("poweroff %d" % dom.ID())
    wait_state(dom, SHUTOFF)
    dom.create()
    dom.destroy()
    xen.events.expect("who", ["DEFINED/ADDED", "STARTED/BOOTED", "SUSPENDED/PAUSED",
                              "RESUMED/UNPAUSED", "SHUTDOWN/GUEST", "STOPPED/SHUTDOWN",
                              "STARTED/BOOTED", "STOPPED/DESTROYED"])
    me = r"client \d+ \(uid %d, pid %d\) " % (os.getuid(), os.getpid())
    expected = [
        (r"shutoff/\d+", "running/1", me + "virDomainCreate"),
        ("running/1", "paused/1", me + "virDomainSuspend"),
        ("paused/1", "running/5", me + "virDomainResume"),
        ("running/5", r"shutdown/\d+", r"Xen \(domain shutdown, reason \d+\)"),
        (r"shutdown/\d+", "shutoff/1", r"Xen \(domain shutdown, reason \d+\)"),
        ("shutoff/1", "running/1", me + "virDomainCreate"),
        ("running/1", "shutoff/2", me + "virDomainDestroy"),
    ]
    assert_transitions(xen.daemon, "who", expected)


# ---------------------------------------------------------------- restarts and status files

def test_fake_start_fails_when_its_record_cannot_be_written(xen):
    """The status file is on disk before libxl is asked for the domain: with the status
    directory full (a small tmpfs over it, in the daemon's own mount namespace) a start
    fails with the write's error and nothing is created in Xen."""
    import shutil
    if not shutil.which("unshare"):
        pytest.skip("needs unshare")
    run = xen.root / "run" / "libvirt" / "libxl"
    xen.close()
    assert xen.daemon.stop() == 0
    fill = ('mount -t tmpfs -o size=16k svfull "$0" && '
            '{ LD_PRELOAD= dd if=/dev/zero of="$0/fill" bs=1k 2>/dev/null; true; } && exec "$@"')
    xen.start(wrapper=["unshare", "-m", "--propagation", "private", "sh", "-c", fill, str(run)])
    dom = xen.conn.defineXML(pv_xml("full"))
    code, domain, msg = error_of(dom.create)
    assert (code, domain) == (ERR_OPERATION_FAILED, FROM_LIBXL)
    assert msg.startswith("operation failed: domain 'full' cannot start: cannot record its "
                          "status: cannot write '%s/full.xml.new-" % run), msg
    assert msg.endswith(": No space left on device"), msg
    assert dom.state() == [SHUTOFF, 6]  # failed
    assert not any(c.startswith("create") for c in xen.calls())
    assert xen.domains() == {}
    assert error_of(xen.conn.createXML, pv_xml("gone"), 0)[0] == ERR_OPERATION_FAILED
    assert error_of(xen.conn.lookupByName, "gone")[0] == ERR_NO_DOMAIN
    assert xen.domains() == {}


def test_fake_daemon_killed_during_create(xen):
    """The daemon dies while libxl creates the domain: the restarted daemon finds the
    unfinished start in its status file and destroys what libxl made (its client never
    heard of success); the guest can then be started again, once."""
    dom = xen.conn.defineXML(pv_xml("half"))
    (xen.state / "create-delay-ms").write_text("5000")
    env = dict(os.environ, LC_ALL="C")
    start = subprocess.Popen(["virsh", "-c", xen.uri, "start", "half"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)
    wait_until(lambda: xen.domains() != {}, "libxl to make the domain")
    (domid,) = xen.domains()
    xen.kill_daemon()
    start.communicate(timeout=VIRSH_TIMEOUT)
    assert start.returncode != 0
    (xen.state / "create-delay-ms").unlink()
    xen.start()
    wait_until(lambda: xen.domains() == {}, "the half-made domain to be destroyed")
    assert "destroy %d" % domid in xen.calls()
    dom = xen.conn.lookupByName("half")
    assert dom.state() == [SHUTOFF, 6]  # failed
    dom.create()
    assert [d[2] for d in xen.domains().values()] == ["half"]
    dom.destroy()
    assert "its start never finished; destroying domain %d" % domid in xen.daemon.stderr_text()


def test_fake_graceful_destroy_survives_a_restart(xen):
    """A GRACEFUL destroy, the daemon SIGKILLed while it waits for the guest: the restarted
    daemon waits until the same deadline and fails then (logged, for the client is gone),
    never destroying the guest; a guest that does shut down within a carried wait is
    reaped as destroyed."""
    config = xen.config.replace("graceful_timeout_ms = %d" % GRACEFUL_MS,
                                "graceful_timeout_ms = 3000")
    xen.close()
    assert xen.daemon.stop() == 0
    xen.start(config=config)
    dom = xen.conn.defineXML(pv_xml("calm"))
    dom.create()
    domid = dom.ID()
    xen.flag("ignore-shutdown")
    env = dict(os.environ, LC_ALL="C")
    t0 = time.monotonic()
    destroy = subprocess.Popen(["virsh", "-c", xen.uri, "destroy", "--graceful", "calm"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    wait_until(lambda: "shutdown %d" % domid in xen.calls(), "the shutdown request")
    time.sleep(0.5)
    xen.kill_daemon()
    destroy.communicate(timeout=VIRSH_TIMEOUT)
    xen.start(config=config)
    wait_until(lambda: "GRACEFUL destroy begun before the daemon restarted failed"
               in xen.daemon.stderr_text(), "the carried GRACEFUL destroy to fail")
    assert time.monotonic() - t0 >= 2.9
    assert "Failed to terminate domain %d with shutdown" % domid in xen.daemon.stderr_text()
    assert "destroy %d" % domid not in xen.calls()
    assert xen.domains()[domid][1] == "running"
    dom = xen.conn.lookupByName("calm")
    assert dom.state() == [RUNNING, 1]
    wait_until(lambda: "graceful='0'" in xen.status_file("calm").read_text(), "the status")

    # Again, and this time the guest listens within the carried wait.
    destroy = subprocess.Popen(["virsh", "-c", xen.uri, "destroy", "--graceful", "calm"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    wait_until(lambda: xen.calls().count("shutdown %d" % domid) == 2, "the shutdown request")
    time.sleep(0.3)
    xen.kill_daemon()
    destroy.communicate(timeout=VIRSH_TIMEOUT)
    xen.start(config=config)
    xen.ctl("poweroff %d" % domid)
    dom = xen.conn.lookupByName("calm")
    wait_state(dom, SHUTOFF)
    assert dom.state() == [SHUTOFF, 2]  # destroyed, as the GRACEFUL destroy asked
    assert xen.domains() == {}


def test_fake_persistence_survives_a_restart(xen):
    """create (transient), then define while it runs, then a daemon restart: the definition
    on disk decides, so the domain stays persistent, a destroy keeps it, undefine works."""
    xml = pv_xml("keeper").replace("<name>", "<uuid>5e1f0000-0000-4000-8000-0000000000fe</uuid>"
                                   "<name>", 1)
    dom = xen.conn.createXML(xml, 0)
    assert dom.isPersistent() == 0
    xen.conn.defineXML(xml)
    assert dom.isPersistent() == 1
    wait_until(lambda: "persistent='1'" in xen.status_file("keeper").read_text(),
               "the status file to follow the define")
    xen.kill_daemon()
    xen.start()
    out = virsh(xen.uri, "dominfo", "keeper").stdout
    assert "Persistent:     yes" in out, out
    virsh(xen.uri, "destroy", "keeper")
    assert "keeper" in virsh(xen.uri, "list", "--all").stdout
    virsh(xen.uri, "undefine", "keeper")
    assert "keeper" not in virsh(xen.uri, "list", "--all").stdout


def xen_status(name, uuid, domid, stopreason="none", starting=0, extra=""):
    return ("<domstatus state='running' reason='1' statetime='0' domid='%d' persistent='0' "
            "stopreason='%s' restart='0' starting='%d' graceful='0'%s>\n"
            "<domain type='xen' id='%d'><name>%s</name><uuid>%s</uuid>"
            "<memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type>xen</type>"
            "<kernel>/boot/vmlinuz</kernel></os></domain>\n</domstatus>\n"
            % (domid, stopreason, starting, extra, domid, name, uuid))


def test_fake_hostile_status_files_touch_no_domain(xen):
    """Status files are input an attacker may have written: one names a domain of someone
    else's (its domid and UUID, another name) with a destroy under way, others fields that
    cannot be. Each is set aside and no domain is destroyed, nor by an unfinished start with
    that domain's UUID; temporary files of unfinished status writes are removed."""
    xen.close()
    assert xen.daemon.stop() == 0
    foreign = "77777777-7777-4777-8777-777777777777"
    xen.add_domain(42, foreign, "someone-elses")
    run = xen.root / "run" / "libvirt" / "libxl"
    run.mkdir(parents=True, exist_ok=True)
    # An unfinished start destroys only domains with its UUID and its name: none here.
    (run / "starter.xml").write_text(xen_status("starter", foreign, 0, starting=1))
    files = {
        "victim": xen_status("victim", foreign, 42, stopreason="destroy"),
        "badstop": xen_status("badstop", "88888888-8888-4888-8888-888888888888", 42,
                              stopreason="explode"),
        "badid": xen_status("badid", "99999999-9999-4999-8999-999999999999", 70000),
        "misnamed": xen_status("other", "66666666-6666-4666-8666-666666666666", 42),
    }
    for name, text in files.items():
        (run / (name + ".xml")).write_text(text)
    stale = run / "vm.xml.new-Zz0912"
    stale.write_text("<dom")
    xen.start()
    assert xen.conn.listAllDomains(0) == []
    assert xen.domains() == {42: (foreign, "running", "someone-elses")}
    assert not any(c.startswith("destroy") for c in xen.calls())
    for name, text in files.items():
        assert not (run / (name + ".xml")).exists()
        assert (run / (name + ".xml.rejected")).read_text() == text
    assert not (run / "starter.xml").exists()
    assert not stale.exists()
    assert xen.daemon.stderr_text().count("setting aside status file") == 4
    (xen.state / "domains" / "42").unlink()


# ---------------------------------------------------------------- metadata (issue 18)

def test_metadata_on_definition(daemons, root):
    """virsh desc and metadata on a Xen definition (no hypervisor needed): kept in the
    definition on disk, the libxl driver's flag and "not running" errors, and the
    METADATA_CHANGE event."""
    import threading
    from guests import ensure_event_loop
    ensure_event_loop()
    d = start_xend(daemons, root)
    uri = uri_for(d.sock)
    conn = libvirt.open(uri)
    got = []
    seen = threading.Event()

    def on_change(c, dom, mtype, nsuri, opaque):
        got.append((dom.name(), mtype, nsuri))
        seen.set()

    cb = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                     on_change, None)
    try:
        dom = conn.defineXML(pv_xml("meta"))
        r = subprocess.run(["virsh", "-q", "-c", uri, "desc", "meta", "--title", "xen guest"],
                           capture_output=True, text=True, timeout=VIRSH_TIMEOUT)
        assert r.returncode == 0, r.stderr
        assert dom.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0) == "xen guest"
        assert "<title>xen guest</title>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        stored = (Path(root) / "etc" / "libvirt" / "libxl" / "meta.xml").read_text()
        assert "<title>xen guest</title>" in stored
        assert error_of(dom.setMetadata, libvirt.VIR_DOMAIN_METADATA_TITLE, "t", None, None,
                        4) == (ERR_INVALID_ARG, FROM_LIBXL,
                               "unsupported flags (0x4) in function libxlDomainSetMetadata")
        assert error_of(dom.setMetadata, libvirt.VIR_DOMAIN_METADATA_TITLE, "t", None, None,
                        libvirt.VIR_DOMAIN_AFFECT_LIVE) == (
            ERR_OPERATION_INVALID, FROM_DOMAIN,
            "Requested operation is not valid: domain is not running")
        assert seen.wait(10)
        assert got == [("meta", libvirt.VIR_DOMAIN_METADATA_TITLE, None)]
        dom.undefine()
    finally:
        conn.domainEventDeregisterAny(cb)
        conn.close()
