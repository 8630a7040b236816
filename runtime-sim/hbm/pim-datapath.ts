// The data path of one HBM-PIM pseudo-channel: its banks' contents, the 8
// PCUs (GRF_A, GRF_B, SRF_M, SRF_A), the shared CRF with its program counter,
// and the host side's read-back buffer. The channel engine calls `column`
// for every RD/WR it issues; this gives the command its meaning in the
// current mode (HARDWARE.md 3.3):
//   SB      RD copies a burst to the host (read-back slot), WR writes host data.
//   AB      WR to the configuration row sets CRF / SRF / GRF (broadcast to all
//           PCUs); RD/WR of a normal row copies between banks and GRFs.
//   AB-PIM  RD/WR to a row with bit 12 clear executes CRF[PC] in all 8 PCUs
//           (on the banks of the command's parity), then advances the PC;
//           configuration-row writes still set registers (GRF_A inputs).
// Faults (PIMC0904-0906) carry the pseudo-channel, command index and cycle.

import { fail } from '../../ir/diagnostics.js';
import type { ColumnEvent, DataPath, Mode } from './channel-api.js';
import { BankStore, LANES } from './bank-store.js';
import { F16_VALUE, f16, f16BitsOf } from './fp16.js';
import { CONFIG_COLS, ROWS, type Command, type PchStream } from './stream.js';
import { decodeForExecution, type ExecInstr } from './pim-program.js';
import { commandAt, MODE_BY_CODE, type UnrolledStream } from './channel.js';

const GRF = 8;
/** The data of a WR without a data burst (data -1): zeros. */
const ZERO_BURST = new Uint16Array(LANES);
const TRIGGER_ROW_BIT = 0x1000;

export interface PimDatapathOptions {
  pch: number;
  pcus: number;
  crfEntries: number;
  /** The stream whose WR data this path reads. */
  stream: PchStream;
  store: BankStore;
}

/** MAC GRF_B += GRF_A * bank with AAM: the GEMV instruction, which macGemv runs without the generic operand plumbing. */
const isGemvMac = (ins: ExecInstr): boolean => ins.op === 'MAC' && ins.aam && ins.dst === 5 && ins.src0 === 4 && ins.bankParity !== undefined;

/** Lanes advance through an operand, except scalar registers (SRF_M, SRF_A): one value for every lane. */
const step = (code: number): number => (code === 6 || code === 7 ? 0 : 1);

/** The modes of replayColumns' mode codes. */
const AB_PIM = 2;

/** A lane's value: registers hold values, bank rows FP16 bits. */
const laneValue = (a: Float64Array | Uint16Array, at: number): number => (a instanceof Uint16Array ? F16_VALUE[a[at]!]! : a[at]!);

/**
 * Decoded CRF contents (a program is decoded each time PIM execution starts,
 * on every pseudo-channel, and kernels use a few programs): the decode is a
 * function of the words, and programs are never changed once decoded. Only
 * programs that decoded are kept (a fault is raised by decoding again).
 */
const DECODED = new Map<string, { program: ExecInstr[]; gemvMac: Uint8Array<ArrayBuffer> }>();

export class PimDatapath implements DataPath {
  readonly store: BankStore;
  readonly readback: Uint16Array;
  private readonly pch: number;
  private readonly pcus: number;
  private readonly crfEntries: number;
  private readonly data: Uint16Array;
  // registers, per PCU: 8 x 16 lanes, values already rounded to FP16
  private readonly grfA: Float64Array;
  private readonly grfB: Float64Array;
  private readonly srfM: Float64Array;
  private readonly srfA: Float64Array;
  private readonly aOut: Float64Array;
  private readonly mOut: Float64Array;
  // the shared sequencer
  private readonly crf: Uint32Array;
  private program: ExecInstr[] = [];
  /** Per program entry: 1 if it is the GEMV MAC that macGemv runs (the condition at the top of `execute`). */
  private gemvMac = new Uint8Array(0);
  private pc = 0;
  private repeat = 0;
  private jumpLeft: Int32Array;
  private exited = false;
  /** Triggers that executed an instruction (for utilisation stats). */
  triggers = 0;
  /**
   * macGemv's bank rows: the row `macRow` of the PCUs' banks of parity
   * `macParity`, as store.row gives them, taken when the store had
   * `macAllocated` rows (a row created since may be one that read as zeros).
   */
  private readonly macRows: Uint16Array[];
  private macRow = -1;
  private macParity = -1;
  private macAllocated = -1;

  constructor(o: PimDatapathOptions) {
    this.pch = o.pch;
    this.pcus = o.pcus;
    this.crfEntries = o.crfEntries;
    this.data = o.stream.data;
    this.store = o.store;
    this.readback = new Uint16Array(o.stream.readbackBursts * LANES);
    // the registers in one buffer (a data path per pseudo-channel per run: fewer allocations)
    const regs = o.pcus * GRF * LANES;
    const f = new Float64Array(2 * regs + 2 * o.pcus * LANES + 2 * GRF);
    let at = 0;
    const take = (n: number) => f.subarray(at, (at += n));
    this.grfA = take(regs);
    this.grfB = take(regs);
    this.aOut = take(o.pcus * LANES);
    this.mOut = take(o.pcus * LANES);
    this.srfM = take(GRF);
    this.srfA = take(GRF);
    const words = new ArrayBuffer(8 * o.crfEntries);
    this.crf = new Uint32Array(words, 0, o.crfEntries);
    this.jumpLeft = new Int32Array(words, 4 * o.crfEntries, o.crfEntries);
    this.macRows = new Array<Uint16Array>(o.pcus).fill(ZERO_BURST);
  }

  private where(e: ColumnEvent): string {
    return `pCH ${e.pch}, command ${e.index}, cycle ${e.cycle}`;
  }

  modeChanged(_from: Mode, _to: Mode): void {
    // The program starts at the control-word write itself (configWrite), which knows the command.
  }

  column(e: ColumnEvent): void {
    const c = e.cmd;
    if (c.row === ROWS.config) return this.configWrite(e);
    if (e.mode === 'SB') {
      if (c.kind === 'RD') {
        if (c.data >= 0) this.store.readBurst(c.bank, c.row, c.col, this.readback, c.data * LANES);
      } else this.writeHostData(c.bank, c.row, c.col, c.data);
      return;
    }
    if (c.row & TRIGGER_ROW_BIT) return; // reserved rows (park, mode changes) move no data
    if (e.mode === 'AB') return this.copyWithGrf(e);
    this.trigger(e);
  }

  /**
   * The column events an EventLog kept (pim-system.ts), in order, as column()
   * and modeChanged() would get them: per event the command's index in `u`
   * (-1: a mode change, mode = from * 3 + to), the cycle, and the mode code
   * (0 SB, 1 AB, 2 AB-PIM). A trigger of the GEMV MAC goes straight to
   * macGemv (trigger's own path for it, without a ColumnEvent); every other
   * event goes through column() with the event filled in.
   */
  replayColumns(u: UnrolledStream, index: Int32Array, cycle: Float64Array, mode: Uint8Array, n: number, pch: number): void {
    const cmd: Command = { kind: 'ACT', bank: 0, row: 0, col: 0, data: -1, tag: -1, follow: 0 };
    const ev: ColumnEvent = { cmd, index: 0, cycle: 0, mode: 'SB', pch };
    const rows = u.row;
    const cols = u.col;
    for (let i = 0; i < n; i++) {
      const at = index[i]!;
      if (at < 0) {
        const m = mode[i]!;
        this.modeChanged(MODE_BY_CODE[(m / 3) | 0]!, MODE_BY_CODE[m % 3]!);
        continue;
      }
      const row = rows[at]!;
      // column(): AB-PIM, not the configuration row nor a reserved row (bit 12), so trigger(): not after EXIT, the GEMV MAC at the PC
      if (mode[i] === AB_PIM && (row & TRIGGER_ROW_BIT) === 0 && !this.exited && this.gemvMac[this.pc] === 1) {
        const ins = this.program[this.pc]!;
        this.triggers++;
        this.macGemv(ins.bankParity!, row, cols[at]!);
        if (++this.repeat >= ins.repeats) {
          this.repeat = 0;
          this.pc++;
          this.settle(this.event(ev, u, at, cycle[i]!, mode[i]!));
        }
        continue;
      }
      this.column(this.event(ev, u, at, cycle[i]!, mode[i]!));
    }
  }

  /** `ev` (and its command) as the engine hands over command `at` of `u`. */
  private event(ev: ColumnEvent, u: UnrolledStream, at: number, cycle: number, mode: number): ColumnEvent {
    commandAt(u, at, ev.cmd as Command);
    ev.index = at;
    ev.cycle = cycle;
    ev.mode = MODE_BY_CODE[mode]!;
    return ev;
  }

  private writeHostData(bank: number, row: number, col: number, slot: number): void {
    if (slot < 0) this.store.writeBurst(bank, row, col, ZERO_BURST);
    else this.store.writeBurst(bank, row, col, this.data, slot * LANES);
  }

  /** AB without PIM: a RD copies each addressed bank column into GRF_A (even) or GRF_B (odd); a WR copies back. */
  private copyWithGrf(e: ColumnEvent): void {
    const c = e.cmd;
    const parity = c.bank & 1;
    const grf = parity ? this.grfB : this.grfA;
    const idx = c.col & 7;
    for (let k = 0; k < this.pcus; k++) {
      const bank = 2 * k + parity;
      const base = (k * GRF + idx) * LANES;
      if (c.kind === 'RD') {
        const row = this.store.row(bank, c.row);
        const o = c.col * LANES;
        for (let l = 0; l < LANES; l++) grf[base + l] = F16_VALUE[row[o + l]!]!;
      } else this.storeGrf(grf, base, bank, c.row, c.col);
    }
  }

  private storeGrf(grf: Float64Array, base: number, bank: number, row: number, col: number): void {
    const r = this.store.row(bank, row, true);
    const o = col * LANES;
    for (let l = 0; l < LANES; l++) r[o + l] = f16BitsOf(grf[base + l]!);
  }

  /** Writes to row 0x3FFF: control (mode: handled by the engine), SRF, CRF, GRF_A, GRF_B. */
  private configWrite(e: ColumnEvent): void {
    const c = e.cmd;
    if (c.kind !== 'WR') return;
    // the burst's 16 lanes are lanes[at..at+15] (read in place: no view per write)
    const lanes = c.data >= 0 ? this.data : ZERO_BURST;
    const at = c.data >= 0 ? c.data * LANES : 0;
    const col = c.col;
    if (col === CONFIG_COLS.control) {
      if (lanes[at]! & 1) {
        if (lanes[at]! & 2) this.grfB.fill(0); // bit 1: clear GRF_B on entry (ours)
        this.startProgram(e);
      }
    } else if (col === CONFIG_COLS.srf) {
      for (let i = 0; i < GRF; i++) {
        this.srfM[i] = F16_VALUE[lanes[at + i]!]!;
        this.srfA[i] = F16_VALUE[lanes[at + GRF + i]!]!;
      }
    } else if (col >= CONFIG_COLS.crf && col < CONFIG_COLS.crf + 4) {
      const first = (col - CONFIG_COLS.crf) * 8;
      for (let i = 0; i < 8 && first + i < this.crfEntries; i++) this.crf[first + i] = (lanes[at + 2 * i]! | (lanes[at + 2 * i + 1]! << 16)) >>> 0;
    } else if (col >= CONFIG_COLS.grfA && col < CONFIG_COLS.grfA + GRF) {
      this.broadcast(this.grfA, col - CONFIG_COLS.grfA, lanes, at);
    } else if (col >= CONFIG_COLS.grfB && col < CONFIG_COLS.grfB + GRF) {
      this.broadcast(this.grfB, col - CONFIG_COLS.grfB, lanes, at);
    }
  }

  /** The same 16 values into register idx of every PCU (decoded once, copied to each). */
  private broadcast(grf: Float64Array, idx: number, lanes: Uint16Array, at: number): void {
    const first = idx * LANES; // PCU 0's register
    for (let l = 0; l < LANES; l++) grf[first + l] = F16_VALUE[lanes[at + l]!]!;
    for (let k = 1; k < this.pcus; k++) {
      const base = (k * GRF + idx) * LANES;
      for (let l = 0; l < LANES; l++) grf[base + l] = grf[first + l]!;
    }
  }

  /** Entering AB-PIM: decode the CRF, reset PC and loop counters. */
  private startProgram(e: ColumnEvent): void {
    const key = this.crf.join();
    let d = DECODED.get(key);
    if (!d) {
      const program = decodeForExecution(this.crf, () => `CRF of ${this.where(e)}`);
      d = { program, gemvMac: Uint8Array.from(program, (ins) => (isGemvMac(ins) ? 1 : 0)) };
      if (DECODED.size >= 4096) DECODED.clear();
      DECODED.set(key, d);
    }
    this.program = d.program;
    this.gemvMac = d.gemvMac;
    this.pc = 0;
    this.repeat = 0;
    this.exited = false;
    this.program.forEach((ins, i) => (this.jumpLeft[i] = ins.op === 'JUMP' ? ins.count : 0));
    this.settle(e);
  }

  /** Follows JUMPs and EXIT at the PC (they take no command). */
  private settle(e: ColumnEvent): void {
    for (let guard = 0; guard < 1 << 20; guard++) {
      if (this.pc >= this.program.length) {
        fail('PIMC0904', `the CRF program runs past its ${this.program.length} entries (PC ${this.pc}) without an EXIT, ${this.where(e)}`);
      }
      const ins = this.program[this.pc]!;
      if (ins.op === 'EXIT') {
        this.exited = true;
        return;
      }
      if (ins.op !== 'JUMP') return;
      if (this.jumpLeft[this.pc]! > 0) {
        this.jumpLeft[this.pc]!--;
        this.pc = this.pc + 1 - ins.offset;
      } else {
        this.jumpLeft[this.pc] = ins.count; // ready for the next time round an outer loop
        this.pc++;
      }
    }
  }

  private trigger(e: ColumnEvent): void {
    if (this.exited) fail('PIMC0906', `a PIM trigger (${e.cmd.kind} bank ${e.cmd.bank} row ${e.cmd.row} col ${e.cmd.col}) after EXIT, ${this.where(e)}`);
    if (this.pc >= this.program.length) fail('PIMC0904', `the CRF program runs past its ${this.program.length} instructions, ${this.where(e)}`);
    const ins = this.program[this.pc]!;
    this.triggers++;
    // the GEMV MAC straight to its loop (what execute would do first), the rest through execute
    if (this.gemvMac[this.pc]) this.macGemv(ins.bankParity!, e.cmd.row, e.cmd.col);
    else this.execute(ins, e);
    this.repeat++;
    if (this.repeat >= ins.repeats) {
      this.repeat = 0;
      this.pc++;
      this.settle(e);
    }
  }

  /**
   * The GEMV hot path, MAC GRF_B[col&7] += GRF_A[{row[0], col[4:3]}] * bank,
   * written out without the generic operand plumbing (same arithmetic).
   */
  private macGemv(bankParity: number, row: number, col: number): void {
    // Module bindings in locals: the compiled loop would check each one for
    // initialisation on every lane (a 4096 x 4096 GEMV runs 16.8M lanes).
    const value = F16_VALUE;
    const round = f16;
    const grfA = this.grfA;
    const grfB = this.grfB;
    const store = this.store;
    const pcus = this.pcus;
    const rows = this.macRows;
    // the PCUs' bank rows, looked up when the row (or parity) changes: a DRAM row serves 32 MACs
    if (row !== this.macRow || bankParity !== this.macParity || store.rowsAllocated !== this.macAllocated) {
      for (let k = 0; k < pcus; k++) rows[k] = store.row(2 * k + bankParity, row);
      this.macRow = row;
      this.macParity = bankParity;
      this.macAllocated = store.rowsAllocated;
    }
    const dst = col & 7;
    const src = ((row & 1) << 2) | ((col >> 3) & 3);
    // 8 = GRF, 16 = LANES (literals: no module binding reads in the loop)
    for (let k = 0; k < pcus; k++) {
      const w = rows[k]!;
      let a = (k * 8 + src) * 16;
      let b = (k * 8 + dst) * 16;
      let x = col * 16;
      const end = b + 16;
      for (; b < end; b++, a++, x++) grfB[b] = round(grfB[b]! + round(value[w[x]!]! * grfA[a]!));
    }
  }

  /** One instruction in all PCUs, on the command's bank parity and address. */
  private execute(ins: ExecInstr, e: ColumnEvent): void {
    const c = e.cmd;
    const parity = c.bank & 1;
    if (isGemvMac(ins)) return this.macGemv(ins.bankParity!, c.row, c.col);
    if (ins.op === 'NOP') {
      if (c.kind === 'WR') {
        // a WR during a NOP stores GRF_A (even bank) or GRF_B (odd bank), index column[2:0]
        const grf = parity ? this.grfB : this.grfA;
        for (let k = 0; k < this.pcus; k++) this.storeGrf(grf, (k * GRF + (c.col & 7)) * LANES, 2 * k + parity, c.row, c.col);
      }
      return;
    }
    // register indices: fixed, or from the address under AAM
    const aamDst = c.col & 7;
    const aamInput = ((c.row & 1) << 2) | ((c.col >> 3) & 3);
    // AAM takes GRF indices from the address (HARDWARE.md 3.2); scalar registers keep the instruction's index
    const index = (code: number, fixedIdx: number, isDst: boolean): number =>
      ins.aam && (code === 4 || code === 5) ? (isDst || code === ins.dst ? aamDst : aamInput) : fixedIdx;
    const dIdx = index(ins.dst, ins.dstIdx, true);
    const s0Idx = index(ins.src0, ins.src0Idx, false);
    const s1Idx = index(ins.src1, ins.src1Idx, false);
    const s2Idx = index(ins.src2, ins.src1Idx, false);
    const bo = c.col * LANES;
    for (let k = 0; k < this.pcus; k++) {
      const bankRow = this.store.row(2 * k + (ins.bankParity ?? parity), c.row);
      const dst = this.operand(ins.dst, k, bankRow) as Float64Array;
      const dOff = this.offset(ins.dst, dIdx, k, bo);
      const s0 = this.operand(ins.src0, k, bankRow);
      const s0Off = this.offset(ins.src0, s0Idx, k, bo);
      const s0Step = step(ins.src0);
      const unary = ins.op === 'MOV' || ins.op === 'FILL';
      const s1 = unary ? null : this.operand(ins.src1, k, bankRow);
      const s1Off = unary ? 0 : this.offset(ins.src1, s1Idx, k, bo);
      const s1Step = unary ? 0 : step(ins.src1);
      const s2 = ins.op === 'MAD' ? this.operand(ins.src2, k, bankRow) : null;
      const s2Off = ins.op === 'MAD' ? this.offset(ins.src2, s2Idx, k, bo) : 0;
      const s2Step = ins.op === 'MAD' ? step(ins.src2) : 0;
      for (let l = 0; l < LANES; l++) {
        const x = laneValue(s0, s0Off + l * s0Step);
        let r: number;
        switch (ins.op) {
          case 'ADD': r = f16(x + laneValue(s1!, s1Off + l * s1Step)); break;
          case 'MUL': r = f16(x * laneValue(s1!, s1Off + l * s1Step)); break;
          case 'MAC': r = f16(dst[dOff + l]! + f16(x * laneValue(s1!, s1Off + l * s1Step))); break;
          case 'MAD': r = f16(f16(x * laneValue(s1!, s1Off + l * s1Step)) + laneValue(s2!, s2Off + l * s2Step)); break;
          default: r = ins.relu && (x < 0 || Object.is(x, -0)) ? 0 : x; // MOV, FILL
        }
        dst[dOff + l] = r;
      }
      // ADD and MUL also latch their result in the adder / multiplier output registers
      const out = ins.op === 'ADD' ? this.aOut : ins.op === 'MUL' ? this.mOut : null;
      if (out) for (let l = 0; l < LANES; l++) out[k * LANES + l] = dst[dOff + l]!;
    }
  }

  /** The registers (or bank row: FP16 bits) operand `code` of PCU k reads or writes. */
  private operand(code: number, k: number, bankRow: Uint16Array): Float64Array | Uint16Array {
    switch (code) {
      case 4: return this.grfA;
      case 5: return this.grfB;
      case 6: return this.srfM;
      case 7: return this.srfA;
      case 0: return this.aOut;
      case 1: return this.mOut;
      default: return bankRow; // EVEN_BANK / ODD_BANK
    }
  }

  /** Where lane 0 of operand `code` (register index idx) of PCU k is in its array. */
  private offset(code: number, idx: number, k: number, bankOffset: number): number {
    switch (code) {
      case 4:
      case 5: return (k * GRF + idx) * LANES;
      case 6:
      case 7: return idx;
      case 0:
      case 1: return k * LANES;
      default: return bankOffset;
    }
  }
}
