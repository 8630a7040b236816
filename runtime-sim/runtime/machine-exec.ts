// Runs the steps of the whole machine in dependency (program) order: NPU
// programs on the NPU simulator, PNM descriptor programs on the CXL-PNM
// simulator, HBM-PIM command streams on the PIM simulator over the banks of
// the run (pim-exec.ts: loaded before the first step, kept from step to
// step), and the link copies between memories, each timed (a copy costs
// its bytes over the CXL link plus one link latency; a PIM step its
// streams' DRAM cycles plus the host's transfers outside them). Steps run
// one after another, so their times add up; the timeline records each.

import type { NpuProgram } from '../../backends/npu/instr.js';
import type { PnmProgram } from '../../backends/cxl-pnm/instr.js';
import type { DramTensor } from '../../backends/npu/lower/types.js';
import type { PnmTensor } from '../../backends/cxl-pnm/lower/types.js';
import type { Hardware } from '../hardware/types.js';
import type { NpuMemoryApi, NpuTraceEvent } from '../npu/api.js';
import { runNpu } from '../npu/sim.js';
import type { PnmMemoryApi } from '../pnm/api.js';
import { runPnm } from '../pnm/sim.js';
import { linkTransfer } from '../pnm/timing.js';
import { runPimWork, type PimState, type PimWork } from './pim-exec.js';

export interface ExecCopy {
  value: string;
  dram: DramTensor;
  pnm: PnmTensor;
  toDevice: boolean;
}

export type ExecStep =
  | { device: 'npu'; name: string; program: NpuProgram }
  | { device: 'pnm'; name: string; program: PnmProgram }
  | { device: 'pim'; name: string; work: PimWork }
  | { device: 'link'; copies: ExecCopy[] };

export interface TimelineEntry {
  device: 'npu' | 'pnm' | 'pim' | 'link';
  name: string;
  start: number;
  seconds: number;
}

export interface MachineRun {
  seconds: number;
  timeline: TimelineEntry[];
  secondsByDevice: Record<string, number>;
  /** HBM-PIM totals over its steps (absent: no PIM step). */
  pim?: { cycles: number; hostBytes: number; commands: Record<string, number>; triggers: number };
}

export interface MachineMemories {
  npu: NpuMemoryApi;
  pnm?: PnmMemoryApi;
  /** The HBM-PIM banks of the run (newPimState, then loadPim). */
  pim?: PimState;
}

export interface MachineExecOptions {
  hw: Hardware;
  functional?: boolean;
  npuTrace?: (e: NpuTraceEvent & { step: string; offsetSeconds: number }) => void;
  onStep?: (done: number, total: number) => void;
}

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function copy(c: ExecCopy, m: MachineMemories, functional: boolean): number {
  const n = elements(c.dram.shape);
  const bytes = n * (c.dram.dtype === 'f16' ? 2 : 4);
  if (functional) {
    const pnm = m.pnm!;
    if (c.toDevice) {
      if (c.dram.dtype === 'f16') pnm.writeF16(c.pnm.addr, m.npu.readF16(c.dram.addr, n));
      else pnm.writeI32(c.pnm.addr, m.npu.readI32(c.dram.addr, n));
    } else if (c.dram.dtype === 'f16') m.npu.writeF16(c.dram.addr, pnm.readF16(c.pnm.addr, n));
    else m.npu.writeI32(c.dram.addr, pnm.readI32(c.pnm.addr, n));
  }
  return bytes;
}

export function executeMachine(steps: readonly ExecStep[], m: MachineMemories, o: MachineExecOptions): MachineRun {
  const functional = o.functional ?? true;
  const timeline: TimelineEntry[] = [];
  const byDevice: Record<string, number> = {};
  let now = 0;
  let pim: MachineRun['pim'];
  steps.forEach((s, i) => {
    let seconds: number;
    let name: string;
    if (s.device === 'npu') {
      name = s.name;
      const start = now;
      const trace = o.npuTrace && ((e: NpuTraceEvent) => o.npuTrace!({ ...e, step: s.name, offsetSeconds: start }));
      seconds = runNpu(s.program, m.npu, { hw: o.hw, functional, ...(trace ? { trace } : {}) }).seconds;
    } else if (s.device === 'pnm') {
      name = s.name;
      seconds = runPnm(s.program, m.pnm!, { hw: o.hw, functional }).seconds;
    } else if (s.device === 'pim') {
      name = s.name;
      if (!m.pim) throw new Error(`internal: PIM step ${s.name} without PIM banks`);
      const r = runPimWork(s.work, m.pim, m.npu, o.hw, { functional });
      seconds = r.seconds;
      pim ??= { cycles: 0, hostBytes: 0, commands: {}, triggers: 0 };
      pim.cycles += r.cycles;
      pim.hostBytes += r.hostBytes;
      pim.triggers += r.triggers;
      for (const [k, v] of Object.entries(r.commands)) pim.commands[k] = (pim.commands[k] ?? 0) + v;
    } else {
      // one transfer per direction: the copies of a step go back to back over the link
      const bytes = { to: 0, from: 0 };
      for (const c of s.copies) bytes[c.toDevice ? 'to' : 'from'] += copy(c, m, functional);
      seconds = (bytes.to ? linkTransfer(bytes.to, o.hw) : 0) + (bytes.from ? linkTransfer(bytes.from, o.hw) : 0);
      name = `${s.copies[0]!.toDevice ? 'to' : 'from'} CXL: ${s.copies.map((c) => c.value).join(', ')}`;
    }
    timeline.push({ device: s.device, name, start: now, seconds });
    byDevice[s.device] = (byDevice[s.device] ?? 0) + seconds;
    now += seconds;
    o.onStep?.(i + 1, steps.length);
  });
  return { seconds: now, timeline, secondsByDevice: byDevice, ...(pim ? { pim } : {}) };
}
