"""scripts/deploy.sh without touching the host: its argument checks (clear errors, exit 2), and
--dry-run's plan for both ways of deploying. The worker.ini it would write for the package is
then given to the real worker, which must start with it and answer /healthz: every key the script
writes is an option the worker knows. (make test-container runs the script for real with the
image.)

    python3 tests/package/test_deploy.py F0MESH_BINARY       (ctest package.deploy)"""
import os, shutil, socket, subprocess, sys, tempfile, time, unittest, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(ROOT, "scripts", "deploy.sh")
F0MESH = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(ROOT, "build/src/cli/f0mesh"))


def deploy(*args):
    return subprocess.run(["bash", DEPLOY, *args], capture_output=True, text=True, timeout=60)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Arguments(unittest.TestCase):
    def test_help(self):
        res = deploy("--help")
        self.assertEqual(res.returncode, 0)
        self.assertIn("--advertise URL", res.stdout)

    def test_refusals_say_what_is_wrong(self):
        cases = [
            ((), "--id is required"),
            (("--id", "x"), "--advertise is required"),
            (("--id", "bad id", "--advertise", "http://h:1"), "letters, digits"),
            (("--id", "x", "--advertise", "http://h:1/path"), "scheme, host and port only"),
            (("--id", "x", "--advertise", "http://h:1", "--from", "tarball"), "'package' or 'image'"),
            (("--id", "x", "--advertise", "http://h:1", "--ice-ports", "50100-50000"), "MIN <= MAX"),
            (("--id", "x", "--advertise", "http://h:1", "--ice-ports", "many"), "MIN-MAX"),
            (("--id", "x", "--advertise", "http://h:1", "--tls-cert", "/etc/hostname"), "go together"),
            (("--id", "x", "--advertise", "http://h:1", "--allowlist", "/nonexistent"), "cannot read"),
            (("--id", "x", "--advertise", "http://h:1", "--bogus"), "unknown argument '--bogus'"),
        ]
        for args, why in cases:
            with self.subTest(args=args):
                res = deploy(*args, "--dry-run")
                self.assertEqual(res.returncode, 2, res.stdout + res.stderr)
                self.assertIn(why, res.stderr)


class DryRun(unittest.TestCase):
    def test_image_plan(self):
        res = deploy("--from", "image", "--id", "fz-delta", "--advertise", "http://192.0.2.10:7000",
                     "--beacon", "http://192.0.2.1:7000", "--ice-ports", "50000-50100", "--dry-run")
        self.assertEqual(res.returncode, 0, res.stderr)
        line = next(l for l in res.stdout.splitlines() if l.startswith("+ podman run"))
        for part in ("--name f0mesh-fz-delta", "--network host", "-v f0mesh-fz-delta-data:/var/lib/f0mesh",
                     "-e F0_INSTANCE_ID=fz-delta", "-e F0_ADVERTISE=http://192.0.2.10:7000",
                     "-e F0_BEACON=http://192.0.2.1:7000", "-e F0_ICE_PORT_MIN=50000", "-e F0_ICE_PORT_MAX=50100",
                     "-e F0_OPEN_REGISTRATION=true"):
            self.assertIn(part, line)
        self.assertTrue(line.endswith("localhost/f0mesh:latest"), line)

    def test_the_package_config_starts_a_real_worker(self):
        d = tempfile.mkdtemp(prefix="f0-deploy-")
        proc = None
        try:
            allow = os.path.join(d, "allow")
            with open(allow, "w") as f:
                f.write("fz-delta\nfz-echo\n")
            port = free_port()
            res = deploy("--id", "fz-delta", "--advertise", f"http://127.0.0.1:{port}",
                         "--listen", f"127.0.0.1:{port}", "--ice-ports", "50000-50100",
                         "--ice-address", "127.0.0.1", "--allowlist", allow, "--region", "ME",
                         "--geo", "29.37,47.98", "--dry-run")
            self.assertEqual(res.returncode, 0, res.stderr)
            lines = res.stdout.splitlines()
            start = lines.index("+ write /etc/f0mesh/worker.ini:") + 1
            ini = []
            for l in lines[start:]:  # the indented block after the heading
                if not l.startswith("    "):
                    break
                ini.append(l[4:])
            self.assertIn("id = fz-delta", ini)
            self.assertIn("ice-port-min = 50000", ini)
            self.assertIn("allowlist = /etc/f0mesh/allowlist", ini)
            self.assertNotIn("open-registration = true", ini)
            # Run the real worker on that config, with paths moved under a temp dir.
            conf = os.path.join(d, "worker.ini")
            with open(conf, "w") as f:
                for l in ini:
                    l = l.replace("/etc/f0mesh/allowlist", allow).replace("/var/lib/f0mesh", os.path.join(d, "data"))
                    f.write(l + "\n")
            proc = subprocess.Popen([F0MESH, "worker", "--config", conf], stdout=subprocess.DEVNULL,
                                    stderr=open(os.path.join(d, "log"), "w"))
            end = time.time() + 30
            ok = False
            while time.time() < end and not ok and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                        ok = r.status == 200
                except OSError:
                    time.sleep(0.1)
            self.assertTrue(ok, open(os.path.join(d, "log")).read()[-3000:])
        finally:
            if proc and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
