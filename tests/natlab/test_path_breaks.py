"""When the path under a link breaks: the NAT forgets its mappings (conntrack -F on both routers),
or a router's public address changes. The link must be back within 5 s with the same channels
(the same open link, not a redial), and control messages sent before and after arrive, in order.
Needs root and conntrack. Run by `make test-natlab`.

A flush: Linux SNAT keeps the port when it makes the mapping again, so the path never breaks
(the message after the flush arrives in ~0.2 s, the link stays the same). An address change: the
dialer hears nothing for 2 s, sends a signed re-offer with new ICE credentials and freshly
gathered candidates ("restart" envelope), the peer answers with its own, and the same link (same
SCTP association and channels) carries on; the message sent during the break arrives after it.
Before ICE restart: consent expired (~10 s), a redial opened a new link (10.5 s) and that
message was lost."""
import json, os, shutil, sys, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
from grid import STUN, LabWorker  # noqa: E402
from lab import PUB_NET, Lab, sh  # noqa: E402

BACK_WITHIN_S = 5


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("conntrack"), "needs root and conntrack")
class PathBreaks(unittest.TestCase):
    def run_break(self, break_path):
        """Opens a link a -> b (both behind port-restricted NATs), sends one message, breaks the
        path with break_path(lab, ha, hb), sends another; returns (seconds until the second
        arrived or None, whether it is still the same link, the messages b got in order)."""
        with Lab() as lab:
            lab.start_coturn()
            ha, hb = lab.add_host("port-restricted"), lab.add_host("port-restricted")
            extra = ["--open-registration", "--stun", STUN, "--redial-min-ms", "200"]
            a, b = LabWorker(lab, ha, "fz-lab-a", extra), LabWorker(lab, hb, "fz-lab-b", extra)
            try:
                a.start()
                b.start()
                self.assertEqual(a.register_at(b)[0], 200)
                self.assertEqual(b.register_at(a)[0], 200)
                self.assertEqual(a.post("/dial", {"peerTo": b.id})[0], 200)
                opened = a.links()[b.id]["openedMs"]
                self.assertEqual(a.post(f"/links/{b.id}/control", {"text": "before"})[0], 200)
                break_path(lab, ha, hb)
                t0, arrived = time.time(), None
                sent = False
                while time.time() - t0 < 30:
                    if not sent:
                        sent = a.post(f"/links/{b.id}/control", {"text": "after"})[0] == 200
                    got = [m["message"] for m in b.get(f"/links/{a.id}/messages")[1]]
                    if "after" in got:
                        arrived = time.time() - t0
                        break
                    time.sleep(0.05)
                same = a.links()[b.id]["openedMs"] == opened
                return arrived, same, [m for m in got if m in ("before", "after")]
            finally:
                a.stop()
                b.stop()

    def test_a_conntrack_flush_on_both_routers(self):
        def flush(lab, ha, hb):
            for r in (ha.router, hb.router):
                sh("ip", "netns", "exec", r, "conntrack", "-F")
        arrived, same, got = self.run_break(flush)
        print(json.dumps({"test": "natlab_conntrack_flush", "seconds": arrived, "same_link": same}))
        self.assertIsNotNone(arrived)
        self.assertLessEqual(arrived, BACK_WITHIN_S)
        self.assertTrue(same, "the same link, not a redial")
        self.assertEqual(got, ["before", "after"], "in order, nothing lost")

    def test_a_new_public_address(self):
        def renumber(lab, ha, hb):
            new = f"{PUB_NET}.{60 + ha.n}"
            sh("ip", "-n", ha.router, "addr", "add", f"{new}/24", "dev", "wan")
            lab.ipt(ha.router, "-t", "nat", "-F", "POSTROUTING")
            lab.ipt(ha.router, "-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "SNAT", "--to-source", new)
            sh("ip", "netns", "exec", ha.router, "conntrack", "-F")
        arrived, same, got = self.run_break(renumber)
        print(json.dumps({"test": "natlab_new_address", "seconds": arrived, "same_link": same}))
        self.assertIsNotNone(arrived)
        self.assertLessEqual(arrived, BACK_WITHIN_S)
        self.assertTrue(same, "the same link, restarted, not redialled")
        self.assertEqual(got, ["before", "after"], "in order, nothing lost")


if __name__ == "__main__":
    unittest.main(verbosity=2)
