"""Replicated state between real workers: lists edited on two workers while cut off from each
other converge on all three once the link is back; a peer registered at one worker is known to
all; a worker that joins learns the registry from the one peer it links to.
Run: F0MESH=build/src/cli/f0mesh python3 -m unittest -v tests/worker/test_crdt.py"""
import os, signal, sys, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import Key, Worker, trust_each_other, wait_until  # noqa: E402

# No HTTPS fallback: with it, gossip would cross the cut over HTTPS and there would be no partition.
EXTRA = ["--open-registration", "--gossip-https-fallback", "false", "--crdt-sync-interval-ms", "1000"]


def items(w, name):
    status, body = w.get(f"/crdt/lists/{name}")
    return body["items"] if status == 200 else None


class Replication(unittest.TestCase):
    def setUp(self):
        self.w = [Worker(i, extra=EXTRA) for i in ("fz-kuwait", "fz-cairo", "fz-riyadh")]
        trust_each_other(self.w)
        for w in self.w:
            w.start()
        for a in self.w:
            for b in self.w:
                if a is not b:
                    status, body = a.register_at(b)
                    self.assertEqual(status, 200, body)
        for i, a in enumerate(self.w):
            for b in self.w[i + 1:]:
                status, link = a.post("/dial", {"peerTo": b.id})
                self.assertEqual(status, 200, link)

    def tearDown(self):
        for w in self.w:
            w.stop()

    def edit(self, w, name, body):
        status, out = w.post(f"/crdt/lists/{name}", body)
        self.assertEqual(status, 200, out)
        return out

    def test_concurrent_edits_across_a_cut_converge_after_it_heals(self):
        k, c, r = self.w
        self.edit(k, "todo", {"op": "insert", "index": 0, "values": ["buy milk", {"n": 2}, "call home"]})
        for w in self.w:
            wait_until(lambda: items(w, "todo") == ["buy milk", {"n": 2}, "call home"], timeout=30,
                       what=f"the list at {w.id}")
        # The partition: riyadh goes down, kuwait and cairo drop their link.
        r.stop()
        self.assertEqual(k.request("DELETE", f"/links/{c.id}")[0], 200)
        c.request("DELETE", f"/links/{k.id}")
        wait_until(lambda: k.id not in c.links() and c.id not in k.links(), timeout=30, what="the cut")
        # Concurrent edits on both sides.
        self.edit(k, "todo", {"op": "insert", "index": 1, "values": ["from kuwait"]})
        self.edit(k, "todo", {"op": "delete", "index": 0, "count": 1})
        self.edit(c, "todo", {"op": "insert", "index": 1, "values": ["from cairo"]})
        self.edit(c, "todo", {"op": "delete", "index": 3, "count": 1})
        # ~72 KB more on kuwait's side: the repair after the heal goes in more than one message.
        for i in range(12):
            self.edit(k, "big", {"op": "insert", "index": i, "values": [f"{i:02d}" + "x" * 6000]})
        time.sleep(0.5)  # noqa: a negative check needs a span of time: nothing crosses the cut
        self.assertNotIn("from cairo", items(k, "todo"))
        self.assertNotIn("from kuwait", items(c, "todo"))
        # Heal: riyadh comes back (its store restores its links), kuwait redials cairo.
        r.start()
        status, link = k.post("/dial", {"peerTo": c.id})
        self.assertEqual(status, 200, link)
        # Converged: both inserts and both deletes everywhere (the repair's pieces arrive one by one,
        # so wait for the whole of it, then compare the order too).
        merged = sorted(["from kuwait", "from cairo", str({"n": 2})])
        want = None
        for w in self.w:
            got = wait_until(lambda: (x := items(w, "todo")) and sorted(map(str, x)) == merged and x,
                             timeout=30, what=f"both sides' edits at {w.id}")
            want = want or got
            self.assertEqual(got, want, f"{w.id} differs")
        big = wait_until(lambda: (x := items(c, "big")) and len(x) == 12 and x, timeout=30, what="the big list at cairo")
        self.assertEqual([v[:2] for v in big], [f"{i:02d}" for i in range(12)])
        # And it stays converged after one more edit anywhere.
        self.edit(r, "todo", {"op": "insert", "index": 0, "values": ["from riyadh"]})
        for w in self.w:
            wait_until(lambda: items(w, "todo") == ["from riyadh"] + want, timeout=30, what=f"riyadh's edit at {w.id}")

    def test_a_peer_registered_at_one_worker_is_known_to_all(self):
        k = self.w[0]
        newcomer = Key()
        status, body = k.post("/beacon", newcomer.record("fz-muscat"))
        self.assertEqual(status, 200, body)
        for w in self.w[1:]:
            p = wait_until(lambda: next((p for p in w.get("/peers")[1] if p["id"] == "fz-muscat"), None),
                           timeout=30, what=f"fz-muscat at {w.id}")
            self.assertEqual((p["pubKey"], p["region"]), (newcomer.pub, "ME"))

    def test_a_joining_worker_learns_the_registry_from_one_peer(self):
        k = self.w[0]
        # The joiner trusts kuwait as its registrar (as it would its beacon).
        d = Worker("fz-doha", extra=EXTRA + ["--registrar", f"{k.id}={k.pub_key()}"]).start()
        try:
            self.assertEqual(d.register_at(k)[0], 200)
            self.assertEqual(k.register_at(d)[0], 200)
            status, link = d.post("/dial", {"peerTo": k.id})
            self.assertEqual(status, 200, link)
            wait_until(lambda: {"fz-cairo", "fz-riyadh"} <= {p["id"] for p in d.get("/peers")[1]},
                       timeout=30, what="fz-doha to learn the whole registry from fz-kuwait")
            # And it can use it: dial a worker it was never told about directly, once that worker
            # has learned of it in turn (kuwait's registry gossip; changes that follow within
            # --crdt-publish-delay of another go out together).
            cairo = self.w[1]
            wait_until(lambda: "fz-doha" in {p["id"] for p in cairo.get("/peers")[1]},
                       what="fz-cairo to learn fz-doha from fz-kuwait")
            status, link = d.post("/dial", {"peerTo": "fz-cairo"})
            self.assertEqual(status, 200, link)
            self.assertEqual(link["state"], "open")
        finally:
            d.stop()

    def test_bad_list_requests_get_clear_errors(self):
        k = self.w[0]
        for path, body, want in [
            ("/crdt/lists/bad%20name", {"op": "insert", "index": 0, "values": [1]}, 400),
            ("/crdt/lists/x", {"op": "insert", "index": 5, "values": [1]}, 409),
            ("/crdt/lists/x", {"op": "insert", "index": -1, "values": [1]}, 400),
            ("/crdt/lists/x", {"op": "insert", "index": 0, "values": []}, 400),
            ("/crdt/lists/x", {"op": "insert", "index": 0, "values": ["x" * 9000]}, 413),
            ("/crdt/lists/x", {"op": "move", "index": 0}, 400),
            ("/crdt/lists/x", "not json", 400),
        ]:
            status, resp = k.post(path, body)
            self.assertEqual(status, want, f"{path} {body!r}: {resp}")
            self.assertIn("error", resp)
        self.assertEqual(k.get("/crdt/lists/x")[0], 404, "a failed first edit leaves no list")
        self.edit(k, "x", {"op": "insert", "index": 0, "values": [1]})
        status, resp = k.post("/crdt/lists/x", {"op": "delete", "index": 0, "count": 2})
        self.assertEqual(status, 409, resp)
        self.assertEqual(k.get("/healthz", raw=True)[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
