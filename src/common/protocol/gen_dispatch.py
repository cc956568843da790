#!/usr/bin/env python3
"""gen_dispatch.py: procedure table, typed handler prototypes and the wire
layout description for one program defined in an XDR (.x) file.

The .x file is the single source of truth. For a procedure enum entry
PREFIX_PROC_FOO_BAR = N, the argument, return and message types are the
structs named prefix_foo_bar_args, prefix_foo_bar_ret and prefix_foo_bar_msg
when the file defines them, and void otherwise. A trailing comment on the
enum entry annotates it (see sv_remote.x).
"""

import argparse
import re
import sys

# SV_NET_NUM_FDS_MAX: descriptors one CALL_WITH_FDS message may carry.
MAX_FDS = 32

ACRONYMS = {"xml": "XML", "uuid": "UUID", "id": "ID", "uri": "URI", "cpu": "CPU"}


class XFile:
    """The subset of XDR language splitvirt's .x files use."""

    def __init__(self, text):
        self.consts = {}
        self.typedefs = {}  # name -> normalized declaration
        self.structs = {}  # name -> [(field, normalized type)]
        self.enums = {}  # name -> [(name, value, annotation)]
        self.unions = {}  # name -> (discriminant, [(case, type, field)])
        self.order = []  # (kind, name) in file order
        self._parse(text)

    @staticmethod
    def _strip(text):
        # Keep trailing annotation comments on enum lines as "@@...@@" tokens.
        text = re.sub(r"(=[^\n/]*)/\*([A-Za-z0-9_: ]*)\*/[ \t]*$",
                      lambda m: "%s@@%s@@" % (m.group(1), m.group(2).strip()), text, flags=re.M)
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
        text = re.sub(r"^%.*$", "", text, flags=re.M)
        return text

    def _value(self, tok):
        tok = tok.strip()
        if tok in self.consts:
            return self.consts[tok]
        return int(tok, 0)

    def _decl(self, decl):
        """'unsigned hyper x' -> ('x', 'unsigned hyper'); arrays and pointers normalized."""
        decl = " ".join(decl.split())
        m = re.match(r"^(.*?)\s*(\*?)\s*(\w+)\s*(?:<\s*(\w*)\s*>|\[\s*(\w+)\s*\])?$", decl)
        if not m:
            raise ValueError("cannot parse declaration %r" % decl)
        base, ptr, name, var, fixed = m.groups()
        base = base.strip()
        if ptr:
            typ = "optional %s" % base
        elif var is not None:
            typ = "%s<%s>" % (base, self._value(var) if var else "")
        elif fixed is not None:
            typ = "%s[%d]" % (base, self._value(fixed))
        else:
            typ = base
        return name, typ

    def _parse(self, text):
        text = self._strip(text)
        pos = 0
        pat = re.compile(r"\s*(const|typedef|struct|enum|union)\b")
        while True:
            m = pat.match(text, pos)
            if not m:
                if text[pos:].strip():
                    raise ValueError("unparsed text: %r" % text[pos:pos + 80])
                return
            kind = m.group(1)
            if kind in ("const", "typedef"):
                end = text.index(";", m.end())
                body = text[m.end():end]
                pos = end + 1
                if kind == "const":
                    name, val = [s.strip() for s in body.split("=")]
                    self.consts[name] = self._value(val)
                    self.order.append(("const", name))
                else:
                    name, typ = self._decl(body)
                    self.typedefs[name] = typ
                    self.order.append(("typedef", name))
                continue
            end = text.index("}", m.end())
            end = text.index(";", end)
            chunk = text[m.end():end]
            pos = end + 1
            if kind == "struct":
                name, body = re.match(r"\s*(\w+)\s*\{(.*)\}\s*$", chunk, re.S).groups()
                fields = [self._decl(f) for f in body.split(";") if f.strip()]
                self.structs[name] = fields
            elif kind == "enum":
                name, body = re.match(r"\s*(\w+)\s*\{(.*)\}\s*$", chunk, re.S).groups()
                items = []
                for ent in re.finditer(r"(\w+)\s*=\s*(\w+)\s*,?\s*(?:@@(.*?)@@)?", body):
                    items.append((ent.group(1), self._value(ent.group(2)), ent.group(3) or ""))
                self.enums[name] = items
            else:
                name, disc, body = re.match(r"\s*(\w+)\s+switch\s*\(([^)]*)\)\s*\{(.*)\}\s*$",
                                            chunk, re.S).groups()
                cases = []
                for c in re.finditer(r"case\s+(\w+)\s*:\s*([^;]+);", body):
                    fname, ftyp = self._decl(c.group(2))
                    cases.append((self._value(c.group(1)), ftyp, fname))
                self.unions[name] = (" ".join(disc.split()), cases)
            self.order.append((kind, name))


def camel(words):
    return "".join(ACRONYMS.get(w, w.capitalize()) for w in words)


def procedures(x, enum_name, prefix):
    procs = []
    for name, num, ann in x.enums[enum_name]:
        short = name[len(prefix.upper() + "_PROC_"):]
        lower = short.lower()
        flags = ann.split()
        api = None
        fds = 0
        for f in flags:
            if f.startswith("api:"):
                api = f[4:]
            elif f.startswith("fds:"):
                if not re.match(r"^fds:[1-9][0-9]*$", f):
                    raise ValueError("%s: bad annotation %r" % (name, f))
                fds = int(f[4:])
        words = lower.split("_")
        if api is None:
            api = "vir" + camel(words)
        base = "%s_%s" % (prefix, lower)
        p = {
            "num": num, "enum": name, "short": short, "lower": lower, "api": api,
            "flags": [f for f in flags if not f.startswith(("api:", "fds:"))],
            "fds": fds,
            "args": base + "_args" if base + "_args" in x.structs else None,
            "ret": base + "_ret" if base + "_ret" in x.structs else None,
            "msg": base + "_msg" if base + "_msg" in x.structs else None,
        }
        for f in p["flags"]:
            if f not in ("ro", "noopen", "noauth", "open", "close", "msg", "stream"):
                raise ValueError("%s: unknown annotation %r" % (name, f))
        if "msg" in p["flags"] and not p["msg"]:
            raise ValueError("%s: msg without %s_msg struct" % (name, base))
        if fds > MAX_FDS or (fds and "msg" in p["flags"]):
            raise ValueError("%s: fds:%d on a message or over %d" % (name, fds, MAX_FDS))
        procs.append(p)
    nums = [p["num"] for p in procs]
    if len(set(nums)) != len(nums):
        raise ValueError("procedure number reused")
    return procs


# Which of libvirt's driver connections serves a procedure (libvirt's gendispatch chooses
# remoteGetStorageConn, remoteGetSecretConn, ... the same way, from the procedure's name):
# the object family the name starts with, after an optional CONNECT_ and an optional
# listing verb (LIST_ALL_, LIST_DEFINED_, LIST_, NUM_OF_DEFINED_, NUM_OF_, FIND_); node
# devices are also NODE_LIST_DEVICES and NODE_NUM_OF_DEVICES. Detaching, re-attaching and
# resetting a node device are the hypervisor driver's (libvirt's QEMU driver implements
# them, for its guests' PCI passthrough). Everything else (DOMAIN_INTERFACE_STATS,
# NODE_GET_INFO, ...) is the primary (hypervisor) connection's.
FAMILY_PREFIXES = [
    ("STORAGE_POOL", "STORAGE"), ("STORAGE_VOL", "STORAGE"), ("SECRET", "SECRET"),
    ("NODE_DEVICE", "NODEDEV"), ("NETWORK", "NETWORK"), ("INTERFACE", "INTERFACE"),
    ("NWFILTER", "NWFILTER"),
]
FAMILY_VERBS = r"(?:LIST_ALL_|LIST_DEFINED_|LIST_|NUM_OF_DEFINED_|NUM_OF_|FIND_)?"


def family(short):
    if re.match(r"^NODE_DEVICE_(?:DETTACH|DETACH_FLAGS|RE_ATTACH|RESET)$", short):
        return "PRIMARY"
    if re.match(r"^NODE_(?:LIST|NUM_OF)_DEVICES$", short):
        return "NODEDEV"
    rest = re.sub(r"^(?:CONNECT_)?" + FAMILY_VERBS, "", short)
    for prefix, fam in FAMILY_PREFIXES:
        if rest == prefix or rest.startswith(prefix + "_") or rest.startswith(prefix + "S"):
            return fam
    return "PRIMARY"


def handler_proto(p, tname, fname=None):
    params = ["SvCall *call"]
    if p["args"]:
        params.append("%s *args" % p["args"])
    if p["ret"]:
        params.append("%s *ret" % p["ret"])
    params.append("GError **error")
    return "gboolean (*%s)(%s)" % (fname or p["lower"], ", ".join(params))


def gen_header(x, procs, prog, tname, xheader, out):
    calls = [p for p in procs if "msg" not in p["flags"]]
    w = out.write
    w("/* Generated by gen_dispatch.py from the .x file; do not edit. */\n")
    w("#pragma once\n\n#include <glib.h>\n#include \"%s\"\n#include \"protocol/program.h\"\n\n" % xheader)
    w("/* One typed handler per procedure. A handler either fills *ret and returns\n"
      " * TRUE, returns FALSE with *error set, or calls sv_call_defer() and returns\n"
      " * TRUE, completing the call later with sv_call_reply()/sv_call_fail().\n"
      " * A NULL handler answers \"unknown procedure\". */\n")
    w("typedef struct %s {\n" % tname)
    for p in calls:
        w("    %s;\n" % handler_proto(p, tname))
    w("} %s;\n\n" % tname)
    w("extern const SvProgramInfo %s_info;\n\n" % snake(tname))
    w("/* Copy every non-NULL handler of src over dst. */\n")
    w("void %s_overlay(%s *dst, const %s *src);\n" % (snake(tname), tname, tname))


def snake(tname):
    return re.sub(r"(?<!^)([A-Z])", r"_\1", tname).lower()


def gen_buffer_check(calls, w):
    """The dispatcher decodes a call's arguments into, and takes its return value from, a
    buffer of SV_PROC_BUF_SIZE bytes (program.h): a union of every call's types, asserted
    to fit, makes a larger type fail the build instead of a call."""
    types = []
    for p in calls:
        for t in (p["args"], p["ret"]):
            if t and t not in types:
                types.append(t)
    w("/* Every call's arguments and return value fit the dispatcher's buffer. */\n")
    w("typedef union {\n    char none;\n")
    for i, t in enumerate(types):
        w("    %s t%d;\n" % (t, i))
    w("} CallTypes;\n")
    w("_Static_assert(sizeof(CallTypes) <= SV_PROC_BUF_SIZE,\n"
      "    \"a call's arguments or return value exceed SV_PROC_BUF_SIZE (program.h)\");\n\n")


def gen_source(x, procs, prog, vers, tname, hname, out, families=False):
    calls = [p for p in procs if "msg" not in p["flags"]]
    w = out.write
    sn = snake(tname)
    w("/* Generated by gen_dispatch.py from the .x file; do not edit. */\n")
    w("#include <stddef.h>\n#include \"%s\"\n\n" % hname)
    for p in calls:
        args = ["call"]
        if p["args"]:
            args.append("args")
        if p["ret"]:
            args.append("ret")
        args.append("error")
        w("static gboolean\ninvoke_%s(const void *handlers, SvCall *call, void *args, void *ret,\n"
          "    GError **error)\n{\n" % p["lower"])
        if not p["args"]:
            w("    (void)args;\n")
        if not p["ret"]:
            w("    (void)ret;\n")
        w("    return ((const %s *)handlers)->%s(%s);\n}\n\n" % (tname, p["lower"], ", ".join(args)))
    w("static const SvProcInfo procs[] = {\n")
    for p in procs:
        flags = " | ".join("SV_PROC_" + f.upper() for f in p["flags"]) or "0"
        if "msg" in p["flags"]:
            af, asz = "(xdrproc_t)xdr_%s" % p["msg"], "sizeof(%s)" % p["msg"]
        elif p["args"]:
            af, asz = "(xdrproc_t)xdr_%s" % p["args"], "sizeof(%s)" % p["args"]
        else:
            af, asz = "(xdrproc_t)sv_xdr_void", "0"
        if p["ret"]:
            rf, rsz = "(xdrproc_t)xdr_%s" % p["ret"], "sizeof(%s)" % p["ret"]
        else:
            rf, rsz = "(xdrproc_t)sv_xdr_void", "0"
        if "msg" in p["flags"]:
            off, inv = "0", "NULL"
        else:
            off, inv = "offsetof(%s, %s)" % (tname, p["lower"]), "invoke_%s" % p["lower"]
        fam = "SV_PROC_FAMILY_" + (family(p["short"]) if families else "PRIMARY")
        w("    { %d, \"%s\", \"%s\", %s, %s, %s, %s, %s, %d, %s, %s, %s },\n"
          % (p["num"], p["short"], p["api"], af, asz, rf, rsz, flags, p["fds"], off, inv, fam))
    w("};\n\n")
    gen_buffer_check(calls, w)
    w("const SvProgramInfo %s_info = {\n    %s, %s, procs, G_N_ELEMENTS(procs),\n};\n\n"
      % (sn, prog, vers))
    w("void\n%s_overlay(%s *dst, const %s *src)\n{\n" % (sn, tname, tname))
    for p in calls:
        w("    if (src->%s)\n        dst->%s = src->%s;\n" % (p["lower"], p["lower"], p["lower"]))
    w("}\n")


def gen_layout(x, out):
    w = out.write
    w("# Wire layout of every type, regenerated by gen_dispatch.py --layout and\n"
      "# compared byte for byte by tests; a difference is a wire ABI change.\n")
    for kind, name in x.order:
        if kind == "const":
            w("const %s = %d\n" % (name, x.consts[name]))
        elif kind == "typedef":
            w("typedef %s = %s\n" % (name, x.typedefs[name]))
        elif kind == "struct":
            w("struct %s {\n" % name)
            for f, t in x.structs[name]:
                w("    %s %s\n" % (t, f))
            w("}\n")
        elif kind == "enum":
            w("enum %s {\n" % name)
            for n, v, _ in x.enums[name]:
                w("    %s = %d\n" % (n, v))
            w("}\n")
        elif kind == "union":
            disc, cases = x.unions[name]
            w("union %s switch (%s) {\n" % (name, disc))
            for c, t, f in cases:
                w("    case %d: %s %s\n" % (c, t, f))
            w("}\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("xfile")
    ap.add_argument("--prefix", required=True, help="type prefix, e.g. remote")
    ap.add_argument("--program", help="program number constant")
    ap.add_argument("--version", help="program version constant")
    ap.add_argument("--handlers", help="handler struct type name, e.g. SvRemoteHandlers")
    ap.add_argument("--xheader", help="rpcgen header to include")
    ap.add_argument("--header", help="write the dispatch header here")
    ap.add_argument("--source", help="write the dispatch source here")
    ap.add_argument("--layout", help="write the layout description here ('-' for stdout)")
    ap.add_argument("--families", action="store_true",
                    help="tag each procedure with its driver family (the remote program)")
    a = ap.parse_args()
    with open(a.xfile) as f:
        x = XFile(f.read())
    if a.header or a.source:
        procs = procedures(x, "%s_procedure" % a.prefix, a.prefix)
    if a.header:
        with open(a.header, "w") as f:
            gen_header(x, procs, a.program, a.handlers, a.xheader, f)
    if a.source:
        import os
        with open(a.source, "w") as f:
            gen_source(x, procs, a.program, a.version, a.handlers, os.path.basename(a.header), f,
                       a.families)
    if a.layout:
        if a.layout == "-":
            gen_layout(x, sys.stdout)
        else:
            with open(a.layout, "w") as f:
                gen_layout(x, f)


if __name__ == "__main__":
    main()
