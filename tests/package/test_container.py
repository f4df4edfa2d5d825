"""make test-container: the image (make image) run as three workers on a podman network this test
creates and removes. They form a full mesh (beacon registration, three dials), every link has
its DataChannels open, carries control messages both ways and has QoS samples; then one container
is killed (SIGKILL) and started again, and its links come back with its identity and data
volume. Also checked: the image runs as a non-root user, its HEALTHCHECK answers, every shared
library of the binary is present and no build tool was kept. Root (podman).

    python3 tests/package/test_container.py IMAGE_BUILD_DIR      (make test-container)

The test talks to the workers at their addresses on the test's own podman network."""
import json, os, socket, subprocess, sys, time, unittest, urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import podman_env  # noqa: E402
from podman_env import ROOT, podman  # noqa: E402

OUT = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(ROOT, "build-image"))
IMAGE = os.environ.get("F0_IMAGE", "localhost/f0mesh:latest")
TAG = f"f0t{os.getpid()}"
NET = f"{TAG}-net"
IDS = ("alpha", "bravo", "charlie")
WAIT = 120  # seconds, every bounded wait (a loaded 2-core machine is slow to start three workers)


def wait_until(pred, what, timeout=WAIT):
    return podman_env.wait_until(pred, what, timeout)


def name(wid):
    return f"{TAG}-{wid}"


class Worker:
    def __init__(self, wid):
        self.id = wid
        self.name = name(wid)
        self.volume = f"{self.name}-data"
        self._token = None

    def run(self, beacon=None):
        env = {"F0_INSTANCE_ID": self.id, "F0_ADVERTISE": f"http://{self.name}:7000",
               "F0_OPEN_REGISTRATION": "true", "F0_QOS_INTERVAL": "2", "F0_BEACON_REFRESH_S": "2",
               "F0_REDIAL_MAX_MS": "2000", "F0_LOG_LEVEL": "info"}
        if beacon:
            env["F0_BEACON"] = f"http://{beacon}:7000"
        args = ["run", "-d", "--name", self.name, "--hostname", self.name, "--network", NET,
                "-v", f"{self.volume}:/var/lib/f0mesh"]
        for k, v in env.items():
            args += ["-e", f"{k}={v}"]
        podman(*args, IMAGE)

    @property
    def address(self):
        return podman("inspect", "-f", "{{(index .NetworkSettings.Networks \"%s\").IPAddress}}" % NET,
                      self.name).stdout.strip()

    def token(self):
        if not self._token:  # the worker writes it on its first start; it survives a restart
            self._token = podman("exec", self.name, "cat", "/var/lib/f0mesh/operator.token").stdout.strip()
        return self._token

    def call(self, method, path, body=None, operator=True):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://{self.address}:7000{path}", data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if operator:
            req.add_header("Authorization", f"Bearer {self.token()}")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def links(self):
        return {l["peer"]: l for l in self.call("GET", "/links")}

    def open_links(self):
        return {p: l for p, l in self.links().items()
                if l["state"] == "open" and l["channels"] and all(c["open"] for c in l["channels"].values())}

    def logs(self):
        return podman("logs", "--tail", "40", self.name, check=False).stderr[-4000:]


@unittest.skipUnless(os.geteuid() == 0, "needs root for podman")
class ThreeContainers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The host quirks (containers.conf limits, hybrid cgroups), as make image handled them.
        podman_env.setup(OUT)
        podman("image", "exists", IMAGE)
        podman("network", "create", NET)
        cls.workers = [Worker(i) for i in IDS]
        cls.others = []  # the deploy test's, removed with the mesh's

    @classmethod
    def tearDownClass(cls):
        for w in cls.workers + cls.others:
            podman("rm", "-f", "-t", "5", w.name, check=False)
            podman("volume", "rm", "-f", w.volume, check=False)
        podman("network", "rm", "-f", NET, check=False)

    def dump(self):
        return "\n".join(f"--- {w.name}\n{w.logs()}" for w in self.workers)

    def test_image(self):
        image = json.loads(podman("image", "inspect", IMAGE).stdout)[0]
        self.assertEqual(image["Config"].get("User"), "10001:10001")
        self.assertEqual(image["Healthcheck"]["Test"], ["CMD", "/usr/bin/f0mesh", "health"])
        print(f"image {IMAGE}: {image['Size'] / 1e6:.0f} MB", file=sys.stderr)
        ldd = podman("run", "--rm", "--entrypoint", "ldd", IMAGE, "/usr/bin/f0mesh").stdout
        self.assertNotIn("not found", ldd)
        self.assertIn("libnice", ldd)
        # Only the runtime: no compiler, no headers, no build tree.
        kept = podman("run", "--rm", "--entrypoint", "sh", IMAGE, "-c",
                      "ls /usr/bin/g++ /usr/bin/cmake /usr/include/nice /build /src 2>/dev/null; true").stdout
        self.assertEqual(kept.strip(), "")
        self.assertTrue(podman("run", "--rm", "--entrypoint", "sh", IMAGE, "-c",
                               "test -f /usr/share/f0mesh/web/index.html && echo yes").stdout.strip() == "yes")
        # Misconfigured: a clear error and exit 2, not a crash (no F0_ADVERTISE with a wildcard --listen).
        res = podman("run", "--rm", "-e", "F0_INSTANCE_ID=x", IMAGE, check=False)
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn("--advertise", res.stderr)

    def test_full_mesh_then_kill_and_restart(self):
        a, b, c = self.workers
        t0 = time.time()
        a.run()
        b.run(beacon=a.name)
        c.run(beacon=a.name)
        try:
            for w in self.workers:
                wait_until(lambda: podman("healthcheck", "run", w.name, check=False).returncode == 0,
                           f"{w.name} healthy")
                self.assertEqual(podman("exec", w.name, "id", "-un").stdout.strip(), "f0mesh")
            # b and c learn each other from the beacon (a).
            for w in self.workers:
                wait_until(lambda: {x.id for x in self.workers} - {w.id}
                           <= {p["id"] for p in w.call("GET", "/peers", operator=False)},
                           f"{w.id} knows the other two")
            for x, y in ((a, b), (a, c), (b, c)):
                wait_until(lambda: x.call("POST", "/dial", {"peerTo": y.id}) is not None, f"{x.id} dials {y.id}")
            self.assert_full_mesh("first start")
            print(f"full mesh of three containers in {time.time() - t0:.1f} s", file=sys.stderr)

            # SIGKILL bravo: no goodbye, no flush. Then start the same container again.
            before = podman("inspect", "-f", "{{.State.Pid}}", b.name).stdout.strip()
            podman("kill", "-s", "KILL", b.name)
            wait_until(lambda: podman("inspect", "-f", "{{.State.Running}}", b.name).stdout.strip() == "false",
                       "bravo stopped")
            killed = time.time()
            podman("start", b.name)
            self.assertNotEqual(podman("inspect", "-f", "{{.State.Pid}}", b.name).stdout.strip(), before)
            self.assert_full_mesh("after bravo's restart", since_ms=int(killed * 1000))
            print(f"links back {time.time() - killed:.1f} s after the kill", file=sys.stderr)
        except AssertionError:
            print(self.dump(), file=sys.stderr)
            raise

    def test_deploy_script_runs_the_image_and_registers_it(self):
        """scripts/deploy.sh --from image on this host (host network, loopback only) registers
        the worker with a beacon container on the test's network."""
        t0 = time.time()
        beacon = Worker("echo")
        self.others.append(beacon)
        beacon.run()
        wait_until(lambda: podman("healthcheck", "run", beacon.name, check=False).returncode == 0, "the beacon healthy")
        deployed = Worker("delta")
        self.others.append(deployed)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = dict(os.environ, F0_PODMAN_STATE=OUT)
        res = subprocess.run(["bash", os.path.join(ROOT, "scripts/deploy.sh"), "--from", "image", "--image", IMAGE,
                              "--name", deployed.name, "--id", "delta", "--listen", f"127.0.0.1:{port}",
                              "--advertise", f"http://127.0.0.1:{port}", "--ice-address", "127.0.0.1",
                              "--beacon", f"http://{beacon.address}:7000", "--timeout", str(WAIT)],
                             capture_output=True, text=True, timeout=WAIT + 60, env=env)
        self.assertEqual(res.returncode, 0, res.stdout[-2000:] + res.stderr[-2000:])
        self.assertIn("registered with the beacon", res.stdout)
        self.assertIn("delta", {p["id"] for p in beacon.call("GET", "/peers", operator=False)})
        inspect = json.loads(podman("inspect", deployed.name).stdout)[0]
        self.assertEqual(inspect["HostConfig"]["NetworkMode"], "host")
        self.assertEqual(inspect["HostConfig"]["RestartPolicy"]["Name"], "unless-stopped")
        print(f"deploy.sh: registered in {time.time() - t0:.1f} s", file=sys.stderr)

    def assert_full_mesh(self, when, since_ms=0):
        for w in self.workers:
            others = {x.id for x in self.workers} - {w.id}
            wait_until(lambda: set(w.open_links()) >= others, f"{when}: {w.id}'s links open")
        for w in self.workers:
            for peer in {x.id for x in self.workers} - {w.id}:
                # A QoS sample taken on this link since `since_ms` (the restarted link's, after a kill).
                def sampled():
                    q = w.links()[peer]["qos"]
                    return q and q["probes"] > 0 and q["rttMs"] is not None and q["ts"] >= since_ms and q
                q = wait_until(sampled, f"{when}: a QoS sample on {w.id}->{peer}")
                self.assertLess(q["rttMs"], 1000)
                text = f"{when}: {w.id} to {peer}"
                w.call("POST", f"/links/{peer}/control", {"text": text})
                other = next(x for x in self.workers if x.id == peer)
                wait_until(lambda: any(m["message"] == text for m in other.call("GET", f"/links/{w.id}/messages")),
                           f"{when}: the control message at {peer}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
