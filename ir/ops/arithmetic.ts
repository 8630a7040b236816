// Broadcasting binary arithmetic: Add, Sub, Mul, Div, Pow.

import { dimAdd, dimDivExact, dimMul, dimSub } from '../dimexpr.js';
import { isInteger } from '../dtype.js';
import { registerOp, type InferContext } from '../registry.js';
import type { Dim } from '../types.js';
import { binaryKernel, broadcastInfer, broadcastShapes, elementwiseCost, inputType, need, op, type Binary } from './support.js';

/** Symbolic dim arithmetic; undefined when the result is not a dim expression. */
type DimBinary = (a: Dim, b: Dim) => Dim | undefined;

/**
 * Elementwise arithmetic on symbolic shape values (past + seq for a KV
 * length, batch * heads for a flattened dim), so Range and Reshape fed by
 * exporter arithmetic keep their symbols.
 */
function symbolicArithmetic(ctx: InferContext, f: DimBinary): (Dim[] | undefined)[] {
  const a = ctx.symbolicInput(0);
  const b = ctx.symbolicInput(1);
  if (!a || !b || (a.length !== b.length && a.length !== 1 && b.length !== 1)) return [undefined];
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const d = f(a[a.length === 1 ? 0 : i]!, b[b.length === 1 ? 0 : i]!);
    if (d === undefined) return [undefined];
    out.push(d);
  }
  return [out];
}

function arithmetic(type: string, summary: string, f: Binary, intF: Binary, dimF: DimBinary, opsets: [number, number] = [7, 23]) {
  return registerOp(op({
    type,
    summary,
    opsets,
    inputs: [2, 2],
    outputs: [1, 1],
    attrs: {},
    infer: (ctx) => broadcastInfer(ctx),
    symbolic: (ctx) => (isInteger(inputType(ctx, 0).dtype) ? symbolicArithmetic(ctx, dimF) : [undefined]),
    run: (ctx, inputs) => {
      const a = need(ctx, inputs, 0);
      const b = need(ctx, inputs, 1);
      return [binaryKernel(a, b, a.dtype, isInteger(a.dtype) ? intF : f)];
    },
    cost: elementwiseCost(1),
    example: `%y : f32[2, 3] = ${type}(%a, %b)`,
  }));
}

const add: Binary = (a, b) => a + b;
const sub: Binary = (a, b) => a - b;
const mul: Binary = (a, b) => a * b;
arithmetic('Add', 'a + b, broadcasting', add, add, dimAdd);
arithmetic('Sub', 'a - b, broadcasting', sub, sub, dimSub);
arithmetic('Mul', 'a * b, broadcasting', mul, mul, dimMul);
// Integer division truncates toward zero, as the ONNX reference does (numpy on C ints).
arithmetic('Div', 'a / b, broadcasting (integer division truncates)', (a, b) => a / b, (a, b) => (b === 0 ? 0 : Math.trunc(a / b)), dimDivExact);

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
