"""linuxguest.py: the Linux test guest (Guest B): Debian's cloud kernel, a busybox
initramfs and an ext4 root disk in qcow2, booted by direct kernel boot under TCG.

build() returns the artefacts, made once per build directory (under
BUILD/tests/guest/linux/, keyed by the kernel and the guest's sources) and reused after.

The kernel .deb comes from the project's cache, where scripts/deps.sh puts it
(scripts/guest-kernel.sh: $SV_CACHE_DIR, else ~/.cache/splitvirt); when it is missing
there, build() runs that script itself, and raises GuestBuildError with its reason when
that fails too (the tests then fail, never skip). Nothing is installed on the host: the
.deb is unpacked with dpkg-deb. Needed on the host: busybox-static, e2fsprogs
(mkfs.ext4 -d), qemu-img, qemu-guest-agent (/usr/sbin/qemu-ga).

The guest (tests/guest/linux/init, the same /init in the initramfs and on the disk):
- stage 1 mounts proc, sys, devtmpfs, loads the drivers (virtio-pci, virtio-blk,
  virtio-scsi + sd, virtio-net, fuse + virtiofs, virtio-console, virtio-rng,
  virtio-balloon, the ACPI button and evdev, with their dependencies from the modules'
  own .modinfo: the .deb has no modules.dep);
- kernel command-line words:
  - `sv.root=DEV`: mount DEV (ext4) and switch_root into it, where /init runs again and
    prints `ROOT: <marker> on DEV` (ROOT_MARKER, a file only the disk has);
  - `sv.net`: bring up the first interface and take a DHCP lease (udhcpc), or with
    `sv.ip=ADDR/PREFIX` set that address; print `NET: IFACE mac=MAC addr=ADDR/PREFIX`;
  - `sv.ping=ADDR`: then ping ADDR, print `PING: ADDR ok` or `PING: ADDR failed`;
  - `sv.dns=NAME`: then look NAME up through the DNS server of the DHCP lease, print
    `DNS: NAME ADDR` or `DNS: NAME failed`;
  - always: `VIRTIO: NAME...` (the virtio devices it has, sorted: balloon blk console fs
    input net rng scsi, else the device id) and `VPORT: NAME` per virtio-serial port;
  - `sv.virtiofs=TAG`: mount -t virtiofs TAG /mnt and print `VIRTIOFS: <content of
    /mnt/hello.txt>` (or `VIRTIOFS: cannot mount TAG`);
- `sv.ga`: start the QEMU guest agent (Debian's qemu-ga with its shared libraries and
  loader, copied from the host) on the virtio-serial port named org.qemu.guest_agent.0
  and print `AGENT: started on /dev/vportNpM` (or `AGENT: no port`); its guest-shutdown
  runs the guest's /sbin/shutdown, which prints `POWER: agent shutdown -P` (or -r, -H)
  and powers off (or reboots) the guest;
- `sv.ga.block=CMD,CMD`: the same, with those agent commands disabled (qemu-ga -b);
- `sv.counter`: print `COUNT: N` every 100 ms, N from 0 up (a migrated guest goes on with
  the next number on the destination's console: migguest.py reads both);
- the ACPI power button powers it off (`virsh shutdown`): `POWER: button pressed`;
- then `READY` and a shell (prompt `sv# `) on ttyS0.
Boot it with CMDLINE_BASE (console=ttyS0 quiet cryptomgr.notests) plus those words:
domain_xml() writes such a domain, start() boots it on a guests.Host to its prompt.
"""

import contextlib
import gzip
import hashlib
import lzma
import os
import shutil
import stat
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from svdaemon import build_dir

SOURCE_DIR = Path(__file__).resolve().parents[2]
GUEST_SOURCES = SOURCE_DIR / "tests" / "guest" / "linux"
FETCH_SCRIPT = SOURCE_DIR / "scripts" / "guest-kernel.sh"
BUSYBOX = "/bin/busybox"
QEMU_GA = "/usr/sbin/qemu-ga"

CMDLINE_BASE = "console=ttyS0 quiet cryptomgr.notests"
BOOT_TIMEOUT = 90.0  # READY comes ~3-6 s after the start under TCG; generous when loaded
ROOT_MARKER = "splitvirt-linux-guest-root"
PROMPT = "sv# "

# The drivers the guest loads (module names); their dependencies come along.
MODULES = ["virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "virtio_net", "virtiofs",
           "virtio_console", "virtio_rng", "virtio_balloon", "button", "evdev"]


class GuestBuildError(Exception):
    pass


@dataclass
class LinuxGuest:
    kernel: Path
    initrd: Path
    root_qcow2: Path

    def copy_root(self, dest):
        """A private copy of the root disk at dest (a guest writes to its disk)."""
        shutil.copyfile(self.root_qcow2, dest)
        return Path(dest)


def _run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise GuestBuildError("%s: %s" % (" ".join(map(str, argv)), r.stderr.strip()))
    return r.stdout


def kernel_deb():
    """The cached kernel .deb, fetched by scripts/guest-kernel.sh when missing."""
    try:
        out = _run(["sh", str(FETCH_SCRIPT)], timeout=600)
    except (GuestBuildError, subprocess.TimeoutExpired) as e:
        raise GuestBuildError("no kernel for the Linux test guest (scripts/deps.sh fetches it "
                              "into the project's cache): %s" % e)
    deb = Path(out.strip().splitlines()[-1])
    if not deb.is_file():
        raise GuestBuildError("scripts/guest-kernel.sh named %s, which does not exist" % deb)
    return deb


# ---------------------------------------------------------------- kernel modules

def _modinfo(data):
    """A module's .modinfo section as {key: value} (ELF64 little-endian, as x86_64's are)."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise GuestBuildError("not an ELF64 module")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)

    def section(i):
        name, _, _, _, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        return name, off, size

    _, stroff, _ = section(shstrndx)
    for i in range(shnum):
        name, off, size = section(i)
        end = data.index(b"\0", stroff + name)
        if data[stroff + name:end] == b".modinfo":
            info = {}
            for item in data[off:off + size].split(b"\0"):
                if b"=" in item:
                    k, v = item.decode(errors="replace").split("=", 1)
                    info.setdefault(k, v)
            return info
    return {}


def _read_module(path):
    data = path.read_bytes()
    if path.name.endswith(".ko.xz"):
        return lzma.decompress(data)
    if path.name.endswith(".ko"):
        return data
    raise GuestBuildError("%s: compression not supported by the builder" % path)


def _modules_in_order(moddir):
    """[(file name in the initramfs, module bytes)] for MODULES and what they depend on,
    each after its dependencies."""
    by_name = {}
    for p in moddir.rglob("*.ko*"):
        name = p.name.split(".ko")[0].replace("-", "_")
        by_name[name] = p
    out, done = [], set()

    def add(name, chain):
        name = name.replace("-", "_")
        if name in done:
            return
        if name in chain:
            raise GuestBuildError("module dependency loop: %s" % " -> ".join(chain + [name]))
        if name not in by_name:
            raise GuestBuildError("the kernel has no module %s" % name)
        data = _read_module(by_name[name])
        for dep in filter(None, _modinfo(data).get("depends", "").split(",")):
            add(dep, chain + [name])
        done.add(name)
        out.append((name + ".ko", data))

    for m in MODULES:
        add(m, [])
    return out


# ---------------------------------------------------------------- cpio (newc)

class _Cpio:
    def __init__(self):
        self.buf = bytearray()
        self.ino = 1

    def _entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1],
                  len(name_b), 0]
        self.ino += 1
        self.buf += b"070701" + b"".join(b"%08X" % f for f in fields) + name_b
        self.buf += b"\0" * (-len(self.buf) % 4) + data
        self.buf += b"\0" * (-len(self.buf) % 4)

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor):
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return bytes(self.buf)


# ---------------------------------------------------------------- the guest's files

def _busybox_links():
    """busybox's applets as paths relative to / (bin/sh, usr/bin/awk ...)."""
    return [l.strip().lstrip("/") for l in _run([BUSYBOX, "--list-full"]).splitlines()
            if l.strip()]


DIRS = ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "dev", "proc", "sys", "tmp",
        "mnt", "run", "lib", "lib/modules", "root", "var", "var/run", "lib64",
        "lib/x86_64-linux-gnu", "usr/lib", "usr/lib/x86_64-linux-gnu"]


def _agent_files():
    """{path: (mode, bytes)}: qemu-ga, the shared libraries ldd names for it and the loader,
    each at the path ldd gives (the guest's loader finds them there)."""
    files = {QEMU_GA.lstrip("/"): (0o755, Path(QEMU_GA).read_bytes())}
    for line in _run(["ldd", QEMU_GA]).splitlines():
        words = line.split()
        path = words[2] if len(words) >= 3 and words[1] == "=>" else words[0]
        if not path.startswith("/"):
            continue  # linux-vdso.so.1: the kernel's
        if os.path.dirname(path).lstrip("/") not in DIRS:
            raise GuestBuildError("%s: library %s is outside the guest's directories"
                                  % (QEMU_GA, path))
        files[path.lstrip("/")] = (0o755, Path(path).read_bytes())  # follows the symlink
    return files


def _guest_files():
    """{path: (mode, bytes)} common to the initramfs and the root disk."""
    return {
        "init": (0o755, (GUEST_SOURCES / "init").read_bytes()),
        "etc/udhcpc.script": (0o755, (GUEST_SOURCES / "udhcpc.script").read_bytes()),
        "bin/busybox": (0o755, Path(BUSYBOX).read_bytes()),
        "sbin/shutdown": (0o755, (GUEST_SOURCES / "shutdown").read_bytes()),
        **_agent_files(),
    }


def _initramfs(modules, out):
    cpio = _Cpio()
    for d in DIRS:
        cpio.dir(d)
    cpio.chardev("dev/console", 5, 1)  # init's stdio, before devtmpfs is mounted
    for path, (mode, data) in _guest_files().items():
        cpio.file(path, data, mode)
    for link in _busybox_links():
        if link != "bin/busybox":
            cpio.symlink(link, "/bin/busybox")
    for name, data in modules:
        cpio.file("lib/modules/" + name, data)
    cpio.file("lib/modules/load-order", "".join(n + "\n" for n, _ in modules).encode())
    with gzip.open(out, "wb", compresslevel=6) as f:
        f.write(cpio.finish())


def _root_disk(work, out):
    """An ext4 image made from a directory (mkfs.ext4 -d, no mount), then qcow2."""
    tree = work / "rootfs"
    for d in DIRS:
        (tree / d).mkdir(parents=True, exist_ok=True)
    for path, (mode, data) in _guest_files().items():
        (tree / path).write_bytes(data)
        (tree / path).chmod(mode)
    for link in _busybox_links():
        if link != "bin/busybox" and not (tree / link).exists():
            (tree / link).symlink_to("/bin/busybox")
    (tree / "sv-rootdisk").write_text(ROOT_MARKER + "\n")
    raw = work / "root.ext4"
    _run(["mkfs.ext4", "-q", "-F", "-L", "svroot", "-d", str(tree), str(raw), "32M"])
    _run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(out)])


def _key(deb):
    h = hashlib.sha256()
    h.update(deb.name.encode())
    for p in sorted(GUEST_SOURCES.iterdir()):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    h.update(Path(__file__).read_bytes())
    for tool in (BUSYBOX, QEMU_GA):
        st = os.stat(tool)
        h.update(b"%d %d" % (st.st_size, st.st_mtime_ns))
    return h.hexdigest()[:16]


def build(cache=None):
    """The guest's artefacts, built once per build directory (cache: where; by default
    BUILD/tests/guest/linux)."""
    for tool in (BUSYBOX, QEMU_GA, shutil.which("mkfs.ext4"), shutil.which("qemu-img"),
                 shutil.which("dpkg-deb")):
        if not tool or not os.path.exists(tool):
            raise GuestBuildError("the Linux test guest needs busybox-static, "
                                  "qemu-guest-agent, e2fsprogs, qemu-utils and dpkg "
                                  "(scripts/deps.sh installs them)")
    deb = kernel_deb()
    base = Path(cache) if cache else build_dir() / "tests" / "guest" / "linux"
    dest = base / _key(deb)
    guest = LinuxGuest(dest / "vmlinuz", dest / "initrd.gz", dest / "root.qcow2")
    if all(p.exists() for p in (guest.kernel, guest.initrd, guest.root_qcow2)):
        return guest
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=base))
    try:
        _run(["dpkg-deb", "-x", str(deb), str(work / "deb")])
        kernels = sorted((work / "deb" / "boot").glob("vmlinuz-*"))
        moddirs = sorted((work / "deb" / "lib" / "modules").iterdir())
        if len(kernels) != 1 or len(moddirs) != 1:
            raise GuestBuildError("%s: expected one kernel and one module tree" % deb)
        out = work / "out"
        out.mkdir()
        shutil.copyfile(kernels[0], out / "vmlinuz")
        _initramfs(_modules_in_order(moddirs[0]), out / "initrd.gz")
        _root_disk(work, out / "root.qcow2")
        for p in out.iterdir():
            p.chmod(0o644)
        try:
            out.rename(dest)  # atomic: another build of the same key may have won
        except OSError:
            if not dest.exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for old in base.iterdir():  # the builds of earlier sources or kernels
        if old != dest and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return guest


def domain_xml(name, guest, disk, bus="virtio", interface="", cmdline="", memory_mib=256,
               emulator="/usr/bin/qemu-system-x86_64", uuid=None, devices="", extra="",
               vcpus=1, vcpus_current=None, serial_file=None, disk_cache=None):
    """The guest as a TCG domain booting from disk (a qcow2 copy of guest.root_qcow2) on
    bus virtio (vda) or scsi (sda, on a virtio-scsi controller); interface: XML of its
    NIC; cmdline: words after CMDLINE_BASE and sv.root; uuid: the domain's, if given;
    devices: more devices' XML; extra: elements after <features>, e.g. a virtiofs guest's
    <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking> with
    devices="<filesystem type='mount'><driver type='virtiofs'/><source dir='DIR'/>
    <target dir='TAG'/></filesystem>" and cmdline="sv.virtiofs=TAG"; vcpus_current: the
    vcpus online at start (<vcpu current=>), when fewer than vcpus; serial_file: the serial
    console written to that file (appended to), not a pty; disk_cache: the disk's cache
    mode (e.g. 'none', which libvirt wants of a disk a live migration leaves in place)."""
    dev = {"virtio": "vda", "scsi": "sda"}[bus]
    controller = "<controller type='scsi' model='virtio-scsi'/>" if bus == "scsi" else ""
    return (
        "<domain type='qemu'><name>%s</name>%s"
        "<memory unit='MiB'>%d</memory><vcpu%s>%d</vcpu>"
        "<os><type arch='x86_64' machine='pc'>hvm</type>"
        "<kernel>%s</kernel><initrd>%s</initrd>"
        "<cmdline>%s</cmdline></os>"
        "<features><acpi/></features>%s"
        "<devices><emulator>%s</emulator>%s"
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'%s/>"
        "<source file='%s'/><target dev='%s' bus='%s'/></disk>"
        "%s%s%s"
        "<memballoon model='none'/></devices></domain>"
        % (name, "<uuid>%s</uuid>" % uuid if uuid else "", memory_mib,
           " current='%d'" % vcpus_current if vcpus_current else "", vcpus, guest.kernel,
           guest.initrd, " ".join(filter(None, [CMDLINE_BASE, "sv.root=/dev/" + dev, cmdline])),
           extra, emulator, controller, " cache='%s'" % disk_cache if disk_cache else "",
           disk, dev, bus, interface, devices,
           "<serial type='file'><source path='%s' append='on'/></serial>" % serial_file
           if serial_file else "<serial type='pty'/><console type='pty'/>"))


def boot_files_for(guest, dest):
    """Copies of the guest's kernel and initrd in dest, readable by all (for another
    daemon's QEMU, e.g. Debian's libvirtd's): {"kernel": path, "initrd": path}."""
    import shutil
    files = {}
    for attr in ("kernel", "initrd"):
        files[attr] = dest / os.path.basename(str(getattr(guest, attr)))
        shutil.copyfile(getattr(guest, attr), files[attr])
        os.chmod(files[attr], 0o644)
    return files


def start(host, dom, timeout=BOOT_TIMEOUT):
    """Start dom on host (guests.Host) paused, so that the console is open before the guest
    prints, resume it, wait for READY and the prompt; the console reader (host.console).
    Prints the seconds from resume to READY (pytest -s shows them)."""
    dom.createWithFlags(1)  # VIR_DOMAIN_START_PAUSED
    con = host.console(dom)
    begin = time.monotonic()
    dom.resume()
    con.wait_for("READY", timeout=timeout)
    print("%s: READY %.1f s after resume" % (dom.name(), time.monotonic() - begin))
    con.wait_for(PROMPT, timeout=timeout)
    return con


@contextlib.contextmanager
def on_both(host, rconn, guest, tmp_path, name, **xml_args):
    """The guest defined as `name` (domain_xml with xml_args) and started on host
    (guests.Host: virtqemud) and on rconn (a connection to Debian's libvirtd, whose QEMU
    reads the kernel, initrd and root disk copied into tmp_path). Yields the two domains,
    ours first; destroys and undefines them after (libvirtd's first: it outlives a test
    that failed)."""
    import libvirt
    os.chmod(tmp_path, 0o755)
    files = boot_files_for(guest, tmp_path)
    doms = []
    try:
        for conn, root in ((host.conn, host.root), (rconn, tmp_path)):
            disk = guest.copy_root(root / ("%s.qcow2" % name))
            os.chmod(disk, 0o666)
            xml = domain_xml(name, guest, disk, **xml_args)
            if conn is rconn:
                xml = xml.replace(str(guest.kernel), str(files["kernel"])).replace(
                    str(guest.initrd), str(files["initrd"]))
            doms.append(conn.defineXML(xml))
            doms[-1].create()
        yield doms
    finally:
        for d in reversed(doms):
            try:
                if d.isActive():
                    d.destroy()
                d.undefine()
            except libvirt.libvirtError:
                pass
