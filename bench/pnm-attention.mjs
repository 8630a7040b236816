#!/usr/bin/env node
// Benchmark: decode attention on the CXL-PNM simulator, LLaMA-style heads
// (32 query heads, 8 KV heads, head dim 128), KV lengths 1k, 8k, 32k, batch
// 1 and 16, on the npu+hbm-pim+cxl-pnm preset. Prints the simulated time of
// one doorbell (host write, units, completion poll) and the achieved internal
// bandwidth, against the 1.1 TB/s the memory offers.
//
// Timing only: the descriptors are checked and timed but not computed
// (runPnm { functional: false }) on sparse zero memory, because the largest
// point streams 2 GiB of KV cache through an FP32-emulating JavaScript
// kernel. One small point (1k, batch 1) also runs functionally on random
// data to show the timing does not depend on it.
// Usage: npx tsc -p tsconfig.json && node bench/pnm-attention.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(here, '../dist');
const { lowerOnePnmOp, runOpOnPnm, randomTensor, F } = await import(path.join(dist, 'backends/cxl-pnm/lower/harness.js'));
const { PnmMemory } = await import(path.join(dist, 'runtime-sim/pnm/memory.js'));
const { runPnm } = await import(path.join(dist, 'runtime-sim/pnm/sim.js'));

const HQ = 32, HKV = 8, D = 128;
const scale = F(Math.fround(1 / Math.sqrt(D)));
const points = [];
for (const batch of [1, 16]) {
  for (const kv of [1024, 8192, 32768]) {
    const types = [[batch, HQ, 1, D], [batch, HKV, kv, D], [batch, HKV, kv, D]].map((shape) => ({ dtype: 'f32', shape }));
    const { ctx, program } = lowerOnePnmOp('Attention', 'pimc', types, { scale });
    const t0 = performance.now();
    const s = runPnm(program, new PnmMemory(ctx.hw), { hw: ctx.hw, functional: false });
    const wallMs = performance.now() - t0;
    const p = ctx.pnm;
    const kvBytes = 2 * batch * HKV * kv * D * 2;
    points.push({
      batch, kvLength: kv, descriptors: program.queues.map((q) => q.length),
      simulatedUs: s.ns / 1e3, deviceUs: s.deviceNs / 1e3, hostWriteUs: s.hostWriteNs / 1e3, pollUs: s.pollNs / 1e3,
      bytesRead: s.bytesRead, bytesWritten: s.bytesWritten, kvBytes,
      achievedGBps: s.achievedGBps, peakGBps: p.internalGBps, fractionOfPeak: s.achievedGBps / p.internalGBps,
      matrixFlops: s.flops.matrix, vectorFlops: s.flops.vector,
      // Per unit: its share of the bytes at a quarter of the bandwidth, against its compute floor.
      memoryFloorUs: (s.bytesRead + s.bytesWritten) / p.internalGBps / 1e3,
      computeFloorUs: Math.max(s.flops.matrix / p.units / (p.matrixTflopsPerUnit * 1e3), s.flops.vector / p.units / p.vectorGflopsPerUnit) / 1e3,
      wallMs,
    });
  }
}

// One functional point: same program shape, real data, same timing.
const fn = runOpOnPnm('Attention', 'pimc', [randomTensor([1, HQ, 1, D], 1), randomTensor([1, HKV, 1024, D], 2), randomTensor([1, HKV, 1024, D], 3)], { scale });
const timingOnly = points.find((p) => p.batch === 1 && p.kvLength === 1024);
const functionalCheck = { simulatedUs: fn.stats.ns / 1e3, sameAsTimingOnly: Math.abs(fn.stats.ns / 1e3 - timingOnly.simulatedUs) < 1e-9 };

const f = (x, d = 1) => x.toFixed(d).padStart(10);
console.log('decode attention on CXL-PNM (npu+hbm-pim+cxl-pnm, 4 units, 1100 GB/s internal; timing only, sparse zero memory)');
console.log('   batch    kv len  total us device us   KV MiB  achieved GB/s  of peak  mem floor us  compute floor us');
for (const p of points) {
  console.log(`${String(p.batch).padStart(8)}${String(p.kvLength).padStart(10)}${f(p.simulatedUs)}${f(p.deviceUs)}${f(p.kvBytes / 2 ** 20)}${f(p.achievedGBps, 0).padStart(15)}${(100 * p.fractionOfPeak).toFixed(1).padStart(8)}%${f(p.memoryFloorUs).padStart(14)}${f(p.computeFloorUs).padStart(18)}`);
}
console.log(`functional run (1k, batch 1): ${functionalCheck.simulatedUs.toFixed(3)} us, same as timing-only: ${functionalCheck.sameAsTimingOnly}`);

const out = path.join(here, 'out');
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'pnm-attention.json'), JSON.stringify({ hardware: 'npu+hbm-pim+cxl-pnm', heads: { q: HQ, kv: HKV, dim: D }, mode: 'timing only, sparse zero memory', points, functionalCheck }, null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), path.join(out, 'pnm-attention.json'))}`);
