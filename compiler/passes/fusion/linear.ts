// fuse-linear: a matrix product by a constant weight (plus a constant bias)
// becomes pimc.Linear, the op placement can send to PIM as a GEMV.
//
// 1. For each MatMul(x, W) whose W is a constant 2-D matrix (a product of two
//    activations, such as attention's Q @ K^T, is not a Linear):
//    a. when its result is read only by an Add whose other operand is a
//       constant row of N ([N] or [1, ..., 1, N], not wider than the result),
//       in either operand order, the Add is absorbed as the bias;
//    b. Linear(x, W[, bias]) replaces them, named after the MatMul.
// 2. For each Gemm(A, B) with alpha = 1, transA = 0, a constant B, and C
//    absent or (with beta = 1) a constant row of N: Linear(A, B[, C]) with
//    the Gemm's transB, named after the Gemm.

import type { Graph, Op, Value } from '../../../ir/graph.js';
import { registerPass } from '../manager.js';
import { rewriteAll, soleUser, type Rewrite } from './match.js';
import { attrs, fuse, intAttr, otherInput, type Uses } from './match.js';

/** A constant whose shape is one row of n: [n] or [1, ..., 1, n], of at most `maxRank` dims. */
function isBiasRow(v: Value | null | undefined, n: number, maxRank: number, dtype: string | undefined): v is Value {
  const s = v?.constant?.shape;
  if (!v || !s || s.length < 1 || s.length > maxRank || v.dtype !== dtype) return false;
  return s[s.length - 1] === n && s.slice(0, -1).every((d) => d === 1);
}

function floatAttr(op: Op, name: string, fallback: number): number {
  const a = op.attrs.get(name);
  return a && (a.kind === 'float' || a.kind === 'int') ? a.value : fallback;
}

/** Step 1: MatMul(x, W const) (+ Add(bias const)). */
function matchMatMul(g: Graph, mm: Op, uses: Uses): Rewrite | undefined {
  const [x, w] = mm.inputs;
  const ws = w?.constant?.shape;
  if (!x || !w || !ws || ws.length !== 2 || x.constant || !x.shape || x.dtype !== w.dtype) return undefined;
  const y = mm.outputs[0]!;
  const add = soleUser(uses, y, 'Add');
  const bias = add && otherInput(add, y);
  if (add && isBiasRow(bias, ws[1]!, y.shape?.length ?? 0, x.dtype)) {
    return { ops: [mm, add], apply: () => void fuse(g, [mm, add], { type: 'Linear', anchor: mm, inputs: [x, w, bias], outputs: [add.outputs[0]!] }) };
  }
  return { ops: [mm], apply: () => void fuse(g, [mm], { type: 'Linear', anchor: mm, inputs: [x, w], outputs: [y] }) };
}

/** Step 2: Gemm(A, B const, C?) with alpha 1, beta 1, transA 0. */
function matchGemm(g: Graph, gemm: Op): Rewrite | undefined {
  const [a, b, c] = gemm.inputs;
  const bs = b?.constant?.shape;
  if (!a || !b || !bs || bs.length !== 2 || a.constant || a.dtype !== b.dtype) return undefined;
  if (floatAttr(gemm, 'alpha', 1) !== 1 || intAttr(gemm, 'transA', 0) !== 0) return undefined;
  const transB = intAttr(gemm, 'transB', 0) !== 0 ? 1 : 0;
  const n = transB ? bs[0]! : bs[1]!;
  if (c && (floatAttr(gemm, 'beta', 1) !== 1 || !isBiasRow(c, n, 2, a.dtype))) return undefined;
  const apply = () => {
    fuse(g, [gemm], {
      type: 'Linear',
      anchor: gemm,
      inputs: c ? [a, b, c] : [a, b],
      outputs: [gemm.outputs[0]!],
      attrs: transB ? attrs({ transB: { kind: 'int', value: 1 } }) : undefined,
    });
  };
  return { ops: [gemm], apply };
}

export function fuseLinear(g: Graph): number {
  return rewriteAll(g, (op, uses) =>
    op.domain !== '' ? undefined
    : op.type === 'MatMul' ? matchMatMul(g, op, uses)
    : op.type === 'Gemm' ? matchGemm(g, op)
    : undefined);
}

registerPass({
  name: 'fuse-linear',
  summary: 'MatMul by a constant weight (+ constant bias Add) and plain Gemm into pimc.Linear',
  run: (g) => ({ changed: fuseLinear(g) }),
});
