// The placement problem, built once per scenario: placeable ops with their
// legal devices and per-device estimates, and the edges between them with the
// bytes each carries. The solver and every baseline are scored by `score`, so
// they are compared with the same yardstick.
//
// 1. View ops (reshape-like) are transparent: a value read through views is
//    an edge from its real producer, and views take their producer's device.
// 2. Constants and graph inputs are free: weights are laid out at compile
//    time where their consumer runs, and the KV cache lives with its append.
// 3. A graph output that is not a KV cache must reach the host.

import type { Graph, Op, Value } from '../../ir/graph.js';
import type { Device } from '../../runtime-sim/hardware/types.js';
import { legalDevices } from '../analysis/kinds.js';
import { kvValues, valueBytes, type OpWork } from '../analysis/op-costs.js';
import type { CostModel, Estimate } from './cost-model.js';

export interface Edge {
  from: number;
  to: number;
  /** Input index at the consumer. */
  input: number;
  bytes: number;
}

export interface Problem {
  /** Non-view ops in topological order, with their work. */
  nodes: OpWork[];
  legal: Device[][];
  estimates: Map<Device, Estimate>[];
  edges: Edge[];
  /** Bytes a node must deliver to the host (graph outputs). */
  toHost: number[];
  /** View ops and the node whose device they follow (-1: none, they stay on the NPU). */
  views: { op: Op; follows: number }[];
  /** Seconds an edge costs when its ends sit on these devices. */
  edgeSeconds(e: Edge, from: Device, to: Device): number;
  /** Seconds for node i on device d to deliver its graph outputs to the host. */
  hostSeconds(i: number, d: Device): number;
  /** Nodes the chosen placement keeps off pim because the PIM rows are full, with why (placeScenario sets it). */
  pimFull?: Map<number, string>;
}

export function buildProblem(g: Graph, work: readonly OpWork[], cost: CostModel, devices: readonly Device[], kvInCxl = false): Problem {
  const index = new Map<Op, number>();
  const nodes: OpWork[] = [];
  const views: { op: Op; follows: number }[] = [];
  /** For each value: the node that really produced it (through views), or -1. */
  const root = new Map<Value, number>();
  for (const w of work) {
    if (w.kind === 'view') {
      const src = w.op.inputs[0];
      const r = src ? root.get(src) ?? -1 : -1;
      w.op.outputs.forEach((o) => root.set(o, r));
      views.push({ op: w.op, follows: r });
      continue;
    }
    index.set(w.op, nodes.length);
    w.op.outputs.forEach((o) => root.set(o, nodes.length));
    nodes.push(w);
  }
  const edges: Edge[] = [];
  nodes.forEach((w, to) => {
    w.op.inputs.forEach((v, input) => {
      if (!v || v.constant) return;
      const from = root.get(v);
      if (from === undefined || from < 0) return;
      edges.push({ from, to, input, bytes: valueBytes(v, w.inputs[input]) * w.scale });
    });
  });
  const kv = kvValues(g);
  const toHost = nodes.map(() => 0);
  for (const v of g.outputs) {
    const r = root.get(v);
    if (r === undefined || r < 0 || kv.has(v)) continue;
    const w = nodes[r]!;
    const i = w.op.outputs.indexOf(v);
    toHost[r]! += valueBytes(v, w.outputs[i >= 0 ? i : 0]) * w.scale;
  }
  // a cache that lives in the expander cannot be in the PIM banks
  const legal = nodes.map((w) => legalDevices(w.op, devices).filter((d) => !(kvInCxl && d === 'pim' && (w.kind === 'attention' || w.kind === 'kv-append'))));
  const estimates = nodes.map((w, i) => new Map(legal[i]!.map((d) => [d, cost.estimate(w, d)] as const)));
  return {
    nodes, legal, estimates, edges, toHost, views,
    edgeSeconds: (e, from, to) => cost.move(e.bytes, cost.outputResidency(nodes[e.from]!, from), cost.inputResidency(nodes[e.to]!, to, e.input)),
    hostSeconds: (i, d) => cost.move(toHost[i]!, cost.outputResidency(nodes[i]!, d), 'host'),
  };
}

export interface Score {
  total: number;
  compute: number;
  movement: number;
}

/** Total estimated seconds of an assignment (devices never overlap within a step). */
export function score(p: Problem, assignment: readonly Device[]): Score {
  let compute = 0;
  let movement = 0;
  assignment.forEach((d, i) => {
    const e = p.estimates[i]!.get(d);
    if (!e) throw new Error(`internal: ${p.nodes[i]!.op.name} cannot run on ${d}`);
    compute += e.seconds;
    movement += p.hostSeconds(i, d);
  });
  for (const e of p.edges) movement += p.edgeSeconds(e, assignment[e.from]!, assignment[e.to]!);
  return { total: compute + movement, compute, movement };
}
