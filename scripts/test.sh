#!/bin/sh
# test.sh: install what is missing, build, and run the whole suite three times: in the
# normal build, in an AddressSanitizer + UndefinedBehaviorSanitizer build, and in a build
# without the Xen driver; then the fuzz suite in a clang libFuzzer build. The summary at
# the end lists failures, then every skipped test or case with the reason it was skipped.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh build
sh scripts/build.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
# Once more without the Xen driver, which must build and pass on its own too.
sh scripts/build.sh build-noxen -Dxen=disabled
# The libFuzzer harnesses (clang), run as regressions over their seed corpora.
CC=clang-14 sh scripts/build.sh build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false -De2e=false -Dbuildtype=debug

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

status=0
meson test -C build --print-errorlogs --no-rebuild || status=1
meson test -C build-asan --print-errorlogs --no-rebuild || status=1
meson test -C build-noxen --print-errorlogs --no-rebuild || status=1
meson test -C build-fuzz --print-errorlogs --no-rebuild --suite fuzz || status=1

# Failures, then every skipped test or case with its reason, then the counts (a skip is
# not a pass, nor a failure).
/usr/bin/python3 scripts/summary.py build build-asan build-noxen build-fuzz
exit $status
