// The mode machine of an HBM-PIM pseudo-channel (HARDWARE.md 3.3). Modes
// change only through ordinary commands to reserved rows, so a stock memory
// controller drives it:
//
//   SB  --ACT row 0x17FF has reached banks 0, 1, 8 and 9-->         AB
//   AB  --ACT row 0x1FFF to banks 0 and 1, then PRE to both-->       SB
//   AB  --WR row 0x3FFF col 0, control word bit 0 set-->             AB-PIM
//   AB-PIM --WR row 0x3FFF col 0, control word bit 0 clear-->        AB
//
// The reference follows each SB->AB and AB->SB ACT with a WR to column 31 of
// the same reserved row; those writes are allowed and change nothing. They
// are "handshake" column commands: they address one bank even in AB mode
// (the reference opens banks 0, 1, 8, 9 one by one, and the last of those
// writes lands after the switch), so `broadcasts` leaves them single-bank.
//
// `columnFault` decides which column commands are in the wrong mode
// (PIMC0903); see docs/dram-timing.md for the table.

import type { Mode } from './channel-api.js';
import { CONFIG_COLS, ROWS } from './stream.js';

/** Rows with this bit set never trigger PIM execution (park, mode and configuration rows). */
export const RESERVED_ROW_BIT = 0x1000;

const ENTER_BANKS = [0, 1, 8, 9];
const LEAVE_BANKS = [0, 1];

export class ModeMachine {
  mode: Mode = 'SB';
  private enterSeen = 0;
  private leaveActs = 0;
  private leavePres = 0;

  /** An ACT from the stream. Returns the new mode if it changed. */
  act(bank: number, row: number): Mode | null {
    if (this.mode === 'SB' && row === ROWS.sbToAb) {
      const i = ENTER_BANKS.indexOf(bank);
      if (i >= 0) this.enterSeen |= 1 << i;
      if (this.enterSeen === 0b1111) return this.set('AB');
    } else if (this.mode === 'AB' && row === ROWS.abToSb) {
      const i = LEAVE_BANKS.indexOf(bank);
      if (i >= 0) this.leaveActs |= 1 << i;
    }
    return null;
  }

  /** A PRE from the stream; `openRow` is the addressed bank's row before it closed. */
  pre(bank: number, openRow: number): Mode | null {
    if (this.mode !== 'AB' || openRow !== ROWS.abToSb) return null;
    const i = LEAVE_BANKS.indexOf(bank);
    if (i >= 0 && this.leaveActs & (1 << i)) this.leavePres |= 1 << i;
    return this.leavePres === 0b11 ? this.set('SB') : null;
  }

  /** A WR to the control column of the configuration row with control bit 0 = `on`. */
  control(on: boolean): Mode | null {
    if (this.mode === 'AB' && on) return this.set('AB-PIM');
    if (this.mode === 'AB-PIM' && !on) return this.set('AB');
    return null;
  }

  private set(m: Mode): Mode {
    this.mode = m;
    this.enterSeen = 0;
    this.leaveActs = 0;
    this.leavePres = 0;
    return m;
  }
}

/** Column commands to the SB<->AB handshake rows address one bank in every mode. */
export function isHandshakeRow(row: number): boolean {
  return row === ROWS.sbToAb || row === ROWS.abToSb;
}

/** Does a command of this kind to this row reach every bank of its parity in `mode`? */
export function broadcasts(mode: Mode, column: boolean, row: number): boolean {
  return mode !== 'SB' && !(column && isHandshakeRow(row));
}

/**
 * Why a RD/WR is in the wrong mode (PIMC0903), or null if it is fine.
 * `data` is the command's data field (WR: host burst, RD: read-back slot; -1 none).
 */
export function columnFault(mode: Mode, kind: 'RD' | 'WR', row: number, col: number, data: number): string | null {
  if (row === ROWS.config) {
    if (mode === 'SB') return `a ${kind} to the configuration row 0x3FFF in SB mode (it is written in AB or AB-PIM mode, after SB -> AB)`;
    if (kind === 'WR' && mode === 'AB-PIM' && col >= CONFIG_COLS.crf && col < CONFIG_COLS.crf + 4) {
      return 'a CRF write in AB-PIM mode (the CRF is executing; program it in AB mode, before the control word enters AB-PIM)';
    }
    return null;
  }
  if (mode !== 'SB' && data >= 0) {
    return kind === 'RD'
      ? `a RD with a read-back slot in ${mode} mode (the host receives data only in SB mode; in all-bank modes a RD feeds the GRFs or the PIM units)`
      : `a WR of host data in ${mode} mode (banks take host data only in SB mode; in all-bank modes a WR stores a GRF)`;
  }
  return null;
}
