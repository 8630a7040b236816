// The scratchpad allocator and the tiling arithmetic shared by the lowerings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Spad, SPAD_ALIGN } from './alloc.js';
import { dealItems, reductionSteps, splitEven } from './tiling.js';

describe('Spad', () => {
  it('bump-allocates aligned regions and rings, and names op, tile and bytes when one does not fit', () => {
    const sp = new Spad('mm', 4096);
    expect(sp.alloc(10, 'a')).toBe(0);
    const r = sp.ring(100, 2, 'b');
    expect([r.slot(0), r.slot(1), r.slot(2)]).toEqual([SPAD_ALIGN, SPAD_ALIGN + 128, SPAD_ALIGN]);
    expect(() => sp.alloc(5000, 'k tile [64, 40]')).toThrow(/PIMC1101.*"mm".*k tile \[64, 40\].*5000 bytes/);
  });
});

describe('tiling', () => {
  it('splitEven covers [0, n) with aligned, near-equal spans', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom(1, 32, 64), (n, parts, align) => {
      const s = splitEven(n, parts, align);
      expect(s.reduce((a, x) => a + x.size, 0)).toBe(n);
      s.forEach((x, i) => {
        expect(x.start).toBe(i ? s[i - 1]!.start + s[i - 1]!.size : 0);
        if (i < s.length - 1) expect(x.size % align).toBe(0);
      });
      expect(s.length).toBeLessThanOrEqual(parts);
    }), { seed: 7, numRuns: 200 });
  });

  it('reductionSteps sum to n, never exceed the tile, and ramp up from the alignment', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 1, max: 700 }), fc.boolean(), (n, tile, ramp) => {
      const s = reductionSteps(n, tile, 64, ramp);
      expect(s.reduce((a, x) => a + x, 0)).toBe(n);
      for (const x of s) expect(x).toBeLessThanOrEqual(tile);
      if (ramp && n > 4 * 64 && tile > 64) expect(s[0]).toBe(64);
    }), { seed: 8, numRuns: 200 });
  });

  it('dealItems balances cost over engines', () => {
    const lists = dealItems(16, 8, () => 1);
    expect(lists.map((l) => l.length)).toEqual(new Array(8).fill(2));
  });
});
