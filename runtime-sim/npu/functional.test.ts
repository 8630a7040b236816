// Functional NPU simulation: matmul against a float64 reference within the
// bound of fp32 accumulation in K order, every vector function, broadcasting,
// reductions, gathers, strided DMAs and the memories themselves.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { view, type Instr, type NpuDtype } from '../../backends/npu/instr.js';
import { VEC_UNARY } from '../../backends/npu/isa.js';
import { loadHardware } from '../hardware/load.js';
import { f16 } from '../hbm/fp16.js';
import { NpuMemory, PAGE_BYTES } from './memory.js';
import { runNpu } from './sim.js';
import { erf } from './vec-fns.js';

const hw = loadHardware('npu');
const SEED = 424242;
const U = 2 ** -24;
const gamma = (n: number) => (n * U) / (1 - n * U);

function run1(mem: NpuMemory, instrs: Instr[]) {
  return runNpu({ name: 'test', engines: [[...instrs, { op: 'end' }]] }, mem, { hw });
}

/** Deterministic pseudo-random values in [-2, 2), rounded to f16. */
function values(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return f16((s / 2 ** 32) * 4 - 2);
  });
}

describe('matmul', () => {
  const shape = fc.record({
    B: fc.integer({ min: 1, max: 3 }),
    M: fc.integer({ min: 1, max: 40 }),
    K: fc.integer({ min: 1, max: 150 }),
    N: fc.integer({ min: 1, max: 70 }),
    cType: fc.constantFrom<NpuDtype>('f32', 'f16'),
    accumulate: fc.boolean(),
    shareB: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1e9 }),
  });

  it('matches float64 within gamma_K(2^-24) * (|c| + sum |a b|) plus the rounding to c (random shapes, K and N ragged, batched)', () => {
    fc.assert(fc.property(shape, ({ B, M, K, N, cType, accumulate, shareB, seed }) => {
      const mem = new NpuMemory(hw);
      const a = values(B * M * K, seed);
      const b = values((shareB ? 1 : B) * K * N, seed + 1);
      const c0 = values(B * M * N, seed + 2);
      const [A, Bw, C] = [0, 0x80000, 0x100000];
      mem.write('spad', 0, A, 'f16', a);
      mem.write('spad', 0, Bw, 'f16', b);
      mem.write('spad', 0, C, cType, c0);
      // A shared weight tile is broadcast over the batch by a 0 batch stride.
      const bView = shareB ? view('spad', Bw, 'f16', [B, K, N], [0, N, 1]) : view('spad', Bw, 'f16', [B, K, N]);
      run1(mem, [{ op: 'matmul', accumulate, c: view('spad', C, cType, [B, M, N]), a: view('spad', A, 'f16', [B, M, K]), b: bView }]);
      const got = mem.read('spad', 0, C, cType as 'f32', B * M * N);
      for (let x = 0; x < B; x++) {
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) {
            const i = (x * M + m) * N + n;
            let exact = accumulate ? c0[i]! : 0;
            let mag = Math.abs(exact);
            for (let k = 0; k < K; k++) {
              const p = a[(x * M + m) * K + k]! * b[((shareB ? 0 : x) * K + k) * N + n]!;
              exact += p;
              mag += Math.abs(p);
            }
            let bound = gamma(K) * mag;
            if (cType === 'f16') bound += (Math.abs(exact) + bound) * 2 ** -11 + 2 ** -25;
            expect(Math.abs(got[i]! - exact), `[${x},${m},${n}] of ${B}x${M}x${K}x${N}`).toBeLessThanOrEqual(bound);
          }
        }
      }
    }), { seed: SEED, numRuns: 30 });
  });

  it('adds in K order, rounding to fp32 each time: 2^24 + 1 + 1 gives 2^24 (exactly 2^24 + 2)', () => {
    // Row [2^11, 1, 1] x column [2^13, 1, 1]: 2^24, then +1 rounds back to 2^24 (ties to even), twice.
    const mem = new NpuMemory(hw);
    mem.write('spad', 0, 0, 'f16', [2048, 1, 1]);
    mem.write('spad', 0, 64, 'f16', [8192, 1, 1]);
    run1(mem, [{ op: 'matmul', accumulate: false, c: view('spad', 128, 'f32', [1, 1]), a: view('spad', 0, 'f16', [1, 3]), b: view('spad', 64, 'f16', [3, 1]) }]);
    expect(mem.read('spad', 0, 128, 'f32', 1)[0]).toBe(2 ** 24);
  });
});

describe('vector unit', () => {
  const X = [-3.5, -1, -0.25, 0, 0.5, 1, 2.75, 10];
  const ref: Record<string, (x: number) => number> = {
    copy: (x) => x, neg: (x) => -x, abs: Math.abs, exp: Math.exp, log: Math.log, tanh: Math.tanh, erf,
    sqrt: Math.sqrt, rsqrt: (x) => 1 / Math.sqrt(x), recip: (x) => 1 / x, sigmoid: (x) => 1 / (1 + Math.exp(-x)),
    relu: (x) => Math.max(x, 0), sin: Math.sin, cos: Math.cos,
  };

  it.each(VEC_UNARY.map((f) => [f]))('vec.%s in fp32, f16 in and f32 out', (fn) => {
    const mem = new NpuMemory(hw);
    mem.write('spad', 0, 0, 'f16', X);
    run1(mem, [{ op: 'vec.unary', fn: fn as 'exp', dst: view('spad', 64, 'f32', [X.length]), a: view('spad', 0, 'f16', [X.length]) }]);
    const got = mem.read('spad', 0, 64, 'f32', X.length);
    X.forEach((x, i) => {
      const want = Math.fround(ref[fn]!(x));
      if (Number.isNaN(want)) expect(got[i]).toBeNaN();
      else expect(got[i], `${fn}(${x})`).toBe(want);
    });
  });

  it('erf matches published values to double precision', () => {
    const table: [number, number][] = [[0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [3, 0.9999779095030014], [3.9, 0.9999999652077514]];
    for (const [x, v] of table) {
      expect(Math.abs(erf(x) - v)).toBeLessThan(4e-16);
      expect(erf(-x)).toBe(-erf(x));
    }
    expect(erf(5)).toBe(1);
  });

  it('rounds results to an f16 destination to nearest even', () => {
    const mem = new NpuMemory(hw);
    mem.write('spad', 0, 0, 'f32', [1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000, -1e-8]);
    run1(mem, [{ op: 'vec.unary', fn: 'copy', dst: view('spad', 64, 'f16', [4]), a: view('spad', 0, 'f32', [4]) }]);
    const got = mem.read('spad', 0, 64, 'f16', 4);
    expect(Array.from(got)).toEqual([1, 1 + 2 ** -9, Infinity, -0]);
  });

  it('binary and scalar functions, with broadcasting by stride 0 and by size-1 dims', () => {
    const mem = new NpuMemory(hw);
    const a = values(2 * 3 * 4, 5);
    mem.write('spad', 0, 0, 'f32', a);
    mem.write('spad', 0, 256, 'f32', [10, 20, 30, 40]); // a row vector
    mem.write('spad', 0, 512, 'f32', [1, 2, 3]); // a column
    const A = view('spad', 0, 'f32', [2, 3, 4]);
    const out = (i: number) => view('spad', 1024 + i * 256, 'f32', [2, 3, 4]);
    run1(mem, [
      { op: 'vec.binary', fn: 'add', dst: out(0), a: A, b: view('spad', 256, 'f32', [2, 3, 4], [0, 0, 1]) },
      { op: 'vec.binary', fn: 'mul', dst: out(1), a: A, b: view('spad', 512, 'f32', [1, 3, 1]) },
      { op: 'vec.binary', fn: 'max', dst: out(2), a: view('spad', 512, 'f32', [1, 3, 1]), b: A },
      { op: 'vec.binary', fn: 'div', dst: out(3), a: A, b: view('spad', 256, 'f32', [1, 1, 4]) },
      { op: 'vec.binary', fn: 'sub', dst: out(4), a: A, b: A },
      { op: 'vec.binary', fn: 'min', dst: out(5), a: A, b: view('spad', 512, 'f32', [1, 3, 1]) },
      { op: 'vec.binary', fn: 'pow', dst: out(6), a: view('spad', 512, 'f32', [1, 3, 1]), b: view('spad', 256, 'f32', [1, 1, 4]) },
      { op: 'vec.scalar', fn: 'muls', dst: out(7), a: A, imm: 0.1 },
      { op: 'vec.scalar', fn: 'adds', dst: out(8), a: A, imm: 1 / 3 },
      { op: 'vec.scalar', fn: 'maxs', dst: out(9), a: A, imm: 0 },
      { op: 'vec.scalar', fn: 'mins', dst: out(10), a: A, imm: 0 },
      { op: 'vec.scalar', fn: 'pows', dst: out(11), a: A, imm: 2 },
    ]);
    const got = (i: number) => mem.read('spad', 0, 1024 + i * 256, 'f32', 24);
    const fr = Math.fround;
    const row = [10, 20, 30, 40];
    const col = [1, 2, 3];
    const want: ((v: number, j: number, k: number) => number)[] = [
      (v, _j, k) => fr(v + row[k]!), (v, j) => fr(v * col[j]!), (v, j) => Math.max(col[j]!, v), (v, _j, k) => fr(v / row[k]!),
      () => 0, (v, j) => Math.min(v, col[j]!), (_v, j, k) => fr(col[j]! ** row[k]!),
      (v) => fr(v * fr(0.1)), (v) => fr(v + fr(1 / 3)), (v) => Math.max(v, 0), (v) => Math.min(v, 0), (v) => fr(v ** 2),
    ];
    want.forEach((w, i) => {
      const g = got(i);
      for (let x = 0; x < 24; x++) expect(g[x], `op ${i} element ${x}`).toBe(w(a[x]!, Math.floor(x / 4) % 3, x % 4));
    });
  });

  it('reduces along the last dim in index order in fp32', () => {
    const mem = new NpuMemory(hw);
    // 2^24 then eight 1s: each +1 rounds back to 2^24 in fp32 (ties to even) when summed in order.
    mem.write('spad', 0, 0, 'f32', [2 ** 24, 1, 1, 1, 1, 1, 1, 1, 1, -5, 3, 7, -1, 0, 2, 6, 1, 4]);
    run1(mem, [
      { op: 'vec.reduce', fn: 'rsum', dst: view('spad', 256, 'f32', [2, 1]), a: view('spad', 0, 'f32', [2, 9]) },
      { op: 'vec.reduce', fn: 'rmax', dst: view('spad', 512, 'f16', [2, 1]), a: view('spad', 0, 'f32', [2, 9]) },
    ]);
    expect(Array.from(mem.read('spad', 0, 256, 'f32', 2))).toEqual([2 ** 24, 17]);
    expect(Array.from(mem.read('spad', 0, 512, 'f16', 2))).toEqual([Infinity, 7]); // 2^24 overflows f16
  });

  it('computes in place (dst = a) from a snapshot of the inputs', () => {
    const mem = new NpuMemory(hw);
    mem.write('spad', 0, 0, 'f32', [1, 2, 3, 4]);
    const v = view('spad', 0, 'f32', [4]);
    run1(mem, [{ op: 'vec.binary', fn: 'add', dst: v, a: v, b: { ...v, addr: 12, strides: [0, 0, -1] } }]);
    expect(Array.from(mem.read('spad', 0, 0, 'f32', 4))).toEqual([5, 5, 5, 5]);
  });
});

describe('DMA', () => {
  it('loads a transposed, strided tile and stores it back elsewhere, bit for bit', () => {
    const mem = new NpuMemory(hw);
    const m = values(8 * 16, 9);
    mem.writeF16(0x1000, m); // 8 x 16 row-major
    // Columns 4..7 of the matrix, transposed: [4 cols, 8 rows], element (c, r) at r * 16 + c.
    const srcT = view('dram', 0x1000 + 4 * 2, 'f16', [4, 8], [1, 16]);
    run1(mem, [
      { op: 'dma.load', tag: 1, dst: view('spad', 0, 'f16', [4, 8]), src: srcT },
      { op: 'wait.dma', tag: 1 },
      { op: 'dma.store', tag: 2, dst: view('dram', 0x9000, 'f16', [4, 8]), src: view('spad', 0, 'f16', [4, 8]) },
    ]);
    const got = mem.readF16(0x9000, 32);
    for (let c = 0; c < 4; c++) for (let r = 0; r < 8; r++) expect(got[c * 8 + r]).toBe(m[r * 16 + 4 + c]);
  });

  it('copies i32 bits to shared SRAM and reverses with a negative stride', () => {
    const mem = new NpuMemory(hw);
    mem.writeI32(0, [1, -2, 0x7fffffff, -0x80000000]);
    run1(mem, [
      { op: 'dma.load', tag: 0, dst: view('spad', 0, 'i32', [4]), src: { ...view('dram', 12, 'i32', [4]), strides: [0, 0, -1] } },
      { op: 'wait.dma', tag: 0 },
      { op: 'dma.store', tag: 0, dst: view('shared', 64, 'i32', [4]), src: view('spad', 0, 'i32', [4]) },
    ]);
    expect(Array.from(mem.read('shared', 0, 64, 'i32', 4))).toEqual([-0x80000000, 0x7fffffff, -2, 1]);
  });

  it('gathers embedding rows by an i32 index', () => {
    const mem = new NpuMemory(hw);
    const rows = 10, cols = 6;
    const table = values(rows * cols, 3);
    mem.writeF16(0x40000, table);
    mem.write('spad', 0, 0, 'i32', [7, 0, 7, 9]);
    run1(mem, [
      { op: 'dma.gather', tag: 5, dst: view('spad', 64, 'f16', [4, cols]), table: view('dram', 0x40000, 'f16', [rows, cols]), index: view('spad', 0, 'i32', [4]) },
      { op: 'wait.dma', tag: 5 },
    ]);
    const got = mem.read('spad', 0, 64, 'f16', 4 * cols);
    [7, 0, 7, 9].forEach((r, i) => expect(Array.from(got.subarray(i * cols, i * cols + cols))).toEqual(table.slice(r * cols, r * cols + cols)));
  });
});

describe('memory', () => {
  it('is sparse: a 24 GiB DRAM allocates only the pages written', () => {
    const mem = new NpuMemory(hw);
    expect(mem.dramBytes).toBe(24 * 2 ** 30);
    mem.writeF32(mem.dramBytes - 8, [1.5, 2.5]);
    mem.writeF16(3 * PAGE_BYTES - 2, [1, 2]); // straddles two pages
    expect(mem.dram.allocatedPages).toBe(3);
    expect(Array.from(mem.readF32(mem.dramBytes - 8, 2))).toEqual([1.5, 2.5]);
    expect(Array.from(mem.readF16(3 * PAGE_BYTES - 2, 2))).toEqual([1, 2]);
    expect(Array.from(mem.readF32(1 << 30, 2))).toEqual([0, 0]);
  });

  it('rounds host writes to the element type', () => {
    const mem = new NpuMemory(hw);
    mem.writeF16(0, [0.1, 65520, 1e-8]);
    expect(Array.from(mem.readF16(0, 3))).toEqual([f16(0.1), Infinity, 0]);
    mem.writeF32(8, [0.1]);
    expect(mem.readF32(8, 1)[0]).toBe(Math.fround(0.1));
    mem.writeI32(16, [-7, 3]);
    expect(Array.from(mem.readI32(16, 2))).toEqual([-7, 3]);
  });

  it('sizes every memory from the hardware', () => {
    const mem = new NpuMemory(loadHardware('npu-gddr6'));
    expect(mem.dramBytes).toBe(16 * 2 ** 30);
    expect(mem.sharedBytes).toBe(32 * 2 ** 20);
    expect(mem.scratchpads.map((s) => s.bytes)).toEqual(new Array(8).fill(4 * 2 ** 20));
  });
});

