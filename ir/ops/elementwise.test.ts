// What the ONNX node tests do not cover for the elementwise, cast, generate and
// select ops: Gelu (no node test at opset <= 17), Erf accuracy, symbolic shape
// inference, Trilu with k on 3-D input, Cast of wide integers and double
// rounding, Clip with one bound and its opset-6 attribute form.

import { describe, expect, it } from 'vitest';
import { inferShapes } from '../../compiler/passes/infer-shapes.js';
import { runGraph } from '../../compiler/reference/interpreter.js';
import { isPimcError } from '../diagnostics.js';
import { type DType } from '../dtype.js';
import { ConstantData, Graph, Op, Value, type AttrValue } from '../graph.js';
import { Attrs, lookupOp, type RunContext } from '../registry.js';
import { Tensor } from '../tensor.js';
import type { Dim, TensorType } from '../types.js';
import { erf } from './unary.js';
import { rangeLengthDim } from './generate.js';
import './index.js';

// ---- helpers ---------------------------------------------------------------

type AttrMap = Record<string, AttrValue>;

/** Runs one op's reference semantics directly through the registry. */
function run(type: string, inputs: (Tensor | null)[], attrs: AttrMap = {}, opset = 23): Tensor[] {
  const def = lookupOp('', type)!;
  const op = new Op({ name: 'n', type, inputs: [], outputs: [], attrs: new Map(Object.entries(attrs)) });
  const ctx: RunContext = { op, attrs: new Attrs(op, def.attrs), opset, error: (m) => { throw new Error(m); } };
  return def.run(ctx, inputs);
}

const f32 = (values: number[], shape = [values.length]) => Tensor.from('f32', shape, values);
const int = (i: number): AttrValue => ({ kind: 'int', value: i });
const str = (s: string): AttrValue => ({ kind: 'string', value: s });

/** A graph under construction: inputs by type, constants by tensor, then ops. */
class Builder {
  readonly g = new Graph('t', new Map([['', 23]]));
  private n = 0;

  input(type: TensorType): Value {
    return this.g.addInput(new Value(`in${this.n++}`, type));
  }

  constant(t: Tensor): Value {
    return this.g.addConstant(new Value(`c${this.n++}`), ConstantData.of(t));
  }

  op(type: string, inputs: (Value | null)[], attrs: AttrMap = {}): Value {
    const out = new Value(`v${this.n++}`);
    this.g.addOp(new Op({ name: `${type}_${this.n}`, type, inputs, outputs: [out], attrs: new Map(Object.entries(attrs)) }));
    return out;
  }

  /** Infers the whole graph and returns the type of `v`. */
  typeOf(v: Value): TensorType {
    inferShapes(this.g);
    return v.type!;
  }
}

/** The scalar value of one dim of x (Shape with start/end, reshaped to a scalar). */
function dimScalar(b: Builder, x: Value, axis: number): Value {
  const s = b.op('Shape', [x], { start: int(axis), end: int(axis + 1) });
  return b.op('Reshape', [s, b.constant(Tensor.vector('i64', []))]);
}

// ---- an independent erf for reference ------------------------------------------

/**
 * erf by the alternating Maclaurin series for |x| < 3.5 (cancellation costs at
 * most ~1e-12 there) and by the asymptotic expansion of erfc beyond (its
 * smallest term is below 1e-11 of erfc(3.5) ~ 7e-7).
 */
function erfReference(x: number): number {
  const a = Math.abs(x);
  if (a < 3.5) {
    let term = x; // (-1)^n x^(2n+1) / n!
    let sum = x;
    for (let n = 1; n < 300; n++) {
      term *= (-x * x) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-18 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) ~ exp(-a^2) / (a sqrt(pi)) * sum_n (-1)^n (2n-1)!! / (2a^2)^n, stopped at the smallest term
  let term = 1;
  let sum = 1;
  for (let n = 1; n < 200; n++) {
    const next = (term * -(2 * n - 1)) / (2 * a * a);
    if (Math.abs(next) >= Math.abs(term)) break;
    term = next;
    sum += term;
  }
  const erfc = (Math.exp(-a * a) / (a * Math.sqrt(Math.PI))) * sum;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

/** Distance between adjacent float32 values around v. */
function ulp32(v: number): number {
  const a = Math.abs(Math.fround(v));
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

// ---- tests --------------------------------------------------------------------------

describe('Erf', () => {
  const grid: number[] = [];
  for (let x = -7; x <= 7; x += 0.0007) grid.push(x);
  grid.push(0, -0, 1e-30, -1e-20, 1e-8, 3.5, -3.5, 2.5, 2.5 - 1e-15, 6, 5.95, 30);

  it('matches an independent series/asymptotic reference to 1e-11 in doubles', () => {
    let worst = 0;
    for (const x of grid) {
      const ref = erfReference(x);
      const err = Math.abs(erf(x) - ref) / Math.max(Math.abs(ref), 1e-300);
      worst = Math.max(worst, err);
    }
    expect(worst).toBeLessThan(1e-11);
  });

  it('rounds to the nearest float32 (within half an ulp plus the reference error)', () => {
    const x = f32(grid);
    const y = run('Erf', [x])[0]!;
    for (let i = 0; i < x.size; i++) {
      const ref = erfReference(x.at(i));
      expect(Math.abs(y.at(i) - ref)).toBeLessThanOrEqual(0.5 * ulp32(ref) + 1e-11 * Math.abs(ref));
    }
  });

  it('handles the special values', () => {
    const y = run('Erf', [f32([Infinity, -Infinity, NaN, 0, -0])])[0]!;
    expect(Array.from(y.data)).toEqual([1, -1, NaN, 0, -0]);
  });
});

describe('Gelu', () => {
  const xs = Array.from({ length: 161 }, (_, i) => -8 + i * 0.1);

  // The formula in doubles is good to ~1e-12 absolute (1 + erf cancels for x << 0,
  // where the op uses erfc instead), so the bound is an ulp plus that.
  it('exact form: 0.5 x (1 + erf(x / sqrt 2))', () => {
    const y = run('Gelu', [f32(xs)])[0]!;
    const x = f32(xs).data;
    for (let i = 0; i < xs.length; i++) {
      const ref = 0.5 * x[i]! * (1 + erfReference(x[i]! / Math.SQRT2));
      expect(Math.abs(y.at(i) - ref)).toBeLessThanOrEqual(ulp32(ref) + 1e-11);
    }
  });

  it('tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))', () => {
    const y = run('Gelu', [f32(xs)], { approximate: str('tanh') })[0]!;
    const x = f32(xs).data;
    for (let i = 0; i < xs.length; i++) {
      const v = x[i]!;
      const ref = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      expect(Math.abs(y.at(i) - ref)).toBeLessThanOrEqual(ulp32(ref) + 1e-30);
    }
    // the two forms are close but not the same
    const exact = run('Gelu', [f32([1])])[0]!.at(0);
    const approx = run('Gelu', [f32([1])], { approximate: str('tanh') })[0]!.at(0);
    expect(exact).not.toBe(approx);
    expect(Math.abs(exact - approx)).toBeLessThan(1e-3);
  });

  it('rejects an unknown approximate mode', () => {
    expect(() => run('Gelu', [f32([1])], { approximate: str('fast') })).toThrow(/PIMC0206.*approximate/);
  });
});

describe('integer unary ops', () => {
  it('Neg wraps in int8 and is exact in int64', () => {
    expect(Array.from(run('Neg', [Tensor.vector('i8', [-128, 127, 0])])[0]!.data)).toEqual([-128, -127, 0]);
    expect(run('Neg', [Tensor.vector('i64', [2 ** 40 + 1])])[0]!.at(0)).toBe(-(2 ** 40 + 1));
  });

  it('Relu works on int32', () => {
    const y = run('Relu', [Tensor.vector('i32', [-5, 0, 7])])[0]!;
    expect(y.dtype).toBe('i32');
    expect(Array.from(y.data)).toEqual([0, 0, 7]);
  });

  it('float-only ops refuse integers at inference', () => {
    const b = new Builder();
    const y = b.op('Sqrt', [b.input({ dtype: 'i32', shape: [2] })]);
    expect(() => b.typeOf(y)).toThrow(/PIMC0402.*Sqrt does not take i32/);
  });
});

describe('Cast', () => {
  const cast = (x: Tensor, to: number) => run('Cast', [x], { to: int(to) })[0]!;
  const big = [2 ** 31 + 5, -(2 ** 33) + 1, 2 ** 53, -1];

  it('converts int64 values beyond 2^31', () => {
    const x = Tensor.vector('i64', big);
    expect(Array.from(cast(x, 11).data)).toEqual(big); // DOUBLE: exact
    expect(Array.from(cast(x, 1).data)).toEqual(big.map(Math.fround)); // FLOAT: nearest
    // INT32 keeps the low 32 bits, as C and numpy do
    expect(Array.from(cast(x, 6).data)).toEqual([-(2 ** 31) + 5, 1, 0, -1]);
    // UINT64 reinterprets the bits: -1 is 2^64 - 1 (its nearest double is 2^64)
    expect(cast(x, 13).at(3)).toBe(2 ** 64);
    expect(cast(Tensor.vector('f64', [3e9, -3.7, 2.9]), 7).toArray()).toEqual([3e9, -3, 2]);
  });

  it('truncates toward zero, and NaN is true as a bool', () => {
    expect(cast(f32([-2.7, 2.7, -0.5]), 6).toArray()).toEqual([-2, 2, 0]);
    expect(cast(f32([0, -0, NaN, 0.1]), 9).toArray()).toEqual([0, 0, 1, 1]);
  });

  it('rounds a double to f16/bf16 once (no double rounding through float32)', () => {
    // Just above the midpoint between 1 and the next f16 (1 + 2^-10): rounds up.
    // Through float32 it would first become the exact midpoint, then round to even (1).
    const x16 = 1 + 2 ** -11 + 2 ** -40;
    expect(cast(Tensor.vector('f64', [x16]), 10).at(0)).toBe(1 + 2 ** -10);
    const x8 = 1 + 2 ** -8 + 2 ** -40;
    expect(cast(Tensor.vector('f64', [x8]), 16).at(0)).toBe(1 + 2 ** -7);
    // ties to even, overflow to infinity, subnormals
    expect(cast(f32([1 + 2 ** -11, 65520, 65519, 2 ** -25 * 3]), 10).toArray()).toEqual([1, Infinity, 65504, 2 ** -23]);
    expect(cast(f32([1 + 3 * 2 ** -8, -3.4e38]), 16).toArray()).toEqual([1 + 2 ** -6, -Infinity]);
  });

  it('gives a coded error for element types pimc does not have', () => {
    const b = new Builder();
    const y = b.op('Cast', [b.input({ dtype: 'f32', shape: [2] })], { to: int(8) });
    try {
      b.typeOf(y);
      expect.unreachable();
    } catch (e) {
      expect(isPimcError(e) && e.code).toBe('PIMC0205');
      expect((e as Error).message).toMatch(/STRING/);
    }
  });

  it('passes symbolic shape values through Cast, CastLike and Identity', () => {
    const b = new Builder();
    const x = b.input({ dtype: 'f32', shape: ['batch', 'seq'] });
    const s32 = b.op('Cast', [b.op('Shape', [x])], { to: int(6) });
    const s64 = b.op('CastLike', [b.op('Identity', [s32]), b.constant(Tensor.vector('i64', [0]))]);
    const y = b.op('ConstantOfShape', [s64]);
    expect(b.typeOf(y)).toEqual({ dtype: 'f32', shape: ['batch', 'seq'] });
  });
});

describe('Clip', () => {
  const x = f32([-2, -0.5, 0.25, 1, NaN]);

  it('with only max given clips from above only', () => {
    const y = run('Clip', [x, null, Tensor.scalar('f32', 0.5)])[0]!;
    expect(Array.from(y.data)).toEqual([-2, -0.5, 0.25, 0.5, NaN]);
  });

  it('integer bounds default to the whole range', () => {
    const y = run('Clip', [Tensor.vector('i8', [-128, 5, 127]), Tensor.scalar('i8', 0)])[0]!;
    expect(Array.from(y.data)).toEqual([0, 5, 127]);
  });

  it('moves opset-6 min/max attributes to inputs at import', () => {
    const g = new Graph('t', new Map([['', 6]]));
    const xin = g.addInput(new Value('x', { dtype: 'f32', shape: [5] }));
    const out = new Value('y');
    const op = new Op({ name: 'clip', type: 'Clip', inputs: [xin], outputs: [out], attrs: new Map([['max', { kind: 'float', value: 0.5 }]]) });
    g.addOp(op);
    g.outputs.push(out);
    lookupOp('', 'Clip')!.canonicalize!({
      op,
      opset: 6,
      constant: (base, t) => g.addConstant(g.newValue(base), ConstantData.of(t)),
      error: (m) => { throw new Error(m); },
    });
    expect(op.attrs.size).toBe(0);
    expect(op.inputs.map((v) => v && v.name)).toEqual(['x', null, 'max']);
    inferShapes(g);
    const y = runGraph(g, { x }).outputs.get('y')!;
    expect(Array.from(y.data)).toEqual([-2, -0.5, 0.25, 0.5, NaN]);
  });
});

describe('Max, Min, Equal, Where', () => {
  it('propagate NaN like numpy, whichever side it is on', () => {
    const a = f32([NaN, 1, 2]);
    const b = f32([1, NaN, 3]);
    expect(Array.from(run('Max', [a, b])[0]!.data)).toEqual([NaN, NaN, 3]);
    expect(Array.from(run('Min', [b, a])[0]!.data)).toEqual([NaN, NaN, 2]);
  });

  it('work on uint64 beyond 2^53 and broadcast three inputs', () => {
    const a = Tensor.vector('u64', [2 ** 60, 1]);
    const b = Tensor.scalar('u64', 2 ** 61);
    const c = Tensor.from('u64', [2, 1], [0, 5]);
    const y = run('Max', [a, b, c])[0]!;
    expect(y.shape).toEqual([2, 2]);
    expect(Array.from(y.data)).toEqual([2 ** 61, 2 ** 61, 2 ** 61, 2 ** 61]);
    expect(Array.from(run('Min', [a, c])[0]!.data)).toEqual([0, 0, 5, 1]);
  });

  it('Equal compares bools and gives bool', () => {
    const y = run('Equal', [Tensor.vector('bool', [1, 0, 1]), Tensor.scalar('bool', 1)])[0]!;
    expect(y.dtype).toBe('bool');
    expect(Array.from(y.data)).toEqual([1, 0, 1]);
  });

  it('Where broadcasts [batch, 1, seq] with [1, heads, 1] symbolically', () => {
    const b = new Builder();
    const cond = b.input({ dtype: 'bool', shape: ['batch', 1, 'seq'] });
    const x = b.input({ dtype: 'f32', shape: [1, 'heads', 1] });
    const y = b.input({ dtype: 'f32', shape: [] });
    expect(b.typeOf(b.op('Where', [cond, x, y]))).toEqual({ dtype: 'f32', shape: ['batch', 'heads', 'seq'] });
  });

  it('Where selects with broadcasting at run time', () => {
    const cond = Tensor.from('bool', [2, 1], [1, 0]);
    const y = run('Where', [cond, f32([1, 2, 3]), Tensor.scalar('f32', -1)])[0]!;
    expect(y.shape).toEqual([2, 3]);
    expect(Array.from(y.data)).toEqual([1, 2, 3, -1, -1, -1]);
  });

  it('Max and Min of shape vectors stay symbolic where the elements agree', () => {
    const b = new Builder();
    const s4 = b.op('Shape', [b.input({ dtype: 'f32', shape: ['batch', 4] })]);
    const s6 = b.op('Shape', [b.input({ dtype: 'f32', shape: ['batch', 6] })]);
    expect(b.typeOf(b.op('ConstantOfShape', [b.op('Max', [s4, s6])])).shape).toEqual(['batch', 6]);
    expect(b.typeOf(b.op('ConstantOfShape', [b.op('Min', [s4, s6])])).shape).toEqual(['batch', 4]);
    // batch against 1 cannot be decided, so the sizes are unknown (fresh symbols)
    const m = b.op('Max', [s4, b.constant(Tensor.vector('i64', [1]))]);
    const t = b.typeOf(b.op('ConstantOfShape', [m]));
    expect(t.shape.length).toBe(2);
    expect(t.shape.every((d) => typeof d === 'string' && d.startsWith('unk'))).toBe(true);
  });
});

describe('Range', () => {
  it('gives symbolic lengths from dim expressions', () => {
    expect(rangeLengthDim(0, 'seq', 1)).toBe('seq');
    expect(rangeLengthDim('past', 'past + seq', 1)).toBe('seq');
    expect(rangeLengthDim('past + seq', 'past', -1)).toBe('seq');
    expect(rangeLengthDim(0, '2*seq', 2)).toBe('seq');
    expect(rangeLengthDim(0, 'seq', 2)).toBeUndefined(); // ceil(seq / 2) is not a dim expression
    expect(rangeLengthDim(3, 10, 3)).toBe(3);
    expect(rangeLengthDim(10, 3, 1)).toBe(0);
  });

  it('infers position ids of length seq from a shape subgraph', () => {
    const b = new Builder();
    const x = b.input({ dtype: 'f32', shape: ['batch', 'seq'] });
    const r = b.op('Range', [b.constant(Tensor.scalar('i64', 0)), dimScalar(b, x, 1), b.constant(Tensor.scalar('i64', 1))]);
    expect(b.typeOf(r)).toEqual({ dtype: 'i64', shape: ['seq'] });
  });

  it('infers length seq for Range(past, past + seq)', () => {
    const b = new Builder();
    const kv = b.input({ dtype: 'f32', shape: ['batch', 'past'] });
    const all = b.input({ dtype: 'f32', shape: ['batch', 'past + seq'] });
    const r = b.op('Range', [dimScalar(b, kv, 1), dimScalar(b, all, 1), b.constant(Tensor.scalar('i64', 1))]);
    expect(b.typeOf(r).shape).toEqual(['seq']);
  });

  it('gives an unknown dim when the inputs are not known', () => {
    const b = new Builder();
    const s = b.input({ dtype: 'f32', shape: [] });
    const r = b.op('Range', [s, s, s]);
    const [d] = b.typeOf(r).shape as [Dim];
    expect(typeof d).toBe('string');
  });

  it('runs with float and negative integer steps', () => {
    expect(run('Range', [Tensor.scalar('f32', 0), Tensor.scalar('f32', 1), Tensor.scalar('f32', 0.3)])[0]!.toArray())
      .toEqual([0, 1, 2, 3].map((i) => Math.fround(i * Math.fround(0.3))));
    expect(run('Range', [Tensor.scalar('i32', 10), Tensor.scalar('i32', 4), Tensor.scalar('i32', -3)])[0]!.toArray()).toEqual([10, 7]);
  });
});

describe('Trilu', () => {
  const shape = [2, 3, 4];
  const x = Tensor.from('f32', shape, Array.from({ length: 24 }, (_, i) => i + 1));
  const k = (v: number) => Tensor.scalar('i64', v);

  it('keeps j - i >= k (upper) on every matrix of a 3-D input', () => {
    const y = run('Trilu', [x, k(1)])[0]!;
    expect(y.toArray()).toEqual([
      0, 2, 3, 4, /**/ 0, 0, 7, 8, /**/ 0, 0, 0, 12,
      0, 14, 15, 16, /**/ 0, 0, 19, 20, /**/ 0, 0, 0, 24,
    ]);
  });

  it('keeps j - i <= k (lower) with negative k', () => {
    const y = run('Trilu', [x, k(-1)], { upper: int(0) })[0]!;
    expect(y.toArray()).toEqual([
      0, 0, 0, 0, /**/ 5, 0, 0, 0, /**/ 9, 10, 0, 0,
      0, 0, 0, 0, /**/ 17, 0, 0, 0, /**/ 21, 22, 0, 0,
    ]);
  });

  it('k beyond the matrix keeps all or nothing; default k is 0', () => {
    expect(run('Trilu', [x, k(-10)])[0]!.toArray()).toEqual(x.toArray());
    expect(run('Trilu', [x, k(10)])[0]!.toArray().every((v) => v === 0)).toBe(true);
    expect(run('Trilu', [x])[0]!.at(4)).toBe(0); // row 1, col 0 is below the diagonal
    expect(run('Trilu', [x])[0]!.at(5)).toBe(6);
  });
});

describe('ConstantOfShape', () => {
  it('defaults to f32 zeros and takes a typed value', () => {
    const shape = Tensor.vector('i64', [2, 2]);
    const z = run('ConstantOfShape', [shape])[0]!;
    expect(z.dtype).toBe('f32');
    expect(z.toArray()).toEqual([0, 0, 0, 0]);
    const ones = run('ConstantOfShape', [shape], { value: { kind: 'tensor', value: Tensor.vector('i32', [1]) } })[0]!;
    expect(ones.dtype).toBe('i32');
    expect(ones.toArray()).toEqual([1, 1, 1, 1]);
  });

  it('infers symbolic and unknown dims', () => {
    const b = new Builder();
    const x = b.input({ dtype: 'f32', shape: ['batch', 'seq', 8] });
    expect(b.typeOf(b.op('ConstantOfShape', [b.op('Shape', [x])])).shape).toEqual(['batch', 'seq', 8]);
    const free = b.input({ dtype: 'i64', shape: [2] });
    const t = b.typeOf(b.op('ConstantOfShape', [free]));
    expect(t.shape.length).toBe(2);
    expect(t.shape.every((d) => typeof d === 'string')).toBe(true);
  });
});

describe('every op here has a consistent registry entry', () => {
  const mine = ['Sqrt', 'Reciprocal', 'Neg', 'Exp', 'Log', 'Erf', 'Tanh', 'Sigmoid', 'Relu', 'Cos', 'Sin', 'Gelu',
    'Equal', 'Where', 'Max', 'Min', 'Clip', 'Cast', 'CastLike', 'ConstantOfShape', 'Range', 'Trilu', 'Identity'];
  for (const type of mine) {
    it(type, () => {
      const d = lookupOp('', type)!;
      expect(d).toBeDefined();
      expect(d.opsets[1]).toBe(23);
      expect(d.summary.length).toBeGreaterThan(5);
      expect(d.example).toMatch(new RegExp(`= ${type}\\(`));
      // cost over a concrete [2, 3] f32 call: every op reads and writes something
      const t = { dtype: 'f32' as DType, shape: [2, 3] };
      const op = new Op({ name: 'n', type, inputs: [], outputs: [] });
      const c = d.cost({ op, attrs: new Attrs(op, d.attrs), inputs: [t, t], outputs: [t] });
      expect(c.bytes).toBeGreaterThan(0);
      expect(c.flops).toBeGreaterThanOrEqual(0);
    });
  }
});
