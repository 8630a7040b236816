// Checks shared by the matmul-family lowerings: every float operand is f16 in
// DRAM (DramTensor); integer products have no NPU lowering.

import { fail, q } from '../../../../ir/diagnostics.js';
import { rowMajor, type MatRef } from '../common/matrix.js';
import type { DramTensor, LowerContext } from '../types.js';

/** Input i, which must be present and f16. */
export function f16Input(ctx: LowerContext, i: number, what: string): DramTensor {
  const t = ctx.inputs[i];
  if (!t) fail('PIMC1102', `op ${q(ctx.op.name)} (${ctx.op.type}) has no ${what}; the NPU lowering needs it`);
  if (t.dtype !== 'f16') {
    fail('PIMC1102', `op ${q(ctx.op.name)} (${ctx.op.type}): ${what} is an integer tensor; the NPU computes products in f16 only: place the op on the host`);
  }
  return t;
}

/** A 2-D DRAM tensor (or [N] row) as a MatRef; transposed when `trans`. */
export function matrixOf(t: DramTensor, trans: boolean): MatRef {
  const cols = t.shape[t.shape.length - 1] ?? 1;
  const m = rowMajor('dram', t.addr, 'f16', cols);
  return trans ? { ...m, rs: m.cs, cs: m.rs } : m;
}

/**
 * A bias tensor broadcast to [M, N] (numpy rules, rank <= 2 after dropping
 * leading 1s): strides 0 on broadcast dims.
 */
export function biasRef(ctx: LowerContext, t: DramTensor, M: number, N: number): MatRef {
  const s = [...t.shape];
  while (s.length > 2 && s[0] === 1) s.shift();
  if (s.length > 2) fail('PIMC1102', `op ${q(ctx.op.name)}: bias of shape [${t.shape.join(', ')}] does not broadcast to [${M}, ${N}]`);
  const [r, c] = s.length === 2 ? s : s.length === 1 ? [1, s[0]!] : [1, 1];
  if ((r !== 1 && r !== M) || (c !== 1 && c !== N)) fail('PIMC1102', `op ${q(ctx.op.name)}: bias of shape [${t.shape.join(', ')}] does not broadcast to [${M}, ${N}]`);
  return { space: 'dram', addr: t.addr, dtype: 'f16', rs: r === 1 ? 0 : c!, cs: c === 1 ? 0 : 1 };
}
