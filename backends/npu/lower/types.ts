// The NPU lowering's contract: one IR op with concrete shapes, its tensors
// already placed in DRAM, becomes one NpuProgram (an instruction list per
// engine). Families of ops register their lowering here (registry.ts); the
// runtime (a later stage) allocates DRAM and strings programs together.

import type { Op } from '../../../ir/graph.js';
import type { Hardware, NpuDesc } from '../../../runtime-sim/hardware/types.js';
import type { NpuProgram } from '../instr.js';

/**
 * A tensor in DRAM: contiguous, row-major. Floating-point IR dtypes are
 * stored as f16 (the NPU's storage type), integer and bool ones as i32.
 */
export interface DramTensor {
  addr: number;
  dtype: 'f16' | 'i32';
  shape: readonly number[];
}

export interface LowerContext {
  hw: Hardware;
  npu: NpuDesc;
  op: Op;
  /** One per op input (null: an optional input left out). Constant inputs are in DRAM too. */
  inputs: readonly (DramTensor | null)[];
  outputs: readonly DramTensor[];
  /** DRAM for intermediates the program needs (e.g. a transposed copy): returns a byte address. */
  scratch(bytes: number): number;
}

export type Lowering = (ctx: LowerContext) => NpuProgram;
