// The NPU kernel ISA as data types (HARDWARE.md 2): what the NPU backend
// emits and the NPU simulator executes. The table of opcodes, encodings and
// the text form live in isa.ts / asm.ts; this file is the contract between
// lowering and simulator.
//
// Machine model [ours]:
// - Memories: DRAM (the HBM stacks, shared by all engines), the shared SRAM,
//   and one scratchpad per engine. Addresses are byte offsets into one of
//   them. DRAM and shared SRAM are reached only by DMA; compute reads and
//   writes only its engine's scratchpad.
// - Operands are strided views of up to 3 dims: shape and strides in
//   elements. A stride of 0 repeats an element (broadcast); strides may be
//   any order (a transposed view costs nothing to describe).
// - Each engine runs one instruction list in order. DMA instructions are
//   asynchronous: they start in order on the engine's DMA queue and complete
//   later; `wait.dma TAG` blocks until every DMA with that tag has completed.
//   Touching scratchpad bytes that an incomplete DMA writes (or reads, for a
//   store) is a simulator fault: the program must wait first.
// - MATMUL runs on the systolic array and VEC on the vector unit; both are
//   in order behind each other on one engine (a later instruction starts
//   after the earlier one's results are written), so programs overlap
//   compute with DMA, and engines with each other.
// - Numerics: f16 storage, fp32 arithmetic; a result is rounded to its
//   destination's dtype (round to nearest even) when written. MATMUL
//   accumulates in fp32 (HARDWARE.md 2, `npu.accumulate`).
// - Semaphores: `signal S` adds one to semaphore S (global across engines);
//   `wait.sem S, N` blocks until S >= N, then subtracts N.

export type NpuDtype = 'f16' | 'f32' | 'i32';
export type Space = 'dram' | 'shared' | 'spad';

export const DTYPE_BYTES: Record<NpuDtype, number> = { f16: 2, f32: 4, i32: 4 };

/** A strided tile: up to 3 dims (fewer are written as leading 1s with stride 0). */
export interface View {
  space: Space;
  /** Byte address of element [0,0,0] in that memory. */
  addr: number;
  dtype: NpuDtype;
  /** [d0, d1, d2]; the last dim is the innermost. */
  shape: [number, number, number];
  /** Element strides per dim (0 broadcasts). */
  strides: [number, number, number];
}

export type VecUnary =
  | 'copy' // convert to the destination dtype
  | 'neg' | 'abs' | 'exp' | 'log' | 'tanh' | 'erf' | 'sqrt' | 'rsqrt' | 'recip' | 'sigmoid' | 'relu' | 'sin' | 'cos';
export type VecBinary = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'pow';
/** a op imm, with imm an fp32 immediate. */
export type VecScalar = 'adds' | 'muls' | 'maxs' | 'mins' | 'pows';
/** Along the last dim: dst has shape [d0, d1, 1]. */
export type VecReduce = 'rsum' | 'rmax';

export type Instr =
  /** DRAM or shared SRAM -> scratchpad (dtypes equal, shapes equal). */
  | { op: 'dma.load'; tag: number; dst: View; src: View }
  /** scratchpad -> DRAM or shared SRAM. */
  | { op: 'dma.store'; tag: number; dst: View; src: View }
  /**
   * Embedding rows: dst[i, :] = table[index[i], :] for i < dst.shape[1]
   * (table in DRAM, index i32 in scratchpad, dst in scratchpad; 2-D views
   * with shape [1, rows, cols]). An index outside the table is a fault.
   */
  | { op: 'dma.gather'; tag: number; dst: View; table: View; index: View }
  | { op: 'wait.dma'; tag: number }
  /**
   * c[b] (+)= a[b] x b[b] for each b < shape[0]: a [B, M, K] f16, b [B, K, N]
   * f16, c [B, M, N] f32, all in the scratchpad. accumulate: add to c
   * instead of overwriting it.
   */
  | { op: 'matmul'; c: View; a: View; b: View; accumulate: boolean }
  | { op: 'vec.unary'; fn: VecUnary; dst: View; a: View }
  | { op: 'vec.binary'; fn: VecBinary; dst: View; a: View; b: View }
  | { op: 'vec.scalar'; fn: VecScalar; dst: View; a: View; imm: number }
  | { op: 'vec.reduce'; fn: VecReduce; dst: View; a: View }
  | { op: 'signal'; sem: number }
  | { op: 'wait.sem'; sem: number; count: number }
  | { op: 'end' };

export type InstrOp = Instr['op'];

/** One kernel: an instruction list per engine (engines without work get []). */
export interface NpuProgram {
  name: string;
  engines: Instr[][];
}

export function view(space: Space, addr: number, dtype: NpuDtype, shape: readonly number[], strides?: readonly number[]): View {
  const s = [1, 1, 1, ...shape].slice(-3) as [number, number, number];
  const st = strides ? ([0, 0, 0, ...strides].slice(-3) as [number, number, number]) : ([s[1] * s[2], s[2], 1] as [number, number, number]);
  return { space, addr, dtype, shape: s, strides: st };
}

export const elements = (v: View): number => v.shape[0] * v.shape[1] * v.shape[2];
