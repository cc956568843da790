#!/usr/bin/env python3
"""check_procedures.py SCRIPT DOC: docs/procedures.md (DOC) is what docs/procedures.py
(SCRIPT) writes from the sources today, and the script tells a handler that answers a
constant from one that answers from real state (so the document never lists a constant
answer as implemented). TAP."""

import difflib
import importlib.util
import subprocess
import sys

import tap

# (what, handler body, constant?)
BODIES = [
    ("a fixed number", "if (!lookup(&a->dom, error)) return FALSE;\n    ret->num = 0;\n"
     "    return TRUE;\n", True),
    ("several fixed fields, a macro and a comment",
     "ret->state = 0; /* why */\n    ret->details = SV_NONE;\n    ret->stateTime = 0;\n", True),
    ("a string literal", 'ret->type = g_strdup("QEMU");\n', True),
    ("a value from the domain", "ret->state = obj->state;\n", False),
    ("a fixed field beside a computed one", "ret->num = 0;\n    ret->max = obj->max;\n", False),
    ("a reply filled by a helper", "ret->num = 0;\n    fill(ret);\n", False),
    ("a string from the connection", "ret->uri = g_strdup(conn_of(call)->uri);\n", False),
    ("no reply at all", "return lifecycle.start(call, &a->dom, error);\n", False),
]


def main():
    script, doc = sys.argv[1:3]
    spec = importlib.util.spec_from_file_location("procedures", script)
    procedures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(procedures)
    checks = []
    for what, body, constant in BODIES:
        got = procedures.constant_answer(body) is not None
        checks.append(("%s: %s" % (what, "constant" if constant else "not constant"),
                       got == constant, ""))
    r = subprocess.run([sys.executable, script], capture_output=True, text=True)
    with open(doc) as f:
        want = f.read()
    diff = "\n".join(difflib.unified_diff(want.splitlines(), r.stdout.splitlines(), doc,
                                          "procedures.py output", lineterm=""))
    checks.append(("%s is what procedures.py writes (else: python3 docs/procedures.py > "
                   "docs/procedures.md)" % doc, r.returncode == 0 and not diff,
                   r.stderr + diff))
    return tap.report(checks)


if __name__ == "__main__":
    sys.exit(main())
