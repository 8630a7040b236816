// The CXL-PNM simulator (api.ts RunPnm): one doorbell, host protocol included.
//
// Host protocol [ours, after CXL-PNM's "fill queue, ring doorbell, poll" [pub]]:
// 1. The host writes the tensor table, every unit's descriptors and the
//    doorbell over the link, as one stream of posted writes:
//    (table + descriptor + doorbell bytes) / linkGBps + linkLatencyNs.
// 2. The doorbell starts every unit at once.
// 3. The host polls a status word; it sees completion one link latency after
//    the last unit finishes.
// Units run their queues concurrently, each in order. A descriptor costs
// descriptorLaunchNs, then moves its bytes while its engines compute (its
// compute time is a floor, timing.ts). Memory is shared by processor
// sharing: each unit still moving data gets internalGBps / (units moving
// data). The loop steps from event to event (a launch ends, a transfer
// ends, a compute floor ends), so the shares change exactly when a unit
// starts or stops moving data.
//
// Every descriptor is checked (check.ts) and executed (exec.ts) when its unit
// reaches it; a fault is a PimcError naming unit, descriptor index and time.

import { fail } from '../../ir/diagnostics.js';
import { DOORBELL_BYTES, STATUS_BYTES, type Descriptor } from '../../backends/cxl-pnm/instr.js';
import { DESCRIPTOR_BYTES, ENTRY_BYTES } from '../../backends/cxl-pnm/isa.js';
import type { PnmRunOptions, PnmRunStats, PnmUnitStats, RunPnm } from './api.js';
import { checkDescriptor } from './check.js';
import { execDescriptor } from './exec.js';
import { PnmMemory } from './memory.js';
import { computeNs, descriptorCost, linkNs, type DescriptorCost } from './timing.js';

interface Unit {
  id: number;
  queue: readonly Descriptor[];
  /** Index of the descriptor in progress (queue.length when done). */
  index: number;
  phase: 'launch' | 'run' | 'done';
  start: number;
  launchEnd: number;
  remaining: number;
  computeEnd: number;
  cost?: DescriptorCost;
  stats: PnmUnitStats;
}

const fmtNs = (t: number) => `${Math.round(t * 1000) / 1000} ns`;

export const runPnm: RunPnm = (program, memory, options) => simulate(program, memory, options);

function simulate(program: Parameters<RunPnm>[0], memory: Parameters<RunPnm>[1], options: PnmRunOptions): PnmRunStats {
  const { hw } = options;
  const name = `PNM program ${JSON.stringify(program.name)}`;
  const pnm = hw.pnm;
  if (!pnm) return fail('PIMC1204', `${name}: hardware ${JSON.stringify(hw.name)} has no CXL-PNM device; pick npu+hbm-pim+cxl-pnm`);
  if (!(memory instanceof PnmMemory)) throw new Error('internal: runPnm needs the PnmMemory of runtime-sim/pnm/memory.ts');
  if (pnm.descriptorBytes !== DESCRIPTOR_BYTES) fail('PIMC1204', `${name}: ${hw.name} describes ${pnm.descriptorBytes}-byte descriptors; this ISA's are ${DESCRIPTOR_BYTES}`);
  if (program.queues.length > pnm.units) fail('PIMC1204', `${name} has ${program.queues.length} queues; ${hw.name} has ${pnm.units} units`);
  const functional = options.functional ?? true;
  const trace = options.trace;
  const pid = options.tracePid ?? 3;
  const us = (ns: number) => ns / 1000;

  // 1. The host's write, then the doorbell.
  const descs = program.queues.reduce((n, q) => n + q.length, 0);
  const toDevice = program.table.length * ENTRY_BYTES + descs * DESCRIPTOR_BYTES + DOORBELL_BYTES;
  const doorbell = linkNs(toDevice, pnm);
  program.queues.forEach((q, u) => {
    if (q.length > pnm.queueDepth) {
      fail('PIMC1203', `PNM instruction queue overflow: ${name}, unit ${u}, descriptor ${pnm.queueDepth} (${q[pnm.queueDepth]!.op}) at t = ${fmtNs(doorbell)}: ${q.length} descriptors for a queue of ${pnm.queueDepth}; split the work over more doorbells`);
    }
  });
  if (trace) {
    trace.name(pid, 'cxl-pnm');
    trace.name(pid, 'cxl-pnm', 0, 'link');
    trace.slice(pid, 0, 'host writes table + queues + doorbell', 0, us(doorbell), { bytes: toDevice });
  }

  // Units without a queue idle (and still appear in the stats).
  const units: Unit[] = Array.from({ length: pnm.units }, (_, id) => ({
    id, queue: program.queues[id] ?? [], index: 0, phase: 'done', start: 0, launchEnd: 0, remaining: 0, computeEnd: 0,
    stats: { busyNs: 0, descriptors: 0, bytes: 0, flops: 0, endNs: doorbell },
  }));
  const totals = { read: 0, written: 0, matrix: 0, vector: 0 };
  const where = (u: Unit, t: number) => `${name}, unit ${u.id}, descriptor ${u.index} (${u.queue[u.index]!.op}) at t = ${fmtNs(t)}`;

  const begin = (u: Unit, t: number): void => {
    if (u.index >= u.queue.length) {
      u.phase = 'done';
      return;
    }
    const d = u.queue[u.index]!;
    const v = checkDescriptor(d, program.table, memory.bytes, where(u, t));
    if (functional) execDescriptor(memory, d, v);
    u.cost = descriptorCost(d, v, pnm);
    u.phase = 'launch';
    u.start = t;
    u.launchEnd = t + pnm.descriptorLaunchNs;
  };
  const finish = (u: Unit, t: number): void => {
    const c = u.cost!, d = u.queue[u.index]!;
    const bytes = c.bytesRead + c.bytesWritten, flops = c.matrixFlops + c.vectorFlops;
    totals.read += c.bytesRead;
    totals.written += c.bytesWritten;
    totals.matrix += c.matrixFlops;
    totals.vector += c.vectorFlops;
    const s = u.stats;
    s.busyNs += t - u.start;
    s.descriptors++;
    s.bytes += bytes;
    s.flops += flops;
    s.endNs = t;
    if (trace) {
      trace.name(pid, 'cxl-pnm', 1 + u.id, `unit ${u.id}`);
      trace.slice(pid, 1 + u.id, d.op, us(u.start), us(t - u.start), { index: u.index, bytes, flops, passes: c.passes });
    }
    u.index++;
    begin(u, t);
  };

  // 2. Units from the doorbell on, event to event.
  let now = doorbell;
  for (const u of units) begin(u, now);
  for (;;) {
    const moving = units.filter((u) => u.phase === 'run' && u.remaining > 0);
    const rate = moving.length ? pnm.internalGBps / moving.length : 0; // bytes per ns
    // Each unit's next event, decided before time advances: a launch ends, its transfer ends, or its
    // compute floor ends (never before now: a transfer clamped to 0 by rounding dust waits no longer).
    const events = units.map((u) =>
      u.phase === 'launch' ? { at: u.launchEnd, kind: 'launch' as const }
        : u.phase === 'run' ? (u.remaining > 0 ? { at: now + u.remaining / rate, kind: 'transfer' as const } : { at: Math.max(u.computeEnd, now), kind: 'compute' as const })
          : { at: Infinity, kind: 'none' as const });
    const next = Math.min(...events.map((e) => e.at));
    if (next === Infinity) break;
    for (const u of moving) u.remaining = Math.max(0, u.remaining - rate * (next - now));
    now = next;
    units.forEach((u, i) => {
      const e = events[i]!;
      if (e.at !== next) return;
      if (e.kind === 'launch') {
        u.phase = 'run';
        u.remaining = u.cost!.bytesRead + u.cost!.bytesWritten;
        u.computeEnd = now + computeNs(u.cost!, pnm);
        if (u.remaining === 0 && u.computeEnd <= now) finish(u, now);
      } else if (e.kind === 'transfer') {
        u.remaining = 0; // its transfer ended now (the subtraction above leaves rounding dust)
        if (u.computeEnd <= now) finish(u, now);
      } else {
        finish(u, now);
      }
    });
  }

  // 3. The host sees completion one link latency after the last unit.
  const deviceEnd = Math.max(doorbell, ...units.map((u) => u.stats.endNs));
  const end = deviceEnd + pnm.linkLatencyNs;
  if (trace) trace.slice(pid, 0, 'poll: completion', us(deviceEnd), us(end - deviceEnd), { bytes: STATUS_BYTES });
  const deviceNs = deviceEnd - doorbell;
  return {
    ns: end,
    seconds: end * 1e-9,
    deviceNs,
    hostWriteNs: doorbell,
    pollNs: pnm.linkLatencyNs,
    bytesRead: totals.read,
    bytesWritten: totals.written,
    flops: { matrix: totals.matrix, vector: totals.vector },
    units: units.map((u) => u.stats),
    linkBytes: { toDevice, toHost: STATUS_BYTES },
    achievedGBps: deviceNs > 0 ? (totals.read + totals.written) / deviceNs : 0,
  };
}
