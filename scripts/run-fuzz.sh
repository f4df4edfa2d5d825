#!/usr/bin/env bash
# Runs every fuzz target for N seconds on a copy of its seed corpus, as many at a time as there are
# cores (each target is one single-threaded process). Any crash fails the run and leaves the
# crashing input in build-asan/findings/; the failing target's log is printed whole.
set -euo pipefail
build=${1:-build-asan}
seconds=${2:-20}
parallel=${3:-$(nproc)}
root="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$build/findings" "$build/logs"
targets=(sdp dcep envelope api probe gossip crdt link)
failed=()

run_one() {
  local name=$1 work="$build/corpus-$1"
  mkdir -p "$work"
  cp -n "$root/tests/fuzz/corpus/$name/"* "$work/" 2>/dev/null || true
  "$build/tests/fuzz/fuzz_$name" "$work" -max_total_time="$seconds" -max_len=65536 \
    -artifact_prefix="$build/findings/$name-" -print_final_stats=1 >"$build/logs/$name.log" 2>&1
}

report() {
  local name=$1 rc=$2
  if [ "$rc" -eq 0 ]; then
    echo "fuzz_$name: ${seconds}s, no crash"
    tail -n 4 "$build/logs/$name.log"
  else
    echo "fuzz_$name: FAILED (exit $rc)"
    cat "$build/logs/$name.log"
    failed+=("$name")
  fi
}

# A window of at most $parallel targets; each is waited for by PID, in order.
pids=()
names=()
for name in "${targets[@]}"; do
  run_one "$name" &
  pids+=($!)
  names+=("$name")
  if [ "${#pids[@]}" -ge "$parallel" ]; then
    rc=0
    wait "${pids[0]}" || rc=$?
    report "${names[0]}" "$rc"
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
  fi
done
for i in "${!pids[@]}"; do
  rc=0
  wait "${pids[$i]}" || rc=$?
  report "${names[$i]}" "$rc"
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: crash in ${failed[*]} (inputs in $build/findings/)"
  exit 1
fi
echo "fuzz: no crash"
