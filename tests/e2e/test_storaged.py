"""test_storaged.py: virtstoraged (issue 19 item 2, pools) serving storage:///system on its
own sockets, driven by stock virsh and python3-libvirt: a dir pool through pool-define-as,
pool-build, pool-start, pool-autostart, pool-list, pool-info, pool-dumpxml, pool-refresh,
pool-destroy, pool-delete and pool-undefine; transient pools; the files libvirt 9.0 keeps
under ROOT/etc/libvirt/storage and ROOT/run/libvirt/storage; libvirt's errors; the pool
events; every listing filter; a restart finding active pools active and autostart once per
boot; names that cannot leave their directories. The expected answers are libvirt 9.0's
(storage_driver.c, virstorageobj.c, storage_conf.c, storage_backend_fs.c), as Debian's
libvirtd 9.0.0 gave them; test_storaged_parity (slow) runs the same steps and events against
it, test_storaged_fs_parity, test_storaged_logical_parity and test_storaged_disk_parity
(slow) an fs pool's (mkfs, mount, umount), a logical pool's (pvcreate, vgcreate, vgchange,
vgremove, pvs) and a disk pool's (parted mklabel, dos and gpt) on a loop device.

Differences from libvirtd kept on purpose (named where they show):
- Pool types without a backend here: all but dir, fs, logical and disk. libvirtd on Debian
  12 also has the netfs, iscsi, scsi and mpath backends; we answer its missing-backend error
  (INTERNAL_ERROR "missing backend for pool type N (TYPE)", as it answers zfs and vstorage)
  where it would define the pool. Its parse errors come first, as there (rbd without a host:
  "missing storage pool source host name").
- These machines' kernel has no device-mapper: a logical pool's volumes cannot be made
  here (lvcreate refuses, as under libvirtd: test_storaged_blk.test_logical_vol_parity).
- A disk pool's figures on a dos table may differ by the table's last two sectors (see
  test_storaged_disk_parity): libvirt reads tables with libparted through its own helper,
  we read parted's machine output.
- VIR_STORAGE_POOL_DEFINE_VALIDATE (checking against storagepool.rng) is refused as an
  unsupported flag rather than ignored.
"""

import os
import re
import signal
import subprocess
import threading
import time

import libvirt
import pytest

from guests import ensure_event_loop

import eventreg
import rawrpc

VIR_FROM_STORAGE = 18
VIR_FROM_XML = 5
POOL = "sv-stor-dir"


def uri(d, ro=False):
    return "storage:///system?socket=%s" % (d.sock_ro if ro else d.sock)


def virsh_on(u, *args, ro=False, check=True):
    cmd = ["virsh", "-q"] + (["-r"] if ro else []) + ["-c", u] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(cmd), r.stderr))
    return r


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as exc:
        fn(*args)
    e = exc.value
    return e.get_error_code(), e.get_error_domain(), e.get_error_message()


def pool_xml(name, path, extra=""):
    return ("<pool type='dir'><name>%s</name><target><path>%s</path>%s</target></pool>"
            % (name, path, extra))


# ---------------------------------------------------------------- the virsh steps

def virsh_steps(u, target):
    """The issue's virsh steps on a dir pool at target; each step's (args, exit status,
    output, error), with what depends on the moment (UUIDs, the file system's figures)
    blotted out. Leaves nothing behind when every step works."""
    out = []

    def blot(text):
        text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID",
                      text)
        text = re.sub(r"<(capacity|allocation|available) unit='bytes'>[1-9]\d*<",
                      r"<\1 unit='bytes'>N<", text)
        text = re.sub(r"\d+\.\d\d [KMGT]iB", "SIZE", text)
        return re.sub(r" +", " ", text)

    def step(*args):
        r = virsh_on(u, *args, check=False)
        out.append((" ".join(args), r.returncode, blot(r.stdout + "|" + r.stderr)))
        return r

    step("pool-define-as", POOL, "dir", "--target", str(target))
    step("pool-dumpxml", POOL)
    step("pool-build", POOL)
    out.append(("mode", oct(os.stat(target).st_mode & 0o7777)))
    step("pool-build", POOL)
    step("pool-build", POOL, "--no-overwrite")
    step("pool-start", POOL)
    step("pool-start", POOL)
    (target / "f1.img").write_bytes(b"x" * 5000)
    (target / "subdir").mkdir()
    step("pool-autostart", POOL)
    r = step("pool-list", "--all", "--details")
    out[-1] = (out[-1][0], r.returncode,
               blot("".join(ln for ln in r.stdout.splitlines(True) if ln.split()[:1] == [POOL])))
    step("pool-info", POOL)
    step("pool-dumpxml", POOL)
    step("pool-dumpxml", "--inactive", POOL)
    step("pool-refresh", POOL)
    step("pool-autostart", "--disable", POOL)
    step("pool-undefine", POOL)
    step("pool-delete", POOL)
    step("pool-destroy", POOL)
    step("pool-destroy", POOL)
    step("pool-refresh", POOL)
    step("pool-info", POOL)
    step("pool-delete", POOL)
    (target / "f1.img").unlink()
    (target / "subdir").rmdir()
    step("pool-delete", POOL)
    out.append(("gone", target.exists()))
    step("pool-undefine", POOL)
    step("pool-undefine", POOL)
    step("pool-info", "sv-stor-nonexistent")
    step("pool-create-as", POOL + "-t", "dir", "--target", str(target))
    target.mkdir()
    step("pool-create-as", POOL + "-t", "dir", "--target", str(target))
    step("pool-destroy", POOL + "-t")
    step("pool-info", POOL + "-t")
    target.rmdir()
    return out


def cleanup_pools(u):
    """What an interrupted run may have left."""
    for name in (POOL, POOL + "-t"):
        virsh_on(u, "pool-destroy", name, check=False)
        virsh_on(u, "pool-undefine", name, check=False)


def test_virsh_steps(daemons, root, tmp_path):
    d = daemons.start_storaged()
    target = tmp_path / "pool"
    steps = virsh_steps(uri(d), target)
    T = str(target)
    # Each step's exit status, as libvirtd's (test_storaged_parity compares the texts).
    assert [(s[0], s[1]) for s in steps] == [
        ("pool-define-as %s dir --target %s" % (POOL, T), 0), ("pool-dumpxml " + POOL, 0),
        ("pool-build " + POOL, 0), ("mode", "0o711"),  # libvirt's default directory mode
        ("pool-build " + POOL, 0), ("pool-build %s --no-overwrite" % POOL, 1),
        ("pool-start " + POOL, 0), ("pool-start " + POOL, 1),
        ("pool-autostart " + POOL, 0), ("pool-list --all --details", 0),
        ("pool-info " + POOL, 0), ("pool-dumpxml " + POOL, 0),
        ("pool-dumpxml --inactive " + POOL, 0), ("pool-refresh " + POOL, 0),
        ("pool-autostart --disable " + POOL, 0), ("pool-undefine " + POOL, 1),
        ("pool-delete " + POOL, 1), ("pool-destroy " + POOL, 0), ("pool-destroy " + POOL, 1),
        ("pool-refresh " + POOL, 1), ("pool-info " + POOL, 0), ("pool-delete " + POOL, 1),
        ("pool-delete " + POOL, 0), ("gone", False), ("pool-undefine " + POOL, 0),
        ("pool-undefine " + POOL, 1), ("pool-info sv-stor-nonexistent", 1),
        ("pool-create-as %s-t dir --target %s" % (POOL, T), 1),
        ("pool-create-as %s-t dir --target %s" % (POOL, T), 0),
        ("pool-destroy %s-t" % POOL, 0), ("pool-info %s-t" % POOL, 1)]
    text = {i: s[2] for i, s in enumerate(steps) if len(s) > 2}
    assert text[9].split() == [POOL, "running", "yes", "yes", "SIZE", "SIZE", "SIZE"]
    assert "<capacity unit='bytes'>N</capacity>" in text[11]
    assert "<mode>0711</mode>\n <owner>0</owner>\n <group>0</group>" in text[11]
    assert "Requested operation is not valid: storage pool '%s' is still active" % POOL \
        in text[15]
    assert "failed to remove pool '%s': Directory not empty" % T in text[21]
    assert "error: cannot open directory '%s': No such file or directory" % T in text[27]
    assert os.listdir(root / "etc/libvirt/storage") == ["autostart"]
    assert os.listdir(root / "etc/libvirt/storage/autostart") == []
    assert [n for n in os.listdir(root / "run/libvirt/storage") if n != "autostarted"] == []


def test_files(daemons, root, tmp_path):
    """The definition file is the inactive XML, written at define; the autostart link
    points at it; the live definition is in the run directory while the pool is active."""
    d = daemons.start_storaged()
    c = libvirt.open(uri(d))
    target = tmp_path / "p"
    try:
        p = c.storagePoolDefineXML(pool_xml(POOL, target))
        conf = root / "etc/libvirt/storage" / (POOL + ".xml")
        assert conf.read_text() == p.XMLDesc(libvirt.VIR_STORAGE_XML_INACTIVE)
        assert os.stat(conf).st_mode & 0o777 == 0o600
        p.build(0)
        p.create(0)
        p.setAutostart(1)
        link = root / "etc/libvirt/storage/autostart" / (POOL + ".xml")
        assert os.readlink(link) == str(conf)
        state = root / "run/libvirt/storage" / (POOL + ".xml")
        assert state.read_text() == p.XMLDesc(0)
        assert p.isActive() == 1 and p.isPersistent() == 1 and p.autostart() == 1
        state_, cap, alloc, avail = p.info()
        assert state_ == libvirt.VIR_STORAGE_POOL_RUNNING
        st = os.statvfs(target)
        assert cap == st.f_frsize * st.f_blocks
        p.destroy()
        assert not state.exists()
        p.setAutostart(0)
        assert not os.path.lexists(link)
        p.undefine()
        assert not conf.exists()
    finally:
        c.close()


# ---------------------------------------------------------------- errors

def test_errors(daemons, tmp_path):
    d = daemons.start_storaged()
    c = libvirt.open(uri(d))
    ro = libvirt.openReadOnly(uri(d, ro=True))
    try:
        p = c.storagePoolDefineXML(pool_xml(POOL, tmp_path / "a"))
        # Another pool with the name, with the UUID, with the directory.
        assert error_of(c.storagePoolDefineXML, pool_xml(POOL, tmp_path / "b")) == (
            libvirt.VIR_ERR_OPERATION_FAILED, VIR_FROM_STORAGE,
            "operation failed: pool '%s' already exists with uuid %s" % (POOL, p.UUIDString()))
        other = pool_xml("sv-stor-other", tmp_path / "b").replace(
            "</name>", "</name><uuid>%s</uuid>" % p.UUIDString())
        assert error_of(c.storagePoolDefineXML, other) == (
            libvirt.VIR_ERR_OPERATION_FAILED, VIR_FROM_STORAGE,
            "operation failed: pool '%s' is already defined with uuid %s"
            % (POOL, p.UUIDString()))
        assert error_of(c.storagePoolDefineXML, pool_xml("sv-stor-b", tmp_path / "a")) == (
            libvirt.VIR_ERR_OPERATION_FAILED, VIR_FROM_STORAGE,
            "operation failed: Storage source conflict with pool: '%s'" % POOL)
        # Types without a backend here (see the module's docstring).
        for typ, src, msg in (
                ("zfs", "", "internal error: missing backend for pool type 12 (zfs)"),
                ("vstorage", "", "internal error: missing backend for pool type 13 (vstorage)"),
                ("rbd", "", "XML error: missing storage pool source host name"),
                ("rbd", "<host name='h'/>", "internal error: missing backend for pool type 9 "
                 "(rbd)"),
                ("mpath", "", "internal error: missing backend for pool type 8 (mpath)"),
                ("netfs", "<host name='h'/><dir path='/e'/>",
                 "internal error: missing backend for pool type 2 (netfs)")):
            xml = "<pool type='%s'><name>sv-stor-%s</name><source>%s</source><target>" \
                  "<path>/x</path></target></pool>" % (typ, typ, src)
            code, dom, m = error_of(c.storagePoolDefineXML, xml)
            assert (dom, m) == (VIR_FROM_STORAGE, msg), typ
        # Lookups of what is not there.
        assert error_of(c.storagePoolLookupByName, "sv-stor-none") == (
            libvirt.VIR_ERR_NO_STORAGE_POOL, VIR_FROM_STORAGE,
            "Storage pool not found: no storage pool with matching name 'sv-stor-none'")
        assert error_of(c.storagePoolLookupByUUIDString,
                        "00000000-0000-0000-0000-000000000001") == (
            libvirt.VIR_ERR_NO_STORAGE_POOL, VIR_FROM_STORAGE,
            "Storage pool not found: no storage pool with matching uuid "
            "'00000000-0000-0000-0000-000000000001'")
        # Source discovery: libvirt's dir backend has none.
        assert error_of(c.findStoragePoolSources, "dir", None, 0) == (
            libvirt.VIR_ERR_NO_SUPPORT, VIR_FROM_STORAGE,
            "this function is not supported by the connection driver: pool type 'dir' does "
            "not support source discovery")
        assert error_of(c.findStoragePoolSources, "rbd", None, 0) == (
            libvirt.VIR_ERR_INTERNAL_ERROR, VIR_FROM_STORAGE,
            "internal error: missing backend for pool type 9 (rbd)")
        # Flags: both overwrite choices; a build flag the dir backend does not take.
        assert error_of(p.build, libvirt.VIR_STORAGE_POOL_BUILD_REPAIR) == (
            libvirt.VIR_ERR_INVALID_ARG, VIR_FROM_STORAGE,
            "unsupported flags (0x1) in function virStorageBackendFileSystemBuild")
        assert error_of(p.create, 6)[0] == libvirt.VIR_ERR_INVALID_ARG
        assert error_of(p.delete, libvirt.VIR_STORAGE_POOL_DELETE_ZEROED)[0] == \
            libvirt.VIR_ERR_INVALID_ARG
        # Read-only connections: refused in the STORAGE domain, queries allowed.
        assert error_of(ro.storagePoolDefineXML, pool_xml("sv-stor-ro", "/x")) == (
            libvirt.VIR_ERR_OPERATION_DENIED, VIR_FROM_STORAGE,
            "operation forbidden: read only access prevents virStoragePoolDefineXML")
        rp = ro.storagePoolLookupByName(POOL)
        assert error_of(rp.build, 0)[1:] == (
            VIR_FROM_STORAGE, "operation forbidden: read only access prevents "
            "virStoragePoolBuild")
        assert error_of(rp.setAutostart, 1)[0] == libvirt.VIR_ERR_OPERATION_DENIED
        assert [x.name() for x in ro.listAllStoragePools(0)] == [POOL]
        p.undefine()
    finally:
        ro.close()
        c.close()


def test_list_filters(daemons, tmp_path):
    """Every filter of CONNECT_LIST_ALL_STORAGE_POOLS, and the old lists."""
    d = daemons.start_storaged()
    c = libvirt.open(uri(d))
    try:
        for n in ("a", "b", "c"):
            (tmp_path / n).mkdir()
        a = c.storagePoolDefineXML(pool_xml("sv-a", tmp_path / "a"))  # inactive, autostart
        a.setAutostart(1)
        b = c.storagePoolDefineXML(pool_xml("sv-b", tmp_path / "b"))  # active
        b.create(0)
        c.storagePoolCreateXML(pool_xml("sv-c", tmp_path / "c"), 0)    # transient
        F = libvirt

        def names(flags):
            return sorted(p.name() for p in c.listAllStoragePools(flags))

        assert names(0) == ["sv-a", "sv-b", "sv-c"]
        assert names(F.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE) == ["sv-b", "sv-c"]
        assert names(F.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE) == ["sv-a"]
        assert names(F.VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT) == ["sv-a", "sv-b"]
        assert names(F.VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT) == ["sv-c"]
        assert names(F.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART) == ["sv-a"]
        assert names(F.VIR_CONNECT_LIST_STORAGE_POOLS_NO_AUTOSTART) == ["sv-b", "sv-c"]
        assert names(F.VIR_CONNECT_LIST_STORAGE_POOLS_DIR) == ["sv-a", "sv-b", "sv-c"]
        assert names(F.VIR_CONNECT_LIST_STORAGE_POOLS_FS |
                     F.VIR_CONNECT_LIST_STORAGE_POOLS_LOGICAL) == []
        assert names(F.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE |
                     F.VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT) == ["sv-b"]
        assert names(F.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE |
                     F.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE) == ["sv-a", "sv-b", "sv-c"]
        assert error_of(c.listAllStoragePools, 1 << 20)[0] == libvirt.VIR_ERR_INVALID_ARG
        assert sorted(c.listStoragePools()) == ["sv-b", "sv-c"]
        assert c.listDefinedStoragePools() == ["sv-a"]
        assert (c.numOfStoragePools(), c.numOfDefinedStoragePools()) == (2, 1)
        c.storagePoolLookupByName("sv-c").destroy()  # a transient pool goes at its stop
        assert names(0) == ["sv-a", "sv-b"]
        b.destroy()
        b.undefine()
        a.undefine()
    finally:
        c.close()


# ---------------------------------------------------------------- events

def event_steps(u, target):
    """The pool events one client gets for a dir pool's life and a transient pool's."""
    ensure_event_loop()
    c = libvirt.open(u)
    got, lock = [], threading.Lock()

    def life(conn, pool, event, detail, opaque):
        with lock:
            got.append((pool.name(), event, detail))

    def refreshed(conn, pool, opaque):
        with lock:
            got.append((pool.name(), "refresh"))

    ids = [c.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                                         life, None),
           c.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH,
                                         refreshed, None)]
    try:
        p = c.storagePoolDefineXML(pool_xml(POOL, target))
        p.build(0)
        p.create(0)
        p.refresh(0)
        p.destroy()
        p.delete(0)
        p.undefine()
        target.mkdir()
        t = c.storagePoolCreateXML(pool_xml(POOL + "-t", target), 0)
        t.destroy()
        target.rmdir()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(got) < 9:
            time.sleep(0.05)
        time.sleep(0.3)  # nothing more comes
    finally:
        for i in ids:
            c.storagePoolEventDeregisterAny(i)
        c.close()
    return got


EVENTS = [(POOL, libvirt.VIR_STORAGE_POOL_EVENT_DEFINED, 0),
          (POOL, libvirt.VIR_STORAGE_POOL_EVENT_CREATED, 0),   # the build
          (POOL, libvirt.VIR_STORAGE_POOL_EVENT_STARTED, 0),
          (POOL, "refresh"),                                   # pool-refresh's alone
          (POOL, libvirt.VIR_STORAGE_POOL_EVENT_STOPPED, 0),
          (POOL, libvirt.VIR_STORAGE_POOL_EVENT_DELETED, 0),
          (POOL, libvirt.VIR_STORAGE_POOL_EVENT_UNDEFINED, 0),
          (POOL + "-t", libvirt.VIR_STORAGE_POOL_EVENT_STARTED, 0),  # no DEFINED
          (POOL + "-t", libvirt.VIR_STORAGE_POOL_EVENT_STOPPED, 0)]


def test_events(daemons, tmp_path):
    d = daemons.start_storaged()
    assert event_steps(uri(d), tmp_path / "ev") == EVENTS


def test_events_of_one_pool(daemons, tmp_path):
    """A registration for one pool gets its events alone; a deregistered one nothing."""
    ensure_event_loop()
    d = daemons.start_storaged()
    c = libvirt.open(uri(d))
    got = []
    try:
        a = c.storagePoolDefineXML(pool_xml("sv-a", tmp_path / "a"))
        cb = c.storagePoolEventRegisterAny(
            a, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
            lambda conn, pool, event, detail, opaque: got.append((pool.name(), event)), None)
        b = c.storagePoolDefineXML(pool_xml("sv-b", tmp_path / "b"))
        b.undefine()
        a.build(0)
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        c.storagePoolEventDeregisterAny(cb)
        a.delete(0)
        time.sleep(0.3)
        assert got == [("sv-a", libvirt.VIR_STORAGE_POOL_EVENT_CREATED)]
        a.undefine()
    finally:
        c.close()


def pool_registration_answers(sock):
    """The pool event registration calls' answers (eventreg.py): pools by UUIDs no pool has,
    one with an empty name."""
    return eventreg.registration_answers(sock, "storage:///system", 368, 369, [
        rawrpc.string(n) + bytes(range(k, k + 16)) for k, n in enumerate(("nosuchpool", ""))])


REGISTRATION_ANSWERS = [
    (rawrpc.ERR_INTERNAL_ERROR, rawrpc.FROM_RPC, "internal error: unsupported storage pool "
     "event ID %d" % n) for n in (-1, 2, 1 << 30)] + [
    [1, 2],
    (rawrpc.ERR_INVALID_ARG, rawrpc.FROM_NONE, "invalid argument: event callback already tracked"),
    (rawrpc.ERR_INVALID_ARG, rawrpc.FROM_NONE, "invalid argument: event callback already tracked"),
    "ok",
    (rawrpc.ERR_INTERNAL_ERROR, rawrpc.FROM_RPC,
     "internal error: storage pool event callback N not registered"),
    (rawrpc.ERR_INTERNAL_ERROR, rawrpc.FROM_RPC,
     "internal error: storage pool event callback N not registered")]


def test_event_registration_on_the_wire(daemons):
    """The registration calls answer libvirt 9.0's errors (Debian's libvirtd: INTERNAL_ERROR
    in the RPC domain for an event id out of range and for a callback id not registered;
    test_storaged_parity compares them) and count callback ids up, a pool filter taken
    whether the pool exists or not."""
    d = daemons.start_storaged()
    assert pool_registration_answers(d.sock) == REGISTRATION_ANSWERS


def test_uri(daemons):
    """storage:///system alone, as libvirt's storage driver on a privileged daemon."""
    d = daemons.start_storaged()
    assert virsh_on(uri(d), "uri").stdout.strip().startswith("storage:///system")
    with pytest.raises(libvirt.libvirtError) as exc:
        libvirt.open("storage:///session?socket=%s" % d.sock)
    assert exc.value.get_error_code() == libvirt.VIR_ERR_INTERNAL_ERROR
    assert exc.value.get_error_message() == \
        "internal error: unexpected storage URI path '/session', try storage:///system"


# ---------------------------------------------------------------- restarts

def test_restart(daemons, root, tmp_path):
    """A daemon started again finds its active pools active (the transient one too, from
    its live file), their volumes listed again; autostart runs once per boot."""
    d = daemons.start_storaged()
    c = libvirt.open(uri(d))
    for n in ("a", "b", "t"):
        (tmp_path / n).mkdir()
    (tmp_path / "a" / "disk.img").write_bytes(b"\0" * 4096)
    a = c.storagePoolDefineXML(pool_xml("sv-a", tmp_path / "a"))
    a.create(0)
    b = c.storagePoolDefineXML(pool_xml("sv-b", tmp_path / "b"))
    b.setAutostart(1)  # inactive: this boot's autostart has run already
    c.storagePoolCreateXML(pool_xml("sv-t", tmp_path / "t"), 0)
    c.close()
    d.expected_status = -9
    d.kill()  # SIGKILL: nothing written at exit
    d.proc.wait()

    d2 = daemons.start_storaged()
    c = libvirt.open(uri(d2))
    try:
        pools = {p.name(): p for p in c.listAllStoragePools(0)}
        assert sorted(pools) == ["sv-a", "sv-b", "sv-t"]
        assert pools["sv-a"].isActive() == 1
        assert pools["sv-t"].isActive() == 1 and pools["sv-t"].isPersistent() == 0
        assert pools["sv-b"].isActive() == 0  # not started again this boot
        deadline = time.monotonic() + 10
        while "disk.img" not in virsh_on(uri(d2), "vol-list", "sv-a", check=False).stdout \
                and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        c.close()
    d2.stop()

    # A new boot (no marker in the run directory): the autostart pool starts.
    (root / "run/libvirt/storage/autostarted").unlink()
    d3 = daemons.start_storaged()
    c = libvirt.open(uri(d3))
    try:
        b = c.storagePoolLookupByName("sv-b")
        deadline = time.monotonic() + 10
        while not b.isActive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert b.isActive() == 1
        for name in ("sv-a", "sv-b", "sv-t"):
            c.storagePoolLookupByName(name).destroy()
        for name in ("sv-a", "sv-b"):
            c.storagePoolLookupByName(name).undefine()
    finally:
        c.close()


# ---------------------------------------------------------------- hostile names and files

def test_hostile_names(daemons, root, tmp_path):
    """A name with '/' is refused before anything is written; DTDs and entities are refused;
    '.' and '..' stay files of the directory (libvirt writes '..xml' and '...xml' there too);
    a planted definition whose file name is not its pool's, or that does not parse, is
    skipped at start."""
    d = daemons.start_storaged()
    c = libvirt.open(uri(d))
    conf = root / "etc/libvirt/storage"
    try:
        for bad in ("../../evil", "a/b", "/abs"):
            assert error_of(c.storagePoolDefineXML, pool_xml(bad, tmp_path / "x"))[:2] == (
                libvirt.VIR_ERR_XML_ERROR, VIR_FROM_STORAGE)
        # An entity that would read a file of the daemon's host, and one that would blow up.
        for doc in ('<!DOCTYPE pool [<!ENTITY x SYSTEM "file:///etc/shadow">]><pool '
                    "type='dir'><name>&x;</name><target><path>/x</path></target></pool>",
                    '<!DOCTYPE pool [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
                    "<pool type='dir'><name>&b;</name><target><path>/x</path></target></pool>"):
            code, dom, msg = error_of(c.storagePoolDefineXML, doc)
            assert dom == VIR_FROM_STORAGE and "root:" not in msg
        assert c.listAllStoragePools(0) == []
        for i, name in enumerate((".", "..")):
            p = c.storagePoolDefineXML(pool_xml(name, tmp_path / ("d%d" % i)))
            p.setAutostart(1)
        assert sorted(os.listdir(conf)) == ["...xml", "..xml", "autostart"]
        assert sorted(os.listdir(conf / "autostart")) == ["...xml", "..xml"]
        assert sorted(os.listdir(tmp_path)) == []  # nothing written outside
        for name in (".", ".."):
            p = c.storagePoolLookupByName(name)
            p.undefine()
        assert sorted(os.listdir(conf)) == ["autostart"]
    finally:
        c.close()
    d.stop()
    (conf / "planted.xml").write_text(pool_xml("other", "/x"))
    (conf / "garbage.xml").write_text("<pool type='dir'><name>g")
    (root / "run/libvirt/storage/ghost.xml").write_text(pool_xml("../../ghost", "/x"))
    d2 = daemons.start_storaged()
    assert virsh_on(uri(d2), "pool-list", "--all", "--name").stdout.strip() == ""


# ---------------------------------------------------------------- libvirtd

@pytest.mark.slow
def test_storaged_parity(daemons, ref, tmp_path):
    """The same virsh steps and the same events on virtstoraged and on Debian's libvirtd
    9.0.0 (its storage driver, through its own socket as storage:///system), for a dir
    pool in a temporary directory: the same output, errors and exit statuses."""
    d = daemons.start_storaged()
    theirs = "storage:///system?socket=%s" % ref.daemon.sock
    cleanup_pools(theirs)
    try:
        ours_steps = virsh_steps(uri(d), tmp_path / "pool")
        theirs_steps = virsh_steps(theirs, tmp_path / "pool")
        ours_events = event_steps(uri(d), tmp_path / "ev")
        theirs_events = event_steps(theirs, tmp_path / "ev")
    finally:
        cleanup_pools(theirs)
    for o, t in zip(ours_steps, theirs_steps):
        assert o == t, "step %s differs:\nours:     %r\nlibvirtd: %r" % (o[0], o, t)
    assert len(ours_steps) == len(theirs_steps)
    assert ours_events == theirs_events == EVENTS
    assert pool_registration_answers(d.sock) == pool_registration_answers(ref.daemon.sock)


# ---------------------------------------------------------------- fs pools

def mounted(path):
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == str(path) for line in f)


@pytest.fixture
def loopdev(tmp_path, request):
    """A 64 MiB image (sparse; another size by indirect parametrization) on a loop device,
    removed (and unmounted) after the test."""
    if os.geteuid() != 0:
        pytest.skip("loop devices need root")
    img = tmp_path / "fs.img"
    with open(img, "wb") as f:
        f.truncate(getattr(request, "param", 64 << 20))
    r = subprocess.run(["losetup", "--find", "--show", str(img)], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        pytest.skip("no loop device: %s" % r.stderr.strip())
    dev = r.stdout.strip()
    mnt = tmp_path / "mnt"
    try:
        yield dev, mnt
    finally:
        if mounted(mnt):
            subprocess.run(["umount", str(mnt)], timeout=30)
        subprocess.run(["losetup", "-d", dev], timeout=30)


def test_fs_pool(daemons, loopdev):
    """An fs pool on a loop device: build makes the directory (and a file system only with
    an overwrite flag: mkfs -t ext4 on a worker), NO_OVERWRITE refuses a formatted device,
    start mounts it, the pool's figures are the file system's, destroy unmounts it."""
    dev, mnt = loopdev
    d = daemons.start_storaged()
    c = libvirt.open(uri(d))
    xml = ("<pool type='fs'><name>sv-stor-fs</name><source><device path='%s'/>"
           "<format type='ext4'/></source><target><path>%s</path></target></pool>" % (dev, mnt))
    try:
        p = c.storagePoolDefineXML(xml)
        assert "<format type='ext4'/>" in p.XMLDesc(0)
        p.build(0)  # the directory alone
        assert mnt.is_dir()
        assert subprocess.run(["blkid", "-p", dev], capture_output=True).returncode == 2
        p.build(libvirt.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE)  # empty: formatted
        assert error_of(p.build, libvirt.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE) == (
            libvirt.VIR_ERR_STORAGE_POOL_BUILT, VIR_FROM_STORAGE,
            "Storage pool already built: Device '%s' already formatted using 'ext4'" % dev)
        assert error_of(p.build, libvirt.VIR_STORAGE_POOL_BUILD_OVERWRITE |
                        libvirt.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE)[0] == \
            libvirt.VIR_ERR_INVALID_ARG
        p.build(libvirt.VIR_STORAGE_POOL_BUILD_OVERWRITE)
        p.create(0)
        assert mounted(mnt)
        state, cap, alloc, avail = p.info()
        st = os.statvfs(mnt)
        assert state == libvirt.VIR_STORAGE_POOL_RUNNING
        assert cap == st.f_frsize * st.f_blocks and 40 << 20 < cap < 64 << 20
        assert error_of(p.create, 0)[2] == \
            "Requested operation is not valid: storage pool 'sv-stor-fs' is already active"
        p.destroy()
        assert not mounted(mnt)
        p.delete(0)
        assert not mnt.exists()
        p.undefine()
    finally:
        c.close()


def virsh_fs_steps(u, dev, mnt, tmp):
    """virsh steps of an fs pool on dev, mounted on mnt; (args, status, output) each, with
    the moment's figures blotted out. The device is wiped first (both daemons format it)."""
    subprocess.run(["wipefs", "-a", dev], capture_output=True, timeout=30)
    xml = tmp / "fs-pool.xml"
    xml.write_text("<pool type='fs'><name>sv-stor-fs</name><source><device path='%s'/>"
                   "<format type='ext4'/></source><target><path>%s</path></target></pool>"
                   % (dev, mnt))
    out = []
    for args in (["pool-define", str(xml)], ["pool-build", "sv-stor-fs"],
                 ["pool-build", "sv-stor-fs", "--no-overwrite"],
                 ["pool-build", "sv-stor-fs", "--no-overwrite"],
                 ["pool-build", "sv-stor-fs", "--overwrite"],
                 ["pool-start", "sv-stor-fs"], ["pool-info", "sv-stor-fs"],
                 ["pool-dumpxml", "sv-stor-fs"], ["pool-refresh", "sv-stor-fs"],
                 ["pool-destroy", "sv-stor-fs"], ["pool-delete", "sv-stor-fs"],
                 ["pool-undefine", "sv-stor-fs"]):
        r = virsh_on(u, *args, check=False)
        text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID",
                      r.stdout + "|" + r.stderr)
        text = re.sub(r"<(capacity|allocation|available) unit='bytes'>\d+<",
                      r"<\1 unit='bytes'>N<", text)
        text = re.sub(r"\d+\.\d\d [KMGT]iB", "SIZE", text)
        out.append((" ".join(args), r.returncode, text))
        if args[0] == "pool-start":
            out.append(("mounted", mounted(mnt)))
    out.append(("mounted", mounted(mnt)))
    return out


@pytest.mark.slow
def test_storaged_fs_parity(daemons, ref, loopdev, tmp_path):
    """The fs pool's virsh steps on virtstoraged and on Debian's libvirtd 9.0.0, on the same
    loop device: the same output, errors and exit statuses, mounted and unmounted alike."""
    dev, mnt = loopdev
    d = daemons.start_storaged()
    theirs = "storage:///system?socket=%s" % ref.daemon.sock
    virsh_on(theirs, "pool-destroy", "sv-stor-fs", check=False)
    virsh_on(theirs, "pool-undefine", "sv-stor-fs", check=False)
    try:
        ours_steps = virsh_fs_steps(uri(d), dev, mnt, tmp_path)
        theirs_steps = virsh_fs_steps(theirs, dev, mnt, tmp_path)
    finally:
        virsh_on(theirs, "pool-destroy", "sv-stor-fs", check=False)
        virsh_on(theirs, "pool-undefine", "sv-stor-fs", check=False)
    for o, t in zip(ours_steps, theirs_steps):
        assert o == t, "step %s differs:\nours:     %r\nlibvirtd: %r" % (o[0], o, t)
    assert len(ours_steps) == len(theirs_steps)
    # and the steps did what they say: formatted once, refused, mounted, unmounted
    assert [s[1] for s in ours_steps] == [0, 0, 0, 1, 0, 0, True, 0, 0, 0, 0, 0, 0, False]
    assert "already formatted using 'ext4'" in ours_steps[3][2]


# ---------------------------------------------------------------- logical pools

# The volume group of the logical pool tests: LVM's names are the host's, and the builds'
# suites run side by side (one VG each, or one would find the other's and remove it).
VG = "sv-stor-vg-%d" % os.getpid()


def lvm_cleanup(vg, dev):
    subprocess.run(["vgremove", "-f", vg], capture_output=True, timeout=60)
    subprocess.run(["pvremove", "-ff", "-y", dev], capture_output=True, timeout=60)


def virsh_logical_steps(u, dev, tmp, vg=VG):
    """virsh steps of a logical pool on dev (a VG of one PV); (args, status, output) each.
    The device is wiped first (both daemons build on it)."""
    subprocess.run(["wipefs", "-a", dev], capture_output=True, timeout=30)
    xml = tmp / "vg-pool.xml"
    xml.write_text("<pool type='logical'><name>%s</name><source><device path='%s'/></source>"
                   "</pool>" % (vg, dev))
    out = []
    for args in (["pool-define", str(xml)], ["pool-dumpxml", vg], ["pool-start", vg],
                 ["pool-build", vg], ["pool-build", vg], ["pool-build", vg, "--overwrite"],
                 ["find-storage-pool-sources", "logical"],
                 ["pool-start", vg], ["pool-info", vg], ["pool-dumpxml", vg],
                 ["pool-refresh", vg], ["pool-destroy", vg], ["pool-delete", vg],
                 ["pool-start", vg], ["pool-undefine", vg]):
        r = virsh_on(u, *args, check=False)
        text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID",
                      r.stdout + "|" + r.stderr)
        if args[0] == "find-storage-pool-sources":  # only this test's VG: others may exist
            text = "".join(re.findall(r"  <source>\n(?:(?!  </source>).)*<name>%s</name>.*?"
                                      r"  </source>\n" % vg, text, re.S))
        out.append((" ".join(args), r.returncode, text))
    return out


def test_logical_pool(daemons, loopdev, tmp_path):
    """A logical pool on a loop device: start refused before the VG exists, build (pvcreate
    and vgcreate on a worker; refused on a device that has a PV unless --overwrite), source
    discovery, start (vgchange), the VG's figures, stop, delete (vgremove, pvremove)."""
    dev, _ = loopdev
    d = daemons.start_storaged()
    try:
        steps = virsh_logical_steps(uri(d), dev, tmp_path)
    finally:
        lvm_cleanup(VG, dev)
    assert [s[1] for s in steps] == [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]
    assert "unsupported configuration: cannot find logical volume group name '%s'" % VG \
        in steps[2][2]
    assert "Storage pool already built: Device '%s' already formatted using 'LVM2_member'" \
        % dev in steps[4][2]
    assert steps[6][2] == ("  <source>\n    <device path='%s'/>\n    <name>%s</name>\n"
                           "    <format type='lvm2'/>\n  </source>\n" % (dev, VG))
    assert "Capacity: 60.00 MiB" in re.sub(r" +", " ", steps[8][2])
    assert "<capacity unit='bytes'>62914560</capacity>" in steps[9][2]
    assert "<path>/dev/%s</path>" % VG in steps[9][2]


@pytest.mark.slow
def test_storaged_logical_parity(daemons, ref, loopdev, tmp_path):
    """The logical pool's virsh steps on virtstoraged and on Debian's libvirtd 9.0.0, on the
    same loop device: the same output, errors and exit statuses."""
    dev, _ = loopdev
    d = daemons.start_storaged()
    theirs = "storage:///system?socket=%s" % ref.daemon.sock
    try:
        ours_steps = virsh_logical_steps(uri(d), dev, tmp_path)
        lvm_cleanup(VG, dev)
        theirs_steps = virsh_logical_steps(theirs, dev, tmp_path)
    finally:
        virsh_on(theirs, "pool-destroy", VG, check=False)
        virsh_on(theirs, "pool-undefine", VG, check=False)
        lvm_cleanup(VG, dev)
    for o, t in zip(ours_steps, theirs_steps):
        assert o == t, "step %s differs:\nours:     %r\nlibvirtd: %r" % (o[0], o, t)
    assert len(ours_steps) == len(theirs_steps)


# ---------------------------------------------------------------- disk pools

def virsh_disk_steps(u, dev, tmp, fmt=""):
    """virsh steps of a disk pool on dev (a partition table of type fmt, dos when none is
    given); (args, status, output) each. The device is wiped first."""
    subprocess.run(["wipefs", "-a", dev], capture_output=True, timeout=30)
    xml = tmp / "disk-pool.xml"
    xml.write_text("<pool type='disk'><name>sv-stor-disk</name><source><device path='%s'/>%s"
                   "</source><target><path>/dev</path></target></pool>"
                   % (dev, "<format type='%s'/>" % fmt if fmt else ""))
    out = []
    for args in (["pool-define", str(xml)], ["pool-dumpxml", "sv-stor-disk"],
                 ["pool-start", "sv-stor-disk"], ["pool-build", "sv-stor-disk"],
                 ["pool-build", "sv-stor-disk"], ["pool-build", "sv-stor-disk", "--overwrite"],
                 ["pool-start", "sv-stor-disk"], ["pool-info", "sv-stor-disk"],
                 ["pool-dumpxml", "sv-stor-disk"], ["pool-refresh", "sv-stor-disk"],
                 ["pool-destroy", "sv-stor-disk"], ["pool-delete", "sv-stor-disk"],
                 ["pool-start", "sv-stor-disk"], ["pool-undefine", "sv-stor-disk"]):
        r = virsh_on(u, *args, check=False)
        text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID",
                      r.stdout + "|" + r.stderr)
        out.append((" ".join(args), r.returncode, text))
    return out


@pytest.mark.parametrize("fmt", ["", "gpt"])
def test_disk_pool(daemons, loopdev, tmp_path, fmt):
    """A disk pool on a loop device: start refused before a table exists, build (parted
    mklabel on a worker; refused on a device with a table unless --overwrite), start (the
    table's type checked), libvirt's figures and free extents, delete (the table wiped)."""
    dev, _ = loopdev
    d = daemons.start_storaged()
    steps = virsh_disk_steps(uri(d), dev, tmp_path, fmt)
    table = fmt or "dos"
    assert [s[1] for s in steps] == [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0]
    assert "Storage pool probe failed: Device '%s' is unrecognized, requires build" % dev \
        in steps[2][2]
    assert "Storage pool already built: Device '%s' already formatted using '%s'" \
        % (dev, table) in steps[4][2]
    # the figures of a fresh table on 64 MiB (libvirtd's, test_storaged_disk_parity; a dos
    # table's end may differ by its last two sectors, see there)
    start, end = {"dos": (1024, r"6710(?:7840|8864)"), "gpt": (17408, "67091968")}[table]
    m = re.search(r"<capacity unit='bytes'>(?P<cap>%s)</capacity>\n  <allocation unit='bytes'>0"
                  r"</allocation>\n  <available unit='bytes'>(?P<avail>\d+)</available>\n"
                  r"  <source>\n    <device path='%s'>\n      <freeExtent start='%d' "
                  r"end='(?P=cap)'/>\n    </device>\n    <format type='%s'/>\n"
                  % (end, dev, start, table), steps[8][2])
    assert m, steps[8][2]
    assert int(m.group("avail")) == int(m.group("cap")) - start
    assert "Device '%s' is unrecognized, requires build" % dev in steps[12][2]


def dos_figures_blotted(steps):
    """A dos table's figures left out (see test_storaged_disk_parity)."""
    return [(a, rc, re.sub(r"(<capacity unit='bytes'>|<available unit='bytes'>|end=')\d+",
                           r"\1N", text)) for a, rc, text in steps]


@pytest.mark.slow
def test_storaged_disk_parity(daemons, ref, loopdev, tmp_path):
    """The disk pool's virsh steps on virtstoraged and on Debian's libvirtd 9.0.0, on the
    same loop device, dos and gpt: the same output, errors and exit statuses.

    A difference named: on a dos table, libvirt (through libparted, in its own helper)
    counts the table's last two sectors as metadata, outside the free extent; we read
    parted's machine output, whose last free region may run to the device's end. The dos
    run's capacity, available and free-extent end are therefore left out of the comparison
    (1024 bytes apart on this device); the gpt run compares them."""
    dev, _ = loopdev
    d = daemons.start_storaged()
    theirs = "storage:///system?socket=%s" % ref.daemon.sock
    for fmt in ("", "gpt"):
        try:
            ours_steps = virsh_disk_steps(uri(d), dev, tmp_path, fmt)
            theirs_steps = virsh_disk_steps(theirs, dev, tmp_path, fmt)
        finally:
            virsh_on(theirs, "pool-destroy", "sv-stor-disk", check=False)
            virsh_on(theirs, "pool-undefine", "sv-stor-disk", check=False)
        if not fmt:
            ours_steps = dos_figures_blotted(ours_steps)
            theirs_steps = dos_figures_blotted(theirs_steps)
        for o, t in zip(ours_steps, theirs_steps):
            assert o == t, "step %s differs:\nours:     %r\nlibvirtd: %r" % (o[0], o, t)
        assert len(ours_steps) == len(theirs_steps)


def test_fs_pool_restart(daemons, loopdev):
    """A restarted daemon looks again at the pools it finds active (libvirt's checkPool): an
    fs pool still mounted stays active; one unmounted meanwhile is inactive."""
    dev, mnt = loopdev
    d = daemons.start_storaged()
    c = libvirt.open(uri(d))
    p = c.storagePoolDefineXML(
        "<pool type='fs'><name>sv-stor-fs</name><source><device path='%s'/><format "
        "type='ext4'/></source><target><path>%s</path></target></pool>" % (dev, mnt))
    p.build(libvirt.VIR_STORAGE_POOL_BUILD_OVERWRITE)
    p.create(0)
    c.close()
    for still_mounted in (True, False):
        d.expected_status = -9
        d.kill()
        d.proc.wait()
        if not still_mounted:
            subprocess.run(["umount", str(mnt)], check=True, timeout=30)
        d = daemons.start_storaged()
        c = libvirt.open(uri(d))
        p = c.storagePoolLookupByName("sv-stor-fs")
        deadline = time.monotonic() + 10
        while p.isActive() != still_mounted and time.monotonic() < deadline:
            time.sleep(0.1)
        assert p.isActive() == still_mounted
        assert mounted(mnt) == still_mounted
        c.close()
    c = libvirt.open(uri(d))
    c.storagePoolLookupByName("sv-stor-fs").undefine()
    c.close()
