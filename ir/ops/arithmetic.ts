// Broadcasting binary arithmetic: Add, Sub, Mul, Div, Pow.

import { isInteger } from '../dtype.js';
import { registerOp } from '../registry.js';
import { binaryKernel, broadcastInfer, broadcastShapes, elementwiseCost, inputType, need, op, type Binary } from './support.js';

function arithmetic(type: string, summary: string, f: Binary, intF: Binary = f, opsets: [number, number] = [7, 23]) {
  return registerOp(op({
    type,
    summary,
    opsets,
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: {},
    infer: (ctx) => broadcastInfer(ctx),
    run: (ctx, inputs) => {
      const a = need(ctx, inputs, 0);
      const b = need(ctx, inputs, 1);
      return [binaryKernel(a, b, a.dtype, isInteger(a.dtype) ? intF : f)];
    },
    cost: elementwiseCost(1),
    example: `%y : f32[2, 3] = ${type}(%a, %b)`,
  }));
}

arithmetic('Add', 'a + b, broadcasting', (a, b) => a + b);
arithmetic('Sub', 'a - b, broadcasting', (a, b) => a - b);
arithmetic('Mul', 'a * b, broadcasting', (a, b) => a * b);
// Integer division truncates toward zero, as the ONNX reference does (numpy on C ints).
arithmetic('Div', 'a / b, broadcasting (integer division truncates)', (a, b) => a / b, (a, b) => (b === 0 ? 0 : Math.trunc(a / b)));

registerOp(op({
  type: 'Pow',
  summary: 'a ** b, broadcasting; the exponent may have another numeric type',
  opsets: [7, 23],
  inputs: [2, 2],
  outputs: [1, 1],
  attrs: {},
  // Output takes the base's type; exponent type is free (opset 12+).
  infer: (ctx) => {
    const a = inputType(ctx, 0);
    const b = inputType(ctx, 1);
    return [{ dtype: a.dtype, shape: broadcastShapes(a.shape, b.shape, ctx) }];
  },
  run: (ctx, inputs) => {
    const a = need(ctx, inputs, 0);
    const b = need(ctx, inputs, 1);
    const f: Binary = isInteger(a.dtype) ? (x, y) => Math.trunc(x ** y) : (x, y) => x ** y;
    return [binaryKernel(a, b, a.dtype, f)];
  },
  cost: elementwiseCost(1),
  example: '%y : f32[2, 3] = Pow(%x, %two)',
}));
