"""migguest.py: the Linux test guest (linuxguest.py) as the workload of migration tests, on
the hosts of a hosts.Fleet.

The guest boots with `sv.counter`: its init prints `COUNT: N` every 100 ms, N from 0 up, on
its serial console, which goes to a file on the host's non-shared storage (fleet.local, the
same path on every host, so each host's QEMU writes its own file). A Counter follows that
file on every host at once, stamping each number with the time it was read; after a
migration, continuity() checks that the destination went on with exactly the number after
the source's last one (nothing lost, nothing repeated) and gives the pause the test saw
between the two.

Storage: "shared" puts the guest's root disk (a qcow2 copy) in fleet.shared, seen by every
host; "local" puts it on the source's non-shared storage, where a migration must copy it
(--copy-storage-all), after precreate() made an empty disk of the same size at the same
path on the destination, as libvirt wants of a disk outside any storage pool. The kernel
and initrd are in fleet.shared. The disk's cache mode is none: libvirt refuses to move a
guest whose disk on local (non-cluster) storage is cached by the host.
"""

import json
import re
import subprocess
import threading
import time

import linuxguest

MEMORY_MIB = 128
COUNT_RE = re.compile(rb"COUNT: (\d+)\r?\n")
BOOT_TIMEOUT = 180.0
POLL = 0.01


def console_path(fleet, name):
    """The console file's path as every host sees it (each host its own file)."""
    return fleet.local / ("%s.console" % name)


def disk_path(fleet, name, storage):
    return (fleet.shared if storage == "shared" else fleet.local) / ("%s.qcow2" % name)


def seen_from_outside(fleet, host, path):
    """path (under fleet.local) as the test process sees it on host."""
    if str(path).startswith(str(fleet.local) + "/"):
        return host.local_dir / path.relative_to(fleet.local)
    return path


def prepare(fleet, guest, host, name, storage="shared", cmdline="", **xml_args):
    """The guest's XML, with its disk made for it on host (the source)."""
    files = linuxguest.boot_files_for(guest, fleet.shared) if not (
        fleet.shared / guest.kernel.name).exists() else {
            "kernel": fleet.shared / guest.kernel.name,
            "initrd": fleet.shared / guest.initrd.name}
    disk = disk_path(fleet, name, storage)
    guest.copy_root(seen_from_outside(fleet, host, disk))
    xml = linuxguest.domain_xml(name, guest, disk, cmdline=" ".join(
        filter(None, ["sv.counter", cmdline])), memory_mib=MEMORY_MIB,
        serial_file=console_path(fleet, name), disk_cache="none", **xml_args)
    return xml.replace(str(guest.kernel), str(files["kernel"])).replace(
        str(guest.initrd), str(files["initrd"]))


def precreate(fleet, src, dst, name):
    """An empty disk on dst's non-shared storage, of the size of src's (qcow2)."""
    path = disk_path(fleet, name, "local")
    info = json.loads(subprocess.run(
        ["qemu-img", "info", "-U", "--output=json", str(seen_from_outside(fleet, src, path))],
        check=True, capture_output=True, text=True, timeout=60).stdout)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2",
                    str(seen_from_outside(fleet, dst, path)), str(info["virtual-size"])],
                   check=True, capture_output=True, timeout=60)


class Counter:
    """The guest's COUNT lines on every host's console file, each as (time read, N)."""

    def __init__(self, fleet, name):
        self.files = {h.name: seen_from_outside(fleet, h, console_path(fleet, name))
                      for h in fleet.hosts}
        self.offsets = {h: 0 for h in self.files}
        for h, path in self.files.items():  # from what each file holds now on
            try:
                self.offsets[h] = path.stat().st_size
            except FileNotFoundError:
                pass
        self.partial = {h: b"" for h in self.files}
        self.text = {h: b"" for h in self.files}
        self.seen = {h: [] for h in self.files}
        self.marks = {h: 0 for h in self.files}
        self.cond = threading.Condition()
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _read(self, host, path):
        try:
            with open(path, "rb") as f:
                f.seek(self.offsets[host])
                data = f.read()
        except FileNotFoundError:
            return False
        if not data:
            return False
        now = time.monotonic()
        self.offsets[host] += len(data)
        buf = self.partial[host] + data
        self.text[host] += data
        end = 0
        for m in COUNT_RE.finditer(buf):
            self.seen[host].append((now, int(m.group(1))))
            end = m.end()
        nl = buf.rfind(b"\n")
        self.partial[host] = buf[max(end, nl + 1):]
        return True

    def _run(self):
        while not self.stopped:
            with self.cond:
                if any([self._read(h, p) for h, p in self.files.items()]):
                    self.cond.notify_all()
            time.sleep(POLL)

    def stop(self):
        self.stopped = True
        self.thread.join(5)

    def output(self, host):
        with self.cond:
            return self.text[host.name].decode(errors="replace")

    def numbers(self, host):
        with self.cond:
            return [n for _, n in self.seen[host.name]]

    def wait(self, pred, what, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("%s not seen within %.0f s; consoles: %r" % (
                        what, timeout, {h: t[-600:] for h, t in self.text.items()}))
                self.cond.wait(min(left, 0.5))

    def wait_ready(self, host, timeout=BOOT_TIMEOUT):
        """The guest booted on host and is counting."""
        self.wait(lambda: b"READY" in self.text[host.name] and len(self.seen[host.name]) >= 2,
                  "READY and counting on %s" % host.name, timeout)

    def wait_more(self, host, n=5, timeout=60.0):
        """n more numbers on host than it has now."""
        with self.cond:
            want = len(self.seen[host.name]) + n
        self.wait(lambda: len(self.seen[host.name]) >= want,
                  "%d more numbers on %s" % (n, host.name), timeout)

    def mark(self):
        """Before a migration: continuity() looks at what comes after this on each host."""
        with self.cond:
            self.marks = {h: len(v) for h, v in self.seen.items()}

    def continuity(self, src, dst):
        """After a migration src -> dst (since mark()): dst went on with the number after
        src's last one, by ones; the seconds between src's last number and dst's first, as
        read."""
        self.wait_more(dst, 5)
        with self.cond:
            s, d = list(self.seen[src.name]), list(self.seen[dst.name][self.marks[dst.name]:])
        assert s, "no number on %s's console" % src.name
        last_t, last = s[-1]
        first_t, first = d[0]
        nums = [n for _, n in d]
        assert first == last + 1, "%s's console ended at %d, %s's began at %d" % (
            src.name, last, dst.name, first)
        assert nums == list(range(first, first + len(nums))), \
            "%s's numbers are not consecutive: %r" % (dst.name, nums)
        return first_t - last_t


def disks_equal(fleet, a, b, name):
    """Whether the guest's disk on a's non-shared storage holds what b's does (qemu-img
    compare, the guest's contents, not the files' layout)."""
    path = disk_path(fleet, name, "local")
    r = subprocess.run(["qemu-img", "compare", "-U", str(seen_from_outside(fleet, a, path)),
                        str(seen_from_outside(fleet, b, path))],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 1), "qemu-img compare: %s" % r.stderr
    if r.returncode:
        print("qemu-img compare: %s" % r.stdout.strip())
    return r.returncode == 0
