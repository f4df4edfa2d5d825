"""The link-state rows of make bench-gossip (f0-gossip-sim --scenario linkstate) into the
linkstate section of docs/BENCHMARKS.md, with issue 18's target checked (every worker's graph
converged within 2 QoS intervals).
Usage: linkstate_table.py RUN.jsonl COMMAND"""
import datetime, json, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
from bench_doc import write_section  # noqa: E402

run, command = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(run) if l.strip().startswith("{")]
out = [f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC with `{command}`.", "",
       "| N | degree | interval | graph converged at 2 intervals | target | summary (payload) | "
       "gossip bytes sent / received per peer per interval | invalid | rate-limited | wall s |",
       "|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    ok = r["converged_at_2_intervals"] >= 1.0
    out.append(f"| {r['nodes']} | {r['degree']} | {r['interval_s']:.0f} s | {100 * r['converged_at_2_intervals']:.4f} % "
               f"| 100 %: {'met' if ok else '**missed**'} | {r['summary_bytes_mean']:.0f} B "
               f"| {r['sent_bytes_per_peer_interval'] / 1000:.0f} kB / {r['received_bytes_per_peer_interval'] / 1000:.0f} kB "
               f"| {r['invalid']} | {r['rate_limited']} | {r['wall_s']:.0f} |")
out += ["", "```"] + [json.dumps(r) for r in rows] + ["```", ""]
write_section("linkstate", "\n".join(out) + "\n")
