"""Worker benchmarks (issue: the worker): dial-to-open through the API (50 dials on loopback),
/healthz requests/s with wrk, and one worker holding 1,000 idle links (f0-bench-swarm): its RSS
and its QoS cost with adaptive probing, and again with every link probed at the full rate.
Prints one JSON line per figure and writes the table to docs/BENCHMARKS.md.
Usage: python3 bench/worker_bench.py BUILD_DIR [LINKS]"""
import datetime, json, os, re, signal, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build"))
LINKS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
os.environ["F0MESH"] = os.path.join(BUILD, "src/cli/f0mesh")
sys.path.insert(0, os.path.join(ROOT, "tests", "worker"))
from bench_doc import write_section  # noqa: E402
from harness import Worker, wait_until  # noqa: E402

rows = []
# Every request here comes from 127.0.0.1: lift the per-source signaling limit (20/s by default),
# which would otherwise (rightly) refuse 50 dials or 200 offers in a few seconds.
BENCH = ["--log-level", "warn", "--signaling-rate", "1000", "--signaling-burst", "1000"]


def emit(row):
    row = {"impl": "f0mesh", **row}
    rows.append(row)
    print(json.dumps(row), flush=True)


def pct(v, p):
    s = sorted(v)
    return s[min(len(s) - 1, int(p * len(s)))]


def proc_status(pid):
    out = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        out[k] = v.strip()
    return float(out["VmRSS"].split()[0]) / 1024, int(out["Threads"])


def bench_dial():
    a = Worker("fz-kuwait", extra=["--open-registration"] + BENCH).start()
    b = Worker("fz-cairo", "AF", extra=["--open-registration"] + BENCH).start()
    try:
        a.register_at(b)
        b.register_at(a)
        times = []
        for i in range(50):
            t0 = time.perf_counter()
            status, body = a.post("/dial", {"peerTo": b.id})
            dt = (time.perf_counter() - t0) * 1000
            if status != 200:
                raise RuntimeError(f"dial {i} failed: {body}")
            times.append(dt)
            a.request("DELETE", f"/links/{b.id}")
            wait_until(lambda: b.links().get(a.id, {}).get("state") != "open", what="the peer to see the close")
        emit({"bench": "worker_dial_ms", "dials": 50, "min": round(min(times), 2), "p50": round(pct(times, .5), 2),
              "p99": round(pct(times, .99), 2), "max": round(max(times), 2)})
    finally:
        a.stop()
        b.stop()


def bench_healthz():
    w = Worker("fz-kuwait", extra=BENCH).start()
    try:
        out = subprocess.run(["wrk", "-t2", "-c32", "-d10s", "--latency", w.url + "/healthz"],
                             capture_output=True, text=True, timeout=60).stdout
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p50 = re.search(r"50%\s+([\d.]+)(\w+)", out)
        p99 = re.search(r"99%\s+([\d.]+)(\w+)", out)
        to_ms = lambda m: float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
        emit({"bench": "healthz_rps", "tool": "wrk -t2 -c32 -d10s", "rps": round(rps), "p50_ms": round(to_ms(p50), 3),
              "p99_ms": round(to_ms(p99), 3)})
    finally:
        w.stop()


def metric(w, name):
    text = w.get("/metrics", raw=True)[1]
    m = re.search("^" + re.escape(name) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


MODES = {  # bench name -> worker flags
    "qos_cost": [],  # the defaults: an idle, healthy link probed every 2 s
    "qos_cost_fast": ["--qos-idle-probe-interval", "0"],  # every link every 200 ms: the cost before
    # This worker probes once a minute and samples once an hour (it still answers the swarm's
    # probes): what holding the links costs without QoS, to tell QoS's share.
    "qos_cost_nearly_off": ["--qos-idle-probe-interval", "0", "--qos-probe-interval", "60000", "--qos-interval", "3600"],
}


def bench_links(mode="qos_cost"):
    """A worker holding LINKS idle links: RSS, and the worker's CPU over 30 s in one of MODES."""
    adaptive = mode == "qos_cost"
    extra = MODES[mode]
    w = Worker("fz-hub", extra=["--open-registration", "--max-links", str(max(LINKS, 1000))] + BENCH + extra).start()
    swarm = None
    try:
        idle_rss, idle_threads = proc_status(w.proc.pid)
        swarm = subprocess.Popen([os.path.join(BUILD, "bench/f0-bench-swarm"), w.url, w.id, str(LINKS), "--hold"],
                                 stdout=subprocess.PIPE, text=True)
        line = swarm.stdout.readline()
        result = json.loads(line)
        open_links = wait_until(lambda: (n := sum(l["state"] == "open" for l in w.links().values())) == LINKS and n,
                                timeout=300, what=f"{LINKS} open links")
        if adaptive:  # a sample (every 15 s) finds each idle link healthy: probed seldom from then on
            wait_until(lambda: metric(w, 'f0_qos_links{probing="calm"}') == LINKS, timeout=120,
                       what=f"{LINKS} calm links")
        elif mode == "qos_cost_fast":
            wait_until(lambda: sum(1 for l in w.links().values() if l.get("qos")) == LINKS, timeout=120,
                       what="a QoS sample on every link")
        else:
            time.sleep(20)  # no sample comes within the hour: as long as the others wait, about
        rss, threads = proc_status(w.proc.pid)
        # QoS cost: the worker's CPU over 30 s holding the links (nothing else happens on them),
        # and the bytes an idle link moves (probes, echoes, SACKs, consent checks).
        def cpu_secs():
            fields = open(f"/proc/{w.proc.pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        c0, t0 = cpu_secs(), time.time()
        time.sleep(30)  # the measurement window itself
        cpu_pct = 100 * (cpu_secs() - c0) / (time.time() - t0)
        links = w.links().values()
        samples = [l["qos"] for l in links if l.get("qos")]
        per_link_kbps = statistics.mean(q["txKbps"] + q["rxKbps"] for q in samples) if samples else None
        emit({"bench": mode, "links": LINKS, "flags": " ".join(extra),
              "calm_links": sum(l.get("probing") == "calm" for l in links),
              "good_links": sum(q["health"] == "good" for q in samples),
              "worker_cpu_pct_of_one_core": round(cpu_pct, 2),
              "idle_link_kbps": round(per_link_kbps, 2) if per_link_kbps else None, "samples": len(samples)})
        if adaptive:
            emit({"bench": "worker_rss_links", "links": open_links, "rss_MB": round(rss, 1), "threads": threads,
                  "idle_rss_MB": round(idle_rss, 1), "idle_threads": idle_threads,
                  "per_link_kB": round((rss - idle_rss) * 1024 / LINKS, 1), "setup_secs": result["secs"]})
    finally:
        if swarm:
            swarm.send_signal(signal.SIGTERM)
            swarm.wait(20)
        w.stop()


bench_dial()
bench_healthz()
for mode in MODES:
    bench_links(mode)

get = lambda b: next(r for r in rows if r["bench"] == b)


def share_verdict(share):
    # One run each: the runs differ by several points of one core from run to run (two of them
    # on 2026-12-01: 81 and 68 % at the defaults), so a share below zero is noise, not a result.
    if share < 0:
        return "**not shown**: below zero, run-to-run noise is larger than the share"
    return "met" if share < 10 else "**missed**"
d, h, l, c = get("worker_dial_ms"), get("healthz_rps"), get("worker_rss_links"), get("qos_cost")
f, o = get("qos_cost_fast"), get("qos_cost_nearly_off")
cpu = next((x.split(":", 1)[1].strip() for x in open("/proc/cpuinfo") if x.startswith("model name")), "?")
section = f"""## The worker (signaling API, links)

Run {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC with `make bench-worker` on {os.cpu_count()} cores ({cpu}); real
worker processes on loopback, host candidates only. The original's targets are the reference
(connection in < 3 s, < 512 MB per worker); no other stack serves this API, so there is no anchor.

| figure | f0mesh | target | verdict |
|---|---|---|---|
| dial-to-open through `POST /dial`, 50 dials: p50 | {d['p50']} ms | < 50 ms | {'met' if d['p50'] < 50 else '**missed**'} |
| same: p99 / max | {d['p99']} / {d['max']} ms | (original: < 3 s) | {'met' if d['p99'] < 3000 else '**missed**'} |
| `GET /healthz` with `{h['tool']}` | {h['rps']} req/s, p50 {h['p50_ms']} ms, p99 {h['p99_ms']} ms | | |
| one worker holding {l['links']} links (3 channels each) | {l['rss_MB']} MB RSS, {l['threads']} threads ({l['per_link_kB']} kB per link; idle {l['idle_rss_MB']} MB) | < 256 MB (issue 18) | {'met' if l['rss_MB'] < 256 else '**missed**'} |
| worker CPU, {c['links']} idle links, defaults (adaptive probing) | **{c['worker_cpu_pct_of_one_core']} % of one core** ({c['calm_links']} links calm, {c['good_links']} good) | | |
| same, every link probed every 200 ms (`--qos-idle-probe-interval 0`, the cost before) | {f['worker_cpu_pct_of_one_core']} % of one core | anchor | |
| same, QoS nearly off (a probe a minute, a sample an hour): holding the links alone | {o['worker_cpu_pct_of_one_core']} % of one core | | |
| QoS's share at the defaults (first row minus the one above) | {round(c['worker_cpu_pct_of_one_core'] - o['worker_cpu_pct_of_one_core'], 1)} points of one core | < 10 % (issue 18) | {share_verdict(c['worker_cpu_pct_of_one_core'] - o['worker_cpu_pct_of_one_core'])} |

Workers run with `--signaling-rate 1000` because every request comes from 127.0.0.1.
QoS cost: the worker's CPU over 30 s while it holds the {l['links']} idle links and nothing else
happens on them. At the defaults a sample every 15 s; a 64-byte probe each way every 200 ms, or
every 2 s on a link whose last sample was good, lossless, fully answered and under 128 kbit/s
(calm; it is fast again at once when an echo is overdue). An idle link then moves
**{c['idle_link_kbps']} kbit/s** in total (probes, echoes, SCTP acknowledgements and ICE consent
checks, both directions; {f['idle_link_kbps']} kbit/s probed every 200 ms). Both runs are in this
same run, one after the other, with the same swarm.

The links are held by `f0-bench-swarm`: {l['links']} peers in one process, each with its own
Ed25519 identity, registering at `/beacon` and dialling through signed offers to `/offer`; each
answers the worker's probes and sends its own every 2 s, as a calm worker does.

```
""" + "\n".join(json.dumps(r) for r in rows) + "\n```\n"
write_section("bench-worker", section)
