#!/usr/bin/python3
"""loadtest.py: many concurrent python3-libvirt clients against one virtqemud, directly or
through virtproxyd, checking that no call fails, no definition is lost or duplicated, and the
daemons' memory returns to its starting level once the clients are gone.

Each client is its own process with its own connection. It makes a random mix of lookups
(by name, UUID and id), listAllDomains, state/info/isActive reads, defines and
redefinitions (changed memory) and undefines of its own domains, and event registrations
and deregistrations, checking every answer against what it knows it defined. The daemons
run under a private --root; at the end the daemon's list, the files in
ROOT/etc/libvirt/qemu and a restarted daemon's list must all equal the union of what the
clients left defined.

RSS: the starting level is taken after a warm-up client (the same mix, fewer calls) has
connected, worked and left; the final level once every client has closed and the daemon's
descriptors and RSS have settled. In a sanitizer build RSS is reported but not checked:
ASan keeps freed memory in its quarantine on purpose, and LeakSanitizer reports real
leaks when the daemon exits, which fails the run.

--valgrind runs the daemons under valgrind memcheck (--leak-check=full, G_SLICE=always-malloc,
G_DEBUG=gc-friendly, the suppressions in valgrind.supp) and prints each daemon's leak and
error summary; any definite leak or memcheck error fails the run. It is not part of
`meson test`: use a few hundred calls per client.

  meson test -C build --suite load          (32 clients x 300 calls, each path)
  tests/load/loadtest.py --build build --through direct --clients 32 --calls 10000
  tests/load/loadtest.py --build build --through proxy-relay --valgrind --calls 300
"""

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))

PATHS = ("direct", "proxy-handoff", "proxy-relay")
HANDOFF = {"proxy-handoff": 1, "proxy-relay": 0}
QEMUD_CONF = "max_clients = 1000\n"
SHARED = 4                  # domains every client looks up; defined before the load
OWN_MAX = 12                # a client undefines rather than defines beyond this many
MISSING_ID = 999999         # no guest runs, so lookupByID(any id) must say NO_DOMAIN
RSS_BOUND_KIB = 2048
SETTLE_TIMEOUT = 30.0
VALGRIND_SUPP = HERE / "valgrind.supp"


# ---------------------------------------------------------------- domains

def domain_xml(name, dom_uuid, memory_mib):
    return ("<domain type='qemu'><name>%s</name><uuid>%s</uuid>"
            "<memory unit='MiB'>%d</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64'>hvm</type></os></domain>" % (name, dom_uuid, memory_mib))


def name_uuid(name):
    """A fixed UUID per name, so a redefinition keeps it and two runs agree."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "splitvirt-load/" + name))


def shared_names():
    return ["shared%d" % i for i in range(SHARED)]


# ---------------------------------------------------------------- one client

class Client:
    """One connection making `calls` random calls, checking each answer."""

    def __init__(self, libvirt, uri, tag, calls, seed):
        self.lv = libvirt
        self.tag = tag
        self.calls_max = calls
        self.rng = random.Random(seed)
        self.conn = libvirt.open(uri)
        self.own = {}           # name -> memory MiB of this client's defined domains
        self.serial = 0
        self.callbacks = {}     # None or a shared domain's name -> callback id
        self.calls = 0
        self.failures = []
        self.events = 0
        self.ops = [(self.lookup_name, 14), (self.lookup_uuid, 14), (self.lookup_id, 5),
                    (self.list_all, 8), (self.state, 10), (self.info, 10),
                    (self.is_active, 10), (self.define, 12), (self.undefine, 9),
                    (self.events_toggle, 8)]

    def fail(self, what, detail):
        self.failures.append("%s: %s: %s" % (self.tag, what, detail))

    def call(self, what, fn, *args):
        """fn(*args) counted as one call; a libvirt error is a failed call (None back)."""
        self.calls += 1
        try:
            return fn(*args)
        except self.lv.libvirtError as e:
            self.fail(what, "%s (code %d)" % (e.get_error_message(), e.get_error_code()))
            return None

    # -- the operations; each returns after one or two calls

    def pick_name(self):
        names = list(self.own) + shared_names()
        return self.rng.choice(names)

    def expected_kib(self, name):
        if name in self.own:
            return self.own[name] * 1024
        return 64 * 1024

    def lookup_name(self):
        name = self.pick_name()
        d = self.call("lookupByName", self.conn.lookupByName, name)
        if d is not None and (d.name(), d.UUIDString()) != (name, name_uuid(name)):
            self.fail("lookupByName", "%s gave %s %s" % (name, d.name(), d.UUIDString()))

    def lookup_uuid(self):
        name = self.pick_name()
        d = self.call("lookupByUUIDString", self.conn.lookupByUUIDString, name_uuid(name))
        if d is not None and d.name() != name:
            self.fail("lookupByUUIDString", "%s gave %s" % (name, d.name()))

    def lookup_id(self):
        """No guest runs: the right answer is VIR_ERR_NO_DOMAIN, anything else fails."""
        self.calls += 1
        try:
            d = self.conn.lookupByID(MISSING_ID)
            self.fail("lookupByID", "found %s" % d.name())
        except self.lv.libvirtError as e:
            if e.get_error_code() != self.lv.VIR_ERR_NO_DOMAIN:
                self.fail("lookupByID", "%s (code %d)" % (e.get_error_message(),
                                                          e.get_error_code()))

    def list_all(self):
        doms = self.call("listAllDomains", self.conn.listAllDomains, 0)
        if doms is None:
            return
        names = [d.name() for d in doms]
        mine = sorted(n for n in names if n.startswith(self.tag + "-"))
        if len(set(names)) != len(names):
            self.fail("listAllDomains", "duplicate names")
        if mine != sorted(self.own) or not set(shared_names()) <= set(names):
            self.fail("listAllDomains", "listed %r, expected %r" % (mine, sorted(self.own)))

    def domain(self):
        name = self.pick_name()
        return name, self.call("lookupByName", self.conn.lookupByName, name)

    def state(self):
        name, d = self.domain()
        if d is not None:
            st = self.call("state", d.state)
            if st is not None and st[0] != self.lv.VIR_DOMAIN_SHUTOFF:
                self.fail("state", "%s: %r" % (name, st))

    def info(self):
        name, d = self.domain()
        if d is not None:
            inf = self.call("info", d.info)
            if inf is not None and (inf[0], inf[1]) != (self.lv.VIR_DOMAIN_SHUTOFF,
                                                        self.expected_kib(name)):
                self.fail("info", "%s: %r, expected max memory %d KiB"
                          % (name, inf, self.expected_kib(name)))

    def is_active(self):
        name, d = self.domain()
        if d is not None:
            act = self.call("isActive", d.isActive)
            if act not in (None, 0):
                self.fail("isActive", "%s: %r" % (name, act))

    def define(self):
        if len(self.own) >= OWN_MAX:
            return self.undefine()
        if self.own and self.rng.random() < 0.4:
            name = self.rng.choice(list(self.own))      # a redefinition, changed content
        else:
            self.serial += 1
            name = "%s-%d" % (self.tag, self.serial)
        mib = self.rng.choice([32, 48, 64, 96, 128])
        d = self.call("defineXML", self.conn.defineXML, domain_xml(name, name_uuid(name), mib))
        if d is not None:
            self.own[name] = mib
            if d.name() != name:
                self.fail("defineXML", "%s gave %s" % (name, d.name()))

    def undefine(self):
        if not self.own:
            return self.define()
        name = self.rng.choice(list(self.own))
        d = self.call("lookupByName", self.conn.lookupByName, name)
        if d is not None and self.call("undefine", d.undefine) is not None:
            del self.own[name]

    def on_event(self, conn, dom, event, detail, opaque):
        self.events += 1

    def events_toggle(self):
        """Register a lifecycle callback for all domains or for one shared domain, or drop
        it if it is registered (libvirt allows one per event and domain)."""
        key = self.rng.choice([None] + shared_names())
        if key in self.callbacks:
            cb = self.callbacks.pop(key)
            self.call("domainEventDeregisterAny", self.conn.domainEventDeregisterAny, cb)
            return
        dom = None
        if key is not None:
            dom = self.call("lookupByName", self.conn.lookupByName, key)
            if dom is None:
                return
        cb = self.call("domainEventRegisterAny", self.conn.domainEventRegisterAny, dom,
                       self.lv.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self.on_event, None)
        if cb is not None:
            self.callbacks[key] = cb

    def run(self):
        ops, weights = zip(*self.ops)
        while self.calls < self.calls_max:
            self.rng.choices(ops, weights)[0]()
        for cb in self.callbacks.values():
            self.call("domainEventDeregisterAny", self.conn.domainEventDeregisterAny, cb)
        self.callbacks = {}
        self.conn.close()


def event_loop(libvirt):
    """The default event implementation, run on a thread: it dispatches this client's
    events and answers keepalive, as any libvirt client with events does."""
    libvirt.virEventRegisterDefaultImpl()

    def run():
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=run, daemon=True).start()


def client_main(uri, tag, calls, seed, ready, go, results):
    """One client process: connect, say so, wait for the start signal, run, report.
    It says it is ready exactly once, even if it could not connect."""
    out = {"tag": tag, "calls": 0, "failures": [], "own": {}, "events": 0, "elapsed": 0.0}
    c = None
    try:
        try:
            import libvirt

            libvirt.registerErrorHandler(lambda *a: None, None)
            event_loop(libvirt)
            c = Client(libvirt, uri, tag, calls, seed)
        finally:
            ready.put(tag)
        go.wait()
        t0 = time.monotonic()
        try:
            c.run()
        finally:
            out.update(calls=c.calls, failures=c.failures, own=c.own, events=c.events,
                       elapsed=time.monotonic() - t0)
    except Exception:
        out["failures"] = out["failures"] + ["%s: %s" % (tag, traceback.format_exc())]
    results.put(out)


def run_clients(ctx, uri, tags, calls, seed):
    """Start one process per tag, release them together, collect their reports."""
    go = ctx.Event()
    ready, results = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=client_main,
                         args=(uri, tag, calls, "%s/%s" % (seed, tag), ready, go, results))
             for tag in tags]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    go.set()
    t0 = time.monotonic()
    reports = [results.get() for _ in procs]
    wall = time.monotonic() - t0
    for p in procs:
        p.join()
    return reports, wall


# ---------------------------------------------------------------- the daemons

def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def n_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def settle(pid, fds, timeout=SETTLE_TIMEOUT):
    """Wait until the process is back to `fds` descriptors (its clients are gone) and its
    RSS stayed the same for half a second; the RSS then, in KiB."""
    deadline = time.monotonic() + timeout
    while n_fds(pid) > fds and time.monotonic() < deadline:
        time.sleep(0.05)
    last, stable_since = proc_status(pid, "VmRSS"), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = proc_status(pid, "VmRSS")
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since >= 0.5:
            break
    return last


def sanitized(build):
    """Whether build was configured with a sanitizer (meson's b_sanitize)."""
    try:
        opts = json.loads((build / "meson-info" / "intro-buildoptions.json").read_text())
    except (OSError, ValueError):
        return False
    return any(o["name"] == "b_sanitize" and o["value"] not in ("none", []) for o in opts)


class Stack:
    """virtqemud, and virtproxyd for the proxy paths, under one private root."""

    def __init__(self, root, through, valgrind):
        import svdaemon

        self.svdaemon = svdaemon
        self.root = root
        self.through = through
        self.valgrind = valgrind
        etc = root / "etc" / "libvirt"
        etc.mkdir(parents=True)
        (etc / "virtqemud.conf").write_text(QEMUD_CONF)
        if through in HANDOFF:
            (etc / "virtproxyd.conf").write_text("max_clients = 1000\nclient_handoff = %d\n"
                                                 % HANDOFF[through])
        self.qemud = None
        self.proxy = None
        self.generation = 0
        self.stopped = []

    def wrapper(self, label):
        if not self.valgrind:
            return []
        return ["valgrind", "--tool=memcheck", "--leak-check=full",
                "--show-leak-kinds=definite,indirect,possible", "--errors-for-leak-kinds=definite",
                "--num-callers=30", "--suppressions=%s" % VALGRIND_SUPP,
                "--log-file=%s" % (self.root / ("%s.valgrind" % label))]

    def start_one(self, **kw):
        env = {"G_SLICE": "always-malloc", "G_DEBUG": "gc-friendly"} if self.valgrind else None
        d = self.svdaemon.Daemon(self.root, wrapper=self.wrapper(kw["label"]), env=env,
                                 args=["--timeout", "0"], **kw)
        d.start(wait=False)
        d.wait_ready(timeout=120 if self.valgrind else 10)
        return d

    def start(self):
        self.generation += 1
        self.qemud = self.start_one(label="virtqemud-%d" % self.generation)
        if self.through in HANDOFF and self.proxy is None:
            self.proxy = self.start_one(name="virtproxyd", label="virtproxyd",
                                        ready_path=self.root / "run/libvirt/libvirt-sock")

    @property
    def uri(self):
        sock = self.proxy.ready_path if self.proxy else self.qemud.sock
        return "qemu+unix:///system?socket=%s" % sock

    @property
    def direct_uri(self):
        return "qemu+unix:///system?socket=%s" % self.qemud.sock

    def daemons(self):
        return [d for d in (self.qemud, self.proxy) if d is not None]

    def stop_qemud(self):
        self.stop(self.qemud)
        self.qemud = None

    def stop(self, d):
        d.stop(timeout=120 if self.valgrind else 10)
        self.stopped.append(d)

    def finish(self):
        """Stop everything; each daemon's problems as lines."""
        problems = []
        for d in self.daemons():
            try:
                self.stop(d)
            except self.svdaemon.DaemonError as e:
                problems.append(str(e))
        self.qemud = self.proxy = None
        for d in self.stopped:
            problems += d.problems()
        return problems


# ---------------------------------------------------------------- checks

def defined_on_disk(root):
    """{name: memory KiB} of ROOT/etc/libvirt/qemu/*.xml, and the other files there."""
    qemu = root / "etc" / "libvirt" / "qemu"
    files, other = {}, []
    if qemu.exists():
        for p in sorted(qemu.iterdir()):
            if p.is_dir() and p.name == "autostart" and not any(p.iterdir()):
                continue
            if p.suffix != ".xml" or not p.is_file():
                other.append(p.name)
                continue
            doc = ET.parse(p).getroot()
            files[p.stem] = (doc.findtext("uuid"), int(doc.findtext("memory")))
    return files, other


def listed(uri):
    """{name: (uuid, max memory KiB)} as a fresh connection lists them."""
    import libvirt

    libvirt.registerErrorHandler(lambda *a: None, None)
    conn = libvirt.open(uri)
    try:
        return {d.name(): (d.UUIDString(), d.maxMemory()) for d in conn.listAllDomains(0)}
    finally:
        conn.close()


def define_shared(uri):
    import libvirt

    conn = libvirt.open(uri)
    try:
        for name in shared_names():
            conn.defineXML(domain_xml(name, name_uuid(name), 64))
    finally:
        conn.close()


def check_definitions(stack, expected, what):
    """Problems, as lines, if the daemon's list or the files differ from expected."""
    problems = []
    got = listed(stack.direct_uri)
    if got != expected:
        problems.append("%s: daemon lists %d domains, expected %d; missing %s, extra %s, "
                        "different %s" % diff(what, got, expected))
    files, other = defined_on_disk(stack.root)
    if files != expected:
        problems.append("%s: %d definition files, expected %d; missing %s, extra %s, "
                        "different %s" % diff(what + " (files)", files, expected))
    if other:
        problems.append("%s: unexpected files in the definition directory: %s"
                        % (what, other))
    return problems


def diff(what, got, expected):
    missing = sorted(set(expected) - set(got))[:10]
    extra = sorted(set(got) - set(expected))[:10]
    changed = sorted(n for n in set(got) & set(expected) if got[n] != expected[n])[:10]
    return (len(got), len(expected), missing, extra, changed)


# ---------------------------------------------------------------- valgrind

LEAK_RE = re.compile(r"(definitely|indirectly|possibly) lost: ([\d,]+) bytes in ([\d,]+) blocks")
ERRORS_RE = re.compile(r"ERROR SUMMARY: ([\d,]+) errors")


def valgrind_summary(path):
    """{'definitely': (bytes, blocks), ..., 'errors': n} from a memcheck log."""
    text = path.read_text(errors="replace")
    out = {"definitely": (0, 0), "indirectly": (0, 0), "possibly": (0, 0), "errors": None}
    for kind, nbytes, blocks in LEAK_RE.findall(text):
        out[kind] = (int(nbytes.replace(",", "")), int(blocks.replace(",", "")))
    m = ERRORS_RE.search(text)
    if m:
        out["errors"] = int(m.group(1).replace(",", ""))
    return out


# ---------------------------------------------------------------- the run

def run(args):
    build = Path(args.build).resolve()
    os.environ["SV_BUILD_DIR"] = str(build)
    root = Path(tempfile.mkdtemp(prefix="sv.load.", dir="/tmp"))
    ctx = multiprocessing.get_context("spawn")
    stack = Stack(root, args.through, args.valgrind)
    check_rss = not args.valgrind and not args.no_rss and not sanitized(build)
    res = {"through": args.through, "clients": args.clients, "calls_per_client": args.calls,
           "seed": args.seed, "root": str(root), "rss_checked": check_rss, "problems": []}
    problems = res["problems"]
    try:
        stack.start()
        define_shared(stack.direct_uri)
        # The warm-up client: everything a client makes the daemons do happens once
        # before the starting level (thread pool, type registrations, arenas).
        warm, _ = run_clients(ctx, stack.uri, ["warm"], min(args.calls, 300), args.seed)
        watched = stack.daemons()
        fds0 = {d.label: n_fds(d.pid) for d in watched}
        rss0 = {d.label: settle(d.pid, fds0[d.label]) for d in watched}

        tags = ["c%02d" % i for i in range(args.clients)]
        reports, wall = run_clients(ctx, stack.uri, tags, args.calls, args.seed)
        rss1 = {d.label: settle(d.pid, fds0[d.label]) for d in watched}
        fds1 = {d.label: n_fds(d.pid) for d in watched}

        calls = sum(r["calls"] for r in reports)
        failures = [f for r in warm + reports for f in r["failures"]]
        res.update(calls=calls, failed=len(failures), seconds=round(wall, 2),
                   calls_per_s=round(calls / wall, 1) if wall else 0.0,
                   events=sum(r["events"] for r in reports),
                   rss_kib={k: {"before": rss0[k], "after": rss1[k]} for k in rss0},
                   fds={k: {"before": fds0[k], "after": fds1[k]} for k in fds0})
        problems += failures[:20]
        if len(failures) > 20:
            problems.append("... and %d more failed calls" % (len(failures) - 20))
        if calls < args.clients * args.calls:
            problems.append("only %d of %d calls were made" % (calls, args.clients * args.calls))
        for k in fds0:
            if fds1[k] > fds0[k]:
                problems.append("%s: %d descriptors open after the clients left, %d before"
                                % (k, fds1[k], fds0[k]))
            if check_rss and rss1[k] - rss0[k] > RSS_BOUND_KIB:
                problems.append("%s: VmRSS %d KiB after the clients left, %d KiB before "
                                "(bound +%d KiB)" % (k, rss1[k], rss0[k], RSS_BOUND_KIB))

        expected = {n: (name_uuid(n), 64 * 1024) for n in shared_names()}
        for r in warm + reports:
            for name, mib in r["own"].items():
                expected[name] = (name_uuid(name), mib * 1024)
        res["defined"] = len(expected)
        problems += check_definitions(stack, expected, "after the load")
        stack.stop_qemud()
        stack.start()
        problems += check_definitions(stack, expected, "after a restart")
    except Exception:
        problems.append(traceback.format_exc())
    finally:
        problems += stack.finish()
    if args.valgrind:
        res["valgrind"] = {}
        for d in stack.stopped:
            log = root / ("%s.valgrind" % d.label)
            if log.exists():
                s = valgrind_summary(log)
                res["valgrind"][d.label] = s
                if s["definitely"][0] or s["errors"] is None or s["errors"] > 0:
                    problems.append("%s: valgrind found definite leaks or errors (see %s)"
                                    % (d.label, log))
    return res, root


def report(res):
    print("path:        %s" % res["through"])
    print("clients:     %d x %d calls" % (res["clients"], res["calls_per_client"]))
    if "calls" in res:
        print("calls:       %d in %.2f s, %.1f calls/s, %d events delivered"
              % (res["calls"], res["seconds"], res["calls_per_s"], res["events"]))
        print("failures:    %d" % res["failed"])
        print("defined:     %d domains at the end" % res.get("defined", -1))
        for k, v in res["rss_kib"].items():
            print("VmRSS %-14s before %d KiB, after %d KiB (%+d KiB)%s"
                  % (k + ":", v["before"], v["after"], v["after"] - v["before"],
                     "" if res["rss_checked"] else ", not checked"))
    for label, s in res.get("valgrind", {}).items():
        print("valgrind %s: definitely lost %d bytes in %d blocks, indirectly lost %d bytes "
              "in %d blocks, possibly lost %d bytes in %d blocks, %s errors"
              % ((label,) + s["definitely"] + s["indirectly"] + s["possibly"] + (s["errors"],)))
    for p in res["problems"]:
        print("PROBLEM: %s" % p)
    print("result:      %s" % ("FAIL" if res["problems"] else "ok"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--calls", type=int, default=10000, help="calls per client")
    ap.add_argument("--through", choices=PATHS, default="direct")
    ap.add_argument("--build", default=os.environ.get("SV_BUILD_DIR", "build"))
    ap.add_argument("--seed", default="1")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--valgrind", action="store_true",
                    help="run the daemons under valgrind memcheck (slow)")
    ap.add_argument("--no-rss", action="store_true", help="report RSS, do not check it")
    ap.add_argument("--keep", action="store_true", help="keep the private root")
    args = ap.parse_args()
    res, root = run(args)
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        report(res)
    if args.keep or res["problems"]:
        print("root kept: %s" % root)
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if res["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
