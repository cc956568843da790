"""test_qemu_security.py: QEMU without root, file ownership, and the SELinux driver.

- By default QEMU runs as Debian's libvirt runs it: libvirt-qemu:libvirt-qemu with kvm
  among its groups (scripts/deps.sh and the sysusers.d file create them); the files it
  opens by path are given to it while it runs and back to their owners after, also
  across a SIGKILLed daemon; the live XML carries libvirt's DAC label. (The rest of
  the suite configures root: see svdaemon.QEMU_AS_ROOT.)

- virtqemud.conf `user` and `group` (names or numbers): QEMU runs with that uid,
  gid and the user's groups (/proc/PID/status), in a clean environment whose HOME
  is its per-guest directory, which it owns; the daemon stays root. A file QEMU
  cannot read makes the start fail with QEMU's own complaint.
- SELinux, through the fake libselinux (tests/fake-selinux, LD_PRELOADed; it logs
  every setexeccon/setsockcreatecon/setfilecon): model "selinux", doi "0"; each
  running guest has its own category pair, shown by DOMAIN_GET_SECURITY_LABEL and
  the live XML, kept across a SIGKILLed daemon (status file); images are
  labelled with the image context and the same categories, kernels with the
  shared content context, and every file gets its original label back once no
  running guest uses it.
- Without the fake (SELinux off here): the "none" model, empty labels.

Every test ends as the `host` fixture's do (guests.py): no QEMU process of its
root, no pid file, no domain directory left.
"""

import grp
import os
import pwd
import re
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from guests import (DAEMON_CONFIG, EVENT_TIMEOUT, QEMU, RUNNING, SHUTOFF, Events, Host,
                    domain_xml, guest_elf, libvirt)
from svdaemon import build_dir, daemon_binary

FAKE_SELINUX = build_dir() / "tests" / "fake-selinux" / "fake-selinux.so"
FAKE_FILE_LABEL = "system_u:object_r:fake_file_t:s0"  # the fake's label of untouched files
CONTENT_LABEL = "system_u:object_r:virt_content_t:s0"
LABEL_RE = re.compile(r"^system_u:system_r:svirt_tcg_t:s0:c(\d+),c(\d+)$")

ADDED = "DEFINED/ADDED"
BOOTED = "STARTED/BOOTED"
PAUSED_EV = "SUSPENDED/PAUSED"
UNPAUSED = "RESUMED/UNPAUSED"
SHUTDOWN_GUEST = "SHUTDOWN/GUEST"
STOPPED_SHUTDOWN = "STOPPED/SHUTDOWN"
STOPPED_DESTROYED = "STOPPED/DESTROYED"

NOBODY = 65534


def asan_runtime():
    """The sanitizer runtime, when virtqemud is ASan-instrumented: it must come first in
    LD_PRELOAD."""
    out = subprocess.run(["ldd", str(daemon_binary())], capture_output=True, text=True).stdout
    if "libasan" not in out:
        return None
    return subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                          text=True).stdout.strip()


def proc_status(pid):
    """The fields of /proc/PID/status as {name: [values]}."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.split()
    return out


def proc_environ(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        return dict(e.decode().split("=", 1) for e in f.read().split(b"\0") if b"=" in e)


def error_message(fn, *args):
    with pytest.raises(libvirt.libvirtError) as exc:
        fn(*args)
    return exc.value.get_error_message()


# ---------------------------------------------------------------- hosts

class SecHost(Host):
    """guests.Host over a daemon with extra configuration and environment, which can be
    SIGKILLed and started again."""

    def __init__(self, daemons, root, config="", env=None, qemu_as_root=True):
        self.daemons = daemons
        self.config = DAEMON_CONFIG + config
        self.env = env
        self.qemu_as_root = qemu_as_root
        super().__init__(daemons.start(config=self.config, env=env, qemu_as_root=qemu_as_root),
                         root)

    def xml(self, name, cmdline="", disk=None, seclabel_none=False, **kw):
        x = domain_xml(name, self.kernel, cmdline, **kw)
        if disk:
            x = x.replace("<devices>", "<devices><disk type='file' device='disk'>"
                          "<driver name='qemu' type='raw'/><source file='%s'/>"
                          "<target dev='vda' bus='virtio'/></disk>" % disk, 1)
        if seclabel_none:
            x = x.replace("</domain>", "<seclabel type='none'/></domain>")
        return x

    def define(self, name, cmdline="", **kw):
        return self.conn.defineXML(self.xml(name, cmdline, **kw))

    def image(self, name):
        """A 1 MiB raw disk image in the root."""
        path = self.root / ("%s.img" % name)
        with open(path, "wb") as f:
            f.truncate(1 << 20)
        return path

    def kill_and_restart(self, while_down=None):
        """SIGKILL the daemon (guests live on), call while_down(), and start another
        daemon on the same root."""
        self.events.close()
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait_exit(10)
        self.daemon.expected_status = -signal.SIGKILL
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass
        if while_down:
            while_down()
        self.daemon = self.daemons.start(config=self.config, env=self.env,
                                         qemu_as_root=self.qemu_as_root)
        self.conn = libvirt.open(self.uri)
        self.events = Events(self.uri)


@pytest.fixture
def make_host(daemons, root, request):
    """make_host(config, env): a SecHost; checked after the test like the `host` fixture.
    The root is opened up (0755) so a QEMU that is not root reaches the kernel in it."""
    if not guest_elf().exists():
        pytest.skip("test guest %s not built" % guest_elf())
    if not os.path.exists(QEMU):
        pytest.skip("%s not installed" % QEMU)
    os.chmod(root, 0o755)
    hosts = []

    def make(config="", env=None, qemu_as_root=True):
        h = SecHost(daemons, root, config, env, qemu_as_root)
        hosts.append(h)
        return h

    yield make
    rep = getattr(request.node, "rep_call", None)
    problems = []
    for h in hosts:
        problems += h.finish(test_failed=rep is not None and rep.failed)
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


class FakeSelinux:
    """The fake's environment and its call log."""

    def __init__(self, root):
        if not FAKE_SELINUX.exists():
            pytest.skip("fake libselinux %s not built" % FAKE_SELINUX)
        self.dir = root / "fake-selinux"
        self.dir.mkdir()
        self.log = self.dir / "calls.log"
        preload = [p for p in (asan_runtime(), str(FAKE_SELINUX)) if p]
        self.env = {"LD_PRELOAD": ":".join(preload), "SV_FAKE_SELINUX_LOG": str(self.log)}

    def calls(self, name=None):
        """[(call, args...)] in order, optionally only those named name."""
        out = []
        text = self.log.read_text() if self.log.exists() else ""
        for line in text.splitlines():
            fields = tuple(line.split("\t"))
            if name is None or fields[0] == name:
                out.append(fields)
        return out

    def file_label(self, path):
        """The label the fake's file system has for path now."""
        label = FAKE_FILE_LABEL
        for _, p, con in self.calls("setfilecon"):
            if p == str(path):
                label = con
        return label


def categories(label):
    m = LABEL_RE.match(label)
    assert m, "label %r is not svirt_tcg_t with a category pair" % label
    a, b = int(m.group(1)), int(m.group(2))
    assert 0 <= a < b <= 1023, label
    return "c%d,c%d" % (a, b)


def live_seclabel(dom):
    """(type, model, relabel, label, imagelabel) of the live XML's <seclabel>, or None."""
    el = ET.fromstring(dom.XMLDesc(0)).find("seclabel")
    if el is None:
        return None
    return (el.get("type"), el.get("model"), el.get("relabel"), el.findtext("label"),
            el.findtext("imagelabel"))


# ---------------------------------------------------------------- without SELinux

def test_without_selinux_the_model_is_none(make_host):
    h = make_host()
    assert h.conn.getSecurityModel() == ["none", "0"]  # libvirtd's answer without SELinux
    assert "<model>none</model>" in h.conn.getCapabilities()
    dom = h.define("plain", "")
    dom.create()
    assert dom.securityLabel() == ["", False]
    # As libvirtd's: the DAC driver's label, QEMU's identity (root in this test).
    assert live_seclabel(dom) == ("dynamic", "dac", "yes", "+0:+0", "+0:+0")
    # MIGRATABLE leaves out the DAC label every guest has (as libvirtd's: the other host
    # labels its own), so that the XML is one a define, or a migration's --xml, takes.
    migratable = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    assert "<seclabel" not in migratable
    dom.destroy()
    assert dom.securityLabel() == ["", False]
    h.conn.defineXML(migratable).undefine()
    h.assert_clean()


# ---------------------------------------------------------------- QEMU without root

@pytest.mark.parametrize("user,group", [('"+65534"', "65534"), ('"nobody"', '"nogroup"')],
                         ids=["numbers", "names"])
def test_qemu_runs_as_the_configured_user(make_host, user, group):
    h = make_host('user = %s\ngroup = %s\n' % (user, group))
    dom = h.define("nobody", "")
    con = h.start_ready(dom)
    pid = h.pid("nobody")
    st = proc_status(pid)
    assert st["Uid"] == [str(NOBODY)] * 4, st["Uid"]
    assert st["Gid"] == [str(NOBODY)] * 4, st["Gid"]
    groups = sorted(os.getgrouplist("nobody", NOBODY))
    assert sorted(int(g) for g in st["Groups"]) == groups, st["Groups"]
    assert st["CapEff"] == ["0000000000000000"], st["CapEff"]
    # The daemon stays root.
    assert proc_status(h.daemon.pid)["Uid"][0] == "0"
    # Its own directory, and an environment of its own: nothing of the daemon's.
    domdir = h.qemu_lib / h.domain_dirs()[0]
    assert (domdir.stat().st_uid, domdir.stat().st_gid) == (NOBODY, NOBODY)
    env = proc_environ(pid)
    assert env["HOME"] == str(domdir)
    assert env["USER"] == "nobody" and env["LC_ALL"] == "C"
    assert not [k for k in env if k.startswith(("LD_", "ASAN_", "UBSAN_", "G_"))], env
    # The console (a pty QEMU opened as nobody) and the ACPI power button work.
    dom.shutdown()
    h.events.expect("nobody", [ADDED, BOOTED, PAUSED_EV, UNPAUSED, SHUTDOWN_GUEST,
                               STOPPED_SHUTDOWN])
    assert con.wait_end() == "EOF"
    assert dom.state() == [SHUTOFF, 1]
    h.assert_clean()

    # A guest that powers itself off, and a destroy.
    poff = h.define("poff", "off=300", on_poweroff="destroy")
    poff.create()
    h.events.expect("poff", [ADDED, BOOTED, SHUTDOWN_GUEST, STOPPED_SHUTDOWN])
    dom.create()
    assert proc_status(h.pid("nobody"))["Uid"][0] == str(NOBODY)
    dom.destroy()
    assert dom.state() == [SHUTOFF, 2]
    h.assert_clean()


def dac_label(dom):
    """The live XML's DAC <label>, or None."""
    for sl in ET.fromstring(dom.XMLDesc(0)).findall("seclabel"):
        if sl.get("model") == "dac":
            assert (sl.get("type"), sl.get("relabel")) == ("dynamic", "yes")
            return sl.findtext("label")
    return None


def test_qemu_runs_as_libvirt_qemu_by_default(make_host):
    uid = pwd.getpwnam("libvirt-qemu").pw_uid
    gid = grp.getgrnam("libvirt-qemu").gr_gid
    kvm = grp.getgrnam("kvm").gr_gid
    h = make_host(qemu_as_root=False)
    img = h.image("own")
    os.chown(img, 1234, 1235)  # a user's image, not root's
    dom = h.define("own", "", disk=img)
    assert dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).count("<seclabel") == 0
    h.start_ready(dom)
    st = proc_status(h.pid("own"))
    assert st["Uid"] == [str(uid)] * 4, st["Uid"]
    assert st["Gid"] == [str(gid)] * 4, st["Gid"]
    assert kvm in [int(g) for g in st["Groups"]] and gid in [int(g) for g in st["Groups"]]
    assert (img.stat().st_uid, img.stat().st_gid) == (uid, gid)
    assert (h.kernel.stat().st_uid, h.kernel.stat().st_gid) == (uid, gid)
    assert dac_label(dom) == "+%d:+%d" % (uid, gid)
    dom.destroy()
    h.events.expect("own", [ADDED, BOOTED, PAUSED_EV, UNPAUSED, STOPPED_DESTROYED])
    assert (img.stat().st_uid, img.stat().st_gid) == (1234, 1235)
    assert (h.kernel.stat().st_uid, h.kernel.stat().st_gid) == (0, 0)
    assert dac_label(dom) is None
    # The owners to give back survive a daemon killed while the guest runs.
    dom.create()
    assert img.stat().st_uid == uid
    h.kill_and_restart()
    dom = h.conn.lookupByName("own")
    assert dac_label(dom) == "+%d:+%d" % (uid, gid)
    dom.destroy()
    assert (img.stat().st_uid, img.stat().st_gid) == (1234, 1235)
    h.assert_clean()


def test_without_remember_owner_files_go_back_to_root(make_host):
    """As libvirt: remember_owner = 0 gives files back to root."""
    h = make_host('remember_owner = 0\nuser = "+65534"\ngroup = "+65534"\n')
    img = h.image("forget")
    os.chown(img, 1234, 1235)
    dom = h.define("forget", "", disk=img)
    dom.create()
    assert (img.stat().st_uid, img.stat().st_gid) == (NOBODY, NOBODY)
    dom.destroy()
    assert (img.stat().st_uid, img.stat().st_gid) == (0, 0)
    h.assert_clean()


def test_without_dynamic_ownership_files_are_left_alone(make_host):
    h = make_host('dynamic_ownership = 0\nuser = "+65534"\ngroup = "+65534"\n')
    img = h.image("keep")
    os.chown(img, 1234, 1235)
    os.chmod(img, 0o666)
    dom = h.define("keep", "", disk=img)
    dom.create()
    assert (img.stat().st_uid, img.stat().st_gid) == (1234, 1235)
    dom.destroy()
    assert (img.stat().st_uid, img.stat().st_gid) == (1234, 1235)
    h.assert_clean()


def test_a_kernel_qemu_cannot_read(make_host, root):
    h = make_host("user = 65534\ngroup = 65534\n")
    private = root / "private"
    private.mkdir(mode=0o700)
    kernel = private / "svguest.elf"
    kernel.write_bytes(h.kernel.read_bytes())
    xml = domain_xml("unread", kernel, "")
    dom = h.conn.defineXML(xml)
    message = error_message(dom.create)
    # QEMU's own complaint, from its log, names the file and the reason.
    assert str(kernel) in message and "Permission denied" in message, message
    assert dom.state()[0] == SHUTOFF
    h.assert_clean()


def test_an_unknown_user_stops_the_daemon(daemons):
    d = daemons.new(config="user = \"sv-no-such-user\"\n")
    d.expected_status = "nonzero"
    d.start(wait=False)
    d.wait_exit(10)
    assert "user 'sv-no-such-user'" in d.stderr_text()


# ---------------------------------------------------------------- SELinux (fake)

def test_selinux_labels(make_host, root):
    fake = FakeSelinux(root)
    h = make_host(env=fake.env)
    assert h.conn.getSecurityModel() == ["selinux", "0"]
    caps = h.conn.getCapabilities()
    assert "<model>selinux</model>" in caps
    assert "<baselabel type='qemu'>system_u:system_r:svirt_tcg_t:s0</baselabel>" in caps

    images = {n: h.image(n) for n in ("sa", "sb")}
    doms = {n: h.define(n, "", disk=images[n]) for n in ("sa", "sb")}
    assert doms["sa"].securityLabel() == ["", False]  # not running
    for dom in doms.values():
        dom.create()
    labels = {n: d.securityLabel() for n, d in doms.items()}
    cats = {n: categories(labels[n][0]) for n in doms}
    assert cats["sa"] != cats["sb"], labels
    for n, dom in doms.items():
        assert labels[n][1] is True  # enforcing
        image_label = "system_u:object_r:svirt_image_t:s0:" + cats[n]
        assert live_seclabel(dom) == ("dynamic", "selinux", "yes", labels[n][0], image_label)
        assert "<seclabel" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        # QEMU was exec'ed in the label, its monitor socket made with it.
        assert ("setexeccon", labels[n][0]) in fake.calls("setexeccon")
        assert ("setsockcreatecon", labels[n][0]) in fake.calls("setsockcreatecon")
        assert fake.file_label(images[n]) == image_label
    # Each context is set only around its own fork and socket.
    assert fake.calls("setexeccon")[-1] == ("setexeccon", "(null)")
    assert fake.calls("setsockcreatecon")[-1] == ("setsockcreatecon", "(null)")
    assert fake.file_label(h.kernel) == CONTENT_LABEL

    # A daemon SIGKILLed and started again finds the same labels (status file).
    h.kill_and_restart()
    for n, dom in doms.items():
        dom = h.conn.lookupByName(n)
        assert dom.securityLabel() == labels[n]
        assert live_seclabel(dom)[3] == labels[n][0]
    # and does not give their categories to a new guest.
    sc = h.define("sc", "", disk=h.image("sc"))
    sc.create()
    assert categories(sc.securityLabel()[0]) not in cats.values()
    sc.destroy()

    # Stopped: an image gets its own label back, the shared kernel only with the last guest.
    h.conn.lookupByName("sa").destroy()
    assert fake.file_label(images["sa"]) == FAKE_FILE_LABEL
    assert fake.file_label(images["sb"]) != FAKE_FILE_LABEL
    assert fake.file_label(h.kernel) == CONTENT_LABEL
    assert h.conn.lookupByName("sa").securityLabel() == ["", False]
    assert live_seclabel(h.conn.lookupByName("sa")) is None
    h.conn.lookupByName("sb").destroy()
    assert fake.file_label(images["sb"]) == FAKE_FILE_LABEL
    assert fake.file_label(h.kernel) == FAKE_FILE_LABEL
    h.assert_clean()


def test_selinux_guest_with_seclabel_none(make_host, root):
    fake = FakeSelinux(root)
    h = make_host(env=fake.env)
    dom = h.define("nolabel", "", seclabel_none=True)
    dom.create()
    assert dom.state()[0] == RUNNING
    assert dom.securityLabel() == ["", False]
    assert live_seclabel(dom)[0] == "none"
    assert fake.calls("setexeccon") == [] and fake.calls("setfilecon") == []
    dom.destroy()
    h.assert_clean()


def test_selinux_labels_restored_when_qemu_died_unwatched(make_host, root):
    """A guest whose QEMU died while no daemon ran: the restarted daemon still gives its
    files their labels back."""
    fake = FakeSelinux(root)
    h = make_host(env=fake.env)
    image = h.image("gone")
    dom = h.define("gone", "", disk=image)
    dom.create()
    pid = h.pid("gone")
    assert fake.file_label(image) != FAKE_FILE_LABEL
    h.kill_and_restart(while_down=lambda: os.kill(pid, signal.SIGKILL))
    # Gone at once, or (a zombie not reaped yet) seen exiting right after the restart.
    deadline = time.monotonic() + EVENT_TIMEOUT
    while h.conn.lookupByName("gone").state()[0] != SHUTOFF:
        assert time.monotonic() < deadline, "the dead guest is still listed as running"
        time.sleep(0.05)
    assert fake.file_label(image) == FAKE_FILE_LABEL
    assert fake.file_label(h.kernel) == FAKE_FILE_LABEL
    # The pid and status files went with it.
    h.assert_clean()
