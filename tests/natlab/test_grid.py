"""The NAT grid: two workers, each behind a lab NAT of some kind (or none), coturn on the public
side; one dials the other. Each cell asserts the path ICE must take (direct, or relayed through
TURN over the transport the network leaves), that the link opens within 3 s with a control
message arriving, or, where no path can exist, that the dial fails within the dial timeout with
the error that says what to do. Needs root.

Short grid (make test, ctest natlab.grid): a few representative cells. Full grid (make
test-natlab, F0_NATLAB_FULL=1): every pair of kinds, with and without TURN, and TURN over TCP and
TLS from the network that blocks UDP, and TURN REST credentials (a shared secret). F0_NATLAB_TABLE=FILE writes the results as a Markdown table
(docs/BENCHMARKS.md has it)."""
import itertools, json, os, sys, unittest

sys.path.insert(0, os.path.dirname(__file__))
from grid import run_cell  # noqa: E402
from lab import KINDS  # noqa: E402

# The original's target for a link to open; a sanitizer build runs several times slower, and its
# ctest run sets a wider bound (tests/natlab/CMakeLists.txt).
OPEN_LIMIT_S = float(os.environ.get("F0_NATLAB_OPEN_LIMIT_S", "3.0"))
DIAL_TIMEOUT_MS = 10000

# RFC 4787 behaviour of each kind (see lab.py and test_nat_kinds.py): a symmetric NAT maps each
# destination apart; a NAT that filters by address and port lets in only what comes from where its
# host sent. Direct fails exactly when one side is symmetric and the other filters by port.
PORT_FILTERING = {"port-restricted", "cgnat", "symmetric"}


def expected(a, b, turn):
    """'direct', 'relay' or 'fail' for a cell."""
    if "udp-blocked" in (a, b):
        return "relay" if turn in ("tcp", "tls") else "fail"
    if (a == "symmetric" and b in PORT_FILTERING) or (b == "symmetric" and a in PORT_FILTERING):
        return "relay" if turn else "fail"
    return "direct"


def cells(full):
    if not full:
        return [("open", "open", None), ("port-restricted", "port-restricted", "udp"),
                ("symmetric", "symmetric", "udp"), ("cgnat", "full-cone", None),
                ("udp-blocked", "open", "tcp"), ("symmetric", "port-restricted", None),
                ("symmetric", "symmetric", "rest")]
    out = []
    for a, b in itertools.combinations_with_replacement(KINDS, 2):
        for turn in (None, "udp"):
            out.append((a, b, turn))
        if "udp-blocked" in (a, b):
            out += [(a, b, "tcp"), (a, b, "tls")]
    return out + [("symmetric", "symmetric", "rest")]


@unittest.skipUnless(os.geteuid() == 0, "needs root for ip netns and iptables")
class NatGrid(unittest.TestCase):
    def test_grid(self):
        full = os.environ.get("F0_NATLAB_FULL") == "1"
        results = []
        for a, b, turn in cells(full):
            want = expected(a, b, turn)
            r = run_cell(a, b, turn, DIAL_TIMEOUT_MS)
            r["expected"] = want
            results.append(r)
            print(json.dumps(r), flush=True)
            with self.subTest(a=a, b=b, turn=turn or "none", expected=want):
                if want == "fail":
                    self.assertNotEqual(r["state"], "open", r)
                    self.assertLessEqual(r["seconds"], DIAL_TIMEOUT_MS / 1000 + 2, "a bounded failure")
                    if "udp-blocked" not in (a, b) or turn is None:
                        self.assertIn("configure --turn", r["lastError"] or "", "the error says what to do")
                    continue
                self.assertEqual(r["state"], "open", r)
                self.assertTrue(r.get("message"), "a control message crossed")
                self.assertLessEqual(r["seconds"], OPEN_LIMIT_S, "opens within 3 s")
                path = r["path"]
                self.assertIsNotNone(path, "/links shows the selected pair")
                self.assertEqual(path["relay"], want == "relay", path)
                if want == "relay":
                    # The side that relays (the one behind the UDP block, or both) does so over the
                    # transport configured.
                    relaying = [p for p in (path, r["pathB"]) if p and p["localType"] == "relay"]
                    self.assertTrue(relaying, r)
                    for p in relaying:
                        self.assertEqual(p["relayProtocol"], "udp" if turn == "rest" else turn,
                                         "relayed over the transport configured")
                elif a == b == "open":
                    self.assertEqual((path["localType"], path["remoteType"]), ("host", "host"))
        if os.environ.get("F0_NATLAB_TABLE"):
            with open(os.environ["F0_NATLAB_TABLE"], "w") as f:
                f.write("| A | B | TURN | expected | result | path (local / remote) | time to open |\n")
                f.write("|---|---|---|---|---|---|---|\n")
                for r in results:
                    p, pb = r["path"], r["pathB"] or {}
                    over = p and (p["relayProtocol"] or pb.get("relayProtocol"))
                    path = (f"{p['localType']} / {p['remoteType']}" + (f" via TURN over {over}" if p["relay"]
                                                                       else "")) if p else "—"
                    result = "open" if r["state"] == "open" else f"failed ({r['seconds']:.1f} s)"
                    took = f"{r['seconds'] * 1000:.0f} ms" if r["state"] == "open" else "—"
                    f.write(f"| {r['a']} | {r['b']} | {r['turn']} | {r['expected']} | {result} | {path} | {took} |\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
