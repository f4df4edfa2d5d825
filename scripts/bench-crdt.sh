#!/usr/bin/env bash
# make bench-crdt: the automerge-paper editing trace into f0mesh's text RGA, Yjs and Automerge,
# interleaved in the same run (3 rounds each), JSON lines to build/artifacts/crdt.jsonl, and the
# table (medians) into docs/BENCHMARKS.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-build}"
rounds="${2:-3}"
trace="$root/../shared/data/automerge-paper.json.gz"
work="$root/$build/anchors"
out="$root/$build/artifacts/crdt.jsonl"
mkdir -p "$work" "$(dirname "$out")"
# The anchor imports yjs and @automerge/automerge: run a copy beside our npm install.
cp "$root/../shared/anchors/crdt.mjs" "$work/crdt.mjs"
ln -sfn "$root/tests/interop/node_modules" "$work/node_modules"
: >"$out"
run() { echo "+ $*" >&2; "$@" | tee -a "$out"; }
for _ in $(seq "$rounds"); do
  run "$root/$build/bench/f0-bench-crdt" "$trace"
  run node --expose-gc "$work/crdt.mjs" yjs "$trace"
  run node --expose-gc "$work/crdt.mjs" automerge "$trace"
done
python3 "$root/scripts/crdt_table.py" "$out" "$root/docs/BENCHMARKS.md" "make bench-crdt"
