// fuse-kv-cache: the exporter's cache update, Concat(past_key_i, new, axis 2)
// with the past a graph input, becomes pimc.KvAppend (named after the Concat).
// The Concat's output is usually the graph output present_key_i: the fused op
// produces that same value, so the output keeps its name.
//
// 1. For each two-input Concat whose first input is a graph input of rank >= 3
//    and floating type, along the sequence axis (rank - 2; axis 2 for
//    [batch, heads, seq, head]):
// 2. replace it by pimc.KvAppend(past, new) {axis} producing the same value.
import type { Graph } from '../../../ir/graph.js';
import { isFloat } from '../../../ir/dtype.js';
import { registerPass } from '../manager.js';
import { attrs, fuse, intAttr } from './match.js';

export function fuseKvCache(g: Graph): { changed: number } {
  const graphInputs = new Set(g.inputs);
  let changed = 0;
  for (const op of [...g.ops]) {
    if (op.type !== 'Concat' || op.domain !== '' || op.inputs.length !== 2) continue;
    const [past, next] = op.inputs;
    const rank = past?.shape?.length ?? 0;
    if (!past || !next || !graphInputs.has(past) || rank < 3 || next.shape?.length !== rank) continue;
    if (!past.dtype || !isFloat(past.dtype) || next.dtype !== past.dtype) continue;
    const axis = intAttr(op, 'axis', 0);
    if ((axis < 0 ? axis + rank : axis) !== rank - 2) continue;
    fuse(g, [op], { type: 'KvAppend', anchor: op, inputs: [past, next], outputs: [op.outputs[0]!], attrs: attrs({ axis: { kind: 'int', value: rank - 2 } }) });
    changed++;
  }
  return { changed };
}

registerPass({ name: 'fuse-kv-cache', summary: 'Concat of a past_key/past_value input along the sequence axis -> pimc.KvAppend', run: fuseKvCache });
