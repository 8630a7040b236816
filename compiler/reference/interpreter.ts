// The reference interpreter: runs any graph with each op's reference
// semantics (fp32; int64 and bool where the graph uses them). It is the
// oracle that constant folding, goldens and verification compare against.
//
// 1. Check the given inputs against the graph inputs, binding symbolic dims.
// 2. Run ops in order, each through its registry entry.
// 3. Free every intermediate after its last use (big models stay small).

import { fail, isPimcError, q } from '../../ir/diagnostics.js';
import type { Graph, Op, Value } from '../../ir/graph.js';
import { Attrs, defOf, type RunContext } from '../../ir/registry.js';
import type { Tensor } from '../../ir/tensor.js';
import { evalDim } from '../../ir/dimexpr.js';
import { formatShape } from '../../ir/types.js';

export interface RunOptions {
  /** Called after each op with its outputs (for per-op checks and tracing). */
  onOp?: (op: Op, outputs: readonly Tensor[]) => void;
  /** Keep these intermediate values (by name) in the result as well. */
  keep?: readonly string[];
}

export interface RunResult {
  /** Graph outputs (and kept values), by name. */
  outputs: Map<string, Tensor>;
  /** Symbolic dims as bound by the inputs. */
  dims: Map<string, number>;
}

export function runGraph(g: Graph, inputs: ReadonlyMap<string, Tensor> | Record<string, Tensor>, opts: RunOptions = {}): RunResult {
  const given = inputs instanceof Map ? inputs : new Map(Object.entries(inputs));
  const env = new Map<Value, Tensor>();
  const dims = bindInputs(g, given, env);
  const remaining = useCounts(g, opts.keep);
  const keep = new Set(opts.keep ?? []);
  const kept = new Map<string, Tensor>();

  const valueOf = (v: Value): Tensor => {
    const t = env.get(v);
    if (t) return t;
    if (v.constant) {
      if (!v.constant.available) fail('PIMC0604', `constant ${q(v.name)} has no data (its text form was elided); run the model file instead`);
      return v.constant.get();
    }
    throw new Error(`internal: value ${v.name} used before it was computed`);
  };

  for (const op of g.ops) {
    const args = op.inputs.map((v) => (v ? valueOf(v) : null));
    const outs = runOp(g, op, args);
    op.outputs.forEach((o, i) => {
      env.set(o, outs[i]!);
      if (keep.has(o.name)) kept.set(o.name, outs[i]!);
    });
    opts.onOp?.(op, outs);
    for (const v of op.inputs) {
      if (!v || v.constant) continue;
      const left = (remaining.get(v) ?? 1) - 1;
      remaining.set(v, left);
      if (left === 0) env.delete(v);
    }
  }
  const outputs = new Map<string, Tensor>();
  for (const v of g.outputs) outputs.set(v.name, valueOf(v));
  for (const [k, t] of kept) if (!outputs.has(k)) outputs.set(k, t);
  return { outputs, dims };
}

/** Runs one op on concrete tensors. */
export function runOp(g: Graph, op: Op, args: readonly (Tensor | null)[]): Tensor[] {
  const def = defOf(op);
  const where = `${op.type} node ${q(op.name)}`;
  const ctx: RunContext = {
    op,
    attrs: new Attrs(op, def.attrs),
    opset: g.opsets.get(op.domain) ?? g.opset,
    error: (msg) => fail('PIMC0603', `${msg}, in ${where}`),
  };
  let outs: Tensor[];
  try {
    outs = def.run(ctx, args);
  } catch (e) {
    if (isPimcError(e)) throw e;
    throw new Error(`internal: ${where} crashed: ${(e as Error).message}`, { cause: e });
  }
  if (outs.length < op.outputs.length) throw new Error(`internal: ${where} returned ${outs.length} outputs, expected ${op.outputs.length}`);
  return outs;
}

function useCounts(g: Graph, keep: readonly string[] | undefined): Map<Value, number> {
  const m = new Map<Value, number>();
  const pin = new Set<Value>(g.outputs);
  for (const op of g.ops) {
    for (const v of op.inputs) if (v) m.set(v, (m.get(v) ?? 0) + 1);
    for (const o of op.outputs) if (keep?.includes(o.name)) pin.add(o);
  }
  // outputs are never freed: give them one use that never comes
  for (const v of pin) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** Checks inputs against the graph's declared inputs and binds symbolic dims. */
function bindInputs(g: Graph, given: ReadonlyMap<string, Tensor>, env: Map<Value, Tensor>): Map<string, number> {
  const dims = new Map<string, number>();
  const names = new Set(g.inputs.map((v) => v.name));
  for (const k of given.keys()) {
    if (!names.has(k)) fail('PIMC0601', `input ${q(k)} is not an input of graph ${q(g.name)} (inputs: ${[...names].join(', ')})`);
  }
  for (const v of g.inputs) {
    const t = given.get(v.name);
    if (!t) fail('PIMC0601', `graph input ${q(v.name)} was not given`);
    const want = v.type!;
    if (t.dtype !== want.dtype) fail('PIMC0602', `input ${q(v.name)} is ${t.dtype}, the graph wants ${want.dtype}`);
    if (t.shape.length !== want.shape.length) {
      fail('PIMC0602', `input ${q(v.name)} has shape ${formatShape(t.shape)}, the graph wants ${formatShape(want.shape)}`);
    }
    want.shape.forEach((d, i) => {
      const got = t.shape[i]!;
      if (typeof d === 'number') {
        if (d !== got) fail('PIMC0602', `input ${q(v.name)} has shape ${formatShape(t.shape)}, the graph wants ${formatShape(want.shape)}`);
        return;
      }
      const bound = evalDim(d, dims);
      if (bound === undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(d)) dims.set(d, got);
      else if (bound !== undefined && bound !== got) {
        fail('PIMC0602', `input ${q(v.name)} has ${got} at axis ${i} where dim ${d} is already ${bound}`);
      }
    });
    env.set(v, t);
  }
  return dims;
}
