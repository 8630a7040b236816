// Command streams for one HBM pseudo-channel: what the HBM-PIM backend emits
// and the channel simulator executes, command by command.
//
// A stream is compact: a Loop repeats its body with addresses that advance by
// a fixed step per iteration (a GEMV over 32 input tiles is one loop, not
// 2,000 literal lines). Write data and read-back slots are bursts of 32 bytes
// (16 FP16 lanes) in the stream's data table and the host's read-back buffer.

export type CommandKind = 'ACT' | 'PRE' | 'RD' | 'WR' | 'REF';

export interface Command {
  kind: CommandKind;
  /** Bank within the pseudo-channel, 0..15 (bank group = bank >> 2). */
  bank: number;
  /** ACT: the row to open. RD/WR: the row that must be open (a fault if not). PRE/REF: 0. */
  row: number;
  /** RD/WR: column (burst) within the row, 0..31. */
  col: number;
  /**
   * WR: the burst of `data` it writes (-1: zeros). RD in SB mode: the
   * read-back slot the host stores the burst in (-1: discarded).
   */
  data: number;
  /** Index into the stream's tags: the phase this command starts (for traces). -1: none. */
  tag: number;
  /**
   * Which fields advance with the steps of the enclosing loops: FOLLOW_ROW |
   * FOLLOW_COL | FOLLOW_DATA. A MAC read follows row and column; a GRF write
   * to the configuration row follows only its data.
   */
  follow: number;
}

export const FOLLOW_ROW = 1;
export const FOLLOW_COL = 2;
export const FOLLOW_DATA = 4;

export interface Loop {
  kind: 'LOOP';
  count: number;
  body: StreamItem[];
  /** Added per iteration to the fields each command of the body follows (nested loops add up). */
  step: { row: number; col: number; data: number };
}

export type StreamItem = Command | Loop;

export interface PchStream {
  items: StreamItem[];
  /** Write data: 16 FP16 bit patterns per burst. */
  data: Uint16Array;
  /** Phase names for traces: PARK_IN, SB_TO_AB, PROGRAM_CRF, GRF_A, MAC, STORE, ... */
  tags: string[];
  /** Bursts of read-back buffer the stream fills. */
  readbackBursts: number;
}

export const isLoop = (i: StreamItem): i is Loop => i.kind === 'LOOP';

/** Reserved rows (HARDWARE.md 3.3). Rows with bit 12 set never trigger PIM execution. */
export const ROWS = {
  park: 0x1000,
  sbToAb: 0x17ff,
  abToSb: 0x1fff,
  config: 0x3fff,
} as const;

/** Columns of the configuration row. */
export const CONFIG_COLS = {
  control: 0,
  srf: 1,
  crf: 4, // 4..7: 8 instructions per burst
  grfA: 8, // 8..15
  grfB: 24, // 24..31
} as const;

/** Number of commands a stream expands to (loops unrolled). */
export function commandCount(items: readonly StreamItem[]): number {
  let n = 0;
  for (const i of items) n += isLoop(i) ? i.count * commandCount(i.body) : 1;
  return n;
}

/**
 * Visits every command in order with loop offsets applied. The callback gets
 * a command object that is reused between calls (copy it to keep it).
 */
export function forEachCommand(items: readonly StreamItem[], f: (c: Command, index: number) => void): number {
  const cur: Command = { kind: 'ACT', bank: 0, row: 0, col: 0, data: -1, tag: -1, follow: 0 };
  let index = 0;
  const walk = (list: readonly StreamItem[], dr: number, dc: number, dd: number) => {
    for (const it of list) {
      if (isLoop(it)) {
        for (let k = 0; k < it.count; k++) walk(it.body, dr + k * it.step.row, dc + k * it.step.col, dd + k * it.step.data);
      } else {
        cur.kind = it.kind;
        cur.bank = it.bank;
        cur.row = it.row + (it.follow & FOLLOW_ROW ? dr : 0);
        cur.col = it.col + (it.follow & FOLLOW_COL ? dc : 0);
        cur.data = it.data < 0 ? -1 : it.data + (it.follow & FOLLOW_DATA ? dd : 0);
        cur.tag = it.tag;
        cur.follow = it.follow;
        f(cur, index++);
      }
    }
  };
  walk(items, 0, 0, 0);
  return index;
}
