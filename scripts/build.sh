#!/bin/sh
# build.sh [DIR [meson options...]]: configure (once) and build splitvirt in DIR (default build/).
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build}
[ $# -gt 0 ] && shift
if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" "$@" >/dev/null
elif [ $# -gt 0 ]; then
    meson configure "$dir" "$@" >/dev/null # a tree set up before keeps up with the options
fi
ninja -C "$dir"
