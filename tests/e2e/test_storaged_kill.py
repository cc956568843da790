"""test_storaged_kill.py: virtstoraged killed (SIGKILL) in the middle of its blocking work,
reached by a client of virtqemud (qemu:///system, which relays the storage family to
virtstoraged): during a long volume creation (a fully allocated raw volume in an fs pool
whose ext2 cannot fallocate, so every byte is written on a worker) and during pool builds
(a disk pool's label and an fs pool's probe, on a "device" that is a FIFO nobody writes or
reads, so the worker stays in open() until the kill). The in-flight client gets an error,
never a hang; virtqemud answers its other clients meanwhile; a restarted virtstoraged
finds the pools defined (their definitions whole, no temporary files beside them), an
active pool active with its finished volumes, and virtqemud reaches it again. libvirt
keeps no state beside a volume's file either: the volume whose creation was cut short is
listed with what was written of it, as libvirtd lists it after such a kill."""

import os
import signal
import threading
import time
import xml.etree.ElementTree as ET

import libvirt
import pytest

from test_family_relay import start_family, start_qemud
from test_storaged import loopdev  # noqa: F401  (the loop-device fixture)

MIB = 1 << 20
WAIT = 30  # seconds a killed daemon's client may take to hear of it (generous)


def qemu_uri(q):
    return "qemu:///system?socket=%s" % q.sock


def call_in_thread(fn):
    """Run fn in a thread; what it raised (or None) lands in the returned list."""
    out = []

    def body():
        try:
            fn()
            out.append(None)
        except libvirt.libvirtError as e:
            out.append(e)

    th = threading.Thread(target=body, daemon=True)
    th.start()
    return th, out


def kill_and_check_client(daemons, storaged, th, out, q):
    """SIGKILL virtstoraged; the waiting client of virtqemud hears an error within WAIT
    seconds; virtqemud answers meanwhile."""
    storaged.expected_status = -9
    storaged.kill()
    storaged.proc.wait(timeout=WAIT)
    th.join(WAIT)
    assert not th.is_alive(), "the client of virtqemud is still waiting"
    assert out and isinstance(out[0], libvirt.libvirtError), out
    # libvirt's words when the connection to the secondary daemon ends under a call
    # (virNetSocket's EOF), passed on to virtqemud's client
    assert (out[0].get_error_code(), out[0].get_error_domain(), out[0].get_error_message()) == (
        libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_RPC,
        "End of file while reading data: Input/output error")
    c = libvirt.open(qemu_uri(q))
    try:
        assert c.getVersion() > 0  # virtqemud itself answers
    finally:
        c.close()


def check_definitions(root):
    """Every file under ROOT/etc/libvirt/storage and ROOT/run/libvirt/storage is a whole
    pool XML named after its pool (no temporary or half-written file)."""
    for sub in ("etc/libvirt/storage", "run/libvirt/storage"):
        d = root / sub
        for f in (d.iterdir() if d.exists() else []):
            if f.is_dir() or f.name == "autostarted":  # libvirt's once-per-boot mark
                continue
            assert f.suffix == ".xml", "stray file %s" % f
            assert ET.parse(f).getroot().findtext("name") == f.stem


def wait_started(path, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not os.path.exists(path):
        time.sleep(0.01)
    assert os.path.exists(path), "the creation did not start"


@pytest.fixture
def fifos(tmp_path):
    out = [tmp_path / ("blocking-device%d" % i) for i in range(2)]
    for p in out:
        os.mkfifo(p)
    yield out
    # A program the killed daemon had started on a FIFO (mkfs) blocks there for ever: it
    # goes with the test that made it block.
    for pid in pids_using(out):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def pids_using(paths):
    """Processes whose command line names one of paths."""
    wanted = {str(p).encode() for p in paths}
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                args = f.read().split(b"\0")
        except OSError:
            continue
        if wanted & set(args):
            out.append(int(d))
    return out


def test_kill_during_pool_builds(daemons, root, fifos):
    """A disk pool's build (its label: the worker opens the device to zero its ends) and an
    fs pool's build without overwrite (blkid's probe opens it) block on a FIFO; virtstoraged
    killed meanwhile: the clients of virtqemud get errors, the restarted daemon lists both
    pools defined and inactive, their definitions whole."""
    q = start_qemud(daemons)
    s = start_family(daemons, "virtstoraged")
    c = libvirt.open(qemu_uri(q))
    try:
        disk = c.storagePoolDefineXML(
            "<pool type='disk'><name>kd</name><source><device path='%s'/>"
            "<format type='gpt'/></source><target><path>/dev</path></target></pool>" % fifos[0])
        fs = c.storagePoolDefineXML(
            "<pool type='fs'><name>kf</name><source><device path='%s'/><format type='ext4'/>"
            "</source><target><path>%s</path></target></pool>" % (fifos[1], root / "kf-mnt"))
        t1, o1 = call_in_thread(lambda: disk.build(libvirt.VIR_STORAGE_POOL_BUILD_OVERWRITE))
        t2, o2 = call_in_thread(lambda: fs.build(libvirt.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE))
        time.sleep(1)
        assert t1.is_alive() and t2.is_alive(), "the builds were to block on the FIFO"
    finally:
        c.close()
    kill_and_check_client(daemons, s, t1, o1, q)
    t2.join(WAIT)
    assert not t2.is_alive() and isinstance(o2[0], libvirt.libvirtError)
    check_definitions(root)
    start_family(daemons, "virtstoraged")
    c = libvirt.open(qemu_uri(q))
    try:
        pools = {p.name(): p for p in c.listAllStoragePools()}
        assert sorted(pools) == ["kd", "kf"]
        assert [pools[n].isActive() for n in ("kd", "kf")] == [0, 0]
        for p in pools.values():
            p.undefine()
    finally:
        c.close()


@pytest.mark.parametrize("loopdev", [4 << 30], indirect=True)  # a sparse 4 GiB device
def test_kill_during_volume_create(daemons, root, loopdev):  # noqa: F811
    """An fs pool (ext2, built with mkfs and mounted) through virtqemud: a small volume made,
    then a 3 GiB fully allocated one whose zeros the worker writes; virtstoraged killed
    while it does: the client hears an error; the restarted daemon finds the pool active
    (still mounted) and the finished volume whole."""
    dev, mnt = loopdev
    q = start_qemud(daemons)
    s = start_family(daemons, "virtstoraged")
    c = libvirt.open(qemu_uri(q))
    try:
        pool = c.storagePoolDefineXML(
            "<pool type='fs'><name>kv</name><source><device path='%s'/><format type='ext2'/>"
            "</source><target><path>%s</path></target></pool>" % (dev, mnt))
        pool.build(libvirt.VIR_STORAGE_POOL_BUILD_OVERWRITE)
        pool.create(0)
        pool.createXML("<volume><name>done.img</name><capacity>%d</capacity>"
                       "<allocation>%d</allocation></volume>" % (4 * MIB, 4 * MIB), 0)
        big = ("<volume><name>big.img</name><capacity>%d</capacity>"
               "<allocation>%d</allocation></volume>" % (3 << 30, 3 << 30))
        th, out = call_in_thread(lambda: pool.createXML(big, 0))
        wait_started(mnt / "big.img")
    finally:
        c.close()
    assert th.is_alive(), "the creation was to take seconds"
    kill_and_check_client(daemons, s, th, out, q)
    assert os.path.ismount(mnt)
    check_definitions(root)
    start_family(daemons, "virtstoraged")
    c = libvirt.open(qemu_uri(q))
    try:
        pool = c.storagePoolLookupByName("kv")
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not pool.isActive():
            time.sleep(0.1)
        assert pool.isActive()
        # Difference, not yet fixed: a restarted virtstoraged shows a pool active before its
        # start-up refresh has listed the volumes (libvirt refreshes before it serves)
        names = pool.listVolumes()
        while time.monotonic() < deadline and not names:
            time.sleep(0.1)
            names = pool.listVolumes()
        assert "done.img" in names and "big.img" in names
        cap, alloc = pool.storageVolLookupByName("done.img").info()[1:]
        assert cap == 4 * MIB and alloc >= 4 * MIB  # ext2 adds its indirect block
        # what was written of the cut-short volume, no more than asked
        assert pool.storageVolLookupByName("big.img").info()[2] < 3 << 30
        pool.destroy()
        pool.undefine()
    finally:
        c.close()
