// The contract between the channel engine (DRAM timing, bank state, modes,
// refresh: channel.ts) and the data path that gives commands their meaning
// (PIM units, configuration row, bank contents: the PIM simulator).

import type { Command } from './stream.js';

/** HARDWARE.md 3.3: single bank, all bank, all bank with PIM execution. */
export type Mode = 'SB' | 'AB' | 'AB-PIM';

export interface ColumnEvent {
  /** The command (valid during the call only). */
  cmd: Readonly<Command>;
  /** Its index in the stream (loops unrolled). */
  index: number;
  /** The cycle it issued. */
  cycle: number;
  /** The channel's mode when it issued. */
  mode: Mode;
  /** The pseudo-channel. */
  pch: number;
}

export interface DataPath {
  /** A RD or WR issued; the data path does what it means (PIM trigger, register write, bank access). */
  column(e: ColumnEvent): void;
  /** The channel changed mode. */
  modeChanged?(from: Mode, to: Mode, cycle: number): void;
}

export interface TraceEvent {
  kind: string;
  pch: number;
  cycle: number;
  bank: number;
  row: number;
  col: number;
  tag?: string;
}

export interface ChannelStats {
  /** Cycle after the last command completed. */
  cycles: number;
  commands: Record<'ACT' | 'PRE' | 'RD' | 'WR' | 'REF', number>;
  rowHits: number;
  rowMisses: number;
  /** Cycles spent in each mode. */
  modeCycles: Record<Mode, number>;
}
