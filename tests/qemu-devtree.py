#!/usr/bin/python3
"""qemu-devtree.py: reduce a QEMU command line to the guest hardware it describes, so that
two command lines can be compared whatever their option spelling (issue 17, item 4).

The tree: the machine (type and properties), each -device (driver, id, bus, addr and its
other properties), the memory backends (-object memory-backend-*: id and properties), and
the other options the guest sees (ABI_OPTIONS: accelerator, CPU model and flags, RAM size,
vCPU topology, -global properties, RTC, boot menu, SMBIOS tables), each as written.
-device and -object may be written as JSON or as key=value lists; "on"/"off"/"true"/
"false" and numbers are normalised, and ',,' unescaped.

  qemu-devtree.py tree ARGS            print the tree of a command line
  qemu-devtree.py compare OURS XML     compare the tree of our command line OURS with the
                                       one Debian's libvirtd gives for XML
                                       (virsh -c qemu:///system domxml-to-native qemu-argv)

ARGS and OURS are files holding a command line: one argument per line (as
tests/data/qemu-argv/*.args), or a shell command line (as domxml-to-native prints it).
Exit status 0 when the trees are the same, 1 when they differ.
"""

import json
import shlex
import subprocess
import sys

URI = "qemu:///system"

# Options besides -machine/-device/-object that shape the guest's hardware.
ABI_OPTIONS = ("-accel", "-cpu", "-m", "-smp", "-global", "-rtc", "-boot", "-smbios")


def read_argv(text):
    """A command line from a file: one argument per line, or shell words."""
    lines = [l for l in text.splitlines() if l.strip()]
    if lines and lines[0].startswith("/") and " " not in lines[0].strip():
        return lines
    words = shlex.split(text.replace("\\\n", " "))
    while words and "=" in words[0] and not words[0].startswith("/"):
        words.pop(0)  # the environment libvirt puts first
    return words


def split_keyvals(s):
    """'a=1,b=x,,y' -> [('a','1'), ('b','x,y')]; a first word without '=' is ('', word)."""
    parts, cur, i = [], "", 0
    while i < len(s):
        if s[i] == "," and s[i + 1:i + 2] == ",":
            cur += ","
            i += 2
        elif s[i] == ",":
            parts.append(cur)
            cur = ""
            i += 1
        else:
            cur += s[i]
            i += 1
    parts.append(cur)
    out = []
    for p in parts:
        k, eq, v = p.partition("=")
        out.append((k, v) if eq else ("", k))
    return out


def norm(v):
    if isinstance(v, bool):
        return "on" if v else "off"
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    v = str(v)
    if v in ("true", "yes"):
        return "on"
    if v in ("false", "no"):
        return "off"
    try:
        return str(int(v, 0))
    except ValueError:
        return v


def props_of(arg, first_key):
    """The properties of a -device/-object/-machine value, as a dict of strings."""
    if arg.startswith("{"):
        return {k: norm(v) for k, v in json.loads(arg).items()}
    props = {}
    for k, v in split_keyvals(arg):
        props[k or first_key] = norm(v)
    return props


def tree(argv):
    machine, devices, backends, options = {}, {}, {}, {}
    anon = 0
    for opt, val in zip(argv, argv[1:]):
        if opt in ABI_OPTIONS:
            options.setdefault(opt, []).append(val)
        elif opt == "-machine":
            machine.update(props_of(val, "type"))
        elif opt == "-device":
            p = props_of(val, "driver")
            key = p.get("id")
            if not key:
                anon += 1
                key = "(no id %d: %s)" % (anon, p.get("driver"))
            devices[key] = p
        elif opt == "-object":
            p = props_of(val, "qom-type")
            if p.get("qom-type", "").startswith("memory-backend"):
                backends[p.get("id")] = p
    options = {k: " ".join(sorted(v)) for k, v in options.items()}
    return {"machine": machine, "devices": devices, "memory-backends": backends,
            "options": options}


def show(t):
    out = ["machine " + " ".join("%s=%s" % kv for kv in sorted(t["machine"].items()))]
    for key, p in sorted(t["devices"].items()):
        rest = " ".join("%s=%s" % kv for kv in sorted(p.items())
                        if kv[0] not in ("driver", "id", "bus", "addr"))
        out.append("device %s: %s bus=%s addr=%s %s" % (key, p.get("driver"), p.get("bus"),
                                                       p.get("addr"), rest))
    for key, p in sorted(t["memory-backends"].items()):
        out.append("memory-backend %s: %s" % (key, " ".join("%s=%s" % kv
                                                            for kv in sorted(p.items()))))
    for opt, v in sorted(t["options"].items()):
        out.append("option %s %s" % (opt, v))
    return out


def show_props(p):
    return " ".join("%s=%s" % kv for kv in sorted(p.items()))


def diff(ours, theirs):
    lines = []
    for what in ("machine", "options"):
        a, b = ours[what], theirs[what]
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                lines.append("%s %s: ours %r, libvirt %r" % (what, k, a.get(k), b.get(k)))
    for what in ("devices", "memory-backends"):
        a, b = ours[what], theirs[what]
        for key in sorted(set(a) | set(b)):
            if key not in a:
                lines.append("%s %s: only libvirt's %s" % (what, key, show_props(b[key])))
            elif key not in b:
                lines.append("%s %s: only ours %s" % (what, key, show_props(a[key])))
            else:
                for k in sorted(set(a[key]) | set(b[key])):
                    if a[key].get(k) != b[key].get(k):
                        lines.append("%s %s %s: ours %r, libvirt %r"
                                     % (what, key, k, a[key].get(k), b[key].get(k)))
    return lines


def main(argv):
    if len(argv) == 3 and argv[1] == "tree":
        with open(argv[2]) as f:
            print("\n".join(show(tree(read_argv(f.read())))))
        return 0
    if len(argv) == 4 and argv[1] == "compare":
        with open(argv[2]) as f:
            ours = tree(read_argv(f.read()))
        r = subprocess.run(["virsh", "-c", URI, "domxml-to-native", "qemu-argv", argv[3]],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("libvirtd refuses it: " + r.stderr.strip(), file=sys.stderr)
            return 2
        theirs = tree(read_argv(r.stdout))
        lines = diff(ours, theirs)
        print("\n".join(lines) if lines else "same device tree")
        return 1 if lines else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
