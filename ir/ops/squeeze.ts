// Unsqueeze, Squeeze and Flatten: the same elements under a shape with size-1
// axes added or removed, or folded to 2-D. Each is a reshape (no copy).

import { dimProduct } from '../dimexpr.js';
import { registerOp, type CanonicalizeContext, type InferContext } from '../registry.js';
import { Tensor, sizeOf } from '../tensor.js';
import type { Dim } from '../types.js';
import { inputType, movementCost, need, op } from './support.js';
import { knownInts, normAxes } from './transpose.js';

/** Opsets before 13 gave `axes` as an attribute; the canonical form has it as input 1. */
function axesToInput(node: CanonicalizeContext): void {
  const a = node.op.attrs.get('axes');
  if (!a) return;
  if (a.kind !== 'ints') node.error('attribute "axes" should be ints');
  if (node.op.inputs[1]) node.error('axes is given both as an attribute and as an input');
  node.op.inputs[1] = node.constant('axes', Tensor.vector('i64', a.value));
  node.op.attrs.delete('axes');
}

/** The axes as inference knows them: input 1, else the legacy attribute; undefined when unknown or absent. */
function inferAxes(ctx: InferContext): number[] | undefined {
  return ctx.inputs[1] ? knownInts(ctx, 1) : ctx.attrs.ints('axes');
}

/** How many axes input 1 lists, when its values are unknown but its length is not. */
function axesCount(ctx: InferContext): number | undefined {
  const n = ctx.inputs[1]?.shape[0];
  return typeof n === 'number' ? n : undefined;
}

/** A result of rank <= 1 (its type is inferred by now) holds the same elements, so symbolic values pass through. */
function passSymbolic(ctx: InferContext): (Dim[] | undefined)[] {
  const s = ctx.symbolicInput(0);
  const rank = ctx.op.outputs[0]?.type?.shape.length;
  return [s && rank !== undefined && rank <= 1 ? s : undefined];
}

// ---- Unsqueeze -------------------------------------------------------------------------

function unsqueezeShape<D extends Dim>(shape: readonly D[], axes: readonly number[], err: (m: string) => never): (D | 1)[] {
  const rank = shape.length + axes.length;
  const ax = new Set(normAxes(axes, rank, err));
  let k = 0;
  return Array.from({ length: rank }, (_, i) => (ax.has(i) ? 1 : shape[k++]!));
}

function unsqueezeInfer(ctx: InferContext): Dim[] {
  const x = inputType(ctx, 0);
  const axes = inferAxes(ctx);
  if (axes) return unsqueezeShape(x.shape, axes, (m) => ctx.error(m));
  const n = axesCount(ctx);
  if (n === undefined) ctx.error('axes are needed (unknown output rank)');
  return Array.from({ length: x.shape.length + n }, () => ctx.unknownDim());
}

registerOp(op({
  type: 'Unsqueeze',
  summary: 'inserts size-1 axes at the given output positions',
  opsets: [1, 23],
  inputs: [1, 2],
  outputs: [1, 1],
  attrs: { axes: { kind: 'ints' } },
  canonicalize: axesToInput,
  infer: (ctx) => [{ dtype: inputType(ctx, 0).dtype, shape: unsqueezeInfer(ctx) }],
  symbolic: passSymbolic,
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const axes = inputs[1]?.toArray() ?? ctx.attrs.ints('axes') ?? ctx.error('axes are required');
    return [x.reshape(unsqueezeShape(x.shape, axes, (m) => ctx.error(m)))];
  },
  cost: movementCost,
  example: '%y : i64[1] = Unsqueeze(%s, %axes0)',
}));

// ---- Squeeze ---------------------------------------------------------------------------

function squeezeInfer(ctx: InferContext): Dim[] {
  const x = inputType(ctx, 0);
  const axes = inferAxes(ctx);
  if (axes) {
    const ax = new Set(normAxes(axes, x.shape.length, (m) => ctx.error(m)));
    for (const a of ax) {
      const d = x.shape[a]!;
      // a symbolic dim named for squeezing is trusted to be 1 at run time
      if (typeof d === 'number' && d !== 1) ctx.error(`axis ${a} has size ${d}, not 1`);
    }
    return x.shape.filter((_, i) => !ax.has(i));
  }
  if (!ctx.inputs[1]) {
    // no axes: drop the size-1 dims; a symbolic dim is assumed not to be 1
    return x.shape.filter((d) => d !== 1);
  }
  // axes given but unknown: the rank is known, which dims go is not (unless the 1s are all there is)
  const n = axesCount(ctx);
  if (n === undefined) ctx.error('axes have unknown length (unknown output rank)');
  const ones = x.shape.filter((d) => d === 1).length;
  if (ones === n && x.shape.every((d) => typeof d === 'number')) return x.shape.filter((d) => d !== 1);
  return Array.from({ length: x.shape.length - n }, () => ctx.unknownDim());
}

registerOp(op({
  type: 'Squeeze',
  summary: 'removes size-1 axes (the given ones, or all of them)',
  opsets: [1, 23],
  inputs: [1, 2],
  outputs: [1, 1],
  attrs: { axes: { kind: 'ints' } },
  canonicalize: axesToInput,
  infer: (ctx) => [{ dtype: inputType(ctx, 0).dtype, shape: squeezeInfer(ctx) }],
  symbolic: passSymbolic,
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const axes = inputs[1]?.toArray() ?? ctx.attrs.ints('axes');
    if (!axes) return [x.reshape(x.shape.filter((d) => d !== 1))];
    const ax = new Set(normAxes(axes, x.rank, (m) => ctx.error(m)));
    for (const a of ax) if (x.shape[a] !== 1) ctx.error(`axis ${a} has size ${x.shape[a]}, not 1`);
    return [x.reshape(x.shape.filter((_, i) => !ax.has(i)))];
  },
  cost: movementCost,
  example: '%y : f32[8, 768] = Squeeze(%x, %axes0)',
}));

// ---- Flatten ---------------------------------------------------------------------------

/** Splits the dims at `axis` (negative counts from the end; rank itself allowed). */
function flattenCut(axis: number, rank: number, err: (m: string) => never): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a > rank) err(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

registerOp(op({
  type: 'Flatten',
  summary: 'folds the dims before and from an axis into a 2-D tensor',
  opsets: [1, 23],
  inputs: [1, 1],
  outputs: [1, 1],
  attrs: { axis: { kind: 'int', default: 1 } },
  infer: (ctx) => {
    const x = inputType(ctx, 0);
    const a = flattenCut(ctx.attrs.int('axis', 1), x.shape.length, (m) => ctx.error(m));
    return [{ dtype: x.dtype, shape: [dimProduct(x.shape.slice(0, a)), dimProduct(x.shape.slice(a))] }];
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const a = flattenCut(ctx.attrs.int('axis', 1), x.rank, (m) => ctx.error(m));
    return [x.reshape([sizeOf(x.shape.slice(0, a)), sizeOf(x.shape.slice(a))])];
  },
  cost: movementCost,
  example: '%y : f32[2, 12] = Flatten(%x) {axis = 1}',
}));
