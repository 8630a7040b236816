// fuse-gelu: the ONNX Gelu op and the two elementwise forms exporters write
// for GELU become pimc.Gelu.
//
// 1. Gelu (opset 20): pimc.Gelu with the same `approximate`.
// 2. From each Erf or Tanh (the core of the pattern), match backwards its
//    argument as a function of one value x:
//      erf:  Div(x, sqrt 2) | Mul(x, 1/sqrt 2)                       (torch nn.GELU, HF BERT)
//      tanh: Mul(sqrt(2/pi), Add(x, Mul(0.044715, cube)))             (GPT-2 gelu_new)
//            cube = Pow(x, 3) | Mul(x, Mul(x, x)) | Mul(Mul(x, x), x)
//    then forwards t = Add(core, 1) and the product of x, 0.5 and t in any
//    grouping: (x*t)*0.5, (0.5*t)*x or (x*0.5)*t. Every Mul and Add may have
//    its operands in either order; constants must be within 1e-6 of the
//    exact values, and every intermediate is read by the pattern alone.
// 3. Replace the ops by pimc.Gelu(x), named after the first op of the
//    argument (the Div/Mul feeding Erf, or the Pow / x*x of the cube).

import type { Graph, Op, Value } from '../../../ir/graph.js';
import { registerPass } from '../manager.js';
import { rewriteAll, soleUser, type Rewrite } from './match.js';
import { attrs, fuse, otherInput, producer, scalarConst, type Uses } from './match.js';

const SQRT2 = Math.SQRT2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** A scalar constant within 1e-6 (relative, for values above 1) of `want`. */
function near(v: Value | null | undefined, want: number): boolean {
  const c = scalarConst(v);
  return c !== undefined && Math.abs(c - want) <= 1e-6 * Math.max(1, Math.abs(want));
}

/** The commutative op's operand that is not a scalar constant near `want`, when the other one is. */
function byConst(op: Op | undefined, want: number): Value | undefined {
  if (!op) return undefined;
  const [a, b] = op.inputs;
  if (near(b, want) && a) return a;
  if (near(a, want) && b) return b;
  return undefined;
}

interface Arg {
  x: Value;
  /** The ops computing the argument, first (the anchor) to last. */
  ops: Op[];
}

/** A pattern step: `op` (if any) produces v and is read by the pattern alone (`by`). */
function ownedProducer(uses: Uses, v: Value | null | undefined, type: string, by: Op): Op | undefined {
  const p = producer(v, type);
  return p && uses.onlyBy(v!, by) ? p : undefined;
}

/** erf(x / sqrt 2): the argument of Erf. */
function erfArg(uses: Uses, erf: Op): Arg | undefined {
  const div = ownedProducer(uses, erf.inputs[0], 'Div', erf);
  if (div && div.inputs[0] && near(div.inputs[1], SQRT2)) return { x: div.inputs[0], ops: [div] };
  const mul = ownedProducer(uses, erf.inputs[0], 'Mul', erf);
  const x = byConst(mul, Math.SQRT1_2);
  return x ? { x, ops: [mul!] } : undefined;
}

/** The ops computing x^3 into v (read only by `by`): Pow(x, 3) or x * x * x. */
function cubeOf(uses: Uses, v: Value, x: Value, by: Op): Op[] | undefined {
  const pow = ownedProducer(uses, v, 'Pow', by);
  if (pow) return pow.inputs[0] === x && scalarConst(pow.inputs[1]) === 3 ? [pow] : undefined;
  const outer = ownedProducer(uses, v, 'Mul', by);
  const sq = outer && otherInput(outer, x);
  const inner = sq && sq !== x ? ownedProducer(uses, sq, 'Mul', outer!) : undefined;
  return inner && inner.inputs[0] === x && inner.inputs[1] === x ? [inner, outer!] : undefined;
}

/** tanh(sqrt(2/pi) * (x + 0.044715 x^3)): the argument of Tanh. */
function tanhArg(uses: Uses, tanh: Op): Arg | undefined {
  const scale = ownedProducer(uses, tanh.inputs[0], 'Mul', tanh);
  const inner = byConst(scale, SQRT_2_OVER_PI);
  const add = ownedProducer(uses, inner, 'Add', scale!);
  if (!add) return undefined;
  for (const [x, t] of [[add.inputs[0], add.inputs[1]], [add.inputs[1], add.inputs[0]]] as const) {
    const coef = ownedProducer(uses, t, 'Mul', add);
    const cube = byConst(coef, 0.044715);
    const cubeOps = x && cube && cubeOf(uses, cube, x, coef!);
    if (cubeOps) return { x: x!, ops: [...cubeOps, coef!, add, scale!] };
  }
  return undefined;
}

/** From the core, Add(core, 1) and the product x * 0.5 * that, in any grouping. Returns the ops. */
function outerProduct(uses: Uses, core: Op, x: Value): Op[] | undefined {
  const add = soleUser(uses, core.outputs[0]!, 'Add');
  if (!add || !near(otherInput(add, core.outputs[0]!), 1)) return undefined;
  const t = add.outputs[0]!;
  const m1 = soleUser(uses, t, 'Mul');
  const other = m1 && otherInput(m1, t);
  if (!m1 || !other) return undefined;
  if (other === x || near(other, 0.5)) {
    // (x * t) * 0.5 or (0.5 * t) * x
    const m2 = soleUser(uses, m1.outputs[0]!, 'Mul');
    const last = m2 && otherInput(m2, m1.outputs[0]!);
    const ok = other === x ? near(last, 0.5) : last === x;
    return m2 && ok ? [add, m1, m2] : undefined;
  }
  // (x * 0.5) * t
  const half = ownedProducer(uses, other, 'Mul', m1);
  return half && byConst(half, 0.5) === x ? [half, add, m1] : undefined;
}

/** Step 2 for one Erf/Tanh. */
function matchAround(g: Graph, core: Op, uses: Uses): Rewrite | undefined {
  const tanh = core.type === 'Tanh';
  const arg = tanh ? tanhArg(uses, core) : erfArg(uses, core);
  const outer = arg && outerProduct(uses, core, arg.x);
  if (!arg || !outer) return undefined;
  const ops = [...arg.ops, core, ...outer];
  const apply = () => {
    fuse(g, ops, {
      type: 'Gelu',
      anchor: arg.ops[0]!,
      inputs: [arg.x],
      outputs: [outer[outer.length - 1]!.outputs[0]!],
      attrs: attrs({ approximate: { kind: 'string', value: tanh ? 'tanh' : 'none' } }),
    });
  };
  return { ops, apply };
}

/** Step 1: the ONNX op. */
function matchOp(g: Graph, op: Op): Rewrite {
  const a = op.attrs.get('approximate');
  const apply = () => {
    fuse(g, [op], {
      type: 'Gelu',
      anchor: op,
      inputs: [op.inputs[0]!],
      outputs: [op.outputs[0]!],
      attrs: attrs({ approximate: { kind: 'string', value: a?.kind === 'string' ? a.value : 'none' } }),
    });
  };
  return { ops: [op], apply };
}

export function fuseGelu(g: Graph): number {
  return rewriteAll(g, (op, uses) =>
    op.domain !== '' ? undefined
    : op.type === 'Gelu' ? matchOp(g, op)
    : op.type === 'Erf' || op.type === 'Tanh' ? matchAround(g, op, uses)
    : undefined);
}

registerPass({
  name: 'fuse-gelu',
  summary: 'Gelu and the erf / tanh elementwise GELU chains into pimc.Gelu',
  run: (g) => ({ changed: fuseGelu(g) }),
});
