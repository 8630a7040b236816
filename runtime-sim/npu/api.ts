// The NPU simulator's interface (implementation: sim.ts, memory.ts): the
// contract the NPU backend's lowering and the runtime program against.

import type { Hardware } from '../hardware/types.js';
import type { NpuProgram } from '../../backends/npu/instr.js';

/** The memories the NPU sees. DRAM is sparse (pages allocated on first write), so a 24 GiB space costs only what is used. */
export interface NpuMemoryApi {
  readonly dramBytes: number;
  readonly sharedBytes: number;
  /** Host-side access (not timed): tensors in and out of DRAM. */
  writeF16(addr: number, values: ArrayLike<number>): void;
  readF16(addr: number, count: number): Float32Array;
  /** The f16 elements' bits as stored (into `out` when given: its first `count` elements). */
  readF16Bits(addr: number, count: number, out?: Uint16Array): Uint16Array;
  writeF32(addr: number, values: ArrayLike<number>): void;
  readF32(addr: number, count: number): Float32Array;
  writeI32(addr: number, values: ArrayLike<number>): void;
  readI32(addr: number, count: number): Int32Array;
}

export interface NpuUnitStats {
  /** Cycles the unit was busy. */
  busy: number;
  instructions: number;
}

export interface NpuEngineStats {
  dma: NpuUnitStats & { bytes: number };
  matmul: NpuUnitStats & { macs: number };
  vec: NpuUnitStats & { elements: number };
  /** Cycle the engine's last instruction completed. */
  end: number;
}

export interface NpuRunStats {
  /** Whole program, kernel launch included. */
  cycles: number;
  seconds: number;
  engines: NpuEngineStats[];
  /** Bytes moved between DRAM/shared SRAM and the scratchpads. */
  dmaBytes: number;
  macs: number;
  /** macs / (cycles x engines x array MACs per cycle). */
  arrayUtilization: number;
  /** DRAM bytes / seconds, over the whole program. */
  achievedGBps: number;
}

export interface NpuTraceEvent {
  engine: number;
  unit: 'dma' | 'matmul' | 'vec' | 'sync';
  /** The instruction's index in its engine's list, and its mnemonic. */
  index: number;
  name: string;
  start: number;
  end: number;
}

export interface NpuRunOptions {
  hw: Hardware;
  /**
   * false: timing only. Every instruction is still checked (bounds, shapes,
   * DMA hazards) and timed, but matmul, vec and DMA data are not computed:
   * for benchmarks of shapes too big to compute in JS. Default true.
   */
  functional?: boolean;
  trace?: (e: NpuTraceEvent) => void;
}

/** Executes every instruction functionally and with timing; a fault is a PimcError (PIMC10xx) naming engine, instruction index and cycle. */
export type RunNpu = (program: NpuProgram, memory: NpuMemoryApi, options: NpuRunOptions) => NpuRunStats;
