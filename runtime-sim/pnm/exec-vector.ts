// The vector engine's descriptors, functionally. FP32 arithmetic: each + - *
// / is a double operation rounded with Math.fround (correctly rounded, as
// double holds the exact result of two FP32 operands before rounding). The
// function unit (exp, rsqrt, sigmoid, the GELU factor Phi) returns the double
// result rounded once to FP32, within one FP32 ulp plus 2^-51 relative
// [ours]. Row ops (softmax, norms, rope) work along the last dim; every
// operand was gathered in the output's dims (broadcasts already expanded).

import type { PnmOp } from '../../backends/cxl-pnm/instr.js';

const fr = Math.fround;
const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erfc(a) for a >= 0 in double: 1 - erf by its all-positive series below 2.5, the continued fraction above. */
function erfcPos(a: number): number {
  if (a < 2.5) {
    const x2 = a * a;
    let term = a, sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      sum += term;
      if (term <= sum * 1e-17) break;
    }
    return 1 - TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  }
  let k = 0;
  for (let n = 60; n >= 1; n--) k = n / 2 / (a + k);
  return Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + k);
}

/** The standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2, accurate in both tails. */
export function phi(x: number): number {
  if (x !== x) return x;
  const z = x * SQRT_HALF;
  return z >= 0 ? 1 - erfcPos(z) / 2 : erfcPos(-z) / 2;
}

/** GELU's tanh factor (1 + tanh(u)) / 2, written as sigmoid(2u) so the negative tail does not cancel. */
export const phiTanh = (x: number): number => 1 / (1 + Math.exp(-2 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Element-wise ops: y[i] from the operands' i-th values. */
export function execElementwise(op: PnmOp, flags: number, ins: Float64Array[], y: Float64Array): void {
  const [a, b] = ins as [Float64Array, Float64Array | undefined];
  const n = y.length;
  switch (op) {
    case 'gelu': {
      const f = flags & 1 ? phiTanh : phi;
      for (let i = 0; i < n; i++) y[i] = fr(a[i]! * fr(f(a[i]!)));
      return;
    }
    case 'silu':
      for (let i = 0; i < n; i++) y[i] = fr(a[i]! * fr(sigmoid(a[i]!)));
      return;
    case 'swiglu':
      for (let i = 0; i < n; i++) y[i] = fr(fr(a[i]! * fr(sigmoid(a[i]!))) * b![i]!);
      return;
    case 'add':
      for (let i = 0; i < n; i++) y[i] = fr(a[i]! + b![i]!);
      return;
    case 'mul':
      for (let i = 0; i < n; i++) y[i] = fr(a[i]! * b![i]!);
      return;
    default:
      throw new Error(`internal: ${op} is not element-wise`);
  }
}

/** Row ops along the last dim (length L). `imm` is epsilon for the norms. */
export function execRows(op: PnmOp, flags: number, imm: number, L: number, ins: Float64Array[], y: Float64Array): void {
  const x = ins[0]!;
  const rows = L ? y.length / L : 0;
  for (let r = 0; r < rows; r++) {
    const o = r * L;
    switch (op) {
      case 'softmax': {
        let m = -Infinity;
        for (let i = 0; i < L; i++) m = Math.max(m, x[o + i]!);
        let s = 0;
        for (let i = 0; i < L; i++) s = fr(s + (y[o + i] = fr(Math.exp(fr(x[o + i]! - m)))));
        for (let i = 0; i < L; i++) y[o + i] = fr(y[o + i]! / s);
        break;
      }
      case 'layernorm': {
        const [g, beta] = [ins[1]!, ins[2]];
        let s = 0;
        for (let i = 0; i < L; i++) s = fr(s + x[o + i]!);
        const mean = fr(s / L);
        let v = 0;
        for (let i = 0; i < L; i++) {
          const d = fr(x[o + i]! - mean);
          v = fr(v + fr(d * d));
        }
        const inv = fr(1 / Math.sqrt(fr(fr(v / L) + imm)));
        for (let i = 0; i < L; i++) {
          const t = fr(fr(fr(x[o + i]! - mean) * inv) * g[o + i]!);
          y[o + i] = beta ? fr(t + beta[o + i]!) : t;
        }
        break;
      }
      case 'rmsnorm': {
        const g = ins[1]!;
        let s = 0;
        for (let i = 0; i < L; i++) s = fr(s + fr(x[o + i]! * x[o + i]!));
        const inv = fr(1 / Math.sqrt(fr(fr(s / L) + imm)));
        for (let i = 0; i < L; i++) y[o + i] = fr(fr(x[o + i]! * inv) * g[o + i]!);
        break;
      }
      case 'rope': {
        const [c, sn] = [ins[1]!, ins[2]!];
        const h = L / 2;
        const inter = (flags & 1) !== 0;
        for (let i = 0; i < L; i++) {
          const rot = inter ? (i % 2 === 0 ? -x[o + i + 1]! : x[o + i - 1]!) : i < h ? -x[o + i + h]! : x[o + i - h]!;
          y[o + i] = fr(fr(x[o + i]! * c[o + i]!) + fr(rot * sn[o + i]!));
        }
        break;
      }
      default:
        throw new Error(`internal: ${op} is not a row op`);
    }
  }
}
