#!/usr/bin/env node
// Benchmark: `pimc analyze` on the Mi:dm-7B-shaped decode model (32 layers,
// d 4096, FFN 10880, vocab 72154) over the batch grid 1,4,16,64 — the whole
// process, wall time and peak RSS, median of N fresh runs. The model is built
// once with sparse weights (its 28 GB of fp32 are holes): analysis needs
// shapes only, and the run checks that no weight is ever read.
// Usage: npm run build && node bench/analyze-7b.mjs [runs]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const runs = Number(process.argv[2] ?? 5);
const dir = path.join(here, 'out', 'midm-7b-decode-sparse');
const model = path.join(dir, 'model.onnx');
if (!fs.existsSync(model)) {
  const { buildModel } = await import('../dist/examples/builders/index.js');
  await buildModel({ preset: 'midm-7b', phase: 'decode', outDir: dir, externalData: 'always', sparseWeights: true });
}

const wall = [];
const rss = [];
for (let i = 0; i < runs; i++) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, path.join(root, 'bin/pimc.js'), 'analyze', model, '--hw', 'npu+hbm-pim', '--batch', '1,4,16,64', '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const [s, kb] = r.stderr.trim().split('\n').at(-1).split(' ').map(Number);
  wall.push(s);
  rss.push(kb / 1024);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// In process: the same analysis, counting weights read from the data file.
const { loadModel, analyzeModel } = await import('../dist/compiler/api/index.js');
const { graph } = loadModel(model, { stage: 'fused' });
const { report } = analyzeModel(graph, { hw: 'npu+hbm-pim', batches: [1, 4, 16, 64] });
const loaded = graph.constants.filter((c) => c.constant.source.kind === 'file' && c.constant.loaded && c.constant.shape.reduce((a, b) => a * b, 1) > 65536).length;
const dataBytes = fs.statSync(`${model}.data`).size;

const result = {
  model: path.relative(root, model),
  weightsGB: dataBytes / 1e9,
  runs,
  medianWallSeconds: median(wall),
  medianPeakRssMB: median(rss),
  bigWeightsLoaded: loaded,
  scenarios: report.scenarios.map((s) => ({ batch: s.batch, seconds: s.seconds, speedupOverNpu: s.speedupOverNpu })),
};
console.log(`pimc analyze ${result.model} --hw npu+hbm-pim --batch 1,4,16,64`);
console.log(`weights ${result.weightsGB.toFixed(1)} GB (sparse file), big weights loaded: ${loaded}`);
console.log(`wall ${result.medianWallSeconds.toFixed(2)} s (median of ${runs}), peak RSS ${result.medianPeakRssMB.toFixed(0)} MB`);
for (const s of result.scenarios) console.log(`  batch ${s.batch}: ${(s.seconds * 1e3).toFixed(3)} ms per token, ${s.speedupOverNpu.toFixed(2)}x over npu`);
fs.mkdirSync(path.join(here, 'out'), { recursive: true });
fs.writeFileSync(path.join(here, 'out', 'analyze-7b.json'), JSON.stringify(result, null, 2) + '\n');
