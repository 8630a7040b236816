// pimc.KvAppend: present = concat(past, new) along `axis`, done as the cache
// update it is. When present shares past's buffer (the cache lives in the
// expander and has room: past is a prefix view of present), only the new rows
// move: one KV_APPEND at position = past's length. Otherwise each unit first
// copies its part of past into present, then appends.
// 1. Views [lead.., seq, row]: the dims after axis merge into one row (a dim
//    of 1 when axis is last); the dims before it merge where they can.
// 2. The lead dims split over the units; copy and append of a box share a unit.

import { normAxis } from '../../../ir/ops/support.js';
import { ProgramBuilder } from './builder.js';
import { attrsOf, input, output, refuse } from './common.js';
import { coalesce, entryOf, mergeTail, operand, peel, stridesOf, type Operand } from './nest.js';
import { registerPnmLowering } from './registry.js';
import type { PnmLowerContext } from './types.js';

function lower(ctx: PnmLowerContext) {
  const past = input(ctx, 0), next = input(ctx, 1), present = output(ctx);
  const r = past.shape.length;
  const axis = normAxis(attrsOf(ctx).int('axis', 2), r, (m) => refuse(ctx, m));
  const [T, n, C] = [past.shape[axis]!, next.shape[axis]!, present.shape[axis]!];
  // [lead.., seq, tail..] with the seq dim 1 in the shared nest (each operand has its own
  // length there) and a trailing 1, so that a last axis still leaves a row of one.
  const tensors = [present, past, next];
  const nest = mergeTail({ dims: [...past.shape.map((d, i) => (i === axis ? 1 : d)), 1], ops: tensors.map((t) => ({ ...operand(t), strides: [...stridesOf(t), 0] })) }, axis + 1);
  if (!nest) return refuse(ctx, 'the dims after the axis are not one run in past, new and present');
  const seqStrides = tensors.map((t) => stridesOf(t)[axis]!);
  const lead = coalesce({ dims: nest.dims.slice(0, axis).concat(1, 1), ops: nest.ops.map((o) => ({ ...o, strides: [...o.strides.slice(0, axis), 0, 0] })) }, 2);
  const row = nest.dims[axis + 1]!;
  const rowStrides = nest.ops.map((o) => o.strides[axis + 1]!);
  const inPlace = past.addr === present.addr && stridesOf(past).every((s, i) => s === stridesOf(present)[i]);
  const b = new ProgramBuilder(ctx);
  for (const p of peel(lead, 4)) {
    const ld = p.dims.slice(0, -2);
    const full = (o: Operand, k: number, seq: number) => ({ ...o, strides: [...o.strides.slice(0, ld.length), seqStrides[k]!, rowStrides[k]!], seq });
    const [pr, pa, nw] = p.ops.map((o, k) => full(o, k, [C, T, n][k]!));
    for (const box of b.boxes(ld, ld.map((_, i) => i))) {
      const u = b.nextUnit();
      const view = (o: Operand & { seq: number }, seq = o.seq) => entryOf(o, [...ld, seq, row], [...box, [0, seq], [0, row]]);
      if (!inPlace && T > 0) b.emit(u, 'copy', view(pr, T), [view(pa!)]);
      b.emit(u, 'kv_append', view(pr!), [view(nw!)], T);
    }
  }
  return b.build();
}

registerPnmLowering('pimc', 'KvAppend', lower);
