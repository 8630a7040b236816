// Decode attention on the PNM against the reference on random shapes
// (fast-check, fixed seed): grouped-query (hq / hkv from 1 to 4), a cache
// shared by the batch, caches with spare capacity (strided views), awkward
// head sizes and lengths, additive masks with padded (-inf) keys.
// Bounds (bounds.ts), per output element of value column j, V_j = max_t |v_tj|:
// - fused ATTENTION: scores within Delta of the reference's (device
//   gamma(d-1) A_t + u|s_t|, reference (2u + u^2)|s_t| + gamma(d, 2^-53) A_t);
//   that moves the output by at most (e^{2 Delta} - 1) V_j; the online
//   recurrence by 2 b / (1 - b) V_j with b = (1+uf)^T (1+u)^{2T} e^{2uR} - 1;
//   the reference's own (2u + gamma(T+4) + gamma(T)) V_j; the FP16 store.
// - the masked chain: the same scores plus u|s + mask|, the FP32 softmax's
//   rho, probabilities stored as FP16 (2^-11 relative, 2^-25 each), P @ V in
//   FP32 (gamma(T-1)), the reference and the store.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../../ir/tensor.js';
import { attentionBound, maskedAttentionBound, type AttentionRow } from './bounds.js';
import { F, randomTensor, runOpOnPnm, worstError } from './harness.js';

const SEED = 737373;

interface Case { B: number; hkv: number; group: number; T: number; d: number; dv: number; shared: boolean; spare: number; seed: number }

const caseArb: fc.Arbitrary<Case> = fc.record({
  B: fc.integer({ min: 1, max: 3 }), hkv: fc.integer({ min: 1, max: 4 }), group: fc.integer({ min: 1, max: 4 }),
  T: fc.integer({ min: 1, max: 70 }), d: fc.constantFrom(8, 12, 16, 64), dv: fc.constantFrom(8, 16, 40),
  shared: fc.boolean(), spare: fc.integer({ min: 0, max: 9 }), seed: fc.nat(),
});

/** Bounds for every output element, from the rounded q, k, v (and the additive mask). */
function bounds(c: Case, q: Tensor, k: Tensor, v: Tensor, scale: number, want: Tensor, mask?: Tensor): (i: number) => number {
  const hq = c.hkv * c.group;
  const out = new Float64Array(want.size);
  for (let b = 0; b < c.B; b++) {
    const kb = c.shared ? 0 : b;
    for (let h = 0; h < hq; h++) {
      const kvo = (kb * c.hkv + Math.floor(h / c.group)) * c.T;
      const keys = [...Array(c.T).keys()].filter((t) => !mask || mask.data[b * c.T + t] !== -Infinity);
      const row: AttentionRow = { scores: new Float64Array(keys.length), absScores: new Float64Array(keys.length), d: c.d };
      let maskedAbs = 0;
      keys.forEach((t, n) => {
        let s = 0, a = 0;
        for (let j = 0; j < c.d; j++) {
          const p = q.data[(b * hq + h) * c.d + j]! * k.data[(kvo + t) * c.d + j]!;
          s += p;
          a += Math.abs(p);
        }
        row.scores[n] = scale * s;
        row.absScores[n] = Math.abs(scale) * a;
        if (mask) maskedAbs = Math.max(maskedAbs, Math.abs(scale * s + mask.data[b * c.T + t]!));
      });
      for (let j = 0; j < c.dv; j++) {
        const vMax = Math.max(...keys.map((t) => Math.abs(v.data[(kvo + t) * c.dv + j]!)));
        const i = (b * hq + h) * c.dv + j;
        out[i] = mask ? maskedAttentionBound(row, maskedAbs, vMax, Math.abs(want.data[i]!)) : attentionBound(row, vMax, Math.abs(want.data[i]!));
      }
    }
  }
  return (i) => out[i]!;
}

function run(c: Case, masked: boolean) {
  const hq = c.hkv * c.group, kb = c.shared ? 1 : c.B;
  const scale = Math.fround(1 / Math.sqrt(c.d));
  const ins: Tensor[] = [randomTensor([c.B, hq, 1, c.d], c.seed), randomTensor([kb, c.hkv, c.T, c.d], c.seed + 1), randomTensor([kb, c.hkv, c.T, c.dv], c.seed + 2, -2, 2)];
  if (masked) {
    // Padding: every third key hidden, except that key 0 always stays visible.
    const m = randomTensor([c.B, 1, 1, c.T], c.seed + 3, -3, 0);
    for (let i = 0; i < m.size; i++) if (i % c.T && (i * 7 + c.seed) % 3 === 0) m.data[i] = -Infinity;
    ins.push(m);
  }
  const padded = { 1: [kb, c.hkv, c.T + c.spare, c.d], 2: [kb, c.hkv, c.T + c.spare, c.dv] };
  const r = runOpOnPnm('Attention', 'pimc', ins, { scale: F(scale), ...(masked ? { mask_mode: 'add' } : {}) }, { padded });
  const [q, k, v, m] = r.rounded as [Tensor, Tensor, Tensor, Tensor | undefined];
  const w = worstError(r.got[0]!, r.want[0]!, bounds(c, q, k, v, scale, r.want[0]!, m));
  expect(w.ratio, `${JSON.stringify(c)}: worst at ${w.index}`).toBeLessThanOrEqual(1);
  return r;
}

describe('PNM decode attention', () => {
  it('fused ATTENTION: GQA, shared and strided caches, within the derived bound', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const r = run(c, false);
      expect(r.program.queues.flat().every((d) => d.op === 'attention')).toBe(true);
    }), { seed: SEED, numRuns: 30 });
  });

  it('additive mask: the four-descriptor chain per unit, within its bound', () => {
    fc.assert(fc.property(caseArb, (c) => {
      const r = run(c, true);
      for (const q of r.program.queues) q.forEach((d, i) => expect(d.op).toBe(['gemm', 'add', 'softmax', 'gemm'][i % 4]));
    }), { seed: SEED, numRuns: 20 });
  });

  it('splits (batch, kv head) pairs over the units so a kv head streams once', () => {
    const c: Case = { B: 1, hkv: 8, group: 4, T: 33, d: 16, dv: 16, shared: false, spare: 0, seed: 5 };
    const r = run(c, false);
    // Each unit: 2 kv heads, their 8 query heads.
    expect(r.program.queues.map((q) => q.map((d) => r.program.table[d.in0]!.dims))).toEqual([[[1, 8, 1, 16]], [[1, 8, 1, 16]], [[1, 8, 1, 16]], [[1, 8, 1, 16]]]);
    expect(r.stats.bytesRead).toBe(2 * (32 * 16 + 2 * 8 * 33 * 16));
  });

  it('refuses prefill and bool masks (PIMC1206)', () => {
    const [q, k] = [randomTensor([1, 2, 3, 8], 1), randomTensor([1, 2, 3, 8], 2)];
    expect(() => runOpOnPnm('Attention', 'pimc', [q, k, k], { scale: F(0.5), causal: 1 })).toThrow(/PIMC1206: .*3 query rows: the PNM runs decode attention/);
    const bool = randomTensor([1, 1, 1, 3], 3, 0, 1, 'bool');
    expect(() => runOpOnPnm('Attention', 'pimc', [randomTensor([1, 2, 1, 8], 1), k, k, bool], { scale: F(0.5), mask_mode: 'bool' })).toThrow(/PIMC1206: .*a bool mask/);
  });
});
