"""test_qemu_restart_holes.py: what a restarted virtqemud must get right that it once got
wrong (issue 15): no QEMU runs that a restarted daemon cannot find, persistence survives a
restart, a kill under way goes on in its own mode and on its own timeline, and a status
file is hostile input.

Real QEMU guests (Guest A) under the test_restarts.py Host: the daemon is killed
(SIGKILL) and started again while guests run. docs/lifecycle.md states the rules.
"""

import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from test_restarts import (DAEMON_CONFIG, RUNNING, RUNNING_BOOTED, SHUTOFF, SHUTOFF_DESTROYED,
                           WAIT, Host, alive, need_guest, same_process, start_time,
                           uri_for, wait_gone)

libvirt = pytest.importorskip("libvirt")

ERR_NO_DOMAIN = 42


class HoleHost(Host):
    """test_restarts' Host, with a daemon configuration of the test's choosing and an
    optional wrapper (a private mount namespace)."""

    config = DAEMON_CONFIG
    wrapper = ()

    def start_daemon(self):
        self.daemon = self.daemons.start(config=self.config, wrapper=list(self.wrapper))
        self.conn = libvirt.open(uri_for(self.daemon.sock))
        return self.daemon

    def wait_status(self, name, pred, what, timeout=WAIT):
        """Wait until the status file's attributes satisfy pred; them."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.status_attrs(name)
            if pred(got):
                return got
            assert time.monotonic() < deadline, "status of %s never %s: %r" % (name, what, got)
            time.sleep(0.01)

    def settle_status(self, name, pred, timeout=2.0):
        """Give the status file up to timeout to satisfy pred (it is written off the
        daemon's loop); the test's own checks come after, whatever it says."""
        deadline = time.monotonic() + timeout
        while not pred(self.status_attrs(name)) and time.monotonic() < deadline:
            time.sleep(0.01)

    def stop_qemu(self, name):
        pid = self.pid(name)
        os.kill(pid, signal.SIGSTOP)
        return pid


@pytest.fixture
def host(daemons, root, request):
    need_guest()
    h = HoleHost(daemons, root)
    try:
        yield h
    finally:
        for pid in list(qemu_pids(h.root)):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        problems = h.finish()
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            problems = [p for p in problems if p.startswith("QEMU processes")]
        if problems:
            pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


def qemu_pids(root):
    from test_restarts import qemu_processes
    return qemu_processes(root)


def destroy_in_thread(host, name, flags):
    """destroyFlags(flags) on a connection of its own, in a thread; (thread, errors)."""
    errors = []
    uri = uri_for(host.daemon.sock)

    def run():
        c = libvirt.open(uri)
        try:
            c.lookupByName(name).destroyFlags(flags)
        except libvirt.libvirtError as e:
            errors.append(e)
        finally:
            try:
                c.close()
            except libvirt.libvirtError:
                pass

    t = threading.Thread(target=run)
    t.start()
    return t, errors


# ---------------------------------------------------------------- QEMU runs only once recorded

def test_start_fails_when_its_status_cannot_be_written(host, root):
    """The status directory is full (a 2-page tmpfs in the daemon's own mount namespace,
    one page taken): the start fails, QEMU never runs, nothing is left; once there is
    room, the same start works. (The daemon once answered success, and a restarted daemon
    found the guest shut off while its QEMU ran.)"""
    run = root / "run" / "libvirt" / "qemu"
    host.wrapper = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                    'mkdir -p "%s" && mount -t tmpfs -o size=8k,mode=0755 svfull "%s" && '
                    'head -c 4096 /dev/zero > "%s/ballast" && exec "$@"' % (run, run, run),
                    "sh"]
    d = host.start_daemon()
    host.define("full")
    with pytest.raises(libvirt.libvirtError) as exc:
        host.dom("full").create()
    message = exc.value.get_error_message()
    assert "cannot record the guest before running QEMU" in message, message
    assert "No space left on device" in message, message
    assert host.state("full")[0] == SHUTOFF
    assert qemu_pids(root) == {}
    log = (root / "var" / "log" / "libvirt" / "qemu" / "full.log").read_text()
    assert "-name guest=full" in log  # the command line was made...
    assert "char device redirected" not in log  # ...but QEMU never ran
    # Room again (seen through the daemon's own root): the start goes through.
    os.unlink("/proc/%d/root%s/ballast" % (d.pid, run))
    host.dom("full").create()
    assert host.state("full") == (RUNNING, RUNNING_BOOTED)
    (pid,) = qemu_pids(root)
    host.dom("full").destroy()
    wait_gone(pid)


def test_stale_files_are_removed_at_restart(host, root):
    """What a daemon killed in the middle of a start or a write leaves, and no live guest
    owns, is removed when the next one starts: temporary files of status writes, a pid
    file without its status file, an empty guest directory."""
    run = root / "run" / "libvirt" / "qemu"
    lib = root / "var" / "lib" / "libvirt" / "qemu"
    run.mkdir(parents=True)
    (lib / "domain-7-ghost").mkdir(parents=True)
    (lib / "domain-7-ghost" / "monitor.sock").write_text("")
    (run / "ghost.xml.new-Ab12Cd").write_text("<domstatus state='runn")
    (run / "ghost.pid").write_text("4242\n")
    host.start_daemon()
    assert sorted(p.name for p in run.iterdir()) == ["autostarted"]
    assert host.domain_dirs() == []


# ---------------------------------------------------------------- persistence

def test_define_of_a_running_transient_guest_survives_restart(host):
    """createXML, then defineXML of the same guest while it runs: after a restart the guest
    is persistent, destroy keeps it listed, undefine works. (It came back transient.)"""
    host.start_daemon()
    from test_restarts import domain_xml
    xml = domain_xml("pers", host.kernel)
    dom = host.conn.createXML(xml, 0)
    assert dom.isPersistent() == 0
    host.conn.defineXML(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    assert host.dom("pers").isPersistent() == 1
    host.settle_status("pers", lambda a: a.get("persistent") == "1")
    pid = host.pid("pers")
    host.kill_daemon(signal.SIGKILL)
    host.start_daemon()
    assert host.dom("pers").isPersistent() == 1
    assert host.state("pers") == (RUNNING, RUNNING_BOOTED) and alive(pid)
    host.dom("pers").destroy()
    wait_gone(pid)
    assert host.state("pers") == (SHUTOFF, SHUTOFF_DESTROYED)
    host.dom("pers").undefine()
    with pytest.raises(libvirt.libvirtError) as exc:
        host.dom("pers")
    assert exc.value.get_error_code() == ERR_NO_DOMAIN


def test_undefine_of_a_running_guest_survives_restart(host):
    """The reverse: undefine of a running persistent guest, then a restart: transient, and
    gone from the list once destroyed."""
    host.start_daemon()
    host.define("trans")
    pid = host.start("trans")
    host.dom("trans").undefine()
    assert host.dom("trans").isPersistent() == 0
    host.settle_status("trans", lambda a: a.get("persistent") == "0")
    host.kill_daemon(signal.SIGKILL)
    host.start_daemon()
    assert host.dom("trans").isPersistent() == 0
    host.dom("trans").destroy()
    wait_gone(pid)
    with pytest.raises(libvirt.libvirtError) as exc:
        host.dom("trans")
    assert exc.value.get_error_code() == ERR_NO_DOMAIN


# ---------------------------------------------------------------- a kill under way

def test_graceful_destroy_stays_graceful_across_restart(host):
    """A GRACEFUL destroy of a QEMU that ignores SIGTERM (SIGSTOPped) is under way when
    the daemon is killed: the restarted daemon carries on the same request, which fails
    at its deadline as it would have: logged, the guest left running, its destroying mark
    cleared. (The restarted daemon once SIGKILLed it.)"""
    host.config = DAEMON_CONFIG.replace("graceful_timeout_ms = 1500", "graceful_timeout_ms = 3000")
    host.start_daemon()
    host.define("grace")
    pid = host.start("grace")
    start = start_time(pid)
    host.wait_saved("grace", "running", RUNNING_BOOTED)
    host.stop_qemu("grace")
    t, errors = destroy_in_thread(host, "grace", libvirt.VIR_DOMAIN_DESTROY_GRACEFUL)
    host.wait_status("grace", lambda a: a.get("destroying") == "1", "destroying")
    host.settle_status("grace", lambda a: a.get("killmode") == "graceful")
    t0 = time.monotonic()
    host.kill_daemon(signal.SIGKILL)
    t.join(WAIT)
    assert errors, "the destroy returned although the daemon was killed"
    d = host.start_daemon()
    assert host.state("grace")[0] == RUNNING
    # Past the deadline (3 s after the request) with a margin: still the same QEMU.
    time.sleep(max(0, t0 + 3.0 + 2.0 - time.monotonic()))
    assert same_process(pid, start), "the restarted daemon killed a GRACEFUL destroy's guest"
    assert host.state("grace")[0] == RUNNING
    host.wait_status("grace", lambda a: a.get("destroying") == "0" and "killmode" not in a,
                     "without the destroy")
    assert re.search(r"domain grace: the graceful destroy asked before the daemon restarted "
                     r"failed: Failed to terminate process %d with SIGTERM" % pid,
                     d.stderr_text()), d.stderr_tail()
    # Let it go: the SIGTERM pending in it ends it as a host shutdown.
    os.kill(pid, signal.SIGCONT)
    host.wait_state("grace", SHUTOFF)
    wait_gone(pid)


def test_forced_destroy_keeps_its_timeline_across_restart(host):
    """A plain destroy (SIGTERM, then SIGKILL after term_timeout) of a QEMU that ignores
    SIGTERM is under way when the daemon is killed; the next daemon starts 3 s after it and
    sends SIGKILL at the original deadline, not term_timeout after its own start."""
    host.config = DAEMON_CONFIG.replace("term_timeout_ms = 1500", "term_timeout_ms = 6000")
    host.start_daemon()
    host.define("forced")
    pid = host.start("forced")
    host.wait_saved("forced", "running", RUNNING_BOOTED)
    host.stop_qemu("forced")
    t, errors = destroy_in_thread(host, "forced", 0)
    host.wait_status("forced", lambda a: a.get("destroying") == "1", "destroying")
    host.settle_status("forced", lambda a: a.get("killmode") == "forced")
    t0 = time.monotonic()
    host.kill_daemon(signal.SIGKILL)
    t.join(WAIT)
    time.sleep(max(0, t0 + 3.0 - time.monotonic()))
    host.start_daemon()
    wait_gone(pid, timeout=15)
    took = time.monotonic() - t0
    # The deadline is 6 s after the request; from the restart it would be 9 s or more.
    assert 5.0 <= took < 8.5, "SIGKILL came %.2f s after the destroy" % took
    host.wait_state("forced", SHUTOFF)
    assert host.state("forced") == (SHUTOFF, SHUTOFF_DESTROYED)


@pytest.mark.skipif(not shutil.which("virsh"), reason="virsh (libvirt-clients) not installed")
def test_forced_destroy_joins_a_graceful_one(host):
    """virsh destroy --graceful waits up to graceful_timeout (10 s here) on a QEMU that
    ignores SIGTERM; a plain virsh destroy 0.5 s later kills it term_timeout (1.5 s) after
    itself, and both calls succeed."""
    host.config = DAEMON_CONFIG.replace("graceful_timeout_ms = 1500",
                                        "graceful_timeout_ms = 10000")
    host.start_daemon()
    host.define("join")
    pid = host.start("join")
    host.stop_qemu("join")
    env = dict(os.environ, LC_ALL="C")
    virsh = ["virsh", "-q", "-c", uri_for(host.daemon.sock)]
    t0 = time.monotonic()
    graceful = subprocess.Popen(virsh + ["destroy", "--graceful", "join"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.5)
    forced = subprocess.run(virsh + ["destroy", "join"], env=env, capture_output=True,
                            text=True, timeout=WAIT)
    took = time.monotonic() - t0
    out, _ = graceful.communicate(timeout=WAIT)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert graceful.returncode == 0, out
    assert 1.5 < took < 6.0, "the forced destroy took %.2f s" % took
    assert not alive(pid)
    assert host.state("join") == (SHUTOFF, SHUTOFF_DESTROYED)


# ---------------------------------------------------------------- hostile status files

@pytest.fixture
def sleeper():
    """An unrelated process (sleep 60); it must never be signalled."""
    p = subprocess.Popen(["sleep", "60"])
    yield p
    p.kill()
    p.wait()


def status_of_a_dead_guest(host, name):
    """A guest's real status file, its QEMU gone and no daemon running: its text."""
    host.start_daemon()
    host.define(name)
    pid = host.start(name)
    host.wait_saved(name, "running", RUNNING_BOOTED)
    host.kill_daemon(signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)
    wait_gone(pid)
    return host.status_file(name).read_text(), pid


def plant(host, name, text, old_pid, pid):
    """Write text as name's status file, naming pid (with its real start time)."""
    text = re.sub(r"starttime='\d+'", "starttime='%d'" % start_time(pid), text)
    text = text.replace("pid='%d'" % old_pid, "pid='%d'" % pid)
    host.status_file(name).write_text(text)


def guest_cgroups(root, name):
    """The guest's cgroup (PARENT/NAME.libvirt-qemu) in every hierarchy, where it is."""
    parent = "splitvirt-" + hashlib.sha256(str(root).encode()).hexdigest()[:12]
    base = Path("/sys/fs/cgroup")
    leaf = "%s/%s.libvirt-qemu" % (parent, name)
    return sorted(str(p) for p in list(base.glob("*/" + leaf)) + [base / leaf] if p.is_dir())


def restart_and_check_set_aside(host, name, sleeper, connected=None):
    """The daemon signals nothing, connects to nothing (a listening socket `connected`
    gets no connection), lists the guest off and sets the planted status aside."""
    d = host.start_daemon()
    aside = host.status_file(name).with_name(name + ".xml.rejected")
    time.sleep(1.0)
    assert sleeper.poll() is None, "the daemon signalled pid %d" % sleeper.pid
    assert not is_stopped(sleeper.pid)
    if connected is not None:
        with pytest.raises(BlockingIOError):
            connected.accept()
    assert host.state(name)[0] == SHUTOFF
    assert aside.exists() and not host.status_file(name).exists()
    assert "setting aside status file '%s'" % host.status_file(name) in d.stderr_text()
    # Once the administrator removes the file set aside, the next daemon clears the
    # guest's pid file and directory, which it kept while the file was there.
    assert host.pid_file(name).exists() and host.domain_dirs()
    assert guest_cgroups(host.root, name)
    aside.unlink()
    host.kill_daemon(signal.SIGTERM)
    host.start_daemon()
    assert not host.pid_file(name).exists() and host.domain_dirs() == []
    assert guest_cgroups(host.root, name) == []


def is_stopped(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


def test_status_naming_an_unrelated_process_is_set_aside(host, sleeper):
    """A status file names a live unrelated process with its right start time (sleep, not
    QEMU) and a destroy under way: the executable does not match, so nothing is
    signalled and the file is set aside. (The daemon once sent it SIGTERM.)"""
    text, old = status_of_a_dead_guest(host, "alien")
    text = text.replace("destroying='0'", "destroying='1'")
    plant(host, "alien", text, old, sleeper.pid)
    restart_and_check_set_aside(host, "alien", sleeper)


def test_status_with_a_monitor_outside_is_set_aside(host, root, sleeper):
    """A status file whose monitor socket is not the guest's own (a socket the test
    listens on): nothing connects to it, nothing is signalled, the file is set aside."""
    text, old = status_of_a_dead_guest(host, "evil")
    evil = root / "evil.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(evil))
    listener.listen(4)
    listener.setblocking(False)
    try:
        text = re.sub(r"<monitor path='[^']*'/>", "<monitor path='%s'/>" % evil, text)
        plant(host, "evil", text, old, sleeper.pid)
        restart_and_check_set_aside(host, "evil", sleeper, connected=listener)
    finally:
        listener.close()


@pytest.mark.parametrize("what", ["pty", "relabel", "dotdot"])
def test_status_naming_files_outside_is_set_aside(host, sleeper, what):
    """A pty that is not /dev/pts/N (the console would open it), a relabelled file the
    definition does not name (its label would be restored), a monitor path with '..':
    the file is set aside, nothing it names touched."""
    text, old = status_of_a_dead_guest(host, "files")
    if what == "pty":
        text = re.sub(r"<source path='/dev/pts/\d+'/>", "<source path='/etc/passwd'/>", text)
        assert "/etc/passwd" in text
    elif what == "relabel":
        text = text.replace("<domain ", "<relabel path='/etc/shadow' original='x'/>\n<domain ")
    else:
        text = re.sub(r"<monitor path='([^']*)/(domain-[^/']*)/monitor.sock'/>",
                      r"<monitor path='\1/\2/../\2/monitor.sock'/>", text)
        assert "/../" in text
    plant(host, "files", text, old, sleeper.pid)
    restart_and_check_set_aside(host, "files", sleeper)
