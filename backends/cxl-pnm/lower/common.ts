// Small helpers every PNM lowering uses.

import { isFloat } from '../../../ir/dtype.js';
import { Attrs, defOf } from '../../../ir/registry.js';
import { unsupported } from './nest.js';
import type { PnmLowerContext, PnmTensor } from './types.js';

/** The op's attributes read through its schema (defaults applied). */
export const attrsOf = (ctx: PnmLowerContext): Attrs => new Attrs(ctx.op, defOf(ctx.op).attrs);

/** PIMC1206 naming the op. */
export const refuse = (ctx: PnmLowerContext, what: string): never => unsupported(ctx.op.name, `${ctx.op.domain ? ctx.op.domain + '.' : ''}${ctx.op.type}`, what);

/** Every input and output is a float tensor (stored as f16): the PNM engines compute on floats only. */
export function requireFloat(ctx: PnmLowerContext): void {
  for (const v of [...ctx.op.inputs, ...ctx.op.outputs]) {
    if (v?.type && !isFloat(v.type.dtype)) refuse(ctx, `${v.name} is ${v.type.dtype}; the PNM engines compute on floats`);
  }
}

export function input(ctx: PnmLowerContext, i: number): PnmTensor {
  const t = ctx.inputs[i];
  if (!t) return refuse(ctx, `input ${i} is missing`);
  return t;
}

export const output = (ctx: PnmLowerContext, i = 0): PnmTensor => ctx.outputs[i]!;
