// The PNM bound registry itself: every PNM lowering has a bound, the errors
// name the op, and worstPnmBoundRatio follows harness.ts worstError. The
// bounds' values are exercised by the lowerings' tests
// (backends/cxl-pnm/lower/*.test.ts).

import { describe, expect, it } from 'vitest';
import { Op, Value, type AttrValue } from '../../../ir/graph.js';
import { Tensor } from '../../../ir/tensor.js';
import { randomTensor, runPnmBounded, worstError } from '../lower/harness.js';
import { pnmLoweredOpTypes } from '../lower/index.js';
import { hasPnmBound, pnmBound, pnmBoundedOpTypes, worstPnmBoundRatio } from './index.js';

/** A bare op (no graph): the bounds read its type, attributes and output count only. */
const bare = (type: string, domain: string, attrs: Record<string, AttrValue> = {}) =>
  new Op({ name: 'b', type, domain, inputs: [], outputs: [new Value('y')], attrs: new Map(Object.entries(attrs)) });

describe('PNM error bound registry', () => {
  it('covers exactly the op types the PNM lowers', () => {
    expect(pnmBoundedOpTypes()).toEqual(pnmLoweredOpTypes());
    for (const k of pnmLoweredOpTypes()) {
      const [domain, type] = k.includes('::') ? k.split('::') as [string, string] : ['', k];
      expect(hasPnmBound(domain, type), k).toBe(true);
    }
    expect(hasPnmBound('ai.onnx', 'MatMul')).toBe(true);
    expect(hasPnmBound('', 'Sub')).toBe(false);
  });

  it('an op without a bound is an internal error naming its type', () => {
    expect(() => pnmBound(bare('Conv', ''), [], [Tensor.scalar('f32', 0)])).toThrow(/internal: no PNM error bound for Conv \(op "b"\)/);
    expect(() => pnmBound(bare('Sub', 'pimc'), [], [Tensor.scalar('f32', 0)])).toThrow(/internal: no PNM error bound for pimc::Sub \(op "b"\)/);
  });

  it('a rounded bound refuses a non-f32 float output; the exact KvAppend does not', () => {
    const h = (t: Tensor) => Tensor.from('f16', t.shape, t.data);
    expect(() => runPnmBounded('Add', '', [h(randomTensor([3, 5], 1)), h(randomTensor([5], 2))])).toThrow(/no PNM error bound for Add .* f16 output 0: .*f32 reference/);
    const kv = runPnmBounded('KvAppend', 'pimc', [h(randomTensor([1, 2, 3, 4], 3)), h(randomTensor([1, 2, 1, 4], 4))]);
    expect(kv.worst).toMatchObject({ index: -1, ratio: 0 });
    expect(pnmBound(kv.op, kv.stored, kv.want)(0, 5)).toBe(0);
  });

  it('cases the lowering refuses have no bound', () => {
    const f = (value: number): AttrValue => ({ kind: 'float', value });
    const str = (value: string): AttrValue => ({ kind: 'string', value });
    const [q, k] = [randomTensor([1, 2, 3, 8], 1), randomTensor([1, 2, 3, 8], 2)];
    expect(() => pnmBound(bare('Attention', 'pimc', { scale: f(0.5) }), [q, k, k], [randomTensor([1, 2, 3, 8], 3)])).toThrow(/no PNM error bound for pimc::Attention \(op "b"\) with 3 query rows/);
    const q1 = randomTensor([1, 2, 1, 8], 4), bool = Tensor.from('bool', [1, 1, 1, 3], [1, 0, 1]);
    expect(() => pnmBound(bare('Attention', 'pimc', { scale: f(0.5), mask_mode: str('bool') }), [q1, k, k, bool], [randomTensor([1, 2, 1, 8], 5)])).toThrow(/pimc::Attention .* mask_mode "bool": the PNM does not lower it/);
    expect(() => pnmBound(bare('Gelu', '', { approximate: str('fast') }), [q1], [q1])).toThrow(/Gelu .* approximate "fast"/);
    const ln = new Op({ name: 'b', type: 'LayerNormalization', inputs: [], outputs: [new Value('y'), new Value('mean')] });
    expect(() => pnmBound(ln, [q1, randomTensor([8], 6)], [q1, q1])).toThrow(/LayerNormalization .* Mean \/ InvStdDev outputs/);
  });

  it('asks for an output the op has', () => {
    const r = runPnmBounded('Add', '', [randomTensor([4], 1), randomTensor([4], 2)]);
    expect(() => pnmBound(r.op, r.stored, r.want)(1, 0)).toThrow(/Add .* has no output 1/);
  });

  it('Softmax reads the opset: before 13 the dims from axis on are the row', () => {
    const r = runPnmBounded('Softmax', '', [randomTensor([3, 4, 5], 9, -4, 4)], {}, { opset: 11 });
    const [legacy, modern] = [pnmBound(r.op, r.stored, r.want, 11), pnmBound(r.op, r.stored, r.want)];
    expect(r.worst.ratio).toBeLessThanOrEqual(1);
    expect(legacy(0, 0)).not.toBe(modern(0, 0)); // rows of 20 against rows of 5 (axis 1, then -1)
  });

  it('worstPnmBoundRatio: the worst element over all outputs, by worstError\'s rules', () => {
    const r = runPnmBounded('Gelu', 'pimc', [randomTensor([6, 7], 3, -4, 4)]);
    const bound = pnmBound(r.op, r.stored, r.want);
    const ok = worstPnmBoundRatio(r.op, r.stored, r.got, r.want);
    expect(ok).toEqual(r.worst);
    expect(ok.ratio).toBe(worstError(r.got[0]!, r.want[0]!, (i) => bound(0, i)).ratio);
    expect(ok.ratio).toBeLessThanOrEqual(1);
    const bad = Tensor.from('f32', r.got[0]!.shape, r.got[0]!.data);
    bad.data[17] = r.want[0]!.data[17]! + 3 * bound(0, 17);
    const w = worstPnmBoundRatio(r.op, r.stored, [bad], r.want);
    expect(w).toMatchObject({ output: 0, index: 17 });
    expect(w.ratio).toBeCloseTo(3, 3); // the planted value is rounded to f32
    bad.data[17] = NaN;
    expect(worstPnmBoundRatio(r.op, r.stored, [bad], r.want)).toMatchObject({ index: 17, ratio: Infinity });
    // An exact bound: any difference is Infinity; equal (NaN on both sides included) is index -1.
    const t = runPnmBounded('KvAppend', 'pimc', [randomTensor([2, 3], 5), randomTensor([2, 1], 6)], { axis: 1 });
    expect(worstPnmBoundRatio(t.op, t.stored, t.got, t.want)).toMatchObject({ index: -1, ratio: 0 });
    const off = Tensor.from('f32', t.got[0]!.shape, t.got[0]!.data);
    off.data[5] = off.data[5]! + 2 ** -10;
    expect(worstPnmBoundRatio(t.op, t.stored, [off], t.want)).toMatchObject({ index: 5, ratio: Infinity });
    const nan = Tensor.from('f32', t.got[0]!.shape, t.got[0]!.data);
    nan.data[2] = NaN;
    expect(worstPnmBoundRatio(t.op, t.stored, [nan], [nan])).toMatchObject({ index: -1, ratio: 0 });
    // Add: got = f16(want); a want that is an f16 value must come back exactly.
    const a = runPnmBounded('Add', '', [Tensor.from('f32', [2], [1, 0.5]), Tensor.from('f32', [2], [2 ** -11, 0.25])]);
    const ab = pnmBound(a.op, a.stored, a.want);
    expect([ab(0, 0), ab(0, 1)]).toEqual([2 ** -11, 0]); // 1 + 2^-11 is half an f16 ulp from f16(want) = 1
    expect(Array.from(a.got[0]!.data)).toEqual([1, 0.75]);
  });
});
