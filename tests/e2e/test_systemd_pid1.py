"""test_systemd_pid1.py: the units under a real systemd as PID 1.

These machines have no systemd as PID 1, so the test boots one: systemd 252 from Debian,
in new PID, mount and cgroup namespaces, with a private /run, private libvirt directories,
its cgroup trees rooted at a fresh cgroup of its own below the test's, and a unit path
holding only the units of a `meson install --destdir` of this build and empty stand-ins for
the targets they order against. Inside the namespace the installed programs appear at their installed paths (the
install's directory laid over the host's with an overlay), so the units run exactly as
installed, whatever directory the build tree sits in: virtproxyd's own user could not enter
a clone under /root (mode 0700), and its sandbox hides /tmp and home directories. The
installed configuration files, with the test's settings added, are the ones the daemons
read. Nothing of the host's configuration is read or changed; killing the namespace's PID 1
ends everything in it, and the cgroups it made are removed.

What it shows, with the units' whole sandbox applied by systemd itself:
- socket activation of virtqemud and virtproxyd (Type=notify: systemctl waits for READY=1),
  the socket modes and the proxy's group on the backend's read-write socket;
- a real guest survives `systemctl restart` and `systemctl stop` of virtqemud
  (KillMode=process), and the next daemon, activated by a client, takes it over;
- virtproxyd runs as its own user, hands a legacy-mode client to virtqemud, and the
  guest's lifecycle works through it;
- virtsecretd starts with no credential secrets-encryption-key (values in plain base64, as
  libvirt 9.0) and, once a credential store holds one (`systemd-creds encrypt`), gets it
  decrypted by systemd and keeps values sealed with it (libvirt 12.1's UUID.aes256cbc).
"""

import base64
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from guests import domain_xml, guest_elf
from svdaemon import QEMU_AS_ROOT, SANITIZER_MARKERS, build_dir
from svinstall import installed_tree

SYSTEMD = Path("/lib/systemd/systemd")
TARGETS = ("sysinit", "basic", "sockets", "shutdown", "multi-user", "paths", "timers",
           "network", "network-online", "local-fs", "remote-fs", "slices")
# The daemons whose installed units the namespace gets.
DAEMONS = ("virtqemud", "virtproxyd", "virtsecretd")
# The libvirt directories the daemons use, private to the namespace.
PRIVATE_DIRS = ("/etc/libvirt", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt")
BOOT_TIMEOUT = 20
CALL_TIMEOUT = 30

BOOT_SCRIPT = r"""#!/bin/sh
set -e
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/systemd
# cgroup trees rooted at this namespace's cgroup, so systemd's slices stay inside it.
if [ "$(stat -fc %%T /sys/fs/cgroup)" = cgroup2fs ]; then
    mount -t cgroup2 cgroup2 /sys/fs/cgroup
else
    mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup
    for c in blkio cpu,cpuacct cpuset devices freezer memory pids; do
        mkdir -p /sys/fs/cgroup/$c
        mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c 2>/dev/null || rmdir /sys/fs/cgroup/$c
    done
    mkdir -p /sys/fs/cgroup/systemd
    mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd
fi
# An empty private directory at $1, made without touching the host's file system: a
# tmpfs on the nearest directory that exists, then the rest inside it.
private_dir() {
    a="$1"
    while [ ! -d "$a" ]; do a=$(dirname "$a"); done
    mount -t tmpfs -o mode=755 tmpfs "$a"
    mkdir -p "$1"
}
# The installed directory $1 of DESTDIR at its installed path: laid over the host's
# directory (which stays unchanged, and visible below), or in a private one.
expose() {
    if [ -d "$1" ]; then
        mount -t overlay overlay -o "lowerdir=%(dest)s$1:$1" "$1"
    else
        private_dir "$1"
        mount --bind "%(dest)s$1" "$1"
    fi
}
for d in %(progdirs)s; do
    expose "$d"
done
for d in %(dirs)s; do
    private_dir "$d"
done
[ -d "%(confdir)s" ] || private_dir "%(confdir)s"
mount --bind "%(root)s/conf" "%(confdir)s"
mount --bind "%(root)s/passwd" /etc/passwd
mount --bind "%(root)s/group" /etc/group
# Shared propagation inside the namespace (new peer groups: nothing reaches the host), as
# systemd makes it when it boots a machine: it sets up a service's credentials in a child
# mount namespace and moves them to /run/credentials/UNIT, which its own namespace sees
# only through propagation.
mount --make-rshared /
export SYSTEMD_UNIT_PATH="%(root)s/units"
exec %(systemd)s --system --unit=sv-test.target --log-level=notice
"""


def sanitized():
    """True when this build uses a sanitizer (its b_sanitize option)."""
    try:
        opts = json.loads((build_dir() / "meson-info" / "intro-buildoptions.json").read_text())
    except (OSError, ValueError):
        return False
    return any(o["name"] == "b_sanitize" and o["value"] not in ("none", "") for o in opts)


def unused_id(path, start=61000):
    """A number no entry of the passwd or group file at path uses."""
    used = {int(line.split(":")[2]) for line in Path(path).read_text().splitlines()
            if line.count(":") >= 3 and line.split(":")[2].isdigit()}
    n = start
    while n in used:
        n += 1
    return n


def own_cgroups():
    """{hierarchy directory under /sys/fs/cgroup: our cgroup path in it}."""
    out = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            name = "unified" if Path("/sys/fs/cgroup/unified").is_dir() else ""
        elif controllers == "name=systemd":
            name = "systemd"
        else:
            name = controllers
        out[Path("/sys/fs/cgroup") / name] = path.lstrip("/")
    return out


def private_cgroups(tag):
    """A fresh cgroup below ours in every hierarchy, for one namespace's systemd: two
    tests booting at once (the builds' suites run side by side) must not share the
    slices their systemds make. {hierarchy: the new cgroup's directory}."""
    out = {}
    for tree, own in own_cgroups().items():
        d = tree / own / tag
        d.mkdir()
        for knob in ("cpuset.cpus", "cpuset.mems"):   # a v1 cpuset child starts empty
            if (d / knob).exists():
                (d / knob).write_text((d.parent / knob).read_text())
        out[tree] = d
    return out


def remove_cgroup_tree(top, deadline):
    """rmdir a cgroup and everything below it, deepest first, waiting (until deadline)
    for the processes of the killed namespace to leave them."""
    dirs = [Path(d) for d, _, _ in os.walk(top, topdown=False)]
    for d in dirs:
        while d.is_dir():
            try:
                d.rmdir()
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)


class Pid1:
    """systemd as PID 1 of private namespaces, and commands run inside them."""

    def __init__(self, root, install):
        self.root = root
        self.proc = None
        self.pid = None
        self.cgroups = {}
        units = root / "units"
        units.mkdir()
        for t in TARGETS:
            (units / ("%s.target" % t)).write_text("[Unit]\nDescription=stand-in %s\n" % t)
        (units / "sv-test.target").write_text("[Unit]\nDescription=test\n")
        # The installed units, unchanged.
        for unit in install.unitdir().iterdir():
            if unit.name.startswith(DAEMONS):
                shutil.copy(unit, units / unit.name)
        # The directories of the programs they start, shown at their installed paths.
        self.progdirs = sorted({os.path.dirname(self.exec_start(units / (n + ".service"))[0])
                                for n in DAEMONS})
        # The units' configuration directory: a private one with the installed files plus
        # the test's settings.
        self.confdir = self.unit_config_dir(units / "virtqemud.service")
        conf = root / "conf"
        conf.mkdir()
        for name, extra in (("virtqemud", QEMU_AS_ROOT + "log_level = 2\nterm_timeout = 5\n"),
                            ("virtproxyd", "log_level = 2\n"),
                            ("virtsecretd", "log_level = 2\n")):
            installed = install.dest(install.path("libvirt/%s.conf" % name)).read_text()
            (conf / ("%s.conf" % name)).write_text(installed + extra)
        # The proxy's system user, as sysusers would make it, in private copies.
        self.proxy_uid = unused_id("/etc/passwd")
        self.proxy_gid = unused_id("/etc/group")
        (root / "passwd").write_text(Path("/etc/passwd").read_text() +
                                     "virtproxyd:x:%d:%d::/nonexistent:/usr/sbin/nologin\n"
                                     % (self.proxy_uid, self.proxy_gid))
        (root / "group").write_text(Path("/etc/group").read_text() +
                                    "virtproxyd:x:%d:\n" % self.proxy_gid)
        # Where the services' output goes (there is no journal), and sanitizer settings
        # a seccomp-filtered service can live with (LeakSanitizer needs ptrace).
        for name in DAEMONS:
            dropin = units / ("%s.service.d" % name)
            dropin.mkdir()
            text = "[Service]\nStandardOutput=append:%s/%s.log\nStandardError=inherit\n" % (
                root, name)
            if sanitized():
                text += "Environment=ASAN_OPTIONS=detect_leaks=0:abort_on_error=1\n"
                text += "Environment=UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1\n"
            (dropin / "test.conf").write_text(text)
        script = root / "boot.sh"
        script.write_text(BOOT_SCRIPT % {"dirs": " ".join(PRIVATE_DIRS), "root": root,
                                         "confdir": self.confdir, "systemd": SYSTEMD,
                                         "dest": install.destdir,
                                         "progdirs": " ".join(self.progdirs)})
        script.chmod(0o755)

    @staticmethod
    def exec_start(service):
        """The words of a unit's ExecStart=."""
        for line in service.read_text().splitlines():
            if line.startswith("ExecStart="):
                return line[len("ExecStart="):].split()
        raise AssertionError("no ExecStart in %s" % service)

    @classmethod
    def unit_config_dir(cls, service):
        """The directory of the unit's --config, or the daemons' default."""
        args = cls.exec_start(service)
        if "--config" not in args:
            return "/etc/libvirt"
        return str(Path(args[args.index("--config") + 1]).parent)

    def boot(self):
        self.cgroups = private_cgroups("sv-pid1-%d-%s" % (os.getpid(), self.root.name))
        procs = [str(d / "cgroup.procs") for d in self.cgroups.values()]

        def enter_cgroups():
            for f in procs:
                with open(f, "w") as out:
                    out.write("0")
        self.proc = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount", "--cgroup", "--propagation", "private",
             "--mount-proc", str(self.root / "boot.sh")],
            stdout=open(self.root / "pid1.log", "wb"), stderr=subprocess.STDOUT,
            preexec_fn=enter_cgroups)
        deadline = time.monotonic() + BOOT_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("systemd did not start: %s" %
                                     (self.root / "pid1.log").read_text())
            children = Path("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid))
            kids = children.read_text().split() if children.exists() else []
            if kids:
                self.pid = int(kids[0])
                r = self.run(["systemctl", "is-system-running"], check=False)
                if r.stdout.strip() in ("running", "degraded"):
                    return
            time.sleep(0.05)
        raise AssertionError("systemd did not reach its target: %s" %
                             (self.root / "pid1.log").read_text())

    def run(self, argv, check=True, timeout=CALL_TIMEOUT):
        r = subprocess.run(["nsenter", "-t", str(self.pid), "-m", "-p", "-C"] + argv,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("%s failed (%d): %s%s" % (" ".join(argv), r.returncode,
                                                            r.stdout, r.stderr))
        return r

    def systemctl(self, *args, check=True):
        return self.run(["systemctl", "--no-pager"] + list(args), check=check)

    def show(self, unit, prop):
        return self.systemctl("show", "-p", prop, "--value", unit).stdout.strip()

    def virsh(self, uri, *args, check=True):
        return self.run(["virsh", "-q", "-c", uri] + list(args), check=check)

    def file(self, path):
        """A file of the namespace's private mounts, read from outside."""
        return Path("/proc/%d/root%s" % (self.pid, path))

    def logs(self):
        text = ""
        for name in ("pid1",) + DAEMONS:
            p = self.root / ("%s.log" % name)
            if p.exists():
                text += "---- %s ----\n%s" % (name, p.read_text(errors="replace"))
        return text

    def shutdown(self):
        """End the namespace: its PID 1 killed, everything in it goes."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc:
            self.proc.wait(timeout=10)
        # The namespace's cgroups and all systemd made below them.
        deadline = time.monotonic() + 5
        for top in self.cgroups.values():
            remove_cgroup_tree(top, deadline)


def need_pid1():
    """Skip unless this test can boot systemd in namespaces."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    for tool in ("unshare", "nsenter", "virsh", "meson"):
        if not shutil.which(tool):
            pytest.skip("%s not installed" % tool)
    if not SYSTEMD.exists():
        pytest.skip("systemd not installed")
    if not (build_dir() / "src" / "virtproxyd" / "virtproxyd").exists():
        pytest.skip("virtproxyd not built in %s" % build_dir())


@pytest.fixture(scope="module")
def install():
    need_pid1()
    yield from installed_tree()


@pytest.fixture
def pid1(root, install):
    p = Pid1(root, install)
    try:
        p.boot()
        yield p
    finally:
        logs = p.logs()
        p.shutdown()
        for marker in SANITIZER_MARKERS:
            assert marker not in logs, logs


def qemu_pid(p, name):
    """QEMU's pid in the namespace (its pid file says that one)."""
    return int(p.file("/run/libvirt/qemu/%s.pid" % name).read_text())


def alive(p, pid):
    """A live, non-zombie process of the namespace."""
    try:
        return p.file("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_guest_survives_restart_and_stop_of_its_daemon(pid1, root):
    p = pid1
    p.systemctl("start", "virtqemud.socket", "virtqemud-ro.socket", "virtqemud-admin.socket")
    modes = {n: oct(p.file("/run/libvirt/" + n).stat().st_mode & 0o777)
             for n in ("virtqemud-sock", "virtqemud-sock-ro", "virtqemud-admin-sock")}
    assert modes == {"virtqemud-sock": "0o660", "virtqemud-sock-ro": "0o666",
                     "virtqemud-admin-sock": "0o600"}
    assert p.file("/run/libvirt/virtqemud-sock").stat().st_gid == p.proxy_gid
    assert p.show("virtqemud.service", "ActiveState") == "inactive"

    # The first client activates the daemon; Type=notify means READY=1 came.
    xml = root / "g.xml"
    xml.write_text(domain_xml("sdg", str(guest_elf()), "tick"))
    p.virsh("qemu:///system", "define", str(xml))
    assert p.show("virtqemud.service", "ActiveState") == "active"
    first = int(p.show("virtqemud.service", "MainPID"))
    # The installed program, at its installed path.
    installed = Pid1.exec_start(root / "units" / "virtqemud.service")[0]
    assert os.readlink(p.file("/proc/%d/exe" % first)) == installed
    p.virsh("qemu:///system", "start", "sdg")
    qemu = qemu_pid(p, "sdg")
    assert alive(p, qemu)
    # QEMU runs in the daemon's service, under its sandbox.
    status = p.file("/proc/%d/status" % qemu).read_text()
    assert "NoNewPrivs:\t1" in status

    # Restart: the daemon goes, the guest stays, the new daemon takes it over.
    p.systemctl("restart", "virtqemud.service")
    second = int(p.show("virtqemud.service", "MainPID"))
    assert second not in (0, first)
    assert alive(p, qemu) and qemu_pid(p, "sdg") == qemu
    assert p.virsh("qemu:///system", "domstate", "sdg", "--reason").stdout.strip() == \
        "running (booted)"

    # Stop: nothing runs the daemon until a client comes; the guest still runs.
    p.systemctl("stop", "virtqemud.service")
    assert p.show("virtqemud.service", "ActiveState") == "inactive"
    assert alive(p, qemu)
    out = p.virsh("qemu:///system", "list").stdout
    assert "sdg" in out and "running" in out
    assert int(p.show("virtqemud.service", "MainPID")) not in (0, first, second)

    p.virsh("qemu:///system", "destroy", "sdg")
    deadline = time.monotonic() + 10
    while alive(p, qemu) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(p, qemu)
    assert p.virsh("qemu:///system", "domstate", "sdg", "--reason").stdout.strip() == \
        "shut off (destroyed)"
    p.systemctl("stop", "virtqemud.service")
    assert p.show("virtqemud.service", "Result") == "success"


def test_proxy_as_its_own_user_hands_clients_over(pid1, root):
    p = pid1
    p.systemctl("start", "virtqemud.socket", "virtqemud-ro.socket", "virtqemud-admin.socket",
                "virtproxyd.socket", "virtproxyd-ro.socket", "virtproxyd-admin.socket")
    xml = root / "g.xml"
    xml.write_text(domain_xml("viaproxy", str(guest_elf()), "tick"))
    legacy = "qemu:///system?mode=legacy"
    p.virsh(legacy, "define", str(xml))
    proxy = int(p.show("virtproxyd.service", "MainPID"))
    status = p.file("/proc/%d/status" % proxy).read_text()
    uid_line = [line for line in status.splitlines() if line.startswith("Uid:")][0]
    assert uid_line.split()[1:] == [str(p.proxy_uid)] * 4
    cap_line = [line for line in status.splitlines() if line.startswith("CapEff:")][0]
    assert int(cap_line.split()[1], 16) == 0
    # It runs the installed program, at its installed path.
    installed = Pid1.exec_start(root / "units" / "virtproxyd.service")[0]
    assert os.readlink(p.file("/proc/%d/exe" % proxy)) == installed
    p.virsh(legacy, "start", "viaproxy")
    assert p.virsh(legacy, "domstate", "viaproxy").stdout.strip() == "running"
    p.virsh(legacy, "destroy", "viaproxy")
    p.virsh(legacy, "undefine", "viaproxy")
    assert p.virsh(legacy, "list", "--all").stdout.strip() == ""
    # The proxy passed the clients on: the backend saw them as its own.
    assert p.show("virtqemud.service", "ActiveState") == "active"


SECRET_UUID = "8e4a3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"


def test_secretd_key_from_a_credential_store(pid1, root):
    p = pid1
    uri = "secret:///system"
    secrets = "/etc/libvirt/secrets"
    (root / "s.xml").write_text("<secret><uuid>%s</uuid><usage type='ceph'><name>pid1</name>"
                                "</usage></secret>" % SECRET_UUID)
    for name, value in (("v1", b"first value"), ("v2", b"second value")):
        (root / name).write_bytes(base64.b64encode(value))
    p.systemctl("start", "virtsecretd.socket", "virtsecretd-ro.socket",
                "virtsecretd-admin.socket")
    # No credential anywhere: the service starts, values are plain base64 (libvirt 9.0).
    p.virsh(uri, "secret-define", str(root / "s.xml"))
    p.virsh(uri, "secret-set-value", SECRET_UUID, "--file", str(root / "v1"))
    assert p.show("virtsecretd.service", "ActiveState") == "active"
    assert sorted(os.listdir(p.file(secrets))) == [SECRET_UUID + ".base64",
                                                   SECRET_UUID + ".xml"]
    p.systemctl("stop", "virtsecretd.service")

    # The key, encrypted as a credential into a store systemd searches (no TPM here: the
    # tpm2-absent key, which systemd accepts on a machine without TPM2).
    key = bytes(range(100, 132))
    (root / "key").write_bytes(key)
    p.run(["mkdir", "-p", "/run/credstore.encrypted"])
    p.run(["systemd-creds", "encrypt", "--with-key=tpm2-absent",
           "--name=secrets-encryption-key", str(root / "key"),
           "/run/credstore.encrypted/secrets-encryption-key"])
    assert key not in p.file("/run/credstore.encrypted/secrets-encryption-key").read_bytes()

    # Activated again: the plain value is still read, and sealed when set again.
    got = p.virsh(uri, "secret-get-value", SECRET_UUID).stdout.strip()
    assert base64.b64decode(got) == b"first value"
    p.virsh(uri, "secret-set-value", SECRET_UUID, "--file", str(root / "v2"))
    assert sorted(os.listdir(p.file(secrets))) == [SECRET_UUID + ".aes256cbc",
                                                   SECRET_UUID + ".xml"]
    sealed = base64.b64decode(p.file(secrets + "/" + SECRET_UUID + ".aes256cbc").read_bytes())
    r = subprocess.run(["openssl", "enc", "-d", "-aes-256-cbc", "-K", key.hex(),
                        "-iv", sealed[:16].hex()], input=sealed[16:], capture_output=True,
                       timeout=CALL_TIMEOUT)
    assert r.returncode == 0 and r.stdout == b"second value", r.stderr
    p.systemctl("restart", "virtsecretd.service")
    got = p.virsh(uri, "secret-get-value", SECRET_UUID).stdout.strip()
    assert base64.b64decode(got) == b"second value"
    p.systemctl("stop", "virtsecretd.service")
    assert p.show("virtsecretd.service", "Result") == "success"
