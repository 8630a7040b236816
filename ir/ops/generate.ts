// Tensors made from sizes: ConstantOfShape, Range, Trilu (the causal masks and
// position ids of exported transformers come from these).

import { dimDivExact, dimSub } from '../dimexpr.js';
import { isInteger } from '../dtype.js';
import { registerOp, type Attrs, type InferContext } from '../registry.js';
import { Tensor } from '../tensor.js';
import type { Dim } from '../types.js';
import { elementwiseCost, inputType, movementCost, need, op } from './support.js';

/** Symbolic values are only kept for small vectors (as in shape inference). */
const SYMBOLIC_MAX = 64;

// ---- ConstantOfShape ---------------------------------------------------------

/** The fill value: a one-element tensor, f32 0 when absent. */
function fillValue(attrs: Attrs): Tensor {
  const v = attrs.tensor('value');
  if (!v) return Tensor.vector('f32', [0]);
  if (v.size !== 1) attrs.error(`value must hold exactly one element, got ${v.size}`);
  return v;
}

/** The output shape, as far as inference can see it. */
function constantOfShapeDims(ctx: InferContext): Dim[] {
  const s = inputType(ctx, 0);
  if (s.dtype !== 'i64') ctx.error(`shape input must be i64, got ${s.dtype}`);
  if (s.shape.length !== 1) ctx.error(`shape input must be 1-D, got rank ${s.shape.length}`);
  const dims: Dim[] | undefined = ctx.constInput(0)?.toArray() ?? ctx.symbolicInput(0);
  if (dims) {
    for (const d of dims) if (typeof d === 'number' && (d < 0 || !Number.isInteger(d))) ctx.error(`shape element ${d} is invalid`);
    return dims;
  }
  const rank = s.shape[0]!;
  if (typeof rank !== 'number') ctx.error('shape input has unknown length, so the output rank is unknown');
  return Array.from({ length: rank }, () => ctx.unknownDim());
}

registerOp(op({
  type: 'ConstantOfShape',
  summary: 'a tensor of the given shape filled with one value (default f32 0)',
  opsets: [9, 23],
  inputs: [1, 1],
  outputs: [1, 1],
  attrs: { value: { kind: 'tensor' } },
  infer: (ctx) => [{ dtype: fillValue(ctx.attrs).dtype, shape: constantOfShapeDims(ctx) }],
  // A small integer vector of known length (exporters build "ones like shape" this way).
  symbolic: (ctx) => {
    const v = fillValue(ctx.attrs);
    const dims: Dim[] | undefined = ctx.constInput(0)?.toArray() ?? ctx.symbolicInput(0);
    if (!dims || !isInteger(v.dtype) || dims.length > 1) return [undefined];
    const n = dims.length === 0 ? 1 : dims[0]!;
    return [typeof n === 'number' && n >= 0 && n <= SYMBOLIC_MAX ? new Array<Dim>(n).fill(v.at(0)) : undefined];
  },
  run: (ctx, inputs) => {
    const shape = need(ctx, inputs, 0).toArray();
    for (const d of shape) if (d < 0 || !Number.isInteger(d)) ctx.error(`shape element ${d} is invalid`);
    const v = fillValue(ctx.attrs);
    const out = new Tensor(v.dtype, shape);
    out.data.fill(v.at(0));
    return [out];
  },
  cost: movementCost,
  example: '%y : f32[2, 3] = ConstantOfShape(%shape) {value = tensor f32[1] dense [1.0]}',
}));

// ---- Range -------------------------------------------------------------------

function rangeLength(start: number, limit: number, delta: number): number {
  return Math.max(Math.ceil((limit - start) / delta), 0);
}

/** A scalar input's value as a dim: constant, or symbolic (e.g. a sequence length). */
function scalarDim(ctx: InferContext, i: number): Dim | undefined {
  const c = ctx.constInput(i);
  if (c) return c.size === 1 ? c.at(0) : undefined;
  const s = ctx.symbolicInput(i);
  return s?.length === 1 ? s[0] : undefined;
}

/**
 * The length of Range(start, limit, delta) as a dim, when it can be said:
 * numbers give max(ceil((limit - start) / delta), 0); with symbols and a
 * numeric delta the span (limit - start) is taken as a non-negative size,
 * so Range(0, seq, 1) has length seq and Range(past, past + seq, 1) has seq.
 * A dim expression has no ceiling, so a symbolic span must divide exactly.
 */
export function rangeLengthDim(start: Dim, limit: Dim, delta: Dim): Dim | undefined {
  if (typeof start === 'number' && typeof limit === 'number' && typeof delta === 'number') {
    return delta === 0 ? undefined : rangeLength(start, limit, delta);
  }
  if (typeof delta !== 'number' || delta === 0 || !Number.isInteger(delta)) return undefined;
  const span = delta > 0 ? dimSub(limit, start) : dimSub(start, limit);
  const step = Math.abs(delta);
  if (typeof span === 'number') return Math.max(Math.ceil(span / step), 0);
  return dimDivExact(span, step);
}

/** Checks the inputs; their values as dims when all three are known. */
function rangeInputs(ctx: InferContext): [Dim, Dim, Dim] | undefined {
  const ts = [0, 1, 2].map((i) => inputType(ctx, i));
  const dtype = ts[0]!.dtype;
  ts.forEach((t, i) => {
    if (t.dtype !== dtype) ctx.error(`start, limit and delta must have one element type, input ${i} is ${t.dtype} and start is ${dtype}`);
    if (t.shape.length > 1 || (t.shape.length === 1 && t.shape[0] !== 1)) ctx.error(`input ${i} must be a scalar, got shape [${t.shape.join(', ')}]`);
  });
  const dims = [0, 1, 2].map((i) => scalarDim(ctx, i));
  if (dims[2] === 0) ctx.error('delta is 0');
  return dims.every((d) => d !== undefined) ? (dims as [Dim, Dim, Dim]) : undefined;
}

registerOp(op({
  type: 'Range',
  summary: 'start, start + delta, ... up to (not including) limit; max(ceil((limit - start) / delta), 0) elements',
  opsets: [11, 23],
  inputs: [3, 3],
  outputs: [1, 1],
  attrs: {},
  infer: (ctx) => {
    const v = rangeInputs(ctx);
    const length = (v && rangeLengthDim(...v)) ?? ctx.unknownDim();
    return [{ dtype: inputType(ctx, 0).dtype, shape: [length] }];
  },
  // Known elements when everything is a number (a short static position-id vector, say).
  symbolic: (ctx) => {
    const v = rangeInputs(ctx);
    if (!v) return [undefined];
    const [s, l, d] = v;
    if (typeof s !== 'number' || typeof l !== 'number' || typeof d !== 'number') return [undefined];
    const n = rangeLength(s, l, d);
    return [n <= SYMBOLIC_MAX ? Array.from({ length: n }, (_, i) => s + i * d) : undefined];
  },
  run: (ctx, inputs) => {
    const [start, limit, delta] = [0, 1, 2].map((i) => {
      const t = need(ctx, inputs, i);
      if (t.size !== 1) ctx.error(`input ${i} must be a scalar, got ${t.size} elements`);
      return t;
    }) as [Tensor, Tensor, Tensor];
    const s = start.at(0), d = delta.at(0);
    if (d === 0) ctx.error('delta is 0');
    const n = rangeLength(s, limit.at(0), d);
    if (!Number.isSafeInteger(n)) ctx.error(`range has ${n} elements`);
    // output[i] = start + i * delta, computed in doubles and rounded once on store
    return [Tensor.from(start.dtype, [n], Array.from({ length: n }, (_, i) => s + i * d))];
  },
  cost: elementwiseCost(1),
  example: '%pos : i64[seq] = Range(%zero, %seq, %one)',
}));

// ---- Trilu -------------------------------------------------------------------

registerOp(op({
  type: 'Trilu',
  summary: 'keeps the upper (or lower) triangle of the last two dims, from diagonal k; zeros elsewhere',
  opsets: [14, 23],
  inputs: [1, 2],
  outputs: [1, 1],
  attrs: { upper: { kind: 'int', default: 1 } },
  infer: (ctx) => {
    const x = inputType(ctx, 0);
    if (x.shape.length < 2) ctx.error(`input must have rank 2 or more, got ${x.shape.length}`);
    const k = ctx.inputs[1];
    if (k && (k.dtype !== 'i64' || k.shape.length > 1)) ctx.error(`k must be an i64 scalar, got ${k.dtype}[${k.shape.join(', ')}]`);
    return [x];
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    if (x.rank < 2) ctx.error(`input must have rank 2 or more, got ${x.rank}`);
    const k = inputs[1] ? inputs[1].at(0) : 0;
    const upper = ctx.attrs.int('upper', 1) !== 0;
    const rows = x.shape[x.rank - 2]!, cols = x.shape[x.rank - 1]!;
    const out = new Tensor(x.dtype, x.shape); // zeros
    const od = out.data, xd = x.data;
    for (let base = 0; base < od.length; base += rows * cols) {
      for (let i = 0; i < rows; i++) {
        // upper keeps j - i >= k, lower keeps j - i <= k
        const from = upper ? Math.max(i + k, 0) : 0;
        const to = upper ? cols : Math.min(i + k + 1, cols);
        for (let j = from; j < to; j++) od[base + i * cols + j] = xd[base + i * cols + j]!;
      }
    }
    return [out];
  },
  cost: movementCost,
  example: '%mask : f32[seq, seq] = Trilu(%ones, %k) {upper = 0}',
}));
