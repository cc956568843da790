"""test_proxy.py: virtproxyd between stock clients and virtqemud.

Every test runs virtqemud and virtproxyd under one private root: the proxy listens on
ROOT/run/libvirt/libvirt-sock (-ro, -admin) and dials ROOT/run/libvirt/virtqemud-sock.
Stock virsh and python3-libvirt reach it three ways (libvirt-wire-facts.md, sections 6
and 10): ?socket=PATH; ?mode=legacy; and the empty URI. The last two ignore our paths
and go to /run/libvirt/libvirt-sock, so they run in a private mount namespace where
/run/libvirt is a fresh tmpfs holding only the proxy's libvirt-sock and libvirt-sock-ro,
bind-mounted from ROOT/run/libvirt (nothing leaks into the host's mounts).

Guests are tests/guest/svguest.elf as a TCG domain; its COM1 goes to a file so a test
knows when it printed READY (its ACPI power button is armed from then on).
"""

import json
import os
import re
import resource
import shutil
import signal
import socket
import stat
import struct
import subprocess
import threading
import time
from pathlib import Path

import pytest

import rawrpc
from rawrpc import Client, i32, opt_string, string, u32, uhyper
from svdaemon import build_dir, sanitizer_env

if not shutil.which("virsh"):
    pytest.skip("virsh (libvirt-clients) not installed", allow_module_level=True)

QEMU = "/usr/bin/qemu-system-x86_64"
PYTHON = "/usr/bin/python3"  # python3-libvirt is Debian's
VIRSH_TIMEOUT = 30
GUEST_TIMEOUT = 20.0

# Procedures and error numbers beyond rawrpc's (sections 3, 4 and 11).
PROC_DOMAIN_DESTROY = 12
PROC_DOMAIN_UNDEFINE = 35
PROC_CONNECT_SET_IDENTITY = 419
PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE = 318
ERR_SYSTEM_ERROR = 38
ERR_ACCESS_DENIED = 88
ENOENT, ECONNREFUSED = 2, 111
NOBODY = 65534

# Both daemons take their default config files under ROOT/etc/libvirt. A long
# term_timeout keeps a destroy of a SIGSTOPped guest in flight (the killed-backend test).
QEMUD_CONF = "max_clients = 1000\nterm_timeout_ms = 20000\nkill_timeout_ms = 3000\n"
PROXY_CONF = "max_clients = 1000\n"

RSS_BOUND_KIB = 64 * 1024


# ---------------------------------------------------------------- helpers

def uri_for(path):
    return "qemu+unix:///system?socket=%s" % path


def client_env():
    env = dict(os.environ, LC_ALL="C")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    return env


def run_tool(argv, what, timeout=VIRSH_TIMEOUT):
    r = subprocess.run(["timeout", "-k", "5", str(timeout)] + [str(a) for a in argv],
                       capture_output=True, text=True, env=client_env(),
                       stdin=subprocess.DEVNULL)
    assert r.returncode != 124, "%s timed out:\n%s%s" % (what, r.stdout, r.stderr)
    return r


def virsh(uri, *args, check=True, readonly=False):
    argv = ["virsh"] + (["-r"] if readonly else []) + ["-c", uri] + [str(a) for a in args]
    r = run_tool(argv, " ".join(argv))
    if check:
        assert r.returncode == 0, "%s failed (%d):\n%s" % (" ".join(argv), r.returncode,
                                                          r.stderr)
    return r


# In the namespace /run/libvirt is a fresh tmpfs holding only the proxy's two client sockets
# (bind-mounted from run_dir), so a client that gets anywhere got there through the proxy.
NS_SCRIPT = ('mount -t tmpfs tmpfs /run/libvirt && '
             'for s in libvirt-sock libvirt-sock-ro; do '
             'touch /run/libvirt/$s && mount --bind "$0/$s" /run/libvirt/$s || exit 1; done && '
             'exec "$@"')


def ns_argv(run_dir, argv):
    """argv in a private mount namespace whose /run/libvirt has only the proxy's sockets."""
    os.makedirs("/run/libvirt", exist_ok=True)
    return (["unshare", "--mount", "--propagation", "private", "sh", "-c", NS_SCRIPT,
             str(run_dir)] + list(argv))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def qemu_processes(root):
    """{pid: cmdline} of live QEMU processes whose command line names root."""
    found = {}
    needle = str(root).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if needle in cmd and os.path.basename(cmd.split(b"\0", 1)[0]).startswith(b"qemu-system"):
            found[int(entry)] = cmd.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def wait_until(pred, timeout, what, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(step)


def get_version(c):
    u = c.call(rawrpc.PROC_CONNECT_GET_VERSION)
    v = u.uhyper()
    u.done()
    return v


def define(c, xml):
    """DOMAIN_DEFINE_XML; the remote_nonnull_domain it returns, as raw bytes."""
    u = c.call(rawrpc.PROC_DOMAIN_DEFINE_XML, string(xml))
    start = u.pos
    u.string()
    u.opaque_fixed(16)
    u.i32()
    u.done()
    return u.data[start:]


def simple_xml(name):
    return ("<domain type='qemu'><name>%s</name><memory unit='MiB'>32</memory>"
            "<os><type arch='x86_64'>hvm</type></os>"
            "<devices><emulator>%s</emulator></devices></domain>" % (name, QEMU))


def open_error(path, name, flags=0):
    with Client(str(path)) as c:
        c.auth_list()
        _, err = c.call_error(rawrpc.PROC_CONNECT_OPEN, opt_string(name) + u32(flags))
    return err


# ---------------------------------------------------------------- the stack

class Stack:
    """virtqemud and virtproxyd under one root, plus the guest kernel."""

    def __init__(self, daemons, root, proxy_conf=PROXY_CONF, proxy_args=("--timeout", "0")):
        self.daemons = daemons
        self.root = Path(root)
        self.run = self.root / "run" / "libvirt"
        self.sock = self.run / "libvirt-sock"
        self.sock_ro = self.run / "libvirt-sock-ro"
        self.uri = uri_for(self.sock)
        self.kernel = self.root / "svguest.elf"
        etc = self.root / "etc" / "libvirt"
        etc.mkdir(parents=True)
        (etc / "virtqemud.conf").write_text(QEMUD_CONF)
        (etc / "virtproxyd.conf").write_text(proxy_conf)
        self.qemud = self.start_qemud()
        self.direct_uri = uri_for(self.qemud.sock)
        self.proxy = daemons.start(name="virtproxyd", label="virtproxyd",
                                   ready_path=self.sock, args=list(proxy_args))

    def start_qemud(self):
        return self.daemons.start(label="virtqemud-%d" % len(self.daemons.daemons),
                                  args=["--timeout", "0"])

    # -- guests

    def need_guest(self):
        elf = build_dir() / "tests" / "guest" / "svguest.elf"
        if not elf.exists():
            pytest.skip("test guest %s not built" % elf)
        if not os.path.exists(QEMU):
            pytest.skip("%s not installed" % QEMU)
        if not self.kernel.exists():
            shutil.copyfile(elf, self.kernel)  # so QEMU's command line names the root

    def console(self, name):
        return self.root / ("%s.console" % name)

    def guest_xml(self, name):
        self.need_guest()
        return ("<domain type='qemu'><name>%s</name>"
                "<memory unit='MiB'>32</memory><vcpu>1</vcpu>"
                "<os><type arch='x86_64' machine='pc'>hvm</type>"
                "<kernel>%s</kernel><cmdline>off=60000</cmdline></os>"
                "<features><acpi/></features>"
                "<devices><emulator>%s</emulator>"
                "<serial type='file'><source path='%s'/></serial>"
                "<memballoon model='none'/></devices></domain>"
                % (name, self.kernel, QEMU, self.console(name)))

    def write_xml(self, name):
        path = self.root / ("%s.xml" % name)
        path.write_text(self.guest_xml(name))
        return path

    def wait_ready(self, name):
        """Until the guest printed READY on its console file."""
        con = self.console(name)
        wait_until(lambda: con.exists() and b"READY" in con.read_bytes(), GUEST_TIMEOUT,
                   "READY on the console of %s" % name)

    def qemu_pid(self, name):
        return int((self.run / "qemu" / ("%s.pid" % name)).read_text().strip())

    def finish(self):
        """Kill QEMU processes a test left behind; what was left, as problems."""
        left = qemu_processes(self.root)
        for pid in left:
            for sig in (signal.SIGCONT, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        return ["QEMU left running: %r" % left] if left else []


# virtproxyd hands each client's connection to its backend after the open
# (client_handoff = 1, the default) or relays its frames (client_handoff = 0).
# Every behaviour a client can see is tested both ways.
MODES = {"handoff": "client_handoff = 1\n", "relay": "client_handoff = 0\n"}


def _stack(daemons, root, mode):
    s = Stack(daemons, root, proxy_conf=PROXY_CONF + MODES[mode])
    s.mode = mode
    return s


@pytest.fixture(params=sorted(MODES))
def stack(daemons, root, request):
    s = _stack(daemons, root, request.param)
    yield s
    problems = s.finish()
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def relay_stack(daemons, root):
    """For what only a relaying proxy does: hold the client's socket, answer its PINGs."""
    s = _stack(daemons, root, "relay")
    yield s
    problems = s.finish()
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


class EventWatch:
    """`virsh event --all --loop` in the background, its output in a file."""

    def __init__(self, uri, path):
        self.path = Path(path)
        self.out = open(self.path, "wb")
        self.proc = subprocess.Popen(["virsh", "-c", uri, "event", "--all", "--loop"],
                                     stdout=self.out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=client_env())

    def lines(self, name=None):
        text = self.path.read_text(errors="replace")
        out = [ln for ln in text.splitlines() if ln.startswith("event ")]
        if name is not None:
            out = [ln for ln in out if "for domain '%s':" % name in ln]
        return out

    def wait_line(self, line, timeout=GUEST_TIMEOUT):
        wait_until(lambda: line in self.lines(), timeout,
                   "%r from virsh event (got %r)" % (line, self.lines()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        return self.proc.returncode


def lifecycle_line(name, text):
    return "event 'lifecycle' for domain '%s': %s" % (name, text)


def is_subsequence(want, got):
    it = iter(got)
    return all(any(w == g for g in it) for w in want)


# ---------------------------------------------------------------- sockets

def test_sockets_and_modes(stack):
    modes = {p.name: stat.S_IMODE(os.stat(p).st_mode)
             for p in (stack.sock, stack.sock_ro, stack.run / "libvirt-admin-sock")}
    assert modes == {"libvirt-sock": 0o600, "libvirt-sock-ro": 0o666,
                     "libvirt-admin-sock": 0o600}
    assert stack.proxy.pid_file.read_text().strip() == str(stack.proxy.pid)


def test_socket_activation(daemons, root):
    if not shutil.which("systemd-socket-activate"):
        pytest.skip("systemd-socket-activate not installed")
    run = root / "run" / "libvirt"
    qemud = daemons.start(args=["--timeout", "0"])
    act = root / "act"
    act.mkdir()
    paths = [act / "rw", act / "ro", act / "admin"]
    wrapper = ["systemd-socket-activate"]
    for p in paths:
        wrapper += ["-l", str(p)]
    wrapper.append("--fdname=virtproxyd.socket:virtproxyd-ro.socket:virtproxyd-admin.socket")
    for k, v in sanitizer_env().items():
        wrapper += ["-E", "%s=%s" % (k, v)]
    proxy = daemons.start(name="virtproxyd", label="virtproxyd", wrapper=wrapper,
                          ready_path=paths[0], args=["--timeout", "0"])
    with Client(str(paths[0])) as c:
        c.open()
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
        dom = define(c, simple_xml("pxact"))
    with Client(str(paths[1])) as c:
        c.open()
        _, err = c.call_error(PROC_DOMAIN_UNDEFINE, dom)
        assert (err.code, err.message) == (
            rawrpc.ERR_OPERATION_DENIED,
            "operation forbidden: read only access prevents virDomainUndefine")
    with Client(str(qemud.sock)) as c:
        c.open()
        c.call(PROC_DOMAIN_UNDEFINE, dom).done()
    # It used the sockets it was given and bound none of its own.
    for name in ("libvirt-sock", "libvirt-sock-ro", "libvirt-admin-sock"):
        assert not (run / name).exists(), name
    assert proxy.stop() == 0


def test_proxy_stops_cleanly_with_clients(relay_stack):
    stack = relay_stack
    relayed = Client(str(stack.sock)).open()
    waiting = Client(str(stack.sock))
    waiting.auth_list()
    direct = Client(str(stack.qemud.sock)).open()
    try:
        qemud_fds = open_fds(stack.qemud.pid)
        assert stack.proxy.stop() == 0
        assert relayed.wait_closed(5) and waiting.wait_closed(5)
        for p in (stack.sock, stack.sock_ro, stack.run / "libvirt-admin-sock",
                  stack.proxy.pid_file):
            assert not p.exists(), "%s left behind" % p
        # virtqemud lost the proxy's backend connection and still serves.
        wait_until(lambda: open_fds(stack.qemud.pid) < qemud_fds, 5,
                   "virtqemud to see the proxy's backend connection close")
        assert direct.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
    finally:
        for c in (relayed, waiting, direct):
            c.close()


# ---------------------------------------------------------------- stock virsh

def test_virsh_guest_lifecycle_and_events_through_proxy(stack):
    name = "pxlife"
    xml = stack.write_xml(name)
    watchers = [EventWatch(stack.uri, stack.root / "events-proxy.out"),
                EventWatch(stack.direct_uri, stack.root / "events-direct.out")]
    try:
        # virsh event says nothing once registered: define and undefine a probe until
        # both watchers have reported it.
        with Client(str(stack.qemud.sock)) as c:
            c.open()
            i = 0

            def both_see_probe():
                nonlocal i
                i += 1
                dom = define(c, simple_xml("probe%d" % i))
                c.call(PROC_DOMAIN_UNDEFINE, dom).done()
                time.sleep(0.1)
                return all(any("'probe" in ln for ln in w.lines()) for w in watchers)

            wait_until(both_see_probe, 10, "the virsh event watchers to register", step=0.1)

        out = virsh(stack.uri, "define", xml).stdout
        assert "Domain '%s' defined from %s" % (name, xml) in out
        stack.console(name).unlink(missing_ok=True)
        assert "Domain '%s' started" % name in virsh(stack.uri, "start", name).stdout
        stack.wait_ready(name)

        out = virsh(stack.uri, "list", "--all").stdout
        assert re.search(r"^\s*\d+\s+%s\s+running\s*$" % name, out, re.M), out
        via_proxy = virsh(stack.uri, "dumpxml", name).stdout
        assert "<name>%s</name>" % name in via_proxy
        assert re.search(r"<domain type='qemu' id='\d+'>", via_proxy), via_proxy[:200]
        assert via_proxy == virsh(stack.direct_uri, "dumpxml", name).stdout

        # ACPI power button; the guest powers itself off.
        out = virsh(stack.uri, "shutdown", name).stdout
        assert "Domain '%s' is being shutdown" % name in out
        wait_until(lambda: virsh(stack.uri, "domstate", name).stdout.strip() == "shut off",
                   GUEST_TIMEOUT, "%s to shut off after virsh shutdown" % name, step=0.2)

        assert "Domain '%s' started" % name in virsh(stack.uri, "start", name).stdout
        assert "Domain '%s' destroyed" % name in virsh(stack.uri, "destroy", name).stdout
        r = virsh(stack.uri, "destroy", name, check=False)
        assert r.returncode == 1
        assert "error: Requested operation is not valid: domain is not running" in r.stderr
        assert "has been undefined" in virsh(stack.uri, "undefine", name).stdout
        assert name not in virsh(stack.uri, "list", "--all").stdout

        last = lifecycle_line(name, "Undefined Removed")
        for w in watchers:
            w.wait_line(last)
        time.sleep(0.3)  # nothing more may follow
    finally:
        for w in watchers:
            w.stop()
    proxy_events, direct_events = (w.lines(name) for w in watchers)
    want = [lifecycle_line(name, t) for t in
            ("Defined Added", "Started Booted", "Stopped Shutdown", "Started Booted",
             "Stopped Destroyed", "Undefined Removed")]
    assert is_subsequence(want, proxy_events), proxy_events
    # The proxy relays exactly what virtqemud sends.
    assert proxy_events == direct_events
    assert not qemu_processes(stack.root)


def test_virsh_readonly_socket(stack):
    name = "pxro"
    virsh(stack.uri, "define", stack.write_xml(name))
    virsh(stack.uri, "start", name)
    stack.wait_ready(name)
    ro_uri = uri_for(stack.sock_ro)
    try:
        out = virsh(ro_uri, "list", "--all", readonly=True).stdout
        assert re.search(r"^\s*\d+\s+%s\s+running\s*$" % name, out, re.M), out
        want = "error: operation forbidden: read only access prevents virDomainDestroy"
        # virsh -r: the client library refuses by itself.
        r = virsh(ro_uri, "destroy", name, readonly=True, check=False)
        assert r.returncode == 1 and want in r.stderr, r.stderr
        # Without -r: the client asks, and virtqemud refuses (the connection came from
        # the -ro socket).
        r = virsh(ro_uri, "destroy", name, check=False)
        assert r.returncode == 1 and want in r.stderr, r.stderr
        r = virsh(ro_uri, "define", stack.write_xml("pxro2"), check=False)
        assert r.returncode == 1
        assert ("error: operation forbidden: read only access prevents virDomainDefineXML"
                in r.stderr), r.stderr
        assert virsh(stack.uri, "domstate", name).stdout.strip() == "running"
        assert "pxro2" not in virsh(stack.uri, "list", "--all").stdout
    finally:
        virsh(stack.uri, "destroy", name, check=False)
        virsh(stack.uri, "undefine", name, check=False)


def test_unprivileged_user_on_readonly_socket(stack):
    """libvirt-sock-ro is 0666: user nobody reads through it, and cannot write."""
    with Client(str(stack.sock)) as c:
        c.open()
        define(c, simple_xml("pxnobody"))
    os.chmod(stack.root, 0o711)
    home = stack.root / "nobody-home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    env = dict(client_env(), HOME=str(home), XDG_CACHE_HOME=str(home),
               XDG_CONFIG_HOME=str(home), XDG_RUNTIME_DIR=str(home))
    ro_uri = uri_for(stack.sock_ro)

    def as_nobody(*args):
        return subprocess.run(["virsh", "-c", ro_uri] + list(args), capture_output=True,
                              text=True, timeout=VIRSH_TIMEOUT, env=env, cwd=str(home),
                              user=NOBODY, group=NOBODY, extra_groups=[],
                              stdin=subprocess.DEVNULL)

    r = as_nobody("list", "--all")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^\s*-\s+pxnobody\s+shut off\s*$", r.stdout, re.M), r.stdout
    r = as_nobody("undefine", "pxnobody")
    assert r.returncode == 1
    assert "operation forbidden: read only access prevents virDomainUndefine" in r.stderr, \
        r.stderr
    # The read-write socket stays closed to it.
    r = subprocess.run(["virsh", "-c", uri_for(stack.sock), "list"], capture_output=True,
                       text=True, timeout=VIRSH_TIMEOUT, env=env, cwd=str(home), user=NOBODY,
                       group=NOBODY, extra_groups=[], stdin=subprocess.DEVNULL)
    assert r.returncode == 1
    assert ("Failed to connect socket to '%s': Permission denied" % stack.sock) in r.stderr, \
        r.stderr


def test_readonly_socket_raw(stack):
    """A raw client on libvirt-sock-ro, open flags 0: reads work, writes are refused
    by virtqemud (relayed, the proxy dialled virtqemud-sock-ro; handed over, the
    connection was adopted read-only through virtqemud-sock), with the wire error
    intact."""
    with Client(str(stack.sock)) as c:
        c.open()
        define(c, simple_xml("pxraw"))
    with Client(str(stack.sock_ro)) as c:
        c.open()
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
        u = c.call(rawrpc.PROC_DOMAIN_LOOKUP_BY_NAME, string("pxraw"))
        dom = u.data[u.pos:]
        _, err = c.call_error(PROC_DOMAIN_UNDEFINE, dom)
        assert (err.code, err.domain, err.message) == (
            rawrpc.ERR_OPERATION_DENIED, rawrpc.FROM_DOMAIN,
            "operation forbidden: read only access prevents virDomainUndefine")
    with Client(str(stack.sock)) as c:
        c.open()
        c.call(PROC_DOMAIN_UNDEFINE, dom).done()


# ---------------------------------------------------------------- legacy and empty URIs

def test_legacy_mode_and_empty_uri_reach_the_proxy(stack):
    """?mode=legacy and the empty URI go to /run/libvirt/libvirt-sock: our proxy here."""
    with Client(str(stack.sock)) as c:
        c.open()
        define(c, simple_xml("pxns"))

    r = run_tool(ns_argv(stack.run, ["virsh", "-c", "qemu:///system?mode=legacy", "list",
                                     "--all"]), "virsh mode=legacy")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^\s*-\s+pxns\s+shut off\s*$", r.stdout, re.M), r.stdout

    r = run_tool(ns_argv(stack.run, ["virsh", "-c", "", "uri"]), "virsh -c '' uri")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "qemu:///system"

    r = run_tool(ns_argv(stack.run, ["virsh", "-c", "", "list", "--all"]), "virsh -c '' list")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^\s*-\s+pxns\s+shut off\s*$", r.stdout, re.M), r.stdout

    # What the namespace holds: the proxy's sockets and nothing else.
    r = run_tool(ns_argv(stack.run, ["ls", "/run/libvirt"]), "ls")
    assert r.stdout.split() == ["libvirt-sock", "libvirt-sock-ro"], r.stdout
    # The default mode (auto) with no virtqemud-sock in sight falls back to libvirt-sock.
    r = run_tool(ns_argv(stack.run, ["virsh", "-c", "qemu:///system", "uri"]), "virsh uri")
    assert r.returncode == 0 and r.stdout.strip() == "qemu:///system", r.stderr
    # Read-only goes to libvirt-sock-ro; the proxy relays through virtqemud-sock-ro or
    # hands the connection over, read-only, through virtqemud-sock.
    r = run_tool(ns_argv(stack.run, ["virsh", "-r", "-c", "", "undefine", "pxns"]), "virsh -r")
    assert r.returncode == 1
    assert "read only access prevents virDomainUndefine" in r.stderr, r.stderr
    r = run_tool(ns_argv(stack.run, ["virsh", "-c", "qemu:///system?mode=legacy",
                                     "undefine", "pxns"]), "virsh undefine")
    assert r.returncode == 0, r.stderr


PY_EMPTY_URI = r"""
import json, libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
c = libvirt.open('')
print(json.dumps({"uri": c.getURI(), "version": c.getVersion(),
                  "type": c.getType(),
                  "domains": sorted(d.name() for d in c.listAllDomains())}))
c.close()
"""


def test_python_empty_uri(stack):
    with Client(str(stack.sock)) as c:
        c.open()
        define(c, simple_xml("pxpy"))
    with Client(str(stack.qemud.sock)) as c:
        c.open()
        version = get_version(c)
    r = run_tool(ns_argv(stack.run, [PYTHON, "-c", PY_EMPTY_URI]), "python libvirt.open('')")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got == {"uri": "qemu:///system", "version": version, "type": "QEMU",
                   "domains": ["pxpy"]}


def test_raw_empty_uri_probes_qemu(stack):
    with Client(str(stack.sock)) as c:
        c.open(name=None)
        assert c.get_string(rawrpc.PROC_CONNECT_GET_URI) == "qemu:///system"
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


# ---------------------------------------------------------------- open errors

def test_missing_backend_socket(stack):
    for name, sock, path in (("lxc:///system", stack.sock, "virtlxcd-sock"),
                             ("xen:///system", stack.sock, "virtxend-sock"),
                             ("lxc:///system", stack.sock_ro, "virtlxcd-sock-ro")):
        err = open_error(sock, name)
        want = "Failed to connect socket to '%s': No such file or directory" % (stack.run / path)
        assert (err.code, err.domain, err.message, err.int1) == (
            ERR_SYSTEM_ERROR, rawrpc.FROM_RPC, want, ENOENT), (name, sock, err)
    r = virsh("lxc+unix:///system?socket=%s" % stack.sock, "list", check=False)
    assert r.returncode == 1
    assert r.stderr.splitlines()[:2] == [
        "error: failed to connect to the hypervisor",
        "error: Failed to connect socket to '%s': No such file or directory"
        % (stack.run / "virtlxcd-sock")], r.stderr
    # The proxy still serves.
    with Client(str(stack.sock)) as c:
        c.open()
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


def test_unknown_scheme(stack):
    err = open_error(stack.sock, "bogus:///system")
    assert (err.code, err.domain, err.message) == (
        rawrpc.ERR_NO_CONNECT, rawrpc.FROM_NONE,
        "no connection driver available for bogus:///system")
    r = virsh("bogus+unix:///system?socket=%s" % stack.sock, "list", check=False)
    assert r.returncode == 1
    assert r.stderr.splitlines()[:2] == [
        "error: failed to connect to the hypervisor",
        "error: no connection driver available for bogus:///system"], r.stderr


def test_keepalive_answered_by_proxy(stack):
    with Client(str(stack.sock)) as c:
        c.auth_list()
        assert c.supports_feature(rawrpc.FEATURE_PROGRAM_KEEPALIVE) == 1
        c.connect_open()
        c.send_keepalive(rawrpc.KEEPALIVE_PING)
        m = c.recv_message()
        assert (m.prog, m.proc, m.type, m.serial, m.status, m.payload) == (
            rawrpc.KEEPALIVE_PROGRAM, rawrpc.KEEPALIVE_PONG, rawrpc.MESSAGE, 0, rawrpc.OK, b"")
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


PY_IDLE_KEEPALIVE = r"""
import sys, threading, time, libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
conn = libvirt.open(sys.argv[1])
closed = []
conn.registerCloseCallback(lambda c, reason, o: closed.append(reason), None)
time.sleep(float(sys.argv[2]))
print(conn.getType(), conn.isAlive(), closed)
conn.close()
"""


def test_keepalive_per_hop(daemons, root):
    """With keepalive_interval = 1 and keepalive_count = 2 in virtproxyd.conf the proxy
    PINGs clients that asked for keepalive: a python3-libvirt client (it answers) stays
    connected, a raw client that never answers is dropped, one that never asked is not."""
    stack = Stack(daemons, root, proxy_conf=PROXY_CONF + "client_handoff = 0\nkeepalive_interval = 1\n"
                                                          "keepalive_count = 2\n")
    mute = Client(str(stack.sock))
    mute.auth_list()
    assert mute.supports_feature(rawrpc.FEATURE_PROGRAM_KEEPALIVE) == 1
    mute.connect_open()
    quiet = Client(str(stack.sock)).open()  # never asked: never pinged
    try:
        py = subprocess.Popen([PYTHON, "-c", PY_IDLE_KEEPALIVE, stack.uri, "4.5"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=client_env())
        t0 = time.monotonic()
        assert mute.wait_closed(8), "a client that never answers PINGs was not dropped"
        dt = time.monotonic() - t0
        pings = [m for m in mute.messages if m.prog == rawrpc.KEEPALIVE_PROGRAM]
        assert pings and all((m.proc, m.type, m.serial, m.payload) == (
            rawrpc.KEEPALIVE_PING, rawrpc.MESSAGE, 0, b"") for m in pings), mute.messages
        assert 1.5 <= dt <= 5.0, "dropped after %.1f s" % dt
        out, err = py.communicate(timeout=30)
        assert py.returncode == 0, err
        assert out.strip() == "QEMU 1 []", out
        assert quiet.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
        assert not [m for m in quiet.messages if m.prog == rawrpc.KEEPALIVE_PROGRAM]
    finally:
        mute.close()
        quiet.close()


def test_idle_timeout_after_handoff(daemons, root):
    # A handed-over client belongs to its backend: the proxy may idle out
    # under it, and the client goes on being served.
    stack = Stack(daemons, root, proxy_conf=PROXY_CONF + MODES["handoff"],
                  proxy_args=("--timeout", "1"))
    try:
        with Client(str(stack.sock)) as c:
            c.open()
            assert stack.proxy.wait_exit(6) == 0
            assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
        assert stack.qemud.alive()
    finally:
        problems = stack.finish()
    assert not problems, problems


def test_idle_timeout(daemons, root):
    stack = Stack(daemons, root, proxy_conf=PROXY_CONF + MODES["relay"],
                  proxy_args=("--timeout", "1"))
    with Client(str(stack.sock)) as c:
        c.open()
        time.sleep(2.0)
        assert stack.proxy.alive(), "exited while a relayed client was connected"
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
    t0 = time.monotonic()
    assert stack.proxy.wait_exit(6) == 0
    assert 0.5 <= time.monotonic() - t0 <= 3.0
    assert not stack.sock.exists()
    assert stack.qemud.alive()


def test_events_relayed_with_backend_callback_ids(stack):
    """A raw event client through the proxy: CALLBACK_REGISTER_ANY returns an id (one for
    every domain, one for the domain alone: libvirt refuses a second registration of the
    same form), and the LIFECYCLE message carries each id, byte for byte as virtqemud
    sent it."""
    with Client(str(stack.sock)) as ev, Client(str(stack.sock)) as c:
        ev.open()
        c.open()
        dom = define(c, simple_xml("pxev"))
        ids = []
        for args in (i32(0) + u32(0), i32(0) + u32(1) + dom):
            u = ev.call(rawrpc.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, args)
            ids.append(u.i32())
            u.done()
        assert ids[0] != ids[1]
        c.call(PROC_DOMAIN_UNDEFINE, dom).done()
        got = []
        while len(got) < 2:
            m = ev.recv_message()
            assert (m.type, m.proc, m.serial) == (
                rawrpc.MESSAGE, PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE, 1), m
            u = m.unpacker()
            cb = u.i32()
            assert u.string() == "pxev"
            u.opaque_fixed(16)
            u.i32()
            got.append((cb, u.i32(), u.i32()))
        assert sorted(got) == sorted([(ids[0], 1, 0), (ids[1], 1, 0)])  # UNDEFINED/REMOVED


def test_calls_before_open_and_second_open(stack):
    with Client(str(stack.sock)) as c:
        c.auth_list()
        _, err = c.call_error(rawrpc.PROC_CONNECT_GET_TYPE)
        assert (err.code, err.domain, err.message) == (
            rawrpc.ERR_INTERNAL_ERROR, rawrpc.FROM_RPC,
            "internal error: hypervisor connection not open")
        c.connect_open()
        # Relayed from now on: the second open reaches virtqemud, which refuses it.
        _, err = c.call_error(rawrpc.PROC_CONNECT_OPEN, opt_string("qemu:///system") + u32(0))
        assert (err.code, err.domain, err.message) == (
            rawrpc.ERR_INTERNAL_ERROR, rawrpc.FROM_RPC, "internal error: connection already open")
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
        # An unknown procedure is relayed and answered by virtqemud, serial intact.
        _, err = c.call_error(347, u32(0) + u32(0) + i32(0) + u32(0) + u32(0))
        assert (err.code, err.domain, err.message) == (rawrpc.ERR_RPC, rawrpc.FROM_RPC,
                                                      "unknown procedure: 347")


def test_clients_leaving_during_open(stack):
    """Clients that hang up with their CONNECT_OPEN still in the proxy's hands (backend
    handshake under way) must not disturb the proxy."""
    open_call = rawrpc.encode_frame(rawrpc.REMOTE_PROGRAM, 1, rawrpc.PROC_AUTH_LIST,
                                    rawrpc.CALL, 0, rawrpc.OK)
    open_call += rawrpc.encode_frame(rawrpc.REMOTE_PROGRAM, 1, rawrpc.PROC_CONNECT_OPEN,
                                     rawrpc.CALL, 1, rawrpc.OK,
                                     opt_string("qemu:///system") + u32(0))
    for i in range(100):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(stack.sock))
        s.sendall(open_call)
        if i % 3 == 1:
            time.sleep(0.001 * (i % 7))
        if i % 2:
            s.shutdown(socket.SHUT_WR)
        s.close()
    with Client(str(stack.sock)) as c:
        c.open()
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
    assert stack.proxy.alive() and stack.qemud.alive()


class SlowBackend:
    """A stand-in for virtqemud on ROOT/run/libvirt/virtqemud-sock that answers every call
    at once except the last step of the proxy's open (CONNECT_OPEN when relaying,
    ADOPT_CLIENT when handing off), which it answers only once `release` is set."""

    HELD = {(rawrpc.REMOTE_PROGRAM, rawrpc.PROC_CONNECT_OPEN), (0x53564950, 1)}

    def __init__(self, path):
        self.release = threading.Event()
        self.held = threading.Event()
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(str(path))
        self.srv.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.srv.accept()
        buf = b""
        with conn:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 4 and len(buf) >= struct.unpack(">I", buf[:4])[0]:
                    n = struct.unpack(">I", buf[:4])[0]
                    prog, vers, proc, _, serial, _ = rawrpc.decode_header(buf[4:28])
                    buf = buf[n:]
                    payload = u32(1) + i32(0) if proc == rawrpc.PROC_AUTH_LIST else b""
                    if (prog, proc) in self.HELD:
                        self.held.set()
                        self.release.wait(30)
                    try:
                        conn.sendall(rawrpc.encode_frame(prog, vers, proc, rawrpc.REPLY,
                                                         serial, rawrpc.OK, payload))
                    except (BrokenPipeError, ConnectionResetError):
                        return  # the proxy dropped us with its client: as it should

    def close(self):
        self.release.set()
        self.srv.close()


@pytest.mark.parametrize("how", ["hang-up", "stops-reading"])
@pytest.mark.parametrize("mode", sorted(MODES))
def test_client_gone_before_backend_answers(daemons, root, mode, how):
    """The client goes while the backend has its open; the backend then answers. Writing
    that answer to the client may close the client and drop the last reference to it: the
    proxy must not use it after that (an ASan run caught virtproxyd reading a freed client
    there, once in a full suite run; this makes the order certain)."""
    run = Path(root) / "run" / "libvirt"
    run.mkdir(parents=True)
    etc = Path(root) / "etc" / "libvirt"
    etc.mkdir(parents=True)
    (etc / "virtproxyd.conf").write_text(PROXY_CONF + MODES[mode])
    backend = SlowBackend(run / "virtqemud-sock")
    try:
        proxy = daemons.start(name="virtproxyd", label="virtproxyd",
                              ready_path=run / "libvirt-sock", args=["--timeout", "0"])
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(run / "libvirt-sock"))
        s.sendall(rawrpc.encode_frame(rawrpc.REMOTE_PROGRAM, 1, rawrpc.PROC_CONNECT_OPEN,
                                      rawrpc.CALL, 1, rawrpc.OK,
                                      opt_string("qemu:///system") + u32(0)))
        assert backend.held.wait(10), "the proxy never forwarded the open"
        if how == "hang-up":
            s.close()
            time.sleep(0.3)  # the proxy sees the hang-up while the open is held
        else:
            # It cannot see this one: its write of the open's reply is what fails.
            s.shutdown(socket.SHUT_RD)
        backend.release.set()
        backend.thread.join(10)
        time.sleep(0.2)
        s.close()
        assert proxy.alive(), proxy.stderr_tail(60)
        with Client(str(run / "libvirt-sock")) as c:
            assert c.auth_list() == [0]
    finally:
        backend.close()


def test_large_frames_relayed(stack):
    """A 2 MiB DEFINE_XML call and its 2 MiB GET_XML_DESC reply, through the proxy."""
    text = "".join("line %06d of a long description\n" % i for i in range(2 * 1024 * 1024 // 32))
    xml = simple_xml("pxbig").replace("</name>", "</name><description>%s</description>" % text)
    assert len(xml) > 2 * 1024 * 1024
    with Client(str(stack.sock), timeout=30) as c, \
            Client(str(stack.qemud.sock), timeout=30) as d:
        c.open()
        d.open()
        dom = define(c, xml)
        via_proxy = c.call_raw(14, dom + u32(0))  # DOMAIN_GET_XML_DESC
        direct = d.call_raw(14, dom + u32(0))
        assert via_proxy.status == rawrpc.OK and via_proxy.payload == direct.payload
        assert text in via_proxy.unpacker().string()
        c.call(PROC_DOMAIN_UNDEFINE, dom).done()


PY_CONSOLE = r"""
import signal, sys, libvirt
signal.alarm(30)
libvirt.registerErrorHandler(lambda c, e: None, None)
conn = libvirt.open(sys.argv[1])
dom = conn.lookupByName(sys.argv[2])
dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
st = conn.newStream(0)
dom.openConsole(None, st, 0)
dom.resume()
data = b""
def until(marker):
    global data
    while marker not in data:
        chunk = st.recv(4096)
        if not chunk:
            return False
        data += chunk
    return True
assert until(b"READY"), data
st.send(b"hello proxy")
assert until(b"HELLO PROXY"), data
st.send(b"q")  # the guest powers off, the stream ends
until(b"<end of stream>")
st.finish()
sys.stdout.write(data.decode(errors="replace"))
import time
deadline = time.monotonic() + 15  # the stream ends as QEMU exits; the state follows
while dom.state()[0] != libvirt.VIR_DOMAIN_SHUTOFF and time.monotonic() < deadline:
    time.sleep(0.05)
print("STATE %d" % dom.state()[0])
"""


def test_console_stream_through_proxy(stack):
    name = "pxcon"
    xml = stack.guest_xml(name).replace("<cmdline>off=60000</cmdline>", "<cmdline>echo</cmdline>")
    xml = re.sub(r"<serial type='file'>.*?</serial>",
                 "<serial type='pty'/><console type='pty'/>", xml)
    with Client(str(stack.sock)) as c:
        c.open()
        define(c, xml)
    r = run_tool([PYTHON, "-c", PY_CONSOLE, stack.uri, name], "python console")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "READY" in r.stdout and "HELLO PROXY" in r.stdout, r.stdout
    assert r.stdout.rstrip().endswith("STATE 5"), r.stdout  # SHUTOFF
    virsh(stack.uri, "undefine", name)


# ---------------------------------------------------------------- losing the backend

PY_DESTROY = r"""
import json, sys, threading, time, libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
libvirt.virEventRegisterDefaultImpl()
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
conn = libvirt.open(sys.argv[1])
closed = threading.Event()
reasons = []
def on_close(c, reason, opaque):
    reasons.append(reason)
    closed.set()
conn.registerCloseCallback(on_close, None)
dom = conn.lookupByName(sys.argv[2])
print("CALLING", flush=True)
out = {}
t0 = time.monotonic()
try:
    dom.destroy()
    out["result"] = "ok"
except libvirt.libvirtError as e:
    out.update(code=e.get_error_code(), domain=e.get_error_domain(),
               message=e.get_error_message())
out["elapsed"] = time.monotonic() - t0
closed.wait(5)
out["close_reasons"] = reasons
print(json.dumps(out), flush=True)
"""


def test_backend_killed_mid_call(stack):
    name = "pxkill"
    virsh(stack.uri, "define", stack.write_xml(name))
    virsh(stack.uri, "start", name)
    stack.wait_ready(name)
    qpid = stack.qemu_pid(name)
    os.kill(qpid, signal.SIGSTOP)  # SIGTERM stays pending: destroy waits term_timeout

    idle = Client(str(stack.sock)).open()  # a second client of the same backend
    py = subprocess.Popen([PYTHON, "-c", PY_DESTROY, stack.uri, name], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=client_env())
    try:
        line = py.stdout.readline()
        assert line.strip() == "CALLING", (line, py.stderr.read() if py.poll() else "")
        time.sleep(1.0)
        assert py.poll() is None, "destroy returned before virtqemud was killed"
        stack.qemud.expected_status = -signal.SIGKILL
        stack.qemud.send_signal(signal.SIGKILL)
        stack.qemud.wait_exit(5)
        out, err = py.communicate(timeout=20)
    finally:
        if py.poll() is None:
            py.kill()
            py.wait()
    result = json.loads(out.strip().splitlines()[-1])
    print("python client of the killed backend:", result)
    assert result.get("result") != "ok", result
    assert result["elapsed"] < 10, result
    # The client sees its connection end: the pending call fails with libvirt's EOF error
    # and the close callback reports EOF (1).
    assert (result["code"], result["domain"]) == (ERR_SYSTEM_ERROR, rawrpc.FROM_RPC), result
    assert "End of file while reading data" in result["message"], result
    assert result["close_reasons"] == [1], result
    assert idle.wait_closed(5), "the idle client of the dead backend was not closed"
    idle.close()

    # The proxy itself is fine: it answers, with the socket error of the dead backend...
    assert stack.proxy.alive()
    err = open_error(stack.sock, "qemu:///system")
    assert (err.code, err.domain, err.int1) == (ERR_SYSTEM_ERROR, rawrpc.FROM_RPC,
                                                ECONNREFUSED), err
    assert err.message == "Failed to connect socket to '%s': Connection refused" % (
        stack.qemud.sock), err

    # ...and serves again once virtqemud is back.
    os.kill(qpid, signal.SIGKILL)
    wait_until(lambda: qpid not in qemu_processes(stack.root), 10, "QEMU %d to die" % qpid)
    stack.qemud = stack.start_qemud()
    with Client(str(stack.sock)) as c:
        c.open()
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
        get_version(c)
    out = virsh(stack.uri, "list", "--all").stdout
    assert re.search(r"^\s*-\s+%s\s+shut off\s*$" % name, out, re.M), out
    virsh(stack.uri, "undefine", name)


# ---------------------------------------------------------------- load

def test_non_reading_client_is_bounded(stack):
    """A client that sends calls and registers for events but never reads: the proxy
    stops reading from its backend instead of buffering, and others are still served."""
    sc = Client(str(stack.sock))
    slow = sc.sock
    sc.open()
    sc.call(rawrpc.PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, i32(0) + u32(0))
    caps_len = len(sc.get_string(rawrpc.PROC_CONNECT_GET_CAPABILITIES))

    base = rss_kib(stack.proxy.pid)
    # Enough replies that buffering them all would exceed the bound many times over, and
    # more call bytes than the proxy's and virtqemud's queues and the socket buffers hold.
    ncalls = max(3 * RSS_BOUND_KIB * 1024 // caps_len + 1, 200000)
    calls = b"".join(rawrpc.encode_frame(rawrpc.REMOTE_PROGRAM, 1,
                                         rawrpc.PROC_CONNECT_GET_CAPABILITIES, rawrpc.CALL,
                                         10 + i, rawrpc.OK) for i in range(ncalls))
    sent = [0]

    def pump():
        slow.settimeout(None)
        view = memoryview(calls)
        try:
            while sent[0] < len(view):
                sent[0] += slow.send(view[sent[0]:sent[0] + 65536])
        except OSError:
            pass

    pumper = threading.Thread(target=pump, daemon=True)
    pumper.start()

    stop = threading.Event()
    peak = [base]
    flood = {"pairs": 0, "error": None}

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss_kib(stack.proxy.pid))
            time.sleep(0.05)

    def define_flood():
        try:
            with Client(str(stack.sock)) as c:
                c.open()
                while not stop.is_set():
                    dom = define(c, simple_xml("pxflood"))
                    c.call(PROC_DOMAIN_UNDEFINE, dom).done()
                    flood["pairs"] += 1
        except Exception as e:  # reported below
            flood["error"] = repr(e)

    threads = [threading.Thread(target=sample, daemon=True),
               threading.Thread(target=define_flood, daemon=True)]
    for t in threads:
        t.start()
    try:
        latencies = []
        deadline = time.monotonic() + 6.0
        while time.monotonic() < deadline:
            t0 = time.monotonic()
            with Client(str(stack.sock), timeout=5) as c:
                c.open()
                assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
            latencies.append(time.monotonic() - t0)
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    peak[0] = max(peak[0], rss_kib(stack.proxy.pid))
    assert flood["error"] is None, flood["error"]
    assert flood["pairs"] > 50, flood
    assert max(latencies) < 2.0, latencies
    # The slow client's calls were held back: it could not push all of them.
    assert sent[0] < len(calls), "all %d calls were accepted: no back-pressure" % ncalls
    growth = peak[0] - base
    print("non-reading client: proxy VmRSS %d KiB -> peak %d KiB; %d of %d call bytes "
          "accepted; %d-byte replies; %d define/undefine pairs; max latency %.3f s"
          % (base, peak[0], sent[0], len(calls), caps_len, flood["pairs"], max(latencies)))
    assert growth < RSS_BOUND_KIB, (
        "proxy VmRSS grew by %d KiB (from %d KiB) with a non-reading client "
        "(%d calls of %d-byte replies queued, %d define/undefine pairs)"
        % (growth, base, ncalls, caps_len, flood["pairs"]))
    slow.shutdown(socket.SHUT_RDWR)  # wakes the pump's blocked send
    pumper.join(5)
    slow.close()
    with Client(str(stack.sock)) as c:
        c.open()
        get_version(c)


def test_200_clients_at_once(relay_stack):
    stack = relay_stack
    n = 200
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8 * n), hard))
    clients = []
    try:
        for _ in range(n):
            clients.append(Client(str(stack.sock), timeout=30))
        # Each step is sent to all clients before any reply is read, so the proxy has
        # 200 opens (and 200 backend handshakes) in flight at once.
        for c in clients:
            c.send_call(rawrpc.PROC_AUTH_LIST)
        for c in clients:
            c.recv_reply(0)
        for c in clients:
            c.send_call(rawrpc.PROC_CONNECT_OPEN, opt_string("qemu:///system") + u32(0))
        failed = []
        for i, c in enumerate(clients):
            m = c.recv_reply(1)
            if m.status != rawrpc.OK:
                failed.append((i, rawrpc.RpcError.decode(m.payload).message))
        assert not failed, "%d opens failed, first: %r" % (len(failed), failed[0])
        for c in clients:
            c.send_call(rawrpc.PROC_CONNECT_GET_VERSION)
        versions = set()
        for c in clients:
            u = c.recv_reply(2).unpacker()
            versions.add(u.uhyper())
        assert len(versions) == 1
        # All 200 are open end to end at the same time: a backend socket each.
        assert open_fds(stack.proxy.pid) >= 2 * n
        assert open_fds(stack.qemud.pid) >= n
        for c in clients:
            assert get_version(c) in versions
    finally:
        for c in clients:
            c.close()


# ---------------------------------------------------------------- identity

PY_SET_IDENTITY = r"""
import socket, struct, sys
def frame(proc, serial, payload=b""):
    return struct.pack(">7I", 28 + len(payload), 0x20008086, 1, proc, 0, serial, 0) + payload
def recv(s):
    buf = b""
    while len(buf) < 4 or len(buf) < struct.unpack(">I", buf[:4])[0]:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("connection closed")
        buf += chunk
    return buf
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(frame(66, 0))
recv(s)
s.sendall(frame(419, 1, bytes.fromhex(sys.argv[2])))
print(recv(s).hex())
"""


def identity_args(uid, gid, pid):
    def param(field, typ, value):
        return string(field) + i32(typ) + (uhyper(value) if typ == 4 else struct.pack(">q", value))
    return (u32(3) + param("unix-user-id", 4, uid) + param("unix-group-id", 4, gid)
            + param("process-id", 3, pid) + u32(0))


def set_identity_as(path, uid, payload):
    r = subprocess.run([PYTHON, "-c", PY_SET_IDENTITY, str(path), payload.hex()],
                       capture_output=True, text=True, timeout=30, user=uid, group=uid,
                       extra_groups=[])
    assert r.returncode == 0, r.stderr
    frame = bytes.fromhex(r.stdout.strip())
    hdr = rawrpc.decode_header(frame[4:rawrpc.FRAME_MIN])
    return rawrpc.Message(*hdr, payload=frame[rawrpc.FRAME_MIN:])


def test_set_identity_refused_for_non_root(stack):
    payload = identity_args(0, 0, 1)  # nobody claims to speak for root
    os.chmod(stack.root, 0o711)
    os.chmod(stack.qemud.sock, 0o666)
    m = set_identity_as(stack.qemud.sock, NOBODY, payload)
    assert (m.proc, m.type, m.serial, m.status) == (
        PROC_CONNECT_SET_IDENTITY, rawrpc.REPLY, 1, rawrpc.ERROR), m
    err = rawrpc.RpcError.decode(m.payload)
    assert err.code == ERR_ACCESS_DENIED, err
    # Root (what the proxy runs as) is allowed.
    with Client(str(stack.qemud.sock)) as c:
        c.auth_list()
        c.call(PROC_CONNECT_SET_IDENTITY, payload).done()


def test_normal_client_exit_logged_at_debug(stack):
    """A client that says CONNECT_CLOSE and goes is a normal exit: virtproxyd logs it at
    debug level, never at info or above (issue 15: "backend of client N closed its
    connection" at info for every virsh run through the relay). A backend that goes away
    on its own still gets its info line (test_backend_killed_mid_call)."""
    virsh(stack.uri, "list")
    virsh(uri_for(stack.sock_ro), "list", readonly=True)
    lines = stack.proxy.stderr_text().splitlines()
    # The daemon's own start and stop are info; nothing about clients is.
    noisy = [ln for ln in lines if re.search(r": (info|warning|error|critical) : ", ln)
             and "client" in ln]
    assert noisy == [], noisy
    assert any(re.search(r": debug : virtproxyd: client \d+ closed", ln) for ln in lines), lines
