// Calibration against the reference HBM-PIM simulator (HARDWARE.md 5): on
// hbm-pim-x4 the four kernels land within 5% of its cycles with PIM and
// without, and the GEMV's command timeline on pseudo-channel 0 shows the
// reference's landmarks.
import { describe, expect, it } from 'vitest';
import { kernelName, runKernel, type KernelSpec } from '../../compiler/api/kernel.js';
import type { TraceEvent } from '../../runtime-sim/hbm/channel-api.js';

const REFERENCE: [KernelSpec, number, number][] = [
  [{ kind: 'gemv', m: 4096, n: 4096 }, 36_082, 13_166],
  [{ kind: 'add', size: 1 << 20 }, 6_651, 3_349],
  [{ kind: 'mul', size: 2 << 20 }, 13_255, 5_926],
  [{ kind: 'relu', size: 4 << 20 }, 17_504, 7_665],
];

describe('calibration on hbm-pim-x4', () => {
  for (const [spec, noPim, pim] of REFERENCE) {
    const name = kernelName(spec);
    it(`${name} with PIM: within 5% of ${pim} cycles, numbers right`, () => {
      const r = runKernel(spec, { hw: 'hbm-pim-x4' });
      expect(Math.abs(r.cycles - pim) / pim).toBeLessThan(0.05);
      expect(r.check.withinBound).toBe(true);
    });
    it(`${name} without PIM: within 5% of ${noPim} cycles`, () => {
      const r = runKernel(spec, { hw: 'hbm-pim-x4', pim: false });
      expect(Math.abs(r.cycles - noPim) / noPim).toBeLessThan(0.05);
    });
  }

  it('the GEMV trace on pCH 0 shows the reference landmarks', () => {
    const ev: TraceEvent[] = [];
    runKernel({ kind: 'gemv', m: 4096, n: 4096 }, { hw: 'hbm-pim-x4', trace: { pchs: [0], sink: (e) => ev.push({ ...e }) } });
    const weightRow = (e: TraceEvent) => e.row < 32 && e.bank < 2; // 16 tiles x 2 rows per bank; row 32 takes the results
    const macRows = ev.filter((e) => e.kind === 'ACT' && weightRow(e));
    const macs = ev.filter((e) => e.kind === 'RD' && weightRow(e));
    expect(macs).toHaveLength(2048); // 32 tiles x 64 bursts
    const gaps = { actToMac: new Set<number>(), macToMac: new Set<number>(), preToAct: new Set<number>() };
    for (const act of macRows) {
      const first = macs.find((m) => m.cycle > act.cycle && m.bank === act.bank && m.row === act.row);
      if (first) gaps.actToMac.add(first.cycle - act.cycle);
      const pre = [...ev].reverse().find((e) => e.kind === 'PRE' && e.bank === act.bank && e.cycle < act.cycle && e.cycle > act.cycle - 40);
      if (pre) gaps.preToAct.add(act.cycle - pre.cycle);
    }
    const refs = ev.filter((e) => e.kind === 'REF').map((e) => e.cycle);
    const refreshBetween = (a: number, b: number) => refs.some((r) => r > a && r < b);
    for (let i = 1; i < macs.length; i++) {
      const [p, q] = [macs[i - 1]!, macs[i]!];
      if (q.row === p.row && !refreshBetween(p.cycle, q.cycle)) gaps.macToMac.add(q.cycle - p.cycle);
    }
    expect(refs).toHaveLength(3); // due at 1,950, 5,850, 9,750, as on the reference's pCH 0
    expect([...gaps.actToMac]).toEqual([15]);
    expect([...gaps.macToMac]).toEqual([4]);
    expect(Math.min(...gaps.preToAct)).toBe(14);
    // 8 GRF_A writes per tile, 4 cycles apart
    const grf = ev.filter((e) => e.kind === 'WR' && e.row === 0x3fff && e.col >= 8 && e.col < 16);
    expect(grf).toHaveLength(32 * 8);
    for (let i = 1; i < 8; i++) expect(grf[i]!.cycle - grf[i - 1]!.cycle).toBe(4);
  });
});
