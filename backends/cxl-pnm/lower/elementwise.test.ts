// Element-wise lowerings against the reference on random shapes (fast-check,
// fixed seed): ranks 1 to 5 (rank 5 is peeled into several descriptors),
// awkward sizes, numpy broadcasting.
// Bounds (bounds.ts): Add and Mul are bit-exact, got = f16(want): both sides
// form the exact sum / product of two FP16 values (exact in double) and round
// it once to FP32; the device then rounds to FP16. Activations:
// |got - want| <= dev + ref + 2^-11 (|y| + dev) + 2^-25 with dev = ((1+uf)(1+u)^k - 1)|y|
// (k = 1 for GELU and SiLU, 2 for SwiGLU), ref = (u + 1e-15)|y| + 2^-50 |x|,
// and |y| <= (|want| + 2^-50 |x|) / (1 - u - 1e-15).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f16 } from '../../../runtime-sim/hbm/fp16.js';
import type { Tensor } from '../../../ir/tensor.js';
import { activationBound, U } from './bounds.js';
import { randomTensor, runOpOnPnm, worstError } from './harness.js';

const SEED = 424242;
const dims = fc.integer({ min: 1, max: 9 });
const shapeArb = fc.array(dims, { minLength: 1, maxLength: 5 });

/** A shape that broadcasts to `shape`: leading dims dropped, some dims 1. */
const broadcastOf = (shape: number[]) =>
  fc.tuple(fc.integer({ min: 0, max: shape.length - 1 }), fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }))
    .map(([drop, ones]) => shape.map((d, i) => (ones[i] ? 1 : d)).slice(drop));

const exactF16 = (got: Tensor, want: Tensor) => {
  for (let i = 0; i < want.size; i++) if (!Object.is(got.data[i], f16(want.data[i]!))) return i;
  return -1;
};

describe('PNM element-wise lowerings', () => {
  it.each(['Add', 'Mul'])('%s is bit-exact against the reference, with broadcasting', (type) => {
    fc.assert(fc.property(shapeArb.chain((s) => fc.tuple(fc.constant(s), broadcastOf(s), fc.boolean())), fc.nat(), ([shape, other, swap], seed) => {
      const a = randomTensor(shape, seed, -3, 3), b = randomTensor(other, seed + 1, -3, 3);
      const r = runOpOnPnm(type, '', swap ? [b, a] : [a, b]);
      expect(exactF16(r.got[0]!, r.want[0]!), `${type} [${shape}] with [${other}]`).toBe(-1);
    }), { seed: SEED, numRuns: 40 });
  });

  it('spreads element-wise work over every unit and peels rank-5 views', () => {
    const r = runOpOnPnm('Add', '', [randomTensor([2, 3, 2, 3, 5], 1), randomTensor([2, 1, 2, 1, 5], 2)]); // no two dims merge: peeled
    expect(r.program.queues.every((q) => q.length > 0)).toBe(true);
    expect(r.program.queues.reduce((n, q) => n + q.length, 0)).toBeGreaterThan(4);
    expect(exactF16(r.got[0]!, r.want[0]!)).toBe(-1);
  });

  const cases: [string, string, Record<string, string>, 'gelu' | 'silu' | 'swiglu', number][] = [
    ['Gelu', '', {}, 'gelu', 1], ['Gelu', '', { approximate: 'tanh' }, 'gelu', 1],
    ['Gelu', 'pimc', {}, 'gelu', 1], ['Gelu', 'pimc', { approximate: 'tanh' }, 'gelu', 1],
    ['Silu', 'pimc', {}, 'silu', 1], ['SwiGLU', 'pimc', {}, 'swiglu', 2],
  ];
  it.each(cases)('%s (%s) %j within its derived bound', (type, domain, attrs, kind, arity) => {
    fc.assert(fc.property(shapeArb, fc.nat(), (shape, seed) => {
      const ins = Array.from({ length: arity }, (_, k) => randomTensor(shape, seed + k, -6, 6));
      const r = runOpOnPnm(type, domain, ins, attrs);
      const x = r.rounded[0]!, want = r.want[0]!;
      const bound = (i: number) => {
        const ax = Math.abs(x.data[i]!);
        const absY = (Math.abs(want.data[i]!) + 2 ** -50 * ax) / (1 - U - 1e-15);
        return activationBound(kind, absY, ax);
      };
      const w = worstError(r.got[0]!, want, bound);
      expect(w.ratio, `${type} [${shape}] worst at ${w.index}`).toBeLessThanOrEqual(1);
    }), { seed: SEED, numRuns: 12 });
  });
});
