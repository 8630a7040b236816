// The NPU memory's bulk paths give exactly what the per-element ones give:
// float32 to f16 by the bits (f16BitsOfF32Bits), runs of raw bits and values,
// and no page for a run of zeros written into memory never written.
import { describe, expect, it } from 'vitest';
import { f16BitsOfF32Bits, PagedStore, toF16Bits } from './memory.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return s >>> 0;
  };
}

describe('float32 -> f16 by the bits', () => {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const byValue = (b: number) => {
    u[0] = b;
    return toF16Bits(f[0]!);
  };

  it('agrees with toF16Bits wherever it answers, on every exponent (random mantissas, ties and their neighbours)', () => {
    const next = seeded(3);
    for (let e = 0; e < 256; e++) {
      for (const sign of [0, 0x80000000]) {
        const ms = [0, 1, 0x1000, 0x1fff, 0x2000, 0x3000, 0x7fe000, 0x7fefff, 0x7ff000, 0x7fffff];
        for (let i = 0; i < 2000; i++) ms.push(next() & 0x7fffff);
        for (const m of ms) {
          const b = (sign | (e << 23) | m) >>> 0;
          const h = f16BitsOfF32Bits(b);
          if (h >= 0) expect(h, b.toString(16)).toBe(byValue(b));
        }
      }
    }
  });

  it('answers for zeros and every float32 from 2^-14 to below 2^16; the rest (subnormal FP16, inf, NaN) by value', () => {
    expect(f16BitsOfF32Bits(0)).toBe(0);
    expect(f16BitsOfF32Bits(0x80000000)).toBe(0x8000);
    expect(f16BitsOfF32Bits(0x38800000)).toBe(0x0400); // 2^-14
    expect(f16BitsOfF32Bits(0x477fe000)).toBe(0x7bff); // 65504
    expect(f16BitsOfF32Bits(0x477ff000)).toBe(0x7c00); // 65520: rounds to infinity
    expect(f16BitsOfF32Bits(0x387fffff)).toBe(-1); // just below 2^-14
    expect(f16BitsOfF32Bits(0x47800000)).toBe(-1); // 2^16
    expect(f16BitsOfF32Bits(0x7fc00000)).toBe(-1); // NaN
  });

  it('setMany of a Float32Array stores what set() stores, element by element', () => {
    const next = seeded(9);
    const values = Float32Array.from({ length: 40000 }, (_, i) => {
      const special = [0, -0, Infinity, -Infinity, NaN, 65504, 65519, 65520, 1e6, -1e-7, 2 ** -14, 2 ** -24, 3e-8];
      if (i < special.length) return special[i]!;
      const u = new Uint32Array([next()]);
      return new Float32Array(u.buffer)[0]!;
    });
    const bulk = new PagedStore('a', 1 << 20);
    const one = new PagedStore('b', 1 << 20);
    bulk.setMany(4094, 'f16', values); // across a page boundary
    values.forEach((v, i) => one.set(4094 + 2 * i, 'f16', v));
    for (let i = 0; i < values.length; i++) expect(bulk.getRaw(4094 + 2 * i, 2)).toBe(one.getRaw(4094 + 2 * i, 2));
  });
});

describe('runs of raw bits and values', () => {
  it('getRawRun, getValues and setRawRun are getRaw, get and setRaw per element, across pages', () => {
    const s = new PagedStore('s', 1 << 20);
    const next = seeded(5);
    for (let i = 0; i < 70000; i++) s.setRaw(2 * i, 2, next() & 0xffff);
    const at = 65536 - 20;
    const raw = new Uint16Array(100);
    s.getRawRun(at, 2, 90, raw, 5);
    const vals = new Float64Array(90);
    s.getValues(at, 'f16', 90, vals, 0);
    for (let i = 0; i < 90; i++) {
      expect(raw[5 + i]).toBe(s.getRaw(at + 2 * i, 2));
      expect(Object.is(vals[i], s.get(at + 2 * i, 'f16')) || (Number.isNaN(vals[i]) && Number.isNaN(s.get(at + 2 * i, 'f16')))).toBe(true);
    }
    const t = new PagedStore('t', 1 << 20);
    t.setRawRun(at, 2, 90, raw, 5);
    for (let i = 0; i < 90; i++) expect(t.getRaw(at + 2 * i, 2)).toBe(raw[5 + i]);
  });

  it('zeros into memory never written allocate no page; unwritten memory reads as zeros', () => {
    const s = new PagedStore('s', 1 << 20);
    s.setRawRun(65536 * 3, 4, 1000, new Uint32Array(1000), 0);
    expect(s.allocatedPages).toBe(0);
    const out = new Uint32Array(10).fill(7);
    s.getRawRun(0, 4, 10, out, 0);
    expect([...out]).toEqual(new Array(10).fill(0));
  });
});
