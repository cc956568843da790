#!/usr/bin/env python3
"""check_domain_schema.py GEN DATADIR: gen_domain_schema.py's table for DATADIR/sample.rng
(and the sample-common.rng it includes) must equal the golden DATADIR/sample_known.c, its
depfile must name both schema files, and DATADIR/bad.rng, which uses a pattern the generator
does not know, must make it fail rather than write a short table. SV_REGENERATE=1 rewrites
the golden file instead (review the diff). TAP."""

import difflib
import os
import subprocess
import sys
import tempfile

import tap


def check_table(gen, data, tmp):
    out = os.path.join(tmp, "sample_known.c")
    dep = os.path.join(tmp, "sample_known.c.d")
    subprocess.run([sys.executable, gen, os.path.join(data, "sample.rng"), "--output", out,
                    "--depfile", dep], check=True)
    with open(out) as f:
        got = f.read()
    golden = os.path.join(data, "sample_known.c")
    if os.environ.get("SV_REGENERATE"):
        with open(golden, "w") as f:
            f.write(got)
    with open(golden) as f:
        want = f.read()
    diff = list(difflib.unified_diff(want.splitlines(), got.splitlines(), lineterm=""))
    with open(dep) as f:
        target, _, files = f.read().partition(":")
    read = sorted(os.path.basename(p) for p in files.split())
    return [("sample_known.c equals its golden file", not diff, diff),
            ("the depfile names the output and both schema files",
             target == out and read == ["sample-common.rng", "sample.rng"],
             ["target %s, files %s" % (target, read)])]


def check_refusal(gen, data, tmp):
    out = os.path.join(tmp, "bad_known.c")
    run = subprocess.run([sys.executable, gen, os.path.join(data, "bad.rng"), "--output", out],
                         capture_output=True, text=True)
    ok = run.returncode != 0 and "externalRef" in run.stderr and not os.path.exists(out)
    return [("an unknown pattern stops the generator", ok,
             ["exit %d, stderr %r" % (run.returncode, run.stderr)])]


def main():
    gen, data = sys.argv[1:3]
    with tempfile.TemporaryDirectory() as tmp:
        results = check_table(gen, data, tmp) + check_refusal(gen, data, tmp)
    return tap.report(results)


if __name__ == "__main__":
    sys.exit(main())
