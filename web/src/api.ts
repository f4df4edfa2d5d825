// The worker's API: live events (server-sent, reconnecting), and the few calls the page makes.
import type { Link, MeshGraph, Qos, Snapshot } from './model';

export interface Handlers {
  snapshot(s: Snapshot): void;
  link(l: Link): void;
  peer(): void;
  qos(peer: string, q: Qos): void;
  control(peer: string, message: unknown): void;
  gossip(data: { from: string; topic?: string; payload?: unknown; ts?: number }): void;
  connection(up: boolean): void;
}

// EventSource reconnects by itself when the worker restarts; each (re)connection starts with a
// fresh snapshot, so the page never drifts from the worker.
// The operator token: given once in the page's address (#token=..., as the worker's log and
// `f0mesh demo` print it), then kept for the tab. Sent as a bearer header, and as ?token= where
// a header cannot be set (EventSource).
function operatorToken(): string {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem('f0-token', decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem('f0-token') ?? '';
}
const token = operatorToken();

export function subscribe(h: Handlers): EventSource {
  const es = new EventSource(`/events?token=${encodeURIComponent(token)}`);
  es.onopen = () => h.connection(true);
  es.onerror = () => h.connection(false);
  const on = (type: string, fn: (data: any) => void) =>
    es.addEventListener(type, (e) => fn(JSON.parse((e as MessageEvent).data)));
  on('snapshot', (d) => h.snapshot(d));
  on('link', (e) => h.link(e.data));
  on('peer', () => h.peer());
  on('qos', (e) => h.qos(e.data.peer, e.data));
  on('control', (e) => h.control(e.data.peer, e.data.message));
  on('gossip', (e) => h.gossip(e.data));
  return es;
}

async function call(method: string, path: string, body?: unknown): Promise<any> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (body) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let data: any = text;
  try { data = JSON.parse(text); } catch { /* plain text */ }
  if (!res.ok) throw new Error(data?.detail ?? data?.error ?? `${res.status}`);
  return data;
}

export const dial = (peer: string) => call('POST', '/dial', { peerTo: peer });
export const disconnect = (peer: string) => call('DELETE', `/links/${encodeURIComponent(peer)}`);
export const peers = () => call('GET', '/peers');
// A link's stored QoS samples (this worker's SQLite), oldest first: 24 h at the default 15 s
// interval is 5,760 samples, under the route's 10,000.
export const qosHistory = (peer: string, since = 0, limit = 60): Promise<Qos[]> =>
  call('GET', `/links/${encodeURIComponent(peer)}/qos?since=${since}&limit=${limit}`);
export const mesh = (): Promise<MeshGraph> => call('GET', '/mesh');
