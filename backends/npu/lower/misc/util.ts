// Small helpers the misc lowerings share: attributes, constant inputs,
// diagnostics, and the vector instructions they emit most.

import { fail, q } from '../../../../ir/diagnostics.js';
import type { Instr, VecBinary, VecScalar, VecUnary, View } from '../../instr.js';
import { buildProgram, type Job } from './pipeline.js';
import type { DramTensor, LowerContext } from '../types.js';
import type { NpuProgram } from '../../instr.js';

const opText = (ctx: LowerContext) => `op ${q(ctx.op.name)} (${ctx.op.domain ? `${ctx.op.domain}.` : ''}${ctx.op.type})`;

/** PIMC1102: a shape or attribute combination this lowering does not handle. */
export function unsupported(ctx: LowerContext, what: string): never {
  return fail('PIMC1102', `${opText(ctx)}: ${what}; place this op on another device or change the model`);
}

export function input(ctx: LowerContext, i: number): DramTensor {
  const t = ctx.inputs[i];
  if (!t) throw new Error(`internal: ${ctx.op.name}: input ${i} is missing`);
  return t;
}

export function intAttr(ctx: LowerContext, name: string, dflt: number): number {
  const a = ctx.op.attrs.get(name);
  if (!a) return dflt;
  if (a.kind !== 'int' && a.kind !== 'float') unsupported(ctx, `attribute ${name} is ${a.kind}, not a number`);
  return a.value;
}

export function floatAttr(ctx: LowerContext, name: string, dflt: number): number {
  return intAttr(ctx, name, dflt);
}

export function optFloatAttr(ctx: LowerContext, name: string): number | undefined {
  return ctx.op.attrs.has(name) ? floatAttr(ctx, name, 0) : undefined;
}

export function stringAttr(ctx: LowerContext, name: string, dflt: string): string {
  const a = ctx.op.attrs.get(name);
  if (!a) return dflt;
  if (a.kind !== 'string') unsupported(ctx, `attribute ${name} is ${a.kind}, not a string`);
  return a.value;
}

export function intsAttr(ctx: LowerContext, name: string): number[] | undefined {
  const a = ctx.op.attrs.get(name);
  if (!a) return undefined;
  if (a.kind !== 'ints') unsupported(ctx, `attribute ${name} is ${a.kind}, not ints`);
  return a.value;
}

/** The values of a constant input (axes, starts, ...), or undefined when it is absent or computed at run time. */
export function constInput(ctx: LowerContext, i: number): number[] | undefined {
  const v = ctx.op.inputs[i];
  if (!v?.constant?.available) return undefined;
  return v.constant.get().toArray();
}

/** A constant input the lowering cannot do without (the NPU program is fixed at compile time). */
export function needConst(ctx: LowerContext, i: number, what: string): number[] {
  if (!ctx.op.inputs[i]) return unsupported(ctx, `${what} (input ${i}) is missing`);
  return constInput(ctx, i) ?? unsupported(ctx, `${what} (input ${i}) must be a constant: the program's DMA patterns are fixed when it is compiled`);
}

export function normAxis(ctx: LowerContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) unsupported(ctx, `axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Floating-point data only: the vector unit reads f16/f32, so integer tensors cannot be computed on. */
export function needFloat(ctx: LowerContext, ...ts: (DramTensor | null | undefined)[]): void {
  if (ts.some((t) => t && t.dtype !== 'f16')) {
    unsupported(ctx, 'integer or bool operands: the NPU vector unit computes in floating point only (integer shape math belongs to the host)');
  }
}

export function program(ctx: LowerContext, jobs: Job[]): NpuProgram {
  return buildProgram(`${ctx.op.type}:${ctx.op.name}`, jobs, ctx.npu, opText(ctx));
}

// ---- vector instruction shorthands -----------------------------------------

export const un = (fn: VecUnary, dst: View, a: View): Instr => ({ op: 'vec.unary', fn, dst, a });
export const bin = (fn: VecBinary, dst: View, a: View, b: View): Instr => ({ op: 'vec.binary', fn, dst, a, b });
export const sc = (fn: VecScalar, dst: View, a: View, imm: number): Instr => ({ op: 'vec.scalar', fn, dst, a, imm });
export const rsum = (dst: View, a: View): Instr => ({ op: 'vec.reduce', fn: 'rsum', dst, a });
export const rmax = (dst: View, a: View): Instr => ({ op: 'vec.reduce', fn: 'rmax', dst, a });

/** A row statistic [a, b, 1] read across a whole tile row (stride 0 along the last dim). */
export const acrossRow = (row: View, shape: readonly [number, number, number]): View => ({ ...row, shape: [...shape], strides: [row.strides[0], row.strides[1], 0] });

/**
 * The same scratchpad bytes read as another 4-byte dtype. The vector unit has
 * no integer arithmetic, but a non-negative i32 k below 2^24 has the bits of
 * the f32 k * 2^-149 (a denormal below 2^23; the smallest binade above):
 * scaling by 2^149 (two exact multiplies) turns it into the float k, and
 * scaling an integer-valued float 0 <= k < 2^24 by 2^-149 gives back the
 * i32's bits (written as f32, stored by a DMA as i32). Negative integers
 * have the bits of NaNs: they cannot cross.
 */
export const asF32 = (v: View): View => ({ ...v, dtype: 'f32' });

export function i32BitsToFloat(dst: View, src: View): Instr[] {
  return [sc('muls', dst, asF32(src), 2 ** 100), sc('muls', dst, dst, 2 ** 49)];
}

export function floatToI32Bits(dst: View, src: View): Instr[] {
  const d = asF32(dst);
  return [sc('muls', d, src, 2 ** -100), sc('muls', d, d, 2 ** -49)];
}
