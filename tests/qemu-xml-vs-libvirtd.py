#!/usr/bin/python3
"""qemu-xml-vs-libvirtd.py: compare the define-time goldens of tests/data/qemu-xml (CASE.out)
with what a running libvirtd (Debian's 9.0, qemu:///system) gives for the same CASE.xml:
each is defined there under the name h-topo-CASE, dumped with `dumpxml --inactive` and
undefined, and the difference printed. Not part of the suite (it needs that libvirtd); the
differences expected today are listed in tests/data/qemu-xml/README.

usage: qemu-xml-vs-libvirtd.py [CASE...]
"""

import difflib
import os
import re
import subprocess
import sys
import tempfile

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "qemu-xml")
URI = "qemu:///system"


def virsh(*args, check=True):
    return subprocess.run(["virsh", "-q", "-c", URI] + list(args), check=check,
                          capture_output=True, text=True)


def libvirtd_dump(case, xml):
    name = "h-topo-" + case
    original = re.search(r"<name>([^<]*)</name>", xml).group(1)
    xml = xml.replace("<name>%s</name>" % original, "<name>%s</name>" % name, 1)
    with tempfile.NamedTemporaryFile("w", suffix=".xml") as f:
        f.write(xml)
        f.flush()
        r = virsh("define", f.name, check=False)
    if r.returncode != 0:
        return "ERROR " + r.stderr.strip() + "\n"
    try:
        out = virsh("dumpxml", "--inactive", name).stdout
    finally:
        virsh("undefine", name, check=False)
    return out.replace("<name>%s</name>" % name, "<name>%s</name>" % original)


def main():
    cases = sys.argv[1:] or sorted(f[:-4] for f in os.listdir(DATA)
                                   if f.endswith(".xml") and not f.startswith("err-"))
    for case in cases:
        with open(os.path.join(DATA, case + ".xml")) as f:
            xml = f.read()
        with open(os.path.join(DATA, case + ".out")) as f:
            ours = f.read()
        theirs = libvirtd_dump(case, xml)
        diff = list(difflib.unified_diff(theirs.splitlines(), ours.splitlines(),
                                         "libvirtd/" + case, "ours/" + case, lineterm="", n=1))
        print("== %s: %s" % (case, "same" if not diff else "%d diff lines" % len(diff)))
        for line in diff:
            print(line)


if __name__ == "__main__":
    main()
