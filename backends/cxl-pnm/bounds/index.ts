// CXL-PNM error bounds: for an op the PNM lowers (backends/cxl-pnm/lower/),
// how far the PNM simulator's output may lie from the reference
// interpreter's (fp32) on the same inputs. Each bound is derived from the
// arithmetic of the descriptors (runtime-sim/pnm/exec-*.ts) and of the
// reference; the building blocks and their derivations are in
// ../lower/bounds.ts, the per-element assembly (row statistics, sums of
// |a b|, attention rows, masks) in one file per family below, with its
// derivation beside it. The lowerings' tests check them op by op; the
// compiler can check every op of a model run on the expander with the same
// functions. The API is backends/npu/bounds/'s, for the PNM.
//
// API (every family registered on import of this file):
//
//   pnmBound(op, inputs, want, opset = 23) -> bound(output, index)
//     op       the IR op: type, domain, attributes (read through the op's
//              schema, so the reference's defaults apply) and its outputs
//     inputs   the op's inputs exactly as the expander stored them: floats
//              already f16 values (harness.ts roundForPnm), integers
//              unchanged; null for an optional input left out (positions kept)
//     want     the reference's outputs on those inputs, one per op output
//     opset    the default domain's opset of the op's graph, as the lowering
//              gets it (PnmLowerContext.opset; only Softmax reads it: before
//              13 its row is the dims from axis on)
//     bound(output, index)  the allowed |got - want| for element `index`
//              (row-major) of output `output`. 0 means exact: got must equal
//              want (NaN on both sides counts as equal).
//   The per-element data a bound needs (sum_k |a_k b_k|, row statistics,
//   attention scores) is computed once, in float64, when pnmBound is called;
//   call it once per op and the returned function per element.
//   Throws an internal Error naming the op type for an op without a bound;
//   for a non-exact bound asked about a float output that is not f32 (the
//   derivations take the reference's roundings as f32 ones: common.ts); and
//   for the cases the lowering refuses (PIMC1206), which have no derivation:
//   Attention with sq > 1 or a bool mask, a norm's Mean / InvStdDev outputs,
//   Gelu's other approximations, an odd RoPE head size.
//
//   worstPnmBoundRatio(op, inputs, got, want, opset = 23) -> { output, index, ratio, got, want, bound }
//     the element with the largest |got - want| / bound over all outputs, by
//     harness.ts worstError's rules (NaN on one side only, or a mismatched
//     infinity, is Infinity; a difference against a 0 bound is Infinity);
//     ratio <= 1 is within bound; index -1 when every element is equal
//     (NaN on both sides included).
//
//   hasPnmBound(domain, type), pnmBoundedOpTypes(): which op types have one
//     (exactly pnmLoweredOpTypes(): bounds.test.ts).
//   registerPnmBound(domain, type, rule): how a family adds its op types.
//
// Families (u = 2^-24, uf = u + 1e-15, gamma(n) = n u / (1 - n u); every
// non-exact bound ends in the FP16 store, bounds.ts stored(): dev + ref +
// 2^-11 (|y| + dev) + 2^-25):
//   elementwise.ts  Add Mul                            |f16(want) - want| (got = f16(want))
//                   Gelu (both domains) pimc.Silu pimc.SwiGLU   activationBound
//   gemm.ts         pimc.Linear MatMul                 gemmBound from y, sum |a b| per output
//   rows.ts         Softmax                            softmaxBound from the row's n and range
//                   LayerNormalization pimc.LayerNorm RMSNormalization pimc.RMSNorm   normBound
//                   pimc.Rope                          ropeBound(|x c| + |rot(x) s|)
//   attention.ts    pimc.Attention (decode)            attentionBound / maskedAttentionBound
//   kv.ts           pimc.KvAppend                      exact
// docs/cxl-pnm.md ("Error bounds (`backends/cxl-pnm/bounds/`)") has the table.

import type { Op } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';
import { worstRatio, type BoundCheck } from '../../common/bound-registry.js';
import { pnmBound } from './registry.js';
import './attention.js';
import './elementwise.js';
import './gemm.js';
import './kv.js';
import './rows.js';

export { hasPnmBound, pnmBound, pnmBoundedOpTypes, registerPnmBound } from './registry.js';
export type { BoundContext, BoundRule, ElementBound } from './registry.js';
export { EXACT } from './common.js';
export { SUB16, U, UD, UF, UH, gamma, stored } from '../lower/bounds.js';

export type { BoundCheck as PnmBoundCheck } from '../../common/bound-registry.js';

/** The worst element of every output of `op` against its bound (header). */
export function worstPnmBoundRatio(op: Op, inputs: readonly (Tensor | null)[], got: readonly Tensor[], want: readonly Tensor[], opset = 23): BoundCheck {
  return worstRatio(op, pnmBound(op, inputs, want, opset), got, want);
}
