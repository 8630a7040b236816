// Placement for one scenario: the optimal assignment, the baselines scored on
// the same cost model, and the device attribute written onto the ops.

import { fail, q } from '../../ir/diagnostics.js';
import type { Graph } from '../../ir/graph.js';
import type { Device, Hardware } from '../../runtime-sim/hardware/types.js';
import { devicesOf } from '../../runtime-sim/hardware/types.js';
import { illegalReason } from '../analysis/kinds.js';
import { analyzeOps, FLOAT_STORAGE_BYTES, type OpWork } from '../analysis/op-costs.js';
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
  const work = analyzeOps(g, binding);
  const kvInCxl = kvLivesInCxl(hw, work, devices, binding.notes);
  const problem = buildProblem(g, work, new CostModel(hw, { kvInCxl }), devices, kvInCxl);
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

/**
 * Capacity (legality, not profit): the weights and the KV cache of the whole
 * model must fit in HBM (memory.capacityGiB). When they do not and the
 * system has a CXL expander, the cache lives there; without one the model
 * does not fit, which the notes say (the estimates then assume it did).
 */
function kvLivesInCxl(hw: Hardware, work: readonly OpWork[], devices: readonly Device[], notes: string[]): boolean {
  const gib = 2 ** 30;
  const weights = work.reduce((a, w) => a + w.bytes.weights, 0);
  // the present cache of every layer: what the KV appends write out
  const kv = work.filter((w) => w.kind === 'kv-append').reduce((a, w) => a + w.outputs.reduce((s, o) => s + o.reduce((x, y) => x * y, 1) * FLOAT_STORAGE_BYTES * w.scale, 0), 0);
  const hbm = hw.memory.capacityGiB * gib;
  if (weights + kv <= hbm) return false;
  const sizes = `weights ${(weights / gib).toFixed(1)} GiB + KV cache ${(kv / gib).toFixed(1)} GiB exceed the ${hw.memory.capacityGiB} GiB of HBM`;
  if (devices.includes('pnm') && kv > 0) {
    notes.push(`${sizes}: the KV cache lives in the CXL expander (${hw.pnm!.capacityGiB} GiB); attention elsewhere reads it over the link, PIM cannot hold it`);
    return true;
  }
  notes.push(`${sizes}: the model does not fit this system; the estimates assume it did`);
  return false;
}

/** Writes the assignment onto the ops (views follow their producer). */
export function applyPlacement(r: PlacementResult): void {
  r.problem.nodes.forEach((w, i) => (w.op.device = r.chosen.assignment[i]));
  for (const v of r.problem.views) v.op.device = v.follows >= 0 ? r.chosen.assignment[v.follows] : 'npu';
}
