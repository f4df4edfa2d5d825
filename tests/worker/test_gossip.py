"""Gossip between real workers: 5 processes in a full mesh on loopback, messages over the gossip
DataChannels, a removed link, a forged message, bad input, the gossipPush log lines, and the mesh
graph every worker builds from link-state gossip (GET /mesh).
Run: F0MESH=build/src/cli/f0mesh python3 -m unittest -v tests/worker/test_gossip.py"""
import base64, hashlib, json, os, re, sys, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Key, Worker, canonical, wait_until  # noqa: E402

IDS = ["fz-kuwait", "fz-cairo", "fz-riyadh", "fz-dubai", "fz-doha"]


def metric(worker, name, labels):
    status, text = worker.get("/metrics", raw=True)
    assert status == 200, text
    m = re.search("^" + re.escape(name + labels) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def gossip_frame(key, origin, topic, payload, seq, hops=1):
    """A gossip "msg" frame as a worker builds it: id = SHA-256 of the signed content, first 16
    bytes in hex; sig = Ed25519 over RFC 8785 of {origin, payload, seq, topic, ts}."""
    body = {"origin": origin, "payload": payload, "seq": seq, "topic": topic, "ts": int(time.time() * 1000)}
    signed = canonical(body)
    return dict(body, t="msg", id=hashlib.sha256(signed).hexdigest()[:32], hops=hops,
                sig=base64.b64encode(key.sk.sign(signed)).decode())


class GossipMesh(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = [Worker(i, extra=["--open-registration", "--gossip-interval", "2", "--qos-interval", "2"]).start()
                 for i in IDS]
        try:
            for a in cls.w:
                for b in cls.w:
                    if a is not b:
                        status, body = a.register_at(b)
                        assert status == 200, body
            for i, a in enumerate(cls.w):
                for b in cls.w[i + 1:]:
                    status, link = a.post("/dial", {"peerTo": b.id})
                    assert status == 200 and link["state"] == "open", link
            for a in cls.w:
                wait_until(lambda: sum(l["state"] == "open" for l in a.links().values()) == 4, timeout=30,
                           what=f"four open links at {a.id}")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for w in cls.w:
            w.stop()

    def received(self, worker, topic):
        status, msgs = worker.get(f"/gossip/messages?topic={topic}")
        self.assertEqual(status, 200, msgs)
        return msgs

    def assert_reaches_all(self, origin, topic, payload):
        status, pub = origin.post("/gossip/publish", {"topic": topic, "payload": payload})
        self.assertEqual(status, 200, pub)
        for w in self.w:
            if w is origin:
                continue
            msgs = wait_until(lambda: self.received(w, topic), timeout=30, what=f"{topic} at {w.id}")
            self.assertEqual(len(msgs), 1, msgs)
            m = msgs[0]
            self.assertEqual((m["id"], m["origin"], m["payload"]), (pub["id"], origin.id, payload))
            self.assertIn(m["from"], IDS)
            self.assertGreaterEqual(m["hops"], 1)
        return pub

    def https_counts(self):
        return [(metric(w, "f0_gossip_sent_total", '{via="https"}'),
                 metric(w, "f0_gossip_frames_total", '{kind="received_https"}')) for w in self.w]

    def assert_no_https(self, before):
        # Registry updates made while the links were still opening may have used HTTPS; what
        # the test publishes must not.
        self.assertEqual(self.https_counts(), before, "the HTTPS fallback was used")

    def test_1_a_message_reaches_all_four_over_datachannels(self):
        kuwait = self.w[0]
        https = self.https_counts()
        before = sum(metric(w, "f0_gossip_sent_total", '{via="datachannel"}') for w in self.w)
        self.assert_reaches_all(kuwait, "ops.alerts", {"text": "hello mesh", "n": 1})
        after = sum(metric(w, "f0_gossip_sent_total", '{via="datachannel"}') for w in self.w)
        self.assertGreaterEqual(after - before, 4, "every peer got it over a gossip channel")
        self.assert_no_https(https)
        # Workers know each other for f0mesh stacks (a=x-f0-datagram:offer / :answer).
        for w in self.w:
            for peer, link in w.links().items():
                if link["state"] == "open":
                    self.assertIs(link.get("datagrams"), True, (w.id, peer))
        # Published at kuwait, stored there too; trust is visible in /peers.
        self.assertEqual(len(self.received(kuwait, "ops.alerts")), 1)
        status, peers = kuwait.get("/peers")
        self.assertEqual(status, 200)
        for p in peers:
            if not p["self"]:
                self.assertTrue(0 <= p["trust"] <= 1, p)
                self.assertIn("behaviour", p["trustDetail"])

    def test_2_with_one_link_removed_it_still_arrives(self):
        kuwait, cairo = self.w[0], self.w[1]
        self.assertEqual(kuwait.request("DELETE", f"/links/{cairo.id}")[0], 200)
        cairo.request("DELETE", f"/links/{kuwait.id}")  # and no redial from cairo's side
        wait_until(lambda: kuwait.id not in cairo.links(), timeout=30, what="cairo to forget kuwait")
        self.assertNotIn(cairo.id, kuwait.links())
        https = self.https_counts()
        self.assert_reaches_all(kuwait, "ops.after-cut", "still there")
        self.assertNotIn(cairo.id, kuwait.links())
        self.assert_no_https(https)

    def test_3_a_forged_message_is_dropped_and_lowers_the_senders_trust(self):
        riyadh = self.w[2]
        mallory = Key()
        status, body = riyadh.post("/beacon", {"id": "mallory", "pubKey": mallory.pub,
                                               "endpoints": {"webrtc": "http://127.0.0.1:9"}})
        self.assertEqual(status, 200, body)

        def trust():
            return next(p for p in riyadh.get("/peers")[1] if p["id"] == "mallory")["trustDetail"]

        before = trust()
        # Claims to come from fz-kuwait, signed by mallory's key: forged.
        frame = gossip_frame(mallory, "fz-kuwait", "ops.forged", "pay me", seq=1)
        env = mallory.envelope("mallory", riyadh.id, json.dumps(frame), type_="gossip")
        status, body = riyadh.post("/gossip", env)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["verdict"], "forged")
        after = trust()
        self.assertLess(after["trust"], before["trust"])
        self.assertEqual(after["offences"], {"bad_signature": 1})
        self.assertEqual(self.received(riyadh, "ops.forged"), [])
        self.assertEqual(metric(riyadh, "f0_gossip_messages_total", '{event="forged"}'), 1)
        # A frame mallory signs as its own origin is fine: the check is the signature, not the path.
        frame = gossip_frame(mallory, "mallory", "ops.own", "mine", seq=2)
        env = mallory.envelope("mallory", riyadh.id, json.dumps(frame), type_="gossip")
        status, body = riyadh.post("/gossip", env)
        self.assertEqual((status, body.get("verdict")), (200, "delivered"), body)
        # An envelope not signed by mallory's key is refused before the gossip engine sees it.
        env = Key().envelope("mallory", riyadh.id, json.dumps(frame), type_="gossip")
        status, body = riyadh.post("/gossip", env)
        self.assertEqual((status, body["error"]), (401, "bad_signature"))

    def test_4_bad_input_gets_clear_errors(self):
        k = self.w[0]
        cases = [
            ("POST", "/gossip/publish", "not json", 400),
            ("POST", "/gossip/publish", {"payload": 1}, 400),
            ("POST", "/gossip/publish", {"topic": "bad topic!", "payload": 1}, 400),
            ("POST", "/gossip/publish", {"topic": "t", "payload": "x" * 20000}, 400),
            ("GET", "/gossip/messages?since=abc", None, 400),
            ("GET", "/gossip/messages?limit=0", None, 400),
            ("GET", "/gossip/messages?topic=%zz", None, 400),
            ("GET", "/gossip/messages?topic=bad%20topic", None, 400),
            ("POST", "/gossip", {"hello": 1}, 400),
            ("POST", "/gossip", "[]", 400),
        ]
        for method, path, body, want in cases:
            status, resp = k.request(method, path, body)
            self.assertEqual(status, want, f"{method} {path} {body!r}: {resp}")
            self.assertIn("error", resp, resp)
            self.assertIn("detail", resp, resp)
        self.assertEqual(k.get("/healthz", raw=True)[0], 200)

    def test_5_the_periodic_push_logs_the_original_lines(self):
        k = self.w[3]

        def log():
            with open(k.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()

        # A push that ran while the last link was still opening weighs fewer peers; wait for a whole
        # push (weights, selection, completion) made with all four links open.
        weighted = re.compile(r"\[gossipPush\] Weighted peers: (fz-[a-z]+:0\.\d{3}(, )?){4}\n")

        def push_of_four():
            text = log()
            m = weighted.search(text)
            return m and "[gossipPush] Complete" in text[m.end():] and text[m.start():]

        text = wait_until(push_of_four, timeout=30, what="a gossipPush at fz-dubai weighing its four peers")
        self.assertRegex(text, r"\[gossipPush\] Selected 3/4 peers")
        self.assertRegex(text, r"\[gossipPush\] Complete: 3/3 succeeded")

    def test_6_every_worker_sees_the_whole_mesh(self):
        # Links as the workers hold them now (test 2 removed one; it may be back by now).
        def pairs():
            out = set()
            for w in self.w:
                for peer, l in w.links().items():
                    if l["state"] == "open":
                        out.add(tuple(sorted((w.id, peer))))
            return out

        def complete(w):
            status, g = w.get("/mesh")
            self.assertEqual(status, 200, g)
            truth = pairs()
            got = {(l["a"], l["b"]) for l in g["links"]}
            ok = (sorted(n["id"] for n in g["nodes"]) == sorted(IDS) and all(n["reported"] for n in g["nodes"])
                  and got == truth and all(len(l["ends"]) == 2 for l in g["links"])
                  and all(e["rttMs"] is not None for l in g["links"] for e in l["ends"]))
            return ok and g

        for w in self.w:
            g = wait_until(lambda: complete(w), timeout=30, what=f"the whole mesh in {w.id}'s GET /mesh")
            self.assertEqual(g["self"], w.id)
            self.assertEqual(g["intervalMs"], 2000)
            me = next(n for n in g["nodes"] if n["id"] == w.id)
            self.assertTrue(me["self"])
        k = self.w[0]
        self.assertEqual(metric(k, "f0_linkstate_senders", ""), 5)
        self.assertGreater(metric(k, "f0_linkstate_published_total", '{result="ok"}'), 0)
        self.assertEqual(metric(k, "f0_linkstate_total", '{event="invalid"}'), 0)
        # Link state is the workers' own word: the API cannot publish on mesh/ (nor crdt/).
        for topic in ("mesh/links", "crdt/registry"):
            status, body = k.post("/gossip/publish", {"topic": topic, "payload": {"v": 1}})
            self.assertEqual((status, body["error"]), (403, "reserved_topic"), body)
        # Not kept in the gossip history (every worker, every interval).
        self.assertEqual(self.received(k, "mesh/links"), [])

    def test_7_the_grafana_dashboard_reads_metrics_the_worker_serves(self):
        path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "grafana", "f0mesh.json")
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
        names = {n for p in dash["panels"] for t in p["targets"] for n in re.findall(r"\bf0_[a-z0-9_]+", t["expr"])}
        self.assertGreater(len(names), 10)
        text = self.w[0].get("/metrics", raw=True)[1]
        served = set(re.findall(r"^# TYPE (f0_[a-z0-9_]+) ", text, re.M))
        self.assertEqual(names - served, set(), "metrics the dashboard reads that the worker does not serve")
        # Per-link gauges carry the peer as an escaped label value.
        self.assertRegex(text, r'(?m)^f0_link_rtt_ms\{peer="fz-[a-z]+"\} [0-9.]+$')


if __name__ == "__main__":
    unittest.main(verbosity=2)
