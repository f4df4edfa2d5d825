"""Turns the JSON lines of one bench-rtc-vs run into the rtc section of docs/BENCHMARKS.md,
with the ratios to libdatachannel and the BENCH.md targets checked.
Usage: bench_table.py RUN.jsonl docs/BENCHMARKS.md COMMAND"""
import datetime, json, os, platform, re, subprocess, sys

run, doc, command = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(l) for l in open(run) if l.strip().startswith("{")]


def get(impl, bench, **kw):
    for r in rows:
        if r["impl"] == impl and r["bench"] == bench and all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def fmt(x, nd=1):
    return "—" if x is None else f"{x:.{nd}f}"


def verdict(ok):
    return "met" if ok else "**missed**"


lines = []
cpu = "unknown CPU"
try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except (OSError, StopIteration):
    pass
lines.append("## DataChannels: f0mesh vs libdatachannel (same run)")
lines.append("")
lines.append(f"Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC with `{command}` on {os.cpu_count()} cores ({cpu}), "
             "protocol of `shared/BENCH.md`: two peers in one process, loopback, host candidates only. "
             "libdatachannel is node-datachannel 0.33.4 (`shared/anchors/libdatachannel.mjs`).")
lines.append("")
lines.append("| metric | f0mesh | libdatachannel | ratio | target | verdict |")
lines.append("|---|---|---|---|---|---|")
fc, lc = get("f0mesh", "connect_ms"), get("libdatachannel", "connect_ms")
if fc and lc:
    lines.append(f"| connect p50 (ms) | {fmt(fc['p50'],2)} | {fmt(lc['p50'],2)} | {fc['p50']/lc['p50']:.2f}x | <= 1.0x | {verdict(fc['p50'] <= lc['p50'])} |")
    lines.append(f"| connect p90 (ms) | {fmt(fc['p90'],2)} | {fmt(lc['p90'],2)} | {fc['p90']/lc['p90']:.2f}x | | |")
    lines.append(f"| connect p99 (ms) | {fmt(fc['p99'],2)} | (max {fmt(lc['max'],2)}) | | <= 30 ms | {verdict(fc['p99'] <= 30)} |")
    lines.append(f"| connect max (ms) | {fmt(fc['max'],2)} | {fmt(lc['max'],2)} | | | |")
for size in (16384, 65536):
    ft, lt = get("f0mesh", "throughput_MBps", msg=size), get("libdatachannel", "throughput_MBps", msg=size)
    if ft and lt:
        r = ft["median"] / lt["median"]
        lines.append(f"| throughput {size // 1024} KiB msgs (MB/s, median of 3; runs {ft['runs']} vs {lt['runs']}) | "
                     f"{fmt(ft['median'])} | {fmt(lt['median'])} | {r:.2f}x | >= 1.5x | {verdict(r >= 1.5)} |")
fp, lp = get("f0mesh", "pingpong_us"), get("libdatachannel", "pingpong_us")
if fp and lp:
    lines.append(f"| ping-pong p50 (µs) | {fmt(fp['p50'])} | {fmt(lp['p50'])} | {fp['p50']/lp['p50']:.2f}x | <= 1.0x | {verdict(fp['p50'] <= lp['p50'])} |")
    lines.append(f"| ping-pong p99 (µs) | {fmt(fp['p99'])} | {fmt(lp['p99'])} | | | |")
    lines.append(f"| ping-pong msgs/s | {fmt(fp['msgs_per_s'],0)} | {fmt(lp['msgs_per_s'],0)} | | | |")
for r in rows:
    if r["impl"] == "f0mesh" and r["bench"] == "scale":
        l = get("libdatachannel", "scale", pairs=r["pairs"])
        ours = f"{r['rss_MB']} MB, {r['threads']} threads, {r['secs']:.1f} s"
        theirs = f"{l['rss_MB']} MB, {l['threads']} threads, {l['secs']:.1f} s" if l else "—"
        ratio = f"{r['rss_MB'] / l['rss_MB']:.2f}x RSS" if l else ""
        ok = "" if r["connections"] < 1000 else verdict(r["rss_MB"] < 150 and r["threads"] <= 8)
        lines.append(f"| {r['connections']} connections: RSS, threads, time to open | {ours} | {theirs} | "
                     f"{ratio} | < 150 MB and <= 8 threads at 1000 | {ok} |")
lines.append("")
lines.append("Raw lines of this run:")
lines.append("")
lines.append("```")
lines.extend(json.dumps(r) for r in rows)
lines.append("```")
section = "\n".join(lines) + "\n"

begin, end = "<!-- bench-rtc-vs:begin -->", "<!-- bench-rtc-vs:end -->"
text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n\n"
block = f"{begin}\n{section}{end}"
if begin in text and end in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: block, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(doc, "w").write(text)
print(section)
