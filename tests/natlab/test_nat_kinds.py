"""The lab's NATs behave as they claim (RFC 4787 mapping and filtering), probed with plain UDP
before any worker relies on them: a host behind each kind asks two public addresses what they see,
and a public server sends it packets it never asked for. Needs root."""
import json, os, subprocess, sys, unittest

sys.path.insert(0, os.path.dirname(__file__))
from lab import KINDS, PUB_NET, Lab  # noqa: E402

PROBE = os.path.join(os.path.dirname(__file__), "udp_probe.py")
PORT = 3900

# kind: (endpoint-independent mapping, from another port of the same address gets in, from
#        another address gets in); None = no UDP at all
EXPECTED = {
    "open": (True, True, True),
    "full-cone": (True, True, True),
    "addr-restricted": (True, True, False),
    "port-restricted": (True, False, False),
    "symmetric": (False, False, False),
    "cgnat": (True, False, False),
    "udp-blocked": None,
}


@unittest.skipUnless(os.geteuid() == 0, "needs root for ip netns and iptables")
class NatKinds(unittest.TestCase):
    def test_each_kind_maps_and_filters_as_it_claims(self):
        with Lab() as lab:
            server = lab.spawn(lab.pub, ["python3", PROBE, "server", f"{PUB_NET}.1", f"{PUB_NET}.2", str(PORT)],
                               stdout=subprocess.PIPE, text=True)
            self.assertEqual(server.stdout.readline().strip(), "ready")
            for kind in KINDS:
                h = lab.add_host(kind)
                out = subprocess.run(["ip", "netns", "exec", h.ns, "python3", PROBE, "client", f"{PUB_NET}.1",
                                      f"{PUB_NET}.2", str(PORT)], capture_output=True, text=True, timeout=30)
                got = json.loads(out.stdout)
                with self.subTest(kind=kind, got=got):
                    if EXPECTED[kind] is None:
                        self.assertIsNone(got["mapped1"], "no UDP gets out")
                        continue
                    self.assertIsNotNone(got["mapped1"])
                    self.assertIsNotNone(got["mapped2"])
                    ip1, _ = got["mapped1"].split()
                    self.assertEqual(ip1, h.wan_ip, "seen at the router's public address (or the host's own)")
                    eim, from_port, from_ip = EXPECTED[kind]
                    self.assertEqual(got["mapped1"] == got["mapped2"], eim, "endpoint-independent mapping")
                    self.assertEqual(got["from_port"], from_port, "a packet from another port of that address")
                    self.assertEqual(got["from_ip"], from_ip, "a packet from another address")
            print(json.dumps({"test": "natlab_kinds", "kinds": len(KINDS)}))


if __name__ == "__main__":
    unittest.main(verbosity=2)
