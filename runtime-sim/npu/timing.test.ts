// NPU timing: each formula of timing.ts checked against numbers worked out
// here from the preset, bandwidth sharing between engines, the overlap that
// double buffering buys, semaphores, stats and the Chrome trace.
import { describe, expect, it } from 'vitest';
import { view, type Instr, type NpuProgram } from '../../backends/npu/instr.js';
import { loadHardware } from '../hardware/load.js';
import type { NpuTraceEvent } from './api.js';
import { NpuMemory } from './memory.js';
import { runNpu } from './sim.js';
import { npuChromeTrace, NpuTraceRecorder } from './trace.js';

const hw = loadHardware('npu');
const npu = hw.npu!;
// The preset's numbers, as the formulas use them.
const LAUNCH = 1000; // kernelLaunchNs 1000 at 1 GHz
const LAT = 500; // dmaLatencyNs 500
const DRAM_BPC = 1228 * 0.757; // peakGBps x streamEfficiency / 1 GHz = 929.6 B per cycle
const SHARED_BPC = 2048; // sharedSramGBps / 1 GHz

function run(engines: Instr[][], trace?: (e: NpuTraceEvent) => void, mem = new NpuMemory(hw)) {
  const program: NpuProgram = { name: 't', engines: engines.map((l) => [...l, { op: 'end' } as Instr]) };
  return runNpu(program, mem, { hw, trace });
}

const load = (tag: number, spad: number, dram: number, rows: number, cols: number, rowStride = cols): Instr =>
  ({ op: 'dma.load', tag, dst: view('spad', spad, 'f16', [rows, cols]), src: view('dram', dram, 'f16', [rows, cols], [rowStride, 1]) });

describe('DMA timing', () => {
  it('latency + bytes / (peak x stream efficiency), plus the launch', () => {
    expect(npu.dmaBurstBytes).toBe(32);
    const s = run([[load(0, 0, 0, 64, 128), { op: 'wait.dma', tag: 0 }]]);
    expect(s.cycles).toBe(LAUNCH + Math.ceil(16384 / DRAM_BPC) + LAT); // 18 transfer cycles
    expect(s.engines[0]!.end).toBe(18 + LAT);
    expect(s.engines[0]!.dma).toEqual({ busy: 18 + LAT, instructions: 1, bytes: 16384 });
    expect(s.dmaBytes).toBe(16384);
  });

  it('a strided view pays whole 32-byte bursts per contiguous run', () => {
    // 256 rows of 8 f16 (16 bytes) with a row stride of 4096 elements: 256 runs, each a 32-byte burst.
    const strided = run([[load(0, 0, 0, 256, 8, 4096)]]);
    expect(strided.engines[0]!.end).toBe(Math.ceil((256 * 32) / DRAM_BPC) + LAT);
    // 24-byte rows (12 f16) also cost one burst each; 40-byte rows cost two.
    expect(run([[load(0, 0, 0, 256, 12, 4096)]]).engines[0]!.end).toBe(Math.ceil((256 * 32) / DRAM_BPC) + LAT);
    expect(run([[load(0, 0, 0, 256, 20, 4096)]]).engines[0]!.end).toBe(Math.ceil((256 * 64) / DRAM_BPC) + LAT);
    // The same bytes contiguous: one run.
    expect(run([[load(0, 0, 0, 256, 8)]]).engines[0]!.end).toBe(Math.ceil(4096 / DRAM_BPC) + LAT);
  });

  it('shared SRAM DMAs use the shared SRAM bandwidth', () => {
    const s = run([[{ op: 'dma.load', tag: 0, dst: view('spad', 0, 'f16', [1024, 512]), src: view('shared', 0, 'f16', [1024, 512]) }]]);
    expect(s.engines[0]!.end).toBe(Math.ceil((1024 * 512 * 2) / SHARED_BPC) + LAT);
    expect(s.achievedGBps).toBe(0); // no DRAM traffic
  });

  it('two engines share the DRAM bandwidth: the second transfer waits for the first (FIFO)', () => {
    const big = (e: number) => load(0, 0, e * 2 ** 21, 1024, 512); // 1 MiB each
    const one = run([[big(0)]]);
    const two = run([[big(0)], [big(1)]]);
    const xfer = Math.ceil(2 ** 20 / DRAM_BPC);
    expect(one.engines[0]!.end).toBe(xfer + LAT);
    expect(two.engines.map((e) => e.end)).toEqual([xfer + LAT, 2 * xfer + LAT]);
    expect((two.cycles - LAUNCH - LAT) / (one.cycles - LAUNCH - LAT)).toBeCloseTo(2, 5);
    // DRAM and shared SRAM are separate servers: no sharing between them.
    const mixed = run([[big(0)], [{ op: 'dma.load', tag: 0, dst: view('spad', 0, 'f16', [1024, 512]), src: view('shared', 0, 'f16', [1024, 512]) }]]);
    expect(mixed.engines[1]!.end).toBe(Math.ceil(2 ** 20 / SHARED_BPC) + LAT);
  });
});

describe('compute timing', () => {
  const mm = (B: number, M: number, K: number, N: number): Instr => ({
    op: 'matmul', accumulate: false,
    c: view('spad', 0x200000, 'f32', [B, M, N]), a: view('spad', 0, 'f16', [B, M, K]), b: view('spad', 0x100000, 'f16', [B, K, N]),
  });
  const cases: [number, number, number, number, number][] = [
    // B, M, K, N, cycles = ceil(K/64) ceil(N/32) B max(M, 64) + 64 + 32
    [1, 64, 64, 32, 64 + 96],
    [1, 1, 64, 32, 64 + 96], // one row still takes a full pass
    [1, 256, 128, 64, 2 * 2 * 256 + 96],
    [1, 100, 100, 40, 2 * 2 * 100 + 96], // K and N ragged
    [3, 16, 200, 33, 4 * 2 * 3 * 64 + 96],
  ];
  it.each(cases)('matmul B=%i M=%i K=%i N=%i takes %i cycles', (B, M, K, N, cycles) => {
    const s = run([[mm(B, M, K, N)]]);
    expect(s.engines[0]!.end).toBe(cycles);
    expect(s.engines[0]!.matmul).toEqual({ busy: cycles, instructions: 1, macs: B * M * K * N });
    expect(s.macs).toBe(B * M * K * N);
    expect(s.arrayUtilization).toBeCloseTo((B * M * K * N) / ((cycles + LAUNCH) * 8 * 2048), 12);
  });

  it('vec: ceil(elements / 64 lanes) / ops per lane cycle + the pipeline latency', () => {
    expect(npu.vectorPipelineCycles).toBe(8);
    const v = (n: number): Instr => ({ op: 'vec.unary', fn: 'exp', dst: view('spad', 0, 'f32', [n]), a: view('spad', 0, 'f32', [n]) });
    expect(run([[v(64)]]).engines[0]!.end).toBe(1 + 8);
    expect(run([[v(1000)]]).engines[0]!.end).toBe(16 + 8);
    const red = run([[{ op: 'vec.reduce', fn: 'rsum', dst: view('spad', 0x10000, 'f32', [10, 1]), a: view('spad', 0, 'f32', [10, 100]) }]]);
    expect(red.engines[0]!.end).toBe(16 + 8); // a reduction counts its source elements
    expect(red.engines[0]!.vec).toEqual({ busy: 24, instructions: 1, elements: 1000 });
  });

  it('compute instructions run in order, one after the other', () => {
    const v: Instr = { op: 'vec.unary', fn: 'relu', dst: view('spad', 0x300000, 'f32', [64]), a: view('spad', 0x300000, 'f32', [64]) };
    expect(run([[mm(1, 64, 64, 32), v, mm(1, 64, 64, 32)]]).engines[0]!.end).toBe(160 + 9 + 160);
  });
});

describe('overlap', () => {
  // C[512 x 32] = A[512 x 512] B[512 x 32], K in 8 tiles of 64; each tile's A and B are DMAed in.
  // A tile moves 512 runs of 128 B (71 cycles), B 4 KiB (5 cycles); the matmul takes 512 + 96 = 608 > 576.
  const K_TILES = 8;
  const tileLoads = (k: number, buf: number): Instr[] => [
    load(k, buf * 0x20000, 0x100000 + k * 128, 512, 64, 512), // A[:, k*64 .. +64]
    load(k, buf * 0x20000 + 0x10000, 0x200000 + k * 64 * 32 * 2, 64, 32), // B[k*64 .. +64, :]
  ];
  const mmTile = (k: number, buf: number): Instr => ({
    op: 'matmul', accumulate: k > 0,
    c: view('spad', 0x80000, 'f32', [512, 32]), a: view('spad', buf * 0x20000, 'f16', [512, 64]), b: view('spad', buf * 0x20000 + 0x10000, 'f16', [64, 32]),
  });
  const serial: Instr[] = [];
  for (let k = 0; k < K_TILES; k++) serial.push(...tileLoads(k, 0), { op: 'wait.dma', tag: k }, mmTile(k, 0));
  // Double buffered: tile k+1 loads into the other buffer while tile k multiplies.
  const doubled: Instr[] = [...tileLoads(0, 0)];
  for (let k = 0; k < K_TILES; k++) {
    if (k + 1 < K_TILES) doubled.push(...tileLoads(k + 1, (k + 1) % 2));
    doubled.push({ op: 'wait.dma', tag: k }, mmTile(k, k % 2));
  }

  function withData(): NpuMemory {
    const mem = new NpuMemory(hw);
    mem.writeF16(0x100000, Array.from({ length: 512 * 512 }, (_, i) => ((i * 7) % 11) / 8));
    mem.writeF16(0x200000, Array.from({ length: 512 * 32 }, (_, i) => ((i * 5) % 13) / 16));
    return mem;
  }

  it('double buffering hides DMA behind matmul and computes the same result', () => {
    const m1 = withData();
    const m2 = withData();
    const s = run([serial], undefined, m1);
    const d = run([doubled], undefined, m2);
    const load = Math.ceil((512 * 128) / DRAM_BPC) + Math.ceil(4096 / DRAM_BPC) + LAT;
    const mm = 512 + 64 + 32;
    expect(load).toBe(576);
    expect(s.engines[0]!.end).toBe(K_TILES * (load + mm));
    // Only the first tile's load is exposed; every later one runs during the previous matmul.
    expect(d.engines[0]!.end).toBe(load + K_TILES * mm);
    expect(d.arrayUtilization).toBeGreaterThan(1.5 * s.arrayUtilization);
    expect(Array.from(m2.read('spad', 0, 0x80000, 'f32', 512 * 32))).toEqual(Array.from(m1.read('spad', 0, 0x80000, 'f32', 512 * 32)));
  });
});

describe('semaphores, stats and trace', () => {
  it('a wait.sem continues at the cycle of the signal', () => {
    const rec = new NpuTraceRecorder();
    const s = run([
      [load(0, 0, 0, 64, 128), { op: 'wait.dma', tag: 0 }, { op: 'signal', sem: 3 }],
      [{ op: 'wait.sem', sem: 3, count: 1 }, { op: 'vec.unary', fn: 'exp', dst: view('spad', 0, 'f32', [64]), a: view('spad', 0, 'f32', [64]) }],
    ], rec.hook);
    const t = 18 + LAT;
    expect(s.engines.map((e) => e.end)).toEqual([t, t + 9]);
    expect(rec.events.filter((e) => e.engine === 1)).toEqual([
      { engine: 1, unit: 'sync', index: 0, name: 'wait.sem', start: 0, end: t },
      { engine: 1, unit: 'vec', index: 1, name: 'vec.exp', start: t, end: t + 9 },
    ]);
  });

  it('a signal already given lets wait.sem through at once, and counts add up', () => {
    const s = run([
      [{ op: 'signal', sem: 0 }, { op: 'signal', sem: 0 }],
      [{ op: 'vec.unary', fn: 'exp', dst: view('spad', 0, 'f32', [64]), a: view('spad', 0, 'f32', [64]) }, { op: 'wait.sem', sem: 0, count: 2 }],
    ]);
    expect(s.engines.map((e) => e.end)).toEqual([0, 9]);
  });

  it('end waits for the engine\'s DMAs; stats add up', () => {
    const s = run([[load(0, 0, 0, 64, 128), { op: 'dma.store', tag: 1, dst: view('dram', 0x100000, 'f16', [64, 128]), src: view('spad', 0x100000, 'f16', [64, 128]) }]]);
    expect(s.engines[0]!.end).toBe(2 * 18 + LAT);
    expect(s.cycles).toBe(LAUNCH + 2 * 18 + LAT);
    expect(s.seconds).toBeCloseTo(s.cycles * 1e-9, 15);
    expect(s.engines[0]!.dma.busy).toBe(2 * 18 + LAT); // the union of the two in-flight intervals
    expect(s.achievedGBps).toBeCloseTo(2 * 16384 / s.seconds / 1e9, 9);
  });

  it('converts trace events to a Chrome trace with one thread per engine and unit', () => {
    const rec = new NpuTraceRecorder();
    run([[load(0, 0, 0, 64, 128), { op: 'wait.dma', tag: 0 }], [{ op: 'signal', sem: 0 }]], rec.hook);
    const json = JSON.parse(npuChromeTrace(rec.events, hw, { offsetCycles: LAUNCH }).toJSON()) as { traceEvents: { name: string; ph: string; tid: number; ts: number; dur?: number; args?: { name?: string } }[] };
    const threads = json.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args!.name);
    expect(threads).toEqual(['engine 0 dma', 'engine 0 matmul', 'engine 0 vec', 'engine 0 sync', 'engine 1 dma', 'engine 1 matmul', 'engine 1 vec', 'engine 1 sync']);
    const dma = json.traceEvents.find((e) => e.name === 'dma.load')!;
    expect(dma).toMatchObject({ ph: 'X', tid: 1, ts: 1, dur: 0.518 });
    expect(json.traceEvents.filter((e) => e.ph === 'X').map((e) => e.name)).toEqual(['dma.load', 'wait.dma', 'signal']); // end waited for nothing: no slice
  });
});

describe('timing only (functional: false)', () => {
  it('gives the same cycles and stats as a functional run, computes no data, and still catches faults', () => {
    const mm: Instr[] = [
      load(0, 0, 0, 64, 128),
      load(0, 16384, 16384, 128, 32),
      { op: 'wait.dma', tag: 0 },
      { op: 'matmul', c: view('spad', 65536, 'f32', [64, 32]), a: view('spad', 0, 'f16', [64, 128]), b: view('spad', 16384, 'f16', [128, 32]), accumulate: false },
      { op: 'vec.unary', fn: 'copy', dst: view('spad', 98304, 'f16', [64, 32]), a: view('spad', 65536, 'f32', [64, 32]) },
      { op: 'dma.store', tag: 1, dst: view('dram', 1 << 20, 'f16', [64, 32]), src: view('spad', 98304, 'f16', [64, 32]) },
    ];
    const program: NpuProgram = { name: 't', engines: [[...mm, { op: 'end' }]] };
    const fill = (m: NpuMemory) => m.writeF16(0, Array.from({ length: 64 * 128 + 128 * 32 }, (_, i) => ((i % 7) - 3) / 4));
    const full = new NpuMemory(hw);
    fill(full);
    const timed = new NpuMemory(hw);
    fill(timed);
    const a = runNpu(program, full, { hw });
    const b = runNpu(program, timed, { hw, functional: false });
    expect(b).toEqual(a);
    expect([...full.readF16(1 << 20, 64 * 32)].some((x) => x !== 0)).toBe(true);
    expect([...timed.readF16(1 << 20, 64 * 32)].every((x) => x === 0)).toBe(true);
    // a read before the DMA finished is still a fault
    const early: NpuProgram = { name: 't', engines: [[mm[0]!, mm[1]!, mm[3]!, { op: 'end' }]] };
    expect(() => runNpu(early, new NpuMemory(hw), { hw, functional: false })).toThrow(/PIMC1002/);
  });
});
