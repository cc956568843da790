#!/bin/sh
# test.sh: install what is missing, build, and run the whole suite three times: in the
# normal build, in an AddressSanitizer + UndefinedBehaviorSanitizer build, and in a build
# without the Xen driver; then the fuzz suite in a clang libFuzzer build.
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

/usr/bin/python3 - build build-asan build-noxen build-fuzz <<'PY'
import json, sys
passed = failed = 0
for d in sys.argv[1:]:
    with open(d + "/meson-logs/testlog.json") as f:
        for line in f:
            r = json.loads(line)
            if r["result"] in ("OK", "EXPECTEDFAIL", "SKIP"):
                passed += 1
            else:
                failed += 1
                print("FAILED: %s (%s) in %s" % (r["name"], r["result"], d))
print("tests: %d passed, %d failed" % (passed, failed))
PY
exit $status
