// Element-wise arithmetic and activations: one tiled space over the output,
// inputs broadcast into it by stride-0 views (ONNX multidirectional
// broadcasting), the whole chain in fp32 temporaries, one rounding to f16 on
// the last instruction (it writes the f16 output buffer).

import type { Instr, VecBinary, VecUnary, View } from '../../instr.js';
import { registerLowering } from '../registry.js';
import type { LowerContext, Lowering } from '../types.js';
import { ewJob, type EwViews } from './ew.js';
import { bcast, whole } from './space.js';
import { bin, constInput, input, needFloat, program, sc, stringAttr, un, unsupported } from './util.js';

/** n inputs broadcast to the output, one output, `temps` f32 temporaries. */
function elementwise(ctx: LowerContext, ins: number[], temps: number, compute: (v: EwViews) => Instr[]): ReturnType<Lowering> {
  const out = ctx.outputs[0]!;
  const tensors = ins.map((i) => input(ctx, i));
  needFloat(ctx, ...tensors);
  const job = ewJob({ name: ctx.op.type, shape: out.shape, ins: tensors.map((t) => bcast(t, out.shape)), outs: [whole(out)], temps, compute }, ctx.npu, ctx.op.name);
  return program(ctx, [job]);
}

// ---- binary (and variadic Max/Min) ------------------------------------------

function binary(fn: VecBinary): Lowering {
  return (ctx) => elementwise(ctx, [0, 1], 0, (v) => [bin(fn, v.outs[0]!, v.ins[0]!, v.ins[1]!)]);
}

/** Max/Min of one or more inputs: exact, so the chain may run in the f16 output buffer. */
function variadic(fn: 'max' | 'min'): Lowering {
  return (ctx) => elementwise(ctx, ctx.inputs.map((_, i) => i), 0, (v) => {
    const o = v.outs[0]!;
    if (v.ins.length === 1) return [un('copy', o, v.ins[0]!)];
    return v.ins.slice(1).map((b, k) => bin(fn, o, k === 0 ? v.ins[0]! : o, b));
  });
}

/** Pow: a constant scalar exponent (often an int64 2) becomes an immediate; a tensor exponent must be floating. */
const pow: Lowering = (ctx) => {
  const e = constInput(ctx, 1);
  if (e && e.length === 1) {
    needFloat(ctx, input(ctx, 0));
    const job = ewJob({ name: 'Pow', shape: ctx.outputs[0]!.shape, ins: [bcast(input(ctx, 0), ctx.outputs[0]!.shape)], outs: [whole(ctx.outputs[0]!)], compute: (v) => [sc('pows', v.outs[0]!, v.ins[0]!, e[0]!)] }, ctx.npu, ctx.op.name);
    return program(ctx, [job]);
  }
  return binary('pow')(ctx);
};

// ---- unary and activations ---------------------------------------------------

function unary(fn: VecUnary): Lowering {
  return (ctx) => elementwise(ctx, [0], 0, (v) => [un(fn, v.outs[0]!, v.ins[0]!)]);
}

const SQRT_HALF = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** 0.5 x (1 + erf(x / sqrt 2)), or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
function geluChain(x: View, o: View, t: View, approximate: string): Instr[] {
  const head = approximate === 'tanh'
    ? [bin('mul', t, x, x), bin('mul', t, t, x), sc('muls', t, t, 0.044715), bin('add', t, t, x), sc('muls', t, t, SQRT_2_OVER_PI), un('tanh', t, t)]
    : [sc('muls', t, x, SQRT_HALF), un('erf', t, t)];
  return [...head, sc('adds', t, t, 1), bin('mul', t, t, x), sc('muls', o, t, 0.5)];
}

const gelu: Lowering = (ctx) => {
  const mode = stringAttr(ctx, 'approximate', 'none');
  if (mode !== 'none' && mode !== 'tanh') unsupported(ctx, `approximate = ${JSON.stringify(mode)}`);
  return elementwise(ctx, [0], 1, (v) => geluChain(v.ins[0]!, v.outs[0]!, v.temps[0]!, mode));
};

/** x * sigmoid(x), in the reference's order. */
const silu: Lowering = (ctx) => elementwise(ctx, [0], 1, (v) => [un('sigmoid', v.temps[0]!, v.ins[0]!), bin('mul', v.outs[0]!, v.ins[0]!, v.temps[0]!)]);

/** silu(gate) * up: (gate * sigmoid(gate)) * up, rounded once. */
const swiglu: Lowering = (ctx) => elementwise(ctx, [0, 1], 1, (v) => {
  const [g, u] = v.ins as [View, View];
  const t = v.temps[0]!;
  return [un('sigmoid', t, g), bin('mul', t, g, t), bin('mul', v.outs[0]!, t, u)];
});

const BINARY: [string, VecBinary][] = [['Add', 'add'], ['Sub', 'sub'], ['Mul', 'mul'], ['Div', 'div']];
const UNARY: [string, VecUnary][] = [
  ['Sqrt', 'sqrt'], ['Reciprocal', 'recip'], ['Neg', 'neg'], ['Exp', 'exp'], ['Log', 'log'], ['Erf', 'erf'],
  ['Tanh', 'tanh'], ['Sigmoid', 'sigmoid'], ['Relu', 'relu'], ['Cos', 'cos'], ['Sin', 'sin'],
];

for (const [type, fn] of BINARY) registerLowering('', type, binary(fn));
for (const [type, fn] of UNARY) registerLowering('', type, unary(fn));
registerLowering('', 'Pow', pow);
registerLowering('', 'Max', variadic('max'));
registerLowering('', 'Min', variadic('min'));
registerLowering('', 'Gelu', gelu);
registerLowering('pimc', 'Gelu', gelu);
registerLowering('pimc', 'Silu', silu);
registerLowering('pimc', 'SwiGLU', swiglu);
