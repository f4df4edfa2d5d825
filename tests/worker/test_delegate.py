"""f0mesh delegate (issue 17): the documents it writes verify with an independent Ed25519
implementation over the RFC 8785 bytes PROTOCOL.md describes (so another stack can check them),
carry the instance key from the instance's own data dir, and the peer key never leaves its dir;
bad arguments get exit 2 and a reason."""
import base64, json, os, subprocess, sys, tempfile, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import BINARY, canonical  # noqa: E402

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def f0(*args):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30)


def signature_holds(doc):
    body = {k: v for k, v in doc.items() if k != "sig"}
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(doc["peerKey"]))
    try:
        key.verify(base64.b64decode(doc["sig"]), canonical(body))
        return True
    except InvalidSignature:
        return False


class Delegate(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="f0-delegate-")
        self.peer = os.path.join(self.d, "peer")
        self.inst = os.path.join(self.d, "kw-1")

    def test_delegation_and_revocation_verify_independently(self):
        out = os.path.join(self.d, "kw-1.delegation")
        res = f0("delegate", "--data-dir", self.peer, "--peer", "fz-kuwait", "--instance", "kw-1",
                 "--instance-data-dir", self.inst, "--days", "7", "--out", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        doc = json.load(open(out))
        self.assertEqual(doc["type"], "f0-delegation")
        self.assertEqual((doc["peer"], doc["instance"], doc["v"]), ("fz-kuwait", "kw-1", 1))
        self.assertTrue(signature_holds(doc))
        now = time.time() * 1000
        self.assertLess(abs(doc["notBefore"] - now), 60_000)
        self.assertEqual(doc["notAfter"] - doc["notBefore"], 7 * 24 * 3600 * 1000)
        inst_key = json.loads(f0("keygen", "--data-dir", self.inst).stdout)["pubKey"]
        peer_key = json.loads(f0("keygen", "--data-dir", self.peer).stdout)["pubKey"]
        self.assertEqual((doc["instanceKey"], doc["peerKey"]), (inst_key, peer_key))
        self.assertNotEqual(open(os.path.join(self.inst, "identity.pem"), "rb").read(),
                            open(os.path.join(self.peer, "identity.pem"), "rb").read(),
                            "the instance's dir holds a key of its own, not the peer's")
        tampered = dict(doc, instance="kw-2")
        self.assertFalse(signature_holds(tampered), "the check can fail")

        res = f0("delegate", "--data-dir", self.peer, "--peer", "fz-kuwait", "--instance", "kw-1",
                 "--instance-key", inst_key, "--revoke")
        self.assertEqual(res.returncode, 0, res.stderr)
        rev = json.loads(res.stdout)
        self.assertEqual((rev["type"], rev["instanceKey"]), ("f0-revocation", inst_key))
        self.assertTrue(signature_holds(rev))

    def test_refusals(self):
        base = ["delegate", "--data-dir", self.peer, "--peer", "fz-kuwait", "--instance", "kw-1"]
        for extra, why in (([], "--instance-key B64 or --instance-data-dir"),
                           (["--instance-key", "AAAA"], "32 bytes"),
                           (["--instance-data-dir", self.inst, "--days", "91"], "--days"),
                           (["--instance-data-dir", self.inst, "--instance-key", "AAAA"], "excludes")):
            res = f0(*base, *extra)
            self.assertNotEqual(res.returncode, 0, extra)
            self.assertIn(why, res.stderr + res.stdout, extra)
        res = f0("delegate", "--data-dir", self.peer, "--peer", "bad id", "--instance", "kw-1",
                 "--instance-data-dir", self.inst)
        self.assertEqual(res.returncode, 2)
        self.assertIn("[A-Za-z0-9._-]", res.stderr)
        # The peer's own key as the instance's: refused (an instance must have a key of its own).
        res = f0(*base, "--instance-data-dir", self.peer)
        self.assertEqual(res.returncode, 2)
        self.assertIn("peer's own key", res.stderr)

    def test_the_worker_refuses_a_delegation_that_is_not_its_own(self):
        out = os.path.join(self.d, "kw-1.delegation")
        res = f0("delegate", "--data-dir", self.peer, "--peer", "fz-kuwait", "--instance", "kw-1",
                 "--instance-data-dir", self.inst, "--days", "1", "--out", out)
        self.assertEqual(res.returncode, 0, res.stderr)
        other = os.path.join(self.d, "kw-2")
        bad = os.path.join(self.d, "tampered.delegation")
        doc = json.load(open(out))
        json.dump(dict(doc, notAfter=doc["notAfter"] - 1000), open(bad, "w"))
        for wid, data_dir, path, why in (
                ("fz-cairo", self.inst, out, "it is for peer 'fz-kuwait'"),
                ("fz-kuwait", other, out, "certifies another key"),
                ("fz-kuwait", self.inst, bad, "not signed by the peer key"),
                ("fz-kuwait", self.inst, os.path.join(self.d, "none"), "cannot read")):
            res = f0("worker", "--id", wid, "--data-dir", data_dir, "--listen", "127.0.0.1:0",
                     "--advertise", "http://127.0.0.1:9", "--delegation", path)
            self.assertEqual(res.returncode, 2, (why, res.stderr))
            self.assertIn(why, res.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
