// A link's QoS history from this worker's SQLite (GET /links/{peer}/qos), drawn with uPlot: RTT and
// jitter (ms) in one chart, loss (%) and bitrate (kbps) in the other, over the last hour or day.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { qosHistory } from './api';
import type { Qos } from './model';

export const RANGES = { '1h': 3_600_000, '24h': 86_400_000 } as const;
export type Range = keyof typeof RANGES;
// 24 h at the default 15 s interval is 5,760 samples; the route returns at most 10,000.
const LIMIT = 10_000;

const axis = (label: string, side: 0 | 1 = 0, scale?: string): uPlot.Axis => ({
  label, side: side === 1 ? 1 : 3, scale, stroke: '#8a97b5', grid: { stroke: '#24304f', width: 1 }, ticks: { stroke: '#24304f' },
  labelSize: 18, size: 48,
});

export class HistoryCharts {
  private plots: uPlot[] = [];
  private el: HTMLElement | null = null;

  async show(el: HTMLElement, peer: string, range: Range): Promise<number> {
    this.destroy();
    this.el = el;
    el.dataset.state = 'loading';
    const since = Date.now() - RANGES[range];
    let rows: Qos[];
    try {
      rows = await qosHistory(peer, since, LIMIT);
    } catch (e) {
      el.textContent = `history not available: ${(e as Error).message}`;
      el.dataset.state = 'error';
      return 0;
    }
    if (this.el !== el) return 0; // another link or range was asked for meanwhile
    this.draw(el, rows, since);
    return rows.length;
  }

  private draw(el: HTMLElement, rows: Qos[], since: number): void {
    this.destroy();
    this.el = el;
    el.innerHTML = '';
    el.dataset.samples = String(rows.length);
    el.dataset.state = 'ready';
    if (rows.length === 0) {
      el.innerHTML = '<p class="why">no samples stored in this range yet</p>';
      return;
    }
    const t = rows.map((r) => r.ts / 1000);
    const width = Math.max(280, el.clientWidth || 520);
    const common = (title: string): Partial<uPlot.Options> => ({
      title, width, height: 170, scales: { x: { time: true, min: since / 1000, max: Date.now() / 1000 } },
      cursor: { drag: { x: false, y: false } }, legend: { live: true },
    });
    const ms = new uPlot({
      ...common('RTT and jitter'),
      series: [{}, { label: 'RTT (ms)', stroke: '#3498db', width: 1.5, spanGaps: false },
        { label: 'jitter (ms)', stroke: '#9b59b6', width: 1 }],
      axes: [axis(''), axis('ms')],
    } as uPlot.Options, [t, rows.map((r) => r.rttMs), rows.map((r) => r.jitterMs)], el);
    const rate = new uPlot({
      ...common('loss and bitrate'),
      scales: { x: { time: true, min: since / 1000, max: Date.now() / 1000 }, pct: { range: [0, 100] }, kbps: {} },
      series: [{}, { label: 'loss (%)', stroke: '#e74c3c', width: 1, scale: 'pct' },
        { label: 'bitrate (kbps)', stroke: '#2ecc71', width: 1, scale: 'kbps' }],
      axes: [axis(''), axis('%', 0, 'pct'), axis('kbps', 1, 'kbps')],
    } as uPlot.Options, [t, rows.map((r) => r.lossPct), rows.map((r) => r.bitrateKbps)], el);
    this.plots = [ms, rate];
  }

  destroy(): void {
    for (const p of this.plots) p.destroy();
    this.plots = [];
  }
}
