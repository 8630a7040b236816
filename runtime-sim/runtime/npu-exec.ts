// Runs a sequence of NPU programs (one per op, as code generation emitted
// them) on one NPU memory: each program starts when the previous one ended,
// so an op sees its inputs complete. Cycles add up; the trace continues on
// one timeline.

import type { NpuProgram } from '../../backends/npu/instr.js';
import type { Hardware } from '../hardware/types.js';
import type { NpuMemoryApi, NpuRunStats, NpuTraceEvent } from '../npu/api.js';
import { runNpu } from '../npu/sim.js';

export interface NpuExecStep {
  /** The op's name (traces and reports). */
  name: string;
  program: NpuProgram;
}

export interface NpuStepRun {
  name: string;
  start: number;
  stats: NpuRunStats;
}

export interface NpuExecResult {
  cycles: number;
  seconds: number;
  steps: NpuStepRun[];
}

export interface NpuExecOptions {
  hw: Hardware;
  /** false: timing only (runtime-sim/npu/api.ts). */
  functional?: boolean;
  trace?: (e: NpuTraceEvent & { step: string }) => void;
  onStep?: (done: number, total: number) => void;
}

export function executeNpu(steps: readonly NpuExecStep[], memory: NpuMemoryApi, o: NpuExecOptions): NpuExecResult {
  let at = 0;
  const runs: NpuStepRun[] = [];
  steps.forEach((s, i) => {
    const start = at;
    const trace = o.trace && ((e: NpuTraceEvent) => o.trace!({ ...e, start: e.start + start, end: e.end + start, step: s.name }));
    const stats = runNpu(s.program, memory, { hw: o.hw, functional: o.functional ?? true, ...(trace ? { trace } : {}) });
    runs.push({ name: s.name, start, stats });
    at += stats.cycles;
    o.onStep?.(i + 1, steps.length);
  });
  return { cycles: at, seconds: at / (o.hw.npu!.clockGHz * 1e9), steps: runs };
}
