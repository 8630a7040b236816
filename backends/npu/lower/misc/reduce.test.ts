// ReduceSum / ReduceMean / ReduceMax over random axes (constant axes input),
// with and without keepdims. Bounds (u = 2^-24; N reduced elements per output):
//   Sum:  an fp32 sum of N terms in some order (chunk partial sums, then
//         their sum): |v - sum| <= gamma_{N-1} sum|x|; reference u|want|.
//   Mean: the sum, then * fl(1/N) (2u): E = gamma_{N+1} sum|x| / N + u|want|.
//   Max:  exact.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor, sizeOf } from '../../../../ir/tensor.js';
import { runOpOnNpu } from '../harness.js';
import { U, expectExact, expectWithin, f16Bound, gamma, uniform } from './testing.js';

/** sum |x| over the elements reduced into each output (output index in keepdims layout = row-major over kept dims). */
function absSums(x: Tensor, axes: number[]): { abs: Float64Array; n: number } {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float64Array(sizeOf(kept));
  const idx = new Array<number>(x.shape.length).fill(0);
  for (let i = 0; i < x.size; i++) {
    let o = 0;
    kept.forEach((d, k) => (o = o * d + (d === 1 ? 0 : idx[k]!)));
    out[o] += Math.abs(x.data[i]!);
    for (let k = x.shape.length - 1; k >= 0 && ++idx[k]! === x.shape[k]!; k--) idx[k] = 0;
  }
  return { abs: out, n: x.size / Math.max(out.length, 1) };
}

const reduceCase = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 23 }), { minLength: 1, maxLength: 4 }),
  mask: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  keepdims: fc.integer({ min: 0, max: 1 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
}).filter((c) => sizeOf(c.shape) <= 20000);

function check(type: string, x: Tensor, axes: number[], keepdims: number): void {
  const r = runOpOnNpu(type, '', [x, Tensor.vector('i64', axes)], { keepdims }, { consts: [1] });
  const all = axes.length ? axes : x.shape.map((_, i) => i);
  const { abs, n } = absSums(r.rounded[0]!, all);
  const w = r.want[0]!.data;
  if (type === 'ReduceMax') return expectExact(r.got[0]!, r.want[0]!, `${type} [${x.shape}] axes ${axes}`);
  const E = (i: number) => (type === 'ReduceSum' ? gamma(n - 1) * abs[i]! : (gamma(n + 1) * abs[i]!) / n) + U * Math.abs(w[i]!);
  expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(w[i]!, E(i)), `${type} [${x.shape}] axes ${axes}`);
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
    const r = runOpOnNpu('ReduceMean', '', [x, Tensor.vector('i64', [1])], { keepdims: 0 }, { consts: [1] });
    expectExact(r.got[0]!, r.want[0]!, 'size-1 axis');
    const z = runOpOnNpu('ReduceSum', '', [x, Tensor.vector('i64', [])], { noop_with_empty_axes: 1 }, { consts: [1] });
    expectExact(z.got[0]!, z.want[0]!, 'noop');
    expect(z.program.engines.flat().some((i) => i.op.startsWith('vec'))).toBe(false);
  });
});
