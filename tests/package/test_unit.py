"""The systemd unit: `systemd-analyze security` rates it "OK" or better (issue 16), and the rating
is not a given: the same unit without its hardening lines rates worse."""
import os, re, subprocess, tempfile, unittest

UNIT = os.path.join(os.path.dirname(__file__), "..", "..", "packaging", "f0mesh.service")


def exposure(path):
    out = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", path],
                         capture_output=True, text=True).stdout
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", out)
    assert m, out[-2000:]
    return float(m.group(1)), m.group(2)


class Unit(unittest.TestCase):
    def test_exposure_is_ok_or_better(self):
        score, level = exposure(UNIT)
        print(f'{{"test": "unit_security", "exposure": {score}, "level": "{level}"}}')
        self.assertIn(level, ("OK", "SAFE"), score)

    def test_without_hardening_it_would_not_be(self):
        lines = open(UNIT).read().split("# Hardening")[0] + "\n[Install]\nWantedBy=multi-user.target\n"
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "f0mesh.service")
            with open(path, "w") as f:
                f.write(lines)
            score, level = exposure(path)
        self.assertNotIn(level, ("OK", "SAFE"), score)

    def test_it_is_a_notify_service_that_reloads_with_sighup(self):
        text = open(UNIT).read()
        self.assertIn("Type=notify", text)
        self.assertIn("WatchdogSec=", text)
        self.assertIn("ExecReload=/bin/kill -HUP $MAINPID", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
