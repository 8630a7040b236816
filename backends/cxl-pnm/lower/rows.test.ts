// Row lowerings (softmax, norms, RoPE) against the reference on random shapes
// and axes (fast-check, fixed seed). Bounds, per element (bounds.ts):
// - Softmax: p(1 + rho) with rho = (1+u)(1+uf)e^{uR} / ((1-uf)(1-gamma(n-1))e^{-uR}) - 1
//   for a row of n values spanning R, plus the reference's (u + gamma(n+4, 2^-53)) p,
//   plus the FP16 store 2^-11 (p + dev) + 2^-25.
// - LayerNorm / RMSNorm: normError (mean gamma(n) m1, deviations, variance
//   gamma(n+1), epsilon rounded to FP32, 1/sqrt from the function unit, two
//   products and the bias add), for the device (u) and the reference (2^-53,
//   then FP32), plus the FP16 store.
// - RoPE: one FP32 rounding of x c + r s on each side (products exact):
//   u|y| + (u + 2^-52)|y| + the FP16 store, with |y| <= |x c| + |r s|.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor, sizeOf } from '../../../ir/tensor.js';
import { gamma, normBound, normDeviation, ropeBound, softmaxBound, U, UD, type NormRow } from './bounds.js';
import { F, randomTensor, runOpOnPnm, worstError } from './harness.js';

const SEED = 515151;
const shapeArb = fc.array(fc.integer({ min: 1, max: 11 }), { minLength: 1, maxLength: 4 });

function check(got: Tensor, want: Tensor, bound: (i: number) => number, what: string) {
  const w = worstError(got, want, bound);
  expect(w.ratio, `${what}: worst at ${w.index} (got ${got.data[w.index]}, want ${want.data[w.index]}, bound ${w.index >= 0 ? bound(w.index) : 0})`).toBeLessThanOrEqual(1);
}

describe('PNM softmax', () => {
  it('any axis, awkward sizes, within the derived bound', () => {
    fc.assert(fc.property(shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: -s.length, max: s.length - 1 }))), fc.nat(), ([shape, axis], seed) => {
      const r = runOpOnPnm('Softmax', '', [randomTensor(shape, seed, -8, 8)], { axis });
      const x = r.rounded[0]!, want = r.want[0]!;
      const a = axis < 0 ? axis + shape.length : axis;
      const n = shape[a]!, inner = sizeOf(shape.slice(a + 1));
      const row = (i: number) => Math.floor(i / (n * inner)) * inner + (i % inner);
      const range = new Map<number, number>();
      for (let i = 0; i < x.size; i++) {
        const k = row(i), o = Math.floor(i / (n * inner)) * n * inner + (i % inner);
        if (range.has(k)) continue;
        let lo = Infinity, hi = -Infinity;
        for (let j = 0; j < n; j++) [lo, hi] = [Math.min(lo, x.data[o + j * inner]!), Math.max(hi, x.data[o + j * inner]!)];
        range.set(k, hi - lo);
      }
      // p <= |want| / (1 - u - gamma(n + 4, 2^-53)): the reference is within that of p.
      check(r.got[0]!, want, (i) => softmaxBound(Math.abs(want.data[i]!) / (1 - U - gamma(n + 4, UD)), n, range.get(row(i))!), `Softmax [${shape}] axis ${axis}`);
    }), { seed: SEED, numRuns: 25 });
  });

  it('before opset 13 the dims from axis on are one row', () => {
    const r = runOpOnPnm('Softmax', '', [randomTensor([3, 4, 5], 9, -4, 4)], {}, { opset: 11 });
    const x = r.rounded[0]!, want = r.want[0]!;
    const rowRange = (i: number) => {
      const o = Math.floor(i / 20) * 20;
      const xs = Array.from(x.data.subarray(o, o + 20));
      return Math.max(...xs) - Math.min(...xs);
    };
    check(r.got[0]!, want, (i) => softmaxBound(Math.abs(want.data[i]!) / (1 - U - gamma(24, UD)), 20, rowRange(i)), 'legacy Softmax');
  });
});

/** Per-element norm bounds for x [rows, n] (row-major), scale g and bias b per row position. */
function normBounds(x: Tensor, g: Tensor, b: Tensor | null, n: number, eps: number, rms: boolean): (i: number) => number {
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
      const y = D[i]! * inv * g.data[i]! + (b ? b.data[i]! : 0);
      out[o + i] = normBound(row, Math.abs(D[i]!), dev, ref, Math.abs(g.data[i]!), Math.abs(y), !!b);
    }
  }
  // Magnitudes above come from double arithmetic, within 1e-12 relative of exact.
  return (i) => out[i]! * (1 + 1e-12);
}

describe('PNM norms', () => {
  const cases: [string, string, boolean, boolean][] = [
    ['LayerNorm', 'pimc', false, true], ['LayerNorm', 'pimc', false, false], ['LayerNormalization', '', false, true],
    ['RMSNorm', 'pimc', true, false], ['RMSNormalization', '', true, false],
  ];
  it.each(cases)('%s (%s) rms=%s bias=%s: random shapes and axes within normError', (type, domain, rms, bias) => {
    // Wide rows, and narrow ones around 1 (the mean cancels most of x; epsilon matters).
    const spread = fc.constantFrom([-3, 5], [0.97, 1.03]);
    fc.assert(fc.property(shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }))), fc.nat(), fc.double({ min: 1e-6, max: 1e-2, noNaN: true }), spread, ([shape, axis], seed, eps, [lo, hi]) => {
      const norm = shape.slice(axis), n = sizeOf(norm);
      const ins = [randomTensor(shape, seed, lo, hi), randomTensor(norm, seed + 1, -2, 2), ...(bias ? [randomTensor(norm, seed + 2, -1, 1)] : [])];
      const r = runOpOnPnm(type, domain, ins, { axis, epsilon: F(eps) });
      const [x, g, b] = [r.rounded[0]!, r.rounded[1]!, bias ? r.rounded[2]! : null];
      check(r.got[0]!, r.want[0]!, normBounds(x, g, b, n, eps, rms), `${type} [${shape}] axis ${axis}`);
    }), { seed: SEED, numRuns: 20 });
  });

  it('refuses Mean / InvStdDev outputs and scales that break the row (PIMC1206)', () => {
    expect(() => runOpOnPnm('LayerNorm', 'pimc', [randomTensor([2, 3, 4], 1), randomTensor([1, 4], 2)], { axis: -2 })).toThrow(/PIMC1206: .*normalized dims .* not one run/);
  });
});

describe('PNM RoPE', () => {
  it.each([0, 1])('interleaved=%s: random heads and tables within u|y| + the reference + the store', (interleaved) => {
    fc.assert(fc.property(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 12 })), fc.integer({ min: 0, max: 2 }), fc.nat(), ([B, H, S, half], tableKind, seed) => {
      const D = 2 * half;
      const table = [[S, D], [1, 1, S, D], [B, 1, S, D]][tableKind]!;
      const r = runOpOnPnm('Rope', 'pimc', [randomTensor([B, H, S, D], seed, -4, 4), randomTensor(table, seed + 1), randomTensor(table, seed + 2)], { interleaved });
      const [x, c, s] = r.rounded as [Tensor, Tensor, Tensor];
      const at = (t: Tensor, b: number, si: number, i: number) => t.data[(t.shape.length === 2 ? 0 : (t.shape[0] === 1 ? 0 : b) * S * D) + si * D + i]!;
      const bound = (k: number) => {
        const i = k % D, si = Math.floor(k / D) % S, b = Math.floor(k / (H * S * D));
        const o = k - i;
        const rot = interleaved ? (i % 2 === 0 ? -x.data[o + i + 1]! : x.data[o + i - 1]!) : i < half ? -x.data[o + i + half]! : x.data[o + i - half]!;
        return ropeBound(Math.abs(x.data[k]! * at(c, b, si, i)) + Math.abs(rot * at(s, b, si, i)));
      };
      check(r.got[0]!, r.want[0]!, bound, `Rope [${B}, ${H}, ${S}, ${D}] table [${table}]`);
    }), { seed: SEED, numRuns: 15 });
  });
});
