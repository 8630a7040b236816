#!/usr/bin/env node
// Issue [6/6] benchmark (b): wall time of a functional simulation of one
// GPT-2-small decode step (batch 1, 127 cached tokens; every op executed by
// the device it is placed on: NPU programs, HBM-PIM command streams) against
// onnxruntime-node running the same step on the CPU, in one run. The model
// is the builder's GPT-2-small (weights as sparse zero holes: the same
// commands and instructions for any values). Also the simulated time per
// token, and where the wall time goes.
// Usage: npm run build && node bench/simulate-vs-ort.mjs [hw]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simulateModel } from '../dist/compiler/api/simulate.js';
import { loadModel } from '../dist/compiler/api/model.js';
import { buildModel } from '../dist/examples/builders/index.js';
import { Tensor } from '../dist/ir/tensor.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const hw = process.argv[2] ?? 'npu+hbm-pim';
const dir = path.join(here, 'out', 'gpt2-small-decode');
if (!fs.existsSync(path.join(dir, 'model.onnx'))) await buildModel({ preset: 'gpt2-small', phase: 'decode', outDir: dir, externalData: 'always', sparseWeights: true });
const file = path.join(dir, 'model.onnx');
const dims = { batch: 1, seq: 1, past: 127 };
const g = loadModel(file, { stage: 'onnx' }).graph;
const size = (d) => (typeof d === 'number' ? d : /past/.test(d) ? dims.past : /seq/.test(d) ? dims.seq : /batch/.test(d) ? dims.batch : NaN);
const feeds = new Map(g.inputs.map((v) => [v.name, new Tensor(v.type.dtype, v.type.shape.map(size))]));

// Only the simulation is timed: simulateModel without the reference
// interpreter (the oracle verify compares with). The split: wall time until
// the first step ends (compile, the weights into DRAM, the PIM banks' load
// and layout, and the first step, a small NPU gather), then the NPU and PIM
// steps (from the progress callback after each step; the timeline says
// which device a step ran on), then reading the outputs back.
const marks = [];
let t0 = performance.now();
const sim = simulateModel(file, { hw, inputs: feeds, reference: false, onProgress: (what, done) => { if (what === 'simulate') marks[done] = performance.now(); } });
const simWall = (performance.now() - t0) / 1e3;
marks[0] = t0;
const split = { 'compile+load': (marks[1] - t0) / 1e3, npu: 0, pim: 0, pnm: 0, link: 0 };
sim.run.timeline.forEach((e, i) => { if (i > 0) split[e.device] += (marks[i + 1] - marks[i]) / 1e3; });
split.outputs = (t0 + simWall * 1e3 - marks[sim.run.timeline.length]) / 1e3;

let ortWall = NaN;
try {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file);
  const toOrt = (t) => (t.dtype === 'i64' ? new ort.Tensor('int64', BigInt64Array.from(t.data, (x) => BigInt(x)), t.shape) : new ort.Tensor('float32', Float32Array.from(t.data), t.shape));
  const ortFeeds = Object.fromEntries([...feeds].map(([k, t]) => [k, toOrt(t)]));
  await session.run(ortFeeds); // warm-up
  // the median of 7 runs: a single run varies by 2-3x on a shared machine
  const walls = [];
  for (let i = 0; i < 7; i++) {
    t0 = performance.now();
    await session.run(ortFeeds);
    walls.push((performance.now() - t0) / 1e3);
  }
  ortWall = walls.sort((a, b) => a - b)[3];
} catch (e) {
  console.log(`onnxruntime-node unavailable: ${e.message}`);
}
const placement = Object.entries(sim.placement).map(([d, n]) => `${n} on ${d}`).join(', ');
console.log(`GPT-2-small decode step (batch 1, KV 127) on ${hw}: ${placement}`);
console.log(`  simulated ${(sim.run.seconds * 1e6).toFixed(1)} us per token (${Object.entries(sim.run.secondsByDevice).map(([d, s]) => `${d} ${(s * 1e6).toFixed(1)} us`).join(', ')})`);
console.log(`  functional simulation wall ${simWall.toFixed(2)} s; onnxruntime-node session.run ${(ortWall * 1e3).toFixed(1)} ms (median of 7); ratio ${(simWall / ortWall).toFixed(1)}x`);
console.log(`  split: ${Object.entries(split).filter(([, s]) => s > 0).map(([k, s]) => `${k} ${s.toFixed(2)} s`).join(', ')} (compile+load: until the first step ends)`);
fs.mkdirSync(path.join(here, 'out'), { recursive: true });
fs.writeFileSync(path.join(here, 'out', 'simulate-vs-ort.json'), JSON.stringify({ hw, simulatedSeconds: sim.run.seconds, secondsByDevice: sim.run.secondsByDevice, placement: sim.placement, simWallSeconds: simWall, wallSplitSeconds: split, ortWallSeconds: ortWall, ratio: simWall / ortWall }, null, 2) + '\n');
