#!/usr/bin/env python3
"""check_summary.py SUMMARY: scripts/summary.py over made-up testlog.json files counts a
skipped meson test as skipped (not passed) and names every skip with its reason: tests
skipped whole (a TAP plan's reason, or the last line printed), pytest cases (-ra lines) and
TAP subtests inside tests that passed. TAP."""

import json
import os
import subprocess
import sys
import tempfile

PYTEST_OUT = """\
..s.ss                                                                   [100%]
=========================== short test summary info ============================
SKIPPED [2] ../tests/e2e/test_xen.py:40: libxl not installed
SKIPPED [1] ../tests/e2e/test_lxc.py: needs busybox-static
4 passed, 3 skipped in 1.00s
"""

LOGS = {
    "build": [
        {"name": "sv:e2e / e2e", "result": "OK", "stdout": PYTEST_OUT},
        {"name": "sv:unit / plan", "result": "SKIP", "stdout": "1..0 # SKIP no /dev/kvm here\n"},
        {"name": "sv:unit / exit77", "result": "SKIP", "stdout": "probing\nno tun device\n"},
        {"name": "sv:unit / tap", "result": "OK",
         "stdout": "1..3\nok 1 /a/one\nok 2 /a/two # SKIP needs CAP_NET_ADMIN\nok 3 /a/three\n"},
    ],
    "build-asan": [
        {"name": "sv:unit / broken", "result": "FAIL", "stdout": "not ok 1 /b\n"},
        {"name": "sv:unit / xfail", "result": "EXPECTEDFAIL", "stdout": ""},
        {"name": "sv:unit / quiet", "result": "SKIP", "stdout": ""},
    ],
}

EXPECTED_LINES = [
    "FAILED: sv:unit / broken (FAIL) in build-asan",
    "skipped: 7",
    "  build: sv:e2e / e2e: 2 cases: ../tests/e2e/test_xen.py:40: libxl not installed",
    "  build: sv:e2e / e2e: 1 case: ../tests/e2e/test_lxc.py: needs busybox-static",
    "  build: sv:unit / plan: skipped whole: no /dev/kvm here",
    "  build: sv:unit / exit77: skipped whole: no tun device",
    "  build: sv:unit / tap: 1 case: /a/two: needs CAP_NET_ADMIN",
    "  build-asan: sv:unit / quiet: skipped whole: (it printed nothing)",
    "tests: 3 passed, 1 failed, 3 skipped; 4 skipped cases within tests, listed above",
]


def main():
    summary = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        for d, results in LOGS.items():
            os.makedirs(os.path.join(tmp, d, "meson-logs"))
            with open(os.path.join(tmp, d, "meson-logs", "testlog.json"), "w") as f:
                for r in results:
                    f.write(json.dumps(dict(r, returncode=0, duration=0.1)) + "\n")
        r = subprocess.run([sys.executable, summary] + list(LOGS), cwd=tmp,
                           capture_output=True, text=True)
    got = r.stdout.splitlines()
    checks = [("exit status 0 (skips and failures are meson test's to report)",
               r.returncode == 0)]
    checks += [("prints %r" % line, line in got) for line in EXPECTED_LINES]
    checks.append(("nothing else", len(got) == len(EXPECTED_LINES)))
    checks.append(("failures, then skips, then counts",
                   [ln for ln in got if ln in EXPECTED_LINES] == EXPECTED_LINES))
    print("1..%d" % len(checks))
    status = 0
    for i, (what, ok) in enumerate(checks, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
        status |= not ok
    if status:
        for line in (r.stdout + r.stderr).splitlines():
            print("# " + line)
    return status


if __name__ == "__main__":
    sys.exit(main())
