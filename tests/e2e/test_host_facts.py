"""test_host_facts.py: the host facts of issue 18 item 5 through the stock virsh and
python3-libvirt: the node's CPU and memory statistics, cells' free memory, the CPU map,
the KSM parameters, free pages, the vCPU limit and the host's SMBIOS tables, each checked
against /proc, /sys and /dev/kvm read here, with libvirt 9.0's errors; then virtlxcd and
virtxend, which answer as libvirt's lxc and libxl drivers do. The slow test asks Debian's
libvirtd the same questions and compares the answers' shapes and errors.

Kept differences from libvirtd, each with its reason:
- DIFF_OEM_DOTS: libvirt runs dmidecode a second time for an OEM string with a dot in it
  (dmidecode prints a newline as a dot); we keep the dotted text (tests/unit/test-sysinfo.c).
- DIFF_CPU_MODELS: for ppc64 CONNECT_GET_CPU_MODEL_NAMES lists libvirt's map's POWER models;
  we read the map's x86 part only and answer NO_SUPPORT. (x86's list is the map's, in its
  order, as libvirt's.)
- DIFF_XEN_NODE: libvirt's libxl driver reads the node's figures from libxl; virtxend does
  not serve those calls yet (NO_SUPPORT), only CONNECT_GET_SYSINFO.
"""

import fcntl
import os
import re
import shutil
import subprocess

import pytest

from svdaemon import daemon_binary

libvirt = pytest.importorskip("libvirt")

ERR_INTERNAL, ERR_NO_SUPPORT, ERR_INVALID_ARG, ERR_OPERATION_FAILED = 1, 3, 8, 9
ERR_CONFIG_UNSUPPORTED = 67
FROM_NONE, FROM_QEMU, FROM_LXC, FROM_CPU, FROM_LIBXL = 0, 10, 17, 31, 41
KVM_CHECK_EXTENSION = 0xAE03  # _IO(KVMIO, 0x03)
KVM_CAP_NR_VCPUS, KVM_CAP_MAX_VCPUS = 9, 66
VIRSH_TIMEOUT = 60
# Free memory moves while a test reads it: how far apart two reads may be.
FREE_SLACK_KIB = 512 * 1024


def error_of(fn, *args):
    with pytest.raises(libvirt.libvirtError) as e:
        fn(*args)
    return (e.value.get_error_code(), e.value.get_error_domain(), e.value.get_error_message())


def virsh(uri, *args, check=True):
    env = dict(os.environ, LC_ALL="C")
    env.pop("LIBVIRT_DEFAULT_URI", None)
    r = subprocess.run(["timeout", "-k", "5", str(VIRSH_TIMEOUT), "virsh", "-c", uri, *args],
                       capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)
    if check:
        assert r.returncode == 0, "virsh %s failed:\n%s" % (" ".join(args), r.stderr)
    return r


def qemu_uri(d):
    return "qemu+unix:///system?socket=%s" % d.sock


def read(path):
    with open(path) as f:
        return f.read()


def meminfo(path="/proc/meminfo"):
    out = {}
    for line in read(path).splitlines():
        m = re.match(r"(?:Node \d+ )?(\w+):\s+(\d+)", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def numa_nodes():
    base = "/sys/devices/system/node"
    ids = [int(n[4:]) for n in os.listdir(base) if re.fullmatch(r"node\d+", n)] \
        if os.path.isdir(base) else []
    return sorted(ids) or [0]


def cell_meminfo(cell):
    path = "/sys/devices/system/node/node%d/meminfo" % cell
    return meminfo(path) if os.path.exists(path) else meminfo()


def cpu_ticks(cpu):
    """kernel, user, idle, iowait of /proc/stat's line for cpu (-1: all), in ns."""
    tick_ns = 10**9 // os.sysconf("SC_CLK_TCK")
    name = "cpu" if cpu < 0 else "cpu%d" % cpu
    for line in read("/proc/stat").splitlines():
        f = line.split()
        if f[0] == name:
            v = [int(x) for x in f[1:8]]
            return {"kernel": (v[2] + v[5] + v[6]) * tick_ns, "user": (v[0] + v[1]) * tick_ns,
                    "idle": v[3] * tick_ns, "iowait": v[4] * tick_ns}
    raise AssertionError("no %s in /proc/stat" % name)


def cpu_list(text):
    cpus = set()
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def hugepage_sizes():
    base = "/sys/kernel/mm/hugepages"
    return sorted(int(re.match(r"hugepages-(\d+)kB", n).group(1)) for n in os.listdir(base)) \
        if os.path.isdir(base) else []


def free_hugepages(cell, kib):
    path = "/sys/devices/system/node/node%d/hugepages/hugepages-%dkB/free_hugepages" % (cell, kib)
    if not os.path.exists(path):
        path = "/sys/kernel/mm/hugepages/hugepages-%dkB/free_hugepages" % kib
    return int(read(path))


def kvm_max_vcpus():
    fd = os.open("/dev/kvm", os.O_RDONLY)
    try:
        n = fcntl.ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS)
        if n <= 0:
            n = fcntl.ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS)
        return n if n > 0 else 4
    finally:
        os.close(fd)


def dmidecode_tables():
    """dmidecode's output as libvirt asks for it, or None when it finds no tables."""
    path = shutil.which("dmidecode")
    if not path:
        return None
    r = subprocess.run([path, "-q", "-t", "0,1,2,3,4,11,17"], capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else None


# ---------------------------------------------------------------- the node's figures

def check_cpu_stats(conn):
    """NODE_GET_CPU_STATS for all CPUs and each CPU, between two reads of /proc/stat."""
    for cpu in [-1] + sorted(cpu_list(read("/sys/devices/system/cpu/online"))):
        before = cpu_ticks(cpu)
        got = conn.getCPUStats(cpu, 0)
        after = cpu_ticks(cpu)
        assert list(got) == ["kernel", "user", "idle", "iowait"]
        for k in got:
            assert before[k] <= got[k] <= after[k], (cpu, k, before[k], got[k], after[k])


def check_memory_stats(conn):
    host = conn.getMemoryStats(-1, 0)
    assert list(host) == ["total", "free", "buffers", "cached"]
    assert host["total"] == meminfo()["MemTotal"]
    assert abs(host["free"] - meminfo()["MemFree"]) < FREE_SLACK_KIB
    for cell in numa_nodes():
        got = conn.getMemoryStats(cell, 0)
        mine = cell_meminfo(cell)
        assert list(got) in (["total", "free"], ["total", "free", "buffers", "cached"])
        assert got["total"] == mine["MemTotal"]
        assert abs(got["free"] - mine["MemFree"]) < FREE_SLACK_KIB


def check_node_errors(conn, free_pages_from, free_pages_func):
    last = numa_nodes()[-1]
    ncpus = len(cpu_list(read("/sys/devices/system/cpu/present")))
    assert error_of(conn.getCPUStats, ncpus + 97, 0) == (
        ERR_INVALID_ARG, FROM_NONE, "Invalid cpuNum in virHostCPUGetStatsLinux")
    assert error_of(conn.getCPUStats, -1, 1) == (
        ERR_INVALID_ARG, FROM_NONE, "unsupported flags (0x1) in function virHostCPUGetStats")
    assert error_of(conn.getMemoryStats, last + 5, 0) == (
        ERR_INVALID_ARG, FROM_NONE,
        "cellNum in virHostMemGetStats must be less than or equal to %d" % last)
    assert error_of(conn.getMemoryStats, -1, 1) == (
        ERR_INVALID_ARG, FROM_NONE, "unsupported flags (0x1) in function virHostMemGetStats")
    assert error_of(conn.getCellsFreeMemory, last + 3, 1) == (
        ERR_INTERNAL, FROM_NONE, "internal error: start cell %d out of range (0-%d)"
        % (last + 3, last))
    assert error_of(conn.getCPUMap, 1) == (
        ERR_INVALID_ARG, FROM_NONE, "unsupported flags (0x1) in function virHostCPUGetMap")
    assert error_of(conn.getMemoryParameters, 1) == (
        ERR_INVALID_ARG, FROM_NONE,
        "unsupported flags (0x1) in function virHostMemGetParameters")
    assert error_of(conn.getFreePages, [4], 0, 1, 1) == (
        ERR_INVALID_ARG, free_pages_from,
        "unsupported flags (0x1) in function %s" % free_pages_func)
    assert error_of(conn.getFreePages, [3], 0, 1, 0) == (
        ERR_OPERATION_FAILED, FROM_NONE, "operation failed: page size 3 is not available on "
        "node 0")
    assert error_of(conn.getFreePages, [4], last + 4, 1, 0) == (
        ERR_INTERNAL, FROM_NONE, "internal error: start cell %d out of range (0-%d)"
        % (last + 4, last))


def check_cells_and_pages(conn):
    nodes = numa_nodes()
    cells = conn.getCellsFreeMemory(0, len(nodes) + 4)  # cut at the last cell
    assert len(cells) == len(nodes)
    for cell, got in zip(nodes, cells):
        assert abs(got - cell_meminfo(cell)["MemFree"] * 1024) < FREE_SLACK_KIB * 1024
    sizes = [os.sysconf("SC_PAGESIZE") // 1024] + hugepage_sizes()
    pages = conn.getFreePages(sizes, 0, len(nodes), 0)
    assert sorted(pages) == nodes
    for cell in nodes:
        assert list(pages[cell]) == sizes
        base = pages[cell][sizes[0]]
        assert abs(base - cell_meminfo(cell)["MemFree"] // sizes[0]) < FREE_SLACK_KIB // sizes[0]
        for kib in sizes[1:]:
            assert pages[cell][kib] == free_hugepages(cell, kib)
    # startCell -1: the whole host.
    whole = conn.getFreePages([sizes[0]], -1, 1, 0)[-1][sizes[0]]
    assert abs(whole - meminfo()["MemFree"] // sizes[0]) < FREE_SLACK_KIB // sizes[0]


def check_cpu_map_and_ksm(conn):
    present = cpu_list(read("/sys/devices/system/cpu/present"))
    online = cpu_list(read("/sys/devices/system/cpu/online"))
    n, cpumap, count = conn.getCPUMap(0)
    assert n == max(present) + 1
    assert [i for i, on in enumerate(cpumap) if on] == sorted(online)
    assert count == len(online)
    params = conn.getMemoryParameters(0)
    names = ["shm_pages_to_scan", "shm_sleep_millisecs", "shm_pages_shared",
             "shm_pages_sharing", "shm_pages_unshared", "shm_pages_volatile", "shm_full_scans",
             "shm_merge_across_nodes"]
    expected = [k for k in names if os.path.exists("/sys/kernel/mm/ksm/" + k[4:])]
    assert list(params) == expected
    for k in ("shm_pages_to_scan", "shm_sleep_millisecs", "shm_merge_across_nodes"):
        if k in params:
            assert params[k] == int(read("/sys/kernel/mm/ksm/" + k[4:]))


def check_node_facts(conn, free_pages_from, free_pages_func):
    """Every node fact on conn against the host, and the errors of each (the free pages'
    from free_pages_from, libvirt's driver function free_pages_func)."""
    check_cpu_stats(conn)
    check_memory_stats(conn)
    check_cells_and_pages(conn)
    check_cpu_map_and_ksm(conn)
    check_node_errors(conn, free_pages_from, free_pages_func)


def test_node_facts_python(daemon):
    conn = libvirt.open(qemu_uri(daemon))
    try:
        check_node_facts(conn, FROM_QEMU, "qemuNodeGetFreePages")
    finally:
        conn.close()


def test_node_facts_virsh(daemon):
    uri = qemu_uri(daemon)
    out = virsh(uri, "nodecpustats").stdout
    assert re.findall(r"^(\w+):", out, re.M) == ["user", "system", "idle", "iowait"]
    out = virsh(uri, "nodecpustats", "--percent").stdout
    assert re.findall(r"^(\w+):", out, re.M) == ["usage", "user", "system", "idle", "iowait"]
    out = virsh(uri, "nodememstats").stdout
    total = int(re.search(r"^total\s*:\s*(\d+) KiB", out, re.M).group(1))
    assert total == meminfo()["MemTotal"]
    out = virsh(uri, "freecell", "--all").stdout
    assert len(re.findall(r"^\s*\d+:\s+\d+ KiB", out, re.M)) == len(numa_nodes())
    out = virsh(uri, "nodecpumap").stdout
    online = cpu_list(read("/sys/devices/system/cpu/online"))
    assert re.search(r"CPUs online:\s+%d$" % len(online), out, re.M)
    assert re.search(r"CPU map:\s+([y-]+)$", out, re.M).group(1).count("y") == len(online)
    out = virsh(uri, "node-memory-tune").stdout
    if os.path.exists("/sys/kernel/mm/ksm/pages_to_scan"):
        assert re.search(r"shm_pages_to_scan\s+%d$" % int(read(
            "/sys/kernel/mm/ksm/pages_to_scan")), out, re.M)
    out = virsh(uri, "freepages", "--cellno", "0", "--pagesize", "4").stdout
    assert re.fullmatch(r"4KiB: \d+\s*", out)
    # --all takes the cells and page sizes from the capabilities.
    out = virsh(uri, "freepages", "--all").stdout
    assert re.findall(r"^Node (\d+):", out, re.M) == [str(n) for n in numa_nodes()]
    sizes = [os.sysconf("SC_PAGESIZE") // 1024] + hugepage_sizes()
    assert re.findall(r"^(\d+)KiB: \d+$", out, re.M) == [str(k) for k in sizes] * len(
        numa_nodes())
    r = virsh(uri, "nodecpustats", "--cpu", "4096", check=False)
    assert r.returncode != 0 and "Invalid cpuNum in virHostCPUGetStatsLinux" in r.stderr


# ---------------------------------------------------------------- vCPUs and SMBIOS

def test_max_vcpus(daemon):
    conn = libvirt.open(qemu_uri(daemon))
    try:
        assert conn.getMaxVcpus(None) == 16
        assert conn.getMaxVcpus("qemu") == 16
        assert conn.getMaxVcpus("QEMU") == 16
        if os.access("/dev/kvm", os.R_OK):
            assert conn.getMaxVcpus("kvm") == kvm_max_vcpus()
            assert conn.getMaxVcpus("KVM") == kvm_max_vcpus()
        assert error_of(conn.getMaxVcpus, "lxc") == (ERR_INVALID_ARG, FROM_QEMU,
                                                      "invalid argument: unknown type 'lxc'")
    finally:
        conn.close()


def test_sysinfo(daemon):
    conn = libvirt.open(qemu_uri(daemon))
    try:
        tables = dmidecode_tables()
        if tables is None:
            # This machine's case (no SMBIOS): libvirtd fails the same way.
            assert error_of(conn.getSysinfo, 0) == (
                ERR_CONFIG_UNSUPPORTED, FROM_QEMU,
                "unsupported configuration: Host SMBIOS information is not available")
            r = virsh(qemu_uri(daemon), "sysinfo", check=False)
            assert r.returncode != 0 and "Host SMBIOS information is not available" in r.stderr
        else:
            xml = conn.getSysinfo(0)
            assert xml.startswith("<sysinfo type='smbios'")
            m = re.search(r"^\s*Vendor: (.*\S)\s*$", tables, re.M)
            if m and "BIOS Information" in tables:
                assert "<entry name='vendor'>" in xml
        assert error_of(conn.getSysinfo, 1) == (
            ERR_INVALID_ARG, FROM_QEMU, "unsupported flags (0x1) in function qemuConnectGetSysinfo")
    finally:
        conn.close()


def test_sysinfo_with_tables(daemons, tmp_path):
    """Where dmidecode finds tables, the answer is the formatted document: a stand-in
    dmidecode (first in the daemon's PATH) prints the capture tests/data/sysinfo holds,
    once per call, with libvirt's arguments."""
    data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sysinfo")
    log = tmp_path / "args"
    fake = tmp_path / "dmidecode"
    fake.write_text("#!/bin/sh\necho \"$*\" >> %s\ncat %s\n"
                    % (log, os.path.join(data, "server.dmidecode")))
    fake.chmod(0o755)
    d = daemons.start(env={"PATH": "%s:%s" % (tmp_path, os.environ.get("PATH", ""))})
    conn = libvirt.open(qemu_uri(d))
    try:
        assert conn.getSysinfo(0) == read(os.path.join(data, "server.xml"))
        out = virsh(qemu_uri(d), "sysinfo").stdout
        assert "<entry name='product'>PowerEdge R640</entry>" in out
        assert log.read_text().splitlines() == ["-q -t 0,1,2,3,4,11,17"] * 2
    finally:
        conn.close()


# ---------------------------------------------------------------- LXC and Xen

def test_lxc_node_facts(daemons):
    d = daemons.start(name="virtlxcd", label="virtlxcd")
    conn = libvirt.open("lxc+unix:///system?socket=%s" % d.sock)
    try:
        check_node_facts(conn, FROM_LXC, "lxcNodeGetFreePages")
        # libvirt's lxc driver: its "none" security driver, as the capabilities say.
        assert conn.getSecurityModel() == ["none", "0"]
        assert "<model>none</model>" in conn.getCapabilities()
        # libvirt's lxc driver answers sysinfo as its qemu driver (lxcConnectGetSysinfo).
        if dmidecode_tables() is None:
            assert error_of(conn.getSysinfo, 0) == (
                ERR_CONFIG_UNSUPPORTED, FROM_LXC,
                "unsupported configuration: Host SMBIOS information is not available")
        else:
            assert conn.getSysinfo(0).startswith("<sysinfo type='smbios'")
        assert error_of(conn.getSysinfo, 4) == (
            ERR_INVALID_ARG, FROM_LXC, "unsupported flags (0x4) in function lxcConnectGetSysinfo")
    finally:
        conn.close()


@pytest.mark.skipif(not daemon_binary("virtxend").exists(),
                    reason="virtxend not built (libxenlight missing, or -Dxen=disabled)")
def test_xen_sysinfo(daemons):
    d = daemons.start(name="virtxend", label="virtxend", args=["--timeout", "0"])
    conn = libvirt.open("xen+unix:///system?socket=%s" % d.sock)
    try:
        if dmidecode_tables() is None:
            assert error_of(conn.getSysinfo, 0) == (
                ERR_CONFIG_UNSUPPORTED, FROM_LIBXL,
                "unsupported configuration: Host SMBIOS information is not available")
        else:
            assert conn.getSysinfo(0).startswith("<sysinfo type='smbios'")
        assert error_of(conn.getSysinfo, 2) == (
            ERR_INVALID_ARG, FROM_LIBXL,
            "unsupported flags (0x2) in function libxlConnectGetSysinfo")
        # DIFF_XEN_NODE: libxl's figures are not served yet.
        assert error_of(conn.getCPUStats, -1, 0)[0] == ERR_NO_SUPPORT
    finally:
        conn.close()


# ---------------------------------------------------------------- CPU models

CPU_MAP_INDEX = "/usr/share/libvirt/cpu_map/index.xml"


def map_cpu_models():
    """The x86 CPU models of libvirt's CPU map (libvirt0), in the order index.xml includes
    them."""
    text = open(CPU_MAP_INDEX).read()
    x86 = re.search(r"<arch name='x86'>(.*?)</arch>", text, re.S).group(1)
    return re.findall(r"<include filename='x86_(?!vendors|features)([^']+)\.xml'/>", x86)


@pytest.mark.skipif(not os.path.exists(CPU_MAP_INDEX), reason="libvirt0's CPU map missing")
def test_cpu_model_names(daemon):
    conn = libvirt.open(qemu_uri(daemon))
    try:
        models = conn.getCPUModelNames("x86_64", 0)
        assert models == map_cpu_models()
        assert conn.getCPUModelNames("i686", 0) == models
        assert conn.getCPUModelNames("aarch64", 0) == []  # libvirt: all models accepted
        assert conn.getCPUModelNames("s390x", 0) == []
        assert error_of(conn.getCPUModelNames, "mips", 0) == (
            ERR_NO_SUPPORT, FROM_CPU, "this function is not supported by the connection "
            "driver: 'mips' architecture is not supported by CPU driver")
        assert error_of(conn.getCPUModelNames, "foo", 0) == (
            ERR_INVALID_ARG, FROM_QEMU, "invalid argument: cannot find architecture foo")
        assert error_of(conn.getCPUModelNames, "x86_64", 1) == (
            ERR_INVALID_ARG, FROM_QEMU,
            "unsupported flags (0x1) in function qemuConnectGetCPUModelNames")
        out = virsh(qemu_uri(daemon), "cpu-models", "x86_64").stdout.split()
        assert out == models
    finally:
        conn.close()


# ---------------------------------------------------------------- security model

DOMAIN_XML = """<domain type='qemu'><name>hf-sec</name><memory unit='MiB'>32</memory>
<os><type arch='x86_64'>hvm</type></os></domain>"""


def test_security_model_in_dominfo(daemon):
    """virsh dominfo prints the security model lines from NODE_GET_SECURITY_MODEL, which
    names the first <secmodel> of the capabilities."""
    conn = libvirt.open(qemu_uri(daemon))
    try:
        model, doi = conn.getSecurityModel()
        first = re.search(r"<secmodel>\s*<model>([^<]*)</model>\s*<doi>([^<]*)</doi>",
                          conn.getCapabilities())
        assert (model, doi) == (first.group(1), first.group(2))
        conn.defineXML(DOMAIN_XML)
        out = virsh(qemu_uri(daemon), "dominfo", "hf-sec").stdout
        assert re.search(r"^Security model: %s$" % re.escape(model), out, re.M)
        assert re.search(r"^Security DOI:\s+%s$" % re.escape(doi), out, re.M)
        conn.lookupByName("hf-sec").undefine()
    finally:
        conn.close()


# ---------------------------------------------------------------- against libvirtd

def answer(fn, *args):
    """A call's answer, comparable across daemons: ("ok", value) or ("error", code, domain,
    message)."""
    try:
        return ("ok", fn(*args))
    except libvirt.libvirtError as e:
        return ("error", e.get_error_code(), e.get_error_domain(), e.get_error_message())


def shape(a):
    """An answer with the values that move between two reads (counters, free memory)
    dropped: the keys of a dict, the length of a list."""
    if a[0] != "ok":
        return a
    v = a[1]
    if isinstance(v, dict):
        return ("ok", {k: shape(("ok", x))[1] if isinstance(x, dict) else None
                       for k, x in v.items()})
    if isinstance(v, list) and all(isinstance(x, int) for x in v):
        return ("ok", len(v))
    return a


@pytest.mark.slow
def test_host_facts_like_libvirtd(daemon, ref):
    ours = libvirt.open(qemu_uri(daemon))
    theirs = libvirt.open(ref.uri)
    last = numa_nodes()[-1]
    sizes = [os.sysconf("SC_PAGESIZE") // 1024] + hugepage_sizes()
    exact = [  # deterministic answers, compared whole
        ("getMaxVcpus", (None,)), ("getMaxVcpus", ("qemu",)), ("getMaxVcpus", ("kvm",)),
        ("getMaxVcpus", ("foo",)),
        ("getSysinfo", (1,)),
        ("getCPUStats", (4096, 0)), ("getCPUStats", (-1, 1)),
        ("getMemoryStats", (last + 5, 0)), ("getMemoryStats", (-1, 1)),
        ("getCellsFreeMemory", (last + 3, 1)),
        ("getCPUMap", (0,)), ("getCPUMap", (1,)),
        ("getMemoryParameters", (1,)),
        ("getFreePages", ([4], 0, 1, 1)), ("getFreePages", ([3], 0, 1, 0)),
        ("getFreePages", ([4], last + 4, 1, 0)),
        ("getSecurityModel", ()),
        ("getCPUModelNames", ("aarch64", 0)), ("getCPUModelNames", ("mips", 0)),
        ("getCPUModelNames", ("foo", 0)), ("getCPUModelNames", ("x86_64", 1)),
    ]
    shaped = [  # moving figures: keys and lengths compared
        ("getCPUStats", (-1, 0)), ("getCPUStats", (0, 0)),
        ("getMemoryStats", (-1, 0)), ("getMemoryStats", (0, 0)),
        ("getCellsFreeMemory", (0, last + 1)),
        ("getMemoryParameters", (0,)),
        ("getFreePages", (sizes, 0, last + 1, 0)),
    ]
    try:
        # The sysinfo answer: the same error where this host has no SMBIOS (the case here),
        # else the same document (both read the same dmidecode).
        assert answer(ours.getSysinfo, 0) == answer(theirs.getSysinfo, 0)
        for name, args in exact:
            assert answer(getattr(ours, name), *args) == \
                answer(getattr(theirs, name), *args), (name, args)
        for name, args in shaped:
            assert shape(answer(getattr(ours, name), *args)) == \
                shape(answer(getattr(theirs, name), *args)), (name, args)
        # The memory totals do not move.
        assert ours.getMemoryStats(-1, 0)["total"] == theirs.getMemoryStats(-1, 0)["total"]
        mine, libvirts = ours.getCPUModelNames("x86_64", 0), theirs.getCPUModelNames("x86_64", 0)
        assert mine == libvirts
        tunables = ("shm_pages_to_scan", "shm_sleep_millisecs", "shm_merge_across_nodes")
        assert [ours.getMemoryParameters(0).get(k) for k in tunables] == \
            [theirs.getMemoryParameters(0).get(k) for k in tunables]
    finally:
        ours.close()
        theirs.close()


# ---------------------------------------------------------------- hostile sizes

ERR_RPC, FROM_RPC, FROM_DOMAIN = 39, 7, 20
PROC_CELLS_FREE, PROC_CPU_STATS, PROC_MEMORY_STATS = 101, 227, 228
PROC_MEMORY_PARAMETERS, PROC_FREE_PAGES = 289, 340
I32_MIN = -2**31


def raw_cases(i32, u32):
    """Calls a stock client never sends (it checks them first), with the answer Debian's
    libvirtd 9.0 gives (read from its socket by hand): the dispatcher's checks, then the
    public API's (libvirt-host.c, which libvirtd runs again)."""
    page = os.sysconf("SC_PAGESIZE") // 1024
    return [
        (PROC_FREE_PAGES, u32(2) + u32(page) + u32(page) + i32(0) + u32(1000) + u32(0),
         (ERR_INTERNAL, FROM_RPC,
          "internal error: the result won't fit into REMOTE_NODE_MAX_CELLS")),
        (PROC_FREE_PAGES, u32(1) + u32(page) + i32(0) + u32(2**32 - 1) + u32(0),
         (ERR_INTERNAL, FROM_RPC,
          "internal error: the result won't fit into REMOTE_NODE_MAX_CELLS")),
        # No page size: the product fits, and start + count would overflow an int.
        (PROC_FREE_PAGES, u32(0) + i32(0) + u32(2**32 - 1) + u32(0),
         (ERR_INVALID_ARG, FROM_DOMAIN, "npages in virNodeGetFreePages must not be zero")),
        (PROC_FREE_PAGES, u32(1) + u32(page) + i32(0) + u32(0) + u32(0),
         (ERR_INVALID_ARG, FROM_DOMAIN, "cellCount in virNodeGetFreePages must not be zero")),
        (PROC_FREE_PAGES, u32(1) + u32(page) + i32(I32_MIN) + u32(3) + u32(0),
         (ERR_INTERNAL, FROM_NONE, "An error occurred, but the cause is unknown")),
        (PROC_CELLS_FREE, i32(0) + i32(2000), (ERR_RPC, FROM_RPC,
                                               "maxcells > REMOTE_NODE_MAX_CELLS")),
        (PROC_CELLS_FREE, i32(0) + i32(-1), (ERR_RPC, FROM_RPC,
                                             "maxcells must be non-negative")),
        (PROC_CELLS_FREE, i32(0) + i32(0), (
            ERR_INVALID_ARG, FROM_DOMAIN,
            "maxCells in virNodeGetCellsFreeMemory must be greater than zero")),
        (PROC_CELLS_FREE, i32(I32_MIN) + i32(4), (
            ERR_INVALID_ARG, FROM_DOMAIN,
            "startCell in virNodeGetCellsFreeMemory must be zero or greater")),
        (PROC_CPU_STATS, i32(-1) + i32(17) + u32(0),
         (ERR_INTERNAL, FROM_RPC, "internal error: nparams too large")),
        (PROC_CPU_STATS, i32(-1) + i32(-1) + u32(0),
         (ERR_INTERNAL, FROM_RPC, "internal error: nparams must be non-negative")),
        (PROC_CPU_STATS, i32(-5) + i32(4) + u32(0), (
            ERR_INVALID_ARG, FROM_DOMAIN,
            "cpuNum in virNodeGetCPUStats only accepts -1 as a negative value")),
        (PROC_CPU_STATS, i32(-1) + i32(3) + u32(0), (
            ERR_INVALID_ARG, FROM_NONE, "nparams in virHostCPUGetStatsLinux must be equal to 4")),
        (PROC_MEMORY_STATS, i32(4) + i32(-5) + u32(0), (
            ERR_INVALID_ARG, FROM_DOMAIN,
            "cellNum in virNodeGetMemoryStats only accepts -1 as a negative value")),
        (PROC_MEMORY_STATS, i32(3) + i32(-1) + u32(0), (
            ERR_INVALID_ARG, FROM_NONE, "nparams in virHostMemGetStatsLinux must be 4")),
        (PROC_MEMORY_PARAMETERS, i32(65) + u32(4),
         (ERR_INTERNAL, FROM_RPC, "internal error: nparams too large")),
        (PROC_MEMORY_PARAMETERS, i32(-1) + u32(4),
         (ERR_INTERNAL, FROM_RPC, "internal error: nparams must be non-negative")),
    ]


def test_node_calls_with_hostile_sizes(daemon):
    import rawrpc
    from rawrpc import Client, i32, u32
    c = Client(str(daemon.sock)).open("qemu:///system")
    try:
        for proc, payload, expected in raw_cases(i32, u32):
            _, err = c.call_error(proc, payload)
            assert (err.code, err.domain, err.message) == expected, (proc, payload)
        # A count below the whole list: that many parameters, in libvirt's order.
        u = c.call(PROC_MEMORY_PARAMETERS, i32(3) + u32(4))
        if os.path.exists("/sys/kernel/mm/ksm/pages_shared"):
            assert u.u32() == 3
        # The connection is still served.
        assert c.call(PROC_CPU_STATS, i32(-1) + i32(0) + u32(0)).u32() == 0
    finally:
        c.close()


@pytest.mark.slow
def test_hostile_sizes_like_libvirtd(daemon, ref):
    """raw_cases' answers are libvirtd's, asked on its own socket."""
    import rawrpc
    from rawrpc import Client, i32, u32
    for path in (str(daemon.sock), str(ref.daemon.sock)):
        c = Client(path).open("qemu:///system")
        try:
            for proc, payload, expected in raw_cases(i32, u32):
                _, err = c.call_error(proc, payload)
                assert (err.code, err.domain, err.message) == expected, (path, proc, payload)
        finally:
            c.close()
