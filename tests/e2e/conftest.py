"""conftest.py: fixtures that give each test its own root and daemons, and check them after.

Every daemon a test starts is stopped with SIGTERM at teardown; the test then
fails if any daemon left a sanitizer report or exited with an unexpected
status. A watchdog kills the daemons of a test that hangs, so a blocked client
call returns and the test fails instead of blocking the run.

Run from the repository: SV_BUILD_DIR=build /usr/bin/python3 -m pytest -q tests/e2e
SV_E2E_KEEP=1 keeps each test's root (daemon stderr is in ROOT/<label>.stderr);
SV_E2E_WATCHDOG=SECS changes the per-test limit (60 s).
"""

import gc
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from svdaemon import Daemon, DaemonError, daemon_binary

TEST_WATCHDOG = float(os.environ.get("SV_E2E_WATCHDOG", "60"))


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """A test not marked slow or stress is fast (before -m selects, see pytest.ini)."""
    for item in items:
        if not any(item.get_closest_marker(name) for name in ("slow", "stress")):
            item.add_marker(pytest.mark.fast)


def pytest_sessionfinish(session, exitstatus):
    """A selection that finds no test (the slow suite before any test is marked slow) is
    skipped whole, never passed (exit 77: meson's skip); its reason is the last line."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.config.sv_nothing_selected = session.config.getoption("markexpr")
        session.exitstatus = 77


def pytest_unconfigure(config):
    """After pytest's own summary, so that it is the last line scripts/summary.py shows."""
    what = getattr(config, "sv_nothing_selected", None)
    if what is not None:
        print("no test is marked %r yet" % what)


def pytest_report_header(config):
    return "splitvirt daemon under test: %s" % daemon_binary()


def collect_garbage():
    """Close now the libvirt objects earlier code dropped inside reference cycles (a
    traceback that holds a frame, a callback that holds its connection).

    Left to the collector, such a connection is closed whenever it next runs: possibly on
    this thread between a failed call and python-libvirt's virGetLastError(), where the
    close of a connection whose daemon is gone replaces the call's own error with
    "client socket is closed" (seen as a lookup failing with INTERNAL_ERROR)."""
    gc.collect()


@pytest.fixture
def root():
    """A short private root, so unix socket paths stay below 108 bytes."""
    collect_garbage()
    path = tempfile.mkdtemp(prefix="sv.", dir="/tmp")
    yield Path(path)
    if not os.environ.get("SV_E2E_KEEP"):
        shutil.rmtree(path, ignore_errors=True)


class DaemonSet:
    """The daemons of one test, stopped and checked together at teardown."""

    def __init__(self, root):
        self.root = root
        self.daemons = []
        self.lock = threading.Lock()
        self.watchdog_fired = False
        self.watchdog_seconds = TEST_WATCHDOG

    def new(self, **kw):
        kw.setdefault("label", "virtqemud-%d" % len(self.daemons))
        d = Daemon(self.root, **kw)
        with self.lock:
            self.daemons.append(d)
        return d

    def start(self, wait=True, **kw):
        return self.new(**kw).start(wait=wait)

    def start_secretd(self, **kw):
        """virtsecretd under this test's root (secret:///system on its own sockets)."""
        kw.setdefault("label", "virtsecretd-%d" % len(self.daemons))
        return self.start(name="virtsecretd", **kw)

    def start_storaged(self, **kw):
        """virtstoraged under this test's root (storage:///system on its own sockets)."""
        kw.setdefault("label", "virtstoraged-%d" % len(self.daemons))
        return self.start(name="virtstoraged", **kw)

    def watchdog(self):
        with self.lock:
            self.watchdog_fired = True
            for d in self.daemons:
                if d.alive():
                    d.killed_by_watchdog = True
                    d.kill()

    def finish(self):
        problems = []
        for d in self.daemons:
            try:
                d.stop()
            except DaemonError as e:
                problems.append(str(e))
            problems += d.problems()
        return problems


@pytest.fixture(scope="session")
def ref(tmp_path_factory):
    """Debian's libvirtd 9.0.0, the reference the parity tests compare with
    (xmlparity.Reference): one for the session, started when a test first needs it. Not
    where SV_E2E_NO_REF is set: that run goes beside the one that uses it (tests/meson.build)."""
    if os.environ.get("SV_E2E_NO_REF"):
        pytest.fail("this run goes beside the one using the shared libvirtd: a test here must "
                    "start a libvirtd of its own (tests/meson.build, slow_apart)", pytrace=False)
    if not os.path.exists("/usr/sbin/libvirtd") or not os.path.exists(
            "/usr/bin/qemu-system-x86_64"):
        pytest.skip("Debian's libvirtd or QEMU is not installed (scripts/deps.sh installs both)")
    from xmlparity import Reference
    r = Reference(tmp_path_factory.mktemp("libvirtd"))
    yield r
    r.close()


@pytest.fixture(scope="session")
def guest():
    """The Linux test guest (linuxguest.py), built once per build directory."""
    import linuxguest
    try:
        return linuxguest.build()
    except linuxguest.GuestBuildError as e:
        pytest.fail("cannot build the Linux test guest: %s" % e, pytrace=False)


def finish_daemons(ds, failed=False):
    """Stop and check the daemons of ds: their stderr is printed when a check or the test
    (failed) failed, and the check's failure fails the test."""
    collect_garbage()  # the test's dropped connections close while their daemons live
    problems = ds.finish()
    if problems or failed:
        for d in ds.daemons:
            print("---- stderr of %s (%s) ----" % (d.label, " ".join(d.command())))
            print(d.stderr_tail(60))
    if ds.watchdog_fired:
        problems.insert(0, "test exceeded the %.0f s watchdog" % ds.watchdog_seconds)
    if problems:
        pytest.fail("daemon check failed:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def daemons(root, request):
    ds = DaemonSet(root)
    marker = request.node.get_closest_marker("watchdog")
    ds.watchdog_seconds = max(TEST_WATCHDOG, marker.args[0]) if marker else TEST_WATCHDOG
    timer = threading.Timer(ds.watchdog_seconds, ds.watchdog)
    timer.daemon = True
    timer.start()
    try:
        yield ds
    finally:
        timer.cancel()
        failed = getattr(request.node, "rep_call", None)
        finish_daemons(ds, failed is not None and failed.failed)


@pytest.fixture(scope="module")
def module_daemons():
    """A DaemonSet under a short private root for the fixtures of one module (no watchdog:
    its tests' own waits bound them); its daemons are stopped and checked after the
    module's last test, and the root removed (kept with SV_E2E_KEEP=1)."""
    collect_garbage()
    path = tempfile.mkdtemp(prefix="sv.", dir="/tmp")
    ds = DaemonSet(Path(path))
    try:
        yield ds
    finally:
        try:
            finish_daemons(ds)
        finally:
            if not os.environ.get("SV_E2E_KEEP"):
                shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def daemon(daemons):
    """A virtqemud with default settings, ready to serve."""
    return daemons.start()


@pytest.fixture
def host(daemons, root, request):
    """A virtqemud with short kill timeouts, a connection, an event client and the test
    guest's kernel, for tests with real QEMU guests; after the test, the check that no
    QEMU process, pid file or domain directory is left (guests.py)."""
    import guests

    yield from guests.host_fixture(daemons, root, request)


@pytest.fixture
def rhost(daemons, root, request):
    """test_restarts.py's Host, for the files whose guests outlive a daemon restart: a daemon
    the test kills and starts again."""
    from test_restarts import restart_host

    yield from restart_host(daemons, root, request)


@pytest.fixture
def nobody_host(daemons, root, request):
    """A `host` whose QEMU runs as nobody (65534), not root."""
    from guests import Host, daemon_config

    os.chmod(root, 0o755)  # the kernel in it must be reachable
    h = Host(daemons.start(config=daemon_config(root, 'user = "+65534"\ngroup = "+65534"\n')),
             root)
    yield h
    rep = getattr(request.node, "rep_call", None)
    problems = h.finish(test_failed=rep is not None and rep.failed)
    if problems:
        pytest.fail("after the test:\n  " + "\n  ".join(problems), pytrace=False)
