// Gemm: Y = alpha * op(A) @ op(B) + beta * C, op() an optional transpose,
// C broadcast to [M, N]. The transposes are strides, never copies.

import { normalizeInPlace } from '../dtype.js';
import { registerOp } from '../registry.js';
import { Tensor, sizeOf } from '../tensor.js';
import type { Dim } from '../types.js';
import { matmulInto } from './matmul.js';
import { broadcastShapes, broadcastTo, inputType, ioBytes, need, op } from './support.js';

/** Whether `shape` broadcasts (one way) into `target`. */
export function broadcastsInto(shape: readonly number[], target: readonly number[]): boolean {
  const off = target.length - shape.length;
  return off >= 0 && shape.every((d, i) => d === 1 || d === target[i + off]);
}

const ATTRS = {
  alpha: { kind: 'float', default: 1 },
  beta: { kind: 'float', default: 1 },
  transA: { kind: 'int', default: 0 },
  transB: { kind: 'int', default: 0 },
  // Opsets before 7 asked for broadcasting of C explicitly; C always broadcasts here.
  broadcast: { kind: 'int', default: 0 },
} as const;

registerOp(op({
  type: 'Gemm',
  summary: 'alpha * op(A) @ op(B) + beta * C with optional transposes; C broadcasts to [M, N]',
  opsets: [1, 23],
  inputs: [2, 3],
  outputs: [1, 1],
  attrs: ATTRS,
  infer: (ctx) => {
    const a = inputType(ctx, 0);
    const b = inputType(ctx, 1);
    if (a.shape.length !== 2 || b.shape.length !== 2) ctx.error(`A and B must be 2-D, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
    if (a.dtype !== b.dtype) ctx.error(`inputs have different element types (${a.dtype} and ${b.dtype})`);
    const tA = ctx.attrs.int('transA', 0) !== 0, tB = ctx.attrs.int('transB', 0) !== 0;
    const [m, ka] = tA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const [kb, n] = tB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) ctx.error(`inner dims differ (${ka} and ${kb})`);
    const out: Dim[] = [m, n];
    const c = ctx.inputs[2];
    // C broadcasts one way only: into [M, N].
    if (c && broadcastShapes(c.shape, out, ctx).length !== 2) ctx.error(`C of shape [${c.shape.join(', ')}] does not broadcast to [M, N]`);
    return [{ dtype: a.dtype, shape: out }];
  },
  run: (ctx, inputs) => {
    const a = need(ctx, inputs, 0);
    const b = need(ctx, inputs, 1);
    const c = inputs[2] ?? null;
    if (a.rank !== 2 || b.rank !== 2) ctx.error('A and B must be 2-D');
    const tA = ctx.attrs.int('transA', 0) !== 0, tB = ctx.attrs.int('transB', 0) !== 0;
    const alpha = ctx.attrs.float('alpha', 1), beta = ctx.attrs.float('beta', 1);
    const [M, K] = tA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const [K2, N] = tB ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    if (K !== K2) ctx.error(`inner dims differ (${K} and ${K2})`);
    const acc = new Float64Array(M * N);
    // A(m, k) and B(k, n) as strided views of the stored (possibly transposed) matrices.
    const av = tA ? { data: a.data, off: 0, rs: 1, cs: M } : { data: a.data, off: 0, rs: K, cs: 1 };
    const bv = tB ? { data: b.data, off: 0, rs: 1, cs: K } : { data: b.data, off: 0, rs: N, cs: 1 };
    matmulInto(acc, av, bv, M, K, N);
    const out = new Tensor(a.dtype, [M, N]);
    const od = out.data;
    if (c && beta !== 0) {
      if (!broadcastsInto(c.shape, [M, N])) ctx.error(`C of shape [${c.shape.join(', ')}] does not broadcast to [${M}, ${N}]`);
      const cd = broadcastTo(c, [M, N]).data;
      for (let i = 0; i < od.length; i++) od[i] = alpha * acc[i]! + beta * cd[i]!;
    } else {
      for (let i = 0; i < od.length; i++) od[i] = alpha * acc[i]!;
    }
    normalizeInPlace(out.dtype, od);
    return [out];
  },
  cost: (ctx) => {
    const a = ctx.inputs[0]!;
    const k = ctx.attrs.int('transA', 0) ? a.shape[0]! : a.shape[1]!;
    const mn = sizeOf(ctx.outputs[0]!.shape);
    // 2*M*N*K for the product, then a scale and an add per output for alpha and beta*C.
    return { flops: 2 * mn * k + (ctx.inputs[2] ? 3 * mn : mn), bytes: ioBytes(ctx) };
  },
  example: '%y : f32[16, 3072] = Gemm(%x, %w, %b) {transB = 1}',
}));
