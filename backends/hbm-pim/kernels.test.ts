// HBM-PIM kernels end to end through runKernel (compiler/api/kernel.ts) with
// `bitExact: true`: every result must equal, bit for bit, the plain FP16 loop
// doing the same operations in the same order (fp16-reference.ts), and stay
// within the FP16 error bound against the exact result.
//
// Sizes: shapes are picked to hit the layout's edges (m and n not multiples
// of 8 / 16 / 128, a single element, more rows than one round, more KV heads
// than pseudo-channels) while staying small, so the whole file runs in a few
// seconds: the simulator's cost is per command, and an awkward shape costs as
// many commands as the next multiple of 128 inputs x 512 (or 128 on one
// stack) outputs, while the FP16 reference loops are O(m n). Where a case
// needs many rows or elements (several GEMV rounds, element-wise kernels over
// more than one slot per bank), it runs on a one-stack system (16
// pseudo-channels), which reaches the same code paths with a quarter of the
// work of hbm-pim-x4 (64).
//
// The last block proves the check can fail: different seeds give different
// data, and a weight corrupted in a bank after layout is caught.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kernelName, runKernel, type KernelReport, type KernelSpec } from '../../compiler/api/kernel.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import type { Hardware } from '../../runtime-sim/hardware/types.js';
import { LANES } from '../../runtime-sim/hbm/bank-store.js';
import { F16_VALUE, f16, f16BitsOf } from '../../runtime-sim/hbm/fp16.js';
import { newStores, runSystem } from '../../runtime-sim/hbm/pim-system.js';
import { gemvBound, gemvExact, gemvFp16Loop } from './fp16-reference.js';
import { pimGeometry } from './geometry.js';
import { forEachGemvBurst, gemvStream, layoutGemvWeights, planGemv, reduceGemv } from './gemv.js';

const X4 = loadHardware('hbm-pim-x4');

/** hbm-pim-x4 cut to one stack: 16 pseudo-channels, so 1,024 GEMV output rows per round. */
function oneStack(): Hardware {
  const small = structuredClone(X4);
  small.memory.hbm!.stacks = 1;
  small.name = 'hbm-pim-x1 (test)';
  return small;
}
const X1 = oneStack();

type Reduction = 'fp16' | 'fp32';

function run(spec: KernelSpec, hw: Hardware, o: { hostReduction?: Reduction; seed?: number } = {}): KernelReport {
  return runKernel(spec, { hw, bitExact: true, refresh: true, ...o });
}

/** Bit-exact with the FP16 loop, within the FP16 bound. */
function expectExact(r: KernelReport): void {
  expect(r.check, r.kernel).toMatchObject({ bitExact: true, mismatches: 0, withinBound: true });
  expect(r.pim).toBe(true);
  expect(r.pimTriggers).toBeGreaterThan(0);
  expect(Number.isFinite(r.check.maxAbsError)).toBe(true);
}

describe('GEMV, bit-exact and within bound', () => {
  // m, n around the layout's units: 8 rows per PCU, 16 lanes, 128 inputs per tile
  const shapes: [number, number][] = [[1, 1], [7, 129], [100, 300], [513, 77], [8, 128], [9, 257], [64, 16], [31, 383]];
  for (const [m, n] of shapes) {
    for (const host of ['fp16', 'fp32'] as const) {
      it(`${m} x ${n}, host reduction ${host}`, () => expectExact(run({ kind: 'gemv', m, n }, X4, { hostReduction: host })));
    }
  }

  for (const vectors of [2, 3, 4]) {
    for (const host of ['fp16', 'fp32'] as const) {
      it(`batched: ${vectors} vectors, 37 x 200, ${host}`, () => {
        const r = run({ kind: 'gemv', m: 37, n: 200, vectors }, X4, { hostReduction: host });
        expectExact(r);
        expect(r.kernel).toBe(`gemv 37x200 x${vectors}`);
      });
    }
  }

  it('the two host reductions differ somewhere (so each is really checked)', () => {
    // same data, the lanes added in FP16 or float32: the errors differ
    const a = run({ kind: 'gemv', m: 100, n: 300 }, X4, { hostReduction: 'fp16' });
    const b = run({ kind: 'gemv', m: 100, n: 300 }, X4, { hostReduction: 'fp32' });
    expect(a.check.maxAbsError).not.toBe(b.check.maxAbsError);
    expect(a.cycles).toBe(b.cycles);
  });

  it('multi-round on one stack: m = 2000 is 2 rounds of 1,024 rows over 16 pseudo-channels', () => {
    const g = pimGeometry(X1);
    expect(g.pch).toBe(16);
    expect(planGemv(g, 2000, 130).rounds).toBe(2);
    for (const host of ['fp16', 'fp32'] as const) expectExact(run({ kind: 'gemv', m: 2000, n: 130 }, X1, { hostReduction: host }));
  });

  it('multi-round and batched on one stack: 3 rounds x 2 vectors, odd tile count', () => {
    expect(planGemv(pimGeometry(X1), 2049, 300).rounds).toBe(3);
    expectExact(run({ kind: 'gemv', m: 2049, n: 300, vectors: 2 }, X1));
  });

  it('multi-round on hbm-pim-x4: m = 4097 takes a second round for one row', () => {
    expect(planGemv(pimGeometry(X4), 4097, 20).rounds).toBe(2);
    expectExact(run({ kind: 'gemv', m: 4097, n: 20 }, X4));
  });

  it('random shapes, vectors, reductions and seeds (fast-check, fixed seed)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1100 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 3 }),
        fc.constantFrom<Reduction>('fp16', 'fp32'), fc.integer({ min: 1, max: 1e6 }),
        (m, n, vectors, host, seed) => {
          const r = run({ kind: 'gemv', m, n, vectors }, X1, { hostReduction: host, seed });
          return r.check.bitExact === true && r.check.withinBound === true && r.check.mismatches === 0;
        },
      ),
      { seed: 20240611, numRuns: 12 },
    );
  });
});

describe('element-wise, bit-exact and within bound', () => {
  const ops = ['add', 'mul', 'relu', 'mad'] as const;
  for (const op of ops) {
    for (const size of [1, 17, 1000, 4097]) {
      it(`${op} ${size}`, () => expectExact(run({ kind: op, size }, X4)));
    }
  }

  // One slot per bank is 16 pCHs x 8 PCUs x 2 banks x 128 elements = 32,768
  // elements on one stack, and a DRAM row holds 4 slots: 6 slots (one full
  // row, a partial one; the CRF's JUMP repeats 5 times) and a ragged last tile.
  const big = 5 * 32_768 + 129;
  for (const op of ['add', 'mul', 'relu'] as const) {
    it(`${op} ${big}: more than one slot and one DRAM row per bank (one stack)`, () => expectExact(run({ kind: op, size: big }, X1)));
  }

  // MAD past a bank's first slot: AAM indexes GRF_A/GRF_B from the address,
  // never the scalar registers (HARDWARE.md 3.2), so every slot reads the one
  // scale and shift in SRF_M[0] / SRF_A[0]. (A data path that indexed SRF by
  // address stored x * 0 + 0 from the second slot on: 131,201 mismatches at
  // 163,969 elements on one stack, 1 at 131,073 on hbm-pim-x4.)
  it(`mad ${big}: more than one slot and one DRAM row per bank (one stack) (scalars fixed under AAM)`, () => expectExact(run({ kind: 'mad', size: big }, X1)));
  it('mad 131073 on hbm-pim-x4: one element in the second slot (scalars fixed under AAM)', () => expectExact(run({ kind: 'mad', size: 131_073 }, X4)));
});

describe('attention, bit-exact and within bound', () => {
  const cases: [string, { hq: number; hkv: number; skv: number; hd: number }, Hardware, Reduction?][] = [
    ['MHA', { hq: 4, hkv: 4, skv: 33, hd: 64 }, X4],
    ['MHA, fp32 host reduction', { hq: 4, hkv: 4, skv: 33, hd: 64 }, X4, 'fp32'],
    ['GQA 6 / 2', { hq: 6, hkv: 2, skv: 40, hd: 64 }, X4],
    ['GQA 6 / 2, fp32 host reduction', { hq: 6, hkv: 2, skv: 40, hd: 64 }, X4, 'fp32'],
    ['one KV head', { hq: 4, hkv: 1, skv: 20, hd: 32 }, X4],
    ['skv 1 (only the appended token)', { hq: 2, hkv: 2, skv: 1, hd: 64 }, X4],
    ['skv 17', { hq: 2, hkv: 1, skv: 17, hd: 64 }, X4],
    ['skv 129 (two input tiles in the context GEMV)', { hq: 2, hkv: 2, skv: 129, hd: 64 }, X4],
    ['hd 80', { hq: 2, hkv: 2, skv: 24, hd: 80 }, X4],
    ['20 KV heads on 16 pseudo-channels (one stack)', { hq: 20, hkv: 20, skv: 9, hd: 32 }, X1],
    ['GQA, 20 KV heads on 16 pseudo-channels (one stack)', { hq: 40, hkv: 20, skv: 5, hd: 16 }, X1],
  ];
  for (const [name, shape, hw, host] of cases) {
    it(`${name}: ${kernelName({ kind: 'attention', ...shape })}`, () => {
      const r = run({ kind: 'attention', ...shape }, hw, { hostReduction: host });
      expectExact(r);
      expect(r.phases!.scores).toBeGreaterThan(0);
      expect(r.phases!.context).toBeGreaterThan(0);
    });
  }
});

describe('the check is not vacuous', () => {
  it('different seeds give different data and errors; the same seed the same', () => {
    const spec: KernelSpec = { kind: 'gemv', m: 100, n: 300 };
    const errs = [1, 2, 3].map((seed) => run(spec, X4, { seed }));
    for (const r of errs) expectExact(r);
    expect(new Set(errs.map((r) => r.check.maxAbsError)).size).toBe(3);
    expect(errs.every((r) => r.check.maxAbsError > 0)).toBe(true); // nonzero data, rounding really happens
    expect(run(spec, X4, { seed: 2 }).check.maxAbsError).toBe(errs[1]!.check.maxAbsError);
  });

  // The GEMV by hand (planGemv, layout, stream, simulator, host reduction), on one stack.
  const m = 300;
  const n = 200;
  const hw = X1;
  const g = pimGeometry(hw);
  /** Seeded FP16 values on a grid of nonzero numbers in [-1, 1] (no zero weight or input: every product counts). */
  function values(count: number, seed: number): Uint16Array {
    let s = seed >>> 0 || 1;
    return Uint16Array.from({ length: count }, () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const k = ((s >>> 0) % 1024) + 1; // 1..1024
      return f16BitsOf(f16(((s & 0x80000000) ? -1 : 1) * k / 1024));
    });
  }
  function gemvByHand(w: Uint16Array, x: Uint16Array, corrupt?: (stores: ReturnType<typeof newStores>) => void): Float64Array {
    const plan = planGemv(g, m, n);
    const stores = newStores(g.pch, g.banks);
    layoutGemvWeights(g, plan, w, stores);
    corrupt?.(stores);
    const sys = runSystem(gemvStream(g, plan, x), stores, { hw, refresh: true });
    return reduceGemv(g, plan, sys.readbacks, 'fp16', (b) => F16_VALUE[b]!, f16);
  }
  const w = values(m * n, 11);
  const x = values(n, 12);
  const want = gemvFp16Loop(w, x, m, n, 'fp16');
  const diffs = (y: Float64Array) => [...y.keys()].filter((i) => !Object.is(y[i], want[i]));

  it('by hand, untouched: bit-exact with gemvFp16Loop; another input vector gives other outputs', () => {
    expect(diffs(gemvByHand(w, x))).toEqual([]);
    const x2 = values(n, 13);
    const y2 = gemvByHand(w, x2);
    const want2 = gemvFp16Loop(w, x2, m, n, 'fp16');
    expect([...y2].map((v, i) => Object.is(v, want2[i]))).not.toContain(false);
    expect(diffs(y2).length).toBeGreaterThan(m / 2);
  });

  it('one weight flipped in a bank after layout: exactly its output row mismatches, and breaks the bound', () => {
    const [out, input] = [137, 150]; // input tile 1: the odd bank
    let hit = '';
    const y = gemvByHand(w, x, (stores) => {
      forEachGemvBurst(g, planGemv(g, m, n), (pch, bank, row, col, o, in0) => {
        if (o !== out || input < in0 || input >= in0 + LANES) return;
        const r = stores[pch]!.row(bank, row, true);
        const at = col * LANES + (input - in0);
        expect(r[at]).toBe(w[out * n + input]);
        r[at] = r[at]! ^ 0x4000; // flips the top exponent bit: |w| <= 1 becomes 2^16 times larger (1.0 becomes +inf)
        hit = `pCH ${pch} bank ${bank} row ${row} col ${col}`;
      });
    });
    expect(Number(/bank (\d+)/.exec(hit)![1]) % 2).toBe(1); // input tile 1 lives in the odd bank
    expect(diffs(y)).toEqual([out]);
    const exact = gemvExact(w, x, m, n);
    expect(Math.abs(y[out]! - exact.y[out]!)).toBeGreaterThan(gemvBound(n, exact.abs[out]!));
  });
});

describe('without PIM (the host reads everything)', () => {
  for (const [m, n] of [[1, 1], [7, 129], [100, 300]] as const) {
    it(`gemv ${m} x ${n} stays within the float32 bound`, () => {
      const r = runKernel({ kind: 'gemv', m, n }, { hw: X4, pim: false });
      expect(r.pim).toBe(false);
      expect(r.check).toMatchObject({ bitExact: null, withinBound: true });
      expect(r.pimTriggers).toBe(0);
      expect(r.cycles).toBeGreaterThan(0);
    });
  }

  it('refuses a batch', () => {
    expect(() => runKernel({ kind: 'gemv', m: 8, n: 8, vectors: 2 }, { hw: X4, pim: false })).toThrow(/PIMC0703/);
  });
});

