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
import signal
import subprocess
import time

import libvirt
import pytest

import migguest
from hosts import Fleet, virsh_env

pytestmark = pytest.mark.slow

LIBVIRTD = "/usr/sbin/libvirtd"
MIGRATE_TIMEOUT = 180
# A failed move's end: libvirtd's keepalive ends one cut off in ~30-45 s.
FAILURE_TIMEOUT = 90
# virDomainState and the reasons seen here (libvirt-wire-facts.md, section 4)
RUNNING, PAUSED, SHUTOFF = 1, 3, 5
RUNNING_BOOTED, RUNNING_MIGRATED = 1, 2
SHUTOFF_UNKNOWN = 0

# The shared storage is a directory of this machine's file system, which libvirt 9.0 cannot
# tell from local storage ("Unsafe migration: Migration without shared storage is unsafe"),
# as it would an NFS or cluster file system: moves that leave the disk in place say so.
UNSAFE = "--unsafe"

# The fleet: two hosts with Debian's libvirtd, two with ours.
KINDS = {"lva": "libvirtd", "lvb": "libvirtd", "sva": "ours", "svb": "ours"}
# Source and destination of the scenarios: libvirtd's pair is the reference.
PAIRS = [("lva", "lvb"), ("sva", "svb")]
# Ours and libvirtd's, for the live moves that go there and back (both directions).
MIXED = [("sva", "lvb")]

def pair_id(pair):
    return "%s-%s" % pair


# Where our daemons do not do yet what libvirtd does: (scenario, pair id) -> why. Strict:
# once one is fixed, its test fails until the entry goes.
GAPS = {}

# Differences kept on purpose: (scenario, pair id) -> (what that pair observes instead of
# libvirtd's, why). Exact: once the difference goes, the test fails until the entry does.
DIFFERENT = {
    ("offline_persistent", "sva-svb"): (
        {"definition_changes": ["+<backingStore/>"]},
        "libvirt's live definition, which the destination gets, names the cgroup partition "
        "its guests run in (/machine: machine.slice, through systemd-machined); ours run in a "
        "cgroup of their own, in no partition, and name none (test_libvirt_parity.py's "
        "LIVE_HOST_DEPENDENT)"),
}


def pairs(scenario, of=PAIRS):
    """The pairs to run scenario on, those in GAPS marked as expected to fail."""
    out = []
    for p in of:
        why = GAPS.get((scenario, pair_id(p)))
        out.append(pytest.param(p, id=pair_id(p), marks=[pytest.mark.xfail(
            strict=True, reason=why)] if why else []))
    return out


@pytest.fixture(scope="module")
def fleet():
    if not os.path.exists(LIBVIRTD):
        pytest.fail("Debian's libvirtd is not installed (scripts/deps.sh)", pytrace=False)
    f = Fleet(list(KINDS.values()), list(KINDS), tls=True)
    yield f
    problems = f.close()
    if problems:
        pytest.fail("at the fleet's end:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def hosts(fleet, request):
    yield fleet
    problems = fleet.clear()
    rep = getattr(request.node, "rep_call", None)
    if problems and not (rep is not None and (rep.failed or hasattr(rep, "wasxfail"))):
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)


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


# How long to keep listening for events after a move returned (they cross the client's
# event loop on their own time).
SETTLE = 1.0


class Watch:
    """The lifecycle events of guest name each host's client receives from now on."""

    def __init__(self, hosts, name):
        self.name = name
        self.start = {h.name: len(h.events.of(name)) for h in hosts}
        self.clients = {h.name: h.events for h in hosts}

    def events(self, host):
        return host.events.of(self.name)[self.start[host.name]:]

    def observe(self, src, dst, prefix=""):
        """Both sides' new events and guests (after SETTLE)."""
        time.sleep(SETTLE)
        return {prefix + "src_events": self.events(src), prefix + "dst_events":
                self.events(dst), prefix + "src_domains": src.states(),
                prefix + "dst_domains": dst.states()}


def move(fleet, counter, src, dst, name, *args, prefix="", tls=False):
    """Migrate name src -> dst with args (to dst's TCP listener, or with tls its TLS one);
    the counter's continuity checked; what each side saw (Watch.observe). Prints the seconds
    taken and the pause seen on the console."""
    counter.mark()
    watch = Watch(fleet.hosts, name)
    took = migrate(src, *args, name, dst.tls_uri(src) if tls else dst.tcp_uri)
    pause = counter.continuity(src, dst)
    print("%s -> %s %s%s: %.2f s, console pause %.2f s" % (
        src.name, dst.name, " ".join(args), " over TLS" if tls else "", took, pause))
    return watch.observe(src, dst, prefix)


# ---------------------------------------------------------------- the reference

# What libvirtd <-> libvirtd gives (each scenario's observations, events from the move's
# start on), which every pair must give.
MOVED = {"src_events": ["SUSPENDED/MIGRATED", "STOPPED/MIGRATED"],
         "dst_events": ["STARTED/MIGRATED", "RESUMED/MIGRATED"]}


def moved(name, prefix=""):
    """A live move's observations: the source's copy gone, the destination's running."""
    return {prefix + "src_events": MOVED["src_events"],
            prefix + "dst_events": MOVED["dst_events"],
            prefix + "src_domains": {}, prefix + "dst_domains": {name: (RUNNING,
                                                                        RUNNING_MIGRATED)}}


FAILING = "mig-failing"  # the guest of test_failure


def failed(name, dst_events, dst_domains=None):
    """A failed move's observations: the guest running on the source as before, nothing
    new there; the destination's events and guests."""
    return {"src_events": [], "dst_events": dst_events,
            "src_domains": {name: (RUNNING, RUNNING_BOOTED)}, "dst_domains": dst_domains or {}}


EXPECTED = {
    "live_p2p": {**moved("mig-p2p"), **moved("mig-p2p", "back_")},
    # libvirt 9.0 sends no UNDEFINED event for the source's definition it removes
    "live_direct_persistent": {
        **moved("mig-direct"), "dst_persistent": 1,
        "dst_events": ["STARTED/MIGRATED", "DEFINED/ADDED", "RESUMED/MIGRATED"]},
    "tunnelled": moved("mig-tunnel"),
    "copy_storage_all": {**moved("mig-storage"), "disks_equal": True},
    "postcopy": {
        **moved("mig-postcopy"),
        "src_events": ["SUSPENDED/MIGRATED", "SUSPENDED/POSTCOPY", "STOPPED/MIGRATED"],
        "dst_events": ["STARTED/MIGRATED", "RESUMED/POSTCOPY", "RESUMED/MIGRATED"]},
    # the destination's definition is the source's migratable live one (its partition and
    # the disk's empty backing chain)
    "offline_persistent": {
        "src_events": [], "dst_events": ["DEFINED/ADDED"],
        "src_domains": {"mig-offline": (RUNNING, RUNNING_BOOTED)},
        "dst_domains": {"mig-offline": (SHUTOFF, SHUTOFF_UNKNOWN)}, "dst_persistent": 1,
        "definition_changes": ["+<resource>", "+<partition>/machine</partition>",
                               "+</resource>", "+<backingStore/>"]},
    "destination_refuses": {
        **failed("mig-refused", [], {"mig-refused": (SHUTOFF, SHUTOFF_UNKNOWN)}),
        "error": "error: operation failed: domain 'mig-refused' already exists with uuid UUID"},
    "destination_qemu_dies": failed(FAILING, ["STARTED/MIGRATED", "STOPPED/FAILED"]),
    "abort": failed(FAILING, ["STARTED/MIGRATED", "STOPPED/FAILED"]),
    # the destination's copy goes when the connection that prepared it closes (the source
    # daemon's); the source's restarted daemon takes its guest back running, before any
    # client of it is there to hear events
    "source_daemon_killed": failed(FAILING, ["STARTED/MIGRATED", "SHUTDOWN/HOST",
                                             "STOPPED/DESTROYED"]),
    # the cut ends the source's connection by keepalive (libvirt's 5 s x 5), and the
    # destination's end of it the same way, which drops the incoming copy
    "network_cut": failed(FAILING, ["STARTED/MIGRATED", "SHUTDOWN/HOST",
                                    "STOPPED/DESTROYED"]),
    # the destination's restarted daemon drops the incoming copy before any client is there
    "destination_daemon_killed": failed(FAILING, []),
}


def check(observed, scenario, pair=None):
    """observed is libvirtd's observation of scenario, or for pair the one DIFFERENT names."""
    expected, why = EXPECTED.get(scenario), "libvirtd's"
    if pair and (scenario, pair_id(pair)) in DIFFERENT:
        changed, why = DIFFERENT[(scenario, pair_id(pair))]
        expected = {**expected, **changed}
    assert observed == expected, "observed %r\nexpected (%s) %r" % (observed, why, expected)


# ---------------------------------------------------------------- the fleet itself

def test_hosts_reach_each_other(hosts):
    """Every host's daemon answers on qemu+tcp://NAME/system and qemu+tls://NAME/system from
    the next host, with the host's own hostname and host UUID (what migration tells hosts
    apart by)."""
    for i, h in enumerate(hosts.hosts):
        client = hosts.hosts[(i + 1) % len(hosts.hosts)]
        for uri in (h.tcp_uri, h.tls_uri(client)):
            r = client.run(["virsh", "-q", "-c", uri, "hostname"], env=virsh_env())
            assert r.stdout.strip() == h.name, (h.name, uri, r.stdout)
        caps = client.run(["virsh", "-q", "-c", h.tcp_uri, "capabilities"],
                          env=virsh_env()).stdout
        assert "<uuid>%s</uuid>" % h.host_uuid in caps, (h.name, h.host_uuid, caps[:400])


# ---------------------------------------------------------------- scenarios

@pytest.mark.parametrize("pair", pairs("live_p2p", PAIRS + MIXED))
def test_live_p2p(hosts, guest, pair):
    """virsh migrate --live --p2p, and back: the source daemon drives the destination's,
    over TCP there, over TLS back (the source's client certificate by ?pkipath=)."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-p2p"
    counter = boot(hosts, guest, src, name)
    try:
        obs = move(hosts, counter, src, dst, name, "--live", "--p2p", UNSAFE)
        obs.update(move(hosts, counter, dst, src, name, "--live", "--p2p", UNSAFE,
                        prefix="back_", tls=True))
    finally:
        counter.stop()
    check(obs, "live_p2p")


@pytest.mark.parametrize("pair", pairs("live_direct_persistent"))
def test_live_direct_persistent(hosts, guest, pair):
    """Managed direct (virsh drives both daemons), of a persistent guest, its definition moved
    along (--persistent --undefinesource)."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-direct"
    counter = boot(hosts, guest, src, name, persistent=True)
    try:
        obs = move(hosts, counter, src, dst, name, "--live", "--persistent",
                   "--undefinesource", UNSAFE)
        obs["dst_persistent"] = dst.conn.lookupByName(name).isPersistent()
    finally:
        counter.stop()
    check(obs, "live_direct_persistent")


@pytest.mark.parametrize("pair", pairs("tunnelled"))
def test_tunnelled(hosts, guest, pair):
    """--p2p --tunnelled: the guest's memory through the daemons' own connection."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-tunnel"
    counter = boot(hosts, guest, src, name)
    try:
        obs = move(hosts, counter, src, dst, name, "--live", "--p2p", "--tunnelled", UNSAFE)
    finally:
        counter.stop()
    check(obs, "tunnelled")


@pytest.mark.parametrize("pair", pairs("copy_storage_all"))
def test_copy_storage_all(hosts, guest, pair):
    """--copy-storage-all: the disk is on the source's own storage; the destination has an
    empty one of the same size at the same path, which the move fills."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-storage"
    counter = boot(hosts, guest, src, name, storage="local")
    migguest.precreate(hosts, src, dst, name)
    try:
        obs = move(hosts, counter, src, dst, name, "--live", "--p2p", "--copy-storage-all")
        obs["disks_equal"] = migguest.disks_equal(hosts, src, dst, name)
    finally:
        counter.stop()
    check(obs, "copy_storage_all")


@pytest.mark.parametrize("pair", pairs("postcopy"))
def test_postcopy(hosts, guest, pair):
    """--postcopy, slowed down so that it is still copying when `virsh migrate-postcopy`
    switches the guest over."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-postcopy"
    counter = boot(hosts, guest, src, name)
    try:
        counter.mark()
        watch = Watch(hosts.hosts, name)
        bg = Background(src, ["--live", "--p2p", "--postcopy", "--bandwidth", "2", UNSAFE,
                              name, dst.tcp_uri])
        wait_migrating(src, name)
        src.virsh("migrate-postcopy", name)
        status, err = bg.wait()
        assert status == 0, err
        pause = counter.continuity(src, dst)
        print("postcopy %s -> %s: %.2f s, console pause %.2f s" % (src.name, dst.name,
                                                                   bg.took, pause))
        obs = watch.observe(src, dst)
    finally:
        counter.stop()
    check(obs, "postcopy")


@pytest.mark.parametrize("pair", pairs("offline_persistent"))
def test_offline_persistent(hosts, guest, pair):
    """--offline --persistent of a running guest: the destination gets the definition only;
    the guest goes on running on the source."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = "mig-offline"
    counter = boot(hosts, guest, src, name, persistent=True)
    try:
        counter.mark()
        watch = Watch(hosts.hosts, name)
        migrate(src, "--offline", "--persistent", name, dst.tcp_uri)
        counter.wait_more(src, 5)
        obs = watch.observe(src, dst)
        obs["dst_persistent"] = dst.conn.lookupByName(name).isPersistent()
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE
        obs["definition_changes"] = changes(src.conn.lookupByName(name).XMLDesc(flags),
                                            dst.conn.lookupByName(name).XMLDesc(flags))
    finally:
        counter.stop()
    check(obs, "offline_persistent", pair)


def changes(before, after):
    """The lines after has and before has not, and the other way round (stripped), as
    ["+LINE", "-LINE"]."""
    a, b = [ln.strip() for ln in before.splitlines()], [ln.strip() for ln in after.splitlines()]
    return ["-" + ln for ln in a if ln not in b] + ["+" + ln for ln in b if ln not in a]


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


def slow_move(hosts, guest, src, dst, name):
    """The guest booted on src and a live p2p move to dst started at 2 MiB/s (tens of
    seconds for what the guest has touched) and under way: (Counter, Watch, Background)."""
    counter = boot(hosts, guest, src, name)
    counter.mark()
    watch = Watch(hosts.hosts, name)
    bg = Background(src, ["--live", "--p2p", "--bandwidth", "2", UNSAFE, name, dst.tcp_uri])
    wait_migrating(src, name)
    return counter, watch, bg


def wait_gone(host, name, timeout=90):
    """Until host has no guest name running and no QEMU of it."""
    deadline = time.monotonic() + timeout
    while name in host.domains(active_only=True) or host.qemu_pid(name) is not None:
        assert time.monotonic() < deadline, "%s still runs %s after %d s" % (
            host.name, name, timeout)
        time.sleep(0.2)


def after_failure(counter, watch, src, dst, status, err):
    """What a failed move leaves: the guest running on the source only, counting on."""
    assert status != 0, "the migration succeeded"
    wait_gone(dst, watch.name)
    counter.wait_more(src, 5)
    obs = watch.observe(src, dst)
    print("failed move: %s" % err)
    return obs


@pytest.mark.parametrize("pair", pairs("destination_refuses"))
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
        watch = Watch(hosts.hosts, name)
        r = src.run(["virsh", "-q", "-c", src.uri, "migrate", "--live", "--p2p", UNSAFE, name,
                     dst.tcp_uri], check=False, env=virsh_env())
        obs = after_failure(counter, watch, src, dst, r.returncode, r.stderr.strip())
        obs["error"] = r.stderr.strip().replace(
            dst.conn.lookupByName(name).UUIDString(), "UUID")
    finally:
        counter.stop()
    check(obs, "destination_refuses")


def qemu_dies(src, dst, name, bg):
    """The destination's QEMU is killed mid-move."""
    os.kill(dst.qemu_pid(name), signal.SIGKILL)
    return bg.wait(FAILURE_TIMEOUT)


def network_cut(src, dst, name, bg):
    """The destination's link goes down mid-move (silently: no reset reaches anyone) until
    the move has failed; the daemons' keepalive ends it."""
    dst.cut()
    try:
        return bg.wait(FAILURE_TIMEOUT)
    finally:
        dst.mend()


def abort(src, dst, name, bg):
    """virsh domjobabort on the source."""
    src.virsh("domjobabort", name)
    return bg.wait(FAILURE_TIMEOUT)


def source_daemon_killed(src, dst, name, bg):
    """The source's daemon is killed mid-move and started again: it finds the guest it left
    migrating and ends the move with the guest running there; the destination drops its
    incoming copy."""
    src.kill_daemon()
    out = bg.wait(FAILURE_TIMEOUT)
    src.restart()
    return out


def destination_daemon_killed(src, dst, name, bg):
    """The destination's daemon is killed mid-move: the source ends the move and resumes;
    started again, the destination's daemon kills the incoming copy it finds."""
    dst.kill_daemon()
    out = bg.wait(FAILURE_TIMEOUT)
    dst.restart()
    return out


FAILURES = {"destination_qemu_dies": qemu_dies, "network_cut": network_cut, "abort": abort,
            "source_daemon_killed": source_daemon_killed,
            "destination_daemon_killed": destination_daemon_killed}


@pytest.mark.parametrize("failure,pair", [
    pytest.param(f, *p.values, id="%s-%s" % (f, p.id), marks=p.marks)
    for f in FAILURES for p in pairs(f)])
def test_failure(hosts, guest, failure, pair):
    """A move that fails mid-way (FAILURES) leaves exactly one running copy of the guest, on
    the source, counting on; each side's events as libvirtd's."""
    src, dst = hosts[pair[0]], hosts[pair[1]]
    name = FAILING
    counter, watch, bg = slow_move(hosts, guest, src, dst, name)
    try:
        status, err = FAILURES[failure](src, dst, name, bg)
        for h in (src, dst):
            if h.events is not watch.clients[h.name]:  # a new client since: all is new
                watch.start[h.name] = 0
        obs = after_failure(counter, watch, src, dst, status, err)
    finally:
        counter.stop()
    check(obs, failure)
