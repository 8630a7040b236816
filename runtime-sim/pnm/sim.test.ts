// The PNM simulator on hand-made programs: timing against the formula
// (timing.ts, sim.ts), bandwidth sharing, SRAM re-reads, the link, every
// fault with its unit, descriptor index and time, sparse memory and the trace.
import { describe, expect, it } from 'vitest';
import { NO_TENSOR, type Descriptor, type PnmOp, type PnmProgram, type TensorEntry } from '../../backends/cxl-pnm/instr.js';
import { isPimcError } from '../../ir/diagnostics.js';
import { loadHardware } from '../hardware/index.js';
import { ChromeTrace } from '../trace/chrome-trace.js';
import { PnmMemory } from './memory.js';
import { runPnm } from './sim.js';
import { linkTransfer } from './timing.js';

const hw = loadHardware('npu+hbm-pim+cxl-pnm');
const pnm = hw.pnm!;
// The preset's figures, restated so a change to them shows up here.
expect([pnm.internalGBps, pnm.linkGBps, pnm.linkLatencyNs, pnm.descriptorLaunchNs, pnm.matrixTflopsPerUnit, pnm.units]).toEqual([1100, 64, 600, 150, 1, 4]);

const t = (addr: number, dims: number[], dtype: TensorEntry['dtype'] = 'f16', strides?: number[]): TensorEntry => {
  const s = strides ?? dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  return { addr, dtype, dims, strides: s };
};
const desc = (op: PnmOp, out: number, ins: number[], imm = 0, flags = 0): Descriptor =>
  ({ op, flags, out, in0: ins[0] ?? NO_TENSOR, in1: ins[1] ?? NO_TENSOR, in2: ins[2] ?? NO_TENSOR, imm });
const program = (table: TensorEntry[], queues: Descriptor[][]): PnmProgram => ({ name: 't', table, queues });
/** Host write of the table, the queues and the doorbell (instr.ts, isa.ts sizes). */
const hostWrite = (entries: number, descs: number) => (entries * 40 + descs * 16 + 8) / pnm.linkGBps + pnm.linkLatencyNs;

function fault(p: PnmProgram, mem = new PnmMemory(hw)): string {
  try {
    runPnm(p, mem, { hw });
  } catch (e) {
    if (isPimcError(e)) return e.message;
    throw e;
  }
  return 'no error';
}

describe('PNM timing', () => {
  it('one memory-bound descriptor: host write + launch + bytes / internalGBps + poll', () => {
    const mem = new PnmMemory(hw);
    mem.writeF16(0, Array.from({ length: 1024 }, (_, i) => i / 7));
    const s = runPnm(program([t(0, [1024]), t(4096, [1024])], [[desc('copy', 1, [0])]]), mem, { hw });
    const bytes = 2048 + 2048;
    expect(s.bytesRead + s.bytesWritten).toBe(bytes);
    expect(s.hostWriteNs).toBeCloseTo(hostWrite(2, 1), 9);
    expect(s.deviceNs).toBeCloseTo(150 + bytes / 1100, 9);
    expect(s.ns).toBeCloseTo(hostWrite(2, 1) + 150 + bytes / 1100 + 600, 9);
    expect(s.linkBytes).toEqual({ toDevice: 2 * 40 + 16 + 8, toHost: 8 });
    expect(Array.from(mem.readF16(4096, 1024))).toEqual(Array.from(mem.readF16(0, 1024)));
  });

  it('one compute-bound GEMM: launch + FLOPs / matrixTflopsPerUnit', () => {
    const [M, K, N] = [16, 256, 256];
    const s = runPnm(program([t(0, [M, K]), t(1 << 20, [K, N]), t(2 << 20, [M, N])], [[desc('gemm', 2, [0, 1], 1)]]), new PnmMemory(hw), { hw, functional: false });
    const flops = 2 * M * N * K;
    const bytes = 2 * (M * K + K * N + M * N);
    expect(flops / 1e3).toBeGreaterThan(bytes / 1100); // compute-bound by construction
    expect(s.flops.matrix).toBe(flops);
    expect(s.deviceNs).toBeCloseTo(150 + flops / (1 * 1e3), 9);
  });

  it('two units share the internal bandwidth while both move data', () => {
    // Unit 0 copies 4 KiB, unit 1 8 KiB: both at 550 GB/s until unit 0 is done, then unit 1 alone at 1100.
    const table = [t(0, [1024]), t(1 << 20, [1024]), t(2 << 20, [2048]), t(3 << 20, [2048])];
    const s = runPnm(program(table, [[desc('copy', 1, [0])], [desc('copy', 3, [2])]]), new PnmMemory(hw), { hw });
    const first = (2 * 4096) / 1100;
    expect(s.units[0]!.busyNs).toBeCloseTo(150 + first, 9);
    expect(s.units[1]!.busyNs).toBeCloseTo(150 + first + (8192 - 4096) / 1100, 9);
    expect(s.deviceNs).toBeCloseTo(150 + 12288 / 1100, 9);
    expect(s.units[2]!.descriptors).toBe(0);
    expect(s.achievedGBps).toBeCloseTo(12288 / s.deviceNs, 9);
  });

  it('units whose shared transfers end together still wait for their compute floors', () => {
    // Four identical compute-bound GEMMs: each moves its bytes at 1100 / 4 GB/s, then computes on.
    const [M, K, N] = [16, 256, 256];
    const table = [t(0, [M, K]), t(1 << 20, [K, N])];
    const queues = [0, 1, 2, 3].map((u) => {
      table.push(t((2 + u) << 20, [M, N]));
      return [desc('gemm', 2 + u, [0, 1], 1)];
    });
    const s = runPnm(program(table, queues), new PnmMemory(hw), { hw, functional: false });
    const flops = 2 * M * N * K;
    expect(4 * 2 * (M * K + K * N + M * N) / 1100).toBeLessThan(flops / 1e3);
    for (const u of s.units) expect(u.busyNs).toBeCloseTo(150 + flops / 1e3, 9);
  });

  it('re-reads a GEMM weight when the activation rows do not fit half the SRAM', () => {
    // K = 65536: one f16 row of a is 128 KiB = half the 256 KiB SRAM, so each of M = 3 rows streams b again.
    const [M, K, N] = [3, 65536, 4];
    const s = runPnm(program([t(0, [M, K]), t(1 << 20, [K, N]), t(2 << 20, [M, N])], [[desc('gemm', 2, [0, 1], 1)]]), new PnmMemory(hw), { hw, functional: false });
    expect(s.bytesRead).toBe(2 * M * K + 3 * 2 * K * N);
  });

  it('prices link transfers as bytes / linkGBps + linkLatencyNs', () => {
    expect(linkTransfer(1e6, hw)).toBeCloseTo(1e6 / 64e9 + 600e-9, 15);
    expect(linkTransfer(0, hw)).toBeCloseTo(600e-9, 15);
  });
});

describe('PNM faults name unit, descriptor index and time', () => {
  const top = Math.round(pnm.capacityGiB * 2 ** 30);
  // Two empty copies (150 ns each) before the faulting descriptor on unit 1.
  const empties = [desc('copy', 1, [0]), desc('copy', 1, [0])];
  const at = (entries: number, descs: number, before: number) => `at t = ${Math.round((hostWrite(entries, descs) + before) * 1000) / 1000} ns`;

  it('PIMC1201: a view past the end of the device', () => {
    const table = [t(0, [0]), t(8192, [0]), t(0, [8]), t(top - 8, [8])];
    const msg = fault(program(table, [[], [...empties, desc('copy', 3, [2])]]));
    expect(msg).toMatch(/^PIMC1201: PNM descriptor addresses memory outside the device: PNM program "t", unit 1, descriptor 2 \(copy\) /);
    expect(msg).toContain(at(4, 3, 300));
    expect(msg).toContain(`out (%3) spans bytes ${top - 8}..${top + 7}`);
    // Negative strides reach below the base address.
    expect(fault(program([t(64, [8]), t(8, [8], 'f16', [-1])], [[desc('copy', 1, [0])]]))).toMatch(/^PIMC1201: .*out \(%1\) spans bytes -6\.\.9/);
  });

  it('PIMC1202: an output overlapping an input', () => {
    const msg = fault(program([t(0, [0]), t(8192, [0]), t(0, [8]), t(64, [8]), t(70, [8])], [[...empties, desc('add', 4, [2, 3])]]));
    expect(msg).toMatch(/^PIMC1202: PNM descriptor output overlaps an input: PNM program "t", unit 0, descriptor 2 \(add\) /);
    expect(msg).toContain(at(5, 3, 300));
    expect(msg).toContain('out (%4, bytes 70..85) and b (%3, bytes 64..79)');
  });

  it('PIMC1203: more descriptors than the queue holds', () => {
    const q = Array.from({ length: 65 }, () => desc('copy', 1, [0]));
    const msg = fault(program([t(0, [0]), t(64, [0])], [[], [], q]));
    expect(msg).toMatch(/^PIMC1203: PNM instruction queue overflow: PNM program "t", unit 2, descriptor 64 \(copy\) /);
    expect(msg).toContain(at(2, 65, 0));
    expect(msg).toContain('65 descriptors for a queue of 64');
  });

  it.each<[string, TensorEntry[], Descriptor, RegExp]>([
    ['unknown id', [t(0, [4])], desc('copy', 0, [9]), /x is tensor %9, but the table has 3 entries/],
    ['element-wise shapes', [t(0, [4]), t(64, [5]), t(128, [4])], desc('add', 2, [0, 1]), /shape mismatch: add b \(%1\) is f16\[5\], out \(%2\) is f16\[4\]/],
    ['gemm inner dims', [t(0, [2, 3]), t(64, [4, 5]), t(128, [2, 5])], desc('gemm', 2, [0, 1], 1), /does not fit \[\.\., M, K\] @ \[\.\., K, N\]/],
    ['gemm f32 input', [t(0, [2, 3], 'f32'), t(64, [3, 5]), t(128, [2, 5])], desc('gemm', 2, [0, 1], 1), /the matrix engine reads f16; a is f32/],
    ['grouped heads', [t(0, [1, 3, 1, 8]), t(64, [1, 2, 4, 8]), t(256, [1, 2, 4, 8]), t(512, [1, 3, 1, 8])], desc('attention', 3, [0, 1, 2], 0.5), /3 query heads are not a multiple of 2 kv heads/],
    ['empty cache', [t(0, [1, 2, 1, 8]), t(64, [1, 2, 0, 8]), t(256, [1, 2, 0, 8]), t(512, [1, 2, 1, 8])], desc('attention', 3, [0, 1, 2], 0.5), /empty cache/],
    ['kv overrun', [t(0, [1, 2, 1, 8]), t(64, [1, 2, 4, 8])], desc('kv_append', 1, [0], 4), /kv_append of 1 rows at position 4 overruns the cache's 4 rows/],
    ['i32 into a float op', [t(0, [4], 'i32'), t(64, [4])], desc('silu', 1, [0]), /silu reads floats; x \(%0\) is i32/],
    ['misaligned', [t(1, [4]), t(64, [4])], desc('copy', 1, [0]), /x \(%0\) at byte 1 is not aligned to its 2-byte elements/],
    ['odd rope', [t(0, [3]), t(64, [3]), t(128, [3]), t(192, [3])], desc('rope', 3, [0, 1, 2]), /rope needs an even head size/],
    ['bad flags', [t(0, [4]), t(64, [4])], desc('silu', 1, [0], 0, 1), /silu flags 1 set bits it does not define/],
  ])('PIMC1204: %s', (_, table, d, re) => {
    // An empty copy first (entries behind the case's own), so the fault is descriptor 1 of unit 1.
    const n = table.length;
    const msg = fault(program([...table, t(4096, [0]), t(8192, [0])], [[], [desc('copy', n + 1, [n]), d]]));
    expect(msg).toMatch(/^PIMC1204: malformed PNM descriptor: PNM program "t", unit 1, descriptor 1 \(\w+\) at t = [\d.]+ ns: /);
    expect(msg).toMatch(re);
  });

  it('PIMC1204: more queues than units', () => {
    expect(fault(program([], [[], [], [], [], []]))).toMatch(/^PIMC1204: PNM program "t" has 5 queues; npu\+hbm-pim\+cxl-pnm has 4 units/);
  });
});

describe('PNM memory and trace', () => {
  it('is sparse over 512 GiB', () => {
    const mem = new PnmMemory(hw);
    expect(mem.bytes).toBe(512 * 2 ** 30);
    mem.writeF16(mem.bytes - 4, [1.5, -2]);
    expect(Array.from(mem.readF16(mem.bytes - 4, 2))).toEqual([1.5, -2]);
    expect(Array.from(mem.readF16(2 ** 38, 2))).toEqual([0, 0]);
    expect(mem.allocatedPages).toBe(1);
    expect(() => mem.writeF16(mem.bytes - 2, [1, 2])).toThrow(/PIMC1201: host write of bytes 549755813886\.\.549755813889 is outside/);
  });

  it('traces a "cxl-pnm" process: the link and one thread per unit', () => {
    const trace = new ChromeTrace();
    runPnm(program([t(0, [64]), t(4096, [64]), t(8192, [64])], [[desc('silu', 1, [0])], [desc('gelu', 2, [0], 0, 1)]]), new PnmMemory(hw), { hw, trace });
    const doc = JSON.parse(trace.toJSON()) as { traceEvents: { name: string; ph: string; tid: number; args?: { name?: string } }[] };
    const names = doc.traceEvents.filter((e) => e.ph === 'M').map((e) => `${e.name}:${e.tid}:${e.args?.name}`);
    expect(names).toEqual(expect.arrayContaining(['process_name:0:cxl-pnm', 'thread_name:0:link', 'thread_name:1:unit 0', 'thread_name:2:unit 1']));
    const slices = doc.traceEvents.filter((e) => e.ph === 'X').map((e) => `${e.tid}:${e.name}`);
    expect(slices).toEqual(['0:host writes table + queues + doorbell', '1:silu', '2:gelu', '0:poll: completion']);
  });
});

describe('PNM functional spot checks', () => {
  it('GEMM with a bias and attention over one key are what the hand computes', () => {
    const mem = new PnmMemory(hw);
    mem.writeF16(0, [1, 2, 3, 4]); // a [2, 2]
    mem.writeF16(64, [1, 0, 0, 1]); // b = I
    mem.writeF16(128, [0.5, -0.5]); // bias row, broadcast over M by stride 0
    const table = [t(0, [2, 2]), t(64, [2, 2]), t(128, [2, 2], 'f16', [0, 1]), t(256, [2, 2])];
    runPnm(program(table, [[desc('gemm', 3, [0, 1, 2], 2)]]), mem, { hw });
    expect(Array.from(mem.readF16(256, 4))).toEqual([2.5, 3.5, 6.5, 7.5]);
    // One key: softmax is 1, the output is v.
    mem.writeF16(1024, [1, 2, 3, 4]);
    mem.writeF16(2048, [5, 6, 7, 8]);
    mem.writeF16(3072, [-1, 0.25, 9, 10]);
    const at = [t(1024, [1, 1, 1, 4]), t(2048, [1, 1, 1, 4]), t(3072, [1, 1, 1, 4]), t(4096, [1, 1, 1, 4])];
    runPnm(program(at, [[desc('attention', 3, [0, 1, 2], 0.5)]]), mem, { hw });
    expect(Array.from(mem.readF16(4096, 4))).toEqual([-1, 0.25, 9, 10]);
  });
});
