"""test_qemu_volume_disk.py: issue 19 item 5, <disk type='volume'>: a disk naming a storage
pool's volume, resolved through the storage daemon (virtstoraged; libvirtd's own storage
driver) when the guest starts and when the disk is attached to a running guest.

What a client sees, as on Debian's libvirtd 9.0.0: the inactive and the live XML keep the
pool and volume names (the live one adds the node index and the chain's end, never the path);
QEMU opens the volume's path; libvirt's errors for a pool that does not exist, a volume that
does not exist, an inactive pool, a mode= on a non-iSCSI pool, and the define-time errors of
the <source> attributes (a pool that does not exist is no error at define); a cdrom's
medium changed to a volume (update-device); optional volumes that do not resolve at a cold
boot dropped. The slow test
runs the same sequence on libvirtd and on ours (virtqemud with virtstoraged) and compares
every step; the other tests check ours against libvirtd's recorded answers and the
splitvirt-only parts (virtstoraged not running, the resolution kept over a virtqemud
restart).

Normalised between the two: the pool's directory (each daemon has its own under the test's
tmp; QEMU's node shows it as POOL)."""

import json
import re
import signal

import pytest

from calls import answer, virsh
from guests import domain_xml, guest_elf, uri_for

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE
POOL = "svvolpool"
VOL_XML = ("<volume><name>%s</name><capacity unit='MiB'>%d</capacity>"
           "<target><format type='%s'/></target></volume>")


def pool_xml(path):
    return ("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>"
            % (POOL, path))


def vol_disk(pool, volume, target, fmt=None, mode=None, extra=""):
    driver = "<driver name='qemu' type='%s'/>" % fmt if fmt else ""
    src = "<source pool='%s' volume='%s'%s%s/>" % (pool, volume,
                                                   " mode='%s'" % mode if mode else "", extra)
    return ("<disk type='volume' device='disk'>%s%s<target dev='%s' bus='virtio'/></disk>"
            % (driver, src, target))


def guest_with(name, kernel, disks):
    return domain_xml(name, kernel).replace("<devices>", "<devices>" + "".join(disks), 1)


def disks_of(xml):
    return re.findall(r"<disk .*?</disk>", xml, re.S)


def storage_nodes(uri, name, pooldir):
    """The file nodes QEMU has, (node name, file name with the pool's directory as POOL)."""
    rc, out, err = virsh(uri, "qemu-monitor-command", name,
                         json.dumps({"execute": "query-named-block-nodes"}))
    assert rc == 0, err
    nodes = json.loads(out)["return"]
    return sorted((n["node-name"], n["file"].replace(str(pooldir), "POOL"))
                  for n in nodes if n["drv"] == "file")


def block_info(dom, target):
    """blockInfo's capacity and physical size: what QEMU opened is the volume. (The
    allocation is the host filesystem's count of blocks, which differs by a block between
    runs of the same steps.)"""
    capacity, _, physical = dom.blockInfo(target)
    return capacity, physical


def define_errors(conn, name, kernel):
    """The define-time answers for <source> attributes libvirt checks when parsing."""
    out = []
    for what, src in [("pool only", "<source pool='%s'/>" % POOL),
                      ("volume only", "<source volume='a.qcow2'/>"),
                      ("no source", ""),
                      ("bad mode", "<source pool='%s' volume='a.qcow2' mode='bogus'/>" % POOL)]:
        disk = ("<disk type='volume' device='disk'>%s<target dev='vda' bus='virtio'/></disk>"
                % src)
        out.append(("define " + what,
                    answer(lambda: conn.defineXML(guest_with(name, kernel, [disk])) and None)))
    return out


def attach_errors(dom):
    """Live attaches the resolution refuses; nothing reaches the guest."""
    out = []
    for what, disk in [("no pool", vol_disk("nosuchpool", "b.raw", "vdd")),
                       ("no volume", vol_disk(POOL, "nosuch.img", "vdd")),
                       ("mode direct", vol_disk(POOL, "b.raw", "vdd", mode="direct"))]:
        out.append(("attach " + what, answer(dom.attachDeviceFlags, disk, LIVE)))
    return out


def start_errors(conn, pool, name, kernel):
    """Starts the resolution refuses: a pool that does not exist (defined all the same), an
    inactive pool, and mode= on a dir pool."""
    out = []
    for what, disk in [("no pool", vol_disk("nosuchpool", "a.qcow2", "vda", "qcow2")),
                       ("no volume", vol_disk(POOL, "nosuch.img", "vda", "qcow2")),
                       ("mode host", vol_disk(POOL, "a.qcow2", "vda", "qcow2", mode="host"))]:
        dom = conn.defineXML(guest_with(name, kernel, [disk]))
        try:
            out.append(("start " + what, answer(dom.create), dom.isActive()))
        finally:
            dom.undefine()
    out.append(optional_missing(conn, name, kernel))
    dom = conn.defineXML(guest_with(name, kernel, [vol_disk(POOL, "a.qcow2", "vda", "qcow2")]))
    try:
        pool.destroy()
        out.append(("start pool inactive", answer(dom.create), dom.isActive()))
        pool.create()
    finally:
        dom.undefine()
    return out


def optional_missing(conn, name, kernel):
    """startupPolicy='optional' volumes that do not resolve at a cold boot: the guest starts
    without them (a disk dropped, a cdrom's medium); the definition keeps them."""
    cdrom = ("<disk type='volume' device='cdrom'><source pool='nosuchpool' volume='x.iso' "
             "startupPolicy='optional'/><target dev='hdc' bus='ide'/></disk>")
    disks = [vol_disk(POOL, "a.qcow2", "vda", "qcow2"),
             vol_disk(POOL, "nosuch.img", "vdb", "raw", extra=" startupPolicy='optional'"),
             cdrom]
    dom = conn.defineXML(guest_with(name, kernel, disks))
    try:
        started = answer(dom.create)
        live = disks_of(dom.XMLDesc(0))
        if dom.isActive():
            dom.destroy()
        return ("start optional missing", started, live, disks_of(dom.XMLDesc(0)))
    finally:
        dom.undefine()


def media_steps(conn, uri, name, kernel, pooldir):
    """update-device of a cdrom to a volume medium: resolved before the change, as libvirt
    translates it first; the live drive shows the pool and volume."""
    cdrom = ("<disk type='%s' device='cdrom'><driver name='qemu' type='raw'/>%s"
             "<target dev='hdc' bus='ide'/></disk>")
    dom = conn.defineXML(guest_with(name + "-cd", kernel, [cdrom % ("file", "")]))
    steps = []
    try:
        # Paused: a running Guest A keeps its tray locked (test_qemu_update_device.py).
        dom.createWithFlags(libvirt.VIR_DOMAIN_START_PAUSED)
        for what, src in [("volume", "<source pool='%s' volume='x.iso'/>" % POOL),
                          ("no volume", "<source pool='%s' volume='nosuch.img'/>" % POOL),
                          ("no pool", "<source pool='nosuchpool' volume='x.iso'/>")]:
            steps.append(("change medium " + what,
                          answer(dom.updateDeviceFlags, cdrom % ("volume", src), LIVE),
                          disks_of(dom.XMLDesc(0))))
        steps.append(("nodes after the change",
                      storage_nodes(uri, name + "-cd", pooldir)))
        steps.append(("eject", answer(dom.updateDeviceFlags, cdrom % ("file", ""), LIVE),
                      disks_of(dom.XMLDesc(0))))
        dom.destroy()
    finally:
        dom.undefine()
    return steps


def running_steps(conn, uri, dom, name, pooldir):
    steps = [("start", answer(dom.create)),
             ("live", disks_of(dom.XMLDesc(0))),
             ("nodes", storage_nodes(uri, name, pooldir)),
             ("blockinfo", block_info(dom, "vda")),
             ("domblklist", virsh(uri, "domblklist", name, "--details")[1].split())]
    steps.append(("attach vdb", answer(dom.attachDeviceFlags,
                                       vol_disk(POOL, "b.raw", "vdb"), LIVE),
                  disks_of(dom.XMLDesc(0))))
    steps.append(("nodes after attach", storage_nodes(uri, name, pooldir)))
    steps.append(("attach vdc live+config",
                  answer(dom.attachDeviceFlags, vol_disk(POOL, "c.raw", "vdc", "raw"),
                         LIVE | CONFIG),
                  disks_of(dom.XMLDesc(0))[2:], disks_of(dom.XMLDesc(INACTIVE))[1:]))
    # Guest A never lets go of a disk: the call succeeds after libvirt's wait, the disk
    # stays (test_qemu_hotplug_live.py); the volume's XML names the disk to detach.
    steps.append(("detach vdb", answer(dom.detachDeviceFlags, vol_disk(POOL, "b.raw", "vdb"),
                                       LIVE), len(disks_of(dom.XMLDesc(0)))))
    steps += attach_errors(dom)
    steps.append(("live at the end", disks_of(dom.XMLDesc(0))))
    steps.append(("inactive while running", disks_of(dom.XMLDesc(INACTIVE))))
    return steps


def volume_sequence(conn, uri, name, kernel, pooldir):
    """The whole sequence on one daemon: a dir pool with a qcow2 and a raw volume, a guest
    with a volume disk defined and started, a volume disk attached live, the errors."""
    pooldir.mkdir()
    pool = conn.storagePoolDefineXML(pool_xml(pooldir))
    try:
        pool.create()
        pool.createXML(VOL_XML % ("a.qcow2", 16, "qcow2"))
        pool.createXML(VOL_XML % ("b.raw", 8, "raw"))
        pool.createXML(VOL_XML % ("c.raw", 8, "raw"))
        pool.createXML(VOL_XML % ("x.iso", 1, "raw"))
        steps = define_errors(conn, name, kernel)
        dom = conn.defineXML(guest_with(name, kernel,
                                        [vol_disk(POOL, "a.qcow2", "vda", "qcow2")]))
        try:
            steps.append(("inactive", disks_of(dom.XMLDesc(INACTIVE))))
            try:
                steps += running_steps(conn, uri, dom, name, pooldir)
            finally:
                if dom.isActive():
                    dom.destroy()
            steps.append(("after destroy", disks_of(dom.XMLDesc(0))))
        finally:
            dom.undefine()
        steps += media_steps(conn, uri, name, kernel, pooldir)
        steps += start_errors(conn, pool, name, kernel)
        return steps
    finally:
        if pool.isActive():
            for v in pool.listAllVolumes():
                v.delete()
            pool.destroy()
        pool.undefine()


def live_disk(target, pool, volume, fmt, index, alias, slot):
    return ("<disk type='volume' device='disk'>\n"
            "      <driver name='qemu' type='%s'/>\n"
            "      <source pool='%s' volume='%s' index='%d'/>\n"
            "      <backingStore/>\n"
            "      <target dev='%s' bus='virtio'/>\n"
            "      <alias name='%s'/>\n"
            "      <address type='pci' domain='0x0000' bus='0x00' slot='%s' function='0x0'/>\n"
            "    </disk>" % (fmt, pool, volume, index, target, alias, slot))


def inactive_disk(target, pool, volume, fmt, slot):
    return ("<disk type='volume' device='disk'>\n"
            "      <driver name='qemu' type='%s'/>\n"
            "      <source pool='%s' volume='%s'/>\n"
            "      <target dev='%s' bus='virtio'/>\n"
            "      <address type='pci' domain='0x0000' bus='0x00' slot='%s' function='0x0'/>\n"
            "    </disk>" % (fmt, pool, volume, target, slot))


XML_ERR = (libvirt.VIR_ERR_XML_ERROR, libvirt.VIR_FROM_DOMAIN)
NO_POOL = (libvirt.VIR_ERR_NO_STORAGE_POOL, libvirt.VIR_FROM_STORAGE,
           "Storage pool not found: no storage pool with matching name 'nosuchpool'")
NO_VOL = (libvirt.VIR_ERR_NO_STORAGE_VOL, libvirt.VIR_FROM_STORAGE,
          "Storage volume not found: no storage vol with matching name 'nosuch.img'")
MODE_ERR = XML_ERR + ("XML error: disk source mode is only valid when storage pool is of "
                      "iscsi type",)
TOGETHER = XML_ERR + ("XML error: 'pool' and 'volume' must be specified together for 'pool' "
                      "type source",)


def expected(name):
    """Debian's libvirtd 9.0.0's answers to volume_sequence (the slow test compares the
    whole sequence with libvirtd's in the same run)."""
    vda_live = live_disk("vda", POOL, "a.qcow2", "qcow2", 1, "virtio-disk0", "0x02")
    vdb_live = live_disk("vdb", POOL, "b.raw", "raw", 2, "virtio-disk1", "0x03")
    vdc_live = live_disk("vdc", POOL, "c.raw", "raw", 3, "virtio-disk2", "0x04")
    cdrom_live = ("<disk type='volume' device='cdrom'>\n"
                  "      <driver name='qemu' type='raw'/>\n"
                  "      <source pool='%s' volume='x.iso' index='2'/>\n"
                  "      <backingStore/>\n"
                  "      <target dev='hdc' bus='ide'/>\n"
                  "      <readonly/>\n"
                  "      <alias name='ide0-1-0'/>\n"
                  "      <address type='drive' controller='0' bus='1' target='0' unit='0'/>\n"
                  "    </disk>" % POOL)
    return [
        ("define pool only", TOGETHER),
        ("define volume only", TOGETHER),
        ("define no source", (libvirt.VIR_ERR_NO_SOURCE, libvirt.VIR_FROM_DOMAIN,
                              "missing source information for device vda")),
        ("define bad mode", (libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_DOMAIN,
                             "unsupported configuration: unknown source mode 'bogus' for "
                             "volume type disk")),
        ("inactive", [inactive_disk("vda", POOL, "a.qcow2", "qcow2", "0x02")]),
        ("start", ("OK", 0)),
        ("live", [vda_live]),
        ("nodes", [("libvirt-1-storage", "POOL/a.qcow2")]),
        ("blockinfo", (16 << 20, 196616)),
        ("domblklist", ["volume", "disk", "vda", "a.qcow2"]),
        ("attach vdb", ("OK", 0), [vda_live, vdb_live]),
        ("nodes after attach", [("libvirt-1-storage", "POOL/a.qcow2"),
                                ("libvirt-2-storage", "POOL/b.raw")]),
        ("attach vdc live+config", ("OK", 0), [vdc_live],
         [inactive_disk("vdc", POOL, "c.raw", "raw", "0x03")]),
        ("detach vdb", ("OK", 0), 3),
        ("attach no pool", NO_POOL),
        ("attach no volume", NO_VOL),
        ("attach mode direct", MODE_ERR),
        ("live at the end", [vda_live, vdb_live, vdc_live]),
        ("inactive while running", [inactive_disk("vda", POOL, "a.qcow2", "qcow2", "0x02"),
                                    inactive_disk("vdc", POOL, "c.raw", "raw", "0x03")]),
        ("after destroy", [inactive_disk("vda", POOL, "a.qcow2", "qcow2", "0x02"),
                           inactive_disk("vdc", POOL, "c.raw", "raw", "0x03")]),
        ("change medium volume", ("OK", 0), [cdrom_live]),
        ("change medium no volume", NO_VOL, [cdrom_live]),
        ("change medium no pool", NO_POOL, [cdrom_live]),
        ("nodes after the change", [("libvirt-2-storage", "POOL/x.iso")]),
        ("eject", ("OK", 0), ["<disk type='file' device='cdrom'>\n"
                              "      <driver name='qemu' type='raw'/>\n"
                              "      <source index='3'/>\n"
                              "      <target dev='hdc' bus='ide'/>\n"
                              "      <readonly/>\n"
                              "      <alias name='ide0-1-0'/>\n"
                              "      <address type='drive' controller='0' bus='1' target='0' "
                              "unit='0'/>\n"
                              "    </disk>"]),
        ("start no pool", NO_POOL, 0),
        ("start no volume", NO_VOL, 0),
        ("start mode host", MODE_ERR, 0),
        ("start optional missing", ("OK", 0),
         [live_disk("vda", POOL, "a.qcow2", "qcow2", 1, "virtio-disk0", "0x02"),
          "<disk type='file' device='cdrom'>\n"
          "      <driver name='qemu'/>\n"
          "      <target dev='hdc' bus='ide'/>\n"
          "      <readonly/>\n"
          "      <alias name='ide0-1-0'/>\n"
          "      <address type='drive' controller='0' bus='1' target='0' unit='0'/>\n"
          "    </disk>"],
         [inactive_disk("vda", POOL, "a.qcow2", "qcow2", "0x02"),
          inactive_disk("vdb", POOL, "nosuch.img", "raw", "0x03")
          .replace("volume='nosuch.img'", "volume='nosuch.img' startupPolicy='optional'"),
          "<disk type='volume' device='cdrom'>\n"
          "      <driver name='qemu'/>\n"
          "      <source pool='nosuchpool' volume='x.iso' startupPolicy='optional'/>\n"
          "      <target dev='hdc' bus='ide'/>\n"
          "      <readonly/>\n"
          "      <address type='drive' controller='0' bus='1' target='0' unit='0'/>\n"
          "    </disk>"]),
        ("start pool inactive", (libvirt.VIR_ERR_CONFIG_UNSUPPORTED, libvirt.VIR_FROM_DOMAIN,
                                 "unsupported configuration: storage pool '%s' containing "
                                 "volume 'a.qcow2' is not active" % POOL), 0),
    ]


@pytest.fixture
def storaged(daemons):
    return daemons.start_storaged(args=["--timeout", "0"])


def test_volume_disk_sequence(host, storaged, tmp_path):
    """The sequence on virtqemud with virtstoraged gives libvirtd's answers."""
    steps = volume_sequence(host.conn, host.uri, "svvol-a", host.kernel, tmp_path / "pool")
    assert steps == expected("svvol-a")


def test_volume_disk_without_storaged(host, tmp_path):
    """No storage daemon listens: a guest with a volume disk does not start, and a volume
    disk attached to a running guest is refused, each with the error of a storage
    connection that cannot be made (libvirt's remote driver's); nothing changes."""
    sock = host.root / "run" / "libvirt" / "virtstoraged-sock"
    dom = host.conn.defineXML(guest_with("svvol-b", host.kernel,
                                         [vol_disk(POOL, "a.qcow2", "vda", "qcow2")]))
    try:
        code, domain, msg = answer(dom.create)
        assert (code, domain) == (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_RPC)
        assert msg.startswith("Failed to connect socket to '%s': " % sock), msg
        assert not dom.isActive()
    finally:
        dom.undefine()
    dom = host.conn.defineXML(guest_with("svvol-c", host.kernel, []))
    try:
        dom.create()
        code, domain, msg = answer(dom.attachDeviceFlags,
                                   vol_disk(POOL, "a.qcow2", "vdb", "qcow2"), LIVE)
        assert (code, domain) == (libvirt.VIR_ERR_SYSTEM_ERROR, libvirt.VIR_FROM_RPC)
        assert msg.startswith("Failed to connect socket to '%s': " % sock), msg
        assert disks_of(dom.XMLDesc(0)) == []
        dom.destroy()
    finally:
        dom.undefine()


@pytest.mark.slow
def test_volume_disk_equal_libvirtd(ref, host, storaged, tmp_path):
    """The same sequence on Debian's libvirtd and on ours: every answer, the inactive and
    live disks, the file nodes QEMU opened, the errors."""
    ref_conn = libvirt.open(ref.uri)
    try:
        theirs = volume_sequence(ref_conn, ref.uri, "svvol-ref", guest_elf(),
                                 tmp_path / "ref-pool")
    finally:
        ref_conn.close()
    ours = volume_sequence(host.conn, host.uri, "svvol-ref", host.kernel,
                           tmp_path / "ours-pool")
    assert ours == theirs


def test_volume_disk_kept_over_a_restart(rhost, daemons, tmp_path):
    """virtqemud killed and started again while a guest with a volume disk runs, and the
    storage daemon gone meanwhile: the path the start resolved comes back from the status
    file (nothing is asked of a storage daemon), so the live XML, blockInfo and the nodes
    QEMU has are as before, and the guest is destroyed as any other."""
    rhost.start_daemon()
    storaged = daemons.start_storaged(args=["--timeout", "0"])
    pooldir = tmp_path / "pool"
    pooldir.mkdir()
    conn = rhost.conn
    pool = conn.storagePoolCreateXML(pool_xml(pooldir))
    pool.createXML(VOL_XML % ("a.qcow2", 16, "qcow2"))
    uri = uri_for(rhost.daemon.sock)
    dom = conn.defineXML(guest_with("svvol-r", rhost.kernel,
                                    [vol_disk(POOL, "a.qcow2", "vda", "qcow2")]))
    try:
        dom.create()
        before = (disks_of(dom.XMLDesc(0)), block_info(dom, "vda"),
                  storage_nodes(uri, "svvol-r", pooldir))
        assert before[2] == [("libvirt-1-storage", "POOL/a.qcow2")]
        rhost.kill_daemon()
        storaged.send_signal(signal.SIGTERM)
        storaged.wait_exit(10)
        rhost.start_daemon()
        uri = uri_for(rhost.daemon.sock)
        dom = rhost.conn.lookupByName("svvol-r")
        assert dom.isActive()
        after = (disks_of(dom.XMLDesc(0)), block_info(dom, "vda"),
                 storage_nodes(uri, "svvol-r", pooldir))
        assert after == before
        dom.destroy()
    finally:
        dom = rhost.conn.lookupByName("svvol-r")
        if dom.isActive():
            dom.destroy()
        dom.undefine()


def test_volume_disk_autostart(rhost, daemons, tmp_path):
    """A guest with a volume disk autostarted by virtqemud (no client asking): the volume is
    resolved with the daemon's own identity, and the guest runs with it."""
    import time

    rhost.start_daemon()
    daemons.start_storaged(args=["--timeout", "0"])
    pooldir = tmp_path / "pool"
    pooldir.mkdir()
    pool = rhost.conn.storagePoolCreateXML(pool_xml(pooldir))
    pool.createXML(VOL_XML % ("a.qcow2", 16, "qcow2"))
    dom = rhost.conn.defineXML(guest_with("svvol-auto", rhost.kernel,
                                          [vol_disk(POOL, "a.qcow2", "vda", "qcow2")]))
    dom.setAutostart(1)
    rhost.kill_daemon(signal.SIGTERM)
    (rhost.qemu_run / "autostarted").unlink()  # a new boot of the host, for autostart
    rhost.start_daemon()
    try:
        deadline = time.monotonic() + 30
        while rhost.conn.lookupByName("svvol-auto").state()[0] != libvirt.VIR_DOMAIN_RUNNING:
            assert time.monotonic() < deadline, "not autostarted"
            time.sleep(0.05)
        dom = rhost.conn.lookupByName("svvol-auto")
        assert disks_of(dom.XMLDesc(0)) == [
            live_disk("vda", POOL, "a.qcow2", "qcow2", 1, "virtio-disk0", "0x02")]
        assert storage_nodes(uri_for(rhost.daemon.sock), "svvol-auto", pooldir) == [
            ("libvirt-1-storage", "POOL/a.qcow2")]
        dom.destroy()
    finally:
        dom = rhost.conn.lookupByName("svvol-auto")
        if dom.isActive():
            dom.destroy()
        dom.setAutostart(0)
        dom.undefine()
