"""test_qemu_migration.py: live migration of a running guest (issue 21, item 2) between two
of our virtqemuds on this machine, each its own "host" (its --root and host_uuid), QEMU to
QEMU over TCP: managed by virsh and peer-to-peer, aborted, switched to post-copy, and the
job's calls on a guest that is not migrating.

What each checks, as libvirt 9.0 does it:
- the guest runs on the destination (RUNNING/MIGRATED) and its console goes on counting
  where the source's stopped (guest A's `tick`: no reboot, no gap beyond the pause); the
  source has nothing left (a transient guest) or its definition shut off (SHUTOFF/MIGRATED);
- the lifecycle events of each side: the source's SUSPENDED/MIGRATED then STOPPED/MIGRATED,
  the destination's STARTED/MIGRATED then RESUMED/MIGRATED (libvirt's; the post-copy ones
  SUSPENDED/POSTCOPY and RESUMED/POSTCOPY);
- domjobinfo during a migration (Unbounded, the outgoing operation), domjobabort ending it
  with libvirt's error ("operation aborted: migration out job: canceled by client"), the
  guest running on the source and nothing on the destination (STOPPED/FAILED there);
- libvirt's refusals of the job's calls without a migration, and the downtime and speed a
  guest keeps.
The Linux guest (slow to copy at 1 MiB/s: its memory is not zero) is used where the
migration must last.
"""

import re
import subprocess
import time

import pytest

import linuxguest
from guests import Host, RUNNING, SHUTOFF
from test_migrate_offline import start_host, virsh

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

pytestmark = pytest.mark.slow

WAIT = 60.0
RUNNING_MIGRATED = 2
RUNNING_MIGRATION_CANCELED = 6
SHUTOFF_MIGRATED = 4


@pytest.fixture
def pair(daemons, root, request):
    """Two hosts (guests.Host) a and b; their guests destroyed and leftovers checked after
    (b's first: its guests came from a and run a's kernel)."""
    hosts = []
    for label in ("a", "b"):
        d = start_host(daemons, root, label)
        hosts.append(Host(d, d.root))
    yield hosts
    rep = getattr(request.node, "rep_call", None)
    failed = rep is not None and rep.failed
    problems = []
    for h in reversed(hosts):
        problems += h.finish(test_failed=failed)
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


def last_tick(data):
    ticks = re.findall(rb"TICK (\d+)", data)
    return int(ticks[-1]) if ticks else 0


def events_after(events, name, first):
    """The events of name after the first one (the source's own start)."""
    got = events.of(name)
    assert got[:1] == [first], got
    return got[1:]


def wait_events(events, name, expected, timeout=WAIT):
    events.wait_count(name, len(expected), timeout)
    time.sleep(0.3)
    got = events.of(name)
    assert got == expected, "events of %s: got %r, expected %r" % (name, got, expected)


def start_ticking(a, name, persistent=False):
    """Guest A on host a, printing TICK N each second; its console reader."""
    xml = a.xml(name, "tick")
    dom = a.conn.defineXML(xml) if persistent else None
    if persistent:
        dom.create()
    else:
        dom = a.conn.createXML(xml, 0)
    con = a.console(dom)
    con.wait_for("TICK ", count=2, timeout=WAIT)
    return dom, con


@pytest.mark.parametrize("mode", ["managed", "p2p"])
def test_live_migration(pair, mode):
    a, b = pair
    name = "mig-live-" + mode
    dom, con = start_ticking(a, name)
    extra = ["--p2p"] if mode == "p2p" else []
    virsh(a.uri, "migrate", "--live", "--verbose", *extra, name, b.uri)
    before = last_tick(con.data)
    moved = b.conn.lookupByName(name)
    assert moved.state() == [RUNNING, RUNNING_MIGRATED]
    wait_gone(a, name)  # transient: nothing left on the source
    wait_events(b.events, name, ["STARTED/MIGRATED", "RESUMED/MIGRATED"])
    a.events.wait_count(name, 3, WAIT)
    assert events_after(a.events, name, "STARTED/BOOTED") == ["SUSPENDED/MIGRATED",
                                                              "STOPPED/MIGRATED"]
    # The guest counts on where it was: the next tick is one more (not a reboot's 1).
    con_b = b.console(moved)
    con_b.wait_for("TICK ", count=2, timeout=WAIT)
    after = re.findall(rb"TICK (\d+)", con_b.data)
    assert int(after[0]) in (before, before + 1, before + 2), (before, after)
    assert b"READY" not in con_b.data
    moved.destroy()


def test_persistent_source_keeps_definition(pair):
    """A persistent source without --undefinesource: shut off, reason MIGRATED; the
    destination's guest is transient (no --persistent)."""
    a, b = pair
    name = "mig-keep"
    dom, con = start_ticking(a, name, persistent=True)
    virsh(a.uri, "migrate", "--live", name, b.uri)
    wait_state(a.conn.lookupByName(name), [SHUTOFF, SHUTOFF_MIGRATED])
    wait_events(a.events, name, ["DEFINED/ADDED", "STARTED/BOOTED", "SUSPENDED/MIGRATED",
                                 "STOPPED/MIGRATED"])
    moved = b.conn.lookupByName(name)
    assert not moved.isPersistent()
    moved.destroy()
    dom.undefine()


def wait_state(dom, expected, timeout=WAIT):
    """The state libvirt's confirm leaves (it answers once the source's QEMU is gone)."""
    deadline = time.monotonic() + timeout
    while dom.state() != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert dom.state() == expected


def wait_gone(host, name, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            host.conn.lookupByName(name)
        except libvirt.libvirtError as e:
            assert e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
            return
        time.sleep(0.1)
    raise AssertionError("%s still on the source" % name)


def job_error(uri, *args):
    r = virsh(uri, *args, check=False)
    assert r.returncode != 0, r.stdout
    return r.stderr.strip()


def test_job_calls_without_migration(pair):
    a, _ = pair
    name = "mig-calls"
    start_ticking(a, name)
    assert job_error(a.uri, "domjobabort", name) == \
        "error: Requested operation is not valid: no job is active on the domain"
    assert job_error(a.uri, "migrate-postcopy", name) == (
        "error: Requested operation is not valid: post-copy can only be started while "
        "outgoing migration is in progress")
    virsh(a.uri, "migrate-setmaxdowntime", name, "250")
    assert virsh(a.uri, "migrate-getmaxdowntime", name).stdout.strip() == "250"
    # libvirt's speed without a migration: its unlimited, then what was set.
    assert virsh(a.uri, "migrate-getspeed", name).stdout.strip() == "8796093022207"
    virsh(a.uri, "migrate-setspeed", name, "100")
    assert virsh(a.uri, "migrate-getspeed", name).stdout.strip() == "100"
    info = virsh(a.uri, "domjobinfo", name).stdout
    assert re.search(r"Job type:\s+None", info), info
    a.conn.lookupByName(name).destroy()


@pytest.fixture(scope="module")
def linux():
    try:
        return linuxguest.build()
    except linuxguest.GuestBuildError as e:
        pytest.fail("cannot build the Linux test guest: %s" % e, pytrace=False)


def start_linux(a, linux, name):
    """The Linux guest on a (its disk in a's root, seen by b at the same path: shared
    storage), booted to its prompt; its console reader."""
    disk = linux.copy_root(a.root / ("%s.qcow2" % name))
    dom = a.conn.createXML(linuxguest.domain_xml(name, linux, disk, memory_mib=128),
                           libvirt.VIR_DOMAIN_START_PAUSED)
    con = a.console(dom)
    dom.resume()
    con.wait_for(linuxguest.PROMPT, timeout=linuxguest.BOOT_TIMEOUT)
    return dom


def migrate_in_background(a, b, name, *flags):
    return subprocess.Popen(["virsh", "-q", "-c", a.uri, "migrate", "--live", *flags, name,
                             b.uri], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_job(uri, name, timeout=WAIT):
    """domjobinfo once the outgoing migration has sent something."""
    deadline = time.monotonic() + timeout
    while True:
        info = virsh(uri, "domjobinfo", name).stdout
        m = re.search(r"Data processed:\s+([\d.]+)", info)
        if "Unbounded" in info and m and float(m.group(1)) > 0:
            return info
        assert time.monotonic() < deadline, "no migration under way: %s" % info
        time.sleep(0.2)


def test_abort(pair, linux):
    a, b = pair
    name = "mig-abort"
    dom = start_linux(a, linux, name)
    virsh(a.uri, "migrate-setspeed", name, "1")
    proc = migrate_in_background(a, b, name)
    info = wait_job(a.uri, name)
    assert re.search(r"Operation:\s+Outgoing migration", info), info
    virsh(a.uri, "domjobabort", name)
    out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode != 0
    assert "operation aborted: migration out job: canceled by client" in err, err
    assert dom.state() == [RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED] or \
        dom.state()[0] == RUNNING
    wait_events(b.events, name, ["STARTED/MIGRATED", "STOPPED/FAILED"])
    with pytest.raises(libvirt.libvirtError):
        b.conn.lookupByName(name)
    # The source never paused: no event there beyond its own (paused) start.
    assert a.events.of(name) == ["STARTED/BOOTED", "SUSPENDED/PAUSED", "RESUMED/UNPAUSED"]
    dom.destroy()


def test_postcopy(pair, linux):
    a, b = pair
    name = "mig-postcopy"
    start_linux(a, linux, name)
    virsh(a.uri, "migrate-setspeed", name, "1")
    proc = migrate_in_background(a, b, name, "--postcopy")
    wait_job(a.uri, name)
    virsh(a.uri, "migrate-postcopy", name)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    moved = b.conn.lookupByName(name)
    wait_events(b.events, name, ["STARTED/MIGRATED", "RESUMED/POSTCOPY"])
    assert moved.state() == [RUNNING, RUNNING_MIGRATED]
    # QEMU stops the vCPUs, then says post-copy: libvirt's reason corrected with a second
    # SUSPENDED.
    a.events.wait_count(name, 6, WAIT)
    assert a.events.of(name)[-3:] == ["SUSPENDED/MIGRATED", "SUSPENDED/POSTCOPY",
                                      "STOPPED/MIGRATED"]
    moved.destroy()
