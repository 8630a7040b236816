// pimc.Rope against the reference, both pairings, cos/sin broadcast over
// batch and heads. Bound: backends/npu/bounds/rope.ts (the NPU's fp32 value
// is the reference's: E = 0, only the f16 rounding of the store).

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { expectBound, runBounded, uniform } from './testing.js';

const ropeCase = fc.record({
  b: fc.integer({ min: 1, max: 2 }),
  h: fc.integer({ min: 1, max: 5 }),
  s: fc.integer({ min: 1, max: 13 }),
  half: fc.integer({ min: 1, max: 40 }),
  table: fc.constantFrom('s,d', '1,1,s,d', 'b,1,s,d'),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

describe('pimc.Rope', () => {
  for (const interleaved of [0, 1]) {
    it(`interleaved = ${interleaved} (E = 0)`, () => {
      fc.assert(fc.property(ropeCase, ({ b, h, s, half, table, seed }) => {
        const d = 2 * half;
        const dims: Record<string, number> = { b, s, d, 1: 1 };
        const tshape = table.split(',').map((k) => dims[k]!);
        const r = runBounded('Rope', 'pimc', [uniform([b, h, s, d], seed, -4, 4), uniform(tshape, seed + 1, -1, 1), uniform(tshape, seed + 2, -1, 1)], { interleaved });
        expectBound(r, `Rope [${b}, ${h}, ${s}, ${d}] table [${tshape}]`);
      }), { seed: 99, numRuns: 6 });
    });
  }
});
