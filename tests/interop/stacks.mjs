// The WebRTC stacks of the interop matrix behind one interface: Chromium (a page driven by
// playwright-core), libdatachannel (npm node-datachannel) and werift (npm werift). aiortc has its
// own script (aiortc_interop.py), which follows the same plan.
//
// Every stack speaks in (label, size, kind) terms: a message's bytes are made from its size and
// kind by payload() on both ends, and checked by length and SHA-256, so 16 MiB never crosses the
// page boundary. Channels keep what they receive in a queue; expect() takes the first message of
// the expected length (other messages, such as a worker's hello, stay) and compares its digest and
// kind.
import crypto from 'node:crypto';

export const KINDS = ['text', 'binary'];

// The bytes of a test message (the page has the same code, PAGE_LIB below).
export function payload(size, kind) {
  if (kind === 'text') {
    const b = Buffer.alloc(size);
    for (let i = 0; i < size; i += 1) b[i] = 33 + ((i * 7 + size) % 90);
    return b.toString('latin1');
  }
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) b[i] = (i * 31 + size) & 255;
  return b;
}
export const digest = (data) => crypto.createHash('sha256')
  .update(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data)).digest('hex');
export const expected = (size, kind) => digest(payload(size, kind));

// a=max-message-size of a description (RFC 8841: 64 KiB when absent; 0 means no limit).
export function maxMessageSize(sdp) {
  const m = /a=max-message-size:(\d+)/.exec(sdp || '');
  if (!m) return 65536;
  const v = Number(m[1]);
  return v === 0 ? Infinity : v;
}

// Tests reach loopback only: candidates on any other address are taken out of every description
// before it is handed on (a stack gathers its host's interfaces whatever it is told).
export function loopbackOnly(sdp) {
  return sdp.split('\r\n').filter((line) => {
    if (!line.startsWith('a=candidate:')) return true;
    const addr = line.split(' ')[4];
    return addr.startsWith('127.') || addr === '::1';
  }).join('\r\n');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export async function until(pred, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    try { const v = await pred(); if (v) return v; } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

// What node-side stacks share: per-channel queues, open/close times.
class NodeStack {
  constructor(name) { this.name = name; this.ch = new Map(); }
  slot(label) {
    if (!this.ch.has(label)) this.ch.set(label, { queue: [], openAt: null, closedAt: null });
    return this.ch.get(label);
  }
  received(label, data) {
    const text = typeof data === 'string';
    const bytes = text ? Buffer.from(data, 'utf8') : Buffer.from(data);
    this.slot(label).queue.push({ len: bytes.length, sha: digest(bytes), kind: text ? 'text' : 'binary' });
  }
  async waitOpen(labels, ms = 20000) {
    await until(() => labels.every((l) => this.ch.get(l)?.openAt), ms, `${this.name}: channels ${labels} open`);
  }
  async expect(label, size, kind, ms) {
    const q = this.slot(label).queue;
    const got = await until(() => { const i = q.findIndex((m) => m.len === size); return i >= 0 ? q.splice(i, 1)[0] : null; },
      ms, `${this.name}: a ${size} B message on ${label}`).catch(() => null);
    if (!got) return { ok: false, detail: 'nothing of that length arrived' };
    const ok = got.sha === expected(size, kind) && got.kind === kind;
    return { ok, detail: ok ? '' : `got ${got.kind} sha ${got.sha.slice(0, 12)}` };
  }
  // performance.now() when every listed channel had closed, or null after ms.
  async closedAt(labels, ms) {
    return until(() => (labels.every((l) => this.ch.get(l)?.closedAt)
      ? Math.max(...labels.map((l) => this.ch.get(l).closedAt)) : null), ms, `${this.name}: ${labels} closed`).catch(() => null);
  }
}

// libdatachannel through node-datachannel.
export class LibDataChannel extends NodeStack {
  constructor(nd, maxMessageSize) {
    super('libdatachannel');
    this.nd = nd;
    this.pc = new nd.PeerConnection(`matrix-${Date.now()}`, { iceServers: [], bindAddress: '127.0.0.1', maxMessageSize });
    this.dcs = new Map();
    this.pc.onDataChannel((dc) => this.adopt(dc));
  }
  adopt(dc) {
    const label = dc.getLabel();
    this.dcs.set(label, dc);
    const s = this.slot(label);
    if (dc.isOpen()) s.openAt = performance.now();
    dc.onOpen(() => { s.openAt = performance.now(); });
    dc.onClosed(() => { s.closedAt ??= performance.now(); });
    dc.onMessage((m) => this.received(label, m));
  }
  create(label, init = {}) {
    const cfg = {};
    if (init.ordered === false) cfg.unordered = true;
    if (init.maxRetransmits !== undefined) cfg.maxRetransmits = init.maxRetransmits;
    if (init.negotiated) { cfg.negotiated = true; cfg.id = init.id; }
    this.adopt(this.pc.createDataChannel(label, cfg));
  }
  async gathered() {
    await until(() => this.pc.gatheringState() === 'complete', 10000, 'libdatachannel gathering');
    return loopbackOnly(this.pc.localDescription().sdp);
  }
  async offer() { this.pc.setLocalDescription(); return this.gathered(); }
  // libdatachannel answers by itself once it has the offer (calling setLocalDescription() again
  // would make a new offer).
  async answer(sdp) { this.pc.setRemoteDescription(sdp, 'offer'); return this.gathered(); }
  async applyAnswer(sdp) { this.pc.setRemoteDescription(sdp, 'answer'); }
  sendCap(label) { return this.dcs.get(label).maxMessageSize(); }
  async send(label, size, kind) {
    const dc = this.dcs.get(label);
    const data = payload(size, kind);
    const ok = kind === 'text' ? dc.sendMessage(data) : dc.sendMessageBinary(data);
    if (!ok) throw new Error(`libdatachannel refused to send ${size} B`);
  }
  async closeChannel(label) { this.dcs.get(label).close(); }
  async close() { this.pc.close(); }
}

// werift (pure TypeScript).
export class Werift extends NodeStack {
  constructor(werift, maxMessageSize) {
    super('werift');
    // werift 0.25.2 sends an empty message as no DATA chunk at all, yet counts its stream sequence
    // number (sctp.js send(): zero fragments, outboundStreamSeq + 1), so every later message on
    // that ordered stream waits at the receiver for one that never comes. RFC 8831 6.6 sends an
    // empty message as one byte with PPID 56/57. So werift is not asked to send 0 B.
    this.sendsEmpty = false;
    // ...and announces a channel that is both unordered and partially reliable as ordered: its
    // DATA_CHANNEL_OPEN sets channel type 0x01 over the unordered bit 0x80 (dataChannelOpen()).
    this.announcesUnorderedPartialAsOrdered = true;
    this.w = werift;
    this.pc = new werift.RTCPeerConnection({ iceServers: [], iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'],
      iceInterfaceAddresses: { udp4: '127.0.0.1' }, maxMessageSize });
    this.dcs = new Map();
    this.pc.onDataChannel.subscribe((dc) => this.adopt(dc));
  }
  adopt(dc) {
    const label = dc.label;
    this.dcs.set(label, dc);
    const s = this.slot(label);
    if (dc.readyState === 'open') s.openAt = performance.now();
    dc.stateChanged.subscribe((st) => {
      if (st === 'open') s.openAt ??= performance.now();
      if (st === 'closed') s.closedAt ??= performance.now();
    });
    dc.onMessage.subscribe((m) => this.received(label, m));
  }
  create(label, init = {}) {
    const cfg = {};
    if (init.ordered === false) cfg.ordered = false;
    if (init.maxRetransmits !== undefined) cfg.maxRetransmits = init.maxRetransmits;
    if (init.negotiated) { cfg.negotiated = true; cfg.id = init.id; }
    this.adopt(this.pc.createDataChannel(label, cfg));
  }
  async gathered() {
    await until(() => this.pc.iceGatheringState === 'complete', 10000, 'werift gathering');
    return loopbackOnly(this.pc.localDescription.sdp);
  }
  async offer() { await this.pc.setLocalDescription(await this.pc.createOffer()); return this.gathered(); }
  async answer(sdp) {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.gathered();
  }
  async applyAnswer(sdp) { await this.pc.setRemoteDescription({ type: 'answer', sdp }); }
  sendCap() {
    const remote = maxMessageSize(this.pc.remoteDescription?.sdp);
    return remote;
  }
  async send(label, size, kind) { this.dcs.get(label).send(payload(size, kind)); }
  debug() {
    const sc = this.pc.sctpTransport?.sctp;
    if (!sc) return 'no sctp';
    const streams = Object.entries(sc.inboundStreams).map(([id, x]) => `${id}: ssn ${x.streamSequenceNumber} pieces ${x.reassembly.length}` +
      (x.reassembly.length ? ` first ${x.reassembly[0].tsn}/${x.reassembly[0].streamSeqNum}/${x.reassembly[0].flags}` : ''));
    return `state ${sc.associationState} lastReceivedTsn ${sc.lastReceivedTsn} misordered ${sc.sackMisOrdered.size} ` +
      `rwnd ${sc.advertisedRwnd} outbound ${sc.outboundQueue?.length} sent ${sc.sentQueue?.length} | ${streams.join(' | ')}`;
  }
  async closeChannel(label) { this.dcs.get(label).close(); }
  async close() { await this.pc.close(); }
}

// Chromium: everything happens in a page; node holds only the page handle.
export const PAGE_LIB = () => {
  const payload = (size, kind) => {
    if (kind === 'text') {
      const b = new Uint8Array(size);
      for (let i = 0; i < size; i += 1) b[i] = 33 + ((i * 7 + size) % 90);
      return new TextDecoder('latin1').decode(b);
    }
    const b = new Uint8Array(size);
    for (let i = 0; i < size; i += 1) b[i] = (i * 31 + size) & 255;
    return b;
  };
  const hex = (buf) => [...new Uint8Array(buf)].map((x) => x.toString(16).padStart(2, '0')).join('');
  window.f0 = {
    pc: null, ch: {},
    slot(label) { return (f0.ch[label] ??= { queue: [], openAt: null, closedAt: null, chain: Promise.resolve() }); },
    adopt(dc) {
      dc.binaryType = 'arraybuffer';
      const s = f0.slot(dc.label);
      s.dc = dc;
      if (dc.readyState === 'open') s.openAt = performance.now();
      dc.addEventListener('open', () => { s.openAt ??= performance.now(); });
      dc.addEventListener('close', () => { s.closedAt ??= performance.now(); });
      dc.addEventListener('message', (e) => {
        const text = typeof e.data === 'string';
        const bytes = text ? new TextEncoder().encode(e.data) : new Uint8Array(e.data);
        // Digests are computed in arrival order.
        s.chain = s.chain.then(async () => {
          s.queue.push({ len: bytes.length, sha: hex(await crypto.subtle.digest('SHA-256', bytes)), kind: text ? 'text' : 'binary' });
        });
      });
    },
    newPc() {
      f0.pc = new RTCPeerConnection({ iceServers: [] });
      f0.pc.ondatachannel = (e) => f0.adopt(e.channel);
    },
    gathered() {
      return new Promise((res) => {
        const done = () => res(f0.pc.localDescription.sdp);
        if (f0.pc.iceGatheringState === 'complete') return done();
        f0.pc.addEventListener('icegatheringstatechange', () => f0.pc.iceGatheringState === 'complete' && done());
      });
    },
    create(label, init) { f0.adopt(f0.pc.createDataChannel(label, init)); },
    async offer() { await f0.pc.setLocalDescription(await f0.pc.createOffer()); return f0.gathered(); },
    async answer(sdp) {
      await f0.pc.setRemoteDescription({ type: 'offer', sdp });
      await f0.pc.setLocalDescription(await f0.pc.createAnswer());
      return f0.gathered();
    },
    applyAnswer(sdp) { return f0.pc.setRemoteDescription({ type: 'answer', sdp }); },
    open(labels) { return labels.every((l) => f0.ch[l]?.openAt); },
    sendCap() { return f0.pc.sctp ? f0.pc.sctp.maxMessageSize : 0; },
    send(label, size, kind) { f0.ch[label].dc.send(payload(size, kind)); },
    async expectedSha(size, kind) {
      const p = payload(size, kind);
      return hex(await crypto.subtle.digest('SHA-256', typeof p === 'string' ? new TextEncoder().encode(p) : p));
    },
    take(label, size) {
      const q = f0.slot(label).queue;
      const i = q.findIndex((m) => m.len === size);
      return i >= 0 ? q.splice(i, 1)[0] : null;
    },
    closedAt(labels) { return labels.every((l) => f0.ch[l]?.closedAt) ? Math.max(...labels.map((l) => f0.ch[l].closedAt)) : null; },
    // The page's own dial: register as a dial-only peer and POST a signed offer, with fetch from
    // this origin to the worker's (CORS), signing with WebCrypto Ed25519.
    async dial(base, me, worker, offer) {
      const key = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
      const raw = new Uint8Array(await crypto.subtle.exportKey('raw', key.publicKey));
      const b64 = (u8) => btoa(String.fromCharCode(...u8));
      let r = await fetch(`${base}/beacon`, { method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: me, pubKey: b64(raw), region: 'EU' }) });
      if (!r.ok) return { error: `register: ${r.status} ${await r.text()}` };
      const e = { nonce: b64(crypto.getRandomValues(new Uint8Array(16))), peerFrom: me, peerTo: worker, sdp: offer, ts: Date.now(), type: 'offer' };
      const canonical = `{${Object.keys(e).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(e[k])}`).join(',')}}`;
      e.sig = b64(new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key.privateKey, new TextEncoder().encode(canonical))));
      r = await fetch(`${base}/offer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(e) });
      const body = await r.json();
      if (r.status !== 200) return { error: `offer: ${r.status} ${body.error}: ${body.detail}` };
      return { answer: body };
    },
  };
};

export class Chromium {
  constructor(page) { this.name = 'chromium'; this.page = page; }
  static async open(context, origin) {
    const page = await context.newPage();
    await page.goto(origin);
    await page.evaluate(PAGE_LIB);
    await page.evaluate(() => f0.newPc());
    return new Chromium(page);
  }
  create(label, init = {}) { return this.page.evaluate(([l, i]) => f0.create(l, i), [label, init]); }
  async offer() { return loopbackOnly(await this.page.evaluate(() => f0.offer())); }
  async answer(sdp) { return loopbackOnly(await this.page.evaluate((s) => f0.answer(s), sdp)); }
  applyAnswer(sdp) { return this.page.evaluate((s) => f0.applyAnswer(s), sdp); }
  async waitOpen(labels, ms = 20000) {
    await until(() => this.page.evaluate((l) => f0.open(l), labels), ms, `chromium: channels ${labels} open`);
  }
  sendCap() { return this.page.evaluate(() => f0.sendCap()); }
  send(label, size, kind) { return this.page.evaluate(([l, s, k]) => f0.send(l, s, k), [label, size, kind]); }
  async expect(label, size, kind, ms) {
    const got = await until(() => this.page.evaluate(([l, s]) => f0.take(l, s), [label, size]), ms,
      `chromium: a ${size} B message on ${label}`).catch(() => null);
    if (!got) return { ok: false, detail: 'nothing of that length arrived' };
    const ok = got.sha === expected(size, kind) && got.kind === kind;
    return { ok, detail: ok ? '' : `got ${got.kind} sha ${got.sha.slice(0, 12)}` };
  }
  // The page's clock and node's differ: closes are timed on node's side, polling the page.
  async closedAt(labels, ms) {
    return until(async () => ((await this.page.evaluate((l) => f0.closedAt(l), labels)) ? performance.now() : null),
      ms, `chromium: ${labels} closed`).catch(() => null);
  }
  closeChannel(label) { return this.page.evaluate((l) => f0.ch[l].dc.close(), label); }
  async close() { await this.page.evaluate(() => f0.pc.close()); await this.page.close(); }
}
