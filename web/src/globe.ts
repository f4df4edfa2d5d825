// The 3D globe: peers at their geo (or their region's centre), links as arcs in health colours,
// updated live; hovering shows the figures. World geometry from world-atlas (bundled, no CDN).
import Globe from 'globe.gl';
import { feature } from 'topojson-client';
import countries from 'world-atlas/countries-110m.json';
import { HEALTH_COLOURS, position, type State } from './model';

interface PointDatum { id: string; lat: number; lng: number; label: string; self: boolean }
interface ArcDatum { peer: string; startLat: number; startLng: number; endLat: number; endLng: number; colour: string }

export class MeshGlobe {
  private globe: any;
  private last = '';
  private aimed = false;
  constructor(private el: HTMLElement, private hover: HTMLElement) {
    const land = feature(countries as any, (countries as any).objects.countries) as any;
    this.globe = new (Globe as any)(el, { animateIn: false })
      .backgroundColor('#0b1020')
      .showAtmosphere(true)
      .polygonsData(land.features)
      .polygonCapColor(() => '#1f3a5f')
      .polygonSideColor(() => '#16283f')
      .polygonStrokeColor(() => '#2c5282')
      .pointColor((d: PointDatum) => (d.self ? '#ffffff' : '#7fb3ff'))
      .pointAltitude(0.02)
      .pointRadius(1.4)
      .pointLabel((d: PointDatum) => d.label)
      .arcColor((d: ArcDatum) => d.colour)
      .arcStroke(1.2)
      .arcCurveResolution(24)
      .arcCircularResolution(3)
      .pointResolution(8)
      .arcAltitudeAutoScale(0.5)
      .arcDashLength(1)
      .arcDashGap(0)
      .arcLabel((d: ArcDatum) => this.arcLabel(d.peer))
      .onPointHover((d: PointDatum | null) => this.show(d?.label))
      .onArcHover((d: ArcDatum | null) => this.show(d ? this.arcLabel(d.peer) : undefined));
    this.resize();
    window.addEventListener('resize', () => this.resize());
    el.addEventListener('pointermove', () => this.wake());
    el.addEventListener('wheel', () => this.wake());
    this.wake();
  }

  // WebGL redraws every frame while animating; an idle monitoring page should not. Animate for
  // 2 s after any change or pointer movement, then pause.
  private idle = 0;
  private wake(): void {
    this.globe.resumeAnimation();
    window.clearTimeout(this.idle);
    this.idle = window.setTimeout(() => this.globe.pauseAnimation(), 2000);
  }

  // Hover text is built when asked, from the live state, so the arcs themselves stay unchanged
  // while their figures move (rebuilding 200 arc geometries every second would stall the page).
  private state: State | null = null;
  private arcLabel(peer: string): string {
    const l = this.state?.links.get(peer);
    const q = l?.qos;
    const self = this.state?.self?.id ?? '?';
    return `<b>${self} ↔ ${peer}</b><br>RTT ${q?.rttMs?.toFixed(1) ?? '—'} ms, jitter ${q?.jitterMs?.toFixed(2) ?? '—'} ms` +
      `<br>loss ${q?.lossPct?.toFixed(1) ?? '—'} %, ${q?.bitrateKbps?.toFixed(1) ?? '—'} kbps (${l?.health ?? 'unknown'})`;
  }

  private show(label?: string): void {
    this.hover.innerHTML = label ?? '';
    this.hover.style.display = label ? 'block' : 'none';
  }

  private resize(): void {
    this.globe.width(this.el.clientWidth).height(this.el.clientHeight || 360);
  }

  private lastUpdate = 0;
  private pendingUpdate = 0;
  // At most one geometry update every 2 s: colours change with each QoS sample, and rebuilding
  // hundreds of arcs faster than that only burns the page's main thread.
  update(state: State): void {
    this.state = state;
    const since = performance.now() - this.lastUpdate;
    if (since < 2000) {
      if (!this.pendingUpdate)
        this.pendingUpdate = window.setTimeout(() => { this.pendingUpdate = 0; this.update(state); }, 2000 - since);
      return;
    }
    this.lastUpdate = performance.now();
    const points: PointDatum[] = [];
    for (const p of state.peers.values()) {
      const [lat, lng] = position(p);
      const link = state.links.get(p.id);
      points.push({ id: p.id, lat, lng, self: !!p.self,
        label: `<b>${p.id}</b> (${p.region || '?'})${link ? `<br>link ${link.state}` : ''}` });
    }
    const self = state.self ? state.peers.get(state.self.id) ?? state.self : null;
    const arcs: ArcDatum[] = [];
    if (self) {
      const [sLat, sLng] = position(self);
      for (const l of state.links.values()) {
        const p = state.peers.get(l.peer);
        if (!p || l.state !== 'open') continue;
        const [eLat, eLng] = position(p);
        arcs.push({ peer: l.peer, startLat: sLat, startLng: sLng, endLat: eLat, endLng: eLng,
          colour: HEALTH_COLOURS[l.health ?? 'unknown'] });
      }
    }
    const signature = JSON.stringify([points.map((p) => p.label), arcs.map((a) => a.peer + a.colour)]);
    if (signature === this.last) return;
    this.last = signature;
    // Many links: thin lines (cheap) instead of tubes.
    this.globe.arcStroke(arcs.length > 50 ? null : 1.2);
    this.globe.pointsData(points).arcsData(arcs);
    if (!this.aimed && points.length) {
      // Look at the peers' centre the first time we know where they are.
      const lat = points.reduce((a, p) => a + p.lat, 0) / points.length;
      const lng = points.reduce((a, p) => a + p.lng, 0) / points.length;
      this.globe.pointOfView({ lat, lng, altitude: 1.6 }, 0);
      this.aimed = true;
    }
    this.wake();
    // For tests and operators: what the globe currently draws.
    this.el.dataset.points = String(points.length);
    this.el.dataset.arcs = String(arcs.length);
    this.el.dataset.arcColours = arcs.map((a) => `${a.peer}:${a.colour}`).join(',');
  }
}
