"""The Debian package under a real systemd: a podman container of the clean Debian 12 root with
systemd as PID 1. `apt-get install ./f0mesh_*.deb` there runs the maintainer scripts' systemd path
(the unit enabled and started by postinst); then the unit's promises are checked as systemd keeps
them: Type=notify (active only once the API serves), the hardening on the running process (its
user, no capabilities, no new privileges), the watchdog pinged (a 2 s drop-in, no restart in 6 s),
`systemctl reload` (SIGHUP, same process), `systemctl stop` (SIGTERM, exit 0), and `apt-get purge`
stopping and removing it. Root (podman).

    python3 tests/package/test_deb_systemd.py BUILD_DIR      (make test-deb, after test_deb.py)"""
import glob, os, shutil, subprocess, sys, tempfile, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
import podman_env  # noqa: E402
from podman_env import ROOT, podman  # noqa: E402

BUILD = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else "build-deb")
IMAGE = "localhost/f0mesh-systemd-test:bookworm"
NAME = f"f0sd-{os.getpid()}"
WAIT = 60


def inside(*args, check=True):
    return podman("exec", NAME, *args, check=check)


def wait_until(pred, what, timeout=WAIT):
    return podman_env.wait_until(pred, what, timeout, step=0.2)


def show(prop):
    return inside("systemctl", "show", "f0mesh", "-p", prop, "--value").stdout.strip()


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("podman"), "needs root and podman")
class UnderSystemd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        state = os.path.join(BUILD, "podman")
        podman_env.setup(state)
        debs = sorted(glob.glob(os.path.join(BUILD, "f0mesh_*.deb")))
        assert debs, f"no package in {BUILD}: run make deb"
        cls.deb = debs[-1]
        tar = os.path.join(BUILD, "debian12-minbase.tar")
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "debian-base.sh"), tar], check=True, timeout=1800)
        if podman("image", "exists", IMAGE, check=False).returncode != 0:
            # The clean root plus systemd (cached: the package itself is installed in the test).
            podman("import", "--quiet", tar, "localhost/f0mesh-debroot:bookworm")
            with tempfile.TemporaryDirectory() as ctx:
                with open(os.path.join(ctx, "Containerfile"), "w") as f:
                    f.write("FROM localhost/f0mesh-debroot:bookworm\n"
                            "RUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                            "--no-install-recommends systemd systemd-sysv && rm -rf /var/lib/apt/lists/*\n"
                            'CMD ["/sbin/init"]\n')
                podman("build", "-q", "-t", IMAGE, ctx, timeout=1800)
        podman("run", "-d", "--name", NAME, "--systemd=always", IMAGE, "/sbin/init")
        wait_until(lambda: inside("systemctl", "is-system-running", check=False).stdout.strip()
                   in ("running", "degraded"), "systemd up")
        podman("cp", cls.deb, f"{NAME}:/tmp/f0mesh.deb")

    @classmethod
    def tearDownClass(cls):
        podman("rm", "-f", "-t", "5", NAME, check=False)

    def test_the_unit_under_systemd(self):
        inside("apt-get", "update", "-q")
        res = inside("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q",
                     "--no-install-recommends", "/tmp/f0mesh.deb", check=False)
        self.assertEqual(res.returncode, 0, res.stdout[-2000:] + res.stderr[-2000:])
        # postinst enabled and started it; Type=notify: active means READY=1 came, after the API serves.
        wait_until(lambda: show("ActiveState") == "active", "f0mesh active")
        self.assertEqual(show("UnitFileState"), "enabled")
        self.assertEqual(show("Type"), "notify")
        self.assertEqual(inside("f0mesh", "health", "--worker", "http://127.0.0.1:7300").returncode, 0)
        journal = inside("journalctl", "-u", "f0mesh", "--no-pager").stdout
        self.assertNotIn("mode is different", journal, "the unit's directory modes match the package's")
        # The hardening, on the running process.
        pid = show("MainPID")
        status = inside("cat", f"/proc/{pid}/status").stdout
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        self.assertEqual(fields["NoNewPrivs"].strip(), "1")
        self.assertEqual(int(fields["CapEff"].strip(), 16), 0)
        self.assertEqual(int(fields["CapBnd"].strip(), 16), 0)
        uid = inside("id", "-u", "f0mesh").stdout.strip()
        self.assertEqual(fields["Uid"].split()[0], uid)
        # The watchdog: 2 s instead of 30; six seconds later, the same process, no restart.
        inside("mkdir", "-p", "/etc/systemd/system/f0mesh.service.d")
        inside("sh", "-c", "printf '[Service]\\nWatchdogSec=2\\n' > /etc/systemd/system/f0mesh.service.d/wd.conf")
        inside("systemctl", "daemon-reload")
        inside("systemctl", "restart", "f0mesh")
        wait_until(lambda: show("ActiveState") == "active", "f0mesh active again")
        self.assertEqual(show("WatchdogUSec"), "2s")
        pid = show("MainPID")
        time.sleep(6)
        self.assertEqual((show("MainPID"), show("NRestarts"), show("ActiveState")), (pid, "0", "active"),
                         "the worker pings the watchdog")
        # reload: SIGHUP to the same process.
        inside("systemctl", "reload", "f0mesh")
        self.assertEqual(show("MainPID"), pid)
        wait_until(lambda: "SIGHUP: reloading" in inside("journalctl", "-u", "f0mesh", "--no-pager").stdout,
                   "the reload logged")
        # stop: SIGTERM, links closed, a clean exit.
        inside("systemctl", "stop", "f0mesh")
        self.assertEqual((show("Result"), show("ExecMainStatus")), ("success", "0"))
        self.assertIn("closing links and stopping", inside("journalctl", "-u", "f0mesh", "--no-pager").stdout)
        # purge under systemd: prerm stops and disables it, the unit is gone.
        inside("systemctl", "start", "f0mesh")
        wait_until(lambda: show("ActiveState") == "active", "started for the purge")
        res = inside("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "purge", "-y", "-q", "f0mesh", check=False)
        self.assertEqual(res.returncode, 0, res.stdout[-2000:] + res.stderr[-2000:])
        running = inside("sh", "-c", "grep -lx f0mesh /proc/[0-9]*/comm; true").stdout.strip()
        self.assertEqual(running, "", "no worker left running")
        self.assertIn(show("LoadState"), ("not-found",))


if __name__ == "__main__":
    unittest.main(verbosity=2)
