// What each op is, for the cost model and placement: its kind, and which
// devices can run it at all (legality, kept apart from profitability).

import { isFloat } from '../../ir/dtype.js';
import type { Op } from '../../ir/graph.js';
import type { Device } from '../../runtime-sim/hardware/types.js';

export type OpKind =
  | 'linear' // weight GEMV/GEMM (x @ W, W constant)
  | 'matmul' // activation x activation
  | 'attention'
  | 'kv-append'
  | 'norm'
  | 'activation'
  | 'softmax'
  | 'rope'
  | 'elementwise'
  | 'reduce'
  | 'embedding'
  | 'view' // reshape-like: no data moves
  | 'movement'; // transpose, concat, slice, ...

const BY_TYPE: Record<string, OpKind> = {
  'pimc.Linear': 'linear', 'pimc.Attention': 'attention', 'pimc.KvAppend': 'kv-append',
  'pimc.LayerNorm': 'norm', 'pimc.RMSNorm': 'norm', 'pimc.Gelu': 'activation', 'pimc.Silu': 'activation',
  'pimc.SwiGLU': 'activation', 'pimc.Rope': 'rope',
  Attention: 'attention', LayerNormalization: 'norm', RMSNormalization: 'norm', RotaryEmbedding: 'rope',
  Einsum: 'matmul', Softmax: 'softmax', LogSoftmax: 'softmax',
  Gelu: 'activation', Relu: 'activation', Sigmoid: 'activation', Tanh: 'activation', Erf: 'activation', Exp: 'activation',
  Log: 'activation', Sqrt: 'activation', Reciprocal: 'activation', Neg: 'activation', Cos: 'activation', Sin: 'activation',
  Add: 'elementwise', Sub: 'elementwise', Mul: 'elementwise', Div: 'elementwise', Pow: 'elementwise', Max: 'elementwise',
  Min: 'elementwise', Clip: 'elementwise', Where: 'elementwise', Equal: 'elementwise', Greater: 'elementwise', Less: 'elementwise',
  Cast: 'elementwise', CastLike: 'elementwise',
  ReduceMean: 'reduce', ReduceSum: 'reduce', ReduceMax: 'reduce',
  Reshape: 'view', Squeeze: 'view', Unsqueeze: 'view', Flatten: 'view', Identity: 'view',
  Transpose: 'movement', Concat: 'movement', Split: 'movement', Slice: 'movement', Expand: 'movement', Trilu: 'movement',
  Range: 'movement', ConstantOfShape: 'movement', Shape: 'movement', Constant: 'movement',
};

export function kindOf(op: Op): OpKind {
  const key = op.domain ? `${op.domain}.${op.type}` : op.type;
  if (op.type === 'MatMul' || op.type === 'Gemm') return op.inputs[1]?.constant ? 'linear' : 'matmul';
  if (op.type === 'Gather') return op.inputs[0]?.constant ? 'embedding' : 'movement';
  return BY_TYPE[key] ?? 'movement';
}

/** PIM computes in FP16 on float data; it has MAC/ADD/MUL/MAD/MOV(+ReLU), nothing transcendental. */
function pimCan(op: Op, kind: OpKind): boolean {
  if (!op.outputs.every((o) => o.type && isFloat(o.type.dtype))) return false;
  switch (kind) {
    case 'linear':
    case 'attention':
    case 'kv-append':
      return true;
    case 'elementwise':
      return op.type === 'Add' || op.type === 'Mul';
    case 'activation':
      return op.type === 'Relu';
    default:
      return false;
  }
}

/** The PNM engines: GEMV and small GEMM, attention, and the vector ops (HARDWARE.md 4). */
function pnmCan(op: Op, kind: OpKind): boolean {
  switch (kind) {
    case 'linear': case 'matmul': case 'attention': case 'kv-append': case 'norm': case 'activation':
    case 'softmax': case 'rope': case 'elementwise': case 'embedding':
      return op.outputs.every((o) => o.type && (isFloat(o.type.dtype) || kind === 'elementwise'));
    default:
      return false;
  }
}

/**
 * Devices that can run the op, among those present. The NPU runs everything;
 * views run anywhere (they move no data).
 */
export function legalDevices(op: Op, present: readonly Device[]): Device[] {
  const kind = kindOf(op);
  return present.filter((d) => {
    if (kind === 'view') return true;
    if (d === 'npu') return true;
    if (d === 'pim') return pimCan(op, kind);
    return pnmCan(op, kind);
  });
}

/** Why a device cannot run an op (for error messages and --explain). */
export function illegalReason(op: Op, d: Device): string {
  const kind = kindOf(op);
  if (d === 'pim') {
    if (!op.outputs.every((o) => o.type && isFloat(o.type.dtype))) return 'PIM units compute on FP16 data only';
    return `HBM-PIM units run GEMV, add, mul and ReLU; a ${kind} op (${op.type}) needs more`;
  }
  if (d === 'pnm') return `the PNM engines run GEMV, attention and vector ops; not a ${kind} op (${op.type})`;
  return 'the device is not in this hardware description';
}
