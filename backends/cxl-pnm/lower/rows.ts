// Row ops on the vector engine, each along the last dim of its views:
// Softmax (any axis: the axis becomes the last dim by strides; before opset
// 13 the dims from axis on form one row), LayerNorm / LayerNormalization and
// RMSNorm / RMSNormalization (the normalized dims from axis on must form one
// run in x, scale and bias), pimc.Rope (the head dim is the row).
// 1. Views in x's dims, the row dim last (never split, never merged).
// 2. Leading dims merge where they can; beyond 4 dims they are peeled.
// 3. The leading dims split over the units.

import { normAxis } from '../../../ir/ops/support.js';
import type { PnmOp } from '../instr.js';
import { ProgramBuilder } from './builder.js';
import { attrsOf, input, output, refuse, requireFloat } from './common.js';
import { broadcastOperand, coalesce, mergeTail, operand, permute, type Nest } from './nest.js';
import { registerPnmLowering } from './registry.js';
import type { PnmLowerContext, PnmLowering } from './types.js';

/** One descriptor per unit over the nest's leading dims. */
function emitRows(ctx: PnmLowerContext, nest: Nest, op: PnmOp, imm = 0, flags = 0) {
  const n = coalesce(nest, 1);
  const b = new ProgramBuilder(ctx);
  b.emitSplit(n, n.dims.slice(0, -1).map((_, i) => i), op, imm, flags);
  return b.build();
}

const axisOf = (ctx: PnmLowerContext, rank: number, fallback: number): number =>
  normAxis(attrsOf(ctx).int('axis', fallback), Math.max(rank, 1), (m) => refuse(ctx, m));

const softmax: PnmLowering = (ctx) => {
  requireFloat(ctx);
  const x = input(ctx, 0), y = output(ctx);
  const legacy = (ctx.opset ?? 23) < 13;
  const r = x.shape.length;
  const axis = axisOf(ctx, r, legacy ? 1 : -1);
  let nest: Nest | undefined = { dims: [...x.shape], ops: [operand(y), operand(x)] };
  if (r === 0) nest = { dims: [1], ops: nest.ops.map((o) => ({ ...o, strides: [1] })) };
  else if (legacy) nest = mergeTail(nest, axis);
  else nest = permute(nest, [...nest.dims.keys()].filter((i) => i !== axis).concat(axis));
  if (!nest) return refuse(ctx, `the dims from axis ${axis} on are not one run in memory`);
  return emitRows(ctx, nest, 'softmax');
};

function norm(rms: boolean): PnmLowering {
  return (ctx) => {
    requireFloat(ctx);
    if (ctx.op.outputs.length > 1) refuse(ctx, 'Mean and InvStdDev outputs are not computed on the PNM');
    const x = input(ctx, 0), y = output(ctx);
    const axis = axisOf(ctx, x.shape.length, -1);
    const params = (rms ? [1] : [1, 2]).filter((i) => ctx.inputs[i]).map((i) => {
      const p = input(ctx, i);
      return broadcastOperand(p, x.shape) ?? refuse(ctx, `input ${i} [${p.shape.join(', ')}] does not broadcast to x`);
    });
    const nest = mergeTail({ dims: [...x.shape], ops: [operand(y), operand(x), ...params] }, axis);
    if (!nest) return refuse(ctx, `the normalized dims (from axis ${axis}) are not one run in x, scale and bias`);
    const eps = attrsOf(ctx).float('epsilon', rms ? 1e-6 : 1e-5);
    return emitRows(ctx, nest, rms ? 'rmsnorm' : 'layernorm', Math.fround(eps));
  };
}

const rope: PnmLowering = (ctx) => {
  requireFloat(ctx);
  const x = input(ctx, 0), y = output(ctx);
  const tables = [1, 2].map((i) => {
    const t = input(ctx, i);
    return broadcastOperand(t, x.shape) ?? refuse(ctx, `input ${i} [${t.shape.join(', ')}] does not broadcast to x`);
  });
  if (!x.shape.length || x.shape[x.shape.length - 1]! % 2) refuse(ctx, 'x needs an even head size');
  const flags = attrsOf(ctx).int('interleaved', 0) ? 1 : 0;
  return emitRows(ctx, { dims: [...x.shape], ops: [operand(y), operand(x), ...tables] }, 'rope', 0, flags);
};

registerPnmLowering('', 'Softmax', softmax);
registerPnmLowering('pimc', 'LayerNorm', norm(false));
registerPnmLowering('', 'LayerNormalization', norm(false));
registerPnmLowering('pimc', 'RMSNorm', norm(true));
registerPnmLowering('', 'RMSNormalization', norm(true));
registerPnmLowering('pimc', 'Rope', rope);
