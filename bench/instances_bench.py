"""make bench-instances: several workers per peer (issue 17). Runs the multi-process scenario of
tests/worker/test_instances.py (3 instances of fz-x, 30 peers dialling it, on loopback) RUNS
times and records how the links spread and how long the links of a SIGKILLed instance take to be
open again through the others, from the kill to each link seen open (polled every 50 ms, so a
figure is up to 50 ms late), and how many messages with receipts the peers that lose their
links got acknowledged across the kill (each one checked stored at an instance afterwards).
Writes its section of docs/BENCHMARKS.md.

No other stack serves one peer from several processes; the figure is measured against the
issue's target (5 s), not against an anchor."""
import os, platform, re, subprocess, sys, time

sys.path.insert(0, os.path.dirname(__file__))
from bench_doc import write_section  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    env = dict(os.environ, F0MESH=os.path.join(ROOT, build, "src", "cli", "f0mesh"))
    rows = []
    for r in range(runs):
        out = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "worker", "test_instances.py"),
                              "SeveralInstances"], capture_output=True, text=True, env=env, timeout=600)
        text = out.stdout + out.stderr
        if out.returncode != 0:
            sys.exit(f"run {r + 1} failed:\n{text[-3000:]}")
        spread = re.search(r"links per instance: (\{.*?\})", text).group(1)
        m = re.search(r"failover: (\d+) links, open again after ([\d.]+)-([\d.]+) s \(median ([\d.]+) s\)", text)
        k = re.search(r"receipts: (\d+) messages acknowledged across the failover, all stored; (\d+) sends", text)
        rows.append((spread, int(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4)),
                     int(k.group(1)), int(k.group(2))))
        print(f"run {r + 1}: {spread}; {m.group(0)}; {k.group(0)}", flush=True)
    worst = max(r[3] for r in rows)
    lines = ["## Several workers per peer: failover (`make bench-instances`)", "",
             f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, loopback; "
             "3 instances of fz-x, 30 peers each dialling fz-x (the instance placement names), "
             "`--beacon-refresh-s 1`, default `--ice-restart-after-ms` (2 s). The instance serving "
             "the most links is killed with SIGKILL; a link counts as back when the peer shows it "
             "open through another instance (polled every 50 ms). Meanwhile each peer that loses its "
             "link sends messages with receipts one after another (`?ack=1`, sent again under the same "
             "id until a receipt comes); every acknowledged one is then looked up in the instances' "
             "stores (the killed one's after its restart).", "",
             "| run | links per instance | links lost | back after (first - last) | median | "
             "acknowledged (all found stored) | sends repeated |",
             "|---|---|---|---|---|---|---|"]
    for i, (spread, n, lo, hi, med, acked, again) in enumerate(rows, 1):
        lines.append(f"| {i} | {spread} | {n} | {lo:.2f} - {hi:.2f} s | {med:.2f} s | {acked} | {again} |")
    lines += ["", f"Target (issue 17): every lost link open again within 5 s. Worst here: {worst:.2f} s. "
              "Most of it is the silence the dialer waits before it acts (2 s): the link fails on the "
              "ICE restart the dead instance cannot answer, the instance is marked down and the link "
              "is dialled at once through the next instance.", ""]
    write_section("instances", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
