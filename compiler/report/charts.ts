// The report's own SVG charts: simulated time per device and per op (bars),
// and the timeline (a lane per device plus the CXL link, a rect per step).
// Every label and tooltip is escaped; coordinates are rounded so the same
// data gives the same text.

import type { ReportData, ReportOp, ReportStep } from './data.js';
import { clip, colourOf, esc, fmtTime, px } from './text.js';

const FONT = 'font-family="sans-serif" font-size="11"';

function svgOpen(width: number, height: number, title: string, cls: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="${cls}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} role="img"><title>${esc(title)}</title>`;
}

/** Ticks at 1, 2 or 5 x a power of ten, about `n` of them, from 0 to `max`. */
export function ticks(max: number, n = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let k = 0; k * step <= max * (1 + 1e-9); k++) out.push(+(k * step).toPrecision(12));
  return out;
}

interface Bar { label: string; tooltip: string; value: number; colour: string }

function barChart(bars: Bar[], title: string, cls: string, labelWidth: number): string {
  const width = 900;
  const row = 18;
  const top = 24;
  const left = labelWidth;
  const right = 90;
  const plotW = width - left - right;
  const height = top + bars.length * row + 24;
  const max = Math.max(0, ...bars.map((b) => b.value));
  const X = (v: number) => left + (max > 0 ? (plotW * v) / max : 0);
  const parts = [svgOpen(width, height, title, cls), `<text x="4" y="14" font-weight="bold" font-size="12">${esc(title)}</text>`];
  for (const t of ticks(max)) {
    const y2 = top + bars.length * row;
    parts.push(`<line x1="${px(X(t))}" y1="${top - 2}" x2="${px(X(t))}" y2="${y2}" stroke="#e4e4e4"/><text x="${px(X(t))}" y="${y2 + 14}" text-anchor="middle" fill="#555">${esc(fmtTime(t))}</text>`);
  }
  bars.forEach((b, i) => {
    const y = top + i * row;
    const w = Math.max(X(b.value) - left, b.value > 0 ? 0.5 : 0);
    parts.push(
      `<g class="bar"><title>${esc(b.tooltip)}</title>` +
      `<text x="${left - 6}" y="${y + 12}" text-anchor="end">${esc(b.label)}</text>` +
      `<rect x="${left}" y="${y + 2}" width="${px(w)}" height="${row - 5}" fill="${b.colour}"/>` +
      `<text x="${px(left + w + 4)}" y="${y + 12}" fill="#333">${esc(fmtTime(b.value))}</text></g>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Simulated seconds per device (and the link), with each one's share of the run. */
export function deviceBarsSvg(d: ReportData): string {
  const lanes = [...d.devices, ...Object.keys(d.secondsByDevice).filter((k) => !d.devices.includes(k)).sort()];
  const bars = lanes.map((dev): Bar => {
    const s = d.secondsByDevice[dev] ?? 0;
    const share = d.seconds > 0 ? (100 * s) / d.seconds : 0;
    return { label: dev, tooltip: `${dev}: ${fmtTime(s)}, ${share.toFixed(1)}% of the run`, value: s, colour: colourOf(dev) };
  });
  return barChart(bars, 'simulated time per device', 'chart-devices', 80);
}

/** The ops that took longest (simulated), longest first; ties in program order. */
export function topOps(ops: readonly ReportOp[], n: number): { shown: ReportOp[]; rest: ReportOp[] } {
  const timed = ops.filter((o) => (o.simulated ?? 0) > 0);
  const sorted = [...timed].sort((a, b) => b.simulated! - a.simulated! || a.index - b.index);
  return { shown: sorted.slice(0, n), rest: sorted.slice(n) };
}

export function opBarsSvg(d: ReportData, n = 30): string {
  const { shown, rest } = topOps(d.ops, n);
  const bars = shown.map((o): Bar => ({
    label: clip(o.name, 44),
    tooltip: `${o.name} (${o.type}, ${o.kind}) on ${o.device}: ${fmtTime(o.simulated!)} simulated` +
      (o.estimates[o.device] !== undefined ? `, ${fmtTime(o.estimates[o.device]!)} estimated` : ''),
    value: o.simulated!,
    colour: colourOf(o.device),
  }));
  if (rest.length) {
    const s = rest.reduce((a, o) => a + o.simulated!, 0);
    bars.push({ label: `${rest.length} more ops`, tooltip: `${rest.length} more ops: ${fmtTime(s)} together`, value: s, colour: '#bbb' });
  }
  const title = rest.length ? `simulated time per op (the ${shown.length} longest)` : 'simulated time per op (longest first)';
  return barChart(bars, title, 'chart-ops', 300);
}

/** A lane per device and one for the link; a rect per step at its start, as wide as it lasted. */
export function timelineSvg(d: ReportData): string {
  const width = 960;
  const left = 60;
  const right = 16;
  const top = 28;
  const lane = 30;
  const lanes = [...d.devices.filter((x) => x !== 'link'), 'link'];
  for (const s of d.timeline) if (!lanes.includes(s.device)) lanes.push(s.device);
  const height = top + lanes.length * lane + 30;
  const end = Math.max(d.seconds, ...d.timeline.map((s) => s.start + s.seconds));
  const plotW = width - left - right;
  const X = (t: number) => left + (end > 0 ? (plotW * t) / end : 0);
  const parts = [svgOpen(width, height, `timeline of ${d.model} on ${d.hardware}`, 'chart-timeline')];
  parts.push(`<text x="4" y="14" font-weight="bold" font-size="12">${esc(`timeline: ${d.timeline.length} steps, ${fmtTime(d.seconds)}`)}</text>`);
  const bottom = top + lanes.length * lane;
  for (const t of ticks(end, 8)) {
    parts.push(`<line x1="${px(X(t))}" y1="${top}" x2="${px(X(t))}" y2="${bottom}" stroke="#e4e4e4"/><text x="${px(X(t))}" y="${bottom + 14}" text-anchor="middle" fill="#555">${esc(fmtTime(t))}</text>`);
  }
  lanes.forEach((dev, i) => {
    const y = top + i * lane;
    parts.push(`<rect x="${left}" y="${y}" width="${plotW}" height="${lane}" fill="${i % 2 ? '#fff' : '#f6f6f6'}"/><text x="${left - 6}" y="${y + lane / 2 + 4}" text-anchor="end" font-weight="bold" fill="${colourOf(dev)}">${esc(dev)}</text>`);
  });
  d.timeline.forEach((s: ReportStep, k) => {
    const y = top + lanes.indexOf(s.device) * lane + 4;
    const w = Math.max(X(s.start + s.seconds) - X(s.start), 0.6);
    parts.push(
      `<rect class="step" x="${px(X(s.start))}" y="${y}" width="${px(w)}" height="${lane - 8}" fill="${colourOf(s.device)}" stroke="#fff" stroke-width="0.3">` +
      `<title>${esc(`#${k} ${s.name} on ${s.device}: ${fmtTime(s.seconds)}, from ${fmtTime(s.start)} to ${fmtTime(s.start + s.seconds)}`)}</title></rect>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
