#!/bin/bash
# Issue 11, acceptance 2: `make test` N times in a row in a fresh clone while a full build of the
# project runs beside it, over and over. Usage: scripts/loaded-make-test.sh [RUNS] [WORKDIR]
# Logs: WORKDIR/test-K.log, WORKDIR/summary. Stops the load build when the runs are done.
set -u
runs=${1:-5}
work=${2:-/tmp/f0-loaded}
src=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$work" && mkdir -p "$work"
git clone -q "$src" "$work/clone" || exit 1
echo "--- $(date +%T) on $(git -C "$work/clone" rev-parse --short HEAD)" >> "$work/summary"
cd "$work/clone"
start=$(date +%s)
make build asan npm web fuzz > "$work/prepare.log" 2>&1
echo "prepare: exit $? in $(( $(date +%s) - start )) s" >> "$work/summary"
( n=0
  while [ ! -f "$work/stop" ] && [ $n -lt 50 ]; do
    rm -rf "$work/load-build"
    cmake -S "$src" -B "$work/load-build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null 2>&1
    cmake --build "$work/load-build" -j2 > /dev/null 2>&1
    n=$((n + 1))
  done ) &
load=$!
passed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  if make test > "$work/test-$i.log" 2>&1; then r=pass; passed=$((passed + 1)); else r=FAIL; fi
  echo "run $i: $r in $(( $(date +%s) - start )) s ($(date +%T))" >> "$work/summary"
done
touch "$work/stop"
wait "$load"
rm -rf "$work/load-build"
cat "$work/summary"
[ "$passed" -eq "$runs" ]
