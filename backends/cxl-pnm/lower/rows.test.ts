// Row lowerings (softmax, norms, RoPE) against the reference on random shapes
// and axes (fast-check, fixed seed). Bounds per element:
// backends/cxl-pnm/bounds/rows.ts (softmaxBound from the row's length and
// range, normBound from the row's statistics, ropeBound; the derivations
// beside them); the tests run ops and compare (runPnmBounded).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sizeOf } from '../../../ir/tensor.js';
import { F, describeWorst, randomTensor, runPnmBounded, type PnmBoundedRun } from './harness.js';

const SEED = 515151;
const shapeArb = fc.array(fc.integer({ min: 1, max: 11 }), { minLength: 1, maxLength: 4 });

function check(r: PnmBoundedRun, what: string) {
  expect(r.worst.ratio, `${what}: ${describeWorst(r.worst)}`).toBeLessThanOrEqual(1);
}

describe('PNM softmax', () => {
  it('any axis, awkward sizes, within the derived bound', () => {
    fc.assert(fc.property(shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: -s.length, max: s.length - 1 }))), fc.nat(), ([shape, axis], seed) => {
      const r = runPnmBounded('Softmax', '', [randomTensor(shape, seed, -8, 8)], { axis });
      check(r, `Softmax [${shape}] axis ${axis}`);
    }), { seed: SEED, numRuns: 25 });
  });

  it('before opset 13 the dims from axis on are one row', () => {
    const r = runPnmBounded('Softmax', '', [randomTensor([3, 4, 5], 9, -4, 4)], {}, { opset: 11 });
    check(r, 'legacy Softmax');
  });
});

describe('PNM norms', () => {
  const cases: [string, string, boolean, boolean][] = [
    ['LayerNorm', 'pimc', false, true], ['LayerNorm', 'pimc', false, false], ['LayerNormalization', '', false, true],
    ['RMSNorm', 'pimc', true, false], ['RMSNormalization', '', true, false],
  ];
  it.each(cases)('%s (%s) rms=%s bias=%s: random shapes and axes within normError', (type, domain, _rms, bias) => {
    // Wide rows, and narrow ones around 1 (the mean cancels most of x; epsilon matters).
    const spread = fc.constantFrom([-3, 5], [0.97, 1.03]);
    fc.assert(fc.property(shapeArb.chain((s) => fc.tuple(fc.constant(s), fc.integer({ min: 0, max: s.length - 1 }))), fc.nat(), fc.double({ min: 1e-6, max: 1e-2, noNaN: true }), spread, ([shape, axis], seed, eps, [lo, hi]) => {
      const norm = shape.slice(axis);
      const ins = [randomTensor(shape, seed, lo, hi), randomTensor(norm, seed + 1, -2, 2), ...(bias ? [randomTensor(norm, seed + 2, -1, 1)] : [])];
      const r = runPnmBounded(type, domain, ins, { axis, epsilon: F(eps) });
      check(r, `${type} [${shape}] axis ${axis} (n ${sizeOf(norm)})`);
    }), { seed: SEED, numRuns: 20 });
  });

  it('refuses Mean / InvStdDev outputs and scales that break the row (PIMC1206)', () => {
    expect(() => runPnmBounded('LayerNorm', 'pimc', [randomTensor([2, 3, 4], 1), randomTensor([1, 4], 2)], { axis: -2 })).toThrow(/PIMC1206: .*normalized dims .* not one run/);
  });
});

describe('PNM RoPE', () => {
  it.each([0, 1])('interleaved=%s: random heads and tables within u|y| + the reference + the store', (interleaved) => {
    fc.assert(fc.property(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 12 })), fc.integer({ min: 0, max: 2 }), fc.nat(), ([B, H, S, half], tableKind, seed) => {
      const D = 2 * half;
      const table = [[S, D], [1, 1, S, D], [B, 1, S, D]][tableKind]!;
      const r = runPnmBounded('Rope', 'pimc', [randomTensor([B, H, S, D], seed, -4, 4), randomTensor(table, seed + 1), randomTensor(table, seed + 2)], { interleaved });
      check(r, `Rope [${B}, ${H}, ${S}, ${D}] table [${table}]`);
    }), { seed: SEED, numRuns: 15 });
  });
});
