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
//
// The pass driver and small matchers exported here (rewriteAll, soleUser,
// trailingReduceAxis, isRowParam, onesScale) are shared with fuse-linear,
// fuse-rmsnorm, fuse-gelu and fuse-silu.

import { ConstantData, type Graph, type Op, type Value } from '../../../ir/graph.js';
import { Tensor } from '../../../ir/tensor.js';
import type { Dim } from '../../../ir/types.js';
import { registerPass } from '../manager.js';
import { attrs, constTensor, fuse, otherInput, scalarConst, Uses } from './match.js';

/** A match: the ops it replaces, and how to replace them (run after all matches are found). */
export interface Rewrite {
  ops: Op[];
  apply(): void;
}

/**
 * Asks `match` at every op with one view of the uses, then applies what it
 * found. Matching never sees a half-rewritten graph, and the uses are built
 * once per pass (rebuilding them per rewrite is quadratic on deep models). A
 * match that shares an op with an earlier one is dropped. Returns the count.
 */
export function rewriteAll(g: Graph, match: (op: Op, uses: Uses) => Rewrite | undefined): number {
  const uses = new Uses(g);
  const claimed = new Set<Op>();
  const found: Rewrite[] = [];
  for (const op of g.ops) {
    if (claimed.has(op)) continue;
    const r = match(op, uses);
    if (!r || r.ops.some((o) => claimed.has(o))) continue;
    for (const o of r.ops) claimed.add(o);
    found.push(r);
  }
  for (const r of found) r.apply();
  return found.length;
}

/** The op that alone reads v (v not a graph output), if it has the given type. */
export function soleUser(uses: Uses, v: Value, type: string): Op | undefined {
  const u = uses.of(v);
  return u.length === 1 && !uses.isGraphOutput(v) && u[0]!.type === type && u[0]!.domain === '' ? u[0] : undefined;
}

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
