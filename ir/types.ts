// Value types: element type plus a shape whose dims are numbers or symbols.

import type { DType } from './dtype.js';

/** A dimension: a size, or the name of a symbolic size such as "batch". */
export type Dim = number | string;

export interface TensorType {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

export function tensorType(dtype: DType, shape: readonly Dim[]): TensorType {
  return { dtype, shape };
}

export function isStatic(shape: readonly Dim[]): shape is readonly number[] {
  return shape.every((d) => typeof d === 'number');
}

export function staticSize(shape: readonly Dim[]): number | undefined {
  if (!isStatic(shape)) return undefined;
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameDim(a: Dim, b: Dim): boolean {
  return a === b;
}

export function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function sameType(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && sameShape(a.shape, b.shape);
}

export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.join(', ')}]`;
}

export function formatType(t: TensorType): string {
  return `${t.dtype}${formatShape(t.shape)}`;
}

/** Binds symbolic dims to sizes: a shape's concrete form for one run. */
export type DimBindings = Map<string, number>;

export function resolveShape(shape: readonly Dim[], env: DimBindings): Dim[] {
  return shape.map((d) => (typeof d === 'string' && env.has(d) ? env.get(d)! : d));
}
