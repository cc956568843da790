"""test_qemu_lifecycle.py: real TCG guests (Guest A) started, stopped and watched through
virtqemud, with the exact lifecycle events a python3-libvirt client receives.

Expected sequences follow libvirt-wire-facts.md sections 4, 5, 10 and 11. Every test
uses the `host` fixture (guests.py): after the test no QEMU process of its root may
live on, and no pid file or domain directory may be left.
"""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from svdaemon import assert_transitions
from guests import (CRASHED, EVENT_TIMEOUT, GRACEFUL_MS, KILL_MS, PAUSED, RUNNING, SHUTOFF,
                    TERM_MS, PtyProcess, libvirt, qemu_processes, virsh_env)

ADDED = "DEFINED/ADDED"
BOOTED = "STARTED/BOOTED"
PAUSED_EV = "SUSPENDED/PAUSED"
UNPAUSED = "RESUMED/UNPAUSED"
SHUTDOWN_GUEST = "SHUTDOWN/GUEST"
SHUTDOWN_HOST = "SHUTDOWN/HOST"
STOPPED_SHUTDOWN = "STOPPED/SHUTDOWN"
STOPPED_DESTROYED = "STOPPED/DESTROYED"
STOPPED_CRASHED = "STOPPED/CRASHED"
STOPPED_FAILED = "STOPPED/FAILED"
PANICKED = "CRASHED/PANICKED"
REBOOT = "REBOOT"

NOT_RUNNING = "Requested operation is not valid: domain is not running"
ALREADY_RUNNING = "Requested operation is not valid: domain is already running"
# virErrorNumber / virErrorDomain values (section 4).
ERR_INTERNAL_ERROR, ERR_INVALID_ARG, ERR_SYSTEM_ERROR, ERR_NO_DOMAIN = 1, 8, 38, 42
ERR_OPERATION_INVALID, ERR_CONFIG_UNSUPPORTED = 55, 67
FROM_NONE, FROM_QEMU, FROM_DOMAIN = 0, 10, 20
EBUSY = 16

# A call another client makes while a destroy waits must be answered this fast.
QUICK = 0.2


def error_of(fn, *args):
    """(code, domain, message) of the libvirtError fn(*args) raises."""
    with pytest.raises(libvirt.libvirtError) as exc:
        fn(*args)
    e = exc.value
    return (e.get_error_code(), e.get_error_domain(), e.get_error_message())


def split_reboots(events, prefix):
    """For a guest that resets: events must be prefix, then only REBOOT events;
    the number of REBOOTs."""
    assert events[:len(prefix)] == prefix, "events %r do not start with %r" % (events, prefix)
    rest = events[len(prefix):]
    assert rest and set(rest) == {REBOOT}, "after %r only REBOOT events expected: %r" % (
        prefix, events)
    return len(rest)


def timed(fn, *args):
    t0 = time.monotonic()
    r = fn(*args)
    return r, time.monotonic() - t0


def is_stopped(pid):
    """True if the process is in state T (SIGSTOPped)."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


def alive(pid):
    """A live, non-zombie process."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# ---------------------------------------------------------------- start and destroy

def test_start_and_destroy(host):
    dom = host.define("life", "")
    dom.create()
    host.events.expect("life", [ADDED, BOOTED])
    assert dom.state() == [RUNNING, 1]  # RUNNING/BOOTED
    assert dom.isActive() == 1
    domid = host.conn.lookupByName("life").ID()  # virDomainGetID answers from the handle
    assert domid > 0
    # What a running guest has on disk: pid file, per-guest dir with the monitor socket, log.
    pid = host.pid(dom.name())
    assert qemu_processes(host.root).keys() == {pid}
    assert host.domain_dirs() == ["domain-%d-life" % domid]
    assert (host.qemu_lib / ("domain-%d-life" % domid) / "monitor.sock").exists()
    assert host.log_file("life").exists()
    # The CPU time clients see is QEMU's (its /proc/PID/stat), which a TCG guest uses at once.
    deadline = time.monotonic() + 10
    while dom.info()[4] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dom.info()[4] > 0

    dom.destroy()
    host.events.expect("life", [ADDED, BOOTED, STOPPED_DESTROYED])
    assert dom.state() == [SHUTOFF, 2]  # SHUTOFF/DESTROYED
    assert host.conn.lookupByName("life").ID() == -1
    assert not alive(pid)
    host.assert_clean()
    # Without REMOVE_LOGS the log stays, with the QEMU command line in it.
    assert "-accel tcg" in host.log_file("life").read_text()

    # Again, now destroyed with REMOVE_LOGS: the log goes too.
    dom.create()
    host.events.wait_count("life", 4)
    dom.destroyFlags(libvirt.VIR_DOMAIN_DESTROY_REMOVE_LOGS)
    host.events.expect("life", [ADDED, BOOTED, STOPPED_DESTROYED, BOOTED, STOPPED_DESTROYED])
    assert not host.log_file("life").exists()
    host.assert_clean()


@pytest.mark.skipif(not shutil.which("virsh"), reason="virsh (libvirt-clients) not installed")
def test_virsh_event_loop_prints_lifecycle(host):
    ev = PtyProcess(["virsh", "-c", host.uri, "event", "--all", "--loop"], env=virsh_env())
    try:
        # virsh registers its callbacks after it starts: define a probe until it reports it.
        probe = host.define("probe", "")
        deadline = time.monotonic() + EVENT_TIMEOUT
        while True:
            try:
                mark = ev.expect("for domain 'probe'", timeout=0.5)
                break
            except AssertionError:
                assert time.monotonic() < deadline, "virsh event never reported: %r" % ev.text()
                probe = host.conn.defineXML(probe.XMLDesc(0))
        mark = ev.expect("\n", start=mark)

        dom = host.define("vev", "off=300")
        dom.create()
        host.events.wait_event("vev", STOPPED_SHUTDOWN)
        dom.undefine()
        host.events.wait_event("vev", "UNDEFINED/REMOVED")
        tdom = host.conn.createXML(host.xml("vtr", ""), 0)
        tdom.destroy()
        host.events.wait_event("vtr", STOPPED_DESTROYED)
        ev.expect("'vtr': Stopped Destroyed", start=mark)
        time.sleep(0.3)
        os.kill(ev.pid, signal.SIGINT)
        assert ev.wait() == 0
        text = ev.text()
        lines = [line for line in text[mark:].replace("\r", "").split("\n")
                 if line and "probe" not in line]
        assert lines == [
            "event 'lifecycle' for domain 'vev': Defined Added",
            "event 'lifecycle' for domain 'vev': Started Booted",
            "event 'lifecycle' for domain 'vev': Shutdown Finished after guest request",
            "event 'lifecycle' for domain 'vev': Stopped Shutdown",
            "event 'lifecycle' for domain 'vev': Undefined Removed",
            "event 'lifecycle' for domain 'vtr': Started Booted",
            "event 'lifecycle' for domain 'vtr': Stopped Destroyed",
            "event loop interrupted",
            "events received: %d" % text.count("event 'lifecycle' for domain"),
        ]
    finally:
        ev.kill()
    host.assert_clean()


def test_transient_create_xml(host):
    dom = host.conn.createXML(host.xml("trans", ""), 0)
    host.events.expect("trans", [BOOTED])
    assert dom.state() == [RUNNING, 1]
    assert dom.isPersistent() == 0
    assert [d.name() for d in host.conn.listAllDomains(0)] == ["trans"]
    dom.destroy()
    host.events.expect("trans", [BOOTED, STOPPED_DESTROYED])
    assert error_of(host.conn.lookupByName, "trans")[0] == ERR_NO_DOMAIN
    host.assert_clean()

    # A transient guest that powers itself off is gone as well.
    host.conn.createXML(host.xml("trans2", "off=300"), 0)
    host.events.expect("trans2", [BOOTED, SHUTDOWN_GUEST, STOPPED_SHUTDOWN])
    assert error_of(host.conn.lookupByName, "trans2")[0] == ERR_NO_DOMAIN
    assert host.conn.listAllDomains(0) == []
    host.assert_clean()


def test_create_xml_refused_at_start_leaves_nothing(host):
    """A definition the QEMU driver cannot run, found when the start begins: no transient
    domain stays behind, and a persistent one keeps its own definition."""
    bad = host.xml("ghost", "").replace("</domain>", "<cpu mode='host-passthrough'/></domain>")
    code, domain, msg = error_of(host.conn.createXML, bad, 0)
    assert (code, domain) == (ERR_CONFIG_UNSUPPORTED, FROM_QEMU)
    assert "host-passthrough" in msg
    gone = error_of(host.conn.lookupByName, "ghost")
    assert gone[0] == ERR_NO_DOMAIN, gone
    assert host.conn.listAllDomains(0) == []
    # The same, over a defined domain of that name and UUID.
    dom = host.define("ghost", "")
    before = dom.XMLDesc(0)
    uuid = dom.UUIDString()
    bad = host.xml("ghost", "").replace(
        "<name>ghost</name>", "<name>ghost</name><uuid>%s</uuid>" % uuid).replace(
        "</domain>", "<cpu mode='host-passthrough'/></domain>")
    assert error_of(host.conn.createXML, bad, 0)[0] == ERR_CONFIG_UNSUPPORTED
    assert dom.XMLDesc(0) == before and dom.isActive() == 0 and dom.isPersistent() == 1
    host.assert_clean()


def test_autodestroy_when_the_starting_client_leaves(host):
    host.define("auto", "")
    c2 = libvirt.open(host.uri)
    d2 = c2.lookupByName("auto")
    d2.createWithFlags(libvirt.VIR_DOMAIN_START_AUTODESTROY)
    host.events.expect("auto", [ADDED, BOOTED])
    # Another client coming and going changes nothing.
    c3 = libvirt.open(host.uri)
    assert c3.lookupByName("auto").state() == [RUNNING, 1]
    c3.close()
    time.sleep(0.3)
    dom = host.conn.lookupByName("auto")
    assert dom.state() == [RUNNING, 1]
    # The starting client leaves (python keeps the socket while a virDomain lives).
    del d2
    c2.close()
    host.events.expect("auto", [ADDED, BOOTED, STOPPED_DESTROYED])
    assert dom.state() == [SHUTOFF, 2]
    host.assert_clean()


# ---------------------------------------------------------------- pause and resume

def test_start_paused_suspend_resume(host):
    dom = host.define("pause", "")
    dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
    host.events.expect("pause", [ADDED, BOOTED, PAUSED_EV])
    assert dom.state() == [PAUSED, 1]  # PAUSED/USER
    # The guest really is paused: its console stays silent until resume.
    con = host.console(dom)
    time.sleep(0.5)
    assert con.data == b""
    # Suspending a paused domain: no error, no event.
    dom.suspend()
    assert dom.state() == [PAUSED, 1]
    dom.resume()
    con.wait_for("READY")
    host.events.expect("pause", [ADDED, BOOTED, PAUSED_EV, UNPAUSED])
    assert dom.state() == [RUNNING, 5]  # RUNNING/UNPAUSED
    assert error_of(dom.resume) == (ERR_OPERATION_INVALID, FROM_QEMU, ALREADY_RUNNING)
    dom.suspend()
    host.events.expect("pause", [ADDED, BOOTED, PAUSED_EV, UNPAUSED, PAUSED_EV])
    assert dom.state() == [PAUSED, 1]
    dom.resume()
    host.events.expect("pause", [ADDED, BOOTED, PAUSED_EV, UNPAUSED, PAUSED_EV, UNPAUSED])
    assert dom.state() == [RUNNING, 5]
    # A paused domain is destroyed like a running one.
    dom.suspend()
    dom.destroy()
    host.events.expect("pause", [ADDED, BOOTED, PAUSED_EV, UNPAUSED, PAUSED_EV, UNPAUSED,
                                 PAUSED_EV, STOPPED_DESTROYED])
    assert dom.state() == [SHUTOFF, 2]
    host.assert_clean()


# ---------------------------------------------------------------- power off and shutdown

def test_guest_powers_itself_off(host):
    dom = host.define("poff", "off=300", on_poweroff="destroy")
    dom.create()
    host.events.expect("poff", [ADDED, BOOTED, SHUTDOWN_GUEST, STOPPED_SHUTDOWN])
    assert dom.state() == [SHUTOFF, 1]  # SHUTOFF/SHUTDOWN
    assert host.conn.lookupByName("poff").ID() == -1  # a fresh handle: ID() is client-side
    host.assert_clean()


@pytest.mark.parametrize("flags", [None, libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN],
                         ids=["shutdown", "acpi-flag"])
def test_acpi_shutdown(host, flags):
    dom = host.define("acpi", "")
    con = host.start_ready(dom)
    if flags is None:
        dom.shutdown()
    else:
        dom.shutdownFlags(flags)
    host.events.expect("acpi", [ADDED, BOOTED, PAUSED_EV, UNPAUSED, SHUTDOWN_GUEST,
                                STOPPED_SHUTDOWN])
    assert dom.state() == [SHUTOFF, 1]
    # The console ended when QEMU exited. (What the guest printed just before may be
    # lost: a pty drops unread input when its other side closes.)
    assert con.wait_end() == "EOF"
    host.assert_clean()


def test_shutdown_ignored_by_the_guest(host):
    dom = host.define("deaf", "ignore")
    con = host.start_ready(dom)
    dom.shutdown()
    con.wait_for("GUEST: power button ignored")
    host.events.expect("deaf", [ADDED, BOOTED, PAUSED_EV, UNPAUSED])
    assert dom.state()[0] == RUNNING
    dom.destroy()
    host.events.expect("deaf", [ADDED, BOOTED, PAUSED_EV, UNPAUSED, STOPPED_DESTROYED])
    host.assert_clean()


def test_shutdown_after_an_ignored_reboot_is_no_reboot(host):
    """A reboot and then a shutdown, both ignored by the guest: the shutdown request
    clears the reset the reboot asked for, as libvirt does, so the guest's own power-off
    2.5 s after READY ends it. (It was reset instead and kept running.)"""
    dom = host.define("deaf2", "ignore off=2500", on_poweroff="destroy")
    con = host.start_ready(dom)
    dom.reboot()
    con.wait_for("GUEST: power button ignored")
    dom.shutdown()
    con.wait_for("GUEST: power button ignored", count=2)
    host.events.expect("deaf2", [ADDED, BOOTED, PAUSED_EV, UNPAUSED, SHUTDOWN_GUEST,
                                 STOPPED_SHUTDOWN])
    assert dom.state() == [SHUTOFF, 1]  # SHUTOFF/SHUTDOWN
    host.assert_clean()


# ---------------------------------------------------------------- reboot and reset

@pytest.mark.parametrize("how", ["reboot", "reset"])
def test_reboot_and_reset_in_place(host, how):
    dom = host.define("rb", "")
    con = host.start_ready(dom)
    pid = host.pid("rb")
    getattr(dom, how)()
    # The guest boots again in the same QEMU: a second READY on the same console.
    con.wait_for("READY", count=2)
    if how == "reboot":
        assert b"GUEST: power button, powering off" in con.data
    host.events.wait_event("rb", REBOOT)
    time.sleep(0.4)
    # One REBOOT per QMP RESET; QEMU and SeaBIOS give more than one per reset.
    split_reboots(host.events.of("rb"), [ADDED, BOOTED, PAUSED_EV, UNPAUSED])
    assert dom.state()[0] == RUNNING
    assert host.pid("rb") == pid and alive(pid)
    dom.destroy()
    host.events.wait_event("rb", STOPPED_DESTROYED)
    time.sleep(0.3)
    got = host.events.of("rb")
    assert got[-1] == STOPPED_DESTROYED
    split_reboots(got[:-1], [ADDED, BOOTED, PAUSED_EV, UNPAUSED])
    host.assert_clean()


@pytest.mark.parametrize("cmdline,on_poweroff", [("reset=300", None), ("off=300", "restart")],
                         ids=["guest-reset", "on_poweroff-restart"])
def test_guest_resets_stay_running(host, cmdline, on_poweroff):
    # Each guest here resets (or powers off and is restarted) 0.3 s after every boot.
    dom = host.define("rs", cmdline, on_poweroff=on_poweroff)
    dom.create()
    pid = host.pid("rs")
    host.events.wait_count("rs", 4)  # ADDED, BOOTED and two REBOOTs at least
    split_reboots(host.events.of("rs"), [ADDED, BOOTED])
    assert dom.state()[0] == RUNNING
    assert host.pid("rs") == pid and alive(pid)
    dom.destroy()
    host.events.wait_event("rs", STOPPED_DESTROYED)
    time.sleep(0.3)
    got = host.events.of("rs")
    assert got[-1] == STOPPED_DESTROYED, got
    split_reboots(got[:-1], [ADDED, BOOTED])
    assert dom.state() == [SHUTOFF, 2]
    host.assert_clean()


# ---------------------------------------------------------------- panic

def test_panic_on_crash_destroy(host):
    dom = host.define("pan", "panic=300", on_crash="destroy")
    dom.create()
    host.events.expect("pan", [ADDED, BOOTED, PANICKED, STOPPED_CRASHED])
    assert dom.state() == [SHUTOFF, 3]  # SHUTOFF/CRASHED
    host.assert_clean()


def test_panic_on_crash_preserve(host):
    dom = host.define("pan", "panic=300", on_crash="preserve")
    dom.create()
    pid = host.pid("pan")
    host.events.expect("pan", [ADDED, BOOTED, PANICKED], settle=0.8)
    assert dom.state() == [CRASHED, 1]  # CRASHED/PANICKED
    assert alive(pid)
    dom.destroy()
    host.events.expect("pan", [ADDED, BOOTED, PANICKED, STOPPED_DESTROYED])
    assert dom.state() == [SHUTOFF, 2]
    host.assert_clean()


def test_panic_on_crash_restart(host):
    # The restarted guest panics again 1.5 s after READY; the test is done by then.
    dom = host.define("pan", "panic=1500", on_crash="restart")
    dom.create()
    pid = host.pid("pan")
    host.events.expect("pan", [ADDED, BOOTED, PANICKED, STOPPED_CRASHED, BOOTED], settle=0.1)
    assert dom.state()[0] == RUNNING
    assert host.pid("pan") != pid and not alive(pid)
    dom.destroy()
    host.events.expect("pan", [ADDED, BOOTED, PANICKED, STOPPED_CRASHED, BOOTED,
                               STOPPED_DESTROYED])
    assert dom.state() == [SHUTOFF, 2]
    host.assert_clean()


# ---------------------------------------------------------------- QEMU killed from outside

def test_qemu_killed_with_sigkill(host):
    dom = host.define("kil", "")
    dom.create()
    host.events.wait_count("kil", 2)
    os.kill(host.pid("kil"), signal.SIGKILL)
    host.events.expect("kil", [ADDED, BOOTED, STOPPED_FAILED])
    assert dom.state() == [SHUTOFF, 3]  # SHUTOFF/CRASHED
    host.assert_clean()


def test_qemu_killed_with_sigterm(host):
    dom = host.define("kil", "")
    dom.create()
    host.events.wait_count("kil", 2)
    os.kill(host.pid("kil"), signal.SIGTERM)
    host.events.expect("kil", [ADDED, BOOTED, SHUTDOWN_HOST, STOPPED_SHUTDOWN])
    assert dom.state() == [SHUTOFF, 1]
    host.assert_clean()


# ---------------------------------------------------------------- destroy of a stuck QEMU

def destroy_while_watching(host, name, flags):
    """destroyFlags(flags) from a second connection in a thread while this one keeps
    asking for the state: (error or None, seconds the destroy took, slowest state())."""
    c2 = host.open()
    d2 = c2.lookupByName(name)
    dom = host.conn.lookupByName(name)
    result = {}

    def run():
        t0 = time.monotonic()
        try:
            d2.destroyFlags(flags)
            result["error"] = None
        except libvirt.libvirtError as e:
            result["error"] = e
        result["took"] = time.monotonic() - t0

    t = threading.Thread(target=run)
    t.start()
    slowest, samples = 0.0, 0
    time.sleep(0.05)
    while t.is_alive():
        state, dt = timed(dom.state)
        assert state[0] in (RUNNING, PAUSED, SHUTOFF), state
        slowest = max(slowest, dt)
        samples += 1
        time.sleep(0.05)
    t.join()
    assert samples >= 5, "the destroy returned at once (%.2f s)" % result["took"]
    return result["error"], result["took"], slowest


def stop_qemu(host, name):
    pid = host.pid(name)
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 5
    while not is_stopped(pid):
        assert time.monotonic() < deadline, "QEMU %d did not stop" % pid
        time.sleep(0.01)
    return pid


def graceful_destroy_fails(host, name):
    """A GRACEFUL destroy of a SIGSTOPped QEMU fails after graceful_timeout, and the
    domain stays running and answers at once."""
    dom = host.conn.lookupByName(name)
    pid = stop_qemu(host, name)
    err, took, slowest = destroy_while_watching(host, name, libvirt.VIR_DOMAIN_DESTROY_GRACEFUL)
    assert err is not None, "GRACEFUL destroy of a stopped QEMU succeeded after %.2f s" % took
    assert (err.get_error_code(), err.get_error_domain(), err.get_error_message(),
            err.get_int1()) == (
        ERR_SYSTEM_ERROR, FROM_NONE,
        "Failed to terminate process %d with SIGTERM: Device or resource busy" % pid, EBUSY)
    assert GRACEFUL_MS / 1000 - 0.1 <= took <= GRACEFUL_MS / 1000 + 3.0, took
    assert slowest < QUICK, "state() took %.3f s while the destroy waited" % slowest
    state, dt = timed(dom.state)
    assert state[0] == RUNNING
    assert dt < QUICK, "state() took %.3f s after the failed destroy" % dt
    assert alive(pid)
    host.events.expect(name, [ADDED, BOOTED])
    return dom, pid


def test_graceful_destroy_of_stopped_qemu_then_destroy(host):
    host.define("stuck", "").create()
    dom, pid = graceful_destroy_fails(host, "stuck")
    # A plain destroy: SIGTERM, term_timeout, then SIGKILL.
    err, took, slowest = destroy_while_watching(host, "stuck", 0)
    assert err is None, err
    assert TERM_MS / 1000 - 0.1 <= took <= (TERM_MS + KILL_MS) / 1000 + 3.0, took
    assert slowest < QUICK, "state() took %.3f s while the destroy waited" % slowest
    host.events.expect("stuck", [ADDED, BOOTED, STOPPED_DESTROYED])
    assert dom.state() == [SHUTOFF, 2]
    assert not alive(pid)
    host.assert_clean()


def test_graceful_destroy_of_stopped_qemu_then_sigcont(host):
    host.define("stuck", "").create()
    dom, pid = graceful_destroy_fails(host, "stuck")
    # SIGCONT lets the pending SIGTERM through: QEMU shuts down as on a host signal.
    os.kill(pid, signal.SIGCONT)
    host.events.expect("stuck", [ADDED, BOOTED, SHUTDOWN_HOST, STOPPED_SHUTDOWN])
    assert dom.state() == [SHUTOFF, 1]
    host.assert_clean()


# ---------------------------------------------------------------- state errors

def test_errors_on_a_shut_off_domain(host):
    dom = host.define("off", "")
    calls = {
        "destroy": dom.destroy,
        "destroyFlags(GRACEFUL)": lambda: dom.destroyFlags(libvirt.VIR_DOMAIN_DESTROY_GRACEFUL),
        "suspend": dom.suspend,
        "resume": dom.resume,
        "reboot": dom.reboot,
        "reset": dom.reset,
        "shutdown": dom.shutdown,
    }
    got = {name: error_of(fn) for name, fn in calls.items()}
    want = {name: (ERR_OPERATION_INVALID, FROM_DOMAIN, NOT_RUNNING) for name in calls}
    # qemu's own shut-off check for shutdown reports QEMU, not DOMAIN (section 11).
    want["shutdown"] = (ERR_OPERATION_INVALID, FROM_QEMU, NOT_RUNNING)
    assert got == want
    assert dom.state() == [SHUTOFF, 0]
    host.events.expect("off", [ADDED])
    host.assert_clean()


def test_errors_on_a_running_domain(host):
    dom = host.define("on", "")
    dom.create()
    host.events.wait_count("on", 2)
    assert error_of(dom.create) == (ERR_OPERATION_INVALID, FROM_QEMU, ALREADY_RUNNING)
    assert error_of(dom.createWithFlags, 0) == (ERR_OPERATION_INVALID, FROM_QEMU,
                                                ALREADY_RUNNING)
    assert error_of(dom.resume) == (ERR_OPERATION_INVALID, FROM_QEMU, ALREADY_RUNNING)
    bad_flags = [
        (dom.createWithFlags, 0x40, "qemuDomainCreateWithFlags"),
        (dom.destroyFlags, 0x4, "qemuDomainDestroyFlags"),
        (dom.shutdownFlags, 0x20, "qemuDomainShutdownFlags"),
        (dom.reboot, 0x20, "qemuDomainReboot"),
        (dom.reset, 0x1, "qemuDomainReset"),
        (lambda f: host.conn.createXML(host.xml("on2", ""), f), 0x40, "qemuDomainCreateXML"),
    ]
    got = [error_of(fn, flags) for fn, flags, _ in bad_flags]
    assert got == [(ERR_INVALID_ARG, FROM_QEMU,
                    "unsupported flags (0x%x) in function %s" % (flags, func))
                   for _, flags, func in bad_flags]
    # None of that touched the guest.
    assert dom.state() == [RUNNING, 1]
    host.events.expect("on", [ADDED, BOOTED])
    dom.destroy()
    host.events.expect("on", [ADDED, BOOTED, STOPPED_DESTROYED])
    host.assert_clean()


# ---------------------------------------------------------------- failed starts

def test_missing_emulator_refused_at_define_and_start(host):
    """As libvirt (its capabilities lookup stats the binary at define): define and createXML
    refuse an <emulator> that does not exist, SYSTEM_ERROR in the QEMU domain with errno's
    text; a definition whose emulator went away since fails to start the same way."""
    xml = host.xml("noemu", "", emulator="/nonexistent/qemu")
    want = (ERR_SYSTEM_ERROR, FROM_QEMU,
            "Cannot check QEMU binary /nonexistent/qemu: No such file or directory")
    assert error_of(host.conn.defineXML, xml) == want
    assert error_of(host.conn.createXML, xml, 0) == want
    assert host.conn.listAllDomains(0) == []
    # An allowed emulator (the stand-in) removed after the define.
    dom = host.conn.defineXML(host.xml("noemu", "print-exit", emulator=str(host.standin)))
    moved = host.root / "standin-moved"
    os.rename(host.standin, moved)
    try:
        assert error_of(dom.create) == (
            ERR_SYSTEM_ERROR, FROM_QEMU,
            "Cannot check QEMU binary %s: No such file or directory" % host.standin)
    finally:
        os.rename(moved, host.standin)
    assert dom.state()[0] == SHUTOFF and dom.isActive() == 0
    time.sleep(0.3)
    assert host.events.of("noemu") == [ADDED]
    host.assert_clean()


def test_emulator_not_allowed(host):
    """An existing program that is neither the capabilities' emulator nor listed in
    allowed_emulators is never run: CONFIG_UNSUPPORTED naming the key, at define and at
    createXML. A deliberate difference from libvirt, which runs any <emulator> there is:
    whoever may define a domain would choose a program the daemon runs, with arguments of
    its choice."""
    xml = host.xml("other", "", emulator="/bin/true")
    for fn, args in ((host.conn.defineXML, (xml,)), (host.conn.createXML, (xml, 0))):
        code, domain, message = error_of(fn, *args)
        assert (code, domain) == (ERR_CONFIG_UNSUPPORTED, FROM_QEMU), message
        assert "'/bin/true'" in message and "allowed_emulators" in message, message
    assert host.conn.listAllDomains(0) == []
    host.assert_clean()


def test_start_error_quotes_what_qemu_said(host):
    """QEMU refuses to start: the start's error quotes QEMU's own last lines, not the end
    of the command line we logged before them. A missing kernel fails before QEMU runs,
    when it is given to QEMU's user, with libvirt's DAC error."""
    dom = host.conn.defineXML(host.xml("badk", "").replace(str(host.kernel),
                                                            "/nonexistent/kernel"))
    code, domain, message = error_of(dom.create)
    assert (code, domain) == (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_SECURITY), message
    assert message == ("unable to set user and group to '0:0' on '/nonexistent/kernel': "
                       "No such file or directory"), message
    assert dom.state()[0] == SHUTOFF and dom.isActive() == 0
    # A stand-in that prints three lines and exits: all three, in order, and nothing else.
    dom = host.conn.defineXML(host.xml("talk", "print-exit", emulator=str(host.standin)))
    code, domain, message = error_of(dom.create)
    assert message.split("\n")[1:] == [
        "standin: starting", "standin: warning: nothing to emulate",
        "standin: error: cannot start, the machine is on fire"], message
    time.sleep(0.3)
    assert host.events.of("badk") == [ADDED] and host.events.of("talk") == [ADDED]
    host.assert_clean()
    # The daemon is fine afterwards: a good guest starts.
    good = host.define("good", "")
    good.create()
    assert good.state() == [RUNNING, 1]
    good.destroy()
    host.assert_clean()


def test_unknown_machine_and_nic_models(host):
    """Values that reach QEMU's command line are QEMU's own: a machine type or NIC model
    QEMU did not list when probed is refused when the guest starts, before QEMU runs
    (CONFIG_UNSUPPORTED, libvirt's message for machines). libvirt refuses an unknown
    machine type at define already; here define accepts it and start refuses it, a
    deliberate difference: the probe runs off the loop and define does not wait for it.
    A NIC model that is not one plain word is refused at define, as libvirt does."""
    dom = host.conn.defineXML(host.xml("badm", "", machine="pc,accel=kvm"))
    assert error_of(dom.create) == (
        ERR_CONFIG_UNSUPPORTED, FROM_QEMU,
        "unsupported configuration: Emulator '/usr/bin/qemu-system-x86_64' does not support "
        "machine type 'pc,accel=kvm'")
    assert not host.log_file("badm").exists() or "-machine" not in host.log_file(
        "badm").read_text()
    nic = host.xml("badn", "").replace(
        "<serial type='pty'/>", "<interface type='user'><model type='%s'/></interface>"
        "<serial type='pty'/>")
    assert error_of(host.conn.defineXML, nic % "e1000,romfile=/etc/shadow") == (
        ERR_INVALID_ARG, FROM_DOMAIN, "invalid argument: Model name contains invalid characters")
    dom = host.conn.defineXML(nic % "pci-testdev")
    code, domain, message = error_of(dom.create)
    assert (code, domain) == (ERR_CONFIG_UNSUPPORTED, FROM_QEMU), message
    assert "NIC model 'pci-testdev'" in message, message
    assert dom.state()[0] == SHUTOFF
    host.assert_clean()


def test_qemu_exits_during_start_with_its_monitor_held_open(host):
    """QEMU exits after the QMP handshake while something else (here a child of its own)
    keeps the monitor connection open: the exit is seen first, reading the monitor to its
    end fails the start and frees the guest's data, and nothing may use it afterwards (the
    daemon once did: use-after-free under ASan, a segfault without). Persistent and
    transient guests, a few times each."""
    xml = host.xml("held", "exit-holding-monitor", emulator=str(host.standin))
    dom = host.conn.defineXML(xml)
    for _ in range(3):
        code, domain, message = error_of(dom.create)
        assert (code, domain) == (ERR_INTERNAL_ERROR, FROM_QEMU), message
        assert message.startswith("internal error: QEMU failed to start"), message
        assert dom.state()[0] == SHUTOFF and dom.isActive() == 0
    dom.undefine()
    for _ in range(3):
        code, domain, message = error_of(host.conn.createXML, xml, 0)
        assert (code, domain) == (ERR_INTERNAL_ERROR, FROM_QEMU), message
        assert error_of(host.conn.lookupByName, "held")[0] == ERR_NO_DOMAIN
    assert host.conn.getVersion() > 0  # still serving
    assert host.events.of("held") == [ADDED, "UNDEFINED/REMOVED"]
    host.assert_clean()


class CpuLoad:
    """Two busy processes for the duration of a with block: on a small machine they shift
    when the daemon sees QEMU's exit relative to its monitor's end."""

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                      for _ in range(2)]
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
            p.wait()


def test_destroy_races_start(host):
    """Start on one connection, destroy on another 0-79 ms later, over and over with real
    QEMU and the CPUs busy: the destroy lands anywhere in the start (before QEMU runs, in
    the QMP handshake, after). The daemon lives through it (it once crashed here: QEMU's
    exit seen before its monitor's end freed the guest under the exit handler), and each
    round ends with the guest shut off and no QEMU left."""
    dom = host.define("race", "")
    d2 = host.open().lookupByName("race")
    with CpuLoad():
        destroy_during_starts(host, dom, d2)
    assert host.conn.getVersion() > 0


def destroy_during_starts(host, dom, d2):
    def start():
        try:
            dom.create()
        except libvirt.libvirtError:
            pass

    for delay_ms in range(80):
        t = threading.Thread(target=start)
        t.start()
        time.sleep(delay_ms / 1000)
        try:
            d2.destroy()
        except libvirt.libvirtError as e:
            assert e.get_error_code() == ERR_OPERATION_INVALID, e
        t.join(EVENT_TIMEOUT)
        assert not t.is_alive(), "the start did not return (delay %d ms)" % delay_ms
        if dom.isActive():  # the destroy came first and found nothing to do
            dom.destroy()
        assert dom.state()[0] == SHUTOFF
        host.assert_clean()


# ---------------------------------------------------------------- the log


def test_log_says_who_asked(host):
    dom = host.define("who", "off=1500", on_poweroff="destroy")
    dom.create()
    dom.suspend()
    dom.resume()
    host.events.expect("who", [ADDED, BOOTED, PAUSED_EV, UNPAUSED, SHUTDOWN_GUEST,
                               STOPPED_SHUTDOWN])
    me = r"client \d+ \(uid %d, pid %d\) " % (os.getuid(), os.getpid())
    expected = [
        (r"shutoff/\d+", r"paused/\d+", me + "virDomainCreate"),
        (r"paused/\d+", "running/1", me + "virDomainCreate"),
        ("running/1", "paused/1", me + "virDomainSuspend"),
        ("paused/1", "running/5", me + "virDomainResume"),
        ("running/5", "shutdown/0", r"QEMU \(event SHUTDOWN\)"),
        ("shutdown/0", "shutoff/1", r"QEMU \(.*\)"),
    ]
    assert_transitions(host.daemon, "who", expected)
    host.assert_clean()
