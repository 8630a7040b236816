// GEMV / small GEMM lowerings (pimc.Linear, MatMul) against the reference on
// random shapes (fast-check, fixed seed): awkward K and N, transB, bias,
// batch broadcasting, 1-D operands. Bound per output element:
// backends/cxl-pnm/bounds/gemm.ts (gemmBound from y and sum_k |a_k b_k|, the
// derivation beside it); the tests run ops and compare (runPnmBounded).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeWorst, randomTensor, runPnmBounded, type PnmBoundedRun } from './harness.js';

const SEED = 626262;

function check(r: PnmBoundedRun, what: string) {
  expect(r.worst.ratio, `${what}: ${describeWorst(r.worst)}`).toBeLessThanOrEqual(1);
}

describe('PNM Linear', () => {
  it('random K, N, batch, transB and bias within gemmBound', () => {
    const arb = fc.record({
      lead: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
      K: fc.integer({ min: 1, max: 300 }), N: fc.integer({ min: 1, max: 70 }),
      transB: fc.boolean(), bias: fc.boolean(), seed: fc.nat(),
    });
    fc.assert(fc.property(arb, ({ lead, K, N, transB, bias, seed }) => {
      const x = randomTensor([...lead, K], seed, -1, 1), w = randomTensor(transB ? [N, K] : [K, N], seed + 1, -1, 1);
      const ins = [x, w, ...(bias ? [randomTensor([N], seed + 2, -2, 2)] : [])];
      const r = runPnmBounded('Linear', 'pimc', ins, { transB: transB ? 1 : 0 });
      check(r, `Linear x [${lead}, ${K}] N ${N} transB ${transB} bias ${bias}`);
    }), { seed: SEED, numRuns: 25 });
  });

  it('a 2048 x 512 GEMV splits its weight columns over the four units', () => {
    const r = runPnmBounded('Linear', 'pimc', [randomTensor([1, 2048], 3), randomTensor([2048, 512], 4)]);
    expect(r.program.queues.map((q) => q.length)).toEqual([1, 1, 1, 1]);
    expect(r.program.queues.map((q) => r.program.table[q[0]!.in1]!.dims)).toEqual([[2048, 128], [2048, 128], [2048, 128], [2048, 128]]);
    check(r, 'GEMV 2048 x 512');
    // The weight (2 MiB) streams once; each unit reads all of x.
    expect(r.stats.bytesRead).toBe(4 * 2 * 2048 + 2 * 2048 * 512);
  });

  it('refuses a GEMM whose activation rows do not fit half the SRAM (PIMC1206)', () => {
    expect(() => runPnmBounded('Linear', 'pimc', [randomTensor([17, 4096], 1), randomTensor([4096, 8], 2)])).toThrow(/PIMC1206: op "n" \(pimc.Linear\): 17 activation rows of 4096 .* do not fit half a unit's 262144-byte SRAM.*place it on the NPU/);
  });
});

describe('PNM MatMul', () => {
  it('random batch broadcasting and 1-D operands within gemmBound', () => {
    const arb = fc.record({
      batchA: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }), bOnes: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
      M: fc.integer({ min: 1, max: 5 }), K: fc.integer({ min: 1, max: 90 }), N: fc.integer({ min: 1, max: 40 }),
      aVec: fc.boolean(), bVec: fc.boolean(), seed: fc.nat(),
    });
    fc.assert(fc.property(arb, ({ batchA, bOnes, M, K, N, aVec, bVec, seed }) => {
      const batchB = batchA.map((d, i) => (bOnes[i] ? 1 : d));
      const aShape = aVec ? [K] : [...batchA, M, K], bShape = bVec ? [K] : [...batchB, K, N];
      const r = runPnmBounded('MatMul', '', [randomTensor(aShape, seed, -1, 1), randomTensor(bShape, seed + 1, -1, 1)]);
      check(r, `MatMul [${aShape}] @ [${bShape}]`);
    }), { seed: SEED, numRuns: 30 });
  });
});
