// Softmax, LogSoftmax, LayerNorm and RMSNorm against the reference. Each
// bound follows the lowering's fp32 instruction sequence (rowwise.ts) row by
// row; u = 2^-24, gamma_k = ku / (1 - ku), the fp32 sums are sequential (the
// simulator's order, but any order obeys gamma_{n-1} sum |terms|). First-order
// terms only, times (1 + 1e-6): every second-order term is below 1e-6 of them
// for these sizes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor, sizeOf } from '../../../../ir/tensor.js';
import { lowerOneOp, roundForNpu, runOpOnNpu } from '../harness.js';
import { U, expectWithin, f16Bound, gamma, runMulti, uniform } from './testing.js';

const SLACK = 1 + 1e-6;

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

const softmaxCase = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 3 }),
  axis: fc.integer({ min: -3, max: 2 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
}).map((c) => ({ ...c, axis: ((c.axis % c.shape.length) + c.shape.length) % c.shape.length }));

describe('Softmax and LogSoftmax along any axis', () => {
  for (const [type, log] of [['Softmax', false], ['LogSoftmax', true]] as const) {
    it(type, () => {
      fc.assert(fc.property(softmaxCase, ({ shape, axis, seed }) => {
        const r = runOpOnNpu(type, '', [uniform(shape, seed, -6, 6)], { axis });
        const E = softmaxBounds(r.rounded[0]!, r.want[0]!, axis, log);
        expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(r.want[0]!.data[i]!, E[i]!), `${type} [${shape}] axis ${axis}`);
      }), { seed: 5150, numRuns: 6 });
    });
  }

  it('long rows across engines (a [24, 3000] softmax)', () => {
    const r = runOpOnNpu('Softmax', '', [uniform([24, 3000], 9, -8, 8)], { axis: -1 });
    const E = softmaxBounds(r.rounded[0]!, r.want[0]!, 1, false);
    expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(r.want[0]!.data[i]!, E[i]!), 'Softmax 3000');
    expect(r.program.engines.filter((e) => e.length).length).toBe(8);
  });

  it('a row that cannot fit in the scratchpad is PIMC1101', () => {
    expect(() => lowerOneOp('Softmax', '', [{ dtype: 'f32', shape: [2, 400_000] }], { axis: -1 })).toThrow(/PIMC1101.*400000/);
  });
});

/**
 * Normalisation bounds per row (n elements, rms or not), following rowwise.ts:
 *   mean = fl(fl(sum x) * fl(1/n)):   e_m = gamma_{n+2} sum|x| / n
 *   d_i = fl(x_i - mean):              e_d = e_m (1 + u) + u|d_i|      (RMS: d = x, e_d = 0)
 *   V = fl-sum fl(d_i^2):              e_V = gamma_n (V + A) + A, A = sum 2|d_i| e_d + e_d^2
 *   var = fl(fl(V * fl(1/n)) + eps):   e_var = (1 + 2u) e_V / n + 3.01u var
 *   inv = rsqrt(var) within 2u:        rel = 0.5 r (1 + 2r) + 2u, r = e_var / var
 *   y = fl(fl(fl(d inv) g) + b):       E = |g| (inv (e_d + |d| rel)(1 + rel) + u|d inv|) + u|d inv g| + 2u|want|
 */
interface RowStats { mean: number; em: number; inv: number; rel: number }

function normBounds(x: Tensor, g: Tensor, want: Tensor, n: number, eps: number, rms: boolean, stats: RowStats[] = []): Float64Array {
  const E = new Float64Array(x.size);
  const gi = (i: number) => g.data[g.size === x.size ? i : i % g.size]!;
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

describe('normalisations', () => {
  const normCase = fc.record({
    rows: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 2 }),
    n: fc.integer({ min: 1, max: 700 }),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
  });

  for (const [type, domain, bias] of [['LayerNormalization', '', true], ['LayerNorm', 'pimc', true], ['LayerNorm', 'pimc', false]] as const) {
    it(`${domain || 'onnx'}.${type}${bias ? ' with bias' : ''}`, () => {
      fc.assert(fc.property(normCase, ({ rows, n, seed }) => {
        // A mean well away from 0 makes the centring matter.
        const x = uniform([...rows, n], seed, -1, 3), g = uniform([n], seed + 1, -1.5, 1.5), b = uniform([n], seed + 2, -1, 1);
        const r = runOpOnNpu(type, domain, bias ? [x, g, b] : [x, g], { axis: -1, epsilon: 1e-5 });
        const [xr, gr] = r.rounded as [Tensor, Tensor];
        const E = normBounds(xr, gr, r.want[0]!, n, 1e-5, false);
        expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(r.want[0]!.data[i]!, E[i]!), `${type} [${rows}, ${n}]`);
      }), { seed: 808, numRuns: 5 });
    });
  }

  for (const [type, domain] of [['RMSNorm', 'pimc'], ['RMSNormalization', '']] as const) {
    it(`${domain || 'onnx'}.${type}`, () => {
      fc.assert(fc.property(normCase, ({ rows, n, seed }) => {
        const x = uniform([...rows, n], seed, -2, 2), g = uniform([n], seed + 1, 0.5, 1.5);
        const r = runOpOnNpu(type, domain, [x, g], { axis: -1, epsilon: 1e-6 });
        const E = normBounds(r.rounded[0]!, r.rounded[1]!, r.want[0]!, n, 1e-6, true);
        expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(r.want[0]!.data[i]!, E[i]!), `${type} [${rows}, ${n}]`);
      }), { seed: 909, numRuns: 5 });
    });
  }

  it('LayerNormalization over two dims (axis = 1) with a [4, 30] scale and bias', () => {
    const x = uniform([5, 4, 30], 3, -1, 3), g = uniform([4, 30], 4), b = uniform([4, 30], 5);
    const r = runOpOnNpu('LayerNormalization', '', [x, g, b], { axis: 1 });
    const E = normBounds(r.rounded[0]!, r.rounded[1]!, r.want[0]!, 120, 1e-5, false);
    expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(r.want[0]!.data[i]!, E[i]!), 'LN axis 1');
  });

  it('LayerNormalization Mean and InvStdDev outputs (row outputs, f16 storage)', () => {
    const n = 96;
    const { got, want } = runMulti('LayerNormalization', '', [uniform([3, 7, n], 12, -1, 3), uniform([n], 13), uniform([n], 14)], { axis: -1 }, 3);
    const [x, g] = [roundForNpu(uniform([3, 7, n], 12, -1, 3)), roundForNpu(uniform([n], 13))];
    const rows: RowStats[] = [];
    const E = normBounds(x, g, want[0]!, n, 1e-5, false, rows);
    expectWithin(got[0]!, want[0]!, (i) => f16Bound(want[0]!.data[i]!, E[i]!), 'LN Y');
    // Mean: e_m and the reference's u; InvStdDev: inv * rel and the reference's u.
    expectWithin(got[1]!, want[1]!, (r) => f16Bound(want[1]!.data[r]!, SLACK * (rows[r]!.em + U * Math.abs(rows[r]!.mean))), 'LN Mean');
    expectWithin(got[2]!, want[2]!, (r) => f16Bound(want[2]!.data[r]!, SLACK * (rows[r]!.inv * rows[r]!.rel + U * rows[r]!.inv)), 'LN InvStdDev');
  });

  it('a scale that repeats inside the normalised block is PIMC1102', () => {
    expect(() => lowerOneOp('LayerNormalization', '', [{ dtype: 'f32', shape: [2, 4, 8] }, { dtype: 'f32', shape: [8] }], { axis: 1 })).toThrow(/PIMC1102/);
  });
});
