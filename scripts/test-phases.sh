#!/usr/bin/env bash
# make test after the release build: the release tree's ctest runs while the ASan+UBSan tree
# (clang, with the fuzz targets) compiles (most tests wait on sockets and timers, and every test
# must pass on a loaded machine: this is that load), then the ASan+UBSan ctest (all but the
# browser tests; make test-asan runs every one), then the short fuzz run in the same tree. Each
# phase's time is printed; the sanitizer build's output goes to a log, printed if it fails.
set -uo pipefail
build=${BUILD:-build}
asan=${ASAN_BUILD:-build-asan}
make=${MAKE:-make}
start=$(date +%s)
phase() { echo "== make test: $1 ($(( $(date +%s) - start )) s)"; }

mkdir -p "$build"
phase "ASan+UBSan build (log: $build/asan-build.log) beside the release ctest"
$make --no-print-directory asan >"$build/asan-build.log" 2>&1 &
asan_pid=$!
(cd "$build" && ctest --output-on-failure -j 2 --timeout 300)
release_rc=$?
asan_rc=0
wait "$asan_pid" || asan_rc=$?
phase "release ctest exit $release_rc, ASan+UBSan build exit $asan_rc"
if [ "$asan_rc" -ne 0 ]; then
  tail -n 200 "$build/asan-build.log"
  exit "$asan_rc"
fi
[ "$release_rc" -eq 0 ] || exit "$release_rc"

# Without the browser tests: they drive the dashboard's JavaScript in Chromium against a worker
# whose routes the worker tests already run under the sanitizers (make test-asan runs them too).
phase "ASan+UBSan ctest (all but the browser label)"
(cd "$asan" && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2 --timeout 600 -LE browser) || exit $?
phase "short fuzz"
$make --no-print-directory fuzz-short || exit $?
phase "done"
