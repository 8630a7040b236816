// MatMul, Gemm and pimc.Linear (backends/npu/lower/matmul/: one GEMM core).
//
// Error bound. Inputs are the same f16 values on both sides (the reference
// runs on the inputs as the NPU stored them), so only the arithmetic differs. With u = 2^-24 and
// gamma_n(u) = n u / (1 - n u):
// - exact x = sum_k a_k b_k; S = sum_k |a_k b_k|.
// - NPU: the array adds the exact f16 x f16 products in fp32, in k order,
//   across K steps (the accumulator carries over): |y - x| <= gamma_K(u) S.
//   The epilogue (Gemm alpha, beta*C, bias add) rounds each op to fp32:
//   at most 4u (|alpha| S + |beta c|) including alpha and beta as fp32
//   immediates. The f16 store: |got - y| <= 2^-11 |y| + 2^-25 (half the
//   subnormal spacing).
// - Reference: float64 products and sums (gamma_K(2^-53) S), one rounding
//   to the f32 output (u |want|; for Linear two: product, then + bias).
// So |got - want| <= (1 + 2^-11) e_y + (2^-11 + 4u) |want| + 2^-25 with
// e_y = |alpha| (gamma_K(u) + gamma_K(2^-53)) S + 4u (|alpha| S + |beta c|).
//
// |beta c| is C (Gemm, times beta, broadcast to [M, N]; 0 when beta = 0) or
// the bias (Linear, alpha = 1) as stored. S is computed per output element
// from the stored inputs (absProduct).

import { matmul } from '../../../ir/ops/matmul.js';
import { broadcastStrides } from '../../../ir/ops/support.js';
import { Tensor, sizeOf } from '../../../ir/tensor.js';
import { U, f32Reference, gamma, need } from './common.js';
import { registerBound, type BoundContext, type ElementBound } from './registry.js';

const fail = (m: string): never => { throw new Error(`internal: ${m}`); };

/** |t| as an f32 tensor of t's shape. */
const abs = (t: Tensor) => Tensor.from('f32', t.shape, Array.from(t.data, Math.abs));

/** |t|^T of a 2-D t, as an f32 tensor. */
const absT2 = (t: Tensor) => new Tensor('f32', [t.shape[1]!, t.shape[0]!], Float32Array.from({ length: t.size }, (_, i) => Math.abs(t.data[(i % t.shape[0]!) * t.shape[1]! + Math.floor(i / t.shape[0]!)]!)));

/**
 * sum_k |a b| per output, from the stored inputs (the reference's own MatMul
 * on |a|, |b|: float64, then f32: scaled up by 2u to stay an upper bound).
 * `a`, `b` are |.| already, f32.
 */
function absProduct(a: Tensor, b: Tensor): Float64Array {
  const s = matmul(a, b, fail);
  return Float64Array.from(s.data, (x) => x * (1 + 2 * U));
}

/** The header's bound for every element of the one output. */
function gemmBound(c: BoundContext, K: number, alphaAttr: number, S: Float64Array, betaC: (i: number) => number): ElementBound {
  f32Reference(c);
  const want = c.want[0]!;
  const alpha = Math.abs(alphaAttr);
  const g = gamma(K, U) + gamma(K, 2 ** -53);
  return (_o, i) => {
    const bc = betaC(i);
    const ey = alpha * g * S[i]! + 4 * U * (alpha * S[i]! + bc);
    return (1 + 2 ** -11) * ey + (2 ** -11 + 4 * U) * Math.abs(want.data[i]!) + 2 ** -25;
  };
}

/** numpy matmul: 1-D operands are promoted by matmul() itself, so S has want's layout. */
registerBound('', 'MatMul', (c) => {
  const a = need(c, 0), b = need(c, 1);
  const K = a.shape[a.rank - 1]!;
  return gemmBound(c, K, 1, absProduct(abs(a), abs(b)), () => 0);
});

registerBound('', 'Gemm', (c) => {
  const a = need(c, 0), b = need(c, 1), C = c.inputs[2] ?? null;
  const tA = c.attrs.int('transA', 0) !== 0, tB = c.attrs.int('transB', 0) !== 0;
  const alpha = c.attrs.float('alpha', 1), beta = c.attrs.float('beta', 1);
  const [M, K] = tA ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const N = tB ? b.shape[0]! : b.shape[1]!;
  const S = absProduct(tA ? absT2(a) : abs(a), tB ? absT2(b) : abs(b));
  let betaC = (_i: number) => 0;
  if (C && beta !== 0) {
    const [sr, sc] = broadcastStrides(C.shape, [M, N]) as [number, number];
    betaC = (i) => Math.abs(beta * C.data[Math.floor(i / N) * sr + (i % N) * sc]!);
  }
  return gemmBound(c, K, alpha, S, betaC);
});

registerBound('pimc', 'Linear', (c) => {
  const x = need(c, 0), w = need(c, 1), bias = c.inputs[2] ?? null;
  const tB = c.attrs.int('transB', 0) !== 0;
  const K = x.shape[x.rank - 1]!;
  const N = tB ? w.shape[0]! : w.shape[1]!;
  const S = absProduct(abs(x).reshape([sizeOf(x.shape.slice(0, -1)), K]), tB ? absT2(w) : abs(w));
  return gemmBound(c, K, 1, S, (i) => (bias ? Math.abs(bias.data[i % N]!) : 0));
});
