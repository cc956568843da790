"""test_migrate_restart.py: a daemon killed (SIGKILL) in the middle of a live migration and
started again (issue 21 item 3: no guest is lost, each daemon's view consistent after its
restart). The migration's phase is in the running guest's status file (<job async=...
phase=...>, as libvirt's), and the restarted daemon ends the migration from it
(qemu_migrate_recover.c):

- the source's daemon killed while QEMU sends: the restarted source cancels QEMU's migration
  and the guest runs on there (RUNNING/MIGRATION_CANCELED); the destination's incoming QEMU
  fails with the stream and goes (STOPPED/FAILED): one copy, on the source;
- the destination's daemon killed: the source's perform or finish fails and its guest runs
  on; the restarted destination finds its incoming guest not finished and kills it: nothing
  is left there.

Peer-to-peer (the source daemon holds the connection to the destination: its loss cancels
QEMU's migration, "Lost connection to destination host" as libvirt's), between two of our
virtqemuds (migpair.py); the Linux guest, slowed to 1 MiB/s so the migration lasts, as
test_qemu_migration.py does.
"""

import time

import pytest

from guests import RUNNING, Events
from migpair import facts
from test_qemu_migration import (linux, migrate_in_background, pair, start_linux,  # noqa: F401
                                 wait_job)
from migpair import virsh

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

pytestmark = pytest.mark.slow

WAIT = 90.0


def restart(h):
    """Start h's daemon again on its root, with fresh connections (the killed daemon's
    socket file may answer "refused" for a moment after the new one is ready)."""
    h.daemon.start()
    deadline = time.monotonic() + WAIT
    while True:
        try:
            h.conn = libvirt.open(h.uri)
            break
        except libvirt.libvirtError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    h.events = Events(h.uri)


def wait_gone(uri, name, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if facts(uri, name) is None:
            return
        time.sleep(0.2)
    raise AssertionError("%s still on %s after %.0f s: %r" % (name, uri, timeout,
                                                             facts(uri, name)))


def wait_running(uri, name, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        f = facts(uri, name)
        if f and f[0] == RUNNING:
            return f
        time.sleep(0.2)
    raise AssertionError("%s not running on %s: %r" % (name, uri, facts(uri, name)))


@pytest.mark.parametrize("killed", ["source", "destination"])
def test_daemon_killed_mid_migration(pair, linux, killed):
    a, b = pair
    name = "mig-kill-%s" % killed[:3]
    dom, con = start_linux(a, linux, name)
    virsh(a.uri, "migrate-setspeed", name, "1")
    proc = migrate_in_background(a, b, name, "--p2p")
    wait_job(a.uri, name)
    status = (a if killed == "source" else b).qemu_run / ("%s.xml" % name)
    text = status.read_text()
    side = "out" if killed == "source" else "in"
    assert "<job async='migration %s' phase='" % side in text, text
    victim = a if killed == "source" else b
    victim.events.close()
    victim.daemon.kill()
    victim.daemon.wait_exit(10)
    victim.daemon.expected_status = 0
    if killed == "destination":
        # The source notices: its perform (or the finish after it) fails, its guest runs on.
        proc.communicate(timeout=WAIT)
        assert proc.returncode != 0
    restart(victim)
    if killed == "source":
        proc.communicate(timeout=WAIT)
        assert proc.returncode != 0
    # Exactly one copy: on the source, running; nothing on the destination.
    wait_running(a.uri, name)
    wait_gone(b.uri, name)
    moved = a.conn.lookupByName(name)
    # The console opened at boot lives on with the source's daemon (not with a restarted one).
    con2 = con if killed == "destination" else a.console(moved)
    con2.stream.send(b"echo still-$((6*7))\n")
    con2.wait_for("still-42", timeout=WAIT)
    assert "<job " not in (a.qemu_run / ("%s.xml" % name)).read_text()
    moved.destroy()
