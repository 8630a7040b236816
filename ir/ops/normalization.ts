// LayerNormalization (opset 17) and RMSNormalization (opset 23): normalize
// over the trailing dims from `axis` on, then scale (and shift). Statistics
// are computed in float64 whatever stash_type asks (it is at least as precise).

import { dtypeFromOnnx, normalizeInPlace, type DType } from '../dtype.js';
import { registerOp, type InferContext, type RunContext } from '../registry.js';
import { Tensor, sizeOf } from '../tensor.js';
import type { Dim, TensorType } from '../types.js';
import { broadcastShapes, broadcastTo, elementwiseCost, inputType, need, normAxis, op } from './support.js';

const ATTRS = {
  axis: { kind: 'int', default: -1 },
  epsilon: { kind: 'float', default: 1e-5 },
  stash_type: { kind: 'int', default: 1 },
} as const;

/** The element type of Mean and InvStdDev (stash_type is a TensorProto type code). */
function stashType(ctx: InferContext | RunContext): DType {
  const code = ctx.attrs.int('stash_type', 1);
  const d = dtypeFromOnnx(code);
  if (d === 'f32' || d === 'f64' || d === 'f16' || d === 'bf16') return d;
  return ctx.error(`stash_type ${code} is not a float type`);
}

/** Checks that a scale/bias broadcasts into X and returns X's type with Mean/InvStdDev types. */
function inferNorm(ctx: InferContext, stats: boolean): TensorType[] {
  const x = inputType(ctx, 0);
  const axis = normAxis(ctx.attrs.int('axis', -1), x.shape.length, (m) => ctx.error(m));
  for (let i = 1; i < ctx.inputs.length; i++) {
    const p = ctx.inputs[i];
    if (!p) continue;
    if (p.dtype !== x.dtype) ctx.error(`input ${i} is ${p.dtype}, X is ${x.dtype}`);
    if (p.shape.length > x.shape.length || broadcastShapes(p.shape, x.shape, ctx).length !== x.shape.length) {
      ctx.error(`input ${i} of shape [${p.shape.join(', ')}] does not broadcast to X [${x.shape.join(', ')}]`);
    }
  }
  if (!stats) return [x];
  const statShape: Dim[] = x.shape.map((d, i) => (i < axis ? d : 1));
  const st = stashType(ctx);
  return [x, { dtype: st, shape: statShape }, { dtype: st, shape: statShape }];
}

/**
 * A parameter (scale or bias) laid out per normalized row: when it spans only
 * the normalized dims it is indexed by position within the row, else it is
 * broadcast to all of X and indexed by element.
 */
function perRow(ctx: RunContext, p: Tensor | null, x: Tensor, axis: number): { data: ArrayLike<number>; rowStride: number } | null {
  if (!p) return null;
  const off = x.rank - p.rank;
  if (off < 0 || p.shape.some((d, i) => d !== 1 && d !== x.shape[i + off])) {
    ctx.error(`parameter of shape [${p.shape.join(', ')}] does not broadcast to X [${x.shape.join(', ')}]`);
  }
  const inner = x.shape.slice(axis);
  const lead = p.shape.slice(0, Math.max(0, p.rank - inner.length));
  if (lead.every((d) => d === 1)) {
    return { data: broadcastTo(p.reshape(p.shape.slice(p.rank - Math.min(p.rank, inner.length))), inner).data, rowStride: 0 };
  }
  return { data: broadcastTo(p, x.shape).data, rowStride: sizeOf(inner) };
}

function runNorm(ctx: RunContext, inputs: readonly (Tensor | null)[], rms: boolean): Tensor[] {
  const x = need(ctx, inputs, 0);
  const axis = normAxis(ctx.attrs.int('axis', -1), x.rank, (m) => ctx.error(m));
  const eps = ctx.attrs.float('epsilon', 1e-5);
  const n = sizeOf(x.shape.slice(axis));
  const rows = sizeOf(x.shape.slice(0, axis));
  const scale = perRow(ctx, need(ctx, inputs, 1), x, axis)!;
  const bias = rms ? null : perRow(ctx, inputs[2] ?? null, x, axis);
  const y = new Tensor(x.dtype, x.shape);
  const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
  const st = rms ? x.dtype : stashType(ctx);
  const meanT = new Tensor(st, statShape);
  const invT = new Tensor(st, statShape);
  const xd = x.data, yd = y.data;
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let mean = 0;
    if (!rms) {
      for (let i = 0; i < n; i++) mean += xd[o + i]!;
      mean /= n;
    }
    // Two-pass variance: mean of squared deviations (RMS: mean of squares).
    let v = 0;
    for (let i = 0; i < n; i++) {
      const d = xd[o + i]! - mean;
      v += d * d;
    }
    const inv = 1 / Math.sqrt(v / n + eps);
    meanT.data[r] = mean;
    invT.data[r] = inv;
    const so = r * scale.rowStride, bo = bias ? r * bias.rowStride : 0;
    for (let i = 0; i < n; i++) {
      const val = (xd[o + i]! - mean) * inv * scale.data[so + i]!;
      yd[o + i] = bias ? val + bias.data[bo + i]! : val;
    }
  }
  normalizeInPlace(y.dtype, yd);
  normalizeInPlace(st, meanT.data);
  normalizeInPlace(st, invT.data);
  return rms ? [y] : [y, meanT, invT];
}

registerOp(op({
  type: 'LayerNormalization',
  summary: '(x - mean) / sqrt(var + epsilon) * scale + bias over the dims from axis on',
  opsets: [17, 23],
  inputs: [2, 3],
  outputs: [1, 3],
  attrs: ATTRS,
  infer: (ctx) => inferNorm(ctx, true),
  run: (ctx, inputs) => runNorm(ctx, inputs, false),
  // Per element: mean, deviation, square, sum, then subtract, multiply by inv, scale, shift.
  cost: elementwiseCost(8),
  example: '%y : f32[1, 16, 768] = LayerNormalization(%x, %gamma, %beta) {axis = -1, epsilon = 1e-05}',
}));

registerOp(op({
  type: 'RMSNormalization',
  summary: 'x / sqrt(mean(x^2) + epsilon) * scale over the dims from axis on',
  opsets: [23, 23],
  inputs: [2, 2],
  outputs: [1, 1],
  attrs: ATTRS,
  infer: (ctx) => inferNorm(ctx, false),
  run: (ctx, inputs) => runNorm(ctx, inputs, true),
  // Per element: square, sum, multiply by the inverse root, scale.
  cost: elementwiseCost(4),
  example: '%y : f32[1, 16, 4096] = RMSNormalization(%x, %gamma) {axis = -1, epsilon = 1e-05}',
}));
