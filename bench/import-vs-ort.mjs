#!/usr/bin/env node
// Benchmark: import + shape inference + constant folding of a GPT-2-small-shaped
// decode model (12 layers, d 768, vocab 50257, ~650 MB of fp32 external data,
// made by the project's builder) with pimc, side by side with onnxruntime-node's
// session creation on the same file. Each measurement runs in a fresh process
// (so peak RSS is its own); the two alternate, and the medians and their ratio
// are reported. Usage: npm run build && node bench/import-vs-ort.mjs [rounds]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const rounds = Number(process.argv[2] ?? 5);
const dir = path.join(here, 'out', 'gpt2-small-decode');
const model = path.join(dir, 'model.onnx');

if (!fs.existsSync(model)) {
  const { buildModel } = await import('../dist/examples/builders/index.js');
  process.stderr.write('building gpt2-small decode (about 650 MB, once)...\n');
  const r = await buildModel({ preset: 'gpt2-small', phase: 'decode', batch: 1, past: 'past_sequence_length', outDir: dir, externalData: 'always', seed: 0 });
  process.stderr.write(`built ${r.modelPath} (${(r.bytes / 2 ** 20).toFixed(0)} MiB, ${r.parameterCount} parameters)\n`);
}
const dataBytes = fs.readdirSync(dir).filter((f) => f.endsWith('.data')).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);

const run = (worker) => JSON.parse(execFileSync(process.execPath, [path.join(here, 'workers', worker), model], { encoding: 'utf8' }));
const pimc = [];
const ort = [];
for (let i = 0; i < rounds; i++) {
  pimc.push(run('pimc-import.mjs'));
  ort.push(run('ort-session.mjs'));
  process.stderr.write(`round ${i + 1}/${rounds}: pimc ${pimc.at(-1).ms.toFixed(0)} ms, ort ${ort.at(-1).ms.toFixed(0)} ms\n`);
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const p = { ms: median(pimc.map((x) => x.ms)), rss: median(pimc.map((x) => x.maxRssMB)) };
const o = { ms: median(ort.map((x) => x.ms)), rss: median(ort.map((x) => x.maxRssMB)) };
const report = {
  model: path.relative(process.cwd(), model),
  externalDataMB: dataBytes / 2 ** 20,
  rounds,
  pimc: { medianMs: p.ms, medianPeakRssMB: p.rss, ops: pimc[0].ops, fileConstantsLoaded: pimc[0].fileConstantsLoaded },
  onnxruntime: { medianMs: o.ms, medianPeakRssMB: o.rss },
  ratio: { time: p.ms / o.ms, peakRss: p.rss / o.rss },
};
console.log(`model              ${report.model} (${report.externalDataMB.toFixed(0)} MiB external data)`);
console.log(`                   wall ms (median of ${rounds})   peak RSS MiB`);
console.log(`pimc import+fold   ${p.ms.toFixed(0).padStart(8)}                ${p.rss.toFixed(0).padStart(6)}`);
console.log(`ort session        ${o.ms.toFixed(0).padStart(8)}                ${o.rss.toFixed(0).padStart(6)}`);
console.log(`pimc / ort         ${report.ratio.time.toFixed(3).padStart(8)}                ${report.ratio.peakRss.toFixed(3).padStart(6)}`);
fs.mkdirSync(path.join(here, 'out'), { recursive: true });
fs.writeFileSync(path.join(here, 'out', 'import-vs-ort.json'), JSON.stringify(report, null, 2) + '\n');
