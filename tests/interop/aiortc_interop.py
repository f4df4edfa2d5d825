"""Interop with aiortc (Debian's python3-aiortc), the aiortc row of the interop matrix (the other
stacks are in matrix.mjs, which follows the same plan):
- against the bare rtc/ stack (f0-rtc-peer, which echoes): aiortc offers and our peer answers,
  then the reverse. Three channels (reliable ordered, unordered maxRetransmits 0, pre-negotiated
  id 5); text and binary messages of 0 B .. 256 KiB on each, and 1 MiB on the reliable one
  (aiortc's pure-Python SCTP makes 16 MiB a matter of minutes under load), echoed and checked byte for byte; channel closes both ways and the connection's close
  seen by the other side within 1 s.
- against a real worker through the signed envelope: aiortc dials (POST /offer) and the worker
  dials aiortc (POST /dial; its signed offer reaches an endpoint this script serves); control,
  gossip and qos open; messages both ways on control (the worker's inbox gives each message's
  size and SHA-256; the worker sends text and binary with POST /links/{peer}/control); a close from either
  side is seen by the other within 1 s (the worker: link `closed`, closedBy "peer").

Two test-only adjustments to aiortc, both about this machine rather than the protocol:
- aioice skips loopback addresses when gathering; we make it offer 127.0.0.1.
- aiortc 1.4 advertises a=max-message-size:65536 (but reassembles any size). Our stack honours
  the peer's advertisement (RFC 8841), so to exchange up to 1 MiB we raise aiortc's
  advertisement. The stock advertisement is checked too: our peer must then refuse to send
  256 KiB.
Usage: /usr/bin/python3 aiortc_interop.py <f0-rtc-peer> [<f0mesh>]
"""
import asyncio, base64, hashlib, json, os, shutil, socket, subprocess, sys, tempfile, time
import urllib.error, urllib.request

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import aioice.ice
from aiortc import RTCPeerConnection, RTCConfiguration, RTCSessionDescription
from aiortc.rtcsctptransport import RTCSctpTransport, RTCSctpCapabilities

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
STOCK_CAPS = RTCSctpTransport.getCapabilities
BIG = 16 << 20  # what our peer and the worker accept
# aiortc's SCTP is pure Python: 16 MiB takes it tens of seconds (and minutes on a loaded machine),
# so its rows of the matrix stop at 1 MiB.
AIORTC_MAX = 1 << 20
BIG_CAPS = classmethod(lambda cls: RTCSctpCapabilities(maxMessageSize=AIORTC_MAX))

SIZES = [0, 1, 1024, 65536, 262144]
LARGE = [1 << 20]  # on reliable channels
CLOSE_BOUND = 1.0  # s
# aiortc 1.4 (like werift, which was ported from it) throws away fragments of a reliable message
# that it has already acknowledged when a FORWARD-TSN arrives: _receive_forward_tsn_chunk moves
# its cumulative TSN past every chunk received in sequence after the abandoned one and prunes them
# all from reassembly, whole message or not. A lost QoS probe (unordered, maxRetransmits 0) while
# a 1 MiB message is in flight with a gap is enough: the message never arrives. On this loopback
# the loss is UDP datagrams aiortc's socket drops when a loaded machine starves it (a CI run hit
# it). So the worker probes once a minute here; F0_AIORTC_PROBES=1 keeps the default 200 ms, and
# F0_AIORTC_LOSS=<fraction> drops that share of aiortc's incoming DATA chunks, and every probe,
# in the runs against the worker: with both set, the fault shows in each run.
WORKER_EXTRA = [] if os.environ.get("F0_AIORTC_PROBES") else ["--qos-interval", "60", "--qos-probe-interval", "60000"]
results = {"passed": 0, "failed": 0}


def check(ok, what):
    if ok:
        results["passed"] += 1
    else:
        results["failed"] += 1
        print("FAIL:", what, file=sys.stderr)


class Peer:
    """The C++ interop peer, driven over JSON lines."""

    def __init__(self, proc):
        self.proc, self.events, self.cond = proc, [], asyncio.Condition()

    @classmethod
    async def start(cls, binary):
        proc = await asyncio.create_subprocess_exec(binary, "--max-message-size", str(BIG),
                                                    stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE)
        peer = cls(proc)
        peer.reader = asyncio.ensure_future(peer._read())
        return peer

    async def _read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                return
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            ev["at"] = time.monotonic()  # when it arrived here
            if ev.get("type") == "error":
                print("peer error:", ev.get("message"), file=sys.stderr)
            async with self.cond:
                self.events.append(ev)
                self.cond.notify_all()

    def send(self, obj):
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())

    async def wait_for(self, pred, what, timeout=10):
        async def find():
            async with self.cond:
                await self.cond.wait_for(lambda: any(pred(e) for e in self.events))
                return next(e for e in self.events if pred(e))
        try:
            return await asyncio.wait_for(find(), timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f"timed out waiting for {what}")

    async def quit(self):
        self.send({"type": "quit"})
        try:
            return await asyncio.wait_for(self.proc.wait(), 5)
        except asyncio.TimeoutError:
            self.proc.kill()
            return -9


def payload(kind, size):
    """The bytes of a test message (as in stacks.mjs): periodic, so 16 MiB is made at once."""
    period = 90 if kind == "text" else 256
    one = bytes(((33 + ((i * 7 + size) % 90)) if kind == "text" else ((i * 31 + size) & 255))
                for i in range(period))
    data = (one * (size // period + 1))[:size]
    return data.decode("ascii") if kind == "text" else data


def sha256(data):
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


async def until(pred, timeout=10):
    loop = asyncio.get_event_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if pred():
            return True
        await asyncio.sleep(0.01)  # polling aiortc state with a bound; aiortc has no waitable for it
    return False


class Inbox:
    """What a channel received, in order; take() finds the first message of a length."""

    def __init__(self, channel):
        self.queue = []
        channel.on("message", lambda m: self.queue.append(m))

    async def take(self, size, timeout):
        found = []

        def ready():
            for i, m in enumerate(self.queue):
                if len(m.encode() if isinstance(m, str) else m) == size:
                    found.append(self.queue.pop(i))
                    return True
            return False
        return found[0] if await until(ready, timeout) else None


def time_for(size):
    return 60 + size / 2e4  # s to wait for one message, a bound for a loaded machine (1 MiB: 112 s)


async def echo_all(channel, inbox, sizes, mode):
    # A channel without retransmissions may lose a message: send it again (up to 3 times).
    # A corrupted echo is never retried.
    attempts = 3 if channel.label == "unordered" else 1
    for size in sizes:
        for kind in ("text", "binary"):
            sent = payload(kind, size)
            for attempt in range(1, attempts + 1):
                channel.send(sent)
                got = await inbox.take(size, 3 if attempts > 1 else time_for(size))
                if got is None and attempt < attempts:
                    continue
                if attempt > 1:
                    print(f"note: {mode}: {channel.label} {kind} {size} B needed {attempt} sends")
                break
            check(got == sent and type(got) is type(sent), f"{mode}: {channel.label} {kind} {size} B echoed intact")


async def exercise(pc, pc_channels, peer, mode, closer):
    for label in ("reliable", "unordered", "neg"):
        check(await until(lambda: label in pc_channels and pc_channels[label].readyState == "open"),
              f"{mode}: aiortc channel {label} open")
        await peer.wait_for(lambda e: e["type"] == "channel" and e["label"] == label, f"peer channel {label}")
    unord = await peer.wait_for(lambda e: e["type"] == "channel" and e["label"] == "unordered", "unordered")
    check(unord["ordered"] is False and unord["maxRetransmits"] == 0, f"{mode}: unordered parameters {unord}")
    neg = await peer.wait_for(lambda e: e["type"] == "channel" and e["label"] == "neg", "neg")
    check(neg["id"] == 5, f"{mode}: negotiated channel id 5")
    inboxes = {label: Inbox(ch) for label, ch in pc_channels.items()}
    for label in ("reliable", "unordered", "neg"):
        await echo_all(pc_channels[label], inboxes[label], SIZES + (LARGE if label == "reliable" else []), mode)
    # Close from aiortc: the peer must see it.
    t0 = time.monotonic()
    pc_channels["reliable"].close()
    seen = await peer.wait_for(lambda e: e["type"] == "closed" and e["label"] == "reliable", "peer sees close")
    check(seen["at"] - t0 <= CLOSE_BOUND, f"{mode}: aiortc's channel close seen by our peer within 1 s ({(seen['at'] - t0) * 1000:.0f} ms)")
    # Close from our peer: aiortc must see it.
    t0 = time.monotonic()
    peer.send({"type": "close", "label": "unordered"})
    ok = await until(lambda: pc_channels["unordered"].readyState == "closed")
    check(ok and time.monotonic() - t0 <= CLOSE_BOUND, f"{mode}: our channel close seen by aiortc within 1 s ({(time.monotonic() - t0) * 1000:.0f} ms)")
    # The connection, from one side.
    t0 = time.monotonic()
    if closer == "aiortc":
        await pc.close()
        seen = await peer.wait_for(lambda e: e["type"] == "closed" and e["label"] == "neg", "peer sees the close")
        check(seen["at"] - t0 <= CLOSE_BOUND, f"{mode}: aiortc's close of the connection seen by our peer within 1 s ({(seen['at'] - t0) * 1000:.0f} ms)")
    else:
        peer.send({"type": "close-pc"})
        ok = await until(lambda: pc_channels["neg"].readyState == "closed")
        check(ok and time.monotonic() - t0 <= CLOSE_BOUND, f"{mode}: our close of the connection seen by aiortc within 1 s ({(time.monotonic() - t0) * 1000:.0f} ms)")


def capture(name, sdp):
    d = os.environ.get("F0_CAPTURE_DIR")
    if d:
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name), "w") as f:
            f.write(sdp)


async def aiortc_offers(binary):
    peer = await Peer.start(binary)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    chans = {
        "reliable": pc.createDataChannel("reliable"),
        "unordered": pc.createDataChannel("unordered", ordered=False, maxRetransmits=0),
        "neg": pc.createDataChannel("neg", negotiated=True, id=5),
    }
    await pc.setLocalDescription(await pc.createOffer())
    capture("aiortc-offer.sdp", pc.localDescription.sdp)
    peer.send({"type": "offer", "sdp": pc.localDescription.sdp})
    answer = await peer.wait_for(lambda e: e["type"] == "answer", "answer")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
    await exercise(pc, chans, peer, "aiortc offers", closer="aiortc")
    check(await peer.quit() == 0, "aiortc offers: peer exits cleanly")
    await pc.close()


async def peer_offers(binary):
    peer = await Peer.start(binary)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    chans = {"neg": pc.createDataChannel("neg", negotiated=True, id=5)}

    @pc.on("datachannel")
    def on_dc(ch):
        chans[ch.label] = ch

    peer.send({"type": "make-offer"})
    offer = await peer.wait_for(lambda e: e["type"] == "offer", "offer")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    capture("aiortc-answer.sdp", pc.localDescription.sdp)
    peer.send({"type": "answer", "sdp": pc.localDescription.sdp})
    await exercise(pc, chans, peer, "peer offers", closer="peer")
    check(await peer.quit() == 0, "peer offers: peer exits cleanly")
    await pc.close()


async def stock_limit_honoured(binary):
    """With aiortc's stock 64 KiB advertisement our peer must refuse to echo 256 KiB."""
    caps = RTCSctpTransport.getCapabilities
    RTCSctpTransport.getCapabilities = STOCK_CAPS
    try:
        peer = await Peer.start(binary)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        ch = pc.createDataChannel("neg", negotiated=True, id=5)
        await pc.setLocalDescription(await pc.createOffer())
        peer.send({"type": "offer", "sdp": pc.localDescription.sdp})
        answer = await peer.wait_for(lambda e: e["type"] == "answer", "answer")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        check(await until(lambda: ch.readyState == "open"), "stock: channel open")
        ch.send(bytes(262144))
        err = await peer.wait_for(lambda e: e["type"] == "error" and "max-message-size" in e["message"],
                                  "max-message-size refusal")
        check("65536" in err["message"], f"stock: refusal names the peer's limit: {err['message']}")
        await peer.quit()
        await pc.close()
    finally:
        RTCSctpTransport.getCapabilities = caps


# ---- against a real worker, through the signed envelope ------------------------------------------

def canonical(obj):
    """RFC 8785 for the envelope: strings and one integer, keys sorted, minimal escaping."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Worker:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="f0-aiortc-")
        for attempt in range(5):
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            self.base = f"http://127.0.0.1:{port}"
            self.proc = subprocess.Popen([binary, "worker", "--id", "fz-aiortc-w", "--listen", f"127.0.0.1:{port}",
                                          "--data-dir", self.dir, "--ice-address", "127.0.0.1", "--open-registration",
                                          "--log-level", "warn", "--max-message-size", str(BIG)] + WORKER_EXTRA)
            end = time.time() + 20
            while time.time() < end and self.proc.poll() is None:
                try:
                    urllib.request.urlopen(self.base + "/healthz", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.05)
            if self.proc.poll() is None:
                break  # up (a port taken between probe and bind makes it exit: try another)
        with open(os.path.join(self.dir, "operator.token")) as f:
            self.token = f.read().strip()
        me = json.loads(urllib.request.urlopen(self.base + "/self", timeout=10).read())
        self.id = me["id"]
        self.key = Ed25519PublicKey.from_public_bytes(base64.b64decode(me["pubKey"]))

    def request(self, method, path, body=None, operator=True, content_type="application/json"):
        data = None if body is None else body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        if operator:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    async def call(self, *args, **kw):
        return await asyncio.to_thread(self.request, *args, **kw)

    async def link(self, peer):
        status, links = await self.call("GET", "/links")
        return next((l for l in links if l["peer"] == peer), None)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Identity:
    def __init__(self, peer_id, worker):
        self.id, self.worker = peer_id, worker
        self.key = Ed25519PrivateKey.generate()
        self.pub = base64.b64encode(self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()

    def envelope(self, kind, sdp):
        e = {"peerFrom": self.id, "peerTo": self.worker.id, "type": kind, "sdp": sdp,
             "ts": int(time.time() * 1000), "nonce": base64.b64encode(os.urandom(16)).decode()}
        e["sig"] = base64.b64encode(self.key.sign(canonical(e))).decode()
        return e

    def from_worker(self, e, kind):
        """The worker's envelope, checked as a peer would: recipient, type, signature."""
        rest = {k: v for k, v in e.items() if k != "sig"}
        if e.get("peerFrom") != self.worker.id or e.get("peerTo") != self.id or e.get("type") != kind:
            return False
        try:
            self.worker.key.verify(base64.b64decode(e["sig"]), canonical(rest))
            return True
        except Exception:
            return False

    async def register(self, endpoint=None):
        record = {"id": self.id, "pubKey": self.pub, "region": "EU"}
        if endpoint:
            record["endpoints"] = {"webrtc": endpoint}
        status, body = await self.worker.call("POST", "/beacon", json.dumps(record), operator=False)
        assert status == 200, body


WORKER_CHANNELS = ("control", "gossip", "qos")


async def exchange_with_worker(worker, me, control, inbox, mode):
    for size in SIZES + LARGE:
        for kind in ("text", "binary"):
            sent = payload(kind, size)
            control.send(sent)
            want = sha256(sent)

            def arrived():
                status, msgs = worker.request("GET", f"/links/{me.id}/messages")
                return status == 200 and any(m["bytes"] == size and m["sha256"] == want for m in msgs)
            end = time.monotonic() + time_for(size)
            ok = False
            while not ok and time.monotonic() < end:
                ok = await asyncio.to_thread(arrived)
                if not ok:
                    await asyncio.sleep(0.02)
            check(ok, f"{mode}: {kind} {size} B aiortc -> worker")
        for kind in ("text", "binary"):
            sent = payload(kind, size)
            status, body = await worker.call("POST", f"/links/{me.id}/control", sent,
                                             content_type="text/plain" if kind == "text" else "application/octet-stream")
            got = await inbox.take(size, time_for(size)) if status == 200 else None
            check(got == sent and type(got) is type(sent),
                  f"{mode}: {kind} {size} B worker -> aiortc" + ("" if status == 200 else f" (POST {status} {body})"))


async def worker_sees_closed(worker, peer, t0, mode):
    link = None
    end = time.monotonic() + 10
    while time.monotonic() < end:
        link = await worker.link(peer)
        if link and link["state"] == "closed":
            break
        await asyncio.sleep(0.02)
    ms = (time.monotonic() - t0) * 1000
    check(link is not None and link["state"] == "closed" and link.get("closedBy") == "peer" and ms <= CLOSE_BOUND * 1000,
          f"{mode}: aiortc's close seen by the worker as closed by the peer within 1 s ({ms:.0f} ms, {link and link['state']})")


async def aiortc_sees_closed(chans, t0, mode):
    ok = await until(lambda: all(chans[label].readyState == "closed" for label in WORKER_CHANNELS))
    ms = (time.monotonic() - t0) * 1000
    check(ok and ms <= CLOSE_BOUND * 1000, f"{mode}: the worker's close seen by aiortc within 1 s ({ms:.0f} ms)")


async def aiortc_dials_worker(worker, closer):
    mode = f"aiortc dials the worker ({closer} closes)"
    me = Identity(f"fz-aiortc-d-{closer}", worker)
    await me.register()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    chans = {"control": pc.createDataChannel("control"), "gossip": pc.createDataChannel("gossip"),
             "qos": pc.createDataChannel("qos", ordered=False, maxRetransmits=0)}
    inbox = Inbox(chans["control"])
    await pc.setLocalDescription(await pc.createOffer())
    status, answer = await worker.call("POST", "/offer", json.dumps(me.envelope("offer", pc.localDescription.sdp)), operator=False)
    assert status == 200, answer
    check(me.from_worker(answer, "answer"), f"{mode}: the worker's answer is signed by its key")
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
    check(await until(lambda: all(c.readyState == "open" for c in chans.values()), 20), f"{mode}: the three channels open")
    if closer == "aiortc":
        await exchange_with_worker(worker, me, chans["control"], inbox, mode)
        t0 = time.monotonic()
        await pc.close()
        await worker_sees_closed(worker, me.id, t0, mode)
    else:
        t0 = time.monotonic()
        await worker.call("DELETE", f"/links/{me.id}")
        await aiortc_sees_closed(chans, t0, mode)
        await pc.close()


async def worker_dials_aiortc(worker, closer):
    mode = f"the worker dials aiortc ({closer} closes)"
    me = Identity(f"fz-aiortc-a-{closer}", worker)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    chans, seen = {}, {"offers": 0, "refused": 0, "accepting": True}

    @pc.on("datachannel")
    def on_dc(ch):
        chans[ch.label] = ch
        if ch.label == "control":
            seen["inbox"] = Inbox(ch)

    async def answer_offer(reader, writer):
        # One HTTP/1.1 request per connection: POST /offer with the worker's signed envelope.
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            length = next((int(l.split(b":", 1)[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")), 0)
            e = json.loads(await asyncio.wait_for(reader.readexactly(length), 10))
            if not head.startswith(b"POST /offer "):
                # The worker also gossips over HTTPS (POST /gossip) to registered peers it has no
                # link with: not an offer, and this endpoint does not take it.
                status, body = 404, {"error": "not_found", "detail": "this test answers only /offer"}
            else:
                seen["offers"] += 1
                if not me.from_worker(e, "offer"):
                    seen["refused"] += 1
                    status, body = 401, {"error": "bad_signature", "detail": "not the worker"}
                elif not seen["accepting"]:
                    status, body = 503, {"error": "busy", "detail": "this test takes no more offers"}
                else:
                    await pc.setRemoteDescription(RTCSessionDescription(sdp=e["sdp"], type="offer"))
                    await pc.setLocalDescription(await pc.createAnswer())
                    status, body = 200, me.envelope("answer", pc.localDescription.sdp)
        except Exception as err:  # a test endpoint: the worker sees a 500 with the reason
            status, body = 500, {"error": "internal", "detail": repr(err)}
        data = json.dumps(body).encode()
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_offer, "127.0.0.1", 0)
    try:
        await me.register(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        status, body = await worker.call("POST", "/dial", json.dumps({"peerTo": me.id}))
        assert status == 200, body
        check(seen["offers"] >= 1 and seen["refused"] == 0, f"{mode}: the worker's offer came signed by its key")
        check(await until(lambda: all(l in chans and chans[l].readyState == "open" for l in WORKER_CHANNELS), 20),
              f"{mode}: the three channels open")
        if closer == "worker":
            await exchange_with_worker(worker, me, chans["control"], seen["inbox"], mode)
            t0 = time.monotonic()
            await worker.call("DELETE", f"/links/{me.id}")
            await aiortc_sees_closed(chans, t0, mode)
            await pc.close()
        else:
            seen["accepting"] = False  # the worker redials a link it dialled; no more answers
            t0 = time.monotonic()
            await pc.close()
            await worker_sees_closed(worker, me.id, t0, mode)
            await worker.call("DELETE", f"/links/{me.id}")
    finally:
        server.close()


def simulate_loss(share):
    """Drop a share of aiortc's incoming DATA chunks, and every unordered one (the QoS probes)."""
    import random
    rnd, receive = random.Random(7), RTCSctpTransport._receive_data_chunk

    async def lossy(self, chunk):
        if chunk.flags & 4 or rnd.random() < share:  # 4: the U (unordered) bit
            return
        return await receive(self, chunk)
    RTCSctpTransport._receive_data_chunk = lossy


async def main(binary, f0mesh=None):
    RTCSctpTransport.getCapabilities = BIG_CAPS
    scenarios = [aiortc_offers, peer_offers, stock_limit_honoured]
    worker = Worker(f0mesh) if f0mesh else None
    if worker:
        if os.environ.get("F0_AIORTC_LOSS"):
            async def lossy_from_here(_):
                simulate_loss(float(os.environ["F0_AIORTC_LOSS"]))
            scenarios.append(lossy_from_here)
        scenarios += [lambda _, c=c: aiortc_dials_worker(worker, c) for c in ("aiortc", "worker")]
        scenarios += [lambda _, c=c: worker_dials_aiortc(worker, c) for c in ("worker", "aiortc")]
    try:
        for scenario in scenarios:
            try:
                await asyncio.wait_for(scenario(binary), 180)
            except Exception as e:  # a scenario that dies counts as a failure, and the next still runs
                check(False, f"{getattr(scenario, '__name__', 'scenario')}: {e!r}")
    finally:
        if worker:
            worker.stop()
    print(f"aiortc interop: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(*sys.argv[1:3])))
