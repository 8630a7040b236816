// The placement of minimum total estimated time, exactly.
//
// Movement costs couple neighbours, so op-by-op greedy choices are not
// optimal. The graph is swept in topological order with dynamic programming
// over the "frontier": the ops whose results are still waiting for a reader.
//
// 1. State = the devices of the frontier ops (in frontier order) -> the best
//    total so far, with a back-pointer.
// 2. Taking node n on device d adds its estimate, its delivery to the host,
//    and the edge cost from every frontier producer it reads.
// 3. n joins the frontier if something later reads it; a producer leaves
//    when its last reader has been taken.
// 4. The best final state, traced back, is the assignment.
// Exact because every edge is paid when its reader is taken, at which point
// both ends' devices are known; the state is everything the future can see.
// Transformer graphs keep the frontier to a handful of ops (the residual
// stream, q/k/v, shared masks and tables), so the states stay few.

import type { Device } from '../../runtime-sim/hardware/types.js';
import type { Edge, Problem } from './problem.js';

export interface Solution {
  assignment: Device[];
  total: number;
  /** The largest number of DP states held at once (for diagnostics). */
  maxStates: number;
}

interface Entry {
  cost: number;
  prev: string;
  device: Device;
}

/** Optional per-node constraint: the only device allowed. */
export type Pins = ReadonlyMap<number, Device>;

/** Optional per-node exclusions: devices a node may not take (e.g. pim when its rows are full); pins win. */
export type Excluded = ReadonlyMap<number, ReadonlySet<Device>>;

export function solvePlacement(p: Problem, pins: Pins = new Map(), excluded: Excluded = new Map()): Solution {
  const n = p.nodes.length;
  const incoming: Edge[][] = p.nodes.map(() => []);
  const lastReader = new Array<number>(n).fill(-1);
  for (const e of p.edges) {
    incoming[e.to]!.push(e);
    lastReader[e.from] = Math.max(lastReader[e.from]!, e.to);
  }
  const options = p.legal.map((l, i) => {
    if (pins.has(i)) return [pins.get(i)!];
    const no = excluded.get(i);
    const left = no ? l.filter((d) => !no.has(d)) : l;
    if (left.length === 0) throw new Error(`internal: node ${p.nodes[i]!.op.name} has no device left`);
    return left;
  });

  let frontier: number[] = [];
  let layer = new Map<string, Entry>([['', { cost: 0, prev: '', device: 'npu' }]]);
  const history: Map<string, Entry>[] = [];
  let maxStates = 1;

  for (let i = 0; i < n; i++) {
    const stays = frontier.filter((f) => lastReader[f]! > i);
    const joins = lastReader[i]! > i;
    const next = joins ? [...stays, i] : stays;
    const pos = new Map(frontier.map((f, k) => [f, k]));
    const keep = stays.map((f) => pos.get(f)!);
    const out = new Map<string, Entry>();
    for (const [key, entry] of layer) {
      const devs = key === '' ? [] : key.split(',') as Device[];
      for (const d of options[i]!) {
        let cost = entry.cost + p.estimates[i]!.get(d)!.seconds + p.hostSeconds(i, d);
        for (const e of incoming[i]!) cost += p.edgeSeconds(e, devs[pos.get(e.from)!]!, d);
        const nextDevs = keep.map((k) => devs[k]!);
        if (joins) nextDevs.push(d);
        const nk = nextDevs.join(',');
        const best = out.get(nk);
        if (!best || cost < best.cost) out.set(nk, { cost, prev: key, device: d });
      }
    }
    history.push(out);
    maxStates = Math.max(maxStates, out.size);
    layer = out;
    frontier = next;
  }

  // Trace back from the best final state.
  let bestKey = '';
  let best = Infinity;
  for (const [k, e] of layer) if (e.cost < best) { best = e.cost; bestKey = k; }
  const assignment = new Array<Device>(n);
  let key = bestKey;
  for (let i = n - 1; i >= 0; i--) {
    const e = history[i]!.get(key)!;
    assignment[i] = e.device;
    key = e.prev;
  }
  return { assignment, total: n ? best : 0, maxStates };
}
