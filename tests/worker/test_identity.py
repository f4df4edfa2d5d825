"""Identity integrity (issue 13), against real worker processes:
  - the self-certifying registry: an attacker with its own registered key cannot make a worker that
    knew the victim, one that was cut off when it registered, or one that joins later take its key
    for the victim's id (by registering it, by gossiping forged, tombstone or future-stamped
    registry records, or by a registrar that did not know the victim); once the cut heals, every
    worker binds every id to the same key, the first registered;
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
import base64, http.client, json, os, socket, sys, tempfile, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Key, Worker, canonical, lww_delta, signed_gossip, trust_each_other, wait_until  # noqa: E402

FULL = os.environ.get("F0_ATTACK_SCALE") == "full"
# A peer's nonces fill its share of the replay window (--replay-per-peer, 1,000) early in the flood;
# the rest of the flood is refused as replay_window_full, and the captured envelope is retried
# every TRY_EVERY envelopes. make test-abuse-long floods with a million.
N_FLOOD = 1_000_000 if FULL else 3_000
TRY_EVERY = 5_000 if FULL else 500
WINDOW_MS = 60_000  # the worker's default --signaling-window


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
                if i % TRY_EVERY == TRY_EVERY - 1 and time.time() * 1000 - captured["ts"] < 50_000:
                    status, body = w.post("/answer", captured)
                    replays.append(body.get("error"))
            conn.close()
            print(json.dumps({"test": "replay_after_flood", "flood": N_FLOOD, "statuses": statuses,
                              "replays_refused": len(replays),
                              "secs": round(time.monotonic() - t0, 1)}), flush=True)
            self.assertGreater(statuses.get("replay_window_full", 0), 0, statuses)
            self.assertTrue(replays, "the replay was tried during the flood")
            self.assertEqual(set(replays), {"replayed_nonce"}, "refused as a replay each time")
            # The worker's window (--signaling-window, 60 s by default) decides which refusal:
            # inside it the nonce cache, past it the ts alone. The age is read on both sides of the
            # request (same clock as the worker's), so a slow machine cannot make the test guess
            # wrong: only when the window closes during the request are both answers right.
            age_before = time.time() * 1000 - captured["ts"]
            status, body = w.post("/answer", captured)
            age_after = time.time() * 1000 - captured["ts"]
            got = (status, body["error"])
            if age_after < WINDOW_MS:
                self.assertEqual(got, (409, "replayed_nonce"), body)
            elif age_before > WINDOW_MS:  # the flood outlasted the window
                self.assertEqual(got, (401, "stale_timestamp"), body)
            else:
                self.assertIn(got, {(409, "replayed_nonce"), (401, "stale_timestamp")}, body)
            _, text = w.get("/metrics")
            self.assertIn('f0_signaling_rejected_total{reason="replay_window_full"}', text)
        finally:
            w.stop()


class PeerRateLimit(unittest.TestCase):
    def test_one_peer_id_is_limited_whatever_address_it_comes_from(self):
        # The per-address limit is out of the way; 10 addresses, one peer id.
        # One envelope a second whatever the trust (a burst of 4): the 200 below would need over
        # three minutes to pass unlimited, so a loaded machine does not make this pass by accident.
        w = Worker("fz-peer-rate", extra=["--open-registration", "--signaling-rate", "1000000",
                                          "--signaling-burst", "1000000",
                                          "--peer-signaling-rate-min", "1",
                                          "--peer-signaling-rate-max", "1"]).start()
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
            # (The defaults: 5 a second at trust 0 with a burst of 4 s, 50 at trust 1.)
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


def keys_of(w, ids):
    status, peers = w.get("/peers")
    assert status == 200, peers
    return {p["id"]: p["pubKey"] for p in peers if p["id"] in ids}


def metric(w, name):
    status, text = w.get("/metrics", raw=True)
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def gossip_over_https(key, to, delta, seq):
    """A crdt/registry gossip message from the attacker ('mallory'), in the signed envelope of the
    HTTPS gossip route (what a peer without a link sends)."""
    frame = json.dumps(signed_gossip(key, "mallory", "crdt/registry", {"delta": delta}, seq))
    return key.envelope("mallory", to.id, frame, type_="gossip")


class RegistryTakeover(unittest.TestCase):
    """A beacon and two workers, all registrars of each other (the strongest case: a registrar
    that did not know the victim countersigns the attacker); a victim and an attacker, each with
    its own key, registered at the beacon; then a joiner that knows only its beacon."""

    EXTRA = ["--open-registration", "--gossip-https-fallback", "false", "--crdt-sync-interval-ms", "500",
             "--beacon-refresh-s", "3600"]

    def setUp(self):
        self.b = Worker("fz-beacon", extra=self.EXTRA)
        self.w1 = Worker("fz-one", extra=self.EXTRA)
        self.w2 = Worker("fz-two", extra=self.EXTRA)
        self.all = [self.b, self.w1, self.w2]
        self.extra_workers = []
        trust_each_other(self.all)
        self.b.start()
        for w in (self.w1, self.w2):
            w.extra += ["--beacon", self.b.url]
            w.start()
        for a, b in ((self.w1, self.b), (self.w2, self.b), (self.w1, self.w2)):
            wait_until(lambda: b.id in keys_of(a, {b.id}), what=f"{a.id} to learn {b.id}")
            status, link = a.post("/dial", {"peerTo": b.id})
            self.assertEqual((status, link.get("state")), (200, "open"), link)

    def tearDown(self):
        for w in self.all + self.extra_workers:
            w.stop()

    def register(self, w, record):
        return w.post("/beacon", record)

    def test_an_attacker_cannot_take_over_a_victims_id(self):
        b, w1, w2 = self.b, self.w1, self.w2
        victim, victim2, attacker = Key(), Key(), Key()
        self.assertEqual(self.register(b, victim.record("victim"))[0], 200)
        self.assertEqual(self.register(b, attacker.record("mallory"))[0], 200)
        for w in (w1, w2):
            wait_until(lambda: keys_of(w, {"victim", "mallory"}) == {"victim": victim.pub, "mallory": attacker.pub},
                       what=f"{w.id} to learn the victim and the attacker from the registry")

        # 1. A worker that knows the victim: registering the id with another key is refused, and so
        #    is a record of the victim's that someone else signed (or changed).
        status, body = self.register(w1, attacker.record("victim"))
        self.assertEqual((status, body["error"]), (409, "key_mismatch"), body)
        forged = attacker.record("victim")
        forged["pubKey"] = victim.pub  # the victim's key, the attacker's signature
        status, body = self.register(w1, forged)
        self.assertEqual((status, body["error"]), (401, "bad_signature"), body)

        # 2. Forged registry records gossiped by the attacker (a registered peer, so its gossip is
        #    taken): its key for the victim's id countersigned by itself (not a registrar anyone
        #    trusts), the same claiming the beacon's countersignature, a tombstone of the victim's
        #    record, and a record stamped far in the future. None moves the victim's key.
        genuine = w1.get("/registry/victim")[1]
        self.assertEqual(genuine["pubKey"], victim.pub, genuine)
        current = canonical(genuine["current"]).decode()
        now = int(time.time() * 1000)

        def countersigned(record, by, key_b64, signer):
            reg = {"at": now - 3_600_000, "by": by, "key": key_b64}  # an hour before the victim
            reg["sig"] = base64.b64encode(signer.sk.sign(canonical({**reg, "record": record}))).decode()
            return canonical({**record, "reg": reg}).decode()

        early = attacker.record("victim", ts=now - 3_600_000)
        self_countersigned = countersigned(early, "mallory", attacker.pub, attacker)
        beacon_claimed = countersigned(early, b.id, b.pub_key(), attacker)
        refused = metric(w1, "f0_registry_refused_total")
        tombstones = metric(w1, "f0_registry_tombstones_refused_total")
        rejected = metric(w1, "f0_crdt_rejected_total")
        for seq, entries in enumerate(([(self_countersigned, now, None), (beacon_claimed, now, None)],
                                       [(current, None, now + 1000)],
                                       [(self_countersigned, now + 3_600_000, None)]), start=1):
            status, body = w1.post("/gossip", gossip_over_https(attacker, w1, lww_delta(entries), seq))
            self.assertEqual(status, 200, body)
        wait_until(lambda: metric(w1, "f0_registry_refused_total") >= refused + 2
                   and metric(w1, "f0_registry_tombstones_refused_total") >= tombstones + 1
                   and metric(w1, "f0_crdt_rejected_total") >= rejected + 4,
                   what="the forged records, the tombstone and the future stamp refused")
        for w in self.all:
            self.assertEqual(keys_of(w, {"victim"}), {"victim": victim.pub}, w.id)
            self.assertEqual(w.get("/registry/victim")[1]["current"], genuine["current"], w.id)
        # And an offer signed by the attacker as the victim is refused.
        status, body = w1.post("/offer", attacker.envelope("victim", w1.id, "v=0\r\n"))
        self.assertEqual((status, body["error"]), (401, "bad_signature"), body)

        # 3. A worker cut off while the attacker registers: fz-two loses its links (no HTTPS
        #    gossip, no beacon pull), victim2 registers at the beacon, and the attacker registers
        #    victim2 at fz-two, which does not know it yet and countersigns the attacker's key.
        for x, y in ((w2, b), (w2, w1), (b, w2), (w1, w2)):
            x.request("DELETE", f"/links/{y.id}")
        wait_until(lambda: not w2.links() and w2.id not in b.links() and w2.id not in w1.links(),
                   what="fz-two cut off")
        self.assertEqual(self.register(b, victim2.record("victim2"))[0], 200)
        wait_until(lambda: keys_of(w1, {"victim2"}) == {"victim2": victim2.pub}, what="fz-one to learn victim2")
        status, body = self.register(w1, attacker.record("victim2"))
        self.assertEqual((status, body["error"]), (409, "key_mismatch"), body)
        status, body = self.register(w2, attacker.record("victim2"))
        self.assertEqual(status, 200, body)  # fz-two cannot know better yet
        self.assertEqual(keys_of(w2, {"victim2"}), {"victim2": attacker.pub})

        # The cut heals: the earlier registration (the beacon's) wins on every worker, fz-two
        # rebinds, and the others refused fz-two's countersigned record as a conflict.
        for y in (b, w1):
            status, link = w2.post("/dial", {"peerTo": y.id})
            self.assertEqual((status, link.get("state")), (200, "open"), link)
        wait_until(lambda: keys_of(w2, {"victim2"}) == {"victim2": victim2.pub},
                   what="fz-two to bind victim2 to the first key registered")
        self.assertGreaterEqual(metric(w2, "f0_registry_rebinds_total"), 1)
        wait_until(lambda: metric(b, "f0_registry_conflicts_total") + metric(w1, "f0_registry_conflicts_total") >= 1,
                   what="the attacker's countersigned record refused as a conflict")
        ids = {"victim", "victim2", "mallory", b.id, w1.id, w2.id}
        want = {"victim": victim.pub, "victim2": victim2.pub, "mallory": attacker.pub,
                b.id: b.pub_key(), w1.id: w1.pub_key(), w2.id: w2.pub_key()}
        for w in self.all:
            wait_until(lambda: keys_of(w, ids) == want, what=f"{w.id} to agree on every key")
            for pid in ("victim", "victim2"):
                reg = w.get(f"/registry/{pid}")[1]
                self.assertEqual(reg["pubKey"], want[pid], (w.id, reg))
                self.assertTrue(all(r["pubKey"] == want[pid] for r in reg["records"]), (w.id, reg))
        status, body = w2.post("/offer", attacker.envelope("victim2", w2.id, "v=0\r\n"))
        self.assertEqual((status, body["error"]), (401, "bad_signature"), body)

        # 4. A worker that joins later, trusting only its beacon (pinned when first seen), linked to
        #    fz-two: it learns the first keys, and the attacker's gossip does not move them.
        j = Worker("fz-joiner", extra=self.EXTRA + ["--beacon", b.url])
        self.extra_workers.append(j)
        j.start()
        wait_until(lambda: w2.id in keys_of(j, {w2.id}), what="the joiner to learn fz-two")
        self.assertEqual(self.register(w2, j.get("/self")[1])[0], 200)
        status, link = j.post("/dial", {"peerTo": w2.id})
        self.assertEqual((status, link.get("state")), (200, "open"), link)
        wait_until(lambda: keys_of(j, {"victim", "victim2", "mallory"}) ==
                   {"victim": victim.pub, "victim2": victim2.pub, "mallory": attacker.pub},
                   what="the joiner to learn the registry")
        refused = metric(j, "f0_registry_refused_total")
        status, body = j.post("/gossip", gossip_over_https(attacker, j, lww_delta([(self_countersigned, now, None)]), 10))
        self.assertEqual(status, 200, body)
        wait_until(lambda: metric(j, "f0_registry_refused_total") >= refused + 1, what="the joiner to refuse it")
        self.assertEqual(keys_of(j, {"victim", "victim2"}), {"victim": victim.pub, "victim2": victim2.pub})
        status, body = j.post("/offer", attacker.envelope("victim", j.id, "v=0\r\n"))
        self.assertEqual((status, body["error"]), (401, "bad_signature"), body)


class FakeBeacon:
    """A beacon on loopback that answers whatever list of peers the test sets (a beacon that lies,
    or one that was fed a forgery): GET /peers serves `entries`, POST /beacon answers 200."""

    def __init__(self):
        import http.server, threading
        beacon = self
        self.entries = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, body):
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.answer(beacon.entries if self.path.split("?")[0] == "/peers" else {})

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.answer({"registered": "x"})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def endpoint_of(w, pid):
    status, peers = w.get("/peers")
    assert status == 200, peers
    return next((p["endpoints"]["webrtc"] for p in peers if p["id"] == pid), None)


def unsigned(record):
    return {k: v for k, v in record.items() if k not in ("ts", "sig")}


class EndpointHijack(unittest.TestCase):
    """A peer's id and key are public: an unsigned record naming them may add the id where it is
    unknown, never move a known peer's endpoint (dials to it would go to the attacker's); a signed
    record older than the one held (one captured earlier) may not move it back either. At POST
    /beacon and through a beacon's peer list."""

    def test_an_unsigned_or_older_record_cannot_move_a_known_peer(self):
        victim = Key()
        w = Worker("fz-hijack", extra=["--open-registration"]).start()
        try:
            now = int(time.time() * 1000)
            first = victim.record("victim", endpoint="http://127.0.0.1:1111", ts=now - 2000)
            self.assertEqual(w.post("/beacon", first)[0], 200)
            status, body = w.post("/beacon", unsigned(victim.record("victim", endpoint="http://127.0.0.1:6666")))
            self.assertEqual((status, body.get("error")), (401, "signature_required"), body)
            self.assertEqual(endpoint_of(w, "victim"), "http://127.0.0.1:1111")
            # The unchanged record unsigned is no change: accepted, as before.
            self.assertEqual(w.post("/beacon", unsigned(first))[0], 200)
            # The peer moves (signed, newer): taken; its first record replayed: refused.
            moved = victim.record("victim", endpoint="http://127.0.0.1:2222", ts=now - 1000)
            self.assertEqual(w.post("/beacon", moved)[0], 200)
            self.assertEqual(endpoint_of(w, "victim"), "http://127.0.0.1:2222")
            status, body = w.post("/beacon", first)
            self.assertEqual((status, body.get("error")), (401, "stale_timestamp"), body)
            self.assertEqual(endpoint_of(w, "victim"), "http://127.0.0.1:2222")
            # A new id unsigned is still welcome (interop peers that only dial).
            self.assertEqual(w.post("/beacon", unsigned(Key().record("dial-only")))[0], 200)
            # Its list carries each peer's signed record, for the workers that learn from it.
            listed = next(p for p in w.get("/peers")[1] if p["id"] == "victim")
            self.assertEqual(listed["record"]["sig"], moved["sig"], listed)
            self.assertIn("reg", listed["record"])  # countersigned by this worker
        finally:
            w.stop()

    def test_a_beacons_list_moves_a_known_peer_only_with_its_newer_signed_record(self):
        victim = Key()
        fake = FakeBeacon()
        w = Worker("fz-learner", extra=["--open-registration", "--beacon", fake.url, "--beacon-refresh-s", "1"])
        try:
            now = int(time.time() * 1000)
            at = {p: victim.record("victim", endpoint=f"http://127.0.0.1:{p}", ts=now + i)
                  for i, p in enumerate((1111, 6666, 2222))}
            entry = lambda port, record=None: {**unsigned(at[port]), **({"record": record} if record else {})}  # noqa: E731
            fake.entries = [entry(1111)]  # unsigned: a new id, learned
            w.start()
            wait_until(lambda: endpoint_of(w, "victim") == "http://127.0.0.1:1111", what="the victim learned")

            def refused():
                return metric(w, 'f0_signaling_rejected_total{reason="signature_required"}')
            fake.entries = [entry(6666)]  # the list moves it, unsigned: refused at every refresh
            wait_until(lambda: refused() >= 2, what="two refreshes refused")
            self.assertEqual(endpoint_of(w, "victim"), "http://127.0.0.1:1111")
            # A record in the entry that does not verify (another's signature): the entry counts
            # as unsigned.
            fake.entries = [entry(6666, dict(at[6666], sig=at[2222]["sig"]))]
            before = refused()
            wait_until(lambda: refused() >= before + 2, what="the forged record refused")
            self.assertEqual(endpoint_of(w, "victim"), "http://127.0.0.1:1111")
            # The victim's own newer record: the move is taken.
            fake.entries = [entry(2222, at[2222])]
            wait_until(lambda: endpoint_of(w, "victim") == "http://127.0.0.1:2222", what="the signed move")
            # One of its records older than that (captured before the move): refused.
            stale = lambda: metric(w, 'f0_signaling_rejected_total{reason="stale_timestamp"}')  # noqa: E731
            before = stale()
            fake.entries = [entry(6666, at[6666])]
            wait_until(lambda: stale() >= before + 2, what="the older signed record refused")
            self.assertEqual(endpoint_of(w, "victim"), "http://127.0.0.1:2222")
        finally:
            w.stop()
            fake.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
