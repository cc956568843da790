"""test_virsh.py: the stock virsh against virtqemud on a private socket."""

import os
import re
import shutil
import socket
import subprocess
import xml.etree.ElementTree as ET

import pytest

from svdaemon import meminfo_kib, qemu_version

VIRSH_TIMEOUT = 30

if not shutil.which("virsh"):
    pytest.skip("virsh (libvirt-clients) not installed", allow_module_level=True)


def uri_for(path):
    return "qemu+unix:///system?socket=%s" % path


def virsh(daemon, *args, sock=None, check=True):
    """Run virsh with a hard time limit; a hang fails instead of blocking."""
    uri = uri_for(sock or daemon.sock)
    env = dict(os.environ, LC_ALL="C")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    r = subprocess.run(["timeout", "-k", "5", str(VIRSH_TIMEOUT), "virsh", "-c", uri] + list(args),
                       capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    assert r.returncode != 124, "virsh %s timed out:\n%s" % (" ".join(args), r.stderr)
    if check:
        assert r.returncode == 0, "virsh %s failed (%d):\n%s" % (" ".join(args), r.returncode,
                                                                 r.stderr)
    return r


def test_version_reports_installed_qemu(daemon):
    want = qemu_version()
    if want is None:
        pytest.skip("qemu-system-x86_64 not installed")
    out = virsh(daemon, "version").stdout
    assert "Running hypervisor: QEMU %d.%d.%d\n" % want in out
    assert "Using API: QEMU 9.0.0" in out


def test_uri_echoes_client_uri(daemon):
    # The client answers virConnectGetURI from the URI it opened (facts, section 10).
    assert virsh(daemon, "uri").stdout.strip() == uri_for(daemon.sock)


def test_hostname(daemon):
    assert virsh(daemon, "hostname").stdout.strip() == socket.gethostname()


def test_nodeinfo(daemon):
    out = virsh(daemon, "nodeinfo").stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    assert int(fields["CPU(s)"]) == os.cpu_count()
    assert fields["Memory size"] == "%d KiB" % meminfo_kib("MemTotal")
    assert fields["NUMA cell(s)"] == "1"
    sockets = int(fields["CPU socket(s)"])
    cores = int(fields["Core(s) per socket"])
    threads = int(fields["Thread(s) per core"])
    assert sockets * cores * threads == os.cpu_count()


def test_capabilities_xml(daemon):
    out = virsh(daemon, "capabilities").stdout
    caps = ET.fromstring(out)
    assert caps.tag == "capabilities"
    assert caps.find("host/cpu/arch").text == os.uname().machine
    guests = caps.findall("guest")
    assert guests, "no <guest> in capabilities"
    x86 = [g for g in guests if g.find("arch").get("name") == "x86_64"]
    assert x86, "no x86_64 guest"
    g = x86[0]
    assert g.find("os_type").text == "hvm"
    assert "qemu" in [d.get("type") for d in g.findall("arch/domain")]
    assert g.find("arch/emulator").text.endswith("qemu-system-x86_64")
    assert g.findall("arch/machine"), "no machine types listed"


def test_list_all_is_empty(daemon):
    r = virsh(daemon, "list", "--all")
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    assert re.match(r"^\s*Id\s+Name\s+State\s*$", lines[0])
    assert set(lines[1].strip()) == {"-"}
    assert lines[2:] == [], "unexpected domains listed: %r" % lines[2:]
    assert r.stderr == ""


def test_define_on_readonly_socket_is_denied(daemon, tmp_path):
    xml = tmp_path / "d.xml"
    xml.write_text("<domain type='qemu'><name>x</name><memory>65536</memory>"
                   "<os><type>hvm</type></os></domain>")
    r = virsh(daemon, "define", str(xml), sock=daemon.sock_ro, check=False)
    assert r.returncode == 1
    assert "error: operation forbidden: read only access prevents virDomainDefineXML" in r.stderr
