// What the NPU and CXL-PNM one-op harnesses share (backends/*/lower/harness.ts):
// attribute shorthands, inputs rounded as a device stores them, and the
// one-op graph the lowering and the reference both run.

import { isFloat, roundF16 } from '../../ir/dtype.js';
import { ConstantData, Graph, Op, Value, type AttrValue } from '../../ir/graph.js';
import { Tensor } from '../../ir/tensor.js';
import type { TensorType } from '../../ir/types.js';
import '../../ir/ops/index.js';
import { inferShapes } from '../../compiler/passes/infer-shapes.js';

/** An integer number is an int attribute, a non-integer a float one, number[] ints, a string a string; or the AttrValue itself. */
export type HarnessAttr = number | number[] | string | AttrValue;

/** A float attribute (a plain integer number would be an int one). */
export const F = (value: number): AttrValue => ({ kind: 'float', value });

export function attrMap(attrs: Record<string, HarnessAttr>): Map<string, AttrValue> {
  const one = (v: HarnessAttr): AttrValue => {
    if (typeof v === 'number') return Number.isInteger(v) ? { kind: 'int', value: v } : { kind: 'float', value: v };
    if (typeof v === 'string') return { kind: 'string', value: v };
    if (Array.isArray(v)) return { kind: 'ints', value: v };
    return v;
  };
  return new Map(Object.entries(attrs).map(([k, v]) => [k, one(v)]));
}

/** Floats rounded to f16, as the devices store them; other tensors unchanged. */
export function roundToF16(t: Tensor): Tensor {
  if (!isFloat(t.dtype)) return t;
  const r = new Tensor(t.dtype, t.shape);
  for (let i = 0; i < t.size; i++) r.data[i] = roundF16(t.data[i]!);
  return r;
}

export interface OneOpOptions {
  /** Default-domain opset (default 23). */
  opset?: number;
  /** Input indices made graph constants instead of graph inputs. */
  consts?: number[];
  /** Number of outputs (default 1). */
  outputs?: number;
}

/** A one-op graph named `name`: inputs as graph inputs (or constants), shapes inferred. */
export function oneOpGraph(name: string, type: string, domain: string, inputs: readonly (TensorType | Tensor | null)[], attrs: Record<string, HarnessAttr>, opts: OneOpOptions): { graph: Graph; op: Op } {
  const g = new Graph(name, new Map([['', opts.opset ?? 23], ['pimc', 1]]));
  const vals = inputs.map((t, i) => {
    if (!t) return null;
    const v = new Value(`in${i}`, { dtype: t.dtype, shape: [...t.shape] });
    if (opts.consts?.includes(i)) {
      if (!(t instanceof Tensor)) throw new Error(`internal: constant input ${i} needs data`);
      return g.addConstant(v, ConstantData.of(t));
    }
    return g.addInput(v);
  });
  const outs = Array.from({ length: opts.outputs ?? 1 }, (_, i) => new Value(`out${i}`));
  const op = g.addOp(new Op({ name: 'n', type, domain, inputs: vals, outputs: outs, attrs: attrMap(attrs) }));
  g.outputs.push(...outs);
  inferShapes(g);
  return { graph: g, op };
}
