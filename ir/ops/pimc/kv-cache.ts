// pimc.KvAppend: the KV-cache update of one decode (or prefill) step,
// present = concat(past, new) along the sequence axis. Its output is the
// present cache. fuse-kv-cache makes it from the exporter's Concat of a
// past_key / past_value graph input; fuse-attention from opset-23 Attention.

import { dimAdd } from '../../dimexpr.js';
import { registerOp } from '../../registry.js';
import { Tensor, sizeOf } from '../../tensor.js';
import type { Dim } from '../../types.js';
import { inputType, need, normAxis, tensorBytes } from '../support.js';

registerOp({
  type: 'KvAppend',
  domain: 'pimc',
  summary: 'KV-cache update: present = concat(past, new) along the sequence axis',
  opsets: [1, 1],
  inputs: [2, 2],
  outputs: [1, 1],
  attrs: { axis: { kind: 'int', default: 2 } },
  infer: (ctx) => {
    const past = inputType(ctx, 0), next = inputType(ctx, 1);
    const rank = past.shape.length;
    if (next.dtype !== past.dtype) ctx.error(`new is ${next.dtype}, past is ${past.dtype}`);
    if (next.shape.length !== rank) ctx.error(`new has rank ${next.shape.length}, past has rank ${rank}`);
    const axis = normAxis(ctx.attrs.int('axis', 2), rank, (m) => ctx.error(m));
    const shape: Dim[] = past.shape.map((d, i) => {
      const n = next.shape[i]!;
      if (i === axis) return dimAdd(d, n);
      if (typeof d === 'number' && typeof n === 'number' && d !== n) ctx.error(`past and new differ at axis ${i}: ${d} vs ${n}`);
      return typeof d === 'number' ? d : n;
    });
    return [{ dtype: past.dtype, shape }];
  },
  run: (ctx, inputs) => {
    const past = need(ctx, inputs, 0), next = need(ctx, inputs, 1);
    const axis = normAxis(ctx.attrs.int('axis', 2), past.rank, (m) => ctx.error(m));
    if (next.rank !== past.rank || next.dtype !== past.dtype || past.shape.some((d, i) => i !== axis && d !== next.shape[i])) {
      ctx.error(`new ${next.dtype}[${next.shape.join(', ')}] does not extend past ${past.dtype}[${past.shape.join(', ')}] along axis ${axis}`);
    }
    const shape = past.shape.map((d, i) => (i === axis ? d + next.shape[i]! : d));
    const out = new Tensor(past.dtype, shape);
    const outer = sizeOf(shape.slice(0, axis)), inner = sizeOf(shape.slice(axis + 1));
    const pb = past.shape[axis]! * inner, nb = next.shape[axis]! * inner;
    for (let r = 0; r < outer; r++) {
      out.data.set(past.data.subarray(r * pb, (r + 1) * pb), r * (pb + nb));
      out.data.set(next.data.subarray(r * nb, (r + 1) * nb), r * (pb + nb) + pb);
    }
    return [out];
  },
  // The cache is updated in place: only the new rows move (read once, written
  // once). The reference copies, but no device re-streams the whole cache.
  cost: (ctx) => ({ flops: 0, bytes: 2 * tensorBytes(ctx.inputs[1]) }),
  example: '%present : f32[1, 4, 9, 64] = pimc.KvAppend(%past, %new) {axis = 2}',
});
