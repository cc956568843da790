"""test_storaged_vol.py: virtstoraged's storage volumes (issue 19 item 2) in a dir pool,
driven by stock virsh and python3-libvirt: vol-create-as (raw, qcow2 with
--prealloc-metadata, qcow2 over a backing volume), vol-create-from, vol-clone (within and
across pools), vol-list --details, vol-info, vol-dumpxml, vol-path, vol-key, vol-pool,
vol-resize (grow, --shrink, --delta), vol-wipe (zero and a scrub algorithm), vol-delete
(disk pools' partitions: test_storaged_disk_vol.py; logical pools' LVs:
test_storaged_blk.py);
lookups by path and key; libvirt's errors for missing and duplicate volumes and bad names.
test_storaged_vol_parity (slow) runs the same virsh steps against Debian's libvirtd 9.0.0
and compares every output, error and exit status.

Differences from libvirtd kept on purpose (named where they show):
- An upload whose writes fail (a full file system) fails at the client's finish with the
  write error; libvirtd answers that finish OK (test_upload_write_failure_at_finish).
- VIR_STORAGE_VOL_CREATE_VALIDATE (libvirtd checks the XML against its storagevol.rng) is
  refused as an unsupported flag rather than ignored, as the pools' DEFINE_VALIDATE.
- A volume being uploaded or downloaded holds its pool (pool-refresh, pool-destroy answer
  "pool has asynchronous jobs running" meanwhile) and itself (vol-delete, vol-wipe,
  vol-resize: "still in use"); libvirtd lets the file go from under the stream.
"""

import os
import random
import re
import subprocess
import threading
import time

import libvirt
import pytest

from guests import ensure_event_loop

POOL = "sv-volp-a"
POOL2 = "sv-volp-b"
MIB = 1024 * 1024
VIR_FROM_STORAGE = 18


def uri(d, ro=False):
    return "storage:///system?socket=%s" % (d.sock_ro if ro else d.sock)


def virsh_on(u, *args, check=True, ro=False):
    cmd = ["virsh", "-q"] + (["-r"] if ro else []) + ["-c", u] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(cmd), r.stderr))
    return r


def blot(text, tmp):
    text = text.replace(str(tmp), "TMP")
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    text = re.sub(r"<(atime|mtime|ctime|btime)>[\d.]+</\1>", r"<\1>T</\1>", text)
    text = re.sub(r"<(owner|group)>\d+</\1>", r"<\1>ID</\1>", text)
    return re.sub(r" +", " ", text)


def sparse_steps(step, out, tmp):
    """vol-upload --sparse of a file with holes (1 MiB data, 3 MiB hole, 1 MiB data, a 2 MiB
    hole at its end) into a new volume, vol-download --sparse of it: the bytes come back, the
    holes stay holes on both sides."""
    src, back = tmp / "sparse.bin", tmp / "sparse-back.bin"
    with open(src, "wb") as f:
        f.write(random.Random(1).randbytes(MIB))
        f.seek(4 * MIB)
        f.write(random.Random(2).randbytes(MIB))
        f.truncate(7 * MIB)
    step("vol-create-as", POOL, "sp.img", "8M", "--allocation", "0")
    step("vol-upload", "--sparse", "sp.img", str(src), "--pool", POOL)
    step("vol-info", "--bytes", "sp.img", "--pool", POOL)
    step("vol-download", "--sparse", "sp.img", str(back), "--pool", POOL)
    st = os.stat(back)
    out.append(("sparse download", back.read_bytes()[:7 * MIB] == src.read_bytes(),
                st.st_size, st.st_blocks * 512 <= 2 * MIB + 64 * 1024))
    step("vol-download", "--sparse", "sp.img", str(back), "--pool", POOL, "--offset",
         str(MIB - 100), "--length", str(4 * MIB))
    out.append(("sparse partial", back.read_bytes() == src.read_bytes()[MIB - 100:5 * MIB - 100]))
    step("vol-delete", "sp.img", "--pool", POOL)
    src.unlink()
    back.unlink()


def vol_steps(u, tmp, fs_dev=None):
    """The virsh volume steps on two dir pools under tmp (the first an fs pool on fs_dev,
    ext4 made by its build, when given): each step's (args, exit status, output|error),
    blotted of what must differ. Leaves nothing behind."""
    out = []
    a, b = tmp / "a", tmp / "b"
    tmp.mkdir(exist_ok=True)
    clone_xml = tmp / "clone.xml"
    clone_xml.write_text("<volume><name>x.qcow2</name><capacity>1</capacity>"
                         "<target><format type='qcow2'/></target></volume>")

    def step(*args):
        r = virsh_on(u, *args, check=False)
        text = blot(r.stdout + "|" + r.stderr, tmp)
        out.append((" ".join(args).replace(str(tmp), "TMP"), r.returncode, text))
        return r

    if fs_dev:
        virsh_on(u, "pool-create-as", POOL, "fs", "--source-dev", fs_dev, "--source-format",
                 "ext4", "--target", str(a), "--build", "--overwrite")
        out.append(("mounted", os.path.ismount(a)))
    else:
        virsh_on(u, "pool-create-as", POOL, "dir", "--target", str(a), "--build")
    virsh_on(u, "pool-create-as", POOL2, "dir", "--target", str(b), "--build")
    try:
        step("vol-create-as", POOL, "r.img", "4M")
        step("vol-create-as", POOL, "q.qcow2", "8M", "--format", "qcow2",
             "--prealloc-metadata")
        step("vol-create-as", POOL, "o.qcow2", "8M", "--format", "qcow2",
             "--backing-vol", "r.img", "--backing-vol-format", "raw")
        step("vol-create-as", POOL, "s.img", "16M", "--allocation", "0")
        for fmt in ("vmdk", "vdi", "vpc", "qed"):
            step("vol-create-as", POOL, "f." + fmt, "4M", "--format", fmt)
            step("vol-dumpxml", "f." + fmt, "--pool", POOL)
            step("vol-delete", "f." + fmt, "--pool", POOL)
        perm_xml = tmp / "perm.xml"
        perm_xml.write_text("<volume><name>m.img</name><capacity unit='KiB'>64</capacity>"
                            "<allocation>0</allocation><target><permissions><mode>0640</mode>"
                            "</permissions></target></volume>")
        step("vol-create", POOL, str(perm_xml))
        step("vol-dumpxml", "m.img", "--pool", POOL)
        out.append(("m.img mode", oct(os.stat(a / "m.img").st_mode & 0o7777)))
        step("vol-delete", "m.img", "--pool", POOL)
        step("vol-list", POOL, "--details")
        step("vol-info", "r.img", "--pool", POOL)
        step("vol-info", "--bytes", "s.img", "--pool", POOL)
        step("vol-dumpxml", "o.qcow2", "--pool", POOL)
        step("vol-dumpxml", "q.qcow2", "--pool", POOL)
        step("vol-path", "r.img", "--pool", POOL)
        step("vol-key", "r.img", "--pool", POOL)
        step("vol-name", str(a / "r.img"))
        step("vol-pool", str(a / "r.img"))
        step("vol-info", str(a / "q.qcow2"))
        step("vol-info", str(a) + "//q.qcow2")
        step("vol-info", str(tmp / "elsewhere.img"))
        step("vol-clone", "r.img", "c.img", "--pool", POOL)
        step("vol-create-from", POOL2, str(clone_xml), "--inputpool", POOL, "q.qcow2")
        raw_xml = tmp / "raw.xml"
        raw_xml.write_text("<volume><name>y.img</name><capacity>1</capacity>"
                           "<target><format type='raw'/></target></volume>")
        step("vol-create-from", POOL2, str(raw_xml), "--inputpool", POOL, "o.qcow2")
        step("vol-info", "--bytes", "y.img", "--pool", POOL2)
        step("vol-create-from", POOL, str(raw_xml), "--inputpool", POOL, "missing.img")
        step("vol-create-as", POOL, "r.img", "1M")
        step("vol-create-as", POOL, "../escape.img", "1M")
        step("vol-info", "missing.img", "--pool", POOL)
        step("vol-resize", "s.img", "32M", "--pool", POOL)
        step("vol-info", "--bytes", "s.img", "--pool", POOL)
        step("vol-resize", "s.img", "8M", "--pool", POOL)
        step("vol-resize", "s.img", "8M", "--pool", POOL, "--shrink")
        step("vol-resize", "s.img", "--delta", "1M", "--pool", POOL)
        step("vol-resize", "r.img", "1M", "--pool", POOL, "--shrink")
        step("vol-resize", "q.qcow2", "16M", "--pool", POOL)
        step("vol-info", "--bytes", "q.qcow2", "--pool", POOL)
        data = tmp / "data.bin"
        data.write_bytes(random.Random(19).randbytes(3 * MIB + 77))
        step("vol-upload", "c.img", str(data), "--pool", POOL)
        back = tmp / "back.bin"
        step("vol-download", "c.img", str(back), "--pool", POOL)
        out.append(("download", back.read_bytes()[:3 * MIB + 77] == data.read_bytes(),
                    back.stat().st_size))
        step("vol-download", "c.img", str(back), "--pool", POOL, "--offset", "1000",
             "--length", "5000")
        out.append(("partial", back.read_bytes() == data.read_bytes()[1000:6000]))
        step("vol-upload", "c.img", str(data), "--pool", POOL, "--offset", str(4 * MIB - 10))
        step("vol-info", "--bytes", "c.img", "--pool", POOL)
        step("vol-upload", "missing.img", str(data), "--pool", POOL)
        sparse_steps(step, out, tmp)
        data.unlink()
        back.unlink()
        step("vol-wipe", "c.img", "--pool", POOL)
        step("vol-wipe", "c.img", "--pool", POOL, "--algorithm", "nnsa")
        step("vol-wipe", "c.img", "--pool", POOL, "--algorithm", "trim")
        step("vol-wipe", "q.qcow2", "--pool", POOL)
        step("vol-info", "--bytes", "q.qcow2", "--pool", POOL)
        step("vol-info", "--bytes", "c.img", "--pool", POOL)
        step("vol-delete", "--delete-snapshots", "s.img", "--pool", POOL)
        for v in ("o.qcow2", "q.qcow2", "r.img", "s.img", "c.img"):
            step("vol-delete", v, "--pool", POOL)
        step("vol-delete", "r.img", "--pool", POOL)
        step("vol-list", POOL)
        step("vol-list", POOL2)
    finally:
        for p in (POOL, POOL2):
            r = virsh_on(u, "vol-list", p, check=False)
            for line in r.stdout.splitlines():
                if line.split():
                    virsh_on(u, "vol-delete", line.split()[0], "--pool", p, check=False)
            virsh_on(u, "pool-destroy", p, check=False)
        for d in (a, b):
            if d.exists() and not os.path.ismount(d):
                for f in d.iterdir():
                    f.rmdir() if f.is_dir() else f.unlink()  # an fs pool's lost+found
                d.rmdir()
    return out


def test_vol_steps(daemons, tmp_path):
    """The steps on virtstoraged: each answers as libvirt 9.0 does (the values below are
    what Debian's libvirtd 9.0.0 gave for the same steps)."""
    d = daemons.start_storaged()
    steps = {s[0]: s for s in vol_steps(uri(d), tmp_path)}
    for args in ("vol-create-as sv-volp-a r.img 4M",
                 "vol-clone r.img c.img --pool sv-volp-a",
                 "vol-resize s.img 32M --pool sv-volp-a"):
        assert steps[args][1] == 0, steps[args]
    assert "Capacity: 4.00 MiB" in steps["vol-info r.img --pool sv-volp-a"][2]
    assert "Capacity: 33554432 bytes" in steps["vol-info --bytes s.img --pool sv-volp-a"][2]
    xml = steps["vol-dumpxml o.qcow2 --pool sv-volp-a"][2]
    assert "<backingStore>" in xml and "TMP/a/r.img" in xml and "qcow2" in xml
    for fmt in ("vmdk", "vdi", "qed"):  # read from their headers, as libvirt's probe
        xml = steps["vol-dumpxml f.%s --pool sv-volp-a" % fmt][2]
        assert "<format type='%s'/>" % fmt in xml and "'bytes'>4194304</capacity>" in xml
    assert steps["m.img mode"] == ("m.img mode", "0o640")
    assert steps["vol-path r.img --pool sv-volp-a"][2] == "TMP/a/r.img\n|"
    assert steps["vol-pool TMP/a/r.img"][2] == "sv-volp-a\n|"
    dup = steps["vol-create-as sv-volp-a r.img 1M"]
    assert dup[1] == 1 and "storage volume 'r.img' exists already" in dup[2]
    esc = steps["vol-create-as sv-volp-a ../escape.img 1M"]
    assert esc[1] == 1 and not (tmp_path / "escape.img").exists()
    assert "Storage volume not found: no storage vol with matching path" in \
        steps["vol-info TMP/elsewhere.img"][2]
    assert "unless shrink flag" in steps["vol-resize s.img 8M --pool sv-volp-a"][2]
    assert steps["vol-resize s.img 8M --pool sv-volp-a --shrink"][1] == 0
    # the dir backend's delete takes no flags (libvirtd names the same function)
    assert "unsupported flags (0x2) in function virStorageBackendVolDeleteLocal" in \
        steps["vol-delete --delete-snapshots s.img --pool sv-volp-a"][2]
    assert "'trim' algorithm not supported" in \
        steps["vol-wipe c.img --pool sv-volp-a --algorithm trim"][2]
    assert steps["vol-list sv-volp-a"][2] == "|"
    assert "x.qcow2" in steps["vol-list sv-volp-b"][2] and "y.img" in steps["vol-list sv-volp-b"][2]


def test_vol_api(daemons, tmp_path):
    """python3-libvirt: lookups by key and path, listAllVolumes, info with GET_PHYSICAL,
    errors, and a read-only connection refused creation."""
    d = daemons.start_storaged()
    conn = libvirt.open(uri(d))
    pool = conn.storagePoolCreateXML(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
        % (POOL, tmp_path), 0)
    try:
        vol = pool.createXML("<volume><name>v.img</name><capacity>1048576</capacity>"
                             "</volume>", 0)
        assert vol.key() == vol.path() == str(tmp_path / "v.img")
        assert conn.storageVolLookupByKey(vol.key()).name() == "v.img"
        assert conn.storageVolLookupByPath(vol.path()).storagePoolLookupByVolume().name() \
            == POOL
        assert [v.name() for v in pool.listAllVolumes()] == ["v.img"]
        assert pool.numOfVolumes() == 1 and pool.listVolumes() == ["v.img"]
        assert vol.info()[1] == 1048576
        assert vol.info()[0] == libvirt.VIR_STORAGE_VOL_FILE
        assert vol.infoFlags(libvirt.VIR_STORAGE_VOL_GET_PHYSICAL)[2] == 1048576
        with pytest.raises(libvirt.libvirtError) as e:
            conn.storageVolLookupByKey("/nowhere")
        assert e.value.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL
        assert e.value.get_error_domain() == VIR_FROM_STORAGE
        with pytest.raises(libvirt.libvirtError) as e:
            pool.createXML("<volume><name>a/b</name><capacity>1</capacity></volume>", 0)
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
        ro = libvirt.openReadOnly(uri(d, ro=True))
        with pytest.raises(libvirt.libvirtError) as e:
            ro.storagePoolLookupByName(POOL).createXML(
                "<volume><name>w.img</name><capacity>1</capacity></volume>", 0)
        assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
        ro.close()
        vol.delete(0)
        assert not os.path.exists(str(tmp_path / "v.img"))
    finally:
        pool.destroy()
        conn.close()


def vol_event_steps(u, target):
    """The pool's refresh events and allocation changes one client sees while a volume is
    created, uploaded to, resized with ALLOCATE and deleted."""
    ensure_event_loop()
    c = libvirt.open(u)
    got, lock = [], threading.Lock()

    def refreshed(conn, pool, opaque):
        with lock:
            got.append((pool.name(), "refresh"))

    cb = c.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH,
                                       refreshed, None)
    p = c.storagePoolCreateXML(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
        % (POOL, target), libvirt.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
    try:
        before = p.info()[2]
        v = p.createXML("<volume><name>e.img</name><capacity>1048576</capacity></volume>", 0)
        got.append(("created", p.info()[2] - before))
        st = c.newStream(0)
        v.upload(st, 0, 4096, 0)
        st.send(b"u" * 4096)
        st.finish()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not got[1:]:
            time.sleep(0.05)
        time.sleep(0.3)
        got.append(("refreshed", v.info()[2]))
        before = p.info()[2]
        v.resize(2 * 1048576, libvirt.VIR_STORAGE_VOL_RESIZE_ALLOCATE)
        got.append(("allocated", p.info()[2] - before, v.info()[2]))
        before = p.info()[2]
        v.delete(0)
        got.append(("deleted", p.info()[2] - before))
        time.sleep(0.3)
    finally:
        c.storagePoolEventDeregisterAny(cb)
        p.destroy()
        c.close()
    return got


VOL_EVENTS = [("created", 1048576), (POOL, "refresh"), ("refreshed", 1048576),
              ("allocated", 1048576, 2097152), ("deleted", -2097152)]


def test_vol_events(daemons, tmp_path):
    """A volume's creation, resize and deletion move the pool's allocation by its own (no
    event); the end of an upload refreshes the pool (one REFRESH event), as libvirtd does
    (test_storaged_vol_parity compares)."""
    d = daemons.start_storaged()
    assert vol_event_steps(uri(d), tmp_path / "p") == VOL_EVENTS


def flag_errors(u, target):
    """Each volume call with a flag it does not take: (call, error code, message)."""
    c = libvirt.open(u)
    p = c.storagePoolCreateXML(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
        % (POOL, target), libvirt.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
    xml = "<volume><name>%s</name><capacity>65536</capacity></volume>"
    out = []
    try:
        v = p.createXML(xml % "f.img", 0)
        calls = [
            ("createXML", lambda: p.createXML(xml % "g.img", 8)),
            ("createXML validate", lambda: p.createXML(xml % "g2.img", 4)),
            ("createXMLFrom", lambda: p.createXMLFrom(xml % "h.img", v, 8)),
            ("XMLDesc", lambda: v.XMLDesc(1)),
            ("infoFlags", lambda: v.infoFlags(2)),
            ("wipe", lambda: v.wipe(1)),
            ("wipePattern", lambda: v.wipePattern(0, 1)),
            ("wipePattern 99", lambda: v.wipePattern(99, 0)),
            ("resize", lambda: v.resize(1 << 20, 8)),
            ("delete", lambda: v.delete(4)),
            ("listAllVolumes", lambda: p.listAllVolumes(1)),
            ("upload", lambda: v.upload(c.newStream(0), 0, 0, 2)),
            ("download", lambda: v.download(c.newStream(0), 0, 0, 2)),
        ]
        for name, fn in calls:
            try:
                fn()
                out.append((name, "ok"))
            except libvirt.libvirtError as e:
                out.append((name, e.get_error_code(), e.get_error_message()))
        v.delete(0)
    finally:
        p.destroy()
        c.close()
    return out


def test_flag_errors(daemons, tmp_path):
    """Unsupported flags are refused with libvirt's message naming its function."""
    d = daemons.start_storaged()
    got = dict((x[0], x[1:]) for x in flag_errors(uri(d), tmp_path / "p"))
    assert got["resize"] == (libvirt.VIR_ERR_INVALID_ARG,
                             "unsupported flags (0x8) in function storageVolResize")
    assert got["wipePattern 99"][1] == "invalid argument: wiping algorithm 99 not supported"


@pytest.mark.slow
def test_storaged_vol_parity(daemons, ref, tmp_path):
    """The same virsh volume steps on virtstoraged and on Debian's libvirtd 9.0.0: the same
    output, errors and exit statuses, step by step."""
    d = daemons.start_storaged()
    theirs = "storage:///system?socket=%s" % ref.daemon.sock
    for p in (POOL, POOL2):
        virsh_on(theirs, "pool-destroy", p, check=False)
    ours = vol_steps(uri(d), tmp_path / "o")
    theirs_steps = vol_steps(theirs, tmp_path / "t")
    assert vol_event_steps(theirs, tmp_path / "te") == VOL_EVENTS
    ours_flags = flag_errors(uri(d), tmp_path / "fo")
    theirs_flags = flag_errors(theirs, tmp_path / "ft")
    # VIR_STORAGE_VOL_CREATE_VALIDATE: libvirtd checks the XML against its storagevol.rng;
    # we refuse the flag (the module's docstring)
    assert ours_flags.pop(1) == ("createXML validate", libvirt.VIR_ERR_INVALID_ARG,
                                 "unsupported flags (0x4) in function storageVolCreateXML")
    assert theirs_flags.pop(1)[1] == libvirt.VIR_ERR_XML_INVALID_SCHEMA
    assert ours_flags == theirs_flags
    for o, t in zip(ours, theirs_steps):
        assert o == t, "step %s differs:\nours:     %r\nlibvirtd: %r" % (o[0], o, t)
    assert len(ours) == len(theirs_steps)


@pytest.mark.slow
@pytest.mark.parametrize("loopdev", [256 << 20], indirect=True)
def test_storaged_vol_fs_parity(daemons, ref, loopdev, tmp_path):  # noqa: F811
    """The same virsh volume steps with the first pool an fs pool (ext4 on a 256 MiB loop
    device, mkfs at its build, mounted at its start), on virtstoraged and then on Debian's
    libvirtd 9.0.0 on the same device: the same output, errors and exit statuses."""
    dev, _ = loopdev
    d = daemons.start_storaged()
    theirs = "storage:///system?socket=%s" % ref.daemon.sock
    for p in (POOL, POOL2):
        virsh_on(theirs, "pool-destroy", p, check=False)
    ours = vol_steps(uri(d), tmp_path / "o", dev)
    theirs_steps = vol_steps(theirs, tmp_path / "t", dev)
    assert ours[0] == ("mounted", True)
    assert any("lost+found" in s[2] for s in ours if len(s) == 3)
    for o, t in zip(ours, theirs_steps):
        assert o == t, "step %s differs:\nours:     %r\nlibvirtd: %r" % (o[0], o, t)
    assert len(ours) == len(theirs_steps)


def test_vols_through_qemud(daemons, tmp_path):
    """A client of qemu:///system on virtqemud's socket, with virtstoraged under the same
    root: virtqemud relays the volume calls and the upload and download streams (a sparse
    one's holes too) to
    virtstoraged; the volumes are virtstoraged's (its own socket lists the same)."""
    q = daemons.start(label="virtqemud-%d" % len(daemons.daemons), args=["--timeout", "0"])
    s = daemons.start_storaged(args=["--timeout", "0"])
    u = "qemu:///system?socket=%s" % q.sock
    virsh_on(u, "pool-create-as", POOL, "dir", "--target", str(tmp_path / "p"), "--build")
    try:
        virsh_on(u, "vol-create-as", POOL, "r.qcow2", "2M", "--format", "qcow2")
        virsh_on(u, "vol-create-as", POOL, "d.img", "2M")
        data = random.Random(7).randbytes(2 * MIB)
        (tmp_path / "in").write_bytes(data)
        virsh_on(u, "vol-upload", "d.img", str(tmp_path / "in"), "--pool", POOL)
        virsh_on(u, "vol-download", "d.img", str(tmp_path / "out"), "--pool", POOL)
        assert (tmp_path / "out").read_bytes() == data
        virsh_on(u, "vol-download", "--sparse", "r.qcow2", str(tmp_path / "sp"), "--pool", POOL)
        assert (tmp_path / "sp").read_bytes() == (tmp_path / "p" / "r.qcow2").read_bytes()
        listed = virsh_on(u, "vol-list", POOL, "--details").stdout
        assert listed == virsh_on(uri(s), "vol-list", POOL, "--details").stdout
        assert "r.qcow2" in listed and "d.img" in listed
        assert "qcow2" in virsh_on(u, "vol-dumpxml", "r.qcow2", "--pool", POOL).stdout
        for v in ("r.qcow2", "d.img"):
            virsh_on(u, "vol-delete", v, "--pool", POOL)
        assert virsh_on(uri(s), "vol-list", POOL).stdout.strip() == ""
    finally:
        virsh_on(uri(s), "pool-destroy", POOL, check=False)


def timed_transfer(u, target, src, dst, size):
    """vol-upload then vol-download of src (size bytes) through u, while another client
    asks for the pool's info in a loop: (upload MB/s, download MB/s, worst latency s)."""
    virsh_on(u, "pool-create-as", POOL, "dir", "--target", str(target), "--build")
    worst, stop = [0.0], threading.Event()

    def probe():
        c = libvirt.open(u)
        p = c.storagePoolLookupByName(POOL)
        while not stop.is_set():
            t = time.monotonic()
            p.info()
            worst[0] = max(worst[0], time.monotonic() - t)
            time.sleep(0.02)
        c.close()

    try:
        virsh_on(u, "vol-create-as", POOL, "big.img", str(size), "--allocation", "0")
        th = threading.Thread(target=probe)
        th.start()
        t = time.monotonic()
        virsh_on(u, "vol-upload", "big.img", str(src), "--pool", POOL)
        up = size / (time.monotonic() - t) / 1e6
        t = time.monotonic()
        virsh_on(u, "vol-download", "big.img", str(dst), "--pool", POOL)
        down = size / (time.monotonic() - t) / 1e6
        stop.set()
        th.join()
        virsh_on(u, "vol-delete", "big.img", "--pool", POOL)
    finally:
        stop.set()
        virsh_on(u, "pool-destroy", POOL, check=False)
    return up, down, worst[0]


@pytest.mark.slow
def test_big_transfer_keeps_others_answered(daemons, ref, tmp_path):
    """A 256 MiB vol-upload and vol-download on virtstoraged and on Debian's libvirtd 9.0.0:
    the data comes back whole from both, and another client of ours is answered within 1 s
    meanwhile (a generous bound: it shows the loop never waits on the transfer). The rates
    are printed for context only; bench/storage measures them against libvirtd's."""
    size = 256 * MIB
    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    with open(src, "wb") as f:
        for i in range(size // MIB):
            f.write(random.Random(i).randbytes(MIB))
    t = time.monotonic()
    subprocess.run(["cp", str(src), str(tmp_path / "cp.bin")], check=True)
    cp_rate = size / (time.monotonic() - t) / 1e6
    (tmp_path / "cp.bin").unlink()
    d = daemons.start_storaged()
    ours = timed_transfer(uri(d), tmp_path / "o", src, dst, size)
    assert subprocess.run(["cmp", str(src), str(dst)]).returncode == 0
    theirs_uri = "storage:///system?socket=%s" % ref.daemon.sock
    virsh_on(theirs_uri, "pool-destroy", POOL, check=False)
    theirs = timed_transfer(theirs_uri, tmp_path / "t", src, dst, size)
    assert subprocess.run(["cmp", str(src), str(dst)]).returncode == 0
    print("\nvol-upload 256 MiB: ours %.0f MB/s, libvirtd %.0f MB/s, cp %.0f MB/s; "
          "vol-download: ours %.0f MB/s, libvirtd %.0f MB/s; worst pool-info latency "
          "meanwhile: ours %.3f s, libvirtd %.3f s"
          % (ours[0], theirs[0], cp_rate, ours[1], theirs[1], ours[2], theirs[2]))
    assert ours[2] < 1.0


def test_volume_being_built(daemons, tmp_path):
    """A clone is built on a worker: meanwhile the new volume is listed and its deletion,
    wipe and resize answer libvirt's "still being allocated", the source's deletion "still
    in use", and the loop answers; afterwards the clone is whole."""
    d = daemons.start_storaged()
    c = libvirt.open(uri(d))
    target = tmp_path / "p"
    pool = c.storagePoolCreateXML(
        "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
        % (POOL, target), libvirt.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
    try:
        with open(target / "src.img", "wb") as f:
            for _ in range(384):
                f.write(os.urandom(MIB))
        pool.refresh(0)
        src = pool.storageVolLookupByName("src.img")
        done = []

        def clone():
            c2 = libvirt.open(uri(d))
            c2.storagePoolLookupByName(POOL).createXMLFrom(
                "<volume><name>dst.qcow2</name><capacity>1</capacity><target>"
                "<format type='qcow2'/></target></volume>", src, 0)
            done.append(True)
            c2.close()

        th = threading.Thread(target=clone)
        th.start()
        seen = set()
        # the source is touched only once the clone is under way (listed, building)
        while th.is_alive() and "dst.qcow2" not in pool.listVolumes():
            time.sleep(0.001)
        while th.is_alive() and len(seen) < 2:
            for name, fn in (("dst.qcow2", lambda v: v.delete(0)),
                             ("dst.qcow2", lambda v: v.resize(1 << 30, 0)),
                             ("src.img", lambda v: v.delete(0))):
                try:
                    fn(pool.storageVolLookupByName(name))
                except libvirt.libvirtError as e:
                    seen.add(e.get_error_message())
        th.join(60)
        assert done
        assert seen >= {"Requested operation is not valid: volume 'dst.qcow2' is still "
                        "being allocated.",
                        "Requested operation is not valid: volume 'src.img' is still in use."}
        assert pool.storageVolLookupByName("dst.qcow2").info()[1] == 384 * MIB
        out = subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2",
                              str(target / "src.img"), str(target / "dst.qcow2")],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
        for name in ("src.img", "dst.qcow2"):
            pool.storageVolLookupByName(name).delete(0)
    finally:
        pool.destroy()
        c.close()


def test_busy_volume_and_kill(daemons, tmp_path):
    """While a volume is wiped (scrub's 35-pass gutmann, seconds long, on a worker) the pool
    answers other clients, refuses a refresh ("asynchronous jobs running") and the volume
    its deletion ("still in use"), as libvirt's storage driver; a SIGKILL meanwhile fails
    the waiting client (no hang) and a restarted daemon finds the pool active and its
    volumes listed (no volume state is kept beside the files)."""
    d = daemons.start_storaged()
    u = uri(d)
    target = tmp_path / "p"
    virsh_on(u, "pool-create-as", POOL, "dir", "--target", str(target), "--build")
    virsh_on(u, "vol-create-as", POOL, "r.img", "1M")
    virsh_on(u, "vol-create-as", POOL, "w.img", "64M", "--allocation", "64M")
    failed = []

    def wipe():
        c = libvirt.open(u)
        try:
            c.storagePoolLookupByName(POOL).storageVolLookupByName("w.img").wipePattern(
                libvirt.VIR_STORAGE_VOL_WIPE_ALG_GUTMANN, 0)
        except libvirt.libvirtError as e:
            failed.append(e.get_error_code())

    th = threading.Thread(target=wipe)
    th.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = virsh_on(u, "pool-refresh", POOL, check=False)
        if "asynchronous jobs running" in r.stderr:
            break
        time.sleep(0.02)
    assert "pool 'sv-volp-a' has asynchronous jobs running." in r.stderr
    r = virsh_on(u, "vol-delete", "w.img", "--pool", POOL, check=False)
    assert "volume 'w.img' is still in use." in r.stderr
    assert "r.img" in virsh_on(u, "vol-list", POOL).stdout  # the loop answers
    d.expected_status = -9
    d.kill()
    d.proc.wait()
    th.join(30)
    assert not th.is_alive() and failed, "the waiting client got an error"

    d2 = daemons.start_storaged()
    try:
        deadline = time.monotonic() + 10
        listed = ""
        while time.monotonic() < deadline and "w.img" not in listed:
            listed = virsh_on(uri(d2), "vol-list", POOL, check=False).stdout
            time.sleep(0.1)
        assert "r.img" in listed and "w.img" in listed
    finally:
        virsh_on(uri(d2), "pool-destroy", POOL, check=False)


# ---------------------------------------------------------------- disk pools' partitions

from test_storaged import loopdev  # noqa: E402,F401  (the loop-device fixture)

DISK_POOL = "sv-volp-disk"


def disk_vol_steps(u, dev, tmp):
    """A disk pool on dev with two partitions made by parted: vol-list --details, vol-info
    and vol-dumpxml of each (timestamps blotted)."""
    xml = tmp / "disk.xml"
    xml.write_text("<pool type='disk'><name>%s</name><source><device path='%s'/></source>"
                   "<target><path>/dev</path></target></pool>" % (DISK_POOL, dev))
    out = []

    def step(*args):
        r = virsh_on(u, *args, check=False)
        out.append((" ".join(args).replace(str(tmp), "TMP"), r.returncode,
                    re.sub(r"<(a|m|c)time>[\d.]+<", r"<\1time>T<", r.stdout + "|" + r.stderr)))
        return r

    step("pool-create", str(xml))
    try:
        names = [ln.split()[0] for ln in
                 step("vol-list", DISK_POOL, "--details").stdout.splitlines() if ln.strip()]
        for n in names:
            step("vol-info", n, "--pool", DISK_POOL)
            step("vol-dumpxml", n, "--pool", DISK_POOL)
            step("vol-path", n, "--pool", DISK_POOL)
    finally:
        virsh_on(u, "pool-destroy", DISK_POOL, check=False)
    return out


def make_partitions(dev):
    subprocess.run(["parted", "-s", dev, "mklabel", "msdos", "mkpart", "primary", "1MiB",
                    "10MiB", "mkpart", "primary", "10MiB", "20MiB"], check=True, timeout=60,
                   capture_output=True)


def test_disk_pool_volumes(daemons, loopdev, tmp_path):  # noqa: F811
    """A disk pool's partitions are its volumes, described as libvirt's disk backend does:
    a block volume with its extent on the device, the node's permissions and timestamps;
    a new one must be named as parted names the partition."""
    dev, _ = loopdev
    make_partitions(dev)
    d = daemons.start_storaged()
    steps = dict((s[0], s) for s in disk_vol_steps(uri(d), dev, tmp_path))
    name = os.path.basename(dev) + "p1"
    xml = steps["vol-dumpxml %s --pool %s" % (name, DISK_POOL)][2]
    assert ("<device path='%s'>\n      <extent start='1048576' end='10485760'/>" % dev) in xml
    assert "<physical unit='bytes'>9437184</physical>" in xml
    assert "<format type='none'/>" in xml and "<mode>" in xml
    r = virsh_on(uri(d), "pool-create", str(tmp_path / "disk.xml"))
    try:
        r = virsh_on(uri(d), "vol-create-as", DISK_POOL, "x", "1M", check=False)
        assert "invalid partition name 'x', expected '%s'" % (os.path.basename(dev) + "p3") in r.stderr
    finally:
        virsh_on(uri(d), "pool-destroy", DISK_POOL, check=False)


@pytest.mark.slow
def test_storaged_vol_disk_parity(daemons, ref, loopdev, tmp_path):  # noqa: F811
    """The disk pool's volume steps on virtstoraged and on Debian's libvirtd 9.0.0, on the
    same loop device: the same output (the nodes' timestamps blotted)."""
    dev, _ = loopdev
    make_partitions(dev)
    d = daemons.start_storaged()
    theirs = "storage:///system?socket=%s" % ref.daemon.sock
    virsh_on(theirs, "pool-destroy", DISK_POOL, check=False)
    ours = disk_vol_steps(uri(d), dev, tmp_path)
    theirs_steps = disk_vol_steps(theirs, dev, tmp_path)
    assert len(ours) == len(theirs_steps) == 8
    for o, t in zip(ours, theirs_steps):
        assert o == t, "step %s differs:\nours:     %r\nlibvirtd: %r" % (o[0], o, t)


def test_upload_write_failure_at_finish(daemons, tmp_path):
    """An upload whose last write fails (a 1 MiB tmpfs fills up) fails the client's finish;
    an upload that works has every byte in the file when the finish returns.

    A difference from libvirtd kept on purpose: Debian's libvirtd 9.0.0, given the same
    upload, answers the finish OK and the data is silently short (checked by hand); we
    report the write error (the upload did not happen) rather than lose it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], check=True,
                   timeout=30)
    d = daemons.start_storaged()
    c = libvirt.open(uri(d))
    try:
        p = c.storagePoolCreateXML(
            "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
            % (POOL, small), 0)
        v = p.createXML("<volume><name>v.img</name><capacity>8388608</capacity>"
                        "<allocation>0</allocation></volume>", 0)
        st = c.newStream(0)
        v.upload(st, 0, 0, 0)
        # the write that fails is the last one, right before the finish: only a finish
        # that waits for the writer hears of it
        with pytest.raises(libvirt.libvirtError) as e:
            st.send(random.Random(1).randbytes(MIB + 256 * 1024))
            st.finish()
        assert "No space left on device" in e.value.get_error_message()
        v.delete(0)
        # Difference, not yet fixed: the pool's refresh after an upload counts as one of its
        # jobs, so a destroy right after is refused ("asynchronous jobs running") where
        # libvirt's waits for its refresh thread.
        deadline = time.monotonic() + 10
        while True:
            try:
                p.destroy()
                break
            except libvirt.libvirtError as err:
                if "asynchronous jobs" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        big = tmp_path / "p"
        p = c.storagePoolCreateXML(
            "<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
            % (POOL, big), libvirt.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
        v = p.createXML("<volume><name>w.img</name><capacity>33554432</capacity>"
                        "<allocation>0</allocation></volume>", 0)
        data = random.Random(5).randbytes(32 * MIB)
        st = c.newStream(0)
        v.upload(st, 0, 0, 0)
        for i in range(0, len(data), MIB):
            st.send(data[i:i + MIB])
        st.finish()
        assert (big / "w.img").read_bytes() == data  # written when finish() returned
        v.delete(0)
        p.destroy()
    finally:
        c.close()
        subprocess.run(["umount", str(small)], timeout=30)
