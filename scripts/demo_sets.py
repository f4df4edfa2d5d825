"""make demo-sets: a peer served by a set of three workers (issue 17) beside four ordinary peers,
all on loopback. The operator's key for fz-kuwait stays in DIR/peer-key (no worker runs with it);
each instance has its own key and a delegation from it. The four peers dial fz-kuwait and land on
the instance placement names; then one instance is killed and its links move to the others.
Ctrl-C stops every process this script started (by PID)."""
import json, os, signal, subprocess, sys, time, urllib.request

BIN, DIR = sys.argv[1], sys.argv[2]
BASE = int(os.environ.get("F0_DEMO_PORT", "7300"))
procs = []


def start(args, name):
    log = open(os.path.join(DIR, name + ".log"), "ab")
    procs.append(subprocess.Popen([BIN, "worker", *args], stdout=log, stderr=subprocess.STDOUT))


def call(port, path, body=None, data_dir=None, timeout=15):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST",
                                 headers={"Content-Type": "application/json"})
    if data_dir:
        req.add_header("Authorization", "Bearer " + open(os.path.join(data_dir, "operator.token")).read().strip())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())
    except Exception as e:  # noqa: BLE001 (a demo: say what failed, go on)
        return {"error": str(e)}


def wait(pred, what, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.2)
    sys.exit(f"demo-sets: timed out waiting for {what}; logs in {DIR}")


def main():
    os.makedirs(DIR, exist_ok=True)
    common = ["--open-registration", "--beacon-refresh-s", "1", "--beacon", f"http://127.0.0.1:{BASE}"]
    start(["--id", "fz-beacon", "--listen", f"127.0.0.1:{BASE}", "--data-dir", f"{DIR}/beacon",
           "--open-registration"], "beacon")
    for i in (1, 2, 3):
        d = f"{DIR}/kw-{i}"
        out = f"{DIR}/kw-{i}.delegation"
        subprocess.run([BIN, "delegate", "--data-dir", f"{DIR}/peer-key", "--peer", "fz-kuwait",
                        "--instance", f"kw-{i}", "--instance-data-dir", d, "--days", "7", "--out", out],
                       check=True, capture_output=True)
        start(["--id", "fz-kuwait", "--region", "ME", "--geo", "29.37,47.98", "--listen",
               f"127.0.0.1:{BASE + i}", "--data-dir", d, "--delegation", out] + common, f"kw-{i}")
    peers = [("fz-cairo", "AF", "30.04,31.24"), ("fz-riyadh", "ME", "24.71,46.68"),
             ("fz-paris", "EU", "48.86,2.35"), ("fz-tokyo", "AS", "35.68,139.69")]
    for n, (pid, region, geo) in enumerate(peers, 10):
        start(["--id", pid, "--region", region, "--geo", geo, "--listen", f"127.0.0.1:{BASE + n}",
               "--data-dir", f"{DIR}/{pid}"] + common, pid)
    for n, (pid, _, _) in enumerate(peers, 10):
        def knows(n=n):
            listed = call(BASE + n, "/peers")
            x = [p for p in listed if isinstance(p, dict) and p.get("id") == "fz-kuwait"]
            return x and len(x[0].get("instances", [])) == 3
        wait(knows, f"{pid} learning fz-kuwait's three instances")
    for i in (1, 2, 3):
        wait(lambda i=i: {p for p, _, _ in peers} <= {p.get("id") for p in call(BASE + i, "/peers")
                                                      if isinstance(p, dict)}, "the instances learning the peers")
    def serving():
        out = {}
        for n, (pid, _, _) in enumerate(peers, 10):
            links = call(BASE + n, "/links", data_dir=f"{DIR}/{pid}")
            for l in links if isinstance(links, list) else []:
                if l["peer"] == "fz-kuwait" and l["state"] == "open":
                    out[pid] = l.get("instance")
        return out
    for n, (pid, _, _) in enumerate(peers, 10):
        call(BASE + n, "/dial", {"peerTo": "fz-kuwait"}, data_dir=f"{DIR}/{pid}")
    wait(lambda: len(serving()) == len(peers), "every link to fz-kuwait open")
    print("links to fz-kuwait, by the instance serving each:", json.dumps(serving()), flush=True)
    victim = sorted(serving().values())[0]
    i = int(victim.split("-")[1])
    procs[i].send_signal(signal.SIGKILL)
    killed = time.time()
    print(f"killed instance {victim} (SIGKILL)", flush=True)
    wait(lambda: len(serving()) == len(peers) and victim not in serving().values(),
         "the links to move to the other instances")
    print(f"after {time.time() - killed:.1f} s:", json.dumps(serving()), flush=True)
    token = open(f"{DIR}/{peers[0][0]}/operator.token").read().strip()
    print(f"dashboard of {peers[0][0]}: http://127.0.0.1:{BASE + 10}/ops/mesh#token={token}")
    print("Ctrl-C stops the demo.", flush=True)
    signal.sigwait({signal.SIGINT, signal.SIGTERM})


try:
    main()
finally:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
