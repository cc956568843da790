#!/bin/sh
# guest-kernel.sh: fetch the Debian cloud kernel the Linux test guest (Guest B, built by
# tests/e2e/linuxguest.py) boots, into the project's cache, unless it is there already.
# The version is the one linux-image-cloud-amd64 depends on today; nothing is installed
# on the host (apt-get download only). Prints the .deb's path.
#
# The cache: $SV_CACHE_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/splitvirt (the builder
# looks in the same place).
set -eu

cache=${SV_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/splitvirt}
dir=$cache/guest-kernel
mkdir -p "$dir"

# cached: the newest kernel .deb in the cache, if any.
cached() {
    ls "$dir"/linux-image-*-cloud-amd64_*.deb 2>/dev/null | sort -V | tail -n 1 || true
}

# lookup: the versioned kernel package linux-image-cloud-amd64 depends on, per apt's index.
lookup() {
    apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -n 1
}

pkg=$(lookup)
# A machine whose package index was emptied (a container image) knows no kernel package
# and has none cached: read the index once, as root.
if [ -z "$pkg" ] && [ -z "$(cached)" ] && [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq >&2 || true
    pkg=$(lookup)
fi
if [ -n "$pkg" ]; then
    found=$(ls "$dir/${pkg}"_*.deb 2>/dev/null | tail -n 1 || true)
    if [ -n "$found" ]; then
        echo "$found"
        exit 0
    fi
    # apt-get download writes into the current directory; a temporary one keeps a partial
    # download out of the cache. _apt cannot write there, so apt downloads as root (a
    # warning, dropped).
    tmp=$(mktemp -d "$dir/.download.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    if (cd "$tmp" && apt-get download -q "$pkg" 2>/dev/null >&2); then
        deb=$(ls "$tmp"/*.deb)
        mv "$deb" "$dir/"
        echo "$dir/$(basename "$deb")"
        exit 0
    fi
    echo "guest-kernel: apt-get download $pkg failed (no network?)" >&2
else
    echo "guest-kernel: apt-cache does not know linux-image-cloud-amd64 (apt-get update?)" >&2
fi
# Offline or without a package index: a kernel cached before will do.
found=$(cached)
if [ -n "$found" ]; then
    echo "guest-kernel: using the cached $found" >&2
    echo "$found"
    exit 0
fi
exit 1
