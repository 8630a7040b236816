// Turns channel trace events into a Chrome/Perfetto trace: per pseudo-channel
// a process, per bank a thread of commands, and a thread of tagged phases.

import type { ChromeTrace } from '../trace/chrome-trace.js';
import type { TraceEvent } from './channel-api.js';

const PHASES_TID = 100;
/** Drawn length of a command, in cycles: long enough to see, not a timing claim. */
const DRAWN: Record<string, number> = { ACT: 2, PRE: 2, RD: 2, WR: 2, REF: 2 };

export function hbmTraceSink(trace: ChromeTrace, tckNs: number, pidBase = 0) {
  const us = (cycle: number) => (cycle * tckNs) / 1000;
  const open = new Map<number, { tag: string; start: number }>();
  const closePhase = (pch: number, at: number) => {
    const p = open.get(pch);
    if (p) trace.slice(pidBase + pch, PHASES_TID, p.tag, us(p.start), us(at) - us(p.start));
    open.delete(pch);
  };
  return {
    sink(e: TraceEvent): void {
      const pid = pidBase + e.pch;
      trace.name(pid, `pCH ${e.pch}`);
      trace.name(pid, '', e.bank, `bank ${e.bank}`);
      trace.name(pid, '', PHASES_TID, 'phases');
      const args = e.kind === 'ACT' ? { row: e.row } : e.kind === 'RD' || e.kind === 'WR' ? { row: e.row, col: e.col } : undefined;
      trace.slice(pid, e.bank, e.kind, us(e.cycle), us(DRAWN[e.kind] ?? 1), args);
      if (e.tag) {
        closePhase(e.pch, e.cycle);
        open.set(e.pch, { tag: e.tag, start: e.cycle });
      }
    },
    /** Closes the last phase of every pseudo-channel at its end cycle. */
    finish(endCycle: (pch: number) => number): void {
      for (const pch of [...open.keys()]) closePhase(pch, endCycle(pch));
    },
  };
}
