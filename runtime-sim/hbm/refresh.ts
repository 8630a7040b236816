// Refresh for the channel engine (channel.ts), as the reference does it: a
// REF falls due every tREFI, starting at the hardware description's
// `refreshOffsetCycles` (measured: tREFI/2 on pCH 0, the reference
// staggers two ranks). Once due, the engine lets column commands to open
// rows go on while their bank could not close anyway (tRAS, tRTP, tWR still
// running when the refresh fell due: in the PIM GEMV trace MACs continue
// from the due cycle 5,850 until tRAS lets the row close at 5,875), then
// closes every open bank (PRE, one row command a cycle; one
// all-bank PRE per parity in AB modes), issues REF once tRP has passed,
// waits tRFC, re-opens the rows that were open (ACT) and continues the
// stream. The inserted commands obey the same constraint table, count in
// the stats and appear in traces (tag REFRESH), but do not feed the mode
// machine: they are the controller's, not the kernel's.
//
// The host memory controller (host-controller.ts) decides refreshes itself
// and puts REF into the command streams it emits.

import type { HbmDesc } from '../hardware/types.js';
import type { Mode } from './channel-api.js';
import { BankState, CLOSED, NEVER } from './banks.js';
import { ACT, PRE, REF } from './timing-table.js';

export class RefreshClock {
  /** The cycle the next REF falls due: commands after it wait for the refresh. */
  due: number;
  readonly interval: number;

  constructor(hbm: HbmDesc, start: number) {
    this.interval = hbm.timing.tREFI;
    this.due = hbm.refreshOffsetCycles ?? this.interval;
    if (this.interval > 0) while (this.due < start) this.due += this.interval;
  }

  /** A REF issued at `cycle` serves the interval it falls in. */
  refreshed(cycle: number): void {
    if (this.interval > 0 && cycle > this.due - this.interval) this.due += this.interval;
  }
}

/** What the refresh procedure needs from the engine. */
export interface RefreshHost {
  readonly state: BankState;
  readonly mode: Mode;
  /** Earliest legal cycle of an inserted command (constraints, stream order). */
  earliestFor(kind: number, bank: number, all: boolean): number;
  /** Issues an inserted command at its earliest cycle; `tag` marks a phase in traces. */
  insert(kind: number, bank: number, row: number, all: boolean, tag: string | undefined): void;
  /** The tag of the phase the stream was in (re-marked after the refresh). */
  readonly phase: string | undefined;
}

/**
 * When a refresh falls due: the cycle each bank could close at, given the
 * commands so far (NEVER for closed banks). Column commands to a bank may
 * still go before the refresh while they issue before this frozen cycle: they
 * cannot delay its close past it, so the refresh is never postponed for long.
 */
export function closeDeadlines(h: RefreshHost, out: Float64Array): void {
  const s = h.state;
  out.fill(NEVER);
  if (h.mode === 'SB') {
    for (let b = 0; b < s.banks; b++) if (s.openRow[b] !== CLOSED) out[b] = h.earliestFor(PRE, b, false);
  } else {
    for (let par = 0; par < 2; par++) {
      if (s.firstOpen(par) < 0) continue;
      const t = h.earliestFor(PRE, par, true);
      for (let b = par; b < s.banks; b += 2) out[b] = t;
    }
  }
}

/** PRE everything open, REF, re-open what was open. */
export function refreshNow(h: RefreshHost): void {
  const s = h.state;
  const saved = new Int32Array(s.banks); // rare (once per tREFI): allocating here is fine
  let tag: string | undefined = 'REFRESH';
  const once = () => {
    const t = tag;
    tag = undefined;
    return t;
  };
  if (h.mode === 'SB') {
    for (let b = 0; b < s.banks; b++) {
      saved[b] = s.openRow[b]!;
      if (saved[b] !== CLOSED) h.insert(PRE, b, 0, false, once());
    }
  } else {
    // one PRE per parity; the parity re-opens with the row its lowest open bank had
    for (let par = 0; par < 2; par++) {
      const b = s.firstOpen(par);
      saved[par] = b >= 0 ? s.openRow[b]! : CLOSED;
      if (b >= 0) h.insert(PRE, par, 0, true, once());
    }
  }
  h.insert(REF, 0, 0, false, once());
  tag = h.phase;
  if (h.mode === 'SB') {
    for (let b = 0; b < s.banks; b++) if (saved[b] !== CLOSED) h.insert(ACT, b, saved[b]!, false, once());
  } else {
    for (let par = 0; par < 2; par++) if (saved[par] !== CLOSED) h.insert(ACT, par, saved[par]!, true, once());
  }
}
