// The vocabulary every NPU error bound is written in.
//
// Bounds. u = 2^-24 is the fp32 unit roundoff. The reference computes in
// doubles and rounds its result once to f32 (want); the NPU computes in
// fp32 (v) and rounds once to f16 (got). With E a bound on |v - want|:
//   |got - want| <= |f16(v) - v| + |v - want| <= 2^-11 |v| + 2^-25 + E
//                <= 2^-11 |want| + 2^-25 + (1 + 2^-11) E
// (2^-11 |v|: half an f16 ulp for normal values; 2^-25: half the f16
// subnormal spacing). Each family derives E from its op's fp32 arithmetic.
//
// The derivations take the reference's outputs as f32 (the reference's
// roundings are f32 ones, and "the NPU's fp32 value is the reference's"
// holds only then): a family whose bound is not exact refuses another float
// output type (f32Reference below) instead of giving a bound that was never
// derived for it.

import { isFloat } from '../../../ir/dtype.js';
import { Tensor } from '../../../ir/tensor.js';
import type { BoundContext, ElementBound } from './registry.js';

export const U = 2 ** -24;

/** gamma_n(u) = n u / (1 - n u); u defaults to the fp32 unit roundoff. */
export const gamma = (n: number, u: number = U): number => (n * u) / (1 - n * u);

/** The bound on |got - want| given E = bound on |v - want| (header). */
export const f16Bound = (want: number, E = 0): number => 2 ** -11 * Math.abs(want) + 2 ** -25 + (1 + 2 ** -11) * E;

/** Bit-for-bit the reference's values (movement, selection, max/min). */
export const EXACT: ElementBound = () => 0;

/** Input i, which the op needs. */
export function need(c: BoundContext, i: number): Tensor {
  const t = c.inputs[i];
  if (!t) throw new Error(`internal: the NPU error bound of ${c.op.type} (op "${c.op.name}") needs input ${i}`);
  return t;
}

/** Refuses float outputs other than f32 (header): the bound was derived for an f32 reference. */
export function f32Reference(c: BoundContext): void {
  c.want.forEach((w, k) => {
    if (isFloat(w.dtype) && w.dtype !== 'f32') {
      throw new Error(`internal: no NPU error bound for ${c.op.type} (op "${c.op.name}") with a ${w.dtype} output ${k}: its bound is derived against an f32 reference`);
    }
  });
}

/** One output, bound f16Bound(want_i, E(i)); E omitted is E = 0 (the reference's f32 value rounded once to f16). */
export function storeBound(c: BoundContext, E?: (i: number, want: number) => number): ElementBound {
  f32Reference(c);
  const w = c.want[0]!.data;
  return E ? (_o, i) => f16Bound(w[i]!, E(i, w[i]!)) : (_o, i) => f16Bound(w[i]!);
}
