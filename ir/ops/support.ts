// Building blocks shared by op definitions: broadcasting, axes, elementwise
// kernels and the usual cost formulas. Ops stay one entry each; what they
// share lives here.

import { fail, q } from '../diagnostics.js';
import { bytesPerElement, normalizeInPlace, type DType } from '../dtype.js';
import type { CostContext, CostTensor, InferContext, OpCost, OpDef, RunContext } from '../registry.js';
import { Tensor, sizeOf, stridesOf } from '../tensor.js';
import type { Dim, TensorType } from '../types.js';

// ---- shapes --------------------------------------------------------------

/** Numpy-style broadcast of two shapes (symbolic dims allowed). */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[], ctx?: { unknownDim(): string; error(m: string): never }): Dim[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<Dim>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)]!;
    const db = i < n - b.length ? 1 : b[i - (n - b.length)]!;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else if (typeof da === 'number' && typeof db === 'number') {
      const msg = `shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`;
      if (ctx) ctx.error(msg);
      throw new Error(msg);
    } else if (typeof da === 'number') out[i] = da; // a symbol meeting a size > 1 must equal it
    else if (typeof db === 'number') out[i] = db;
    else out[i] = ctx ? ctx.unknownDim() : da;
  }
  return out;
}

export function broadcastMany(shapes: readonly (readonly Dim[])[], ctx?: { unknownDim(): string; error(m: string): never }): Dim[] {
  return shapes.reduce<Dim[]>((acc, s) => broadcastShapes(acc, s, ctx), []);
}

/** Normalizes a possibly negative axis against a rank, or reports it. */
export function normAxis(axis: number, rank: number, err: (m: string) => never): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank || !Number.isInteger(a)) err(`axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Element strides of `shape` broadcast into `outShape` (0 where broadcast). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const st = stridesOf(shape);
  const off = outShape.length - shape.length;
  return outShape.map((d, i) => (i < off || shape[i - off] === 1 ? 0 : st[i - off]!));
}

/** Iterates an output shape, calling f(outIndex, offsetA, offsetB). */
function forEachBroadcast2(outShape: readonly number[], sa: number[], sb: number[], f: (o: number, a: number, b: number) => void): void {
  const n = sizeOf(outShape);
  const r = outShape.length;
  if (r === 0) { if (n) f(0, 0, 0); return; }
  const idx = new Array<number>(r).fill(0);
  let a = 0, b = 0;
  const last = r - 1;
  const lastDim = outShape[last]!;
  const la = sa[last]!, lb = sb[last]!;
  for (let o = 0; o < n; ) {
    for (let k = 0; k < lastDim; k++, o++) f(o, a + k * la, b + k * lb);
    // advance the outer index
    for (let d = last - 1; d >= 0; d--) {
      idx[d]!++;
      a += sa[d]!;
      b += sb[d]!;
      if (idx[d]! < outShape[d]!) break;
      a -= sa[d]! * outShape[d]!;
      b -= sb[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
}

// ---- elementwise kernels ---------------------------------------------------

export type Binary = (a: number, b: number) => number;
export type Unary = (a: number) => number;

/** out[i] = f(a[i'], b[i'']) with broadcasting; output dtype given. */
export function binaryKernel(a: Tensor, b: Tensor, outDtype: DType, f: Binary): Tensor {
  const outShape = broadcastShapes(a.shape, b.shape) as number[];
  const out = new Tensor(outDtype, outShape);
  const od = out.data, ad = a.data, bd = b.data;
  if (a.size === out.size && b.size === out.size) {
    for (let i = 0; i < od.length; i++) od[i] = f(ad[i]!, bd[i]!);
  } else if (b.size === 1 && a.size === out.size) {
    const bv = bd[0]!;
    for (let i = 0; i < od.length; i++) od[i] = f(ad[i]!, bv);
  } else if (a.size === 1 && b.size === out.size) {
    const av = ad[0]!;
    for (let i = 0; i < od.length; i++) od[i] = f(av, bd[i]!);
  } else {
    const sa = broadcastStrides(a.shape, outShape);
    const sb = broadcastStrides(b.shape, outShape);
    forEachBroadcast2(outShape, sa, sb, (o, ia, ib) => { od[o] = f(ad[ia]!, bd[ib]!); });
  }
  normalizeInPlace(outDtype, od);
  return out;
}

export function unaryKernel(x: Tensor, outDtype: DType, f: Unary): Tensor {
  const out = new Tensor(outDtype, x.shape);
  const od = out.data, xd = x.data;
  for (let i = 0; i < od.length; i++) od[i] = f(xd[i]!);
  normalizeInPlace(outDtype, od);
  return out;
}

/** Broadcasts x to a shape (materialized; x itself when nothing changes). */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  return expandTo(x, shape);
}

function expandTo(x: Tensor, shape: readonly number[]): Tensor {
  const out = new Tensor(x.dtype, shape);
  const sx = broadcastStrides(x.shape, shape);
  const od = out.data, xd = x.data;
  forEachBroadcast2(shape, sx, sx, (o, ix) => { od[o] = xd[ix]!; });
  return out;
}

// ---- reading constant inputs ----------------------------------------------

/** A required input tensor in run(); reports the op if it is missing. */
export function need(ctx: RunContext, inputs: readonly (Tensor | null)[], i: number): Tensor {
  const t = inputs[i];
  if (!t) ctx.error(`input ${i} is required`);
  return t;
}

/** The elements of an optional small integer input (axes, shape, pads), as numbers. */
export function intsOf(t: Tensor | null | undefined): number[] | undefined {
  return t ? t.toArray() : undefined;
}

// ---- inference helpers -----------------------------------------------------

export function inputType(ctx: InferContext, i: number): TensorType {
  const t = ctx.inputs[i];
  if (!t) ctx.error(`input ${i} is required`);
  return t;
}

/** Inference for ops whose output has the input's type. */
export function sameAsInput(ctx: InferContext): TensorType[] {
  return [inputType(ctx, 0)];
}

/** Inference for broadcasting binary ops; `dtype` overrides the output dtype. */
export function broadcastInfer(ctx: InferContext, dtype?: DType): TensorType[] {
  const ts = ctx.inputs.filter((t): t is TensorType => !!t);
  const d0 = ts[0]!.dtype;
  for (const t of ts) {
    if (t.dtype !== d0) ctx.error(`inputs have different element types (${d0} and ${t.dtype})`);
  }
  return [{ dtype: dtype ?? d0, shape: broadcastMany(ts.map((t) => t.shape), ctx) }];
}

// ---- costs ----------------------------------------------------------------

export function tensorBytes(t: CostTensor | undefined): number {
  return t ? sizeOf(t.shape) * bytesPerElement(t.dtype) : 0;
}

export function ioBytes(ctx: CostContext): number {
  let b = 0;
  for (const t of ctx.inputs) b += tensorBytes(t);
  for (const t of ctx.outputs) b += tensorBytes(t);
  return b;
}

/** Cost of an op doing `flopsPerElement` per output element and touching each operand once. */
export function elementwiseCost(flopsPerElement: number): (ctx: CostContext) => OpCost {
  return (ctx) => ({
    flops: flopsPerElement * ctx.outputs.reduce((s, o) => s + sizeOf(o.shape), 0),
    bytes: ioBytes(ctx),
  });
}

/** Data movement only (reshape-like and copy ops). */
export const movementCost = elementwiseCost(0);

// ---- small definitions -----------------------------------------------------

/** Error for run() when an input tensor has an unexpected shape. */
export function runError(ctx: RunContext, msg: string): never {
  return ctx.error(msg);
}

export function opError(opType: string, name: string, msg: string): never {
  return fail('PIMC0603', `${msg}, in ${opType} node ${q(name)}`);
}

export type PartialOpDef = Omit<OpDef, 'domain'> & { domain?: string };

/** Fills the defaults of a definition ('' domain). */
export function op(def: PartialOpDef): OpDef {
  return { domain: '', ...def };
}
