// transpose-as-reshape: a Transpose that only moves axes of size 1 keeps every
// element where it was, so it is a Reshape (a view: no program runs for it,
// dram-plan.ts aliases it). Decode steps are full of them: with one token,
// [b, 1, heads, d] -> [b, heads, 1, d] around attention, four per layer, each
// a kernel launch and two DMA latencies on the NPU for nothing.
//
// For each Transpose whose input shape is static: the axes of size > 1, in
// the order perm reads them, must be increasing; then Reshape(x, the output
// shape as an int64 constant) replaces it, named after it.

import { ConstantData, type Graph, type Op } from '../../../ir/graph.js';
import { Tensor } from '../../../ir/tensor.js';
import { registerPass } from '../manager.js';
import { fuse } from './match.js';

function permOf(op: Op, rank: number): number[] {
  const a = op.attrs.get('perm');
  return a && a.kind === 'ints' ? a.value.map((p) => (p < 0 ? p + rank : p)) : [...Array(rank).keys()].reverse();
}

export function unitTransposes(g: Graph): number {
  let n = 0;
  for (const op of [...g.ops]) {
    if (op.domain !== '' || op.type !== 'Transpose') continue;
    const x = op.inputs[0];
    const shape = x?.type?.shape;
    const y = op.outputs[0]!;
    if (!x || !shape || shape.some((d) => typeof d !== 'number')) continue;
    const dims = shape as number[];
    const moved = permOf(op, dims.length).filter((p) => dims[p] !== 1);
    if (moved.some((p, i) => i > 0 && p < moved[i - 1]!)) continue;
    const out = permOf(op, dims.length).map((p) => dims[p]!);
    const target = g.addConstant(g.newValue(`${y.name}_shape`), ConstantData.of(Tensor.from('i64', [out.length], out)));
    fuse(g, [op], { type: 'Reshape', domain: '', anchor: op, inputs: [x, target], outputs: [y] });
    n++;
  }
  return n;
}

registerPass({
  name: 'transpose-as-reshape',
  summary: 'a Transpose that moves only axes of size 1 becomes a Reshape (a view)',
  run: (g) => ({ changed: unitTransposes(g) }),
});
