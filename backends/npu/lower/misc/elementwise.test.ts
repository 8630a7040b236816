// Element-wise lowerings against the reference on random broadcasting shapes
// (fast-check, fixed seeds). Bounds: testing.ts's f16Bound(want, E) with E a
// bound on |fp32 result - reference| derived per op below; u = 2^-24.
//   one fp32 op (+ - * /, max, min, sqrt, recip, neg, relu): the NPU's fp32
//     value IS the reference's f32 value (both correctly rounded): E = 0;
//     max/min/neg/relu/clip of f16 values are f16 values: exact.
//   transcendental (exp, log, tanh, erf, sigmoid, sin, cos, pow): the vector
//     unit is within 1 fp32 ulp (2u relative) of exact, the reference within
//     u: E = 3u|want| (ulp3 below).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../../ir/tensor.js';
import { lowerOneOp, runOpOnNpu } from '../harness.js';
import { U, expectExact, expectWithin, f16Bound, uniform } from './testing.js';

const ulp3 = (w: number) => (3 * U * Math.abs(w)) / (1 - U);

/** An output shape and, for two inputs, shapes that broadcast into it (leading dims dropped, some dims 1). */
const broadcastPair = fc
  .record({
    out: fc.array(fc.integer({ min: 1, max: 19 }), { minLength: 1, maxLength: 4 }),
    maskA: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    maskB: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    dropB: fc.integer({ min: 0, max: 3 }),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
  })
  .filter((r) => r.out.reduce((a, b) => a * b, 1) <= 6000)
  .map((r) => {
    const a = r.out.map((d, i) => (r.maskA[i] || r.maskB[i] ? d : 1));
    const b = r.out.slice(Math.min(r.dropB, r.out.length - 1)).map((d, i) => (r.maskB[i] ? d : 1));
    return { a, b, seed: r.seed };
  });

/** Magnitudes in [0.1, 2] with random signs: no division by tiny numbers, no f16 overflow. */
function signed(shape: number[], seed: number): Tensor {
  const t = uniform(shape, seed, 0.1, 2);
  const s = uniform(shape, seed + 7, -1, 1);
  return Tensor.from('f32', shape, Array.from(t.data, (v, i) => (s.data[i]! < 0 ? -v : v)));
}

const RUNS = { seed: 4242, numRuns: 4 };

describe('binary element-wise with broadcasting', () => {
  for (const type of ['Add', 'Sub', 'Mul', 'Div']) {
    it(`${type}: one fp32 op, rounded once (E = 0)`, () => {
      fc.assert(fc.property(broadcastPair, ({ a, b, seed }) => {
        const r = runOpOnNpu(type, '', [signed(a, seed), signed(b, seed + 1)]);
        expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(r.want[0]!.data[i]!), type);
      }), RUNS);
    });
  }

  for (const type of ['Max', 'Min']) {
    it(`${type} of three inputs is exact`, () => {
      fc.assert(fc.property(broadcastPair, ({ a, b, seed }) => {
        const r = runOpOnNpu(type, '', [signed(a, seed), signed(b, seed + 1), signed([a[a.length - 1]!], seed + 2)]);
        expectExact(r.got[0]!, r.want[0]!, type);
      }), RUNS);
    });
  }

  it('Pow: tensor exponent, and a constant scalar exponent as an immediate (E = 3u|want|)', () => {
    fc.assert(fc.property(broadcastPair, ({ a, b, seed }) => {
      const base = uniform(a, seed, 0.2, 3);
      const r = runOpOnNpu('Pow', '', [base, uniform(b, seed + 1, -2, 2)]);
      expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(r.want[0]!.data[i]!, ulp3(r.want[0]!.data[i]!)), 'Pow');
      const c = runOpOnNpu('Pow', '', [base, Tensor.scalar('i64', 2)], {}, { consts: [1] });
      expect(c.program.engines.flat().some((x) => x.op === 'vec.scalar' && x.fn === 'pows')).toBe(true);
      expectWithin(c.got[0]!, c.want[0]!, (i) => f16Bound(c.want[0]!.data[i]!, ulp3(c.want[0]!.data[i]!)), 'Pow const');
    }), { ...RUNS, numRuns: 2 });
  });

  it('a big add runs double-buffered tiles on all 8 engines', () => {
    const r = runOpOnNpu('Add', '', [signed([300, 1000], 1), signed([1000], 2)]);
    expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(r.want[0]!.data[i]!), 'big Add');
    expect(r.program.engines.filter((e) => e.length).length).toBe(8);
    const busiest = r.program.engines.reduce((a, e) => (e.length > a.length ? e : a));
    // The bias is loaded once per engine (resident); x's tiles stream.
    const loads = busiest.flatMap((x, i) => (x.op === 'dma.load' ? [i] : []));
    const steps = busiest.filter((x) => x.op === 'dma.store').length;
    expect(steps).toBeGreaterThan(1);
    expect(loads.length).toBe(steps + 1);
    // Double buffering: the second tile's load is issued before the first tile's add.
    expect(loads[2]!).toBeLessThan(busiest.findIndex((x) => x.op === 'vec.binary'));
  });

  it('integer operands are PIMC1102 (the vector unit has no integer arithmetic)', () => {
    expect(() => lowerOneOp('Add', '', [{ dtype: 'i64', shape: [4] }, { dtype: 'i64', shape: [4] }])).toThrow(/PIMC1102/);
  });
});

const UNARY: [string, (s: number[], seed: number) => Tensor, 'exact' | 'rounded' | 'ulp'][] = [
  ['Sqrt', (s, k) => uniform(s, k, 0.01, 4), 'rounded'],
  ['Reciprocal', signed, 'rounded'],
  ['Neg', signed, 'exact'],
  ['Relu', signed, 'exact'],
  ['Exp', (s, k) => uniform(s, k, -4, 4), 'ulp'],
  ['Log', (s, k) => uniform(s, k, 0.01, 8), 'ulp'],
  ['Erf', (s, k) => uniform(s, k, -3, 3), 'ulp'],
  ['Tanh', (s, k) => uniform(s, k, -4, 4), 'ulp'],
  ['Sigmoid', (s, k) => uniform(s, k, -8, 8), 'ulp'],
  ['Cos', (s, k) => uniform(s, k, -6, 6), 'ulp'],
  ['Sin', (s, k) => uniform(s, k, -6, 6), 'ulp'],
];

const shapeArb = fc.record({
  shape: fc.array(fc.integer({ min: 1, max: 37 }), { minLength: 1, maxLength: 3 }),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

describe('unary element-wise', () => {
  for (const [type, data, kind] of UNARY) {
    it(`${type} (${kind === 'ulp' ? 'E = 3u|want|' : kind === 'rounded' ? 'E = 0' : 'exact'})`, () => {
      fc.assert(fc.property(shapeArb, ({ shape, seed }) => {
        const r = runOpOnNpu(type, '', [data(shape, seed)]);
        const w = r.want[0]!.data;
        if (kind === 'exact') expectExact(r.got[0]!, r.want[0]!, type);
        else expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(w[i]!, kind === 'ulp' ? ulp3(w[i]!) : 0), type);
      }), { seed: 77, numRuns: 2 });
    });
  }

  it('Clip with scalar bounds (one or both) is exact', () => {
    const x = signed([7, 33], 5);
    for (const bounds of [[Tensor.scalar('f32', -0.5), Tensor.scalar('f32', 1.25)], [Tensor.scalar('f32', 0)], [null, Tensor.scalar('f32', 0.75)]]) {
      const r = runOpOnNpu('Clip', '', [x, ...bounds]);
      expectExact(r.got[0]!, r.want[0]!, 'Clip');
    }
  });
});

// GELU (erf form): t1 = fl(x * fl(1/sqrt 2)) is x/sqrt2 within 2u; erf moves
// by at most max|erf'(z) z| = 2/sqrt(pi)/sqrt(2e) = 0.484 times that relative
// change (0.97u) and is within 2u of exact: |e - erf| <= 2.97u; 1 + e adds u
// of a value <= 2: 4.97u absolute; times x adds u|v|; the 0.5 is exact. So
// |v - exact| <= 2.49u|x| + u|v|, and E = 2.5u|x| + 2.1u|want| with the
// reference's rounding. (The absolute u|x| term is the cancellation in 1 +
// erf for x << 0: the reference, using erfc, does not have it.)
const geluErfE = (x: number, w: number) => 2.5 * U * Math.abs(x) + 2.1 * U * Math.abs(w);

// GELU (tanh form), per element, following the fp32 chain:
// c = fl(fl(fl(x*x)*x) * k) is k x^3 within 4u; s = fl(c + x): ds = 4u k|x|^3
// + u|s|; z = fl(s * fl(sqrt(2/pi))): dz = 0.7979 ds + 2u|z|; t = tanh(z)
// within 2u and moving by at most sech^2 over [|z| - dz, |z|] times dz;
// 1 + t adds 2u; times x adds u|v|; 0.5 exact.
function geluTanhE(x: number, w: number): number {
  const k = 0.044715, c = Math.sqrt(2 / Math.PI);
  const s = x + k * x ** 3, z = c * s;
  const ds = 4 * U * k * Math.abs(x) ** 3 + U * Math.abs(s) * (1 + 1e-6);
  const dz = c * ds + 2 * U * Math.abs(z);
  const m = Math.max(0, Math.abs(z) - dz);
  const dt = (1 - Math.tanh(m) ** 2) * dz + 2 * U * Math.abs(Math.tanh(z)) + 2 * U;
  return 0.5 * Math.abs(x) * dt + 2.1 * U * Math.abs(w);
}

describe('activations', () => {
  const cases: [string, string, string][] = [['Gelu', '', 'none'], ['Gelu', '', 'tanh'], ['Gelu', 'pimc', 'none'], ['Gelu', 'pimc', 'tanh']];
  for (const [type, domain, approximate] of cases) {
    it(`${domain || 'onnx'}.${type} approximate=${approximate}`, () => {
      fc.assert(fc.property(shapeArb, ({ shape, seed }) => {
        const x = uniform(shape, seed, -6, 6);
        const r = runOpOnNpu(type, domain, [x], { approximate });
        const xs = r.rounded[0]!.data, w = r.want[0]!.data;
        const E = approximate === 'tanh' ? geluTanhE : geluErfE;
        expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(w[i]!, E(xs[i]!, w[i]!)), `${type} ${approximate}`);
      }), { seed: 31, numRuns: 3 });
    });
  }

  // Silu: sigmoid within 2u, one product u, reference u: E = 4.1u|want|.
  it('pimc.Silu', () => {
    fc.assert(fc.property(shapeArb, ({ shape, seed }) => {
      const r = runOpOnNpu('Silu', 'pimc', [uniform(shape, seed, -8, 8)]);
      expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(r.want[0]!.data[i]!, 4.1 * U * Math.abs(r.want[0]!.data[i]!)), 'Silu');
    }), { seed: 32, numRuns: 3 });
  });

  // SwiGLU: sigmoid 2u, two products 2u, reference u: E = 5.1u|want|.
  it('pimc.SwiGLU', () => {
    fc.assert(fc.property(shapeArb, ({ shape, seed }) => {
      const r = runOpOnNpu('SwiGLU', 'pimc', [uniform(shape, seed, -6, 6), uniform(shape, seed + 1, -3, 3)]);
      expectWithin(r.got[0]!, r.want[0]!, (i) => f16Bound(r.want[0]!.data[i]!, 5.1 * U * Math.abs(r.want[0]!.data[i]!)), 'SwiGLU');
    }), { seed: 33, numRuns: 3 });
  });
});
