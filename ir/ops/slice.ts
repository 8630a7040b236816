// Slice: a strided window of a tensor, per the ONNX clamping rules
// (negative indices count from the end, out-of-range bounds clamp, negative
// steps walk backwards, INT64_MAX / INT64_MIN mean "to the end").

import { dimAdd, dimSub } from '../dimexpr.js';
import { registerOp, type InferContext } from '../registry.js';
import { Tensor, stridesOf } from '../tensor.js';
import type { Dim } from '../types.js';
import { inputType, movementCost, need, op } from './support.js';
import { knownDims, knownInts, normAxes, stridedCopy } from './transpose.js';

/**
 * Bounds at least this large are the INT64_MAX / INT64_MIN sentinels (stored as
 * +-9.223372036854776e18 doubles): no real dim comes close, so "to the end".
 */
const SENTINEL = 2 ** 62;

/** First index and element count of one axis, clamped exactly as the ONNX spec says. */
export function sliceAxis(dim: number, start: number, end: number, step: number): { start: number; count: number } {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = Math.min(Math.max(start, 0), dim);
    end = Math.min(Math.max(end, 0), dim);
    return { start, count: Math.max(0, Math.ceil((end - start) / step)) };
  }
  start = Math.min(Math.max(start, 0), dim - 1);
  end = Math.min(Math.max(end, -1), dim - 1);
  return { start, count: Math.max(0, Math.ceil((start - end) / -step)) };
}

/**
 * Size of a sliced axis when the dim or the bounds are symbolic.
 * - Constant bounds on a symbolic dim: only what holds for every size is
 *   exact (the whole axis, forwards or reversed); anything else clamps
 *   against a size we do not know, so it is a fresh unknown dim.
 * - Symbolic bounds (exporters compute them from shapes, e.g. [past, past + seq)):
 *   trusted to lie inside the axis, so the size is end - start.
 */
function slicedDim(dim: Dim, start: Dim, end: Dim, step: number, unknownDim: () => string): Dim {
  if (typeof dim === 'number' && typeof start === 'number' && typeof end === 'number') {
    return sliceAxis(dim, start, end, step).count;
  }
  if (typeof start === 'number' && typeof end === 'number') {
    const fromFirst = start === 0 || start <= -SENTINEL;
    const fromLast = start === -1 || start >= SENTINEL;
    if (step === 1 && fromFirst && end >= SENTINEL) return dim;
    if (step === -1 && fromLast && end <= -SENTINEL) return dim;
    return unknownDim();
  }
  if (step !== 1) return unknownDim();
  const bound = (v: Dim): Dim => {
    if (typeof v !== 'number') return v;
    if (v >= SENTINEL) return dim;
    if (v <= -SENTINEL) return 0;
    return v < 0 ? dimAdd(dim, v) : v;
  };
  const size = dimSub(bound(end), bound(start));
  return typeof size === 'number' ? Math.max(0, size) : size;
}

/** Input i, or the attribute that carried it before opset 10. */
function inferList(ctx: InferContext, i: number, legacy: string): Dim[] | undefined {
  return ctx.inputs[i] ? knownDims(ctx, i) : ctx.attrs.ints(legacy);
}

/** The output shape; dims the inputs do not pin down become unknown dims. */
function sliceInfer(ctx: InferContext): Dim[] {
  const x = inputType(ctx, 0);
  const rank = x.shape.length;
  const err = (m: string) => ctx.error(m);
  const starts = inferList(ctx, 1, 'starts');
  const ends = inferList(ctx, 2, 'ends');
  // default axes are 0..n-1, n being the length of starts (known even when its values are not)
  const count = (starts ?? ends)?.length ?? ctx.inputs[1]?.shape[0];
  const axes = ctx.inputs[3] ? knownInts(ctx, 3) : ctx.attrs.ints('axes') ?? (typeof count === 'number' ? Array.from({ length: count }, (_, i) => i) : undefined);
  const steps = ctx.inputs[4] ? knownInts(ctx, 4) : undefined;
  // without the axes we cannot tell which dims change
  if (!axes) return x.shape.map(() => ctx.unknownDim());
  const ax = normAxes(axes, rank, err);
  const n = ax.length;
  for (const [what, l] of [['starts', starts], ['ends', ends], ['steps', steps]] as const) {
    if (l && l.length !== n) ctx.error(`${what} has ${l.length} entries, axes has ${n}`);
  }
  const out = [...x.shape];
  ax.forEach((a, i) => {
    const step = steps ? steps[i]! : ctx.inputs[4] ? undefined : 1;
    if (step === 0) ctx.error('steps must not be 0');
    out[a] = starts && ends && step !== undefined ? slicedDim(x.shape[a]!, starts[i]!, ends[i]!, step, () => ctx.unknownDim()) : ctx.unknownDim();
  });
  return out;
}

registerOp(op({
  type: 'Slice',
  summary: 'a strided window: starts, ends, optional axes and steps (negative steps walk backwards)',
  opsets: [1, 23],
  inputs: [1, 5],
  outputs: [1, 1],
  // starts/ends/axes were attributes before opset 10; canonicalize makes them inputs.
  attrs: { starts: { kind: 'ints' }, ends: { kind: 'ints' }, axes: { kind: 'ints' } },
  canonicalize: (node) => {
    const { op: o } = node;
    if (!o.attrs.has('starts') && !o.attrs.has('ends')) return;
    const list = (name: string): number[] | undefined => {
      const a = o.attrs.get(name);
      if (a && a.kind !== 'ints') node.error(`attribute ${name} should be ints`);
      o.attrs.delete(name);
      return a?.value as number[] | undefined;
    };
    const starts = list('starts'), ends = list('ends'), axes = list('axes');
    if (!starts || !ends) return node.error('Slice needs both starts and ends');
    if (o.inputs.length > 1) node.error('Slice has both attribute and input bounds');
    const c = (name: string, v: number[]) => node.constant(name, Tensor.vector('i64', v));
    o.inputs = [o.inputs[0]!, c('starts', starts), c('ends', ends), ...(axes ? [c('axes', axes)] : [])];
  },
  infer: (ctx) => [{ dtype: inputType(ctx, 0).dtype, shape: sliceInfer(ctx) }],
  // slicing a known symbolic vector (e.g. Shape(x)[1:3]) gives those elements
  symbolic: (ctx) => {
    const s = ctx.symbolicInput(0);
    const starts = knownInts(ctx, 1), ends = knownInts(ctx, 2);
    const axes = ctx.inputs[3] ? knownInts(ctx, 3) : [0];
    const steps = ctx.inputs[4] ? knownInts(ctx, 4) : [1];
    if (!s || !starts || !ends || !axes || !steps || starts.length !== 1 || ends.length !== 1) return [undefined];
    if (axes.length !== 1 || (axes[0] !== 0 && axes[0] !== -1) || steps.length !== 1 || steps[0] === 0) return [undefined];
    const { start, count } = sliceAxis(s.length, starts[0]!, ends[0]!, steps[0]!);
    return [Array.from({ length: count }, (_, k) => s[start + k * steps[0]!]!)];
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const starts = inputs[1]?.toArray() ?? ctx.attrs.ints('starts') ?? ctx.error('starts are required');
    const ends = inputs[2]?.toArray() ?? ctx.attrs.ints('ends') ?? ctx.error('ends are required');
    const axes = inputs[3]?.toArray() ?? ctx.attrs.ints('axes') ?? starts.map((_, i) => i);
    const steps = inputs[4]?.toArray() ?? starts.map(() => 1);
    const n = axes.length;
    if (starts.length !== n || ends.length !== n || steps.length !== n) {
      ctx.error(`starts (${starts.length}), ends (${ends.length}), axes (${n}) and steps (${steps.length}) differ in length`);
    }
    const ax = normAxes(axes, x.rank, (m) => ctx.error(m));
    const st = stridesOf(x.shape);
    const shape = [...x.shape];
    const strides = [...st];
    let base = 0;
    ax.forEach((a, i) => {
      const step = steps[i]!;
      if (step === 0) ctx.error('steps must not be 0');
      const { start, count } = sliceAxis(x.shape[a]!, starts[i]!, ends[i]!, step);
      shape[a] = count;
      base += start * st[a]!;
      strides[a] = st[a]! * step;
    });
    return [stridedCopy(x, shape, base, strides)];
  },
  cost: movementCost,
  example: '%y : f32[1, 1, 768] = Slice(%x, %starts, %ends, %axes)',
}));
