// The state of one pseudo-channel's banks: which row each bank has open, and
// when each kind of command last issued, kept at the levels the constraint
// table's scopes ask about (bank, bank group, bank parity, whole channel) so
// a check is a handful of array reads, never a search. Typed arrays, no
// allocation per command.
//
// Bank state machine per bank: CLOSED --ACT(row)--> OPEN(row) --PRE--> CLOSED.
// A PRE to a closed bank is legal and changes nothing (JEDEC: a NOP).
// In all-bank modes one command reaches every bank of its parity (even or
// odd): `recordAll` / `openAll` / `closeAll`.

import { KIND_INDEX, KINDS } from './timing-table.js';

const ACT = KIND_INDEX.ACT;

/** "Never": far enough in the past that adding any latency stays in the past. */
export const NEVER = -1e15;
export const CLOSED = -1;

export class BankState {
  readonly banks: number;
  readonly groups: number;
  readonly perGroup: number;
  /** Open row per bank, CLOSED if none. */
  readonly openRow: Int32Array;
  /** Column commands since the bank's last ACT (0: the next one is a row miss). */
  readonly colsSinceAct: Int32Array;
  /** Last issue cycle of kind k at bank b: [k * banks + b]; the stream index that issued it. */
  readonly lastBank: Float64Array;
  readonly lastBankIdx: Int32Array;
  /** Per bank group [k * groups + g], with the bank that issued it. */
  readonly lastGroup: Float64Array;
  readonly lastGroupBank: Int32Array;
  readonly lastGroupIdx: Int32Array;
  /** Per parity [k * 2 + p]. */
  readonly lastParity: Float64Array;
  readonly lastParityBank: Int32Array;
  readonly lastParityIdx: Int32Array;
  /** Per channel [k]. */
  readonly lastAny: Float64Array;
  readonly lastAnyBank: Int32Array;
  readonly lastAnyIdx: Int32Array;
  /** The most recent ACTs (ring), for windowed constraints (tFAW). */
  readonly actRing: Float64Array;
  readonly actRingBank: Int32Array;
  readonly actRingIdx: Int32Array;
  private actHead = 0;

  constructor(banks: number, groups: number, actWindow: number) {
    const k = KINDS.length;
    this.banks = banks;
    this.groups = groups;
    this.perGroup = banks / groups;
    this.openRow = new Int32Array(banks).fill(CLOSED);
    this.colsSinceAct = new Int32Array(banks);
    this.lastBank = new Float64Array(k * banks).fill(NEVER);
    this.lastBankIdx = new Int32Array(k * banks).fill(-1);
    this.lastGroup = new Float64Array(k * groups).fill(NEVER);
    this.lastGroupBank = new Int32Array(k * groups).fill(-1);
    this.lastGroupIdx = new Int32Array(k * groups).fill(-1);
    this.lastParity = new Float64Array(k * 2).fill(NEVER);
    this.lastParityBank = new Int32Array(k * 2).fill(-1);
    this.lastParityIdx = new Int32Array(k * 2).fill(-1);
    this.lastAny = new Float64Array(k).fill(NEVER);
    this.lastAnyBank = new Int32Array(k).fill(-1);
    this.lastAnyIdx = new Int32Array(k).fill(-1);
    const w = Math.max(1, actWindow);
    this.actRing = new Float64Array(w).fill(NEVER);
    this.actRingBank = new Int32Array(w).fill(-1);
    this.actRingIdx = new Int32Array(w).fill(-1);
  }

  groupOf(bank: number): number {
    return (bank / this.perGroup) | 0;
  }

  /** The oldest of the last `window` ACTs (slot of the ring the next ACT overwrites). */
  get actRingOldest(): number {
    return this.actHead;
  }

  /** A command of kind k issued at `cycle` to one bank (stream index `idx`, -1 if the engine inserted it). */
  record(k: number, bank: number, cycle: number, idx: number): void {
    const g = this.groupOf(bank);
    const p = bank & 1;
    this.lastBank[k * this.banks + bank] = cycle;
    this.lastBankIdx[k * this.banks + bank] = idx;
    this.lastGroup[k * this.groups + g] = cycle;
    this.lastGroupBank[k * this.groups + g] = bank;
    this.lastGroupIdx[k * this.groups + g] = idx;
    this.lastParity[k * 2 + p] = cycle;
    this.lastParityBank[k * 2 + p] = bank;
    this.lastParityIdx[k * 2 + p] = idx;
    this.lastAny[k] = cycle;
    this.lastAnyBank[k] = bank;
    this.lastAnyIdx[k] = idx;
    if (k === ACT) this.pushAct(bank, cycle, idx);
  }

  /** A command that reached every bank of `parity` (all-bank modes): one command for the buses and tFAW. */
  recordAll(k: number, parity: number, addressed: number, cycle: number, idx: number): void {
    for (let b = parity; b < this.banks; b += 2) {
      this.lastBank[k * this.banks + b] = cycle;
      this.lastBankIdx[k * this.banks + b] = idx;
    }
    for (let g = 0; g < this.groups; g++) {
      this.lastGroup[k * this.groups + g] = cycle;
      this.lastGroupBank[k * this.groups + g] = addressed;
      this.lastGroupIdx[k * this.groups + g] = idx;
    }
    this.lastParity[k * 2 + parity] = cycle;
    this.lastParityBank[k * 2 + parity] = addressed;
    this.lastParityIdx[k * 2 + parity] = idx;
    this.lastAny[k] = cycle;
    this.lastAnyBank[k] = addressed;
    this.lastAnyIdx[k] = idx;
    if (k === ACT) this.pushAct(addressed, cycle, idx);
  }

  private pushAct(bank: number, cycle: number, idx: number): void {
    this.actRing[this.actHead] = cycle;
    this.actRingBank[this.actHead] = bank;
    this.actRingIdx[this.actHead] = idx;
    this.actHead = (this.actHead + 1) % this.actRing.length;
  }

  open(bank: number, row: number): void {
    this.openRow[bank] = row;
    this.colsSinceAct[bank] = 0;
  }

  openAll(parity: number, row: number): void {
    for (let b = parity; b < this.banks; b += 2) this.open(b, row);
  }

  close(bank: number): void {
    this.openRow[bank] = CLOSED;
  }

  closeAll(parity: number): void {
    for (let b = parity; b < this.banks; b += 2) this.openRow[b] = CLOSED;
  }

  /** The first bank of `parity` with an open row, or -1. */
  firstOpen(parity: number): number {
    for (let b = parity; b < this.banks; b += 2) if (this.openRow[b] !== CLOSED) return b;
    return -1;
  }

  /** The first bank of `parity` whose open row is not `row`, or -1. */
  firstNotOpenAt(parity: number, row: number): number {
    for (let b = parity; b < this.banks; b += 2) if (this.openRow[b] !== row) return b;
    return -1;
  }

  anyOpen(): number {
    for (let b = 0; b < this.banks; b++) if (this.openRow[b] !== CLOSED) return b;
    return -1;
  }
}
