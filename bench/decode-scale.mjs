#!/usr/bin/env node
// Issue [6/6] benchmarks (a) and (c): decode steps of GPT-2-small-,
// LLaMA-2-7B- and Mi:dm-7B-shaped models (the builder's, weights as sparse
// holes: neither compiling nor timing reads a weight), batch 1 and 16, 1,023
// tokens in the KV cache, each compiled into a bundle with `pimc compile`'s
// API (weights referenced) and the bundle simulated with timing only (every
// command of every device timed; docs/runtime.md says which channels run).
//
// (a) simulated latency per token on npu and npu+hbm-pim, the speed-up, and
//     the share of the roofline bound reached: the bound is, per op, its
//     FLOPs at the device's peak or its bytes at the device's bandwidth,
//     whichever takes longer (the NPU's DRAM stream rate, HBM-PIM's in-bank
//     rate: compiler/api/analyze.ts roofsOf), summed over the ops; share =
//     bound / simulated time.
// (c) compile time (import, fuse, place, generate code, write the bundle)
//     and peak RSS of the compiling process, each configuration in its own
//     process so the figures do not mix.
// Usage: npm run build && node bench/decode-scale.mjs [models] [batches]
//   e.g. node bench/decode-scale.mjs llama2-7b,midm-7b 1,16
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);
// 1,023 cached + the new token = 1,024 positions: GPT-2's whole context.
const pastFor = () => 1023;

async function one(preset, batch, hwName) {
  const { buildModel } = await import('../dist/examples/builders/index.js');
  const { compileModel } = await import('../dist/compiler/api/compile.js');
  const { bundleFiles, writeBundleFiles } = await import('../dist/compiler/bundle/write.js');
  const { simulateBundle } = await import('../dist/compiler/api/simulate-bundle.js');
  const { analyzeOps } = await import('../dist/compiler/analysis/op-costs.js');
  const { roofsOf } = await import('../dist/compiler/api/analyze.js');
  const dir = path.join(here, 'out', `${preset}-decode-sparse`);
  if (!fs.existsSync(path.join(dir, 'model.onnx'))) await buildModel({ preset, phase: 'decode', outDir: dir, externalData: 'always', sparseWeights: true });

  const out = path.join(here, 'out', 'bundles', `${preset}-b${batch}-${hwName}`);
  const t0 = performance.now();
  const c = compileModel(path.join(dir, 'model.onnx'), { hw: hwName, scenario: { phase: 'decode', batch, kvLen: pastFor(preset, batch) } });
  writeBundleFiles(out, bundleFiles(c.code, { model: `${preset} decode`, hw: c.hw, dims: c.dims, weights: 'reference' }, out));
  const compileSeconds = (performance.now() - t0) / 1e3;
  const compileRssMiB = process.resourceUsage().maxRSS / 1024;

  // the roofline bound of every op on the device it was placed on
  const roofs = new Map(roofsOf(c.hw).map((r) => [r.device, r]));
  const binding = { phase: 'decode', batch, kvLen: pastFor(preset, batch), env: new Map(), batchScale: 1, notes: [] };
  const bound = {};
  for (const w of analyzeOps(c.graph, binding)) {
    if (w.kind === 'view') continue;
    const d = w.op.device ?? 'npu';
    const r = roofs.get(d);
    const bytes = w.bytes.weights + w.bytes.activations + w.bytes.kv;
    bound[d] = (bound[d] ?? 0) + Math.max(w.flops / r.peakFlops, bytes / r.bandwidth);
  }

  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  const t1 = performance.now();
  const { report } = simulateBundle(out, { functional: false });
  const simWall = (performance.now() - t1) / 1e3;
  const bytes = Object.values(manifest.files).reduce((n, f) => n + f.bytes, 0);
  fs.rmSync(out, { recursive: true, force: true });
  return {
    preset, batch, past: pastFor(preset, batch), hw: hwName,
    seconds: report.seconds,
    secondsByDevice: report.secondsByDevice,
    boundSeconds: Object.values(bound).reduce((a, b) => a + b, 0),
    boundByDevice: bound,
    placement: report.placement,
    compileSeconds, compileRssMiB,
    bundleMiB: bytes / 2 ** 20,
    simulateWallSeconds: simWall,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

if (process.argv[2] === '--one') {
  const [preset, batch, hw] = process.argv.slice(3);
  process.stdout.write(JSON.stringify(await one(preset, Number(batch), hw)) + '\n');
} else {
  const presets = (process.argv[2] ?? 'gpt2-small,llama2-7b,midm-7b').split(',');
  const batches = (process.argv[3] ?? '1,16').split(',').map(Number);
  const rows = [];
  for (const preset of presets) {
    for (const batch of batches) {
      for (const hw of ['npu', 'npu+hbm-pim']) {
        const r = JSON.parse(execFileSync(process.execPath, [self, '--one', preset, String(batch), hw], { encoding: 'utf8', maxBuffer: 1 << 26 }).trim().split('\n').at(-1));
        rows.push(r);
        console.log(`${preset} b${batch} ${hw}: ${(r.seconds * 1e3).toFixed(3)} ms/token, bound ${(r.boundSeconds * 1e3).toFixed(3)} ms (${((100 * r.boundSeconds) / r.seconds).toFixed(1)}%), compile ${r.compileSeconds.toFixed(1)} s, ${r.compileRssMiB.toFixed(0)} MiB, simulate ${r.simulateWallSeconds.toFixed(1)} s`);
      }
    }
  }
  const md = ['| model | batch | KV | npu ms/token | npu+hbm-pim ms/token | speed-up | share of roofline bound (npu / npu+hbm-pim) | compile s (npu+hbm-pim) | compile peak RSS MiB | simulate wall s |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const preset of presets) {
    for (const batch of batches) {
      const a = rows.find((r) => r.preset === preset && r.batch === batch && r.hw === 'npu');
      const b = rows.find((r) => r.preset === preset && r.batch === batch && r.hw === 'npu+hbm-pim');
      md.push(`| ${preset} | ${batch} | ${a.past} | ${(a.seconds * 1e3).toFixed(3)} | ${(b.seconds * 1e3).toFixed(3)} | ${(a.seconds / b.seconds).toFixed(2)}x | ${((100 * a.boundSeconds) / a.seconds).toFixed(1)}% / ${((100 * b.boundSeconds) / b.seconds).toFixed(1)}% | ${b.compileSeconds.toFixed(1)} | ${Math.max(a.compileRssMiB, b.compileRssMiB).toFixed(0)} | ${b.simulateWallSeconds.toFixed(1)} |`);
    }
  }
  fs.mkdirSync(path.join(here, 'out'), { recursive: true });
  fs.writeFileSync(path.join(here, 'out', 'decode-scale.json'), JSON.stringify(rows, null, 2) + '\n');
  fs.writeFileSync(path.join(here, 'out', 'decode-scale.md'), md.join('\n') + '\n');
  console.log(md.join('\n'));
}
