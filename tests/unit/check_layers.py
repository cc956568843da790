#!/usr/bin/env python3
"""check_layers.py SOURCE_ROOT LAYER=USED,USED... ...: every #include "..." under src/ and tests/
follows the layering (docs/architecture.md). TAP output.

The table is the one src/common/meson.build links the layer libraries by (tests/meson.build
passes it on): a file of src/common/LAYER may include LAYER itself and the layers LAYER uses.
The build already refuses an include of another layer written "layer/file.h" (each library
sees only its own include root), but not one written relative to the file ("../x/y.h"), which
the compiler finds next to the including file; this walk resolves both the same way.

Further rules: src/common includes no driver (src/virt*), a driver includes no other driver,
and nothing in src/ includes tests/. Files under tests/ may include anything; they are walked
so that their includes are counted, and an include under tests/ that is not resolved is fine."""

import os
import re
import sys
import tempfile

import tap

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
SOURCE_SUFFIXES = (".c", ".h")


def parse_table(specs):
    """LAYER=USED,USED... -> {layer: set(used)}."""
    table = {}
    for spec in specs:
        layer, _, used = spec.partition("=")
        table[layer] = {u for u in used.split(",") if u}
    return table


def walk_files(root, top):
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(SOURCE_SUFFIXES):
                yield os.path.relpath(os.path.join(dirpath, name), root)


def includes_of(root, path):
    with open(os.path.join(root, path), errors="replace") as f:
        for lineno, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if m:
                yield lineno, m.group(1)


class Tree:
    """What a path of the tree belongs to: ("layer", name), ("driver", name), ("tests", None),
    or None for anything else."""

    def __init__(self, root, table):
        self.root = root
        self.table = table
        src = os.path.join(root, "src")
        self.drivers = sorted(d for d in os.listdir(src)
                              if d != "common" and os.path.isdir(os.path.join(src, d)))

    def owner(self, path):
        parts = os.path.normpath(path).split(os.sep)
        if parts[0] == "tests":
            return ("tests", None)
        if parts[0] != "src" or len(parts) < 3:
            return None
        if parts[1] == "common":
            return ("layer", parts[2]) if parts[2] in self.table and len(parts) > 3 else None
        return ("driver", parts[1]) if parts[1] in self.drivers else None

    def resolve(self, path, include):
        """Where the compiler would find INCLUDE from PATH: next to the file first, then the
        layer roots ("layer/file.h", generated headers of protocol/ included), then a driver's
        directory (only another driver's include directory could make that one compile)."""
        here = os.path.normpath(os.path.join(os.path.dirname(path), include))
        if os.path.exists(os.path.join(self.root, here)):
            return self.owner(here), here
        first = include.split("/", 1)[0]
        if "/" in include and first in self.table:
            return ("layer", first), os.path.join("src/common", include)
        if "/" in include and first in self.drivers:
            return ("driver", first), os.path.join("src", include)
        for driver in self.drivers:
            there = os.path.join("src", driver, include)
            if os.path.exists(os.path.join(self.root, there)):
                return ("driver", driver), there
        return None, None


# Layers that use another one for a few of its headers only: the domain model (conf) takes
# libvirt's numbers (states, reasons, flags) from the protocol layer, never its wire types.
NARROW = {("conf", "protocol"): {"src/common/protocol/sv_wire_constants.h"}}


def violation(tree, src_owner, dst_owner, target=None):
    """The broken rule, or None when SRC_OWNER may include DST_OWNER (the file TARGET)."""
    if src_owner is None or src_owner[0] == "tests" or dst_owner is None:
        return None
    kind, name = src_owner
    dst_kind, dst_name = dst_owner
    if dst_kind == "tests":
        return "src/ includes tests/"
    if kind == "layer":
        if dst_kind == "driver":
            return "src/common/%s includes the driver %s" % (name, dst_name)
        if dst_name != name and dst_name not in tree.table[name]:
            return "layer %s includes layer %s (%s uses only: %s)" % (
                name, dst_name, name, ", ".join(sorted(tree.table[name])) or "nothing")
        allowed = NARROW.get((name, dst_name))
        if allowed is not None and target not in allowed:
            return "layer %s takes only %s from layer %s" % (name, ", ".join(sorted(allowed)),
                                                              dst_name)
    if kind == "driver" and dst_kind == "driver" and dst_name != name:
        return "driver %s includes driver %s" % (name, dst_name)
    return None


def check(root, table):
    """(counts, problems): counts of includes walked per kind, problems as text lines."""
    tree = Tree(root, table)
    counts = {"layer": 0, "driver": 0, "tests": 0}
    problems = []
    for top in ("src", "tests"):
        for path in walk_files(root, top):
            src_owner = tree.owner(path)
            for lineno, include in includes_of(root, path):
                if src_owner is not None:
                    counts[src_owner[0]] += 1
                dst_owner, target = tree.resolve(path, include)
                why = violation(tree, src_owner, dst_owner, target)
                if why:
                    problems.append('%s:%d: #include "%s" (%s): %s'
                                    % (path, lineno, include, target, why))
    return counts, problems


# The scratch tree's own table, so that the planted cases stay wrong whatever the real one says.
SELFTEST_TABLE = {"util": set(), "protocol": set(), "rpc": {"util", "protocol"},
                  "programs": {"util", "protocol", "rpc"}, "conf": {"util", "protocol"}}


def selftest():
    """Plant one include of each forbidden kind in a scratch tree; each must be reported, and
    the allowed ones next to them must not."""
    bad = {
        "src/common/rpc/a.c": '#include "programs/remote.h"\n',
        "src/common/conf/b.c": '#include "../rpc/server.h"\n',
        "src/common/conf/d.c": '#include "protocol/sv_remote.h"\n',
        "src/common/util/c.c": '#include "../../virtqemud/q.h"\n',
        "src/virtqemud/q.c": '#include "l.h"\n#include "../virtlxcd/l.h"\n',
    }
    ok = {
        "src/common/programs/remote.h": '#include "rpc/server.h"\n',
        "src/common/rpc/server.h": '#include "util/error.h"\n#include "protocol/sv_net.h"\n',
        "src/virtqemud/q.h": '#include "programs/remote.h"\n',
        "src/virtlxcd/l.h": "",
        "src/common/conf/e.h": '#include "protocol/sv_wire_constants.h"\n',
        "tests/unit/t.c": '#include "q.h"\n#include "l.h"\n#include "programs/remote.h"\n',
    }
    with tempfile.TemporaryDirectory() as root:
        for path, text in list(bad.items()) + list(ok.items()):
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        _, problems = check(root, SELFTEST_TABLE)
    found = sorted({p.split(":", 1)[0] for p in problems})
    return found == sorted(bad) and len(problems) == 6, problems


def main():
    root = sys.argv[1]
    table = parse_table(sys.argv[2:])
    planted, planted_problems = selftest()
    counts, problems = check(root, table)
    layer_problems = [p for p in problems if not p.startswith("src/virt")]
    driver_problems = [p for p in problems if p.startswith("src/virt")]
    return tap.report([
        ("a planted upward, relative and cross-driver include is each reported", planted,
         ["reported: " + p for p in planted_problems]),
        ("src/common: %d includes, none up the layer order or into a driver"
         % counts["layer"], not layer_problems, layer_problems),
        ("drivers: %d includes, none into another driver or tests/ (tests/: %d, free)"
         % (counts["driver"], counts["tests"]), not driver_problems, driver_problems),
    ])


if __name__ == "__main__":
    sys.exit(main())
