// The events-over-time chart of the otel-audit dashboard: stacked bars per
// time bucket, one colour per `type/outcome`, drawn as SVG elements (no
// library, no inline style). Labels and tooltips are text nodes, through `text`
// (dom.js) as record-derived keys are.
import { el, localTime, svg, text } from './dom.js';

const PALETTE = ['#1f5fbf', '#d9480f', '#2b8a3e', '#ae3ec9', '#e67700', '#0c8599', '#c92a2a', '#5c940d', '#862e9c', '#364fc7', '#a61e4d', '#495057'];
const colors = new Map();

function colorOf(key) {
  if (!colors.has(key)) colors.set(key, PALETTE[colors.size % PALETTE.length]);
  return colors.get(key);
}

const BUCKET_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * Draw `series` ({ start, counts: { 'type/outcome': n } }[]) into `box` and
 * its legend into `legend`. The time axis covers the whole window
 * `since`..`until` (ISO-8601; the stats answer's), each bar at its bucket's
 * place in it, so quiet hours show as gaps rather than disappearing.
 */
export function drawChart(box, legend, series, bucket, since, until) {
  box.replaceChildren();
  const W = 900, H = 220, L = 40, B = 24, T = 8;
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'events over time by type and outcome', id: 'chart-svg' });
  const totals = series.map((p) => Object.values(p.counts).reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  root.append(svg('line', { x1: L, y1: H - B, x2: W, y2: H - B, class: 'axis' }));
  root.append(svg('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }));
  const top = svg('text', { x: 4, y: T + 8 });
  top.textContent = String(max);
  root.append(top);
  const keys = [...new Set(series.flatMap((p) => Object.keys(p.counts)))].sort();
  const step = BUCKET_MS[bucket] || 3_600_000;
  const from = Date.parse(since);
  const to = Date.parse(until);
  const first = series.length > 0 ? Date.parse(series[0].start) : Date.now() - step;
  const start = Number.isFinite(from) ? from : first;
  const end = Number.isFinite(to) ? to : Date.now();
  // The scale runs to the end of the last (current) bucket, so its bar fits.
  const t0 = Math.floor(start / step) * step;
  const t1 = Math.max(t0 + step, Math.ceil(end / step) * step);
  const slot = ((W - L) * step) / (t1 - t0);
  const barW = Math.max(1, Math.min(24, slot * 0.8));
  const xOf = (start) => L + ((Date.parse(start) - t0) / (t1 - t0)) * (W - L);
  series.forEach((p) => {
    let y = H - B;
    for (const key of keys) {
      const n = p.counts[key] || 0;
      if (n === 0) continue;
      const h = ((H - B - T) * n) / max;
      y -= h;
      const rect = svg('rect', { x: xOf(p.start) + (slot - barW) / 2, y, width: barW, height: Math.max(h, 0.5), fill: colorOf(key), class: 'bar' });
      const title = svg('title');
      title.textContent = text(`${localTime(Date.parse(p.start), false)} ${key}: ${n}`);
      rect.append(title);
      root.append(rect);
    }
  });
  // The axis: the window's start and end in local time, as the log's times; bars per bucket.
  for (const [t, anchor] of [[start, 'start'], [end, 'end']]) {
    const label = svg('text', { x: anchor === 'start' ? L : W, y: H - 6, 'text-anchor': anchor, class: `axis-${anchor}` });
    label.textContent = localTime(t, false) + (anchor === 'end' && bucket ? ` (bars per ${bucket})` : '');
    root.append(label);
  }
  if (series.length === 0) {
    const empty = svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' });
    empty.textContent = 'no events in this window';
    root.append(empty);
  }
  // The bars' numbers as text for screen readers (the colours and hover titles reach neither them nor the keyboard).
  const sums = keys.map((k) => `${text(k)} ${series.reduce((n, p) => n + (p.counts[k] || 0), 0)}`);
  root.setAttribute('aria-label', `events over time by type and outcome, ${localTime(start, false)} to ${localTime(end, false)}: ${sums.length ? sums.join(', ') : 'no events in this window'}`);
  box.append(root);
  legend.replaceChildren(...keys.map((k) => {
    const swatch = el('span', { className: 'swatch' });
    swatch.style.backgroundColor = colorOf(k);
    return el('li', {}, swatch, text(k));
  }));
}

