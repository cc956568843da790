"""test_lifecycle.py: virtqemud's process lifecycle: signals, pid file, idle exit,
a second instance, socket activation, sd_notify and client limits."""

import os
import shutil
import signal
import socket
import stat
import time

import pytest

import rawrpc
from rawrpc import Client
from svdaemon import sanitizer_env


def serves(path):
    with Client(str(path)) as c:
        return c.open().get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"


# ---------------------------------------------------------------- files and signals

def test_sockets_and_pid_file(daemon):
    modes = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in
             (daemon.sock, daemon.sock_ro, daemon.sock_admin)}
    assert modes == {"virtqemud-sock": 0o600, "virtqemud-sock-ro": 0o666,
                     "virtqemud-admin-sock": 0o600}
    for p in (daemon.sock, daemon.sock_ro, daemon.sock_admin):
        assert stat.S_ISSOCK(os.stat(p).st_mode)
    assert daemon.pid_file.read_text().strip() == str(daemon.pid)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_exits_cleanly_and_removes_files(daemon, sig):
    with Client(str(daemon.sock)) as c:
        c.open()  # a connected client must not hold the exit up
        assert daemon.stop(sig) == 0
        assert c.wait_closed(2.0)
    for p in (daemon.sock, daemon.sock_ro, daemon.sock_admin, daemon.pid_file):
        assert not p.exists(), "%s left behind" % p


def test_pid_file_option(daemons, root):
    pid_file = root / "other.pid"
    d = daemons.start(args=["--pid-file", str(pid_file)])
    assert pid_file.read_text().strip() == str(d.pid)
    assert not d.pid_file.exists()
    assert d.stop() == 0
    assert not pid_file.exists()


def test_second_daemon_refuses_to_start(daemons, root):
    first = daemons.start()
    second = daemons.new(label="second")
    second.expected_status = "nonzero"
    second.start(wait=False)
    assert second.wait_exit(10) != 0
    # Same again with its own pid file, so only the live socket can stop it.
    third = daemons.new(label="third", args=["--pid-file", str(root / "third.pid")])
    third.expected_status = "nonzero"
    third.start(wait=False)
    assert third.wait_exit(10) != 0
    # The first daemon keeps its sockets and pid file and still serves.
    for p in (first.sock, first.sock_ro, first.sock_admin):
        assert p.exists(), "%s was removed by the refused daemon" % p
    assert first.pid_file.read_text().strip() == str(first.pid)
    assert serves(first.sock)
    assert serves(first.sock_ro)
    assert first.alive()


def test_stale_socket_file_is_replaced(daemons, root):
    run = root / "run" / "libvirt"
    run.mkdir(parents=True)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(run / "virtqemud-sock"))
    stale.close()  # the file stays, nobody listens
    d = daemons.start()
    assert serves(d.sock)


def test_socket_mode_from_config(daemons):
    d = daemons.start(config='unix_sock_rw_perms = "0660"\n')
    assert stat.S_IMODE(os.stat(d.sock).st_mode) == 0o660
    assert stat.S_IMODE(os.stat(d.sock_ro).st_mode) == 0o666


# ---------------------------------------------------------------- idle exit

def test_idle_timeout(daemons):
    d = daemons.start(args=["--timeout", "2"])
    with Client(str(d.sock)) as c:
        c.open()
        time.sleep(3.0)
        assert d.alive(), "exited while a client was connected"
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
    t0 = time.monotonic()
    rc = d.wait_exit(8)
    dt = time.monotonic() - t0
    assert rc == 0
    assert 1.5 <= dt <= 4.0, "exited %.2f s after the last client left" % dt
    assert not d.sock.exists() and not d.pid_file.exists()


def test_timeout_zero_never_exits(daemons):
    d = daemons.start(args=["--timeout", "0"])
    time.sleep(1.5)
    assert d.alive()


# ---------------------------------------------------------------- systemd integration

def test_socket_activation(daemons, root):
    if not shutil.which("systemd-socket-activate"):
        pytest.skip("systemd-socket-activate not installed")
    (root / "run" / "libvirt").mkdir(parents=True)
    act = root / "act"
    act.mkdir()
    paths = [act / "rw", act / "ro", act / "admin"]
    wrapper = ["systemd-socket-activate"]
    for p in paths:
        wrapper += ["-l", str(p)]
    wrapper.append("--fdname=virtqemud.socket:virtqemud-ro.socket:virtqemud-admin.socket")
    for k, v in sanitizer_env().items():
        wrapper += ["-E", "%s=%s" % (k, v)]
    d = daemons.new(wrapper=wrapper, ready_path=paths[0])
    d.start()
    assert serves(paths[0])
    # The -ro socket forces read-only.
    with Client(str(paths[1])) as c:
        c.open()
        assert c.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
        _, err = c.call_error(rawrpc.PROC_DOMAIN_DEFINE_XML, rawrpc.string("<domain/>"))
        assert (err.code, err.domain, err.message) == (
            rawrpc.ERR_OPERATION_DENIED, rawrpc.FROM_DOMAIN,
            "operation forbidden: read only access prevents virDomainDefineXML")
    # The rw socket does not.
    with Client(str(paths[0])) as c:
        c.open()
        _, err = c.call_error(rawrpc.PROC_DOMAIN_DEFINE_XML, rawrpc.string("<domain/>"))
        assert err.code != rawrpc.ERR_OPERATION_DENIED
    # It used the sockets it was given and bound none of its own.
    assert not d.sock.exists() and not d.sock_ro.exists() and not d.sock_admin.exists()
    assert d.stop() == 0


def test_socket_activation_with_python(daemons, root):
    libvirt = pytest.importorskip("libvirt")
    if not shutil.which("systemd-socket-activate"):
        pytest.skip("systemd-socket-activate not installed")
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    (root / "run" / "libvirt").mkdir(parents=True)
    rw, ro = root / "rw", root / "ro"
    wrapper = ["systemd-socket-activate", "-l", str(rw), "-l", str(ro),
               "--fdname=virtqemud.socket:virtqemud-ro.socket"]
    for k, v in sanitizer_env().items():
        wrapper += ["-E", "%s=%s" % (k, v)]
    d = daemons.new(wrapper=wrapper, ready_path=rw)
    d.start()
    c = libvirt.open("qemu+unix:///system?socket=%s" % rw)
    try:
        assert c.getType() == "QEMU"
    finally:
        c.close()
    c = libvirt.open("qemu+unix:///system?socket=%s" % ro)
    try:
        with pytest.raises(libvirt.libvirtError) as exc:
            c.defineXML("<domain type='qemu'><name>x</name><memory>65536</memory></domain>")
        assert exc.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    finally:
        c.close()


def test_sd_notify(daemons, root):
    path = root / "notify"
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(str(path))
    ns.settimeout(10)
    try:
        d = daemons.new(env={"NOTIFY_SOCKET": str(path)})
        d.start(wait=False)
        msgs = []
        while not any("READY=1" in m for m in msgs):
            msgs.append(ns.recv(4096).decode())
        # READY=1 means listening: the socket answers at once.
        assert serves(d.sock)
        d.send_signal(signal.SIGTERM)
        while not any("STOPPING=1" in m for m in msgs):
            msgs.append(ns.recv(4096).decode())
        assert d.wait_exit(10) == 0
        ready = next(i for i, m in enumerate(msgs) if "READY=1" in m)
        stopping = next(i for i, m in enumerate(msgs) if "STOPPING=1" in m)
        assert ready < stopping
    finally:
        ns.close()


# ---------------------------------------------------------------- limits

def test_max_clients(daemons):
    d = daemons.start(config="max_clients = 2\n")
    c1 = Client(str(d.sock)).open()
    c2 = Client(str(d.sock)).open()
    try:
        # The third is told why, then closed (libvirt would leave it in the backlog;
        # see tests/hostile/test_clients.py test_more_clients_than_max_clients).
        c3 = Client(str(d.sock))
        try:
            _, err = c3.call_error(rawrpc.PROC_AUTH_LIST)
            assert err.message == "Too many active clients (max_clients = 2), dropping connection"
            assert c3.wait_closed(5.0), "third client was not closed"
        finally:
            c3.close()
        assert c1.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
        assert c2.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
        # A freed slot takes a new client.
        c1.close()
        deadline = time.monotonic() + 5
        while True:
            try:
                with Client(str(d.sock)) as c4:
                    c4.open()
                    assert c4.get_string(rawrpc.PROC_CONNECT_GET_TYPE) == "QEMU"
                break
            except (rawrpc.ConnectionClosed, rawrpc.RpcFailed):
                assert time.monotonic() < deadline, "no slot freed after a client left"
                time.sleep(0.05)
    finally:
        c1.close()
        c2.close()
