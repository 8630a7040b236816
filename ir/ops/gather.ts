// Gather: picks slices of the data along one axis by index (embedding
// lookups, and Gather(Shape(x), i) in exporter shape subgraphs).

import { isInteger } from '../dtype.js';
import { registerOp } from '../registry.js';
import { Tensor, sizeOf } from '../tensor.js';
import { inputType, movementCost, need, normAxis, op } from './support.js';
import { copyElements, knownInts } from './transpose.js';

/** An index into an axis of `dim` elements, negative counting from the end; undefined if out of range. */
function normIndex(i: number, dim: number): number | undefined {
  const k = i < 0 ? i + dim : i;
  return Number.isInteger(k) && k >= 0 && k < dim ? k : undefined;
}

registerOp(op({
  type: 'Gather',
  summary: 'slices of the data along an axis, chosen by an index tensor of any rank',
  opsets: [1, 23],
  inputs: [2, 2],
  outputs: [1, 1],
  attrs: { axis: { kind: 'int', default: 0 } },
  infer: (ctx) => {
    const data = inputType(ctx, 0);
    const idx = inputType(ctx, 1);
    const r = data.shape.length;
    if (r === 0) ctx.error('data must have rank 1 or more');
    if (!isInteger(idx.dtype)) ctx.error(`indices must be integers, got ${idx.dtype}`);
    const axis = normAxis(ctx.attrs.int('axis', 0), r, (m) => ctx.error(m));
    const dim = data.shape[axis]!;
    const known = knownInts(ctx, 1);
    if (known && typeof dim === 'number') {
      const bad = known.find((i) => normIndex(i, dim) === undefined);
      if (bad !== undefined) ctx.error(`index ${bad} is out of range for axis ${axis} of size ${dim}`);
    }
    return [{ dtype: data.dtype, shape: [...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)] }];
  },
  // Gather(Shape(x), 1) = [seq]: a scalar index gives a 0-D tensor whose value is one element
  symbolic: (ctx) => {
    const s = ctx.symbolicInput(0);
    const idx = knownInts(ctx, 1);
    const it = ctx.inputs[1];
    if (!s || !idx || !it || it.shape.length > 1 || ctx.inputs[0]?.shape.length !== 1) return [undefined];
    const picked = idx.map((i) => normIndex(i, s.length));
    if (picked.some((k) => k === undefined)) return [undefined];
    return [picked.map((k) => s[k!]!)];
  },
  run: (ctx, inputs) => {
    const data = need(ctx, inputs, 0);
    const indices = need(ctx, inputs, 1);
    if (data.rank === 0) ctx.error('data must have rank 1 or more');
    const axis = normAxis(ctx.attrs.int('axis', 0), data.rank, (m) => ctx.error(m));
    const dim = data.shape[axis]!;
    const picks = new Array<number>(indices.size);
    for (let j = 0; j < indices.size; j++) {
      const k = normIndex(indices.at(j), dim);
      picks[j] = k ?? ctx.error(`index ${indices.at(j)} is out of range for axis ${axis} of size ${dim}`);
    }
    const shape = [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)];
    const out = new Tensor(data.dtype, shape);
    const outer = sizeOf(data.shape.slice(0, axis));
    const inner = sizeOf(data.shape.slice(axis + 1));
    let o = 0;
    for (let r = 0; r < outer; r++) {
      for (const k of picks) {
        copyElements(out, o, data, (r * dim + k) * inner, inner);
        o += inner;
      }
    }
    return [out];
  },
  cost: movementCost,
  example: '%e : f32[1, 8, 768] = Gather(%wte, %ids) {axis = 0}',
}));
