// Helpers every PNM error bound uses. The arithmetic building blocks (u, uf,
// gamma, the final FP16 store, the per-op bounds) are in
// ../lower/bounds.ts, with their derivations; this file only reads inputs and
// checks what the derivations assume.
//
// The derivations take the reference's outputs as f32 (the reference rounds
// its double result to FP32 once: bounds.ts header): a family whose bound is
// not exact refuses another float output type (f32Reference) instead of
// giving a bound that was never derived for it.

import { isFloat } from '../../../ir/dtype.js';
import type { Tensor } from '../../../ir/tensor.js';
import type { BoundContext, ElementBound } from './registry.js';

/** 'domain::Type' (the registry's key), for messages. */
export const opKey = (c: BoundContext): string => `${c.op.domain && c.op.domain !== 'ai.onnx' ? c.op.domain + '::' : ''}${c.op.type}`;

/** An internal error naming the op. */
export const boundError = (c: BoundContext, what: string): never => {
  throw new Error(`internal: no PNM error bound for ${opKey(c)} (op "${c.op.name}") ${what}`);
};

/** Bit-for-bit the reference's values (copies). */
export const EXACT: ElementBound = () => 0;

/** Input i, which the op needs. */
export function need(c: BoundContext, i: number): Tensor {
  const t = c.inputs[i];
  if (!t) throw new Error(`internal: the PNM error bound of ${opKey(c)} (op "${c.op.name}") needs input ${i}`);
  return t;
}

/** Refuses float outputs other than f32 (header): the bound was derived for an f32 reference. */
export function f32Reference(c: BoundContext): void {
  c.want.forEach((w, k) => {
    if (isFloat(w.dtype) && w.dtype !== 'f32') boundError(c, `with a ${w.dtype} output ${k}: its bound is derived against an f32 reference`);
  });
}

/** A one-output bound read from precomputed per-element values. */
export const perElement = (b: Float64Array): ElementBound => (_o, i) => b[i]!;
