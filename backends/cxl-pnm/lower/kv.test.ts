// pimc.KvAppend on the PNM: bit-exact (bits are copied, never rounded), as a
// copy + append into a separate present buffer and in place in a cache with
// spare capacity (only the new rows move), on random shapes and axes
// (fast-check, fixed seed). The bound (backends/cxl-pnm/bounds/kv.ts) is 0:
// any difference is an Infinity ratio, so ratio <= 1 is every element equal.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sizeOf } from '../../../ir/tensor.js';
import { describeWorst, randomTensor, runPnmBounded } from './harness.js';

const SEED = 848484;

const arb = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 5 }),
  axisPick: fc.nat(), n: fc.integer({ min: 1, max: 3 }), spare: fc.integer({ min: 0, max: 4 }), seed: fc.nat(),
});

describe('PNM KvAppend', () => {
  it.each([false, true])('in place = %s: bit-exact on random shapes and axes', (inPlace) => {
    fc.assert(fc.property(arb, ({ shape, axisPick, n, spare, seed }) => {
      const axis = axisPick % shape.length;
      const next = shape.map((d, i) => (i === axis ? n : d));
      const cap = shape.map((d, i) => (i === axis ? d + n + spare : d));
      const r = runPnmBounded('KvAppend', 'pimc', [randomTensor(shape, seed), randomTensor(next, seed + 1)], { axis },
        inPlace ? { padded: { 0: cap }, inPlace: { 0: 0 } } : {});
      expect(Array.from(r.got[0]!.data), `[${shape}] axis ${axis} + ${n}`).toEqual(Array.from(r.want[0]!.data));
      expect(r.worst.ratio, `[${shape}] axis ${axis} + ${n}: ${describeWorst(r.worst)}`).toBeLessThanOrEqual(1);
      const ops = r.program.queues.flat().map((d) => d.op);
      expect(ops.includes('copy')).toBe(!inPlace);
      // In place, the device moves the new rows only: read once, written once.
      if (inPlace) expect(r.stats.bytesRead + r.stats.bytesWritten).toBe(2 * 2 * sizeOf(next));
    }), { seed: SEED, numRuns: 30 });
  });

  it('appends a decode step of a [16, 8, 1000, 128] cache in place, one descriptor per unit', () => {
    const r = runPnmBounded('KvAppend', 'pimc', [randomTensor([16, 8, 4, 128], 1), randomTensor([16, 8, 1, 128], 2)], {},
      { padded: { 0: [16, 8, 1000, 128] }, inPlace: { 0: 0 } });
    expect(Array.from(r.got[0]!.data)).toEqual(Array.from(r.want[0]!.data));
    expect(r.worst.ratio, describeWorst(r.worst)).toBeLessThanOrEqual(1);
    expect(r.program.queues.map((q) => q.map((d) => `${d.op} pos=${d.imm}`))).toEqual([0, 1, 2, 3].map(() => ['kv_append pos=4']));
  });
});
