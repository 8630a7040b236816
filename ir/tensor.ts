// Dense tensors with concrete shapes: what the reference interpreter computes
// on and what constants hold once loaded.

import { allocate, normalizeInPlace, type DType, type TensorData } from './dtype.js';

export class Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;

  constructor(dtype: DType, shape: readonly number[], data?: TensorData) {
    this.dtype = dtype;
    this.shape = shape;
    const n = sizeOf(shape);
    this.data = data ?? allocate(dtype, n);
    if (this.data.length !== n) {
      throw new Error(`internal: tensor data has ${this.data.length} elements, shape [${shape.join(',')}] needs ${n}`);
    }
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Element i as a number. */
  at(i: number): number {
    return this.data[i]!;
  }

  /** All elements as numbers (for small integer tensors: shapes, axes). */
  toArray(): number[] {
    return Array.from(this.data as ArrayLike<number>);
  }

  /** Same data, another shape (no copy). */
  reshape(shape: readonly number[]): Tensor {
    return new Tensor(this.dtype, shape, this.data);
  }

  /** Builds a tensor from plain values, coercing them to the dtype. */
  static from(dtype: DType, shape: readonly number[], values: ArrayLike<number>): Tensor {
    const t = new Tensor(dtype, shape);
    const d = t.data;
    for (let i = 0; i < values.length; i++) d[i] = values[i]!;
    normalizeInPlace(dtype, d);
    return t;
  }

  static scalar(dtype: DType, v: number): Tensor {
    return Tensor.from(dtype, [], [v]);
  }

  static vector(dtype: DType, values: readonly number[]): Tensor {
    return Tensor.from(dtype, [values.length], values);
  }
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape, in elements. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}
