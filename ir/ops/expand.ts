// Expand: broadcasts a tensor to a shape given as an input. Unlike a plain
// "broadcast to", the target may be smaller than the input in some dims (a 1
// in the target keeps the input's dim) and may have lower rank: the result is
// the numpy broadcast of the input shape and the target.

import { registerOp } from '../registry.js';
import type { Dim } from '../types.js';
import { broadcastShapes, broadcastStrides, inputType, movementCost, need, op } from './support.js';
import { knownDims, stridedCopy } from './transpose.js';

registerOp(op({
  type: 'Expand',
  summary: 'broadcasts a tensor against a target shape given as input 1',
  opsets: [8, 23],
  inputs: [2, 2],
  outputs: [1, 1],
  attrs: {},
  infer: (ctx) => {
    const x = inputType(ctx, 0);
    const target = knownDims(ctx, 1);
    if (target) {
      if (target.some((d) => typeof d === 'number' && d < 0)) ctx.error(`target shape [${target.join(', ')}] has a negative dim`);
      return [{ dtype: x.dtype, shape: broadcastShapes(x.shape, target, ctx) }];
    }
    // target unknown: its length still fixes the rank, and an input dim > 1 survives any valid target
    const n = inputType(ctx, 1).shape[0];
    if (typeof n !== 'number') return ctx.error('target shape has unknown length (unknown output rank)');
    const rank = Math.max(n, x.shape.length);
    const off = rank - x.shape.length;
    const shape: Dim[] = Array.from({ length: rank }, (_, i) => {
      const d = i >= off ? x.shape[i - off]! : 1;
      return typeof d === 'number' && d !== 1 ? d : ctx.unknownDim();
    });
    return [{ dtype: x.dtype, shape }];
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const target = need(ctx, inputs, 1).toArray();
    if (target.some((d) => d < 0)) ctx.error(`target shape [${target.join(', ')}] has a negative dim`);
    const shape = broadcastShapes(x.shape, target, { error: (m) => ctx.error(m), unknownDim: () => ctx.error('internal: symbolic dim at run time') }) as number[];
    return [stridedCopy(x, shape, 0, broadcastStrides(x.shape, shape))];
  },
  cost: movementCost,
  example: '%y : f32[2, 1, 8, 8] = Expand(%mask, %shape)',
}));
