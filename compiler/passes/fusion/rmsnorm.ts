// fuse-rmsnorm: RMSNormalization (opset 23), and the decomposition of
// LLaMA-style RMSNorm modules, become pimc.RMSNorm.
//
// 1. RMSNormalization: RMSNorm with the same inputs, axis and epsilon (ONNX
//    default 1e-5, written out since pimc.RMSNorm's default is 1e-6).
// 2. From each Pow(x, 2) or Mul(x, x) (the anchor), the decomposition
//      ms  = ReduceMean(x^2, axes, keepdims=1)   axes: the trailing dims from `axis` on
//      r   = Sqrt(Add(ms, eps))                  eps a scalar constant, either order
//      y   = Mul(x, Reciprocal(r) | Div(1, r))   torch.rsqrt, either order
//          | Div(x, r)
//      [y  = Mul(y, weight)]                      a constant per row, either order
//    where every intermediate is read by the next step alone and is not a
//    graph output. PyTorch writes `x * torch.rsqrt(...)` as Div(1, Sqrt) and
//    `self.weight * (...)` with the weight first; HF-style exports use
//    Reciprocal. Without a weight Mul, the scale is a constant of ones.

import type { Graph, Op, Value } from '../../../ir/graph.js';
import { registerPass } from '../manager.js';
import { rewriteAll, soleUser, type Rewrite } from './match.js';
import { isRowParam, onesScale, staticInner, trailingReduceAxis } from './norm-match.js';
import { attrs, fuse, otherInput, scalarConst, Uses } from './match.js';

/** Step 1: the ONNX op. */
function matchOp(g: Graph, rms: Op): Rewrite {
  const a = rms.attrs.get('axis');
  const e = rms.attrs.get('epsilon');
  const apply = () => {
    fuse(g, [rms], {
      type: 'RMSNorm',
      anchor: rms,
      inputs: rms.inputs.slice(0, 2),
      outputs: [rms.outputs[0]!],
      attrs: attrs({
        axis: { kind: 'int', value: a?.kind === 'int' ? a.value : -1 },
        epsilon: { kind: 'float', value: e && (e.kind === 'float' || e.kind === 'int') ? e.value : 1e-5 },
      }),
    });
  };
  return { ops: [rms], apply };
}

/** x when op squares it: Pow(x, 2) or Mul(x, x). */
function squared(op: Op): Value | undefined {
  const x = op.inputs[0];
  if (!x) return undefined;
  if (op.type === 'Pow' && scalarConst(op.inputs[1]) === 2) return x;
  if (op.type === 'Mul' && op.inputs[1] === x) return x;
  return undefined;
}

/**
 * From r = Sqrt(...), the op computing x / r: Mul(x, Reciprocal(r)),
 * Mul(x, Div(1, r)) (either Mul order), or Div(x, r). Returns the ops after
 * the Sqrt, the last one giving x / r.
 */
function normalized(uses: Uses, r: Value, x: Value): Op[] | undefined {
  const readers = uses.of(r);
  if (readers.length !== 1 || uses.isGraphOutput(r)) return undefined;
  const inv = readers[0]!;
  if (inv.type === 'Div' && inv.inputs[0] === x && inv.inputs[1] === r) return [inv];
  const isInv = (inv.type === 'Reciprocal' && inv.inputs[0] === r) || (inv.type === 'Div' && inv.inputs[1] === r && scalarConst(inv.inputs[0]) === 1);
  const mul = isInv ? soleUser(uses, inv.outputs[0]!, 'Mul') : undefined;
  return mul && otherInput(mul, inv.outputs[0]!) === x ? [inv, mul] : undefined;
}

/** Step 2: the decomposition, anchored at the square. */
function matchDecomposed(g: Graph, sq: Op, uses: Uses): Rewrite | undefined {
  const x = squared(sq);
  if (!x?.shape || x.constant) return undefined;
  const mean = soleUser(uses, sq.outputs[0]!, 'ReduceMean');
  const axis = mean && mean.inputs[0] === sq.outputs[0] ? trailingReduceAxis(mean) : undefined;
  if (!mean || axis === undefined) return undefined;
  const addEps = soleUser(uses, mean.outputs[0]!, 'Add');
  const eps = addEps && scalarConst(otherInput(addEps, mean.outputs[0]!));
  if (!addEps || eps === undefined || !(eps >= 0)) return undefined;
  const sqrt = soleUser(uses, addEps.outputs[0]!, 'Sqrt');
  const norm = sqrt && normalized(uses, sqrt.outputs[0]!, x);
  if (!sqrt || !norm) return undefined;

  const ops = [sq, mean, addEps, sqrt, ...norm];
  let y = norm[norm.length - 1]!.outputs[0]!;
  let weight: Value | undefined;
  const mul = soleUser(uses, y, 'Mul');
  const w = mul && otherInput(mul, y);
  if (mul && isRowParam(w, x.shape, axis, x.dtype)) {
    weight = w;
    ops.push(mul);
    y = mul.outputs[0]!;
  }
  const inner = staticInner(x.shape, axis);
  if (!weight && !inner) return undefined;
  const apply = () => {
    fuse(g, ops, {
      type: 'RMSNorm',
      anchor: sq,
      inputs: [x, weight ?? onesScale(g, sq.name, inner!, x.dtype!)],
      outputs: [y],
      attrs: attrs({ axis: { kind: 'int', value: axis - x.shape!.length }, epsilon: { kind: 'float', value: eps } }),
    });
  };
  return { ops, apply };
}

export function fuseRmsNorm(g: Graph): number {
  return rewriteAll(g, (op, uses) =>
    op.domain !== '' ? undefined
    : op.type === 'RMSNormalization' ? matchOp(g, op)
    : op.type === 'Pow' || op.type === 'Mul' ? matchDecomposed(g, op, uses)
    : undefined);
}

registerPass({
  name: 'fuse-rmsnorm',
  summary: 'RMSNormalization and its Pow/ReduceMean/Sqrt/Reciprocal/Mul decomposition into pimc.RMSNorm',
  run: (g) => ({ changed: fuseRmsNorm(g) }),
});
