// Matchers shared by the two normalization fusions (fuse-layernorm, fuse-rmsnorm).

import { ConstantData, type Graph, type Op, type Value } from '../../../ir/graph.js';
import { Tensor } from '../../../ir/tensor.js';
import type { Dim } from '../../../ir/types.js';
import { constTensor } from './match.js';

/**
 * The first reduced axis when a ReduceMean with keepdims reduces exactly the
 * trailing dims of its input (axis .. rank-1), as a normalization does.
 */
export function trailingReduceAxis(op: Op): number | undefined {
  const rank = op.inputs[0]?.shape?.length;
  const axes = constTensor(op.inputs[1])?.toArray();
  const keep = op.attrs.get('keepdims');
  if (rank === undefined || !axes || axes.length === 0 || (keep && keep.value !== 1)) return undefined;
  const norm = [...new Set(axes.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  const first = norm[0]!;
  return norm.every((a, i) => a === first + i) && norm[norm.length - 1] === rank - 1 && first >= 0 ? first : undefined;
}

/**
 * A constant that scales or shifts each normalized row alike: it broadcasts
 * into X (of rank no higher) and is 1 along every dim before `axis`.
 */
export function isRowParam(v: Value | undefined, x: readonly Dim[], axis: number, dtype: string | undefined): v is Value {
  const s = v?.constant?.shape;
  if (!v || !s || s.length > x.length || v.dtype !== dtype) return false;
  const off = x.length - s.length;
  return s.every((d, i) => d === 1 || (i + off >= axis && d === x[i + off]));
}

/** The normalized dims when all are known sizes (a scale of ones can then be made). */
export function staticInner(x: readonly Dim[], axis: number): number[] | undefined {
  const inner = x.slice(axis);
  return inner.every((d): d is number => typeof d === 'number') ? inner : undefined;
}

/** A new constant of ones of that shape (the scale when the pattern has none). */
export function onesScale(g: Graph, base: string, shape: number[], dtype: Tensor['dtype']): Value {
  const t = new Tensor(dtype, shape);
  t.data.fill(1);
  return g.addConstant(g.newValue(`${base}/ones`), ConstantData.of(t));
}
