#!/usr/bin/env python3
"""procedures.py: write docs/procedures.md, which libvirt procedures each daemon serves.

Derived from the sources, never by hand:
- the procedures and their public API names: src/common/protocol/sv_remote.x,
  sv_qemu.x (libvirt-qemu) and sv_private.x, read by gen_dispatch.py (the same parser the
  build uses);
- what a daemon serves: the handlers it installs, in the order it installs them (a later
  one replaces an earlier one). Every daemon starts from sv_remote_common_handlers()
  (src/common/programs/remote.c); the domain daemons add sv_domain_driver_install() and
  sv_domain_driver_install_lifecycle() (src/common/domain/domain_driver.c and
  domain_lifecycle.c; the host facts' sv_domain_host_install_*() of domain_host.c, and those on a running guest their SvGuestOps give an action for,
  domain_control.c), and with their
  SvConnectFacts the connection procedures (src/common/domain/domain_connect.c); then come the
  daemon's own `h->NAME = func` assignments and the `.NAME = func` fields of its
  SvRemoteHandlers initializers in src/DAEMON/*.c. sv_private_serve() adds ADOPT_CLIENT.
  The libvirt-qemu program: the `.NAME = func` fields of the SvQemuHandlers initializer of
  a daemon that calls qemu_program_serve(), and QEMU_ANSWERS below for those that only
  ever answer libvirt's error.
- which answers are constant: a handler whose reply is only ever filled with fixed values
  (every use of `ret` in its body is `ret->FIELD = VALUE;` with VALUE a number, an
  upper-case macro, NULL/TRUE/FALSE, a string literal or an empty string) answers the same
  whatever the domain or the host (a shared handler's call of a driver hook,
  `if (drv->HOOK) drv->HOOK(...);`, counts only for the daemons that set HOOK). Such a
  procedure is never listed as implemented: it is marked `constant` and listed under
  "Constant answers" with its value and why. The only exceptions are in FINAL below: fixed
  values that are the complete answer (the driver's name, the transport's security); they
  are listed too, under "Fixed answers".

Run from the repository: python3 docs/procedures.py > docs/procedures.md
(tests/unit/check_procedures.py fails when the file is not what this script writes.)
"""

import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC / "common" / "protocol"))
import gen_dispatch  # noqa: E402

DAEMONS = ("virtqemud", "virtlxcd", "virtxend", "virtsecretd", "virtnodedevd", "virtstoraged",
           "virtnetworkd", "virtproxyd")

# A value of a reply field that does not depend on anything.
LITERAL = re.compile(r'^(-?\d+[uUlL]*|[A-Z][A-Z0-9_]*|"[^"]*"|g_strdup\("[^"]*"\)|'
                     r'g_new0\(char, 1\))$')
RET_ASSIGN = re.compile(r"\bret->([\w.]+)\s*=\s*([^;]+);[ \t]*(?:/\*(.*?)\*/)?", re.S)

# Fixed values that are the whole, real answer, and why: implemented.
FINAL = {
    "connect_get_type": "the driver's name, which is what libvirt answers",
    "connect_get_uri": "the one URI the daemon serves",
    "connect_is_secure": "the daemons serve only local unix sockets, which libvirt also "
                         "reports as secure",
    "connect_get_lib_version": "libvirt 9.0.0, the release whose protocol the daemons speak",
    "connect_domain_event_register": "the callback is registered; the reply only "
                                     "confirms it",
    "connect_domain_event_deregister": "the callback is removed (an error when there was "
                                       "none); the reply only confirms it",
}

# Why a constant answer is what it is (the source's own comment is used when this has none).
WHY = {
    "domain_has_managed_save_image": "no managed save exists: always 0 (no image)",
    "domain_snapshot_num": "no snapshots exist: always 0",
    "domain_get_control_info": "no job can hold up the monitor: always OK, details 0, "
                               "no time in that state",
    "domain_is_updated": "no live change can leave the persistent definition behind: "
                         "always 0",
    "domain_get_security_label": "no security driver: the empty label, as libvirt's "
                                 "`none` driver answers",
    "node_get_security_model": "no security driver: libvirt's `none` driver (virtlxcd: "
                               "model `none`, doi `0`, as its capabilities and libvirt's lxc "
                               "driver; virtxend: the empty model)",
    "connect_get_max_vcpus": "the same for every type and host: not probed from QEMU "
                             "or KVM",
}


# Handlers that only ever answer an error, the one libvirt gives where the feature behind
# them is absent: listed as constant answers, never as implemented.
ALWAYS_ERROR = {
}
ALWAYS_ERROR_ANSWER = [("error", "libvirt's", "")]
# Procedures a driver answers as libvirt's driver without them does (NO_SUPPORT, "this
# function is not supported by the connection driver"): domain/domain_stats.h.
NO_SUPPORT_ANSWER = [("error", "NO_SUPPORT", "")]


# libvirt-qemu procedures served with a fixed error: (mark, why).
QEMU_ANSWERS = {
    "domain_attach": ("NO_SUPPORT", "libvirt 9.0 attaches to no QEMU process: its public API "
                      "answers NO_SUPPORT"),
}


def qemu_served(qemu):
    """{daemon: {libvirt-qemu handler: its mark}}: virtqemud's own handlers, and every call
    NO_SUPPORT where a daemon serves the program as a driver without it
    (sv_qemu_serve_unsupported, src/common/programs/qemu.c)."""
    out = {}
    for d in DAEMONS:
        text = "\n".join(f.read_text() for f in sorted((SRC / d).glob("*.c")))
        marks = {}
        if "qemu_program_serve(" in text:
            for block in re.findall(r"SvQemuHandlers\s+\w+\s*=\s*\{(.*?)\};", text, re.S):
                marks.update((n, QEMU_ANSWERS.get(n, ("yes", ""))[0])
                             for n, _ in re.findall(r"\.(\w+)\s*=\s*(\w+)", block))
        elif "sv_qemu_serve_unsupported(" in text:
            marks = {p["lower"]: "NO_SUPPORT" for p in qemu if "msg" not in p["flags"]}
        out[d] = marks
    return out


def write_qemu(w, qemu, present):
    served = qemu_served(qemu)
    w("\n## libvirt-qemu program (0x20008087)\n\n")
    w("libvirt's QEMU-specific program (sv_qemu.x), on the same sockets as the remote\n"
      "program. `event`: a message the daemon sends. virtlxcd and virtxend answer every\n"
      "call as libvirt's LXC and libxl drivers, which have none of them.\n\n")
    w("| # | procedure | public API | %s |\n" % " | ".join(present))
    w("| ---: | --- | --- | %s |\n" % " | ".join(":---:" for _ in present))

    def mark(d, p):
        if "msg" in p["flags"]:
            return "event" if "yes" in served[d].values() else ""
        return served[d].get(p["lower"], "")

    for p in sorted(qemu, key=lambda p: p["num"]):
        w("| %d | `%s` | `%s` | %s |\n" % (p["num"], p["short"], p["api"],
                                           " | ".join(mark(d, p) for d in present)))
    w("\nvirtqemud's fixed answers:\n\n| # | procedure | answer | why |\n"
      "| ---: | --- | --- | --- |\n")
    for p in sorted(qemu, key=lambda p: p["num"]):
        if p["lower"] in QEMU_ANSWERS:
            m, reason = QEMU_ANSWERS[p["lower"]]
            w("| %d | `%s` | %s | %s |\n" % (p["num"], p["short"],
                                             "libvirt's error" if m == "constant" else m, reason))


def no_support_handlers(text):
    """The handlers a daemon's sources leave to libvirt's NO_SUPPORT answer."""
    out = set()
    for args in re.findall(r"sv_domain_stats_install_no_support\((.*?)\);", text, re.S):
        out.update(n.lower() if n.startswith("CONNECT_") else "domain_" + n.lower()
                   for n in re.findall(r"SV_STATS_(\w+)", args))
    if "sv_domain_cpu_compare_install_no_support(" in text:  # domain_cpu_compare.c
        out.update({"connect_compare_cpu", "connect_baseline_cpu",
                    "connect_compare_hypervisor_cpu", "connect_baseline_hypervisor_cpu"})
    if "sv_domain_guestops_install_no_support(" in text:  # domain_keys.c
        out.update({"domain_send_key", "domain_inject_nmi", "domain_screenshot",
                    "domain_block_resize", "domain_open_graphics_fd"})
    if "sv_domain_hotplug_install_alias_no_support(" in text:  # domain_hotplug.c
        out.add("domain_detach_device_alias")
    if "sv_domain_rename_install_no_support(" in text:  # domain_rename.c
        out.add("domain_rename")
    if "sv_domain_agent_install_no_support(" in text:  # domain_ifaddr.c
        out.update({"domain_set_time", "domain_fsfreeze", "domain_fsthaw",
                    "domain_get_fsinfo", "domain_set_user_password"})
    if "sv_domain_iotune_install_no_support(" in text:  # domain_iotune.c
        out.update({"domain_set_block_io_tune", "domain_get_block_io_tune"})
    return out


def function_body(text, name):
    """The body of the C function `name` in text ('' when absent)."""
    m = re.search(r"^%s\([^;{)]*\)\s*\{" % re.escape(name), text, re.M)
    if not m:
        return ""
    depth, i = 1, m.end()
    while depth and i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[m.end():i]


def assigned(text):
    """{handler name: C function} of text: `h->NAME = func` and the `.NAME = func` fields of
    SvRemoteHandlers initializers (the later of two assignments wins; `h->NAME = NULL`
    takes back a shared handler: not served)."""
    out = dict(re.findall(r"\bh->(\w+)\s*=\s*(\w+)\s*;", text))
    for block in re.findall(r"SvRemoteHandlers\s+\w+\s*=\s*\{(.*?)\};", text, re.S):
        out.update(re.findall(r"\.(\w+)\s*=\s*(\w+)", block))
    return out


def unhooked(body, text):
    """body without its calls of the driver hooks (`if (drv->HOOK) drv->HOOK(...);`) that
    the daemon whose sources are text does not set: a shared handler answers for that
    daemon as if they were not there."""
    def drop(m):
        hook = m.group(1)
        return m.group(0) if re.search(r"(->|\.)%s\s*=\s*\w" % hook, text) else ""
    return re.sub(r"if \(drv->(\w+)\)\s*drv->\1\([^;]*\);", drop, body)


def constant_answer(body):
    """[(field, value, comment)] when the body fills its reply with fixed values only,
    else None."""
    found = RET_ASSIGN.findall(body)
    uses = len(re.findall(r"\bret\b", body))
    if not found or uses != len(found):
        return None  # no reply, or ret is read, passed on or filled from something else
    if not all(LITERAL.match(value.strip()) for _, value, _ in found):
        return None
    return [(field, value.strip(), (comment or "").strip()) for field, value, comment in found]


def guest_handlers(control_c, text):
    """[(handler name, C function)] of the procedures on a running guest a driver serves:
    those sv_domain_control_install installs for an SvGuestProc with an action, when the
    driver's SvGuestOps (in text) gives that procedure one."""
    body = function_body(control_c, "sv_domain_control_install")
    out = []
    for op, block in re.findall(r"if \(p\[(SV_GUEST_\w+)\]\.act\)\s*(\{.*?\}|[^;]*;)", body,
                                re.S):
        # The entry's initializer: up to the next entry or the table's end.
        entry = re.search(r"\[%s\]\s*=\s*\{(.*?)(?=\[SV_GUEST_|^\s*\}\s*,?\s*$)" % op, text,
                          re.S | re.M)
        if entry and re.search(r"\.act\s*=\s*\w", entry.group(1)):
            out += re.findall(r"\bh->(\w+)\s*=\s*(\w+)\s*;", block)
    return out


def served(procs):
    """{daemon: {handler name: constant answer or None}} and {daemon: serves ADOPT_CLIENT};
    None for a daemon whose sources are not there yet."""
    remote_c = (SRC / "common/programs/remote.c").read_text()
    domain_c = (SRC / "common/domain/domain_driver.c").read_text()
    connect_c = (SRC / "common/domain/domain_connect.c").read_text()
    lifecycle_c = (SRC / "common/domain/domain_lifecycle.c").read_text()
    control_c = (SRC / "common/domain/domain_control.c").read_text()
    host_c = (SRC / "common/domain/domain_host.c").read_text()
    hotplug_c = (SRC / "common/domain/domain_hotplug.c").read_text()
    rename_c = (SRC / "common/domain/domain_rename.c").read_text()
    ifparams_c = (SRC / "common/domain/domain_ifparams.c").read_text()
    layers = [
        (None, remote_c, assigned(function_body(remote_c, "sv_remote_common_handlers"))),
        # A secondary driver's daemon: the common handlers less the hypervisor's.
        ("sv_remote_secondary_handlers(", remote_c,
         assigned(function_body(remote_c, "sv_remote_secondary_handlers"))),
        ("sv_domain_driver_install(", domain_c,
         assigned(function_body(domain_c, "sv_domain_driver_install"))),
        # The connection procedures, for a driver that gives their facts (.connect).
        ("SvConnectFacts ", connect_c,
         assigned(function_body(connect_c, "sv_domain_connect_install"))),
        ("sv_domain_driver_install_lifecycle(", lifecycle_c,
         assigned(function_body(lifecycle_c, "sv_domain_driver_install_lifecycle"))),
        # Host facts (issue 18 item 5), each installer for the daemons that call it.
        ("sv_domain_host_install_node(", host_c,
         assigned(function_body(host_c, "sv_domain_host_install_node"))),
        ("sv_domain_host_install_sysinfo(", host_c,
         assigned(function_body(host_c, "sv_domain_host_install_sysinfo"))),
        ("sv_domain_host_install_security_none(", host_c,
         assigned(function_body(host_c, "sv_domain_host_install_security_none"))),
        # Devices attached and detached (issue 18 item 2, hotplug).
        ("sv_domain_hotplug_install(", hotplug_c,
         assigned(function_body(hotplug_c, "sv_domain_hotplug_install"))),
        # Rename (issue 18 item 2).
        ("sv_domain_rename_install(", rename_c,
         assigned(function_body(rename_c, "sv_domain_rename_install"))),
        # Interface parameters' read and set (issue 18, domiftune).
        ("sv_domain_ifparams_install_get(", ifparams_c,
         assigned(function_body(ifparams_c, "sv_domain_ifparams_install_get"))),
        ("sv_domain_ifparams_install_set(", ifparams_c,
         assigned(function_body(ifparams_c, "sv_domain_ifparams_install_set"))),
    ]
    names = {p["lower"] for p in procs}
    out, adopt = {}, {}
    for d in DAEMONS:
        files = sorted((SRC / d).glob("*.c"))
        if not files:
            out[d] = None
            continue
        text = "\n".join(f.read_text() for f in files)
        where = {}  # handler -> (function, the text that defines it)
        for call, src, handlers in layers + [(None, text, assigned(text))]:
            if call is None or call in text:
                where.update({h: (fn, src) for h, fn in handlers.items()})
            if call == "sv_domain_driver_install_lifecycle(" and call in text:
                where.update({h: (fn, control_c) for h, fn in guest_handlers(control_c, text)})
        out[d] = {h: (ALWAYS_ERROR_ANSWER if h in ALWAYS_ERROR
                      else constant_answer(unhooked(function_body(src, fn), text)))
                  for h, (fn, src) in where.items() if h in names and fn != "NULL"}
        out[d].update({h: NO_SUPPORT_ANSWER for h in no_support_handlers(text) if h in names})
        adopt[d] = "sv_private_serve(" in text
    return out, adopt


def relaying_daemons():
    """{daemon: the families it relays}, from `.relay_families = ...` in its SvDaemonDriver:
    SV_PROC_FAMILIES_SECONDARY (every secondary family: the hypervisor daemons) or
    SV_PROC_FAMILY_BIT(SV_PROC_FAMILY_X) terms. A call of such a family that the daemon does
    not serve goes to that family's daemon (src/common/programs/family_relay.c)."""
    out = {}
    for d in DAEMONS:
        text = "\n".join(f.read_text() for f in sorted((SRC / d).glob("*.c")))
        m = re.search(r"\.relay_families\s*=\s*([^,;]+)", text)
        if not m:
            continue
        if "SV_PROC_FAMILIES_SECONDARY" in m.group(1):
            out[d] = {f for _, f in gen_dispatch.FAMILY_PREFIXES}
        else:
            out[d] = set(re.findall(r"SV_PROC_FAMILY_BIT\(SV_PROC_FAMILY_(\w+)\)", m.group(1)))
    return out


def relayed_to(relaying, d, p):
    """The daemon d relays procedure p to, or None."""
    fam = gen_dispatch.family(p["short"])
    if fam not in relaying.get(d, ()) or "msg" in p["flags"]:
        return None
    return "virt%sd" % fam.lower()


def is_constant(handlers, d, name):
    """Served with a fixed answer that is not the whole answer: not implemented."""
    return bool(handlers[d].get(name)) and name not in FINAL and \
        handlers[d][name] is not NO_SUPPORT_ANSWER


def is_no_support(handlers, d, name):
    return handlers[d].get(name) is NO_SUPPORT_ANSWER


def why(p, answer):
    if p["lower"] in FINAL:
        return FINAL[p["lower"]]
    if answer is NO_SUPPORT_ANSWER or list(answer) == NO_SUPPORT_ANSWER:
        return "the same answer whatever is asked"
    if p["lower"] in ALWAYS_ERROR:
        return ALWAYS_ERROR[p["lower"]]
    if p["lower"] in WHY:
        return WHY[p["lower"]]
    comments = [c for _, _, c in answer if c]
    return "; ".join(comments) if comments else "the same answer whatever is asked"


def write_fixed(w, remote, handlers, present, final):
    """The fixed answers: the placeholders (final False) or the complete ones (True)."""
    w("| # | procedure | daemons | fixed answer | why |\n| ---: | --- | --- | --- | --- |\n")
    for p in sorted(remote, key=lambda p: p["num"]):
        if (p["lower"] in FINAL) != final:
            continue
        by_answer = {}
        for d in present:
            answer = handlers[d].get(p["lower"])
            if answer:
                by_answer.setdefault(tuple(answer), []).append(d)
        for answer, daemons in by_answer.items():
            value = ", ".join("`%s = %s`" % (f, v) for f, v, _ in answer)
            w("| %d | `%s` | %s | %s | %s |\n" % (p["num"], p["short"], ", ".join(daemons),
                                                 value, why(p, answer)))


def write_constants(w, remote, handlers, present):
    w("\n## Constant answers\n\n")
    w("These procedures are served, but their reply is a fixed value, the same for every\n"
      "domain and every host state, because the feature behind it does not exist in the\n"
      "daemon. They are marked `constant` above and are not implemented until they answer\n"
      "from real state.\n\n")
    write_fixed(w, remote, handlers, present, False)
    w("\n## Fixed answers\n\n")
    w("These replies are fixed values too, but the value is the complete answer; they are\n"
      "implemented (`yes` above).\n\n")
    write_fixed(w, remote, handlers, present, True)


def main():
    proto = SRC / "common" / "protocol"
    remote = gen_dispatch.procedures(
        gen_dispatch.XFile((proto / "sv_remote.x").read_text()), "remote_procedure", "remote")
    private = gen_dispatch.procedures(
        gen_dispatch.XFile((proto / "sv_private.x").read_text()), "sv_private_procedure",
        "sv_private")
    qemu = gen_dispatch.procedures(
        gen_dispatch.XFile((proto / "sv_qemu.x").read_text()), "qemu_procedure", "qemu")
    handlers, adopt = served(remote)
    if handlers["virtproxyd"] is not None:
        # Before CONNECT_OPEN only procedures allowed on an unopened connection reach the
        # proxy's own handlers; from the open on, the client's calls go to its backend.
        before_open = {p["lower"] for p in remote if "noopen" in p["flags"]}
        handlers["virtproxyd"] = {h: c for h, c in handlers["virtproxyd"].items()
                                  if h in before_open}
    w = sys.stdout.write
    w("# Procedures each daemon serves\n\n")
    w("Generated by `python3 docs/procedures.py > docs/procedures.md` from the handlers each\n"
      "daemon installs (see the script); do not edit by hand. A procedure a daemon does not\n"
      "serve gets libvirt's answer for an unknown procedure; on a secondary driver's daemon\n"
      "(virtsecretd, virtnodedevd, virtstoraged, virtnetworkd) a domain or host call gets\n"
      "NO_SUPPORT naming its API, and another family's call \"connection not open\", as from libvirt's\n"
      "per-driver daemons (virtstoraged relays the secret calls to virtsecretd, as libvirt's\n"
      "storage daemon co-opens the secret driver). `yes`: implemented;\n"
      "`constant`: served with a fixed answer (see [Constant answers](#constant-answers)),\n"
      "not implemented.\n\n")
    w("virtproxyd serves the handshake itself (`AUTH_LIST`, `CONNECT_SUPPORTS_FEATURE`,\n"
      "keepalive) and `CONNECT_OPEN`, which picks the backend; every later call of that\n"
      "client is the backend's, on the connection handed over to it, or relayed\n"
      "(docs/proxy.md). Its column shows what it answers itself.\n\n")
    missing = [d for d in DAEMONS if handlers[d] is None]
    for d in missing:
        w("`%s`: in progress (no sources yet).\n\n" % d)
    present = [d for d in DAEMONS if handlers[d] is not None]
    w("## Remote program (0x20008086)\n\n")
    w("| # | procedure | public API | %s |\n" % " | ".join(present))
    w("| ---: | --- | --- | %s |\n" % " | ".join(":---:" for _ in present))

    relaying = relaying_daemons()

    def mark(d, p):
        if p["lower"] not in handlers[d]:
            if relayed_to(relaying, d, p):
                return "relayed to %s" % relayed_to(relaying, d, p)
            return ""
        if is_no_support(handlers, d, p["lower"]):
            return "NO_SUPPORT"
        return "constant" if is_constant(handlers, d, p["lower"]) else "yes"

    for p in sorted(remote, key=lambda p: p["num"]):
        w("| %d | `%s` | `%s` | %s |\n" % (p["num"], p["short"], p["api"],
                                           " | ".join(mark(d, p) for d in present)))
    w("\n`NO_SUPPORT`: answered as libvirt's driver for that hypervisor answers, without the\n"
      "procedure: \"this function is not supported by the connection driver\".\n")
    w("\n`relayed to virtXd`: a hypervisor daemon does not serve the procedure itself; it\n"
      "passes the call on to that family's daemon on the client's behalf, as libvirt's\n"
      "per-driver daemons do (docs/proxy.md, \"The secondary drivers\"). The answer is that\n"
      "daemon's (see its column), or libvirt's socket error when it is not running.\n")
    w("\n| daemon | implemented | constant answers | NO_SUPPORT | relayed | not served |\n"
      "| --- | ---: | ---: | ---: | ---: | ---: |\n")
    calls = [p for p in remote if "msg" not in p["flags"]]
    for d in present:
        const = sum(1 for h in handlers[d] if is_constant(handlers, d, h))
        nosup = sum(1 for h in handlers[d] if is_no_support(handlers, d, h))
        relayed = sum(1 for p in calls if relayed_to(relaying, d, p) and
                      p["lower"] not in handlers[d])
        w("| %s | %d of %d | %d | %d | %d | %d |\n"
          % (d, len(handlers[d]) - const - nosup, len(remote), const, nosup, relayed,
             len(remote) - len(handlers[d]) - relayed))
    write_constants(w, remote, handlers, present)
    write_qemu(w, qemu, present)
    w("\n## splitvirt's private program (sv_private.x)\n\n")
    w("| # | procedure | %s |\n" % " | ".join(present))
    w("| ---: | --- | %s |\n" % " | ".join(":---:" for _ in present))
    for p in private:
        w("| %d | `%s` | %s |\n" % (p["num"], p["short"],
                                    " | ".join("yes" if adopt[d] else "" for d in present)))
    w("\nA backend without `ADOPT_CLIENT` is reached through virtproxyd's relay.\n")


if __name__ == "__main__":
    main()
