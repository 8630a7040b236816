// Why each op went where it went, in one line: the device estimates side by
// side, what bounds the winner, and whether moving data decided it.

import type { Device } from '../../runtime-sim/hardware/types.js';
import type { Estimate } from './cost-model.js';
import type { Edge, Problem } from './problem.js';

export function formatSeconds(s: number): string {
  if (s === 0) return '0';
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(2)} us`;
}

function boundText(e: Estimate): string {
  switch (e.bound) {
    case 'compute': return 'compute-bound';
    case 'memory': return 'memory-bound';
    case 'pim-kernel': return 'in-bank kernel';
    default: return 'no data moves';
  }
}

/** Edges touching each node, built once per problem. */
const ADJACENT = new WeakMap<Problem, Edge[][]>();

function adjacent(p: Problem): Edge[][] {
  let a = ADJACENT.get(p);
  if (!a) {
    a = p.nodes.map(() => []);
    for (const e of p.edges) {
      a[e.from]!.push(e);
      a[e.to]!.push(e);
    }
    ADJACENT.set(p, a);
  }
  return a;
}

/** Movement cost of node i on device d given its neighbours' devices. */
export function movementAt(p: Problem, i: number, d: Device, assignment: readonly Device[]): number {
  let t = p.hostSeconds(i, d);
  for (const e of adjacent(p)[i]!) {
    if (e.to === i) t += p.edgeSeconds(e, assignment[e.from]!, d);
    else t += p.edgeSeconds(e, d, assignment[e.to]!);
  }
  return t;
}

export function explainNode(p: Problem, i: number, assignment: readonly Device[], pinned: boolean): string {
  const w = p.nodes[i]!;
  const d = assignment[i]!;
  const est = p.estimates[i]!;
  const mine = est.get(d)!;
  if (w.kind === 'view') return 'a view: moves no data';
  if (pinned) return `pinned to ${d} by the placement file`;
  const full = d !== 'pim' ? p.pimFull?.get(i) : undefined;
  if (full) return full;
  if (est.size === 1) return `only the ${d.toUpperCase()} can run a ${w.kind} op`;
  const others = [...est.entries()].filter(([o]) => o !== d);
  const fastest = others.reduce((a, b) => (b[1].seconds < a[1].seconds ? b : a));
  const intensity = `${w.intensity.toFixed(2)} FLOP/B`;
  const here = movementAt(p, i, d, assignment);
  const there = movementAt(p, i, fastest[0], assignment);
  const withMoves = (s: number, m: number) => (m > 0 ? `${formatSeconds(s)} + ${formatSeconds(m)} moving` : formatSeconds(s));
  if (mine.seconds <= fastest[1].seconds) {
    return `${d} ${withMoves(mine.seconds, here)} < ${fastest[0]} ${withMoves(fastest[1].seconds, there)}: ${boundText(mine)} at ${intensity}`;
  }
  return `${fastest[0]} alone is faster (${formatSeconds(fastest[1].seconds)} vs ${formatSeconds(mine.seconds)}), ` +
    `but moving data to and from its neighbours there would cost ${formatSeconds(there - here)} more`;
}
