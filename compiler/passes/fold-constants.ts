// fold-constants: evaluates ops whose results are known at compile time and
// turns their outputs into constants.
//
// 1. Run shape inference, which also tracks the elements of small integer
//    tensors symbolically (Shape(x) is [batch, seq, 768] even when x is not
//    a constant).
// 2. An op folds when every output's symbolic value is all numbers (so
//    Gather(Shape(x), 2) = 768 folds even with symbolic batch and seq), or
//    when every input is a constant with data: then the reference semantics
//    compute the result.
// 3. Big results are not folded (they would bloat memory and the model), and
//    big inputs are never read: folding must stay cheap on 7B-sized models.
// 4. The op's output Value becomes the constant (same name, same users), so
//    no use has to be rewritten; the op is removed. Ops are in topological
//    order, so a whole exporter shape chain folds in one walk.

import { ConstantData, type Graph, type Op, type Value } from '../../ir/graph.js';
import { Tensor, sizeOf } from '../../ir/tensor.js';
import { isStatic, type Dim } from '../../ir/types.js';
import { runOp } from '../reference/interpreter.js';
import { inferShapes } from './infer-shapes.js';
import { registerPass } from './manager.js';

/** Largest folded result, and largest constant input read while folding (elements). */
export const FOLD_MAX_ELEMENTS = 1 << 20;

/** The outputs' values when symbolic inference already knows them as numbers. */
function knownOutputs(op: Op, symbolic: Map<Value, Dim[]>): Tensor[] | undefined {
  const outs: Tensor[] = [];
  for (const o of op.outputs) {
    const s = symbolic.get(o);
    const t = o.type;
    if (!s || !t || !s.every((d): d is number => typeof d === 'number') || t.shape.length > 1) return undefined;
    if (t.shape.length === 1 && t.shape[0] !== s.length) return undefined;
    if (t.shape.length === 0 && s.length !== 1) return undefined;
    outs.push(Tensor.from(t.dtype, t.shape as number[], s));
  }
  return outs;
}

function computable(op: Op): boolean {
  if (op.outputs.some((o) => !o.type || !isStatic(o.type.shape) || sizeOf(o.type.shape as number[]) > FOLD_MAX_ELEMENTS)) return false;
  return op.inputs.every((v) => !v || (v.constant?.available && sizeOf(v.constant.shape) <= FOLD_MAX_ELEMENTS));
}

export function foldConstants(g: Graph): number {
  const { symbolic } = inferShapes(g);
  let folded = 0;
  const kept: Op[] = [];
  for (const op of g.ops) {
    const outs = knownOutputs(op, symbolic) ?? (computable(op) ? runOp(g, op, op.inputs.map((v) => v?.constant?.get() ?? null)) : undefined);
    if (!outs) {
      kept.push(op);
      continue;
    }
    op.outputs.forEach((o, i) => {
      o.producer = null;
      g.constants.push(o);
      o.constant = ConstantData.of(outs[i]!);
      o.type = { dtype: outs[i]!.dtype, shape: outs[i]!.shape };
    });
    folded++;
  }
  g.ops = kept;
  return folded;
}

registerPass({
  name: 'fold-constants',
  summary: 'evaluate ops whose results are known (constant inputs, static shapes) and make their outputs constants',
  run: (g) => {
    const changed = foldConstants(g);
    if (changed) inferShapes(g);
    return { changed };
  },
});
