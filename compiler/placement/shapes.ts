// The problem sizes the device cost models need, read off an op's shapes.

import type { OpWork } from '../analysis/op-costs.js';
import { intAttr } from '../passes/fusion/match.js';

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

/** A weight GEMV/GEMM: R input rows of K elements against a K x N matrix. */
export interface GemvSize {
  rows: number;
  k: number;
  n: number;
}

export function linearSize(w: OpWork): GemvSize {
  const x = w.inputs[0]!;
  const wShape = w.inputs[1]!;
  const transB = w.op.type === 'Gemm' || w.op.type === 'Linear' ? intAttr(w.op, 'transB', 0) : 0;
  const k = x[x.length - 1]!;
  const n = transB ? wShape[0]! : wShape[wShape.length - 1]!;
  return { rows: prod(x.slice(0, -1)) * w.scale, k, n };
}

/** Attention: b x hq queries of sq tokens against hkv heads of skv keys, head size hd. */
export interface AttentionSize {
  b: number;
  hq: number;
  hkv: number;
  sq: number;
  skv: number;
  hd: number;
}

export function attentionSize(w: OpWork): AttentionSize {
  const q = w.inputs[0]!;
  const k = w.inputs[1]!;
  const [hq, sq, hd] = q.slice(-3) as [number, number, number];
  const [hkv, skv] = k.slice(-3, -1) as [number, number];
  return { b: prod(q.slice(0, -3)) * w.scale, hq, hkv, sq, skv, hd };
}

/** FLOPs of attention's two matrix products, and of its softmax (about 5 per score). */
export function attentionFlops(a: AttentionSize): { matmul: number; softmax: number } {
  return { matmul: 4 * a.b * a.hq * a.sq * a.skv * a.hd, softmax: 5 * a.b * a.hq * a.sq * a.skv };
}

/** Elements of the op's first output, with the batch factor. */
export function outputElements(w: OpWork): number {
  return prod(w.outputs[0] ?? []) * w.scale;
}
