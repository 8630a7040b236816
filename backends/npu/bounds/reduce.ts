// ReduceSum / ReduceMean / ReduceMax (backends/npu/lower/misc/reduce.ts).
// Bounds (u = 2^-24; N reduced elements per output), f16Bound(want, E)
// (common.ts):
//   Sum:  an fp32 sum of N terms in some order (chunk partial sums, then
//         their sum): |v - sum| <= gamma_{N-1} sum|x|; reference u|want|.
//   Mean: the sum, then * fl(1/N) (2u): E = gamma_{N+1} sum|x| / N + u|want|.
//   Max:  exact.
// sum|x| per output is summed from the stored input (float64). Axes as the
// lowering reads them: the axes input (or an older opset's `axes`
// attribute); none means every axis, or the identity (N = 1) with
// noop_with_empty_axes.

import { Tensor, sizeOf } from '../../../ir/tensor.js';
import { EXACT, U, gamma, need, storeBound } from './common.js';
import { registerBound, type BoundContext, type ElementBound } from './registry.js';

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

/** The reduced axes, normalised; [] for the identity (noop_with_empty_axes with no axes). */
function reducedAxes(c: BoundContext, rank: number): number[] {
  const given = c.inputs[1] ? c.inputs[1].toArray() : c.attrs.ints('axes');
  if (!given || given.length === 0) return c.attrs.int('noop_with_empty_axes', 0) ? [] : [...Array(rank).keys()];
  return [...new Set(given.map((a) => (a < 0 ? a + rank : a)))];
}

function sumOrMean(mean: boolean) {
  return (c: BoundContext): ElementBound => {
    const x = need(c, 0);
    const { abs, n } = absSums(x, reducedAxes(c, x.rank));
    return storeBound(c, (i, w) => (mean ? (gamma(n + 1) * abs[i]!) / n : gamma(n - 1) * abs[i]!) + U * Math.abs(w));
  };
}

registerBound('', 'ReduceSum', sumOrMean(false));
registerBound('', 'ReduceMean', sumOrMean(true));
registerBound('', 'ReduceMax', () => EXACT);
