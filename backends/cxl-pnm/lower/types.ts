// The PNM lowering's contract: one IR op with concrete shapes, its tensors
// already placed in the expander's memory, becomes one PnmProgram (a tensor
// table and a descriptor queue per unit: one doorbell). Families of ops
// register their lowering (registry.ts); index.ts imports them all.

import type { Op } from '../../../ir/graph.js';
import type { Hardware, PnmDesc } from '../../../runtime-sim/hardware/types.js';
import type { PnmProgram } from '../instr.js';

/**
 * A tensor in device memory. Floating-point IR dtypes are stored as f16,
 * integer and bool ones as i32. Row-major and contiguous unless `strides`
 * (in elements) say otherwise: a KV cache of capacity C holding T valid rows
 * is shape [b, h, T, d] with strides [h*C*d, C*d, d, 1].
 */
export interface PnmTensor {
  addr: number;
  dtype: 'f16' | 'i32';
  shape: readonly number[];
  strides?: readonly number[];
}

export interface PnmLowerContext {
  hw: Hardware;
  pnm: PnmDesc;
  op: Op;
  /** One per op input (null: an optional input left out). */
  inputs: readonly (PnmTensor | null)[];
  outputs: readonly PnmTensor[];
  /** The default domain's opset (Softmax's axis rules changed at 13); 23 when absent. */
  opset?: number;
  /** Device memory for intermediates (attention scores): returns a byte address. */
  scratch(bytes: number): number;
}

export type PnmLowering = (ctx: PnmLowerContext) => PnmProgram;
