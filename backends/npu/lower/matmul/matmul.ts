// MatMul (numpy semantics) on the NPU: 1-D operands promoted, batch dims
// broadcast by strides (a broadcast operand is addressed in place, never
// copied), one GEMM item per batch index. When B is shared by every batch
// index (x @ W with x [b, s, K]) the batch folds into M: one tall GEMM
// keeps the weight tiles stationary longer and splits better across engines.

import { broadcastStrides } from '../../../../ir/ops/support.js';
import { registerLowering } from '../registry.js';
import type { LowerContext } from '../types.js';
import { rowMajor } from '../common/matrix.js';
import { emitGemm, type GemmItem } from './gemm-core.js';
import { f16Input } from './operands.js';

function lowerMatMul(ctx: LowerContext) {
  const A = f16Input(ctx, 0, 'input A'), B = f16Input(ctx, 1, 'input B');
  const Y = ctx.outputs[0]!;
  const a2 = A.shape.length === 1 ? [1, A.shape[0]!] : [...A.shape];
  const b2 = B.shape.length === 1 ? [B.shape[0]!, 1] : [...B.shape];
  const M = a2[a2.length - 2]!, K = a2[a2.length - 1]!, N = b2[b2.length - 1]!;
  const aBatch = a2.slice(0, -2), bBatch = b2.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const batch = pad(aBatch).map((d, i) => Math.max(d, pad(bBatch)[i]!));
  const nBatch = batch.reduce((p, d) => p * d, 1);
  const aStr = broadcastStrides(aBatch, batch), bStr = broadcastStrides(bBatch, batch);
  const aFull = aBatch.reduce((p, d) => p * d, 1) === nBatch;
  if (bStr.every((s) => s === 0) && aFull) {
    return emitGemm(ctx, {
      M: nBatch * M, N, K, alpha: 1, beta: 1,
      items: [{ a: rowMajor('dram', A.addr, 'f16', K), b: rowMajor('dram', B.addr, 'f16', N), c: rowMajor('dram', Y.addr, 'f16', N) }],
    });
  }
  const items: GemmItem[] = [];
  const idx = new Array<number>(rank).fill(0);
  for (let t = 0; t < nBatch; t++) {
    let ia = 0, ib = 0;
    for (let d = 0; d < rank; d++) {
      ia += idx[d]! * aStr[d]!;
      ib += idx[d]! * bStr[d]!;
    }
    items.push({
      a: rowMajor('dram', A.addr + ia * M * K * 2, 'f16', K),
      b: rowMajor('dram', B.addr + ib * K * N * 2, 'f16', N),
      c: rowMajor('dram', Y.addr + t * M * N * 2, 'f16', N),
    });
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < batch[d]!) break;
      idx[d] = 0;
    }
  }
  return emitGemm(ctx, { M, N, K, alpha: 1, beta: 1, items });
}

registerLowering('', 'MatMul', lowerMatMul);
