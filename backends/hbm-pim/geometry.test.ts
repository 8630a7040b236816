// PIM data rows (HARDWARE.md 3.3): a column command in AB-PIM mode executes
// only on a row whose bit 12 (RA12) is clear. With 16K rows per bank those
// are two ranges, 0x0000-0x0FFF and 0x2000-0x2FFF; the reserved rows (park,
// mode changes, configuration) all have RA12 set. The channel simulator
// agrees: a GEMV laid out in the second range is bit-exact with the FP16
// loop, as in the first. And the allocator the code generator and the
// placement share packs regions first-fit in either range, never across a
// range boundary, with per-call scratch at the top of the last.
import { describe, expect, it } from 'vitest';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import type { Hardware } from '../../runtime-sim/hardware/types.js';
import { f16, f16BitsOf, F16_VALUE } from '../../runtime-sim/hbm/fp16.js';
import { newStores, runSystem } from '../../runtime-sim/hbm/pim-system.js';
import { ROWS } from '../../runtime-sim/hbm/stream.js';
import { gemvFp16Loop } from './fp16-reference.js';
import { gemvStream, layoutGemvWeights, planGemv, reduceGemv } from './gemv.js';
import { gemvSplit, inDataRange, pimDataRanges, pimGeometry, PimRows } from './geometry.js';

describe('PIM data rows', () => {
  it('16K rows per bank: rows 0-4095 and 8192-12287, exactly the rows with RA12 = 0', () => {
    expect(pimDataRanges(16384)).toEqual([[0, 4096], [8192, 12288]]);
    const ranges = pimDataRanges(16384);
    for (let row = 0; row < 16384; row++) {
      const inside = ranges.some(([s, e]) => row >= s && row < e);
      expect(inside, `row ${row}`).toBe((row & 0x1000) === 0);
    }
  });

  it('the reserved rows lie outside every range', () => {
    const ranges = pimDataRanges(16384);
    for (const row of Object.values(ROWS)) expect(ranges.some(([s, e]) => row >= s && row < e), `row 0x${row.toString(16)}`).toBe(false);
  });

  it('fewer rows: one range, cut at the bank size', () => {
    expect(pimDataRanges(8)).toEqual([[0, 8]]);
    expect(pimDataRanges(4096)).toEqual([[0, 4096]]);
    expect(pimDataRanges(0x2800)).toEqual([[0, 4096], [8192, 0x2800]]);
    expect(pimDataRanges(32768)).toEqual([[0, 4096], [8192, 12288], [16384, 20480], [24576, 28672]]);
  });

  it('npu+hbm-pim: 8,192 rows per bank for PIM data, 8 GiB over 64 pseudo-channels', () => {
    const hw = loadHardware('npu+hbm-pim');
    const g = pimGeometry(hw);
    expect(g.dataRanges).toEqual([[0, 4096], [8192, 12288]]);
    expect(g.dataRows).toBe(8192);
    expect(g.dataRows * hw.memory.hbm!.rowBytes * g.banks * g.pch).toBe(8 * 2 ** 30);
  });

  it('a GEMV plan must sit inside one range', () => {
    const g = pimGeometry(loadHardware('npu+hbm-pim'));
    const rows = planGemv(g, 4096, 4096).rowsUsed;
    expect(planGemv(g, 4096, 4096, 1, { rowBase: 8192 }).rowBase).toBe(8192);
    expect(planGemv(g, 4096, 4096, 1, { rowBase: 12288 - rows - (rows % 2) }).rowsUsed).toBe(rows);
    for (const rowBase of [4096 - 2, 4096, 0x1800, 8192 - 2, 12288 - 2, 12288]) {
      expect(() => planGemv(g, 4096, 4096, 1, { rowBase }), `row base ${rowBase}`).toThrow(/PIMC0703: .* one range of PIM data rows/);
    }
    expect(inDataRange(g, 0, 4096)).toBe(true);
    expect(inDataRange(g, 4000, 97)).toBe(false);
  });
});

describe('the channel simulator runs a GEMV in the second range', () => {
  // one stack (16 pseudo-channels) keeps it small
  const hw: Hardware = structuredClone(loadHardware('hbm-pim-x4'));
  hw.memory.hbm!.stacks = 1;
  const g = pimGeometry(hw);
  const [m, n] = [300, 257];
  const values = (count: number, seed: number) => {
    let s = seed >>> 0 || 1;
    return Uint16Array.from({ length: count }, () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return f16BitsOf(f16(((s & 0x80000000) ? -1 : 1) * (((s >>> 0) % 1024) + 1) / 1024));
    });
  };
  const w = values(m * n, 3);
  const x = values(n, 4);
  const want = gemvFp16Loop(w, x, m, n, 'fp16');

  for (const rowBase of [0, 0x2000, 0x2ff0 - planGemv(g, m, n).rowsUsed]) {
    it(`rows from ${rowBase}: bit-exact with the FP16 loop`, () => {
      const even = rowBase - (rowBase % 2);
      const plan = planGemv(g, m, n, 1, { rowBase: even });
      const stores = newStores(g.pch, g.banks);
      layoutGemvWeights(g, plan, w, stores);
      const sys = runSystem(gemvStream(g, plan, x), stores, { hw, refresh: true });
      expect(sys.triggers).toBeGreaterThan(0);
      const y = reduceGemv(g, plan, sys.readbacks, 'fp16', (b) => F16_VALUE[b]!, f16);
      expect([...y].every((v, i) => Object.is(v, want[i]))).toBe(true);
    });
  }

  it('the same layout at rows 0x1800.. (RA12 = 1) triggers nothing: those rows cannot hold PIM data', () => {
    const at0 = planGemv(g, m, n);
    const shift = 0x1800;
    const plan = { ...at0, rowBase: shift, resultRow: (v: number, r: number) => shift + at0.resultRow(v, r) };
    const stores = newStores(g.pch, g.banks);
    layoutGemvWeights(g, plan, w, stores);
    expect(runSystem(gemvStream(g, plan, x), stores, { hw, refresh: true }).triggers).toBe(0);
  });
});

describe('PimRows: the allocator the code generator and the placement share', () => {
  it('first-fit in either range, on even rows, never across a boundary', () => {
    const r = new PimRows([[0, 100], [200, 300]]);
    expect(r.resident(59)).toBe(0); // 60 rows
    expect(r.resident(50)).toBe(200); // does not fit the 40 left in the first range
    expect(r.resident(40)).toBe(60); // fills the first range
    expect(r.resident(2)).toBe(250);
    expect(r.resident(50)).toBe(undefined); // 48 left
    expect(r.used).toEqual({ resident: 152, perCall: 0 });
    expect(r.largestFree).toBe(48);
  });

  it('per-call scratch at the top of the last range, shared, and kept free of resident regions', () => {
    const r = new PimRows([[0, 100], [200, 300]]);
    expect(r.perCall(9)).toBe(290);
    expect(r.perCall(20)).toBe(280);
    expect(r.resident(100)).toBe(0);
    expect(r.resident(80)).toBe(200);
    expect(r.resident(2)).toBe(undefined); // 280..299 is scratch
    expect(r.perCall(22)).toBe(undefined); // would reach the region at 200..279
    expect(r.used).toEqual({ resident: 180, perCall: 20 });
  });

  it('one range behaves as the single allocator before: regions from 0 up, scratch from the top', () => {
    const r = new PimRows(pimDataRanges(4096));
    expect(r.resident(33)).toBe(0);
    expect(r.perCall(4)).toBe(4092);
    expect(r.resident(34)).toBe(34);
  });

  it('gemvSplit: all 64 pseudo-channels for a 4096 x 4096 weight; a narrow matrix is cut along its inputs', () => {
    const g = pimGeometry(loadHardware('npu+hbm-pim'));
    expect(gemvSplit(g, 4096, 4096)).toMatchObject({ pchs: 64, perSlice: 4096, cuts: [[0, 4096]] });
    const narrow = gemvSplit(g, 4096, 512);
    expect(narrow.pchs).toBe(8);
    expect(narrow.cuts.length).toBe(8);
    expect(narrow.perSlice * narrow.cuts.length).toBe(4096);
  });
});
