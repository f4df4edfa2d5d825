"""Turns the JSON lines of make bench-crdt into the CRDT section of docs/BENCHMARKS.md (between
<!-- crdt:begin --> and <!-- crdt:end -->): medians per implementation, ratios, targets.
Usage: crdt_table.py RUN.jsonl docs/BENCHMARKS.md COMMAND"""
import datetime, json, re, statistics, sys

run, doc, command = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(l) for l in open(run) if l.strip().startswith("{")]
by = {}
for r in rows:
    by.setdefault(r["impl"], []).append(r)


def med(impl, key):
    vals = [r[key] for r in by.get(impl, []) if key in r]
    return statistics.median(vals) if vals else None


def verdict(ok):
    return "met" if ok else "**missed**"


f_ms, y_ms, a_ms = med("f0mesh", "ms"), med("yjs", "ms"), med("automerge", "ms")
f_enc, y_enc, a_enc = med("f0mesh", "encoded_bytes"), med("yjs", "update_bytes"), med("automerge", "save_bytes")
f_rss, y_rss, a_rss = med("f0mesh", "peak_rss_MB"), med("yjs", "rss_MB"), med("automerge", "rss_MB")
ok = all(r.get("ok") for r in rows)
out = [f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC with `{command}`: {len(by.get('f0mesh', []))} rounds, "
       "interleaved; medians. All results equal `endContent`: " + ("yes" if ok else "**no**") + ".", "",
       "| | f0mesh (text RGA, C++) | Yjs 13.6.33 | Automerge 3.5.0 | target | |",
       "|---|---|---|---|---|---|",
       f"| replay + text + encode, ms | {f_ms:.1f} | {y_ms:.1f} | {a_ms:.1f} | ≥ 10× faster than Yjs: **{y_ms / f_ms:.1f}×** | {verdict(y_ms / f_ms >= 10)} |",
       f"| encoded document, bytes | {f_enc:,.0f} | {y_enc:,.0f} (update) | {a_enc:,.0f} (save) | ≤ Automerge: {f_enc / a_enc:.2f}× | {verdict(f_enc <= a_enc)} |",
       f"| process RSS, MB | {f_rss:.1f} (peak) | {y_rss:.1f} | {a_rss:.1f} | < Yjs | {verdict(f_rss < y_rss)} |"]
block = "\n".join(out)
text = open(doc).read()
begin, end = "<!-- crdt:begin -->", "<!-- crdt:end -->"
if begin not in text:
    sys.exit(f"{doc} has no {begin} marker")
text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: begin + "\n" + block + "\n" + end, text, flags=re.S)
open(doc, "w").write(text)
print(block)
