// Softmax, LogSoftmax, LayerNormalization / pimc.LayerNorm, RMSNormalization
// / pimc.RMSNorm (backends/npu/lower/misc/rowwise.ts). Each bound follows the
// lowering's fp32 instruction sequence row by row; u = 2^-24, gamma_k = ku /
// (1 - ku), the fp32 sums are sequential (the simulator's order, but any
// order obeys gamma_{n-1} sum |terms|). First-order terms only, times (1 +
// 1e-6): every second-order term is below 1e-6 of them for these sizes (the
// tests': rows of at most 3000 elements; much longer rows would need that
// checked again). The bound is f16Bound(want, E) (common.ts) with E per
// element from the stored row (float64).
//
// Axes as the lowering reads them: Softmax's `axis` with the opset-13 meaning
// (default -1; the lowering does not apply a pre-13 graph's flattening), the
// norms' `axis` and `epsilon` with each op's own defaults.

import { broadcastTo } from '../../../ir/ops/support.js';
import { Tensor, sizeOf } from '../../../ir/tensor.js';
import { U, f16Bound, f32Reference, gamma, need } from './common.js';
import { registerBound, type BoundContext, type ElementBound } from './registry.js';

const SLACK = 1 + 1e-6;

const axisOf = (axis: number, rank: number, c: BoundContext): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (!(a >= 0 && a < rank)) throw new Error(`internal: axis ${axis} out of range for rank ${rank} in ${c.op.type} (op "${c.op.name}")`);
  return a;
};

/** Calls f(indices of one row) for every row of `shape` along `axis`. */
function forRows(shape: readonly number[], axis: number, f: (idx: number[]) => void): void {
  const n = shape[axis]!, inner = sizeOf(shape.slice(axis + 1)), outer = sizeOf(shape.slice(0, axis));
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) f(Array.from({ length: n }, (_, i) => (o * n + i) * inner + j));
}

/**
 * Softmax: d = fl(x - m) is within u; exp within 2u, so e_i carries
 * eta_i = 2u + u|x_i - m| relative; the sum adds gamma_{n-1}: theta = max eta
 * + gamma_{n-1}; the divide adds u and the reference u:
 *   E_i = |want_i| (eta_i + theta + 2u).
 * LogSoftmax: y = fl(d - fl(log s)): log s is off by theta + 2u|log s|, d by
 * u|x - m|, the subtraction and the reference by u|want| each:
 *   E_i = u|x_i - m| + theta + 2u|log s| + 2u|want_i|.
 */
function softmaxBounds(x: Tensor, want: Tensor, axis: number, log: boolean): Float64Array {
  const E = new Float64Array(x.size);
  forRows(x.shape, axis, (idx) => {
    const xs = idx.map((i) => x.data[i]!);
    const m = Math.max(...xs);
    const eta = xs.map((v) => 2 * U + U * Math.abs(v - m));
    const theta = Math.max(...eta) + gamma(xs.length - 1);
    const logS = Math.log(xs.reduce((a, v) => a + Math.exp(v - m), 0));
    idx.forEach((i, k) => {
      const w = Math.abs(want.data[i]!);
      E[i] = SLACK * (log ? U * Math.abs(xs[k]! - m) + theta + 2 * U * Math.abs(logS) + 2 * U * w : w * (eta[k]! + theta + 2 * U));
    });
  });
  return E;
}

for (const [type, log] of [['Softmax', false], ['LogSoftmax', true]] as const) {
  registerBound('', type, (c) => {
    f32Reference(c);
    const x = need(c, 0), want = c.want[0]!;
    const E = softmaxBounds(x, want, axisOf(c.attrs.int('axis', -1), x.rank, c), log);
    return (_o, i) => f16Bound(want.data[i]!, E[i]!);
  });
}

/**
 * Normalisation bounds per row (n elements, rms or not), following the lowering
 * (lower/misc/rowwise.ts):
 *   mean = fl(fl(sum x) * fl(1/n)):   e_m = gamma_{n+2} sum|x| / n
 *   d_i = fl(x_i - mean):              e_d = e_m (1 + u) + u|d_i|      (RMS: d = x, e_d = 0)
 *   V = fl-sum fl(d_i^2):              e_V = gamma_n (V + A) + A, A = sum 2|d_i| e_d + e_d^2
 *   var = fl(fl(V * fl(1/n)) + eps):   e_var = (1 + 2u) e_V / n + 3.01u var
 *   inv = rsqrt(var) within 2u:        rel = 0.5 r (1 + 2r) + 2u, r = e_var / var
 *   y = fl(fl(fl(d inv) g) + b):       E = |g| (inv (e_d + |d| rel)(1 + rel) + u|d inv|) + u|d inv g| + 2u|want|
 * LayerNormalization's row outputs: Mean E = e_m + u|mean| (the reference's
 * u); InvStdDev E = inv rel + u inv (the reference's u).
 */
interface RowStats { mean: number; em: number; inv: number; rel: number }

/** `g` is the scale broadcast to x's shape. */
function normBounds(x: Tensor, g: Tensor, want: Tensor, n: number, eps: number, rms: boolean, stats: RowStats[] = []): Float64Array {
  const E = new Float64Array(x.size);
  const gi = (i: number) => g.data[i]!;
  for (let r = 0; r < x.size / n; r++) {
    const xs = Array.from(x.data.subarray(r * n, (r + 1) * n));
    const mean = rms ? 0 : xs.reduce((a, v) => a + v, 0) / n;
    const em = rms ? 0 : (gamma(n + 2) * xs.reduce((a, v) => a + Math.abs(v), 0)) / n;
    const d = xs.map((v) => v - mean);
    const ed = d.map((v) => (rms ? 0 : em * (1 + U) + U * Math.abs(v)));
    const V = d.reduce((a, v) => a + v * v, 0);
    const A = d.reduce((a, v, i) => a + 2 * Math.abs(v) * ed[i]! + ed[i]! ** 2, 0);
    const eV = gamma(n) * (V + A) + A;
    const variance = V / n + eps;
    const rr = ((1 + 2 * U) * eV / n + 3.01 * U * variance) / variance;
    const rel = 0.5 * rr * (1 + 2 * rr) + 2 * U;
    const inv = 1 / Math.sqrt(variance);
    stats.push({ mean, em, inv, rel });
    d.forEach((dv, k) => {
      const i = r * n + k, gv = Math.abs(gi(i));
      E[i] = SLACK * (gv * (inv * (ed[k]! + Math.abs(dv) * rel) * (1 + rel) + U * Math.abs(dv * inv)) + U * Math.abs(dv * inv * gv) + 2 * U * Math.abs(want.data[i]!));
    });
  }
  return E;
}

function norm(rms: boolean) {
  return (c: BoundContext): ElementBound => {
    f32Reference(c);
    const x = need(c, 0), want = c.want;
    const axis = axisOf(c.attrs.int('axis', -1), x.rank, c);
    const n = sizeOf(x.shape.slice(axis));
    const g = broadcastTo(need(c, 1), x.shape);
    const rows: RowStats[] = [];
    const E = normBounds(x, g, want[0]!, n, c.attrs.float('epsilon'), rms, rows);
    return (o, i) => {
      const w = want[o]!.data[i]!;
      if (o === 0) return f16Bound(w, E[i]!);
      const s = rows[i]!;
      return f16Bound(w, o === 1 ? SLACK * (s.em + U * Math.abs(s.mean)) : SLACK * (s.inv * s.rel + U * s.inv));
    };
  };
}

registerBound('', 'LayerNormalization', norm(false));
registerBound('pimc', 'LayerNorm', norm(false));
registerBound('', 'RMSNormalization', norm(true));
registerBound('pimc', 'RMSNorm', norm(true));
