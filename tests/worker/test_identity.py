"""Identity integrity (issue 13), against real worker processes:
  - signed envelopes are rate-limited by peer id (after the signature check), whatever address
    they come from; topics under crdt/ cannot be published through the API;
  - replay protection that fails closed: after a flood of correctly signed envelopes from one
    registered peer, a captured envelope of another peer is still refused as a replay.
Scale: F0_ATTACK_SCALE=full floods 1,000,000 envelopes at the default bounds (make
test-abuse-long); the default floods 20,000 against a cache of 10,000, which the old rule (drop the
earliest-expiring nonce when full) lost the captured nonce to.
Run: F0MESH=build/src/cli/f0mesh python3 -m unittest -v tests/worker/test_identity.py"""
import http.client, json, os, sys, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Key, Worker  # noqa: E402

FULL = os.environ.get("F0_ATTACK_SCALE") == "full"
N_FLOOD = 1_000_000 if FULL else 20_000


class ReplayFailsClosed(unittest.TestCase):
    def test_a_captured_envelope_stays_refused_after_a_flood_of_signed_envelopes(self):
        extra = ["--open-registration", "--signaling-rate", "1000000", "--signaling-burst", "1000000",
                 "--peer-signaling-rate-min", "1000000", "--peer-signaling-rate-max", "1000000"]
        if not FULL:
            extra += ["--replay-max-nonces", "10000"]
        w = Worker("fz-replay", extra=extra).start()
        try:
            victim, flooder = Key(), Key()
            for pid, key in (("victim", victim), ("flooder", flooder)):
                status, body = w.post("/beacon", {"id": pid, "pubKey": key.pub, "region": "EU",
                                                  "endpoints": {"webrtc": "http://127.0.0.1:9"}})
                self.assertEqual(status, 200, body)
            # The victim's envelope, seen once (an answer to no offer: refused after the nonce
            # is recorded, so nothing else happens), then captured by the attacker.
            captured = victim.envelope("victim", w.id, "v=0\r\n", type_="answer")
            status, body = w.post("/answer", captured)
            self.assertEqual((status, body["error"]), (409, "no_pending_offer"), body)
            # The flood, on one keep-alive connection; each envelope signed, with a fresh nonce.
            conn = http.client.HTTPConnection(w.host, w.port, timeout=30)
            statuses, t0 = {}, time.monotonic()
            for i in range(N_FLOOD):
                env = flooder.envelope("flooder", w.id, "v=0\r\n", type_="answer")
                conn.request("POST", "/answer", json.dumps(env), {"Content-Type": "application/json"})
                r = conn.getresponse()
                code = json.loads(r.read()).get("error")
                statuses[code] = statuses.get(code, 0) + 1
            conn.close()
            print(json.dumps({"test": "replay_after_flood", "flood": N_FLOOD, "statuses": statuses,
                              "secs": round(time.monotonic() - t0, 1)}), flush=True)
            self.assertGreater(statuses.get("replay_window_full", 0), 0, statuses)
            status, body = w.post("/answer", captured)
            self.assertEqual((status, body["error"]), (409, "replayed_nonce"), body)
            _, text = w.get("/metrics")
            self.assertIn('f0_signaling_rejected_total{reason="replay_window_full"}', text)
        finally:
            w.stop()


class PeerRateLimit(unittest.TestCase):
    def test_one_peer_id_is_limited_whatever_address_it_comes_from(self):
        # The per-address limit is out of the way; 10 addresses, one peer id.
        w = Worker("fz-peer-rate", extra=["--open-registration", "--signaling-rate", "1000000",
                                          "--signaling-burst", "1000000"]).start()
        try:
            keys = {pid: Key() for pid in ("busy", "quiet")}
            for pid, key in keys.items():
                status, body = w.post("/beacon", {"id": pid, "pubKey": key.pub, "region": "EU",
                                                  "endpoints": {"webrtc": "http://127.0.0.1:9"}})
                self.assertEqual(status, 200, body)
            codes = {}
            for i in range(200):
                conn = http.client.HTTPConnection(w.host, w.port, timeout=10,
                                                  source_address=(f"127.0.0.{10 + i % 10}", 0))
                env = keys["busy"].envelope("busy", w.id, "v=0\r\n", type_="answer")
                conn.request("POST", "/answer", json.dumps(env), {"Content-Type": "application/json"})
                r = conn.getresponse()
                code = json.loads(r.read()).get("error")
                codes[code] = codes.get(code, 0) + 1
                conn.close()
            # 5 a second at trust 0 with a burst of 4 s, 50 at trust 1: never all 200 at once.
            self.assertGreater(codes.get("rate_limited", 0), 0, codes)
            self.assertLess(codes.get("no_pending_offer", 0), 200, codes)
            # Another peer from the same addresses is not affected.
            env = keys["quiet"].envelope("quiet", w.id, "v=0\r\n", type_="answer")
            status, body = w.post("/answer", env)
            self.assertEqual((status, body["error"]), (409, "no_pending_offer"), body)
        finally:
            w.stop()


class ReservedTopics(unittest.TestCase):
    def test_crdt_topics_cannot_be_published_through_the_api(self):
        w = Worker("fz-reserved", extra=["--open-registration"]).start()
        try:
            def published():
                _, text = w.get("/metrics")
                return [l for l in text.splitlines() if l.startswith('f0_gossip_messages_total{event="published"}')]
            before = published()
            for topic in ("crdt/registry", "crdt/lists", "crdt/anything"):
                status, body = w.post("/gossip/publish", {"topic": topic, "payload": {"delta": "AAAA"}})
                self.assertEqual((status, body["error"]), (403, "reserved_topic"), body)
            self.assertEqual(published(), before, "nothing was signed or spread")
            status, body = w.post("/gossip/publish", {"topic": "news", "payload": {"x": 1}})
            self.assertEqual(status, 200, body)
        finally:
            w.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
