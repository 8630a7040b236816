// Specialising a model to concrete sizes: every symbolic dim of the graph's
// inputs gets a number, so shape inference, folding and fusion that follow see
// a static graph (what a backend needs: tiles, addresses and programs are
// sized at compile time).
//
// 1. Evaluate each input dim under `env` (a dim expression may use several
//    symbols); one left unbound is an error naming it.
// 2. Drop the declared output types' symbolic dims, so inference gives numbers.
// 3. Clear inferred types inside the graph: the next infer-shapes pass
//    recomputes them from the now-static inputs.

import { fail, q } from '../../ir/diagnostics.js';
import { dimSymbols, evalDim } from '../../ir/dimexpr.js';
import type { Graph, Value } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';

export function specializeDims(g: Graph, env: ReadonlyMap<string, number>): void {
  for (const v of g.inputs) {
    const t = v.type!;
    v.type = {
      dtype: t.dtype,
      shape: t.shape.map((d) => {
        const n = evalDim(d, env);
        if (n === undefined) fail('PIMC0810', `input ${q(v.name)} has dim ${q(String(d))}; give ${dimSymbols(d).map((s) => `${s}=N`).join(', ')}`);
        return n;
      }),
    };
  }
  for (const op of g.ops) for (const o of op.outputs) o.type = undefined;
}

/** The sizes of the inputs' symbolic dims, read from tensors fed to them. */
export function dimsFromInputs(g: Graph, feeds: ReadonlyMap<string, Tensor> | Record<string, Tensor>): Map<string, number> {
  const get = (v: Value) => (feeds instanceof Map ? feeds.get(v.name) : (feeds as Record<string, Tensor>)[v.name]);
  const env = new Map<string, number>();
  for (const v of g.inputs) {
    const t = get(v);
    if (!t) continue;
    v.type!.shape.forEach((d, i) => {
      if (typeof d === 'string' && /^[A-Za-z_][\w.]*$/.test(d)) {
        const n = t.shape[i]!;
        const had = env.get(d);
        if (had !== undefined && had !== n) fail('PIMC0810', `inputs disagree on dim ${q(d)}: ${had} and ${n} (input ${q(v.name)})`);
        env.set(d, n);
      }
    });
  }
  return env;
}
