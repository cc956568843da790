"""test_secretd.py: virtsecretd (issue 19 item 3) serving secret:///system on its own
sockets, driven by stock virsh and python3-libvirt: secret-define, secret-set-value,
secret-get-value, secret-list, secret-dumpxml and secret-undefine; the files libvirt 9.0
keeps under ROOT/etc/libvirt/secrets; libvirt's errors for read-only connections, private
secrets, missing values and duplicates; the secret events; a restart finding what was
defined. The expected answers are libvirt 9.0's (secret_driver.c, virsecretobj.c,
secret_conf.c); test_secretd_parity (slow) runs the same virsh steps against libvirtd."""

import base64
import os
import subprocess
import threading
import time

import libvirt
import pytest

from guests import ensure_event_loop

UUID = "5d4a3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"
VALUE = b"s3cr3t-\x00\xff-value"
XML = ("<secret ephemeral='no' private='no'><uuid>%s</uuid><description>splitvirt test"
       "</description><usage type='volume'><volume>/var/lib/sv-test/a.qcow2</volume></usage>"
       "</secret>" % UUID)
DUMPED = ("<secret ephemeral='no' private='no'>\n  <uuid>%s</uuid>\n"
          "  <description>splitvirt test</description>\n  <usage type='volume'>\n"
          "    <volume>/var/lib/sv-test/a.qcow2</volume>\n  </usage>\n</secret>\n" % UUID)

VIR_FROM_SECRET = 30


def uri(d, ro=False):
    return "secret:///system?socket=%s" % (d.sock_ro if ro else d.sock)


def virsh(d, *args, ro=False, check=True, quiet=True):
    cmd = ["virsh"] + (["-q"] if quiet else []) + (["-r"] if ro else []) + \
        ["-c", uri(d, ro)] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(cmd), r.stderr))
    return r


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as exc:
        fn(*args)
    e = exc.value
    return e.get_error_code(), e.get_error_domain(), e.get_error_message()


def secrets_dir(root):
    return root / "etc" / "libvirt" / "secrets"


def test_virsh_steps(daemons, root, tmp_path):
    d = daemons.start_secretd()
    (tmp_path / "s.xml").write_text(XML)
    (tmp_path / "v").write_bytes(base64.b64encode(VALUE))
    assert virsh(d, "secret-define", str(tmp_path / "s.xml"), quiet=False).stdout.strip() == \
        "Secret %s created" % UUID
    virsh(d, "secret-set-value", UUID, "--file", str(tmp_path / "v"))
    got = virsh(d, "secret-get-value", UUID).stdout.strip()
    assert base64.b64decode(got) == VALUE
    lines = virsh(d, "secret-list").stdout.split("\n")
    assert [ln.split() for ln in lines if ln.strip()] == \
        [[UUID, "volume", "/var/lib/sv-test/a.qcow2"]]
    assert virsh(d, "secret-dumpxml", UUID).stdout == DUMPED
    assert virsh(d, "uri").stdout.strip().startswith("secret:///system")

    # The files libvirt keeps: the definition as dumped, the value in base64, both 0600.
    sd = secrets_dir(root)
    assert (sd / (UUID + ".xml")).read_text() == DUMPED
    assert (sd / (UUID + ".base64")).read_bytes() == base64.b64encode(VALUE)
    for name in (UUID + ".xml", UUID + ".base64"):
        assert os.stat(sd / name).st_mode & 0o777 == 0o600
    # The value is never logged (the daemon runs --verbose, with debug messages).
    log = d.stderr_text()
    assert base64.b64encode(VALUE).decode() not in log and "s3cr3t" not in log

    assert virsh(d, "secret-undefine", UUID, quiet=False).stdout.strip() == "Secret %s deleted" % UUID
    assert virsh(d, "secret-list").stdout.strip() == ""
    assert sorted(os.listdir(sd)) == []


def test_errors(daemons):
    d = daemons.start_secretd()
    c = libvirt.open(uri(d))
    try:
        s = c.secretDefineXML(XML)
        # No value yet (virSecretObjGetValue).
        assert error_of(s.value) == (
            libvirt.VIR_ERR_NO_SECRET, VIR_FROM_SECRET,
            "Secret not found: secret '%s' does not have a value" % UUID)
        # Another UUID for the same usage; another usage for the same UUID.
        other = XML.replace(UUID, "6d4a3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c")
        assert error_of(c.secretDefineXML, other) == (
            libvirt.VIR_ERR_INTERNAL_ERROR, VIR_FROM_SECRET,
            "internal error: a secret with UUID %s already defined for use with "
            "/var/lib/sv-test/a.qcow2" % UUID)
        assert error_of(c.secretDefineXML, XML.replace("a.qcow2", "b.qcow2")) == (
            libvirt.VIR_ERR_INTERNAL_ERROR, VIR_FROM_SECRET,
            "internal error: a secret with UUID %s is already defined for use with "
            "/var/lib/sv-test/a.qcow2" % UUID)
        assert error_of(c.secretLookupByUsage, libvirt.VIR_SECRET_USAGE_TYPE_CEPH, "nope") == (
            libvirt.VIR_ERR_NO_SECRET, VIR_FROM_SECRET,
            "Secret not found: no secret with matching usage 'nope'")
        assert c.secretLookupByUsage(libvirt.VIR_SECRET_USAGE_TYPE_VOLUME,
                                     "/var/lib/sv-test/a.qcow2").UUIDString() == UUID
        assert error_of(c.secretDefineXML, "<secret><usage type='disk'/></secret>") == (
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_SECRET,
            "unsupported configuration: unknown secret usage type disk")
        # A private secret's value is never given to a client.
        p = c.secretDefineXML("<secret private='yes'><usage type='tls'><name>t</name>"
                              "</usage></secret>")
        p.setValue(b"x")
        assert error_of(p.value) == (libvirt.VIR_ERR_INVALID_SECRET, VIR_FROM_SECRET,
                                     "Invalid secret: secret is private")
        # A UUID libvirt generated; the private flag cannot be dropped.
        assert len(p.UUIDString()) == 36
        assert error_of(c.secretDefineXML, p.XMLDesc().replace("private='yes'",
                                                                "private='no'")) == (
            libvirt.VIR_ERR_INTERNAL_ERROR, VIR_FROM_SECRET,
            "internal error: cannot change private flag on existing secret")
        flags = libvirt.VIR_CONNECT_LIST_SECRETS_PRIVATE
        assert [x.UUIDString() for x in c.listAllSecrets(flags)] == [p.UUIDString()]
        flags = libvirt.VIR_CONNECT_LIST_SECRETS_NO_PRIVATE
        assert [x.UUIDString() for x in c.listAllSecrets(flags)] == [UUID]
        assert c.numOfSecrets() == 2 and sorted(c.listSecrets()) == sorted(
            [UUID, p.UUIDString()])
        p.undefine()
        assert error_of(c.secretLookupByUUIDString, p.UUIDString()) == (
            libvirt.VIR_ERR_NO_SECRET, VIR_FROM_SECRET,
            "Secret not found: no secret with matching uuid '%s'" % p.UUIDString())
        s.setValue(VALUE)

        # Read-only: lookups and XML, never values or changes (libvirt-secret.c's checks).
        r = libvirt.openReadOnly(uri(d, ro=True))
        try:
            rs = r.secretLookupByUUIDString(UUID)
            assert rs.XMLDesc() == DUMPED
            for fn, args, api in ((rs.value, (), "virSecretGetValue"),
                                  (rs.setValue, (b"y",), "virSecretSetValue"),
                                  (rs.undefine, (), "virSecretUndefine"),
                                  (r.secretDefineXML, (XML,), "virSecretDefineXML")):
                assert error_of(fn, *args) == (
                    libvirt.VIR_ERR_OPERATION_DENIED, VIR_FROM_SECRET,
                    "operation forbidden: read only access prevents %s" % api)
        finally:
            r.close()
        assert s.value() == VALUE
    finally:
        c.close()
    r = virsh(d, "secret-get-value", UUID, ro=True, check=False)
    assert r.returncode == 1 and "read only access prevents virSecretGetValue" in r.stderr


def test_events(daemons):
    ensure_event_loop()
    d = daemons.start_secretd()
    c = libvirt.open(uri(d))
    got, cond = [], threading.Condition()

    def lifecycle(conn, secret, event, detail, opaque):
        with cond:
            got.append(("lifecycle", secret.UUIDString(), event, detail))
            cond.notify_all()

    def value_changed(conn, secret, opaque):
        with cond:
            got.append(("value", secret.UUIDString()))
            cond.notify_all()

    try:
        ids = [c.secretEventRegisterAny(None, libvirt.VIR_SECRET_EVENT_ID_LIFECYCLE,
                                        lifecycle, None),
               c.secretEventRegisterAny(None, libvirt.VIR_SECRET_EVENT_ID_VALUE_CHANGED,
                                        value_changed, None)]
        s = c.secretDefineXML(XML)
        s.setValue(VALUE)
        s.undefine()
        want = [("lifecycle", UUID, libvirt.VIR_SECRET_EVENT_DEFINED, 0), ("value", UUID),
                ("lifecycle", UUID, libvirt.VIR_SECRET_EVENT_UNDEFINED, 0)]
        with cond:
            cond.wait_for(lambda: len(got) >= 3, timeout=10)
        assert got == want
        for i in ids:
            c.secretEventDeregisterAny(i)
        # A registration for one secret hears of that one alone.
        one = c.secretDefineXML(XML)
        got.clear()
        c.secretEventRegisterAny(one, libvirt.VIR_SECRET_EVENT_ID_VALUE_CHANGED,
                                 value_changed, None)
        other = c.secretDefineXML("<secret><usage type='ceph'><name>other</name></usage>"
                                  "</secret>")
        other.setValue(b"o")
        one.setValue(b"1")
        with cond:
            cond.wait_for(lambda: len(got) >= 1, timeout=10)
        other.undefine()
        one.undefine()
        assert got == [("value", UUID)]
        # the client refuses an id it no longer holds itself (never sent)
        assert error_of(c.secretEventDeregisterAny, ids[0])[0] == libvirt.VIR_ERR_INVALID_ARG
    finally:
        c.close()


def test_event_registration_errors_on_the_wire(daemons):
    """CONNECT_SECRET_EVENT_REGISTER_ANY and DEREGISTER_ANY answer libvirt 9.0's errors
    (seen from Debian's libvirtd through its secret:///system): an event id out of range is
    INTERNAL_ERROR "unsupported secret event ID N", an id not registered INTERNAL_ERROR
    "node device event callback N not registered" (libvirt's dispatcher says "node device"
    here), both in the RPC domain; a registration goes once deregistered."""
    import rawrpc
    from rawrpc import i32, u32

    d = daemons.start_secretd()
    with rawrpc.Client(str(d.sock_ro)) as c:
        c.open("secret:///system")
        with pytest.raises(rawrpc.RpcFailed) as e:
            c.call(380, i32(2) + u32(0))
        assert (e.value.err.code, e.value.err.domain, e.value.err.message) == (
            rawrpc.ERR_INTERNAL_ERROR, rawrpc.FROM_RPC,
            "internal error: unsupported secret event ID 2")
        cb = c.call(380, i32(1) + u32(0)).i32()
        c.call(381, i32(cb))
        with pytest.raises(rawrpc.RpcFailed) as e:
            c.call(381, i32(cb))
        assert (e.value.err.code, e.value.err.domain, e.value.err.message) == (
            rawrpc.ERR_INTERNAL_ERROR, rawrpc.FROM_RPC,
            "internal error: node device event callback %d not registered" % cb)


def test_restart(daemons, root):
    d = daemons.start_secretd()
    c = libvirt.open(uri(d))
    try:
        c.secretDefineXML(XML).setValue(VALUE)
        e = c.secretDefineXML("<secret ephemeral='yes'><usage type='ceph'><name>eph</name>"
                              "</usage></secret>")
        e.setValue(b"gone")
        # Nothing of an ephemeral secret is written.
        assert sorted(os.listdir(secrets_dir(root))) == [UUID + ".base64", UUID + ".xml"]
    finally:
        c.close()
    d.stop()
    d2 = daemons.start_secretd()
    c = libvirt.open(uri(d2))
    try:
        assert c.listSecrets() == [UUID]
        s = c.secretLookupByUUIDString(UUID)
        assert s.XMLDesc() == DUMPED and s.value() == VALUE
    finally:
        c.close()



def test_ephemeral_secret_holds_idle_exit(daemons):
    """As libvirt's secret driver inhibits its daemon's shutdown while a secret is
    ephemeral (its value lives nowhere else), --timeout waits for the last one to go."""
    d = daemons.start_secretd(args=["--timeout", "1"])
    c = libvirt.open(uri(d))
    e = c.secretDefineXML("<secret ephemeral='yes'><usage type='ceph'><name>e</name></usage>"
                          "</secret>")
    e.setValue(b"held")
    held = e.UUIDString()
    del e  # a secret object keeps its connection open
    c.close()
    time.sleep(3)
    assert d.alive(), "exited on the idle timeout with an ephemeral secret"
    c = libvirt.open(uri(d))
    c.secretLookupByUUIDString(held).undefine()
    c.close()
    assert d.wait_exit(10) == 0

# ---------------------------------------------------------------- against libvirtd

PARITY_UUID = "3f9c2e71-5b0d-4c1a-8e6f-2a7d9b4c0e15"
PARITY_XML = ("<secret ephemeral='no' private='no'><uuid>%s</uuid><description>splitvirt "
              "secretd parity</description><usage type='volume'><volume>"
              "/var/lib/splitvirt-secretd-parity/a.qcow2</volume></usage></secret>"
              % PARITY_UUID)
PRIVATE_XML = ("<secret ephemeral='yes' private='yes'><uuid>%s</uuid><usage type='tls'>"
               "<name>splitvirt-secretd-parity</name></usage></secret>"
               % PARITY_UUID.replace("3f9c", "4f9c"))
DUP_XML = PARITY_XML.replace("3f9c", "5f9c")  # another UUID, the same usage


def virsh_steps(rw, ro, work):
    """The virsh steps of issue 19's "done when" and their refusals, on the read-write URI
    rw and read-only URI ro: [(step, exit status, output, errors)]. Lines of secret-list
    that name other secrets (the host's own, on libvirtd) are left out."""
    (work / "s.xml").write_text(PARITY_XML)
    (work / "p.xml").write_text(PRIVATE_XML)
    (work / "d.xml").write_text(DUP_XML)
    (work / "v").write_bytes(base64.b64encode(VALUE))
    priv = PARITY_UUID.replace("3f9c", "4f9c")
    steps = [
        ("define", False, ["secret-define", str(work / "s.xml")]),
        ("get-value-unset", False, ["secret-get-value", PARITY_UUID]),
        ("set-value", False, ["secret-set-value", PARITY_UUID, "--file", str(work / "v")]),
        ("get-value", False, ["secret-get-value", PARITY_UUID]),
        ("dumpxml", False, ["secret-dumpxml", PARITY_UUID]),
        ("list", False, ["secret-list"]),
        ("define-dup-usage", False, ["secret-define", str(work / "d.xml")]),
        ("ro-dumpxml", True, ["secret-dumpxml", PARITY_UUID]),
        ("ro-get-value", True, ["secret-get-value", PARITY_UUID]),
        ("ro-undefine", True, ["secret-undefine", PARITY_UUID]),
        ("define-private", False, ["secret-define", str(work / "p.xml")]),
        ("set-private", False, ["secret-set-value", priv, "--file", str(work / "v")]),
        ("get-private", False, ["secret-get-value", priv]),
        ("list-private", False, ["secret-list", "--private"]),
        ("undefine-private", False, ["secret-undefine", priv]),
        ("undefine", False, ["secret-undefine", PARITY_UUID]),
        ("get-value-gone", False, ["secret-get-value", PARITY_UUID]),
    ]
    out = []
    for name, readonly, args in steps:
        cmd = ["virsh"] + (["-r"] if readonly else []) + ["-c", ro if readonly else rw] + args
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, LC_ALL="C"))
        stdout = r.stdout
        if args[0] == "secret-list":
            stdout = "".join(ln + "\n" for ln in stdout.splitlines()
                             if "splitvirt-secretd-parity" in ln)
        out.append((name, r.returncode, stdout, r.stderr))
    return out


def undefine_parity_secrets(rw):
    for u in (PARITY_UUID, PARITY_UUID.replace("3f9c", "4f9c")):
        subprocess.run(["virsh", "-c", rw, "secret-undefine", u], capture_output=True,
                       timeout=60)


def api_errors(rw, ro):
    """(code, error domain, message) of the refusals python3-libvirt sees, which virsh's
    output does not show whole."""
    c = libvirt.open(rw)
    r = libvirt.openReadOnly(ro)
    try:
        s = c.secretDefineXML(PARITY_XML)
        p = c.secretDefineXML(PRIVATE_XML)
        p.setValue(b"p")
        rs = r.secretLookupByUUIDString(PARITY_UUID)
        out = [error_of(s.value), error_of(p.value), error_of(rs.value),
               error_of(rs.setValue, b"x"), error_of(r.secretDefineXML, PARITY_XML),
               error_of(c.secretDefineXML, DUP_XML),
               error_of(c.secretDefineXML, PRIVATE_XML.replace("private='yes'",
                                                               "private='no'")),
               error_of(c.secretDefineXML, "<secret><usage type='x'/></secret>"),
               error_of(c.secretDefineXML, "<secret><uuid>x</secret>"),
               error_of(c.secretLookupByUsage, libvirt.VIR_SECRET_USAGE_TYPE_ISCSI,
                        "splitvirt-none"),
               error_of(s.XMLDesc, 1), error_of(c.listAllSecrets, 16)]
        del rs
        p.undefine()
        s.undefine()
        return out
    finally:
        r.close()
        c.close()


@pytest.mark.slow
def test_secretd_parity(daemons, ref, tmp_path):
    """The same virsh steps on virtsecretd and on Debian's libvirtd 9.0.0 (its secret
    driver, through its own socket as secret:///system): the same output, errors and exit
    statuses."""
    d = daemons.start_secretd()
    sock = ref.daemon.sock
    theirs_rw = "secret:///system?socket=%s" % sock
    theirs_ro = "secret:///system?socket=%s-ro" % sock
    undefine_parity_secrets(theirs_rw)  # what an interrupted run may have left
    try:
        # The same files for both: virsh names them in its errors.
        ours = virsh_steps(uri(d), uri(d, ro=True), tmp_path)
        theirs = virsh_steps(theirs_rw, theirs_ro, tmp_path)
    finally:
        undefine_parity_secrets(theirs_rw)
    for o, t in zip(ours, theirs):
        assert o == t, "step %s differs:\nours:   %r\nlibvirtd: %r" % (o[0], o, t)
    try:
        ours = api_errors(uri(d), uri(d, ro=True))
        theirs = api_errors(theirs_rw, theirs_ro)
    finally:
        undefine_parity_secrets(theirs_rw)
    assert ours == theirs
