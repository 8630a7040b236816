// A roofline plot as one self-contained SVG: for each scenario a panel with
// every device's roof (min(peak, bandwidth x intensity)) and every op drawn at
// its arithmetic intensity and the FLOP rate its estimate gives it, coloured
// by the device it was placed on.

import type { AnalyzeReport, ScenarioReport } from '../api/analyze.js';

const COLOURS: Record<string, string> = { npu: '#1f77b4', pim: '#d62728', pnm: '#2ca02c' };
const W = 420;
const H = 320;
const M = { left: 58, right: 12, top: 28, bottom: 42 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

function fmt(v: number): string {
  const units: [number, string][] = [[1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [u, s] of units) if (v >= u) return `${+(v / u).toPrecision(3)}${s}`;
  return `${+v.toPrecision(3)}`;
}

function panel(r: AnalyzeReport, s: ScenarioReport, x0: number, y0: number): string {
  const pts = s.ops
    .map((o) => ({ o, t: o.seconds[o.device] ?? 0 }))
    .filter(({ o, t }) => o.flops > 0 && o.intensity > 0 && t > 0)
    .map(({ o, t }) => ({ name: o.name, device: o.device, i: o.intensity, perf: o.flops / t }));
  const peak = Math.max(...r.roofs.map((d) => d.peakFlops));
  const iLo = Math.min(0.05, ...pts.map((p) => p.i)) / 2;
  const iHi = Math.max(1000, ...pts.map((p) => p.i)) * 2;
  const pLo = Math.min(peak / 1e5, ...pts.map((p) => p.perf)) / 2;
  const pHi = peak * 2;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const X = (i: number) => x0 + M.left + (pw * Math.log10(i / iLo)) / Math.log10(iHi / iLo);
  const Y = (p: number) => y0 + M.top + ph - (ph * Math.log10(p / pLo)) / Math.log10(pHi / pLo);
  const parts: string[] = [];
  parts.push(`<rect x="${x0 + M.left}" y="${y0 + M.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#999"/>`);
  for (const d of decades(iLo, iHi)) {
    if (d < iLo || d > iHi) continue;
    parts.push(`<line x1="${X(d)}" y1="${y0 + M.top}" x2="${X(d)}" y2="${y0 + M.top + ph}" stroke="#eee"/><text x="${X(d)}" y="${y0 + H - 26}" font-size="10" text-anchor="middle">${fmt(d)}</text>`);
  }
  for (const d of decades(pLo, pHi)) {
    if (d < pLo || d > pHi) continue;
    parts.push(`<line x1="${x0 + M.left}" y1="${Y(d)}" x2="${x0 + M.left + pw}" y2="${Y(d)}" stroke="#eee"/><text x="${x0 + M.left - 4}" y="${Y(d) + 3}" font-size="10" text-anchor="end">${fmt(d)}</text>`);
  }
  for (const roof of r.roofs) {
    const ridge = roof.peakFlops / roof.bandwidth;
    const a = Math.max(iLo, pLo / roof.bandwidth);
    const pathD = `M${X(a)},${Y(roof.bandwidth * a)} L${X(ridge)},${Y(roof.peakFlops)} L${X(iHi)},${Y(roof.peakFlops)}`;
    parts.push(`<path d="${pathD}" fill="none" stroke="${COLOURS[roof.device]}" stroke-width="1.5" stroke-dasharray="5,3"><title>${roof.device}: ${fmt(roof.peakFlops)}FLOP/s, ${fmt(roof.bandwidth)}B/s, ridge ${ridge.toFixed(1)} FLOP/B</title></path>`);
  }
  for (const p of pts) {
    parts.push(`<circle cx="${X(p.i).toFixed(1)}" cy="${Y(p.perf).toFixed(1)}" r="3" fill="${COLOURS[p.device]}" fill-opacity="0.6"><title>${esc(p.name)} on ${p.device}: ${p.i.toFixed(2)} FLOP/B, ${fmt(p.perf)}FLOP/s</title></circle>`);
  }
  const title = `${s.phase}, batch ${s.batch}, ${s.phase === 'decode' ? 'KV' : 'prompt'} ${s.kvLen}: ${s.speedupOverNpu.toFixed(2)}x over npu`;
  parts.push(`<text x="${x0 + M.left}" y="${y0 + 18}" font-size="12" font-weight="bold">${esc(title)}</text>`);
  parts.push(`<text x="${x0 + M.left + pw / 2}" y="${y0 + H - 8}" font-size="11" text-anchor="middle">arithmetic intensity (FLOP/byte)</text>`);
  parts.push(`<text x="${x0 + 12}" y="${y0 + M.top + ph / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 ${x0 + 12} ${y0 + M.top + ph / 2})">FLOP/s</text>`);
  return parts.join('\n');
}

export function rooflineSvg(r: AnalyzeReport): string {
  const cols = Math.min(2, r.scenarios.length);
  const rows = Math.ceil(r.scenarios.length / cols);
  const width = cols * W;
  const height = rows * H + 30;
  const panels = r.scenarios.map((s, k) => panel(r, s, (k % cols) * W, 30 + Math.floor(k / cols) * H));
  const legend = r.roofs
    .map((d, k) => `<circle cx="${12 + k * 90}" cy="14" r="5" fill="${COLOURS[d.device]}"/><text x="${22 + k * 90}" y="18" font-size="12">${d.device}</text>`)
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${esc(`roofline of ${r.model} on ${r.hardware.name}`)}</title>`,
    `<rect width="100%" height="100%" fill="#fafafa"/>`,
    legend,
    `<text x="${width - 8}" y="18" font-size="11" text-anchor="end">${esc(`${r.model} on ${r.hardware.name}`)}</text>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}
