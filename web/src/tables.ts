// The tables: peers (with trust and its components, last seen, Connect / Disconnect), this
// worker's links (live, with a sparkline), and the whole mesh's links. Each sorts by its headers,
// filters by the text in its search box and shows one page of rows, so 1,000 peers and 5,000
// links cost a sort and a page of DOM, not 5,000 rows. Rows are focusable: Enter or a click opens
// the details. Events are delegated to each tbody (one listener, however many rows).
import { dial, disconnect } from './api';
import { HEALTH_COLOURS, HEALTH_ORDER, type Link, type MeshLink, type Peer, type Qos, type State, type TrustDetail } from './model';

export const PAGE = 100;
const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : v.toFixed(digits));

export function age(ms: number | null | undefined): string {
  if (!ms) return '—';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function escape(s: string | undefined | null): string {
  return (s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

// One table's view: sort column and direction, filter text, page.
export class TableView {
  key: string;
  dir = 1;
  filter = '';
  page = 0;
  constructor(key: string, thead: HTMLElement, private rerender: () => void) {
    this.key = key;
    thead.querySelectorAll<HTMLElement>('th[data-sort]').forEach((th) => {
      th.tabIndex = 0;
      th.setAttribute('aria-sort', 'none');
      const sort = () => {
        const k = th.dataset.sort!;
        this.dir = k === this.key ? -this.dir : 1;
        this.key = k;
        this.page = 0;
        thead.querySelectorAll('th').forEach((x) => { x.classList.remove('asc', 'desc'); if (x.hasAttribute('aria-sort')) x.setAttribute('aria-sort', 'none'); });
        th.classList.add(this.dir > 0 ? 'asc' : 'desc');
        th.setAttribute('aria-sort', this.dir > 0 ? 'ascending' : 'descending');
        this.rerender();
      };
      th.onclick = sort;
      th.onkeydown = (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } };
    });
  }
  bindFilter(input: HTMLInputElement): void {
    input.oninput = () => { this.filter = input.value.trim().toLowerCase(); this.page = 0; this.rerender(); };
  }
  bindPager(el: HTMLElement): void {
    el.onclick = (e) => {
      const b = (e.target as HTMLElement).closest('button');
      if (!b) return;
      this.page += b.dataset.step === 'next' ? 1 : -1;
      this.rerender();
    };
  }
  // Filtered, sorted, one page; the pager says where it is.
  window<T>(rows: T[], text: (r: T) => string, value: (r: T, k: string) => number | string, pager: HTMLElement | null): T[] {
    const f = this.filter;
    const kept = f ? rows.filter((r) => text(r).toLowerCase().includes(f)) : rows;
    const keyed = kept.map((r) => [value(r, this.key), r] as const);
    keyed.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0) * this.dir);
    const pages = Math.max(1, Math.ceil(keyed.length / PAGE));
    this.page = Math.min(Math.max(0, this.page), pages - 1);
    const from = this.page * PAGE;
    const out = keyed.slice(from, from + PAGE).map((x) => x[1]);
    if (pager) {
      const html = keyed.length <= PAGE ? (f ? `${keyed.length} of ${rows.length}` : '')
        : `<button data-step="prev" ${this.page === 0 ? 'disabled' : ''} aria-label="previous page">‹</button> ` +
          `${from + 1}–${from + out.length} of ${keyed.length}${f ? ` (filtered from ${rows.length})` : ''} ` +
          `<button data-step="next" ${this.page >= pages - 1 ? 'disabled' : ''} aria-label="next page">›</button>`;
      if (pager.dataset.html !== html) { pager.dataset.html = html; pager.innerHTML = html; }
      pager.dataset.total = String(keyed.length);
    }
    return out;
  }
}

// A row: its key (data-peer or data-link), class and cells.
interface Row { attr: 'peer' | 'link'; key: string; cls?: string; cells: string }

// Rows are updated in place when the same keys are shown in the same order (figures move every
// second): the <tr> elements stay, so focus, a pointer on a row and a click in progress survive.
// A different set or order rebuilds the page of rows.
function setRows(tbody: HTMLElement, rows: Row[]): void {
  const keys = rows.map((r) => r.key).join('\n');
  const trs = tbody.children;
  if (tbody.dataset.keys === keys && trs.length === rows.length) {
    rows.forEach((r, i) => {
      const tr = trs[i] as HTMLElement & { _cells?: string };
      if (tr.className !== (r.cls ?? '')) tr.className = r.cls ?? '';
      if (tr._cells !== r.cells) { tr._cells = r.cells; tr.innerHTML = r.cells; }
    });
    return;
  }
  const active = document.activeElement as HTMLElement | null;
  const again = active && tbody.contains(active) ? (active.closest('tr')?.dataset.peer ?? active.closest('tr')?.dataset.link) : undefined;
  tbody.dataset.keys = keys;
  tbody.innerHTML = rows.map((r) => `<tr tabindex="0" data-${r.attr}="${escape(r.key)}"${r.cls ? ` class="${r.cls}"` : ''}>${r.cells}</tr>`).join('');
  rows.forEach((r, i) => { (trs[i] as HTMLElement & { _cells?: string })._cells = r.cells; });
  if (again) (tbody.querySelector(`tr[data-peer="${CSS.escape(again)}"], tr[data-link="${CSS.escape(again)}"]`) as HTMLElement | null)?.focus();
}

// Rows open details on click or Enter (not when a button in them was pressed).
export function bindRows(tbody: HTMLElement, open: (row: HTMLElement) => void): void {
  tbody.addEventListener('click', (e) => {
    const t = e.target as HTMLElement;
    if (t.closest('button')) return;
    const row = t.closest('tr');
    if (row) open(row);
  });
  tbody.addEventListener('keydown', (e) => {
    const row = (e.target as HTMLElement).closest('tr');
    if (!row || e.target !== row) return;
    if (e.key === 'Enter') { e.preventDefault(); open(row); }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      ((e.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling) as HTMLElement | null)?.focus();
    }
  });
}

// Connect / Disconnect, delegated.
export function bindPeerButtons(tbody: HTMLElement, state: State, rerender: () => void): void {
  tbody.addEventListener('click', async (e) => {
    const b = (e.target as HTMLElement).closest('button') as HTMLButtonElement | null;
    if (!b || !b.dataset.peer) return;
    const peer = b.dataset.peer;
    if (b.classList.contains('connect')) {
      state.pending.set(peer, 'connecting…');
      rerender();
      try {
        const link: Link = await dial(peer);
        state.applyLink({ ...state.links.get(peer), ...link });
        state.pending.delete(peer);
      } catch (err) {
        state.pending.set(peer, `failed: ${(err as Error).message}`);
      }
    } else if (b.classList.contains('disconnect')) {
      try {
        await disconnect(peer);
        state.links.delete(peer);
        state.touch();
        state.pending.delete(peer);
      } catch (err) {
        state.pending.set(peer, `failed: ${(err as Error).message}`);
      }
    }
    rerender();
  });
}

// When this worker last heard of a peer: now while linked, else when the newest link-state
// summary from it arrived (as the graph fetched at state.meshFetchedMs told its age).
export function lastSeen(state: State, id: string): number | null {
  const l = state.links.get(id);
  if (l?.state === 'open') return Date.now();
  const n = state.meshNodes().get(id);
  if (n?.reports?.length && state.meshFetchedMs)
    return state.meshFetchedMs - Math.min(...n.reports.map((r) => r.ageMs));
  return l?.closedMs ?? null;
}

export interface PeerRow extends Peer { trustDetail?: TrustDetail; links: number }

const peerValue = (state: State) => (p: PeerRow, k: string): number | string => {
  switch (k) {
    case 'region': return p.region ?? '';
    case 'seen': return -(lastSeen(state, p.id) ?? 0);
    case 'trust': return p.trust ?? -1;
    case 'qos': return p.trustDetail?.qos ?? -1;
    case 'uptime': return p.trustDetail?.uptime ?? -1;
    case 'behaviour': return p.trustDetail?.behaviour ?? -1;
    case 'links': return -p.links;
    case 'link': return state.links.get(p.id)?.state ?? '~';
    default: return p.id;
  }
};

export function renderPeers(state: State, all: PeerRow[], view: TableView, tbody: HTMLElement, pager: HTMLElement): void {
  const page = view.window(all.filter((p) => !p.self), (p) => `${p.id} ${p.region ?? ''} ${state.links.get(p.id)?.state ?? ''}`, peerValue(state), pager);
  const rows = page.map((p): Row => {
    const link = state.links.get(p.id);
    const pending = state.pending.get(p.id);
    const linked = link && link.state !== 'failed';
    const button = linked
      ? `<button class="disconnect" data-peer="${escape(p.id)}">Disconnect</button>`
      : `<button class="connect" data-peer="${escape(p.id)}" ${pending === 'connecting…' ? 'disabled' : ''}>Connect</button>`;
    const status = pending ? `<span class="pending ${pending === 'connecting…' ? '' : 'error'}">${escape(pending)}</span>` : '';
    const served = p.instances?.length
      ? ` <small class="instances">${p.instances.length} instances: ${p.instances.map((i) => escape(i.delegation.instance)).join(', ')}</small>`
      : '';
    const t = p.trustDetail;
    const offences = t?.offences && Object.keys(t.offences).length
      ? ` title="offences: ${escape(Object.entries(t.offences).map(([k, n]) => `${k} ${n}`).join(', '))}"` : '';
    return { attr: 'peer', key: p.id, cells: `<td>${escape(p.id)}${served}</td><td>${escape(p.region)}</td>` +
      `<td class="seen">${link?.state === 'open' ? 'linked' : age(lastSeen(state, p.id))}</td>` +
      `<td class="trust"${offences}>${fmt(p.trust, 2)}</td><td class="qos">${fmt(t?.qos, 2)}</td>` +
      `<td class="uptime">${fmt(t?.uptime, 2)}</td><td class="behaviour">${fmt(t?.behaviour, 2)}</td>` +
      `<td class="links">${p.links}</td><td class="state">${link ? link.state : '—'}</td><td>${button} ${status}</td>` };
  });
  setRows(tbody, rows);
}

const linkValue = (l: Link, k: string): number | string => {
  switch (k) {
    case 'state': return l.state;
    case 'rtt': return l.qos?.rttMs ?? Infinity;
    case 'jitter': return l.qos?.jitterMs ?? Infinity;
    case 'loss': return l.qos?.lossPct ?? Infinity;
    case 'bitrate': return l.qos?.bitrateKbps ?? -1;
    case 'health': return HEALTH_ORDER[l.health ?? 'unknown'];
    case 'age': return -(l.openedMs ?? Date.now());
    default: return l.peer;
  }
};

// A two-line sparkline: RTT (blue, own scale) and loss (red, 0-100 %).
function sparkline(h: Qos[] | undefined): string {
  if (!h || h.length < 1) return '<svg class="spark" width="120" height="28"></svg>';
  const w = 120, ht = 28;
  const rtts = h.map((q) => q.rttMs ?? 0);
  const max = Math.max(1, ...rtts);
  const x = (i: number) => (h.length === 1 ? w / 2 : (i * (w - 2)) / (h.length - 1) + 1);
  const line = (vals: number[], scale: number) =>
    vals.map((v, i) => `${x(i).toFixed(1)},${(ht - 2 - (v / scale) * (ht - 4)).toFixed(1)}`).join(' ');
  return `<svg class="spark" width="${w}" height="${ht}" aria-hidden="true"><polyline fill="none" stroke="#3498db" stroke-width="1.5" points="${line(rtts, max)}"/>` +
    `<polyline fill="none" stroke="#e74c3c" stroke-width="1" points="${line(h.map((q) => q.lossPct), 100)}"/></svg>`;
}

export function renderLinks(state: State, view: TableView, tbody: HTMLElement, pager: HTMLElement): void {
  const page = view.window([...state.links.values()], (l) => `${l.peer} ${l.state} ${l.health ?? ''}`, linkValue, pager);
  const rows = page.map((l): Row => {
    const q = l.qos;
    const colour = HEALTH_COLOURS[l.health ?? 'unknown'];
    return { attr: 'peer', key: l.peer, cls: `health-${l.health ?? 'unknown'}`, cells: `<td>${escape(l.peer)}${l.instance ? ` <small class="instance">via ${escape(l.instance)}</small>` : ''}</td><td>${l.state}${detail(l)}</td>` +
      `<td class="rtt">${fmt(q?.rttMs)}</td><td class="jitter">${fmt(q?.jitterMs, 2)}</td><td class="loss">${fmt(q?.lossPct)}</td>` +
      `<td class="bitrate">${fmt(q?.bitrateKbps)}</td>` +
      `<td><span class="dot" style="background:${colour}"></span>${l.health ?? 'unknown'}</td>` +
      `<td>${age(l.openedMs)}</td><td>${sparkline(state.history.get(l.peer))}</td>` };
  });
  setRows(tbody, rows);
}

const meshValue = (l: MeshLink, k: string): number | string => {
  switch (k) {
    case 'health': return HEALTH_ORDER[l.health];
    case 'rtt': return l.rttMs ?? Infinity;
    case 'jitter': return l.jitterMs ?? Infinity;
    case 'loss': return l.lossPct ?? Infinity;
    case 'kbps': return l.kbps ?? -1;
    case 'ends': return l.ends.length;
    default: return l.key;
  }
};

export function renderMeshLinks(links: MeshLink[], view: TableView, tbody: HTMLElement, pager: HTMLElement): void {
  const page = view.window(links, (l) => `${l.a} ${l.b} ${l.health}`, meshValue, pager);
  const rows = page.map((l): Row => {
    const paths = [...new Set(l.ends.map((e) => e.path).filter(Boolean))].join(', ');
    return { attr: 'link', key: l.key, cls: `health-${l.health}`, cells: `<td>${escape(l.a)} ↔ ${escape(l.b)}${l.own ? ' <small>(this worker)</small>' : ''}</td>` +
      `<td><span class="dot" style="background:${HEALTH_COLOURS[l.health]}"></span>${l.health}</td>` +
      `<td class="rtt">${fmt(l.rttMs)}</td><td class="jitter">${fmt(l.jitterMs, 2)}</td><td class="loss">${fmt(l.lossPct)}</td>` +
      `<td class="kbps">${fmt(l.kbps)}</td><td class="ends">${l.ends.map((e) => escape(e.from)).join(', ')}</td><td>${escape(paths) || '—'}</td>` };
  });
  setRows(tbody, rows);
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
