"""xmlparity.py: compare two domain XML documents as libvirt users see them, and reach
Debian's libvirtd, the reference the parity tests compare with.

canonical() reduces a document to what a comparison should look at: whitespace, attribute
and element order within <devices> do not matter (libvirt's own order is still checked by
the golden tests), so two documents that say the same thing compare equal. diff() lists
the differences as paths (e.g. "devices/controller[type=pci,index=1]/@model: 'x' != 'y'"),
and unexplained() drops those matched by a list of (regex, reason) pairs: each difference
a test allows is named there with its reason.
"""

import importlib.machinery
import importlib.util
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

# Attributes that identify a device among its siblings, in order of preference.
KEY_ATTRS = ("type", "index", "model", "bus", "dev", "name", "port")


def _key(el):
    """A name for el among its siblings: its tag and identifying attributes or children."""
    parts = ["%s=%s" % (a, el.get(a)) for a in KEY_ATTRS if el.get(a) is not None]
    target = el.find("target")
    if target is not None:
        for a in ("dev", "name", "port", "type"):
            if target.get(a) is not None:
                parts.append("target.%s=%s" % (a, target.get(a)))
    source = el.find("source")
    if source is not None:
        for a in ("file", "dev", "path", "bridge"):
            if source.get(a) is not None:
                parts.append("source.%s=%s" % (a, source.get(a)))
    mac = el.find("mac")
    if mac is not None and mac.get("address"):
        parts.append("mac=%s" % mac.get("address"))
    return "%s[%s]" % (el.tag, ",".join(parts)) if parts else el.tag


def _text(el):
    return (el.text or "").strip()


def _children(el):
    """el's children by key; repeated keys get #N suffixes in document order."""
    out, seen = {}, {}
    for c in el:
        k = _key(c)
        n = seen.get(k, 0)
        seen[k] = n + 1
        out[k if n == 0 else "%s#%d" % (k, n)] = c
    return out


def _diff(a, b, path, out):
    for name in sorted(set(a.attrib) | set(b.attrib)):
        va, vb = a.get(name), b.get(name)
        if va != vb:
            out.append("%s/@%s: %r != %r" % (path, name, va, vb))
    if _text(a) != _text(b):
        out.append("%s/text(): %r != %r" % (path, _text(a), _text(b)))
    ca, cb = _children(a), _children(b)
    for k in sorted(set(ca) | set(cb)):
        p = "%s/%s" % (path, k) if path else k
        if k not in cb:
            out.append("%s: only in ours" % p)
        elif k not in ca:
            out.append("%s: only in libvirt's" % p)
        else:
            _diff(ca[k], cb[k], p, out)


def diff(ours, theirs):
    """The differences between two XML documents (text), ours first."""
    out = []
    _diff(ET.fromstring(ours), ET.fromstring(theirs), "", out)
    return out


def unexplained(differences, allowed):
    """The differences no (regex, reason) of allowed matches."""
    return [d for d in differences if not any(re.search(rx, d) for rx, _ in allowed)]


# ---------------------------------------------------------------- live XML and device trees

def normalise(xml, rules):
    """xml with every (regex, replacement, reason) of rules applied. A running guest has
    values each daemon picks for itself (its domain id, pty paths, ports from a range):
    the rules make those equal before diff(), each with the reason it may differ."""
    for rx, repl, _reason in rules:
        xml = re.sub(rx, repl, xml)
    return xml


def devtree():
    """tests/qemu-devtree.py, which reduces a QEMU command line to its device tree."""
    path = Path(__file__).resolve().parents[1] / "qemu-devtree.py"
    loader = importlib.machinery.SourceFileLoader("qemu_devtree", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


def pid_argv(pid_file):
    """The command line of the process whose pid pid_file holds (a guest's QEMU)."""
    pid = int(Path(pid_file).read_text().split()[0])
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return [a.decode() for a in f.read().split(b"\0")[:-1]]


def native_argv(ref, xml_path):
    """libvirtd's QEMU command line for the XML in xml_path (domxml-to-native)."""
    out = ref.virsh("domxml-to-native", "qemu-argv", str(xml_path)).stdout
    return devtree().read_argv(out)


# ---------------------------------------------------------------- the reference libvirtd

def bench_lib():
    """bench/benchlib.py: how this project runs Debian's libvirtd beside its own daemons."""
    bench = Path(__file__).resolve().parents[2] / "bench"
    if str(bench) not in sys.path:
        sys.path.insert(0, str(bench))
    import benchlib
    return benchlib


class Reference:
    """Debian's libvirtd on qemu:///system: the one already running, or one started here
    (under the subreaper, as bench does) and stopped at close(). The storage pools the
    session leaves on it (virt-install makes one, persistent and autostarted, for each
    directory a disk path names) are undefined at close(); their directories are left."""

    def __init__(self, work):
        lib = bench_lib()
        self.lib = lib
        self.procs = lib.Procs()
        self.daemon = lib.start_libvirtd(self.procs, Path(work))
        self.uri = self.daemon.uri
        self.pools_before = set(self.pool_names())

    def pool_names(self):
        r = self.virsh("pool-list", "--all", "--name", check=False)
        return [n.strip() for n in r.stdout.splitlines() if n.strip()]

    def virsh(self, *args, check=True, input_text=None):
        r = subprocess.run(["virsh", "-q", "-c", self.uri, *args], capture_output=True,
                           text=True, timeout=300, input=input_text)
        if check and r.returncode != 0:
            raise AssertionError("libvirtd: virsh %s: %s" % (" ".join(args), r.stderr))
        return r

    def close(self):
        try:
            for name in set(self.pool_names()) - self.pools_before:
                self.virsh("pool-destroy", name, check=False)
                self.virsh("pool-undefine", name, check=False)
        finally:
            self.procs.stop_all()


# ---- run 5 / linux guest ----
# The steps of a parity run (as test_libvirt_parity.py has them), for the run files of
# their own: virt-install's XML from libvirtd, the same XML defined on both daemons, and
# the comparison that fails on an unexplained difference or on an allowed one that no
# longer occurs.

def virsh_on(uri, *args, check=True):
    """virsh -q -c uri ARGS; AssertionError with its stderr when it fails (check)."""
    r = subprocess.run(["virsh", "-q", "-c", uri, *args], capture_output=True, text=True,
                       timeout=120)
    if check and r.returncode != 0:
        raise AssertionError("virsh %s: %s" % (" ".join(args), r.stderr))
    return r


def virt_install_xml(ref, name, args, files):
    """virt-install --print-xml against ref for a TCG guest NAME (256 MiB, 1 vCPU) with
    ARGS (@DIR@: files); the guest's definition (the last document it prints)."""
    argv = ["virt-install", "--connect", ref.uri, "--print-xml", "--virt-type", "qemu",
            "--name", name, "--memory", "256", "--vcpus", "1", "--noautoconsole"]
    argv += [a.replace("@DIR@", str(files)) for a in args]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "virt-install: %s" % r.stderr
    docs = [d + "</domain>\n" for d in r.stdout.split("</domain>") if d.strip()]
    return docs[-1]


def define_both(ref, ours_uri, xml, work, keep_ours=True):
    """Define xml on both; their inactive XMLs (ours, libvirt's). libvirtd's copy goes, and
    ours too unless keep_ours."""
    path = Path(work) / "domain.xml"
    path.write_text(xml)
    name = re.search(r"<name>([^<]+)</name>", xml).group(1)
    ref.virsh("define", str(path))
    try:
        theirs = ref.virsh("dumpxml", "--inactive", name).stdout
    finally:
        ref.virsh("undefine", name, check=False)
    virsh_on(ours_uri, "define", str(path))
    try:
        ours = virsh_on(ours_uri, "dumpxml", "--inactive", name).stdout
    finally:
        if not keep_ours:
            virsh_on(ours_uri, "undefine", name, check=False)
    return ours, theirs


def check_parity(ours, theirs, allowed, host_dependent=()):
    """Every difference is allowed (a (regex, reason) of allowed or host_dependent matches
    it), and every allowed one still occurs (those of host_dependent may or may not, as the
    host decides)."""
    found = diff(ours, theirs)
    left = unexplained(found, list(allowed) + list(host_dependent))
    assert not left, "differences from libvirtd not explained:\n  " + "\n  ".join(left)
    stale = [reason for rx, reason in allowed if not any(re.search(rx, d) for d in found)]
    assert not stale, "allowed differences that no longer occur (remove them):\n  " + \
        "\n  ".join(stale)


def live_on_libvirtd(ref, xml, work):
    """libvirtd's live XML of xml's guest, created paused (transient), then destroyed."""
    path = Path(work) / "live.xml"
    path.write_text(xml)
    name = re.search(r"<name>([^<]+)</name>", xml).group(1)
    ref.virsh("create", "--paused", str(path))
    try:
        return ref.virsh("dumpxml", name).stdout
    finally:
        ref.virsh("destroy", name, check=False)


def system_libvirtd_dumps(xml, name):
    """The inactive XML of the libvirtd serving qemu:///system for xml defined as name, and
    its live XML once started (destroyed and undefined after); None when no libvirtd
    answers there. For a check beside a test of ours, without a Reference to start."""
    import libvirt

    xml = re.sub(r"<name>[^<]*</name>", "<name>%s</name>" % name, xml)
    try:
        conn = libvirt.open("qemu:///system")
    except libvirt.libvirtError:
        return None
    try:
        dom = conn.defineXML(xml)
        try:
            inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
            dom.create()
            try:
                return inactive, dom.XMLDesc(0)
            finally:
                dom.destroy()
        finally:
            dom.undefine()
    finally:
        conn.close()


def same_ptys(xml):
    """xml with every pseudo-terminal's path the same (each QEMU gets its own)."""
    return re.sub(r"/dev/pts/[0-9]+", "/dev/pts/N", xml)


def same_run_paths(xml, root=None):
    """xml with what differs by daemon and run made the same: a daemon's --root (root)
    before the paths it makes, and the domain id in them (domain-ID-NAME)."""
    if root is not None:
        xml = xml.replace("'%s/" % str(root).rstrip("/"), "'/")
    return re.sub(r"/domain-[0-9]+-", "/domain-N-", same_ptys(xml))


# The differences of every live XML of ours from libvirtd's, with their reasons.
LIVE_ALLOWED = [
    (r"^/@id:", "the domain id counts each daemon's starts"),
    (r"^resource: only in libvirt's",
     "no machined here: libvirtd puts the guest in /machine, ours in its own cgroup parent"),
    (r"^cpu/@check: 'none' != 'full'$|^cpu/feature\[name=(hypervisor|lahf_lm)\]: only in "
     r"libvirt's$",
     "libvirtd writes the CPU QEMU reports after start (check='full' and its features); ours "
     "keeps the defined one (issue 17's note: not done)"),
]
