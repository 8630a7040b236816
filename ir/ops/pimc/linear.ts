// pimc.Linear: y = x @ W (+ bias), the weight a constant matrix. What
// fuse-linear makes of MatMul(+Add) and Gemm; placement treats it as the GEMV /
// GEMM that HBM-PIM banks can run in place.

import { normalizeInPlace } from '../../dtype.js';
import { registerOp } from '../../registry.js';
import { Tensor, sizeOf } from '../../tensor.js';
import type { Dim } from '../../types.js';
import { matmulInto, rowMajor, type MatView } from '../matmul.js';
import { inputType, ioBytes, need } from '../support.js';

registerOp({
  type: 'Linear',
  domain: 'pimc',
  summary: 'x @ W (+ bias): x [..., K], W [K, N] ([N, K] with transB = 1), bias [N]',
  opsets: [1, 1],
  inputs: [2, 3],
  outputs: [1, 1],
  attrs: { transB: { kind: 'int', default: 0 } },
  infer: (ctx) => {
    const x = inputType(ctx, 0);
    const w = inputType(ctx, 1);
    if (x.shape.length < 1) ctx.error('x must have rank >= 1');
    if (w.shape.length !== 2) ctx.error(`W must be 2-D, got [${w.shape.join(', ')}]`);
    if (w.dtype !== x.dtype) ctx.error(`W is ${w.dtype}, x is ${x.dtype}`);
    const tB = ctx.attrs.int('transB', 0) !== 0;
    const [k, n] = tB ? [w.shape[1]!, w.shape[0]!] : [w.shape[0]!, w.shape[1]!];
    const xk = x.shape[x.shape.length - 1]!;
    if (typeof xk === 'number' && typeof k === 'number' && xk !== k) ctx.error(`inner dims differ (${xk} and ${k})`);
    const b = ctx.inputs[2];
    if (b) {
      // A bias is one row: [N] or [1, ..., 1, N]; it never widens the output.
      const last = b.shape[b.shape.length - 1];
      if (b.dtype !== x.dtype) ctx.error(`bias is ${b.dtype}, x is ${x.dtype}`);
      if (b.shape.length < 1 || b.shape.slice(0, -1).some((d) => d !== 1) || (typeof last === 'number' && typeof n === 'number' && last !== n)) {
        ctx.error(`bias of shape [${b.shape.join(', ')}] is not a row of ${n}`);
      }
    }
    const out: Dim[] = [...x.shape.slice(0, -1), n];
    return [{ dtype: x.dtype, shape: out }];
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const w = need(ctx, inputs, 1);
    const bias = inputs[2] ?? null;
    if (w.rank !== 2) ctx.error('W must be 2-D');
    const tB = ctx.attrs.int('transB', 0) !== 0;
    const [K, N] = tB ? [w.shape[1]!, w.shape[0]!] : [w.shape[0]!, w.shape[1]!];
    if (x.shape[x.rank - 1] !== K) ctx.error(`inner dims differ (${x.shape[x.rank - 1]} and ${K})`);
    if (bias && bias.size !== N) ctx.error(`bias has ${bias.size} elements, expected ${N}`);
    const M = sizeOf(x.shape.slice(0, -1));
    // W(k, n) as a strided view: a transposed weight is read in place.
    const wv: MatView = tB ? { data: w.data, off: 0, rs: 1, cs: K } : rowMajor(w.data, 0, N);
    const acc = new Float64Array(M * N);
    matmulInto(acc, rowMajor(x.data, 0, K), wv, M, K, N);
    const out = new Tensor(x.dtype, [...x.shape.slice(0, -1), N]);
    const od = out.data;
    od.set(acc);
    // Round the product first, then add the bias and round again: exactly
    // what the MatMul and Add this op replaces compute.
    normalizeInPlace(out.dtype, od);
    if (bias) {
      const bd = bias.data;
      for (let i = 0; i < od.length; i++) od[i] = od[i]! + bd[i % N]!;
      normalizeInPlace(out.dtype, od);
    }
    return [out];
  },
  cost: (ctx) => {
    const x = ctx.inputs[0]!;
    const k = x.shape[x.shape.length - 1] ?? 1;
    const y = ctx.outputs[0]!;
    const n = y.shape[y.shape.length - 1] ?? 1;
    // Every output element is a K-long dot product; the bias add is not counted.
    return { flops: 2 * sizeOf(x.shape.slice(0, -1)) * k * n, bytes: ioBytes(ctx) };
  },
  example: '%y : f32[1, 16, 768] = pimc.Linear(%x, %w, %b)',
});
