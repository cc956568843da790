#!/usr/bin/env python3
"""summary.py BUILDDIR...: the end of scripts/test.sh, from each BUILDDIR/meson-logs/testlog.json.

Prints every failed meson test, then every skipped item with its reason, then the counts:

    FAILED: splitvirt:e2e / e2e (FAIL) in build
    skipped: 3
      build: splitvirt:unit / x: skipped whole: no /dev/kvm
      build: splitvirt:e2e / e2e: 2 cases: tests/e2e/test_xen.py:40: libxl not installed
    tests: 96 passed, 1 failed, 1 skipped

A skip is never counted as passed. The counts are of meson tests; the skipped list also
names what was skipped inside a test that passed: pytest cases (the `SKIPPED [N] where:
reason` lines of its -ra summary) and TAP subtests (`ok N name # SKIP reason`). The reason
of a meson test skipped whole is its TAP plan's (`1..0 # SKIP reason`), else the last line
it printed. Always exits 0: test.sh's status comes from meson test itself.
"""

import json
import re
import sys
from pathlib import Path

PASSED = ("OK", "EXPECTEDFAIL")
SKIPPED = ("SKIP",)
PYTEST_SKIP = re.compile(r"^SKIPPED \[(\d+)\] (.*)$")
TAP_SKIP = re.compile(r"^ok \d+\s*(?:- )?(.*?)\s*#\s*skip\S*\s*(.*)$", re.I)
TAP_PLAN_SKIP = re.compile(r"^1\.\.0\s*#\s*skip\S*\s*(.*)$", re.I)


def output_lines(result):
    return ((result.get("stdout") or "") + "\n" + (result.get("stderr") or "")).splitlines()


def whole_skip_reason(result):
    lines = [ln.strip() for ln in output_lines(result) if ln.strip()]
    for ln in lines:
        m = TAP_PLAN_SKIP.match(ln)
        if m and m.group(1):
            return m.group(1)
    return lines[-1] if lines else "(it printed nothing)"


def skipped_inside(result):
    """[(count, description)] of the cases skipped inside one meson test."""
    out = []
    for ln in output_lines(result):
        m = PYTEST_SKIP.match(ln)
        if m:
            out.append((int(m.group(1)), m.group(2)))
            continue
        m = TAP_SKIP.match(ln)
        if m:
            out.append((1, "%s: %s" % (m.group(1), m.group(2) or "(no reason given)")))
    return out


def summarize(build_dirs, write=print):
    passed = failed = skipped = 0
    failures, skips = [], []
    for d in build_dirs:
        log = Path(d) / "meson-logs" / "testlog.json"
        if not log.exists():
            failed += 1
            failures.append("FAILED: no %s (meson test did not run)" % log)
            continue
        for line in log.read_text().splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            if r["result"] in SKIPPED:
                skipped += 1
                skips.append((1, "%s: %s: skipped whole: %s" % (d, r["name"],
                                                                 whole_skip_reason(r))))
                continue
            if r["result"] in PASSED:
                passed += 1
            else:
                failed += 1
                failures.append("FAILED: %s (%s) in %s" % (r["name"], r["result"], d))
            for n, what in skipped_inside(r):
                case = "1 case" if n == 1 else "%d cases" % n
                skips.append((n, "%s: %s: %s: %s" % (d, r["name"], case, what)))
    for f in failures:
        write(f)
    write("skipped: %d" % sum(n for n, _ in skips))
    for _, s in skips:
        write("  " + s)
    inside = sum(n for n, _ in skips) - skipped
    write("tests: %d passed, %d failed, %d skipped%s" % (
        passed, failed, skipped,
        "; %d skipped case%s within tests, listed above" % (
            inside, "" if inside == 1 else "s") if inside else ""))
    return passed, failed, skipped


if __name__ == "__main__":
    summarize(sys.argv[1:])
