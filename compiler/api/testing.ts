// Test helpers for the machine runtime's tests (imported only by tests; no
// test framework here, so the build compiles it like any module): seeded
// values, their text as an IR constant, and seeded input tensors.

import { Tensor, sizeOf } from '../../ir/tensor.js';

/** Seeded values on [-1, 1) (xorshift32). */
export function values(n: number, seed: number): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return ((s >>> 0) / 2 ** 32) * 2 - 1;
  });
}

/** `xs` as the IR text of a dense f32 constant. */
export const dense = (xs: number[]): string => `dense [${xs.map((x) => Math.fround(x)).join(', ')}]`;

/** f32 inputs of these shapes, input i seeded with seed + 2 i. */
export function seededInputs(shapes: readonly [string, number[]][], seed: number): Map<string, Tensor> {
  return new Map(shapes.map(([n, s], i) => [n, Tensor.from('f32', s, values(sizeOf(s), seed + 2 * i))]));
}
