// Concat and Split: joining tensors along an axis and cutting one apart.
// Concat is also how exporters build Reshape targets from Shape pieces, so its
// `symbolic` joins the inputs' symbolic values.

import { dimAdd, dimDivExact } from '../dimexpr.js';
import { registerOp, type CanonicalizeContext, type InferContext } from '../registry.js';
import { Tensor, sizeOf } from '../tensor.js';
import type { Dim, TensorType } from '../types.js';
import { inputType, movementCost, need, normAxis, op } from './support.js';
import { copyElements, knownDims } from './transpose.js';

// ---- Concat ----------------------------------------------------------------------

/** The axis attribute; opsets before 4 defaulted it to 1. */
function concatAxis(attrs: InferContext['attrs'], opset: number, err: (m: string) => never): number {
  const a = attrs.optInt('axis');
  if (a !== undefined) return a;
  if (opset < 4) return 1;
  return err('attribute "axis" is required');
}

/** Two dims that must be equal: a number beats a symbol (the symbol must equal it). */
function sameDim(a: Dim, b: Dim, what: string, err: (m: string) => never): Dim {
  if (a === b) return a;
  if (typeof a === 'number' && typeof b === 'number') err(`${what}: ${a} vs ${b}`);
  if (typeof b === 'number') return b;
  return a;
}

registerOp(op({
  type: 'Concat',
  summary: 'joins tensors along an axis (the other dims must agree)',
  opsets: [1, 23],
  inputs: [1, Infinity],
  outputs: [1, 1],
  attrs: { axis: { kind: 'int' } },
  infer: (ctx) => {
    const ts: TensorType[] = ctx.inputs.map((_, i) => inputType(ctx, i));
    const first = ts[0]!;
    const rank = first.shape.length;
    const err = (m: string) => ctx.error(m);
    if (rank === 0) ctx.error('cannot concatenate scalars');
    const axis = normAxis(concatAxis(ctx.attrs, ctx.opset, err), rank, err);
    const shape = [...first.shape];
    let total: Dim = 0;
    ts.forEach((t, i) => {
      if (t.dtype !== first.dtype) ctx.error(`input ${i} is ${t.dtype}, input 0 is ${first.dtype}`);
      if (t.shape.length !== rank) ctx.error(`input ${i} has rank ${t.shape.length}, input 0 has rank ${rank}`);
      t.shape.forEach((d, k) => {
        if (k !== axis) shape[k] = sameDim(shape[k]!, d, `input ${i} disagrees at axis ${k}`, err);
      });
      // symbolic sizes add up: past + 1 for a KV cache growing by one token
      total = dimAdd(total, t.shape[axis]!);
    });
    shape[axis] = total;
    return [{ dtype: first.dtype, shape }];
  },
  symbolic: (ctx) => {
    const parts: Dim[] = [];
    for (let i = 0; i < ctx.inputs.length; i++) {
      const s = ctx.symbolicInput(i);
      if (!s) return [undefined];
      parts.push(...s);
    }
    return [parts];
  },
  run: (ctx, inputs) => {
    const xs = inputs.map((_, i) => need(ctx, inputs, i));
    const first = xs[0]!;
    const err = (m: string) => ctx.error(m);
    if (first.rank === 0) ctx.error('cannot concatenate scalars');
    const axis = normAxis(concatAxis(ctx.attrs, ctx.opset, err), first.rank, err);
    const shape = [...first.shape];
    shape[axis] = 0;
    for (const [i, x] of xs.entries()) {
      if (x.dtype !== first.dtype || x.rank !== first.rank || x.shape.some((d, k) => k !== axis && d !== first.shape[k])) {
        ctx.error(`input ${i} (${x.dtype}[${x.shape.join(', ')}]) does not match input 0 (${first.dtype}[${first.shape.join(', ')}]) off axis ${axis}`);
      }
      shape[axis] += x.shape[axis]!;
    }
    const out = new Tensor(first.dtype, shape);
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis + 1));
    // each outer row of the output is the inputs' rows one after another
    let o = 0;
    for (let r = 0; r < outer; r++) {
      for (const x of xs) {
        const block = x.shape[axis]! * inner;
        copyElements(out, o, x, r * block, block);
        o += block;
      }
    }
    return [out];
  },
  cost: movementCost,
  example: '%y : f32[1, 4, 9, 64] = Concat(%past, %new) {axis = 2}',
}));

// ---- Split -----------------------------------------------------------------------

/**
 * Sizes of an equal split of `dim` into n parts. When it does not divide,
 * opset 18 makes every chunk ceil(dim / n) but the last, which is smaller.
 */
export function equalSplit(dim: Dim, n: number, opset: number, err: (m: string) => never, unknownDim?: () => string): Dim[] {
  if (n < 1) return err('Split needs at least one output');
  const even = dimDivExact(dim, n);
  if (even !== undefined) return new Array<Dim>(n).fill(even);
  if (typeof dim !== 'number') {
    if (!unknownDim) return err(`cannot split symbolic dim ${dim} into ${n} parts`);
    return Array.from({ length: n }, () => unknownDim());
  }
  if (opset < 18) err(`dim ${dim} does not split into ${n} equal parts`);
  const chunk = Math.ceil(dim / n);
  const last = dim - chunk * (n - 1);
  if (last < 0) err(`dim ${dim} cannot be split into ${n} chunks of ${chunk}`);
  return [...new Array<number>(n - 1).fill(chunk), last];
}

/** The `num_outputs` attribute (opset 18) must agree with the node's outputs. */
function outputCount(ctx: { op: InferContext['op']; attrs: InferContext['attrs'] }, err: (m: string) => never): number {
  const n = ctx.op.outputs.length;
  const given = ctx.attrs.optInt('num_outputs');
  if (given !== undefined && given !== n) err(`num_outputs is ${given} but the node has ${n} outputs`);
  return n;
}

/** Split sizes as inference knows them (undefined: a split input whose values are unknown). */
function inferSizes(ctx: InferContext, dim: Dim): Dim[] | undefined {
  const err = (m: string) => ctx.error(m);
  const n = outputCount(ctx, err);
  const legacy = ctx.attrs.ints('split');
  const sizes: Dim[] | undefined = ctx.inputs[1] ? knownDims(ctx, 1) : legacy ?? equalSplit(dim, n, ctx.opset, err, () => ctx.unknownDim());
  if (!sizes) return undefined;
  if (sizes.length !== n) ctx.error(`split has ${sizes.length} sizes for ${n} outputs`);
  if (typeof dim === 'number' && sizes.every((s): s is number => typeof s === 'number')) {
    const sum = sizes.reduce((a, b) => a + b, 0);
    if (sum !== dim || sizes.some((s) => s < 0)) ctx.error(`split sizes [${sizes.join(', ')}] do not add up to dim ${dim}`);
  }
  return sizes;
}

registerOp(op({
  type: 'Split',
  summary: 'cuts a tensor along an axis into parts of given (or equal) sizes',
  opsets: [1, 23],
  inputs: [1, 2],
  outputs: [1, Infinity],
  // `split` is the attribute form of opsets < 13; canonicalize turns it into input 1.
  attrs: { axis: { kind: 'int', default: 0 }, split: { kind: 'ints' }, num_outputs: { kind: 'int' } },
  canonicalize: (node: CanonicalizeContext) => {
    const a = node.op.attrs.get('split');
    if (!a) return;
    if (a.kind !== 'ints') node.error('attribute "split" should be ints');
    if (node.op.inputs[1]) node.error('split is given both as an attribute and as an input');
    node.op.inputs[1] = node.constant('split', Tensor.vector('i64', a.value));
    node.op.attrs.delete('split');
  },
  infer: (ctx) => {
    const x = inputType(ctx, 0);
    const axis = normAxis(ctx.attrs.int('axis', 0), x.shape.length, (m) => ctx.error(m));
    const dim = x.shape[axis]!;
    const sizes = inferSizes(ctx, dim);
    return ctx.op.outputs.map((_, i) => {
      const shape = [...x.shape];
      shape[axis] = sizes ? sizes[i]! : ctx.unknownDim();
      return { dtype: x.dtype, shape };
    });
  },
  symbolic: (ctx) => {
    const s = ctx.symbolicInput(0);
    const n = ctx.op.outputs.length;
    if (!s) return new Array(n).fill(undefined);
    const sizes = inferSizes(ctx, s.length);
    if (!sizes || !sizes.every((d): d is number => typeof d === 'number')) return new Array(n).fill(undefined);
    let at = 0;
    return sizes.map((k) => s.slice(at, (at += k)));
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const err = (m: string) => ctx.error(m);
    const axis = normAxis(ctx.attrs.int('axis', 0), x.rank, err);
    const dim = x.shape[axis]!;
    const n = outputCount(ctx, err);
    const sizes = (inputs[1]?.toArray() ?? ctx.attrs.ints('split') ?? equalSplit(dim, n, ctx.opset, err)) as number[];
    if (sizes.length !== n) ctx.error(`split has ${sizes.length} sizes for ${n} outputs`);
    if (sizes.some((s) => s < 0) || sizes.reduce((a, b) => a + b, 0) !== dim) {
      ctx.error(`split sizes [${sizes.join(', ')}] do not add up to dim ${dim}`);
    }
    const outer = sizeOf(x.shape.slice(0, axis));
    const inner = sizeOf(x.shape.slice(axis + 1));
    const row = dim * inner;
    let start = 0;
    return sizes.map((k) => {
      const shape = [...x.shape];
      shape[axis] = k;
      const out = new Tensor(x.dtype, shape);
      for (let r = 0; r < outer; r++) copyElements(out, r * k * inner, x, r * row + start * inner, k * inner);
      start += k;
      return out;
    });
  },
  cost: movementCost,
  example: '%q : f32[2, 768], %k : f32[2, 768], %v : f32[2, 768] = Split(%qkv) {axis = 1}',
}));
