#!/usr/bin/env bash
# make bench-gossip: the gossip simulator at N = 100, 1,000 and 10,000 with the worker's default
# fan-out (3), and fan-out 4 at 1,000 for comparison; every scenario; JSON lines to
# build/artifacts/gossip-sim.jsonl, table into docs/BENCHMARKS.md.
set -euo pipefail
BUILD=${1:-build}
SIM=$BUILD/bench/f0-gossip-sim
OUT=$BUILD/artifacts/gossip-sim.jsonl
mkdir -p "$(dirname "$OUT")"
: >"$OUT"
run() { echo "+ f0-gossip-sim $*" >&2; "$SIM" --max-hops 16 "$@" | tee -a "$OUT"; }
run --nodes 100 --messages 100 --fanout 3
run --nodes 1000 --messages 100 --fanout 3
run --nodes 1000 --messages 100 --fanout 4
# 10,000 peers: fewer messages, and flooders at 10 frames/s per link (50 would be 48 M events).
run --nodes 10000 --messages 20 --fanout 3 --flood-rate 10
python3 scripts/gossip_table.py "$OUT" docs/BENCHMARKS.md "make bench-gossip"
# Link-state gossip (issue 18): every peer's summary each QoS interval, at 100 and 1,000 peers.
LS=$BUILD/artifacts/linkstate-sim.jsonl
: >"$LS"
for n in 100 1000; do
  echo "+ f0-gossip-sim --scenario linkstate --nodes $n" >&2
  "$SIM" --max-hops 16 --scenario linkstate --nodes "$n" | tee -a "$LS"
done
python3 scripts/linkstate_table.py "$LS" "make bench-gossip"
