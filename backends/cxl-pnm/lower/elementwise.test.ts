// Element-wise lowerings against the reference on random shapes (fast-check,
// fixed seed): ranks 1 to 5 (rank 5 is peeled into several descriptors),
// awkward sizes, numpy broadcasting.
// Bounds: backends/cxl-pnm/bounds/elementwise.ts (one definition per op type,
// its derivation beside it); the tests run ops and compare (runPnmBounded).
// Add and Mul are also checked bit for bit, got = f16(want) (ties to even,
// signed zeros), which no bound on |got - want| can say.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f16 } from '../../../runtime-sim/hbm/fp16.js';
import type { Tensor } from '../../../ir/tensor.js';
import { describeWorst, randomTensor, runPnmBounded } from './harness.js';

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
      const r = runPnmBounded(type, '', swap ? [b, a] : [a, b]);
      expect(exactF16(r.got[0]!, r.want[0]!), `${type} [${shape}] with [${other}]`).toBe(-1);
      expect(r.worst.ratio, `${type} [${shape}] with [${other}]: ${describeWorst(r.worst)}`).toBeLessThanOrEqual(1);
    }), { seed: SEED, numRuns: 40 });
  });

  it('spreads element-wise work over every unit and peels rank-5 views', () => {
    const r = runPnmBounded('Add', '', [randomTensor([2, 3, 2, 3, 5], 1), randomTensor([2, 1, 2, 1, 5], 2)]); // no two dims merge: peeled
    expect(r.program.queues.every((q) => q.length > 0)).toBe(true);
    expect(r.program.queues.reduce((n, q) => n + q.length, 0)).toBeGreaterThan(4);
    expect(exactF16(r.got[0]!, r.want[0]!)).toBe(-1);
    expect(r.worst.ratio, describeWorst(r.worst)).toBeLessThanOrEqual(1);
  });

  const cases: [string, string, Record<string, string>, number][] = [
    ['Gelu', '', {}, 1], ['Gelu', '', { approximate: 'tanh' }, 1],
    ['Gelu', 'pimc', {}, 1], ['Gelu', 'pimc', { approximate: 'tanh' }, 1],
    ['Silu', 'pimc', {}, 1], ['SwiGLU', 'pimc', {}, 2],
  ];
  it.each(cases)('%s (%s) %j within its derived bound', (type, domain, attrs, arity) => {
    fc.assert(fc.property(shapeArb, fc.nat(), (shape, seed) => {
      const ins = Array.from({ length: arity }, (_, k) => randomTensor(shape, seed + k, -6, 6));
      const r = runPnmBounded(type, domain, ins, attrs);
      expect(r.worst.ratio, `${type} [${shape}] ${describeWorst(r.worst)}`).toBeLessThanOrEqual(1);
    }), { seed: SEED, numRuns: 12 });
  });
});
