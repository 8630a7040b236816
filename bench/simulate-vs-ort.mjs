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
// interpreter (the oracle verify compares with). Split as onnxruntime's own
// times are: its session.run excludes InferenceSession.create (reading the
// model, loading the weights), so
//   (i)  setup: compile, the weights written into the simulated DRAM, the
//        PIM banks' load and layout: loading the model onto the device;
//   (ii) the step: every device's emitted program / command stream executed
//        functionally (NPU programs, HBM-PIM streams, link copies), and the
//        outputs read back from their DRAM homes.
// The progress callback fires after each step (the timeline says which
// device a step ran on). simulateModel has no event before its first step,
// so (i) ends when the first step ends unless a ('simulate', 0) event
// arrives first: the first step (named in the output) is then counted in
// setup, not in the step, and the output says so.
const marks = [];
let t0 = performance.now();
const sim = simulateModel(file, { hw, inputs: feeds, reference: false, onProgress: (what, done) => { if (what === 'simulate') marks[done] = performance.now(); } });
const tEnd = performance.now();
const simWall = (tEnd - t0) / 1e3;
const steps = sim.run.timeline.length;
const exactStart = marks[0] !== undefined;
if (!exactStart) marks[0] = marks[1];
const setup = (marks[0] - t0) / 1e3;
const byDevice = { npu: 0, pim: 0, pnm: 0, link: 0 };
sim.run.timeline.forEach((e, i) => { if (exactStart || i > 0) byDevice[e.device] += (marks[i + 1] - marks[i]) / 1e3; });
const outputs = (tEnd - marks[steps]) / 1e3;
const step = (tEnd - marks[0]) / 1e3;

let ort = { create: NaN, run: NaN, runs: [] };
try {
  const ortm = await import('onnxruntime-node');
  const tc = performance.now();
  const session = await ortm.InferenceSession.create(file);
  ort.create = (performance.now() - tc) / 1e3;
  const toOrt = (t) => (t.dtype === 'i64' ? new ortm.Tensor('int64', BigInt64Array.from(t.data, (x) => BigInt(x)), t.shape) : new ortm.Tensor('float32', Float32Array.from(t.data), t.shape));
  const ortFeeds = Object.fromEntries([...feeds].map(([k, t]) => [k, toOrt(t)]));
  await session.run(ortFeeds); // warm-up
  // the median of 7 runs: a single run varies by 2-3x on a shared machine
  for (let i = 0; i < 7; i++) {
    t0 = performance.now();
    await session.run(ortFeeds);
    ort.runs.push((performance.now() - t0) / 1e3);
  }
  ort.run = [...ort.runs].sort((a, b) => a - b)[3];
  await session.release?.();
} catch (e) {
  console.log(`onnxruntime-node unavailable: ${e.message}`);
}
const placement = Object.entries(sim.placement).map(([d, n]) => `${n} on ${d}`).join(', ');
const ms = (s) => `${(s * 1e3).toFixed(1)} ms`;
const sec = (s) => `${s.toFixed(2)} s`;
const first = sim.run.timeline[0];
console.log(`GPT-2-small decode step (batch 1, KV 127) on ${hw}: ${placement}`);
console.log(`  simulated ${(sim.run.seconds * 1e6).toFixed(1)} us per token (${Object.entries(sim.run.secondsByDevice).map(([d, s]) => `${d} ${(s * 1e6).toFixed(1)} us`).join(', ')})`);
console.log(`  onnxruntime-node: session.create ${ms(ort.create)}, session.run ${ms(ort.run)} (median of 7)`);
console.log(`  simulation wall ${sec(simWall)}: (i) setup ${sec(setup)} (compile, weights into DRAM, PIM bank layout${exactStart ? '' : `; includes the first step, ${first.device} ${JSON.stringify(first.name)}`})`);
console.log(`    (ii) step ${sec(step)}: ${Object.entries(byDevice).filter(([, s]) => s > 0).map(([k, s]) => `${k} ${sec(s)}`).join(', ')}, outputs ${sec(outputs)}`);
console.log(`  ratios to ORT session.run: step ${(step / ort.run).toFixed(1)}x, setup+step ${((setup + step) / ort.run).toFixed(1)}x; setup+step to ORT create+run ${((setup + step) / (ort.create + ort.run)).toFixed(1)}x`);
fs.mkdirSync(path.join(here, 'out'), { recursive: true });
fs.writeFileSync(path.join(here, 'out', 'simulate-vs-ort.json'), JSON.stringify({ hw, simulatedSeconds: sim.run.seconds, secondsByDevice: sim.run.secondsByDevice, placement: sim.placement, simWallSeconds: simWall, setupSeconds: setup, setupIncludesFirstStep: !exactStart, stepSeconds: step, stepSplitSeconds: { ...byDevice, outputs }, ortCreateSeconds: ort.create, ortRunSeconds: ort.run, ortRunsSeconds: ort.runs, stepRatio: step / ort.run, setupStepRatio: (setup + step) / ort.run, ratio: simWall / ort.run }, null, 2) + '\n');
