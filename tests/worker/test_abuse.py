"""A worker under abuse from HTTP clients: event streams that come and go or never read,
connections over the caps, running out of file descriptors, smuggled request framing. Each time
the worker keeps answering, holds no more fds than before, and counts what it refused.
Run: F0MESH=build/src/cli/f0mesh python3 -m unittest -v tests/worker/test_abuse.py"""
import json, os, re, socket, sys, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Key, Worker, wait_until  # noqa: E402


def fds(w):
    return len(os.listdir(f"/proc/{w.proc.pid}/fd"))


def cpu_seconds(w):
    with open(f"/proc/{w.proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(w, name, labels=""):
    text = w.get("/metrics", raw=True)[1]
    m = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def raw(w, data, rcvbuf=None, timeout=10, source=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source:
        s.bind((source, 0))
    s.settimeout(timeout)
    s.connect((w.host, w.port))
    if data:
        s.sendall(data)
    return s


def read_all(s):
    """Everything until the worker closes the connection (then closes ours)."""
    out = b""
    try:
        while chunk := s.recv(65536):
            out += chunk
    except OSError:
        pass
    s.close()
    return out




class Abuse(unittest.TestCase):
    def test_event_streams_that_come_and_go_hold_no_fds(self):
        w = Worker("fz-sse", extra=["--open-registration"]).start()
        try:
            before = fds(w)
            for _ in range(300):
                s = raw(w, w.events_request())
                s.recv(100)  # the stream started
                s.close()
            # The worker notices each reader going away and closes its socket: no event needed.
            wait_until(lambda: fds(w) <= before + 3, what="the closed streams' fds to be released")
            self.assertEqual(w.get("/healthz", raw=True), (200, "ok"))
        finally:
            w.stop()

    def test_a_reader_that_reads_gets_every_event(self):
        w = Worker("fz-reader", extra=["--open-registration", "--events-queue-bytes", "65536"]).start()
        try:
            s = raw(w, w.events_request())
            for i in range(20):
                self.assertEqual(w.post("/gossip/publish", {"topic": "t", "payload": {"n": i}})[0], 200)
            got = b""
            end = time.time() + 30
            while got.count(b"event: gossip") < 20 and time.time() < end:
                got += s.recv(65536)
            s.close()
            self.assertEqual(got.count(b"event: gossip"), 20, got[-300:])
            self.assertEqual(metric(w, "f0_http_refused_total", '{reason="slow_events_reader"}'), 0)
        finally:
            w.stop()

    def test_event_streams_over_the_cap_are_told_and_closed(self):
        w = Worker("fz-cap", extra=["--open-registration", "--events-max-streams", "3"]).start()
        try:
            held = [raw(w, w.events_request()) for _ in range(3)]
            for s in held:
                s.recv(100)
            extra = raw(w, w.events_request())
            body = read_all(extra)  # closed by the worker after it says why
            self.assertIn(b"too_many_streams", body)
            self.assertEqual(metric(w, "f0_event_streams_refused_total"), 1)
            for s in held:
                s.close()
        finally:
            w.stop()

    def test_readers_that_never_read_are_dropped_not_buffered(self):
        w = Worker("fz-slow", extra=["--open-registration", "--events-queue-bytes", "65536"]).start()
        try:
            readers = [raw(w, w.events_request(), rcvbuf=4096) for _ in range(20)]
            payload = {"topic": "load", "payload": {"x": "y" * 15000}}
            for _ in range(600):  # ~9 MB of events per reader, far past socket buffers
                self.assertEqual(w.post("/gossip/publish", payload)[0], 200)
                if (metric(w, "f0_http_refused_total", '{reason="slow_events_reader"}') or 0) >= 20:
                    break
            # Each reader was dropped at its 64 KiB backlog instead of buffering ~9 MB. (RSS is not
            # asserted: under ASan its quarantine alone holds hundreds of MB.)
            self.assertEqual(metric(w, "f0_http_refused_total", '{reason="slow_events_reader"}'), 20)
            self.assertEqual(w.get("/healthz", raw=True), (200, "ok"))
            for s in readers:
                s.close()
        finally:
            w.stop()

    def test_connections_over_the_per_source_cap_are_closed_on_accept(self):
        # From an address of its own: the worker may not yet have seen the harness's own
        # connections (127.0.0.1) close when these arrive.
        w = Worker("fz-conns", extra=["--open-registration", "--http-max-per-source", "10"]).start()
        src = "127.0.0.6"
        try:
            held = [raw(w, None, source=src) for _ in range(10)]
            over = [raw(w, None, source=src) for _ in range(5)]
            for s in over:
                self.assertEqual(read_all(s), b"", "closed without a word")
            for s in held + over:
                s.close()
            # Until the worker has seen our closes, a new connection may still be over the cap
            # (and is refused and counted too).
            probes_refused = [0]

            def healthy():
                try:
                    s = raw(w, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", source=src)
                    ok = read_all(s).startswith(b"HTTP/1.1 200")
                except OSError:
                    ok = False
                probes_refused[0] += 0 if ok else 1
                return ok

            wait_until(healthy, what="the worker to serve that address again")
            self.assertEqual(metric(w, "f0_http_refused_total", '{reason="max_per_source"}'),
                             5 + probes_refused[0])
        finally:
            w.stop()

    def test_out_of_fds_it_backs_off_and_recovers(self):
        w = Worker("fz-fds", extra=["--open-registration"], max_fds=64).start()
        try:
            held = []
            for _ in range(80):  # past the limit: accept() fails with EMFILE
                try:
                    held.append(raw(w, None, timeout=2))
                except OSError:
                    break
            time.sleep(0.5)  # noqa: let the worker hit EMFILE
            t0 = cpu_seconds(w)
            time.sleep(2.0)  # noqa: a span of time to measure spinning in
            spent = cpu_seconds(w) - t0
            self.assertLess(spent, 0.5, f"the worker spun at {spent / 2:.0%} CPU while out of fds")
            for s in held:
                s.close()
            wait_until(lambda: self._healthy(w), what="the worker to answer again")
            self.assertGreater(metric(w, "f0_http_refused_total", '{reason="accept_error"}'), 0)
        finally:
            w.stop()

    def test_smuggled_framing_is_refused_and_the_connection_closed(self):
        w = Worker("fz-frame", extra=["--open-registration"]).start()
        try:
            body = b"hello"
            hidden = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            req = (b"POST /gossip/publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(body)) + body + hidden
            out = read_all(raw(w, req))
            self.assertTrue(out.startswith(b"HTTP/1.1 400"), out[:100])
            self.assertIn(b"bad_framing", out)
            self.assertEqual(out.count(b"HTTP/1.1 "), 1, "the hidden request is not answered")
            chunked_and_length = (b"POST /gossip/publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                  b"Content-Length: 3\r\n\r\n0\r\n\r\n")
            self.assertTrue(read_all(raw(w, chunked_and_length)).startswith(b"HTTP/1.1 400"))
            self.assertEqual(metric(w, "f0_http_refused_total", '{reason="bad_framing"}'), 2)
        finally:
            w.stop()

    def test_large_gossip_pages_are_cut_at_the_byte_cap_and_continue(self):
        w = Worker("fz-pages", extra=["--open-registration"]).start()
        try:
            # 400 messages of ~15 KB: 6 MB, over the 4 MiB page cap.
            for i in range(400):
                status, body = w.post("/gossip/publish", {"topic": "bulk", "payload": {"i": i, "pad": "x" * 15000}})
                self.assertEqual(status, 200, body)
            import http.client
            seen, since, pages = set(), 0, 0
            while pages < 10:
                conn = http.client.HTTPConnection(w.host, w.port, timeout=20)
                conn.request("GET", f"/gossip/messages?topic=bulk&limit=10000&since={since}", headers=w.auth())
                res = conn.getresponse()
                body = res.read()
                conn.close()
                self.assertEqual(res.status, 200)
                self.assertLess(len(body), (4 << 20) + 65536, "a page stays near the cap")
                items = json.loads(body)
                seen.update(m["payload"]["i"] for m in items)
                pages += 1
                if res.getheader("X-F0-Truncated") != "true":
                    break
                since = int(res.getheader("X-F0-Next-Since"))
            self.assertGreaterEqual(pages, 2, "6 MB does not fit one page")
            self.assertEqual(seen, set(range(400)), "following nextSince misses nothing")
        finally:
            w.stop()

    def test_sigkill_under_attack_keeps_the_store_whole_and_every_acknowledged_write(self):
        import base64, http.client, sqlite3, threading
        w = Worker("fz-kill", extra=["--open-registration", "--signaling-rate", "100000",
                                     "--signaling-burst", "100000"]).start()
        acked_ids, acked_items, stop = [], [], threading.Event()

        def writer(path, body_of, acked):
            """POSTs body_of(i) for i = 0, 1, ... until stopped or the worker is gone; what it
            acknowledged (200) goes to acked, as the value body_of names."""
            def run():
                conn = http.client.HTTPConnection(w.host, w.port, timeout=10)
                i = 0
                while not stop.is_set():
                    value, body = body_of(i)
                    try:
                        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **w.auth()})
                        r = conn.getresponse()
                        r.read()
                    except OSError:
                        return
                    if r.status == 200:
                        acked.append(value)
                    i += 1
            return run

        key = Key()  # signed registrations: replicated, so in the registry too
        register = writer("/beacon", lambda i: (f"kill-{i}", key.record(f"kill-{i}", region="EU")), acked_ids)
        edit = writer("/crdt/lists/ledger",
                      lambda i: (f"item-{i}", {"op": "insert", "index": 0, "values": [f"item-{i}"]}), acked_items)

        def churn_events():  # the attack beside the writes: streams that come and go
            while not stop.is_set():
                try:
                    raw(w, w.events_request(), timeout=2).close()
                except OSError:
                    return

        threads = [threading.Thread(target=f) for f in (register, edit, churn_events)]
        try:
            for t in threads:
                t.start()
            wait_until(lambda: len(acked_ids) > 300 and len(acked_items) > 50, timeout=60, what="writes")
            w.proc.kill()  # SIGKILL, mid-write
            w.proc.wait(timeout=10)
            stop.set()
            for t in threads:
                t.join(timeout=20)
            db = sqlite3.connect(os.path.join(w.data_dir, "f0.db"))
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            stored = {r[0] for r in db.execute("SELECT id FROM peers")}
            db.close()
            self.assertFalse(set(acked_ids) - stored, "every acknowledged registration is stored")
            w.start()
            ids = {p["id"] for p in w.get("/peers")[1]}
            self.assertFalse(set(acked_ids) - ids)
            # The registry holds every one of them again (put back from the peer rows if its own
            # rows had not been written yet), and every acknowledged list item is there.
            self.assertGreaterEqual(metric(w, "f0_registry_elements"), len(acked_ids) + 1)
            status, ledger = w.get("/crdt/lists/ledger")
            self.assertEqual(status, 200, ledger)
            self.assertFalse(set(acked_items) - set(ledger["items"]), "every acknowledged list edit")
        finally:
            stop.set()
            w.stop()

    def test_peers_come_in_pages_when_asked(self):
        import base64, http.client
        w = Worker("fz-peerpages", extra=["--open-registration", "--signaling-rate", "100000",
                                          "--signaling-burst", "100000"]).start()
        try:
            for i in range(250):
                status, body = w.post("/beacon", {"id": f"pg-{i:03d}", "pubKey": base64.b64encode(os.urandom(32)).decode(),
                                                  "region": "EU", "endpoints": {"webrtc": "http://127.0.0.1:9/"}})
                self.assertEqual(status, 200, body)
            whole = {p["id"] for p in w.get("/peers")[1]}
            seen, after, pages = [], None, 0
            while pages < 10:
                conn = http.client.HTTPConnection(w.host, w.port, timeout=10)
                conn.request("GET", "/peers?limit=100" + (f"&after={after}" if after else ""))
                res = conn.getresponse()
                page = json.loads(res.read())
                conn.close()
                self.assertEqual(res.status, 200)
                self.assertLessEqual(len(page), 100)
                seen += [p["id"] for p in page]
                pages += 1
                after = res.getheader("X-F0-Next-After")
                if not after:
                    break
            self.assertEqual(pages, 3)
            self.assertEqual(seen, sorted(whole), "every peer once, in id order")
            self.assertEqual(w.get("/peers?limit=0")[0], 400)
        finally:
            w.stop()

    def test_peer_lists_asked_in_a_loop_cost_at_most_the_build_budget(self):
        """GET /peers is open to anyone and costs the control thread ~17 us a peer: a client asking
        in a loop gets, once the budget (here 1 ms a second, 4 ms at once) is spent, the last first
        page built (X-F0-Age-Ms) or 503 busy, never a fresh build each time."""
        import base64, http.client
        w = Worker("fz-peerloop", extra=["--open-registration", "--signaling-rate", "100000",
                                         "--signaling-burst", "100000", "--peers-list-budget-ms", "1"]).start()
        try:
            for i in range(500):
                status, body = w.post("/beacon", {"id": f"lp-{i:03d}", "pubKey": base64.b64encode(os.urandom(32)).decode(),
                                                  "region": "EU", "endpoints": {"webrtc": "http://127.0.0.1:9/"}})
                self.assertEqual(status, 200, body)
            answers = []
            for path in ["/peers"] * 40 + ["/peers?limit=100&after=lp-100"]:
                conn = http.client.HTTPConnection(w.host, w.port, timeout=30)
                conn.request("GET", path)
                res = conn.getresponse()
                body = json.loads(res.read())
                conn.close()
                answers.append((path, res.status, res.getheader("X-F0-Age-Ms"), res.getheader("Retry-After"), body))
            for path, status, age, retry, body in answers:
                if status == 200:
                    self.assertEqual(len(body), 501 if path == "/peers" else 100, path)
                else:
                    self.assertEqual((status, body.get("error")), (503, "busy"), path)
                    self.assertTrue(retry and int(retry) >= 1, "503 tells when to ask again")
            served_kept = [a for a in answers if a[2] is not None]
            self.assertTrue(served_kept, "over the budget, the last page built is served")
            self.assertTrue(all(int(a[2]) <= 10000 for a in served_kept), "never older than 10 s")
            _, metrics = w.get("/metrics", raw=True)
            count = {e: int(re.search(rf'f0_peers_pages_total{{event="{e}"}} (\d+)', metrics).group(1))
                     for e in ("built", "cached", "busy")}
            self.assertEqual(sum(count.values()), len(answers), count)
            self.assertEqual(count["cached"], len(served_kept), count)
            self.assertLess(count["built"], len(answers), count)
            self.assertTrue(self._healthy(w))
        finally:
            w.stop()

    @staticmethod
    def _healthy(w):
        try:
            return w.get("/healthz", raw=True) == (200, "ok")
        except OSError:
            return False


if __name__ == "__main__":
    unittest.main(verbosity=2)
