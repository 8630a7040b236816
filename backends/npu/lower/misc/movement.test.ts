// Data movement, gather, select and cast: all exact (bit-for-bit the
// reference's values), except Cast to a float type, which rounds once to f16
// storage. Bounds: backends/npu/bounds/{movement,select}.ts (0, or f16Bound
// with E = 0); every run is checked against them and, where exact, bit for
// bit.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tensor, sizeOf } from '../../../../ir/tensor.js';
import { expectBound, expectExact, ints, runBounded, runMulti, uniform, type Bounded } from './testing.js';

const shapeArb = (maxRank: number, maxDim: number) => fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 1, maxLength: maxRank }).filter((s) => sizeOf(s) <= 20000);
const seedArb = fc.integer({ min: 1, max: 1 << 30 });
const RUNS = { seed: 1234, numRuns: 5 };

/** Within the registry's bound (0 for these ops) and bit for bit. */
const same = (r: Bounded, what: string) => {
  expectBound(r, what);
  r.got.forEach((g, k) => expectExact(g, r.want[k]!, `${what} output ${k}`));
};

describe('movement', () => {
  it('Transpose with random permutations', () => {
    const arb = fc.record({ shape: shapeArb(4, 17), seed: seedArb, keys: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }) });
    fc.assert(fc.property(arb, ({ shape, seed, keys }) => {
      const perm = shape.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
      same(runBounded('Transpose', '', [uniform(shape, seed)], { perm }), `Transpose [${shape}] ${perm}`);
    }), RUNS);
  });

  it('Reshape, Squeeze, Unsqueeze, Flatten, Identity copy the bytes', () => {
    const x = uniform([3, 1, 40, 7], 2);
    same(runBounded('Reshape', '', [x, Tensor.vector('i64', [3, -1, 7])], {}, { consts: [1] }), 'Reshape');
    same(runBounded('Squeeze', '', [x, Tensor.vector('i64', [1])], {}, { consts: [1] }), 'Squeeze');
    same(runBounded('Unsqueeze', '', [x, Tensor.vector('i64', [0, 5])], {}, { consts: [1] }), 'Unsqueeze');
    same(runBounded('Flatten', '', [x], { axis: 2 }), 'Flatten');
    same(runBounded('Identity', '', [ints([5, 9], 3, 1000, 'i64')]), 'Identity i64');
  });

  it('Concat of three parts along a random axis (and KvAppend)', () => {
    fc.assert(fc.property(shapeArb(3, 13), fc.integer({ min: 0, max: 2 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 3, maxLength: 3 }), seedArb, (shape, a, sizes, seed) => {
      const axis = a % shape.length;
      const parts = sizes.map((k, i) => uniform(shape.map((d, j) => (j === axis ? k : d)), seed + i));
      same(runBounded('Concat', '', parts, { axis }), `Concat axis ${axis}`);
    }), RUNS);
    same(runBounded('KvAppend', 'pimc', [uniform([2, 4, 9, 16], 1), uniform([2, 4, 1, 16], 2)], { axis: 2 }), 'KvAppend');
    // the first step of generation: an empty past cache
    same(runBounded('KvAppend', 'pimc', [uniform([1, 4, 0, 16], 1), uniform([1, 4, 3, 16], 2)], { axis: 2 }), 'KvAppend after an empty past');
  });

  it('Split into three outputs', () => {
    const x = uniform([6, 17, 5], 3);
    same(runMulti('Split', '', [x, Tensor.vector('i64', [4, 1, 12])], { axis: 1 }, 3, [1]), 'Split');
    same(runMulti('Split', '', [x], { axis: 0, num_outputs: 3 }, 3), 'Split equal');
  });

  it('Slice with random starts, ends and steps (negative ones too)', () => {
    const arb = fc.record({
      shape: shapeArb(3, 21),
      seed: seedArb,
      bounds: fc.array(fc.tuple(fc.integer({ min: -25, max: 25 }), fc.integer({ min: -25, max: 25 }), fc.integer({ min: -3, max: 3 }).filter((s) => s !== 0)), { minLength: 3, maxLength: 3 }),
    });
    fc.assert(fc.property(arb, ({ shape, seed, bounds }) => {
      const b = bounds.slice(0, shape.length);
      const c = (k: number) => Tensor.vector('i64', b.map((t) => t[k]!));
      const axes = Tensor.vector('i64', b.map((_, i) => i));
      const r = runBounded('Slice', '', [uniform(shape, seed), c(0), c(1), axes, c(2)], {}, { consts: [1, 2, 3, 4] });
      same(r, `Slice [${shape}] ${JSON.stringify(b)}`);
    }), { ...RUNS, numRuns: 8 });
  });

  it('Expand of f16 (vector-unit copy) and i64 (stride-0 DMA) data', () => {
    same(runBounded('Expand', '', [uniform([3, 1, 5], 4), Tensor.vector('i64', [2, 3, 4, 5])], {}, { consts: [1] }), 'Expand f16');
    same(runBounded('Expand', '', [ints([1, 6], 5, 99), Tensor.vector('i64', [7, 6])], {}, { consts: [1] }), 'Expand i64');
  });
});

describe('edge shapes', () => {
  it('0-D tensors, empty results and i32 data', () => {
    same(runBounded('Add', '', [Tensor.scalar('f32', 1.5), Tensor.scalar('f32', 2.25)]), 'scalar Add');
    same(runBounded('Softmax', '', [uniform([3, 1], 1)], { axis: 1 }), 'Softmax of one');
    const empty = runBounded('Slice', '', [uniform([4, 5], 2), Tensor.vector('i64', [3]), Tensor.vector('i64', [3])], {}, { consts: [1, 2] });
    expect(empty.got[0]!.shape).toEqual([0, 5]);
    expect(empty.program.engines.every((e) => e.length === 0)).toBe(true);
    same(runBounded('Gather', '', [ints([7, 3], 3, 1000, 'i64'), Tensor.vector('i64', [6, 0, 6])], { axis: 0 }), 'Gather i64 data');
    same(runBounded('Transpose', '', [ints([5, 3], 4, 1 << 30, 'i32')], { perm: [1, 0] }), 'Transpose i32');
  });
});

describe('gather', () => {
  it('embedding rows (axis 0) with i64 token ids, and other axes', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 200 }), shapeArb(2, 12), seedArb, (vocab, width, idShape, seed) => {
      same(runBounded('Gather', '', [uniform([vocab, width], seed), ints(idShape, seed + 1, vocab)], { axis: 0 }), 'Gather axis 0');
    }), RUNS);
    const ids = Tensor.from('i64', [2, 3], [5, 0, 9, 7, 7, 3]);
    same(runBounded('Gather', '', [uniform([4, 10, 6], 6), ids], { axis: 1 }), 'Gather axis 1');
    same(runBounded('Gather', '', [uniform([4, 10, 6], 6), Tensor.from('i64', [4], [5, 0, 2, 2])], { axis: 2 }), 'Gather axis 2');
    same(runBounded('Gather', '', [uniform([10, 6], 7), Tensor.scalar('i64', 4)], { axis: 0 }), 'Gather scalar index');
  });

  it('a long sequence of ids tiles over the engines', () => {
    const r = runBounded('Gather', '', [uniform([500, 256], 8), ints([1, 2000], 9, 500)], { axis: 0 });
    same(r, 'Gather 2000 ids');
    expect(r.program.engines.filter((e) => e.length).length).toBe(8);
  });

  it('a negative index is a simulator fault (PIMC1006): the NPU cannot add the axis size to it', () => {
    expect(() => runBounded('Gather', '', [uniform([10, 4], 1), Tensor.vector('i64', [1, -1])], { axis: 0 })).toThrow(/PIMC1006/);
  });
});

describe('select, compare and cast', () => {
  it('Where with a broadcast bool mask and a -inf fill is exact', () => {
    fc.assert(fc.property(shapeArb(3, 15), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), seedArb, (shape, mask, seed) => {
      const cshape = shape.map((d, i) => (mask[i] ? d : 1));
      const cond = ints(cshape, seed, 2, 'bool');
      same(runBounded('Where', '', [cond, uniform(shape, seed + 1), Tensor.scalar('f32', -Infinity)]), 'Where -inf');
      same(runBounded('Where', '', [cond, uniform([shape[shape.length - 1]!], seed + 2), uniform(shape, seed + 3)]), 'Where');
    }), RUNS);
  });

  it('Equal, Greater, Less give exact bools (ties included)', () => {
    const a = uniform([9, 14], 3);
    // Every other element of b equals a's.
    const b = Tensor.from('f32', [14], Array.from({ length: 14 }, (_, i) => (i % 2 ? a.data[i]! : (i - 7) / 4)));
    for (const type of ['Equal', 'Greater', 'Less']) {
      same(runBounded(type, '', [a, b]), type);
      same(runBounded(type, '', [b, a]), `${type} swapped`);
    }
  });

  it('Cast between float, integer and bool storage', () => {
    const f = Tensor.from('f32', [10], [0, 0.25, 1, 1.5, 2.999, 7, 1000.5, 2049, 65504, 3]);
    same(runBounded('Cast', '', [f], { to: 7 }), 'f32 -> i64 (floor of non-negative values)');
    same(runBounded('Cast', '', [f], { to: 6 }), 'f32 -> i32');
    same(runBounded('Cast', '', [Tensor.from('f32', [5], [0, -0.001, 3, -Infinity, 2 ** -24])], { to: 9 }), 'f32 -> bool');
    same(runBounded('Cast', '', [f], { to: 10 }), 'f32 -> f16');
    same(runBounded('Cast', '', [ints([3, 5], 4, 1 << 20, 'i64')], { to: 6 }), 'i64 -> i32');
    same(runBounded('Cast', '', [ints([3, 5], 5, 2, 'bool')], { to: 1 }), 'bool -> f32');
    same(runBounded('CastLike', '', [f, ints([1], 1, 5, 'i32')]), 'CastLike f32 -> i32');
    // int -> float rounds once to f16 storage (2049 -> 2048): E = 0.
    const r = runBounded('Cast', '', [Tensor.from('i64', [6], [0, 1, 7, 2049, 40000, 65504])], { to: 1 });
    expectBound(r, 'i64 -> f32');
  });
});
