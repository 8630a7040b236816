// The timing checker: interprets the compiled constraint table
// (timing-table.ts) against the last-issue times of banks.ts. `earliest`
// answers "when may this command issue?" (the scheduler's question);
// `broken` answers "which constraints does issuing it at cycle t break, and
// against which earlier command?" (the fault message's question). Both walk
// only the entries whose `to` is the command's kind: a few array reads each.

import { fail } from '../../ir/diagnostics.js';
import { BankState, NEVER as NEVER_ } from './banks.js';
import * as table from './timing-table.js';
import { KINDS, type CompiledTiming, type ConstraintSpec } from './timing-table.js';

// Module constants (not imported bindings) in the hot loops.
const NEVER = NEVER_;
const { SCOPE_BANK, SCOPE_CHANNEL, SCOPE_GROUP, SCOPE_OTHER_GROUP, SCOPE_WINDOW } = table;

export interface Violation {
  spec: ConstraintSpec;
  /** The first legal cycle under this constraint. */
  need: number;
  fromCycle: number;
  fromBank: number;
  /** Stream index of the earlier command (-1: one the engine inserted, e.g. for refresh). */
  fromIndex: number;
}

export class TimingChecker {
  constructor(readonly t: CompiledTiming, readonly s: BankState) {}

  /** Earliest cycle a command of kind k to one bank may issue (NEVER if unconstrained). */
  earliest(k: number, bank: number): number {
    const t = this.t;
    const s = this.s;
    const B = s.banks;
    const G = s.groups;
    const g = s.groupOf(bank);
    let need = NEVER;
    for (let i = t.toStart[k]!, end = t.toStart[k + 1]!; i < end; i++) {
      const f = t.from[i]!;
      let last: number;
      switch (t.scope[i]) {
        case SCOPE_BANK: last = s.lastBank[f * B + bank]!; break;
        case SCOPE_GROUP: last = s.lastGroup[f * G + g]!; break;
        case SCOPE_OTHER_GROUP: {
          last = NEVER;
          for (let o = 0; o < G; o++) if (o !== g && s.lastGroup[f * G + o]! > last) last = s.lastGroup[f * G + o]!;
          break;
        }
        case SCOPE_CHANNEL: last = s.lastAny[f]!; break;
        default: last = s.actRing[s.actRingOldest]!; // SCOPE_WINDOW
      }
      const c = last + t.latency[i]!;
      if (c > need) need = c;
    }
    return need;
  }

  /**
   * Earliest cycle for a command that reaches every bank of `parity` (all-bank
   * modes). Its targets span every bank group, so same- and other-bankgroup
   * scopes see the whole channel; same-bank sees the parity's banks.
   */
  earliestAll(k: number, parity: number): number {
    const t = this.t;
    const s = this.s;
    let need = NEVER;
    for (let i = t.toStart[k]!, end = t.toStart[k + 1]!; i < end; i++) {
      const f = t.from[i]!;
      const sc = t.scope[i]!;
      const last = sc === SCOPE_BANK ? s.lastParity[f * 2 + parity]! : sc === SCOPE_WINDOW ? s.actRing[s.actRingOldest]! : s.lastAny[f]!;
      const c = last + t.latency[i]!;
      if (c > need) need = c;
    }
    return need;
  }

  /** The constraints a command issued at `cycle` breaks, the binding one (latest `need`) first. */
  broken(k: number, bank: number, all: boolean, cycle: number): Violation[] {
    const t = this.t;
    const s = this.s;
    const B = s.banks;
    const G = s.groups;
    const g = s.groupOf(bank);
    const p = bank & 1;
    const out: Violation[] = [];
    for (let i = t.toStart[k]!, end = t.toStart[k + 1]!; i < end; i++) {
      const f = t.from[i]!;
      const sc = t.scope[i]!;
      let last = NEVER;
      let fb = -1;
      let fi = -1;
      if (sc === SCOPE_WINDOW) {
        const o = s.actRingOldest;
        [last, fb, fi] = [s.actRing[o]!, s.actRingBank[o]!, s.actRingIdx[o]!];
      } else if (sc === SCOPE_BANK && all) {
        [last, fb, fi] = [s.lastParity[f * 2 + p]!, s.lastParityBank[f * 2 + p]!, s.lastParityIdx[f * 2 + p]!];
      } else if (sc === SCOPE_BANK) {
        [last, fb, fi] = [s.lastBank[f * B + bank]!, bank, s.lastBankIdx[f * B + bank]!];
      } else if (sc === SCOPE_CHANNEL || all) {
        [last, fb, fi] = [s.lastAny[f]!, s.lastAnyBank[f]!, s.lastAnyIdx[f]!];
      } else {
        for (let o = 0; o < G; o++) {
          if ((sc === SCOPE_GROUP) !== (o === g)) continue;
          if (s.lastGroup[f * G + o]! > last) [last, fb, fi] = [s.lastGroup[f * G + o]!, s.lastGroupBank[f * G + o]!, s.lastGroupIdx[f * G + o]!];
        }
      }
      const need = last + t.latency[i]!;
      if (need > cycle) out.push({ spec: t.specs[t.spec[i]!]!, need, fromCycle: last, fromBank: fb, fromIndex: fi });
    }
    return out.sort((a, b) => b.need - a.need);
  }
}

/** Throws PIMC0901 for a command issued before its constraints allow. */
export function timingFault(v: Violation[], kind: number, cycle: number, pch: number, index: number): never {
  const b = v[0]!;
  const early = b.need - cycle;
  const also = v.slice(1).filter((x) => x.spec.name !== b.spec.name).map((x) => x.spec.name);
  fail(
    'PIMC0901',
    `${b.spec.name} broken: ${KINDS[kind]} at cycle ${cycle} is ${early} cycle${early === 1 ? '' : 's'} early after ` +
      `${b.spec.from} at cycle ${b.fromCycle} (bank ${b.fromBank}), pCH ${pch}, command ${index}` +
      `${also.length ? ` (also ${[...new Set(also)].join(', ')})` : ''}; issue it at cycle ${b.need} or later`,
  );
}
