// Element-wise kernels on HBM-PIM (HARDWARE.md 3.5): add, mul, ReLU and
// scale-and-shift (MAD), with operands and result in the banks.
//
// Layout: elements go in tiles of 128 (8 bursts of 16 lanes). Tile i lands on
// pseudo-channel i mod P, then PCU, then bank parity (even before odd), then
// its slot in that bank; 4 tiles fill a DRAM row. Operand A, operand B and the
// result C each take the same number of rows, one after the other.
//
// Stream per pCH: program the CRF, enter AB-PIM, then per slot: on the even
// banks 8 reads of A (FILL), 8 reads of B (ADD/MUL with AAM), 8 NOP-store
// writes of C; the same on the odd banks. The program's JUMP repeats it.

import { fail } from '../../ir/diagnostics.js';
import { BankStore, LANES } from '../../runtime-sim/hbm/bank-store.js';
import { CONFIG_COLS, ROWS, type PchStream } from '../../runtime-sim/hbm/stream.js';
import type { PimGeometry } from './geometry.js';
import { controlWord, elementwiseProgram, programBursts, type ElementwiseOp } from './programs.js';
import { FOLLOW_COL, FOLLOW_ROW, StreamBuilder } from './stream-builder.js';

export interface ElementwisePlan {
  op: ElementwiseOp;
  size: number;
  /** Tiles per bank (each of 8 bursts). */
  slots: number;
  /** Rows each operand takes per bank. */
  rows: number;
  base: { a: number; b: number; c: number };
}

const TILE_BURSTS = 8;
const TILES_PER_ROW = 4;

export function planElementwise(g: PimGeometry, op: ElementwiseOp, size: number): ElementwisePlan {
  const tile = TILE_BURSTS * LANES;
  const tiles = Math.ceil(size / tile);
  const slots = Math.ceil(tiles / (g.pch * g.pcus * 2));
  const rows = Math.ceil(slots / TILES_PER_ROW);
  // operands A, B and the result C one after the other, inside one range of PIM data rows
  const range = Math.max(0, ...g.dataRanges.map(([s, e]) => e - s));
  if (3 * rows > range) fail('PIMC0703', `${size} elements need ${3 * rows} rows per bank; HBM-PIM banks have ${g.dataRows} usable rows, at most ${range} in one range`);
  return { op, size, slots, rows, base: { a: 0, b: rows, c: 2 * rows } };
}

/** Where element tile t lives: pseudo-channel, bank, row offset within an operand, first column. */
export function tilePlace(g: PimGeometry, t: number): { pch: number; bank: number; row: number; col: number } {
  const pch = t % g.pch;
  const k = Math.floor(t / g.pch) % g.pcus;
  const parity = Math.floor(t / (g.pch * g.pcus)) % 2;
  const slot = Math.floor(t / (g.pch * g.pcus * 2));
  return { pch, bank: 2 * k + parity, row: Math.floor(slot / TILES_PER_ROW), col: (slot % TILES_PER_ROW) * TILE_BURSTS };
}

/** Writes an operand (FP16 bits) into the banks at operand base row `base`. */
export function layoutOperand(g: PimGeometry, p: ElementwisePlan, values: Uint16Array, base: number, stores: BankStore[]): void {
  const tile = TILE_BURSTS * LANES;
  const burst = new Uint16Array(LANES);
  for (let t = 0; t * tile < p.size; t++) {
    const at = tilePlace(g, t);
    for (let b = 0; b < TILE_BURSTS; b++) {
      for (let l = 0; l < LANES; l++) {
        const i = t * tile + b * LANES + l;
        burst[l] = i < p.size ? values[i]! : 0;
      }
      stores[at.pch]!.writeBurst(at.bank, base + at.row, at.col + b, burst);
    }
  }
}

/** Reads the result operand back out of the banks (the memory the kernel leaves behind). */
export function collectResult(g: PimGeometry, p: ElementwisePlan, stores: BankStore[]): Uint16Array {
  const out = new Uint16Array(p.size);
  const tile = TILE_BURSTS * LANES;
  const burst = new Uint16Array(LANES);
  for (let t = 0; t * tile < p.size; t++) {
    const at = tilePlace(g, t);
    for (let b = 0; b < TILE_BURSTS; b++) {
      stores[at.pch]!.readBurst(at.bank, p.base.c + at.row, at.col + b, burst);
      for (let l = 0; l < LANES; l++) {
        const i = t * tile + b * LANES + l;
        if (i < p.size) out[i] = burst[l]!;
      }
    }
  }
  return out;
}

/** The stream every pseudo-channel runs; `scalars` are MAD's scale and shift (FP16 bits). */
export function elementwiseStream(g: PimGeometry, p: ElementwisePlan, scalars?: { scale: number; shift: number }): PchStream {
  const b = new StreamBuilder();
  const prog = programBursts(elementwiseProgram(p.op, p.slots));
  const pimOn = b.data.add(controlWord(true, false));
  const pimOff = b.data.add(controlWord(false, false));
  b.parkAndEnterAllBank();
  b.act(1, ROWS.config, { tag: 'PROGRAM_CRF' });
  b.configWrite(1, CONFIG_COLS.crf, prog);
  if (p.op === 'mad') {
    const srf = new Uint16Array(LANES);
    srf[0] = scalars?.scale ?? 0x3c00;
    srf[8] = scalars?.shift ?? 0;
    b.configWrite(1, CONFIG_COLS.srf, srf);
  }
  // the control word goes through the even banks while the odd ones still close
  b.act(0, ROWS.config, { tag: 'PIM_ON' }).wr(0, ROWS.config, CONFIG_COLS.control, { data: pimOn });
  b.pre(1).pre(0);
  const operands: [number, 'RD' | 'WR', string][] = p.op === 'relu' || p.op === 'mad'
    ? [[p.base.a, 'RD', 'BANK_TO_GRF'], [p.base.c, 'WR', 'GRF_TO_BANK']]
    : [[p.base.a, 'RD', 'BANK_TO_GRF'], [p.base.b, 'RD', p.op.toUpperCase()], [p.base.c, 'WR', 'GRF_TO_BANK']];
  // Slots run row by row, 4 per row, each on the even banks and then the odd
  // ones. The next operand row of the other parity opens before the last
  // result write of this one (as a controller with a queue issues them), so
  // row switches overlap; the pass opens the first A row itself, and every
  // slot opens the A row of the slot after it.
  const [a, ...rest] = operands;
  const run = (parity: number, row: number, col: number, kind: 'RD' | 'WR', count: number) =>
    b.loop(count, { col: 1 }, () => (kind === 'RD' ? b.rd(parity, row, col, { follow: FOLLOW_ROW | FOLLOW_COL }) : b.wr(parity, row, col, { follow: FOLLOW_ROW | FOLLOW_COL })));
  // One row of slots (`groups` of them); `nextRow` tells where the A row the
  // last slot opens for its successor is (undefined: there is none).
  const rowOfSlots = (firstRow: number, groups: number, nextRow: number | undefined) => {
    for (let gi = 0; gi < groups; gi++) {
      const col = gi * TILE_BURSTS;
      for (const parity of [0, 1]) {
        const row = (base: number) => base + firstRow;
        // the other parity's result row closes once this phase's reads are under way
        // (on the very first slot that PRE finds the odd banks closed: a no-op)
        run(parity, row(a![0]), col, 'RD', 2);
        b.pre(1 - parity);
        run(parity, row(a![0]), col + 2, 'RD', TILE_BURSTS - 2);
        b.pre(parity);
        rest.forEach(([base, kind, tag], i) => {
          b.act(parity, row(base), { tag, follow: FOLLOW_ROW });
          const last = i === rest.length - 1;
          run(parity, row(base), col, kind, last ? TILE_BURSTS - 1 : TILE_BURSTS);
          if (last) {
            // open the next A row: the odd banks' for this slot, or the even banks' for the next slot
            const next = parity === 0 ? row(a![0]) : gi < groups - 1 ? row(a![0]) : nextRow;
            if (next !== undefined) b.act(1 - parity, next, { tag: a![2], follow: FOLLOW_ROW });
            run(parity, row(base), col + TILE_BURSTS - 1, kind, 1);
          } else b.pre(parity);
        });
      }
    }
  };
  const fullRows = Math.floor(p.slots / TILES_PER_ROW);
  const tail = p.slots - fullRows * TILES_PER_ROW;
  b.act(0, a![0], { tag: a![2] });
  // full rows but the last one in a loop (each opens the next row's A), then the last full row, then the partial one
  const looped = tail > 0 ? fullRows : fullRows - 1;
  b.loop(looped, { row: 1 }, () => rowOfSlots(0, TILES_PER_ROW, a![0] + 1));
  if (tail > 0) rowOfSlots(fullRows, tail, undefined);
  else if (fullRows > 0) rowOfSlots(fullRows - 1, TILES_PER_ROW, undefined);
  // leave PIM mode through the even banks while the odd banks' last result row closes
  b.act(0, ROWS.config, { tag: 'PIM_OFF' }).wr(0, ROWS.config, CONFIG_COLS.control, { data: pimOff }).pre(1).pre(0);
  b.leaveAllBank();
  b.park('PARK_OUT');
  return b.build();
}
