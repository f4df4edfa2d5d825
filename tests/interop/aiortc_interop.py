"""Interop with aiortc (Debian's python3-aiortc): aiortc offers and our peer answers, then the
reverse. Three channels (reliable ordered, unordered maxRetransmits 0, pre-negotiated id 5); text
and binary messages of 1 B .. 256 KiB echoed and checked byte for byte; close from each side.

Two test-only adjustments to aiortc, both about this machine rather than the protocol:
- aioice skips loopback addresses when gathering; we make it offer 127.0.0.1.
- aiortc 1.4 advertises a=max-message-size:65536 (but reassembles any size). Our stack honours
  the peer's advertisement (RFC 8841), so to echo 256 KiB we raise aiortc's advertisement to
  262144. The stock advertisement is checked too: our peer must then refuse to send 256 KiB.
Usage: /usr/bin/python3 aiortc_interop.py <f0-rtc-peer>
"""
import asyncio, json, os, sys

import aioice.ice
from aiortc import RTCPeerConnection, RTCConfiguration, RTCSessionDescription
from aiortc.rtcsctptransport import RTCSctpTransport, RTCSctpCapabilities

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
STOCK_CAPS = RTCSctpTransport.getCapabilities
BIG_CAPS = classmethod(lambda cls: RTCSctpCapabilities(maxMessageSize=262144))

SIZES = [1, 1024, 16384, 65536, 262144]
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
        proc = await asyncio.create_subprocess_exec(binary, stdin=asyncio.subprocess.PIPE,
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
    if kind == "text":
        return "".join(chr(33 + ((i * 7 + size) % 90)) for i in range(size))
    return bytes(((i * 31 + size) & 255) for i in range(size))


async def until(pred, timeout=10):
    loop = asyncio.get_event_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if pred():
            return True
        await asyncio.sleep(0.01)  # polling aiortc state with a bound; aiortc has no waitable for it
    return False


async def echo_all(channel, sizes, mode):
    # A channel without retransmissions may lose a message: send it again (up to 3 times).
    # A corrupted echo is never retried.
    attempts = 3 if channel.label == "unordered" else 1
    for size in sizes:
        for kind in ("text", "binary"):
            sent = payload(kind, size)
            for attempt in range(1, attempts + 1):
                fut = asyncio.get_event_loop().create_future()
                handler = lambda m, fut=fut: fut.done() or fut.set_result(m)
                channel.on("message", handler)
                channel.send(sent)
                try:
                    got = await asyncio.wait_for(fut, 3 if attempts > 1 else 10)
                except asyncio.TimeoutError:
                    got = None
                channel.remove_listener("message", handler)
                if got is None and attempt < attempts:
                    continue
                if attempt > 1:
                    print(f"note: {mode}: {channel.label} {kind} {size} B needed {attempt} sends")
                break
            check(got == sent and type(got) is type(sent), f"{mode}: {channel.label} {kind} {size} B echoed intact")


async def exercise(pc_channels, peer, mode):
    for label in ("reliable", "unordered", "neg"):
        check(await until(lambda: label in pc_channels and pc_channels[label].readyState == "open"),
              f"{mode}: aiortc channel {label} open")
        await peer.wait_for(lambda e: e["type"] == "channel" and e["label"] == label, f"peer channel {label}")
    unord = await peer.wait_for(lambda e: e["type"] == "channel" and e["label"] == "unordered", "unordered")
    check(unord["ordered"] is False and unord["maxRetransmits"] == 0, f"{mode}: unordered parameters {unord}")
    neg = await peer.wait_for(lambda e: e["type"] == "channel" and e["label"] == "neg", "neg")
    check(neg["id"] == 5, f"{mode}: negotiated channel id 5")
    for label in ("reliable", "unordered", "neg"):
        await echo_all(pc_channels[label], SIZES, mode)
    # Close from aiortc: the peer must see it.
    pc_channels["reliable"].close()
    seen = await peer.wait_for(lambda e: e["type"] == "closed" and e["label"] == "reliable", "peer sees close")
    check(seen is not None, f"{mode}: aiortc close seen by our peer")
    # Close from our peer: aiortc must see it.
    peer.send({"type": "close", "label": "unordered"})
    check(await until(lambda: pc_channels["unordered"].readyState == "closed"), f"{mode}: our close seen by aiortc")


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
    await exercise(chans, peer, "aiortc offers")
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
    await exercise(chans, peer, "peer offers")
    check(await peer.quit() == 0, "peer offers: peer exits cleanly")
    await pc.close()


async def stock_limit_honoured(binary):
    """With aiortc's stock 64 KiB advertisement our peer must refuse to echo 256 KiB."""
    RTCSctpTransport.getCapabilities = STOCK_CAPS
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


async def main(binary):
    RTCSctpTransport.getCapabilities = BIG_CAPS
    for scenario in (aiortc_offers, peer_offers, stock_limit_honoured):
        try:
            await asyncio.wait_for(scenario(binary), 60)
        except Exception as e:  # a scenario that dies counts as a failure, and the next still runs
            check(False, f"{scenario.__name__}: {e!r}")
    print(f"aiortc interop: {results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
