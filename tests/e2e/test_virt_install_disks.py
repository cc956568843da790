"""test_virt_install_disks.py: virt-install's and virt-xml's disk forms against our daemons
(virtqemud relaying storage calls to virtstoraged, with virtsecretd beside them) and against
Debian's libvirtd 9.0.0, in the same test (issue 19's first Done-when line).

Each form is run for real: virt-install asks the daemon for the pools and volumes it needs
(a pool for the directory of an existing image, a new volume in `default`), defines the
guest and starts it under TCG (type qemu, no OS: SeaBIOS finds nothing to boot and keeps
trying, which is enough for a running guest); virt-xml adds disks to a guest's definition
(started again with them) or plugs them into the running guest; --print-xml prints the same
documents. Then both sides are compared:

 - the guest's inactive and live XML (xmlparity.check_parity), after the normalisations of
   NORMALISE, each with its reason (what must differ: each side's own directory, uuid, ...);
 - the pools each side holds afterwards (pool-list, pool-dumpxml), and the volumes of each
   (vol-dumpxml, `qemu-img info` of the file each names, the owner each remembers in its
   xattrs while a guest runs with it), again after a pool-refresh.

Forms virt-install cannot carry out (a missing volume, pool or image, a size over the pool's
space) fail on both sides with the same message and leave nothing behind.

Each side has a directory of its own in the test's directory (DIR/images: an existing qcow2,
a raw image and an ISO; DIR/default: the `default` pool the test defines before virt-install
runs). Defining `default` there keeps virt-install from making its own in
/var/lib/libvirt/images on the host (issue 19 item 6: the daemon creates nothing before a
client asks; virt-install asks when no `default` exists).

Slow: it starts (or uses) the system's libvirtd (the `ref` fixture; run it under the
libvirtd lock). Our three daemons are started once for the module.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from guests import uri_for
from xmlparity import LIVE_ALLOWED, check_parity, same_run_paths

pytestmark = pytest.mark.slow

FAMILY = ("virtsecretd", "virtstoraged", "virtqemud")
PREFIX = "svvi-"


@pytest.fixture(scope="module")
def ours_daemons(module_daemons):
    """virtsecretd, virtstoraged and virtqemud under one short private root (virtqemud finds
    the family daemons' sockets below it), for the module; virtqemud is returned."""
    for name in FAMILY:
        d = module_daemons.start(name=name, label=name + "-vinst", args=["--timeout", "0"])
    return d


class Side:
    """One daemon under comparison: its URI, its directory (top, None for none), the root
    of a daemon of ours, and for a side in a mount namespace of its own (the other module,
    test_virt_install_default_pool.py): wrap, the argv prefix that runs a client there, and
    view, the path through which this process sees its files."""

    def __init__(self, label, uri, top, root=None, wrap=(), view=""):
        self.label, self.uri, self.root = label, uri, root
        self.pools_before = []  # the pools a test leaves alone (and does not compare)
        self.top = Path(top) if top is not None else None
        self.wrap, self.view = list(wrap), view

    def file(self, path):
        """path as the side's daemon sees it, as this process reaches it."""
        return Path(self.view + str(path))

    def virsh(self, *args, check=True):
        r = subprocess.run(self.wrap + ["virsh", "-q", "-c", self.uri, *args],
                           capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise AssertionError("%s: virsh %s: %s" % (self.label, " ".join(args), r.stderr))
        return r

    def names(self, *args):
        """The first column of virsh ARGS's lines, sorted (vol-list has no --name)."""
        return sorted(ln.split()[0] for ln in self.virsh(*args).stdout.splitlines()
                      if ln.strip())

    def prepare(self):
        """DIR/images with the images virt-install is pointed at, and a started `default`
        pool in DIR/default."""
        images = self.top / "images"
        images.mkdir(parents=True)
        (self.top / "default").mkdir()
        for d in (self.top, images, self.top / "default"):
            d.chmod(0o755)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(images / "exist.qcow2"),
                        "64M"], check=True)
        with open(images / "exist.raw", "wb") as f:
            f.truncate(64 << 20)
        (images / "install.iso").write_bytes(b"\0" * 2048)
        self.virsh("pool-define-as", "default", "dir", "--target", str(self.top / "default"))
        self.virsh("pool-start", "default")

    def cleanup(self, pools_before):
        """The test's guests destroyed and undefined, its pools stopped and undefined (their
        directories stay, in the test's directory)."""
        for name in self.names("list", "--all", "--name"):
            if name.startswith(PREFIX):
                self.virsh("destroy", name, check=False)
                self.virsh("undefine", name, check=False)
        for name in set(self.names("pool-list", "--all", "--name")) - set(pools_before):
            self.virsh("pool-destroy", name, check=False)
            self.virsh("pool-undefine", name, check=False)


@pytest.fixture
def sides(ref, ours_daemons, tmp_path):
    """(libvirtd's side, ours), each prepared (Side.prepare) in a directory of the test's;
    cleaned up after the test."""
    tmp_path.chmod(0o755)
    theirs = Side("libvirtd", ref.uri, tmp_path / "theirs")
    ours = Side("ours", uri_for(ours_daemons.sock), tmp_path / "ours", ours_daemons.root)
    for s in (theirs, ours):
        s.pools_before = s.names("pool-list", "--all", "--name")
        s.cleanup(s.pools_before)  # a guest an interrupted run left
    if "default" in theirs.pools_before:
        pytest.skip("libvirtd already has a pool named default: the test defines its own")
    assert ours.pools_before == [], "a pool of an earlier test is left on ours"
    try:
        for s in (theirs, ours):
            s.prepare()
        yield theirs, ours
    finally:
        for s in (theirs, ours):
            s.cleanup(s.pools_before)


# ---------------------------------------------------------------- the clients

def run_tool(side, argv, check=True):
    """argv (@DIR@: the side's directory) run as the side's client; its stdout and stderr.
    With check False: (exit status, the ERROR lines of stderr)."""
    argv = side.wrap + [a.replace("@DIR@", str(side.top)) for a in argv]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    if not check:
        return r.returncode, [ln for ln in r.stderr.splitlines() if ln.startswith("ERROR")]
    assert r.returncode == 0, "%s (%s): %s%s" % (" ".join(argv), side.label, r.stdout,
                                                 r.stderr)
    return r.stdout + r.stderr


def virt_install(side, name, args, check=True):
    """virt-install NAME with ARGS (@DIR@: the side's directory) for a TCG guest with no
    network and no display, started and left running (--noautoconsole); run_tool's answer."""
    return run_tool(side, ["virt-install", "--connect", side.uri, "--virt-type", "qemu",
                           "--name", name, "--memory", "256", "--vcpus", "1",
                           "--osinfo", "debian11", "--graphics", "none", "--network", "none",
                           "--noautoconsole"] + list(args), check)


def virt_xml(side, name, args):
    return run_tool(side, ["virt-xml", "--connect", side.uri, name] + list(args))


# ---------------------------------------------------------------- the comparison

# What may differ between the two sides' documents, made equal before they are compared:
# (regex, replacement, reason).
def normalise(side, text):
    if side.top is not None:
        text = text.replace(str(side.top), "@DIR@")  # each side's files are its own
    if side.root is not None:
        # ours runs under a private --root: the run and state paths it makes are below it
        text = same_run_paths(text, side.root)
    else:
        text = same_run_paths(text)
    for rx, repl, _reason in NORMALISE:
        text = re.sub(rx, repl, text)
    return text


NORMALISE = [
    (r"<uuid>[0-9a-f-]{36}</uuid>", "<uuid>U</uuid>",
     "each daemon gives a new guest or pool a random uuid"),
    (r"(<domain [^>]*\bid=')\d+'", r"\1N'",
     "the domain id counts each daemon's starts, over the whole session"),
    (r"<(capacity|allocation|available) unit='bytes'>\d+</\1>(?=[\s\S]*</pool>)",
     r"<\1 unit='bytes'>N</\1>",
     "a dir pool's sizes are its filesystem's, read at two moments"),
    (r"<(atime|mtime|ctime|btime)>[0-9.]+</\1>", r"<\1>T</\1>",
     "a volume's file times are when each side made or read it"),
]

# The differences of a running guest of ours from libvirtd's that every live XML has
# (xmlparity.LIVE_ALLOWED, whose domain-id entry NORMALISE makes moot): the CPU after start
# (must still occur), the cgroup partition (as the host decides).
LIVE_REQUIRED = [a for a in LIVE_ALLOWED if a[0].startswith("^cpu")]
LIVE_HOST_DEPENDENT = [a for a in LIVE_ALLOWED if a[0].startswith("^resource")]


def compare_guest(theirs, ours, name):
    """The guest runs on both sides, and its inactive and live XML are libvirtd's."""
    for s in (theirs, ours):
        state = s.virsh("domstate", name).stdout.strip()
        assert state == "running", "%s: %s is %s after the client ran" % (s.label, name, state)
    inactive = [normalise(s, s.virsh("dumpxml", "--inactive", name).stdout)
                for s in (ours, theirs)]
    check_parity(inactive[0], inactive[1], [])
    live = [normalise(s, s.virsh("dumpxml", name).stdout) for s in (ours, theirs)]
    check_parity(live[0], live[1], LIVE_REQUIRED, LIVE_HOST_DEPENDENT)


def image_info(side, path):
    """qemu-img info of path, less its file name (-U: the running guest holds it), with
    the side's paths (a backing file's) normalised."""
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    info = json.loads(normalise(side, out))
    info.pop("filename")
    return info


def remembered_owner(path):
    """The trusted.libvirt.security.* extended attributes of path: {name: value}."""
    return {a: os.getxattr(path, a).decode() for a in os.listxattr(path)
            if a.startswith("trusted.libvirt.security.")}


# While a guest runs with an image it writes to, libvirt's DAC driver (remember_owner=1, the
# default) keeps the owner the image had before in attributes of the image (REMEMBERED:
# the owner, the number of guests using it, the host's boot time), and removes them when
# the last guest stops; ours keeps them the same way, so they are compared as they are.
REMEMBERED = "the owner libvirt remembers in an image's xattrs"
STAMP = "trusted.libvirt.security.timestamp_dac"


def same_remembered(ours, theirs):
    """The remembered owners are the same. Difference: where the host has no utmp boot
    record (this machine), libvirt reckons the boot time as whole seconds of the wall clock
    less /proc/uptime, once per process, so libvirtd's stamp wavers by one second from one
    start to the next; ours is /proc/stat's btime, steady. The stamps may then differ by one."""
    if ours.keys() != theirs.keys() or any(ours[k] != theirs[k] for k in ours if k != STAMP):
        return False
    if STAMP not in ours or ours[STAMP] == theirs[STAMP]:
        return True
    return not os.path.exists("/var/run/utmp") and \
        abs(int(ours[STAMP]) - int(theirs[STAMP])) == 1


def compare_volume(theirs, ours, pool, vol):
    """One volume's XML on both sides, the image qemu-img finds, and the owner remembered in
    its xattrs (REMEMBERED); whether there is one."""
    raw = [s.virsh("vol-dumpxml", "--pool", pool, vol).stdout for s in (ours, theirs)]
    paths = [s.file(re.search(r"<path>([^<]+)</path>", d).group(1))
             for s, d in zip((ours, theirs), raw)]
    attrs = [remembered_owner(p) for p in paths]
    assert same_remembered(attrs[0], attrs[1]), "%s of %s: ours %r, libvirtd's %r" % (
        REMEMBERED, vol, attrs[0], attrs[1])
    check_parity(normalise(ours, raw[0]), normalise(theirs, raw[1]), [])
    infos = [image_info(s, p) for s, p in zip((ours, theirs), paths)]
    assert infos[0] == infos[1], "qemu-img info of %s: ours %r, libvirtd's %r" % (
        vol, infos[0], infos[1])
    return bool(attrs[0])


def compare_storage(theirs, ours):
    """The same pools on both sides, each as libvirtd's, and the same volumes in each:
    their XML and the images qemu-img finds. {pool: [volume names]}, and the volumes
    whose image carries a remembered owner (REMEMBERED)."""
    pools = [[ln.split() for ln in s.virsh("pool-list", "--all").stdout.splitlines()
              if ln.split()[0] not in s.pools_before] for s in (ours, theirs)]
    assert pools[0] == pools[1], "pools (name, state, autostart): ours %r, libvirtd's %r" % (
        tuple(pools))
    found, remembered = {}, []
    for pool in (p[0] for p in pools[0]):
        docs = [normalise(s, s.virsh("pool-dumpxml", pool).stdout) for s in (ours, theirs)]
        check_parity(docs[0], docs[1], [])
        vols = [s.names("vol-list", pool) for s in (ours, theirs)]
        assert vols[0] == vols[1], "volumes of %s: ours %r, libvirtd's %r" % (
            pool, vols[0], vols[1])
        found[pool] = vols[0]
        remembered += [vol for vol in vols[0] if compare_volume(theirs, ours, pool, vol)]
    return found, sorted(remembered)


# ---------------------------------------------------------------- the forms

# The --disk (and --cdrom) forms of the issue, each a guest of its own, and a few more:
# a new image at a path (in the pool virt-install makes for its directory), a volume in a
# pool that is defined but stopped (virt-install starts it). FORM_SETUP makes what a form
# needs on each side first.
FORMS = {
    "path-qcow2": ["--import", "--disk", "path=@DIR@/images/exist.qcow2"],
    "path-raw": ["--import", "--disk", "path=@DIR@/images/exist.raw"],
    "size": ["--import", "--disk", "size=0.05"],
    "pool-size-qcow2": ["--import", "--disk", "pool=default,size=0.05,format=qcow2"],
    "vol": ["--import", "--disk", "vol=default/x.qcow2"],
    "cdrom": ["--cdrom", "@DIR@/images/install.iso", "--disk", "size=0.05"],
    "path-new": ["--import", "--disk", "path=@DIR@/images/new.qcow2,size=0.05"],
    "pool-inactive": ["--import", "--disk", "pool=stopped,size=0.05"],
    "size-raw": ["--import", "--disk", "size=0.05,format=raw"],
    "size-not-sparse": ["--import", "--disk", "size=0.05,sparse=no"],
    "size-raw-not-sparse": ["--import", "--disk", "size=0.05,format=raw,sparse=no"],
}


def make_vol(side):
    side.virsh("vol-create-as", "default", "x.qcow2", "50M", "--format", "qcow2")


def define_stopped_pool(side):
    (side.top / "stopped").mkdir(mode=0o755)
    side.virsh("pool-define-as", "stopped", "dir", "--target", str(side.top / "stopped"))


FORM_SETUP = {"vol": make_vol, "pool-inactive": define_stopped_pool}

IMAGES = ["exist.qcow2", "exist.raw", "install.iso"]

# The pools and volumes each form leaves (virt-install makes a pool, `images`, for the
# directory of a disk path it is given), and the volumes whose owner each side remembers in
# xattrs (REMEMBERED): those the running guest writes to.
FORM_STORAGE = {
    "path-qcow2": ({"default": [], "images": IMAGES}, ["exist.qcow2"]),
    "path-raw": ({"default": [], "images": IMAGES}, ["exist.raw"]),
    "size": ({"default": [PREFIX + "size.qcow2"]}, [PREFIX + "size.qcow2"]),
    "pool-size-qcow2": ({"default": [PREFIX + "pool-size-qcow2.qcow2"]},
                        [PREFIX + "pool-size-qcow2.qcow2"]),
    "vol": ({"default": ["x.qcow2"]}, ["x.qcow2"]),
    "cdrom": ({"default": [PREFIX + "cdrom.qcow2"], "images": IMAGES},
              [PREFIX + "cdrom.qcow2"]),
    "path-new": ({"default": [], "images": sorted(IMAGES + ["new.qcow2"])}, ["new.qcow2"]),
    "pool-inactive": ({"default": [], "stopped": [PREFIX + "pool-inactive.qcow2"]},
                      [PREFIX + "pool-inactive.qcow2"]),
    "size-raw": ({"default": [PREFIX + "size-raw.img"]}, [PREFIX + "size-raw.img"]),
    "size-not-sparse": ({"default": [PREFIX + "size-not-sparse.qcow2"]},
                        [PREFIX + "size-not-sparse.qcow2"]),
    "size-raw-not-sparse": ({"default": [PREFIX + "size-raw-not-sparse.img"]},
                            [PREFIX + "size-raw-not-sparse.img"]),
}


@pytest.mark.parametrize("form", list(FORMS))
def test_virt_install_disk_form(sides, form):
    theirs, ours = sides
    name = PREFIX + form
    for s in (theirs, ours):
        if form in FORM_SETUP:
            FORM_SETUP[form](s)
        virt_install(s, name, FORMS[form])
    compare_guest(theirs, ours, name)
    assert compare_storage(theirs, ours) == FORM_STORAGE[form]
    # A pool refresh reads every image again (a qcow2's <clusterSize> appears on both).
    for s in (theirs, ours):
        for pool in FORM_STORAGE[form][0]:
            s.virsh("pool-refresh", pool)
    assert compare_storage(theirs, ours) == FORM_STORAGE[form]


def test_virt_xml_add_disk(sides):
    """virt-xml --add-device --disk size=0.05 on a running guest: a new volume in `default`
    and a disk in the guest's next definition, which starts (with it) on both sides."""
    theirs, ours = sides
    name = PREFIX + "virt-xml"
    new = name + ".qcow2"
    for s in (theirs, ours):
        virt_install(s, name, FORMS["path-qcow2"])
        out = virt_xml(s, name, ["--add-device", "--disk", "size=0.05"])
        assert "Changes will take effect after the domain is fully powered off" in out, out
    assert compare_storage(theirs, ours) == ({"default": [new], "images": IMAGES},
                                             ["exist.qcow2"])
    for s in (theirs, ours):
        s.virsh("destroy", name)
        s.virsh("start", name)
    compare_guest(theirs, ours, name)
    assert compare_storage(theirs, ours) == ({"default": [new], "images": IMAGES},
                                             ["exist.qcow2", new])
    for s in (theirs, ours):
        disks = re.findall(r"<source file='([^']+)'", s.virsh("dumpxml", name).stdout)
        assert disks == [str(s.top / "images/exist.qcow2"), str(s.top / "default" / new)], \
            (s.label, disks)


# Disk forms virt-install cannot carry out: each fails on both sides with the same message
# (the daemon's error as virt-install words it), and leaves no guest and no volume (two new
# volumes before a missing one: virt-install checks every disk before it makes any).
FAILING_FORMS = {
    "vol-missing": ["--import", "--disk", "vol=default/nope.qcow2"],
    "pool-missing": ["--import", "--disk", "pool=nope,size=0.05"],
    "path-missing": ["--import", "--disk", "path=@DIR@/images/nope.qcow2"],
    "dir-missing": ["--import", "--disk", "path=@DIR@/nodir/new.qcow2,size=0.05"],
    "third-disk-missing": ["--import", "--disk", "pool=default,size=0.05,format=qcow2",
                           "--disk", "pool=default,size=0.05,format=qcow2",
                           "--disk", "vol=default/nope.raw"],
    "size-over-pool": ["--import", "--disk", "size=100000000"],
}


@pytest.mark.parametrize("form", list(FAILING_FORMS))
def test_virt_install_disk_form_fails(sides, form):
    theirs, ours = sides
    name = PREFIX + form
    answers = []
    for s in (ours, theirs):
        rc, errors = virt_install(s, name, FAILING_FORMS[form], check=False)
        # the pool's free space, read at two moments
        answers.append((rc, [re.sub(r"> \d+ M available", "> N M available",
                                    e.replace(str(s.top), "@DIR@")) for e in errors]))
        assert name not in s.names("list", "--all", "--name"), s.label
    assert answers[0] == answers[1], "ours %r, libvirtd's %r" % tuple(answers)
    assert answers[0][0] != 0 and answers[0][1], answers[0]
    pools, _ = compare_storage(theirs, ours)
    assert pools["default"] == [], pools


def test_virt_xml_hotplug_disk(sides):
    """virt-xml --add-device --update, one after another into the running guest (and its
    next definition): a qcow2 over a qcow2 over the existing qcow2 (its backing chain read
    and numbered as libvirt's), the existing raw image, a new volume of `default`, the ISO
    as a raw disk."""
    theirs, ours = sides
    name = PREFIX + "hotplug"
    overlays = ["overlay.qcow2", "overlay2.qcow2"]
    for s in (theirs, ours):
        for below, image in zip(["exist.qcow2"] + overlays, overlays):
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                            str(s.top / "images" / below), str(s.top / "images" / image)],
                           check=True)
        virt_install(s, name, FORMS["size"])
        for disk in ("path=@DIR@/images/overlay2.qcow2", "path=@DIR@/images/exist.raw",
                     "size=0.05", "path=@DIR@/images/install.iso,device=disk,format=raw"):
            out = virt_xml(s, name, ["--add-device", "--update", "--disk", disk])
            assert "Device hotplug successful" in out, (s.label, out)
    compare_guest(theirs, ours, name)
    live = ours.virsh("dumpxml", name).stdout
    assert "<backingStore type='file' index=" in live, live  # the overlay's chain
    vols = [name + ".qcow2", name + "-1.qcow2"]
    assert compare_storage(theirs, ours) == (
        {"default": sorted(vols), "images": sorted(IMAGES + overlays)},
        # the backing images are only read: their owner is not remembered
        sorted(vols + ["exist.raw", "install.iso", "overlay2.qcow2"]))


@pytest.mark.parametrize("form", ["path-qcow2", "size", "pool-size-qcow2", "cdrom"])
def test_virt_install_print_xml(sides, form):
    """--print-xml: the same documents from both sides (what virt-install learnt from each
    daemon's storage), no guest defined, and the same storage made (virt-install's
    --print-xml still creates the pools and volumes it needs; --dry-run would not)."""
    theirs, ours = sides
    name = PREFIX + "print-" + form
    docs = []
    for s in (ours, theirs):
        out = run_tool(s, ["virt-install", "--connect", s.uri, "--print-xml", "--virt-type",
                           "qemu", "--name", name, "--memory", "256", "--vcpus", "1",
                           "--osinfo", "debian11", "--graphics", "none", "--network", "none"]
                       + FORMS[form])
        docs.append(normalise(s, re.sub(r"<uuid>[^<]*</uuid>", "", out)))
        assert name not in s.names("list", "--all", "--name"), s.label
    assert docs[0] == docs[1], "ours:\n%s\nlibvirtd's:\n%s" % tuple(docs)
    compare_storage(theirs, ours)
