// /ops/mesh: wires the live event stream and the mesh graph (GET /mesh, link-state gossip) to the
// globe, the tables, the details panel and the gossip view. "This worker" shows the registry and
// this worker's live links; "whole mesh" every node and link the graph tells of, this worker's own
// links merged in live. Background repaints are batched (at most 4 a second, however many events
// arrive); what the operator does (sort, filter, page, open, switch) repaints at once.
import './style.css';
import { type Handlers, mesh, peers as fetchPeers, qosHistory, subscribe } from './api';
import type { HistoryCharts, Range } from './chart';
import type { MeshGlobe, Pick } from './globe';
import { type MeshLink, type Peer, type Scope, State } from './model';
import { age, bindPeerButtons, bindRows, escape, lastSeen, type PeerRow, renderLinks, renderMeshLinks, renderPeers, TableView } from './tables';

const state = new State();
const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
// For tests and for the operator's curiosity: when the first whole-mesh view was on screen.
const marks: Record<string, number> = {};
(window as any).__f0 = marks;

// The scope: ?scope=worker|mesh in the address, else what this tab chose last, else the mesh.
const asked = new URLSearchParams(location.search).get('scope') ?? sessionStorage.getItem('f0-scope');
state.scope = asked === 'worker' ? 'worker' : 'mesh';

// The globe (three.js, ~2 MB) loads after the tables show the mesh (or after 2 s at the latest):
// its code and its first WebGL frame never hold up the first view of the data.
let globe: MeshGlobe | null = null;
let globeAsked = false;
function loadGlobe(): void {
  if (globeAsked) return;
  globeAsked = true;
  void import('./globe').then(({ MeshGlobe: G }) => {
    globe = new G($('#globe'), $('#hover'));
    globe.onPick = (p) => { if (p) open(p, null); };
    globe.describe = describe;
    paint();
  });
}
setTimeout(loadGlobe, 2000);

let scheduled = false;
let lastRender = 0;
const MIN_RENDER_GAP_MS = 250;

function render(): void {
  if (scheduled) return;
  scheduled = true;
  const wait = Math.max(0, lastRender + MIN_RENDER_GAP_MS - performance.now());
  setTimeout(() => requestAnimationFrame(() => { if (scheduled) paint(); }), wait);
}

const peersView = new TableView('peer', $('#peers thead'), paint);
const linksView = new TableView('peer', $('#links thead'), paint);
const meshView = new TableView('health', $('#mesh-links thead'), paint);
meshView.dir = -1; // the worst first
peersView.bindFilter($('#peers-filter'));
peersView.bindPager($('#peers-pager'));
// One filter box and pager for the links panel: they act on the table the scope shows.
const linksFilter = $('#links-filter') as HTMLInputElement;
linksFilter.oninput = () => {
  for (const v of [linksView, meshView]) { v.filter = linksFilter.value.trim().toLowerCase(); v.page = 0; }
  paint();
};
$('#links-pager').onclick = (e) => {
  const b = (e.target as HTMLElement).closest('button');
  if (!b) return;
  const v = state.scope === 'mesh' ? meshView : linksView;
  v.page += b.dataset.step === 'next' ? 1 : -1;
  paint();
};

// The peers as the scope has them: the registry, and in the whole mesh every node it tells of.
function peerRows(): PeerRow[] {
  const count = new Map<string, number>();
  const links = state.meshLinks();
  for (const l of links) for (const id of [l.a, l.b]) count.set(id, (count.get(id) ?? 0) + 1);
  const rows = new Map<string, PeerRow>();
  for (const p of state.peers.values()) rows.set(p.id, { ...p, links: count.get(p.id) ?? 0 });
  if (state.scope === 'mesh')
    for (const n of state.meshNodes().values())
      if (!rows.has(n.id))
        rows.set(n.id, { id: n.id, pubKey: '', region: n.region ?? '', endpoints: { webrtc: '' }, self: n.self,
          geo: n.lat !== undefined && n.lon !== undefined ? { lat: n.lat, lon: n.lon } : undefined, links: count.get(n.id) ?? 0 });
  return [...rows.values()];
}

function scopedLinks(): MeshLink[] {
  const all = state.meshLinks();
  return state.scope === 'mesh' ? all : all.filter((l) => l.own);
}

function paint(): void {
  scheduled = false;
  lastRender = performance.now();
  $('#self').textContent = state.self
    ? `${state.self.id} (${state.self.region || '?'})` + (state.self.delegation ? `, instance ${state.self.delegation.instance}` : '')
    : '…';
  for (const b of document.querySelectorAll<HTMLButtonElement>('.scope button'))
    b.setAttribute('aria-pressed', String(b.dataset.scope === state.scope));
  document.body.dataset.scope = state.scope;
  const rows = peerRows();
  renderPeers(state, rows, peersView, $('#peers tbody'), $('#peers-pager'));
  const mesh = state.scope === 'mesh';
  $('#links').hidden = mesh;
  $('#mesh-links').hidden = !mesh;
  $('#links-title').textContent = mesh ? 'Links of the whole mesh' : 'Active Links';
  const links = scopedLinks();
  if (mesh) renderMeshLinks(links, meshView, $('#mesh-links tbody'), $('#links-pager'));
  else renderLinks(state, linksView, $('#links tbody'), $('#links-pager'));
  markSelected();
  renderGossip();
  renderMeshStatus();
  refreshDetails();
  globe?.update(state, rows, links);
  document.body.dataset.ready = '1';
  if (mesh && state.mesh && !marks.meshRendered) {
    marks.meshRendered = performance.now();
    document.body.dataset.meshReady = '1';
  }
  if (state.mesh && !globeAsked) setTimeout(loadGlobe, 0); // after this frame
}

function renderMeshStatus(): void {
  const g = state.mesh;
  $('#mesh-status').textContent = g
    ? `${g.senders} workers reporting, ${state.meshLinks().length} links, updated ${age(state.meshFetchedMs)} ago`
    : 'mesh: waiting for link state…';
}

function renderGossip(): void {
  const ul = $('#gossip');
  const html = state.gossip.length === 0 ? '<li class="empty">no gossip messages yet</li>'
    : state.gossip.slice(-50).reverse()
      .map((g) => `<li><time>${new Date(g.ts).toLocaleTimeString()}</time> <b>${escape(g.from)}</b> ${escape(g.text)}</li>`).join('');
  if (ul.dataset.html !== html) { ul.dataset.html = html; ul.innerHTML = html; }
}

// ---- details ---------------------------------------------------------------------------------
let selected: Pick | null = null;
let opener: HTMLElement | null = null;
let range: Range = '1h';
let charts: HistoryCharts | null = null;
let chartFor = '';

function describe(p: Pick): string {
  if (p.kind === 'peer') {
    const peer = state.peers.get(p.id);
    const n = state.meshNodes().get(p.id);
    return `<b>${escape(p.id)}</b> (${escape(peer?.region ?? n?.region ?? '?')})` +
      (peer?.trust !== undefined ? `<br>trust ${peer.trust.toFixed(2)}` : '') +
      `<br>last seen ${state.links.get(p.id)?.state === 'open' ? 'now (linked)' : age(lastSeen(state, p.id))}`;
  }
  const l = state.meshLinks().find((x) => x.key === p.key);
  if (!l) return '';
  const f = (v: number | null, d = 1) => (v === null ? '—' : v.toFixed(d));
  return `<b>${escape(l.a)} ↔ ${escape(l.b)}</b> (${l.health})<br>RTT ${f(l.rttMs)} ms, jitter ${f(l.jitterMs, 2)} ms` +
    `<br>loss ${f(l.lossPct)} %, ${f(l.kbps)} kbps`;
}

function open(p: Pick, from: HTMLElement | null): void {
  selected = p;
  opener = from;
  globe?.select(p);
  refreshDetails(true);
  markSelected();
  $('#details').focus();
}

function close(): void {
  selected = null;
  globe?.select(null);
  charts?.destroy();
  chartFor = '';
  detailsFor = '';
  $('#details-title').textContent = 'Details';
  $('#details-body').innerHTML = '<p class="dim">Nothing selected.</p>';
  $('#details').dataset.open = '';
  markSelected();
  opener?.focus();
}

function markSelected(): void {
  document.querySelectorAll('tr.selected').forEach((r) => r.classList.remove('selected'));
  if (!selected) return;
  const sel = selected.kind === 'peer' ? `#peers tr[data-peer="${CSS.escape(selected.id)}"]`
    : `#mesh-links tr[data-link="${CSS.escape(selected.key)}"], #links tr[data-peer="${CSS.escape(ownPeer(selected.key) ?? '')}"]`;
  document.querySelectorAll(sel).forEach((r) => r.classList.add('selected'));
}

const ownPeer = (key: string): string | null => {
  const self = state.self?.id ?? '';
  const [a, b] = key.split('|');
  return a === self ? b : b === self ? a : null;
};

const num = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? '—' : v.toFixed(d));

// The panel: its frame (Close, the range buttons, the chart) is built once per selection and
// range; its figures follow the live state in place, so a focused button keeps its focus.
let detailsFor = '';
function refreshDetails(fresh = false): void {
  if (!selected) return;
  const body = $('#details-body');
  const panel = $('#details');
  const id = selected.kind === 'link' ? `link:${selected.key}` : `peer:${selected.id}`;
  let figures: string;

  if (selected.kind === 'link') {
    const key = selected.key;
    const l = state.meshLinks().find((x) => x.key === key);
    const [a, b] = key.split('|');
    $('#details-title').textContent = `Link ${a} ↔ ${b}`;
    const peer = ownPeer(key);
    const ends = l ? l.ends.map((e) => `<tr><td>${escape(e.from)}${e.instance ? ` <small>${escape(e.instance)}</small>` : ''}</td>` +
      `<td>${num(e.rttMs)}</td><td>${num(e.jitterMs, 2)}</td><td>${num(e.lossPct)}</td><td>${num(e.txKbps)}</td><td>${num(e.rxKbps)}</td>` +
      `<td>${e.health}</td><td>${escape(e.path) || '—'}</td></tr>`).join('') : '';
    figures = l
      ? `<p>health <b>${l.health}</b>${l.ends.length < 2 ? ' (one end reporting)' : ''}</p>` +
        `<table class="ends"><thead><tr><th>as seen by</th><th>RTT ms</th><th>jitter</th><th>loss %</th><th>tx kbps</th><th>rx kbps</th><th>health</th><th>path</th></tr></thead><tbody>${ends}</tbody></table>`
      : '<p class="dim">This link is not in the mesh any more.</p>';
    const frame = () => (peer
      ? `<div class="ranges" role="group" aria-label="history range">History from this worker's store: ` +
        `<button data-range="1h" aria-pressed="${range === '1h'}">1 h</button><button data-range="24h" aria-pressed="${range === '24h'}">24 h</button></div><div id="history"></div>`
      : `<p class="dim small">History is kept by the workers at its ends (${escape(a)}, ${escape(b)}): open their dashboards for it.</p>`);
    if (fresh || detailsFor !== `${id}/${range}`) {
      detailsFor = `${id}/${range}`;
      body.innerHTML = `<button class="close" aria-label="close details">Close</button><div class="figures"></div>${frame()}`;
      if (peer) void drawHistory(peer, key);
    }
  } else {
    const pid = selected.id;
    const p = state.peers.get(pid);
    const n = state.meshNodes().get(pid);
    const t = p?.trustDetail;
    const links = state.meshLinks().filter((l) => l.a === pid || l.b === pid);
    $('#details-title').textContent = `Peer ${pid}`;
    const offences = t?.offences && Object.keys(t.offences).length ? Object.entries(t.offences).map(([k, v]) => `${escape(k)} ${v}`).join(', ') : 'none';
    figures = `<p>region ${escape(p?.region ?? n?.region ?? '?')}${p?.endpoints?.webrtc ? `, signaling at <code>${escape(p.endpoints.webrtc)}</code>` : ''}</p>` +
      `<p>last seen: ${state.links.get(pid)?.state === 'open' ? 'now (linked to this worker)' : age(lastSeen(state, pid))}` +
      `${n?.reports?.length ? `; ${n.reports.length} worker${n.reports.length > 1 ? 's' : ''} reporting link state` : ''}</p>` +
      (t ? `<p>trust <b>${num(t.trust, 2)}</b>: QoS ${num(t.qos, 2)}, uptime ${num(t.uptime, 2)}, behaviour ${num(t.behaviour, 2)}<br>offences: ${offences}</p>` : '') +
      `<p>${links.length} link${links.length === 1 ? '' : 's'} in the mesh:</p><ul class="links">` +
      links.slice(0, 200).map((l) => `<li><button data-link="${escape(l.key)}"><span class="dot ${l.health}"></span>${escape(l.a === pid ? l.b : l.a)} — RTT ${num(l.rttMs)} ms, loss ${num(l.lossPct)} %</button></li>`).join('') +
      `</ul>`;
    if (fresh || detailsFor !== id) {
      detailsFor = id;
      body.innerHTML = `<button class="close" aria-label="close details">Close</button><div class="figures"></div>`;
    }
  }
  panel.dataset.open = id;
  const el = body.querySelector('.figures') as HTMLElement;
  if (el.dataset.html !== figures) { el.dataset.html = figures; el.innerHTML = figures; }
}

async function drawHistory(peer: string, key: string): Promise<void> {
  const want = `${key}/${range}`;
  chartFor = want;
  if (!charts) {
    const { HistoryCharts: H } = await import('./chart');
    charts = new H();
  }
  const el = document.getElementById('history');
  if (!el || chartFor !== want) return;
  await charts.show(el, peer, range);
}

$('#details').addEventListener('click', (e) => {
  const t = e.target as HTMLElement;
  if (t.closest('button.close')) return close();
  const r = t.closest('button[data-range]') as HTMLElement | null;
  if (r && selected?.kind === 'link') {
    range = r.dataset.range as Range;
    refreshDetails(true);
    return;
  }
  const l = t.closest('button[data-link]') as HTMLElement | null;
  if (l) open({ kind: 'link', key: l.dataset.link! }, l);
});
document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && selected) close(); });

bindRows($('#peers tbody'), (row) => open({ kind: 'peer', id: row.dataset.peer! }, row));
bindRows($('#links tbody'), (row) => {
  const self = state.self?.id ?? '';
  const peer = row.dataset.peer!;
  open({ kind: 'link', key: self < peer ? `${self}|${peer}` : `${peer}|${self}` }, row);
});
bindRows($('#mesh-links tbody'), (row) => open({ kind: 'link', key: row.dataset.link! }, row));
bindPeerButtons($('#peers tbody'), state, paint);

for (const b of document.querySelectorAll<HTMLButtonElement>('.scope button'))
  b.onclick = () => {
    state.scope = b.dataset.scope as Scope;
    sessionStorage.setItem('f0-scope', state.scope);
    paint();
  };

// ---- data ------------------------------------------------------------------------------------
async function loadHistory(peer: string): Promise<void> {
  if (state.history.has(peer)) return;
  state.history.set(peer, []);
  try {
    const h = await qosHistory(peer);
    state.history.set(peer, [...h, ...(state.history.get(peer) ?? [])].slice(-60));
    render();
  } catch { /* the link may be gone already */ }
}

// The graph: fetched at once, then every 3 s, or less often when it is large (five times what the
// last fetch cost), and at once after this worker's links change.
let meshTimer = 0;
let meshBusy = false;
async function refreshMesh(): Promise<void> {
  window.clearTimeout(meshTimer);
  if (meshBusy) return;
  meshBusy = true;
  const t0 = performance.now();
  let wait = 3000;
  try {
    const first = !state.mesh;
    state.mesh = await mesh();
    state.meshFetchedMs = Date.now();
    state.touch();
    if (first) paint(); // the first whole-mesh view waits for nothing
    else render();
    wait = Math.max(3000, 5 * (performance.now() - t0));
  } catch {
    wait = 5000; // the worker is restarting, or this is a worker without /mesh: try again
  } finally {
    meshBusy = false;
    meshTimer = window.setTimeout(() => void refreshMesh(), wait);
  }
}
let soonTimer = 0;
const meshSoon = () => { window.clearTimeout(soonTimer); soonTimer = window.setTimeout(() => void refreshMesh(), 1500); };

async function loadPeers(): Promise<void> {
  const list: Peer[] = await fetchPeers();
  state.peers = new Map(list.map((p) => [p.id, p]));
  state.touch();
  render();
}

const handlers: Handlers = {
  snapshot(s) {
    state.applySnapshot(s);
    for (const l of s.links) void loadHistory(l.peer);
    render();
    // Trust's components and more than the snapshot's first 1,000 peers come from GET /peers.
    void loadPeers().catch(() => {});
    void refreshMesh();
  },
  link(l) {
    state.applyLink(l);
    if (l.state === 'open') void loadHistory(l.peer);
    render();
    meshSoon(); // the far ends' reports of a new link follow within seconds (link-state gossip)
  },
  async peer() {
    await loadPeers().catch(() => {});
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
// Ages move even when nothing else does; trust drifts without events.
setInterval(render, 1000);
setInterval(() => void loadPeers().catch(() => {}), 15000);
