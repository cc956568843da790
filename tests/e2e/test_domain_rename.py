"""test_domain_rename.py: DOMAIN_RENAME (virsh domrename), issue 18 item 2.

The answers expected are Debian's libvirtd 9.0.0's for the same calls (checked on it by
hand and, in test_rename_calls_equal_libvirtd, in the same run): an inactive persistent
domain takes the new name (same UUID, its file and autostart link moved, the NVRAM path in
its definition left as it was), UNDEFINED/RENAMED comes for the old name and
DEFINED/RENAMED for the new one; libvirt's errors for a taken name, the same name, a '/',
unknown flags and a running domain. libvirt's lxc and libxl drivers have no rename:
NO_SUPPORT.
"""

import subprocess

import pytest

from calls import answer, tiny_xml, virsh
from guests import Events, ensure_event_loop, event_text, uri_for, virsh_env

libvirt = pytest.importorskip("libvirt")
libvirt.registerErrorHandler(lambda ctx, err: None, None)

RENAME = 358  # REMOTE_PROC_DOMAIN_RENAME


def taken(name):
    return (55, 20, "Requested operation is not valid: domain with name '%s' already exists"
            % name)


ITSELF = (55, 20, "Requested operation is not valid: Can't rename domain to itself")
SLASH = (27, 10, "XML error: name a/b cannot contain '/'")
FLAGS = (8, 10, "unsupported flags (0x1) in function qemuDomainRename")
ACTIVE = (55, 10, "Requested operation is not valid: cannot rename active domain")
NVRAM = "/var/lib/libvirt/qemu/nvram/update-rn-a_VARS.fd"



def rename_sequence(conn, prefix):
    """The calls on PREFIX-a (defined, not running; PREFIX-b defined too) and their
    answers, with what the renamed domain looks like."""
    d = conn.lookupByName(prefix + "-a")
    uuid = d.UUIDString()
    found = [answer(d.rename, prefix + "-b", 0), answer(d.rename, prefix + "-a", 0),
             answer(d.rename, "a/b", 0), answer(d.rename, prefix + "-c", 1),
             answer(d.rename, prefix + "-c", 0), d.name()]
    found.append(answer(conn.lookupByName, prefix + "-a")[:2])
    renamed = conn.lookupByName(prefix + "-c")
    found += [renamed.UUIDString() == uuid, renamed.autostart(), renamed.isPersistent()]
    xml = renamed.XMLDesc(0)
    found += ["<name>%s-c</name>" % prefix in xml, NVRAM in xml]
    found.append(answer(renamed.rename, prefix + "-a", 0))
    found.append(conn.lookupByName(prefix + "-a").UUIDString() == uuid)
    return found


def expected(prefix):
    return [taken(prefix + "-b"), ITSELF, SLASH, FLAGS, ("OK", 0), prefix + "-c",
            (42, 10), True, 1, 1, True, True, ("OK", 0), True]


def nvram_xml(name):
    """A domain with an autostart-worthy NVRAM path named after its first name."""
    return ("<domain type='qemu'><name>%s</name><memory unit='KiB'>65536</memory>"
            "<vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type>"
            "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"
            "<nvram>%s</nvram></os><features><acpi/></features></domain>" % (name, NVRAM))


def test_rename_on_a_defined_domain(daemons, root):
    """The sequence on virtqemud: the errors, then the rename with its events, its files on
    disk (new file and link, the old ones gone) and a restarted daemon reading it back."""
    d0 = daemons.start()
    uri = uri_for(d0.sock)
    ensure_event_loop()  # before the connection, for its legacy registration
    conn = libvirt.open(uri)
    events = Events(uri)
    legacy = []

    def on_legacy(c, dom, ev, det, opaque):
        legacy.append((dom.name(), event_text(ev, det)))

    conn.domainEventRegister(on_legacy, None)
    conn.defineXML(nvram_xml("update-rn-a")).setAutostart(1)
    conn.defineXML(tiny_xml("update-rn-b"))
    etc = root / "etc" / "libvirt" / "qemu"
    d = conn.lookupByName("update-rn-a")
    assert answer(d.rename, "update-rn-b", 0) == taken("update-rn-b")
    assert answer(d.rename, "update-rn-c", 0) == ("OK", 0)
    assert d.name() == "update-rn-c"
    events.expect("update-rn-a", ["DEFINED/ADDED", "UNDEFINED/RENAMED"])
    events.expect("update-rn-c", ["DEFINED/RENAMED"])
    # The legacy registration form (virConnectDomainEventRegister) gets them too.
    assert [e for e in legacy if "RENAMED" in e[1]] == [
        ("update-rn-a", "UNDEFINED/RENAMED"), ("update-rn-c", "DEFINED/RENAMED")]
    conn.domainEventDeregister(on_legacy)
    assert sorted(p.name for p in etc.glob("*.xml")) == ["update-rn-b.xml", "update-rn-c.xml"]
    assert sorted(p.name for p in (etc / "autostart").iterdir()) == ["update-rn-c.xml"]
    assert (etc / "autostart" / "update-rn-c.xml").resolve() == (etc / "update-rn-c.xml")
    assert "<name>update-rn-c</name>" in (etc / "update-rn-c.xml").read_text()
    events.close()
    conn.close()
    del d
    assert d0.stop() == 0

    d1 = daemons.start()
    conn = libvirt.open(uri_for(d1.sock))
    try:
        names = sorted(x.name() for x in conn.listAllDomains(0))
        assert names == ["update-rn-b", "update-rn-c"]
        dom = conn.lookupByName("update-rn-c")
        assert dom.autostart() == 1 and NVRAM in dom.XMLDesc(0)
        # virsh domrename says what libvirt's virsh says.
        r = subprocess.run(["virsh", "-c", uri_for(d1.sock), "domrename", "update-rn-c",
                            "update-rn-d"], capture_output=True, text=True, env=virsh_env(),
                           timeout=60)
        assert (r.returncode, r.stdout.strip(), r.stderr) == \
            (0, "Domain successfully renamed", "")
        assert conn.lookupByName("update-rn-d").UUIDString() == dom.UUIDString()
        del dom
    finally:
        conn.close()


def test_rename_sequence(daemon):
    conn = libvirt.open(uri_for(daemon.sock))
    try:
        a = conn.defineXML(nvram_xml("update-rn-a"))
        a.setAutostart(1)
        conn.defineXML(tiny_xml("update-rn-b"))
        assert rename_sequence(conn, "update-rn") == expected("update-rn")
    finally:
        conn.close()


def ours(events, n, timeout=10.0):
    """The first n events of the test's domains (update-rn-X, as (X, text)), in order."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        with events.cond:
            got = [(name[len("update-rn-"):], text) for name, text in events.log
                   if name.startswith("update-rn-")]
        if len(got) >= n or time.monotonic() > deadline:
            return got[:n] if len(got) >= n else got
        time.sleep(0.05)


@pytest.mark.slow
def test_rename_calls_equal_libvirtd(ref, daemon):
    """The same sequence on Debian's libvirtd and on virtqemud, in the same run."""
    results = []
    for uri in (ref.uri, uri_for(daemon.sock)):
        conn = libvirt.open(uri)
        events = Events(uri)
        doms = [conn.defineXML(nvram_xml("update-rn-a")), conn.defineXML(tiny_xml("update-rn-b"))]
        try:
            doms[0].setAutostart(1)
            found = rename_sequence(conn, "update-rn")
            found.append(virsh(uri, "domrename", "update-rn-a", "update-rn-c"))
            found.append(virsh(uri, "domrename", "update-rn-c", "update-rn-c"))
            found.append(ours(events, 8))
            results.append(found)
        finally:
            events.close()
            for name in ("update-rn-a", "update-rn-b", "update-rn-c"):
                try:
                    dom = conn.lookupByName(name)
                    dom.setAutostart(0)
                    dom.undefine()
                except libvirt.libvirtError:
                    pass
            conn.close()
    assert results[0][:-3] == expected("update-rn")
    assert results[0][-3:-1] == [(0, "", ""), (1, "", "error: Requested operation is not "
                                                       "valid: Can't rename domain to itself\n")]
    assert results[0][-1] == [
        ("a", "DEFINED/ADDED"), ("b", "DEFINED/ADDED"), ("a", "UNDEFINED/RENAMED"),
        ("c", "DEFINED/RENAMED"), ("c", "UNDEFINED/RENAMED"), ("a", "DEFINED/RENAMED"),
        ("a", "UNDEFINED/RENAMED"), ("c", "DEFINED/RENAMED")]
    assert results[1] == results[0]


def test_rename_a_running_domain(host):
    """A running domain (Guest A under QEMU), persistent or transient: libvirt's refusal,
    the name unchanged."""
    dom = host.define("update-rn-run")
    host.start_ready(dom)
    assert answer(dom.rename, "update-rn-other", 0) == ACTIVE
    assert answer(dom.rename, "update-rn-run", 0) == ACTIVE
    assert dom.name() == "update-rn-run"
    dom.destroy()
    dom.undefine()
    t = host.conn.createXML(host.xml("update-rn-transient"), 0)
    assert answer(t.rename, "update-rn-other", 0) == ACTIVE
    t.destroy()
    assert answer(host.conn.lookupByName, "update-rn-other")[0] == 42


def raw_rename(sock, uri, new_name, flags=0):
    """DOMAIN_RENAME sent as is (new_name None: a NULL string), which python and virsh check
    before sending; the error, as (code, domain, message)."""
    from rawrpc import Client, i32, opt_string, string, u32
    args = string("nosuch") + b"\x11" * 16 + i32(-1) + opt_string(new_name) + u32(flags)
    with Client(str(sock)) as c:
        c.open(uri)
        _, err = c.call_error(RENAME, args)
        return (err.code, err.domain, err.message)


NULL_NAME = (8, 20, "new_name in virDomainRename must not be NULL")
EMPTY_NAME = (8, 20, "string new_name in virDomainRename must not be empty")


def test_argument_checks_in_the_daemon(daemon):
    """virDomainRename's own checks, which libvirtd runs on its side too, before the lookup
    and the flags (checked on libvirtd 9.0.0 by hand, raw calls on its socket)."""
    uri = "qemu:///system"
    assert raw_rename(daemon.sock, uri, None) == NULL_NAME
    assert raw_rename(daemon.sock, uri, "", 1) == EMPTY_NAME
    assert raw_rename(daemon.sock, uri, "x", 1) == FLAGS
    assert raw_rename(daemon.sock, uri, "x")[:2] == (42, 10)


def test_names_a_define_refuses(daemon):
    """Deliberate difference: libvirtd 9.0.0 renames to a name with a control character
    (a tab), writes it, and at its next start cannot read that file back (its define
    refuses such names). virtqemud refuses it with the error of a define."""
    conn = libvirt.open(uri_for(daemon.sock))
    try:
        d = conn.defineXML(tiny_xml("update-rn-a"))
        code, dom_, msg = answer(d.rename, "update-rn-\tx", 0)
        assert (code, dom_) == (27, 20) and "name" in msg, msg
        assert d.name() == "update-rn-a"
        d.undefine()
    finally:
        conn.close()


def test_lxc_and_xen_answer_no_support(daemons):
    """libvirt's lxc and libxl drivers have no rename: NO_SUPPORT, after the argument check."""
    from svdaemon import daemon_binary
    no_support = (3, 20, "this function is not supported by the connection driver: "
                  "virDomainRename")
    served = 0
    for name, uri in (("virtlxcd", "lxc:///system"), ("virtxend", "xen:///system")):
        if not daemon_binary(name).exists():
            continue
        d = daemons.start(name=name, label=name, args=["--timeout", "0"])
        assert raw_rename(d.sock, uri, "x") == no_support, name
        assert raw_rename(d.sock, uri, "") == EMPTY_NAME, name
        served += 1
    if not served:
        pytest.skip("neither virtlxcd nor virtxend is built")
