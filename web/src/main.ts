// /ops/mesh: wires the live event stream to the peers table, the links table, the globe and the
// gossip view. Rendering is batched to one frame, so a burst of events costs one repaint.
import './style.css';
import { type Handlers, qosHistory, subscribe } from './api';
import type { MeshGlobe } from './globe';
import { State } from './model';
import { bindSorting, renderLinks, renderPeers } from './tables';

const state = new State();
const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
// The globe (three.js, ~2.7 MB) loads after the tables are up: the first paint never waits on WebGL.
let globe: MeshGlobe | null = null;
void import('./globe').then(({ MeshGlobe: G }) => {
  globe = new G($('#globe'), $('#hover'));
  render();
});
let scheduled = false;
let lastRender = 0;
const MIN_RENDER_GAP_MS = 250; // at most 4 repaints a second, however many events arrive

function render(): void {
  if (scheduled) return;
  scheduled = true;
  const wait = Math.max(0, lastRender + MIN_RENDER_GAP_MS - performance.now());
  setTimeout(() => requestAnimationFrame(paint), wait);
}

function paint(): void {
  {
    scheduled = false;
    lastRender = performance.now();
    $('#self').textContent = state.self
      ? `${state.self.id} (${state.self.region || '?'})` +
        (state.self.delegation ? `, instance ${state.self.delegation.instance}` : '')
      : '…';
    renderPeers(state, $('#peers tbody'), render);
    renderLinks(state, $('#links tbody'));
    renderGossip();
    globe?.update(state);
    document.body.dataset.ready = '1';
  }
}

function renderGossip(): void {
  const ul = $('#gossip');
  if (state.gossip.length === 0) {
    ul.innerHTML = '<li class="empty">no gossip messages yet</li>';
    return;
  }
  ul.innerHTML = state.gossip.slice(-50).reverse()
    .map((g) => `<li><time>${new Date(g.ts).toLocaleTimeString()}</time> <b>${g.from}</b> ${g.text}</li>`).join('');
}

async function loadHistory(peer: string): Promise<void> {
  if (state.history.has(peer)) return;
  state.history.set(peer, []);
  try {
    const h = await qosHistory(peer);
    state.history.set(peer, [...h, ...(state.history.get(peer) ?? [])].slice(-60));
    render();
  } catch { /* the link may be gone already */ }
}

bindSorting($('#links thead'), render);
const handlers: Handlers = {
  snapshot(s) {
    state.applySnapshot(s);
    for (const l of s.links) void loadHistory(l.peer);
    render();
    // A large mesh: the snapshot holds the first peers only; the list comes from GET /peers.
    if ((s.peersTotal ?? 0) > s.peers.length) void handlers.peer();
  },
  link(l) {
    state.applyLink(l);
    if (l.state === 'open') void loadHistory(l.peer);
    render();
  },
  async peer() {
    const { peers } = await import('./api');
    const list = await peers();
    state.peers = new Map(list.map((p: any) => [p.id, p]));
    render();
  },
  qos(peer, q) {
    state.applyQos(peer, q);
    render();
  },
  control(peer, message) {
    state.gossip.push({ ts: Date.now(), from: peer, text: `control: ${JSON.stringify(message)}` });
    render();
  },
  gossip(d) {
    state.gossip.push({ ts: d.ts ?? Date.now(), from: d.from, text: `${d.topic ?? ''} ${JSON.stringify(d.payload ?? '')}` });
    if (state.gossip.length > 500) state.gossip.splice(0, state.gossip.length - 500);
    render();
  },
  connection(up) {
    const c = $('#conn');
    c.textContent = up ? 'live' : 'reconnecting…';
    c.className = `conn ${up ? 'up' : 'down'}`;
  },
};
subscribe(handlers);
// Ages move even when nothing else does.
setInterval(render, 1000);
