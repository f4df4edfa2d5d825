// Interop with Chromium (Debian's, headless, driven by playwright-core): the browser offers and our
// peer answers, then the reverse. Three channels (reliable ordered, unordered maxRetransmits 0,
// pre-negotiated id 5); text and binary messages of 1 B .. 256 KiB echoed and checked byte for
// byte; close from each side seen by the other. Usage: node chromium_interop.mjs <f0-rtc-peer>
import { chromium } from 'playwright-core';
import { createServer } from 'http';
import { writeFileSync, mkdirSync } from 'fs';
import { PeerProcess } from './peer_process.mjs';

const binary = process.argv[2];
const captureDir = process.env.F0_CAPTURE_DIR;
const SIZES = [1, 1024, 16384, 65536, 262144];
let failures = 0, passes = 0;
const check = (ok, what) => { if (ok) passes++; else { failures++; console.error('FAIL:', what); } };

const server = createServer((q, r) => { r.setHeader('content-type', 'text/html'); r.end('<html><body>f0mesh interop</body></html>'); });
await new Promise((res) => server.listen(0, '127.0.0.1', res));
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection'] });
const context = await browser.newContext();
await context.grantPermissions(['camera', 'microphone'], { origin });

// Page-side helpers, installed in every page.
const PAGE_LIB = () => {
  window.f0 = {
    pc: null, channels: {}, closed: {},
    waitGathering(pc) {
      return new Promise((res) => {
        if (pc.iceGatheringState === 'complete') return res();
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && res());
      });
    },
    track(ch) {
      ch.binaryType = 'arraybuffer';
      f0.channels[ch.label] = ch;
      ch.addEventListener('close', () => { f0.closed[ch.label] = true; });
    },
    whenOpen(label, ms = 30000) {
      return new Promise((res, rej) => {
        const t0 = performance.now();
        const tick = () => {
          const ch = f0.channels[label];
          if (ch && ch.readyState === 'open') return res(true);
          if (performance.now() - t0 > ms) return rej(new Error('channel ' + label + ' did not open'));
          setTimeout(tick, 10);
        };
        tick();
      });
    },
    whenClosed(label, ms = 30000) {
      return new Promise((res) => {
        const t0 = performance.now();
        const tick = () => (f0.closed[label] ? res(true) : performance.now() - t0 > ms ? res(false) : setTimeout(tick, 10));
        tick();
      });
    },
    // Sends text and binary messages of each size, checks every echo byte for byte. On a channel
    // without retransmissions a lost message may be sent again (up to `attempts` times); a
    // corrupted echo is never retried.
    async echoAll(label, sizes, attempts) {
      const ch = f0.channels[label];
      const results = [];
      for (const size of sizes) {
        for (const kind of ['text', 'binary']) {
         for (let attempt = 1; attempt <= attempts; attempt++) {
          let payload;
          if (kind === 'text') {
            let s = ''; for (let i = 0; i < size; i++) s += String.fromCharCode(33 + ((i * 7 + size) % 90)); payload = s;
          } else {
            payload = new Uint8Array(size); for (let i = 0; i < size; i++) payload[i] = (i * 31 + size) & 255;
          }
          const reply = await new Promise((res) => {
            const t = setTimeout(() => res(null), attempts > 1 ? 3000 : 30000);
            ch.onmessage = (e) => { clearTimeout(t); res(e.data); };
            ch.send(payload);
          });
          let ok = false;
          if (kind === 'text') ok = typeof reply === 'string' && reply === payload;
          else if (reply instanceof ArrayBuffer) {
            const got = new Uint8Array(reply);
            ok = got.length === payload.length && got.every((b, i) => b === payload[i]);
          }
          if (reply === null && attempt < attempts) continue;
          results.push({ size, kind, ok, attempt });
          break;
         }
        }
      }
      return results;
    },
  };
};

async function exercise(page, peer, labels, mode) {
  for (const label of labels) await page.evaluate((l) => f0.whenOpen(l), label);
  for (const label of labels) await peer.waitFor((e) => e.type === 'channel' && e.label === label, `peer channel ${label}`);
  const unord = await peer.waitFor((e) => e.type === 'channel' && e.label === 'unordered', 'unordered');
  check(unord.ordered === false && unord.maxRetransmits === 0, `${mode}: unordered channel parameters seen by peer: ${JSON.stringify(unord)}`);
  const neg = await peer.waitFor((e) => e.type === 'channel' && e.label === 'neg', 'neg');
  check(neg.id === 5, `${mode}: negotiated channel id 5`);
  for (const label of labels) {
    const attempts = label === 'unordered' ? 3 : 1; // maxRetransmits 0 may lose a message
    const results = await page.evaluate(([l, s, a]) => f0.echoAll(l, s, a), [label, SIZES, attempts]);
    for (const r of results) {
      check(r.ok, `${mode}: ${label} ${r.kind} ${r.size} B echoed intact`);
      if (r.attempt > 1) console.log(`note: ${mode}: ${label} ${r.kind} ${r.size} B needed ${r.attempt} sends (unreliable channel)`);
    }
  }
  // Close from the browser: the peer must see it.
  await page.evaluate(() => f0.channels.reliable.close());
  const seen = await peer.waitFor((e) => e.type === 'closed' && e.label === 'reliable', 'peer sees browser close').then(() => true, () => false);
  check(seen, `${mode}: browser close seen by our peer`);
  // Close from our peer: the browser must see it.
  peer.send({ type: 'close', label: 'unordered' });
  const closed = await page.evaluate(() => f0.whenClosed('unordered'));
  check(closed, `${mode}: our close seen by the browser`);
}

async function browserOffers() {
  const page = await context.newPage();
  await page.goto(origin);
  await page.evaluate(PAGE_LIB);
  const peer = new PeerProcess(binary);
  const offer = await page.evaluate(async () => {
    const pc = f0.pc = new RTCPeerConnection({ iceServers: [] });
    f0.track(pc.createDataChannel('reliable'));
    f0.track(pc.createDataChannel('unordered', { ordered: false, maxRetransmits: 0 }));
    f0.track(pc.createDataChannel('neg', { negotiated: true, id: 5 }));
    await pc.setLocalDescription(await pc.createOffer());
    await f0.waitGathering(pc);
    return pc.localDescription.sdp;
  });
  peer.send({ type: 'offer', sdp: offer });
  const answer = await peer.waitFor((e) => e.type === 'answer', 'answer');
  await page.evaluate((sdp) => f0.pc.setRemoteDescription({ type: 'answer', sdp }), answer.sdp);
  if (captureDir) { mkdirSync(captureDir, { recursive: true }); writeFileSync(`${captureDir}/chromium-offer.sdp`, offer); }
  await exercise(page, peer, ['reliable', 'unordered', 'neg'], 'browser offers');
  check((await peer.quit()) === 0, 'browser offers: peer exits cleanly');
  await page.close();
}

async function peerOffers() {
  const page = await context.newPage();
  await page.goto(origin);
  await page.evaluate(PAGE_LIB);
  const peer = new PeerProcess(binary);
  peer.send({ type: 'make-offer' });
  const offer = await peer.waitFor((e) => e.type === 'offer', 'offer');
  const answer = await page.evaluate(async (sdp) => {
    const pc = f0.pc = new RTCPeerConnection({ iceServers: [] });
    pc.ondatachannel = (e) => f0.track(e.channel);
    f0.track(pc.createDataChannel('neg', { negotiated: true, id: 5 }));
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await f0.waitGathering(pc);
    return pc.localDescription.sdp;
  }, offer.sdp);
  peer.send({ type: 'answer', sdp: answer });
  if (captureDir) writeFileSync(`${captureDir}/chromium-answer.sdp`, answer);
  await exercise(page, peer, ['reliable', 'unordered', 'neg'], 'peer offers');
  check((await peer.quit()) === 0, 'peer offers: peer exits cleanly');
  await page.close();
}

const watchdog = setTimeout(() => { console.error('FAIL: interop run exceeded 240 s'); process.exit(1); }, 240000);
try {
  await browserOffers();
  await peerOffers();
} catch (e) {
  failures++;
  console.error('FAIL:', e.message);
}
clearTimeout(watchdog);
await browser.close();
server.close();
console.log(`chromium interop: ${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
