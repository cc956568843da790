#!/usr/bin/env python3
"""check_wire_constants.py GEN TABLE DATADIR SRCDIR: the table of libvirt's wire numbers is sound
(names unique, named after libvirt's, numbers unique within a group unless written as
libvirt's aliases, flags single bits), its public numbers are those python3-libvirt has
(the installed client, 9.0.0 here; skipped without it), and the generator's output is
stable: the same on every run, and for DATADIR/sample.tsv equal to DATADIR/sample.h
(SV_REGENERATE=1 rewrites it; review the diff). And no C file under SRCDIR keeps its own
copy of one of its numbers, the way each driver once had (LXC_STOPPED_DESTROYED = 1). TAP."""

import difflib
import importlib.util
import os
import re
import subprocess
import sys
import tempfile

results = []


def check(name, problems, skip=None):
    results.append((name, problems, skip))


def load(gen):
    spec = importlib.util.spec_from_file_location("gen_wire_constants", gen)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def table_checks(mod, table):
    groups, flag_groups = mod.parse(table)
    rows = [(g, r) for g, rs in groups for r in rs]
    check("the table has constants", [] if rows else ["no rows"])

    seen, seen_vir, problems = set(), set(), []
    for _, (name, _, vir, _) in rows:
        if name in seen:
            problems.append("name %s twice" % name)
        if vir in seen_vir:
            problems.append("libvirt name %s twice" % vir)
        seen.add(name)
        seen_vir.add(vir)
    check("no name is there twice", problems)

    ends = ["SV_%s_%s" % (mod.upper_snake(g), "ALL" if g in flag_groups else "LAST")
            for g, _ in groups]
    check("no name is that of a group's _LAST or _ALL", sorted(seen.intersection(ends)))

    check("each name is libvirt's with SV_ for VIR_",
          ["%s for %s" % (n, v) for _, (n, _, v, _) in rows
           if not v.startswith("VIR_") or n != "SV_" + v[4:]])

    problems = []
    for g, rs in groups:
        owner = {}
        for name, value, _, alias in rs:
            if alias:
                continue
            if value in owner:
                problems.append("%s: %s and %s are both %d (an alias names the first)"
                                % (g, owner[value], name, value))
            owner.setdefault(value, name)
    check("numbers are unique within each group but for aliases", problems)

    check("flags are 0 or one bit",
          ["%s = %d" % (n, v) for g, (n, v, _, _) in rows
           if g in flag_groups and v != 0 and (v < 0 or v & (v - 1))])
    check("enum values are not negative",
          ["%s = %d" % (n, v) for g, (n, v, _, _) in rows if g not in flag_groups and v < 0])
    client_checks(rows)


def client_checks(rows):
    """The numbers the installed python3-libvirt has for the same names. virDrvFeature is
    libvirt's internal enum, which the bindings do not export; every other name must be
    there."""
    name = "the public numbers are python3-libvirt's"
    try:
        import libvirt
    except ImportError:
        check(name, [], skip="python3-libvirt is not installed for " + sys.executable)
        return
    problems = []
    for group, (_, value, vir, _) in rows:
        if group == "virDrvFeature":
            continue
        if not hasattr(libvirt, vir):
            problems.append("python3-libvirt has no %s" % vir)
        elif getattr(libvirt, vir) != value:
            problems.append("%s is %d, python3-libvirt says %d"
                            % (vir, value, getattr(libvirt, vir)))
    check(name, problems)


# A name given a number of its own: "#define NAME 1", "#define NAME (1 << 2)" or, inside an
# enum's braces, "NAME = 1".
DEFINE_RE = re.compile(r"^\s*#\s*define\s+([A-Z][A-Z0-9_]*)\s+\(?\s*(?:-?\d|0x|1u?\s*<<)", re.M)
ENUM_RE = re.compile(r"\benum\s*\{([^}]*)\}", re.S)
ENUMERATOR_RE = re.compile(r"\b([A-Z][A-Z0-9_]*)\s*=\s*\(?\s*(?:-?\d|0x|1u?\s*<<)")


def copy_checks(mod, table, srcdir):
    """A copy is a name with a number whose last two or more words are the last words of a
    table constant's (STOPPED_DESTROYED of SV_DOMAIN_EVENT_STOPPED_DESTROYED): single words
    (ACTIVE, FORCE) are too common to mean one."""
    groups, _ = mod.parse(table)
    tails = set()
    for _, rows in groups:
        for name, *_ in rows:
            words = name.split("_")[1:]
            tails.update("_".join(words[i:]) for i in range(len(words) - 1))
    problems = []
    for root, _, files in os.walk(srcdir):
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            names = DEFINE_RE.findall(text)
            for body in ENUM_RE.findall(text):
                names += ENUMERATOR_RE.findall(body)
            for n in names:
                words = n.split("_")
                if any("_".join(words[i:]) in tails for i in range(len(words) - 1)):
                    problems.append("%s: %s" % (os.path.relpath(path, srcdir), n))
    check("no source keeps its own copy of a wire number", problems)


def run_gen(gen, table, out):
    return subprocess.run([sys.executable, gen, table, out], capture_output=True, text=True)


def generator_checks(gen, table, data):
    with tempfile.TemporaryDirectory() as tmp:
        outs = [os.path.join(tmp, "a.h"), os.path.join(tmp, "b.h")]
        texts = []
        for o in outs:
            r = run_gen(gen, table, o)
            texts.append(open(o).read() if r.returncode == 0 else None)
        check("the real table generates the same header twice",
              [] if texts[0] is not None and texts[0] == texts[1] else ["outputs differ or failed"])

        out = os.path.join(tmp, "sample.h")
        r = run_gen(gen, os.path.join(data, "sample.tsv"), out)
        problems = ["generator failed: " + r.stderr] if r.returncode else []
        if not problems:
            got = open(out).read()
            golden = os.path.join(data, "sample.h")
            if os.environ.get("SV_REGENERATE"):
                with open(golden, "w") as f:
                    f.write(got)
            want = open(golden).read()
            problems = list(difflib.unified_diff(want.splitlines(), got.splitlines(), lineterm=""))
        check("sample.tsv generates sample.h byte for byte", problems)

        bad = os.path.join(tmp, "bad.tsv")
        with open(bad, "w") as f:
            f.write("virX\tSV_X_A\tSV_X_NOT_THERE\tVIR_X_A\n")
        r = run_gen(gen, bad, os.path.join(tmp, "bad.h"))
        check("an alias of no earlier constant is refused, naming the line",
              [] if r.returncode != 0 and "bad.tsv:1" in r.stderr else ["accepted: " + r.stderr])


def main():
    gen, table, data, srcdir = sys.argv[1:5]
    try:
        mod = load(gen)
        table_checks(mod, table)
        copy_checks(mod, table, srcdir)
    except Exception as e:  # a table that does not parse fails the test, not the harness
        check("the table parses", [str(e)])
    generator_checks(gen, table, data)
    print("1..%d" % len(results))
    status = 0
    for i, (name, problems, skip) in enumerate(results, 1):
        if skip:
            print("ok %d - %s # SKIP %s" % (i, name, skip))
        elif problems:
            status = 1
            print("not ok %d - %s" % (i, name))
            for p in problems:
                print("# " + p)
        else:
            print("ok %d - %s" % (i, name))
    return status


if __name__ == "__main__":
    sys.exit(main())
