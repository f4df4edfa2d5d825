// The 3D globe: peers at their geo (or their region's centre), links as arcs in health colours.
// "This worker": the registry and this worker's open links; "whole mesh": every node and link that
// link-state gossip tells of. Built to stay smooth at 1,000 peers and 5,000 links: the peers are
// one merged mesh and every arc is a segment run of a single LineSegments object (one draw call),
// so hovering and clicking pick by geometry (nearest peer, else nearest arc under the pointer)
// instead of per-object raycasting. World geometry from world-atlas (bundled, no CDN).
import Globe from 'globe.gl';
import * as THREE from 'three';
import { feature } from 'topojson-client';
import countries from 'world-atlas/countries-110m.json';
import { HEALTH_COLOURS, type MeshLink, type Peer, position, type State } from './model';

export type Pick = { kind: 'peer'; id: string } | { kind: 'link'; key: string };
interface PointDatum { id: string; lat: number; lng: number; colour: string }
type Vec = [number, number, number];

// Segments per arc: fewer when there are many (line rasterising is most of a frame in software).
const segmentsFor = (arcs: number) => (arcs > 1000 ? 8 : 16);
let SEGMENTS = 16;
const unit = (lat: number, lng: number): Vec => {
  const φ = (lat * Math.PI) / 180, λ = (lng * Math.PI) / 180;
  return [Math.cos(φ) * Math.cos(λ), Math.cos(φ) * Math.sin(λ), Math.sin(φ)];
};
const dot = (a: Vec, b: Vec) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const angle = (a: Vec, b: Vec) => Math.acos(Math.min(1, Math.max(-1, dot(a, b))));
const toLatLng = (v: Vec): [number, number] => [(Math.asin(Math.max(-1, Math.min(1, v[2]))) * 180) / Math.PI, (Math.atan2(v[1], v[0]) * 180) / Math.PI];

// Angular distance (radians) from p to the great-circle segment a-b.
function segmentDistance(p: Vec, a: Vec, b: Vec): number {
  const ab = angle(a, b);
  const n: Vec = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const len = Math.hypot(...n);
  if (len < 1e-9 || ab < 1e-6) return angle(p, a);
  const k = dot(p, n) / len;
  const q: Vec = [p[0] - (k * n[0]) / len, p[1] - (k * n[1]) / len, p[2] - (k * n[2]) / len];
  const ql = Math.hypot(...q);
  if (ql > 1e-9) {
    const qu: Vec = [q[0] / ql, q[1] / ql, q[2] / ql];
    if (Math.abs(angle(a, qu) + angle(qu, b) - ab) < 1e-6) return Math.asin(Math.min(1, Math.abs(k)));
  }
  return Math.min(angle(p, a), angle(p, b));
}

// The land as one texture on the globe, drawn once from world-atlas: one draw call, where the
// countries as polygons took ~850 (each frame ~0.5 s in software WebGL, as this machine has).
function landTexture(): THREE.CanvasTexture {
  const W = 2048, H = 1024;
  const canvas = document.createElement('canvas');
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#0d1a33';
  ctx.fillRect(0, 0, W, H);
  const land = feature(countries as any, (countries as any).objects.countries) as any;
  ctx.fillStyle = '#1f3a5f';
  ctx.strokeStyle = '#2c5282';
  ctx.lineWidth = 1;
  for (const f of land.features) {
    const polys = f.geometry?.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry?.type === 'MultiPolygon' ? f.geometry.coordinates : [];
    for (const poly of polys) {
      ctx.beginPath();
      for (const ring of poly) {
        // A ring crossing the antimeridian is drawn where it starts (no wrap-around stripe).
        let prev: number | null = null;
        ring.forEach(([lon, lat]: [number, number], i: number) => {
          let x = ((lon + 180) / 360) * W;
          if (prev !== null && Math.abs(x - prev) > W / 2) x += x < prev ? W : -W;
          prev = x;
          const y = ((90 - lat) / 180) * H;
          if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
        });
        ctx.closePath();
      }
      ctx.fill('evenodd');
      ctx.stroke();
    }
  }
  const t = new THREE.CanvasTexture(canvas);
  t.colorSpace = THREE.SRGBColorSpace;
  t.anisotropy = 1;
  return t;
}

export class MeshGlobe {
  private globe: any;
  private aimed = false;
  private lines: THREE.LineSegments | null = null;
  private highlight: THREE.Object3D | null = null;
  private drawn: { peers: Map<string, Vec>; arcs: { key: string; a: Vec; b: Vec }[] } = { peers: new Map(), arcs: [] };
  private sig = { points: '', arcs: '', colours: '' };
  private selected: Pick | null = null;
  onPick: (p: Pick | null) => void = () => {};
  describe: (p: Pick) => string = () => '';

  constructor(private el: HTMLElement, private hover: HTMLElement) {
    this.globe = new (Globe as any)(el, { animateIn: false })
      .backgroundColor('#0b1020')
      .showAtmosphere(true)
      .globeMaterial(new THREE.MeshBasicMaterial({ map: landTexture() }))
      .pointsMerge(true)
      .pointsTransitionDuration(0)
      .pointColor((d: PointDatum) => d.colour)
      .pointAltitude(0.012)
      .pointRadius(0.9)
      .pointResolution(6)
      // Its own hover tracking picks on the GPU (a pixel read back every frame the pointer is on
      // the canvas: a stall of a whole software frame); picking here is by geometry instead.
      .enablePointerInteraction(false);
    this.resize();
    window.addEventListener('resize', () => this.resize());
    el.addEventListener('pointermove', (e) => { this.wake(); this.pointer(e); });
    el.addEventListener('pointerleave', () => this.show());
    let down: [number, number] | null = null; // a click, not the end of a drag that rotated
    el.addEventListener('pointerdown', (e) => { down = [e.clientX, e.clientY]; });
    el.addEventListener('click', (e) => {
      if (!down || Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 4) return;
      const rect = el.getBoundingClientRect();
      const c = this.globe.toGlobeCoords(e.clientX - rect.left, e.clientY - rect.top);
      this.onPick(c ? this.pickAt(c.lat, c.lng) : null);
    });
    el.addEventListener('wheel', () => this.wake());
    this.wake(300);
  }

  // WebGL redraws every frame while animating; an idle monitoring page should not, and without a
  // GPU (software WebGL) a frame of 5,000 arcs costs ~0.5 s. So: animate for 2 s after the pointer
  // moves on the globe (rotating, zooming), and for a few frames after the data or the selection
  // change; else pause.
  private idle = 0;
  private idleAt = 0;
  private wake(ms = 2000): void {
    const until = performance.now() + ms;
    if (until <= this.idleAt) return; // already awake that long
    if (!this.idleAt) this.measure();
    this.idleAt = until;
    this.globe.resumeAnimation();
    window.clearTimeout(this.idle);
    this.idle = window.setTimeout(() => { this.idleAt = 0; this.globe.pauseAnimation(); }, ms);
  }

  // How long a frame takes while animating (moving average of rAF gaps): ~16 ms with a GPU, ~0.5 s
  // for 5,000 arcs in software WebGL. Data-driven redraws are spaced by it (see update).
  private frameMs = 16;
  private measure(): void {
    let last = performance.now();
    const tick = (t: number) => {
      if (!this.idleAt) return;
      this.frameMs = 0.7 * this.frameMs + 0.3 * Math.max(0, t - last);
      last = t;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  private resize(): void {
    this.globe.width(this.el.clientWidth).height(this.el.clientHeight || 360);
  }

  // What is under (lat, lng): the nearest peer within a few degrees (fewer when zoomed in), else
  // the nearest arc's ground track within a little less.
  pickAt(lat: number, lng: number): Pick | null {
    const p = unit(lat, lng);
    const alt = this.globe.pointOfView().altitude ?? 2;
    const reach = (Math.min(4, Math.max(0.4, 1.6 * alt)) * Math.PI) / 180;
    let best: Pick | null = null, bestD = reach;
    for (const [id, v] of this.drawn.peers) {
      const d = angle(p, v);
      if (d < bestD) { bestD = d; best = { kind: 'peer', id }; }
    }
    if (best) return best;
    bestD = reach * 0.6;
    for (const arc of this.drawn.arcs) {
      const d = segmentDistance(p, arc.a, arc.b);
      if (d < bestD) { bestD = d; best = { kind: 'link', key: arc.key }; }
    }
    return best;
  }

  private hoverFrame = 0;
  private pointer(e: PointerEvent): void {
    if (this.hoverFrame) return;
    const rect = this.el.getBoundingClientRect();
    const x = e.clientX - rect.left, y = e.clientY - rect.top;
    this.hoverFrame = requestAnimationFrame(() => {
      this.hoverFrame = 0;
      const c = this.globe.toGlobeCoords(x, y);
      const pick = c ? this.pickAt(c.lat, c.lng) : null;
      this.show(pick ? this.describe(pick) : undefined);
      this.el.style.cursor = pick ? 'pointer' : '';
    });
  }

  private show(label?: string): void {
    this.hover.innerHTML = label ?? '';
    this.hover.style.display = label ? 'block' : 'none';
  }

  // Rebuilt only when what is drawn changes (peers, arcs, colours), at most every 2 s while
  // samples stream in, or every 20 frames' time when frames are slow (software WebGL: ~10 s), so
  // that the globe never takes most of the page's time; a selection change only moves the
  // highlight.
  private lastUpdate = 0;
  private pendingUpdate = 0;
  update(state: State, peers: Peer[], links: MeshLink[]): void {
    const since = performance.now() - this.lastUpdate;
    const gap = Math.min(15000, Math.max(2000, 20 * this.frameMs));
    if (this.lastUpdate && since < gap) {
      window.clearTimeout(this.pendingUpdate);
      this.pendingUpdate = window.setTimeout(() => this.update(state, peers, links), gap - since);
      return;
    }
    this.lastUpdate = performance.now();
    const self = state.self?.id ?? '';
    const where = new Map<string, [number, number]>();
    for (const p of peers) where.set(p.id, position(p));
    this.whereCache = where;
    const linked = new Set<string>();
    for (const l of links) { linked.add(l.a); linked.add(l.b); }
    const points: PointDatum[] = peers.map((p) => {
      const [lat, lng] = where.get(p.id)!;
      return { id: p.id, lat, lng, colour: p.id === self ? '#ffffff' : linked.has(p.id) ? '#7fb3ff' : '#52617f' };
    });
    const arcs = links.filter((l) => where.has(l.a) && where.has(l.b));
    // Three things change apart, each redone only when it changed: the peers (ids and colours),
    // the arcs' geometry (which pairs), the arcs' colours (health moves with every sample).
    const pointsSig = points.map((p) => p.id + p.colour).join(',');
    const arcsSig = arcs.map((a) => a.key).join(',');
    const coloursSig = arcs.map((a) => a.health[0]).join('');
    let changed = false;
    if (pointsSig !== this.sig.points) {
      this.sig.points = pointsSig;
      this.globe.pointsData(points);
      this.drawn.peers = new Map(points.map((p) => [p.id, unit(p.lat, p.lng)]));
      changed = true;
    }
    if (arcsSig !== this.sig.arcs) {
      this.sig.arcs = arcsSig;
      this.sig.colours = coloursSig;
      this.drawArcs(arcs, where);
      this.drawn.arcs = arcs.map((l) => ({ key: l.key, a: unit(...where.get(l.a)!), b: unit(...where.get(l.b)!) }));
      const marks = (window as any).__f0;
      if (marks && arcs.length > (marks.globeArcs ?? 0)) { marks.globeArcs = arcs.length; marks.globeDrawn = performance.now(); }
      this.select(this.selected);
      changed = true;
    } else if (coloursSig !== this.sig.colours) {
      this.sig.colours = coloursSig;
      this.recolour(arcs);
      changed = true;
    }
    if (changed) {
      if (!this.aimed && points.length) {
        // Look at the peers' centre the first time we know where they are.
        const lat = points.reduce((a, p) => a + p.lat, 0) / points.length;
        const lng = points.reduce((a, p) => a + p.lng, 0) / points.length;
        this.globe.pointOfView({ lat, lng, altitude: 1.8 }, 0);
        this.aimed = true;
      }
      this.wake(300);
    }
    // For tests and operators: what the globe currently draws.
    this.el.dataset.points = String(points.length);
    this.el.dataset.arcs = String(arcs.length);
    this.el.dataset.arcColours = arcs.length <= 50 ? arcs.map((a) => `${a.a === self ? a.b : a.b === self ? a.a : a.key}:${HEALTH_COLOURS[a.health]}`).join(',') : '';
  }

  // Every arc: SEGMENTS segments along the great circle, lifted by a sine of its length.
  private arcPoints(a: [number, number], b: [number, number]): THREE.Vector3[] {
    const ua = unit(...a), ub = unit(...b);
    const ω = angle(ua, ub);
    const lift = 0.04 + 0.25 * (ω / Math.PI);
    const out: THREE.Vector3[] = [];
    for (let i = 0; i <= SEGMENTS; i++) {
      const t = i / SEGMENTS;
      let v: Vec;
      if (ω < 1e-6) v = ua;
      else {
        const s = Math.sin(ω), k1 = Math.sin((1 - t) * ω) / s, k2 = Math.sin(t * ω) / s;
        v = [k1 * ua[0] + k2 * ub[0], k1 * ua[1] + k2 * ub[1], k1 * ua[2] + k2 * ub[2]];
      }
      const [lat, lng] = toLatLng(v);
      const c = this.globe.getCoords(lat, lng, lift * Math.sin(Math.PI * t) + 0.005);
      out.push(new THREE.Vector3(c.x, c.y, c.z));
    }
    return out;
  }

  private recolour(arcs: MeshLink[]): void {
    const attr = this.lines?.geometry.getAttribute('color') as THREE.BufferAttribute | undefined;
    if (!attr) return;
    const col = attr.array as Float32Array;
    const colour = new THREE.Color();
    let o = 0;
    for (const l of arcs) {
      colour.set(HEALTH_COLOURS[l.health]);
      for (let i = 0; i < SEGMENTS * 2; i++, o += 3) { col[o] = colour.r; col[o + 1] = colour.g; col[o + 2] = colour.b; }
    }
    attr.needsUpdate = true;
  }

  private drawArcs(arcs: MeshLink[], where: Map<string, [number, number]>): void {
    // where: every drawn peer's position (this.whereCache)
    const scene = this.globe.scene() as THREE.Scene;
    if (this.lines) {
      scene.remove(this.lines);
      this.lines.geometry.dispose();
      (this.lines.material as THREE.Material).dispose();
      this.lines = null;
    }
    if (!arcs.length) return;
    SEGMENTS = segmentsFor(arcs.length);
    const pos = new Float32Array(arcs.length * SEGMENTS * 6);
    const col = new Float32Array(arcs.length * SEGMENTS * 6);
    const colour = new THREE.Color();
    let o = 0;
    for (const l of arcs) {
      colour.set(HEALTH_COLOURS[l.health]);
      const pts = this.arcPoints(where.get(l.a)!, where.get(l.b)!);
      for (let i = 0; i < SEGMENTS; i++)
        for (const p of [pts[i], pts[i + 1]]) {
          pos[o] = p.x; pos[o + 1] = p.y; pos[o + 2] = p.z;
          col[o] = colour.r; col[o + 1] = colour.g; col[o + 2] = colour.b;
          o += 3;
        }
    }
    const g = new THREE.BufferGeometry();
    g.setAttribute('position', new THREE.BufferAttribute(pos, 3));
    g.setAttribute('color', new THREE.BufferAttribute(col, 3));
    const m = new THREE.LineBasicMaterial({ vertexColors: true, transparent: arcs.length > 500, opacity: arcs.length > 500 ? 0.55 : 1 });
    this.lines = new THREE.LineSegments(g, m);
    this.lines.name = 'f0-arcs';
    scene.add(this.lines);
  }
  private whereCache = new Map<string, [number, number]>();

  // The selected peer (a ring of its links) or link, drawn over everything in white.
  select(p: Pick | null): void {
    this.selected = p;
    const scene = this.globe.scene() as THREE.Scene;
    if (this.highlight) {
      scene.remove(this.highlight);
      this.highlight.traverse((o: any) => { o.geometry?.dispose?.(); o.material?.dispose?.(); });
      this.highlight = null;
    }
    this.el.dataset.selected = p ? (p.kind === 'peer' ? `peer:${p.id}` : `link:${p.key}`) : '';
    if (!p) return;
    const group = new THREE.Group();
    const material = new THREE.LineBasicMaterial({ color: 0xffffff, depthTest: false });
    const arcKeys = p.kind === 'link' ? [p.key] : this.drawn.arcs.filter((a) => a.key.split('|').includes(p.id)).map((a) => a.key);
    for (const key of arcKeys) {
      const [a, b] = key.split('|');
      const wa = this.whereCache.get(a), wb = this.whereCache.get(b);
      if (!wa || !wb) continue;
      group.add(new THREE.Line(new THREE.BufferGeometry().setFromPoints(this.arcPoints(wa, wb)), material));
    }
    if (p.kind === 'peer' && this.whereCache.has(p.id)) {
      const [lat, lng] = this.whereCache.get(p.id)!;
      const c = this.globe.getCoords(lat, lng, 0.02);
      const dot = new THREE.Mesh(new THREE.SphereGeometry(1.6, 12, 8), new THREE.MeshBasicMaterial({ color: 0xffd166, depthTest: false }));
      dot.position.set(c.x, c.y, c.z);
      group.add(dot);
    }
    group.renderOrder = 10;
    scene.add(group);
    this.highlight = group;
    // After the page's next frame has shown what was opened, and a moment for the next key press:
    // without a GPU a globe frame of 5,000 arcs holds the page's thread ~0.5 s.
    requestAnimationFrame(() => window.setTimeout(() => this.wake(300), 150));
  }
}
