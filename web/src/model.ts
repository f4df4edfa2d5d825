// What the worker tells us (the JSON of /events, /peers, /links), and the page's state.
export interface Qos {
  ts: number; rttMs: number | null; jitterMs: number; lossPct: number; txKbps: number; rxKbps: number;
  bitrateKbps: number; sctpRttMs: number | null; probes: number; health: Health;
}
export type Health = 'good' | 'degraded' | 'bad' | 'unknown';
export interface Peer {
  id: string; pubKey: string; region: string; endpoints: { webrtc: string };
  geo?: { lat: number; lon: number }; self?: boolean; link?: string | null; trust?: number;
  trustDetail?: TrustDetail;
  // A peer served by several workers: each instance's signed record (issue 17); on this worker's
  // own record, the delegation that makes it one of them.
  instances?: { delegation: { instance: string }; endpoints: { webrtc: string } }[];
  delegation?: { instance: string };
}
export interface Link {
  peer: string; state: string; role: string; createdMs: number; openedMs: number | null; closedMs?: number | null;
  lastError?: string; qos: Qos | null; health: Health;
  nextRedialMs?: number | null; path?: LinkPath | null;
  instance?: string; // the instance of the peer that serves this link (a peer of several workers)
}
export interface LinkPath {
  localType: string; remoteType: string; local: string; remote: string; protocol: string;
  relay: boolean; relayProtocol: string | null;
}
// peersTotal: how many peers the worker knows; the snapshot carries the first 1,000 of them.
export interface Snapshot { self: Peer; peers: Peer[]; peersTotal?: number; links: Link[] }
export interface GossipMessage { ts: number; from: string; text: string }
// GET /peers adds each peer's trust and its components (gossip/trust.hpp).
export interface TrustDetail { trust: number; qos: number; uptime: number; behaviour: number; offences?: Record<string, number> }

// GET /mesh: the whole mesh as link-state gossip tells this worker (docs/openapi.yaml).
export interface MeshReport { ts: number; ageMs: number; intervalMs: number; linksOpen: number; linksSent: number; instance?: string }
export interface MeshNode {
  id: string; self: boolean; reported: boolean; region?: string; lat?: number; lon?: number; reports?: MeshReport[];
}
export interface MeshEnd {
  from: string; instance?: string; rttMs: number | null; jitterMs: number; lossPct: number; txKbps: number; rxKbps: number;
  health: Health; path: string;
}
export interface MeshLinkJson { a: string; b: string; health: Health; ends: MeshEnd[] }
export interface MeshGraph {
  self: string; generatedMs: number; intervalMs: number; expireMs: number; senders: number;
  nodes: MeshNode[]; links: MeshLinkJson[];
}
// A link of the mesh as the page shows it: one per pair, this worker's own links from its live
// state (they are known before any summary tells), the others from the graph.
export interface MeshLink {
  key: string; a: string; b: string; health: Health; ends: MeshEnd[];
  own: boolean; // this worker is one end: its history is in this worker's SQLite
  rttMs: number | null; jitterMs: number | null; lossPct: number | null; kbps: number | null; // the worse end
}
export type Scope = 'worker' | 'mesh';
export const linkKey = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

export class State {
  self: Peer | null = null;
  peers = new Map<string, Peer>();
  links = new Map<string, Link>();
  history = new Map<string, Qos[]>(); // recent QoS samples per link, oldest first
  gossip: GossipMessage[] = [];
  pending = new Map<string, string>(); // peer -> "connecting…" or an error
  mesh: MeshGraph | null = null;
  meshFetchedMs = 0; // when the graph was fetched (Date.now())
  scope: Scope = 'mesh';
  // What the mesh view derives (rebuilt when the graph or this worker's links change).
  private derived: { version: number; links: MeshLink[]; nodes: Map<string, MeshNode> } | null = null;
  version = 0; // bumped on every change the mesh view depends on

  touch(): void { this.version++; }

  // Every link of the mesh, the graph's merged with this worker's live ones.
  meshLinks(): MeshLink[] { return this.derive().links; }
  meshNodes(): Map<string, MeshNode> { return this.derive().nodes; }

  private derive() {
    if (this.derived && this.derived.version === this.version) return this.derived;
    const self = this.self?.id ?? this.mesh?.self ?? '';
    const nodes = new Map<string, MeshNode>();
    const links = new Map<string, MeshLink>();
    for (const n of this.mesh?.nodes ?? []) nodes.set(n.id, n);
    const ownInGraph = new Map<string, MeshEnd[]>(); // the far ends' reports of this worker's links
    for (const l of this.mesh?.links ?? []) {
      // This worker's own links come from its live state below, not from its (older) summary.
      if (l.a === self || l.b === self) { ownInGraph.set(linkKey(l.a, l.b), l.ends); continue; }
      links.set(linkKey(l.a, l.b), worse({ key: linkKey(l.a, l.b), a: l.a, b: l.b, health: l.health, ends: l.ends, own: false }));
    }
    for (const l of this.links.values()) {
      if (l.state !== 'open') continue;
      const [a, b] = self < l.peer ? [self, l.peer] : [l.peer, self];
      const q = l.qos;
      const mine: MeshEnd = { from: self, rttMs: q?.rttMs ?? null, jitterMs: q?.jitterMs ?? 0, lossPct: q?.lossPct ?? 0,
        txKbps: q?.txKbps ?? 0, rxKbps: q?.rxKbps ?? 0, health: l.health ?? 'unknown', path: l.path ? (l.path.relay ? 'relay' : l.path.localType) : '' };
      const theirs = (ownInGraph.get(linkKey(a, b)) ?? []).filter((e) => e.from !== self);
      const ends = [mine, ...theirs];
      const health = pairHealth(ends);
      links.set(linkKey(a, b), worse({ key: linkKey(a, b), a, b, health, ends, own: true }));
    }
    for (const id of [self, ...this.links.keys()])
      if (id && !nodes.has(id)) nodes.set(id, { id, self: id === self, reported: false });
    for (const l of links.values())
      for (const id of [l.a, l.b]) if (!nodes.has(id)) nodes.set(id, { id, self: id === self, reported: false });
    this.derived = { version: this.version, links: [...links.values()], nodes };
    return this.derived;
  }

  applySnapshot(s: Snapshot): void {
    this.touch();
    this.self = s.self;
    this.peers = new Map(s.peers.map((p) => [p.id, p]));
    this.links = new Map(s.links.map((l) => [l.peer, l]));
  }
  applyLink(l: Link): void {
    this.touch();
    if (l.state === 'closed') this.links.delete(l.peer);
    else this.links.set(l.peer, l);
  }
  applyQos(peer: string, q: Qos): void {
    this.touch();
    const l = this.links.get(peer);
    if (l) { l.qos = q; l.health = q.health; }
    const h = this.history.get(peer) ?? [];
    h.push(q);
    if (h.length > 60) h.splice(0, h.length - 60);
    this.history.set(peer, h);
  }
}

export const HEALTH_ORDER: Record<Health, number> = { good: 0, degraded: 1, bad: 2, unknown: 3 };

// A pair's health: the worse of its ends' that know; unknown only when neither does (an end's
// first summary after the link opened has no sample yet). As GET /mesh computes it.
export function pairHealth(ends: { health: Health }[]): Health {
  const known = ends.map((e) => e.health).filter((h) => h !== 'unknown');
  return known.length ? known.reduce((w, h) => (HEALTH_ORDER[h] > HEALTH_ORDER[w] ? h : w)) : 'unknown';
}

// The figures a mesh link is listed by: the worse of its ends (higher RTT, jitter, loss).
function worse(l: Omit<MeshLink, 'rttMs' | 'jitterMs' | 'lossPct' | 'kbps'>): MeshLink {
  let rtt: number | null = null, jitter: number | null = null, loss: number | null = null, kbps: number | null = null;
  for (const e of l.ends) {
    if (e.rttMs !== null && e.rttMs !== undefined) rtt = Math.max(rtt ?? 0, e.rttMs);
    jitter = Math.max(jitter ?? 0, e.jitterMs ?? 0);
    loss = Math.max(loss ?? 0, e.lossPct ?? 0);
    kbps = Math.max(kbps ?? 0, (e.txKbps ?? 0) + (e.rxKbps ?? 0));
  }
  return { ...l, rttMs: rtt, jitterMs: jitter, lossPct: loss, kbps };
}

export const HEALTH_COLOURS: Record<Health, string> = {
  good: '#2ecc71', degraded: '#f1c40f', bad: '#e74c3c', unknown: '#95a5a6',
};

// Where a peer without geo is drawn: its region's centre.
export const REGION_CENTRES: Record<string, [number, number]> = {
  ME: [25, 45], AF: [5, 20], EU: [50, 10], NA: [40, -100], SA: [-15, -60], AS: [30, 100], OC: [-25, 135],
};

export function position(p: Peer): [number, number] {
  if (p.geo) return [p.geo.lat, p.geo.lon];
  return REGION_CENTRES[p.region?.toUpperCase()] ?? [0, 0];
}
