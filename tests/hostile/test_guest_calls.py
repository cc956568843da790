"""test_guest_calls.py: a client that leaves in the middle of a guest operation.

A real TCG guest (../e2e/guests.py, the `host` fixture: short kill timeouts, an event
client, and after the test the check that no QEMU process, pid file or domain
directory is left). A raw client sends DOMAIN_CREATE, or DOMAIN_DESTROY of a guest whose
QEMU is SIGSTOPped, and closes its socket at once, while the operation is still pending
(the daemon's log shows the client gone before the operation ended). The operation completes
anyway; the state and the events other clients see are those of a normal start or
destroy; nobody waits on the reply that has nowhere to go.
"""

import os
import re
import signal
import time

import libvirt

import rawrpc
from hostile import PROC_DOMAIN_CREATE, PROC_DOMAIN_DESTROY, PROC_DOMAIN_LOOKUP_BY_NAME, served
from hostile import Target
from rawrpc import CALL, OK, REMOTE_PROGRAM, REMOTE_VERSION, encode_frame, string

RUNNING, SHUTOFF = 1, 5
ADDED, BOOTED, DESTROYED = "DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/DESTROYED"


def call_and_leave(path, name, proc):
    """Open, look the domain up, send proc for it and close without reading the reply."""
    with rawrpc.Client(str(path)).open() as c:
        u = c.call(PROC_DOMAIN_LOOKUP_BY_NAME, string(name))
        dom = u.data[u.pos:]
        c.send_raw(encode_frame(REMOTE_PROGRAM, REMOTE_VERSION, proc, CALL, c.next_serial(), OK,
                                dom))
    return time.monotonic()


def assert_left_while_pending(daemon, api, final):
    """The daemon's log shows the client that asked for api closed before the guest
    reached final (its "client N closed" line precedes the transition it asked for)."""
    lines = daemon.stderr_text().splitlines()
    done = [i for i, ln in enumerate(lines)
            if re.search(r"domain leaver: \S+ -> %s, asked by client \d+ .*%s$"
                         % (re.escape(final), api), ln)]
    assert done, "no transition to %s by %s in the log" % (final, api)
    client = re.search(r"asked by client (\d+)", lines[done[-1]]).group(1)
    closed = [i for i, ln in enumerate(lines) if re.search(r"client %s closed: " % client, ln)]
    assert closed and closed[0] < done[-1], \
        "client %s did not leave before %s completed:\n%s" % (client, api, "\n".join(lines))


def test_client_leaves_while_start_and_destroy_are_pending(host):
    target = Target("virtqemud", host.daemon.sock, "qemu:///system", "QEMU", [host.daemon])
    dom = host.define("leaver", "")
    host.events.expect("leaver", [ADDED])

    call_and_leave(host.daemon.sock, "leaver", PROC_DOMAIN_CREATE)
    # Others are served while the start is still in progress.
    served(target)
    host.events.expect("leaver", [ADDED, BOOTED])
    assert dom.state() == [RUNNING, 1]  # RUNNING/BOOTED
    assert_left_while_pending(host.daemon, "virDomainCreate", "running/1")
    pid = host.pid("leaver")
    assert host.conn.lookupByName("leaver").ID() > 0

    # QEMU is stopped, so the destroy's SIGTERM waits until it is continued, well
    # after the client has gone.
    os.kill(pid, signal.SIGSTOP)
    try:
        call_and_leave(host.daemon.sock, "leaver", PROC_DOMAIN_DESTROY)
        served(target)
        time.sleep(0.3)
    finally:
        os.kill(pid, signal.SIGCONT)
    host.events.expect("leaver", [ADDED, BOOTED, DESTROYED])
    assert dom.state() == [SHUTOFF, 2]  # SHUTOFF/DESTROYED
    assert_left_while_pending(host.daemon, "virDomainDestroy", "shutoff/2")
    host.assert_clean()
    try:
        os.kill(pid, 0)
        raise AssertionError("QEMU %d still alive after the destroy" % pid)
    except ProcessLookupError:
        pass

    # The same guest starts again for a client that waits for its reply.
    dom.create()
    host.events.expect("leaver", [ADDED, BOOTED, DESTROYED, BOOTED])
    dom.destroy()
    host.events.expect("leaver", [ADDED, BOOTED, DESTROYED, BOOTED, DESTROYED])
    host.assert_clean()
    assert host.daemon.alive()
    assert libvirt.open(host.uri).getType() == "QEMU"
