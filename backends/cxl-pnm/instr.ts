// The CXL-PNM descriptor ISA (HARDWARE.md 4; encoding in isa.ts, text in
// asm.ts, docs/cxl-pnm.md). The simulator is runtime-sim/pnm/.
//
// Machine model [ours, after Samsung's CXL-PNM [pub]]:
// - A CXL memory expander: `pnm.capacityGiB` of LPDDR5X at `pnm.internalGBps`
//   inside the device, `pnm.units` compute units, a x16 link to the host
//   (`pnm.linkGBps` each way, `pnm.linkLatencyNs`).
// - Each unit has an instruction queue of `pnm.queueDepth` descriptors, an
//   SRAM of `pnm.sramBytesPerUnit` (input tiles and partial sums), a matrix
//   engine (GEMV / small GEMM, FP16 in, FP32 accumulate) and an FP32 vector
//   engine (softmax, norms, activations, element-wise). Storage is FP16; all
//   arithmetic is FP32; a result is rounded once, to its output's dtype.
// - A descriptor is 128 bits, too small for three device addresses and their
//   shapes, so operands are 16-bit ids into a TENSOR TABLE: the host writes the
//   table and the descriptor queues into the device, rings a doorbell, and
//   polls for completion. A program is one doorbell's worth: the table plus
//   one queue per unit. Units run their queues concurrently, each in order;
//   descriptors on different units must not depend on each other.
// - A table entry is a strided view: base byte address, dtype, 1 to 4 dims
//   and a stride per dim in elements (0 broadcasts; a KV cache's valid length
//   is its view's length, the capacity only shows in the strides).
//
// Operand conventions (per opcode in isa.ts): every operand of an element-wise
// or row op has the output's dims (broadcasting is a stride of 0); row ops
// (softmax, norms, rope) work along the last dim.

export type PnmDtype = 'f16' | 'f32' | 'i32';

export const DTYPE_BYTES: Record<PnmDtype, number> = { f16: 2, f32: 4, i32: 4 };

/** A tensor-table entry: a strided view of device memory. */
export interface TensorEntry {
  /** Base byte address in the device (aligned to the element size). */
  addr: number;
  dtype: PnmDtype;
  /** 1 to 4 dims, outermost first. */
  dims: number[];
  /** Per dim, in elements (signed; 0 broadcasts). */
  strides: number[];
}

export type PnmOp =
  | 'gemm' | 'attention'
  | 'softmax' | 'layernorm' | 'rmsnorm' | 'gelu' | 'silu' | 'swiglu' | 'rope' | 'add' | 'mul'
  | 'kv_append' | 'copy';

/** The id of an unused operand slot. */
export const NO_TENSOR = 0xffff;

/**
 * One descriptor, field for field as encoded: operands are tensor-table ids
 * (NO_TENSOR when unused); flags are the opcode's flag bits (isa.ts names
 * them); imm is a float32 value or an unsigned integer, as the opcode says
 * (0 when the opcode has none).
 */
export interface Descriptor {
  op: PnmOp;
  flags: number;
  out: number;
  in0: number;
  in1: number;
  in2: number;
  imm: number;
}

/** One doorbell: the tensor table and one descriptor queue per unit (fewer queues than units leave units idle). */
export interface PnmProgram {
  name: string;
  table: TensorEntry[];
  queues: Descriptor[][];
}

/** Host protocol register sizes [ours]: the doorbell write and the completion status the host polls. */
export const DOORBELL_BYTES = 8;
export const STATUS_BYTES = 8;
