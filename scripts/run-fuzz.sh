#!/usr/bin/env bash
# Runs every fuzz target for N seconds on a copy of its seed corpus. Any crash fails the run and
# leaves the crashing input in build-fuzz/findings/.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-20}
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$build/findings"
for name in sdp dcep envelope api probe gossip crdt link; do
  work="$build/corpus-$name"
  mkdir -p "$work"
  cp -n "$root/tests/fuzz/corpus/$name/"* "$work/" 2>/dev/null || true
  echo "fuzz_$name: ${seconds}s"
  "$build/tests/fuzz/fuzz_$name" "$work" -max_total_time="$seconds" -max_len=65536 \
    -artifact_prefix="$build/findings/$name-" -print_final_stats=1 2>&1 | tail -n 4
done
echo "fuzz: no crash"
