// fuse-layernorm: LayerNormalization, and the decomposition older exporters
// and hand-written modules produce, become pimc.LayerNorm.
//
// 1. LayerNormalization whose Mean and InvStdDev outputs nothing reads:
//    LayerNorm with the same inputs, axis and epsilon (ONNX default 1e-5).
// 2. From each ReduceMean (the anchor), the decomposition
//      mean = ReduceMean(x, axes, keepdims=1)  axes: the trailing dims from `axis` on
//      d    = Sub(x, mean)
//      var  = ReduceMean(Pow(d, 2) | Mul(d, d), same axes, keepdims=1)
//      y    = Div(d, Sqrt(Add(var, eps)))        eps a scalar constant, either order
//      [y   = Mul(y, scale)]  [y = Add(y, bias)] constants per row, either order
//    where every intermediate is read by the next step alone (d by the square
//    and the Div) and is not a graph output. Without a scale Mul, the scale is
//    a constant of ones. The Add of bias is taken only after a scale Mul.

import type { Graph, Op, Value } from '../../../ir/graph.js';
import { registerPass } from '../manager.js';
import { attrs, fuse, otherInput, rewriteAll, scalarConst, soleUser, Uses, type Rewrite } from './match.js';
import { isRowParam, onesScale, staticInner, trailingReduceAxis } from './norm-match.js';

/** Step 1: the ONNX op. */
function matchOp(g: Graph, ln: Op, uses: Uses): Rewrite | undefined {
  if (ln.outputs.slice(1).some((o) => uses.of(o).length > 0 || uses.isGraphOutput(o))) return undefined;
  const a = ln.attrs.get('axis');
  const e = ln.attrs.get('epsilon');
  const inputs = ln.inputs[2] ? ln.inputs.slice(0, 3) : ln.inputs.slice(0, 2);
  const apply = () => {
    fuse(g, [ln], {
      type: 'LayerNorm',
      anchor: ln,
      inputs,
      outputs: [ln.outputs[0]!],
      attrs: attrs({
        axis: { kind: 'int', value: a?.kind === 'int' ? a.value : -1 },
        epsilon: { kind: 'float', value: e && (e.kind === 'float' || e.kind === 'int') ? e.value : 1e-5 },
      }),
    });
  };
  return { ops: [ln], apply };
}

/** Step 2: the decomposition, anchored at the mean's ReduceMean. */
function matchDecomposed(g: Graph, mean: Op, uses: Uses): Rewrite | undefined {
  const x = mean.inputs[0];
  const axis = trailingReduceAxis(mean);
  if (!x?.shape || axis === undefined) return undefined;
  const sub = soleUser(uses, mean.outputs[0]!, 'Sub');
  if (!sub || sub.inputs[0] !== x || sub.inputs[1] !== mean.outputs[0]) return undefined;
  const d = sub.outputs[0]!;
  // d feeds exactly two ops: the square and the final Div.
  const dUsers = uses.of(d);
  if (dUsers.length !== 2 || uses.isGraphOutput(d)) return undefined;
  const sq = dUsers.find((o) => (o.type === 'Pow' && o.inputs[0] === d && scalarConst(o.inputs[1]) === 2) || (o.type === 'Mul' && o.inputs[0] === d && o.inputs[1] === d));
  if (!sq) return undefined;
  const varOp = soleUser(uses, sq.outputs[0]!, 'ReduceMean');
  if (!varOp || varOp.inputs[0] !== sq.outputs[0] || trailingReduceAxis(varOp) !== axis) return undefined;
  const addEps = soleUser(uses, varOp.outputs[0]!, 'Add');
  const eps = addEps && scalarConst(otherInput(addEps, varOp.outputs[0]!));
  if (!addEps || eps === undefined || !(eps >= 0)) return undefined;
  const sqrt = soleUser(uses, addEps.outputs[0]!, 'Sqrt');
  const div = sqrt && soleUser(uses, sqrt.outputs[0]!, 'Div');
  if (!sqrt || !div || div.inputs[0] !== d || div.inputs[1] !== sqrt.outputs[0] || !dUsers.includes(div)) return undefined;

  const ops = [mean, sub, sq, varOp, addEps, sqrt, div];
  let y = div.outputs[0]!;
  let scale: Value | undefined;
  let bias: Value | undefined;
  const mul = soleUser(uses, y, 'Mul');
  const s = mul && otherInput(mul, y);
  if (mul && isRowParam(s, x.shape, axis, x.dtype)) {
    scale = s;
    ops.push(mul);
    y = mul.outputs[0]!;
    const add = soleUser(uses, y, 'Add');
    const b = add && otherInput(add, y);
    if (add && isRowParam(b, x.shape, axis, x.dtype)) {
      bias = b;
      ops.push(add);
      y = add.outputs[0]!;
    }
  }
  const inner = staticInner(x.shape, axis);
  if (!scale && !inner) return undefined;
  const apply = () => {
    const sc = scale ?? onesScale(g, mean.name, inner!, x.dtype!);
    fuse(g, ops, {
      type: 'LayerNorm',
      anchor: mean,
      inputs: bias ? [x, sc, bias] : [x, sc],
      outputs: [y],
      attrs: attrs({ axis: { kind: 'int', value: axis - x.shape!.length }, epsilon: { kind: 'float', value: eps } }),
    });
  };
  return { ops, apply };
}

export function fuseLayerNorm(g: Graph): number {
  return rewriteAll(g, (op, uses) =>
    op.domain !== '' ? undefined
    : op.type === 'LayerNormalization' ? matchOp(g, op, uses)
    : op.type === 'ReduceMean' ? matchDecomposed(g, op, uses)
    : undefined);
}

registerPass({
  name: 'fuse-layernorm',
  summary: 'LayerNormalization and its ReduceMean/Sub/Pow/Sqrt/Div decomposition into pimc.LayerNorm',
  run: (g) => ({ changed: fuseLayerNorm(g) }),
});
