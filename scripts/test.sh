#!/bin/sh
# test.sh: install what is missing, build, and run the suite: the fast tests in every
# build (normal, AddressSanitizer + UndefinedBehaviorSanitizer, without the Xen driver)
# and the slow ones (tests marked slow: real guests by the dozen, long runs; see
# tests/e2e/pytest.ini) in the normal build only; then the fuzz regressions in a clang
# libFuzzer build. The summary at the end lists failures, then every skipped test or case
# with the reason it was skipped, then how long each part took.
set -eu
cd "$(dirname "$0")/.."
timings=$(mktemp)
failed=$(mktemp)
lanelog=$(mktemp)
trap 'rm -f "$timings" "$failed" "$lanelog" "$lanelog.asan" "$lanelog.noxen"' EXIT

# part NAME COMMAND...: run it, note how long it took; a failure fails the whole run at the
# end (status, or the file failed for a part run in the background), after every part had
# its turn.
status=0
part() {
    name=$1
    shift
    start=$(date +%s)
    "$@" || { status=1; echo "$name" >>"$failed"; }
    echo "$name $(($(date +%s) - start))" >>"$timings"
}

begin=$(date +%s)
part "install what is missing" sh scripts/deps.sh
[ $status -eq 0 ] || exit 1
part "build: normal" sh scripts/build.sh build
part "build: asan+ubsan" sh scripts/build.sh build-asan -Db_sanitize=address,undefined \
    -Db_lundef=false -Dbuildtype=debug -Dslow_tests=false
# Once more without the Xen driver, which must build and pass on its own too.
part "build: no xen" sh scripts/build.sh build-noxen -Dxen=disabled -Dslow_tests=false
# The libFuzzer harnesses (clang), run as regressions over their seed corpora.
part "build: fuzz (clang)" env CC=clang-14 sh scripts/build.sh build-fuzz -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false -De2e=false -Dbuildtype=debug
[ $status -eq 0 ] || exit 1

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# The three builds' tests run side by side (most of an e2e test's time is waiting for a
# guest or a daemon, not the cores: measured, the tests of one build took about as long
# beside those of another as alone). They are independent: each build has its own logs,
# each test its own --root, cgroups, network namespaces and guests, and the checks of
# host-wide state (mounts, QEMU processes, cgroups) leave out what is not their own. The
# output of the sanitizer and no-Xen builds is kept and shown after the normal build's, so
# that the lines of the three do not mix. SV_TEST_SERIAL=1 runs them one after the other
# (each part's time then is its own, not one shared with the others).
lane() { # lane LOG NAME COMMAND...: part NAME COMMAND in the background, output in LOG
    log=$1
    shift
    if [ -n "${SV_TEST_SERIAL:-}" ]; then
        part "$@" >"$log" 2>&1
        true &
    else
        part "$@" >"$log" 2>&1 &
    fi
}
[ -n "${SV_TEST_SERIAL:-}" ] ||
    echo "tests: asan+ubsan and no xen in the background (their output follows the normal build's)"
lane "$lanelog.asan" "tests: asan+ubsan (fast)" meson test -C build-asan --print-errorlogs \
    --no-rebuild
asan=$!
lane "$lanelog.noxen" "tests: no xen (fast)" meson test -C build-noxen --print-errorlogs \
    --no-rebuild
noxen=$!
part "tests: normal (fast and slow)" meson test -C build --print-errorlogs --no-rebuild
wait "$asan" "$noxen" || status=1
cat "$lanelog.asan" "$lanelog.noxen"
[ ! -s "$failed" ] || status=1
part "tests: fuzz regressions" meson test -C build-fuzz --print-errorlogs --no-rebuild \
    --suite fuzz

# Failures, then every skipped test or case with its reason, then the counts (a skip is
# not a pass, nor a failure), then the time of each part.
/usr/bin/python3 scripts/summary.py build build-asan build-noxen build-fuzz
[ -n "${SV_TEST_SERIAL:-}" ] && echo "time per part:" ||
    echo "time per part (the three builds' tests ran side by side):"
while read -r line; do
    secs=${line##* }
    printf '  %-32s %4d:%02d\n' "${line% *}" $((secs / 60)) $((secs % 60))
done <"$timings"
total=$(($(date +%s) - begin))
printf '  %-32s %4d:%02d\n' "all" $((total / 60)) $((total % 60))
exit $status
