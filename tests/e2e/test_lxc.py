"""test_lxc.py: virtlxcd running real containers, driven by the stock virsh and python3-libvirt.

Each test builds a busybox root filesystem (busybox-static's binary, its applet links from
`busybox --install -s`, /etc/passwd and /etc/group, two init scripts) under its private
--root, and runs virtlxcd there with short kill timeouts. The init scripts put a shell on
/dev/console and wait in an interruptible `wait`, so their traps run at once:

  /sbin/svinit          trap 'exit 0' TERM   (shutdown works)   trap 'reboot -f' HUP
  /sbin/svinit-noterm   no TERM handler: SIGTERM from outside cannot reach a PID 1
  /sbin/svinit-initctl  reads sysvinit requests from /dev/initctl, nothing else

reboot -f calls reboot(), which ends the init of a child PID namespace with SIGHUP; the
supervisor then starts it again in place. Containers with <idmap> run in their own user
namespace as uid 100000 on the host: their root filesystem is chowned to it, and the test's
private root is made traversable (0711) for it. After every test, whatever happened, the
containers are destroyed and the test fails if any process, cgroup, mount, socket or
status file of them is left, or if a supervisor's log holds a sanitizer report.
Expected values: libvirt-wire-facts.md sections 4, 5, 6, 8, 11 and 12.
"""

import gc
import hashlib
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from svdaemon import SANITIZER_MARKERS, assert_transitions, build_dir
from test_qemu_net import NETNS_PREFIX

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

if not shutil.which("virsh"):
    pytest.skip("virsh (libvirt-clients) not installed", allow_module_level=True)
BUSYBOX = shutil.which("busybox") or "/bin/busybox"
if not os.path.exists(BUSYBOX) or os.geteuid() != 0:
    pytest.skip("needs root and busybox-static", allow_module_level=True)

VIRSH_TIMEOUT = 30
EVENT_TIMEOUT = 10.0
CONSOLE_TIMEOUT = 10.0
CGROUP_MOUNT = Path("/sys/fs/cgroup")
NETNS_DIR = Path("/run/netns")  # where `ip netns add` mounts a namespace

# The daemon's kill waits, short so that GRACEFUL failures and SIGTERM-proof inits are quick.
CONFIG = "term_timeout_ms = 400\nkill_timeout_ms = 2000\ngraceful_timeout_ms = 800\n"

# virDomainEventType and details; state reasons (facts, section 4).
DEFINED, UNDEFINED, STARTED, SUSPENDED, RESUMED, STOPPED = 0, 1, 2, 3, 4, 5
ADDED, REMOVED, BOOTED, PAUSED, UNPAUSED = 0, 0, 0, 0, 0
SHUTDOWN, DESTROYED, FAILED = 0, 1, 5
REBOOT = "REBOOT"

INIT_TERM = """#!/bin/sh
trap 'exit 0' TERM
trap 'reboot -f' HUP
/bin/sh -c 'while :; do /bin/sh; done' </dev/console >/dev/console 2>&1 &
while :; do sleep 1 & wait $!; done
"""

INIT_NOTERM = """#!/bin/sh
trap 'reboot -f' HUP
/bin/sh -c 'while :; do /bin/sh; done' </dev/console >/dev/console 2>&1 &
while :; do sleep 1 & wait $!; done
"""

# sysvinit's way: requests on the /dev/initctl FIFO; the runlevel is byte 8 ('0' or '6').
# The FIFO appears already open for reading, so a request never finds it without a reader.
INIT_INITCTL = """#!/bin/sh
/bin/sh -c 'while :; do /bin/sh; done' </dev/console >/dev/console 2>&1 &
mkfifo /dev/.initctl
exec 3<>/dev/.initctl
mv /dev/.initctl /dev/initctl
while :; do
  dd of=/tmp/initreq bs=384 count=1 <&3 2>/dev/null
  case "$(od -An -tx1 -j8 -N1 /tmp/initreq)" in
    *30*) exit 0 ;;
    *36*) reboot -f ;;
  esac
done
"""


# ---------------------------------------------------------------- helpers

def make_rootfs(path):
    """A busybox root filesystem: 2 MB, built in a few milliseconds."""
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root"):
        (path / d).mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, path / "bin" / "busybox")
    subprocess.run(["chroot", str(path), "/bin/busybox", "--install", "-s"], check=True)
    (path / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (path / "etc" / "group").write_text("root:x:0:\n")
    for name, text in (("svinit", INIT_TERM), ("svinit-noterm", INIT_NOTERM),
                       ("svinit-initctl", INIT_INITCTL)):
        (path / "sbin" / name).write_text(text)
        (path / "sbin" / name).chmod(0o755)
    return path


def container_xml(name, rootfs, init="/sbin/svinit", memory_mib=64, devices="", uuid=None,
                  idmap=""):
    u = "<uuid>%s</uuid>" % uuid if uuid else ""
    return ("<domain type='lxc'><name>%s</name>%s<memory unit='MiB'>%d</memory>"
            "<os><type>exe</type><init>%s</init></os>%s"
            "<devices><filesystem type='mount'><source dir='%s'/><target dir='/'/></filesystem>"
            "%s<console type='pty'/></devices></domain>"
            % (name, u, memory_mib, init, idmap and "<idmap>%s</idmap>" % idmap, rootfs,
               devices))


# The container's root is uid and gid 100000 on the host (test-guests.md: user namespaces).
IDMAP_BASE = 100000
IDMAP = ("<uid start='0' target='100000' count='65536'/>"
         "<gid start='0' target='100000' count='65536'/>")


def chown_tree(path, uid, gid):
    """chown -R, links included (busybox's applets are symlinks)."""
    os.lchown(path, uid, gid)
    for top, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(os.path.join(top, n), uid, gid)


def proc_ids(pid):
    """Uid, Gid and Groups of /proc/PID/status."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                out[key] = value.split()
    return out


def mountinfo(root):
    """The host's mounts, without the ids that change from one read to the next, nor the
    mounts under another test's private root, nor the network namespaces of
    test_qemu_net.py's fixture (/run/netns/svnet-*, which virtlxcd never makes): tests of
    other checkouts and builds may run on this host at the same time (their roots are
    siblings of root, /tmp/sv.*)."""
    def foreign(point):
        p = Path(point)
        if p.parent == NETNS_DIR and p.name.startswith(NETNS_PREFIX):
            return True
        if p == root or root in p.parents or root.parent not in p.parents:
            return False
        return p.relative_to(root.parent).parts[0].startswith("sv.")
    with open("/proc/self/mountinfo") as f:
        return sorted(" ".join(line.split()[3:]) for line in f if not foreign(line.split()[4]))


def cgroup_parent(root):
    return "splitvirt-" + hashlib.sha256(str(root).encode()).hexdigest()[:12]


def cgroup_dirs(root):
    """Every directory of this daemon's cgroup parent, in every hierarchy."""
    parent = cgroup_parent(root)
    return sorted(str(p) for p in CGROUP_MOUNT.glob("*/" + parent) if p.is_dir())


def cgroup_of(pid, controller):
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if controller in ctrls.split(","):
                return CGROUP_MOUNT / controller / path.lstrip("/")
    raise KeyError(controller)


def processes_of(root):
    """Supervisors (their --socket is under root) and container processes (their cgroup is
    under the daemon's cgroup parent) still alive."""
    parent = "/" + cgroup_parent(root) + "/"
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open("/proc/%s/cgroup" % entry) as f:
                cg = f.read()
            with open("/proc/%s/stat" % entry) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue  # this host's PID 1 reaps orphans lazily; a zombie is gone already
        if ("virtlxcd-supervisor" in cmd and str(root) in cmd) or parent in cg:
            found.append((int(entry), cmd.strip()))
    return found


def wait_until(pred, timeout=10.0, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def wait_handler(pid, sig=signal.SIGTERM):
    """Wait until init has a handler for sig: until then, the kernel drops that signal when
    it comes from outside the container (an init script installs its traps a moment after
    it starts)."""
    def caught():
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (sig - 1)))
        return False
    assert wait_until(caught), "init %d never caught signal %d" % (pid, sig)


def ignores(pid, sig):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("SigIgn:"):
                return bool(int(line.split()[1], 16) & (1 << (sig - 1)))
    return False


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---------------------------------------------------------------- events

_loop_lock = threading.Lock()
_loop_started = False


def ensure_event_loop():
    """libvirt's default event loop, run by one thread for the whole session (the one of
    guests.py when it exists, so that a single loop serves every test module)."""
    global _loop_started
    with _loop_lock:
        if _loop_started:
            return
        try:
            from guests import ensure_event_loop as shared
        except Exception:
            shared = None
        if shared is not None:
            shared()
        else:
            libvirt.virEventRegisterDefaultImpl()

            def run():
                while True:
                    libvirt.virEventRunDefaultImpl()

            threading.Thread(target=run, name="libvirt-event-loop", daemon=True).start()
        _loop_started = True


class Events:
    """Every LIFECYCLE (as (event, detail)) and REBOOT event one connection receives."""

    def __init__(self, uri):
        ensure_event_loop()
        self.conn = libvirt.open(uri)
        self.cond = threading.Condition()
        self.log = []
        self.ids = [
            self.conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                             self._lifecycle, None),
            self.conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                             self._reboot, None),
        ]

    def _lifecycle(self, conn, dom, event, detail, opaque):
        with self.cond:
            self.log.append((dom.name(), event, detail))
            self.cond.notify_all()

    def _reboot(self, conn, dom, opaque):
        with self.cond:
            self.log.append((dom.name(), REBOOT))
            self.cond.notify_all()

    def wait_for(self, n, timeout=EVENT_TIMEOUT):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.log) < n and time.monotonic() < deadline:
                self.cond.wait(max(0.0, deadline - time.monotonic()))
            return list(self.log)

    def settle(self, n, quiet=0.3):
        """Every event, once n have arrived and no further one follows for a moment."""
        self.wait_for(n)
        time.sleep(quiet)
        with self.cond:
            return list(self.log)

    def close(self):
        for i in self.ids:
            try:
                self.conn.domainEventDeregisterAny(i)
            except libvirt.libvirtError:
                pass
        self.conn.close()


# ---------------------------------------------------------------- console

class Console:
    """`virsh console NAME` under a pseudo-terminal, as a person would run it."""

    def __init__(self, uri, name):
        self.buf = b""
        self.prompted = False
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["LC_ALL"] = "C"
            os.execvp("virsh", ["virsh", "-c", uri, "console", name])
        assert self.read_until(b"Escape character is"), self.text()

    def wait_prompt(self, timeout=CONSOLE_TIMEOUT):
        """Press Enter until the container's shell shows its prompt: typing before the
        shell reads the terminal could be lost."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = len(self.buf)
            os.write(self.fd, b"\r")
            if self.read_until(b"# ", 0.5, start=n):
                return
        raise AssertionError("no shell prompt on the console:\n" + self.text())

    def text(self):
        return self.buf.decode(errors="replace")

    def read_until(self, pattern, timeout=CONSOLE_TIMEOUT, start=0):
        """Read until the bytes or regex `pattern` shows up after offset `start`; FALSE on
        timeout or end of file."""
        deadline = time.monotonic() + timeout
        found = (lambda: pattern in self.buf[start:]) if isinstance(pattern, bytes) else \
            (lambda: pattern.search(self.buf, start) is not None)
        while not found() and time.monotonic() < deadline:
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                self.buf += data
        return found()

    def run(self, command):
        """Run a shell command on the container's console and return its output."""
        if not self.prompted:
            self.wait_prompt()
            self.prompted = True
        n = len(self.buf)
        os.write(self.fd, b"echo S$((40+2))S; %s; echo E$((40+3))E\r" % command.encode())
        assert self.read_until(re.compile(rb"E43E\r?\n"), start=n), self.text()
        out = self.buf[n:]
        start = out.index(b"S42S") + len(b"S42S")
        return out[start:out.index(b"E43E")].decode(errors="replace").replace("\r", "").strip()

    def close(self):
        """Leave with the escape key; virsh finishes the stream and exits 0."""
        try:
            os.write(self.fd, b"\x1d")
        except OSError:
            pass
        return self.wait()

    def wait(self, timeout=CONSOLE_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.read_until(b"\0never\0", 0.05)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)
        raise AssertionError("virsh console did not exit:\n" + self.text())


# ---------------------------------------------------------------- the fixture

class Lxc:
    """One virtlxcd under the test's root, with helpers; `finish` checks that nothing of any
    container is left."""

    def __init__(self, daemons, root):
        self.daemons = daemons
        self.root = root
        self.daemon = None
        self.n = 0
        self.mounts_before = mountinfo(root)
        self.events = []

    # daemons

    def start_daemon(self, **kw):
        self.n += 1
        kw.setdefault("config", CONFIG)
        self.daemon = self.daemons.start(name="virtlxcd", label="virtlxcd-%d" % self.n, **kw)
        return self.daemon

    @property
    def uri(self):
        return "lxc+unix:///system?socket=%s" % self.daemon.sock

    def open(self):
        return libvirt.open(self.uri)

    def watch(self):
        ev = Events(self.uri)
        self.events.append(ev)
        return ev

    def virsh(self, *args, check=True):
        env = dict(os.environ, LC_ALL="C")
        env.pop("LIBVIRT_DEFAULT_URI", None)
        r = subprocess.run(["timeout", "-k", "5", str(VIRSH_TIMEOUT), "virsh", "-c", self.uri]
                           + list(args), capture_output=True, text=True, env=env,
                           stdin=subprocess.DEVNULL)
        assert r.returncode != 124, "virsh %s timed out:\n%s" % (" ".join(args), r.stderr)
        if check:
            assert r.returncode == 0, "virsh %s failed (%d):\n%s" % (" ".join(args),
                                                                     r.returncode, r.stderr)
        return r

    def console(self, name):
        return Console(self.uri, name)

    # containers

    def rootfs(self, name):
        return make_rootfs(self.root / ("rootfs-" + name))

    def xml(self, name, **kw):
        return container_xml(name, self.rootfs(name), **kw)

    def status(self, name):
        return self.root / "run" / "libvirt" / "lxc" / ("%s.xml" % name)

    def init_pid(self, name, other_than=None, timeout=5.0):
        """The host PID of the container's init, from its status file (written just after
        the state changes, so it may take a moment; after a reboot, pass the old one)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                m = re.search(r"<init pid='(\d+)'", self.status(name).read_text())
            except FileNotFoundError:
                m = None
            if m and int(m.group(1)) > 1 and int(m.group(1)) != other_than:
                return int(m.group(1))
            assert time.monotonic() < deadline, "no init pid in the status file of " + name
            time.sleep(0.01)

    # after the test

    def cleanup(self):
        """Destroy what still runs, through the daemon when there is one, else by force."""
        for ev in self.events:
            try:
                ev.close()
            except libvirt.libvirtError:
                pass
        if self.daemon is not None and self.daemon.alive():
            try:
                c = self.open()
                for dom in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                    try:
                        dom.destroy()
                    except libvirt.libvirtError:
                        pass
                c.close()
            except libvirt.libvirtError:
                pass
        wait_until(lambda: not processes_of(self.root), timeout=5)
        for pid, _ in processes_of(self.root):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        wait_until(lambda: not processes_of(self.root), timeout=5)
        for d in sorted(cgroup_dirs(self.root), key=len, reverse=True):
            for sub in sorted(Path(d).glob("**/"), key=lambda p: len(str(p)), reverse=True):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass

    def leftovers(self):
        """What of the containers is still there, as readable lines."""
        out = ["process %d: %s" % p for p in processes_of(self.root)]
        out += ["cgroup %s" % d for d in cgroup_dirs(self.root)]
        run = self.root / "run" / "libvirt" / "lxc"
        if run.exists():
            out += ["file %s" % p for p in run.iterdir() if p.suffix in (".xml", ".sock")]
        if mountinfo(self.root) != self.mounts_before:
            out.append("the host's mounts changed: %s"
                       % sorted(set(mountinfo(self.root)) ^ set(self.mounts_before)))
        logs = self.root / "var" / "log" / "libvirt" / "lxc"
        for log in logs.glob("*.log") if logs.exists() else []:
            text = log.read_text(errors="replace")
            out += ["%s: %r" % (log.name, m) for m in SANITIZER_MARKERS if m in text]
        return out


@pytest.fixture
def lxc(daemons, root):
    if not (build_dir() / "src" / "virtlxcd" / "virtlxcd").exists():
        pytest.skip("virtlxcd not built")
    x = Lxc(daemons, root)
    try:
        yield x
    finally:
        x.cleanup()
    problems = x.leftovers()
    if problems:
        pytest.fail("left behind by the containers:\n  " + "\n  ".join(problems), pytrace=False)


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as exc:
        fn(*args)
    e = exc.value
    return e.get_error_code(), e.get_error_domain(), str(e)


# ---------------------------------------------------------------- connection

def test_connection_uri_and_sockets(lxc):
    d = lxc.start_daemon()
    for p in (d.sock, d.sock_ro, d.sock_admin):
        assert p.exists()
    assert [p.name for p in (d.sock, d.sock_ro, d.sock_admin)] == [
        "virtlxcd-sock", "virtlxcd-sock-ro", "virtlxcd-admin-sock"]
    c = lxc.open()
    try:
        assert c.getType() == "LXC"
        assert c.getURI() == lxc.uri
        assert c.getVersion() > 0
        caps = c.getCapabilities()
        assert "<os_type>exe</os_type>" in caps and "<domain type='lxc'/>" in caps
    finally:
        c.close()
    assert error_of(libvirt.open, "lxc+unix:///bogus?socket=%s" % d.sock) == (
        libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_LXC,
        "internal error: Unexpected LXC URI path '/bogus', try lxc:///system")
    assert error_of(libvirt.open, "qemu+unix:///system?socket=%s" % d.sock) == (
        libvirt.VIR_ERR_NO_CONNECT, libvirt.VIR_FROM_NONE,
        "no connection driver available for qemu:///system")


def test_definitions_refused(lxc):
    lxc.start_daemon()
    c = lxc.open()
    rootfs = lxc.root / "nothing"
    try:
        xml = container_xml("x", rootfs)
        assert error_of(c.defineXML, xml.replace("type='lxc'", "type='kvm'")) == (
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_LXC,
            "unsupported configuration: Emulator '%s' does not support virt type 'kvm'"
            % (build_dir() / "src" / "virtlxcd" / "virtlxcd-supervisor"))
        assert error_of(c.defineXML, xml.replace("<type>exe</type><init>/sbin/svinit</init>",
                                                 "<type>hvm</type>"))[0] == \
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED
        assert error_of(c.defineXML, xml.replace("<init>/sbin/svinit</init>", "")) == (
            libvirt.VIR_ERR_XML_ERROR, libvirt.VIR_FROM_DOMAIN,
            "XML error: init binary must be specified")
        # CPU and tuning elements a container would not get: refused, not dropped.
        assert error_of(c.defineXML, xml.replace(
            "</domain>", "<cputune><emulatorpin cpuset='0'/></cputune></domain>")) == (
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_LXC,
            "unsupported configuration: <cputune> is not supported by the LXC driver")
        dom = c.defineXML(xml.replace("<console type='pty'/>", ""))
        assert error_of(dom.create) == (
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_LXC,
            "unsupported configuration: At least one PTY console is required")
        assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, 0]
        dom.undefine()
        assert error_of(c.lookupByName, "x") == (
            libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_FROM_LXC,
            "Domain not found: No domain with matching name 'x'")
    finally:
        c.close()


# ---------------------------------------------------------------- a container's life

def test_lifecycle_with_virsh_console_and_events(lxc):
    lxc.start_daemon()
    ev = lxc.watch()
    xml_path = lxc.root / "web.xml"
    xml_path.write_text(lxc.xml("web", memory_mib=48))
    lxc.virsh("define", str(xml_path))
    lxc.virsh("start", "web")
    out = lxc.virsh("list", "--all").stdout
    assert re.search(r"^\s*\d+\s+web\s+running\s*$", out, re.M), out
    init = lxc.init_pid("web")
    assert alive(init)

    # Limits are the cgroup's.
    mem = cgroup_of(init, "memory")
    assert mem.name == "web.libvirt-lxc" and mem.parent.name == cgroup_parent(lxc.root)
    assert (mem / "memory.limit_in_bytes").read_text().strip() == str(48 * 1024 * 1024)
    frz = cgroup_of(init, "freezer")

    con = lxc.console("web")
    try:
        ps = con.run("ps")
        assert re.search(r"^\s*1\s+\S+\s+.*svinit", ps, re.M), ps
        assert con.run("hostname") == "web"
        assert con.run("cat /proc/self/mountinfo | wc -l").isdigit()
        # init's stdio is the console, and /dev/console is the pty libvirt reports.
        dumped = lxc.virsh("dumpxml", "web").stdout
        tty = re.search(r"<console type='pty' tty='(/dev/pts/\d+)'>", dumped).group(1)
        assert con.run("readlink /proc/1/fd/0") == "/dev/console"
        assert tty.startswith("/dev/pts/")
    finally:
        assert con.close() == 0

    lxc.virsh("suspend", "web")
    assert lxc.virsh("domstate", "--reason", "web").stdout.strip() == "paused (user)"
    assert (frz / "freezer.state").read_text().strip() in ("FROZEN", "FREEZING")
    lxc.virsh("suspend", "web")  # already paused: no error, no event
    lxc.virsh("resume", "web")
    assert (frz / "freezer.state").read_text().strip() == "THAWED"
    r = lxc.virsh("resume", "web", check=False)
    assert "domain is already running" in r.stderr

    # Reboot: SIGHUP, the script's reboot -f, init ends with SIGHUP and starts again.
    wait_handler(init, signal.SIGHUP)
    lxc.virsh("reboot", "web")
    assert wait_until(lambda: not alive(init))
    init = lxc.init_pid("web", other_than=init)
    con = lxc.console("web")
    try:
        assert con.run("echo back") == "back"
    finally:
        assert con.close() == 0

    wait_handler(init, signal.SIGTERM)
    lxc.virsh("shutdown", "web")
    assert wait_until(lambda: lxc.virsh("domstate", "--reason", "web").stdout.strip()
                      == "shut off (shutdown)")
    assert not alive(init)
    assert cgroup_dirs(lxc.root) == []
    assert mountinfo(lxc.root) == lxc.mounts_before

    lxc.virsh("start", "web")
    lxc.virsh("destroy", "web")
    assert lxc.virsh("domstate", "--reason", "web").stdout.strip() == "shut off (destroyed)"
    lxc.virsh("undefine", "web")
    assert ev.settle(9) == [
        ("web", DEFINED, ADDED), ("web", STARTED, BOOTED), ("web", SUSPENDED, PAUSED),
        ("web", RESUMED, UNPAUSED), ("web", REBOOT), ("web", STOPPED, SHUTDOWN),
        ("web", STARTED, BOOTED), ("web", STOPPED, DESTROYED), ("web", UNDEFINED, REMOVED)]


def test_graceful_destroy_cannot_reach_init_without_handler(lxc):
    lxc.start_daemon()
    ev = lxc.watch()
    c = lxc.open()
    try:
        dom = c.createXML(lxc.xml("stubborn", init="/sbin/svinit-noterm"), 0)
        init = lxc.init_pid("stubborn")
        assert dom.isPersistent() == 0
        # SIGTERM reaches a PID namespace's init only if it has a handler: shutdown does
        # nothing, and a GRACEFUL destroy gives up after graceful_timeout.
        dom.shutdown()
        t0 = time.monotonic()
        with pytest.raises(libvirt.libvirtError) as exc:
            dom.destroyFlags(libvirt.VIR_DOMAIN_DESTROY_GRACEFUL)
        assert 0.7 <= time.monotonic() - t0 < 5
        e = exc.value
        assert (e.get_error_code(), e.get_error_domain(), str(e)) == (
            libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_NONE,
            "Failed to terminate process %d with SIGTERM: Device or resource busy" % init)
        assert e.get_int1() == 16  # EBUSY
        assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED]
        assert alive(init)
        # A plain destroy escalates to SIGKILL, which always arrives.
        dom.destroy()
        assert not alive(init)
        assert error_of(c.lookupByName, "stubborn")[0] == libvirt.VIR_ERR_NO_DOMAIN
        assert ev.settle(2) == [("stubborn", STARTED, BOOTED), ("stubborn", STOPPED, DESTROYED)]
    finally:
        c.close()


def test_joined_destroys_fail_together_and_remove_logs(lxc):
    """Destroys waiting for one container are answered together: two GRACEFUL ones joined on
    an init that ignores SIGTERM both fail with the kill's error and the log stays, though
    REMOVE_LOGS was asked; a later destroy with REMOVE_LOGS removes it once the container
    is gone."""
    lxc.start_daemon()
    c = lxc.open()
    try:
        dom = c.defineXML(lxc.xml("joined", init="/sbin/svinit-noterm"))
        dom.create()
        init = lxc.init_pid("joined")
        log = lxc.root / "var" / "log" / "libvirt" / "lxc" / "joined.log"
        assert log.exists()
        flags = libvirt.VIR_DOMAIN_DESTROY_GRACEFUL | libvirt.VIR_DOMAIN_DESTROY_REMOVE_LOGS
        errors = []

        def destroy():
            conn = lxc.open()
            try:
                errors.append(error_of(conn.lookupByName("joined").destroyFlags, flags))
            finally:
                conn.close()

        threads = [threading.Thread(target=destroy) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(VIRSH_TIMEOUT)
        busy = ("Failed to terminate process %d with SIGTERM: Device or resource busy" % init)
        assert errors == [(libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_NONE, busy)] * 2
        assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED]
        assert alive(init) and log.exists()
        dom.destroyFlags(libvirt.VIR_DOMAIN_DESTROY_REMOVE_LOGS)
        assert not alive(init) and not log.exists()
        assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
    finally:
        c.close()


def test_destroy_paused_container(lxc):
    lxc.start_daemon()
    ev = lxc.watch()
    c = lxc.open()
    try:
        # A frozen container cannot act on any signal: destroy thaws it first. When a
        # GRACEFUL destroy then fails, it is frozen again, as it was.
        dom = c.createXML(lxc.xml("cold", init="/sbin/svinit-noterm"), 0)
        init = lxc.init_pid("cold")
        frz = cgroup_of(init, "freezer")
        dom.suspend()
        assert error_of(dom.destroyFlags, libvirt.VIR_DOMAIN_DESTROY_GRACEFUL)[0] == \
            libvirt.VIR_ERR_SYSTEM_ERROR
        assert dom.state() == [libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER]
        assert (frz / "freezer.state").read_text().strip() in ("FROZEN", "FREEZING")
        dom.destroy()
        assert not alive(init)
        assert ev.settle(3) == [("cold", STARTED, BOOTED), ("cold", SUSPENDED, PAUSED),
                                ("cold", STOPPED, DESTROYED)]
    finally:
        c.close()


def test_killed_from_outside(lxc):
    lxc.start_daemon()
    ev = lxc.watch()
    c = lxc.open()
    try:
        dom = c.defineXML(lxc.xml("victim"))
        dom.create()
        os.kill(lxc.init_pid("victim"), signal.SIGKILL)
        assert ev.wait_for(3)[-1] == ("victim", STOPPED, FAILED)
        assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_CRASHED]
        # The supervisor killed from outside takes its container with it.
        dom.create()
        sup = dom.ID()
        init = lxc.init_pid("victim")
        os.kill(sup, signal.SIGKILL)
        assert ev.wait_for(5)[-1] == ("victim", STOPPED, FAILED)
        assert wait_until(lambda: not alive(init))
        assert ev.settle(5) == [("victim", DEFINED, ADDED), ("victim", STARTED, BOOTED),
                                ("victim", STOPPED, FAILED), ("victim", STARTED, BOOTED),
                                ("victim", STOPPED, FAILED)]
    finally:
        c.close()


def test_start_failures_leave_nothing(lxc):
    lxc.start_daemon()
    c = lxc.open()
    try:
        rootfs = lxc.rootfs("broken")
        dom = c.defineXML(container_xml("broken", rootfs, init="/sbin/nope"))
        assert error_of(dom.create) == (
            libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_LXC,
            "internal error: guest failed to start: cannot find init path '/sbin/nope' "
            "relative to container root: No such file or directory")
        assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_FAILED]
        assert lxc.leftovers() == []
        missing = lxc.root / "no-such-rootfs"
        code, domain, msg = error_of(c.createXML, container_xml("gone", missing), 0)
        assert (code, domain) == (libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_LXC)
        assert msg == ("internal error: guest failed to start: cannot bind mount the root "
                       "filesystem '%s': No such file or directory" % missing)
        assert error_of(c.lookupByName, "gone")[0] == libvirt.VIR_ERR_NO_DOMAIN
        assert lxc.leftovers() == []
        assert (rootfs / "sbin" / "svinit").exists() and not (rootfs / ".oldroot").exists()
    finally:
        c.close()


def test_start_failing_before_its_supervisor_leaves_nothing(lxc):
    """A start that fails once its run has begun but before its supervisor exists (here its
    socket cannot be made: a directory is in the way) ends like every run: the call fails
    with the cause, the domain is SHUTOFF/FAILED with no event, its guest log says only that
    the start began, nothing holds the daemon up (it leaves when idle) and the next start
    works; a transient container goes away."""
    d = lxc.start_daemon(args=["--timeout", "2"])
    run = lxc.root / "run" / "libvirt" / "lxc"
    ev = lxc.watch()
    c = lxc.open()
    blockers = []

    def block(name):
        sock = run / ("%s.sock" % name)
        (sock / "in-the-way").mkdir(parents=True)
        blockers.append(sock)
        return sock

    try:
        dom = c.defineXML(lxc.xml("early"))
        sock = block("early")
        assert error_of(dom.create) == (
            libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_LXC,
            "guest failed to start: Failed to listen on '%s': Address already in use" % sock)
        assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_FAILED]
        assert not dom.isActive() and dom.ID() == -1
        log = (lxc.root / "var" / "log" / "libvirt" / "lxc" / "early.log").read_text()
        assert re.fullmatch(r"\S+ \S+: starting up splitvirt version: \S+, hostname: \S+\n",
                            log), log
        assert not lxc.status("early").exists()
        sock_xml = lxc.xml("gone")
        block("gone")
        assert error_of(c.createXML, sock_xml, 0)[0] == libvirt.VIR_ERR_SYSTEM_ERROR
        assert error_of(c.lookupByName, "gone")[0] == libvirt.VIR_ERR_NO_DOMAIN
        assert ev.settle(1) == [("early", DEFINED, ADDED)]
        for b in blockers:
            shutil.rmtree(b)
        dom.create()
        assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED]
        dom.destroy()
        assert ev.settle(3)[1:] == [("early", STARTED, BOOTED), ("early", STOPPED, DESTROYED)]
    finally:
        for b in blockers:
            shutil.rmtree(b, ignore_errors=True)
        c.close()
    # The domains and the errors' tracebacks hold the connection open until they go.
    del dom
    gc.collect()
    ev.close()
    lxc.events.remove(ev)
    assert d.wait_exit(10) == 0


def test_console_errors(lxc):
    lxc.start_daemon()
    c = lxc.open()
    try:
        dom = c.defineXML(lxc.xml("con"))
        st = c.newStream(0)
        assert error_of(dom.openConsole, None, st, 0) == (
            libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_DOMAIN,
            "Requested operation is not valid: domain is not running")
        dom.create()
        assert error_of(dom.openConsole, None, c.newStream(0), 1) == (
            libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_LXC,
            "unsupported flags (0x1) in function lxcDomainOpenConsole")
        assert error_of(dom.openConsole, "serial0", c.newStream(0), 0) == (
            libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_LXC,
            "internal error: cannot find console device 'serial0'")
        # No exclusive access: two consoles at once, both see the container's output.
        a, b = lxc.console("con"), lxc.console("con")
        try:
            b.wait_prompt()  # b's console is open before a's output comes (see below)
            b.prompted = True
            assert a.run("echo one") == "one"
            # b waits for the whole of a's output (its end marker), not just the first
            # "one", which a's echoed command line already shows.
            assert b.read_until(re.compile(rb"S42S\r?\none\r?\nE43E\r?\n")), b.text()
            assert b.run("echo two") == "two"
        finally:
            assert a.close() == 0 and b.close() == 0
        # A container that ends ends its consoles: virsh sees end of file and exits 0.
        # virsh prints its banner before it opens the console: the shell's prompt shows
        # that the console is open (a destroy before that fails virsh's open, as with
        # libvirt).
        con = lxc.console("con")
        con.wait_prompt()
        dom.destroy()
        assert con.wait() == 0
    finally:
        c.close()


# ---------------------------------------------------------------- durability

def test_daemon_killed_containers_survive_and_reconnect(lxc):
    d = lxc.start_daemon()
    c = lxc.open()
    dom = c.defineXML(lxc.xml("durable"))
    dom.create()
    dom_id = dom.ID()
    init = lxc.init_pid("durable")
    con = lxc.console("durable")
    assert con.run("echo before") == "before"
    c.close()
    d.expected_status = -signal.SIGKILL
    d.send_signal(signal.SIGKILL)
    d.wait_exit(5)
    # The console session ends with the daemon (virsh says so and waits for the escape
    # key); the container does not notice.
    assert con.read_until(b"Disconnected from")
    con.close()
    time.sleep(0.3)
    assert alive(init)
    assert lxc.status("durable").exists()

    lxc.start_daemon()
    ev = lxc.watch()
    c = lxc.open()
    try:
        dom = c.lookupByName("durable")
        assert dom.ID() == dom_id
        assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED]
        out = lxc.virsh("list").stdout
        assert re.search(r"^\s*%d\s+durable\s+running" % dom_id, out, re.M), out
        con = lxc.console("durable")
        try:
            assert con.run("echo after") == "after"
            assert re.search(r"^\s*1\s+\S+\s+.*svinit", con.run("ps"), re.M)
        finally:
            assert con.close() == 0
        dom.suspend()
        dom.resume()
        dom.destroy()
        assert not alive(init)
        assert ev.settle(3) == [("durable", SUSPENDED, PAUSED), ("durable", RESUMED, UNPAUSED),
                                ("durable", STOPPED, DESTROYED)]
    finally:
        c.close()


def test_idle_exit_held_while_containers_run(lxc):
    d = lxc.start_daemon(args=["--timeout", "1"])
    c = lxc.open()
    c.createXML(lxc.xml("idle"), 0)
    c.close()
    # A running container holds the daemon up with no client connected...
    time.sleep(2.0)
    assert d.alive()
    c = lxc.open()
    c.lookupByName("idle").destroy()
    c.close()
    # ...and once it is gone, the daemon leaves.
    assert d.wait_exit(5) == 0


def test_autostart_once_per_boot(lxc):
    marker = lxc.root / "run" / "libvirt" / "lxc" / "autostarted"
    d = lxc.start_daemon()
    c = lxc.open()
    try:
        dom = c.defineXML(lxc.xml("auto"))
        dom.setAutostart(1)
        dom.create()
        first = lxc.init_pid("auto")
        c.close()
        c = None
        d.stop()
        # A new boot of the host (ROOT/run is gone there), but the container still runs:
        # it is reconnected, not started twice.
        marker.unlink()
        lxc.start_daemon()
        c = lxc.open()
        dom = c.lookupByName("auto")
        assert dom.isActive() and lxc.init_pid("auto") == first
        dom.destroy()
        c.close()
        c = None
        lxc.daemon.stop()
        marker.unlink()
        lxc.start_daemon()
        c = lxc.open()
        dom = c.lookupByName("auto")
        assert dom.isActive(), "not autostarted after a new boot"
        assert lxc.init_pid("auto") != first
        dom.destroy()
        c.close()
        c = None
        # The same boot, the daemon restarted: no second autostart.
        lxc.daemon.stop()
        lxc.start_daemon()
        c = lxc.open()
        assert not c.lookupByName("auto").isActive()
    finally:
        if c is not None:
            c.close()


def test_initctl_shutdown_and_reboot(lxc):
    lxc.start_daemon()
    ev = lxc.watch()
    c = lxc.open()
    try:
        dom = c.defineXML(lxc.xml("sysv", init="/sbin/svinit-initctl"))
        dom.create()
        init = lxc.init_pid("sysv")
        assert wait_until(lambda: os.path.exists("/proc/%d/root/dev/initctl" % init))
        dom.reboot(libvirt.VIR_DOMAIN_REBOOT_INITCTL)
        assert ev.wait_for(3)[-1] == ("sysv", REBOOT)
        init = lxc.init_pid("sysv", other_than=init)
        assert wait_until(lambda: os.path.exists("/proc/%d/root/dev/initctl" % init))
        dom.shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_INITCTL)
        assert ev.wait_for(4)[-1] == ("sysv", STOPPED, SHUTDOWN)
        assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
        # Without a FIFO, asking for initctl alone fails; the default falls back to SIGTERM.
        other = c.createXML(lxc.xml("plain"), 0)
        wait_handler(lxc.init_pid("plain"))
        assert error_of(other.shutdownFlags, libvirt.VIR_DOMAIN_SHUTDOWN_INITCTL) == (
            libvirt.VIR_ERR_OPERATION_UNSUPPORTED, libvirt.VIR_FROM_LXC,
            "Operation not supported: Container does not provide an initctl pipe")
        assert error_of(other.shutdownFlags, libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN) == (
            libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_LXC,
            "unsupported flags (0x1) in function lxcDomainShutdownFlags")
        other.shutdown()
        assert ev.settle(6) == [("sysv", DEFINED, ADDED), ("sysv", STARTED, BOOTED),
                                ("sysv", REBOOT), ("sysv", STOPPED, SHUTDOWN),
                                ("plain", STARTED, BOOTED), ("plain", STOPPED, SHUTDOWN)]
    finally:
        c.close()


def test_autodestroy_when_client_leaves(lxc):
    lxc.start_daemon()
    ev = lxc.watch()
    c = lxc.open()
    c.createXML(lxc.xml("temp"), libvirt.VIR_DOMAIN_START_AUTODESTROY)
    init = lxc.init_pid("temp")
    c.close()
    assert ev.settle(2) == [("temp", STARTED, BOOTED), ("temp", STOPPED, DESTROYED)]
    assert not alive(init)


# ---------------------------------------------------------------- network and proxy

def test_ethernet_interfaces_in_private_netns(lxc):
    if not shutil.which("unshare") or not shutil.which("nsenter") or not shutil.which("ip"):
        pytest.skip("needs unshare, nsenter and ip")
    d = lxc.start_daemon(wrapper=["unshare", "-n"])
    devices = ("<interface type='ethernet'><mac address='52:54:00:aa:bb:01'/>"
               "<target dev='svveth0'/></interface><interface type='ethernet'/>")
    c = lxc.open()
    try:
        dom = c.createXML(lxc.xml("net", devices=devices), 0)
        live = dom.XMLDesc(0)
        auto = re.findall(r"<target dev='([^']+)'/>", live)
        assert auto[0] == "svveth0" and auto[1].startswith("veth")
        macs = re.findall(r"<mac address='([^']+)'/>", live)
        assert macs[0] == "52:54:00:aa:bb:01" and macs[1].startswith("52:54:00:")

        def daemon_links():
            r = subprocess.run(["nsenter", "-t", str(d.pid), "-n", "ip", "-o", "link"],
                               capture_output=True, text=True, check=True)
            return r.stdout

        links = daemon_links()
        assert "svveth0@" in links and auto[1] + "@" in links
        # The host's own namespace never sees them.
        host = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        assert "svveth0" not in host
        con = lxc.console("net")
        try:
            assert con.run("ls /sys/class/net").split() == ["eth0", "eth1", "lo"]
            assert con.run("cat /sys/class/net/eth0/address") == "52:54:00:aa:bb:01"
            assert con.run("cat /sys/class/net/eth1/address") == macs[1]
            assert "UP" in con.run("ip -o link show eth0")
        finally:
            assert con.close() == 0
        dom.destroy()
        assert wait_until(lambda: "svveth0" not in daemon_links())
    finally:
        c.close()


def test_through_virtproxyd(lxc):
    proxy = build_dir() / "src" / "virtproxyd" / "virtproxyd"
    if not proxy.exists():
        pytest.skip("virtproxyd not built")
    lxc.start_daemon()
    sock = lxc.root / "run" / "libvirt" / "libvirt-sock"
    lxc.daemons.start(name="virtproxyd", label="virtproxyd", ready_path=sock)
    c = libvirt.open("lxc+unix:///system?socket=%s" % sock)
    try:
        assert c.getType() == "LXC"
        dom = c.createXML(lxc.xml("viaproxy"), 0)
        assert [d.name() for d in c.listAllDomains(0)] == ["viaproxy"]
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        dom.destroy()
        assert c.listAllDomains(0) == []
    finally:
        c.close()


# ---------------------------------------------------------------- user namespaces

def test_idmap_user_namespace(lxc):
    if not shutil.which("setpriv"):
        pytest.skip("needs setpriv")
    # Supplementary groups the container must not inherit (it could not drop them itself:
    # setgroups() is denied in its namespace).
    d = lxc.start_daemon(wrapper=["setpriv", "--groups", "4,27"])
    assert proc_ids(d.pid)["Groups"] == ["4", "27"]
    ev = lxc.watch()
    # The mapped root must reach its root filesystem: the test's private root is 0700.
    lxc.root.chmod(0o711)
    rootfs = lxc.rootfs("userns")
    chown_tree(rootfs, IDMAP_BASE, IDMAP_BASE)
    # A read-only filesystem from a nosuid,nodev,noexec mount: in a user namespace those
    # flags are locked, so making the bind read-only must keep them.
    shared = lxc.root / "shared"
    shared.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "nosuid,nodev,noexec,size=1m", "svshared",
                    str(shared)], check=True)
    mounts = mountinfo(lxc.root)
    c = None
    try:
        c = lxc.open()
        (shared / "hello").write_text("hi\n")
        devices = ("<filesystem type='mount' accessmode='passthrough'><source dir='%s'/>"
                   "<target dir='/mnt/shared'/><readonly/></filesystem>" % shared)
        dom = c.defineXML(container_xml("userns", rootfs, idmap=IDMAP, devices=devices))
        assert "<uid start='0' target='100000' count='65536'/>" in dom.XMLDesc(0)
        dom.create()
        init = lxc.init_pid("userns")
        # On the host, the container's root is uid and gid 100000, with no other group.
        ids = proc_ids(init)
        assert ids["Uid"] == [str(IDMAP_BASE)] * 4 and ids["Gid"] == [str(IDMAP_BASE)] * 4
        assert ids["Groups"] == []
        with open("/proc/%d/uid_map" % init) as f:
            assert f.read().split() == ["0", str(IDMAP_BASE), "65536"]
        assert os.readlink("/proc/%d/ns/user" % init) != os.readlink("/proc/self/ns/user")

        con = lxc.console("userns")
        try:
            assert con.run("cat /proc/self/uid_map").split() == ["0", "100000", "65536"]
            assert con.run("cat /proc/self/gid_map").split() == ["0", "100000", "65536"]
            assert con.run("cat /proc/self/setgroups") == "deny"
            assert con.run("id -u") == "0"
            assert con.run("id -g") == "0"
            assert con.run("id -G") == "0"
            assert con.run("hostname") == "userns"
            assert re.search(r"^\s*1\s+\S+\s+.*svinit", con.run("ps"), re.M)
            # /dev is bind mounts of the host's nodes; mknod is the kernel's to refuse.
            assert con.run("echo gone > /dev/null && head -c 4 /dev/zero | wc -c") == "4"
            assert "Operation not permitted" in con.run("mknod /tmp/null c 1 3 2>&1")
            assert con.run("readlink /proc/1/fd/0") == "/dev/console"
            assert con.run("stat -c %u:%g /dev/console") == "0:0"
            # What the container's root writes belongs to uid 100000 outside.
            con.run("touch /root/made-inside")
            assert con.run("cat /mnt/shared/hello") == "hi"
            assert "Read-only file system" in con.run("touch /mnt/shared/no 2>&1")
            opts = con.run("grep ' /mnt/shared ' /proc/mounts").split()[3].split(",")
            assert {"ro", "nosuid", "nodev", "noexec"} <= set(opts), opts
        finally:
            assert con.close() == 0
        st = os.stat(rootfs / "root" / "made-inside")
        assert (st.st_uid, st.st_gid) == (IDMAP_BASE, IDMAP_BASE)

        # A reboot starts init again in a new user namespace with the same maps.
        wait_handler(init, signal.SIGHUP)
        dom.reboot(0)
        assert wait_until(lambda: not alive(init))
        init = lxc.init_pid("userns", other_than=init)
        assert proc_ids(init)["Uid"] == [str(IDMAP_BASE)] * 4
        con = lxc.console("userns")
        try:
            assert con.run("id -u") == "0"
        finally:
            assert con.close() == 0

        wait_handler(init, signal.SIGTERM)
        dom.shutdown()
        assert wait_until(lambda: dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF,
                                                  libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN])
        assert not alive(init)
        assert processes_of(lxc.root) == []
        assert cgroup_dirs(lxc.root) == []
        assert mountinfo(lxc.root) == mounts

        dom.create()
        init = lxc.init_pid("userns")
        assert proc_ids(init)["Uid"] == [str(IDMAP_BASE)] * 4
        dom.destroy()
        assert not alive(init)
        assert processes_of(lxc.root) == []
        assert cgroup_dirs(lxc.root) == []
        assert mountinfo(lxc.root) == mounts
        assert not (rootfs / ".oldroot").exists()

        assert ev.settle(6) == [
            ("userns", DEFINED, ADDED), ("userns", STARTED, BOOTED), ("userns", REBOOT),
            ("userns", STOPPED, SHUTDOWN), ("userns", STARTED, BOOTED),
            ("userns", STOPPED, DESTROYED)]
        ev.close()
        lxc.events.remove(ev)

        # Becoming root in its namespace cleared init's parent-death signal; it was set
        # again: with no daemon around to clean up, the supervisor killed from outside still
        # takes the container with it, even an init that ignores the console's hangup.
        nohup = rootfs / "sbin" / "svinit-nohup"
        nohup.write_text(INIT_TERM.replace("trap 'reboot -f' HUP", "trap '' HUP"))
        nohup.chmod(0o755)
        os.lchown(nohup, IDMAP_BASE, IDMAP_BASE)
        dom = c.defineXML(container_xml("userns", rootfs, init="/sbin/svinit-nohup",
                                        idmap=IDMAP, devices=devices, uuid=dom.UUIDString()))
        dom.create()
        init = lxc.init_pid("userns")
        assert wait_until(lambda: ignores(init, signal.SIGHUP))
        supervisor = dom.ID()
        c.close()
        c = None
        d.expected_status = -signal.SIGKILL
        d.send_signal(signal.SIGKILL)
        d.wait_exit(5)
        os.kill(supervisor, signal.SIGKILL)
        assert wait_until(lambda: not alive(init))
        assert wait_until(lambda: processes_of(lxc.root) == [])
        # The next daemon finds it gone and clears what is left.
        lxc.start_daemon()
        c = lxc.open()
        dom = c.lookupByName("userns")
        assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        assert cgroup_dirs(lxc.root) == []
        assert mountinfo(lxc.root) == mounts
        dom.undefine()
        assert not (shared / "no").exists()
    finally:
        if c is not None:
            c.close()
        # The container's copy of the mount is in its own namespace: this never waits for it.
        subprocess.run(["umount", str(shared)], check=True)


def test_idmap_refused(lxc):
    lxc.start_daemon()
    rootfs = lxc.rootfs("maps")
    c = lxc.open()

    def refused_at_start(name, idmap):
        dom = c.defineXML(container_xml(name, rootfs, idmap=idmap))
        try:
            err = error_of(dom.create)
            assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, 0]
            assert lxc.leftovers() == []
            return err
        finally:
            dom.undefine()

    try:
        # The parser wants both maps, and uid and gid 0 mapped.
        assert error_of(c.defineXML, container_xml(
            "x", rootfs, idmap="<uid start='1' target='100001' count='10'/>"
                               "<gid start='0' target='100000' count='10'/>")) == (
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_DOMAIN,
            "unsupported configuration: You must map the root user of container")
        assert error_of(c.defineXML, container_xml(
            "x", rootfs, idmap="<uid start='0' target='100000' count='10'/>")) == (
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_DOMAIN,
            "unsupported configuration: uid and gid should be mapped both")
        # What the kernel would refuse in a map is refused at start, before anything runs.
        assert refused_at_start("count", "<uid start='0' target='100000' count='0'/>"
                                         "<gid start='0' target='100000' count='65536'/>") == (
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_LXC,
            "unsupported configuration: Invalid <idmap> uid range start='0' target='100000' "
            "count='0': it maps no ids")
        assert refused_at_start("overlap", "<uid start='0' target='100000' count='65536'/>"
                                           "<uid start='100' target='300000' count='10'/>"
                                           "<gid start='0' target='100000' count='65536'/>") == (
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_LXC,
            "unsupported configuration: <idmap> uid ranges overlap inside the container: "
            "start='0' count='65536' and start='100' count='10'")
        assert refused_at_start("hostoverlap", "<uid start='0' target='100000' count='65536'/>"
                                               "<gid start='0' target='100000' count='10'/>"
                                               "<gid start='10' target='100005' count='10'/>") == (
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_LXC,
            "unsupported configuration: <idmap> gid ranges overlap on the host: "
            "target='100000' count='10' and target='100005' count='10'")
        # The mapped root must own the root filesystem...
        assert refused_at_start("owner", IDMAP) == (
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_LXC,
            "unsupported configuration: The root filesystem '%s' must be owned by uid 100000, "
            "the container's root user on the host (<idmap>), not by uid 0" % rootfs)
        # ...and reach it: here the test's private root (0700) stands in the way.
        chown_tree(rootfs, IDMAP_BASE, IDMAP_BASE)
        dom = c.defineXML(container_xml("reach", rootfs, idmap=IDMAP))
        assert error_of(dom.create) == (
            libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_LXC,
            "internal error: guest failed to start: cannot bind mount the root filesystem "
            "'%s': Permission denied (with <idmap>, the container's root is uid 100000 on the "
            "host: its root filesystem, the directories above it and the sources of its "
            "filesystems must be accessible to that uid)" % rootfs)
        assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_FAILED]
        assert lxc.leftovers() == []
        # Once it can, it starts; with maps of several ranges too.
        lxc.root.chmod(0o711)
        ranges = ("<uid start='0' target='100000' count='1000'/>"
                  "<uid start='1000' target='101000' count='64536'/>"
                  "<gid start='0' target='100000' count='5'/>"
                  "<gid start='5' target='200005' count='1'/>"
                  "<gid start='6' target='100006' count='65530'/>")
        dom = c.defineXML(container_xml("reach", rootfs, idmap=ranges, uuid=dom.UUIDString()))
        dom.create()
        init = lxc.init_pid("reach")
        with open("/proc/%d/uid_map" % init) as f:
            assert [line.split() for line in f] == [["0", "100000", "1000"],
                                                    ["1000", "101000", "64536"]]
        with open("/proc/%d/gid_map" % init) as f:
            assert [line.split() for line in f] == [["0", "100000", "5"], ["5", "200005", "1"],
                                                    ["6", "100006", "65530"]]
        dom.destroy()
        dom.undefine()
    finally:
        c.close()



def test_log_says_who_asked(lxc):
    lxc.start_daemon()
    ev = lxc.watch()
    c = lxc.open()
    try:
        dom = c.defineXML(lxc.xml("who"))
        dom.create()
        dom.suspend()
        dom.resume()
        os.kill(lxc.init_pid("who"), signal.SIGKILL)
        assert ev.wait_for(5)[-1] == ("who", STOPPED, FAILED)
        dom.create()
        dom.destroy()
        assert ev.wait_for(7)[-1] == ("who", STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
    finally:
        c.close()
    me = r"client \d+ \(uid %d, pid %d\) " % (os.getuid(), os.getpid())
    expected = [
        (r"shutoff/\d+", r"paused/\d+", me + "virDomainCreate"),
        (r"paused/\d+", "running/1", me + "virDomainCreate"),
        ("running/1", "paused/1", me + "virDomainSuspend"),
        ("paused/1", "running/5", me + "virDomainResume"),
        ("running/5", "shutoff/3", r"the container \(init killed by signal 9\)"),
        (r"shutoff/3", r"paused/\d+", me + "virDomainCreate"),
        (r"paused/\d+", "running/1", me + "virDomainCreate"),
        ("running/1", "shutoff/2", me + "virDomainDestroy"),
    ]
    assert_transitions(lxc.daemon, "who", expected)


def test_console_output_waits_for_a_slow_client(lxc):
    """A client that stops reading its console: the daemon stops reading the container's
    pty once 1 MiB is queued to it, goes on when the client has caught up, and nothing is
    lost; other clients are served meanwhile."""
    lxc.start_daemon()
    c = lxc.open()
    try:
        c.defineXML(lxc.xml("chatty")).create()
        con = lxc.console("chatty")
        try:
            con.wait_prompt()
            con.prompted = True
            n = len(con.buf)
            size = 3 * 1024 * 1024
            os.write(con.fd, b"head -c %d /dev/zero | tr '\\0' x; echo; echo E$((40+3))E\r" % size)
            time.sleep(2)  # not reading: the stream backs up to the daemon
            assert c.lookupByName("chatty").isActive() == 1  # others are served
            assert con.read_until(re.compile(rb"E43E\r?\n"), start=n), con.text()[-500:]
            out = con.buf[n:]
            out = out[out.index(b"\n") + 1:]  # past the echoed command
            assert out.count(b"x") == size
        finally:
            assert con.close() == 0
        c.lookupByName("chatty").destroy()
    finally:
        c.close()


# ---------------------------------------------------------------- hostile root filesystems

def fs_xml(source, target, readonly=False):
    return ("<filesystem type='mount'><source dir='%s'/><target dir='%s'/>%s</filesystem>"
            % (source, target, "<readonly/>" if readonly else ""))


def test_bind_mount_targets_resolve_inside_the_root(lxc):
    """<filesystem> targets are looked up with the container's root as "/", as libvirt does
    once it has pivoted into it: an absolute or climbing symbolic link in the root
    filesystem, as the target or as one of its parents, leads to a place inside that root,
    never to the host's. Directories missing on the way are made there."""
    lxc.start_daemon()
    host = lxc.root / "host"          # what the links in the root filesystem name
    host.mkdir()
    src = lxc.root / "src"
    src.mkdir()
    (src / "marker").write_text("from-src\n")
    rootfs = lxc.rootfs("links")
    inside = rootfs / str(host).lstrip("/")  # the same path, inside the root
    inside.mkdir(parents=True)
    climb = "../" * 12
    (rootfs / "abs").symlink_to(host)                              # absolute, to the host
    (rootfs / "rel").symlink_to(climb + str(host).lstrip("/"))     # relative, climbing out
    (rootfs / "srv").mkdir()
    (rootfs / "srv" / "data").symlink_to(climb + "tmp")            # a parent component
    (rootfs / "cfg").symlink_to("/etc")                            # the target itself
    etc_before = sorted(os.listdir("/etc"))
    deep = "/srv/data/sv-bind-%d/d" % os.getpid()   # /tmp/sv-bind-PID/d inside the root
    devices = "".join(fs_xml(src, t) for t in ("/abs/a", "/rel/b", deep, "/cfg"))
    c = lxc.open()
    try:
        dom = c.createXML(container_xml("links", rootfs, devices=devices), 0)
        con = lxc.console("links")
        try:
            for t in ("/abs/a", "/rel/b", deep, "/cfg", "/etc", str(host) + "/a"):
                assert con.run("cat %s/marker" % t) == "from-src", t
        finally:
            assert con.close() == 0
        dom.destroy()
    finally:
        c.close()
    # The host was never touched; the mount points were made inside the root.
    assert list(host.iterdir()) == []
    assert sorted(os.listdir("/etc")) == etc_before
    assert not Path("/tmp/sv-bind-%d" % os.getpid()).exists()
    assert (inside / "a").is_dir() and (inside / "b").is_dir()
    assert (rootfs / "tmp" / ("sv-bind-%d" % os.getpid()) / "d").is_dir()


def test_bind_mount_targets_that_cannot_be_resolved(lxc):
    """What leads nowhere inside the root fails the start with a clear error and leaves
    nothing, as in libvirt: an absolute link to a host directory the root filesystem does
    not have, and a magic link of a proc file system inside the root filesystem that
    would lead into the host's root."""
    lxc.start_daemon()
    host = lxc.root / "host"
    host.mkdir()
    src = lxc.root / "src"
    src.mkdir()
    rootfs = lxc.rootfs("bad")
    (rootfs / "abs").symlink_to(host)
    escape = "sv-escape-%d" % os.getpid()
    hostproc = rootfs / "hostproc"
    hostproc.mkdir()
    (rootfs / "magic").symlink_to("/hostproc/self/root")
    c = lxc.open()
    try:
        code, domain, msg = error_of(c.createXML, container_xml(
            "bad", rootfs, devices=fs_xml(src, "/abs/x")), 0)
        assert (code, domain) == (libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_LXC)
        assert msg == ("internal error: guest failed to start: cannot create mount point "
                       "'/abs' in the container's root (a symbolic link to nothing "
                       "there): File exists"), msg
        assert lxc.leftovers() == []
        assert list(host.iterdir()) == []
        subprocess.run(["mount", "-t", "proc", "svproc", str(hostproc)], check=True)
        try:
            code, domain, msg = error_of(c.createXML, container_xml(
                "bad", rootfs, devices=fs_xml(src, "/magic/" + escape)), 0)
        finally:
            subprocess.run(["umount", str(hostproc)], check=True)
        assert (code, domain) == (libvirt.VIR_ERR_INTERNAL_ERROR, libvirt.VIR_FROM_LXC)
        assert msg == ("internal error: guest failed to start: cannot resolve mount point "
                       "'/magic' in the container's root: Too many levels of symbolic "
                       "links"), msg
        assert lxc.leftovers() == []
    finally:
        c.close()
        escaped = Path("/") / escape
        found = escaped.exists()
        if found:
            escaped.rmdir()
    assert not found, "the supervisor made %s on the host" % escaped


# ---------------------------------------------------------------- restarts and status files

def supervisors_of(root):
    """The supervisors alive, without the processes they fork or clone (a container child
    about to exec init, a sanitizer's helper), which carry the supervisor's command line
    for a moment."""
    procs = {pid: cmd for pid, cmd in processes_of(root) if "virtlxcd-supervisor" in cmd}
    out = []
    for pid in procs:
        try:
            with open("/proc/%d/stat" % pid) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if ppid not in procs:
            out.append(pid)
    return out


def children_of(pid):
    """The live (non-zombie) child processes of pid."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


def test_start_fails_when_its_record_cannot_be_written(lxc):
    """The status file naming the supervisor is on disk before the supervisor runs: with the
    status directory full (a small tmpfs over it, in the daemon's own mount namespace) a
    start fails with the write's error, and no supervisor or container is left."""
    if not shutil.which("unshare"):
        pytest.skip("needs unshare")
    run = lxc.root / "run" / "libvirt" / "lxc"
    run.mkdir(parents=True)
    fill = ('mount -t tmpfs -o size=16k svfull "$0" && '
            '{ LD_PRELOAD= dd if=/dev/zero of="$0/fill" bs=1k 2>/dev/null; true; } && exec "$@"')
    d = lxc.start_daemon(wrapper=["unshare", "-m", "--propagation", "private",
                                  "sh", "-c", fill, str(run)])
    c = lxc.open()
    try:
        dom = c.defineXML(lxc.xml("full"))
        code, domain, msg = error_of(dom.create)
        assert (code, domain) == (libvirt.VIR_ERR_OPERATION_FAILED, libvirt.VIR_FROM_LXC)
        assert msg.startswith("operation failed: guest failed to start: cannot record the "
                              "container's status: cannot write '%s/full.xml.new-" % run), msg
        assert msg.endswith(": No space left on device"), msg
        assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_FAILED]
        assert wait_until(lambda: children_of(d.pid) == [])
        assert processes_of(lxc.root) == [] and cgroup_dirs(lxc.root) == []
        # A transient one goes away altogether.
        assert error_of(c.createXML, lxc.xml("gone"), 0)[0] == libvirt.VIR_ERR_OPERATION_FAILED
        assert error_of(c.lookupByName, "gone")[0] == libvirt.VIR_ERR_NO_DOMAIN
        assert wait_until(lambda: children_of(d.pid) == [])
        assert processes_of(lxc.root) == []
    finally:
        c.close()


def status_file_xml(name, uuid, supervisor_pid, supervisor_start, socket, cgroup,
                    init_pid=0, init_start=0, state="running", extra=""):
    return ("<domstatus state='%s' reason='1' statetime='0' persistent='0' destroying='0' "
            "starting='0' autodestroy='0'%s>\n"
            "  <supervisor pid='%d' starttime='%d' socket='%s'/>\n"
            "  <init pid='%d' starttime='%d'/>\n"
            "  <cgroup path='%s'/>\n"
            "<domain type='lxc' id='%d'><name>%s</name><uuid>%s</uuid>"
            "<memory unit='KiB'>65536</memory><os><type>exe</type><init>/sbin/init</init></os>"
            "<devices><console type='pty'/></devices></domain>\n</domstatus>\n"
            % (state, extra, supervisor_pid, supervisor_start, socket, init_pid, init_start,
               cgroup, supervisor_pid, name, uuid))


def start_time(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def test_hostile_status_files_touch_nothing(lxc):
    """Status files are input an attacker may have written: each names a process of the
    test's (with its right start time), a cgroup outside the daemon's tree or a socket
    outside its run directory. The daemon sets each aside without signalling, killing or
    removing anything it names; and it removes the temporary files of status writes a
    killed daemon never finished."""
    run = lxc.root / "run" / "libvirt" / "lxc"
    run.mkdir(parents=True)
    victims = [subprocess.Popen(["sleep", "300"]) for _ in range(4)]
    parent = cgroup_parent(lxc.root)
    victim_cgroups = []
    try:
        for i, v in enumerate(victims[2:]):
            cg = CGROUP_MOUNT / "memory" / ("sv-victim-%d-%d" % (os.getpid(), i))
            cg.mkdir()
            (cg / "cgroup.procs").write_text(str(v.pid))
            victim_cgroups.append(cg)
        dead = subprocess.Popen(["true"])
        dead.wait()
        outside = lxc.root / "precious.sock"
        outside.write_text("keep me\n")
        files = {
            # A live process that is no supervisor, its socket missing: never signalled.
            "impostor": status_file_xml("impostor", "11111111-1111-4111-8111-111111111111",
                                        victims[0].pid, start_time(victims[0].pid),
                                        run / "impostor.sock", parent + "/impostor.libvirt-lxc"),
            # The supervisor gone; init and the cgroup (climbing out with ..) name victims.
            "climber": status_file_xml("climber", "22222222-2222-4222-8222-222222222222",
                                       dead.pid, 1, run / "climber.sock",
                                       parent + "/../" + victim_cgroups[0].name,
                                       init_pid=victims[1].pid,
                                       init_start=start_time(victims[1].pid)),
            # A cgroup outside the daemon's parent.
            "outsider": status_file_xml("outsider", "33333333-3333-4333-8333-333333333333",
                                        dead.pid, 1, run / "outsider.sock",
                                        victim_cgroups[1].name),
            # A socket outside the run directory.
            "sockpath": status_file_xml("sockpath", "44444444-4444-4444-8444-444444444444",
                                        dead.pid, 1, outside, parent + "/sockpath.libvirt-lxc"),
        }
        for name, text in files.items():
            (run / (name + ".xml")).write_text(text)
        stale = run / "web.xml.new-a1B2c3"
        stale.write_text("<domstatus")
        d = lxc.start_daemon()
        c = lxc.open()
        try:
            assert c.listAllDomains(0) == []
        finally:
            c.close()
        time.sleep(0.5)
        assert all(v.poll() is None for v in victims), [v.poll() for v in victims]
        for cg, v in zip(victim_cgroups, victims[2:]):
            assert str(v.pid) in (cg / "cgroup.procs").read_text().split()
        assert outside.read_text() == "keep me\n"
        for name in files:
            assert not (run / (name + ".xml")).exists()
            assert (run / (name + ".xml.rejected")).read_text() == files[name]
        assert not stale.exists()
        log = d.stderr_text()
        assert "is not a container supervisor" in log
        assert log.count("setting aside status file") == 4
    finally:
        for v in victims:
            v.kill()
            v.wait()
        for cg in victim_cgroups:
            wait_until(lambda: not (cg / "cgroup.procs").read_text().strip())
            cg.rmdir()


def test_no_second_container_when_its_status_file_is_set_aside(lxc):
    """A container whose status file cannot be trusted any more is left alone, and its
    domain cannot be started a second time while it lives."""
    d = lxc.start_daemon()
    c = lxc.open()
    dom = c.defineXML(lxc.xml("twice"))
    dom.create()
    init = lxc.init_pid("twice")
    c.close()
    d.expected_status = -signal.SIGKILL
    d.send_signal(signal.SIGKILL)
    d.wait_exit(5)
    # Someone spoils the status file.
    lxc.status("twice").write_text(lxc.status("twice").read_text()
                                   .replace("socket='", "socket='/tmp/elsewhere/"))
    lxc.start_daemon()
    c = lxc.open()
    try:
        dom = c.lookupByName("twice")
        assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        assert alive(init)
        code, domain, msg = error_of(dom.create)
        assert (code, domain) == (libvirt.VIR_ERR_OPERATION_INVALID, libvirt.VIR_FROM_LXC)
        assert "a container of domain 'twice' still runs outside the daemon's control" in msg
        assert alive(init)
        sups = supervisors_of(lxc.root)
        assert len(sups) == 1
    finally:
        c.close()
    # What the daemon let alone is the test's to end.
    os.kill(sups[0], signal.SIGKILL)
    assert wait_until(lambda: not alive(init))
    (lxc.root / "run" / "libvirt" / "lxc" / "twice.sock").unlink()


def test_persistence_survives_a_restart(lxc):
    """create (transient), then define while it runs, then a daemon restart: the definition
    on disk decides, so the domain stays persistent, a destroy keeps it, undefine works."""
    d = lxc.start_daemon()
    c = lxc.open()
    xml = lxc.xml("keeper", uuid="5e1f0000-0000-4000-8000-00000000cafe")
    dom = c.createXML(xml, 0)
    assert dom.isPersistent() == 0
    c.defineXML(xml)
    assert dom.isPersistent() == 1
    c.close()
    d.expected_status = -signal.SIGKILL
    d.send_signal(signal.SIGKILL)
    d.wait_exit(5)
    lxc.start_daemon()
    out = lxc.virsh("dominfo", "keeper").stdout
    assert re.search(r"^Persistent:\s+yes$", out, re.M), out
    assert re.search(r"^State:\s+running$", out, re.M), out
    lxc.virsh("destroy", "keeper")
    out = lxc.virsh("list", "--all").stdout
    assert re.search(r"^\s*-\s+keeper\s+shut off\s*$", out, re.M), out
    lxc.virsh("undefine", "keeper")
    assert "keeper" not in lxc.virsh("list", "--all").stdout


def test_graceful_destroy_survives_a_restart(lxc):
    """A GRACEFUL destroy of a container whose init ignores SIGTERM, the daemon SIGKILLed
    while it waits: the restarted daemon carries on the same request until its deadline,
    and it fails as it would have (logged, for the client is gone); the container is never
    SIGKILLed and keeps running, no longer marked as being destroyed."""
    config = "term_timeout_ms = 400\nkill_timeout_ms = 2000\ngraceful_timeout_ms = 3000\n"
    d = lxc.start_daemon(config=config)
    c = lxc.open()
    c.createXML(lxc.xml("stubborn", init="/sbin/svinit-noterm"), 0)
    c.close()
    init = lxc.init_pid("stubborn")
    env = dict(os.environ, LC_ALL="C")
    t0 = time.monotonic()
    destroy = subprocess.Popen(["virsh", "-c", lxc.uri, "destroy", "--graceful", "stubborn"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert wait_until(lambda: "destroying='1'" in lxc.status("stubborn").read_text())
    time.sleep(0.3)
    d.expected_status = -signal.SIGKILL
    d.send_signal(signal.SIGKILL)
    d.wait_exit(5)
    destroy.communicate(timeout=VIRSH_TIMEOUT)
    assert destroy.returncode != 0
    d2 = lxc.start_daemon(config=config)
    assert wait_until(lambda: "GRACEFUL destroy begun before the daemon restarted failed"
                      in d2.stderr_text(), timeout=10)
    assert time.monotonic() - t0 >= 2.9
    # Well past where a forced kill would have come (term 0.4 s + kill 2 s).
    time.sleep(3)
    assert alive(init)
    assert "destroying='0'" in lxc.status("stubborn").read_text()
    out = lxc.virsh("domstate", "stubborn").stdout.strip()
    assert out == "running", out
    log = d2.stderr_text()
    assert "outlived SIGTERM, sending SIGKILL" not in log
    assert "Failed to terminate process %d with SIGTERM" % init in log
    # A plain destroy afterwards works.
    lxc.virsh("destroy", "stubborn")
    assert not alive(init)


def test_forced_destroy_keeps_its_timeline_across_a_restart(lxc):
    """A plain destroy waits term_timeout before SIGKILL; carried on by a restarted daemon,
    the SIGKILL comes at the first request's deadline, neither at once nor a full wait
    after the restart."""
    config = "term_timeout_ms = 4000\nkill_timeout_ms = 2000\ngraceful_timeout_ms = 800\n"
    d = lxc.start_daemon(config=config)
    c = lxc.open()
    c.createXML(lxc.xml("slow", init="/sbin/svinit-noterm"), 0)
    c.close()
    init = lxc.init_pid("slow")
    env = dict(os.environ, LC_ALL="C")
    t0 = time.monotonic()
    destroy = subprocess.Popen(["virsh", "-c", lxc.uri, "destroy", "slow"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert wait_until(lambda: "destroying='1'" in lxc.status("slow").read_text())
    time.sleep(1.5 - (time.monotonic() - t0))
    d.expected_status = -signal.SIGKILL
    d.send_signal(signal.SIGKILL)
    d.wait_exit(5)
    destroy.communicate(timeout=VIRSH_TIMEOUT)
    lxc.start_daemon(config=config)
    assert wait_until(lambda: not alive(init), timeout=10)
    t = time.monotonic() - t0
    assert 3.5 <= t <= 6.5, t
    assert wait_until(lambda: lxc.virsh("list", "--all").stdout.count("slow") == 0)


def test_restart_removes_socket_of_unrecorded_start(lxc):
    """A daemon killed after binding a supervisor's socket but before recording the start
    leaves the socket and no status file: the restarted daemon removes it, and a live
    container's socket is kept."""
    import socket as socketmod
    d = lxc.start_daemon()
    c = lxc.open()
    c.defineXML(container_xml("stale", lxc.rootfs("stale")))
    c.defineXML(container_xml("live", lxc.rootfs("live")))
    c.lookupByName("live").create()
    c.close()
    run = lxc.root / "run" / "libvirt" / "lxc"
    stale = socketmod.socket(socketmod.AF_UNIX, socketmod.SOCK_STREAM)
    stale.bind(str(run / "stale.sock"))
    stale.close()
    d.expected_status = -signal.SIGKILL
    d.send_signal(signal.SIGKILL)
    d.wait_exit(5)
    lxc.start_daemon()
    c = lxc.open()
    try:
        assert wait_until(lambda: not (run / "stale.sock").exists(), timeout=10)
        assert (run / "live.sock").exists()
        c.lookupByName("live").destroy()
    finally:
        c.close()


def test_daemon_killed_during_starts_leaves_no_orphan(lxc):
    """The daemon SIGKILLed at moments spread over a start, again and again: each restarted
    daemon knows every supervisor and container that runs (it adopts them, or stops the
    ones whose start never finished), and never runs two for one domain."""
    rootfs = lxc.rootfs("race")
    env = dict(os.environ, LC_ALL="C")
    d = lxc.start_daemon()
    c = lxc.open()
    c.defineXML(container_xml("race", rootfs))
    c.close()
    for i in range(24):
        start = subprocess.Popen(["virsh", "-c", lxc.uri, "start", "race"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        # From the fork of the supervisor on, 0 to 5 ms later.
        assert wait_until(lambda: children_of(d.pid), timeout=10, step=0.0005)
        time.sleep(0.001 * (i % 6))
        d.expected_status = -signal.SIGKILL
        d.send_signal(signal.SIGKILL)
        d.wait_exit(5)
        start.wait(timeout=VIRSH_TIMEOUT)
        d = lxc.start_daemon()
        c = lxc.open()
        try:
            dom = c.lookupByName("race")
            # Asked first: a container stops only once its supervisor has exited.
            active, dom_id = dom.isActive(), dom.ID()
            sups = supervisors_of(lxc.root)
            assert len(sups) <= 1, sups
            # A supervisor that runs is the daemon's: its domain is active under its id.
            assert not sups or (active and dom_id == sups[0]), (i, sups, active, dom_id)
            if dom.isActive():
                try:
                    dom.destroy()
                except libvirt.libvirtError:
                    pass  # already ending: a start that never finished is being stopped
            assert wait_until(lambda: not dom.isActive(), timeout=10)
            assert wait_until(lambda: processes_of(lxc.root) == [], timeout=10), \
                processes_of(lxc.root)
        finally:
            c.close()
    # The status file of the last stop is removed by the daemon's store worker, just after
    # the state change a client sees: wait for it (generously) rather than race it.
    assert wait_until(lambda: lxc.leftovers() == [], timeout=10), lxc.leftovers()


# ---------------------------------------------------------------- metadata (issue 18)

def test_metadata_defined_and_running_container(lxc):
    """virsh desc and virsh metadata on a container: CONFIG on the definition (on disk),
    LIVE on the running container's definition only, libvirt's lxc driver's flag error,
    and a METADATA_CHANGE event for each change."""
    lxc.start_daemon()
    c = lxc.open()
    got = []
    ensure_event_loop()
    watcher = lxc.open()
    cb = watcher.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
        lambda conn, dom, mtype, uri, opaque: got.append((dom.name(), mtype, uri)), None)
    try:
        xml_path = lxc.root / "meta.xml"
        xml_path.write_text(lxc.xml("meta"))
        lxc.virsh("define", str(xml_path))
        lxc.virsh("desc", "meta", "--config", "--title", "a container")
        lxc.virsh("metadata", "meta", "http://app.example/", "--key", "app", "--set",
                  "<app v='1'/>")
        dom = c.lookupByName("meta")
        assert dom.metadata(libvirt.VIR_DOMAIN_METADATA_TITLE, None, 0) == "a container"
        assert lxc.virsh("metadata", "meta", "http://app.example/").stdout.strip() == \
            '<app v="1"/>'
        stored = (lxc.root / "etc" / "libvirt" / "lxc" / "meta.xml").read_text()
        assert "<title>a container</title>" in stored
        assert error_of(dom.setMetadata, libvirt.VIR_DOMAIN_METADATA_TITLE, "t", None, None,
                        4) == (libvirt.VIR_ERR_INVALID_ARG, libvirt.VIR_FROM_LXC,
                               "unsupported flags (0x4) in function lxcDomainSetMetadata")
        lxc.virsh("start", "meta")
        lxc.virsh("desc", "meta", "--live", "running now")
        assert "<description>running now</description>" in dom.XMLDesc(0)
        assert "<description>" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        assert wait_until(lambda: len(got) >= 3)
        assert got == [("meta", libvirt.VIR_DOMAIN_METADATA_TITLE, None),
                       ("meta", libvirt.VIR_DOMAIN_METADATA_ELEMENT, "http://app.example/"),
                       ("meta", libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None)]
        lxc.virsh("destroy", "meta")
        assert error_of(dom.metadata, libvirt.VIR_DOMAIN_METADATA_DESCRIPTION, None, 0)[0] == \
            libvirt.VIR_ERR_NO_DOMAIN_METADATA
    finally:
        watcher.domainEventDeregisterAny(cb)
        watcher.close()
        c.close()
