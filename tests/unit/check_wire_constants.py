#!/usr/bin/env python3
"""check_wire_constants.py GEN TABLE DATADIR: the table of libvirt's wire numbers is sound
(names unique, named after libvirt's, numbers unique within a group unless written as
libvirt's aliases, flags single bits), and the generator's output is stable: the same on
every run, and for DATADIR/sample.tsv equal to DATADIR/sample.h (SV_REGENERATE=1 rewrites
it; review the diff). TAP."""

import difflib
import importlib.util
import os
import subprocess
import sys
import tempfile

results = []


def check(name, problems):
    results.append((name, problems))


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
    gen, table, data = sys.argv[1:4]
    try:
        table_checks(load(gen), table)
    except Exception as e:  # a table that does not parse fails the test, not the harness
        check("the table parses", [str(e)])
    generator_checks(gen, table, data)
    print("1..%d" % len(results))
    status = 0
    for i, (name, problems) in enumerate(results, 1):
        if problems:
            status = 1
            print("not ok %d - %s" % (i, name))
            for p in problems:
                print("# " + p)
        else:
            print("ok %d - %s" % (i, name))
    return status


if __name__ == "__main__":
    sys.exit(main())
