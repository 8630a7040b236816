// Shape inference: gives every op output a type (dtype + shape, symbolic where
// sizes are only known at run time).
//
// 1. Seed a side table of "symbolic values" (the elements of small integer
//    tensors): integer constants with few elements contribute their values.
// 2. Walk ops in topological order; for each, ask its registry entry for the
//    output types, given input types, constant inputs and symbolic inputs.
// 3. Ask the op for symbolic output values too (Shape gives [batch, seq, 768],
//    Gather of that gives [seq], Concat joins them), so a Reshape fed by an
//    exporter's shape subgraph gets a symbolic shape instead of unknown dims.
// 4. Where the graph declared an output type, keep the more precise dims.

import { fail, isPimcError, q } from '../../ir/diagnostics.js';
import { isInteger } from '../../ir/dtype.js';
import type { Graph, Op, Value } from '../../ir/graph.js';
import { Attrs, defOf, type InferContext } from '../../ir/registry.js';
import type { Tensor } from '../../ir/tensor.js';
import { dimSymbols } from '../../ir/dimexpr.js';
import type { Dim, TensorType } from '../../ir/types.js';

/** Constants up to this many elements are visible to shape inference. */
const CONST_VISIBLE = 1 << 16;
/** Integer tensors up to this many elements carry symbolic values. */
const SYMBOLIC_MAX = 64;

export interface InferResult {
  /** Symbolic values of small integer tensors (used by folding). */
  symbolic: Map<Value, Dim[]>;
}

export function inferShapes(g: Graph): InferResult {
  const symbolic = new Map<Value, Dim[]>();
  for (const c of g.constants) {
    const d = c.constant!;
    if (isInteger(d.dtype) && d.shape.length <= 1 && d.shape.reduce((a, b) => a * b, 1) <= SYMBOLIC_MAX && d.available) {
      symbolic.set(c, d.get().toArray());
    }
  }
  const unknown = unknownDimFactory(g);
  for (const op of g.ops) inferOp(g, op, symbolic, unknown);
  return { symbolic };
}

function unknownDimFactory(g: Graph): () => string {
  const used = new Set<string>();
  const note = (t: TensorType | undefined) => t?.shape.forEach((d) => dimSymbols(d).forEach((s) => used.add(s)));
  g.inputs.forEach((v) => note(v.type));
  let n = 0;
  return () => {
    let s: string;
    do s = `unk${n++}`; while (used.has(s));
    used.add(s);
    return s;
  };
}

export function inferOp(g: Graph, op: Op, symbolic: Map<Value, Dim[]>, unknownDim: () => string): void {
  const def = defOf(op);
  const where = `${op.type} node ${q(op.name)}`;
  const ctx: InferContext = {
    op,
    attrs: new Attrs(op, def.attrs),
    opset: g.opsets.get(op.domain) ?? g.opset,
    inputs: op.inputs.map((v) => {
      if (v && !v.type) fail('PIMC0402', `input ${q(v.name)} of ${where} has no type`);
      return v?.type;
    }),
    constInput: (i) => constOf(op.inputs[i]),
    symbolicInput: (i) => {
      const v = op.inputs[i];
      return v ? symbolic.get(v) : undefined;
    },
    unknownDim,
    error: (msg) => fail('PIMC0402', `${msg}, in ${where}`),
  };
  let types: TensorType[];
  try {
    types = def.infer(ctx);
  } catch (e) {
    if (isPimcError(e)) throw e;
    throw new Error(`internal: shape inference of ${where} crashed: ${(e as Error).message}`, { cause: e });
  }
  if (types.length < op.outputs.length) {
    fail('PIMC0402', `${where} has ${op.outputs.length} outputs but its definition gives ${types.length}`);
  }
  op.outputs.forEach((o, i) => {
    o.type = mergeDeclared(types[i]!, o.type);
  });
  if (def.symbolic) {
    const vals = def.symbolic(ctx);
    op.outputs.forEach((o, i) => {
      const s = vals[i];
      if (s && o.type && (isInteger(o.type.dtype) || o.type.dtype === 'bool') && s.length <= SYMBOLIC_MAX) symbolic.set(o, s);
    });
  }
}

function constOf(v: Value | null | undefined): Tensor | undefined {
  const c = v?.constant;
  if (!c || !c.available) return undefined;
  if (c.shape.reduce((a, b) => a * b, 1) > CONST_VISIBLE) return undefined;
  return c.get();
}

/** Prefers inferred dims, except where inference only knows "unknown" and the model declared more. */
function mergeDeclared(inferred: TensorType, declared: TensorType | undefined): TensorType {
  if (!declared || declared.shape.length !== inferred.shape.length || declared.dtype !== inferred.dtype) return inferred;
  const shape = inferred.shape.map((d, i) => {
    const dd = declared.shape[i]!;
    return typeof d === 'string' && /^unk\d+$/.test(d) ? dd : d;
  });
  return { dtype: inferred.dtype, shape };
}
