// cse: merges ops that compute the same thing, and equal small constants.
//
// 1. Small constants with equal dtype, shape and data collapse into the first
//    (exporters write the same Constant [1] or [-1] dozens of times).
// 2. Walk ops in order; an op's key is its domain, type, attributes and the
//    identities of its inputs. An op whose key was seen is replaced by the
//    earlier one (its outputs' uses move there) and removed.
// 3. Graph outputs keep their names: a value that is a graph output is never
//    merged away.

import type { AttrValue, Graph, Op, Value } from '../../ir/graph.js';
import { registerPass } from './manager.js';

/** Constants up to this many elements are compared by content. */
const CONST_KEY_MAX = 256;

function attrKey(a: AttrValue): string {
  if (a.kind === 'tensor') return `t:${a.value.dtype}[${a.value.shape}]:${Array.from(a.value.data as ArrayLike<number>).join(',')}`;
  return `${a.kind}:${JSON.stringify(a.value)}`;
}

export function eliminateCommonSubexpressions(g: Graph): number {
  const outputs = new Set(g.outputs);
  const ids = new Map<Value, number>();
  const id = (v: Value | null) => {
    if (!v) return -1;
    let n = ids.get(v);
    if (n === undefined) ids.set(v, (n = ids.size));
    return n;
  };
  let changed = 0;
  const replace = (from: Value, to: Value) => {
    g.replaceAllUses(from, to);
    changed++;
  };

  const constSeen = new Map<string, Value>();
  for (const c of g.constants) {
    const d = c.constant!;
    if (!d.available || outputs.has(c) || d.shape.reduce((a, b) => a * b, 1) > CONST_KEY_MAX) continue;
    const t = d.get();
    const key = `${t.dtype}[${t.shape}]:${Array.from(t.data as ArrayLike<number>).join(',')}`;
    const prev = constSeen.get(key);
    if (prev) replace(c, prev);
    else constSeen.set(key, c);
  }

  const opSeen = new Map<string, Op>();
  const kept: Op[] = [];
  for (const op of g.ops) {
    const attrs = [...op.attrs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${attrKey(v)}`);
    const key = `${op.domain}|${op.type}|${op.device ?? ''}|${op.inputs.map(id).join(',')}|${attrs.join(';')}`;
    const prev = opSeen.get(key);
    if (prev && prev.outputs.length === op.outputs.length && !op.outputs.some((o) => outputs.has(o))) {
      op.outputs.forEach((o, i) => replace(o, prev.outputs[i]!));
      continue;
    }
    if (!prev) opSeen.set(key, op);
    kept.push(op);
  }
  g.ops = kept;
  g.pruneConstants();
  return changed;
}

registerPass({
  name: 'cse',
  summary: 'merge ops computing the same thing and equal small constants',
  run: (g) => ({ changed: eliminateCommonSubexpressions(g) }),
});
