"""test_storaged_blk.py: virtstoraged's block-device pool types (issue 19 item 2): logical
(an LVM2 volume group) and disk (a partition table), on loop devices each test makes over
sparse files in its own directory and always detaches, its volume group and physical
volumes removed, whatever happened. Driven by python3-libvirt and virsh on
storage:///system. The expected answers are libvirt 9.0's (storage_backend_logical.c,
storage_backend_disk.c, storage_backend.c's device probe); test_blk_parity (slow) runs the
same virsh steps against Debian's libvirtd 9.0.0 on loop devices of its own.

This kernel has no device-mapper: logical volumes cannot be created or activated here, so
the volume groups these tests make have none (the LVM command lines of volumes have golden
unit tests, tests/unit/test-storage-blk.c).

Differences from libvirtd kept on purpose (named where they show):
- A disk pool's free space comes from `parted -m unit B print free`, where libvirt asks its
  libvirt_parthelper (libparted directly): on an msdos label parted's listing runs the last
  free region to the disk's end, where libparted keeps the last sectors as metadata, so
  `available` is larger by those sectors (1024 bytes on the 64 MiB disks here).
- A disk pool's live XML has no <freeExtent> elements under its <device> (libvirt lists the
  free regions there).
"""

import os
import subprocess
import uuid

import libvirt
import pytest

VIR_FROM_STORAGE = 18
TAG = "sv%s" % uuid.uuid4().hex[:8]  # unique to this run: volume groups are host-wide


def uri(d):
    return "storage:///system?socket=%s" % d.sock


def run(*args, check=False):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(args), r.stderr))
    return r


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as exc:
        fn(*args)
    e = exc.value
    return e.get_error_code(), e.get_error_domain(), e.get_error_message()


class Loops:
    """Loop devices over sparse files in a directory; detached (after their volume groups
    and physical volumes are removed) by close()."""

    def __init__(self, directory):
        self.dir = directory
        self.devs = []
        self.vgs = []

    def make(self, size=64 << 20, partscan=False):
        img = self.dir / ("loop%d.img" % len(self.devs))
        with open(img, "wb") as f:
            f.truncate(size)
        r = run("losetup", "--find", "--show", *(["-P"] if partscan else []), str(img))
        if r.returncode != 0:
            pytest.skip("no loop device: %s" % r.stderr.strip())
        self.devs.append(r.stdout.strip())
        return self.devs[-1]

    def close(self):
        for vg in self.vgs:
            if run("vgs", vg).returncode == 0:
                run("vgremove", "-f", vg)
        for dev in self.devs:
            if run("pvs", dev).returncode == 0:
                run("pvremove", "-ff", "-y", dev)
            run("losetup", "-d", dev)


@pytest.fixture
def loops(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("loop devices need root")
    if not os.path.exists("/usr/sbin/pvcreate") or not os.path.exists("/usr/sbin/parted"):
        pytest.skip("lvm2 and parted are not installed (scripts/deps.sh)")
    lo = Loops(tmp_path)
    try:
        yield lo
    finally:
        lo.close()


def logical_xml(name, vg, devs):
    return ("<pool type='logical'><name>%s</name><source>%s<name>%s</name>"
            "<format type='lvm2'/></source><target><path>/dev/%s</path></target></pool>"
            % (name, "".join("<device path='%s'/>" % d for d in devs), vg, vg))


def pvs_of(vg):
    r = run("pvs", "--noheadings", "-o", "pv_name,vg_name", check=True)
    return sorted(ln.split()[0] for ln in r.stdout.splitlines()
                  if len(ln.split()) == 2 and ln.split()[1] == vg)


def vg_figures(vg):
    r = run("vgs", "--noheadings", "--units", "b", "--nosuffix", "-o", "vg_size,vg_free", vg,
            check=True)
    return tuple(int(x) for x in r.stdout.split())


def test_logical_pool(daemons, loops):
    """A logical pool over two loop devices: build runs pvcreate on each and vgcreate (a
    second build refuses the devices as already formatted, the blkid probe libvirt makes);
    start checks the group against pvs and activates it; info and the live XML carry the
    group's figures (vgs); destroy deactivates it; delete removes the group and the
    physical volumes; a pool whose group does not exist does not start, with libvirt's
    error; pool source discovery lists the group with its devices (pvs)."""
    a, b = loops.make(), loops.make()
    vg = TAG + "vg"
    loops.vgs.append(vg)
    d = daemons.start_storaged()
    c = libvirt.open(uri(d))
    try:
        p = c.storagePoolDefineXML(logical_xml(TAG + "-lvm", vg, [a, b]))
        assert error_of(p.create, 0) == (
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_STORAGE,
            "unsupported configuration: cannot find logical volume group name '%s'" % vg)
        p.build(0)
        assert pvs_of(vg) == sorted([a, b])
        assert error_of(p.build, 0) == (
            libvirt.VIR_ERR_STORAGE_POOL_BUILT, VIR_FROM_STORAGE,
            "Storage pool already built: Device '%s' already formatted using 'LVM2_member'" % a)
        found = c.findStoragePoolSources("logical", None, 0)
        assert ("    <device path='%s'/>\n    <device path='%s'/>\n    <name>%s</name>\n"
                "    <format type='lvm2'/>\n" % (a, b, vg)) in found
        assert error_of(c.findStoragePoolSources, "logical", None, 1)[0] == \
            libvirt.VIR_ERR_INVALID_ARG
        p.create(0)
        size, free = vg_figures(vg)
        assert p.info() == [libvirt.VIR_STORAGE_POOL_RUNNING, size, size - free, free]
        assert 100 << 20 < size <= 128 << 20
        xml = p.XMLDesc(0)
        assert "<capacity unit='bytes'>%d</capacity>" % size in xml
        assert "<path>/dev/%s</path>" % vg in xml
        p.refresh(0)
        assert p.info()[1] == size
        p.destroy()
        assert p.info()[0] == libvirt.VIR_STORAGE_POOL_INACTIVE
        p.delete(0)
        assert run("vgs", vg).returncode != 0
        assert pvs_of(vg) == []
        assert run("pvs", a).returncode != 0  # pvremove'd
        p.undefine()
    finally:
        c.close()


def disk_xml(name, dev, fmt=None):
    return ("<pool type='disk'><name>%s</name><source><device path='%s'/>%s</source>"
            "<target><path>/dev</path></target></pool>"
            % (name, dev, "<format type='%s'/>" % fmt if fmt else ""))


def test_disk_pool(daemons, loops):
    """A disk pool on a loop device: start refuses a device without a label, build writes
    the label (parted mklabel; dos is msdos to parted) and refuses to write it again without
    OVERWRITE, start checks the label's type (blkid), refresh lists the partitions parted
    made as the pool's allocation and the free regions as its available space; a pool of
    the unknown format is dos once started; delete is not supported."""
    dev = loops.make(partscan=True)
    d = daemons.start_storaged()
    c = libvirt.open(uri(d))
    name = TAG + "-disk"
    try:
        p = c.storagePoolDefineXML(disk_xml(name, dev, "gpt"))
        assert error_of(p.create, 0) == (
            libvirt.VIR_ERR_STORAGE_PROBE_FAILED, VIR_FROM_STORAGE,
            "Storage pool probe failed: Device '%s' is unrecognized, requires build" % dev)
        p.build(0)
        assert "PTTYPE=gpt" in run("blkid", "-p", "-o", "export", dev).stdout
        assert error_of(p.build, libvirt.VIR_STORAGE_POOL_BUILD_NO_OVERWRITE) == (
            libvirt.VIR_ERR_STORAGE_POOL_BUILT, VIR_FROM_STORAGE,
            "Storage pool already built: Device '%s' already formatted using 'gpt'" % dev)
        run("parted", "-s", dev, "mkpart", "a", "1MiB", "20MiB", check=True)
        run("parted", "-s", dev, "mkpart", "b", "20MiB", "30MiB", check=True)
        p.create(0)
        # parted's (and libparted's) figures of a 64 MiB GPT disk with these partitions:
        # free 17408..1048575 and 31457280..67091967
        assert p.info() == [libvirt.VIR_STORAGE_POOL_RUNNING, 64 << 20, 29 << 20,
                            (1048576 - 17408) + (67091968 - 31457280)]
        assert error_of(p.delete, 0)[2] == \
            "Requested operation is not valid: storage pool '%s' is still active" % name
        p.destroy()
        assert error_of(p.delete, 0) == (
            libvirt.VIR_ERR_NO_SUPPORT, VIR_FROM_STORAGE,
            "this function is not supported by the connection driver: "
            "pool does not support pool deletion")
        # a dos pool on the GPT disk: the label does not match
        p.undefine()
        p = c.storagePoolDefineXML(disk_xml(name, dev))
        assert "<format type='unknown'/>" in p.XMLDesc(0)
        assert error_of(p.create, 0) == (
            libvirt.VIR_ERR_OPERATION_INVALID, VIR_FROM_STORAGE,
            "Requested operation is not valid: Format of device '%s' does not match the "
            "expected format 'dos'" % dev)
        p.build(libvirt.VIR_STORAGE_POOL_BUILD_OVERWRITE)
        assert "PTTYPE=dos" in run("blkid", "-p", "-o", "export", dev).stdout
        p.create(0)
        # libvirt's start settles the format in the pool's one definition: both XMLs say dos
        assert "<format type='dos'/>" in p.XMLDesc(0)
        assert "<format type='dos'/>" in p.XMLDesc(libvirt.VIR_STORAGE_XML_INACTIVE)
        state, cap, alloc, avail = p.info()
        assert (state, cap, alloc) == (libvirt.VIR_STORAGE_POOL_RUNNING, 64 << 20, 0)
        assert (64 << 20) - 4096 < avail < 64 << 20
        p.destroy()
        p.undefine()
    finally:
        c.close()
