#!/usr/bin/env node
// Benchmark: code generation for the whole machine (generateMachine) of a
// LLaMA-2-7B-shaped decode step (batch 1, 1,024 tokens in the KV cache) on
// npu+hbm-pim, placed by the optimum under the PIM row capacity, without
// loading a single weight (the model is built with sparse weights: its
// tensors are holes and codegen needs shapes only). Checks that the PIM bank
// rows the code uses fit the rows with RA12 = 0, and prints the placement,
// the rows, wall time per phase and peak RSS.
// Usage: npm run build && node bench/codegen-7b.mjs [preset] [batch] [past]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../dist/compiler/api/model.js';
import { generateMachine } from '../dist/compiler/codegen/hetero.js';
import { runPasses } from '../dist/compiler/passes/manager.js';
import { pipeline } from '../dist/compiler/passes/pipelines.js';
import { specializeDims } from '../dist/compiler/passes/specialize.js';
import { applyPlacement, placeScenario } from '../dist/compiler/placement/place.js';
import { buildModel } from '../dist/examples/builders/index.js';
import { loadHardware } from '../dist/runtime-sim/hardware/load.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const preset = process.argv[2] ?? 'llama2-7b';
const batch = Number(process.argv[3] ?? 1);
const past = Number(process.argv[4] ?? 1024);
const dir = path.join(here, 'out', `${preset}-decode-sparse`);
if (!fs.existsSync(path.join(dir, 'model.onnx'))) await buildModel({ preset, phase: 'decode', outDir: dir, externalData: 'always', sparseWeights: true });

const hw = loadHardware('npu+hbm-pim');
const t = [performance.now()];
const lap = () => {
  t.push(performance.now());
  return ((t.at(-1) - t.at(-2)) / 1e3).toFixed(2);
};
const graph = loadModel(path.join(dir, 'model.onnx'), { stage: 'onnx' }).graph;
const tLoad = lap();
specializeDims(graph, new Map([['batch_size', batch], ['past_sequence_length', past]]));
runPasses(graph, pipeline('fuse'));
const tFuse = lap();
const r = placeScenario(graph, hw, { batch, kvLen: 0 });
applyPlacement(r);
const tPlace = lap();
const code = generateMachine(graph, hw);
const tCodegen = lap();

const perKind = {};
r.problem.nodes.forEach((w, i) => {
  const k = `${w.kind}/${r.chosen.assignment[i]}`;
  perKind[k] = (perKind[k] ?? 0) + 1;
});
const rows = code.pim?.rows;
const result = {
  model: `${preset} decode`, batch, past, hardware: hw.name,
  seconds: { load: Number(tLoad), fuse: Number(tFuse), place: Number(tPlace), codegen: Number(tCodegen) },
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  steps: code.steps.length,
  pimLoads: code.pim?.loads.length ?? 0,
  pimRows: rows,
  opsByKindAndDevice: perKind,
  notes: r.binding.notes,
  estimateMs: r.chosen.score.total * 1e3,
};
if (rows && rows.resident + rows.perCall > rows.usable) throw new Error(`PIM rows over capacity: ${JSON.stringify(rows)}`);
fs.mkdirSync(path.join(here, 'out'), { recursive: true });
fs.writeFileSync(path.join(here, 'out', `codegen-${preset}.json`), `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
