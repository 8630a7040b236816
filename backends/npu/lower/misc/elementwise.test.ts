// Element-wise lowerings against the reference on random broadcasting shapes
// (fast-check, fixed seeds). Bounds: backends/npu/bounds/elementwise.ts
// (f16Bound(want, E), E derived per op there; select.ts for Clip): one fp32
// op E = 0; transcendentals (and Pow) E = 3u|want|; max/min/neg/relu/clip
// exact; Gelu per element; Silu 4.1u|want|; SwiGLU 5.1u|want|. Exact ops are
// also checked bit for bit (expectExact).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../../../ir/tensor.js';
import { lowerOneOp } from '../harness.js';
import { expectBound, expectExact, runBounded, uniform, type Bounded } from './testing.js';

/** Exact: within the registry's bound (0) and bit for bit. */
const exact = (r: Bounded, what: string) => { expectBound(r, what); expectExact(r.got[0]!, r.want[0]!, what); };

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
        const r = runBounded(type, '', [signed(a, seed), signed(b, seed + 1)]);
        expectBound(r, type);
      }), RUNS);
    });
  }

  for (const type of ['Max', 'Min']) {
    it(`${type} of three inputs is exact`, () => {
      fc.assert(fc.property(broadcastPair, ({ a, b, seed }) => {
        const r = runBounded(type, '', [signed(a, seed), signed(b, seed + 1), signed([a[a.length - 1]!], seed + 2)]);
        exact(r, type);
      }), RUNS);
    });
  }

  it('Pow: tensor exponent, and a constant scalar exponent as an immediate (E = 3u|want|)', () => {
    fc.assert(fc.property(broadcastPair, ({ a, b, seed }) => {
      const base = uniform(a, seed, 0.2, 3);
      const r = runBounded('Pow', '', [base, uniform(b, seed + 1, -2, 2)]);
      expectBound(r, 'Pow');
      const c = runBounded('Pow', '', [base, Tensor.scalar('i64', 2)], {}, { consts: [1] });
      expect(c.program.engines.flat().some((x) => x.op === 'vec.scalar' && x.fn === 'pows')).toBe(true);
      expectBound(c, 'Pow const');
    }), { ...RUNS, numRuns: 2 });
  });

  it('a big add runs double-buffered tiles on all 8 engines', () => {
    const r = runBounded('Add', '', [signed([300, 1000], 1), signed([1000], 2)]);
    expectBound(r, 'big Add');
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
        const r = runBounded(type, '', [data(shape, seed)]);
        if (kind === 'exact') exact(r, type);
        else expectBound(r, type);
      }), { seed: 77, numRuns: 2 });
    });
  }

  it('Clip with scalar bounds (one or both) is exact', () => {
    const x = signed([7, 33], 5);
    for (const bounds of [[Tensor.scalar('f32', -0.5), Tensor.scalar('f32', 1.25)], [Tensor.scalar('f32', 0)], [null, Tensor.scalar('f32', 0.75)]]) {
      const r = runBounded('Clip', '', [x, ...bounds]);
      exact(r, 'Clip');
    }
  });
});

describe('activations', () => {
  const cases: [string, string, string][] = [['Gelu', '', 'none'], ['Gelu', '', 'tanh'], ['Gelu', 'pimc', 'none'], ['Gelu', 'pimc', 'tanh']];
  for (const [type, domain, approximate] of cases) {
    it(`${domain || 'onnx'}.${type} approximate=${approximate}`, () => {
      fc.assert(fc.property(shapeArb, ({ shape, seed }) => {
        const x = uniform(shape, seed, -6, 6);
        const r = runBounded(type, domain, [x], { approximate });
        expectBound(r, `${type} ${approximate}`);
      }), { seed: 31, numRuns: 3 });
    });
  }

  it('pimc.Silu', () => {
    fc.assert(fc.property(shapeArb, ({ shape, seed }) => {
      const r = runBounded('Silu', 'pimc', [uniform(shape, seed, -8, 8)]);
      expectBound(r, 'Silu');
    }), { seed: 32, numRuns: 3 });
  });

  it('pimc.SwiGLU', () => {
    fc.assert(fc.property(shapeArb, ({ shape, seed }) => {
      const r = runBounded('SwiGLU', 'pimc', [uniform(shape, seed, -6, 6), uniform(shape, seed + 1, -3, 3)]);
      expectBound(r, 'SwiGLU');
    }), { seed: 33, numRuns: 3 });
  });
});
