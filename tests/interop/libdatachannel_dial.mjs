// libdatachannel (npm node-datachannel) dials a real worker through the documented signed
// envelope, N times in a row (default 200): each dial opens the three channels (control, gossip,
// qos) and is then closed. Counts the dials whose channels all opened; exits 1 unless all did.
// Usage: node libdatachannel_dial.mjs <f0mesh binary> [N]
import nd from 'node-datachannel';
if (process.env.F0_NDC_LOG) nd.initLogger(process.env.F0_NDC_LOG, (level, message) => console.error(`ndc ${level}: ${message}`));
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

const [binary, nArg] = process.argv.slice(2);
const N = Number(nArg || 200);
const freePort = () => new Promise((resolve) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'f0-ndc-'));
let worker = null;
let base = null;
const stop = () => {
  try { worker?.kill('SIGTERM'); } catch { /* gone */ }
  try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
};
process.on('exit', stop);

async function until(pred, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try { if (await pred()) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
// A port found free can be taken by another test before the worker binds it: then another.
for (let attempt = 0; ; attempt += 1) {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  worker = spawn(binary, ['worker', '--id', 'fz-ndc-worker', '--listen', `127.0.0.1:${port}`,
    '--data-dir', dir, '--ice-address', '127.0.0.1', '--open-registration', '--log-level', 'warn',
    '--peer-signaling-rate-min', '1000', '--peer-signaling-rate-max', '1000'],
  { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((r) => worker.on('exit', () => r('exited')));
  const up = await Promise.race([until(async () => (await fetch(`${base}/healthz`)).ok, 20000, 'the worker'), exited]);
  if (up !== 'exited') break;
  if (attempt === 4) throw new Error('the worker did not start');
}

// The peer's identity: an Ed25519 key; it registers without endpoints (it only dials).
const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
const me = 'fz-ndc';
let r = await fetch(`${base}/beacon`, { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ id: me, pubKey: pub, region: 'EU' }) });
if (!r.ok) throw new Error(`register: ${r.status} ${await r.text()}`);

// RFC 8785 for this envelope: string and integer values, keys sorted.
const canonical = (o) => `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(o[k])}`).join(',')}}`;
function envelope(sdp) {
  const e = { peerFrom: me, peerTo: 'fz-ndc-worker', type: 'offer', sdp, ts: Date.now(),
    nonce: crypto.randomBytes(16).toString('base64') };
  e.sig = crypto.sign(null, Buffer.from(canonical(e)), privateKey).toString('base64');
  return e;
}

async function dialOnce(i) {
  const t0 = Date.now();
  const pc = new nd.PeerConnection(`ndc-${i}`, { iceServers: [], bindAddress: '127.0.0.1' });
  try {
    const opened = new Set();
    const channels = [['control', {}], ['gossip', {}], ['qos', { unordered: true, maxRetransmits: 0 }]]
      .map(([label, init]) => {
        const dc = pc.createDataChannel(label, init);
        dc.onOpen(() => opened.add(label));
        return dc;
      });
    // Creating a channel starts negotiation (and gathering) by itself; wait for all candidates
    // (non-trickle: the envelope carries a complete description).
    pc.setLocalDescription();
    await until(() => pc.gatheringState() === 'complete', 5000, 'gathering').catch(() => {});
    const tGathered = Date.now();
    let offer = pc.localDescription().sdp;
    // For the record of what the worker's a=setup:passive answer fixed: with the offer saying
    // passive the worker must be the DTLS client, as every worker answer was before.
    if (process.env.F0_NDC_WORKER_AS_CLIENT) offer = offer.replace('a=setup:actpass', 'a=setup:passive');
    const res = await fetch(`${base}/offer`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(envelope(offer)) });
    const body = await res.json();
    if (res.status !== 200) return `offer ${res.status} ${body.error}: ${body.detail}`;
    try {
      pc.setRemoteDescription(body.sdp, 'answer');
    } catch (e) { // libdatachannel throws when its own state does not allow it
      return `libdatachannel refused the answer: ${e.message} (pc ${pc.state()}, ice ${pc.iceState()}, gathering ${pc.gatheringState()}, ${tGathered - t0} ms to gather)`;
    }
    await until(() => opened.size === 3, 15000, 'the three channels').catch(() => {});
    if (process.env.F0_NDC_TRACE) console.error(`dial ${i}: gathered in ${tGathered - t0} ms, open after ${Date.now() - tGathered} ms`);
    if (opened.size !== 3) return `channels open: ${[...opened].join(',') || 'none'} (pc ${pc.state()})`;
    for (const dc of channels) dc.close();
    return null;
  } finally {
    pc.close();
  }
}

let ok = 0;
const failures = [];
const started = Date.now();
for (let i = 0; i < N; i += 1) {
  const err = await dialOnce(i);
  if (err) failures.push(`dial ${i}: ${err}`); else ok += 1;
}
console.log(JSON.stringify({ test: 'libdatachannel_dials', dials: N, open: ok,
  seconds: Math.round((Date.now() - started) / 100) / 10, failures: failures.slice(0, 5) }));
stop();
// As the benchmark anchor does: exit without nd.cleanup() (tearing libdatachannel down while the
// last closed connections finish in its threads crashes node-datachannel).
process.exit(ok === N ? 0 : 1);
