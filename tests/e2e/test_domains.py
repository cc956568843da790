"""test_domains.py: persistent domain definitions in virtqemud, through virsh,
python3-libvirt and the raw protocol: define, look up, list, query, autostart,
undefine, hostile input, and the definitions on disk across restarts.

No guest is started here. Expected values come from libvirt-wire-facts.md
sections 4, 10 and 11, and from tests/data/domain/*.err for the checks that
splitvirt adds on top of libvirt (names, entities).
"""

import os
import re
import shutil
import signal
import stat
import subprocess
import uuid as uuidlib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import rawrpc
from rawrpc import Client, string, u32

libvirt = pytest.importorskip("libvirt")

# Errors come back as exceptions; keep libvirt's default handler off stderr.
libvirt.registerErrorHandler(lambda ctx, err: None, None)

VIRSH_TIMEOUT = 30
DATA = Path(__file__).resolve().parents[1] / "data" / "domain"

# virErrorNumber / virErrorDomain values used below (facts, sections 4 and 11).
ERR_INTERNAL_ERROR = 1
ERR_INVALID_ARG = 8
ERR_OPERATION_FAILED = 9
ERR_NO_NAME = 21
ERR_XML_ERROR = 27
ERR_XML_DETAIL = 35
ERR_NO_DOMAIN = 42
ERR_OPERATION_INVALID = 55
ERR_CONFIG_UNSUPPORTED = 67
ERR_XML_INVALID_SCHEMA = 92
FROM_XML = 5
FROM_QEMU = 10
FROM_DOMAIN = 20

# Shut-off domain: state SHUTOFF (5), reason UNKNOWN (0).
SHUTOFF, SHUTOFF_UNKNOWN = 5, 0


def uri_for(path):
    return "qemu+unix:///system?socket=%s" % path


def domain_xml(name, memory_mib=64, vcpus=1, uuid=None, extra=""):
    u = "<uuid>%s</uuid>" % uuid if uuid else ""
    return ("<domain type='qemu'><name>%s</name>%s<memory unit='MiB'>%d</memory>"
            "<vcpu>%d</vcpu><os><type arch='x86_64'>hvm</type></os>%s</domain>"
            % (name, u, memory_mib, vcpus, extra))


def qemu_dir(root):
    return Path(root) / "etc" / "libvirt" / "qemu"


def defined_files(root):
    """Every file under ROOT/etc/libvirt/qemu (autostart links included), relative."""
    qemu = qemu_dir(root)
    if not qemu.exists():
        return []
    return sorted(str(p.relative_to(qemu)) for p in qemu.rglob("*") if not p.is_dir())


def virsh(daemon, *args, check=True):
    """Run virsh with a hard time limit; a hang fails instead of blocking."""
    env = dict(os.environ, LC_ALL="C")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    r = subprocess.run(["timeout", "-k", "5", str(VIRSH_TIMEOUT), "virsh", "-c",
                        uri_for(daemon.sock)] + list(args),
                       capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode != 124, "virsh %s timed out:\n%s" % (" ".join(args), r.stderr)
    if check:
        assert r.returncode == 0, "virsh %s failed (%d):\n%s" % (" ".join(args), r.returncode,
                                                                 r.stderr)
    return r


def fields(text):
    """'Key:   value' lines of virsh dominfo as a dict."""
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def list_rows(text):
    """The rows of `virsh list` below the dashes, as (id, name, state)."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert re.match(r"^\s*Id\s+Name\s+State\s*$", lines[0]), lines
    assert set(lines[1].strip()) == {"-"}, lines
    rows = []
    for line in lines[2:]:
        m = re.match(r"^\s*(\S+)\s+(\S+)\s+(.+?)\s*$", line)
        rows.append(m.groups())
    return rows


def snapshot(root):
    """Every path under root (daemon stderr files aside, and the QEMU probe's cache, which
    virtqemud writes when it starts, whatever the calls) with what it is."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, root)
            if rel.endswith(".stderr") or rel.startswith("var/cache") or rel == "var":
                continue
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                out[rel] = ("file", st.st_size, st.st_mtime_ns)
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir",)
            else:
                out[rel] = ("other", stat.S_IFMT(st.st_mode))
    return out


def check_libvirt_error(exc, code, domain, message):
    e = exc.value
    assert (e.get_error_code(), e.get_error_domain(), e.get_error_message()) == \
        (code, domain, message)
    assert e.get_error_level() == 2


@pytest.fixture
def conn(daemon):
    c = libvirt.open(uri_for(daemon.sock))
    yield c
    c.close()


# ---------------------------------------------------------------- virsh

needs_virsh = pytest.mark.skipif(not shutil.which("virsh"),
                                 reason="virsh (libvirt-clients) not installed")


@needs_virsh
def test_virsh_define_query_autostart_undefine(daemon, root, tmp_path):
    f = tmp_path / "alpha.xml"
    f.write_text(domain_xml("alpha", memory_mib=64, vcpus=2))
    r = virsh(daemon, "define", str(f))
    assert r.stdout.strip() == "Domain 'alpha' defined from %s" % f
    config = qemu_dir(root) / "alpha.xml"
    assert config.is_file()

    assert list_rows(virsh(daemon, "list", "--all").stdout) == [("-", "alpha", "shut off")]
    # Plain `list` shows running domains only.
    assert list_rows(virsh(daemon, "list").stdout) == []

    uuid = virsh(daemon, "domuuid", "alpha").stdout.strip()
    assert str(uuidlib.UUID(uuid)) == uuid  # lowercase 8-4-4-4-12

    doc = ET.fromstring(virsh(daemon, "dumpxml", "alpha").stdout)
    assert doc.tag == "domain" and doc.get("type") == "qemu"
    assert doc.find("name").text == "alpha"
    assert doc.find("uuid").text == uuid
    mem = doc.find("memory")
    assert (mem.get("unit"), mem.text) == ("KiB", "65536")
    cur = doc.find("currentMemory")
    assert (cur.get("unit"), cur.text) == ("KiB", "65536")
    assert doc.find("vcpu").text == "2"
    assert doc.find("os/type").text == "hvm"
    # The stored file is the same definition.
    stored = ET.parse(config).getroot()
    assert (stored.find("name").text, stored.find("uuid").text) == ("alpha", uuid)

    info = fields(virsh(daemon, "dominfo", "alpha").stdout)
    assert info["Id"] == "-"
    assert info["Name"] == "alpha"
    assert info["UUID"] == uuid
    assert info["OS Type"] == "hvm"
    assert info["State"] == "shut off"
    assert info["CPU(s)"] == "2"
    assert info["Max memory"] == "65536 KiB"
    assert info["Used memory"] == "65536 KiB"
    assert info["Persistent"] == "yes"
    assert info["Autostart"] == "disable"
    assert info["Managed save"] == "no"

    assert virsh(daemon, "domstate", "--reason", "alpha").stdout.strip() == "shut off (unknown)"
    assert virsh(daemon, "domstate", "alpha").stdout.strip() == "shut off"
    assert virsh(daemon, "domname", uuid).stdout.strip() == "alpha"
    # virsh resolves a UUID argument too.
    assert fields(virsh(daemon, "dominfo", uuid).stdout)["Name"] == "alpha"

    link = qemu_dir(root) / "autostart" / "alpha.xml"
    r = virsh(daemon, "autostart", "alpha")
    assert r.stdout.strip() == "Domain 'alpha' marked as autostarted"
    assert fields(virsh(daemon, "dominfo", "alpha").stdout)["Autostart"] == "enable"
    assert link.is_symlink()
    assert os.path.realpath(link) == os.path.realpath(config)
    assert list_rows(virsh(daemon, "list", "--all", "--autostart").stdout) == \
        [("-", "alpha", "shut off")]
    assert list_rows(virsh(daemon, "list", "--all", "--no-autostart").stdout) == []

    r = virsh(daemon, "autostart", "--disable", "alpha")
    assert r.stdout.strip() == "Domain 'alpha' unmarked as autostarted"
    assert fields(virsh(daemon, "dominfo", "alpha").stdout)["Autostart"] == "disable"
    assert not os.path.lexists(link)

    r = virsh(daemon, "undefine", "alpha")
    assert r.stdout.strip() == "Domain 'alpha' has been undefined"
    assert not config.exists()
    assert list_rows(virsh(daemon, "list", "--all").stdout) == []
    r = virsh(daemon, "dominfo", "alpha", check=False)
    assert r.returncode == 1
    assert "error: failed to get domain 'alpha'" in r.stderr


@needs_virsh
def test_virsh_redefine_updates_and_undefine_drops_autostart(daemon, root, tmp_path):
    f = tmp_path / "d.xml"
    f.write_text(domain_xml("beta", memory_mib=64))
    virsh(daemon, "define", str(f))
    uuid = virsh(daemon, "domuuid", "beta").stdout.strip()
    # Same name without a <uuid> means a new random UUID: refused, as in libvirt.
    f.write_text(domain_xml("beta", memory_mib=128))
    r = virsh(daemon, "define", str(f), check=False)
    assert r.returncode == 1
    assert ("error: operation failed: domain 'beta' already exists with uuid %s" % uuid) \
        in r.stderr
    # The usual way: edit what dumpxml gives and define that.
    f.write_text(virsh(daemon, "dumpxml", "beta").stdout.replace(
        "<memory unit='KiB'>65536</memory>", "<memory unit='KiB'>131072</memory>"))
    virsh(daemon, "autostart", "beta")
    link = qemu_dir(root) / "autostart" / "beta.xml"
    assert link.is_symlink()
    r = virsh(daemon, "define", str(f))
    assert r.stdout.strip() == "Domain 'beta' defined from %s" % f
    assert virsh(daemon, "domuuid", "beta").stdout.strip() == uuid
    info = fields(virsh(daemon, "dominfo", "beta").stdout)
    assert info["Max memory"] == "131072 KiB"
    # A redefinition keeps the autostart setting.
    assert info["Autostart"] == "enable"
    assert link.is_symlink()
    assert "131072" in (qemu_dir(root) / "beta.xml").read_text()
    virsh(daemon, "undefine", "beta")
    assert not os.path.lexists(link)
    assert not (qemu_dir(root) / "beta.xml").exists()


# ---------------------------------------------------------------- python3-libvirt

def test_python_define_lookup_query(conn, root):
    d = conn.defineXML(domain_xml("py1", memory_mib=64, vcpus=2))
    uuid = d.UUIDString()
    assert d.name() == "py1"
    assert d.ID() == -1
    assert (qemu_dir(root) / "py1.xml").is_file()

    for other in (conn.lookupByName("py1"), conn.lookupByUUIDString(uuid),
                  conn.lookupByUUIDString(uuid.upper()), conn.lookupByUUID(d.UUID())):
        assert (other.name(), other.UUIDString(), other.ID()) == ("py1", uuid, -1)

    assert d.info() == [SHUTOFF, 65536, 65536, 2, 0]
    assert d.state() == [SHUTOFF, SHUTOFF_UNKNOWN]
    assert d.state(0) == [SHUTOFF, SHUTOFF_UNKNOWN]
    assert d.isActive() == 0
    assert d.isPersistent() == 1
    assert d.isUpdated() == 0
    assert d.OSType() == "hvm"
    assert d.maxMemory() == 65536
    assert d.hasManagedSaveImage(0) == 0
    assert d.snapshotNum(0) == 0
    assert d.securityLabel() == ["", False]
    assert d.messages(0) == []

    for flags in (0, libvirt.VIR_DOMAIN_XML_INACTIVE, libvirt.VIR_DOMAIN_XML_SECURE,
                  libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_INACTIVE
                  | libvirt.VIR_DOMAIN_XML_MIGRATABLE | libvirt.VIR_DOMAIN_XML_UPDATE_CPU):
        doc = ET.fromstring(d.XMLDesc(flags))
        assert doc.find("name").text == "py1", flags
        assert doc.find("uuid").text == uuid, flags
        assert doc.find("memory").text == "65536", flags
        assert doc.find("vcpu").text == "2", flags

    assert conn.numOfDomains() == 0
    assert conn.listDomainsID() == []
    assert conn.numOfDefinedDomains() == 1
    assert conn.listDefinedDomains() == ["py1"]

    d.undefine()
    assert conn.numOfDefinedDomains() == 0
    assert conn.listDefinedDomains() == []
    assert conn.listAllDomains(0) == []
    assert not (qemu_dir(root) / "py1.xml").exists()


def test_python_list_all_domains_flags(conn):
    F = libvirt
    a = conn.defineXML(domain_xml("la"))
    b = conn.defineXML(domain_xml("lb"))
    c = conn.defineXML(domain_xml("lc"))
    b.setAutostart(1)
    assert (a.autostart(), b.autostart(), c.autostart()) == (0, 1, 0)

    def names(flags):
        return sorted(x.name() for x in conn.listAllDomains(flags))

    everything = ["la", "lb", "lc"]
    assert names(0) == everything
    assert names(F.VIR_CONNECT_LIST_DOMAINS_ACTIVE | F.VIR_CONNECT_LIST_DOMAINS_INACTIVE) \
        == everything
    assert names(F.VIR_CONNECT_LIST_DOMAINS_INACTIVE) == everything
    assert names(F.VIR_CONNECT_LIST_DOMAINS_ACTIVE) == []
    assert names(F.VIR_CONNECT_LIST_DOMAINS_PERSISTENT) == everything
    assert names(F.VIR_CONNECT_LIST_DOMAINS_TRANSIENT) == []
    assert names(F.VIR_CONNECT_LIST_DOMAINS_RUNNING) == []
    assert names(F.VIR_CONNECT_LIST_DOMAINS_PAUSED) == []
    assert names(F.VIR_CONNECT_LIST_DOMAINS_SHUTOFF) == everything
    assert names(F.VIR_CONNECT_LIST_DOMAINS_OTHER) == []
    assert names(F.VIR_CONNECT_LIST_DOMAINS_AUTOSTART) == ["lb"]
    assert names(F.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART) == ["la", "lc"]
    assert names(F.VIR_CONNECT_LIST_DOMAINS_AUTOSTART
                 | F.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART) == everything
    assert names(F.VIR_CONNECT_LIST_DOMAINS_INACTIVE
                 | F.VIR_CONNECT_LIST_DOMAINS_AUTOSTART) == ["lb"]
    assert names(F.VIR_CONNECT_LIST_DOMAINS_ACTIVE
                 | F.VIR_CONNECT_LIST_DOMAINS_AUTOSTART) == []
    assert names(F.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE) == []
    assert names(F.VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE) == everything
    assert names(F.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT) == []
    assert names(F.VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT) == everything
    assert names(F.VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT) == []
    assert names(F.VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT) == everything
    assert names(F.VIR_CONNECT_LIST_DOMAINS_PERSISTENT | F.VIR_CONNECT_LIST_DOMAINS_SHUTOFF
                 | F.VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART) == ["la", "lc"]

    b.setAutostart(0)
    assert b.autostart() == 0
    assert names(F.VIR_CONNECT_LIST_DOMAINS_AUTOSTART) == []
    for x in (a, b, c):
        x.undefine()
    assert names(0) == []


def test_python_lookup_errors(conn):
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.lookupByName("nope")
    check_libvirt_error(exc, ERR_NO_DOMAIN, FROM_QEMU,
                        "Domain not found: no domain with matching name 'nope'")
    u = "0badc0de-0000-4000-8000-00000000abcd"
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.lookupByUUIDString(u.upper())
    check_libvirt_error(exc, ERR_NO_DOMAIN, FROM_QEMU,
                        "Domain not found: no domain with matching uuid '%s'" % u)

    d = conn.defineXML(domain_xml("inactive"))
    # An inactive domain has no id: id 1 is not found, and -1 is refused by the
    # client library before anything is sent.
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.lookupByID(1)
    check_libvirt_error(exc, ERR_NO_DOMAIN, FROM_QEMU,
                        "Domain not found: no domain with matching id 1")
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.lookupByID(d.ID())
    assert exc.value.get_error_code() == ERR_INVALID_ARG
    assert exc.value.get_error_domain() == FROM_DOMAIN
    # Queries that need a running domain.
    with pytest.raises(libvirt.libvirtError) as exc:
        d.controlInfo()
    check_libvirt_error(exc, ERR_OPERATION_INVALID, FROM_DOMAIN,
                        "Requested operation is not valid: domain is not running")

    uuid = d.UUIDString()
    d.undefine()
    stale = "Domain not found: no domain with matching uuid '%s' (inactive)" % uuid
    for call in (d.info, lambda: d.state(0), d.undefine, lambda: d.XMLDesc(0), d.autostart,
                 d.isActive, d.isPersistent, lambda: d.setAutostart(1)):
        with pytest.raises(libvirt.libvirtError) as exc:
            call()
        check_libvirt_error(exc, ERR_NO_DOMAIN, FROM_QEMU, stale)
    # Unknown flags are checked before the lookup (facts, section 11 "Flags").
    with pytest.raises(libvirt.libvirtError) as exc:
        d.undefineFlags(0x81)
    check_libvirt_error(exc, ERR_INVALID_ARG, FROM_QEMU,
                        "unsupported flags (0x80) in function qemuDomainUndefineFlags")
    assert conn.listAllDomains(0) == []


def test_python_define_conflicts(conn, root):
    ua = "11111111-2222-4333-8444-555555555555"
    a = conn.defineXML(domain_xml("a", uuid=ua))
    before = snapshot(root)

    # Same name, another UUID.
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.defineXML(domain_xml("a", uuid="11111111-2222-4333-8444-666666666666"))
    check_libvirt_error(exc, ERR_OPERATION_FAILED, FROM_DOMAIN,
                        "operation failed: domain 'a' already exists with uuid %s" % ua)
    assert exc.value.err[4:6] == ("operation failed: %s",
                                  "domain 'a' already exists with uuid %s" % ua)
    # Same UUID, another name.
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.defineXML(domain_xml("b", uuid=ua))
    check_libvirt_error(exc, ERR_OPERATION_FAILED, FROM_DOMAIN,
                        "operation failed: domain 'a' is already defined with uuid %s" % ua)
    assert snapshot(root) == before
    assert [d.name() for d in conn.listAllDomains(0)] == ["a"]

    # Same name and UUID: an update.
    a2 = conn.defineXML(domain_xml("a", memory_mib=128, uuid=ua))
    assert a2.UUIDString() == ua
    assert a.info() == [SHUTOFF, 131072, 131072, 1, 0]
    assert ET.parse(qemu_dir(root) / "a.xml").getroot().find("memory").text == "131072"
    a.undefine()


def test_python_define_unsupported(conn, root):
    before = snapshot(root)
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.defineXML("<domain type='xen'><name>x</name><memory>1024</memory>"
                       "<os><type>hvm</type></os></domain>")
    check_libvirt_error(exc, ERR_CONFIG_UNSUPPORTED, FROM_QEMU,
                        "unsupported configuration: Emulator '/usr/bin/qemu-system-x86_64' "
                        "does not support virt type 'xen'")
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.defineXMLFlags(domain_xml("x"), 6)
    check_libvirt_error(exc, ERR_INVALID_ARG, FROM_QEMU,
                        "unsupported flags (0x6) in function qemuDomainDefineXMLFlags")
    # Wire fields of the flags error: str1 the function, str2 "flags", int1 = int2 = 0.
    assert exc.value.err[4:9] == ("qemuDomainDefineXMLFlags", "flags", None, 0, 0)
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.defineXMLFlags(domain_xml("x"), 7)
    check_libvirt_error(exc, ERR_INVALID_ARG, FROM_QEMU,
                        "unsupported flags (0x6) in function qemuDomainDefineXMLFlags")
    assert snapshot(root) == before
    assert conn.listAllDomains(0) == []

    d = conn.defineXML(domain_xml("x"))
    with pytest.raises(libvirt.libvirtError) as exc:
        d.XMLDesc(0x10)
    check_libvirt_error(exc, ERR_INVALID_ARG, FROM_QEMU,
                        "unsupported flags (0x10) in function qemuDomainGetXMLDesc")
    d.undefine()
    assert conn.listAllDomains(0) == []


# Parser errors observed with libvirt 9.0.0 (facts, section 11).
PARSE_ERRORS = [
    ("<domain type='kvm'><name>x</domain>", ERR_XML_DETAIL, FROM_DOMAIN,
     "(domain_definition):1: Opening and ending tag mismatch: name line 1 and domain\n"
     "<domain type='kvm'><name>x</domain>\n-----------------------------------^"),
    ("hello", ERR_XML_DETAIL, FROM_DOMAIN,
     "(domain_definition):1: Start tag expected, '<' not found\nhello\n^"),
    ("", ERR_XML_DETAIL, FROM_DOMAIN, "(domain_definition):1: Document is empty\n(null)\n^"),
    ("<network><name>n</name></network>", ERR_XML_ERROR, FROM_XML,
     "XML error: expecting root element of 'domain', not 'network'"),
    ("<domain type='qemu'><memory>65536</memory><os><type>hvm</type></os></domain>",
     ERR_NO_NAME, FROM_DOMAIN, "missing name information"),
    ("<domain type='qemu'><name>x</name><uuid>zzz</uuid><memory>65536</memory>"
     "<os><type>hvm</type></os></domain>",
     ERR_INTERNAL_ERROR, FROM_DOMAIN, "internal error: malformed uuid element"),
    ("<domain type='qemu'><name>x</name><memory>65536</memory><vcpu>two</vcpu>"
     "<os><type>hvm</type></os></domain>",
     ERR_XML_ERROR, FROM_DOMAIN, "XML error: maximum vcpus count must be an integer"),
    ("<domain type='qemu'><name>x</name><memory>65536</memory>"
     "<os><type>linux</type></os></domain>",
     ERR_CONFIG_UNSUPPORTED, FROM_QEMU,
     "unsupported configuration: Emulator '/usr/bin/qemu-system-x86_64' does not support "
     "os type 'linux'"),
]


@pytest.mark.parametrize("xml,code,domain,message", PARSE_ERRORS,
                         ids=["tag-mismatch", "not-xml", "empty", "not-domain", "no-name",
                              "bad-uuid", "vcpu-not-integer", "os-type-linux"])
def test_python_parse_errors(conn, root, xml, code, domain, message):
    before = snapshot(root)
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.defineXML(xml)
    check_libvirt_error(exc, code, domain, message)
    assert snapshot(root) == before
    assert conn.listAllDomains(0) == []


# ---------------------------------------------------------------- hostile names and XML

# (name as written in the XML text, code, domain, message). Leading '.', control
# characters and the 200-byte limit are splitvirt's own checks
# (tests/data/domain/err-name-*.err); '/' and newline are libvirt's.
BAD_NAMES = [
    ("../x", ERR_XML_ERROR, FROM_DOMAIN, "XML error: name ../x cannot contain '/'"),
    ("a/b", ERR_XML_ERROR, FROM_DOMAIN, "XML error: name a/b cannot contain '/'"),
    ("/abs", ERR_XML_ERROR, FROM_DOMAIN, "XML error: name /abs cannot contain '/'"),
    (".hidden", ERR_XML_ERROR, FROM_DOMAIN, "XML error: name '.hidden' must not start with '.'"),
    ("..", ERR_XML_ERROR, FROM_DOMAIN, "XML error: name '..' must not start with '.'"),
    ("a\nb", ERR_XML_DETAIL, FROM_XML, "invalid char in name: \n"),
    ("a&#10;b", ERR_XML_DETAIL, FROM_XML, "invalid char in name: \n"),
    ("a&#9;b", ERR_XML_ERROR, FROM_DOMAIN, "XML error: name must not contain control characters"),
    ("a\x7fb", ERR_XML_ERROR, FROM_DOMAIN, "XML error: name must not contain control characters"),
    ("a&#13;b", ERR_XML_ERROR, FROM_DOMAIN, "XML error: name must not contain control characters"),
    ("n" * 201, ERR_XML_ERROR, FROM_DOMAIN, "XML error: name must not be longer than 200 bytes"),
    ("\u00e9" * 100 + "a", ERR_XML_ERROR, FROM_DOMAIN,
     "XML error: name must not be longer than 200 bytes"),
]


def test_hostile_names_are_refused_and_write_nothing(conn, root):
    qemu = qemu_dir(root)
    before = snapshot(root)
    for name, code, domain, message in BAD_NAMES:
        with pytest.raises(libvirt.libvirtError) as exc:
            conn.defineXML(domain_xml(name))
        check_libvirt_error(exc, code, domain, message)
        # The same through DEFINE_XML_FLAGS.
        with pytest.raises(libvirt.libvirtError) as exc:
            conn.defineXMLFlags(domain_xml(name), 0)
        check_libvirt_error(exc, code, domain, message)
        assert snapshot(root) == before, "define of %r changed files under the root" % name
    assert conn.listAllDomains(0) == []
    assert not (root / "etc" / "libvirt" / "x.xml").exists()
    assert not (root / "x.xml").exists()
    assert defined_files(root) == []

    # The limits themselves are fine: 200 bytes, 100 two-byte characters.
    for name in ("n" * 200, "\u00e9" * 100):
        d = conn.defineXML(domain_xml(name))
        assert d.name() == name
        assert (qemu / (name + ".xml")).is_file()
        d.undefine()
        assert not (qemu / (name + ".xml")).exists()


def test_invalid_utf8_name_over_raw_rpc(daemon, root):
    """python refuses to encode invalid UTF-8, so the bytes go out raw."""
    before = snapshot(root)
    xml = (b"<domain type='qemu'><name>bad\xff\xfename</name><memory unit='MiB'>64</memory>"
           b"<os><type>hvm</type></os></domain>")
    with Client(str(daemon.sock)) as c:
        c.open()
        for proc, payload in ((rawrpc.PROC_DOMAIN_DEFINE_XML, string(xml)),
                              (350, string(xml) + u32(0))):
            m = c.call_raw(proc, payload)
            assert m.status == rawrpc.ERROR
            u = rawrpc.Unpacker(m.payload)
            code, domain = u.i32(), u.i32()
            assert u.u32() == 1
            msg = u._take(u.u32())
            # libxml2 refuses the document; the message echoes the source line.
            assert (code, domain) == (ERR_XML_DETAIL, FROM_DOMAIN), (code, domain, msg)
            assert msg == (b"(domain_definition):1: Input is not proper UTF-8, "
                           b"indicate encoding !\nBytes: 0xFF 0xFE 0x6E 0x61\n"
                           + xml + b"\n" + b"-" * 29 + b"^")
        assert snapshot(root) == before
        # Still serving, and the daemon still takes a well-formed non-ASCII name.
        good = "<domain type='qemu'><name>b\u00e4d</name><memory>65536</memory>" \
               "<os><type>hvm</type></os></domain>"
        u = c.call(rawrpc.PROC_DOMAIN_DEFINE_XML, string(good))
        assert u.string() == "b\u00e4d"
    assert (qemu_dir(root) / "b\u00e4d.xml").is_file()


HOSTILE = sorted(p.stem for p in DATA.glob("hostile-*.xml") if p.with_suffix(".err").exists())


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_xml_refused(conn, root, case):
    xml = (DATA / (case + ".xml")).read_text()
    code, domain, message = (DATA / (case + ".err")).read_text().rstrip("\n").split(" ", 2)
    before = snapshot(root)
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.defineXML(xml)
    check_libvirt_error(exc, int(code), int(domain), message)
    assert snapshot(root) == before
    # The daemon still serves.
    assert conn.getType() == "QEMU"
    d = conn.defineXML(domain_xml("after"))
    assert conn.lookupByName("after").UUIDString() == d.UUIDString()
    d.undefine()


def test_external_entity_and_billion_laughs(conn, root):
    before = snapshot(root)
    entity = ("<?xml version='1.0'?>\n<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
              "<domain type='qemu'><name>leak</name><description>&x;</description>"
              "<memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>")
    laughs = (DATA / "hostile-billion-laughs.xml").read_text()
    for xml in (entity, laughs):
        with pytest.raises(libvirt.libvirtError) as exc:
            conn.defineXML(xml)
        check_libvirt_error(exc, ERR_XML_ERROR, FROM_DOMAIN,
                            "XML error: entity references and DTDs are not allowed in domain XML")
        assert conn.getType() == "QEMU"
    assert snapshot(root) == before
    assert conn.listAllDomains(0) == []


# ---------------------------------------------------------------- schema validation

def test_define_validate_flag(conn, root):
    xml = ("<domain type='qemu'><name>validate</name><memory unit='MiB'>64</memory>"
           "<os><type>hvm</type></os><bogus/><devices/></domain>")
    before = snapshot(root)
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    detail = ("Unable to validate doc against /usr/share/libvirt/schemas/domain.rng\n"
              "Element domain has extra content: bogus\n")
    check_libvirt_error(exc, ERR_XML_INVALID_SCHEMA, FROM_XML,
                        "XML document failed to validate against schema: " + detail)
    assert exc.value.err[4:6] == ("XML document failed to validate against schema: %s", detail)
    assert snapshot(root) == before
    assert conn.listAllDomains(0) == []

    # Without the flag the unknown element is dropped and the define succeeds.
    d = conn.defineXMLFlags(xml, 0)
    doc = ET.fromstring(d.XMLDesc(0))
    assert doc.find("name").text == "validate"
    assert doc.find("bogus") is None and "bogus" not in d.XMLDesc(0)
    assert "bogus" not in (qemu_dir(root) / "validate.xml").read_text()
    d.undefine()
    # A valid document passes with the flag.
    d = conn.defineXMLFlags(domain_xml("valid"), libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    assert d.name() == "valid"
    d.undefine()


# ---------------------------------------------------------------- durability

def test_definitions_survive_restart(daemons, root):
    d1 = daemons.start()
    c = libvirt.open(uri_for(d1.sock))
    uuids = {}
    for i, name in enumerate(("one", "two", "three")):
        dom = c.defineXML(domain_xml(name, memory_mib=64 * (i + 1), vcpus=i + 1))
        uuids[name] = dom.UUIDString()
    c.lookupByName("two").setAutostart(1)
    c.close()
    del dom
    assert d1.stop() == 0

    d2 = daemons.start()
    c = libvirt.open(uri_for(d2.sock))
    try:
        doms = {x.name(): x for x in c.listAllDomains(0)}
        assert sorted(doms) == ["one", "three", "two"]
        assert {n: x.UUIDString() for n, x in doms.items()} == uuids
        assert {n: x.autostart() for n, x in doms.items()} == {"one": 0, "two": 1, "three": 0}
        assert doms["three"].info() == [SHUTOFF, 3 * 65536, 3 * 65536, 3, 0]
        # Autostart runs once per boot of the host (libvirt keeps the marker
        # ROOT/run/libvirt/qemu/autostarted), so a restart does not start "two".
        assert {n: x.state() for n, x in doms.items()} == \
            {n: [SHUTOFF, SHUTOFF_UNKNOWN] for n in uuids}
        assert (root / "run" / "libvirt" / "qemu" / "autostarted").exists()
        assert "autostarting" not in d2.stderr_text()
        assert [x.name() for x in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)] \
            == ["two"]
        del doms
    finally:
        c.close()


def test_bad_files_are_skipped_at_start(daemons, root):
    d1 = daemons.start()
    c = libvirt.open(uri_for(d1.sock))
    for name in ("good1", "good2"):
        c.defineXML(domain_xml(name))
    c.close()
    assert d1.stop() == 0

    qemu = qemu_dir(root)
    bad = qemu / "bad.xml"
    bad.write_bytes(b"\x00garbage <domain <<< not xml\xff\n")
    mismatch = qemu / "wrongname.xml"
    mismatch.write_text(domain_xml("othername"))

    d2 = daemons.start()
    c = libvirt.open(uri_for(d2.sock))
    try:
        assert sorted(x.name() for x in c.listAllDomains(0)) == ["good1", "good2"]
        with pytest.raises(libvirt.libvirtError) as exc:
            c.lookupByName("othername")
        assert exc.value.get_error_code() == ERR_NO_DOMAIN
        # The daemon serves and takes new definitions.
        dom = c.defineXML(domain_xml("good3"))
        assert dom.name() == "good3"
        del dom
    finally:
        c.close()
    assert d2.alive()
    text = d2.stderr_text()
    assert str(bad) in text, "bad file's path not in the daemon's log:\n" + d2.stderr_tail()
    assert str(mismatch) in text, "mismatched file's path not in the log:\n" + d2.stderr_tail()
    # The bad files are left alone.
    assert bad.read_bytes() == b"\x00garbage <domain <<< not xml\xff\n"
    assert mismatch.exists()


def test_definition_durable_at_reply_time(daemons, root):
    """The define reply comes after the fsync: SIGKILL right after it loses nothing."""
    d1 = daemons.start()
    d1.expected_status = -signal.SIGKILL
    xml = domain_xml("durable", uuid="12345678-9abc-4def-8123-456789abcdef")
    with Client(str(d1.sock)) as c:
        c.open()
        u = c.call(rawrpc.PROC_DOMAIN_DEFINE_XML, string(xml))
        d1.kill()
        assert u.string() == "durable"
    assert d1.wait_exit(10) == -signal.SIGKILL
    qemu = qemu_dir(root)
    # The file is in place under its final name, with no temporary left over.
    assert sorted(os.listdir(qemu)) in (["durable.xml"], ["autostart", "durable.xml"])
    assert defined_files(root) == ["durable.xml"]
    doc = ET.parse(qemu / "durable.xml").getroot()
    assert doc.find("name").text == "durable"
    assert doc.find("uuid").text == "12345678-9abc-4def-8123-456789abcdef"

    d2 = daemons.start()
    c = libvirt.open(uri_for(d2.sock))
    try:
        dom = c.lookupByName("durable")
        assert dom.UUIDString() == "12345678-9abc-4def-8123-456789abcdef"
        assert dom.info() == [SHUTOFF, 65536, 65536, 1, 0]
        del dom
    finally:
        c.close()


# ---------------------------------------------------------------- raw listing and races

def raw_define(c, xml):
    u = c.call(rawrpc.PROC_DOMAIN_DEFINE_XML, string(xml))
    name, uuid, dom_id = u.string(), u.opaque_fixed(16), u.i32()
    u.done()
    return name, uuid, dom_id


def test_raw_listing_calls(daemon):
    with Client(str(daemon.sock)) as c:
        c.open()
        made = [raw_define(c, domain_xml(n)) for n in ("r1", "r2", "r3")]
        # LIST_ALL_DOMAINS without results: an empty array and the count.
        u = c.call(rawrpc.PROC_CONNECT_LIST_ALL_DOMAINS, rawrpc.i32(0) + u32(0))
        assert u.u32() == 0
        assert u.u32() == 3
        u.done()
        u = c.call(rawrpc.PROC_CONNECT_LIST_ALL_DOMAINS, rawrpc.i32(1) + u32(2))
        n = u.u32()
        got = sorted((u.string(), u.opaque_fixed(16), u.i32()) for _ in range(n))
        assert u.u32() == 3
        u.done()
        assert got == sorted(made)
        # The old calls: defined names, capped by maxnames; no running ids.
        u = c.call(25)  # CONNECT_NUM_OF_DEFINED_DOMAINS
        assert u.i32() == 3
        u.done()
        u = c.call(21, rawrpc.i32(10))  # CONNECT_LIST_DEFINED_DOMAINS
        assert sorted(u.string() for _ in range(u.u32())) == ["r1", "r2", "r3"]
        u.done()
        u = c.call(21, rawrpc.i32(1))
        names = [u.string() for _ in range(u.u32())]
        u.done()
        assert len(names) == 1 and names[0] in ("r1", "r2", "r3")
        u = c.call(rawrpc.PROC_CONNECT_NUM_OF_DOMAINS)
        assert u.i32() == 0
        u.done()
        u = c.call(37, rawrpc.i32(10))  # CONNECT_LIST_DOMAINS
        assert u.u32() == 0
        u.done()
        # Over the protocol's array limit: the dispatcher's RPC error.
        for proc, what in ((21, "maxnames"), (37, "maxids")):
            _, err = c.call_error(proc, rawrpc.i32(16385))
            assert (err.code, err.domain) == (rawrpc.ERR_RPC, rawrpc.FROM_RPC), err
            assert err.message == "%s > REMOTE_DOMAIN_LIST_MAX" % what, err
        # A negative count from a hostile client must not hurt the daemon.
        for proc in (21, 37):
            c.call_raw(proc, rawrpc.i32(-1))
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


def test_racing_defines_of_one_name(daemon, root):
    """Pipelined defines of one name with different UUIDs, from two connections:
    exactly one wins, the others get the 'already exists' error naming the winner."""
    sock = str(daemon.sock)
    uuids = ["%08x-0000-4000-8000-000000000000" % i for i in range(1, 17)]
    with Client(sock) as c1, Client(sock) as c2:
        c1.open()
        c2.open()
        sent = []
        for i, u in enumerate(uuids):
            c = (c1, c2)[i % 2]
            sent.append((c, c.send_call(rawrpc.PROC_DOMAIN_DEFINE_XML,
                                        string(domain_xml("race", uuid=u)))))
        replies = {}
        for c in (c1, c2):
            pending = {s for cc, s in sent if cc is c}
            while pending:
                m = c.recv_message()
                assert m.type == rawrpc.REPLY and m.serial in pending, m
                pending.discard(m.serial)
                replies[(id(c), m.serial)] = m
        oks = [m for m in replies.values() if m.status == rawrpc.OK]
        assert len(oks) == 1, "%d defines of 'race' succeeded" % len(oks)
        u = oks[0].unpacker()
        name, winner = u.string(), u.opaque_fixed(16)
        assert name == "race"
        w = "%s-%s-%s-%s-%s" % (winner[:4].hex(), winner[4:6].hex(), winner[6:8].hex(),
                                winner[8:10].hex(), winner[10:].hex())
        assert w in uuids
        for m in replies.values():
            if m.status == rawrpc.ERROR:
                err = rawrpc.RpcError.decode(m.payload)
                assert (err.code, err.domain, err.message) == (
                    ERR_OPERATION_FAILED, FROM_DOMAIN,
                    "operation failed: domain 'race' already exists with uuid %s" % w)
    assert defined_files(root) == ["race.xml"]
    assert ET.parse(qemu_dir(root) / "race.xml").getroot().find("uuid").text == w


def test_many_domains(daemon, root):
    n = 150
    with Client(str(daemon.sock)) as c:
        c.open()
        serials = [c.send_call(rawrpc.PROC_DOMAIN_DEFINE_XML,
                               string(domain_xml("many-%03d" % i))) for i in range(n)]
        for s in serials:
            m = c.recv_reply(s)
            assert m.status == rawrpc.OK, rawrpc.RpcError.decode(m.payload)
    assert len(defined_files(root)) == n
    conn = libvirt.open(uri_for(daemon.sock))
    try:
        assert sorted(d.name() for d in conn.listAllDomains(0)) == \
            ["many-%03d" % i for i in range(n)]
        assert conn.numOfDefinedDomains() == n
        assert sorted(conn.listDefinedDomains()) == ["many-%03d" % i for i in range(n)]
    finally:
        conn.close()
    if shutil.which("virsh"):
        rows = list_rows(virsh(daemon, "list", "--all").stdout)
        assert rows == [("-", "many-%03d" % i, "shut off") for i in range(n)]


def test_read_only_socket(daemon, root):
    """The -ro socket serves the queries and denies every change (the client was
    opened read-write, so it is the daemon that refuses)."""
    rw = libvirt.open(uri_for(daemon.sock))
    ro = libvirt.open(uri_for(daemon.sock_ro))
    try:
        uuid = rw.defineXML(domain_xml("guarded")).UUIDString()
        before = snapshot(root)
        d = ro.lookupByName("guarded")
        assert d.UUIDString() == uuid
        assert d.info() == [SHUTOFF, 65536, 65536, 1, 0]
        assert d.state() == [SHUTOFF, SHUTOFF_UNKNOWN]
        assert ET.fromstring(d.XMLDesc(0)).find("uuid").text == uuid
        assert [x.name() for x in ro.listAllDomains(0)] == ["guarded"]
        assert d.autostart() == 0
        denied = [
            (lambda: ro.defineXML(domain_xml("other")), "virDomainDefineXML"),
            (lambda: ro.defineXMLFlags(domain_xml("other"), 0), "virDomainDefineXMLFlags"),
            (d.undefine, "virDomainUndefine"),
            (lambda: d.undefineFlags(0), "virDomainUndefineFlags"),
            (lambda: d.setAutostart(1), "virDomainSetAutostart"),
        ]
        for call, api in denied:
            with pytest.raises(libvirt.libvirtError) as exc:
                call()
            check_libvirt_error(exc, 29, FROM_DOMAIN,
                                "operation forbidden: read only access prevents %s" % api)
        # libvirt-domain.c, virDomainGetXMLDesc: on a read-only connection the
        # SECURE and MIGRATABLE flags are refused before the driver is called.
        for flags in (libvirt.VIR_DOMAIN_XML_SECURE, libvirt.VIR_DOMAIN_XML_MIGRATABLE,
                      libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_INACTIVE):
            with pytest.raises(libvirt.libvirtError) as exc:
                d.XMLDesc(flags)
            check_libvirt_error(exc, 29, FROM_DOMAIN,
                                "operation forbidden: virDomainGetXMLDesc with secure flag")
        assert ET.fromstring(d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)).find("name").text \
            == "guarded"
        assert snapshot(root) == before
        rw.lookupByName("guarded").undefine()
    finally:
        ro.close()
        rw.close()


def test_handle_is_resolved_by_uuid(daemon):
    """A dom argument is looked up by its UUID; the name only fills the message."""
    with Client(str(daemon.sock)) as c:
        c.open()
        name, uuid, dom_id = raw_define(c, domain_xml("byuuid", vcpus=3))
        u = c.call(16, string("some-other-name") + uuid + rawrpc.i32(dom_id))  # GET_INFO
        state, maxmem, mem, vcpus, cpu_time = u.u32(), u.uhyper(), u.uhyper(), u.u32(), u.uhyper()
        u.done()
        assert (state, maxmem, mem, vcpus, cpu_time) == (SHUTOFF, 65536, 65536, 3, 0)
        u = c.call(212, string("x") + uuid + rawrpc.i32(7) + u32(0))  # GET_STATE
        assert (u.i32(), u.i32()) == (SHUTOFF, SHUTOFF_UNKNOWN)
        u.done()
        # Undefine, then define the same name again: it gets a new UUID, and the
        # old handle stays stale.
        c.call(35, string(name) + uuid + rawrpc.i32(dom_id)).done()
        _, new_uuid, _ = raw_define(c, domain_xml("byuuid"))
        assert new_uuid != uuid
        _, err = c.call_error(16, string(name) + uuid + rawrpc.i32(dom_id))
        u_str = str(uuidlib.UUID(bytes=uuid))
        assert (err.code, err.domain, err.message) == (
            ERR_NO_DOMAIN, FROM_QEMU,
            "Domain not found: no domain with matching uuid '%s' (byuuid)" % u_str)
        assert (err.str1, err.str2) == ("Domain not found: %s",
                                        "no domain with matching uuid '%s' (byuuid)" % u_str)
