// The interop matrix (issue 14): Chromium, libdatachannel and werift against
//  - a real worker, through the signed envelope: the stack dials (its offer POSTed to /offer; for
//    Chromium from a page on another origin, with fetch and WebCrypto), and the worker dials the
//    stack (POST /dial; the worker's signed offer reaches an endpoint this script serves for the
//    stack, and the stack's answer goes back signed);
//  - the bare rtc/ stack (f0-rtc-peer, which echoes), the stack offering and then answering.
// In each pairing: the channels open (control, gossip, qos with a worker; reliable, unordered
// maxRetransmits 0 and pre-negotiated id 5 with the bare stack); text and binary messages of
// 0 B, 1 B, 1 KiB, 64 KiB, 256 KiB, 1 MiB and 16 MiB, each size that both ends allow (the
// receiver's a=max-message-size and the sender's own limit), arrive byte for byte; a close from
// either side is seen by the other as closed within 1 s (a worker: the link `closed`, closedBy
// "peer"; a stack: its channels close).
// Usage: node matrix.mjs <f0mesh> <f0-rtc-peer> [chromium|libdatachannel|werift ...]
// Prints one line per check and a closing "N passed, N failed"; exits 1 on any failure.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PeerProcess } from './peer_process.mjs';
import { Chromium, KINDS, LibDataChannel, Werift, expected, loopbackOnly, maxMessageSize, payload, until } from './stacks.mjs';

const [f0mesh, rtcPeer, ...only] = process.argv.slice(2);
const STACKS = only.length ? only : ['chromium', 'libdatachannel', 'werift'];
// F0_MATRIX_MAX_BYTES leaves out the larger sizes (the sanitizer tree's werift run; each is
// printed as a skip, and the release tree's run has them all).
const MAX_BYTES = Number(process.env.F0_MATRIX_MAX_BYTES) || Infinity;
const SIZES = [0, 1, 1024, 65536, 262144, 1 << 20, 16 << 20].filter((s) => {
  if (s <= MAX_BYTES) return true;
  console.log(`skip every ${s} B message: F0_MATRIX_MAX_BYTES=${MAX_BYTES}`);
  return false;
});
const BIG = 16 << 20; // what the worker and the bare stack accept here
const CLOSE_BOUND_MS = 1000;
// ms to wait for one message: a bound for a loaded machine, not a speed (16 MiB: 94 s).
// Per-message bound; F0_MATRIX_TIME_SCALE (3 in the sanitizer build, tests/interop/CMakeLists.txt)
// scales it for a worker that is slower by construction.
const TIME_SCALE = Math.max(1, Number(process.env.F0_MATRIX_TIME_SCALE) || 1);
const timeFor = (size) => (60000 + size / 500) * TIME_SCALE;

let passed = 0, failed = 0;
const rows = [];
// The worker logs at info; its warnings and errors are shown as they come, and its last link and
// rtc lines are shown after a failed check (why a link went down is otherwise lost with the run).
const workerLines = []; // since the last failed check, at most 200
function workerLog(chunk) {
  for (const line of chunk.toString().split('\n')) {
    if (!line) continue;
    if (/\[(warn|error|critical)\]/.test(line)) console.log(`     worker: ${line}`);
    if (/\[(mesh\.links|mesh\.signaling|rtc[^\]]*|worker)\]/.test(line)) {
      workerLines.push(line);
      if (workerLines.length > 200) workerLines.shift();
    }
  }
}
function check(ok, what, detail = '') {
  if (ok) passed += 1; else failed += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` (${detail})` : ''}`);
  if (!ok && workerLines.length) {
    console.log(`     the worker's link lines since the last failure (at most 200):`);
    for (const line of workerLines.splice(0)) console.log(`       ${line}`);
  }
}
const skip = (what, why) => console.log(`skip ${what}: ${why}`);

const freePort = () => new Promise((resolve) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});

// ---- the worker --------------------------------------------------------------------------
const pageServer = http.createServer((q, r) => { r.setHeader('content-type', 'text/html'); r.end('<html><body>f0mesh interop</body></html>'); });
await new Promise((res) => pageServer.listen(0, '127.0.0.1', res));
const pageOrigin = `http://127.0.0.1:${pageServer.address().port}`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'f0-matrix-'));
// werift 0.25.2 drops fragments of reliable messages that it has already acknowledged when a
// FORWARD-TSN arrives (sctp.js receiveForwardTsnChunk prunes every stream's reassembly up to the
// new cumulative TSN, not just the abandoned messages'): a large message then never completes.
// The worker's QoS probes (unordered, maxRetransmits 0) are what gets abandoned when werift falls
// behind, so with werift the worker probes once a minute instead of five times a second. Seen as
// a stalled 1 MiB message in about 1 run of 5 under load before this; F0_MATRIX_DEBUG shows it.
const workerExtra = STACKS.includes('werift') && !process.env.F0_MATRIX_WERIFT_PROBES ? ['--qos-interval', '60', '--qos-probe-interval', '60000'] : [];
const workerId = 'fz-matrix';
let worker = null;
let base = null;
async function startWorker() {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    worker = spawn(f0mesh, ['worker', '--id', workerId, '--listen', `127.0.0.1:${port}`, '--data-dir', dir,
      '--ice-address', '127.0.0.1', '--open-registration', '--log-level', process.env.F0_MATRIX_LOG_LEVEL || 'info', '--cors-origin', pageOrigin,
      '--max-message-size', String(BIG), '--redial-max-ms', '2000', ...workerExtra], { stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout.on('data', workerLog);
    worker.stderr.on('data', workerLog);
    const exited = new Promise((r) => worker.on('exit', () => r('exited')));
    const up = await Promise.race([until(async () => (await fetch(`${base}/healthz`)).ok, 20000, 'the worker'), exited]);
    if (up === 'exited') continue; // the port was taken between probe and bind: try another
    return;
  }
  throw new Error('the worker did not start');
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));
process.on('exit', () => {
  try { worker?.kill('SIGTERM'); } catch { /* gone */ }
  try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
});
await startWorker();
const token = fs.readFileSync(path.join(dir, 'operator.token'), 'utf8').trim();
const op = (method, p, body, type = 'application/json') => fetch(`${base}${p}`, {
  method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': type } : {}) },
  body: body === undefined ? undefined : type === 'application/json' ? JSON.stringify(body) : body });
const workerKey = crypto.createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'),
  Buffer.from((await (await fetch(`${base}/self`)).json()).pubKey, 'base64')]), format: 'der', type: 'spki' });

// RFC 8785 for the envelope (strings and one integer).
const canonical = (o) => `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(o[k])}`).join(',')}}`;
function identity(id) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  return { id, privateKey, pub: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64') };
}
function envelope(me, type, sdp) {
  const e = { peerFrom: me.id, peerTo: workerId, type, sdp, ts: Date.now(), nonce: crypto.randomBytes(16).toString('base64') };
  e.sig = crypto.sign(null, Buffer.from(canonical(e)), me.privateKey).toString('base64');
  return e;
}
// The worker's envelopes are checked as a peer would: recipient, signature by the worker's key.
function verifyFromWorker(e, me, type) {
  const { sig, ...rest } = e;
  return e.peerFrom === workerId && e.peerTo === me.id && e.type === type && typeof sig === 'string' &&
    crypto.verify(null, Buffer.from(canonical(rest)), workerKey, Buffer.from(sig, 'base64'));
}
async function register(me, endpoint) {
  const r = await fetch(`${base}/beacon`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: me.id, pubKey: me.pub, region: 'EU', ...(endpoint ? { endpoints: { webrtc: endpoint } } : {}) }) });
  if (!r.ok) throw new Error(`register ${me.id}: ${r.status} ${await r.text()}`);
}
const linkOf = async (peer) => (await (await op('GET', '/links')).json()).find((l) => l.peer === peer);
// The worker's link to `peer` once it is open (bounded), or null.
const openLinkOf = (peer) => until(async () => { const l = await linkOf(peer); return l?.state === 'open' ? l : null; }, 10000, 'link open').catch(() => null);

// The stack dials the worker: its offer in a signed envelope to POST /offer.
async function stackDials(stack, me, mode) {
  for (const [label, init] of [['control', {}], ['gossip', {}], ['qos', { ordered: false, maxRetransmits: 0 }]]) await stack.create(label, init);
  const offer = await stack.offer();
  let answer;
  if (stack instanceof Chromium) {
    const got = await stack.page.evaluate(([b, m, w, o]) => f0.dial(b, m, w, o), [base, me.id, workerId, offer]);
    if (got.error) throw new Error(got.error);
    answer = got.answer;
  } else {
    await register(me);
    const r = await fetch(`${base}/offer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(envelope(me, 'offer', offer)) });
    answer = await r.json();
    if (r.status !== 200) throw new Error(`offer: ${r.status} ${answer.error}: ${answer.detail}`);
  }
  check(verifyFromWorker(answer, me, 'answer'), `${mode}: the worker's answer is signed by its key`);
  await stack.applyAnswer(loopbackOnly(answer.sdp));
  return { offer, answer: answer.sdp };
}

// The worker dials the stack: an endpoint for the stack answers the worker's signed offer.
async function workerDials(stack, me, mode) {
  const seen = { offers: 0, refused: 0, sdp: null };
  let accepting = true;
  const server = http.createServer(async (q, r) => {
    let body = '';
    for await (const chunk of q) body += chunk;
    const reply = (status, obj) => { r.writeHead(status, { 'content-type': 'application/json' }); r.end(JSON.stringify(obj)); };
    try {
      // The worker also gossips over HTTPS (POST /gossip) to registered peers it has no link
      // with: that is not an offer, and this endpoint does not take it.
      if (q.url !== '/offer') {
        console.log(`     (the worker sent ${q.method} ${q.url} to this peer's endpoint: answered 404)`);
        return reply(404, { error: 'not_found', detail: `this test answers only /offer, not ${q.url}` });
      }
      const e = JSON.parse(body);
      seen.offers += 1;
      if (!verifyFromWorker(e, me, 'offer')) { seen.refused += 1; return reply(401, { error: 'bad_signature', detail: 'not the worker' }); }
      if (!accepting) return reply(503, { error: 'busy', detail: 'this test takes no more offers' });
      seen.sdp = { offer: e.sdp, answer: await stack.answer(loopbackOnly(e.sdp)) };
      reply(200, envelope(me, 'answer', seen.sdp.answer));
    } catch (err) { reply(500, { error: 'internal', detail: String(err) }); }
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  await register(me, `http://127.0.0.1:${server.address().port}`);
  const r = await op('POST', '/dial', { peerTo: me.id });
  const res = await r.json();
  if (r.status !== 200) throw new Error(`dial: ${r.status} ${res.error}: ${res.detail}`);
  check(seen.offers >= 1 && seen.refused === 0, `${mode}: the worker's offer came signed by its key`);
  return { server, stopAccepting: () => { accepting = false; }, sdp: seen.sdp };
}

// Messages both ways with a worker: the stack sends on control and the worker's inbox tells each
// message's size and SHA-256; the worker sends text and binary (the operator's POST
// /links/{peer}/control, text/plain or application/octet-stream) and the stack compares.
async function exchangeWithWorker(stack, me, mode, stackSdp) {
  const toWorker = Math.min(BIG, await stack.sendCap('control'));
  const toStack = maxMessageSize(stackSdp);
  for (const size of SIZES) {
    for (const kind of KINDS) {
      const what = `${mode}: ${kind} ${size} B stack -> worker`;
      if (size > toWorker) { skip(what, `the stack sends at most ${toWorker} B`); continue; }
      if (size === 0 && stack.sendsEmpty === false) { skip(what, `${stack.name} cannot send an empty message`); continue; }
      await stack.send('control', size, kind);
      const want = expected(size, kind);
      const got = await until(async () => (await (await op('GET', `/links/${me.id}/messages`)).json())
        .find((m) => m.bytes === size && m.sha256 === want), timeFor(size), what).catch(() => null);
      check(!!got, what);
    }
    for (const kind of KINDS) {
      const what = `${mode}: ${kind} ${size} B worker -> stack`;
      if (size > toStack) { skip(what, `the stack accepts at most ${toStack} B`); continue; }
      const r = await op('POST', `/links/${me.id}/control`, payload(size, kind),
        kind === 'text' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
      if (r.status !== 200) {
        check(false, what, `POST: ${r.status} ${await r.text()}`);
        // Why the link is where it is (closed by the stack? failed, and why?).
        const l = await linkOf(me.id);
        console.log(`     worker link: ${l?.state}, lastError ${JSON.stringify(l?.lastError ?? null)}, closedBy ${l?.closedBy ?? null}`);
        continue;
      }
      // The time of each large message is printed: against werift a 16 MiB message takes ~70x a
      // 1 MiB one (10 s vs 150 ms here, unloaded), so under ASan and load it can pass its bound.
      const t0 = performance.now();
      const got = await stack.expect('control', size, kind, timeFor(size));
      if (size >= 1 << 20) console.log(`     ${what}: ${Math.round(performance.now() - t0)} ms (bound ${timeFor(size)} ms)`);
      check(got.ok, what, got.detail);
      if (!got.ok) {
        // Always: why the worker thinks the link is where it is (a failure under load is otherwise
        // a mystery after the fact); more with F0_MATRIX_DEBUG.
        const l = await linkOf(me.id);
        console.log(`     worker link: ${l?.state}, lastError ${JSON.stringify(l?.lastError ?? null)}, closedBy ${l?.closedBy ?? null}`);
      }
      if (!got.ok && process.env.F0_MATRIX_DEBUG) {
        const l = await linkOf(me.id);
        console.log('debug: worker link', JSON.stringify(l));
        console.log('debug: stack', stack.debug?.());
        console.log('debug: metrics', (await (await op('GET', '/metrics')).text()).split('\n').filter((x) => /sctp|rtc_/.test(x) && !x.startsWith('#')).join(' | '));
      }
    }
  }
}

async function workerSeesClosed(peer, t0, mode) {
  const link = await until(async () => { const l = await linkOf(peer); return l && l.state === 'closed' ? l : null; }, 10000, 'closed')
    .catch(() => null);
  const ms = performance.now() - t0;
  check(!!link && link.closedBy === 'peer' && ms <= CLOSE_BOUND_MS, `${mode}: the stack's close is seen by the worker as closed by the peer within 1 s`,
    link ? `${Math.round(ms)} ms, ${link.state}, closedBy ${link.closedBy}` : `still ${(await linkOf(peer))?.state}`);
  return ms;
}
async function stackSeesClosed(stack, labels, t0, mode, who) {
  const at = await stack.closedAt(labels, 10000);
  const ms = at === null ? null : at - t0;
  check(ms !== null && ms <= CLOSE_BOUND_MS, `${mode}: ${who}'s close is seen by the stack within 1 s`, ms === null ? 'not seen' : `${Math.round(ms)} ms`);
  return ms;
}

const WORKER_CHANNELS = ['control', 'gossip', 'qos'];
async function againstWorker(name, make) {
  // 1. The stack offers; it closes first, then (a new dial) the worker's operator does.
  for (const closer of ['stack', 'worker']) {
    const mode = `${name} dials the worker (${closer} closes)`;
    const me = identity(`fz-${name}-d-${closer}`);
    const stack = await make();
    try {
      const sdp = await stackDials(stack, me, mode);
      await stack.waitOpen(WORKER_CHANNELS);
      const link = await openLinkOf(me.id);
      check(!!link, `${mode}: the three channels open and the worker's link is open`);
      check(link?.datagrams === false, `${mode}: the worker does not take the stack for an f0mesh peer (no datagrams)`,
        `datagrams ${link?.datagrams}`);
      if (closer === 'stack') await exchangeWithWorker(stack, me, mode, sdp.offer);
      const t0 = performance.now();
      if (closer === 'stack') {
        await stack.close();
        rows.push([name, 'offerer', 'worker', 'stack closes', await workerSeesClosed(me.id, t0, mode)]);
      } else {
        await op('DELETE', `/links/${me.id}`);
        rows.push([name, 'offerer', 'worker', 'worker closes', await stackSeesClosed(stack, WORKER_CHANNELS, t0, mode, 'the worker')]);
        await stack.close();
      }
    } catch (e) {
      check(false, mode, e.message);
      await stack.close().catch(() => {});
    }
  }
  // 2. The worker offers (POST /dial); the worker's operator closes, then (a new dial) the stack.
  for (const closer of ['worker', 'stack']) {
    const mode = `the worker dials ${name} (${closer} closes)`;
    const me = identity(`fz-${name}-a-${closer}`);
    const stack = await make();
    let dial = null;
    try {
      dial = await workerDials(stack, me, mode);
      await stack.waitOpen(WORKER_CHANNELS);
      check(true, `${mode}: the three channels open`);
      // libdatachannel copies an offer's unknown attributes into its answer; an echoed
      // a=x-f0-datagram made the worker probe it with datagrams and restart its ICE on silence.
      const dialled = await openLinkOf(me.id);
      check(dialled?.datagrams === false, `${mode}: the worker does not take the stack for an f0mesh peer (no datagrams)`,
        `datagrams ${dialled?.datagrams}`);
      if (closer === 'worker') await exchangeWithWorker(stack, me, mode, dial.sdp.answer);
      const t0 = performance.now();
      if (closer === 'worker') {
        await op('DELETE', `/links/${me.id}`);
        rows.push([name, 'answerer', 'worker', 'worker closes', await stackSeesClosed(stack, WORKER_CHANNELS, t0, mode, 'the worker')]);
        await stack.close();
      } else {
        dial.stopAccepting(); // the worker redials a link it dialled; this test answers no more
        await stack.close();
        rows.push([name, 'answerer', 'worker', 'stack closes', await workerSeesClosed(me.id, t0, mode)]);
        await op('DELETE', `/links/${me.id}`);
      }
    } catch (e) {
      check(false, mode, e.message);
      await stack.close().catch(() => {});
    } finally {
      dial?.server.close();
    }
  }
}

// The bare rtc/ stack, which echoes every message on the channel it came on.
const RTC_CHANNELS = ['reliable', 'unordered', 'neg'];
async function againstRtc(name, make) {
  for (const role of ['offerer', 'answerer']) {
    const mode = `${name} ${role === 'offerer' ? 'offers to' : 'answers'} the rtc stack`;
    const peer = new PeerProcess(rtcPeer, ['--max-message-size', String(BIG)]);
    const stack = await make();
    try {
      let stackSdp;
      if (role === 'offerer') {
        await stack.create('reliable');
        await stack.create('unordered', { ordered: false, maxRetransmits: 0 });
        await stack.create('neg', { negotiated: true, id: 5 });
        stackSdp = await stack.offer();
        peer.send({ type: 'offer', sdp: stackSdp });
        const answer = await peer.waitFor((e) => e.type === 'answer', 'answer');
        await stack.applyAnswer(loopbackOnly(answer.sdp));
      } else {
        await stack.create('neg', { negotiated: true, id: 5 });
        peer.send({ type: 'make-offer' });
        const offer = await peer.waitFor((e) => e.type === 'offer', 'offer');
        stackSdp = await stack.answer(loopbackOnly(offer.sdp));
        peer.send({ type: 'answer', sdp: stackSdp });
      }
      await stack.waitOpen(RTC_CHANNELS);
      for (const label of RTC_CHANNELS) await peer.waitFor((e) => e.type === 'channel' && e.label === label, `peer channel ${label}`);
      const unord = await peer.waitFor((e) => e.type === 'channel' && e.label === 'unordered', 'unordered');
      const neg = await peer.waitFor((e) => e.type === 'channel' && e.label === 'neg', 'neg');
      // A channel the stack opened is as its DATA_CHANNEL_OPEN says (werift's says ordered).
      const wantOrdered = role === 'offerer' && stack.announcesUnorderedPartialAsOrdered === true;
      check(unord.ordered === wantOrdered && unord.maxRetransmits === 0 && neg.id === 5,
        `${mode}: three channels open with their parameters`, `unordered ${JSON.stringify(unord)}, neg id ${neg.id}`);
      const cap = Math.min(await stack.sendCap('reliable'), maxMessageSize(stackSdp), BIG);
      for (const label of RTC_CHANNELS) {
        // 1 MiB and 16 MiB on the reliable channel; every size on the others up to 256 KiB.
        for (const size of SIZES.filter((s) => label === 'reliable' || s <= 262144)) {
          for (const kind of KINDS) {
            const what = `${mode}: ${label} ${kind} ${size} B echoed intact`;
            if (size > cap) { skip(what, `the stack allows ${cap} B`); continue; }
            if (size === 0 && stack.sendsEmpty === false) { skip(what, `${stack.name} cannot send an empty message`); continue; }
            // Without retransmissions a message may be lost: sent again, up to 3 times (a
            // corrupted echo is never retried).
            let got;
            for (let attempt = 1; attempt <= (label === 'unordered' ? 3 : 1); attempt += 1) {
              await stack.send(label, size, kind);
              got = await stack.expect(label, size, kind, label === 'unordered' ? 3000 : timeFor(size));
              if (got.ok || got.detail !== 'nothing of that length arrived') break;
            }
            check(got.ok, what, got.detail);
          }
        }
      }
      // Channel closes both ways, then the whole connection from one side.
      let t0 = performance.now();
      await stack.closeChannel('reliable');
      const seen = await peer.waitFor((e) => e.type === 'closed' && e.label === 'reliable', 'peer sees close').catch(() => null);
      check(seen && seen.at - t0 <= CLOSE_BOUND_MS, `${mode}: the stack's channel close is seen by the rtc stack within 1 s`, seen ? `${Math.round(seen.at - t0)} ms` : 'not seen');
      t0 = performance.now();
      peer.send({ type: 'close', label: 'unordered' });
      await stackSeesClosed(stack, ['unordered'], t0, mode, "the rtc stack's channel");
      t0 = performance.now();
      if (role === 'offerer') {
        await stack.close();
        const st = await peer.waitFor((e) => e.type === 'closed' && e.label === 'neg', 'peer sees the connection close').catch(() => null);
        const ms = st ? st.at - t0 : null;
        check(st && ms <= CLOSE_BOUND_MS, `${mode}: the stack's close of the connection is seen by the rtc stack within 1 s`, st ? `${Math.round(ms)} ms` : 'not seen');
        rows.push([name, role, 'rtc', 'stack closes', ms]);
      } else {
        peer.send({ type: 'close-pc' });
        rows.push([name, role, 'rtc', 'rtc closes', await stackSeesClosed(stack, ['neg'], t0, mode, "the rtc stack's connection")]);
        await stack.close();
      }
    } catch (e) {
      check(false, mode, e.message);
      await stack.close().catch(() => {});
    }
    check((await peer.quit()) === 0, `${mode}: the rtc stack exits cleanly`);
  }
}

// ---- run ---------------------------------------------------------------------------------------
const watchdog = setTimeout(() => { console.error('FAIL: the matrix exceeded 580 s'); process.exit(1); }, 580000);
let browser = null;
for (const name of STACKS) {
  let make;
  if (name === 'libdatachannel') {
    const nd = (await import('node-datachannel')).default;
    make = async () => new LibDataChannel(nd, BIG);
  } else if (name === 'werift') {
    const werift = await import('werift');
    make = async () => new Werift(werift, BIG);
  } else if (name === 'chromium') {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--allow-loopback-in-peer-connection'] });
    const context = await browser.newContext();
    // With a media permission Chromium gives its real host addresses instead of mDNS names.
    await context.grantPermissions(['camera', 'microphone'], { origin: pageOrigin });
    make = () => Chromium.open(context, pageOrigin);
  } else {
    check(false, `unknown stack ${name}`);
    continue;
  }
  console.log(`--- ${name}`);
  await againstWorker(name, make);
  await againstRtc(name, make);
}
clearTimeout(watchdog);
await browser?.close();
pageServer.close();
console.log('close latencies (ms):');
for (const [stack, role, target, who, ms] of rows) console.log(`  ${stack.padEnd(15)} ${role.padEnd(9)} ${target.padEnd(7)} ${who.padEnd(14)} ${ms === null ? '-' : Math.round(ms)}`);
console.log(`${passed} passed, ${failed} failed`);
// As the benchmark anchor does: exit without node-datachannel's cleanup (it can crash while its
// threads finish the last closed connections).
process.exit(failed ? 1 : 0);
