// BankStore: rows found through the chunk table (row numbers of a bank) and
// through the map (any other number) alike; views stay live; rowsAllocated
// counts rows created.
import { describe, expect, it } from 'vitest';
import { BankStore, BURSTS_PER_ROW, LANES } from './bank-store.js';

describe('BankStore', () => {
  const burst = (v: number) => Uint16Array.from({ length: LANES }, (_, i) => v + i);

  it('keeps rows apart per bank and row number, table and map alike', () => {
    const s = new BankStore(4);
    const rows = [0, 1, 255, 256, 0x3fff, 65535, 65536, 1 << 20, -3];
    rows.forEach((r, i) => s.writeBurst(i % 4, r, i % BURSTS_PER_ROW, burst(100 * i)));
    expect(s.rowsAllocated).toBe(rows.length);
    rows.forEach((r, i) => {
      const out = new Uint16Array(LANES);
      s.readBurst(i % 4, r, i % BURSTS_PER_ROW, out);
      expect(Array.from(out)).toEqual(Array.from(burst(100 * i)));
      // the same row number in another bank does not exist
      expect(s.row((i + 1) % 4, r).every((x) => x === 0)).toBe(true);
    });
    expect(s.rowsAllocated).toBe(rows.length);
  });

  it('a row that read as zeros is a row once written (rowsAllocated tells a cached view is stale)', () => {
    const s = new BankStore(2);
    const before = s.rowsAllocated;
    const zero = s.row(1, 77);
    expect(zero.every((x) => x === 0)).toBe(true);
    s.writeBurst(1, 77, 3, burst(9));
    expect(s.rowsAllocated).toBe(before + 1);
    const live = s.row(1, 77);
    expect(live[3 * LANES]).toBe(9);
    s.writeBurst(1, 77, 3, burst(40));
    expect(live[3 * LANES]).toBe(40); // a live view
  });
});
