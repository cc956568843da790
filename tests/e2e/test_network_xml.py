"""test_network_xml.py: network XML (conf/network_def.c) against Debian's libvirtd 9.0.0.

The catalogue is tests/data/network: each CASE.xml is a network definition (libvirt's
documented examples from formatnetwork.rst, each element and attribute the parser reads,
and one bad document for each error the parser gives). CASE.out is what `virsh net-define`
then `net-dumpxml --inactive` gives for it, CASE.err the error ("error DOMAIN CODE" and the
message) a refused one gets. Both are libvirtd's own answers: each case is defined on
libvirtd (python3-libvirt, to read the error's code and domain) and on the library
(tests/sv-net-xml-tool, net-define's parse and net-dumpxml's format), and the two must
agree with the file. tests/unit/test-network-def.c checks the library against the same
files in every build; this test is what keeps the files libvirtd's.

SV_REGENERATE=1 writes the files from libvirtd's answers (review the diff).

Differences kept on purpose (the test fails if libvirtd stops showing them):
- refuse-*: values that would change the shape of dnsmasq's files: a newline or another
  control character anywhere; what dnsmasq's configuration parser gives a meaning to ('"'
  opens a quoted part, '\\' escapes in it, '#' after a blank ends the line) anywhere but in
  dnsmasq:options; a separator of the file they land in (',' ' ' '/') in host names, the
  domain, TXT names, SRV fields, forwarder domains, the bootp file, the bridge name.
  libvirtd 9.0 accepts them and writes them into dnsmasq's configuration as they are (a TXT
  value "a\\ndhcp-script=/tmp/x" gives dnsmasq a dhcp-script line); ours refuses them at
  define, with the error in CASE.err.
- unsupported-*: a hostdev network's pool of PCI functions (<forward><address>): splitvirt
  has no SR-IOV plumbing and refuses it while reading; libvirtd refuses it too on a host
  without those functions, later and with another error (the device is no SR-IOV virtual
  function).
- quirk-vlan-dup-native: a <vlan> whose native tag id is listed twice; libvirtd writes
  nativeMode on both tags, which its own parser then refuses ("duplicate native vlan
  setting": the stored network would not load again); ours writes it on the first.
- quirk-escape-*: libvirtd writes a DHCP host's name, the <domain> name and a port group's
  name into their attributes as they are, unescaped: where one holds ' < or & its
  net-dumpxml (and the file it stores) is not well-formed and the network does not load
  again. Ours escapes them.
- The driver's own checks at define (bridge name in use, what each forward mode allows,
  one DHCP <ip> per family, port group names: bridge_driver.c's networkValidate) and the
  bridge name and MAC it gives a network without them belong to virtnetworkd
  (tests/e2e/test_networkd*.py); every case that parses names its bridge and MAC.
- A newline in the network's name: libvirtd refuses it after reading the whole document
  (the driver's check), ours while reading the name; same error, but a document with a
  second error reports the other one first on libvirtd.

test_libvirtd_ports_read_back: the ports libvirtd makes on a bridge-mode and a macvtap
network (started: neither makes nor touches anything of the host), read and written back by
the library byte for byte.

Slow (libvirtd): run under `flock /tmp/sv-libvirtd.lock`, as every test using `ref`."""

import os
import subprocess

import pytest

from svdaemon import build_dir, repo_dir

DATA = repo_dir() / "tests" / "data" / "network"
CASES = sorted(p.stem for p in DATA.glob("*.xml"))

# VIR_NETWORK_DEFINE_VALIDATE for validate-* cases (the schema check).
DEFINE_VALIDATE = 1


def tool():
    return str(build_dir() / "tests" / "sv-net-xml-tool")


def ours(case, xml):
    args = [tool(), "network"] + (["--validate"] if case.startswith("validate-") else [])
    r = subprocess.run(args, input=xml, capture_output=True, text=True, timeout=60)
    assert r.returncode in (0, 1), "sv-net-xml-tool %s: %s" % (case, r.stderr)
    return r.stdout


def theirs(conn, case, xml):
    import libvirt
    flags = DEFINE_VALIDATE if case.startswith("validate-") else 0
    try:
        net = conn.networkDefineXMLFlags(xml, flags)
    except libvirt.libvirtError as e:
        return "error %d %d\n%s\n" % (e.get_error_domain(), e.get_error_code(),
                                      e.get_error_message())
    try:
        return net.XMLDesc(libvirt.VIR_NETWORK_XML_INACTIVE)
    finally:
        net.undefine()


def expected_path(case, text):
    return DATA / (case + (".err" if text.startswith("error ") else ".out"))


def read_expected(case):
    for ext in (".out", ".err"):
        if (DATA / (case + ext)).exists():
            return (DATA / (case + ext)).read_text()
    pytest.fail("%s has neither %s.out nor %s.err (SV_REGENERATE=1 writes them)" %
                (case, case, case), pytrace=False)


@pytest.fixture(scope="module")
def conn(ref):
    import libvirt
    libvirt.registerErrorHandler(lambda *args: None, None)
    c = libvirt.open(ref.uri)
    yield c
    c.close()


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_catalogue(conn, case):
    xml = (DATA / (case + ".xml")).read_text()
    lib = theirs(conn, case, xml)
    mine = ours(case, xml)
    refused = case.startswith("refuse-")
    unsupported = case.startswith("unsupported-")
    quirk = case.startswith("quirk-")
    if os.environ.get("SV_REGENERATE"):
        text = mine if refused or unsupported or quirk else lib
        for ext in (".out", ".err"):
            (DATA / (case + ext)).unlink(missing_ok=True)
        expected_path(case, text).write_text(text)
    expected = read_expected(case)
    if refused:
        # The named difference: libvirtd takes the value, ours refuses it.
        assert not lib.startswith("error "), \
            "libvirtd now refuses %s too; drop the named difference:\n%s" % (case, lib)
        assert expected.startswith("error ")
    elif quirk:
        assert lib != expected, "libvirtd now answers %s as ours; drop the quirk" % case
    elif unsupported:
        assert lib.startswith("error ") and lib != expected, \
            "libvirtd's answer to %s changed; review the named difference:\n%s" % (case, lib)
    else:
        assert lib == expected, "libvirtd's answer to %s is not %s" % (
            case, expected_path(case, expected).name)
    assert mine == expected


@pytest.mark.slow
def test_catalogue_is_complete():
    """Every case has its answer, and every answer its case."""
    answers = {p.stem for p in DATA.glob("*.out")} | {p.stem for p in DATA.glob("*.err")}
    assert answers == set(CASES)
    assert len(CASES) >= 60


# ---- ports: libvirtd's own net-port-dumpxml read and written back by the library ----------

PORT_NETWORKS = [
    # A network on a host bridge libvirt neither makes nor checks, and a macvtap pool of
    # devices it does not look at until a guest plugs in: starting them touches nothing.
    """<network>
  <name>svnc-port-br</name>
  <uuid>9a05da11-e96b-47f3-8253-a3a400000300</uuid>
  <forward mode='bridge'/>
  <bridge name='svbr-nothere'/>
  <portgroup name='web' default='yes'>
    <bandwidth>
      <inbound average='1000' peak='2000' burst='512'/>
      <outbound average='128'/>
    </bandwidth>
  </portgroup>
  <portgroup name='quiet' trustGuestRxFilters='yes'/>
</network>
""",
    """<network>
  <name>svnc-port-direct</name>
  <uuid>9a05da11-e96b-47f3-8253-a3a400000301</uuid>
  <forward mode='private'>
    <interface dev='svnd9'/>
  </forward>
</network>
""",
]

PORT_HEAD = ("<networkport><uuid>%s</uuid><owner><name>g&amp;1</name>"
             "<uuid>c0ee7f52-1234-44e2-8744-4a2b8d5d7ab7</uuid></owner>")
# (network, the port's XML after its uuid and owner): what a hypervisor daemon sends.
PORTS = [
    ("svnc-port-br", "<mac address='52:54:00:7b:35:01'/>"),
    ("svnc-port-br", "<group>quiet</group><mac address='52:54:00:7b:35:02'/>"),
    ("svnc-port-br", "<group>web</group><mac address='52:54:00:7B:35:03'/><bandwidth>"
                     "<inbound average='10' peak='20' burst='5'/><outbound average='7'/>"
                     "</bandwidth><port isolated='yes'/><rxfilters trustGuest='no'/>"),
    ("svnc-port-direct", "<mac address='52:54:00:7b:35:04'/>"),
]


def port_tool(xml):
    r = subprocess.run([tool(), "port"], input=xml, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode in (0, 1), r.stderr
    return r.stdout


@pytest.mark.slow
def test_libvirtd_ports_read_back(conn):
    """Ports libvirtd made (plugged into a bridge-mode and a macvtap network: the plug, the
    port group's bandwidth and rxfilters it copies in) are read and written back by the
    library byte for byte."""
    nets = []
    try:
        for xml in PORT_NETWORKS:
            net = conn.networkDefineXML(xml)
            nets.append(net)
            net.create()
        for i, (name, body) in enumerate(PORTS):
            uuid = "5d744f21-ba4a-4d6e-bdb2-30a35ff320%02x" % i
            port = conn.networkLookupByName(name).portCreateXML(
                PORT_HEAD % uuid + body + "</networkport>")
            try:
                dumped = port.XMLDesc()
            finally:
                port.delete()
            assert "<plug type=" in dumped
            assert port_tool(dumped) == dumped
    finally:
        for net in nets:
            if net.isActive():
                net.destroy()
            net.undefine()
