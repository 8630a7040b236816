// GEMV / small GEMM lowerings (pimc.Linear, MatMul) against the reference on
// random shapes (fast-check, fixed seed): awkward K and N, transB, bias,
// batch broadcasting, 1-D operands. Bound per output element (bounds.ts
// gemmBound), with E = sum_k |a_k b_k| and y the exact product (+ bias):
//   device   gamma(K-1, u) E (in-order FP32 sum of exact products), plus u(|y| + that) with a bias
//   ref      gamma(K-1, 2^-53) E, FP32 rounding of the product, and of the bias add
//   store    2^-11 (|y| + dev) + 2^-25
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor, sizeOf } from '../../../ir/tensor.js';
import { gamma, gemmBound, UD } from './bounds.js';
import { randomTensor, runOpOnPnm, worstError } from './harness.js';

const SEED = 626262;

/** Per output element of A [.., M, K] @ B [.., K, N] (batch already expanded): |y|, E. */
function products(a: (bt: number, m: number, k: number) => number, b: (bt: number, k: number, n: number) => number, batch: number, M: number, K: number, N: number) {
  const y = new Float64Array(batch * M * N), E = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0, e = 0;
        for (let k = 0; k < K; k++) {
          const p = a(t, m, k) * b(t, k, n);
          s += p;
          e += Math.abs(p);
        }
        y[(t * M + m) * N + n] = s;
        E[(t * M + m) * N + n] = e;
      }
    }
  }
  return { y, E };
}

function check(got: Tensor, want: Tensor, bound: (i: number) => number, what: string) {
  const w = worstError(got, want, bound);
  expect(w.ratio, `${what}: worst at ${w.index}`).toBeLessThanOrEqual(1);
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
      const r = runOpOnPnm('Linear', 'pimc', ins, { transB: transB ? 1 : 0 });
      const [xr, wr, br] = r.rounded as [Tensor, Tensor, Tensor | undefined];
      const M = sizeOf(lead);
      const { y, E } = products((_, m, k) => xr.data[m * K + k]!, (_, k, n) => wr.data[transB ? n * K + k : k * N + n]!, 1, M, K, N);
      const slack = (i: number) => gamma(K, UD) * E[i]!; // y and E are double sums: within this of exact
      check(r.got[0]!, r.want[0]!, (i) => {
        const prod = Math.abs(y[i]!) + slack(i);
        return gemmBound(Math.abs(y[i]! + (br ? br.data[i % N]! : 0)) + slack(i), E[i]! * (1 + gamma(K, UD)), K, !!br, prod);
      }, `Linear x [${lead}, ${K}] N ${N} transB ${transB} bias ${bias}`);
    }), { seed: SEED, numRuns: 25 });
  });

  it('a 2048 x 512 GEMV splits its weight columns over the four units', () => {
    const r = runOpOnPnm('Linear', 'pimc', [randomTensor([1, 2048], 3), randomTensor([2048, 512], 4)]);
    expect(r.program.queues.map((q) => q.length)).toEqual([1, 1, 1, 1]);
    expect(r.program.queues.map((q) => r.program.table[q[0]!.in1]!.dims)).toEqual([[2048, 128], [2048, 128], [2048, 128], [2048, 128]]);
    const [xr, wr] = r.rounded as [Tensor, Tensor];
    const { y, E } = products((_, __, k) => xr.data[k]!, (_, k, n) => wr.data[k * 512 + n]!, 1, 1, 2048, 512);
    check(r.got[0]!, r.want[0]!, (i) => gemmBound(Math.abs(y[i]!) + gamma(2048, UD) * E[i]!, E[i]! * (1 + gamma(2048, UD)), 2048, false, Math.abs(y[i]!) + gamma(2048, UD) * E[i]!), 'GEMV 2048 x 512');
    // The weight (2 MiB) streams once; each unit reads all of x.
    expect(r.stats.bytesRead).toBe(4 * 2 * 2048 + 2 * 2048 * 512);
  });

  it('refuses a GEMM whose activation rows do not fit half the SRAM (PIMC1206)', () => {
    expect(() => runOpOnPnm('Linear', 'pimc', [randomTensor([17, 4096], 1), randomTensor([4096, 8], 2)])).toThrow(/PIMC1206: op "n" \(pimc.Linear\): 17 activation rows of 4096 .* do not fit half a unit's 262144-byte SRAM.*place it on the NPU/);
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
      const r = runOpOnPnm('MatMul', '', [randomTensor(aShape, seed, -1, 1), randomTensor(bShape, seed + 1, -1, 1)]);
      const [ar, br] = r.rounded as [Tensor, Tensor];
      const bd = aVec ? (bVec ? [] : batchB) : bVec ? batchA : batchA;
      const Mx = aVec ? 1 : M, Nx = bVec ? 1 : N, batch = sizeOf(bd);
      // Batch index t -> element offsets of A and B (numpy broadcasting, right-aligned).
      const off = (shape: number[], t: number, inner: number) => {
        let o = 0, rest = t, stride = inner;
        for (let i = bd.length - 1; i >= 0; i--) {
          const idx = rest % bd[i]!;
          rest = Math.floor(rest / bd[i]!);
          const j = i - (bd.length - shape.length);
          if (j >= 0) {
            o += (shape[j] === 1 ? 0 : idx) * stride;
            stride *= shape[j]!;
          }
        }
        return o;
      };
      const aB = aVec ? [] : batchA, bB = bVec ? [] : batchB;
      const { y, E } = products((t, m, k) => ar.data[off(aB, t, Mx * K) + m * K + k]!, (t, k, n) => br.data[off(bB, t, K * Nx) + k * Nx + n]!, batch, Mx, K, Nx);
      check(r.got[0]!, r.want[0]!, (i) => gemmBound(Math.abs(y[i]!) + gamma(K, UD) * E[i]!, E[i]! * (1 + gamma(K, UD)), K, false, Math.abs(y[i]!) + gamma(K, UD) * E[i]!), `MatMul [${aShape}] @ [${bShape}]`);
    }), { seed: SEED, numRuns: 30 });
  });
});
