// Shape and Reshape: the two ends of every exporter shape subgraph.

import { dimDivExact, dimProduct } from '../dimexpr.js';
import { registerOp, type InferContext } from '../registry.js';
import { Tensor } from '../tensor.js';
import type { Dim } from '../types.js';
import { inputType, movementCost, need, op } from './support.js';

function shapeRange(rank: number, start: number, end: number | undefined): [number, number] {
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  return [clamp(start), clamp(end ?? rank)];
}

registerOp(op({
  type: 'Shape',
  summary: 'the shape of a tensor as a 1-D int64 tensor (optionally a slice of it)',
  opsets: [1, 23],
  inputs: [1, 1],
  outputs: [1, 1],
  attrs: { start: { kind: 'int', default: 0 }, end: { kind: 'int' } },
  infer: (ctx) => {
    const x = inputType(ctx, 0);
    const [s, e] = shapeRange(x.shape.length, ctx.attrs.int('start', 0), ctx.attrs.optInt('end'));
    return [{ dtype: 'i64', shape: [Math.max(e - s, 0)] }];
  },
  symbolic: (ctx) => {
    const x = inputType(ctx, 0);
    const [s, e] = shapeRange(x.shape.length, ctx.attrs.int('start', 0), ctx.attrs.optInt('end'));
    return [x.shape.slice(s, e)];
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const [s, e] = shapeRange(x.rank, ctx.attrs.int('start', 0), ctx.attrs.optInt('end'));
    return [Tensor.vector('i64', x.shape.slice(s, e))];
  },
  cost: () => ({ flops: 0, bytes: 0 }),
  example: '%s : i64[3] = Shape(%x)',
}));

/**
 * Resolves a Reshape target against the input shape: 0 copies the input dim
 * (unless allowzero), -1 takes what is left. Works with symbolic dims.
 */
export function reshapeTarget(input: readonly Dim[], target: readonly Dim[], allowZero: boolean, err: (m: string) => never): Dim[] {
  const out = target.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= input.length) err(`shape element ${i} is 0 but the input has rank ${input.length}`);
      return input[i]!;
    }
    return d;
  });
  const holes = out.filter((d) => d === -1).length;
  if (holes > 1) err('shape has more than one -1');
  if (holes === 1) {
    const known = dimProduct(out.filter((d) => d !== -1));
    const rest = dimDivExact(dimProduct(input), known);
    if (rest === undefined) err(`cannot infer the -1 of shape [${target.join(', ')}] from input [${input.join(', ')}]`);
    out[out.indexOf(-1)] = rest;
  }
  for (const d of out) if (typeof d === 'number' && d < 0) err(`shape element ${d} is invalid`);
  return out;
}

function reshapeInfer(ctx: InferContext): Dim[] {
  const x = inputType(ctx, 0);
  const allowZero = ctx.attrs.int('allowzero', 0) !== 0;
  const err = (m: string) => ctx.error(m);
  const c = ctx.constInput(1);
  const target: Dim[] | undefined = c ? c.toArray() : ctx.symbolicInput(1);
  if (target) return reshapeTarget(x.shape, target, allowZero, err);
  const s = inputType(ctx, 1);
  const rank = s.shape[0];
  if (typeof rank !== 'number') ctx.error('shape input has unknown length');
  return Array.from({ length: rank }, () => ctx.unknownDim());
}

registerOp(op({
  type: 'Reshape',
  summary: 'the same elements under another shape (0 copies a dim, -1 infers one)',
  opsets: [5, 23],
  inputs: [2, 2],
  outputs: [1, 1],
  attrs: { allowzero: { kind: 'int', default: 0 } },
  infer: (ctx) => [{ dtype: inputType(ctx, 0).dtype, shape: reshapeInfer(ctx) }],
  symbolic: (ctx) => {
    const s = ctx.symbolicInput(0);
    return [s && reshapeInfer(ctx).length <= 1 ? s : undefined];
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const target = need(ctx, inputs, 1).toArray();
    const shape = reshapeTarget(x.shape, target, ctx.attrs.int('allowzero', 0) !== 0, (m) => ctx.error(m)) as number[];
    if (shape.reduce((a, b) => a * b, 1) !== x.size) ctx.error(`cannot reshape [${x.shape.join(', ')}] to [${target.join(', ')}]`);
    return [x.reshape(shape)];
  },
  cost: movementCost,
  example: '%y : f32[1, 16, 4, 64] = Reshape(%x, %shape)',
}));
