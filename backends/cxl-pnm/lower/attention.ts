// pimc.Attention at decode (sq = 1) over a KV cache in the expander: the
// op's k / v inputs are the cache (their strides may show a capacity larger
// than the valid length). Grouped-query: the hq / hkv query heads of a kv
// head stay on one unit, so its K and V stream once.
// 1. q, k, v, y as 4-D views (rank-3 ops get a batch of 1); a cache shared
//    by the batch (k batch 1) is a stride-0 batch dim.
// 2. The (batch, kv head) pairs split over the units.
// 3. No mask (or causal, which hides nothing from the last query row): one
//    ATTENTION descriptor per unit, online softmax.
//    An additive mask: per unit a chain of four descriptors over scratch,
//    grouping the query heads of a kv head as GEMM rows:
//      scores f32 = scale * q @ k^T; masked f32 = scores + mask;
//      probs f16 = softmax(masked); y = probs @ v.
// Bool masks and sq > 1 (prefill) are refused (PIMC1206): they belong on the NPU.

import type { TensorEntry } from '../instr.js';
import { ProgramBuilder } from './builder.js';
import { attrsOf, input, output, refuse, requireFloat } from './common.js';
import { broadcastOperand, contiguous, entryOf, stridesOf, type Box, type Operand } from './nest.js';
import { registerPnmLowering } from './registry.js';
import type { PnmLowerContext, PnmTensor } from './types.js';

/** A tensor as a 4-D operand (rank 3 gets a leading batch of 1). */
function as4(t: PnmTensor): { dims: number[]; o: Operand } {
  const s = stridesOf(t);
  return t.shape.length === 4
    ? { dims: [...t.shape], o: { addr: t.addr, dtype: t.dtype, strides: s } }
    : { dims: [1, ...t.shape], o: { addr: t.addr, dtype: t.dtype, strides: [0, ...s] } };
}

/** Dims and strides regrouped: [b, hq, 1, x] as [b, hkv, group, x] (query heads of one kv head as rows). */
const grouped = (o: Operand, g: number): Operand => ({ ...o, strides: [o.strides[0]!, g * o.strides[1]!, o.strides[1]!, o.strides[3]!] });

function lower(ctx: PnmLowerContext) {
  const a = attrsOf(ctx);
  const mode = a.string('mask_mode', 'none');
  if (mode === 'bool') refuse(ctx, 'a bool mask (the descriptors have no select)');
  requireFloat(ctx);
  const scale = Math.fround(a.float('scale'));
  const [q, k, v, y] = [as4(input(ctx, 0)), as4(input(ctx, 1)), as4(input(ctx, 2)), as4(output(ctx))];
  const [B, Hq, S, D] = q.dims as [number, number, number, number];
  const [kb, Hkv, T] = k.dims as [number, number, number];
  const Dv = v.dims[3]!;
  if (S !== 1) refuse(ctx, `${S} query rows: the PNM runs decode attention (sq = 1); prefill belongs on the NPU`);
  if (T === 0) refuse(ctx, 'an empty KV cache');
  // A cache shared by the whole batch is read once per kv head: stride 0 over the batch.
  for (const c of [k, v]) if (kb === 1 && B > 1) [c.dims[0], c.o.strides[0]] = [B, 0];
  const g = Hq / Hkv;
  const b = new ProgramBuilder(ctx);
  const boxes = b.boxes([B, Hkv], [0, 1]);

  if (mode === 'none') {
    for (const [[b0, bn], [h0, hn]] of boxes) {
      const headBox = (qheads: boolean, last: number, rows: number): Box => [[b0, bn], qheads ? [h0 * g, hn * g] : [h0, hn], [0, rows], [0, last]];
      b.emit(b.nextUnit(), 'attention', entryOf(y.o, y.dims, headBox(true, Dv, 1)), [
        entryOf(q.o, q.dims, headBox(true, D, 1)),
        entryOf(k.o, k.dims, headBox(false, D, T)),
        entryOf(v.o, v.dims, headBox(false, Dv, T)),
      ], scale);
    }
    return b.build();
  }

  // Additive mask: broadcast to the scores [b, hq, 1, T], then grouped like q.
  const m = input(ctx, 3);
  const mo = broadcastOperand(m, ctx.inputs[0]!.shape.length === 4 ? [B, Hq, 1, T] : [Hq, 1, T]);
  if (!mo) return refuse(ctx, `the mask [${m.shape.join(', ')}] does not broadcast to the scores`);
  const mask = grouped(mo.strides.length === 4 ? mo : { ...mo, strides: [0, ...mo.strides] }, g);
  const scratch = (dtype: 'f16' | 'f32', bytes: number): Operand =>
    ({ addr: ctx.scratch(B * Hq * T * bytes), dtype, strides: contiguous([B, Hkv, g, T]) });
  const [scores, masked, probs] = [scratch('f32', 4), scratch('f32', 4), scratch('f16', 2)];
  const kT: Operand = { ...k.o, strides: [k.o.strides[0]!, k.o.strides[1]!, k.o.strides[3]!, k.o.strides[2]!] };
  const [qg, yg] = [grouped(q.o, g), grouped(y.o, g)];
  for (const [bb, hb] of boxes) {
    const u = b.nextUnit();
    // The box's (batch, kv head) block of a [b, hkv, d2, d3] operand.
    const at = (o: Operand, d2: number, d3: number): TensorEntry => entryOf(o, [B, Hkv, d2, d3], [bb!, hb!, [0, d2], [0, d3]]);
    b.emit(u, 'gemm', at(scores, g, T), [at(qg, g, D), at(kT, D, T)], scale);
    b.emit(u, 'add', at(masked, g, T), [at(scores, g, T), at(mask, g, T)]);
    b.emit(u, 'softmax', at(probs, g, T), [at(masked, g, T)]);
    b.emit(u, 'gemm', at(yg, g, Dv), [at(probs, g, T), at(v.o, T, Dv)], 1);
  }
  return b.build();
}

registerPnmLowering('pimc', 'Attention', lower);
