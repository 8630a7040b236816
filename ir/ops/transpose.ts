// Transpose, plus what the movement ops (Concat, Split, Slice, Gather, Squeeze,
// Expand) share: the strided-copy kernel and readers for small integer inputs.
// These ops only move elements, so every kernel copies typed-array elements
// as stored: int64 (Float64Array), bool (Uint8Array) and floats alike.

import { registerOp, type InferContext } from '../registry.js';
import { Tensor, stridesOf } from '../tensor.js';
import type { Dim } from '../types.js';
import { inputType, movementCost, need, op } from './support.js';

// ---- shared by the movement ops ---------------------------------------------

/**
 * A new contiguous tensor of `outShape` holding src's elements at
 * base + sum(index[d] * strides[d]). Transpose (permuted strides), Slice
 * (stepped strides) and Expand (zero strides) are all this one loop.
 */
export function stridedCopy(src: Tensor, outShape: readonly number[], base: number, strides: readonly number[]): Tensor {
  const out = new Tensor(src.dtype, outShape);
  const n = out.size;
  if (n === 0) return out;
  const od = out.data, sd = src.data;
  const r = outShape.length;
  if (r === 0) {
    od[0] = sd[base]!;
    return out;
  }
  const last = r - 1;
  const lastDim = outShape[last]!;
  const ls = strides[last]!;
  const idx = new Array<number>(r).fill(0);
  let off = base;
  for (let o = 0; o < n; ) {
    // innermost run: a block copy when contiguous, else a strided loop
    if (ls === 1) {
      od.set(sd.subarray(off, off + lastDim), o);
      o += lastDim;
    } else {
      for (let k = 0, p = off; k < lastDim; k++, p += ls) od[o++] = sd[p]!;
    }
    // odometer over the outer dims, keeping `off` in step
    for (let d = last - 1; d >= 0; d--) {
      off += strides[d]!;
      if (++idx[d]! < outShape[d]!) break;
      off -= strides[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** Copies n elements between tensors of the same dtype (typed-array block copy). */
export function copyElements(dst: Tensor, dOff: number, src: Tensor, sOff: number, n: number): void {
  if (n > 0) dst.data.set(src.data.subarray(sOff, sOff + n), dOff);
}

/**
 * The elements of a small integer input when shape inference knows them:
 * from a constant, else from the symbolic values (Shape -> Gather -> Concat).
 */
export function knownDims(ctx: InferContext, i: number): Dim[] | undefined {
  if (!ctx.inputs[i]) return undefined;
  const c = ctx.constInput(i);
  return c ? c.toArray() : ctx.symbolicInput(i);
}

/** Like knownDims, but only when every element is a plain number (axes, steps, indices). */
export function knownInts(ctx: InferContext, i: number): number[] | undefined {
  const d = knownDims(ctx, i);
  return d && d.every((x): x is number => typeof x === 'number') ? d : undefined;
}

/** Normalizes a list of axes against a rank, rejecting duplicates. */
export function normAxes(axes: readonly number[], rank: number, err: (m: string) => never): number[] {
  const out = axes.map((a) => {
    const n = a < 0 ? a + rank : a;
    if (!Number.isInteger(n) || n < 0 || n >= rank) err(`axis ${a} is out of range for rank ${rank}`);
    return n;
  });
  if (new Set(out).size !== out.length) err(`axes [${axes.join(', ')}] repeat an axis`);
  return out;
}

// ---- Transpose -----------------------------------------------------------------

function permOf(given: readonly number[] | undefined, rank: number, err: (m: string) => never): number[] {
  if (!given) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (given.length !== rank) err(`perm [${given.join(', ')}] has ${given.length} entries for rank ${rank}`);
  const seen = new Set<number>();
  for (const p of given) {
    if (!Number.isInteger(p) || p < 0 || p >= rank || seen.has(p)) err(`perm [${given.join(', ')}] is not a permutation of 0..${rank - 1}`);
    seen.add(p);
  }
  return [...given];
}

registerOp(op({
  type: 'Transpose',
  summary: 'permutes the axes (default: reverses them)',
  opsets: [1, 23],
  inputs: [1, 1],
  outputs: [1, 1],
  attrs: { perm: { kind: 'ints' } },
  infer: (ctx) => {
    const x = inputType(ctx, 0);
    const perm = permOf(ctx.attrs.ints('perm'), x.shape.length, (m) => ctx.error(m));
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]!) }];
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const perm = permOf(ctx.attrs.ints('perm'), x.rank, (m) => ctx.error(m));
    const st = stridesOf(x.shape);
    return [stridedCopy(x, perm.map((p) => x.shape[p]!), 0, perm.map((p) => st[p]!))];
  },
  cost: movementCost,
  example: '%y : f32[3, 2] = Transpose(%x) {perm = [1, 0]}',
}));
