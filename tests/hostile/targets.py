"""targets.py: start each daemon the protocol-level cases run against.

virtqemud, virtlxcd, virtxend, virtnodedevd and virtstoraged serve their own sockets (virtxend without a Xen
hypervisor still serves, ../e2e/test_xen.py); virtproxyd serves libvirt-sock in
front of a virtqemud, either handing each client's connection to it after the open
(client_handoff = 1, the default) or relaying its frames (client_handoff = 0).
"""

import rawrpc
from hostile import Target

PROXY_MODES = {"proxy-handoff": "client_handoff = 1\n", "proxy-relay": "client_handoff = 0\n"}


def start_qemud(daemons, root, config="", wrapper=()):
    d = daemons.start(config=config or None, args=["--timeout", "0"], wrapper=wrapper)
    return Target("virtqemud", d.sock, "qemu:///system", "QEMU", [d])


def start_proxy(daemons, root, mode, wrapper=()):
    """virtproxyd (run under wrapper) in front of a virtqemud; the proxy is the Target's
    last process."""
    etc = root / "etc" / "libvirt"
    etc.mkdir(parents=True, exist_ok=True)
    conf = etc / "virtproxyd.conf"
    conf.write_text((conf.read_text() if conf.exists() else "") + PROXY_MODES[mode])
    qemud = daemons.start(label="virtqemud", args=["--timeout", "0"])
    sock = root / "run" / "libvirt" / "libvirt-sock"
    proxy = daemons.start(name="virtproxyd", label="virtproxyd", ready_path=sock,
                          args=["--timeout", "0"], wrapper=wrapper)
    return Target(mode, sock, "qemu:///system", "QEMU", [qemud, proxy])


def start_lxcd(daemons, root):
    d = daemons.start(name="virtlxcd", label="virtlxcd", args=["--timeout", "0"])
    return Target("virtlxcd", d.sock, "lxc:///system", "LXC", [d])


def start_xend(daemons, root):
    from svdaemon import daemon_binary

    if not daemon_binary("virtxend").exists():
        import pytest

        pytest.skip("virtxend not built in this build tree")
    d = daemons.start(name="virtxend", label="virtxend", args=["--timeout", "0"])
    return Target("virtxend", d.sock, "xen:///system", "Xen", [d])


def start_nodedevd(daemons, root):
    d = daemons.start(name="virtnodedevd", label="virtnodedevd", args=["--timeout", "0"])
    return Target("virtnodedevd", d.sock, "nodedev:///system", "nodedev", [d],
                  version_proc=rawrpc.PROC_CONNECT_GET_LIB_VERSION)


def start_storaged(daemons, root):
    d = daemons.start(name="virtstoraged", label="virtstoraged", args=["--timeout", "0"])
    return Target("virtstoraged", d.sock, "storage:///system", "storage", [d],
                  version_proc=rawrpc.PROC_CONNECT_GET_LIB_VERSION)


def start(name, daemons, root):
    if name == "virtqemud":
        return start_qemud(daemons, root)
    if name in PROXY_MODES:
        return start_proxy(daemons, root, name)
    if name == "virtlxcd":
        return start_lxcd(daemons, root)
    if name == "virtxend":
        return start_xend(daemons, root)
    if name == "virtnodedevd":
        return start_nodedevd(daemons, root)
    if name == "virtstoraged":
        return start_storaged(daemons, root)
    raise ValueError(name)


ALL = ["virtqemud", "proxy-handoff", "proxy-relay", "virtlxcd", "virtxend", "virtnodedevd",
       "virtstoraged"]
# The daemons that serve the domain procedures (the decode cases of test_frames.py send
# them; virtnodedevd and virtstoraged answer them as unknown procedures before decoding
# anything).
DOMAINS = [n for n in ALL if n not in ("virtnodedevd", "virtstoraged")]
