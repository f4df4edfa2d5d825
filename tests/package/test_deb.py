"""The Debian package in a clean Debian 12 root: `apt-get install ./f0mesh_*.deb` (dependencies
from the mirror apt already uses), the worker started as the systemd unit starts it (its user,
its config, its data dir), /healthz and the dashboard answer; then `dpkg --purge` leaves none of
the package's files, config, data or user behind. Root (mmdebstrap, chroot).

    python3 tests/package/test_deb.py BUILD_DIR      (make test-deb)

The minbase root is cached in BUILD_DIR/debian12-minbase.tar (mmdebstrap takes a few minutes)."""
import glob, json, os, shutil, signal, socket, subprocess, sys, tempfile, time, unittest, urllib.request

BUILD = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else "build-deb")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


@unittest.skipUnless(os.geteuid() == 0, "needs root for mmdebstrap and chroot")
class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        debs = sorted(glob.glob(os.path.join(BUILD, "f0mesh_*.deb")))
        assert debs, f"no package in {BUILD}: run make deb"
        cls.deb = debs[-1]
        tar = os.path.join(BUILD, "debian12-minbase.tar")
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "debian-base.sh"), tar], check=True, timeout=1800)
        cls.root = tempfile.mkdtemp(prefix="f0deb-")
        sh("tar", "-C", cls.root, "-xf", tar)
        shutil.copy("/etc/resolv.conf", os.path.join(cls.root, "etc/resolv.conf"))
        for fs, where in (("proc", "proc"), ("sysfs", "sys")):
            sh("mount", "-t", fs, fs, os.path.join(cls.root, where))
        cls.pkg = "/tmp/" + os.path.basename(cls.deb)
        shutil.copy(cls.deb, cls.root + cls.pkg)

    @classmethod
    def tearDownClass(cls):
        for where in ("sys", "proc"):
            subprocess.run(["umount", "-l", os.path.join(cls.root, where)])
        shutil.rmtree(cls.root, ignore_errors=True)

    def chroot(self, *args, check=True, timeout=600):
        return subprocess.run(["chroot", self.root, *args], capture_output=True, text=True, check=check,
                              timeout=timeout, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                                    "DEBIAN_FRONTEND": "noninteractive"})

    def test_install_run_purge(self):
        before = set(self.chroot("find", "/", "-xdev", "-path", "/proc", "-prune", "-o", "-print").stdout.split())
        self.chroot("apt-get", "update", "-q")
        res = self.chroot("apt-get", "install", "-y", "-q", "--no-install-recommends", self.pkg, check=False)
        self.assertEqual(res.returncode, 0, res.stdout[-3000:] + res.stderr[-3000:])
        files = [f for f in self.chroot("dpkg", "-L", "f0mesh").stdout.split() if f != "/."]
        self.assertIn("/usr/bin/f0mesh", files)
        self.assertIn("/usr/lib/systemd/system/f0mesh.service", files)
        self.assertIn("/usr/share/f0mesh/web/index.html", files)
        self.assertEqual(self.chroot("ldd", "/usr/bin/f0mesh").stdout.count("not found"), 0,
                         "every shared library comes from a declared dependency")
        user = self.chroot("getent", "passwd", "f0mesh").stdout
        self.assertTrue(user, "the system user")
        self.assertIn("/usr/sbin/nologin", user)
        st = os.stat(os.path.join(self.root, "var/lib/f0mesh"))
        self.assertEqual(oct(st.st_mode & 0o777), "0o750")
        with open(os.path.join(self.root, "etc/f0mesh/worker.ini")) as f:
            config = f.read()
        self.assertIn('data-dir = "/var/lib/f0mesh"', config)

        # As the unit runs it: its user, its config (the API on a free loopback port here).
        port = free_port()
        worker = subprocess.Popen(["chroot", "--userspec=f0mesh:f0mesh", self.root, "/usr/bin/f0mesh", "worker",
                                   "--config", "/etc/f0mesh/worker.ini", "--listen", f"127.0.0.1:{port}"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            body = None
            for _ in range(200):  # 20 s at most
                if worker.poll() is not None:
                    break
                try:
                    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.1)
            self.assertIsNotNone(body, f"/healthz never answered: {worker.poll()}")
            page = urllib.request.urlopen(f"http://127.0.0.1:{port}/ops/mesh", timeout=5)
            self.assertEqual(page.status, 200, "the dashboard, from /usr/share/f0mesh/web")
            key = os.path.join(self.root, "var/lib/f0mesh/identity.pem")
            self.assertTrue(os.path.exists(key), "the identity key in the data dir")
            self.assertEqual(oct(os.stat(key).st_mode & 0o077), "0o0", "readable by the worker only")
        finally:
            worker.send_signal(signal.SIGTERM)
            out, _ = worker.communicate(timeout=30)
        self.assertEqual(worker.returncode, 0, out[-2000:])
        self.assertIn("dashboard from /usr/share/f0mesh/web (install prefix)", out)

        res = self.chroot("dpkg", "--purge", "f0mesh", check=False)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        left = [f for f in files if os.path.lexists(self.root + f) and not os.path.isdir(self.root + f)]
        self.assertEqual(left, [], "files of the package left after purge")
        dirs = [f for f in files if os.path.isdir(self.root + f) and f not in before]
        self.assertEqual(dirs, [], "directories the package made, left after purge")
        self.assertFalse(os.path.exists(os.path.join(self.root, "etc/f0mesh")), "config purged")
        self.assertFalse(os.path.exists(os.path.join(self.root, "var/lib/f0mesh")), "data purged")
        self.assertEqual(self.chroot("getent", "passwd", "f0mesh", check=False).stdout, "", "user removed")


if __name__ == "__main__":
    unittest.main(verbosity=2)
