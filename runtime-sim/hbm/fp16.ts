// FP16 arithmetic for the PIM units, fast: every PCU operation rounds to the
// nearest even FP16 after each operation (HARDWARE.md 3.6), millions of times
// per kernel, so rounding is done with doubles, not with bit conversions.
// Products and sums of two FP16 values are exact in a double, so each PIM
// operation is one exact double operation plus one rounding.
//
// Normal range (2^-14 <= |x| < 2^15): Veltkamp's split. With
// g = x * (2^42 + 1), g + (x - g) is x rounded to 53 - 42 = 11 significant
// bits, to nearest (the split's known property); a tie needs only 12
// significant bits, and for those it goes to even with the IEEE default
// rounding: checked against the exponent method below on every significand
// of up to 24 bits, both signs, across the normal exponents, when this path
// was added; fp16.test.ts checks every FP16 midpoint and its neighbours.
// Three double operations and no exponent: the MAC loop runs this twice per
// lane.
//
// Elsewhere (subnormals, overflow, infinities, NaN): with e = floor(log2 |x|)
// the FP16 spacing is 2^(e-10) for normal values and 2^-24 below 2^-14.
// Adding and subtracting C = 1.5 * 2^(spacing exponent + 52) makes the
// double adder round x to a multiple of the spacing, to nearest even —
// exactly IEEE's FP16 rounding.

const f64 = new Float64Array(1);
const hi = new Uint32Array(f64.buffer, 4, 1);

/** C for each unbiased exponent e in [-15, 15] (index e + 15); -15 stands for the subnormal range. */
const ROUNDER = new Float64Array(31);
for (let e = -15; e <= 15; e++) ROUNDER[e + 15] = 1.5 * 2 ** ((e < -14 ? -24 : e - 10) + 52);

const MAX = 65504;

/**
 * x rounded to the nearest FP16 value (ties to even), as a double. One
 * function without calls, so that the compiler inlines it whole and keeps
 * its result an unboxed double (a call on the rare path would box every one).
 */
export function f16(x: number): number {
  // literals, not module constants: f16 is inlined into hot loops, where each
  // module binding read would be checked for initialisation
  const a = Math.abs(x);
  if (a >= 6.103515625e-5 /* 2^-14 */ && a < 32768) {
    const g = x * 4398046511105; // 2^42 + 1
    return g + (x - g);
  }
  if (a === 0) return x; // +-0 as they are (what the path below gives them), without it
  f64[0] = x;
  const e = ((hi[0]! >>> 20) & 0x7ff) - 1023;
  if (e > 15) return x !== x ? x : x > 0 ? Infinity : -Infinity; // 2^16 and beyond (or inf, NaN)
  const c = ROUNDER[(e < -14 ? -15 : e) + 15]!;
  const r = x + c - c;
  if (r > MAX || r < -MAX) return r > 0 ? Infinity : -Infinity;
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

/**
 * FP16 bit pattern -> value, by table (65,536 entries), built at every start.
 * A normal FP16 value is exactly the float32 whose bits are the FP16 bits
 * shifted into place with the exponent rebased (15 -> 127): those are written
 * as float32 bit patterns and widened to doubles in one typed-array copy (a
 * few integer operations per entry instead of floating-point arithmetic).
 * Subnormals (m * 2^-24), infinities and NaNs are set one by one.
 */
export const F16_VALUE = (() => {
  const bits = new Uint32Array(65536);
  for (let h = 0x400; h < 0x7c00; h++) {
    const b = (h << 13) + 0x38000000; // 0x38000000 = (127 - 15) << 23
    bits[h] = b;
    bits[h | 0x8000] = b | 0x80000000;
  }
  const t = new Float64Array(65536);
  t.set(new Float32Array(bits.buffer));
  for (let m = 0; m < 0x400; m++) {
    t[m] = m * 2 ** -24;
    t[m | 0x8000] = -m * 2 ** -24; // -0 for bits 0x8000
    t[0x7c00 | m] = m ? NaN : Infinity;
    t[0xfc00 | m] = m ? NaN : -Infinity;
  }
  return t;
})();

const f32 = new Float32Array(1);
const f32bits = new Uint32Array(f32.buffer);

/**
 * An FP16 value (already rounded) -> its bit pattern. Exact FP16 values are
 * exact in float32, so this only moves the exponent and mantissa fields.
 */
export function f16BitsOf(v: number): number {
  f32[0] = v;
  const b = f32bits[0]!;
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff;
  if (e === 0xff) return sign | 0x7c00 | ((b & 0x7fffff) !== 0 ? 0x200 : 0);
  if (e >= 113) return sign | ((e - 112) << 10) | ((b >>> 13) & 0x3ff); // normal FP16
  if (e < 103) return sign; // zero
  return sign | ((0x800000 | (b & 0x7fffff)) >>> (126 - e)); // subnormal FP16: 2^(e-127) * 1.m / 2^-24
}

/** The PIM operations, each rounded once (MAC and MAD round the product, then the sum). */
export const fp16Add = (a: number, b: number): number => f16(a + b);
export const fp16Mul = (a: number, b: number): number => f16(a * b);
export const fp16Mac = (acc: number, a: number, b: number): number => f16(acc + f16(a * b));
