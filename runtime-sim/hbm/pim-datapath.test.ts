// The PIM data path (pim-datapath.ts) under the real channel engine: hand-made
// command streams (StreamBuilder) that enter AB-PIM mode the way the kernels
// do (park, SB -> AB, CRF through the odd banks' configuration row, control
// word through the even banks'), then
//   - a tiny program whose results in the banks are checked against FP16
//     sums and products worked out by hand;
//   - the three sequencer faults, PIMC0904 (no EXIT, the PC runs past the
//     CRF), PIMC0905 (reserved opcode) and PIMC0906 (trigger after EXIT),
//     each a coded PimcError naming the pseudo-channel, the command index and
//     the cycle of the command that caused it, checked against the stream
//     (index) and the engine's trace (cycle).

import { describe, expect, it } from 'vitest';
import { PimcError } from '../../ir/diagnostics.js';
import { encode, OPERAND as O, pimInstr, RESERVED_OPCODES, type PimInstr } from '../../backends/hbm-pim/isa.js';
import { controlWord, programBursts } from '../../backends/hbm-pim/programs.js';
import { FOLLOW_COL, StreamBuilder } from '../../backends/hbm-pim/stream-builder.js';
import { loadHardware } from '../hardware/load.js';
import { BankStore, LANES } from './bank-store.js';
import type { ColumnEvent, DataPath, Mode, TraceEvent } from './channel-api.js';
import { runChannel } from './channel.js';
import { F16_VALUE, f16, f16BitsOf } from './fp16.js';
import { PimDatapath } from './pim-datapath.js';
import { newStores, runSystem } from './pim-system.js';
import { CONFIG_COLS, forEachCommand, ROWS, type PchStream } from './stream.js';

const hw = loadHardware('hbm-pim-x4');
const T = hw.memory.hbm!.timing;
const PIM = hw.pim!;
const AB_DELAY = PIM.allBankColumnDelayCycles ?? 0;

const w = (op: PimInstr['op'], fields: Partial<Omit<PimInstr, 'op'>> = {}): number => encode(pimInstr(op, fields));
const NOP = (count = 0) => w('NOP', { count });
const EXIT = w('EXIT');

// ---- streams ------------------------------------------------------------------

/**
 * Park, SB -> AB, the CRF (raw words: reserved opcodes allowed) through the
 * odd banks' configuration row, the control word "PIM on" through the even
 * banks', then `body` (the triggers), then PIM off, AB -> SB, park out.
 * `enter: false` stops after the CRF write, still in AB mode.
 */
function pimStream(words: readonly number[], body: (b: StreamBuilder) => void = () => {}, o: { enter?: boolean } = {}): PchStream {
  const b = new StreamBuilder();
  const on = b.data.add(controlWord(true, false));
  const off = b.data.add(controlWord(false, false));
  b.parkAndEnterAllBank();
  b.act(1, ROWS.config, { tag: 'PROGRAM_CRF' });
  b.configWrite(1, CONFIG_COLS.crf, programBursts(words, PIM.crfEntries));
  if (o.enter === false) {
    b.pre(1);
  } else {
    b.act(0, ROWS.config, { tag: 'PIM_ON' }).wr(0, ROWS.config, CONFIG_COLS.control, { data: on });
    b.pre(1).pre(0);
    body(b);
    b.act(0, ROWS.config, { tag: 'PIM_OFF' }).wr(0, ROWS.config, CONFIG_COLS.control, { data: off }).pre(0);
  }
  b.leaveAllBank();
  b.park('PARK_OUT');
  return b.build();
}

/** `count` column commands on `bank`'s parity, row `row`, columns col0, col0+1, ... (one open row). */
function columns(b: StreamBuilder, kind: 'RD' | 'WR', bank: number, row: number, col0: number, count: number): void {
  b.act(bank, row);
  b.loop(count, { col: 1 }, () => (kind === 'RD' ? b.rd(bank, row, col0, { follow: FOLLOW_COL }) : b.wr(bank, row, col0, { follow: FOLLOW_COL })));
  b.pre(bank);
}

/** Stream indices of the PIM triggers: RD/WR to rows with bit 12 clear (the only such commands in these streams run in AB-PIM). */
function triggerIndices(s: PchStream): number[] {
  const out: number[] = [];
  forEachCommand(s.items, (c, i) => {
    if ((c.kind === 'RD' || c.kind === 'WR') && !(c.row & 0x1000)) out.push(i);
  });
  return out;
}

function indexWhere(s: PchStream, pred: (kind: string, row: number, col: number) => boolean): number {
  let at = -1;
  forEachCommand(s.items, (c, i) => {
    if (at < 0 && pred(c.kind, c.row, c.col)) at = i;
  });
  return at;
}

/** Passes every column command to a real PimDatapath and remembers the last one (the one a fault interrupts). */
class Spy implements DataPath {
  last: { index: number; cycle: number; mode: Mode; kind: string; row: number; col: number } | undefined;
  triggersSeen = 0;
  constructor(readonly inner: PimDatapath) {}
  column(e: ColumnEvent): void {
    this.last = { index: e.index, cycle: e.cycle, mode: e.mode, kind: e.cmd.kind, row: e.cmd.row, col: e.cmd.col };
    if (e.mode === 'AB-PIM' && !(e.cmd.row & 0x1000)) this.triggersSeen++;
    this.inner.column(e);
  }
  modeChanged(from: Mode, to: Mode): void {
    this.inner.modeChanged(from, to);
  }
}

interface Faulted {
  error: PimcError;
  spy: Spy;
  trace: TraceEvent[];
  where: { pch: number; index: number; cycle: number };
}

/** Runs `s` on pseudo-channel `pch` through runChannel + PimDatapath; it must fail with a PimcError. */
function runToFault(s: PchStream, pch = 5): Faulted {
  const store = new BankStore(hw.memory.hbm!.banksPerPseudoChannel);
  const spy = new Spy(new PimDatapath({ pch, pcus: PIM.pcusPerPseudoChannel, crfEntries: PIM.crfEntries, stream: s, store }));
  const trace: TraceEvent[] = [];
  try {
    runChannel(s, spy, { hw, pch, refresh: false, trace: (e) => trace.push({ ...e }) });
  } catch (e) {
    if (!(e instanceof PimcError)) throw e;
    const m = /pCH (\d+), command (\d+), cycle (\d+)/.exec(e.message);
    expect(m, `no pCH/command/cycle in: ${e.message}`).not.toBeNull();
    return { error: e, spy, trace, where: { pch: +m![1]!, index: +m![2]!, cycle: +m![3]! } };
  }
  throw new Error('expected a PimcError, the stream ran to its end');
}

/** The same stream through runSystem, on pseudo-channel 2 of 3 (0 and 1 idle): the same fault, naming pCH 2. */
function systemFault(s: PchStream): PimcError {
  try {
    runSystem([undefined, undefined, s], newStores(3, hw.memory.hbm!.banksPerPseudoChannel), { hw, refresh: false });
  } catch (e) {
    if (e instanceof PimcError) return e;
    throw e;
  }
  throw new Error('expected a PimcError from runSystem');
}

/** The trigger the fault names must be the command the engine handed over last, at the cycle it reached the banks. */
function expectNamed(f: Faulted, pch: number, index: number): void {
  expect(f.where.pch).toBe(pch);
  expect(f.where.index).toBe(index);
  expect(f.spy.last!.index).toBe(index);
  expect(f.where.cycle).toBe(f.spy.last!.cycle);
}

// ---- a tiny program, checked against FP16 worked out by hand ----------------------

// [a, b, a + b] as FP16 bits, each sum rounded to nearest even by hand.
const ADD_CASES: [number, number, number][] = [
  [0x3c00, 0x1000, 0x3c00], // 1 + 2^-11: halfway between 1 and 1+2^-10, ties to the even 1
  [0x3c01, 0x1000, 0x3c02], // (1+2^-10) + 2^-11: halfway, ties to the even 1+2^-9
  [0x2e66, 0x3266, 0x34cc], // 0.0999755859375 + 0.199951171875 = 1228.5 * 2^-12: ties to 1228 * 2^-12 = 0.2998046875
  [0x7bff, 0x4c00, 0x7c00], // 65504 + 16 = 65520: rounds up past the largest finite value, +inf
  [0x7bff, 0x4800, 0x7bff], // 65504 + 8 = 65512: rounds back to 65504
  [0x8000, 0x8000, 0x8000], // -0 + -0 = -0
  [0x8000, 0x0000, 0x0000], // -0 + +0 = +0
  [0x0001, 0x0001, 0x0002], // 2^-24 + 2^-24: subnormals add exactly
  [0x03ff, 0x0001, 0x0400], // the largest subnormal + 2^-24 = 2^-14, the smallest normal
  [0x3e00, 0xbe00, 0x0000], // 1.5 - 1.5 = +0
  [0x4500, 0xc880, 0xc400], // 5 + -9 = -4 = -1 * 2^2
];

// [a, b, relu(a) * b] as FP16 bits.
const RELU_MUL_CASES: [number, number, number][] = [
  [0xc000, 0x4200, 0x0000], // relu(-2) * 3 = +0
  [0x8000, 0xbc00, 0x8000], // relu(-0) = +0; +0 * -1 = -0
  [0x4200, 0x3800, 0x3e00], // 3 * 0.5 = 1.5
  [0x3c01, 0x3c01, 0x3c02], // (1+2^-10)^2 = 1 + 2^-9 + 2^-20: rounds to 1+2^-9
  [0x3c01, 0x3bff, 0x3c00], // (1+2^-10)(1-2^-11) = 1 + 2^-11 - 2^-21: just under halfway, rounds to 1
  [0x0400, 0x3800, 0x0200], // 2^-14 * 0.5 = 2^-15, a subnormal, exact
  [0x0001, 0x3800, 0x0000], // 2^-24 * 0.5 = 2^-25: halfway between 0 and 2^-24, ties to the even 0
  [0x0003, 0x3800, 0x0002], // 3*2^-24 * 0.5 = 1.5*2^-24: ties to the even 2*2^-24
  [0x5c00, 0x5c00, 0x7c00], // 256 * 256 = 65536: +inf
  [0xfc00, 0x4000, 0x0000], // relu(-inf) = +0; +0 * 2 = +0
  [0x4500, 0xc880, 0xd1a0], // 5 * -9 = -45 = -1.40625 * 2^5: exponent 20, mantissa 416
];

const DATA_ROW = 2;
const RESULT_ROW = 3;

/**
 * Even banks: FILL GRF_A <- A (cols 0-7), ADD GRF_A += B (AAM, cols 8-15),
 * 8 NOP stores of GRF_A to the result row. Odd banks: FILL GRF_B <- relu(A),
 * MUL GRF_B *= B (AAM), 8 NOP stores. EXIT.
 */
const TINY_PROGRAM = [
  w('FILL', { dst: O.GRF_A, src0: O.EVEN_BANK }),
  w('ADD', { dst: O.GRF_A, src0: O.GRF_A, src1: O.EVEN_BANK, aam: true }),
  NOP(7),
  w('FILL', { dst: O.GRF_B, src0: O.ODD_BANK, relu: true }),
  w('MUL', { dst: O.GRF_B, src0: O.GRF_B, src1: O.ODD_BANK, aam: true }),
  NOP(7),
  EXIT,
];

function tinyBody(b: StreamBuilder): void {
  for (const parity of [0, 1]) {
    b.act(parity, DATA_ROW);
    b.loop(16, { col: 1 }, () => b.rd(parity, DATA_ROW, 0, { follow: FOLLOW_COL })); // 8 FILL + 8 ADD/MUL
    b.pre(parity);
    columns(b, 'WR', parity, RESULT_ROW, 0, 8); // the NOP stores
  }
}

/** Element (pCH p, PCU k, burst j, lane l) takes case (p * 7 + k * 128 + j * 16 + l) mod #cases. */
const caseOf = (cases: readonly unknown[], p: number, k: number, j: number, l: number) => (p * 7 + k * 128 + j * 16 + l) % cases.length;

function layTiny(store: BankStore, p: number): void {
  const burst = new Uint16Array(LANES);
  for (let k = 0; k < PIM.pcusPerPseudoChannel; k++) {
    for (const [parity, cases] of [[0, ADD_CASES], [1, RELU_MUL_CASES]] as const) {
      for (let j = 0; j < 8; j++) {
        for (const [col, which] of [[j, 0], [8 + j, 1]] as const) {
          for (let l = 0; l < LANES; l++) burst[l] = cases[caseOf(cases, p, k, j, l)]![which];
          store.writeBurst(2 * k + parity, DATA_ROW, col, burst);
        }
      }
    }
  }
}

describe('a tiny CRF program in the banks', () => {
  it('the hand-worked FP16 cases agree with the simulator\'s own rounding (f16)', () => {
    // a guard on the table itself, so a typo in it cannot pass for a simulator bug
    for (const [a, b, s] of ADD_CASES) expect(f16BitsOf(f16(F16_VALUE[a]! + F16_VALUE[b]!)), `${a.toString(16)} + ${b.toString(16)}`).toBe(s);
    for (const [a, b, s] of RELU_MUL_CASES) {
      const ra = F16_VALUE[a]! < 0 || Object.is(F16_VALUE[a]!, -0) ? 0 : F16_VALUE[a]!;
      expect(f16BitsOf(f16(ra * F16_VALUE[b]!)), `relu(${a.toString(16)}) * ${b.toString(16)}`).toBe(s);
    }
  });

  it('FILL/ADD on the even banks and FILL-ReLU/MUL on the odd banks store what FP16 gives by hand', () => {
    const s = pimStream(TINY_PROGRAM, tinyBody);
    const stores = newStores(2, hw.memory.hbm!.banksPerPseudoChannel);
    stores.forEach((st, p) => layTiny(st, p));
    const run = runSystem(s, stores, { hw, refresh: false });
    expect(run.triggers).toBe(2 * 2 * (16 + 8)); // 2 pCHs x 2 parities x (16 reads + 8 stores)
    expect(run.perPch.map((x) => x.modeCycles['AB-PIM'] > 0)).toEqual([true, true]);
    const got = new Uint16Array(LANES);
    let checked = 0;
    stores.forEach((st, p) => {
      for (let k = 0; k < PIM.pcusPerPseudoChannel; k++) {
        for (const [parity, cases] of [[0, ADD_CASES], [1, RELU_MUL_CASES]] as const) {
          for (let j = 0; j < 8; j++) {
            st.readBurst(2 * k + parity, RESULT_ROW, j, got);
            const want = Array.from({ length: LANES }, (_, l) => cases[caseOf(cases, p, k, j, l)]![2]);
            expect([...got].map((x) => x.toString(16)), `pCH ${p} bank ${2 * k + parity} col ${j}`).toEqual(want.map((x) => x.toString(16)));
            checked += LANES;
          }
          // the rest of the result row is untouched
          for (let col = 8; col < 32; col++) {
            st.readBurst(2 * k + parity, RESULT_ROW, col, got);
            expect(got.every((x) => x === 0)).toBe(true);
          }
        }
      }
    });
    expect(checked).toBe(2 * 8 * 2 * 8 * LANES);
  });

  it('re-entering AB-PIM resets the PC: the same program runs twice', () => {
    const s = pimStream(TINY_PROGRAM, (b) => {
      tinyBody(b);
      const on = b.data.add(controlWord(true, false));
      const off = b.data.add(controlWord(false, false));
      b.act(0, ROWS.config).wr(0, ROWS.config, CONFIG_COLS.control, { data: off }).wr(0, ROWS.config, CONFIG_COLS.control, { data: on }).pre(0);
      tinyBody(b);
    });
    const [st] = newStores(1, 16);
    layTiny(st!, 0);
    expect(runSystem(s, [st!], { hw, refresh: false }).triggers).toBe(2 * 2 * 24);
  });
});

// ---- faults -------------------------------------------------------------------------

describe('PIMC0904: a program without EXIT runs past the CRF', () => {
  // Three NOP 7s and no EXIT: the other 29 CRF entries hold 0 (NOP 0, one
  // trigger each), so the program occupies 3 x 8 + 29 = 53 triggers. The
  // sequencer looks at the next entry right after an instruction completes
  // (that is how JUMP and EXIT take no command), so the 53rd trigger, the
  // one that completes entry 31, moves the PC past the CRF and is the one
  // named. The assembler's own check (more than 32 words) never sees this
  // program: it has 3.
  const words = [NOP(7), NOP(7), NOP(7)];
  const capacity = 3 * 8 + (PIM.crfEntries - 3);
  const manyReads = (n: number) => (b: StreamBuilder) => {
    // n reads on the even banks, 32 per row, rows 2, 4, ...
    for (let done = 0, row = DATA_ROW; done < n; done += 32, row += 2) columns(b, 'RD', 0, row, 0, Math.min(32, n - done));
  };

  it('runs to the end with one trigger less than the program occupies', () => {
    const s = pimStream(words, manyReads(capacity - 1));
    expect(() => runSystem(s, newStores(1, 16), { hw, refresh: false })).not.toThrow();
  });

  it('faults on the trigger that moves the PC past entry 31, naming pCH, command and cycle', () => {
    const s = pimStream(words, manyReads(capacity + 10));
    const f = runToFault(s);
    expect(f.error.code).toBe('PIMC0904');
    expect(f.error.message).toMatch(/^PIMC0904: the CRF program runs past its 32 entries \(PC 32\) without an EXIT, pCH 5, command \d+, cycle \d+$/);
    const trig = triggerIndices(s);
    expectNamed(f, 5, trig[capacity - 1]!);
    expect(f.spy.triggersSeen).toBe(capacity);
    expect(f.spy.last!.mode).toBe('AB-PIM');
    // the cycle: one tCCD_L after the trigger before it (same open row), which the trace shows
    const prev = f.trace.filter((e) => e.kind === 'RD' && e.row < 0x1000).at(-1)!;
    expect(f.where.cycle).toBe(prev.cycle + T.tCCD_L);
    expect(systemFault(s).message).toBe(f.error.message.replace('pCH 5', 'pCH 2'));
  });

  it('a JUMP loop without EXIT runs past too, once its count is spent', () => {
    // FILL (8 triggers), JUMP 2, -2: FILL runs 3 times = 24 triggers, then
    // entries 2..31 are NOP 0: 30 more. Trigger 54 completes entry 31.
    const s = pimStream([w('FILL', { dst: O.GRF_A, src0: O.EVEN_BANK }), w('JUMP', { count: 2, offset: 2 })], manyReads(80));
    const f = runToFault(s);
    expect(f.error.code).toBe('PIMC0904');
    expectNamed(f, 5, triggerIndices(s)[24 + 30 - 1]!);
  });
});

describe('PIMC0905: a reserved opcode in the CRF', () => {
  // The data path decodes the CRF when the control word enters AB-PIM mode
  // (pim-datapath.ts startProgram -> decodeForExecution), up to the first
  // EXIT. So a reserved opcode is refused at that control-word write, before
  // any trigger reaches it, and not at the CRF write itself (writing the
  // word is harmless: the stream below that stops in AB mode runs clean).
  // The fault names the control-word write.
  const fillEven = w('FILL', { dst: O.GRF_A, src0: O.EVEN_BANK });
  const program = (op: number) => [fillEven, NOP(7), (op * 2 ** 28 + 0x0123456) >>> 0, EXIT];

  it('writing it into the CRF alone is no fault', () => {
    expect(() => runSystem(pimStream(program(5), undefined, { enter: false }), newStores(1, 16), { hw, refresh: false })).not.toThrow();
  });

  it.each(RESERVED_OPCODES.map((op) => [op]))('opcode %i is refused as AB-PIM is entered, naming the control-word write', (op) => {
    const s = pimStream(program(op), manyTriggers);
    const f = runToFault(s, 7);
    expect(f.error.code).toBe('PIMC0905');
    expect(f.error.message).toContain(`reserved PIM opcode ${op} in word 0x${((op * 2 ** 28 + 0x0123456) >>> 0).toString(16).toUpperCase().padStart(8, '0')}`);
    expect(f.error.message).toMatch(/CRF of pCH 7, command \d+, cycle \d+, entry 2;/);
    const control = indexWhere(s, (kind, row, col) => kind === 'WR' && row === ROWS.config && col === CONFIG_COLS.control);
    expectNamed(f, 7, control);
    expect(f.spy.last!.mode).toBe('AB'); // still AB: the switch is refused
    expect(f.spy.triggersSeen).toBe(0);
    // the cycle the write reached the banks: its ACT + tRCD_WR + the all-bank delay (HARDWARE.md 5: ACT@157, AB-PIM@168)
    const act = f.trace.filter((e) => e.kind === 'ACT' && e.row === ROWS.config && e.bank === 0).at(-1)!;
    expect(f.where.cycle).toBe(act.cycle + T.tRCD_WR + AB_DELAY);
    expect(systemFault(s).message).toBe(f.error.message.replaceAll('pCH 7', 'pCH 2'));
  });

  it('after EXIT it is never decoded: the program runs', () => {
    const s = pimStream([fillEven, NOP(7), EXIT, (5 * 2 ** 28) >>> 0, (13 * 2 ** 28) >>> 0], (b) => {
      columns(b, 'RD', 0, DATA_ROW, 0, 8);
      columns(b, 'WR', 0, RESULT_ROW, 0, 8);
    });
    expect(runSystem(s, newStores(1, 16), { hw, refresh: false }).triggers).toBe(16);
  });
});

/** 40 reads on the even banks' data row, then 8 writes on the odd banks' result row. */
function manyTriggers(b: StreamBuilder): void {
  columns(b, 'RD', 0, DATA_ROW, 0, 32);
  columns(b, 'RD', 0, DATA_ROW + 2, 0, 8);
  columns(b, 'WR', 1, RESULT_ROW, 0, 8);
}

describe('PIMC0906: a PIM trigger after EXIT', () => {
  it('FILL (8 triggers), EXIT: the 9th trigger faults, naming pCH, command and cycle', () => {
    const s = pimStream([w('FILL', { dst: O.GRF_A, src0: O.EVEN_BANK }), EXIT], (b) => columns(b, 'RD', 0, DATA_ROW, 0, 12));
    const f = runToFault(s, 3);
    expect(f.error.code).toBe('PIMC0906');
    expect(f.error.message).toMatch(/^PIMC0906: a PIM trigger \(RD bank 0 row 2 col 8\) after EXIT, pCH 3, command \d+, cycle \d+$/);
    expectNamed(f, 3, triggerIndices(s)[8]!);
    expect(f.spy.triggersSeen).toBe(9);
    const prev = f.trace.filter((e) => e.kind === 'RD' && e.row === DATA_ROW).at(-1)!;
    expect(f.where.cycle).toBe(prev.cycle + T.tCCD_L);
    expect(systemFault(s).message).toBe(f.error.message.replace('pCH 3', 'pCH 2'));
  });

  it('an EXIT-only program: the first trigger, a WR, faults at ACT + tRCD_WR + the all-bank delay', () => {
    const s = pimStream([EXIT], (b) => columns(b, 'WR', 1, RESULT_ROW, 5, 1));
    const f = runToFault(s, 0);
    expect(f.error.code).toBe('PIMC0906');
    expect(f.error.message).toContain('a PIM trigger (WR bank 1 row 3 col 5) after EXIT, pCH 0');
    expectNamed(f, 0, triggerIndices(s)[0]!);
    const act = f.trace.filter((e) => e.kind === 'ACT' && e.row === RESULT_ROW).at(-1)!;
    expect(f.where.cycle).toBe(act.cycle + T.tRCD_WR + AB_DELAY);
  });

  it('after EXIT, configuration-row writes and reserved rows trigger nothing and are no fault', () => {
    const s = pimStream([EXIT], (b) => {
      const x = b.data.add(new Uint16Array(16).fill(0x3c00));
      b.act(1, ROWS.config).wr(1, ROWS.config, CONFIG_COLS.grfA, { data: x }).pre(1);
      b.act(0, ROWS.park).rd(0, ROWS.park, 0).pre(0);
    });
    expect(runSystem(s, newStores(1, 16), { hw, refresh: false }).triggers).toBe(0);
  });
});
