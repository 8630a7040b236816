// The bound registry itself: every NPU lowering has a bound, the errors
// name the op, and worstBoundRatio follows harness.ts worstError. The bounds'
// values are exercised by the lowerings' tests (backends/npu/lower/**).

import { describe, expect, it } from 'vitest';
import { Op, Value } from '../../../ir/graph.js';
import { Tensor } from '../../../ir/tensor.js';
import { worstError } from '../lower/harness.js';
import { loweredOpTypes } from '../lower/index.js';
import { runBounded, uniform } from '../lower/misc/testing.js';
import { boundedOpTypes, npuBound, worstBoundRatio } from './index.js';

describe('NPU error bound registry', () => {
  it('covers exactly the op types the NPU lowers', () => {
    expect(boundedOpTypes()).toEqual(loweredOpTypes());
  });

  it('an op without a bound is an internal error naming its type', () => {
    const op = new Op({ name: 'c', type: 'Conv', inputs: [], outputs: [new Value('y')] });
    expect(() => npuBound(op, [], [Tensor.scalar('f32', 0)])).toThrow(/internal: no NPU error bound for Conv \(op "c"\)/);
  });

  it('a rounded bound refuses a non-f32 float output; exact ones and Cast do not', () => {
    const h = (t: Tensor) => Tensor.from('f16', t.shape, t.data);
    expect(() => runBounded('Add', '', [h(uniform([3, 5], 1)), h(uniform([5], 2))])).toThrow(/no NPU error bound for Add .* f16 output 0: .*f32 reference/);
    expect(runBounded('Transpose', '', [h(uniform([3, 5], 3))]).bound(0, 0)).toBe(0);
    const c = runBounded('Cast', '', [Tensor.from('i64', [2], [2049, 3])], { to: 10 });
    expect(c.bound(0, 0)).toBeGreaterThan(0);
    expect([...c.got[0]!.data]).toEqual([...c.want[0]!.data]);
  });

  it('asks for an output the op has', () => {
    const r = runBounded('Add', '', [uniform([4], 1), uniform([4], 2)]);
    expect(() => r.bound(1, 0)).toThrow(/Add .* has no output 1/);
  });

  it('worstBoundRatio: the worst element over all outputs, by worstError\'s rules', () => {
    const r = runBounded('Mul', '', [uniform([6, 7], 3), uniform([7], 4)]);
    const ok = worstBoundRatio(r.op, r.stored, r.got, r.want);
    expect(ok.ratio).toBe(worstError(r.got[0]!, r.want[0]!, (i) => r.bound(0, i)).ratio);
    expect(ok.ratio).toBeLessThanOrEqual(1);
    const bad = Tensor.from('f32', r.got[0]!.shape, r.got[0]!.data);
    bad.data[17] = r.want[0]!.data[17]! + 3 * r.bound(0, 17);
    const w = worstBoundRatio(r.op, r.stored, [bad], r.want);
    expect(w).toMatchObject({ output: 0, index: 17 });
    expect(w.ratio).toBeCloseTo(3, 3); // the planted value is rounded to f32
    bad.data[17] = NaN;
    expect(worstBoundRatio(r.op, r.stored, [bad], r.want)).toMatchObject({ index: 17, ratio: Infinity });
    // An exact op: any difference is Infinity; equal (NaN on both sides included) is index -1.
    const t = runBounded('Transpose', '', [uniform([3, 4], 5)]);
    expect(worstBoundRatio(t.op, t.stored, t.got, t.want)).toMatchObject({ index: -1, ratio: 0 });
    const off = Tensor.from('f32', t.got[0]!.shape, t.got[0]!.data);
    off.data[5] = off.data[5]! + 2 ** -10;
    expect(worstBoundRatio(t.op, t.stored, [off], t.want)).toMatchObject({ index: 5, ratio: Infinity });
  });
});
