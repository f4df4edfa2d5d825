"""Identity integrity (issue 13), against real worker processes:
  - the operator API apart: every operator route (as docs/openapi.yaml lists them) answers 401
    without the operator credential and 403 with a wrong one; the peer routes need none;
  - signed envelopes are rate-limited by peer id (after the signature check), whatever address
    they come from; topics under crdt/ cannot be published through the API;
  - replay protection that fails closed: after a flood of correctly signed envelopes from one
    registered peer, a captured envelope of another peer is still refused as a replay.
Scale: F0_ATTACK_SCALE=full floods 1,000,000 envelopes at the default bounds (make
test-abuse-long); the default floods 20,000 against a cache of 10,000, which the old rule (drop the
earliest-expiring nonce when full) lost the captured nonce to.
Run: F0MESH=build/src/cli/f0mesh python3 -m unittest -v tests/worker/test_identity.py"""
import http.client, json, os, socket, sys, tempfile, time, unittest

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
            statuses, t0, replays = {}, time.monotonic(), []
            for i in range(N_FLOOD):
                env = flooder.envelope("flooder", w.id, "v=0\r\n", type_="answer")
                conn.request("POST", "/answer", json.dumps(env), {"Content-Type": "application/json"})
                r = conn.getresponse()
                code = json.loads(r.read()).get("error")
                statuses[code] = statuses.get(code, 0) + 1
                # The replay, tried all along while the captured envelope's ts is in the window
                # (a million envelopes take longer than the 60 s window here).
                if i % 5000 == 4999 and time.time() * 1000 - captured["ts"] < 50_000:
                    status, body = w.post("/answer", captured)
                    replays.append(body.get("error"))
            conn.close()
            print(json.dumps({"test": "replay_after_flood", "flood": N_FLOOD, "statuses": statuses,
                              "replays_refused": len(replays),
                              "secs": round(time.monotonic() - t0, 1)}), flush=True)
            self.assertGreater(statuses.get("replay_window_full", 0), 0, statuses)
            self.assertTrue(replays, "the replay was tried during the flood")
            self.assertEqual(set(replays), {"replayed_nonce"}, "refused as a replay each time")
            status, body = w.post("/answer", captured)
            if time.time() * 1000 - captured["ts"] < 55_000:
                self.assertEqual((status, body["error"]), (409, "replayed_nonce"), body)
            else:  # the flood outlasted the window: its ts alone refuses it now
                self.assertEqual((status, body["error"]), (401, "stale_timestamp"), body)
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


OPENAPI = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "openapi.yaml")


def operations():
    """(method, path, operator?) for every operation docs/openapi.yaml lists, path parameters
    filled in; an operation is an operator one unless it says `security: []`."""
    import yaml
    with open(OPENAPI) as f:
        doc = yaml.safe_load(f)
    out = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method in ("get", "post", "delete", "put"):
                filled = path.replace("{peer}", "fz-nobody").replace("{name}", "x")
                out.append((method.upper(), filled, op.get("security", doc.get("security")) != []))
    return out


class OperatorApi(unittest.TestCase):
    """Every operator route refuses a client without the operator credential (401) or with a
    wrong one (403); the peer routes answer without one; the credential opens them."""

    def test_every_operator_route_needs_the_credential(self):
        w = Worker("fz-operator", extra=["--open-registration"]).start()
        try:
            ops = operations()
            self.assertGreaterEqual(sum(1 for *_, op in ops if op), 15, "the operator routes are listed")
            for method, path, operator in ops:
                body = "{}" if method == "POST" else None
                for headers, want in (({}, 401), ({"Authorization": "Bearer " + "x" * 43}, 403)):
                    status, reply = w.request(method, path, body, headers=dict(headers), operator=False)
                    if operator:
                        self.assertEqual(status, want, f"{method} {path}: {reply}")
                        self.assertEqual(reply["error"], "operator_credential_required" if want == 401
                                         else "bad_operator_credential", reply)
                    else:
                        self.assertNotIn(status, (401, 403), f"{method} {path} is a peer route: {reply}")
            # The token in a query string (how the dashboard's EventSource sends it) and the
            # event stream itself.
            self.assertEqual(w.request("GET", "/metrics?token=" + "y" * 43, operator=False)[0], 403)
            self.assertEqual(w.request("GET", "/metrics?token=" + w.token(), operator=False)[0], 200)
            self.assertEqual(w.request("GET", "/links", operator=False)[0], 401)
            self.assertEqual(w.get("/links")[0], 200, "with the credential")
            s = socket.create_connection((w.host, w.port), timeout=5)
            s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(s.recv(200).startswith(b"HTTP/1.1 401"), "no event stream without it")
            s.close()
            # The dashboard's files are public (they hold no data); its data is not.
            # (200 when the dashboard is built, 503 saying so when not: never 401.)
            self.assertIn(w.request("GET", "/ops/mesh", operator=False)[0], (200, 503))
            # The token file is the operator's alone.
            mode = os.stat(os.path.join(w.data_dir, "operator.token")).st_mode & 0o777
            self.assertEqual(mode, 0o600)
        finally:
            w.stop()

    def test_a_token_file_others_may_read_is_refused_at_start(self):
        d = tempfile.mkdtemp(prefix="f0-optoken-")
        path = os.path.join(d, "token")
        with open(path, "w") as f:
            f.write("z" * 43 + "\n")
        os.chmod(path, 0o644)
        w = Worker("fz-optoken", extra=["--operator-token-file", path])
        w.start(wait=False)
        self.assertEqual(w.proc.wait(timeout=20), 1)
        self.assertIn("chmod 600", w.tail())
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
