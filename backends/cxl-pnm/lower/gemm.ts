// GEMV / small GEMM on the matrix engine: pimc.Linear (x @ W + bias, W
// [K, N] or [N, K] with transB: a transposed weight is read in place by
// strides) and MatMul (numpy batch broadcasting; 1-D operands).
// 1. a [.., M, K], b [.., K, N], out [.., M, N] as views; broadcast batch
//    dims stride 0; batch dims merge where they can, beyond 2 are peeled.
// 2. Legality ("small"): one batch item's activation rows, 2 M K bytes, fit
//    half a unit's SRAM, so the weights stream from memory once
//    (runtime-sim/pnm/timing.ts re-reads them otherwise). Larger products are
//    compute-bound work for the NPU: PIMC1206.
// 3. The batch dims and N split over the units: each unit streams its own
//    slice of the weights (a GEMV splits by output columns).

import type { PnmDesc } from '../../../runtime-sim/hardware/types.js';
import { ProgramBuilder } from './builder.js';
import { attrsOf, input, output, refuse, requireFloat } from './common.js';
import { broadcastOperand, coalesce, contiguous, entryOf, peel, stridesOf, type Box, type Nest, type Operand } from './nest.js';
import { registerPnmLowering } from './registry.js';
import type { PnmLowerContext, PnmTensor } from './types.js';

/** True when M activation rows of K f16 values fit half of a unit's SRAM (the PNM's "small GEMM"). */
export const gemmFitsSram = (m: number, k: number, pnm: PnmDesc): boolean => 2 * m * k <= pnm.sramBytesPerUnit / 2;

interface Gemm {
  /** Batch dims; ops: out, a, b (their batch strides, in elements). */
  batch: Nest;
  M: number; N: number; K: number;
  /** Strides of the last two dims: a [M, K], b [K, N], out [M, N]. */
  aMk: [number, number]; bKn: [number, number]; outMn: [number, number];
  /** A bias as an out-shaped view (row broadcast: strides 0 then 1). */
  bias?: Operand;
}

function isContiguous(t: PnmTensor): boolean {
  const s = stridesOf(t), c = contiguous(t.shape);
  return t.shape.every((d, i) => d === 1 || s[i] === c[i]);
}

function emitGemm(ctx: PnmLowerContext, g: Gemm) {
  if (!gemmFitsSram(g.M, g.K, ctx.pnm)) {
    refuse(ctx, `${g.M} activation rows of ${g.K} (${2 * g.M * g.K} bytes) do not fit half a unit's ${ctx.pnm.sramBytesPerUnit}-byte SRAM; the weights would stream ${Math.ceil((2 * g.M * g.K) / (ctx.pnm.sramBytesPerUnit / 2))} times`);
  }
  const b = new ProgramBuilder(ctx);
  const full = (n: number): [number, number] => [0, n];
  for (const p of peel(coalesce(g.batch), 2)) {
    // A batch that coalesced to [1] is no batch: 2-D views.
    const bd = p.dims.length === 1 && p.dims[0] === 1 ? [] : p.dims;
    const at = (o: Operand | undefined, last: [number, number]): Operand => ({ ...o!, strides: [...o!.strides.slice(0, bd.length), ...last] });
    const [out, a, w] = [at(p.ops[0], g.outMn), at(p.ops[1], g.aMk), at(p.ops[2], g.bKn)];
    const bias = g.bias && { ...g.bias, strides: [...bd.map(() => 0), ...g.bias.strides] };
    for (const box of b.boxes([...bd, g.M, g.N], [...bd.keys(), bd.length + 1])) {
      const [batchBox, nBox] = [box.slice(0, bd.length), box[bd.length + 1]!];
      const ob: Box = [...batchBox, full(g.M), nBox];
      b.emit(b.nextUnit(), 'gemm', entryOf(out, [...bd, g.M, g.N], ob), [
        entryOf(a, [...bd, g.M, g.K], [...batchBox, full(g.M), full(g.K)]),
        entryOf(w, [...bd, g.K, g.N], [...batchBox, full(g.K), nBox]),
        bias ? entryOf(bias, [...bd, g.M, g.N], ob) : null,
      ], 1);
    }
  }
  return b.build();
}

/** No batch dims: one iteration of a nest of [1]. */
const noBatch = (ts: PnmTensor[]): Nest => ({ dims: [1], ops: ts.map((t) => ({ addr: t.addr, dtype: t.dtype, strides: [0] })) });

registerPnmLowering('pimc', 'Linear', (ctx) => {
  requireFloat(ctx);
  const x = input(ctx, 0), w = input(ctx, 1), y = output(ctx);
  const bias = ctx.inputs[2] ?? null;
  if (!isContiguous(x) || !isContiguous(y) || !isContiguous(w)) refuse(ctx, 'x, W and y must be contiguous');
  const tB = attrsOf(ctx).int('transB', 0) !== 0;
  const K = x.shape[x.shape.length - 1]!;
  const N = y.shape[y.shape.length - 1]!;
  const M = x.shape.slice(0, -1).reduce((a, d) => a * d, 1);
  return emitGemm(ctx, {
    batch: noBatch([y, x, w]), M, N, K,
    aMk: [K, 1], bKn: tB ? [1, K] : [N, 1], outMn: [N, 1],
    ...(bias ? { bias: { addr: bias.addr, dtype: bias.dtype, strides: [0, 1] } } : {}),
  });
});

registerPnmLowering('', 'MatMul', (ctx) => {
  requireFloat(ctx);
  const A = input(ctx, 0), B = input(ctx, 1), Y = output(ctx);
  if (!isContiguous(A) || !isContiguous(B) || !isContiguous(Y)) refuse(ctx, 'A, B and Y must be contiguous');
  // 1-D operands: A [K] is one row, B [K] one column.
  const a2 = A.shape.length === 1 ? [1, A.shape[0]!] : A.shape;
  const b2 = B.shape.length === 1 ? [B.shape[0]!, 1] : B.shape;
  const [M, K] = a2.slice(-2) as [number, number];
  const N = b2[b2.length - 1]!;
  const bd = Y.shape.slice(0, Math.max(0, Y.shape.length - (A.shape.length === 1 ? 0 : 1) - (B.shape.length === 1 ? 0 : 1)));
  const batchOf = (t: PnmTensor, shape: readonly number[], inner: number): Operand => {
    const batch = { ...t, shape: shape.slice(0, -2), strides: undefined };
    const o = broadcastOperand(batch, bd) ?? refuse(ctx, `[${t.shape.join(', ')}] does not broadcast to the batch [${bd.join(', ')}]`);
    return { ...o, strides: o.strides.map((s) => s * inner) };
  };
  const outOp: Operand = { addr: Y.addr, dtype: Y.dtype, strides: contiguous(bd).map((s) => s * M * N) };
  const batch: Nest = bd.length
    ? { dims: [...bd], ops: [outOp, batchOf(A, a2, M * K), batchOf(B, b2, K * N)] }
    : noBatch([Y, A, B]);
  return emitGemm(ctx, { batch, M, N, K, aMk: [K, 1], bKn: [N, 1], outMn: [N, 1] });
});
