// NPU error bounds: for an op the NPU lowers (backends/npu/lower/), how far
// the NPU simulator's output may lie from the reference interpreter's (fp32)
// on the same inputs. Each bound is derived from the arithmetic of the
// lowering and of the reference; the derivation is written beside it (one
// file per family, below) and is the documentation of the bound. The
// lowerings' tests check them op by op; the compiler can check every op of a
// whole model run on the NPU with the same functions.
//
// API (every family registered on import of this file):
//
//   npuBound(op, inputs, want) -> bound(output, index)
//     op       the IR op: type, domain, attributes (read through the op's
//              schema, so the reference's defaults apply) and its outputs
//     inputs   the op's inputs exactly as the NPU stored them: floats already
//              f16 values (harness.ts roundForNpu), integers unchanged; null
//              for an optional input left out (positions kept)
//     want     the reference's outputs on those inputs, one per op output
//     bound(output, index)  the allowed |got - want| for element `index`
//              (row-major) of output `output`. 0 means exact: got must equal
//              want (NaN on both sides counts as equal).
//   The per-element data a bound needs (sum_k |a_k b_k|, row statistics,
//   attention scores) is computed once, in float64, when npuBound is called;
//   call it once per op and the returned function per element.
//   Throws an internal Error naming the op type for an op without a bound,
//   and for a non-exact bound asked about a float output that is not f32 (the
//   derivations take the reference's roundings as f32 ones: common.ts).
//
//   worstBoundRatio(op, inputs, got, want) -> { output, index, ratio, got, want, bound }
//     the element with the largest |got - want| / bound over all outputs, by
//     harness.ts worstError's rules (NaN on one side only, or a mismatched
//     infinity, is Infinity; a difference against a 0 bound is Infinity);
//     ratio <= 1 is within bound; index -1 when every element is equal.
//
//   hasNpuBound(domain, type), boundedOpTypes(): which op types have one.
//   registerBound(domain, type, rule): how a family adds its op types.
//
// Families (u = 2^-24; every non-exact bound is f16Bound(want, E) =
// 2^-11 |want| + 2^-25 + (1 + 2^-11) E, E a bound on |NPU fp32 value - want|):
//   matmul.ts      MatMul, Gemm, pimc.Linear        gamma_K sums of sum |a b|, the epilogue's roundings
//   attention.ts   pimc.Attention                    scores, online-softmax weights, P @ V, per output
//   elementwise.ts Add Sub Mul Div Sqrt Reciprocal   E = 0
//                  Exp Log Erf Tanh Sigmoid Cos Sin Pow   E = 3u|want|
//                  Max Min Neg Relu                  exact
//                  Gelu (both domains), pimc.Silu, pimc.SwiGLU   per element / 4.1u|want| / 5.1u|want|
//   rowwise.ts     Softmax LogSoftmax LayerNormalization pimc.LayerNorm RMSNormalization pimc.RMSNorm
//   reduce.ts      ReduceSum ReduceMean (gamma_N sum |x|), ReduceMax (exact)
//   movement.ts    Identity Reshape Squeeze Unsqueeze Flatten Transpose Concat Split Slice Expand
//                  Gather pimc.KvAppend: exact
//   rope.ts        pimc.Rope: E = 0
//   select.ts      Clip Where Equal Greater Less: exact; Cast CastLike: exact, or E = 0 to a float
// docs/npu-lowering.md ("Error bounds") has the table with the formulas.

import type { Op } from '../../../ir/graph.js';
import type { Tensor } from '../../../ir/tensor.js';
import { worstRatio, type BoundCheck } from '../../common/bound-registry.js';
import { npuBound } from './registry.js';
import './matmul.js';
import './attention.js';
import './elementwise.js';
import './rowwise.js';
import './reduce.js';
import './movement.js';
import './rope.js';
import './select.js';

export { boundedOpTypes, hasNpuBound, npuBound, registerBound } from './registry.js';
export type { BoundContext, BoundRule, ElementBound } from './registry.js';
export { EXACT, U, f16Bound, gamma } from './common.js';

export type { BoundCheck } from '../../common/bound-registry.js';

/** The worst element of every output of `op` against its bound (header). */
export function worstBoundRatio(op: Op, inputs: readonly (Tensor | null)[], got: readonly Tensor[], want: readonly Tensor[]): BoundCheck {
  return worstRatio(op, npuBound(op, inputs, want), got, want);
}
