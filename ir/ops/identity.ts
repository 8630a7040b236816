// Identity: its input, unchanged (tensors only: sequences and optionals are out of scope).

import { registerOp } from '../registry.js';
import { movementCost, need, op, sameAsInput } from './support.js';

registerOp(op({
  type: 'Identity',
  summary: 'the input tensor, unchanged',
  opsets: [1, 23],
  inputs: [1, 1],
  outputs: [1, 1],
  attrs: {},
  infer: sameAsInput,
  symbolic: (ctx) => [ctx.symbolicInput(0)],
  // Tensors are never written after they are made, so the same one can be returned.
  run: (ctx, inputs) => [need(ctx, inputs, 0)],
  cost: movementCost,
  example: '%y : f32[2, 3] = Identity(%x)',
}));
