// fuse-silu: x * sigmoid(x) becomes pimc.Silu, and a gated MLP's
// silu(gate) * up becomes pimc.SwiGLU, so a LLaMA MLP reads
// Linear, Linear, SwiGLU, Linear.
//
// 1. For each Sigmoid(x) (the anchor) read only by a Mul whose other operand
//    is x (either order): Silu(x) replaces the two.
// 2. For each Silu(g) (made in step 1 or already there) read only by a Mul
//    whose other operand u has g's type (same dtype and shape: no
//    broadcasting) and is not the Silu itself: SwiGLU(g, u) replaces the
//    two, named after the Mul.

import type { Graph, Op } from '../../../ir/graph.js';
import { sameType } from '../../../ir/types.js';
import { registerPass } from '../manager.js';
import { rewriteAll, soleUser, type Rewrite } from './match.js';
import { fuse, otherInput, PIMC_DOMAIN, type Uses } from './match.js';

/** Step 1. */
function matchSilu(g: Graph, sig: Op, uses: Uses): Rewrite | undefined {
  const x = sig.inputs[0];
  const mul = soleUser(uses, sig.outputs[0]!, 'Mul');
  if (!x || !mul || otherInput(mul, sig.outputs[0]!) !== x) return undefined;
  return { ops: [sig, mul], apply: () => void fuse(g, [sig, mul], { type: 'Silu', anchor: sig, inputs: [x], outputs: [mul.outputs[0]!] }) };
}

/** Step 2. */
function matchSwiGlu(g: Graph, silu: Op, uses: Uses): Rewrite | undefined {
  const gate = silu.inputs[0];
  const s = silu.outputs[0]!;
  const mul = soleUser(uses, s, 'Mul');
  const up = mul && otherInput(mul, s);
  if (!gate?.type || !mul || !up?.type || up === s || !sameType(gate.type, up.type)) return undefined;
  return { ops: [silu, mul], apply: () => void fuse(g, [silu, mul], { type: 'SwiGLU', anchor: mul, inputs: [gate, up], outputs: [mul.outputs[0]!] }) };
}

export function fuseSiluAndSwiGlu(g: Graph): number {
  // Two rounds: SwiGLU matches the Silu ops the first one makes.
  const silus = rewriteAll(g, (op, uses) => (op.type === 'Sigmoid' && op.domain === '' ? matchSilu(g, op, uses) : undefined));
  const glus = rewriteAll(g, (op, uses) => (op.type === 'Silu' && op.domain === PIMC_DOMAIN ? matchSwiGlu(g, op, uses) : undefined));
  return silus + glus;
}

registerPass({
  name: 'fuse-silu',
  summary: 'x * Sigmoid(x) into pimc.Silu, then Silu(gate) * up into pimc.SwiGLU',
  run: (g) => ({ changed: fuseSiluAndSwiGlu(g) }),
});
