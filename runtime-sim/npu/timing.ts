// The NPU timing model [ours, docs/npu-asm.md "Timing"], in whole engine
// cycles at npu.clockGHz. Every number comes from the hardware description:
//
//   launch   = ceil(kernelLaunchNs x clockGHz), added once per program
//   DMA      = transfer + latency, latency = ceil(dmaLatencyNs x clockGHz);
//              transfer = ceil(burst bytes / bytes per cycle), where each
//              contiguous run of r bytes moves ceil(r / dmaBurstBytes) bursts,
//              and bytes per cycle = memory.peakGBps x memory.streamEfficiency
//              / clockGHz for DRAM, sharedSramGBps / clockGHz for shared SRAM.
//              Each memory is ONE server that all engines' DMAs share, in
//              FIFO order of issue (sim.ts): a DMA's transfer begins when it
//              is issued and the server has finished the transfers issued
//              before it; the latency overlaps later transfers (pipelined).
//   MATMUL   = ceil(K / arrayRows) x ceil(N / arrayCols) x B passes of
//              max(M, arrayRows) cycles (weight-stationary: the next B tile
//              loads while M rows stream, so a pass takes at least the array
//              height), plus arrayRows + arrayCols fill/drain once.
//   VEC      = ceil(ceil(elements / vectorLanes) / vectorOpsPerLaneCycle)
//              + vectorPipelineCycles, elements = the destination's (the
//              source's for a reduction).

import { DTYPE_BYTES, elements, type Instr, type Space, type View } from '../../backends/npu/instr.js';
import type { Hardware, NpuDesc } from '../hardware/types.js';
import type { Run } from './views.js';

export interface NpuTiming {
  npu: NpuDesc;
  launchCycles: number;
  dmaLatencyCycles: number;
  /** Bytes per cycle of each memory a DMA reaches. */
  bytesPerCycle: Record<Exclude<Space, 'spad'>, number>;
  burstBytes: number;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b - 1e-9);

export function npuTiming(hw: Hardware): NpuTiming {
  const npu = hw.npu!;
  return {
    npu,
    launchCycles: Math.ceil(npu.kernelLaunchNs * npu.clockGHz - 1e-9),
    dmaLatencyCycles: Math.ceil(npu.dmaLatencyNs * npu.clockGHz - 1e-9),
    bytesPerCycle: {
      dram: (hw.memory.peakGBps * hw.memory.streamEfficiency) / npu.clockGHz,
      shared: npu.sharedSramGBps / npu.clockGHz,
    },
    burstBytes: npu.dmaBurstBytes,
  };
}

/** Bytes a DMA moves over the memory side: whole bursts per contiguous run. */
export function burstBytes(t: NpuTiming, runs: readonly Run[]): number {
  let n = 0;
  for (const r of runs) n += Math.ceil(r.bytes / t.burstBytes) * t.burstBytes;
  return n;
}

/** Cycles the memory's server is busy with a transfer of `bytes` (burst-rounded). */
export function transferCycles(t: NpuTiming, space: Exclude<Space, 'spad'>, bytes: number): number {
  return ceilDiv(bytes, t.bytesPerCycle[space]);
}

export function matmulCycles(t: NpuTiming, a: View, b: View): number {
  const [B, M, K] = a.shape;
  const N = b.shape[2];
  const { arrayRows: R, arrayCols: C } = t.npu;
  return ceilDiv(K, R) * ceilDiv(N, C) * B * Math.max(M, R) + R + C;
}

export const matmulMacs = (a: View, b: View): number => a.shape[0] * a.shape[1] * a.shape[2] * b.shape[2];

/** Elements the vector unit processes for `ins`. */
export function vecElements(ins: Extract<Instr, { op: `vec.${string}` }>): number {
  return ins.op === 'vec.reduce' ? elements(ins.a) : elements(ins.dst);
}

export function vecCycles(t: NpuTiming, n: number): number {
  return ceilDiv(ceilDiv(n, t.npu.vectorLanes), t.npu.vectorOpsPerLaneCycle) + t.npu.vectorPipelineCycles;
}

/** Payload bytes of a view (what the program asked to move). */
export const viewBytes = (v: View): number => elements(v) * DTYPE_BYTES[v.dtype];
