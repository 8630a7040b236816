#!/usr/bin/env node
// The placement table: estimated time per token (decode, KV length 1024) or
// per prefill (prompt 1024), the chosen placement against the baselines and
// the speed-up over the `npu` preset, for the shared models and builder models
// of GPT-2-small, LLaMA-2-7B and Mi:dm-7B shape, batch 1, 4, 16 and 64.
// Writes bench/out/placement-grid.md. Usage: npm run build && node bench/placement-grid.mjs [hw]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeModel } from '../dist/compiler/api/index.js';
import { buildModel } from '../dist/examples/builders/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const hw = process.argv[2] ?? 'npu+hbm-pim';
const models = [];
for (const m of ['gpt2_decode', 'gpt2_prefill', 'bert_encoder', 'gpt2_dynamic_decode', 'llama_dynamic_decode']) {
  models.push([m, path.join(root, 'examples/models', m, 'model.onnx')]);
}
for (const preset of ['gpt2-small', 'llama2-7b', 'midm-7b']) {
  for (const phase of ['decode', 'prefill']) {
    const outDir = path.join(here, 'out', `${preset}-${phase}-sparse`);
    if (!fs.existsSync(path.join(outDir, 'model.onnx'))) await buildModel({ preset, phase, outDir, externalData: 'always', sparseWeights: true });
    models.push([`${preset} ${phase}`, path.join(outDir, 'model.onnx')]);
  }
}
const us = (s) => (s >= 1e-3 ? `${(s * 1e3).toFixed(3)} ms` : `${(s * 1e6).toFixed(1)} us`);
const lines = [`| model | phase | batch | chosen | all-npu | attacc | all-pim | speed-up over npu |`, `| --- | --- | --- | --- | --- | --- | --- | --- |`];
for (const [name, file] of models) {
  const { report } = analyzeModel(file, { hw, batches: [1, 4, 16, 64], kvLen: 1024 });
  for (const s of report.scenarios) {
    const b = Object.fromEntries(s.baselines.map((x) => [x.name, x.seconds]));
    lines.push(`| ${name} | ${s.phase} | ${s.batch} | ${us(s.seconds)} | ${us(b['all-npu'])} | ${us(b.attacc)} | ${us(b['all-pim'])} | ${s.speedupOverNpu.toFixed(2)}x |`);
  }
}
const text = `Placement on ${hw} (estimates; decode: per token at KV length 1024, prefill: per 1024-token prompt; static models keep their own lengths).\n\n${lines.join('\n')}\n`;
fs.mkdirSync(path.join(here, 'out'), { recursive: true });
fs.writeFileSync(path.join(here, 'out', 'placement-grid.md'), text);
process.stdout.write(text);
