// The CXL-PNM simulator's interface (implementation: sim.ts, memory.ts): the
// contract the PNM lowering and the runtime program against.

import type { PnmProgram } from '../../backends/cxl-pnm/instr.js';
import type { Hardware } from '../hardware/types.js';
import type { ChromeTrace } from '../trace/chrome-trace.js';

/** The expander's memory. Sparse: pages appear on first write, so 512 GiB costs only what is used. */
export interface PnmMemoryApi {
  readonly bytes: number;
  /** Host-side access (not timed; the runtime charges linkTransfer for it). */
  writeF16(addr: number, values: ArrayLike<number>): void;
  readF16(addr: number, count: number): Float32Array;
  writeF32(addr: number, values: ArrayLike<number>): void;
  readF32(addr: number, count: number): Float32Array;
  writeI32(addr: number, values: ArrayLike<number>): void;
  readI32(addr: number, count: number): Int32Array;
}

export interface PnmUnitStats {
  /** Nanoseconds the unit spent on descriptors (launch included). */
  busyNs: number;
  descriptors: number;
  bytes: number;
  flops: number;
  /** When its last descriptor finished (ns from the start of the host's write). */
  endNs: number;
}

export interface PnmRunStats {
  /** The whole doorbell as the host sees it: write table and queues, ring, poll. */
  ns: number;
  seconds: number;
  /** Doorbell arrival to the last unit finishing. */
  deviceNs: number;
  /** Host write of table, descriptors and doorbell over the link; completion-poll latency. */
  hostWriteNs: number;
  pollNs: number;
  /** Device memory traffic of the descriptors (footprints, re-reads for SRAM tiling included). */
  bytesRead: number;
  bytesWritten: number;
  flops: { matrix: number; vector: number };
  units: PnmUnitStats[];
  linkBytes: { toDevice: number; toHost: number };
  /** (bytesRead + bytesWritten) / deviceNs, in GB/s. */
  achievedGBps: number;
}

export interface PnmRunOptions {
  hw: Hardware;
  /** Slices go to this trace: process "cxl-pnm" (pid tracePid, default 3), thread 0 the link, thread 1 + u unit u. */
  trace?: ChromeTrace;
  tracePid?: number;
  /** false: check and time every descriptor but compute nothing (benchmarks on sparse zero memory). Default true. */
  functional?: boolean;
}

/** Executes one doorbell functionally and with timing; a fault is a PimcError (PIMC120x) naming unit, descriptor index and time. */
export type RunPnm = (program: PnmProgram, memory: PnmMemoryApi, options: PnmRunOptions) => PnmRunStats;
