// NPU trace events (api.ts NpuTraceEvent) as a Chrome / Perfetto timeline:
// one process "npu", one thread per engine and unit ("engine 0 dma",
// "engine 0 matmul", "engine 0 vec", "engine 0 sync"), one slice per
// instruction named by its mnemonic. Event cycles count from the kernel's
// start; `offsetCycles` shifts them (e.g. by the launch cost, or to place
// this kernel after earlier ones in a bundle's timeline).

import type { Hardware } from '../hardware/types.js';
import { ChromeTrace } from '../trace/chrome-trace.js';
import type { NpuTraceEvent } from './api.js';

const UNITS: readonly NpuTraceEvent['unit'][] = ['dma', 'matmul', 'vec', 'sync'];

export interface NpuChromeOptions {
  /** Add to an existing trace (default: a new one). */
  trace?: ChromeTrace;
  pid?: number;
  offsetCycles?: number;
}

/** Collects events: pass `recorder.hook` as NpuRunOptions.trace. */
export class NpuTraceRecorder {
  readonly events: NpuTraceEvent[] = [];
  readonly hook = (e: NpuTraceEvent): void => {
    this.events.push(e);
  };
}

export function npuChromeTrace(events: readonly NpuTraceEvent[], hw: Hardware, opts: NpuChromeOptions = {}): ChromeTrace {
  const trace = opts.trace ?? new ChromeTrace();
  const pid = opts.pid ?? 1;
  const off = opts.offsetCycles ?? 0;
  const usPerCycle = 1 / (hw.npu!.clockGHz * 1000);
  trace.name(pid, 'npu');
  // Name every thread in engine x unit order first, so viewers list them in that order.
  const engines = [...new Set(events.map((e) => e.engine))].sort((a, b) => a - b);
  for (const e of engines) for (const u of UNITS) trace.name(pid, 'npu', tidOf(e, u), `engine ${e} ${u}`);
  for (const ev of events) {
    const tid = tidOf(ev.engine, ev.unit);
    const args = { index: ev.index, startCycle: ev.start + off, endCycle: ev.end + off };
    trace.slice(pid, tid, ev.name, (ev.start + off) * usPerCycle, (ev.end - ev.start) * usPerCycle, args);
  }
  return trace;
}

const tidOf = (engine: number, unit: NpuTraceEvent['unit']): number => engine * UNITS.length + UNITS.indexOf(unit) + 1;
