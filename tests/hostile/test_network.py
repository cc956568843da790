"""test_network.py: hostile network XML sent to virtnetworkd on the wire (issue 20): values
that would inject lines into dnsmasq's configuration or break its host files, names that try
to leave the networks directory, entities, deep and wide documents, a name too long for a
file, and the same injections through net-update and a transient network's create.

Each case asserts the answer (code, domain, message: libvirt 9.0's where libvirt refuses the
document too, splitvirt's own where libvirt takes a value dnsmasq cannot carry, the named
difference of ../e2e/test_network_xml.py), that no file appears outside the networks'
directories (nothing at all for a refused document), and that a fresh client is served at
once afterwards; the `daemons` fixture checks at teardown that virtnetworkd neither died
nor reported a sanitizer error."""

import time

import pytest

import rawrpc
from hostile import Target, assert_still_serving, check_rpc_error, files_under
from rawrpc import ERROR, i32, string, u32

PROC_NETWORK_CREATE_XML, PROC_NETWORK_DEFINE_XML = 40, 41
PROC_NETWORK_UNDEFINE, PROC_NETWORK_UPDATE = 49, 291
PROC_NETWORK_LOOKUP_BY_NAME = 46
FROM_XML, FROM_NETWORK = 5, 19
ERR_INTERNAL, ERR_XML_ERROR, ERR_XML_DETAIL, ERR_SYSTEM = 1, 27, 35, 38
# net-update: command ADD_LAST, section IP_DHCP_HOST, DNS_HOST; flags CONFIG
UPDATE_ADD_LAST, SECTION_DHCP_HOST, SECTION_DNS_HOST, AFFECT_CONFIG = 3, 4, 10, 2

HEAD = ("<network><name>%s</name><bridge name='svh0'/><mac address='52:54:00:5e:77:01'/>")
DHCP = ("<ip address='192.168.177.1' prefix='24'><dhcp>"
        "<range start='192.168.177.2' end='192.168.177.9'/>%s</dhcp></ip>")
UNSAFE = "contains a character that dnsmasq's configuration cannot carry"

# (case, document, code, domain, message) for documents refused as a whole.
REFUSED = [
    ("txt-newline", HEAD % "h" + "<dns><txt name='t' value='x&#10;dhcp-script=/tmp/x'/></dns>"
     "</network>", ERR_XML_DETAIL, FROM_NETWORK,
     "DNS TXT record value 'x\\ndhcp-script=/tmp/x' in network 'h' " + UNSAFE),
    ("txt-carriage-return", HEAD % "h" + "<dns><txt name='t' value='x&#13;y'/></dns>"
     "</network>", ERR_XML_DETAIL, FROM_NETWORK,
     "DNS TXT record value 'x\\ry' in network 'h' " + UNSAFE),
    ("dhcp-host-comma", HEAD % "h" + DHCP % "<host mac='52:54:00:00:00:09' name='a,ignore'"
     " ip='192.168.177.5'/>" + "</network>", ERR_XML_DETAIL, FROM_NETWORK,
     "DHCP host name 'a,ignore' in network 'h' " + UNSAFE),
    ("dns-hostname-newline", HEAD % "h" + "<dns><host ip='192.168.177.3'><hostname>a&#10;"
     "1.2.3.4 evil</hostname></host></dns></network>", ERR_XML_DETAIL, FROM_NETWORK,
     "DNS host name 'a\\n1.2.3.4 evil' in network 'h' " + UNSAFE),
    ("domain-newline", HEAD % "h" + "<domain name='x&#10;server=8.8.8.8'/></network>",
     ERR_XML_DETAIL, FROM_NETWORK, "domain name 'x\\nserver=8.8.8.8' in network 'h' " + UNSAFE),
    ("srv-target-newline", HEAD % "h" + "<dns><srv service='s' protocol='tcp' target='t&#10;"
     "x' port='1'/></dns></network>", ERR_XML_DETAIL, FROM_NETWORK,
     "DNS SRV target 't\\nx' in network 'h' " + UNSAFE),
    ("tftp-root-newline", HEAD % "h" + "<ip address='192.168.177.1' prefix='24'>"
     "<tftp root='/srv&#10;dhcp-script=/x'/></ip></network>", ERR_XML_DETAIL, FROM_NETWORK,
     "tftp root '/srv\\ndhcp-script=/x' in network 'h' " + UNSAFE),
    ("dnsmasq-option-newline", "<network xmlns:dnsmasq='http://libvirt.org/schemas/network/"
     "dnsmasq/1.0'><name>h</name><dnsmasq:options><dnsmasq:option value='a=1&#10;b=2'/>"
     "</dnsmasq:options></network>", ERR_XML_DETAIL, FROM_NETWORK,
     "dnsmasq option 'a=1\\nb=2' in network 'h' " + UNSAFE),
    ("bridge-name-slash", "<network><name>h</name><bridge name='../x'/></network>",
     ERR_XML_DETAIL, FROM_NETWORK, "bridge name '../x' in network 'h' " + UNSAFE),
    ("name-dotdot-slash", "<network><name>../../etc/x</name></network>", ERR_XML_DETAIL,
     FROM_XML, "invalid char in name: /"),
    ("name-newline", "<network><name>a&#10;b</name></network>", ERR_XML_DETAIL, FROM_XML,
     "invalid char in name: \n"),
    ("name-tab", "<network><name>a&#9;b</name></network>", ERR_XML_DETAIL, FROM_NETWORK,
     "network name 'a\\tb' " + UNSAFE),
    ("entity-expansion", "<!DOCTYPE network [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;"
     "&a;&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>]>"
     "<network><name>&c;</name></network>", ERR_XML_ERROR, FROM_NETWORK,
     "XML error: entity references and DTDs are not allowed in this XML"),
    ("external-entity", "<!DOCTYPE network [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
     "<network><name>&x;</name></network>", ERR_XML_ERROR, FROM_NETWORK,
     "XML error: entity references and DTDs are not allowed in this XML"),
]


def start_networkd(daemons, root):
    d = daemons.new(name="virtnetworkd", label="virtnetworkd").start()
    return Target("virtnetworkd", d.sock, "network:///system", "network", [d],
                  version_proc=rawrpc.PROC_CONNECT_GET_LIB_VERSION, family="network")


@pytest.fixture
def networkd(daemons, root):
    return start_networkd(daemons, root)


def error(c, proc, args):
    m = c.call_raw(proc, args)
    assert m.status == ERROR, (proc, args)
    return rawrpc.RpcError.decode(m.payload)


def define(c, xml):
    """NETWORK_DEFINE_XML; the network's wire name (name + uuid)."""
    u = c.call(PROC_NETWORK_DEFINE_XML, string(xml))
    return string(u.string()) + u.opaque_fixed(16)


def network_files(root):
    return {p for p in files_under(root) if p.startswith("etc/libvirt/qemu/networks")}


@pytest.mark.parametrize("case,xml,code,domain,message", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_documents(networkd, root, case, xml, code, domain, message):
    """Refused by define and by create (a transient network would start at once): libvirt's
    or splitvirt's answer, nothing written, nothing started."""
    before = files_under(root)
    with networkd.opened() as c:
        for proc in (PROC_NETWORK_DEFINE_XML, PROC_NETWORK_CREATE_XML):
            check_rpc_error(error(c, proc, string(xml)), code, domain, message)
    assert files_under(root) == before
    assert_still_serving(networkd)


def test_update_cannot_inject(networkd, root):
    """net-update's DHCP and DNS host entries go through the same checks: the injection is
    refused and the stored definition is the one before."""
    with networkd.opened() as c:
        net = define(c, HEAD % "upd" + DHCP % "" + "</network>")
        path = root / "etc/libvirt/qemu/networks/upd.xml"
        stored = path.read_text()
        cases = [
            (SECTION_DHCP_HOST, "<host mac='52:54:00:00:00:0a' name='x,y' ip='192.168.177.6'/>",
             "DHCP host name 'x,y' in network 'upd' " + UNSAFE),
            (SECTION_DNS_HOST, "<host ip='192.168.177.7'><hostname>a b</hostname></host>",
             "DNS host name 'a b' in network 'upd' " + UNSAFE),
        ]
        for section, frag, message in cases:
            args = (net + u32(UPDATE_ADD_LAST) + u32(section) + i32(-1) + string(frag)
                    + u32(AFFECT_CONFIG))
            check_rpc_error(error(c, PROC_NETWORK_UPDATE, args), ERR_XML_DETAIL, FROM_NETWORK,
                            message)
        assert path.read_text() == stored
        c.call(PROC_NETWORK_UNDEFINE, net)
    assert_still_serving(networkd)


def test_dot_names_stay_in_the_directory(networkd, root):
    """'.' and '..' are names libvirt takes: their files are '..xml' and '...xml' in the
    networks directory, nowhere else; undefine removes them."""
    before = files_under(root)
    with networkd.opened() as c:
        nets = [define(c, "<network><name>%s</name><bridge name='svh%d'/></network>" % (n, i))
                for i, n in enumerate((".", ".."))]
        added = files_under(root) - before
        assert {"etc/libvirt/qemu/networks/..xml", "etc/libvirt/qemu/networks/...xml"} <= added
        assert all(p.startswith(("etc/libvirt/qemu/networks", "run/libvirt/network"))
                   for p in added), added
        for net in nets:
            c.call(PROC_NETWORK_UNDEFINE, net)
    assert network_files(root) == {p for p in before if p.startswith("etc/libvirt/qemu/networks")}
    assert_still_serving(networkd)


def test_name_too_long_for_a_file(networkd, root):
    """A 300-byte name cannot be a file name: define fails with the file's error, nothing is
    left behind, and the name is not known afterwards."""
    name = "n" * 300
    before = files_under(root)
    with networkd.opened() as c:
        err = error(c, PROC_NETWORK_DEFINE_XML, string("<network><name>%s</name>"
                                                       "<bridge name='svh2'/></network>" % name))
        assert err.code in (ERR_SYSTEM, ERR_INTERNAL) and "File name too long" in err.message, err
        m = c.call_raw(PROC_NETWORK_LOOKUP_BY_NAME, string(name))
        assert m.status == ERROR
    assert files_under(root) == before
    assert_still_serving(networkd)


def test_deep_document(networkd, root):
    """10,000 nested elements in <metadata>: libxml2's depth limit refuses the document
    (a parse error naming the line), the daemon keeps serving."""
    xml = ("<network><name>deep</name><metadata><x:a xmlns:x='http://x/'>" + "<x:a>" * 10000
           + "</x:a>" * 10000 + "</x:a></metadata></network>")
    with networkd.opened() as c:
        err = error(c, PROC_NETWORK_DEFINE_XML, string(xml))
        assert (err.code, err.domain) == (ERR_XML_DETAIL, FROM_NETWORK), err
    assert_still_serving(networkd)


def test_wide_document(networkd, root):
    """20,000 DHCP hosts and 2,000 DNS hosts: defined and written back in bounded time (the
    checks are linear), then undefined."""
    hosts = "".join("<host mac='52:54:00:%02x:%02x:%02x' ip='10.7.%d.%d'/>"
                    % (i >> 16 & 255, i >> 8 & 255, i & 255, i // 250, i % 250 + 2)
                    for i in range(20000))
    dns = "".join("<host ip='10.7.200.%d'><hostname>h%d</hostname></host>" % (i % 250 + 1, i)
                  for i in range(2000))
    xml = ("<network><name>wide</name><bridge name='svh3'/><dns>%s</dns><ip address='10.7.0.1'"
           " prefix='16'><dhcp>%s</dhcp></ip></network>" % (dns, hosts))
    with networkd.opened(timeout=60) as c:
        t0 = time.monotonic()
        net = define(c, xml)
        took = time.monotonic() - t0
        assert (root / "etc/libvirt/qemu/networks/wide.xml").read_text().count("<host ") == 22000
        c.call(PROC_NETWORK_UNDEFINE, net)
    print("20,000-host network defined in %.2f s" % took)
    assert_still_serving(networkd)
