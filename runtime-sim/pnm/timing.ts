// The PNM timing model [ours, HARDWARE.md 4's formula; docs/cxl-pnm.md]:
//   descriptor = descriptorLaunchNs + max(bytes / (internalGBps / active), compute)
//   compute    = max(matrix FLOPs / matrixTflopsPerUnit, vector FLOPs / vectorGflopsPerUnit)
// where `active` is the number of units moving data at that moment (sim.ts
// serves them by processor sharing), and the two engines of a unit pipeline
// over tiles, so the slower one sets the pace. Bytes are view footprints
// (views.ts), plus re-reads when the SRAM cannot hold what a pass reuses:
// - gemm: the activation rows [Mt, K] stay in half the SRAM while b streams;
//   b is read ceil(rows sharing it / Mt) times, Mt = floor(sram/2 / 2K).
// - attention: the query rows of one kv head (q in f16, acc in f32, m and l)
//   stay in half the SRAM while K and V stream; K, V read ceil(rows / Mt) times.
// - softmax / norms: a row of L FP32 values in half the SRAM is read once;
//   a longer row is re-read per statistics pass (softmax 2, layernorm 3, rmsnorm 2).
// Link transfers: bytes / linkGBps + linkLatencyNs.

import { DTYPE_BYTES, type Descriptor, type PnmOp } from '../../backends/cxl-pnm/instr.js';
import type { Hardware, PnmDesc } from '../hardware/types.js';
import type { Resolved } from './check.js';
import { elementCount, footprint } from './views.js';

export interface DescriptorCost {
  bytesRead: number;
  bytesWritten: number;
  matrixFlops: number;
  vectorFlops: number;
  /** Times the streamed operand is read (1 when the SRAM holds what is reused). */
  passes: number;
}

/** Vector FLOPs per output element (per score for attention): the IR registry's cost counts (ir/ops/**) [ours]. */
export const VECTOR_FLOPS: Partial<Record<PnmOp, number>> = {
  softmax: 5, layernorm: 8, rmsnorm: 4, gelu: 20, silu: 11, swiglu: 12, rope: 3, add: 1, mul: 1,
  // scale, running max, subtract, exp, sum (the rare rescale is not counted)
  attention: 5,
};
const ROW_PASSES: Partial<Record<PnmOp, number>> = { softmax: 2, layernorm: 3, rmsnorm: 2 };

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

export function descriptorCost(d: Descriptor, v: Resolved, pnm: PnmDesc): DescriptorCost {
  const { out, ins } = v;
  const half = pnm.sramBytesPerUnit / 2;
  const r = out.dims.length;
  const n = elementCount(out);
  let read = ins.reduce((s, e) => s + footprint(e), 0);
  let written = footprint(out);
  let matrixFlops = 0, vectorFlops = (VECTOR_FLOPS[d.op] ?? 0) * n, passes = 1;
  switch (d.op) {
    case 'gemm': {
      const [a, b] = [ins[0]!, ins[1]!];
      const [M, N, K] = [out.dims[r - 2]!, out.dims[r - 1]!, a.dims[r - 1]!];
      const sharing = M * prod(b.dims.slice(0, -2).map((x, i) => (b.strides[i] === 0 ? x : 1)));
      const mt = Math.max(1, Math.floor(half / (2 * K)));
      passes = Math.max(1, Math.ceil(sharing / mt));
      read += footprint(b) * (passes - 1);
      matrixFlops = 2 * prod(out.dims.slice(0, -2)) * M * N * K;
      vectorFlops = ins[2] ? n : 0;
      break;
    }
    case 'attention': {
      const [q, k, vv] = [ins[0]!, ins[1]!, ins[2]!];
      const [B, Hq, S, D] = q.dims as [number, number, number, number];
      const [, Hkv, T] = k.dims as [number, number, number];
      const Dv = vv.dims[3]!;
      const rows = (Hq / Hkv) * S * (k.strides[0] === 0 ? B : 1);
      const mt = Math.max(1, Math.floor(half / (2 * D + 4 * Dv + 8)));
      passes = Math.max(1, Math.ceil(rows / mt));
      read += (footprint(k) + footprint(vv)) * (passes - 1);
      const scores = B * Hq * S * T;
      matrixFlops = scores * (2 * D + 2 * Dv);
      vectorFlops = scores * VECTOR_FLOPS.attention!;
      break;
    }
    case 'softmax': case 'layernorm': case 'rmsnorm': {
      const L = out.dims[r - 1]!;
      if (4 * L > half) {
        passes = ROW_PASSES[d.op]!;
        read += footprint(ins[0]!) * (passes - 1);
      }
      break;
    }
    case 'kv_append':
      written = elementCount(ins[0]!) * DTYPE_BYTES[out.dtype];
      break;
    default:
  }
  return { bytesRead: read, bytesWritten: written, matrixFlops, vectorFlops, passes };
}

/** Nanoseconds the engines need, whatever the memory does. */
export function computeNs(c: DescriptorCost, pnm: PnmDesc): number {
  return Math.max(c.matrixFlops / (pnm.matrixTflopsPerUnit * 1e3), c.vectorFlops / pnm.vectorGflopsPerUnit);
}

/** Nanoseconds for `bytes` over the CXL link, one way. */
export const linkNs = (bytes: number, pnm: PnmDesc): number => bytes / pnm.linkGBps + pnm.linkLatencyNs;

/** Seconds to move `bytes` between host and expander (one way): bytes / linkGBps + linkLatencyNs. For the runtime. */
export function linkTransfer(bytes: number, hw: Hardware): number {
  if (!hw.pnm) throw new Error(`internal: hardware ${hw.name} has no PNM link`);
  return linkNs(bytes, hw.pnm) * 1e-9;
}
