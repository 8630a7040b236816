// GEMV / small GEMM on the matrix engine (lower/gemm.ts): pimc.Linear
// (x @ W (+ bias), W [K, N] or [N, K] with transB) and MatMul (numpy batch
// broadcasting, 1-D operands).
//
// Bound per output element (lower/bounds.ts gemmBound), with E = sum_k |a_k b_k|
// and y the exact product (+ bias):
//   device   gamma(K-1, u) E (in-order FP32 sum of exact products), plus u(|y| + that) with a bias
//   ref      gamma(K-1, 2^-53) E, FP32 rounding of the product, and of the bias add
//   store    2^-11 (|y| + dev) + 2^-25
// y and E are computed here as double sums over k in order, so each is within
// gamma(K, 2^-53) E of exact: the magnitudes passed to gemmBound are |y| (+
// bias) + that slack, and E (1 + gamma(K, 2^-53)).

import { broadcastShapes, broadcastStrides } from '../../../ir/ops/support.js';
import { sizeOf } from '../../../ir/tensor.js';
import { gamma, gemmBound, UD } from '../lower/bounds.js';
import { boundError, f32Reference, need } from './common.js';
import { registerPnmBound, type BoundContext, type ElementBound } from './registry.js';

/** Per output element of A [.., M, K] @ B [.., K, N] (batch already expanded): y, E, in double, k in order. */
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

/** The header's bound for every output element; `bias(i)` the bias added to element i (null: none). */
function bounds(c: BoundContext, y: Float64Array, E: Float64Array, K: number, bias: ((i: number) => number) | null): ElementBound {
  if (y.length !== c.want[0]!.size) boundError(c, `with ${y.length} products against ${c.want[0]!.size} outputs`);
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const slack = gamma(K, UD) * E[i]!; // y and E are double sums: within this of exact
    const prod = Math.abs(y[i]!) + slack;
    out[i] = gemmBound(Math.abs(y[i]! + (bias ? bias(i) : 0)) + slack, E[i]! * (1 + gamma(K, UD)), K, !!bias, prod);
  }
  return (_o, i) => out[i]!;
}

registerPnmBound('pimc', 'Linear', (c) => {
  f32Reference(c);
  const x = need(c, 0), w = need(c, 1), b = c.inputs[2] ?? null;
  const transB = c.attrs.int('transB', 0) !== 0;
  const K = x.shape[x.rank - 1]!, N = transB ? w.shape[0]! : w.shape[1]!, M = sizeOf(x.shape.slice(0, -1));
  const { y, E } = products((_, m, k) => x.data[m * K + k]!, (_, k, n) => w.data[transB ? n * K + k : k * N + n]!, 1, M, K, N);
  return bounds(c, y, E, K, b ? (i) => b.data[i % N]! : null);
});

registerPnmBound('', 'MatMul', (c) => {
  f32Reference(c);
  const A = need(c, 0), B = need(c, 1);
  // 1-D operands: A [K] is one row, B [K] one column (and that dim leaves the output).
  const a2 = A.rank === 1 ? [1, A.shape[0]!] : [...A.shape], b2 = B.rank === 1 ? [B.shape[0]!, 1] : [...B.shape];
  const [M, K] = a2.slice(-2) as [number, number];
  const N = b2[b2.length - 1]!;
  const aB = a2.slice(0, -2), bB = b2.slice(0, -2);
  const bd = broadcastShapes(aB, bB) as number[];
  const [sa, sb] = [broadcastStrides(aB, bd), broadcastStrides(bB, bd)];
  // Batch index t -> element offsets of A and B (numpy broadcasting, right-aligned).
  const offs = (s: number[], inner: number) => Float64Array.from({ length: sizeOf(bd) }, (_, t) => {
    let o = 0, rest = t;
    for (let i = bd.length - 1; i >= 0; i--) {
      o += (rest % bd[i]!) * s[i]!;
      rest = Math.floor(rest / bd[i]!);
    }
    return o * inner;
  });
  const [oa, ob] = [offs(sa, M * K), offs(sb, K * N)];
  const { y, E } = products((t, m, k) => A.data[oa[t]! + m * K + k]!, (t, k, n) => B.data[ob[t]! + k * N + n]!, sizeOf(bd), M, K, N);
  return bounds(c, y, E, K, null);
});
