// Decode attention on the PNM against the reference on random shapes
// (fast-check, fixed seed): grouped-query (hq / hkv from 1 to 4), a cache
// shared by the batch, caches with spare capacity (strided views), awkward
// head sizes and lengths, additive masks with padded (-inf) keys.
// Bounds per output element: backends/cxl-pnm/bounds/attention.ts (fused
// ATTENTION: attentionBound; the masked chain: maskedAttentionBound; the
// derivations beside them); the tests run ops and compare (runPnmBounded).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Tensor } from '../../../ir/tensor.js';
import { F, describeWorst, randomTensor, runOpOnPnm, runPnmBounded } from './harness.js';

const SEED = 737373;

interface Case { B: number; hkv: number; group: number; T: number; d: number; dv: number; shared: boolean; spare: number; seed: number }

const caseArb: fc.Arbitrary<Case> = fc.record({
  B: fc.integer({ min: 1, max: 3 }), hkv: fc.integer({ min: 1, max: 4 }), group: fc.integer({ min: 1, max: 4 }),
  T: fc.integer({ min: 1, max: 70 }), d: fc.constantFrom(8, 12, 16, 64), dv: fc.constantFrom(8, 16, 40),
  shared: fc.boolean(), spare: fc.integer({ min: 0, max: 9 }), seed: fc.nat(),
});

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
  const r = runPnmBounded('Attention', 'pimc', ins, { scale: F(scale), ...(masked ? { mask_mode: 'add' } : {}) }, { padded });
  expect(r.worst.ratio, `${JSON.stringify(c)}: ${describeWorst(r.worst)}`).toBeLessThanOrEqual(1);
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
