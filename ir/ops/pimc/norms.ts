// pimc.LayerNorm and pimc.RMSNorm: normalization over the dims from `axis` on,
// made by fuse-layernorm / fuse-rmsnorm from the ONNX ops or from exporters'
// decompositions. Single output (no Mean / InvStdDev): the fused forms never
// expose them.
//
// The arithmetic is the ONNX ops' (ir/ops/normalization.ts), run through their
// registry entries so there is one kernel: statistics in float64, then
// (x - mean) * (1 / sqrt(var + eps)) * scale (+ bias), which for RMS is
// x * (1 / sqrt(mean(x*x) + eps)) * scale, the order exporters decompose it in.

import { lookupOp, registerOp, type InferContext, type RunContext } from '../../registry.js';
import type { Tensor } from '../../tensor.js';
import type { TensorType } from '../../types.js';
import { broadcastShapes, elementwiseCost, inputType, normAxis } from '../support.js';

/** X's type, after checking the axis and that scale (and bias) broadcast into X. */
function inferNorm(ctx: InferContext): TensorType[] {
  const x = inputType(ctx, 0);
  normAxis(ctx.attrs.int('axis', -1), x.shape.length, (m) => ctx.error(m));
  for (let i = 1; i < ctx.inputs.length; i++) {
    const p = ctx.inputs[i];
    if (!p) continue;
    if (p.dtype !== x.dtype) ctx.error(`input ${i} is ${p.dtype}, X is ${x.dtype}`);
    if (p.shape.length > x.shape.length || broadcastShapes(p.shape, x.shape, ctx).length !== x.shape.length) {
      ctx.error(`input ${i} of shape [${p.shape.join(', ')}] does not broadcast to X [${x.shape.join(', ')}]`);
    }
  }
  return [x];
}

/** Runs the ONNX op of that semantics with this op's attributes (so this op's defaults apply). */
function viaOnnx(onnxType: string): (ctx: RunContext, inputs: readonly (Tensor | null)[]) => Tensor[] {
  return (ctx, inputs) => {
    const def = lookupOp('', onnxType);
    if (!def) return ctx.error(`internal: ${onnxType} is not registered`);
    return [def.run(ctx, inputs)[0]!];
  };
}

registerOp({
  type: 'LayerNorm',
  domain: 'pimc',
  summary: '(x - mean) / sqrt(var + epsilon) * scale + bias over the dims from axis on',
  opsets: [1, 1],
  inputs: [2, 3],
  outputs: [1, 1],
  attrs: {
    axis: { kind: 'int', default: -1 },
    epsilon: { kind: 'float', default: 1e-5 },
  },
  infer: inferNorm,
  run: viaOnnx('LayerNormalization'),
  // Per element: mean, deviation, square, sum, then subtract, multiply by inv, scale, shift.
  cost: elementwiseCost(8),
  example: '%y : f32[1, 16, 768] = pimc.LayerNorm(%x, %gamma, %beta) {axis = -1, epsilon = 1e-05}',
});

registerOp({
  type: 'RMSNorm',
  domain: 'pimc',
  summary: 'x * (1 / sqrt(mean(x^2) + epsilon)) * scale over the dims from axis on',
  opsets: [1, 1],
  inputs: [2, 2],
  outputs: [1, 1],
  attrs: {
    axis: { kind: 'int', default: -1 },
    epsilon: { kind: 'float', default: 1e-6 },
  },
  infer: inferNorm,
  run: viaOnnx('RMSNormalization'),
  // Per element: square, sum, multiply by the inverse root, scale.
  cost: elementwiseCost(4),
  example: '%y : f32[1, 16, 4096] = pimc.RMSNorm(%x, %gamma) {axis = -1, epsilon = 1e-06}',
});
