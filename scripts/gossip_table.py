"""Turns the JSON lines of make bench-gossip into the gossip section of docs/BENCHMARKS.md
(between <!-- gossip:begin --> and <!-- gossip:end -->), with the issue's targets checked.
Usage: gossip_table.py RUN.jsonl docs/BENCHMARKS.md COMMAND"""
import datetime, json, re, sys

run, doc, command = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(l) for l in open(run) if l.strip().startswith("{")]
# GossipSub v1.1 figures we compare amplification with (see the text below the table).
GOSSIPSUB_MODEL = 5.0  # D - 1 copies sent per node and message at the spec's default D = 6


def verdict(ok):
    return "met" if ok else "**missed**"


out = [f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC with `{command}`.", "",
       "| N | fan-out | scenario | delivery | target | hops p50 / p99 (target) | latency p50 / p99 ms "
       "| amplification | control frames / delivery | bad frames dropped | wall s |",
       "|---|---|---|---|---|---|---|---|---|---|---|"]
for r in rows:
    adversarial = r["scenario"] in ("drop", "flood")
    need = 0.99 if adversarial else 0.999
    bad = r["forged"] + r["invalid"] + r["rate_limited"] + r["graylisted"]
    out.append(
        f"| {r['nodes']} | {r['fanout']} | {r['scenario']} "
        f"| {100 * r['delivery']:.3f} % | ≥ {100 * need:.1f} %: {verdict(r['delivery'] >= need)} "
        f"| {r['hops_p50']:.0f} / {r['hops_p99']:.0f} (≤ {r['hops_target']}): "
        f"{verdict(r['hops_p99'] <= r['hops_target'])} "
        f"| {r['latency_ms_p50']:.0f} / {r['latency_ms_p99']:.0f} "
        f"| {r['amplification']:.2f}: {verdict(r['amplification'] <= GOSSIPSUB_MODEL)} "
        f"| {r['control_per_delivery']:.2f} | {bad} | {r['wall_s']:.0f} |")
block = "\n".join(out)
text = open(doc).read()
begin, end = "<!-- gossip:begin -->", "<!-- gossip:end -->"
if begin not in text:
    sys.exit(f"{doc} has no {begin} marker")
text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: begin + "\n" + block + "\n" + end, text, flags=re.S)
open(doc, "w").write(text)
print(block)
