"""test_qemu_console.py: `virsh console` (on a pseudo-terminal, as it insists) and
virDomainOpenConsole against a real guest's serial console through virtqemud.

The guest runs with `echo tick`: it prints TICK N each second, echoes what it is sent
in upper case, and powers off on 'q' (libvirt-wire-facts.md sections 11 and 12).
"""

import shutil

import pytest

from guests import SHUTOFF, PtyProcess, libvirt, virsh_env

if not shutil.which("virsh"):
    pytest.skip("virsh (libvirt-clients) not installed", allow_module_level=True)

ESCAPE = b"\x1d"  # Ctrl-]
ADDED, BOOTED = "DEFINED/ADDED", "STARTED/BOOTED"
STOPPED_DESTROYED = "STOPPED/DESTROYED"
BUSY = "Active console session exists for this domain"


def console(host, name, *opts):
    """virsh console NAME on a fresh pseudo-terminal."""
    return PtyProcess(["virsh", "-c", host.uri, "console"] + list(opts) + [name],
                      env=virsh_env())


def attached(p, name):
    """Wait until virsh p shows the guest's output: its stream is open and live."""
    mark = p.expect("Connected to domain '%s'" % name)
    p.expect("Escape character is ^] (Ctrl + ])", start=mark)
    return p.expect("TICK", start=mark)


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as exc:
        fn(*args)
    e = exc.value
    return (e.get_error_code(), e.get_error_domain(), e.get_error_message())


def test_console_echo_and_detach(host):
    dom = host.define("con", "echo tick")
    dom.create()
    first = console(host, "con")
    try:
        mark = attached(first, "con")
        first.send("hi")
        first.expect("HI", start=mark)
        first.send(ESCAPE)
        assert first.wait() == 0, first.text()
    finally:
        first.kill()
    # Detaching freed the console: a plain second session gets it, and ends when
    # the guest is destroyed under it.
    second = console(host, "con")
    try:
        mark = attached(second, "con")
        second.send("abc")
        second.expect("ABC", start=mark)
        dom.destroy()
        assert second.wait() == 0, second.text()
    finally:
        second.kill()
    host.events.expect("con", [ADDED, BOOTED, STOPPED_DESTROYED])
    host.assert_clean()


def test_console_exclusive_force_and_guest_poweroff(host):
    dom = host.define("con", "echo tick")
    dom.create()
    first = console(host, "con")
    procs = [first]
    try:
        attached(first, "con")
        # Without --force a second session is refused and virsh fails.
        second = console(host, "con")
        procs.append(second)
        assert second.wait() == 1, second.text()
        assert BUSY in second.text(), second.text()
        assert first.running(), "the refused open ended the first session: %r" % first.text()
        # With --force the third takes over; the first is told and fails.
        third = console(host, "con", "--force")
        procs.append(third)
        mark = attached(third, "con")
        assert first.wait() == 1, first.text()
        assert "error: stream had I/O failure" in first.text(), first.text()
        third.send("ok")
        mark = third.expect("OK", start=mark)
        # 'q' powers the guest off; virsh ends with the stream.
        third.send("q")
        assert third.wait() == 0, third.text()
    finally:
        for p in procs:
            p.kill()
    host.events.expect("con", [ADDED, BOOTED, "SHUTDOWN/GUEST", "STOPPED/SHUTDOWN"])
    assert dom.state() == [SHUTOFF, 1]
    host.assert_clean()


def test_console_on_a_shut_off_domain(host):
    dom = host.define("con", "echo tick")
    st = host.conn.newStream(0)
    assert error_of(dom.openConsole, None, st, 0) == (
        55, 20, "Requested operation is not valid: domain is not running")
    st.abort()
    # virsh checks the state itself and sends no OPEN_CONSOLE.
    p = console(host, "con")
    try:
        assert p.wait() == 1
        assert "error: The domain is not running" in p.text(), p.text()
    finally:
        p.kill()
    host.assert_clean()


def test_open_console_errors_and_force_with_python(host):
    dom = host.define("con", "echo tick")
    dom.create()
    old = host.console(dom)
    old.wait_for("TICK")
    st = host.conn.newStream(0)
    try:
        got = [
            error_of(dom.openConsole, None, st, 4),
            error_of(dom.openConsole, None, st, 0),
            error_of(dom.openConsole, None, st, libvirt.VIR_DOMAIN_CONSOLE_SAFE),
            error_of(dom.openConsole, "nosuch", st, 0),
        ]
    finally:
        st.abort()
    assert got == [
        (8, 10, "unsupported flags (0x4) in function qemuDomainOpenConsole"),
        (9, 10, "operation failed: " + BUSY),
        (9, 10, "operation failed: " + BUSY),
        (1, 10, "internal error: cannot find character device nosuch"),
    ]
    # The refusals left the first stream working.
    n = old.data.count(b"TICK")
    old.wait_for("TICK", count=n + 1)
    # FORCE (by alias) takes over: the old stream ends with an I/O failure.
    new = host.console(dom, flags=libvirt.VIR_DOMAIN_CONSOLE_FORCE, dev_name="serial0")
    err = old.wait_end()
    assert err != "EOF"
    assert (err.get_error_code(), err.get_error_domain(), err.get_error_message()) == (
        39, 38, "stream had I/O failure")
    new.stream.send(b"xy")
    new.wait_for("XY")
    dom.destroy()
    assert new.wait_end() == "EOF"
    host.events.expect("con", [ADDED, BOOTED, STOPPED_DESTROYED])
    host.assert_clean()


def test_console_of_a_gone_run_does_not_hold_the_next(host):
    """A client that has not finished the stream of a run that ended (its QEMU gone: stopped,
    or migrated away) holds nothing of the guest's next run: a plain session gets its
    console."""
    dom = host.define("con", "echo tick")
    dom.create()
    old = host.console(dom)
    try:
        old.wait_for("TICK")
        dom.destroy()
        assert old.wait_end() == "EOF"  # seen, not finished
        dom.create()
        new = host.console(dom)
        try:
            new.wait_for("TICK")
            new.stream.send(b"ok")
            new.wait_for("OK")
        finally:
            new.close()
    finally:
        old.close()
    dom.destroy()
    host.events.expect("con", [ADDED, BOOTED, STOPPED_DESTROYED, BOOTED, STOPPED_DESTROYED])
    host.assert_clean()
