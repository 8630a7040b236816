// MatMul, Gemm and pimc.Linear on the NPU simulator against the reference
// interpreter (harness.ts), on random shapes that do not divide the tiles.
//
// Error bound: backends/npu/bounds/matmul.ts (derived there, one definition
// for the tests and the compiler): |got - want| <= (1 + 2^-11) e_y +
// (2^-11 + 4u) |want| + 2^-25 with e_y = |alpha| (gamma_K(u) +
// gamma_K(2^-53)) S + 4u (|alpha| S + |beta c|), S = sum_k |a_k b_k|.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../../ir/tensor.js';
import { F, lowerOneOp, worstError, type HarnessAttr, type HarnessOptions } from '../harness.js';
import { runBounded } from '../misc/testing.js';

/** Deterministic values in [-1, 1) (mulberry32). */
function rand(shape: number[], seed: number): Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  });
  return Tensor.from('f32', shape, v);
}

/** Runs the op and asserts the registry's bound (header) on every output element. */
function expectWithinBound(type: string, domain: string, inputs: (Tensor | null)[], attrs: Record<string, HarnessAttr>, opts: HarnessOptions = {}) {
  const run = runBounded(type, domain, inputs, attrs, opts);
  const want = run.want[0]!;
  const bound = (i: number) => run.bound(0, i);
  expect([...run.got[0]!.shape]).toEqual([...want.shape]);
  const w = worstError(run.got[0]!, want, bound);
  if (process.env.SHOW_RATIO) console.log(type, [...want.shape].join('x'), 'worst/bound', w.ratio.toFixed(3));
  expect(w.ratio, `worst element ${w.index}: got ${run.got[0]!.data[w.index]}, want ${want.data[w.index]}, bound ${w.index >= 0 ? bound(w.index) : 0}`).toBeLessThanOrEqual(1);
  return run;
}

const RUNS = { seed: 20240611, numRuns: 20 };

describe('MatMul on the NPU', () => {
  it('batched shapes with broadcasting, 1-D operands, M 1..200, K 1..300, N 1..300', () => {
    const batchShapes = fc.constantFrom<[number[], number[]]>([[], []], [[2], []], [[3], [3]], [[1], [3]], [[2, 1], [1, 3]], [[], [2]], [[3], [1]]);
    fc.assert(
      fc.property(batchShapes, fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 300 }), fc.constantFrom('2d', 'a1d', 'b1d'), fc.integer(), ([ab, bb], M, K, N, kind, seed) => {
        const aShape = kind === 'a1d' ? [K] : [...ab, M, K];
        const bShape = kind === 'b1d' ? [K] : [...bb, K, N];
        expectWithinBound('MatMul', '', [rand(aShape, seed), rand(bShape, seed + 1)], {});
      }),
      RUNS,
    );
  });

  it('tiles that loop in every dimension (M 300, K 1100, N 700), on all engines, DMA overlapping compute', () => {
    const events: { engine: number; unit: string; start: number; end: number }[] = [];
    const run = expectWithinBound('MatMul', '', [rand([300, 1100], 1), rand([1100, 700], 2)], {}, { trace: (e) => events.push(e) });
    expect(run.program.engines.filter((l) => l.length).length).toBe(8);
    expect(run.stats.macs).toBe(300 * 1100 * 700);
    // Double buffering: on each engine some load is in flight while the array works.
    for (let e = 0; e < 8; e++) {
      const mine = events.filter((x) => x.engine === e);
      const overlapped = mine.some((m) => m.unit === 'matmul' && mine.some((d) => d.unit === 'dma' && d.start < m.end && d.end > m.start));
      expect(overlapped, `engine ${e}`).toBe(true);
    }
  });

  it('GEMV (M = 1) streams the weight through the array in the transposed form', () => {
    const run = expectWithinBound('MatMul', '', [rand([1, 1000], 3), rand([1000, 600], 4)], {});
    // Transposed: the weight tile is operand a (M = columns of W), the vector is b (N = 1).
    const mm = run.program.engines.flat().filter((i) => i.op === 'matmul');
    expect(mm.length).toBeGreaterThan(0);
    for (const i of mm) if (i.op === 'matmul') expect(i.b.shape[2]).toBe(1);
  });
});

describe('Gemm on the NPU', () => {
  it('alpha, beta, transA, transB and a broadcast C', () => {
    const cShapes = fc.constantFrom('none', 'MN', 'N', '1N', 'M1', 'scalar');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 150 }), fc.integer({ min: 1, max: 260 }), fc.integer({ min: 1, max: 200 }), fc.boolean(), fc.boolean(), cShapes, fc.constantFrom(1, 0.75, -1.5, 0.1), fc.constantFrom(1, 0.5, 0, -2), fc.integer(), (M, K, N, tA, tB, cs, alpha, beta, seed) => {
        const a = rand(tA ? [K, M] : [M, K], seed), b = rand(tB ? [N, K] : [K, N], seed + 1);
        const cShape = { none: null, MN: [M, N], N: [N], '1N': [1, N], M1: [M, 1], scalar: [] }[cs];
        const c = cShape ? rand(cShape, seed + 2) : null;
        const attrs = { alpha: F(alpha), beta: F(beta), transA: tA ? 1 : 0, transB: tB ? 1 : 0 };
        expectWithinBound('Gemm', '', c ? [a, b, c] : [a, b], attrs);
      }),
      RUNS,
    );
  });
});

describe('pimc.Linear on the NPU', () => {
  it('x [..., K] @ W (+ bias), W as [K, N] or transposed [N, K]', () => {
    fc.assert(
      fc.property(fc.constantFrom<number[]>([1], [3], [2, 5], [1, 1], [70]), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 300 }), fc.boolean(), fc.boolean(), fc.integer(), (lead, K, N, tB, withBias, seed) => {
        const x = rand([...lead, K], seed), w = rand(tB ? [N, K] : [K, N], seed + 1);
        const bias = withBias ? rand([N], seed + 2) : null;
        expectWithinBound('Linear', 'pimc', bias ? [x, w, bias] : [x, w], { transB: tB ? 1 : 0 });
      }),
      RUNS,
    );
  });

  it('a constant weight (as fuse-linear makes it) lowers the same way', () => {
    expectWithinBound('Linear', 'pimc', [rand([4, 64], 5), rand([64, 96], 6), rand([96], 7)], {}, { consts: [1, 2] });
  });
});

describe('NPU lowering diagnostics', () => {
  it('integer products are PIMC1102, naming the op', () => {
    expect(() => lowerOneOp('MatMul', '', [{ dtype: 'i32', shape: [2, 3] }, { dtype: 'i32', shape: [3, 4] }])).toThrow(/PIMC1102.*"n".*integer/);
  });
});
