#!/usr/bin/env node
// NPU kernel efficiency on the simulator: a compute-bound GEMM (MatMul
// [512, 4096] x [4096, 4096]) and a memory-bound GEMV ([1, 4096] x
// [4096, 4096]) lowered by backends/npu/lower/matmul and run through
// runtime-sim/npu on hw 'npu'. Reports simulated time, % of the array peak
// (engines x arrayRows x arrayCols MACs a cycle) and % of DRAM bandwidth
// (memory.peakGBps, and peakGBps x streamEfficiency: the rate the simulator's
// DMA server actually moves, timing.ts).
//
// Data: the DRAM is left as the simulator creates it (sparse, reads as zero),
// so no inputs are written and no reference runs: timing does not depend on
// values. By default the simulator runs timing-only (functional: false):
// every instruction is still checked (bounds, shapes, DMA hazards) and timed,
// but no data is computed. --functional executes every MAC too, on the zero
// data (the GEMM's 8.6 G MACs then take a minute or two of wall time); the
// cycle counts are the same. The numerics are tested in
// backends/npu/lower/matmul/*.test.ts.
// Writes bench/out/npu-efficiency.json.
// Usage: npm run bench:npu [-- gemv|gemm] [-- --functional]

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lowerOneOp } from '../dist/backends/npu/lower/harness.js';
import { NpuMemory } from '../dist/runtime-sim/npu/memory.js';
import { runNpu } from '../dist/runtime-sim/npu/sim.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const functional = args.includes('--functional');
const only = args.find((a) => a === 'gemv' || a === 'gemm');
const HW = 'npu';

function bench(name, M, K, N) {
  const t0 = Date.now();
  const ty = (shape) => ({ dtype: 'f32', shape });
  const { ctx, program } = lowerOneOp('MatMul', '', [ty([M, K]), ty([K, N])], {}, { hw: HW });
  const { hw, npu } = ctx;
  const stats = runNpu(program, new NpuMemory(hw), { hw, functional });
  const macs = M * K * N;
  const peakMacsPerCycle = npu.engines * npu.arrayRows * npu.arrayCols;
  const idealComputeCycles = macs / peakMacsPerCycle;
  // Compulsory DRAM traffic: each operand read once, the result written once (f16).
  const compulsoryBytes = (M * K + K * N + M * N) * 2;
  const dramGBps = stats.achievedGBps;
  const effGBps = hw.memory.peakGBps * hw.memory.streamEfficiency;
  const r = {
    name,
    shape: { M, K, N },
    cycles: stats.cycles,
    simulatedUs: stats.seconds * 1e6,
    macs,
    arrayPeakPct: (100 * idealComputeCycles) / stats.cycles,
    dramBytesMoved: stats.dmaBytes,
    compulsoryBytes,
    achievedGBps: dramGBps,
    peakGBps: hw.memory.peakGBps,
    streamGBps: effGBps,
    memPeakPct: (100 * dramGBps) / hw.memory.peakGBps,
    memStreamPct: (100 * dramGBps) / effGBps,
    compulsoryMemStreamPct: (100 * compulsoryBytes) / stats.seconds / 1e9 / effGBps,
    instructions: program.engines.reduce((n, l) => n + l.length, 0),
    wallSeconds: (Date.now() - t0) / 1e3,
  };
  console.log(
    `${name.padEnd(5)} ${M}x${K}x${N}: ${r.simulatedUs.toFixed(1)} us simulated (${stats.cycles} cycles), ` +
      `${r.arrayPeakPct.toFixed(1)}% of array peak, ${dramGBps.toFixed(0)} GB/s = ${r.memPeakPct.toFixed(1)}% of ${hw.memory.peakGBps} GB/s peak, ` +
      `${r.memStreamPct.toFixed(1)}% of ${effGBps.toFixed(1)} GB/s (peak x streamEfficiency ${hw.memory.streamEfficiency}); wall ${r.wallSeconds.toFixed(1)} s`,
  );
  return r;
}

const results = [];
if (only !== 'gemm') results.push(bench('gemv', 1, 4096, 4096));
if (only !== 'gemv') results.push(bench('gemm', 512, 4096, 4096));
fs.mkdirSync(path.join(here, 'out'), { recursive: true });
const file = path.join(here, 'out', 'npu-efficiency.json');
fs.writeFileSync(file, JSON.stringify({ hw: HW, functional, goal: { gemmArrayPeakPct: 85, gemvMemoryPct: 85 }, results }, null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), file)}`);
