// Data movement as DMA patterns: each op is one or more copies from a
// strided view of an input to a strided view of an output, tiled through the
// scratchpad (load in the input's DRAM order, store in the output's), with no
// vector work. Results are bit-exact.
//
// Identity, Reshape, Squeeze, Unsqueeze and Flatten keep every byte where it
// is: a runtime could alias output and input (ALIASABLE) and skip them. The
// lowering still returns a program that copies, so a runtime that does not
// alias stays correct.

import { sliceAxis } from '../../../../ir/ops/slice.js';
import { registerLowering } from '../registry.js';
import type { DramTensor, LowerContext, Lowering } from '../types.js';
import { ewJob } from './ew.js';
import type { Job } from './pipeline.js';
import { bcast, bytesOf, contiguous, sizeOf, whole, type Operand } from './space.js';
import { input, intAttr, intsAttr, needConst, normAxis, program, un, unsupported } from './util.js';

/** Ops whose output has the input's bytes in the input's order: a runtime may alias them instead of running the copy. */
export const ALIASABLE: ReadonlySet<string> = new Set(['Identity', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten']);

/** A copy job over `shape` from one operand to another. */
export function copyJob(ctx: LowerContext, name: string, shape: readonly number[], from: Operand, to: Operand): Job {
  return ewJob({ name, shape, ins: [from], outs: [to], alias: true }, ctx.npu, ctx.op.name);
}

const at = (t: DramTensor, elems: number): number => t.addr + elems * bytesOf(t.dtype);

/** Same bytes, same order: one flat copy. */
const flatCopy: Lowering = (ctx) => {
  const x = input(ctx, 0), y = ctx.outputs[0]!;
  const n = sizeOf(x.shape);
  return program(ctx, [copyJob(ctx, ctx.op.type, [n], whole(x, [n]), whole(y, [n]))]);
};

const transpose: Lowering = (ctx) => {
  const x = input(ctx, 0), y = ctx.outputs[0]!;
  const r = x.shape.length;
  const perm = intsAttr(ctx, 'perm') ?? [...Array(r).keys()].reverse();
  const xs = contiguous(x.shape);
  return program(ctx, [copyJob(ctx, 'Transpose', y.shape, { addr: x.addr, dtype: x.dtype, strides: perm.map((p) => xs[p]!) }, whole(y))]);
};

/** Parts along an axis: part k of `parts` sits at offset `starts[k]` of the whole; the first `inPlace` parts are there already. */
function alongAxis(ctx: LowerContext, wholeT: DramTensor, parts: readonly DramTensor[], axis: number, into: boolean, inPlace = 0): Job[] {
  const ws = contiguous(wholeT.shape);
  const starts = parts.map((_, k) => parts.slice(0, k).reduce((n, p) => n + p.shape[axis]!, 0));
  // an empty part (a KV cache before its first token) moves nothing
  return parts.flatMap((p, k) => {
    if (k < inPlace || !p.shape.every((d) => d > 0)) return [];
    const w: Operand = { addr: at(wholeT, starts[k]! * ws[axis]!), dtype: wholeT.dtype, strides: ws };
    return [into ? copyJob(ctx, ctx.op.type, p.shape, whole(p), w) : copyJob(ctx, ctx.op.type, p.shape, w, whole(p))];
  });
}

const concat = (axisAttr: string, dflt?: number): Lowering => (ctx) => {
  const y = ctx.outputs[0]!;
  const parts = ctx.inputs.map((_, i) => input(ctx, i));
  if (dflt === undefined && !ctx.op.attrs.has(axisAttr)) unsupported(ctx, 'attribute axis is missing');
  const axis = normAxis(ctx, intAttr(ctx, axisAttr, dflt ?? 0), y.shape.length);
  return program(ctx, alongAxis(ctx, y, parts, axis, true));
};

/** Split: the outputs' shapes already say where each part starts. */
const split: Lowering = (ctx) => {
  const x = input(ctx, 0);
  const axis = normAxis(ctx, intAttr(ctx, 'axis', 0), x.shape.length);
  return program(ctx, alongAxis(ctx, x, ctx.outputs, axis, false));
};

/** Slice: start offset and per-axis step (negative steps walk backwards: negative strides). */
const slice: Lowering = (ctx) => {
  const x = input(ctx, 0), y = ctx.outputs[0]!;
  const starts = ctx.op.inputs[1] ? needConst(ctx, 1, 'starts') : intsAttr(ctx, 'starts') ?? unsupported(ctx, 'starts are missing');
  const ends = ctx.op.inputs[2] ? needConst(ctx, 2, 'ends') : intsAttr(ctx, 'ends') ?? unsupported(ctx, 'ends are missing');
  const axes = ctx.op.inputs[3] ? needConst(ctx, 3, 'axes') : intsAttr(ctx, 'axes') ?? starts.map((_, i) => i);
  const steps = ctx.op.inputs[4] ? needConst(ctx, 4, 'steps') : starts.map(() => 1);
  const xs = contiguous(x.shape);
  const strides = [...xs];
  let base = 0;
  axes.forEach((a0, i) => {
    const a = normAxis(ctx, a0, x.shape.length);
    const step = steps[i]!;
    if (step === 0) unsupported(ctx, 'a step of 0');
    const { start } = sliceAxis(x.shape[a]!, starts[i]!, ends[i]!, step);
    base += start * xs[a]!;
    strides[a] = xs[a]! * step;
  });
  return program(ctx, [copyJob(ctx, 'Slice', y.shape, { addr: at(x, base), dtype: x.dtype, strides }, whole(y))]);
};

/**
 * Expand: f16 data is read once and repeated by a stride-0 view in the
 * vector unit (an exact f16 -> f16 copy); i32 data cannot pass the vector
 * unit, so its DMA reads the repeated elements again (a stride-0 source).
 */
const expand: Lowering = (ctx) => {
  const x = input(ctx, 0), y = ctx.outputs[0]!;
  const from = bcast(x, y.shape);
  const job = x.dtype === 'f16'
    ? ewJob({ name: 'Expand', shape: y.shape, ins: [from], outs: [whole(y)], compute: (v) => [un('copy', v.outs[0]!, v.ins[0]!)] }, ctx.npu, ctx.op.name)
    : ewJob({ name: 'Expand', shape: y.shape, ins: [from], outs: [whole(y)], alias: true, materialize: true }, ctx.npu, ctx.op.name);
  return program(ctx, [job]);
};

for (const t of ALIASABLE) registerLowering('', t, flatCopy);
registerLowering('', 'Transpose', transpose);
registerLowering('', 'Concat', concat('axis'));
registerLowering('', 'Split', split);
registerLowering('', 'Slice', slice);
registerLowering('', 'Expand', expand);
// KvAppend: present = concat(past, new) along the sequence axis. When the
// past already sits inside the present's buffer (a strided view of its first
// keys: compiler/codegen/dram-plan.ts), only the new keys move, in place;
// otherwise the whole present cache is written.
const kvAppend: Lowering = (ctx) => {
  const past = input(ctx, 0), y = ctx.outputs[0]!;
  if (!past.strides) return concat('axis', 2)(ctx);
  const ys = contiguous(y.shape);
  if (past.addr !== y.addr || past.strides.some((s, i) => s !== ys[i])) unsupported(ctx, 'its past cache is strided but not the first keys of its output');
  const axis = normAxis(ctx, intAttr(ctx, 'axis', 2), y.shape.length);
  return program(ctx, alongAxis(ctx, y, [past, input(ctx, 1)], axis, true, 1));
};
registerLowering('pimc', 'KvAppend', kvAppend);
