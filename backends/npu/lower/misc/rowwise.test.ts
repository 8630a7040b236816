// Softmax, LogSoftmax, LayerNorm and RMSNorm against the reference. Bounds:
// backends/npu/bounds/rowwise.ts, derived there from the lowering's fp32
// instruction sequence (rowwise.ts) row by row, with the row statistics
// recomputed from the stored input; LayerNormalization's Mean and InvStdDev
// outputs have their own.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lowerOneOp } from '../harness.js';
import { expectBound, runBounded, runMulti, uniform } from './testing.js';

const softmaxCase = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }),
  axis: fc.integer({ min: -3, max: 2 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
}).map((c) => ({ ...c, axis: ((c.axis % c.shape.length) + c.shape.length) % c.shape.length }));

describe('Softmax and LogSoftmax along any axis', () => {
  for (const type of ['Softmax', 'LogSoftmax']) {
    it(type, () => {
      fc.assert(fc.property(softmaxCase, ({ shape, axis, seed }) => {
        const r = runBounded(type, '', [uniform(shape, seed, -6, 6)], { axis });
        expectBound(r, `${type} [${shape}] axis ${axis}`);
      }), { seed: 5150, numRuns: 6 });
    });
  }

  it('long rows across engines (a [24, 3000] softmax)', () => {
    const r = runBounded('Softmax', '', [uniform([24, 3000], 9, -8, 8)], { axis: -1 });
    expectBound(r, 'Softmax 3000');
    expect(r.program.engines.filter((e) => e.length).length).toBe(8);
  });

  it('a row that cannot fit in the scratchpad is PIMC1101', () => {
    expect(() => lowerOneOp('Softmax', '', [{ dtype: 'f32', shape: [2, 400_000] }], { axis: -1 })).toThrow(/PIMC1101.*400000/);
  });
});

describe('normalisations', () => {
  const normCase = fc.record({
    rows: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 2 }),
    n: fc.integer({ min: 1, max: 700 }),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
  });

  for (const [type, domain, bias] of [['LayerNormalization', '', true], ['LayerNorm', 'pimc', true], ['LayerNorm', 'pimc', false]] as const) {
    it(`${domain || 'onnx'}.${type}${bias ? ' with bias' : ''}`, () => {
      fc.assert(fc.property(normCase, ({ rows, n, seed }) => {
        // A mean well away from 0 makes the centring matter.
        const x = uniform([...rows, n], seed, -1, 3), g = uniform([n], seed + 1, -1.5, 1.5), b = uniform([n], seed + 2, -1, 1);
        const r = runBounded(type, domain, bias ? [x, g, b] : [x, g], { axis: -1, epsilon: 1e-5 });
        expectBound(r, `${type} [${rows}, ${n}]`);
      }), { seed: 808, numRuns: 5 });
    });
  }

  for (const [type, domain] of [['RMSNorm', 'pimc'], ['RMSNormalization', '']] as const) {
    it(`${domain || 'onnx'}.${type}`, () => {
      fc.assert(fc.property(normCase, ({ rows, n, seed }) => {
        const x = uniform([...rows, n], seed, -2, 2), g = uniform([n], seed + 1, 0.5, 1.5);
        const r = runBounded(type, domain, [x, g], { axis: -1, epsilon: 1e-6 });
        expectBound(r, `${type} [${rows}, ${n}]`);
      }), { seed: 909, numRuns: 5 });
    });
  }

  it('LayerNormalization over two dims (axis = 1) with a [4, 30] scale and bias', () => {
    const x = uniform([5, 4, 30], 3, -1, 3), g = uniform([4, 30], 4), b = uniform([4, 30], 5);
    const r = runBounded('LayerNormalization', '', [x, g, b], { axis: 1 });
    expectBound(r, 'LN axis 1');
  });

  it('LayerNormalization Mean and InvStdDev outputs (row outputs, f16 storage)', () => {
    const n = 96;
    const r = runMulti('LayerNormalization', '', [uniform([3, 7, n], 12, -1, 3), uniform([n], 13), uniform([n], 14)], { axis: -1 }, 3);
    // Y, then Mean (e_m and the reference's u) and InvStdDev (inv * rel and the reference's u).
    expectBound(r, 'LN');
  });

  it('a scale that repeats inside the normalised block is PIMC1102', () => {
    expect(() => lowerOneOp('LayerNormalization', '', [{ dtype: 'f32', shape: [2, 4, 8] }, { dtype: 'f32', shape: [8] }], { axis: 1 })).toThrow(/PIMC1102/);
  });
});
