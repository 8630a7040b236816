// ReduceSum / ReduceMean / ReduceMax over random axes (constant axes input),
// with and without keepdims. Bounds: backends/npu/bounds/reduce.ts (N reduced
// elements per output): Sum gamma_{N-1} sum|x| + u|want|, Mean gamma_{N+1}
// sum|x| / N + u|want|, both through f16Bound; Max exact (also checked bit
// for bit).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor, sizeOf } from '../../../../ir/tensor.js';
import { expectBound, expectExact, runBounded, uniform } from './testing.js';

const reduceCase = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 23 }), { minLength: 1, maxLength: 4 }),
  mask: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  keepdims: fc.integer({ min: 0, max: 1 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
}).filter((c) => sizeOf(c.shape) <= 20000);

function check(type: string, x: Tensor, axes: number[], keepdims: number): void {
  const r = runBounded(type, '', [x, Tensor.vector('i64', axes)], { keepdims }, { consts: [1] });
  expectBound(r, `${type} [${x.shape}] axes ${axes}`);
  if (type === 'ReduceMax') expectExact(r.got[0]!, r.want[0]!, `${type} [${x.shape}] axes ${axes}`);
}

describe('reductions', () => {
  for (const type of ['ReduceSum', 'ReduceMean', 'ReduceMax']) {
    it(`${type} over random axes`, () => {
      fc.assert(fc.property(reduceCase, ({ shape, mask, keepdims, seed }) => {
        const axes = shape.map((_, i) => i).filter((i) => mask[i]);
        check(type, uniform(shape, seed, -2, 2), axes, keepdims);
      }), { seed: 2718, numRuns: 6 });
    });
  }

  it('a row longer than a tile accumulates chunks on one engine (ReduceSum of [2, 40001] over axis 1)', () => {
    check('ReduceSum', uniform([2, 40001], 4, 0, 1), [1], 1);
    check('ReduceMean', uniform([2, 40001], 4, 0, 1), [1], 0);
  });

  it('non-adjacent axes (0 and 2 of [9, 5, 33, 4]) and negative axes', () => {
    for (const type of ['ReduceSum', 'ReduceMean', 'ReduceMax']) check(type, uniform([9, 5, 33, 4], 6), [0, 2], 1);
    check('ReduceMean', uniform([6, 7, 8], 7), [-1], 0);
  });

  it('size-1 axes and noop_with_empty_axes only copy', () => {
    const x = uniform([4, 1, 6], 8);
    const r = runBounded('ReduceMean', '', [x, Tensor.vector('i64', [1])], { keepdims: 0 }, { consts: [1] });
    expectBound(r, 'size-1 axis');
    expectExact(r.got[0]!, r.want[0]!, 'size-1 axis');
    const z = runBounded('ReduceSum', '', [x, Tensor.vector('i64', [])], { noop_with_empty_axes: 1 }, { consts: [1] });
    expectBound(z, 'noop');
    expectExact(z.got[0]!, z.want[0]!, 'noop');
    expect(z.program.engines.flat().some((i) => i.op.startsWith('vec'))).toBe(false);
  });
});
