#!/usr/bin/env node
// Issue [6/6] benchmark (b): wall time of a functional simulation of one
// GPT-2-small decode step (batch 1, 127 cached tokens; every op executed by
// the device it is placed on: NPU programs, HBM-PIM command streams) against
// onnxruntime-node running the same step on the CPU, in one run. The model
// is the builder's GPT-2-small (weights as sparse zero holes: the work is
// the same for any values). Also the simulated time per token.
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

let t0 = performance.now();
const sim = simulateModel(file, { hw, inputs: feeds });
const simWall = (performance.now() - t0) / 1e3;

let ortWall = NaN;
try {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file);
  const toOrt = (t) => (t.dtype === 'i64' ? new ort.Tensor('int64', BigInt64Array.from(t.data, (x) => BigInt(x)), t.shape) : new ort.Tensor('float32', Float32Array.from(t.data), t.shape));
  const ortFeeds = Object.fromEntries([...feeds].map(([k, t]) => [k, toOrt(t)]));
  await session.run(ortFeeds); // warm-up
  t0 = performance.now();
  await session.run(ortFeeds);
  ortWall = (performance.now() - t0) / 1e3;
} catch (e) {
  console.log(`onnxruntime-node unavailable: ${e.message}`);
}
const placement = Object.entries(sim.placement).map(([d, n]) => `${n} on ${d}`).join(', ');
console.log(`GPT-2-small decode step (batch 1, KV 127) on ${hw}: ${placement}`);
console.log(`  simulated ${(sim.run.seconds * 1e6).toFixed(1)} us per token (${Object.entries(sim.run.secondsByDevice).map(([d, s]) => `${d} ${(s * 1e6).toFixed(1)} us`).join(', ')})`);
console.log(`  functional simulation wall ${simWall.toFixed(2)} s; onnxruntime-node session.run ${(ortWall * 1e3).toFixed(1)} ms; ratio ${(simWall / ortWall).toFixed(0)}x`);
fs.mkdirSync(path.join(here, 'out'), { recursive: true });
fs.writeFileSync(path.join(here, 'out', 'simulate-vs-ort.json'), JSON.stringify({ hw, simulatedSeconds: sim.run.seconds, secondsByDevice: sim.run.secondsByDevice, placement: sim.placement, simWallSeconds: simWall, ortWallSeconds: ortWall, ratio: simWall / ortWall }, null, 2) + '\n');
