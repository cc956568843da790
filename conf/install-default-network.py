#!/usr/bin/env python3
"""install-default-network.py DATA_FILE NETWORKS_DIR: meson's install step for
virtnetworkd's `default` network, as Debian's libvirt-daemon-config-network installs it: when
NETWORKS_DIR has no default.xml yet (both paths below DESTDIR, if set), the shipped definition is
copied there with a UUID of its own (mode 0600). It is not marked autostart, and an existing
definition is never touched (a reinstall keeps the administrator's network)."""

import os
import sys
import uuid


def main(data_file, networks_dir):
    dest_root = os.environ.get("DESTDIR", "")
    target_dir = dest_root + networks_dir
    target = os.path.join(target_dir, "default.xml")
    if os.path.lexists(target):
        return 0
    with open(dest_root + data_file) as f:
        text = f.read()
    text = text.replace("</name>\n", "</name>\n  <uuid>%s</uuid>\n" % uuid.uuid4(), 1)
    os.makedirs(os.path.join(target_dir, "autostart"), mode=0o755, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
