// Binding a model to a scenario: phase (prefill or decode), batch size and KV
// length become sizes for the model's symbolic dims.
//
// 1. Each input symbol gets a role from its name: batch, sequence, or past
//    (KV-cache length). Decode binds seq = 1 and past = kvLen; prefill binds
//    seq = kvLen (the prompt) and past = 0.
// 2. Explicit `dims` win over roles; a symbol with no role and no value is an
//    error that names it.
// 3. A static model cannot change its batch: its costs are scaled linearly
//    from its own batch (activations, KV cache and FLOPs grow with the batch,
//    weights do not), and the scenario says so in its notes.

import { fail, q } from '../../ir/diagnostics.js';
import { dimSymbols, evalDim } from '../../ir/dimexpr.js';
import type { Graph, Value } from '../../ir/graph.js';
import type { Dim } from '../../ir/types.js';

export type Phase = 'prefill' | 'decode';

export interface Scenario {
  phase?: Phase;
  batch: number;
  /** Decode: tokens already in the KV cache. Prefill: prompt length. */
  kvLen: number;
  /** Explicit sizes for symbols, e.g. { vocab: 32000 }. */
  dims?: Record<string, number>;
}

export interface Binding {
  phase: Phase;
  batch: number;
  kvLen: number;
  env: Map<string, number>;
  /** Factor applied to batch-proportional costs (static models). */
  batchScale: number;
  notes: string[];
}

type Role = 'batch' | 'seq' | 'past';

function roleOf(sym: string): Role | undefined {
  const s = sym.toLowerCase();
  if (/past|cache|kv/.test(s)) return 'past';
  if (/batch|^bs$|^b$|^n$/.test(s)) return 'batch';
  if (/seq|^s$|^len|length|token/.test(s)) return 'seq';
  return undefined;
}

/** True when some graph input is a KV cache (named past_*, or read by a KV append). */
export function hasKvInputs(g: Graph): boolean {
  const readers = g.users();
  return g.inputs.some((v) => /past/i.test(v.name) || (readers.get(v) ?? []).some((o) => o.type === 'KvAppend'));
}

export function bindScenario(g: Graph, s: Scenario): Binding {
  const decodeModel = hasKvInputs(g);
  const phase: Phase = s.phase ?? (decodeModel ? 'decode' : 'prefill');
  if (phase === 'decode' && !decodeModel) {
    fail('PIMC0810', `model ${q(g.name)} has no KV-cache inputs, so it has no decode phase; use --phase prefill`);
  }
  const notes: string[] = [];
  const env = new Map<string, number>();
  const symbols = new Set<string>();
  for (const v of g.inputs) for (const d of v.type!.shape) dimSymbols(d).forEach((x) => symbols.add(x));
  const want: Record<Role, number> = {
    batch: s.batch,
    seq: phase === 'decode' ? 1 : s.kvLen,
    past: phase === 'decode' ? s.kvLen : 0,
  };
  for (const sym of [...symbols].sort()) {
    const given = s.dims?.[sym];
    const role = roleOf(sym);
    if (given !== undefined) env.set(sym, given);
    else if (role) env.set(sym, want[role]);
  }
  const unbound = [...symbols].filter((x) => !env.has(x));
  if (unbound.length) {
    fail('PIMC0810', `cannot tell what input dims ${unbound.map(q).join(', ')} of ${q(g.name)} mean; give them with --dims ${unbound.map((u) => `${u}=N`).join(',')}`);
  }
  // Static parts: a fixed sequence length cannot become a prompt, a fixed batch is scaled.
  const seqFixed = g.inputs.find((v) => /input_ids|tokens?$/i.test(v.name))?.type?.shape[1];
  if (phase === 'prefill' && decodeModel && seqFixed === 1) {
    fail('PIMC0810', `model ${q(g.name)} is a decode step (its sequence length is fixed at 1); it has no prefill phase`);
  }
  let batchScale = 1;
  const first = g.inputs[0]?.type?.shape[0];
  if (typeof first === 'number' && first > 0 && !symbols.size) {
    batchScale = s.batch / first;
    if (batchScale !== 1) notes.push(`static batch ${first}: costs that grow with the batch are scaled by ${batchScale}`);
  }
  if (!symbols.size) notes.push('static shapes: the sequence and KV lengths are the model\'s own');
  return { phase, batch: s.batch, kvLen: s.kvLen, env, batchScale, notes };
}

/** A value's shape under a binding (every dim a number). */
export function concreteShape(v: Value, b: Binding): number[] {
  return v.type!.shape.map((d: Dim) => {
    const n = evalDim(d, b.env);
    if (n === undefined) fail('PIMC0810', `value ${q(v.name)} has dim ${q(String(d))}, which this scenario does not bind`);
    return Math.max(n, 0);
  });
}
