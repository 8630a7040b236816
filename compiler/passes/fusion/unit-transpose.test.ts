// transpose-as-reshape: a Transpose that moves only axes of size 1 becomes a
// Reshape with the same output (values and order); any other stays.
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../../../ir/parser.js';
import { Tensor } from '../../../ir/tensor.js';
import { runGraph } from '../../reference/interpreter.js';
import { runPasses } from '../manager.js';
import '../pipelines.js';

const graph = (shape: number[], perm: number[]) => parseGraph(`graph "t" {
  opset "" 17
  input %x : f32[${shape.join(', ')}]
  %y = Transpose(%x) {perm = [${perm.join(', ')}]} name "T"
  output %y
}`);

describe('transpose-as-reshape', () => {
  it.each([
    [[1, 1, 4, 16], [0, 2, 1, 3]],
    [[2, 1, 3], [1, 0, 2]],
    [[1, 5, 1], [2, 1, 0]],
  ])('%j perm %j: a Reshape, the same values in the same order', (shape, perm) => {
    const g = graph(shape, perm);
    const n = shape.reduce((a, b) => a * b, 1);
    const x = Tensor.from('f32', shape, Array.from({ length: n }, (_, i) => i * 0.5 - 3));
    const before = runGraph(g, new Map([['x', x]])).outputs.get('y')!;
    runPasses(g, ['infer-shapes', 'transpose-as-reshape']);
    expect(g.ops.map((o) => o.type)).toEqual(['Reshape']);
    expect(g.ops[0]!.name).toBe('T');
    const after = runGraph(g, new Map([['x', x]])).outputs.get('y')!;
    expect(after.shape).toEqual(before.shape);
    expect(Array.from(after.data)).toEqual(Array.from(before.data));
  });

  it.each([
    [[2, 3, 4], [0, 2, 1]],
    [[1, 2, 3], [0, 2, 1]],
    [[2, 3], [1, 0]],
  ])('%j perm %j moves data: stays a Transpose', (shape, perm) => {
    const g = graph(shape, perm);
    runPasses(g, ['infer-shapes', 'transpose-as-reshape']);
    expect(g.ops.map((o) => o.type)).toEqual(['Transpose']);
  });

  it('a symbolic shape: stays (the sizes decide)', () => {
    const g = parseGraph(`graph "t" {
  opset "" 17
  input %x : f32[1, "s", 4, 16]
  %y = Transpose(%x) {perm = [0, 2, 1, 3]} name "T"
  output %y
}`);
    runPasses(g, ['infer-shapes', 'transpose-as-reshape']);
    expect(g.ops.map((o) => o.type)).toEqual(['Transpose']);
  });
});
