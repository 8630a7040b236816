// The constraint table at its boundaries: for every entry, a hand-made
// stream with explicit issue cycles puts the entry's second command exactly
// `latency` cycles after its first (accepted) and one cycle sooner (refused
// with PIMC0901 naming the entry). Scenarios are derived from the entry's
// kinds and scope, so a new entry gets its test for free.

import { describe, expect, it } from 'vitest';
import { PimcError } from '../../ir/diagnostics.js';
import { loadHardware } from '../hardware/load.js';
import type { Hardware } from '../hardware/types.js';
import { runChannel } from './channel.js';
import type { Command, CommandKind, PchStream } from './stream.js';
import { compileTiming, describeTiming, evaluate, HBM2_CONSTRAINTS, validateTable, type ConstraintSpec } from './timing-table.js';

const hw: Hardware = loadHardware('hbm-pim-x4');
const hbm = hw.memory.hbm!;
const NULL_PATH = { column() {} };

type Step = [CommandKind, number, number?, number?];

function stream(steps: Step[]): PchStream {
  const items: Command[] = steps.map(([kind, bank, row = 0, col = 0]) => ({ kind, bank, row, col, data: -1, tag: -1, follow: 0 }));
  return { items, data: new Uint16Array(0), tags: [], readbackBursts: 0 };
}

/** Runs steps at the given cycles; returns the error (or undefined). */
function run(steps: Step[], at: number[], pch = 0, on: Hardware = hw): PimcError | undefined {
  try {
    runChannel(stream(steps), NULL_PATH, { hw: on, pch, issueAt: Int32Array.from(at) });
    return undefined;
  } catch (e) {
    if (e instanceof PimcError) return e;
    throw e;
  }
}

const ROW = 7;
const T0 = 200;

const CONFIG = 0x3fff;

/**
 * Register writes (WRREG) exist only in all-bank modes: enter AB mode
 * (ACTs to 0x17FF in banks 0, 8, 1, 9), close the rows, then open what the
 * two commands need on their parities. In AB mode a command reaches every
 * bank of its parity, so the second command goes to the even banks for a
 * same-bank entry and to the odd ones otherwise.
 */
function allBankScenario(c: ConstraintSpec, y: number): { steps: Step[]; at: number[] } {
  const steps: Step[] = [['ACT', 0, 0x17ff], ['ACT', 8, 0x17ff], ['ACT', 1, 0x17ff], ['ACT', 9, 0x17ff], ['PRE', 0], ['PRE', 1]];
  const at = [0, 6, 12, 18, 60, 61];
  const add = (s: Step, t: number) => (steps.push(s), at.push(t));
  const A = 0;
  const B = c.scope === 'same-bank' ? 0 : 1;
  const rowFor = (k: string) => (k === 'WRREG' ? CONFIG : ROW);
  if (c.from !== 'ACT') add(['ACT', A, rowFor(c.from === 'PRE' ? c.to : c.from)], 100);
  if (B !== A && c.to !== 'ACT' && c.to !== 'PRE') add(['ACT', B, rowFor(c.to)], 110);
  const cmd = (k: string, bank: number, col: number): Step =>
    k === 'WRREG' ? ['WR', bank, CONFIG, 8 + col] : k === 'PRE' ? ['PRE', bank] : [k as CommandKind, bank, k === 'ACT' ? rowFor(c.to) : ROW, col];
  add(cmd(c.from, A, 0), T0);
  add(cmd(c.to, B, 1), y);
  return { steps, at };
}

/** The commands before, the first and second command of an entry, with cycles; the second issues at `y`. */
function scenario(c: ConstraintSpec, y: number): { steps: Step[]; at: number[] } {
  if (c.from === 'WRREG' || c.to === 'WRREG') return allBankScenario(c, y);
  const A = 0;
  const B = c.scope === 'same-bank' ? 0 : c.scope === 'same-bankgroup' ? 1 : c.scope === 'other-bankgroup' ? 4 : 5;
  const steps: Step[] = [];
  const at: number[] = [];
  const add = (s: Step, t: number) => (steps.push(s), at.push(t));
  // open what the two commands need open (a REF needs every bank closed)
  if (c.from === 'PRE' || c.from === 'RD' || c.from === 'WR') add(['ACT', A, ROW], 0);
  if (B !== A && c.to !== 'ACT' && c.to !== 'REF' && c.from !== 'REF') add(['ACT', B, ROW], 10);
  const cmd = (k: CommandKind, bank: number, col: number): Step => (k === 'REF' ? ['REF', 0] : k === 'PRE' ? ['PRE', bank] : [k, bank, ROW, col]);
  add(cmd(c.from, A, 0), T0);
  // ACT -> ACT in one bank needs a PRE between (tRAS after the first)
  if (c.from === 'ACT' && c.to === 'ACT' && B === A) add(['PRE', A], T0 + hbm.timing.tRAS);
  add(cmd(c.to, B, 1), y);
  return { steps, at };
}

describe('the constraint table', () => {
  it('is valid and evaluates to the cycles of HARDWARE.md 3.4', () => {
    expect(() => validateTable(HBM2_CONSTRAINTS)).not.toThrow();
    const byName = Object.fromEntries(describeTiming(hbm).map((c) => [`${c.name} ${c.from}-${c.to}`, c.cycles]));
    expect(byName['tRTW RD-WR']).toBe(20 + 2 + 1 - 8); // RL + BL/2 + tRTRS - WL
    expect(byName['tWTR_L WR-RD']).toBe(8 + 2 + 9);
    expect(byName['tWTR_S WR-RD']).toBe(8 + 2 + 4);
    expect(byName['tWR WR-PRE']).toBe(8 + 2 + 16);
    expect(byName['tRTP RD-PRE']).toBe(3); // measured (readToPrechargeCycles), not tRTP_L
    expect(byName['tFAW ACT-ACT']).toBe(16);
  });

  it('evaluates expressions exactly and rejects unknown names', () => {
    expect(evaluate('RL + BL/2 + tRTRS - WL', { RL: 20, BL: 4, tRTRS: 1, WL: 8 })).toBe(15);
    expect(evaluate('(a + 2) * 3 - -1', { a: 1 })).toBe(10);
    expect(() => evaluate('tXYZ + 1', {})).toThrow(/PIMC0804: .*unknown name "tXYZ"/);
    expect(() => evaluate('BL/3', { BL: 4 })).toThrow(/PIMC0804/);
  });

  it('falls back to tRTP_L without a measured RD -> PRE delay', () => {
    const plain = { ...hbm, readToPrechargeCycles: undefined };
    const t = compileTiming(plain);
    const i = [...t.spec].findIndex((s) => HBM2_CONSTRAINTS[s]!.name === 'tRTP');
    expect(t.latency[i]).toBe(hbm.timing.tRTP_L);
  });

  const cycles = new Map(describeTiming(hbm).map((c, i) => [HBM2_CONSTRAINTS[i]!, c.cycles]));
  for (const c of HBM2_CONSTRAINTS.filter((x) => !x.window)) {
    const lat = cycles.get(c)!;
    it(`${c.name}: ${c.from} -> ${c.to} (${c.scope}) = ${c.latency} = ${lat}`, () => {
      const onTime = scenario(c, T0 + lat);
      expect(run(onTime.steps, onTime.at)).toBeUndefined();
      const early = scenario(c, T0 + lat - 1);
      const e = run(early.steps, early.at);
      expect(e?.code).toBe('PIMC0901');
      expect(e?.message).toContain(`${c.name} broken: ${c.to} at cycle ${T0 + lat - 1} is 1 cycle early after ${c.from} at cycle ${T0}`);
    });
  }

  it('tFAW: a fifth ACT waits tFAW after the first of four', () => {
    // HBM2's tFAW = 4 x tRRD_S, so the fifth ACT is also due by tRRD_S: a wider window makes tFAW alone binding
    const wide: Hardware = { ...hw, memory: { ...hw.memory, hbm: { ...hbm, timing: { ...hbm.timing, tFAW: 20 } } } };
    const { tRRD_S } = hbm.timing;
    const steps: Step[] = [['ACT', 0, ROW], ['ACT', 4, ROW], ['ACT', 8, ROW], ['ACT', 12, ROW], ['ACT', 1, ROW]];
    const at = [0, tRRD_S, 2 * tRRD_S, 3 * tRRD_S];
    expect(run(steps, [...at, 20], 0, wide)).toBeUndefined();
    const e = run(steps, [...at, 19], 0, wide);
    expect(e?.code).toBe('PIMC0901');
    expect(e?.message).toContain('tFAW broken: ACT at cycle 19 is 1 cycle early after ACT at cycle 0 (bank 0)');
    // four ACTs alone are fine; with the real timing the fifth at 15 breaks both
    expect(run(steps.slice(0, 4), at, 0, wide)).toBeUndefined();
    expect(run(steps, [...at, 16])).toBeUndefined();
    expect(run(steps, [...at, 15])?.message).toMatch(/tRRD_S broken: .* \(also tFAW\)/);
  });

  it('names the constraint, both commands, the cycles, the pCH and the command index', () => {
    const steps: Step[] = [1, 2, 3, 4, 5, 6, 7].map((b) => ['PRE', b] as Step);
    steps.push(['ACT', 0, 5], ['PRE', 9], ['PRE', 10], ['PRE', 11], ['PRE', 12], ['RD', 0, 5, 0]);
    const e = run(steps, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 20], 3);
    expect(e?.message).toBe('PIMC0901: tRCD_RD broken: RD at cycle 20 is 1 cycle early after ACT at cycle 7 (bank 0), pCH 3, command 12; issue it at cycle 21 or later');
  });

  it('lets a row command and a column command share a cycle, but not two row commands', () => {
    const steps: Step[] = [['ACT', 0, ROW], ['ACT', 4, ROW], ['RD', 0, ROW, 0], ['ACT', 8, ROW]];
    const { tRCD_RD } = hbm.timing;
    expect(run(steps, [0, tRCD_RD, tRCD_RD, tRCD_RD + 4])).toBeUndefined(); // RD and ACT at cycle 14
    const e = run([['ACT', 0, ROW], ['PRE', 5], ['PRE', 6]], [0, 3, 3]);
    expect(e?.message).toContain('row bus broken: PRE at cycle 3 is 1 cycle early after PRE at cycle 3 (bank 5)');
  });
});
