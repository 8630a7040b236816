// Element-wise arithmetic and activations (backends/npu/lower/misc/
// elementwise.ts): f16Bound(want, E) (common.ts) with E a bound on |fp32
// result - reference| derived per op below; u = 2^-24.
//   one fp32 op (+ - * /, max, min, sqrt, recip, neg, relu): the NPU's fp32
//     value IS the reference's f32 value (both correctly rounded): E = 0;
//     max/min/neg/relu/clip of f16 values are f16 values: exact.
//   transcendental (exp, log, tanh, erf, sigmoid, sin, cos, pow): the vector
//     unit is within 1 fp32 ulp (2u relative) of exact, the reference within
//     u: E = 3u|want| (ulp3 below).
// (Clip is registered with the selections, select.ts.)

import { EXACT, U, need, storeBound } from './common.js';
import { registerBound } from './registry.js';

const ulp3 = (w: number) => (3 * U * Math.abs(w)) / (1 - U);

for (const type of ['Add', 'Sub', 'Mul', 'Div', 'Sqrt', 'Reciprocal']) registerBound('', type, (c) => storeBound(c));
for (const type of ['Max', 'Min', 'Neg', 'Relu']) registerBound('', type, () => EXACT);
for (const type of ['Exp', 'Log', 'Erf', 'Tanh', 'Sigmoid', 'Cos', 'Sin', 'Pow']) registerBound('', type, (c) => storeBound(c, (_i, w) => ulp3(w)));

// GELU (erf form): t1 = fl(x * fl(1/sqrt 2)) is x/sqrt2 within 2u; erf moves
// by at most max|erf'(z) z| = 2/sqrt(pi)/sqrt(2e) = 0.484 times that relative
// change (0.97u) and is within 2u of exact: |e - erf| <= 2.97u; 1 + e adds u
// of a value <= 2: 4.97u absolute; times x adds u|v|; the 0.5 is exact. So
// |v - exact| <= 2.49u|x| + u|v|, and E = 2.5u|x| + 2.1u|want| with the
// reference's rounding. (The absolute u|x| term is the cancellation in 1 +
// erf for x << 0: the reference, using erfc, does not have it.)
const geluErfE = (x: number, w: number) => 2.5 * U * Math.abs(x) + 2.1 * U * Math.abs(w);

// GELU (tanh form), per element, following the fp32 chain:
// c = fl(fl(fl(x*x)*x) * k) is k x^3 within 4u; s = fl(c + x): ds = 4u k|x|^3
// + u|s|; z = fl(s * fl(sqrt(2/pi))): dz = 0.7979 ds + 2u|z|; t = tanh(z)
// within 2u and moving by at most sech^2 over [|z| - dz, |z|] times dz;
// 1 + t adds 2u; times x adds u|v|; 0.5 exact.
function geluTanhE(x: number, w: number): number {
  const k = 0.044715, c = Math.sqrt(2 / Math.PI);
  const s = x + k * x ** 3, z = c * s;
  const ds = 4 * U * k * Math.abs(x) ** 3 + U * Math.abs(s) * (1 + 1e-6);
  const dz = c * ds + 2 * U * Math.abs(z);
  const m = Math.max(0, Math.abs(z) - dz);
  const dt = (1 - Math.tanh(m) ** 2) * dz + 2 * U * Math.abs(Math.tanh(z)) + 2 * U;
  return 0.5 * Math.abs(x) * dt + 2.1 * U * Math.abs(w);
}

for (const domain of ['', 'pimc']) {
  registerBound(domain, 'Gelu', (c) => {
    const xs = need(c, 0).data;
    const E = c.attrs.string('approximate', 'none') === 'tanh' ? geluTanhE : geluErfE;
    return storeBound(c, (i, w) => E(xs[i]!, w));
  });
}

// Silu: sigmoid within 2u, one product u, reference u: E = 4.1u|want|.
registerBound('pimc', 'Silu', (c) => storeBound(c, (_i, w) => 4.1 * U * Math.abs(w)));

// SwiGLU: sigmoid 2u, two products 2u, reference u: E = 5.1u|want|.
registerBound('pimc', 'SwiGLU', (c) => storeBound(c, (_i, w) => 5.1 * U * Math.abs(w)));
