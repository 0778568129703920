// The events-over-time chart of the otel-audit dashboard: stacked bars per
// time bucket, one colour per `type/outcome`, drawn as SVG elements (no
// library, no inline style). Labels and tooltips are text nodes, through `text`
// (dom.js) as record-derived keys are.
import { el, svg, text } from './dom.js';

const PALETTE = ['#1f5fbf', '#d9480f', '#2b8a3e', '#ae3ec9', '#e67700', '#0c8599', '#c92a2a', '#5c940d', '#862e9c', '#364fc7', '#a61e4d', '#495057'];
const colors = new Map();

function colorOf(key) {
  if (!colors.has(key)) colors.set(key, PALETTE[colors.size % PALETTE.length]);
  return colors.get(key);
}

/** Draw `series` ({ start, counts: { 'type/outcome': n } }[]) into `box` and its legend into `legend`. */
export function drawChart(box, legend, series, bucket) {
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
  const slot = (W - L) / Math.max(1, series.length);
  const barW = Math.max(1, Math.min(24, slot * 0.8));
  series.forEach((p, i) => {
    let y = H - B;
    for (const key of keys) {
      const n = p.counts[key] || 0;
      if (n === 0) continue;
      const h = ((H - B - T) * n) / max;
      y -= h;
      const rect = svg('rect', { x: L + i * slot + (slot - barW) / 2, y, width: barW, height: Math.max(h, 0.5), fill: colorOf(key), class: 'bar' });
      const title = svg('title');
      title.textContent = text(`${p.start} ${key}: ${n}`);
      rect.append(title);
      root.append(rect);
    }
  });
  if (series.length > 0) {
    for (const [i, anchor] of [[0, 'start'], [series.length - 1, 'end']]) {
      const label = svg('text', { x: anchor === 'start' ? L : W, y: H - 6, 'text-anchor': anchor });
      label.textContent = new Date(series[i].start).toLocaleString() + (bucket ? ` (${bucket})` : '');
      root.append(label);
    }
  } else {
    const empty = svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' });
    empty.textContent = 'no events in this window';
    root.append(empty);
  }
  box.append(root);
  legend.replaceChildren(...keys.map((k) => {
    const swatch = el('span', { className: 'swatch' });
    swatch.style.backgroundColor = colorOf(k);
    return el('li', {}, swatch, text(k));
  }));
}

