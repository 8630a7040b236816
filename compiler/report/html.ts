// `pimc report`: the data of one model on one machine as one self-contained
// HTML page (inline CSS and SVG; no scripts, fonts or network), the same
// bytes for the same data. Sections: summary (times, speed-up over the `npu`
// preset, verification), placement of every op in program order, the
// roofline, time per device and per op, the timeline.
// The page is also well-formed XML (polyglot XHTML), so XML tools read it.

import { rooflineSvg } from '../analysis/roofline-svg.js';
import { deviceBarsSvg, opBarsSvg, timelineSvg } from './charts.js';
import type { ReportData } from './data.js';
import { STYLE } from './style.js';
import { colourOf, esc, fmtShape, fmtTime } from './text.js';

const chip = (device: string) => `<span class="chip dev-${esc(device)}" style="background: ${colourOf(device)}">${esc(device)}</span>`;

function summary(d: ReportData): string {
  const v = d.verification;
  const s0 = d.analysis.scenarios[0];
  const dims = Object.entries(d.dims);
  const rows: [string, string][] = [
    ['model', esc(d.model)],
    ['hardware', `${esc(d.hardware)} (${d.devices.map(chip).join(' ')})`],
    ['inputs', d.inputs.map((i) => `${esc(i.name)} ${esc(i.dtype)}${esc(fmtShape(i.shape))}`).join(', ') || 'none'],
    ['dims', dims.length ? dims.map(([k, n]) => `${esc(k)} = ${n}`).join(', ') : 'static shapes (no symbolic dims)'],
    ['simulated time per step', `<span class="speedup">${esc(fmtTime(d.seconds))}</span> on ${esc(d.hardware)}`],
    ['on the npu preset', `${esc(fmtTime(d.npuSeconds))} (the same model simulated with every op on the NPU, no PIM)`],
    ['speed-up over npu', `<span class="speedup">${d.speedup.toFixed(2)}x</span>` +
      (s0 ? ` <span class="note">(cost model estimate: ${s0.speedupOverNpu.toFixed(2)}x, ${esc(fmtTime(s0.seconds))} vs ${esc(fmtTime(s0.npuPresetSeconds))})</span>` : '')],
    ['placement', Object.entries(d.placement).map(([dev, n]) => `${n} ops on ${chip(dev)}`).join(', ')],
    ['verification', v.ok
      ? `<span class="ok">outputs within the FP16 tolerance</span> (${v.outputs.length} outputs, test data ${esc(v.inputs)})`
      : `<span class="failed">FAILED: outputs differ beyond the FP16 tolerance</span> (test data ${esc(v.inputs)})`],
  ];
  if (d.pim) {
    const cmds = Object.entries(d.pim.commands).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, n]) => `${esc(k)} ${n}`).join(', ');
    rows.push(['HBM-PIM', `${d.pim.cycles} DRAM cycles, ${d.pim.triggers} triggers, ${d.pim.hostBytes} host bytes; commands: ${cmds}`]);
  }
  return `<dl class="summary">\n${rows.map(([k, x]) => `<dt>${k}</dt><dd>${x}</dd>`).join('\n')}\n</dl>`;
}

function outputsTable(d: ReportData): string {
  const v = d.verification;
  const rows = v.outputs.map((o) =>
    `<tr><td class="name">${esc(o.name)}</td><td>${esc(fmtShape(o.shape))}</td><td>${esc(o.against)}</td>` +
    `<td class="num">${o.maxAbsError.toExponential(2)}</td><td class="num">${o.tolerance.toExponential(2)}</td><td class="num">${o.depth}</td>` +
    `<td>${o.ok ? '<span class="ok">ok</span>' : '<span class="failed">FAILED</span>'}</td></tr>`);
  return [
    '<table class="outputs">',
    '<tr><th>output</th><th>shape</th><th>compared with</th><th class="num">max abs error</th><th class="num">tolerance</th><th class="num">depth</th><th>status</th></tr>',
    ...rows,
    '</table>',
    `<p class="note">tolerance ${esc(v.tolerance)}</p>`,
  ].join('\n');
}

function placementTable(d: ReportData): string {
  const devs = d.devices;
  const head = '<tr><th class="num">#</th><th>op</th><th>type</th><th>kind</th><th>device</th><th class="num">simulated</th><th class="num">estimated</th>' +
    devs.map((x) => `<th class="num">est. ${esc(x)}</th>`).join('') + '<th>why</th></tr>';
  const rows = d.ops.map((o) => {
    const est = o.estimates[o.device];
    return `<tr class="on-${esc(o.device)}"><td class="num">${o.index}</td><td class="name">${esc(o.name)}</td><td>${esc(o.type)}</td><td>${esc(o.kind)}</td>` +
      `<td class="device">${chip(o.device)}</td>` +
      `<td class="num">${o.simulated === null ? '-' : esc(fmtTime(o.simulated))}</td>` +
      `<td class="num">${est === undefined ? '-' : esc(fmtTime(est))}</td>` +
      devs.map((x) => `<td class="num">${o.estimates[x] === undefined ? '-' : esc(fmtTime(o.estimates[x]!))}</td>`).join('') +
      `<td class="why">${esc(o.reason)}</td></tr>`;
  });
  return ['<table class="placement">', head, ...rows, '</table>'].join('\n');
}

export function renderReport(d: ReportData): string {
  const title = `pimc report: ${d.model} on ${d.hardware}`;
  const linkNote = d.timeline.some((s) => s.device === 'link') ? '' : ' No step used the CXL link.';
  return [
    '<!DOCTYPE html>',
    '<html xmlns="http://www.w3.org/1999/xhtml" lang="en">',
    '<head>',
    '<meta charset="utf-8"/>',
    '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
    `<meta name="generator" content="pimc ${esc(d.version)}"/>`,
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    `<h1>${esc(title)}</h1>`,
    '<section id="summary">',
    summary(d),
    outputsTable(d),
    '</section>',
    '<section id="placement">',
    `<h2>Placement: ${d.ops.length} ops in program order</h2>`,
    '<p class="note">simulated: the step the simulator ran for the op (views move no data and have none); estimated: the cost model on the chosen device, and on each device that can run it.</p>',
    placementTable(d),
    '</section>',
    '<section id="roofline">',
    '<h2>Roofline</h2>',
    '<p class="note">every op at its arithmetic intensity and the FLOP rate its estimate gives it, coloured by its device; dashed lines are the devices\' roofs.</p>',
    `<figure>${rooflineSvg(d.analysis)}</figure>`,
    '</section>',
    '<section id="time">',
    '<h2>Time per device and per op</h2>',
    `<figure>${deviceBarsSvg(d)}</figure>`,
    `<figure>${opBarsSvg(d)}</figure>`,
    '</section>',
    '<section id="timeline">',
    '<h2>Timeline</h2>',
    `<p class="note">steps run one after another; hover a step for its op, device and time.${linkNote}</p>`,
    `<figure>${timelineSvg(d)}</figure>`,
    '</section>',
    `<footer class="note">generated by pimc ${esc(d.version)}</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
