// Gemm (ONNX) and pimc.Linear on the NPU: one 2-D GEMM each (gemm-core.ts),
// transposed operands read through strides, the bias added in the epilogue.
//
// Gemm:   Y = alpha * op(A) @ op(B) + beta * C, C broadcast to [M, N]
// Linear: y = x @ W (+ bias), x [..., K] folded to [M, K], W [K, N] or
//         [N, K] with transB, bias a row of N

import type { Op } from '../../../../ir/graph.js';
import { registerLowering } from '../registry.js';
import type { LowerContext } from '../types.js';
import { emitGemm } from './gemm-core.js';
import { biasRef, f16Input, matrixOf } from './operands.js';

function intAttr(op: Op, name: string, def: number): number {
  const a = op.attrs.get(name);
  return a && a.kind === 'int' ? a.value : def;
}

function floatAttr(op: Op, name: string, def: number): number {
  const a = op.attrs.get(name);
  return a && (a.kind === 'float' || a.kind === 'int') ? a.value : def;
}

function lowerGemm(ctx: LowerContext) {
  const { op } = ctx;
  const A = f16Input(ctx, 0, 'input A'), B = f16Input(ctx, 1, 'input B');
  const C = ctx.inputs[2] ? f16Input(ctx, 2, 'input C') : null;
  const tA = intAttr(op, 'transA', 0) !== 0, tB = intAttr(op, 'transB', 0) !== 0;
  const alpha = floatAttr(op, 'alpha', 1), beta = floatAttr(op, 'beta', 1);
  const [M, K] = tA ? [A.shape[1]!, A.shape[0]!] : [A.shape[0]!, A.shape[1]!];
  const N = tB ? B.shape[0]! : B.shape[1]!;
  const Y = ctx.outputs[0]!;
  // beta = 0 drops C entirely (the reference does too, so an inf or NaN in C does not leak).
  const bias = C && beta !== 0 ? biasRef(ctx, C, M, N) : undefined;
  return emitGemm(ctx, {
    M, N, K, alpha, beta,
    items: [{ a: matrixOf(A, tA), b: matrixOf(B, tB), c: matrixOf(Y, false), ...(bias ? { bias } : {}) }],
  });
}

function lowerLinear(ctx: LowerContext) {
  const { op } = ctx;
  const x = f16Input(ctx, 0, 'input x'), W = f16Input(ctx, 1, 'weight W');
  const b = ctx.inputs[2] ? f16Input(ctx, 2, 'bias') : null;
  const tB = intAttr(op, 'transB', 0) !== 0;
  const K = x.shape[x.shape.length - 1]!;
  const M = x.shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const N = tB ? W.shape[0]! : W.shape[1]!;
  const y = ctx.outputs[0]!;
  const bias = b ? biasRef(ctx, { ...b, shape: [1, N] }, M, N) : undefined;
  return emitGemm(ctx, {
    M, N, K, alpha: 1, beta: 1,
    items: [{ a: matrixOf({ ...x, shape: [M, K] }, false), b: matrixOf(W, tB), c: matrixOf({ ...y, shape: [M, N] }, false), ...(bias ? { bias } : {}) }],
  });
}

registerLowering('', 'Gemm', lowerGemm);
registerLowering('pimc', 'Linear', lowerLinear);
