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

pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -n 1)
if [ -z "$pkg" ]; then
    # No package index (apt-get update never ran): whatever is cached will do.
    found=$(ls "$dir"/linux-image-*-cloud-amd64_*.deb 2>/dev/null | tail -n 1 || true)
    if [ -n "$found" ]; then
        echo "$found"
        exit 0
    fi
    echo "guest-kernel: apt-cache does not know linux-image-cloud-amd64 (run apt-get update)" >&2
    exit 1
fi

found=$(ls "$dir/${pkg}"_*.deb 2>/dev/null | tail -n 1 || true)
if [ -n "$found" ]; then
    echo "$found"
    exit 0
fi

# apt-get download writes into the current directory; a temporary one keeps a partial
# download out of the cache. _apt cannot write there, so apt downloads as root (a warning).
tmp=$(mktemp -d "$dir/.download.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "$pkg" >&2 2>/dev/null) || {
    echo "guest-kernel: apt-get download $pkg failed (no network or no package index?)" >&2
    exit 1
}
deb=$(ls "$tmp"/*.deb)
mv "$deb" "$dir/"
echo "$dir/$(basename "$deb")"
