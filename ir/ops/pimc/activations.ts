// pimc.Gelu, pimc.Silu and pimc.SwiGLU: the MLP activations, made by
// fuse-gelu / fuse-silu from exporters' elementwise chains. Each computes in
// doubles and rounds once on store, like the ONNX unary ops.

import { registerOp } from '../../registry.js';
import { sameShape } from '../../types.js';
import { gelu, geluTanh } from '../unary.js';
import { binaryKernel, elementwiseCost, inputType, need, sameAsInput, unaryKernel } from '../support.js';

/** x * sigmoid(x), in the order of the Mul(x, Sigmoid(x)) it replaces (exp(-x) = Infinity gives sigmoid 0). */
export function silu(x: number): number {
  return x * (1 / (1 + Math.exp(-x)));
}

registerOp({
  type: 'Gelu',
  domain: 'pimc',
  summary: 'x * Phi(x): 0.5x(1 + erf(x/sqrt 2)), or with approximate = "tanh" 0.5x(1 + tanh(sqrt(2/pi)(x + 0.044715x^3)))',
  opsets: [1, 1],
  inputs: [1, 1],
  outputs: [1, 1],
  attrs: { approximate: { kind: 'string', default: 'none' } },
  infer: (ctx) => {
    const mode = ctx.attrs.string('approximate', 'none');
    if (mode !== 'none' && mode !== 'tanh') ctx.error(`approximate must be "none" or "tanh", got ${JSON.stringify(mode)}`);
    return sameAsInput(ctx);
  },
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    const mode = ctx.attrs.string('approximate', 'none');
    if (mode !== 'none' && mode !== 'tanh') ctx.error(`approximate must be "none" or "tanh", got ${JSON.stringify(mode)}`);
    return [unaryKernel(x, x.dtype, mode === 'tanh' ? geluTanh : gelu)];
  },
  cost: elementwiseCost(20),
  example: '%y : f32[1, 16, 3072] = pimc.Gelu(%x) {approximate = "tanh"}',
});

registerOp({
  type: 'Silu',
  domain: 'pimc',
  summary: 'x * sigmoid(x) (SiLU, swish)',
  opsets: [1, 1],
  inputs: [1, 1],
  outputs: [1, 1],
  attrs: {},
  infer: sameAsInput,
  run: (ctx, inputs) => {
    const x = need(ctx, inputs, 0);
    return [unaryKernel(x, x.dtype, silu)];
  },
  // The sigmoid (as ONNX Sigmoid counts it) and one multiply.
  cost: elementwiseCost(11),
  example: '%y : f32[1, 16, 11008] = pimc.Silu(%x)',
});

registerOp({
  type: 'SwiGLU',
  domain: 'pimc',
  summary: 'silu(gate) * up, elementwise; gate and up have the same shape',
  opsets: [1, 1],
  inputs: [2, 2],
  outputs: [1, 1],
  attrs: {},
  infer: (ctx) => {
    const g = inputType(ctx, 0);
    const u = inputType(ctx, 1);
    if (g.dtype !== u.dtype) ctx.error(`gate is ${g.dtype}, up is ${u.dtype}`);
    if (!sameShape(g.shape, u.shape)) ctx.error(`gate [${g.shape.join(', ')}] and up [${u.shape.join(', ')}] differ in shape`);
    return [g];
  },
  run: (ctx, inputs) => {
    const g = need(ctx, inputs, 0);
    const u = need(ctx, inputs, 1);
    if (!sameShape(g.shape, u.shape)) ctx.error(`gate [${g.shape.join(', ')}] and up [${u.shape.join(', ')}] differ in shape`);
    return [binaryKernel(g, u, g.dtype, (a, b) => silu(a) * b)];
  },
  cost: elementwiseCost(12),
  example: '%y : f32[1, 16, 11008] = pimc.SwiGLU(%gate, %up)',
});
