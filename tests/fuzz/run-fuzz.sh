#!/bin/sh
# run-fuzz.sh HARNESS CORPUS RUNS [libFuzzer options...]: the regression run of one harness
# (meson test, suite fuzz): every file of the checked-in corpus, then RUNS more inputs
# mutated with a fixed seed. New inputs go to a scratch directory, never into the source
# tree; crash, leak and timeout reproducers go to the current directory, named after the
# harness.
set -eu
harness=$1
corpus=$2
runs=$3
shift 3
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
# -error_exitcode: libFuzzer's default (77) is meson's "skipped"; a finding must fail.
"$harness" -seed=1 -runs="$runs" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
    -artifact_prefix="$(pwd)/$(basename "$harness")-" "$@" "$scratch" "$corpus" || status=$?
exit $status
