// A machine run as a Chrome / Perfetto trace: process 1 "machine" with one
// thread per device (npu, pim, pnm, link) and a slice per step, and, when the
// NPU's instruction events were recorded, process 2 "npu" with its engines
// and units (npu/trace.ts), each step's events shifted to where the step
// starts on the machine's timeline.

import type { Hardware } from '../hardware/types.js';
import type { NpuTraceEvent } from '../npu/api.js';
import { npuChromeTrace } from '../npu/trace.js';
import { ChromeTrace } from '../trace/chrome-trace.js';
import type { MachineRun } from './machine-exec.js';

const DEVICES = ['npu', 'pim', 'pnm', 'link'] as const;

export type MachineNpuEvent = NpuTraceEvent & { step: string; offsetSeconds: number };

export function machineChromeTrace(run: MachineRun, hw: Hardware, npuEvents: readonly MachineNpuEvent[] = []): ChromeTrace {
  const trace = new ChromeTrace();
  trace.name(1, 'machine');
  DEVICES.forEach((d, i) => {
    if (run.timeline.some((e) => e.device === d)) trace.name(1, 'machine', i + 1, d);
  });
  for (const e of run.timeline) trace.slice(1, DEVICES.indexOf(e.device) + 1, e.name, e.start * 1e6, e.seconds * 1e6);
  if (npuEvents.length && hw.npu) {
    // one call per step: each has its own offset in NPU cycles
    const cyclesPerSecond = hw.npu.clockGHz * 1e9;
    let i = 0;
    while (i < npuEvents.length) {
      let j = i;
      while (j < npuEvents.length && npuEvents[j]!.step === npuEvents[i]!.step && npuEvents[j]!.offsetSeconds === npuEvents[i]!.offsetSeconds) j++;
      npuChromeTrace(npuEvents.slice(i, j), hw, { trace, pid: 2, offsetCycles: npuEvents[i]!.offsetSeconds * cyclesPerSecond });
      i = j;
    }
  }
  return trace;
}
