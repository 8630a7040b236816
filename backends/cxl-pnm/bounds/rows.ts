// Row ops on the vector engine (lower/rows.ts): Softmax, LayerNorm /
// LayerNormalization, RMSNorm / RMSNormalization, pimc.Rope. Bounds per
// element (lower/bounds.ts, where each is derived), with the row statistics
// computed here in double from the stored inputs:
// - Softmax: p(1 + rho) with rho = (1+u)(1+uf)e^{uR} / ((1-uf)(1-gamma(n-1))e^{-uR}) - 1
//   for a row of n values spanning R, plus the reference's (u + gamma(n+4, 2^-53)) p,
//   plus the FP16 store 2^-11 (p + dev) + 2^-25 (softmaxBound). The row is the
//   axis (opset 13 on) or, before opset 13, the dims from axis on (axis
//   default 1), as the lowering and the reference read the graph's opset.
//   p <= |want| / (1 - u - gamma(n + 4, 2^-53)): the reference is within that of p.
// - LayerNorm / RMSNorm: normError (mean gamma(n) m1, deviations, variance
//   gamma(n+1), epsilon rounded to FP32, 1/sqrt from the function unit, two
//   products and the bias add), for the device (u) and the reference (2^-53,
//   then FP32), plus the FP16 store (normBound). The normalized dims are
//   those from axis on; scale and bias broadcast to x. Row magnitudes (mean,
//   m1 = sum|x|/n, v = mean of squared deviations, |y|) come from double
//   arithmetic, within 1e-12 relative of exact: the bound is scaled by
//   1 + 1e-12. Only output 0 (the lowering refuses Mean / InvStdDev).
// - RoPE: one FP32 rounding of x c + r s on each side (products exact):
//   u|y| + (u + 2^-52)|y| + the FP16 store, with |y| <= |x c| + |r s|
//   (ropeBound); cos and sin broadcast to x.

import { broadcastTo, normAxis } from '../../../ir/ops/support.js';
import { sizeOf, type Tensor } from '../../../ir/tensor.js';
import { gamma, normBound, normDeviation, ropeBound, softmaxBound, U, UD, type NormRow } from '../lower/bounds.js';
import { boundError, f32Reference, need, perElement } from './common.js';
import { registerPnmBound, type BoundContext, type ElementBound } from './registry.js';

const axisOf = (c: BoundContext, rank: number, fallback: number): number =>
  normAxis(c.attrs.int('axis', fallback), rank, (m) => boundError(c, `(${m})`));

function softmax(c: BoundContext): ElementBound {
  f32Reference(c);
  const x = need(c, 0), want = c.want[0]!;
  const legacy = c.opset < 13;
  const axis = axisOf(c, Math.max(x.rank, 1), legacy ? 1 : -1);
  // Rows of n values spaced `inner` apart, `outer` blocks of them.
  const n = legacy ? sizeOf(x.shape.slice(axis)) : (x.shape[axis] ?? 1);
  const inner = legacy ? 1 : sizeOf(x.shape.slice(axis + 1));
  const out = new Float64Array(x.size);
  for (let b = 0; b < x.size; b += n * inner) {
    for (let j = 0; j < inner; j++) {
      let lo = Infinity, hi = -Infinity;
      for (let k = 0; k < n; k++) [lo, hi] = [Math.min(lo, x.data[b + j + k * inner]!), Math.max(hi, x.data[b + j + k * inner]!)];
      for (let k = 0; k < n; k++) {
        const i = b + j + k * inner;
        out[i] = softmaxBound(Math.abs(want.data[i]!) / (1 - U - gamma(n + 4, UD)), n, hi - lo);
      }
    }
  }
  return perElement(out);
}

/** Per-element norm bounds for x [rows, n] (row-major), scale g and bias b broadcast to x. */
function normBounds(x: Tensor, g: Tensor, b: Tensor | null, n: number, eps: number, rms: boolean): Float64Array {
  const out = new Float64Array(x.size);
  for (let o = 0; o < x.size; o += n) {
    const xs = Array.from(x.data.subarray(o, o + n));
    const mean = rms ? 0 : xs.reduce((s, v) => s + v, 0) / n;
    const D = xs.map((v) => v - mean);
    const row: NormRow = { n, m1: rms ? 0 : xs.reduce((s, v) => s + Math.abs(v), 0) / n, v: D.reduce((s, d) => s + d * d, 0) / n, eps };
    const inv = 1 / Math.sqrt(row.v + eps);
    const sumDV = (u: number) => D.reduce((s, d) => { const e = normDeviation(row, Math.abs(d), u); return s + e * (2 * Math.abs(d) + e); }, 0) / n;
    const [dev, ref] = [sumDV(U), sumDV(UD)];
    for (let i = 0; i < n; i++) {
      const y = D[i]! * inv * g.data[o + i]! + (b ? b.data[o + i]! : 0);
      // Magnitudes above come from double arithmetic, within 1e-12 relative of exact.
      out[o + i] = normBound(row, Math.abs(D[i]!), dev, ref, Math.abs(g.data[o + i]!), Math.abs(y), !!b) * (1 + 1e-12);
    }
  }
  return out;
}

function norm(rms: boolean) {
  return (c: BoundContext): ElementBound => {
    f32Reference(c);
    if (c.want.length > 1) boundError(c, 'with Mean / InvStdDev outputs: the PNM does not compute them');
    const x = need(c, 0);
    const axis = axisOf(c, x.rank, -1);
    const bias = rms ? null : (c.inputs[2] ?? null);
    const g = broadcastTo(need(c, 1), x.shape), b = bias && broadcastTo(bias, x.shape);
    return perElement(normBounds(x, g, b, sizeOf(x.shape.slice(axis)), c.attrs.float('epsilon'), rms));
  };
}

function rope(c: BoundContext): ElementBound {
  f32Reference(c);
  const x = need(c, 0);
  const D = x.shape[x.rank - 1] ?? 0, half = D / 2;
  if (x.rank === 0 || D % 2) boundError(c, 'with an odd head size: the PNM does not lower it');
  const cs = broadcastTo(need(c, 1), x.shape).data, sn = broadcastTo(need(c, 2), x.shape).data;
  const interleaved = c.attrs.int('interleaved', 0) !== 0;
  const out = new Float64Array(x.size);
  for (let k = 0; k < x.size; k++) {
    const i = k % D, o = k - i;
    const rot = interleaved ? (i % 2 === 0 ? -x.data[o + i + 1]! : x.data[o + i - 1]!) : i < half ? -x.data[o + i + half]! : x.data[o + i - half]!;
    out[k] = ropeBound(Math.abs(x.data[k]! * cs[k]!) + Math.abs(rot * sn[k]!));
  }
  return perElement(out);
}

registerPnmBound('', 'Softmax', softmax);
registerPnmBound('pimc', 'LayerNorm', norm(false));
registerPnmBound('', 'LayerNormalization', norm(false));
registerPnmBound('pimc', 'RMSNorm', norm(true));
registerPnmBound('', 'RMSNormalization', norm(true));
registerPnmBound('pimc', 'Rope', rope);
