// The placement solver is exact: on random small problems (random DAGs, legal
// sets, node and edge costs) its total equals the brute-force minimum over
// every legal assignment, and the assignment it returns scores that total.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Op } from '../../ir/graph.js';
import type { Device } from '../../runtime-sim/hardware/types.js';
import type { OpWork } from '../analysis/op-costs.js';
import type { Estimate } from './cost-model.js';
import { score, type Edge, type Problem } from './problem.js';
import { solvePlacement } from './solve.js';

const DEVICES: Device[] = ['npu', 'pim', 'pnm'];

interface Spec {
  legal: Device[][];
  node: number[][];
  edges: { from: number; to: number; cost: number[] }[];
  host: number[][];
}

const spec: fc.Arbitrary<Spec> = fc.integer({ min: 1, max: 9 }).chain((n) =>
  fc.record({
    legal: fc.array(fc.subarray(DEVICES, { minLength: 1 }), { minLength: n, maxLength: n }),
    node: fc.array(fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: n, maxLength: n }),
    host: fc.array(fc.array(fc.double({ min: 0, max: 3, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: n, maxLength: n }),
    edges: fc.array(
      fc.record({ a: fc.nat(n - 1), b: fc.nat(n - 1), cost: fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: 9, maxLength: 9 }) }),
      { maxLength: 2 * n },
    ).map((es) => es.filter((e) => e.a !== e.b).map((e) => ({ from: Math.min(e.a, e.b), to: Math.max(e.a, e.b), cost: e.cost }))),
  }),
);

function problemOf(s: Spec): Problem {
  const idx = (d: Device) => DEVICES.indexOf(d);
  const edges: Edge[] = s.edges.map((e, k) => ({ from: e.from, to: e.to, input: k, bytes: 0 }));
  return {
    nodes: s.legal.map((_, i) => ({ op: { name: `n${i}` } as Op, kind: 'linear' }) as OpWork),
    legal: s.legal,
    estimates: s.legal.map((l, i) => new Map(l.map((d) => [d, { seconds: s.node[i]![idx(d)]!, bound: 'compute', parts: {} } as Estimate]))),
    edges,
    toHost: s.legal.map(() => 0),
    views: [],
    edgeSeconds: (e, from, to) => (from === to ? 0 : s.edges[e.input]!.cost[idx(from) * 3 + idx(to)]!),
    hostSeconds: (i, d) => s.host[i]![idx(d)]!,
  };
}

function bruteForce(p: Problem): number {
  let best = Infinity;
  const a: Device[] = [];
  const rec = (i: number) => {
    if (i === p.nodes.length) {
      best = Math.min(best, score(p, a).total);
      return;
    }
    for (const d of p.legal[i]!) {
      a[i] = d;
      rec(i + 1);
    }
  };
  rec(0);
  return best;
}

describe('the placement solver', () => {
  it('matches brute force on 1,500 random problems', () => {
    fc.assert(
      fc.property(spec, (s) => {
        const p = problemOf(s);
        const sol = solvePlacement(p);
        const brute = bruteForce(p);
        expect(sol.total).toBeCloseTo(brute, 9);
        expect(score(p, sol.assignment).total).toBeCloseTo(sol.total, 9);
        sol.assignment.forEach((d, i) => expect(p.legal[i]).toContain(d));
      }),
      { numRuns: 1500, seed: 7 },
    );
  });

  it('is not greedy: a node takes its slower device when moving data decides', () => {
    // node 0 is a bit faster on pim, but its only neighbour must run on the npu and the edge is expensive
    const p = problemOf({
      legal: [['npu', 'pim'], ['npu']],
      node: [[2, 1, 0], [1, 0, 0]],
      host: [[0, 0, 0], [0, 0, 0]],
      edges: [{ from: 0, to: 1, cost: [0, 0, 0, 5, 0, 0, 0, 0, 0] }],
    });
    expect(solvePlacement(p).assignment).toEqual(['npu', 'npu']);
  });

  it('honours pins', () => {
    const p = problemOf({ legal: [['npu', 'pim']], node: [[1, 2, 0]], host: [[0, 0, 0]], edges: [] });
    expect(solvePlacement(p).assignment).toEqual(['npu']);
    expect(solvePlacement(p, new Map([[0, 'pim']])).assignment).toEqual(['pim']);
  });
});

describe('on a real graph', () => {
  it('matches brute force on a one-layer GPT-2 decode step', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { buildModel } = await import('../../examples/builders/index.js');
    const { loadModel } = await import('../api/model.js');
    const { loadHardware } = await import('../../runtime-sim/hardware/load.js');
    const { placeScenario } = await import('./place.js');
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pimc-bf-'));
    const { modelPath } = await buildModel({ family: 'gpt2', preset: 'gpt2-tiny', layers: 1, phase: 'decode', outDir });
    const { graph } = loadModel(modelPath, { stage: 'fused' });
    for (const batch of [1, 16]) {
      const r = placeScenario(graph, loadHardware('npu+hbm-pim'), { batch, kvLen: 256 });
      const space = r.problem.legal.reduce((n, l) => n * l.length, 1);
      expect(space).toBeGreaterThan(16); // a real choice
      expect(space).toBeLessThan(1 << 18); // small enough to enumerate
      expect(r.chosen.score.total).toBeCloseTo(bruteForce(r.problem), 12);
    }
  });
});
