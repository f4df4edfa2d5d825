// The peers table (with Connect / Disconnect) and the Active Links table (sortable, with a small
// chart of each link's recent RTT and loss).
import { dial, disconnect } from './api';
import { HEALTH_COLOURS, type Link, type Qos, type State } from './model';

const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : v.toFixed(digits));

function age(ms: number | null): string {
  if (!ms) return '—';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function renderPeers(state: State, tbody: HTMLElement, rerender: () => void): void {
  const rows: string[] = [];
  for (const p of [...state.peers.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    if (p.self) continue;
    const link = state.links.get(p.id);
    const pending = state.pending.get(p.id);
    const linked = link && link.state !== 'failed';
    const button = linked
      ? `<button class="disconnect" data-peer="${p.id}">Disconnect</button>`
      : `<button class="connect" data-peer="${p.id}" ${pending === 'connecting…' ? 'disabled' : ''}>Connect</button>`;
    const status = pending ? `<span class="pending ${pending === 'connecting…' ? '' : 'error'}">${escape(pending)}</span>` : '';
    const served = p.instances?.length
      ? ` <small class="instances">${p.instances.length} instances: ${p.instances.map((i) => escape(i.delegation.instance)).join(', ')}</small>`
      : '';
    rows.push(`<tr data-peer="${p.id}"><td>${p.id}${served}</td><td>${escape(p.region)}</td>` +
      `<td>${p.trust === undefined ? '—' : p.trust.toFixed(2)}</td>` +
      `<td class="state">${link ? link.state : '—'}</td><td>${button} ${status}</td></tr>`);
  }
  const html = rows.join('');
  if (tbody.dataset.html === html) return; // unchanged: keep the DOM (and the buttons) as they are
  tbody.dataset.html = html;
  tbody.innerHTML = html;
  tbody.querySelectorAll<HTMLButtonElement>('button.connect').forEach((b) => (b.onclick = async () => {
    const peer = b.dataset.peer!;
    state.pending.set(peer, 'connecting…');
    rerender();
    try {
      const link: Link = await dial(peer);
      state.links.set(peer, { ...state.links.get(peer), ...link });
      state.pending.delete(peer);
    } catch (e) {
      state.pending.set(peer, `failed: ${(e as Error).message}`);
    }
    rerender();
  }));
  tbody.querySelectorAll<HTMLButtonElement>('button.disconnect').forEach((b) => (b.onclick = async () => {
    const peer = b.dataset.peer!;
    try {
      await disconnect(peer);
      state.links.delete(peer);
      state.pending.delete(peer);
    } catch (e) {
      state.pending.set(peer, `failed: ${(e as Error).message}`);
    }
    rerender();
  }));
}

type SortKey = 'peer' | 'state' | 'rtt' | 'jitter' | 'loss' | 'bitrate' | 'health' | 'age';
const HEALTH_ORDER = { good: 0, degraded: 1, bad: 2, unknown: 3 };
let sortKey: SortKey = 'peer';
let sortDir = 1;

function key(l: Link, k: SortKey): number | string {
  switch (k) {
    case 'peer': return l.peer;
    case 'state': return l.state;
    case 'rtt': return l.qos?.rttMs ?? Infinity;
    case 'jitter': return l.qos?.jitterMs ?? Infinity;
    case 'loss': return l.qos?.lossPct ?? Infinity;
    case 'bitrate': return l.qos?.bitrateKbps ?? -1;
    case 'health': return HEALTH_ORDER[l.health ?? 'unknown'];
    case 'age': return -(l.openedMs ?? Date.now());
  }
}

export function bindSorting(thead: HTMLElement, rerender: () => void): void {
  thead.querySelectorAll<HTMLElement>('th[data-sort]').forEach((th) => (th.onclick = () => {
    const k = th.dataset.sort as SortKey;
    sortDir = k === sortKey ? -sortDir : 1;
    sortKey = k;
    thead.querySelectorAll('th').forEach((x) => x.classList.remove('asc', 'desc'));
    th.classList.add(sortDir > 0 ? 'asc' : 'desc');
    rerender();
  }));
}

// A two-line sparkline: RTT (blue, own scale) and loss (red, 0-100 %).
function sparkline(h: Qos[] | undefined): string {
  if (!h || h.length < 1) return '<svg class="spark" width="120" height="28"></svg>';
  const w = 120, ht = 28;
  const rtts = h.map((q) => q.rttMs ?? 0);
  const max = Math.max(1, ...rtts);
  const x = (i: number) => (h.length === 1 ? w / 2 : (i * (w - 2)) / (h.length - 1) + 1);
  const line = (vals: number[], scale: number) =>
    vals.map((v, i) => `${x(i).toFixed(1)},${(ht - 2 - (v / scale) * (ht - 4)).toFixed(1)}`).join(' ');
  return `<svg class="spark" width="${w}" height="${ht}"><polyline fill="none" stroke="#3498db" stroke-width="1.5" points="${line(rtts, max)}"/>` +
    `<polyline fill="none" stroke="#e74c3c" stroke-width="1" points="${line(h.map((q) => q.lossPct), 100)}"/></svg>`;
}

export function renderLinks(state: State, tbody: HTMLElement): void {
  const links = [...state.links.values()].sort((a, b) => {
    const ka = key(a, sortKey), kb = key(b, sortKey);
    return (ka < kb ? -1 : ka > kb ? 1 : 0) * sortDir;
  });
  const html = links.map((l) => {
    const q = l.qos;
    const colour = HEALTH_COLOURS[l.health ?? 'unknown'];
    return `<tr data-peer="${l.peer}" class="health-${l.health ?? 'unknown'}"><td>${l.peer}${l.instance ? ` <small class="instance">via ${escape(l.instance)}</small>` : ''}</td><td>${l.state}${detail(l)}</td>` +
      `<td class="rtt">${fmt(q?.rttMs)}</td><td class="jitter">${fmt(q?.jitterMs, 2)}</td><td class="loss">${fmt(q?.lossPct)}</td>` +
      `<td class="bitrate">${fmt(q?.bitrateKbps)}</td>` +
      `<td><span class="dot" style="background:${colour}"></span>${l.health ?? 'unknown'}</td>` +
      `<td>${age(l.openedMs)}</td><td>${sparkline(state.history.get(l.peer))}</td></tr>`;
  }).join('');
  if (tbody.dataset.html === html) return;
  tbody.dataset.html = html;
  tbody.innerHTML = html;
}

// Under the state: how an open link goes (the ICE pair), or why a failed one failed and when it is
// tried again.
function detail(l: Link): string {
  if (l.state === 'open' && l.path) {
    const p = l.path;
    const how = p.relay ? `relayed (TURN${p.relayProtocol ? ' over ' + p.relayProtocol : ''})` : 'direct';
    return `<div class="why">${how}: ${escape(p.localType)} / ${escape(p.remoteType)}</div>`;
  }
  if ((l.state === 'failed' || l.state === 'closed') && l.lastError) {
    const next = l.nextRedialMs ? ` — next try in ${Math.max(0, Math.round((l.nextRedialMs - Date.now()) / 1000))} s` : '';
    return `<div class="why">${escape(l.lastError)}${next}</div>`;
  }
  return '';
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}
