"""test_python_api.py: python3-libvirt against virtqemud on a private socket."""

import os
import socket
import xml.etree.ElementTree as ET

import pytest

from svdaemon import meminfo_kib, qemu_version

libvirt = pytest.importorskip("libvirt")

# Errors come back as exceptions; keep libvirt's default handler off stderr.
libvirt.registerErrorHandler(lambda ctx, err: None, None)

DOMAIN_XML = ("<domain type='qemu'><name>e2e</name><memory unit='MiB'>64</memory>"
              "<os><type arch='x86_64'>hvm</type></os></domain>")


def uri_for(path):
    return "qemu+unix:///system?socket=%s" % path


@pytest.fixture
def conn(daemon):
    c = libvirt.open(uri_for(daemon.sock))
    yield c
    c.close()


def test_connection_basics(conn, daemon):
    assert conn.getType() == "QEMU"
    assert conn.getURI() == uri_for(daemon.sock)
    assert conn.getHostname() == socket.gethostname()
    assert conn.getLibVersion() == 9000000
    assert conn.isSecure() == 1
    assert conn.isAlive() == 1


def test_get_version_matches_qemu(conn):
    want = qemu_version()
    if want is None:
        pytest.skip("qemu-system-x86_64 not installed")
    major, minor, micro = want
    assert conn.getVersion() == major * 1000000 + minor * 1000 + micro


def test_get_capabilities(conn):
    caps = ET.fromstring(conn.getCapabilities())
    arches = [a.get("name") for a in caps.findall("guest/arch")]
    assert "x86_64" in arches
    types = [d.get("type") for d in caps.findall("guest/arch/domain")]
    assert "qemu" in types


def test_get_info(conn):
    model, memory_mib, cpus, mhz, nodes, sockets, cores, threads = conn.getInfo()
    assert model == os.uname().machine
    assert memory_mib == meminfo_kib("MemTotal") // 1024
    assert cpus == os.cpu_count()
    assert nodes == 1
    assert sockets * cores * threads == cpus
    assert mhz >= 0


def test_free_memory_and_security_model(conn):
    free = conn.getFreeMemory()
    assert 0 < free <= meminfo_kib("MemTotal") * 1024
    # libvirt's "none" security driver, the capabilities' first <secmodel> here.
    assert conn.getSecurityModel() == ["none", "0"]


def test_list_all_domains_empty(conn):
    assert conn.listAllDomains(0) == []
    assert conn.numOfDomains() == 0
    assert conn.listDomainsID() == []


def test_open_read_only(daemon):
    c = libvirt.openReadOnly(uri_for(daemon.sock_ro))
    try:
        assert c.getType() == "QEMU"
        assert c.getInfo()[2] == os.cpu_count()
        with pytest.raises(libvirt.libvirtError) as exc:
            c.defineXML(DOMAIN_XML)
        assert exc.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    finally:
        c.close()


def test_readonly_socket_forces_readonly(daemon):
    # Opened read-write, so the client does not refuse by itself: the daemon
    # must force read-only for a connection that came in on -sock-ro.
    c = libvirt.open(uri_for(daemon.sock_ro))
    try:
        with pytest.raises(libvirt.libvirtError) as exc:
            c.defineXML(DOMAIN_XML)
        e = exc.value
        assert e.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
        assert e.get_error_domain() == libvirt.VIR_FROM_DOMAIN
        assert e.get_error_message() == \
            "operation forbidden: read only access prevents virDomainDefineXML"
        assert c.getType() == "QEMU"
    finally:
        c.close()


def test_unknown_procedure_maps_to_no_support(conn):
    # NODE_ALLOC_PAGES (347) is not implemented: the daemon answers
    # "unknown procedure" and the client remaps that to NO_SUPPORT (section 1).
    with pytest.raises(libvirt.libvirtError) as exc:
        conn.allocPages({4: 0}, 0, 1, 0)
    assert exc.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT
    assert exc.value.get_error_domain() == libvirt.VIR_FROM_RPC
    # The connection survives the error.
    assert conn.getType() == "QEMU"


def test_wrong_uri_path_fails_to_open(daemon):
    with pytest.raises(libvirt.libvirtError) as exc:
        libvirt.open("qemu+unix:///bogus?socket=%s" % daemon.sock)
    e = exc.value
    assert e.get_error_code() == libvirt.VIR_ERR_INTERNAL_ERROR
    assert e.get_error_message() == \
        "internal error: unexpected qemu URI path '/bogus', try qemu:///system"
