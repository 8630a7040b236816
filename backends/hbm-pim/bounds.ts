// HBM-PIM error bounds for the ops the machine runtime runs in the banks
// (compiler/codegen/pim-steps.ts, runtime-sim/runtime/pim-exec.ts), so the
// per-op mode of `pimc verify` checks them as it checks NPU and PNM kernels:
// how far the result the host read back may lie from the reference
// interpreter's (fp32) on the same stored inputs.
//
// u16 = 2^-11 (FP16), u = 2^-24 (FP32), gamma(n, u) = n u / (1 - n u); the
// last step of every op is the FP16 store of its result (stored(): dev + ref
// + u16 (|y| + dev) + 2^-25, backends/cxl-pnm/lower/bounds.ts).
//
//   Linear, MatMul, Gemm with a constant weight (a GEMV per row of x): each
//     of a PCU's 16 lanes does ceil(K/16) MACs, each rounding its product and
//     its sum in FP16 (HARDWARE.md 3.6: not fused), the host adds the 16
//     lanes (FP16 or FP32: FP16 is the worse), then the K-slices' partial
//     sums (at most one per 128-input tile), then the bias in FP32. That is a
//     chain of at most d = 2 ceil(K/16) + 16 + ceil(K/128) FP16 roundings, so
//     dev = gamma(d, u16) E (E = sum_k |x_k w_k|; Higham 3.1) + u (|y| + dev)
//     for the bias; the reference's FP32 sum is off by gamma(K, u) E (+ u|y|
//     with a bias). FP16 overflow of a partial sum is not covered: the result
//     is infinite and fails the check, as it should.
//   Add, Mul: one FP16 rounding of the exact result: |got - want| <= u16 |y|
//     + u |y| (the reference's FP32 rounding), + 2^-25 for subnormals.
//   Relu (the ReLU bit of MOV) and KvAppend (copies of FP16 bits): exact.
//   Attention: not derived here; checked end to end (verify's tolerance).

import type { Op } from '../../ir/graph.js';
import { sizeOf, type Tensor } from '../../ir/tensor.js';
import { BoundRegistry, worstRatio, type BaseBoundContext, type BoundCheck, type ElementBound } from '../common/bound-registry.js';
import { gamma, stored, U, UD, UH } from '../cxl-pnm/lower/bounds.js';
import { LANES } from '../../runtime-sim/hbm/bank-store.js';

const BOUNDS = new BoundRegistry<BaseBoundContext>('HBM-PIM');
const EXACT: ElementBound = () => 0;
/** Inputs per GEMV input tile (8 GRF_A bursts of 16 lanes): at most one K-slice each. */
const TILE = 128;

function need(c: BaseBoundContext, i: number): Tensor {
  const t = c.inputs[i];
  if (!t) throw new Error(`internal: the HBM-PIM error bound of ${c.op.type} (op "${c.op.name}") needs input ${i}`);
  return t;
}

/** The header's GEMV bound for y = x @ W (+ bias): x [.., K], W [K, N] (or [N, K] with transB). */
function gemvBound(c: BaseBoundContext, transB: boolean, bias: Tensor | null): ElementBound {
  const x = need(c, 0), w = need(c, 1);
  const K = x.shape[x.shape.length - 1]!;
  const N = transB ? w.shape[0]! : w.shape[1]!;
  const rows = sizeOf(x.shape) / K;
  const d = 2 * Math.ceil(K / LANES) + LANES + Math.ceil(K / TILE);
  const out = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < N; n++) {
      let y = 0, e = 0;
      for (let k = 0; k < K; k++) {
        const p = x.data[r * K + k]! * w.data[transB ? n * K + k : k * N + n]!;
        y += p;
        e += Math.abs(p);
      }
      // y and e are double sums: within gamma(K, 2^-53) e of exact
      const slack = gamma(K, UD) * e;
      const E = e + slack;
      const yb = Math.abs(y + (bias ? bias.data[n % bias.size]! : 0)) + slack;
      let dev = gamma(d, UH) * E;
      let ref = gamma(K, U) * E;
      if (bias) {
        dev += U * (yb + dev);
        ref += U * yb;
      }
      out[r * N + n] = stored(yb, dev, ref);
    }
  }
  return (_o, i) => out[i]!;
}

BOUNDS.register('pimc', 'Linear', (c) => gemvBound(c, c.attrs.int('transB', 0) !== 0, c.inputs[2] ?? null));
BOUNDS.register('', 'MatMul', (c) => gemvBound(c, false, null));
// pim-steps.ts runs Gemm only as x @ W + C (transA = 0, alpha = beta = 1), C a row of N
BOUNDS.register('', 'Gemm', (c) => gemvBound(c, c.attrs.int('transB', 0) !== 0, c.inputs[2] ?? null));

const oneRounding: (c: BaseBoundContext) => ElementBound = (c) => {
  const want = c.want[0]!;
  return (_o, i) => {
    const y = Math.abs(want.data[i]!) * (1 + U);
    return stored(y, 0, U * y);
  };
};
BOUNDS.register('', 'Add', oneRounding);
BOUNDS.register('', 'Mul', oneRounding);
BOUNDS.register('', 'Relu', () => EXACT);
BOUNDS.register('pimc', 'KvAppend', () => EXACT);

export function hasPimBound(domain: string, type: string): boolean {
  return BOUNDS.has(domain, type);
}

export function pimBound(op: Op, inputs: readonly (Tensor | null)[], want: readonly Tensor[]): ElementBound {
  return BOUNDS.bound(op, inputs, want, {});
}

/** The element of the op's outputs farthest from the reference, relative to its bound (<= 1: within). */
export function worstPimBoundRatio(op: Op, inputs: readonly (Tensor | null)[], got: readonly Tensor[], want: readonly Tensor[]): BoundCheck {
  return worstRatio(op, pimBound(op, inputs, want), got, want);
}
