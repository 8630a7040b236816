// Element-wise ops on the vector engine: Add and Mul (numpy broadcasting, as
// stride-0 views), Gelu (ONNX and pimc, erf or tanh), pimc.Silu, pimc.SwiGLU.
// 1. Every input becomes a view in the output's dims (broadcast dims stride 0).
// 2. Dims every operand walks contiguously merge (nest.ts coalesce); views
//    beyond 4 dims are peeled into several descriptors.
// 3. The largest dims split over the units: one descriptor per unit.

import type { PnmOp } from '../instr.js';
import { ProgramBuilder } from './builder.js';
import { attrsOf, input, output, refuse, requireFloat } from './common.js';
import { broadcastOperand, coalesce, operand } from './nest.js';
import { registerPnmLowering } from './registry.js';
import type { PnmLowerContext, PnmLowering } from './types.js';

function elementwise(op: PnmOp, flagsOf: (ctx: PnmLowerContext) => number = () => 0): PnmLowering {
  return (ctx) => {
    requireFloat(ctx);
    const out = output(ctx);
    const ins = ctx.op.inputs.map((_, i) => {
      const t = input(ctx, i);
      return broadcastOperand(t, out.shape) ?? refuse(ctx, `input ${i} [${t.shape.join(', ')}] does not broadcast to [${out.shape.join(', ')}]`);
    });
    const nest = coalesce({ dims: [...out.shape], ops: [operand(out), ...ins] });
    const b = new ProgramBuilder(ctx);
    b.emitSplit(nest, nest.dims.map((_, i) => i), op, 0, flagsOf(ctx));
    return b.build();
  };
}

const geluFlags = (ctx: PnmLowerContext): number => {
  const mode = attrsOf(ctx).string('approximate', 'none');
  if (mode !== 'none' && mode !== 'tanh') refuse(ctx, `approximate ${JSON.stringify(mode)}`);
  return mode === 'tanh' ? 1 : 0;
};

registerPnmLowering('', 'Add', elementwise('add'));
registerPnmLowering('', 'Mul', elementwise('mul'));
registerPnmLowering('', 'Gelu', elementwise('gelu', geluFlags));
registerPnmLowering('pimc', 'Gelu', elementwise('gelu', geluFlags));
registerPnmLowering('pimc', 'Silu', elementwise('silu'));
registerPnmLowering('pimc', 'SwiGLU', elementwise('swiglu'));
