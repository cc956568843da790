"""test_systemd.py: the systemd units, the installed tree, and the daemons on the units' terms.

This host has no systemd as PID 1 (test-guests.md), so the units are exercised with
stand-ins:

- `meson install --destdir` (--no-rebuild) puts the daemons, units, configuration files,
  manual pages and the sysusers.d file where `meson introspect --installed` says.
- Each installed daemon runs under `systemd-socket-activate` with the three sockets its
  installed .socket units name (ListenStream= moved under a private --root, SocketMode=
  applied, the unit names as LISTEN_FDNAMES) and the options of its ExecStart= and
  Environment=; stock virsh is served on the read-write and read-only sockets, the admin
  socket answers, and a test datagram socket as NOTIFY_SOCKET gets READY=1 and, after
  SIGTERM, STOPPING=1.
- virtproxyd also runs as an unprivileged user with no capability, as its unit has it.
- `systemd-analyze verify` passes, silently, on the build tree's copies of the units
  (systemd/verify/, ExecStart= naming the built daemons; man pages from the install).
- `systemd-analyze security --offline=yes` rates each installed service within its
  target: virtsecretd 1.0, virtproxyd 2.5, virtstoraged 3.8 (virtqemud's rating), virtqemud
  and virtxend 6.0, virtlxcd 7.0.
- virtqemud under its unit's capability bounding set and no-new-privileges runs a guest
  through its life (also as an unprivileged QEMU user); virtlxcd under its bounding set
  runs containers, one in a user namespace.
- Every key the configuration files show is one the sources read, and all of them
  uncommented, with the defaults shown, are accepted by the daemon.

SV_BUILD_DIR names the build tree (built beforehand: the install does not rebuild).
"""

import grp
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

import rawrpc
from svdaemon import QEMU_AS_ROOT, build_dir, repo_dir, sanitizer_env
from svinstall import installed_tree

def _built_here(name):
    return (build_dir() / "src" / name / name).exists()


# A build without the Xen driver has no virtxend, and installs nothing for it.
DAEMONS = tuple(n for n in ("virtqemud", "virtlxcd", "virtxend", "virtproxyd", "virtsecretd",
                                   "virtstoraged", "virtnodedevd", "virtnetworkd")
                if n != "virtxend" or _built_here(n))
# The secondary drivers' daemons (issue 19): no guests, reached by virtproxyd too.
SECONDARY = ("virtsecretd", "virtstoraged", "virtnodedevd", "virtnetworkd")
# The hypervisor daemons.
BACKENDS = tuple(n for n in DAEMONS if n != "virtproxyd" and n not in SECONDARY)
DRIVER = {"virtqemud": "qemu", "virtlxcd": "lxc", "virtxend": "xen", "virtproxyd": "qemu",
          "virtsecretd": "secret", "virtstoraged": "storage", "virtnodedevd": "nodedev",
          "virtnetworkd": "network"}
SOCK_PREFIX = {"virtqemud": "virtqemud", "virtlxcd": "virtlxcd", "virtxend": "virtxend",
               "virtsecretd": "virtsecretd", "virtstoraged": "virtstoraged",
               "virtnodedevd": "virtnodedevd", "virtnetworkd": "virtnetworkd",
               "virtproxyd": "libvirt"}
# The exposure `systemd-analyze security` may give each service at most (issue #9;
# libvirt 9.0.0's units rate 9.6).
EXPOSURE_TARGET = {"virtproxyd": 2.5, "virtqemud": 6.0, "virtxend": 6.0, "virtlxcd": 7.0,
                   "virtsecretd": 1.0, "virtnodedevd": 2.5,
                   # at most virtqemud's own rating (3.8): it runs in the host's mount
                   # namespace, which an fs pool's mounts must reach
                   "virtstoraged": 3.8,
                   # the host's network namespace and the network capabilities dnsmasq and
                   # the bridges need (docs/operations.md)
                   "virtnetworkd": 3.0}

TOOL_TIMEOUT = 60
NOTIFY_TIMEOUT = 10.0

# linux/capability.h
CAP_BITS = {
    "CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3,
    "CAP_FSETID": 4, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
    "CAP_LINUX_IMMUTABLE": 9, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11,
    "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13, "CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15,
    "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18, "CAP_SYS_PTRACE": 19,
    "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
    "CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27,
    "CAP_LEASE": 28, "CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31,
    "CAP_MAC_OVERRIDE": 32, "CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35,
    "CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37, "CAP_PERFMON": 38, "CAP_BPF": 39,
    "CAP_CHECKPOINT_RESTORE": 40,
}


# ---------------------------------------------------------------- helpers

def source_dir():
    env = os.environ.get("SV_SOURCE_DIR")
    return Path(env) if env else repo_dir()


def built(name):
    return (build_dir() / "src" / name / name).exists()


def need_tool(name):
    path = shutil.which(name)
    if not path:
        pytest.skip("%s not installed" % name)
    return path


def run(argv, env=None, timeout=TOOL_TIMEOUT, check=True):
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=env,
                       timeout=timeout, stdin=subprocess.DEVNULL)
    if check:
        assert r.returncode == 0, "%s failed (%d):\n%s%s" % (
            " ".join(str(a) for a in argv), r.returncode, r.stdout, r.stderr)
    return r


def virsh(uri, *args, readonly=False, check=True):
    env = dict(os.environ, LC_ALL="C")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    argv = ["virsh"] + (["-r"] if readonly else []) + ["-c", uri] + list(args)
    return run(argv, env=env, check=check)


def parse_unit(path):
    """{section: {key: [values in order]}} of a unit file; comments dropped, continuation
    lines joined."""
    out = {}
    section = None
    pending = ""
    for raw in Path(path).read_text().splitlines():
        line = pending + raw.strip()
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("["):
            section = out.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        section.setdefault(key.strip(), []).append(value.strip())
    return out


def one(unit, section, key):
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, "%s= in [%s]: %r" % (key, section, values)
    return values[0]


def bounding_set(service):
    """The capability names of a service's CapabilityBoundingSet= lines (merged by OR; an
    empty assignment resets). Inverted ("~") lists are not used by our units."""
    caps = set()
    for value in service["Service"].get("CapabilityBoundingSet", []):
        assert not value.startswith("~"), "inverted CapabilityBoundingSet= in our units"
        if not value:
            caps = set()
        caps |= set(value.split())
    return caps


def cap_mask(names):
    return sum(1 << CAP_BITS[n] for n in names)


def setpriv_argv(service):
    """setpriv applying a service's bounding set, and its no-new-privileges if set."""
    caps = bounding_set(service)
    bset = ",".join(["-all"] + ["+" + c[len("CAP_"):].lower() for c in sorted(caps)])
    argv = [need_tool("setpriv"), "--bounding-set=" + bset, "--inh-caps=-all"]
    if service["Service"].get("NoNewPrivileges") == ["yes"]:
        argv.append("--no-new-privs")
    return argv


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.split()
    return out


def assert_sandboxed(pid, caps, nnp, what):
    """pid holds no capability outside caps (and has no-new-privileges when nnp). A test
    run inside a container may lack some of caps already: the expected set is cut to ours."""
    st = proc_status(pid)
    expected = cap_mask(caps) & int(proc_status(os.getpid())["CapBnd"][0], 16)
    assert int(st["CapBnd"][0], 16) == expected, "%s: CapBnd %s, expected %x" % (
        what, st["CapBnd"], expected)
    assert int(st["CapEff"][0], 16) & ~expected == 0, "%s: CapEff %s" % (what, st["CapEff"])
    if nnp:
        assert st["NoNewPrivs"] == ["1"], "%s: NoNewPrivs %s" % (what, st["NoNewPrivs"])


def wait_for(pred, timeout, what, step=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(step)


def unused_id():
    """A number that is neither a user nor a group here."""
    for n in range(60500, 61000):
        try:
            pwd.getpwuid(n)
            continue
        except KeyError:
            pass
        try:
            grp.getgrgid(n)
            continue
        except KeyError:
            return n
    pytest.skip("no unused uid/gid in 60500-60999")


# ---------------------------------------------------------------- the installed tree

@pytest.fixture(scope="module")
def install():
    if not built("virtqemud"):
        pytest.skip("virtqemud not built in %s" % build_dir())
    need_tool("meson")
    yield from installed_tree()


def test_install_layout(install):
    bindir = {os.path.dirname(install.path(n)) for n in DAEMONS if built(n)}
    assert len(bindir) == 1 and bindir.pop().endswith("/sbin"), "daemons not all in sbindir"
    for n in DAEMONS:
        if built(n):
            assert os.access(install.dest(install.path(n)), os.X_OK), n
        for unit in (n + ".service", n + ".socket", n + "-ro.socket", n + "-admin.socket"):
            assert install.unit(unit).is_file(), unit
        conf = install.path("libvirt/%s.conf" % n)
        assert install.dest(conf).is_file()
        assert install.dest(install.path("man8/%s.8" % n)).is_file()
    # The unit directory is systemd's (pkg-config) or the fallback.
    unitdir = os.path.dirname(install.path("virtqemud.service"))
    assert unitdir.endswith("/systemd/system"), unitdir
    # Nothing of the build tree's own machinery is installed.
    assert not [p for p in install.installed if "/verify/" in p or "/tests/" in p]


def test_units_as_libvirt_has_them(install):
    """What libvirt 9.0.0's units promise (libvirt-wire-facts.md, section 6), ours keep."""
    for n in DAEMONS:
        svc = parse_unit(install.unit(n + ".service"))
        assert one(svc, "Service", "Type") == "notify"
        assert one(svc, "Service", "Restart") == "on-failure"
        var = n.upper() + "_ARGS"
        assert svc["Service"]["Environment"] == ['%s="--timeout 120"' % var]
        execstart = shlex.split(one(svc, "Service", "ExecStart"))
        assert execstart[0] == install.path(n) and execstart[-1] == "$" + var
        assert "libvirtd.service" in svc["Unit"]["Conflicts"]
        assert svc["Unit"]["Requires"] == [n + ".socket", n + "-ro.socket",
                                           n + "-admin.socket"]
        assert svc["Install"]["WantedBy"] == ["multi-user.target"]
        if n in BACKENDS or n == "virtnetworkd":
            # Guests (virtnetworkd: each network's dnsmasq, as libvirt's unit has it) are
            # the daemon's children and outlive it.
            assert one(svc, "Service", "KillMode") == "process"
        elif n == "virtproxyd":
            assert "KillMode" not in svc["Service"]
            # Stopping runs in reverse order: the proxy stops before its backends.
            assert set(svc["Unit"]["After"]) >= {b + ".service" for b in BACKENDS}
        else:
            assert "KillMode" not in svc["Service"]  # nothing outlives it
        for suffix, path, mode in (("", "-sock", "0600"), ("-ro", "-sock-ro", "0666"),
                                   ("-admin", "-admin-sock", "0600")):
            sock = parse_unit(install.unit(n + suffix + ".socket"))
            assert one(sock, "Socket", "ListenStream") == "/run/libvirt/%s%s" % (
                SOCK_PREFIX[n], path)
            assert one(sock, "Socket", "Service") == n + ".service"
            assert one(sock, "Socket", "RemoveOnStop") == "yes"
            # The daemon matches systemd's default names, the unit names.
            assert "FileDescriptorName" not in sock["Socket"]
            assert n + ".service" in sock["Unit"]["Before"]
            if suffix:
                assert sock["Unit"]["BindsTo"] == [n + ".socket"]
                assert n + ".socket" in sock["Unit"]["After"]
            if n == "virtproxyd":
                assert sock["Unit"]["Conflicts"] == ["libvirtd%s.socket" % suffix]
            if n != "virtproxyd" and suffix == "" and "SocketGroup" in sock["Socket"]:
                # Open to the unprivileged proxy's group.
                assert one(sock, "Socket", "SocketMode") == "0660"
            else:
                assert one(sock, "Socket", "SocketMode") == mode
    # The key of the secrets' values at rest (libvirt 12.1), by credential name: searched in
    # systemd's credential stores, and no failure when none has it.
    sec = parse_unit(install.unit("virtsecretd.service"))
    assert sec["Service"]["LoadCredentialEncrypted"] == ["secrets-encryption-key"]
    if "virtxend" in DAEMONS:
        xen = parse_unit(install.unit("virtxend.service"))
        assert xen["Unit"]["ConditionPathExists"] == ["/proc/xen"]


def test_proxy_network_sockets(install):
    """virtproxyd's -tcp and -tls socket units, as libvirt 9.0's (no other daemon of it has
    them): libvirt's ports, bound to the main socket, off unless enabled (the service does
    not require them)."""
    svc = parse_unit(install.unit("virtproxyd.service"))
    for kind, port in (("tcp", "16509"), ("tls", "16514")):
        unit = "virtproxyd-%s.socket" % kind
        sock = parse_unit(install.unit(unit))
        assert one(sock, "Socket", "ListenStream") == port
        assert one(sock, "Socket", "Service") == "virtproxyd.service"
        assert sock["Unit"]["BindsTo"] == ["virtproxyd.socket"]
        assert "virtproxyd.socket" in sock["Unit"]["After"]
        assert "virtproxyd.service" in sock["Unit"]["Before"]
        assert sock["Unit"]["Conflicts"] == ["libvirtd-%s.socket" % kind]
        assert sock["Install"]["WantedBy"] == ["sockets.target"]
        assert unit not in svc["Unit"]["Requires"]
        others = [p for p in install.installed
                  if p.endswith("-%s.socket" % kind) and not p.endswith("/" + unit)]
        assert not others, others
    # Nothing in the sandbox holds back the clients those sockets accept.
    assert "IPAddressDeny" not in svc["Service"]


def test_proxy_user_and_backend_sockets_agree(install):
    """virtproxyd's User=/Group=, the sysusers.d file that creates them, and the group the
    backends' read-write sockets are open to."""
    proxy = parse_unit(install.unit("virtproxyd.service"))
    user = proxy["Service"].get("User")
    if not user:
        pytest.skip("built with proxy_user=root")
    group = one(proxy, "Service", "Group")
    assert bounding_set(proxy) == set()
    assert one(proxy, "Service", "NoNewPrivileges") == "yes"
    sysusers = install.dest(install.path("sysusers.d/splitvirt.conf")).read_text()
    lines = [ln.split() for ln in sysusers.splitlines() if ln and not ln.startswith("#")]
    assert ["u", user[0]] == lines[0][:2]
    assert group == user[0] or ["g", group] == lines[1][:2]
    for b in BACKENDS + SECONDARY:
        sock = parse_unit(install.unit(b + ".socket"))
        assert one(sock, "Socket", "SocketGroup") == group
        assert one(sock, "Socket", "SocketMode") == "0660"


# ---------------------------------------------------------------- systemd-analyze

def test_verify_build_tree_units(install):
    analyze = need_tool("systemd-analyze")
    verify_dir = build_dir() / "systemd" / "verify"
    units = []
    for n in DAEMONS:
        if not built(n):
            continue
        units += [verify_dir / (n + s) for s in (".service", ".socket", "-ro.socket",
                                                 "-admin.socket")]
        if n == "virtproxyd":
            units += [verify_dir / (n + s) for s in ("-tcp.socket", "-tls.socket")]
    assert units and all(u.is_file() for u in units), "missing units in %s" % verify_dir
    # verify checks that Documentation=man:NAME(8) resolves, with man(1): against the
    # pages just installed.
    env = dict(os.environ, MANPATH=str(install.mandir()))
    man = [] if shutil.which("man") else ["--man=no"]
    r = run([analyze, "verify"] + man + units, env=env, check=False)
    # A unit with a setting systemd cannot parse still exits 0: any output is a failure.
    assert r.returncode == 0 and not (r.stdout + r.stderr).strip(), (
        "systemd-analyze verify (%d):\n%s%s" % (r.returncode, r.stdout, r.stderr))


@pytest.mark.parametrize("name", DAEMONS)
def test_security_exposure(install, name):
    analyze = need_tool("systemd-analyze")
    r = run([analyze, "security", "--offline=yes", "--no-pager", "--root=%s" % install.destdir,
             name + ".service"], check=False)
    m = re.search(r"Overall exposure level for %s\.service: (\d+\.\d+)" % re.escape(name),
                  r.stdout + r.stderr)
    assert m, "no exposure in:\n%s%s" % (r.stdout, r.stderr)
    exposure = float(m.group(1))
    print("%s.service exposure %.1f (target %.1f)" % (name, exposure, EXPOSURE_TARGET[name]))
    assert exposure <= EXPOSURE_TARGET[name], "%s.service: exposure %.1f over %.1f:\n%s" % (
        name, exposure, EXPOSURE_TARGET[name], r.stdout)


# ---------------------------------------------------------------- socket activation

class Notifications:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        # A daemon that is not root must be able to send.
        os.chmod(self.path, 0o666)
        self.got = []

    def wait(self, field, timeout=NOTIFY_TIMEOUT):
        """Wait for a datagram with the line field (e.g. READY=1); all received so far."""
        deadline = time.monotonic() + timeout
        while not any(field in d.split("\n") for d in self.got):
            left = deadline - time.monotonic()
            assert left > 0, "no %s on NOTIFY_SOCKET; got %r" % (field, self.got)
            self.sock.settimeout(left)
            try:
                self.got.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
        return self.got

    def close(self):
        self.sock.close()


class Activated:
    """An installed daemon, started by systemd-socket-activate as its units describe,
    under a private root."""

    def __init__(self, install, daemons, root, name, wrapper=(), socket_group=None,
                 extra_conf=None):
        self.name = name
        self.root = Path(root)
        svc = parse_unit(install.unit(name + ".service"))
        self.service = svc
        env = dict(e.split("=", 1) for e in svc["Service"].get("Environment", []))
        env = {k: shlex.split(v)[0] if v.startswith('"') else v for k, v in env.items()}
        argv = []
        for word in shlex.split(one(svc, "Service", "ExecStart")):
            if word.startswith("$"):
                argv += shlex.split(env[word[1:]])
            else:
                argv.append(word)
        # The program and its configuration come from DESTDIR; run-time paths (the pid
        # file) go under the root, as the sockets do.
        binary = install.dest(argv[0])
        args = []
        i = 1
        while i < len(argv):
            if argv[i] == "--config":
                cfg = install.dest(argv[i + 1])
                if name == "virtqemud":
                    # QEMU as root: see svdaemon.QEMU_AS_ROOT.
                    extra_conf = QEMU_AS_ROOT + (extra_conf or "")
                if extra_conf:
                    # The installed file plus this test's settings, kept under the root.
                    own = self.root / "etc" / Path(cfg).name
                    own.parent.mkdir(parents=True, exist_ok=True)
                    own.write_text(Path(cfg).read_text() + extra_conf)
                    cfg = own
                args += ["--config", str(cfg)]
                i += 2
            elif argv[i] == "--pid-file":
                args += ["--pid-file", str(self.root / argv[i + 1].lstrip("/"))]
                i += 2
            else:
                args.append(argv[i])
                i += 1
        for d in svc["Service"].get("RuntimeDirectory", []):
            (self.root / "run" / d).mkdir(parents=True, exist_ok=True)
        self.socks = {}
        listen, names = [], []
        for suffix in ("", "-ro", "-admin"):
            unit = name + suffix + ".socket"
            sock = parse_unit(install.unit(unit))
            path = self.root / one(sock, "Socket", "ListenStream").lstrip("/")
            mode = int(one(sock, "Socket", "SocketMode"), 8)
            gid = None
            if "SocketGroup" in sock["Socket"]:
                gid = socket_group
                if gid is None:
                    # The group exists once systemd-sysusers ran; a root client does not
                    # need it.
                    try:
                        gid = grp.getgrnam(one(sock, "Socket", "SocketGroup")).gr_gid
                    except KeyError:
                        pass
            self.socks[suffix] = (path, mode, gid)
            listen += ["-l", str(path)]
            names.append(unit)
        self.socks[""][0].parent.mkdir(parents=True, exist_ok=True)
        self.notify = Notifications(self.root / ("%s.notify" % name))
        activate = [need_tool("systemd-socket-activate")] + listen + [
            "--fdname=" + ":".join(names), "-E", "NOTIFY_SOCKET=" + self.notify.path]
        for k, v in sanitizer_env().items():
            activate += ["-E", "%s=%s" % (k, v)]
        self.daemon = daemons.new(name=name, label=name, args=args,
                                  wrapper=activate + list(wrapper),
                                  ready_path=self.socks[""][0])
        self.daemon.binary = binary

    def start(self):
        """Start listening, set the sockets' modes and group as systemd would, and wait
        for the daemon (started by the first connection) to be ready."""
        self.daemon.start(wait=False)
        for path, mode, gid in self.socks.values():
            wait_for(path.exists, 10, "%s from systemd-socket-activate" % path)
            os.chmod(path, mode)
            if gid is not None:
                os.chown(path, -1, gid)
        self.daemon.wait_ready()
        self.notify.wait("READY=1")
        return self

    def uri(self, suffix=""):
        return "%s+unix:///system?socket=%s" % (DRIVER[self.name], self.socks[suffix][0])

    def stop(self):
        """SIGTERM (what systemd sends); exit status 0 after STOPPING=1."""
        assert self.daemon.stop() == 0, self.daemon.stderr_tail()
        self.notify.wait("STOPPING=1")
        self.notify.close()


@pytest.fixture
def activated(install, daemons, root):
    made = []

    def make(name, **kw):
        if not built(name):
            pytest.skip("%s not built" % name)
        a = Activated(install, daemons, root, name, **kw)
        made.append(a)
        return a

    yield make
    for a in made:
        a.notify.close()


def check_serves(a):
    """Stock virsh on the read-write and read-only sockets, a PING on the admin one."""
    r = virsh(a.uri(), "list", "--all")
    assert re.search(r"Id\s+Name\s+State", r.stdout), r.stdout
    r = virsh(a.uri("-ro"), "list", "--all", readonly=True)
    assert re.search(r"Id\s+Name\s+State", r.stdout), r.stdout
    # The read-only socket is read-only, whatever the client asks for.
    bad = a.root / "ro-define.xml"
    bad.write_text("<domain type='%s'><name>ro</name></domain>" % (
        {"qemu": "qemu", "lxc": "lxc", "xen": "xen"}[DRIVER[a.name]]))
    r = virsh(a.uri("-ro"), "define", str(bad), check=False)
    assert r.returncode != 0 and "read only access prevents" in r.stderr, r.stderr
    with rawrpc.Client(str(a.socks["-admin"][0]), timeout=5.0) as c:
        c.send_keepalive(rawrpc.KEEPALIVE_PING)
        m = c.recv_message(timeout=5.0)
        assert (m.prog, m.proc) == (rawrpc.KEEPALIVE_PROGRAM, rawrpc.KEEPALIVE_PONG)


@pytest.mark.parametrize("name", BACKENDS)
def test_socket_activated_backend(activated, name):
    need_tool("virsh")
    a = activated(name).start()
    check_serves(a)
    a.stop()


def test_socket_activated_secretd(activated):
    """virtsecretd as its units run it: secret-list on both sockets, a define refused on
    the read-only one, the admin socket answering."""
    need_tool("virsh")
    a = activated("virtsecretd").start()
    assert virsh(a.uri(), "secret-list").returncode == 0
    assert virsh(a.uri("-ro"), "secret-list", readonly=True).returncode == 0
    xml = a.root / "ro-secret.xml"
    xml.write_text("<secret><usage type='ceph'><name>ro</name></usage></secret>")
    r = virsh(a.uri("-ro"), "secret-define", str(xml), check=False)
    assert r.returncode != 0 and "read only access prevents" in r.stderr, r.stderr
    with rawrpc.Client(str(a.socks["-admin"][0]), timeout=5.0) as c:
        c.send_keepalive(rawrpc.KEEPALIVE_PING)
        m = c.recv_message(timeout=5.0)
        assert (m.prog, m.proc) == (rawrpc.KEEPALIVE_PROGRAM, rawrpc.KEEPALIVE_PONG)
    a.stop()


def test_socket_activated_storaged(activated):
    """virtstoraged as its units run it (issue 19 item 2): pool-list on both sockets, a
    pool-define refused on the read-only one, the admin socket answering."""
    need_tool("virsh")
    a = activated("virtstoraged").start()
    assert virsh(a.uri(), "pool-list", "--all").returncode == 0
    assert virsh(a.uri("-ro"), "pool-list", "--all", readonly=True).returncode == 0
    xml = a.root / "ro-pool.xml"
    xml.write_text("<pool type='dir'><name>ro</name><target><path>/nowhere</path></target>"
                   "</pool>")
    r = virsh(a.uri("-ro"), "pool-define", str(xml), check=False)
    assert r.returncode != 0 and "read only access prevents" in r.stderr, r.stderr
    with rawrpc.Client(str(a.socks["-admin"][0]), timeout=5.0) as c:
        c.send_keepalive(rawrpc.KEEPALIVE_PING)
        m = c.recv_message(timeout=5.0)
        assert (m.prog, m.proc) == (rawrpc.KEEPALIVE_PROGRAM, rawrpc.KEEPALIVE_PONG)
    a.stop()


def test_socket_activated_networkd(activated):
    """virtnetworkd as its units run it (issue 20): net-list on both sockets, a net-define
    refused on the read-only one, the admin socket answering."""
    need_tool("virsh")
    a = activated("virtnetworkd").start()
    assert virsh(a.uri(), "net-list", "--all").returncode == 0
    assert virsh(a.uri("-ro"), "net-list", "--all", readonly=True).returncode == 0
    xml = a.root / "ro-net.xml"
    xml.write_text("<network><name>ro</name></network>")
    r = virsh(a.uri("-ro"), "net-define", str(xml), check=False)
    assert r.returncode != 0 and "read only access prevents" in r.stderr, r.stderr
    with rawrpc.Client(str(a.socks["-admin"][0]), timeout=5.0) as c:
        c.send_keepalive(rawrpc.KEEPALIVE_PING)
        m = c.recv_message(timeout=5.0)
        assert (m.prog, m.proc) == (rawrpc.KEEPALIVE_PROGRAM, rawrpc.KEEPALIVE_PONG)
    a.stop()


def test_socket_activated_nodedevd(activated):
    """virtnodedevd as its units run it (issue 19 item 4): nodedev-list on both sockets,
    the same devices, the admin socket answering."""
    need_tool("virsh")
    a = activated("virtnodedevd").start()
    rw = virsh(a.uri(), "nodedev-list")
    ro = virsh(a.uri("-ro"), "nodedev-list", readonly=True)
    assert rw.returncode == 0 and "computer" in rw.stdout.split()
    assert ro.stdout == rw.stdout
    with rawrpc.Client(str(a.socks["-admin"][0]), timeout=5.0) as c:
        c.send_keepalive(rawrpc.KEEPALIVE_PING)
        m = c.recv_message(timeout=5.0)
        assert (m.prog, m.proc) == (rawrpc.KEEPALIVE_PROGRAM, rawrpc.KEEPALIVE_PONG)
    a.stop()


def test_socket_activated_proxy(activated):
    need_tool("virsh")
    qemu = activated("virtqemud").start()
    proxy = activated("virtproxyd").start()
    check_serves(proxy)
    # The proxy's client reached virtqemud (a definition made through the proxy is there).
    xml = proxy.root / "through-proxy.xml"
    xml.write_text("<domain type='qemu'><name>through-proxy</name><memory>32768</memory>"
                   "<os><type arch='x86_64'>hvm</type></os></domain>")
    virsh(proxy.uri(), "define", str(xml))
    assert "through-proxy" in virsh(qemu.uri(), "list", "--all", "--name").stdout
    virsh(qemu.uri(), "undefine", "through-proxy")
    proxy.stop()
    qemu.stop()


def test_proxy_as_its_own_user(activated, root):
    """virtproxyd as its unit runs it: its own user and group, no capability,
    no-new-privileges; the backend's read-write socket open to that group."""
    need_tool("virsh")
    uid = unused_id()
    os.chmod(root, 0o755)
    # The backend trusts that user to hand over clients (proxy_user).
    qemu = activated("virtqemud", socket_group=uid, extra_conf='proxy_user = "%d"\n' % uid)
    qemu.start()
    (root / "run").chmod(0o755)
    wrapper = [need_tool("setpriv"), "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups",
               "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs"]
    proxy = activated("virtproxyd", wrapper=wrapper)
    if not proxy.service["Service"].get("User"):
        pytest.skip("built with proxy_user=root")
    assert bounding_set(proxy.service) == set()
    for d in proxy.service["Service"].get("RuntimeDirectory", []):
        os.chown(root / "run" / d, uid, uid)
    proxy.start()
    st = proc_status(proxy.daemon.pid)
    assert st["Uid"][0] == str(uid) and st["CapBnd"] == ["0000000000000000"]
    assert st["NoNewPrivs"] == ["1"]
    r = virsh(proxy.uri(), "list", "--all", check=False)
    assert r.returncode == 0, r.stderr
    assert re.search(r"Id\s+Name\s+State", r.stdout), r.stdout
    proxy.stop()
    qemu.stop()


# ---------------------------------------------------------------- guests under the sandbox

def unit_in_build(name):
    return parse_unit(build_dir() / "systemd" / (name + ".service"))


@pytest.mark.parametrize("qemu_user", ["root", "nobody"])
def test_qemu_guest_under_unit_capabilities(daemons, root, request, qemu_user):
    guests = pytest.importorskip("guests")
    if not guests.guest_elf().exists():
        pytest.skip("test guest %s not built" % guests.guest_elf())
    if not os.path.exists(guests.QEMU):
        pytest.skip("%s not installed" % guests.QEMU)
    config = guests.DAEMON_CONFIG
    nobody = 65534
    if qemu_user == "nobody":
        if not (source_dir() / "src" / "virtqemud" / "qemu_security.c").exists():
            pytest.skip("virtqemud has no `user` key in this tree")
        config += 'user = "+%d"\ngroup = "%d"\n' % (nobody, nobody)
        os.chmod(root, 0o755)
    unit = unit_in_build("virtqemud")
    caps = bounding_set(unit)
    nnp = unit["Service"].get("NoNewPrivileges") == ["yes"]
    d = daemons.start(config=config, wrapper=setpriv_argv(unit))
    assert_sandboxed(d.pid, caps, nnp, "virtqemud")
    h = guests.Host(d, root)
    failed = True
    try:
        dom = h.define("sandboxed", "")
        con = h.start_ready(dom)
        qemu = h.pid("sandboxed")
        assert_sandboxed(qemu, caps, nnp, "QEMU")
        if qemu_user == "nobody":
            assert proc_status(qemu)["Uid"] == [str(nobody)] * 4
            assert proc_status(qemu)["CapEff"] == ["0000000000000000"]
        # ACPI shutdown, then a start and a destroy, then undefine.
        dom.shutdown()
        h.events.expect("sandboxed", ["DEFINED/ADDED", "STARTED/BOOTED", "SUSPENDED/PAUSED",
                                      "RESUMED/UNPAUSED", "SHUTDOWN/GUEST",
                                      "STOPPED/SHUTDOWN"])
        assert con.wait_end() == "EOF"
        dom.create()
        assert_sandboxed(h.pid("sandboxed"), caps, nnp, "QEMU")
        dom.destroy()
        assert dom.state()[0] == guests.SHUTOFF
        dom.undefine()
        h.events.wait_event("sandboxed", "UNDEFINED/REMOVED")
        h.assert_clean()
        failed = False
    finally:
        problems = h.finish(test_failed=failed)
    assert not problems, problems


LXC_INIT = """#!/bin/sh
trap 'exit 0' TERM
while :; do sleep 1 & wait $!; done
"""


def lxc_rootfs(path, busybox):
    for sub in ("bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy2(busybox, path / "bin" / "busybox")
    run(["chroot", path, "/bin/busybox", "--install", "-s"])
    (path / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (path / "etc" / "group").write_text("root:x:0:\n")
    (path / "sbin" / "svinit").write_text(LXC_INIT)
    (path / "sbin" / "svinit").chmod(0o755)
    return path


def lxc_xml(name, rootfs, idmap=""):
    return ("<domain type='lxc'><name>%s</name><memory unit='MiB'>64</memory>"
            "<os><type>exe</type><init>/sbin/svinit</init></os>%s"
            "<devices><filesystem type='mount'><source dir='%s'/><target dir='/'/>"
            "</filesystem><console type='pty'/></devices></domain>"
            % (name, idmap and "<idmap>%s</idmap>" % idmap, rootfs))


def lxc_init_pid(root, name):
    status = root / "run" / "libvirt" / "lxc" / ("%s.xml" % name)

    def pid():
        try:
            m = re.search(r"<init pid='(\d+)'", status.read_text())
        except FileNotFoundError:
            return None
        return m and int(m.group(1)) > 1 and int(m.group(1))
    return wait_for(pid, 10, "the init pid of " + name)


def test_containers_under_unit_capabilities(daemons, root):
    if not built("virtlxcd"):
        pytest.skip("virtlxcd not built")
    busybox = shutil.which("busybox")
    if not busybox or os.geteuid() != 0:
        pytest.skip("needs root and busybox-static")
    need_tool("virsh")
    unit = unit_in_build("virtlxcd")
    caps = bounding_set(unit)
    nnp = unit["Service"].get("NoNewPrivileges") == ["yes"]
    d = daemons.start(name="virtlxcd", label="virtlxcd",
                      config="term_timeout_ms = 400\nkill_timeout_ms = 2000\n",
                      wrapper=setpriv_argv(unit))
    assert_sandboxed(d.pid, caps, nnp, "virtlxcd")
    uri = "lxc+unix:///system?socket=%s" % d.sock
    os.chmod(root, 0o711)
    plain = lxc_rootfs(root / "rootfs-plain", busybox)
    userns = lxc_rootfs(root / "rootfs-userns", busybox)
    for top, dirs, files in os.walk(userns):
        for n in dirs + files:
            os.lchown(os.path.join(top, n), 100000, 100000)
    os.lchown(userns, 100000, 100000)
    idmap = ("<uid start='0' target='100000' count='65536'/>"
             "<gid start='0' target='100000' count='65536'/>")
    started = []
    try:
        for name, rootfs, extra in (("plain", plain, ""), ("userns", userns, idmap)):
            xml = root / (name + ".xml")
            xml.write_text(lxc_xml(name, rootfs, extra))
            virsh(uri, "define", str(xml))
            virsh(uri, "start", name)
            started.append(name)
            init = lxc_init_pid(root, name)
            if extra:
                # A new user namespace starts with every capability, but only over itself:
                # to the host its init is uid 100000.
                assert proc_status(init)["Uid"][0] == "100000"
                assert os.readlink("/proc/%d/ns/user" % init) != os.readlink(
                    "/proc/self/ns/user")
            else:
                assert_sandboxed(init, caps, nnp, "container %s's init" % name)
            assert "running" in virsh(uri, "domstate", name).stdout
        for name in started[:]:
            virsh(uri, "shutdown", name)
            wait_for(lambda: "shut off" in virsh(uri, "domstate", name).stdout, 15,
                     "%s to shut down" % name)
            started.remove(name)
            virsh(uri, "undefine", name)
    finally:
        for name in started:
            virsh(uri, "destroy", name, check=False)


# ---------------------------------------------------------------- configuration files

def conf_keys(text):
    """[(key, value)] of the commented-out `#key = value` lines."""
    return re.findall(r"^#([a-z_]+) = (.+)$", text, re.M)


def source_has_key(name, key):
    """Whether key is a string the daemon's sources use: the key itself, or its stem for
    the keys built from a table (admin_ prefix, _ms suffix)."""
    dirs = [source_dir() / "src" / "common", source_dir() / "src" / name]
    stems = {key, key[len("admin_"):] if key.startswith("admin_") else key,
             key[:-len("_ms")] if key.endswith("_ms") else key}
    for d in dirs:
        for f in d.rglob("*.c"):
            text = f.read_text(errors="replace")
            if any('"%s"' % s in text for s in stems):
                return True
    return False


@pytest.mark.parametrize("name", DAEMONS)
def test_conf_documents_keys_the_daemon_reads(install, name):
    text = install.dest(install.path("libvirt/%s.conf" % name)).read_text()
    assert "@" not in text, "unsubstituted @...@ in %s.conf" % name
    keys = conf_keys(text)
    assert keys, "no keys in %s.conf" % name
    unknown = [k for k, _ in keys if not source_has_key(name, k)]
    assert not unknown, "%s.conf shows keys no source reads: %r" % (name, unknown)
    # Every documented key is in docs/configuration.md too.
    doc = (source_dir() / "docs" / "configuration.md").read_text()
    missing = [k for k, _ in keys if "`%s`" % k not in doc]
    assert not missing, "docs/configuration.md lacks %r" % missing


@pytest.mark.parametrize("name", DAEMONS)
def test_conf_defaults_are_accepted(install, daemons, root, name):
    """All keys uncommented, with the values shown: the daemon starts with them."""
    if not built(name):
        pytest.skip("%s not built" % name)
    text = install.dest(install.path("libvirt/%s.conf" % name)).read_text()
    lines = ["%s = %s" % kv for kv in conf_keys(text)]
    # The _ms twins are not shown; with their stems they would change nothing anyway.
    d = daemons.start(name=name, label=name, config="\n".join(lines) + "\n",
                      ready_path=root / "run" / "libvirt" / (SOCK_PREFIX[name] + "-sock"))
    if name != "virtproxyd":  # the proxy has no backend here; it answered AUTH_LIST
        virsh("%s+unix:///system?socket=%s" % (DRIVER[name], d.sock),
              *({"virtsecretd": ["secret-list"], "virtstoraged": ["pool-list", "--all"],
                 "virtnodedevd": ["nodedev-list"], "virtnetworkd": ["net-list", "--all"]}
                .get(name, ["list", "--all"])))


def test_secret_conf_documents_keys_virtsecretd_reads(install, daemons, root):
    """The secrets driver's own secret.conf (libvirt 12.1's), installed beside
    virtsecretd.conf: its keys are read by virtsecretd and documented; with encrypt_data
    uncommented as shown, values are written encrypted with the key at the path shown
    (the default of secrets_encryption_key then; under --root, the daemon's root)."""
    conf = install.dest(install.path("libvirt/secret.conf"))
    assert os.path.dirname(str(conf)) == os.path.dirname(
        str(install.dest(install.path("libvirt/virtsecretd.conf"))))
    keys = conf_keys(conf.read_text())
    assert sorted(k for k, _ in keys) == ["encrypt_data", "secrets_encryption_key"]
    assert all(source_has_key("virtsecretd", k) for k, _ in keys)
    doc = (source_dir() / "docs" / "configuration.md").read_text()
    assert all("`%s`" % k in doc for k, _ in keys)
    if not built("virtsecretd"):
        pytest.skip("virtsecretd not built")
    etc = root / "etc" / "libvirt"
    etc.mkdir(parents=True)
    (etc / "secret.conf").write_text("encrypt_data = %s\n" % dict(keys)["encrypt_data"])
    key_path = dict(keys)["secrets_encryption_key"].strip('"')
    key_file = root / key_path.lstrip("/")
    key_file.parent.mkdir(parents=True)
    key_file.write_bytes(bytes(32))
    d = daemons.start(name="virtsecretd", label="virtsecretd")
    uuid = "9e4a3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"
    (root / "s.xml").write_text("<secret><uuid>%s</uuid></secret>" % uuid)
    (root / "v").write_text("dmFsdWU=")
    sock = "secret+unix:///system?socket=%s" % d.sock
    virsh(sock, "secret-define", str(root / "s.xml"))
    virsh(sock, "secret-set-value", uuid, "--file", str(root / "v"))
    assert sorted(os.listdir(etc / "secrets")) == [uuid + ".aes256cbc", uuid + ".xml"]


def test_man_pages_render_cleanly(install):
    groff = need_tool("groff")
    for n in DAEMONS:
        page = install.dest(install.path("man8/%s.8" % n))
        text = page.read_text()
        assert "@" not in text, "unsubstituted @...@ in %s.8" % n
        r = run([groff, "-t", "-man", "-ww", "-z", page], check=False)
        assert r.returncode == 0 and not r.stderr.strip(), "%s.8: %s" % (n, r.stderr)
