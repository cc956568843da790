"""svinstall.py: `meson install --destdir` of the build tree under test, and where its
files went.

The tests that run a daemon as another user (virtproxyd as its own user) run the installed
files, never the build tree: a clone may sit in a directory only root can enter (mode 0700,
as /root is), and the installed layout (programs, units, configuration files) is tested on
the way. The destination is a fresh directory under /tmp that everybody may enter.
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from svdaemon import build_dir

INSTALL_TIMEOUT = 300


def _run(argv):
    r = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                       timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, "%s failed (%d):\n%s%s" % (
        " ".join(str(a) for a in argv), r.returncode, r.stdout, r.stderr)
    return r.stdout


class Install:
    """The build tree installed under destdir (without rebuilding it)."""

    def __init__(self, destdir):
        self.destdir = Path(destdir)
        bdir = build_dir()
        _run(["meson", "install", "-C", bdir, "--destdir", destdir, "--no-rebuild", "--quiet"])
        installed = json.loads(_run(["meson", "introspect", "--installed", bdir]))
        self.installed = sorted(installed.values())

    def path(self, suffix):
        """The installed path (without DESTDIR) that ends in /suffix."""
        found = [p for p in self.installed if p.endswith("/" + suffix)]
        assert len(found) == 1, "installed files ending in /%s: %r" % (suffix, found)
        return found[0]

    def dest(self, path):
        """A path of the installed tree inside DESTDIR."""
        return self.destdir / str(path).lstrip("/")

    def unit(self, name):
        return self.dest(self.path(name))

    def unitdir(self):
        return self.dest(os.path.dirname(self.path("virtqemud.service")))

    def mandir(self):
        return self.dest(os.path.dirname(os.path.dirname(self.path("man8/virtqemud.8"))))


def installed_tree():
    """A generator for a fixture: an Install in a new world-readable directory under /tmp,
    removed afterwards (kept with SV_E2E_KEEP=1)."""
    destdir = tempfile.mkdtemp(prefix="sv-install.", dir="/tmp")
    # mkdtemp makes it 0700; an unprivileged daemon must reach the programs in it.
    os.chmod(destdir, 0o755)
    try:
        yield Install(destdir)
    finally:
        if not os.environ.get("SV_E2E_KEEP"):
            shutil.rmtree(destdir, ignore_errors=True)
