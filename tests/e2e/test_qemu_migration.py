"""test_qemu_migration.py: live migration of a running guest (issue 21, item 2) between two
of our virtqemuds on this machine, each its own "host" (its --root and host_uuid), QEMU to
QEMU over TCP: managed by virsh and peer-to-peer, tuned (compression, auto-converge, speed,
multifd, change protection, abort on error), paused on arrival (--suspend, compared with
libvirtd as destination), with a next definition (--persistent-xml), aborted, switched to
post-copy, and the job's calls on a guest that is not migrating.

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

import os
import re
import signal
import shutil
import socket
import subprocess
import time

import pytest

import linuxguest
from guests import Host, RUNNING, SHUTOFF
from migpair import start_daemon as start_host, virsh

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
    """The last whole TICK line's number (0: none yet)."""
    ticks = re.findall(rb"TICK (\d+)\r?\n", data)
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


MODES = {
    "managed": [],
    "p2p": ["--p2p"],
    # QEMU's capabilities and parameters from flags and typed parameters
    "tuned": ["--compressed", "--auto-converge", "--bandwidth", "500"],
    # multifd with two channels; the source's job protected, failing on a disk error
    "parallel": ["--parallel", "--parallel-connections", "2", "--change-protection",
                 "--abort-on-error"],
}


@pytest.mark.parametrize("mode", list(MODES))
def test_live_migration(pair, mode):
    a, b = pair
    name = "mig-live-" + mode
    dom, con = start_ticking(a, name)
    extra = MODES[mode]
    virsh(a.uri, "migrate", "--live", "--verbose", *extra, name, b.uri)
    before = last_tick(con.data)
    moved = b.conn.lookupByName(name)
    assert moved.state() == [RUNNING, RUNNING_MIGRATED]
    assert_gone(a, name)  # transient: nothing left on the source once virsh returns
    wait_events(b.events, name, ["STARTED/MIGRATED", "RESUMED/MIGRATED"])
    a.events.wait_count(name, 3, WAIT)
    assert events_after(a.events, name, "STARTED/BOOTED") == ["SUSPENDED/MIGRATED",
                                                              "STOPPED/MIGRATED"]
    # The guest counts on where it was: the next tick is one more (not a reboot's 1).
    con_b = b.console(moved)
    con_b.wait_for("TICK ", count=2, timeout=WAIT)
    after = re.findall(rb"TICK (\d+)\r?\n", con_b.data)
    assert int(after[0]) in (before, before + 1, before + 2), (before, after)
    assert b"READY" not in con_b.data
    moved.destroy()


def test_suspend_as_libvirtd(pair, ref):
    """--suspend: the guest arrives paused, as on libvirtd (the same state, reason and
    events on ours as destination and on libvirtd), and runs on from where it was once
    resumed."""
    a, b = pair
    name = "mig-suspend"
    seen = {}
    for key, uri in (("ours", b.uri), ("libvirtd", ref.uri)):
        dom, con = start_ticking(a, name)
        con.close()
        events = a.events.__class__(uri)
        try:
            virsh(a.uri, "migrate", "--live", "--suspend", name, uri)
            moved = events.conn.lookupByName(name)
            events.wait_count(name, 2, WAIT)
            time.sleep(0.3)
            seen[key] = (moved.state(), events.of(name))
            moved.resume()
            events.wait_count(name, 3, WAIT)
            time.sleep(0.3)
            seen[key] += (events.of(name)[2:], moved.state())
            moved.destroy()
        finally:
            events.close()
            if key == "libvirtd":
                ref.virsh("destroy", name, check=False)
    assert seen["ours"] == seen["libvirtd"], seen
    assert seen["ours"][0] == [libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_USER], seen


def test_persistent_xml(pair):
    """--persistent with --persistent-xml: the destination keeps that definition (its
    description here) as the guest's next one; the running guest is the source's."""
    a, b = pair
    name = "mig-pxml"
    dom, con = start_ticking(a, name)
    con.close()
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE).replace(
        "<name>%s</name>" % name, "<name>%s</name><description>next</description>" % name, 1)
    path = a.root / "persist.xml"
    path.write_text(xml)
    virsh(a.uri, "migrate", "--live", "--persistent", "--persistent-xml", str(path), name,
          b.uri)
    moved = b.conn.lookupByName(name)
    assert moved.isPersistent() and moved.state() == [RUNNING, RUNNING_MIGRATED]
    assert "<description>next</description>" in moved.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    assert "<description>" not in moved.XMLDesc(0)
    moved.destroy()
    moved.undefine()


def test_persistent_source_keeps_definition(pair):
    """A persistent source without --undefinesource: shut off, reason MIGRATED; the
    destination's guest is transient (no --persistent)."""
    a, b = pair
    name = "mig-keep"
    dom, con = start_ticking(a, name, persistent=True)
    virsh(a.uri, "migrate", "--live", name, b.uri)
    # Confirm answers once QEMU is gone, as libvirt's: shut off when virsh returns.
    assert a.conn.lookupByName(name).state() == [SHUTOFF, SHUTOFF_MIGRATED]
    wait_events(a.events, name, ["DEFINED/ADDED", "STARTED/BOOTED", "SUSPENDED/MIGRATED",
                                 "STOPPED/MIGRATED"])
    moved = b.conn.lookupByName(name)
    assert not moved.isPersistent()
    moved.destroy()
    dom.undefine()


def assert_gone(host, name):
    with pytest.raises(libvirt.libvirtError) as e:
        host.conn.lookupByName(name)
    assert e.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN


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
    storage), booted to its prompt; the domain and its console reader."""
    disk = linux.copy_root(a.root / ("%s.qcow2" % name))
    dom = a.conn.createXML(linuxguest.domain_xml(name, linux, disk, memory_mib=128),
                           libvirt.VIR_DOMAIN_START_PAUSED)
    con = a.console(dom)
    dom.resume()
    con.wait_for(linuxguest.PROMPT, timeout=linuxguest.BOOT_TIMEOUT)
    return dom, con


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
    dom, con = start_linux(a, linux, name)
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
    # libvirt's: resumed in post-copy, then again (MIGRATED) once QEMU fetched the rest.
    wait_events(b.events, name, ["STARTED/MIGRATED", "RESUMED/POSTCOPY", "RESUMED/MIGRATED"])
    assert moved.state() == [RUNNING, RUNNING_MIGRATED]
    # QEMU stops the vCPUs, then says post-copy: libvirt's reason corrected with a second
    # SUSPENDED.
    a.events.wait_count(name, 6, WAIT)
    assert a.events.of(name)[-3:] == ["SUSPENDED/MIGRATED", "SUSPENDED/POSTCOPY",
                                      "STOPPED/MIGRATED"]
    moved.destroy()


# ---------------------------------------------------------------- TLS

def qemu_pki(work, roots):
    """A CA and one certificate for this host's name (server and client use), made with
    certtool, in QEMU's layout under each root's etc/pki/qemu (libvirt's default
    migrate_tls_x509_cert_dir)."""
    work.mkdir()

    def certtool(*args):
        subprocess.run(["certtool", *args], cwd=work, check=True, capture_output=True)

    (work / "ca.info").write_text("cn = Migration CA\nca\ncert_signing_key\n"
                                  "expiration_days = 30\n")
    (work / "host.info").write_text("organization = Test\ncn = %s\ndns_name = %s\n"
                                    "ip_address = 127.0.0.1\ntls_www_server\ntls_www_client\n"
                                    "encryption_key\nsigning_key\nexpiration_days = 30\n"
                                    % (socket.gethostname(), socket.gethostname()))
    for name in ("ca", "host"):
        certtool("--generate-privkey", "--key-type=rsa", "--bits=2048", "--outfile",
                 name + "-key.pem")
    certtool("--generate-self-signed", "--load-privkey", "ca-key.pem", "--template",
             "ca.info", "--outfile", "ca-cert.pem")
    certtool("--generate-certificate", "--load-privkey", "host-key.pem",
             "--load-ca-certificate", "ca-cert.pem", "--load-ca-privkey", "ca-key.pem",
             "--template", "host.info", "--outfile", "host-cert.pem")
    for root in roots:
        d = root / "etc/pki/qemu"
        d.mkdir(parents=True)
        shutil.copy(work / "ca-cert.pem", d / "ca-cert.pem")
        for role in ("server", "client"):
            shutil.copy(work / "host-cert.pem", d / (role + "-cert.pem"))
            shutil.copy(work / "host-key.pem", d / (role + "-key.pem"))


@pytest.mark.skipif(not shutil.which("certtool"), reason="certtool (gnutls-bin) not installed")
def test_tls(pair, root):
    """--tls: QEMU's x509 credentials on both sides (the destination verifying its peer),
    the migration stream encrypted; the guest arrives as without TLS."""
    a, b = pair
    qemu_pki(root / "pki", [a.root, b.root])
    name = "mig-tls"
    start_ticking(a, name)
    virsh(a.uri, "migrate", "--live", "--tls", name, b.uri)
    moved = b.conn.lookupByName(name)
    assert moved.state() == [RUNNING, RUNNING_MIGRATED]
    wait_events(b.events, name, ["STARTED/MIGRATED", "RESUMED/MIGRATED"])
    moved.destroy()


@pytest.mark.skipif(not shutil.which("certtool"), reason="certtool (gnutls-bin) not installed")
def test_tls_without_certificates(pair, root):
    """--tls with no certificate directory on the source (the destination has one): refused
    before anything moves; the guest runs on, the destination has nothing."""
    a, b = pair
    qemu_pki(root / "pki", [b.root])
    name = "mig-tls-none"
    dom, _ = start_ticking(a, name)
    r = virsh(a.uri, "migrate", "--live", "--tls", name, b.uri, check=False)
    assert r.returncode != 0
    assert "host migration TLS directory '%s/etc/pki/qemu' does not exist" % a.root \
        in r.stderr, r.stderr
    assert dom.state()[0] == RUNNING
    wait_events(b.events, name, ["STARTED/MIGRATED", "STOPPED/FAILED"])
    with pytest.raises(libvirt.libvirtError):
        b.conn.lookupByName(name)
    dom.destroy()


# ---------------------------------------------------------------- with libvirtd

# What virsh domjobinfo --completed shows of a destination's job whatever its figures.
JOB_LINES = {"Job type", "Operation", "Time elapsed", "Time elapsed w/o network",
             "Data processed", "Data remaining", "Data total", "Memory processed",
             "Memory remaining", "Memory total", "Total downtime", "Downtime w/o network"}


def jobinfo(text):
    """virsh domjobinfo's lines as {label: value}."""
    return dict((k.strip(), v.strip()) for k, _, v in (
        ln.partition(":") for ln in text.splitlines() if ":" in ln))


def test_live_with_libvirtd_both_ways(pair, ref):
    """Ours -> Debian's libvirtd, then back (managed by virsh): the guest goes on counting on
    each side, and each side's events are libvirt's."""
    a, _ = pair
    name = "mig-lv-live"
    dom, con = start_ticking(a, name)
    ev_ref = a.events.__class__(ref.uri)
    passes = {"ours": [], "libvirtd": []}  # each source's MIGRATION_ITERATION events
    for key, ev in (("ours", a.events), ("libvirtd", ev_ref)):
        ev.ids.append(ev.conn.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
            lambda c, d, it, o, key=key: passes[key].append(it), None))
    try:
        virsh(a.uri, "migrate", "--live", name, ref.uri)
        assert_gone(a, name)
        assert ref.virsh("domstate", "--reason", name).stdout.strip() == "running (migrated)"
        wait_events(ev_ref, name, ["STARTED/MIGRATED", "RESUMED/MIGRATED"])
        theirs = ref.virsh("domjobinfo", "--completed", name).stdout
        before = last_tick(con.data)
        con.close()
        virsh(ref.uri, "migrate", "--live", name, a.uri)
        back = a.conn.lookupByName(name)
        assert back.state() == [RUNNING, RUNNING_MIGRATED]
        # Each destination keeps the incoming job as its last completed one, with the
        # source's figures (its cookie's): the lines of the times and amounts (others, such
        # as the memory bandwidth, come only with a figure that is not 0: each side's is
        # another move's), the memory sent, times that count from the source's start
        # (seconds, not since 1970)
        ours = virsh(a.uri, "domjobinfo", "--completed", name).stdout
        facts = [jobinfo(info) for info in (ours, theirs)]
        for f in facts:
            assert JOB_LINES <= f.keys(), (JOB_LINES - f.keys(), facts)
            assert f["Job type"] == "Completed" and f["Operation"] == "Incoming migration", f
            assert 0 < float(f["Time elapsed"].split()[0]) < WAIT * 1000, f
            assert 0 <= float(f["Total downtime"].split()[0]) < WAIT * 1000, f
            assert float(f["Memory processed"].split()[0]) > 0, f
        wait_events(ev_ref, name, ["STARTED/MIGRATED", "RESUMED/MIGRATED",
                                   "SUSPENDED/MIGRATED", "STOPPED/MIGRATED"])
        a.events.wait_count(name, 5, WAIT)
        assert a.events.of(name)[-2:] == ["STARTED/MIGRATED", "RESUMED/MIGRATED"]
        con_a = a.console(back)
        con_a.wait_for("TICK ", count=2, timeout=WAIT)  # the first whole line, at least
        assert last_tick(con_a.data) > before and b"READY" not in con_a.data
        # Each source told of QEMU's passes over memory, from the first on, and only the
        # source (how many passes depends on what the guest dirtied)
        for key in passes:
            assert passes[key] and passes[key] == list(range(1, len(passes[key]) + 1)), passes
        back.destroy()
    finally:
        ev_ref.close()
        ref.virsh("destroy", name, check=False)


JOB_CALLS = [
    # (virsh command, what): each run on a running guest that is not migrating
    (["domjobabort"], "abort without a job"),
    (["migrate-postcopy"], "post-copy without a migration"),
    (["migrate-getmaxdowntime"], "QEMU's downtime"),
    (["migrate-getspeed"], "the speed kept"),
    (["migrate-getspeed", "--postcopy"], "QEMU's post-copy speed"),
    (["migrate-setspeed", "--bandwidth", "8796093022208"], "a speed too large"),
    (["migrate-compcache"], "QEMU's compression cache"),
    (["domjobinfo"], "no job"),
    (["domjobinfo", "--completed"], "no completed job"),
]


def test_job_calls_as_libvirtd(pair, ref):
    """The job's calls on a guest that is not migrating, on ours and on libvirtd: the same
    output or error."""
    a, _ = pair
    name = "mig-calls-ref"
    start_ticking(a, name)
    ref.virsh("create", "/dev/stdin", input_text=a.xml(name, "tick"))
    try:
        for args, what in JOB_CALLS:
            ours = virsh(a.uri, *args, name, check=False)
            theirs = ref.virsh(*args, name, check=False)
            assert (ours.returncode, ours.stdout, ours.stderr) == \
                (theirs.returncode, theirs.stdout, theirs.stderr), what
        # What a migration's --xml starts from: the live XML, MIGRATABLE, has the same
        # labels (none here: the DAC one every guest has is left out)
        labels = [re.findall(r"<seclabel[^>]*>", r.stdout) for r in (
            virsh(a.uri, "dumpxml", "--migratable", name),
            ref.virsh("dumpxml", "--migratable", name))]
        assert labels[0] == labels[1], labels
    finally:
        ref.virsh("destroy", name, check=False)
    a.conn.lookupByName(name).destroy()


# ---------------------------------------------------------------- storage copy

def test_copy_storage_all(pair, linux, tmp_path):
    """--copy-storage-all: the disk copied over NBD into the destination's own image (another
    path, given with --xml, made empty beforehand as libvirt needs it), the guest running
    there on it: its root file system is mounted from the copy."""
    a, b = pair
    name = "mig-storage"
    dom, con = start_linux(a, linux, name)
    src = a.root / ("%s.qcow2" % name)
    dst = b.root / ("%s.qcow2" % name)
    info = subprocess.run(["qemu-img", "info", "--output=json", "-U", str(src)],
                          capture_output=True, text=True, check=True).stdout
    size = re.search(r'"virtual-size": (\d+)', info).group(1)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(dst), size], check=True)
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE).replace(str(src), str(dst))
    (tmp_path / "dest.xml").write_text(xml)
    try:
        virsh(a.uri, "migrate", "--live", "--copy-storage-all", "--xml",
              str(tmp_path / "dest.xml"), name, b.uri)
    except AssertionError:
        dom.destroy()  # the source keeps the guest when it refuses
        raise
    moved = b.conn.lookupByName(name)
    assert moved.state() == [RUNNING, RUNNING_MIGRATED]
    assert str(dst) in moved.XMLDesc(0)
    wait_events(b.events, name, ["STARTED/MIGRATED", "RESUMED/MIGRATED"])
    # The guest works on the copy: a command runs and its answer comes back.
    con = b.console(moved)
    con.stream.send(b"echo copied-$((6*7))\n")
    con.wait_for("copied-42", timeout=WAIT)
    moved.destroy()
    # The copy holds data: far more than an empty image's few hundred KiB.
    assert dst.stat().st_size > 4 * 1024 * 1024


def test_copy_storage_from_libvirtd(pair, linux, ref, tmp_path):
    """--copy-storage-all from Debian's libvirtd to ours: our destination serves the disk
    over NBD (libvirtd's source mirrors into it), and the guest runs on the copy."""
    a, _ = pair
    name = "mig-storage-lv"
    os_dir = tmp_path / "lv"
    os_dir.mkdir()
    os_dir.chmod(0o755)
    files = linuxguest.boot_files_for(linux, os_dir)
    src = linux.copy_root(os_dir / ("%s.qcow2" % name))
    src.chmod(0o666)
    xml = linuxguest.domain_xml(name, linux, src, memory_mib=128).replace(
        str(linux.kernel), str(files["kernel"])).replace(str(linux.initrd), str(files["initrd"]))
    dst = a.root / ("%s.qcow2" % name)
    info = subprocess.run(["qemu-img", "info", "--output=json", "-U", str(src)],
                          capture_output=True, text=True, check=True).stdout
    size = re.search(r'"virtual-size": (\d+)', info).group(1)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(dst), size], check=True)
    ref.virsh("create", "/dev/stdin", input_text=xml)
    try:
        time.sleep(5)  # the guest booting; the copy does not need it ready
        dest_xml = ref.virsh("dumpxml", "--migratable", name).stdout.replace(str(src),
                                                                            str(dst))
        (tmp_path / "dest.xml").write_text(dest_xml)
        ref.virsh("migrate", "--live", "--copy-storage-all", "--xml",
                  str(tmp_path / "dest.xml"), name, a.uri)
        moved = a.conn.lookupByName(name)
        assert moved.state() == [RUNNING, RUNNING_MIGRATED]
        assert str(dst) in moved.XMLDesc(0)
        # The copy holds the guest's file system: far more than an empty image's KiB.
        assert dst.stat().st_size > 4 * 1024 * 1024
        moved.destroy()
    finally:
        ref.virsh("destroy", name, check=False)


# ---------------------------------------------------------------- failure points

def test_destination_qemu_dies(pair, linux):
    """The destination's QEMU killed in the middle: the migration fails with QEMU's reason,
    the guest runs on at the source (it never stopped there), nothing is left at the
    destination (STOPPED/FAILED)."""
    a, b = pair
    name = "mig-dst-dies"
    dom, con = start_linux(a, linux, name)
    virsh(a.uri, "migrate-setspeed", name, "1")
    proc = migrate_in_background(a, b, name)
    wait_job(a.uri, name)
    os.kill(b.pid(name), signal.SIGKILL)
    out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode != 0
    # Perform failed with QEMU's reason ("operation failed: migration out job: Unable to
    # write to socket: ..."); libvirt's client then asks the destination to finish, whose
    # guest is gone (libvirtd's finish says the same), and virsh reports that.
    assert "Domain not found: no domain with matching name '%s'" % name in err, err
    wait_events(b.events, name, ["STARTED/MIGRATED", "STOPPED/FAILED"])
    with pytest.raises(libvirt.libvirtError):
        b.conn.lookupByName(name)
    assert dom.state()[0] == RUNNING
    assert a.events.of(name) == ["STARTED/BOOTED", "SUSPENDED/PAUSED", "RESUMED/UNPAUSED"]
    # The guest still answers at the source.
    con.stream.send(b"echo alive-$((6*7))\n")
    con.wait_for("alive-42", timeout=WAIT)
    dom.destroy()
