// Placement for one scenario: the optimal assignment, the baselines scored on
// the same cost model, and the device attribute written onto the ops.

import { fail, q } from '../../ir/diagnostics.js';
import type { Graph } from '../../ir/graph.js';
import type { Device, Hardware } from '../../runtime-sim/hardware/types.js';
import { devicesOf } from '../../runtime-sim/hardware/types.js';
import { illegalReason } from '../analysis/kinds.js';
import { analyzeOps } from '../analysis/op-costs.js';
import { bindScenario, type Binding, type Scenario } from '../analysis/scenario.js';
import { CostModel } from './cost-model.js';
import { buildProblem, score, type Problem, type Score } from './problem.js';
import { solvePlacement, type Pins } from './solve.js';

export type BaselineName = 'all-npu' | 'attacc' | 'all-pim';

export const BASELINE_DOC: Record<BaselineName, string> = {
  'all-npu': 'every op on the NPU',
  attacc: 'attention (and its KV-cache append) on PIM, the rest on the NPU (the AttAcc rule)',
  'all-pim': 'every op PIM can legally run on PIM, the rest on the NPU',
};

export interface Placed {
  name: string;
  assignment: Device[];
  score: Score;
}

export interface PlacementResult {
  binding: Binding;
  problem: Problem;
  chosen: Placed;
  baselines: Placed[];
  /** States the exact solver held at most (how hard the graph was). */
  maxStates: number;
}

function baseline(p: Problem, name: BaselineName): Device[] | undefined {
  if (!p.legal.every((l) => l.includes('npu'))) return undefined;
  return p.nodes.map((w, i) => {
    const canPim = p.legal[i]!.includes('pim');
    if (name === 'attacc') return canPim && (w.kind === 'attention' || w.kind === 'kv-append') ? 'pim' : 'npu';
    if (name === 'all-pim') return canPim && w.kind !== 'view' ? 'pim' : 'npu';
    return 'npu';
  });
}

/** Placement-file pins (op name -> device) as node constraints, checked. */
export function resolvePins(p: Problem, pins: ReadonlyMap<string, Device>, g: Graph): Pins {
  const byName = new Map(p.nodes.map((w, i) => [w.op.name, i]));
  const out = new Map<number, Device>();
  for (const [name, d] of pins) {
    const i = byName.get(name);
    if (i === undefined) {
      const isView = g.ops.some((o) => o.name === name);
      if (isView) continue; // views move no data and follow their producer
      fail('PIMC0808', `placement names op ${q(name)}, which is not in graph ${q(g.name)} (after fusion)`);
    }
    if (!p.legal[i]!.includes(d)) {
      fail('PIMC0809', `placement puts op ${q(name)} on ${d}, which cannot run it: ${illegalReason(p.nodes[i]!.op, d)}`);
    }
    out.set(i, d);
  }
  return out;
}

export function placeScenario(g: Graph, hw: Hardware, scenario: Scenario, pins: ReadonlyMap<string, Device> = new Map()): PlacementResult {
  const devices = devicesOf(hw);
  if (!devices.includes('npu')) fail('PIMC0703', `hardware ${q(hw.name)} has no NPU to run a whole model; use it with pimc kernel`);
  const binding = bindScenario(g, scenario);
  const problem = buildProblem(g, analyzeOps(g, binding), new CostModel(hw), devices);
  const sol = solvePlacement(problem, resolvePins(problem, pins, g));
  const chosen = { name: pins.size ? 'pinned' : 'optimal', assignment: sol.assignment, score: score(problem, sol.assignment) };
  const baselines: Placed[] = [];
  for (const name of ['all-npu', 'attacc', 'all-pim'] as BaselineName[]) {
    if (name !== 'all-npu' && !devices.includes('pim')) continue;
    const a = baseline(problem, name);
    if (a) baselines.push({ name, assignment: a, score: score(problem, a) });
  }
  return { binding, problem, chosen, baselines, maxStates: sol.maxStates };
}

/** Writes the assignment onto the ops (views follow their producer). */
export function applyPlacement(r: PlacementResult): void {
  r.problem.nodes.forEach((w, i) => (w.op.device = r.chosen.assignment[i]));
  for (const v of r.problem.views) v.op.device = v.follows >= 0 ? r.chosen.assignment[v.follows] : 'npu';
}
