#!/usr/bin/env node
// Issue [5/6]: where decode attention goes on npu+hbm-pim+cxl-pnm, and why,
// for a LLaMA-2-7B-shaped decode (built with sparse weights) at KV lengths
// 1k, 8k, 32k and batch 1, 16; and the CXL-PNM simulator's time for that
// attention (timing only, sparse memory) beside the placement's PNM estimate.
// Writes bench/out/pnm-placement.md. Usage: npm run build && node bench/pnm-placement.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyzeModel } from '../dist/compiler/api/index.js';
import { buildModel } from '../dist/examples/builders/index.js';
import { lowerOnePnmOp } from '../dist/backends/cxl-pnm/lower/harness.js';
import { PnmMemory } from '../dist/runtime-sim/pnm/memory.js';
import { runPnm } from '../dist/runtime-sim/pnm/sim.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(here, 'out', 'llama2-7b-decode');
if (!fs.existsSync(path.join(dir, 'model.onnx'))) await buildModel({ preset: 'llama2-7b', phase: 'decode', outDir: dir, externalData: 'always', sparseWeights: true });
const model = path.join(dir, 'model.onnx');
const hw = 'npu+hbm-pim+cxl-pnm';
const md = ['# Decode attention on npu+hbm-pim+cxl-pnm (LLaMA-2-7B shapes: 32 heads x 128)', '',
  '| KV length | batch | attention on | why (first attention op) | est. npu us | est. pim us | est. pnm us | simulated pnm us | sim / est | per token ms | x over npu |',
  '| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'];
for (const kv of [1024, 8192, 32768]) {
  const { report } = analyzeModel(model, { hw, batches: [1, 16], kvLen: kv });
  for (const s of report.scenarios) {
    const att = s.ops.filter((o) => o.kind === 'attention');
    const a = att[0];
    const types = [[s.batch, 32, 1, 128], [s.batch, 32, kv + 1, 128], [s.batch, 32, kv + 1, 128]].map((shape) => ({ dtype: 'f32', shape }));
    const { ctx, program } = lowerOnePnmOp('Attention', 'pimc', types, { scale: { kind: 'float', value: Math.fround(1 / Math.sqrt(128)) } }, { hw });
    const sim = runPnm(program, new PnmMemory(ctx.hw), { hw: ctx.hw, functional: false });
    const us = (x) => (x === undefined ? '-' : (x * 1e6).toFixed(1));
    const devices = [...new Set(att.map((o) => o.device))].join(', ');
    md.push(`| ${kv} | ${s.batch} | ${devices} | ${a.reason.replace(/\|/g, '/')} | ${us(a.seconds.npu)} | ${us(a.seconds.pim)} | ${us(a.seconds.pnm)} | ${us(sim.seconds)} | ${(sim.seconds / a.seconds.pnm).toFixed(3)} | ${(s.seconds * 1e3).toFixed(2)} | ${s.speedupOverNpu.toFixed(2)} |`);
    console.log(`kv ${kv} batch ${s.batch}: attention on ${devices}; pnm est ${us(a.seconds.pnm)} us, simulated ${us(sim.seconds)} us (${(sim.seconds / a.seconds.pnm).toFixed(3)}); ${s.notes.join('; ')}`);
  }
}
fs.writeFileSync(path.join(here, 'out', 'pnm-placement.md'), md.join('\n') + '\n');
