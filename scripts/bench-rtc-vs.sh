#!/usr/bin/env bash
# Runs the DataChannel benchmarks of f0mesh and of the libdatachannel anchor in the same run, on
# the same machine, and writes the comparison to docs/BENCHMARKS.md.
# Usage: scripts/bench-rtc-vs.sh [build-dir] [scale-pairs]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-build}"
scale="${2:-}"
anchors="$root/../shared/anchors"
out="$root/$build/bench-rtc-vs.jsonl"
work="$root/$build/anchors"
mkdir -p "$work"
# The anchor imports node-datachannel; run a copy beside our npm install so node finds it.
cp "$anchors/libdatachannel.mjs" "$work/libdatachannel.mjs"
ln -sfn "$root/tests/interop/node_modules" "$work/node_modules"
: > "$out"
run() { echo "+ $*" >&2; "$@" | tee -a "$out"; }
# Interleave the two stacks so machine noise hits both alike.
for mode in connect throughput pingpong; do
  run "$root/$build/bench/f0-bench-rtc" "$mode"
  run node "$work/libdatachannel.mjs" "$mode"
done
if [ -n "$scale" ]; then
  run "$root/$build/bench/f0-bench-rtc" scale "$scale"
  run node "$work/libdatachannel.mjs" scale "$scale"
fi
python3 "$root/scripts/bench_table.py" "$out" "$root/docs/BENCHMARKS.md" \
  "make bench-rtc-vs${scale:+ SCALE=$scale}"
