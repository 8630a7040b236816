// The NPU lowering's contract: one IR op with concrete shapes, its tensors
// already placed in DRAM, becomes one NpuProgram (an instruction list per
// engine). Families of ops register their lowering here (registry.ts); the
// runtime (a later stage) allocates DRAM and strings programs together.

import type { Op } from '../../../ir/graph.js';
import type { Hardware, NpuDesc } from '../../../runtime-sim/hardware/types.js';
import type { NpuProgram } from '../instr.js';

/**
 * A tensor in DRAM: row-major, contiguous unless `strides` says otherwise.
 * Floating-point IR dtypes are stored as f16 (the NPU's storage type),
 * integer and bool ones as i32.
 */
export interface DramTensor {
  addr: number;
  dtype: 'f16' | 'i32';
  shape: readonly number[];
  /**
   * Element strides, for the one strided home there is: a KV cache input
   * that lives inside its KV append's output (compiler/codegen/dram-plan.ts),
   * read only by that append and written by the host.
   */
  strides?: readonly number[];
}

/** Each row of the last dim of a strided home: its first element's row-major index, its byte address, its length. */
export function dramRows(d: DramTensor, f: (from: number, addr: number, len: number) => void): void {
  const r = d.shape.length;
  const strides = d.strides!;
  const len = d.shape[r - 1] ?? 1;
  if (r > 0 && strides[r - 1] !== 1) throw new Error(`internal: DRAM home at ${d.addr} has a last-dim stride of ${strides[r - 1]}`);
  const bytes = d.dtype === 'f16' ? 2 : 4;
  const rows = len === 0 ? 0 : d.shape.reduce((a, b) => a * b, 1) / len;
  for (let row = 0; row < rows; row++) {
    let rest = row;
    let elem = 0;
    for (let k = r - 2; k >= 0; k--) {
      elem += (rest % d.shape[k]!) * strides[k]!;
      rest = Math.floor(rest / d.shape[k]!);
    }
    f(row * len, d.addr + elem * bytes, len);
  }
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
