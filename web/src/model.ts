// What the worker tells us (the JSON of /events, /peers, /links), and the page's state.
export interface Qos {
  ts: number; rttMs: number | null; jitterMs: number; lossPct: number; txKbps: number; rxKbps: number;
  bitrateKbps: number; sctpRttMs: number | null; probes: number; health: Health;
}
export type Health = 'good' | 'degraded' | 'bad' | 'unknown';
export interface Peer {
  id: string; pubKey: string; region: string; endpoints: { webrtc: string };
  geo?: { lat: number; lon: number }; self?: boolean; link?: string | null; trust?: number;
  // A peer served by several workers: each instance's signed record (issue 17); on this worker's
  // own record, the delegation that makes it one of them.
  instances?: { delegation: { instance: string }; endpoints: { webrtc: string } }[];
  delegation?: { instance: string };
}
export interface Link {
  peer: string; state: string; role: string; createdMs: number; openedMs: number | null;
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

export class State {
  self: Peer | null = null;
  peers = new Map<string, Peer>();
  links = new Map<string, Link>();
  history = new Map<string, Qos[]>(); // recent QoS samples per link, oldest first
  gossip: GossipMessage[] = [];
  pending = new Map<string, string>(); // peer -> "connecting…" or an error

  applySnapshot(s: Snapshot): void {
    this.self = s.self;
    this.peers = new Map(s.peers.map((p) => [p.id, p]));
    this.links = new Map(s.links.map((l) => [l.peer, l]));
  }
  applyLink(l: Link): void {
    if (l.state === 'closed') this.links.delete(l.peer);
    else this.links.set(l.peer, l);
  }
  applyQos(peer: string, q: Qos): void {
    const l = this.links.get(peer);
    if (l) { l.qos = q; l.health = q.health; }
    const h = this.history.get(peer) ?? [];
    h.push(q);
    if (h.length > 60) h.splice(0, h.length - 60);
    this.history.set(peer, h);
  }
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
