"""test_qemu_fs.py: virtiofs and 9p shares on a real TCG guest.

A guest with a <filesystem> of driver virtiofs gets, as from Debian's libvirtd 9.0, a
virtiofsd (QEMU 7.2's, /usr/lib/qemu/virtiofsd) started by the daemon before QEMU on a
listening socket it inherits (--fd=N), and QEMU's vhost-user-fs-pci device connected to it:
QEMU 7.2 makes the vhost-user handshake while it creates the device, so a guest that reaches
RUNNING has it. The live XML's filesystem is libvirtd's (its own guest started in the same
run, when the system libvirtd answers); destroy ends virtiofsd and removes the socket; a
daemon restarted while the guest runs takes virtiofsd back from the status file and ends it
at destroy.

with_virtiofs() and virtiofs_share() make the share and its XML for any guest, so a Linux
guest that mounts the tag (done-when run 10) only needs its own kernel and command line.

9p shares (driver path or none) need no helper: QEMU's -fsdev local serves the directory
itself. A guest with one reaches RUNNING on real QEMU with libvirt's -fsdev option string
(a directory with commas in its name included: the escaping is QEMU's own), and its live
and inactive <filesystem> are libvirtd's. <driver type='handle'> defines, and QEMU 7.2,
which has no handle backend any more, refuses it at start, as under libvirtd.
"""

import os
import re
import signal
import stat
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from guests import RUNNING, libvirt
from xmlparity import system_libvirtd_dumps

VIRTIOFSD = "/usr/lib/qemu/virtiofsd"
# QEMU 7.2 needs the guest's RAM shared with virtiofsd; memfd is what this driver serves.
MEMORY_BACKING = "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"

needs_virtiofsd = pytest.mark.skipif(not os.access(VIRTIOFSD, os.X_OK),
                                     reason="%s not installed (qemu-system-common)" % VIRTIOFSD)


def virtiofs_share(tmp_path, files=None):
    """A directory to share, world-searchable, holding files (name -> text); its path."""
    share = Path(tmp_path) / "share"
    share.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(share, 0o755)
    for name, text in (files or {"hello.txt": "hello from the host\n"}).items():
        (share / name).write_text(text)
    return share


def filesystem_xml(share, tag, binary=VIRTIOFSD, extra=""):
    """One virtiofs <filesystem> element (binary: None for the vhost-user descriptor's)."""
    binary_xml = ("<binary path='%s' xattr='on'><cache mode='always'/>"
                  "<lock posix='on' flock='on'/></binary>" % binary) if binary else ""
    return ("<filesystem type='mount' accessmode='passthrough'>"
            "<driver type='virtiofs' queue='1024'/>%s<source dir='%s'/><target dir='%s'/>%s"
            "</filesystem>" % (binary_xml, share, tag, extra))


def with_virtiofs(xml, share, tag, binary=VIRTIOFSD):
    """Domain XML xml with the shared memory virtiofs needs (unless it has a <memoryBacking>
    already) and a share of directory share under tag (the guest mounts it with
    `mount -t virtiofs TAG DIR`; the Linux test guest's init does with sv.virtiofs=TAG)."""
    if "<memoryBacking" not in xml:
        xml = re.sub(r"(</vcpu>|</memory>)", r"\1" + MEMORY_BACKING, xml, count=1)
    return xml.replace("</devices>", filesystem_xml(share, tag, binary) + "</devices>", 1)


def guest_xml(host, name, share, tag="hostshare", binary=VIRTIOFSD):
    """Guest A (guests.py) with a virtiofs share."""
    return with_virtiofs(host.xml(name, "tick"), share, tag, binary)


def virtiofsd_pids(share):
    """The pids of the virtiofsd processes serving share (it forks one for its sandbox)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path("/proc", entry, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0] == VIRTIOFSD.encode() and \
                any(a.startswith(b"source=%s" % str(share).encode()) for a in argv):
            pids.append(int(entry))
    return sorted(pids)


def wait_gone(pids, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [p for p in pids if Path("/proc", str(p)).exists() and
                "Z" not in Path("/proc", str(p), "stat").read_text().split(")")[-1][:3]]:
            return
        time.sleep(0.1)
    pytest.fail("virtiofsd %s still running" % pids)


def filesystem_elements(xml):
    """The <filesystem> elements of a dumped definition, canonical text."""
    out = []
    for dev in ET.fromstring(xml).find("devices").findall("filesystem"):
        for child in dev.iter():
            child.tail = None
            if child.text and not child.text.strip():
                child.text = None
        dev.text = None
        out.append(ET.tostring(dev, encoding="unicode"))
    return out


def libvirtd_dumps(xml):
    """libvirtd's inactive XML for xml and its live XML once started (a unique name,
    destroyed and undefined after), or None when the system libvirtd does not answer."""
    return system_libvirtd_dumps(xml, "h-chr-fs-%d" % os.getpid())


@needs_virtiofsd
def test_virtiofs_guest_runs_with_virtiofsd_and_stops_it(host, tmp_path):
    share = virtiofs_share(tmp_path)
    xml = guest_xml(host, "fs", share)
    dom = host.conn.defineXML(xml)
    dom.create()
    assert dom.state()[0] == RUNNING  # QEMU made the vhost-user handshake with virtiofsd
    sock = host.qemu_lib / ("domain-%d-fs" % dom.ID()) / "fs0-fs.sock"
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    pids = virtiofsd_pids(share)
    assert pids, "no virtiofsd serves %s" % share
    argv = Path("/proc", str(pids[0]), "cmdline").read_bytes().split(b"\0")[:-1]
    # libvirt's command line: the inherited socket, then one -o.
    assert argv[0] == VIRTIOFSD.encode() and re.fullmatch(rb"--fd=\d+", argv[1]), argv
    assert argv[2:] == [b"-o", b"source=%s,cache=always,xattr,flock,posix_lock"
                        % str(share).encode()], argv
    assert (host.qemu_log / "fs-fs0-virtiofsd.log").exists()
    assert ("Starting external device: virtiofsd\n%s\n" % b" ".join(argv).decode()
            in host.log_file("fs").read_text())
    live = dom.XMLDesc(0)
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    fs_live = filesystem_elements(live)
    assert ET.fromstring(fs_live[0]).find("alias").get("name") == "fs0"
    theirs = libvirtd_dumps(xml)
    if theirs is not None:
        assert filesystem_elements(inactive) == filesystem_elements(theirs[0])
        assert fs_live == filesystem_elements(theirs[1])
    dom.destroy()
    wait_gone(pids)
    assert not sock.exists()
    host.assert_clean()


@needs_virtiofsd
def test_virtiofs_default_binary_from_the_vhost_user_descriptor(host, tmp_path):
    """Without <binary path>, the descriptor QEMU installs names virtiofsd, and the live
    XML shows it, as libvirt's."""
    share = virtiofs_share(tmp_path)
    xml = guest_xml(host, "fsdef", share, binary=None)
    dom = host.conn.defineXML(xml)
    dom.create()
    assert virtiofsd_pids(share)
    assert "<binary path='%s'/>" % VIRTIOFSD in dom.XMLDesc(0)
    assert "<binary" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    theirs = libvirtd_dumps(xml)
    if theirs is not None:
        assert filesystem_elements(dom.XMLDesc(0)) == filesystem_elements(theirs[1])
    pids = virtiofsd_pids(share)
    dom.destroy()
    wait_gone(pids)
    host.assert_clean()


@needs_virtiofsd
def test_virtiofs_start_errors_leave_nothing(host, tmp_path):
    """libvirt's errors for a missing directory and a binary that cannot run; nothing of
    the guest is left."""
    share = virtiofs_share(tmp_path)
    dom = host.conn.defineXML(guest_xml(host, "fsmiss", share / "missing"))
    with pytest.raises(libvirt.libvirtError) as exc:
        dom.create()
    e = exc.value
    assert (e.get_error_code(), e.get_error_domain(), e.get_error_message()) == (
        1, 10, "internal error: the virtiofs export directory '%s' does not exist"
        % (share / "missing"))
    dom = host.conn.defineXML(guest_xml(host, "fsbin", share, binary=str(share / "hello.txt")))
    with pytest.raises(libvirt.libvirtError) as exc:
        dom.create()
    assert exc.value.get_error_message() == (
        "internal error: virtiofsd binary '%s' is not executable" % (share / "hello.txt"))
    assert not virtiofsd_pids(share)
    host.assert_clean()


@needs_virtiofsd
def test_virtiofs_define_needs_shared_memory(host, tmp_path):
    xml = host.xml("fsmem", "tick").replace(
        "</devices>", filesystem_xml(tmp_path, "t") + "</devices>")
    with pytest.raises(libvirt.libvirtError) as exc:
        host.conn.defineXML(xml)
    e = exc.value
    assert (e.get_error_code(), e.get_error_domain(), e.get_error_message()) == (
        67, 10, "unsupported configuration: 'virtiofs' requires shared memory")


@needs_virtiofsd
def test_virtiofsd_is_taken_back_after_a_daemon_restart(rhost, tmp_path):
    share = virtiofs_share(tmp_path)
    rhost.start_daemon()
    xml = with_virtiofs(rhost_xml(rhost, "fsr"), share, "hostshare")
    dom = rhost.conn.defineXML(xml)
    dom.create()
    pids = virtiofsd_pids(share)
    assert pids
    status = (rhost.qemu_run / "fsr.xml").read_text()
    assert re.search(r"<helper id='fs0' pid='%d' starttime='\d+' exe='%s'/>"
                     % (min(pids), VIRTIOFSD), status), status
    sock = rhost.qemu_lib / ("domain-%d-fsr" % dom.ID()) / "fs0-fs.sock"
    rhost.kill_daemon(signal.SIGKILL)
    assert virtiofsd_pids(share) == pids  # the guest's helper lives on without a daemon
    rhost.start_daemon()
    dom = rhost.dom("fsr")
    assert dom.state()[0] == RUNNING
    dom.destroy()
    wait_gone(pids)
    assert not sock.exists()


def rhost_xml(rhost, name):
    from guests import domain_xml
    return domain_xml(name, rhost.kernel, "tick").replace(
        "<name>", "<uuid>%s</uuid><name>" % uuidlib.uuid4(), 1)


@needs_virtiofsd
def test_virtiofs_socket_given_to_unprivileged_qemu(nobody_host, tmp_path):
    """QEMU as another user than the daemon's connects to the socket, which is given to
    it (a root-owned 0755 socket would refuse it: the guest would not start); virtiofsd
    runs as root, as libvirt runs it."""
    share = virtiofs_share(tmp_path)
    dom = nobody_host.conn.defineXML(guest_xml(nobody_host, "fsnobody", share))
    dom.create()
    assert dom.state()[0] == RUNNING
    sock = nobody_host.qemu_lib / ("domain-%d-fsnobody" % dom.ID()) / "fs0-fs.sock"
    st = os.stat(sock)
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    pids = virtiofsd_pids(share)
    assert pids and os.stat("/proc/%d" % pids[0]).st_uid == 0
    dom.destroy()
    wait_gone(pids)
    assert not sock.exists()
    nobody_host.assert_clean()


# ---------------------------------------------------------------- 9p

def ninep_xml(host, name, share, tag="ninep", extra_fs=""):
    """Guest A (guests.py) with a 9p share: read-only, mapped, files written at once."""
    fs = ("<filesystem type='mount' accessmode='mapped' multidevs='remap'>"
          "<driver type='path' wrpolicy='immediate'/><source dir='%s'/><target dir='%s'/>"
          "<readonly/></filesystem>%s" % (share, tag, extra_fs))
    return host.xml(name, "tick").replace("</devices>", fs + "</devices>", 1)


def qemu_cmdline(host, name):
    return Path("/proc", str(host.pid(name)), "cmdline").read_bytes().split(b"\0")[:-1]


def start_error(conn, xml):
    """The error (code, domain, message) of starting xml on conn; defined, then undefined."""
    dom = conn.defineXML(xml)
    try:
        dom.create()
    except libvirt.libvirtError as e:
        return (e.get_error_code(), e.get_error_domain(), e.get_error_message())
    finally:
        if dom.isActive():
            dom.destroy()
        dom.undefine()
    return None


def test_9p_guest_runs_with_libvirts_fsdev(host, tmp_path):
    second = virtiofs_share(tmp_path)
    (tmp_path / "a,b").mkdir()
    share = virtiofs_share(tmp_path / "a,b")  # a comma in the directory's path
    # A <driver> without type: libvirt writes no wrpolicy without a type, so its dumpxml and
    # config file drop it. Difference kept: libvirtd's QEMU still gets writeout=immediate
    # from the definition it holds in memory (until libvirtd restarts and reads its file);
    # ours starts the guest on a copy made through the XML (format, then parse: the
    # foundation's one way of copying), which loses it at once, as a restart would.
    xml = ninep_xml(host, "ninep", share, extra_fs="<filesystem><driver wrpolicy='immediate'/>"
                    "<source dir='%s'/><target dir='plain'/></filesystem>" % second)
    dom = host.conn.defineXML(xml)
    dom.create()
    assert dom.state()[0] == RUNNING
    argv = qemu_cmdline(host, "ninep")
    path = str(share).replace(",", ",,").encode()
    assert b"local,security_model=mapped,multidevs=remap,writeout=immediate,id=fsdev-fs0," \
        b"path=%s,readonly" % path in argv, argv
    assert b"local,security_model=passthrough,id=fsdev-fs1,path=%s" % str(second).encode() \
        in argv, argv
    live = filesystem_elements(dom.XMLDesc(0))
    assert [ET.fromstring(f).find("alias").get("name") for f in live] == ["fs0", "fs1"]
    theirs = libvirtd_dumps(xml)
    if theirs is not None:
        assert filesystem_elements(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)) == \
            filesystem_elements(theirs[0])
        assert live == filesystem_elements(theirs[1])
    dom.destroy()
    host.assert_clean()


def test_9p_handle_defines_and_qemu_refuses_it_at_start(host, tmp_path):
    """QEMU 7.2 has no handle backend: the guest defines, and its start fails with QEMU's
    words (libvirt's text around them differs: "process exited while connecting to
    monitor: ..."; so both are matched on QEMU's), leaving nothing behind."""
    share = virtiofs_share(tmp_path)
    xml = host.xml("ninepH", "tick").replace(
        "</devices>", "<filesystem><driver type='handle'/><source dir='%s'/>"
        "<target dir='h'/></filesystem></devices>" % share, 1)
    ours = start_error(host.conn, xml)
    assert ours is not None and ours[:2] == (libvirt.VIR_ERR_INTERNAL_ERROR,
                                             libvirt.VIR_FROM_QEMU), ours
    assert "fsdriver handle not found" in ours[2], ours
    host.assert_clean()
    try:
        conn = libvirt.open("qemu:///system")
    except libvirt.libvirtError:
        return
    try:
        name = "h-9p-handle-%d" % os.getpid()
        theirs = start_error(conn, re.sub(r"<name>[^<]*</name>", "<name>%s</name>" % name, xml))
    finally:
        conn.close()
    assert theirs is not None and theirs[:2] == ours[:2], theirs
    assert "fsdriver handle not found" in theirs[2], theirs


def test_9p_share_not_relabelled_for_unprivileged_qemu(nobody_host, tmp_path):
    """libvirt's DAC driver gives QEMU's user the guest's images, sockets and logs, never a
    <filesystem>'s source directory: QEMU as nobody serves a root-owned share it can reach
    as it is, and one it cannot reach (pytest's 0700 tmp_path) makes QEMU fail at start
    with its own "Permission denied"; either share's owner and mode stay as they were."""
    (nobody_host.root / "ninep").mkdir()
    share = virtiofs_share(nobody_host.root / "ninep")
    unreachable = virtiofs_share(tmp_path)
    before = [os.stat(d) for d in (share, unreachable)]
    dom = nobody_host.conn.defineXML(ninep_xml(nobody_host, "ninepN", share))
    dom.create()
    assert dom.state()[0] == RUNNING
    assert os.stat("/proc/%d" % nobody_host.pid("ninepN")).st_uid == 65534
    during = os.stat(share)
    dom.destroy()
    err = start_error(nobody_host.conn, ninep_xml(nobody_host, "ninepU", unreachable))
    assert err is not None and err[:2] == (libvirt.VIR_ERR_INTERNAL_ERROR,
                                           libvirt.VIR_FROM_QEMU), err
    assert "failed to open '%s': Permission denied" % unreachable in err[2], err
    ids = [(st.st_uid, st.st_gid, st.st_mode) for st in before]
    assert (during.st_uid, during.st_gid, during.st_mode) == ids[0]
    assert [(st.st_uid, st.st_gid, st.st_mode)
            for st in (os.stat(share), os.stat(unreachable))] == ids
    nobody_host.assert_clean()
