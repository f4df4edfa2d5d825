"""QoS across the lab: worker A sits behind a port-restricted NAT whose WAN link is a user-space
wire (impair.py) adding 50 ms +- 10 ms (40 ms + U[0, 20] ms per frame, so frames overtake each
other) and 5 % UDP loss each way; worker B behind a plain one. A's reported RTT, jitter and inbound loss should agree with what the wire
actually did (its own record of every frame: delays as they happened, frames dropped), within
the bounds of the virtual-link QoS tests: RTT 5 %, jitter 25 %, loss 1.5 points. They do not
yet (issue 15 acceptance 3 is open): SCTP's own RTT agrees, the probes' RTT and jitter do not
(marked expectedFailure with what was measured), and loss is printed, not asserted. Needs root.
Run by `make test-natlab` (about a minute)."""
import json, os, sys, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
from grid import STUN, LabWorker  # noqa: E402
from lab import Lab  # noqa: E402

DELAY_MS, JITTER_MS, LOSS = 40, 20, 0.05


def rfc3550_mean_jitter_ms(delays_us):
    """RFC 3550's interarrival jitter over transit times in arrival order, averaged over packets
    as the worker's report averages it."""
    j, total, prev = 0.0, 0.0, None
    for d in delays_us:
        if prev is not None:
            j += (abs(d - prev) - j) / 16
        prev = d
        total += j
    return total / max(1, len(delays_us)) / 1000


@unittest.skipUnless(os.geteuid() == 0, "needs root for ip netns and iptables")
class QosAcrossTheLab(unittest.TestCase):
    """One run (setUpClass), checked three ways."""

    @classmethod
    def setUpClass(cls):
        with Lab() as lab:
            lab.start_coturn()
            ha = lab.add_host("port-restricted", impair=(DELAY_MS, JITTER_MS, LOSS))
            hb = lab.add_host("port-restricted")
            busy = ["--open-registration", "--stun", STUN, "--qos-interval", "20", "--qos-probe-interval", "10"]
            a, b = LabWorker(lab, ha, "fz-lab-a", busy), LabWorker(lab, hb, "fz-lab-b", busy)
            try:
                a.start()
                b.start()
                assert a.register_at(b)[0] == 200 and b.register_at(a)[0] == 200
                status, link = a.post("/dial", {"peerTo": b.id})
                assert status == 200, link
                # A full 20 s interval at 100 probes/s (1,500 of the 2,000: a loaded machine
                # delays some ticks); the first report after the link opens is a partial one.
                deadline = time.time() + 120
                q = None
                while time.time() < deadline:
                    q = (a.links().get(b.id) or {}).get("qos")
                    if q and q["probes"] >= 1500:
                        break
                    time.sleep(0.5)
                assert q and q["probes"] >= 1500, f"a full QoS interval at A: {q}"
                time.sleep(1.2)  # the wire writes its record once a second
                with open(ha.impair_stats) as f:
                    wire = json.load(f)
            finally:
                a.stop()
                b.stop()
        inbound, outbound = wire["b_to_a"], wire["a_to_b"]  # A is on the wire's "a" side
        cls.q = q
        cls.loss_truth = 100.0 * inbound["dropped"] / (inbound["dropped"] + inbound["forwarded"])
        cls.rtt_truth = (sum(inbound["delays_us"]) / len(inbound["delays_us"]) +
                         sum(outbound["delays_us"]) / len(outbound["delays_us"])) / 1000
        cls.jitter_truth = rfc3550_mean_jitter_ms(inbound["delays_us"])
        print(json.dumps({"test": "qos_natlab", "rtt_ms": q["rttMs"], "rtt_truth_ms": round(cls.rtt_truth, 2),
                          "sctp_rtt_ms": q["sctpRttMs"], "jitter_ms": q["jitterMs"],
                          "jitter_truth_ms": round(cls.jitter_truth, 3), "loss_pct": q["lossPct"],
                          "loss_truth_pct": round(cls.loss_truth, 2), "probes": q["probes"]}))

    def test_sctp_rtt_agrees_with_the_wire(self):
        self.assertGreaterEqual(self.q["sctpRttMs"], 2 * DELAY_MS, "never less than the wire's floor")
        self.assertAlmostEqual(self.q["sctpRttMs"], self.rtt_truth, delta=0.1 * self.rtt_truth)

    # FOUND, NOT FIXED: inbound loss reads 0.6 to 1.7 points above what the wire dropped on this
    # reordering path (the JSON line prints both; not asserted until understood: the netns test
    # without reordering agrees within 0.3 points).
    # FOUND, NOT FIXED: on a path that loses packets, the probes' RTT and jitter come out high
    # while SCTP's own RTT is right (e.g. probe RTT 158 ms, SCTP 100 ms, wire 100.8 ms with 5 %
    # loss and no jitter; +19 ms even at the default 5 probes/s; 119 ms with 20 ms of reordering
    # jitter and no loss). Cause, shown on the virtual link (5 % loss, 50 ms each way, 100
    # probes/s): probes alone measure 101.5 ms; with a reliable channel sending 200 B 100 times a
    # second beside them, 1.6 s. Every DATA chunk shares the association's congestion window,
    # and once losses shrink it the probes queue behind everything else before they leave: the
    # figure is the path plus our own send queue. When fixed, this passes and expectedFailure
    # must go.
    @unittest.expectedFailure
    def test_probe_rtt_and_jitter_agree_with_the_wire(self):
        self.assertGreaterEqual(self.q["rttMs"], 2 * DELAY_MS, "never less than the wire's floor")
        self.assertAlmostEqual(self.q["rttMs"], self.rtt_truth, delta=0.05 * self.rtt_truth)
        self.assertAlmostEqual(self.q["jitterMs"], self.jitter_truth, delta=0.25 * self.jitter_truth)


if __name__ == "__main__":
    unittest.main(verbosity=2)
