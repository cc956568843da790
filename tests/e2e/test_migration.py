"""test_migration.py: live and offline migration of a running Linux guest between hosts
(hosts.py: namespaces joined by a switch, each with its daemons), with Debian's libvirtd
9.0.0 on both sides as the reference, and the same moves between our daemons and across.

Each scenario boots the Linux test guest (migguest.py: 128 MiB, a counter on its console)
on the source, moves it with stock `virsh migrate` run inside the source host (the
destination named by its hostname, qemu+tcp://NAME/system, as a fleet manager names it),
and observes:
- the guest's counter goes on on the destination with the next number (nothing lost, nothing
  repeated) and keeps counting: the guest runs there;
- each side's guests and states afterwards (the source has nothing left running);
- the lifecycle events each side's clients received for the guest, in order;
- for live moves, the guest moved back again (the other direction of a mixed pair).
What libvirtd does between two libvirtds is the reference (EXPECTED): every pair must give
the same observations. Timings are printed (pytest -s).
Slow: starts libvirtds of its own (run it under the libvirtd lock).
"""

import os
import subprocess
import time

import libvirt
import pytest

import migguest
from hosts import Fleet, virsh_env

pytestmark = pytest.mark.slow

LIBVIRTD = "/usr/sbin/libvirtd"
MIGRATE_TIMEOUT = 180
RUNNING, PAUSED, SHUTOFF = 1, 3, 5

# The fleet: two hosts with Debian's libvirtd, two with ours.
KINDS = {"lva": "libvirtd", "lvb": "libvirtd", "sva": "ours", "svb": "ours"}
# Source and destination of the scenarios: libvirtd's pair is the reference.
PAIRS = [("lva", "lvb")]


@pytest.fixture(scope="module")
def fleet():
    if not os.path.exists(LIBVIRTD):
        pytest.fail("Debian's libvirtd is not installed (scripts/deps.sh)", pytrace=False)
    f = Fleet(list(KINDS.values()), list(KINDS))
    yield f
    problems = f.close()
    if problems:
        pytest.fail("at the fleet's end:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def hosts(fleet, request):
    yield fleet
    problems = fleet.clear()
    rep = getattr(request.node, "rep_call", None)
    if problems and not (rep is not None and rep.failed):
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


def pair_id(pair):
    return "%s-%s" % pair


def migrate(src, *args, timeout=MIGRATE_TIMEOUT):
    """`virsh migrate ARGS` run inside the source host, against its daemon; seconds taken."""
    begin = time.monotonic()
    src.run(["virsh", "-q", "-c", src.uri, "migrate"] + list(args), env=virsh_env(),
            timeout=timeout)
    return time.monotonic() - begin


def boot(fleet, guest, src, name, storage="shared", persistent=False):
    """The guest started on src (transient, or defined first), booted and counting; its
    Counter."""
    xml = migguest.prepare(fleet, guest, src, name, storage)
    counter = migguest.Counter(fleet, name)
    if persistent:
        src.conn.defineXML(xml).create()
    else:
        src.conn.createXML(xml, 0)
    counter.wait_ready(src)
    return counter


def events(host, name):
    return host.events.of(name)


def wait_events(host, name, n):
    return host.events.wait_count(name, n, timeout=30)


def observe(src, dst, name):
    """Each side's guests and their states."""
    return {"src_domains": src.domains(), "dst_domains": dst.domains()}


def move(fleet, counter, src, dst, name, *args):
    """Migrate name src -> dst with args; check the counter's continuity; seconds taken
    and the pause seen on the console."""
    counter.mark()
    took = migrate(src, *args, name, dst.tcp_uri)
    pause = counter.continuity(src, dst)
    print("%s -> %s %s: %.2f s, console pause %.2f s" % (src.name, dst.name, " ".join(args),
                                                          took, pause))
    return took, pause


# ---------------------------------------------------------------- the reference

# What libvirtd <-> libvirtd gives (each scenario's observations), which every pair must give.
EXPECTED = {
    "live_p2p": {
        "src_domains": {}, "dst_domains": {"mig-p2p": RUNNING},
        "src_events": ["STARTED/BOOTED", "SUSPENDED/PAUSED", "STOPPED/MIGRATED"],
        "dst_events": ["STARTED/MIGRATED", "RESUMED/MIGRATED"],
        "back_src_events": ["STARTED/MIGRATED", "RESUMED/MIGRATED", "STOPPED/MIGRATED"],
        "back_dst_events": ["STARTED/BOOTED", "SUSPENDED/PAUSED", "STOPPED/MIGRATED",
                            "STARTED/MIGRATED", "RESUMED/MIGRATED"],
    },
}


def check(observed, scenario):
    assert observed == EXPECTED[scenario], "observed %r\nexpected (libvirtd's) %r" % (
        observed, EXPECTED[scenario])


# ---------------------------------------------------------------- the fleet itself

def test_hosts_reach_each_other(hosts):
    """Every host's daemon answers on qemu+tcp://NAME/system from the next host, with the
    host's own hostname and host UUID (what migration tells hosts apart by)."""
    reachable = [h for h in hosts.hosts if h.kind == "libvirtd" or hosts.ours_listen]
    for i, h in enumerate(reachable):
        client = reachable[(i + 1) % len(reachable)]
        r = client.run(["virsh", "-q", "-c", h.tcp_uri, "hostname"], env=virsh_env())
        assert r.stdout.strip() == h.name, (h.name, r.stdout)
        caps = client.run(["virsh", "-q", "-c", h.tcp_uri, "capabilities"],
                          env=virsh_env()).stdout
        assert "<uuid>%s</uuid>" % h.host_uuid in caps, (h.name, h.host_uuid, caps[:400])


# ---------------------------------------------------------------- scenarios

@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_live_p2p(hosts, guest, pair):
    """virsh migrate --live --p2p, and back: the source daemon drives the destination's."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-p2p"
    counter = boot(hosts, guest, src, name)
    try:
        move(hosts, counter, src, dst, name, "--live", "--p2p")
        obs = observe(src, dst, name)
        obs["src_events"] = wait_events(src, name, 3)
        obs["dst_events"] = wait_events(dst, name, 2)
        move(hosts, counter, dst, src, name, "--live", "--p2p")
        obs["back_src_events"] = wait_events(dst, name, 3)
        obs["back_dst_events"] = wait_events(src, name, 5)
        time.sleep(0.5)
        obs["back_src_events"] = events(dst, name)
        obs["back_dst_events"] = events(src, name)
    finally:
        counter.stop()
    check(obs, "live_p2p")


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_live_direct_persistent(hosts, guest, pair):
    """Managed direct (virsh drives both daemons), of a persistent guest, its definition moved
    along (--persistent --undefinesource)."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-direct"
    counter = boot(hosts, guest, src, name, persistent=True)
    try:
        move(hosts, counter, src, dst, name, "--live", "--persistent", "--undefinesource")
        obs = observe(src, dst, name)
        obs["dst_persistent"] = dst.conn.lookupByName(name).isPersistent()
        time.sleep(0.5)
        obs["src_events"] = events(src, name)
        obs["dst_events"] = events(dst, name)
    finally:
        counter.stop()
    check(obs, "live_direct_persistent")


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_tunnelled(hosts, guest, pair):
    """--p2p --tunnelled: the guest's memory through the daemons' own connection."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-tunnel"
    counter = boot(hosts, guest, src, name)
    try:
        move(hosts, counter, src, dst, name, "--live", "--p2p", "--tunnelled")
        obs = observe(src, dst, name)
        time.sleep(0.5)
        obs["src_events"] = events(src, name)
        obs["dst_events"] = events(dst, name)
    finally:
        counter.stop()
    check(obs, "tunnelled")


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_copy_storage_all(hosts, guest, pair):
    """--copy-storage-all: the disk is on the source's own storage; the destination has an
    empty one of the same size at the same path, which the move fills (the guest goes on
    counting there, on its root file system)."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-storage"
    counter = boot(hosts, guest, src, name, storage="local")
    migguest.precreate(hosts, src, dst, name)
    try:
        move(hosts, counter, src, dst, name, "--live", "--p2p", "--copy-storage-all")
        obs = observe(src, dst, name)
        time.sleep(0.5)
        obs["src_events"] = events(src, name)
        obs["dst_events"] = events(dst, name)
        obs["disks_equal"] = migguest.disks_equal(hosts, src, dst, name)
    finally:
        counter.stop()
    check(obs, "copy_storage_all")


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_postcopy(hosts, guest, pair):
    """--postcopy, slowed down so that it is still copying when `virsh migrate-postcopy`
    switches the guest over."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-postcopy"
    counter = boot(hosts, guest, src, name)
    try:
        counter.mark()
        bg = Background(src, ["--live", "--p2p", "--postcopy", "--bandwidth", "2", name,
                              dst.tcp_uri])
        wait_migrating(src, name)
        src.virsh("migrate-postcopy", name)
        status, err = bg.wait()
        assert status == 0, err
        pause = counter.continuity(src, dst)
        print("postcopy %s -> %s: %.2f s, console pause %.2f s" % (src.name, dst.name,
                                                                   bg.took, pause))
        obs = observe(src, dst, name)
        time.sleep(0.5)
        obs["src_events"] = events(src, name)
        obs["dst_events"] = events(dst, name)
    finally:
        counter.stop()
    check(obs, "postcopy")


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_offline_persistent(hosts, guest, pair):
    """--offline --persistent of a running guest: the destination gets the definition only;
    the guest goes on running on the source."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-offline"
    counter = boot(hosts, guest, src, name, persistent=True)
    try:
        counter.mark()
        migrate(src, "--offline", "--persistent", name, dst.tcp_uri)
        counter.wait_more(src, 5)
        obs = observe(src, dst, name)
        obs["dst_persistent"] = dst.conn.lookupByName(name).isPersistent()
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE
        obs["same_definition"] = (dst.conn.lookupByName(name).XMLDesc(flags) ==
                                  src.conn.lookupByName(name).XMLDesc(flags))
        time.sleep(0.5)
        obs["src_events"] = events(src, name)
        obs["dst_events"] = events(dst, name)
    finally:
        counter.stop()
    check(obs, "offline_persistent")


# ---------------------------------------------------------------- failures

class Background:
    """`virsh migrate ARGS` running inside src."""

    def __init__(self, src, args):
        self.begin = time.monotonic()
        self.proc = subprocess.Popen(src.wrap + ["virsh", "-q", "-c", src.uri, "migrate"] +
                                     list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=virsh_env())
        self.took = None

    def wait(self, timeout=MIGRATE_TIMEOUT):
        """(exit status, stderr)."""
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
            raise AssertionError("virsh migrate still running after %d s: %s" % (timeout, err))
        self.took = time.monotonic() - self.begin
        return self.proc.returncode, err.strip()


def wait_migrating(src, name, timeout=60):
    """Until the source's migration job has sent memory."""
    dom = src.conn.lookupByName(name)
    deadline = time.monotonic() + timeout
    while True:
        try:
            info = dom.jobInfo()
            if info[0] == libvirt.VIR_DOMAIN_JOB_UNBOUNDED and info[7] > 0:
                return info
        except libvirt.libvirtError:
            pass
        assert time.monotonic() < deadline, "no migration of %s under way on %s" % (
            name, src.name)
        time.sleep(0.05)


def slow_move(hosts, guest, src, dst, name, *extra):
    """The guest booted on src and a live p2p move to dst started at 2 MiB/s (tens of
    seconds for what the guest has touched) and under way: (Counter, Background)."""
    counter = boot(hosts, guest, src, name)
    counter.mark()
    bg = Background(src, ["--live", "--p2p", "--bandwidth", "2"] + list(extra) +
                    [name, dst.tcp_uri])
    wait_migrating(src, name)
    return counter, bg


def wait_gone(host, name, timeout=90):
    """Until host has no guest name running and no QEMU of it."""
    deadline = time.monotonic() + timeout
    while name in host.domains(active_only=True) or host.qemu_pid(name) is not None:
        assert time.monotonic() < deadline, "%s still runs %s after %d s" % (
            host.name, name, timeout)
        time.sleep(0.2)


def after_failure(counter, src, dst, name, status, err):
    """What a failed move leaves: the guest running on the source only, counting on."""
    assert status != 0, "the migration succeeded"
    wait_gone(dst, name)
    counter.wait_more(src, 5)
    obs = observe(src, dst, name)
    obs["dst_qemu"] = dst.qemu_pid(name)
    time.sleep(0.5)
    obs["src_events"] = events(src, name)
    obs["dst_events"] = events(dst, name)
    print("failed move: %s" % err)
    return obs


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_destination_refuses(hosts, guest, pair):
    """The destination has another guest of that name: it refuses; nothing moves."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-refused"
    other = migguest.prepare(hosts, guest, dst, "mig-refused-other").replace(
        "<name>mig-refused-other</name>", "<name>%s</name>" % name)
    dst.conn.defineXML(other)
    counter = boot(hosts, guest, src, name)
    try:
        counter.mark()
        r = src.run(["virsh", "-q", "-c", src.uri, "migrate", "--live", "--p2p", name,
                     dst.tcp_uri], check=False, env=virsh_env())
        obs = after_failure(counter, src, dst, name, r.returncode, r.stderr.strip())
        obs["error"] = r.stderr.strip()
    finally:
        counter.stop()
    check(obs, "destination_refuses")


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_destination_qemu_dies(hosts, guest, pair):
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-qemudies"
    counter, bg = slow_move(hosts, guest, src, dst, name)
    try:
        os.kill(dst.qemu_pid(name), 9)
        obs = after_failure(counter, src, dst, name, *bg.wait())
    finally:
        counter.stop()
    check(obs, "destination_qemu_dies")


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_network_cut(hosts, guest, pair):
    """The destination's link goes down mid-move (silently: no reset reaches anyone); the
    daemons' keepalive ends the move; the link comes back after."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-netcut"
    counter, bg = slow_move(hosts, guest, src, dst, name)
    try:
        dst.cut()
        try:
            status, err = bg.wait()
        finally:
            dst.mend()
        obs = after_failure(counter, src, dst, name, status, err)
    finally:
        counter.stop()
    check(obs, "network_cut")


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_abort(hosts, guest, pair):
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-abort"
    counter, bg = slow_move(hosts, guest, src, dst, name)
    try:
        src.virsh("domjobabort", name)
        obs = after_failure(counter, src, dst, name, *bg.wait())
    finally:
        counter.stop()
    check(obs, "abort")


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_source_daemon_killed(hosts, guest, pair):
    """The source's daemon is killed mid-move and started again: it finds the guest it left
    migrating and ends the move with the guest running there; the destination drops its
    incoming copy."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-srckill"
    counter, bg = slow_move(hosts, guest, src, dst, name)
    try:
        src.kill_daemon()
        status, err = bg.wait()
        src.restart()
        obs = after_failure(counter, src, dst, name, status, err)
    finally:
        counter.stop()
    check(obs, "source_daemon_killed")


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_destination_daemon_killed(hosts, guest, pair):
    """The destination's daemon is killed mid-move: the source ends the move and resumes;
    started again, the destination's daemon kills the incoming copy it finds."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-dstkill"
    counter, bg = slow_move(hosts, guest, src, dst, name)
    try:
        dst.kill_daemon()
        status, err = bg.wait()
        dst.restart()
        obs = after_failure(counter, src, dst, name, status, err)
    finally:
        counter.stop()
    check(obs, "destination_daemon_killed")
