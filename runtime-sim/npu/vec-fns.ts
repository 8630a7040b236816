// The vector unit's functions (instr.ts VecUnary, VecBinary, VecScalar,
// VecReduce). Operands are fp32 values (f16 widens exactly); each function is
// evaluated in double and rounded once to fp32 (Math.fround). For + - * / and
// sqrt that is the correctly rounded fp32 result (double has more than 2 x 24
// + 2 bits); for exp, log, tanh, erf, sin, cos, pow, sigmoid and rsqrt it is
// the double result rounded once, within one fp32 ulp of the exact value.
// The caller then rounds to the destination dtype.

import type { VecBinary, VecReduce, VecScalar, VecUnary } from '../../backends/npu/instr.js';

const fr = Math.fround;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/**
 * erf in double: erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))
 * (Abramowitz & Stegun 7.1.6), all terms positive, so no cancellation; for
 * |x| >= 4, 1 - erf(x) < 2e-8 is below half an fp32 ulp of 1, so erf is +-1.
 */
export function erf(x: number): number {
  if (x !== x) return x;
  const ax = Math.abs(x);
  if (ax >= 4) return x > 0 ? 1 : -1;
  const x2 = ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  const r = TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
  return x < 0 ? -r : r;
}

export const UNARY: Record<VecUnary, (x: number) => number> = {
  copy: (x) => x,
  neg: (x) => -x,
  abs: (x) => Math.abs(x),
  exp: (x) => fr(Math.exp(x)),
  log: (x) => fr(Math.log(x)),
  tanh: (x) => fr(Math.tanh(x)),
  erf: (x) => fr(erf(x)),
  sqrt: (x) => fr(Math.sqrt(x)),
  rsqrt: (x) => fr(1 / Math.sqrt(x)),
  recip: (x) => fr(1 / x),
  sigmoid: (x) => fr(1 / (1 + Math.exp(-x))),
  relu: (x) => (x > 0 || x !== x ? x : 0),
  sin: (x) => fr(Math.sin(x)),
  cos: (x) => fr(Math.cos(x)),
};

export const BINARY: Record<VecBinary, (a: number, b: number) => number> = {
  add: (a, b) => fr(a + b),
  sub: (a, b) => fr(a - b),
  mul: (a, b) => fr(a * b),
  div: (a, b) => fr(a / b),
  max: (a, b) => Math.max(a, b),
  min: (a, b) => Math.min(a, b),
  pow: (a, b) => fr(Math.pow(a, b)),
};

/** a op imm, imm already rounded to fp32. */
export const SCALAR: Record<VecScalar, (a: number, imm: number) => number> = {
  adds: BINARY.add,
  muls: BINARY.mul,
  maxs: BINARY.max,
  mins: BINARY.min,
  pows: BINARY.pow,
};

/** Along the last dim, in index order, starting from the first element (fp32 sum rounds after every add). */
export const REDUCE: Record<VecReduce, (acc: number, x: number) => number> = {
  rsum: BINARY.add,
  rmax: BINARY.max,
};
