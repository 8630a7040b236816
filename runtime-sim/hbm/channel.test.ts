// The channel engine: modes detected from commands and data, all-bank
// broadcast, every fault code from a hand-made stream, refresh insertion,
// stats, and throughput (printed, not asserted).

import { describe, expect, it } from 'vitest';
import { PimcError } from '../../ir/diagnostics.js';
import { loadHardware } from '../hardware/load.js';
import type { ColumnEvent, DataPath, Mode, TraceEvent } from './channel-api.js';
import { runChannel, type ChannelOptions } from './channel.js';
import { CONFIG_COLS, ROWS, type Command, type CommandKind, type PchStream, type StreamItem } from './stream.js';

const hw = loadHardware('hbm-pim-x4');
const T = hw.memory.hbm!.timing;

type Step = [CommandKind, number, number?, number?, number?];
const cmd = ([kind, bank, row = 0, col = 0, data = -1]: Step): Command => ({ kind, bank, row, col, data, tag: -1, follow: 0 });

/** Bursts: 0 = control word "PIM on", 1 = "PIM off", 2 = some host data. */
function stream(items: Array<Step | StreamItem>, readbackBursts = 4): PchStream {
  const data = new Uint16Array(3 * 16);
  data[0] = 1;
  data[32] = 0x3c00;
  return { items: items.map((s) => (Array.isArray(s) ? cmd(s) : s)), data, tags: ['PHASE'], readbackBursts };
}

class Recorder implements DataPath {
  cols: Array<{ kind: string; bank: number; row: number; cycle: number; mode: Mode; index: number }> = [];
  modes: Array<[Mode, Mode, number]> = [];
  column(e: ColumnEvent): void {
    this.cols.push({ kind: e.cmd.kind, bank: e.cmd.bank, row: e.cmd.row, cycle: e.cycle, mode: e.mode, index: e.index });
  }
  modeChanged(from: Mode, to: Mode, cycle: number): void {
    this.modes.push([from, to, cycle]);
  }
}

function run(items: Array<Step | StreamItem>, o: Partial<ChannelOptions> = {}, path: DataPath = new Recorder()) {
  return runChannel(stream(items), path, { hw, pch: 2, ...o });
}

function fault(items: Array<Step | StreamItem>, o: Partial<ChannelOptions> = {}): PimcError {
  try {
    run(items, o);
  } catch (e) {
    if (e instanceof PimcError) return e;
    throw e;
  }
  throw new Error('expected a fault');
}

const enterAb: Step[] = [
  ['ACT', 0, ROWS.sbToAb], ['ACT', 8, ROWS.sbToAb], ['ACT', 1, ROWS.sbToAb], ['ACT', 9, ROWS.sbToAb],
  ['WR', 0, ROWS.sbToAb, 31], ['WR', 8, ROWS.sbToAb, 31], ['WR', 1, ROWS.sbToAb, 31], ['WR', 9, ROWS.sbToAb, 31],
  ['PRE', 0], ['PRE', 8], ['PRE', 1], ['PRE', 9],
];
const leaveAb: Step[] = [
  ['ACT', 0, ROWS.abToSb], ['WR', 0, ROWS.abToSb, 31], ['ACT', 1, ROWS.abToSb], ['WR', 1, ROWS.abToSb, 31], ['PRE', 0], ['PRE', 1],
];
const control = (on: boolean): Step[] => [['ACT', 0, ROWS.config], ['WR', 0, ROWS.config, CONFIG_COLS.control, on ? 0 : 1], ['PRE', 0]];

describe('modes', () => {
  it('go SB -> AB -> AB-PIM -> AB -> SB on commands and data', () => {
    const p = new Recorder();
    const trace: TraceEvent[] = [];
    const mac: Step[] = [['ACT', 1, 5], ['RD', 1, 5, 0], ['RD', 1, 5, 1], ['PRE', 1]];
    const s = run([...enterAb, ...control(true), ...mac, ...control(false), ...leaveAb, ['ACT', 3, 9], ['RD', 3, 9, 0]], { trace: (e) => trace.push(e) }, p);
    expect(p.modes.map(([f, t]) => `${f}->${t}`)).toEqual(['SB->AB', 'AB->AB-PIM', 'AB-PIM->AB', 'AB->SB']);
    // at the 4th ACT to 0x17FF, and at the PRE of bank 1 after 0x1FFF
    expect(p.modes[0]![2]).toBe(trace.filter((e) => e.row === ROWS.sbToAb && e.kind === 'ACT')[3]!.cycle);
    expect(p.modes[3]![2]).toBe(trace.filter((e) => e.kind === 'PRE' && e.bank === 1).at(-1)!.cycle);
    expect(p.cols.filter((c) => c.row === 5).map((c) => c.mode)).toEqual(['AB-PIM', 'AB-PIM']);
    expect(p.cols.at(-1)!.mode).toBe('SB');
    const sum = s.modeCycles.SB + s.modeCycles.AB + s.modeCycles['AB-PIM'];
    expect(sum).toBe(s.cycles);
    expect(s.modeCycles['AB-PIM']).toBeGreaterThan(0);
  });

  it('all-bank column commands reach the banks one cycle after tRCD (ACT to first MAC: 15)', () => {
    const p = new Recorder();
    const trace: TraceEvent[] = [];
    run([...enterAb, ...control(true), ['ACT', 0, 2], ['RD', 0, 2, 0], ['RD', 0, 2, 1]], { trace: (e) => trace.push(e) }, p);
    const act = trace.filter((e) => e.kind === 'ACT' && e.row === 2)[0]!;
    const rds = p.cols.filter((c) => c.row === 2);
    expect(rds[0]!.cycle - act.cycle).toBe(T.tRCD_RD + 1);
    expect(rds[1]!.cycle - rds[0]!.cycle).toBe(T.tCCD_L); // all-bank column commands are tCCD_L apart
    const toPim = p.modes.find(([, t]) => t === 'AB-PIM')!;
    const cfgAct = trace.filter((e) => e.kind === 'ACT' && e.row === ROWS.config)[0]!;
    expect(toPim[2] - cfgAct.cycle).toBe(T.tRCD_WR + 1); // HARDWARE.md 5: ACT@157, AB-PIM@168
  });

  it('broadcast: an ACT in AB mode opens every bank of its parity', () => {
    const e = fault([...enterAb, ['ACT', 1, 5], ['ACT', 3, 6]]);
    expect(e.code).toBe('PIMC0908');
    expect(e.message).toContain('bank 1 already has row 5 open');
    // and a PRE closes them all: bank 3 can open again
    expect(() => run([...enterAb, ['ACT', 1, 5], ['PRE', 1], ['ACT', 3, 6]])).not.toThrow();
  });

  it('a control word with bit 0 clear leaves AB mode alone', () => {
    const p = new Recorder();
    run([...enterAb, ...control(false)], {}, p);
    expect(p.modes.map(([, t]) => t)).toEqual(['AB']);
  });
});

describe('faults', () => {
  it('PIMC0902: a RD to a bank without that row open', () => {
    const e = fault([['ACT', 2, 4], ['RD', 2, 4, 0], ['RD', 3, 4, 0]]);
    expect(e.code).toBe('PIMC0902');
    expect(e.message).toMatch(/RD to row 4 col 0 of bank 3, but bank 3 has no row open, pCH 2, command 2, cycle \d+/);
    expect(fault([['ACT', 2, 4], ['WR', 2, 5, 0]]).message).toContain('bank 2 has row 4 open');
  });

  it('PIMC0902: in AB mode every bank of the parity must have the row open', () => {
    const e = fault([...enterAb, ['ACT', 0, ROWS.config], ['WR', 2, 6, 0]]);
    expect(e.code).toBe('PIMC0902');
    expect(e.message).toContain('the even banks (all-bank mode)');
  });

  it('PIMC0903: the configuration row outside AB modes', () => {
    const e = fault([['ACT', 0, ROWS.config], ['WR', 0, ROWS.config, CONFIG_COLS.control, 0]]);
    expect(e.code).toBe('PIMC0903');
    expect(e.message).toMatch(/configuration row 0x3FFF in SB mode.*pCH 2, command 1/);
  });

  it('PIMC0903: host data in an all-bank mode, and CRF writes while it executes', () => {
    expect(fault([...enterAb, ['ACT', 1, 5], ['RD', 1, 5, 0, 0]]).message).toMatch(/PIMC0903: a RD with a read-back slot in AB mode/);
    expect(fault([...enterAb, ['ACT', 1, 5], ['WR', 1, 5, 0, 2]]).message).toMatch(/PIMC0903: a WR of host data in AB mode/);
    expect(fault([...enterAb, ...control(true), ['ACT', 1, ROWS.config], ['WR', 1, ROWS.config, CONFIG_COLS.crf, 2]]).message).toMatch(/PIMC0903: a CRF write in AB-PIM mode/);
    // allowed: GRF copies in AB mode, park reads in SB mode, GRF_A writes in AB-PIM mode
    expect(() => run([...enterAb, ['ACT', 1, 5], ['RD', 1, 5, 0], ['WR', 1, 5, 1], ['PRE', 1]])).not.toThrow();
    expect(() => run([['ACT', 4, ROWS.park], ['RD', 4, ROWS.park, 0]])).not.toThrow();
    expect(() => run([...enterAb, ...control(true), ['ACT', 1, ROWS.config], ['WR', 1, ROWS.config, CONFIG_COLS.grfA, 2]])).not.toThrow();
  });

  it('PIMC0907: malformed commands and issue cycles out of order', () => {
    const cases: Array<[Step[], RegExp]> = [
      [[['ACT', 16, 0]], /bank 16 \(banks are 0..15\)/],
      [[['ACT', 0, 16384]], /row 16384/],
      [[['ACT', 0, 1], ['RD', 0, 1, 32]], /column 32/],
      [[['ACT', 0, 1], ['WR', 0, 1, 0, 3]], /write data burst 3 \(the stream has 3\)/],
      [[['ACT', 0, 1], ['RD', 0, 1, 0, 4]], /read-back slot 4/],
      [[['NOP' as CommandKind, 0]], /unknown command kind "NOP"/],
    ];
    for (const [steps, re] of cases) {
      const e = fault(steps);
      expect(e.code).toBe('PIMC0907');
      expect(e.message).toMatch(re);
    }
    const e = fault([['ACT', 0, 1], ['ACT', 4, 1]], { issueAt: Int32Array.from([10, 5]) });
    expect(e.message).toMatch(/PIMC0907: issue cycle 5 of ACT is before the previous command's 10/);
  });

  it('PIMC0908: ACT to an open bank, REF with a bank open', () => {
    const e = fault([['ACT', 5, 1], ['ACT', 5, 2]]);
    expect(e.code).toBe('PIMC0908');
    expect(e.message).toMatch(/ACT row 2 to bank 5, but bank 5 already has row 1 open, pCH 2, command 1/);
    expect(fault([['ACT', 5, 1], ['REF', 0]]).message).toMatch(/PIMC0908: REF while bank 5 has row 1 open/);
  });
});

describe('refresh', () => {
  // one bank, one row, reads tCCD_L apart: about 4 cycles each
  const reads = (n: number): StreamItem[] => [
    cmd(['ACT', 0, 3]),
    { kind: 'LOOP', count: n, body: [{ ...cmd(['RD', 0, 3, 0]), follow: 2 }], step: { row: 0, col: 0, data: 0 } },
  ];

  /** MAC-like all-bank reads on bank 0's parity in AB-PIM mode, n of them. */
  const pimReads = (n: number): StreamItem[] => [
    ...[...enterAb, ...control(true), ['ACT', 0, 3] as Step].map(cmd),
    { kind: 'LOOP', count: n, body: [{ ...cmd(['RD', 0, 3, 0]), follow: 2 }], step: { row: 0, col: 0, data: 0 } } as StreamItem,
  ];

  it('in PIM mode: closes the banks, refreshes when due from the measured phase, re-opens and continues', () => {
    const trace: TraceEvent[] = [];
    const s = run(pimReads(3000), { refresh: true, trace: (e) => trace.push(e) });
    const refs = trace.filter((e) => e.kind === 'REF');
    expect(s.commands.REF).toBe(3); // due at 1950, 5850, 9750 in ~13,000 cycles
    expect(hw.memory.hbm!.refreshOffsetCycles).toBe(1950);
    for (const r of refs) {
      const i = trace.indexOf(r);
      const pre = trace[i - 1]!;
      const act = trace[i + 1]!;
      expect(pre.kind).toBe('PRE');
      expect(r.cycle - pre.cycle).toBe(T.tRP);
      expect(act).toMatchObject({ kind: 'ACT', bank: 0, row: 3, cycle: r.cycle + T.tRFC });
      expect(r.tag).toBeUndefined();
      expect(pre.tag).toBe('REFRESH');
    }
    const dues = [1950, 5850, 9750];
    refs.forEach((r, i) => expect(r.cycle - dues[i]!).toBeGreaterThan(0));
    refs.forEach((r, i) => expect(r.cycle - dues[i]!).toBeLessThan(60));
    expect(s.commands.RD).toBe(3000);
  });

  it('in PIM mode: costs about tRFC per refresh and nothing without', () => {
    const off = run(pimReads(3000));
    const on = run(pimReads(3000), { refresh: true });
    expect(off.commands.REF).toBe(0);
    expect(on.cycles - off.cycles).toBeGreaterThan(3 * T.tRFC);
    expect(on.cycles - off.cycles).toBeLessThan(3 * (T.tRFC + T.tRP + T.tRCD_RD + 30));
  });

  it('in SB mode: a due refresh waits while commands stream, never more than one tREFI', () => {
    const trace: TraceEvent[] = [];
    const s = run(reads(3000), { refresh: true, trace: (e) => trace.push(e) });
    const refs = trace.filter((e) => e.kind === 'REF').map((e) => e.cycle);
    // due at 1950: postponed to 5850 at most, then caught up; the next one likewise
    expect(refs.length).toBeGreaterThanOrEqual(2);
    expect(refs[0]!).toBeGreaterThan(1950 + 3900 - 1);
    expect(refs[0]!).toBeLessThan(1950 + 3900 + 60);
    expect(s.commands.RD).toBe(3000);
  });

  it('in SB mode: a refresh due near the end of a stream does not hold it up', () => {
    const short = run(reads(900), { refresh: true }); // ends around 3,600: due 1950, within one tREFI
    expect(short.commands.REF).toBe(0);
    expect(short.cycles).toBe(run(reads(900)).cycles);
  });

  it('refreshes all-bank rows with one PRE and one ACT per parity', () => {
    const trace: TraceEvent[] = [];
    const body = [...enterAb, ...control(true), cmd(['ACT', 0, 3]), { kind: 'LOOP', count: 600, body: [{ ...cmd(['RD', 0, 3, 0]), follow: 2 }], step: { row: 0, col: 0, data: 0 } } as StreamItem];
    const s = run(body, { refresh: true, trace: (e) => trace.push(e) });
    expect(s.commands.REF).toBe(1);
    const i = trace.findIndex((e) => e.kind === 'REF');
    expect(trace[i - 1]).toMatchObject({ kind: 'PRE', bank: 0 });
    expect(trace[i + 1]).toMatchObject({ kind: 'ACT', bank: 0, row: 3 });
  });

  it('is the stream\'s job with explicit issue cycles', () => {
    expect(fault([['ACT', 0, 1]], { refresh: true, issueAt: Int32Array.from([0]) }).code).toBe('PIMC0703');
  });
});

describe('issue', () => {
  it('starts at startCycle and schedules -1 entries of issueAt at their earliest cycle', () => {
    const trace: TraceEvent[] = [];
    const s = run([['ACT', 0, 1], ['RD', 0, 1, 0], ['RD', 0, 1, 1]], { startCycle: 100, issueAt: Int32Array.from([-1, 130, -1]), trace: (e) => trace.push(e) });
    expect(trace.map((e) => e.cycle)).toEqual([100, 130, 130 + T.tCCD_L]);
    expect(s.cycles).toBe(130 + T.tCCD_L + T.RL + 2);
    expect(s.modeCycles.SB).toBe(s.cycles - 100);
  });
});

describe('stats and speed', () => {
  it('counts row hits and misses of SB column commands', () => {
    const s = run([['ACT', 0, 1], ['RD', 0, 1, 0], ['RD', 0, 1, 1], ['WR', 0, 1, 2], ['PRE', 0], ['ACT', 0, 2], ['RD', 0, 2, 0]]);
    expect(s).toMatchObject({ rowHits: 2, rowMisses: 2, commands: { ACT: 2, PRE: 1, RD: 3, WR: 1, REF: 0 } });
    // the last RD issues at ACT + tRCD_RD and its data ends RL + BL/2 later
    expect(s.cycles).toBeGreaterThan(T.tRCD_RD + T.RL);
  });

  it('runs fast (commands per second printed)', () => {
    // 16 banks, bank groups interleaved, a row each, 32 reads per row, row after row: SB streaming
    const order = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];
    const body: StreamItem[] = order.map((b) => ({ ...cmd(['ACT', b, 0]), follow: 1 }));
    body.push({ kind: 'LOOP', count: 32, body: order.map((b) => ({ ...cmd(['RD', b, 0, 0]), follow: 3 })), step: { row: 0, col: 1, data: 0 } });
    body.push(...order.map((b) => cmd(['PRE', b])));
    const items = (rows: number): StreamItem[] => [{ kind: 'LOOP', count: rows, body, step: { row: 1, col: 0, data: 0 } }];
    runChannel(stream(items(100)), { column() {} }, { hw, pch: 0, refresh: true }); // warm up
    const t0 = performance.now();
    const s = runChannel(stream(items(2000)), { column() {} }, { hw, pch: 0, refresh: true });
    const ms = performance.now() - t0;
    const n = Object.values(s.commands).reduce((a, b) => a + b, 0);
    console.log(`channel engine: ${n} commands in ${ms.toFixed(0)} ms = ${((n / ms) * 1e3 / 1e6).toFixed(1)} M commands/s (${s.cycles} cycles, ${(s.commands.RD / s.cycles).toFixed(3)} RD/cycle, ${s.commands.REF} REF)`);
    expect(s.commands.RD).toBe(2000 * 16 * 32);
  });
});
