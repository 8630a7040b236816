// dce: removes ops whose results nothing reads, then unread constants.
//
// 1. Live values start as the graph outputs.
// 2. Walk ops backwards: an op is live when one of its outputs is live; its
//    inputs then become live.
// 3. Keep live ops (in their order) and constants that are still read.

import type { Graph, Value } from '../../ir/graph.js';
import { registerPass } from './manager.js';

export function eliminateDeadCode(g: Graph): number {
  const live = new Set<Value>(g.outputs);
  const keep = new Array<boolean>(g.ops.length).fill(false);
  for (let i = g.ops.length - 1; i >= 0; i--) {
    const op = g.ops[i]!;
    if (!op.outputs.some((o) => live.has(o))) continue;
    keep[i] = true;
    for (const v of op.inputs) if (v) live.add(v);
  }
  const before = g.ops.length;
  g.ops = g.ops.filter((_, i) => keep[i]);
  return before - g.ops.length + g.pruneConstants();
}

registerPass({
  name: 'dce',
  summary: 'remove ops and constants whose results nothing reads',
  run: (g) => ({ changed: eliminateDeadCode(g) }),
});
