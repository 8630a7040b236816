#!/usr/bin/env node
// The NPU timing model against the placement's estimate (issue [4/6]): a
// GPT-2-small-shaped model (12 layers, d 768, vocab 50257; built with sparse
// weights) at decode (batch 1, 127 cached tokens) and prefill (batch 1, 128
// tokens), every op on the NPU simulator in timing-only mode (all
// instructions checked and timed; data not computed, so weights are not
// loaded), each op's simulated time beside CostModel's NPU estimate.
// Per op type: ops, simulated and estimated time, their ratio and the worst
// single op's ratio; then the single ops, worst first, one line per (type,
// shapes) naming its worst op with its shapes (inputs -> outputs) and how
// many ops share them, and the count of ops outside [0.8, 1.25].
// Writes bench/out/npu-vs-estimate.md and .json.
// Usage: npm run build && node bench/npu-vs-estimate.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simulateOnNpu } from '../dist/compiler/api/npu-sim.js';
import { buildModel } from '../dist/examples/builders/index.js';
import { loadModel } from '../dist/compiler/api/model.js';
import { Tensor } from '../dist/ir/tensor.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'out');

const SCENARIOS = [
  { name: 'gpt2-small decode (batch 1, KV 127)', phase: 'decode', dims: { batch: 1, seq: 1, past: 127 } },
  { name: 'gpt2-small prefill (batch 1, 128 tokens)', phase: 'prefill', dims: { batch: 1, seq: 128, past: 0 } },
];

/** Zero feeds of the model's input shapes under the scenario's dims. */
function feeds(file, dims) {
  const g = loadModel(file, { stage: 'onnx' }).graph;
  const size = (d) => (typeof d === 'number' ? d : /past/.test(d) ? dims.past : /seq/.test(d) ? dims.seq : /batch/.test(d) ? dims.batch : NaN);
  return new Map(g.inputs.map((v) => [v.name, new Tensor(v.type.dtype, v.type.shape.map(size))]));
}

const rows = [];
const md = ['# NPU simulated time vs the placement estimate (GPT-2-small shapes)', '', 'ratio = simulated / estimated; per op type, summed over the ops of that type.', ''];
for (const s of SCENARIOS) {
  const dir = path.join(out, `gpt2-small-${s.phase}`);
  if (!fs.existsSync(path.join(dir, 'model.onnx'))) await buildModel({ preset: 'gpt2-small', phase: s.phase, outDir: dir, externalData: 'always', sparseWeights: true });
  const file = path.join(dir, 'model.onnx');
  const t0 = performance.now();
  // The graph object is specialised and fused in place by simulateOnNpu, so
  // its ops (by name) carry the concrete shapes afterwards.
  const graph = loadModel(file, { stage: 'onnx' }).graph;
  const r = simulateOnNpu(graph, { hw: 'npu', inputs: feeds(file, s.dims), functional: false });
  const opByName = new Map(graph.ops.map((o) => [o.name, o]));
  const dimsOf = (v) => (v ? `[${(v.type?.shape ?? []).join(',')}]` : '-');
  const shapesOf = (name) => {
    const o = opByName.get(name);
    return o ? `${o.inputs.map(dimsOf).join(' ')} -> ${o.outputs.map(dimsOf).join(' ')}` : '?';
  };
  const wall = (performance.now() - t0) / 1e3;
  const byType = new Map();
  for (const st of r.steps) {
    const b = byType.get(st.type) ?? { type: st.type, ops: 0, sim: 0, est: 0, worst: 1 };
    b.ops++;
    b.sim += st.seconds;
    b.est += st.estimateSeconds;
    const ratio = st.seconds / st.estimateSeconds;
    if (Math.abs(Math.log(ratio)) > Math.abs(Math.log(b.worst))) b.worst = ratio;
    byType.set(st.type, b);
  }
  const est = r.steps.reduce((a, st) => a + st.estimateSeconds, 0);
  const ops = r.steps.map((st) => ({ name: st.name, type: st.type, shapes: shapesOf(st.name), simUs: st.seconds * 1e6, estUs: st.estimateSeconds * 1e6, ratio: st.seconds / st.estimateSeconds }));
  // Ops of one type and the same shapes (the 12 layers) time alike: one line
  // per (type, shapes), its worst op named, with how many ops share it.
  const bySig = new Map();
  for (const o of ops) {
    const k = `${o.type} ${o.shapes}`;
    const g = bySig.get(k);
    if (!g) bySig.set(k, { ...o, count: 1 });
    else {
      g.count++;
      if (Math.abs(Math.log(o.ratio)) > Math.abs(Math.log(g.ratio))) Object.assign(g, { ...o, count: g.count });
    }
  }
  const worst = [...bySig.values()].sort((a, b) => Math.abs(Math.log(b.ratio)) - Math.abs(Math.log(a.ratio)));
  const outside = ops.filter((o) => !(o.ratio >= 0.8 && o.ratio <= 1.25));
  md.push(`## ${s.name}`, '', `simulated ${(r.seconds * 1e6).toFixed(1)} us, estimated ${(est * 1e6).toFixed(1)} us (ratio ${(r.seconds / est).toFixed(3)}); ${r.steps.length} NPU programs; ${wall.toFixed(1)} s wall`, '',
    '| op type | ops | simulated us | estimated us | ratio | worst single op |', '| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const b of [...byType.values()].sort((a, b) => b.sim - a.sim)) {
    md.push(`| ${b.type} | ${b.ops} | ${(b.sim * 1e6).toFixed(2)} | ${(b.est * 1e6).toFixed(2)} | ${(b.sim / b.est).toFixed(3)} | ${b.worst.toFixed(3)} |`);
  }
  md.push('', `Worst single ops (${outside.length} outside [0.8, 1.25]):`, '', '| op (worst of its shapes) | type | shapes | ops alike | simulated us | estimated us | ratio |', '| --- | --- | --- | ---: | ---: | ---: | ---: |');
  for (const o of worst) md.push(`| ${o.name} | ${o.type} | ${o.shapes} | ${o.count} | ${o.simUs.toFixed(2)} | ${o.estUs.toFixed(2)} | ${o.ratio.toFixed(3)} |`);
  md.push('');
  rows.push({ scenario: s.name, simulatedSeconds: r.seconds, estimatedSeconds: est, wallSeconds: wall, byType: [...byType.values()], ops });
  console.log(`${s.name}: simulated ${(r.seconds * 1e6).toFixed(1)} us, estimated ${(est * 1e6).toFixed(1)} us, ratio ${(r.seconds / est).toFixed(3)} (${wall.toFixed(1)} s wall)`);
  for (const b of byType.values()) console.log(`  ${b.type.padEnd(18)} ${String(b.ops).padStart(3)}  ratio ${(b.sim / b.est).toFixed(3)}  worst ${b.worst.toFixed(3)}`);
  console.log(`  worst single ops, one per (type, shapes) (${outside.length} ops outside [0.8, 1.25]):`);
  for (const o of worst) console.log(`    ${o.ratio.toFixed(3)}  ${o.name} (${o.type}${o.count > 1 ? `, ${o.count} ops alike` : ''}) ${o.shapes}  sim ${o.simUs.toFixed(2)} us, est ${o.estUs.toFixed(2)} us`);
}
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'npu-vs-estimate.md'), md.join('\n'));
fs.writeFileSync(path.join(out, 'npu-vs-estimate.json'), JSON.stringify(rows, null, 2) + '\n');
