// Softmax and LogSoftmax. Opset 13 normalizes along one axis (default -1);
// earlier opsets flatten the input to 2-D [prod(dims < axis), prod(dims >= axis)]
// (axis default 1) and normalize each row. Both subtract the max first.

import { normalizeInPlace } from '../dtype.js';
import { registerOp, type RunContext } from '../registry.js';
import { Tensor, sizeOf } from '../tensor.js';
import { elementwiseCost, need, normAxis, op, sameAsInput } from './support.js';

/**
 * Softmax (or log-softmax) over `n` elements spaced `inner` apart, for each of
 * `outer` blocks, in float64. Shared with Attention.
 */
export function softmaxInto(out: { [i: number]: number }, x: ArrayLike<number>, outer: number, n: number, inner: number, log: boolean): void {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * n * inner + j;
      let max = -Infinity;
      for (let i = 0; i < n; i++) max = Math.max(max, x[base + i * inner]!);
      // A row that is all -inf (fully masked) has no distribution: numpy gives NaN, and so do we.
      let sum = 0;
      for (let i = 0; i < n; i++) sum += Math.exp(x[base + i * inner]! - max);
      if (log) {
        const lse = Math.log(sum);
        for (let i = 0; i < n; i++) out[base + i * inner] = x[base + i * inner]! - max - lse;
      } else {
        for (let i = 0; i < n; i++) out[base + i * inner] = Math.exp(x[base + i * inner]! - max) / sum;
      }
    }
  }
}

function runSoftmax(ctx: RunContext, x: Tensor, log: boolean): Tensor {
  const legacy = ctx.opset < 13;
  const axis = normAxis(ctx.attrs.int('axis', legacy ? 1 : -1), Math.max(x.rank, 1), (m) => ctx.error(m));
  const outer = sizeOf(x.shape.slice(0, axis));
  const n = legacy ? sizeOf(x.shape.slice(axis)) : (x.shape[axis] ?? 1);
  const inner = legacy ? 1 : sizeOf(x.shape.slice(axis + 1));
  const out = new Tensor(x.dtype, x.shape);
  softmaxInto(out.data, x.data, outer, n, inner, log);
  normalizeInPlace(out.dtype, out.data);
  return out;
}

function softmaxOp(type: string, log: boolean, summary: string, flopsPerElement: number) {
  registerOp(op({
    type,
    summary,
    opsets: [1, 23],
    inputs: [1, 1],
    outputs: [1, 1],
    // The default axis depends on the opset (1 before 13, -1 from 13): run() picks it.
    attrs: { axis: { kind: 'int' } },
    infer: (ctx) => {
      const x = sameAsInput(ctx)[0]!;
      const legacy = ctx.opset < 13;
      normAxis(ctx.attrs.int('axis', legacy ? 1 : -1), Math.max(x.shape.length, 1), (m) => ctx.error(m));
      return [x];
    },
    run: (ctx, inputs) => [runSoftmax(ctx, need(ctx, inputs, 0), log)],
    cost: elementwiseCost(flopsPerElement),
    example: `%y : f32[1, 12, 16, 16] = ${type}(%x) {axis = -1}`,
  }));
}

// Per element: max, subtract, exp, sum, then a divide (Softmax) or subtract of log-sum (LogSoftmax).
softmaxOp('Softmax', false, 'exp(x - max) / sum(exp(x - max)) along an axis', 5);
softmaxOp('LogSoftmax', true, 'x - max - log(sum(exp(x - max))) along an axis', 5);
