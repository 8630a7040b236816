// ReduceMean, ReduceSum, ReduceMax. The canonical form takes `axes` as an
// optional second input (ReduceSum from opset 13, the others from 18); older
// nodes carry an `axes` attribute, which canonicalize() turns into a constant
// input so the rest of the compiler sees one form. No axes reduces every dim,
// unless noop_with_empty_axes is set, which makes the op an identity.

import { normalizeInPlace } from '../dtype.js';
import { registerOp, type CanonicalizeContext, type InferContext, type RunContext } from '../registry.js';
import { Tensor, sizeOf, stridesOf } from '../tensor.js';
import type { Dim } from '../types.js';
import { inputType, intsOf, ioBytes, need, normAxis, op } from './support.js';

type Kind = 'sum' | 'mean' | 'max';

/** Moves an `axes` attribute (older opsets) to the second input. */
function canonicalizeAxes(ctx: CanonicalizeContext): void {
  const a = ctx.op.attrs.get('axes');
  if (!a) return;
  if (a.kind !== 'ints') ctx.error('attribute "axes" should be ints');
  if (ctx.op.inputs[1]) ctx.error('axes given both as an attribute and as an input');
  ctx.op.attrs.delete('axes');
  ctx.op.inputs[1] = ctx.constant('axes', Tensor.vector('i64', a.value));
}

/** The reduced axes, normalized and sorted: none given means every axis, or 'noop' (identity) with noop_with_empty_axes. */
function resolveAxes(axes: readonly number[] | undefined, rank: number, noop: boolean, err: (m: string) => never): number[] | 'noop' {
  if (!axes || axes.length === 0) return noop ? 'noop' : Array.from({ length: rank }, (_, i) => i);
  return [...new Set(axes.map((a) => normAxis(a, rank, err)))].sort((x, y) => x - y);
}

function inferReduce(ctx: InferContext): Dim[] {
  const x = inputType(ctx, 0);
  const keep = ctx.attrs.int('keepdims', 1) !== 0;
  const noop = ctx.attrs.int('noop_with_empty_axes', 0) !== 0;
  const err = (m: string) => ctx.error(m);
  const axesType = ctx.inputs[1];
  // Axes from a constant, or from a shape subgraph whose elements are all known numbers.
  const c = ctx.constInput(1);
  const sym = ctx.symbolicInput(1);
  const known = sym?.every((d): d is number => typeof d === 'number') ? sym as number[] : undefined;
  const given = c ? c.toArray() : known ?? (axesType ? undefined : []);
  if (given !== undefined) {
    const axes = resolveAxes(given, x.shape.length, noop, err);
    if (axes === 'noop') return [...x.shape];
    return keep ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  }
  // Axes known only at run time. An empty axes input still decides everything;
  // otherwise each dim is kept or becomes 1, and without keepdims only the rank
  // can be told, from the length of the axes input.
  const n = axesType!.shape[0];
  if (n === 0) return noop ? [...x.shape] : keep ? x.shape.map(() => 1) : [];
  if (keep) return x.shape.map(() => ctx.unknownDim());
  if (typeof n !== 'number') ctx.error('the rank of the result depends on an axes input of unknown length');
  return Array.from({ length: x.shape.length - n }, () => ctx.unknownDim());
}

function runReduce(ctx: RunContext, inputs: readonly (Tensor | null)[], kind: Kind): Tensor[] {
  const x = need(ctx, inputs, 0);
  const keep = ctx.attrs.int('keepdims', 1) !== 0;
  const noop = ctx.attrs.int('noop_with_empty_axes', 0) !== 0;
  const axes = resolveAxes(intsOf(inputs[1]), x.rank, noop, (m) => ctx.error(m));
  if (axes === 'noop') return [x];
  const reduced = x.shape.map((_, i) => axes.includes(i));
  const keptShape = x.shape.map((d, i) => (reduced[i] ? 1 : d));
  const outShape = keep ? keptShape : x.shape.filter((_, i) => !reduced[i]);
  const outSize = sizeOf(keptShape);
  const acc = new Float64Array(outSize).fill(kind === 'max' ? -Infinity : 0);
  // Output strides laid over the input's dims: 0 along reduced axes.
  const os = stridesOf(keptShape).map((s, i) => (reduced[i] ? 0 : s));
  const xd = x.data;
  const rank = x.rank;
  const idx = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const lastDim = rank ? x.shape[last]! : 1;
  const lastStride = rank ? os[last]! : 0;
  let o = 0;
  for (let i = 0; i < xd.length; ) {
    // Innermost dim in a tight loop, then carry into the outer dims.
    if (kind === 'max') {
      for (let j = 0; j < lastDim; j++, i++) {
        const v = xd[i]!, t = o + j * lastStride;
        if (v > acc[t]! || Number.isNaN(v)) acc[t] = v; // NaN wins, as in numpy
      }
    } else {
      for (let j = 0; j < lastDim; j++, i++) acc[o + j * lastStride] += xd[i]!;
    }
    for (let d = last - 1; d >= 0; d--) {
      o += os[d]!;
      if (++idx[d]! < x.shape[d]!) break;
      o -= os[d]! * x.shape[d]!;
      idx[d] = 0;
    }
  }
  if (kind === 'mean') {
    const n = x.size / Math.max(outSize, 1);
    for (let i = 0; i < outSize; i++) acc[i] = acc[i]! / n;
  }
  const out = new Tensor(x.dtype, outShape);
  out.data.set(acc);
  normalizeInPlace(out.dtype, out.data);
  return [out];
}

function reduceOp(type: string, kind: Kind, summary: string, axesInputFrom: number) {
  registerOp(op({
    type,
    summary,
    opsets: [1, 23],
    inputs: [1, 2],
    outputs: [1, 1],
    attrs: {
      keepdims: { kind: 'int', default: 1 },
      noop_with_empty_axes: { kind: 'int', default: 0 },
      // Only before opset `axesInputFrom`; canonicalize() moves it to input 1.
      axes: { kind: 'ints' },
    },
    canonicalize: (ctx) => {
      if (ctx.opset < axesInputFrom) canonicalizeAxes(ctx);
      else if (ctx.op.attrs.has('axes')) ctx.error(`attribute "axes" is an input from opset ${axesInputFrom}`);
    },
    infer: (ctx) => [{ dtype: inputType(ctx, 0).dtype, shape: inferReduce(ctx) }],
    run: (ctx, inputs) => runReduce(ctx, inputs, kind),
    // One add or compare per input element (and a divide per output for the mean).
    cost: (ctx) => ({ flops: sizeOf(ctx.inputs[0]!.shape), bytes: ioBytes(ctx) }),
    example: `%y : f32[1, 16, 1] = ${type}(%x, %axes) {keepdims = 1}`,
  }));
}

reduceOp('ReduceSum', 'sum', 'sum over the given axes (all when none)', 13);
reduceOp('ReduceMean', 'mean', 'mean over the given axes (all when none)', 18);
reduceOp('ReduceMax', 'max', 'maximum over the given axes (all when none; integers too)', 18);
