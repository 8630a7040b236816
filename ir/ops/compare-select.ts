// Comparing and selecting: Equal, Greater, Less, Where, Max, Min, Clip.

import type { DType } from '../dtype.js';
import { registerOp, type CanonicalizeContext, type InferContext } from '../registry.js';
import { Tensor } from '../tensor.js';
import type { Dim } from '../types.js';
import {
  binaryKernel, broadcastInfer, broadcastMany, broadcastShapes, broadcastTo, elementwiseCost, inputType, need, op, type Binary,
} from './support.js';

// numpy's maximum/minimum: a NaN on either side wins (a plain a > b ? a : b
// would keep or drop it depending on the order of the operands).
const maxNaN: Binary = (a, b) => (a >= b || a !== a ? a : b);
const minNaN: Binary = (a, b) => (a <= b || a !== a ? a : b);

/** Broadcasts two symbolic 1-D values (length 1 stretches), or undefined. */
function pairwise(a: Dim[] | undefined, b: Dim[] | undefined): [Dim, Dim][] | undefined {
  if (!a || !b || (a.length !== b.length && a.length !== 1 && b.length !== 1)) return undefined;
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => [a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!]);
}

/**
 * Equal over symbolic shape values: exporters compare a shape with -1 before
 * an Expand. A size (symbol) never equals a negative number and always equals
 * itself; anything else is unknown.
 */
function symbolicEqual(ctx: InferContext): (Dim[] | undefined)[] {
  const pairs = pairwise(ctx.symbolicInput(0), ctx.symbolicInput(1));
  if (!pairs) return [undefined];
  const out: Dim[] = [];
  for (const [a, b] of pairs) {
    if (a === b) out.push(1);
    else if (typeof a === 'number' && typeof b === 'number') out.push(0);
    else if ((typeof a === 'number' && a < 0) || (typeof b === 'number' && b < 0)) out.push(0);
    else return [undefined];
  }
  return [out];
}

/** A broadcasting comparison with a bool result (NaN compares false). */
function comparison(type: string, summary: string, f: Binary, opsets: [number, number], symbolic?: (ctx: InferContext) => (Dim[] | undefined)[]) {
  registerOp(op({
    type,
    summary,
    opsets,
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: {},
    infer: (ctx) => broadcastInfer(ctx, 'bool'),
    symbolic,
    run: (ctx, inputs) => [binaryKernel(need(ctx, inputs, 0), need(ctx, inputs, 1), 'bool', (a, b) => (f(a, b) ? 1 : 0))],
    cost: elementwiseCost(1),
    example: `%m : bool[2, 3] = ${type}(%a, %b)`,
  }));
}

comparison('Equal', 'a == b elementwise, broadcasting; bool result (NaN equals nothing)', (a, b) => (a === b ? 1 : 0), [7, 23], symbolicEqual);
comparison('Greater', 'a > b elementwise, broadcasting; bool result', (a, b) => (a > b ? 1 : 0), [7, 23]);
comparison('Less', 'a < b elementwise, broadcasting; bool result', (a, b) => (a < b ? 1 : 0), [7, 23]);

registerOp(op({
  type: 'Where',
  summary: 'condition ? x : y elementwise, broadcasting all three',
  opsets: [9, 23],
  inputs: [3, 3],
  outputs: [1, 1],
  attrs: {},
  infer: (ctx) => {
    const c = inputType(ctx, 0);
    const x = inputType(ctx, 1);
    const y = inputType(ctx, 2);
    if (c.dtype !== 'bool') ctx.error(`condition must be bool, got ${c.dtype}`);
    if (x.dtype !== y.dtype) ctx.error(`x and y have different element types (${x.dtype} and ${y.dtype})`);
    return [{ dtype: x.dtype, shape: broadcastMany([c.shape, x.shape, y.shape], ctx) }];
  },
  // With a known condition, pick symbolic elements (the exporter's Expand-shape idiom).
  symbolic: (ctx) => {
    const c = ctx.symbolicInput(0);
    const pairs = pairwise(ctx.symbolicInput(1), ctx.symbolicInput(2));
    if (!c || !pairs || !c.every((d) => typeof d === 'number')) return [undefined];
    if (c.length !== pairs.length && c.length !== 1) return [undefined];
    return [pairs.map(([x, y], i) => (c[c.length === 1 ? 0 : i] ? x : y))];
  },
  run: (ctx, inputs) => {
    const c = need(ctx, inputs, 0);
    const x = need(ctx, inputs, 1);
    const y = need(ctx, inputs, 2);
    const shape = broadcastShapes(broadcastShapes(c.shape, x.shape), y.shape) as number[];
    // Materializing the broadcast keeps this simple; the common case (same
    // shapes) costs nothing, and a broadcast scalar is at most one output's worth.
    const cd = broadcastTo(c, shape).data;
    const xd = broadcastTo(x, shape).data;
    const yd = broadcastTo(y, shape).data;
    const out = new Tensor(x.dtype, shape);
    const od = out.data;
    for (let i = 0; i < od.length; i++) od[i] = cd[i] ? xd[i]! : yd[i]!;
    return [out];
  },
  cost: elementwiseCost(1),
  example: '%y : f32[2, 3] = Where(%mask, %x, %neg_inf)',
}));

/**
 * Symbolic elements of Max/Min over shape vectors: known where every operand
 * is a number (or all are the same symbol), else the whole result is unknown.
 */
function foldSymbolic(ctx: InferContext, f: Binary): (Dim[] | undefined)[] {
  const vals = ctx.inputs.map((_, i) => ctx.symbolicInput(i));
  if (vals.some((v) => !v)) return [undefined];
  const lens = vals.map((v) => v!.length);
  const n = Math.max(...lens);
  if (lens.some((l) => l !== 1 && l !== n)) return [undefined];
  const out: Dim[] = [];
  for (let k = 0; k < n; k++) {
    const col = vals.map((v) => v![v!.length === 1 ? 0 : k]!);
    if (col.every((d) => d === col[0])) out.push(col[0]!);
    else if (col.every((d): d is number => typeof d === 'number')) out.push(col.reduce(f));
    else return [undefined];
  }
  return [out];
}

function maxMin(type: 'Max' | 'Min', f: Binary): void {
  registerOp(op({
    type,
    summary: `elementwise ${type.toLowerCase()} of one or more tensors, broadcasting (NaN propagates)`,
    opsets: [6, 23],
    inputs: [1, Infinity],
    outputs: [1, 1],
    attrs: {},
    infer: (ctx) => broadcastInfer(ctx),
    symbolic: (ctx) => foldSymbolic(ctx, f),
    run: (ctx, inputs) => {
      const ts = inputs.map((_, i) => need(ctx, inputs, i));
      return [ts.slice(1).reduce((acc, t) => binaryKernel(acc, t, acc.dtype, f), ts[0]!)];
    },
    // One comparison per output element for each input after the first.
    cost: (ctx) => elementwiseCost(ctx.inputs.length - 1)(ctx),
    example: `%y : f32[2, 3] = ${type}(%a, %b, %c)`,
  }));
}

maxMin('Max', maxNaN);
maxMin('Min', minNaN);

// ---- Clip -----------------------------------------------------------------

/**
 * Opsets 6-10 give min and max as float attributes; the canonical form
 * (opset 11+) takes them as optional scalar inputs. An absent bound means
 * the type's lowest/highest, which clips nothing: +-Infinity does the same
 * for every dtype.
 */
function clipCanonicalize(ctx: CanonicalizeContext): void {
  const o = ctx.op;
  if (!o.attrs.has('min') && !o.attrs.has('max')) return;
  if (o.inputs.length > 1) ctx.error('Clip has both min/max attributes and min/max inputs');
  const dtype: DType = o.inputs[0]?.type?.dtype ?? 'f32';
  const bound = (name: 'min' | 'max') => {
    const a = o.attrs.get(name);
    if (!a) return null;
    if (a.kind !== 'float' && a.kind !== 'int') ctx.error(`attribute ${name} should be float, got ${a.kind}`);
    o.attrs.delete(name);
    return ctx.constant(name, Tensor.scalar(dtype, a.value as number));
  };
  const lo = bound('min');
  const hi = bound('max');
  o.inputs = [o.inputs[0] ?? null, lo, hi];
}

/** A Clip bound: an optional one-element input, else an old-style attribute, else unbounded. */
function clipBound(t: Tensor | null | undefined, attr: number | undefined, unbounded: number, err: (m: string) => never): number {
  if (t) {
    if (t.size !== 1) err(`min and max must be scalars, got ${t.size} elements`);
    return t.at(0);
  }
  return attr ?? unbounded;
}

registerOp(op({
  type: 'Clip',
  summary: 'min(max(x, min), max) with optional scalar bounds',
  opsets: [6, 23],
  inputs: [1, 3],
  outputs: [1, 1],
  // Opsets 6-10 only; moved to inputs at import.
  attrs: { min: { kind: 'float' }, max: { kind: 'float' } },
  canonicalize: clipCanonicalize,
  infer: (ctx) => {
    const x = inputType(ctx, 0);
    for (const i of [1, 2]) {
      const b = ctx.inputs[i];
      if (!b) continue;
      // Bounds made from opset-6 attributes are f32 whatever x is, so only check the input form.
      if (ctx.opset >= 11 && b.dtype !== x.dtype) ctx.error(`bound ${i} is ${b.dtype}, x is ${x.dtype}`);
      if (b.shape.length > 1 || b.shape.some((d) => typeof d === 'number' && d !== 1)) ctx.error(`bound ${i} must be a scalar, got shape [${b.shape.join(', ')}]`);
    }
    return [x];
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const err = (m: string) => ctx.error(m);
    const lo = clipBound(inputs[1], ctx.attrs.optFloat('min'), -Infinity, err);
    const hi = clipBound(inputs[2], ctx.attrs.optFloat('max'), Infinity, err);
    const out = new Tensor(x.dtype, x.shape);
    const od = out.data, xd = x.data;
    for (let i = 0; i < od.length; i++) od[i] = minNaN(maxNaN(xd[i]!, lo), hi);
    return [out];
  },
  cost: elementwiseCost(2),
  example: '%y : f32[2, 3] = Clip(%x, %lo, %hi)',
}));
