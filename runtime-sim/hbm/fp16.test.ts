// The fast FP16 rounding agrees with the bit-exact conversion of ir/dtype.ts
// everywhere: on every FP16 value, every midpoint between neighbours (ties go
// to even), their neighbours in double, overflow and underflow.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { f16Bits, f16FromBits } from '../../ir/dtype.js';
import { F16_VALUE, f16, f16BitsOf, fp16Mac } from './fp16.js';

const exact = (x: number) => f16FromBits(f16Bits(x));
const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

describe('fp16 rounding', () => {
  it('is the identity on every FP16 value, and the table and bits agree', () => {
    for (let h = 0; h < 65536; h++) {
      const v = F16_VALUE[h]!;
      expect(same(f16(v), v), `bits ${h.toString(16)}`).toBe(true);
      if (!Number.isNaN(v)) expect(f16BitsOf(v)).toBe(h);
    }
  });

  it('rounds every midpoint to the even neighbour and anything off it to the nearer one', () => {
    for (let h = 0; h < 0x7bff; h++) {
      const a = F16_VALUE[h]!;
      const b = F16_VALUE[h + 1]!;
      const mid = (a + b) / 2;
      const even = h % 2 === 0 ? a : b;
      const off = (b - a) * 1e-6;
      expect(f16(mid), `mid ${mid}`).toBe(even);
      expect(f16(mid + off)).toBe(b);
      expect(f16(mid - off)).toBe(a);
      expect(f16(-mid)).toBe(-even);
      expect(f16(-(mid + off))).toBe(-b);
    }
  });

  it('agrees with the float32-based conversion on float32 inputs, overflow and underflow', () => {
    // ir/dtype.ts converts through float32, so compare on float32 values only
    fc.assert(fc.property(fc.float({ noNaN: true }), (x) => same(f16(x), exact(x))), { numRuns: 20000 });
    for (const x of [65504, 65519.99, 65520, 1e6, -1e9, 2 ** -25, 2 ** -25 + 2 ** -30, -(2 ** -26), 0, -0, Infinity, -Infinity]) {
      expect(same(f16(x), exact(x)), `${x}`).toBe(true);
    }
  });

  it('MAC rounds the product and then the sum (not fused)', () => {
    // 1 + 2^-11 is not FP16; fused would keep the bit, non-fused rounds twice
    const a = F16_VALUE[0x3c01]!; // 1 + 2^-10
    const b = F16_VALUE[0x3c01]!;
    expect(fp16Mac(0, a, b)).toBe(exact(a * b));
    expect(fp16Mac(-1, a, b)).toBe(exact(-1 + exact(a * b)));
  });
});
