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
import { formatSeconds } from './explain.js';
import { fitPim, itemRowsText, itemsText, pimItems, type PimFit, type PimItem } from './pim-capacity.js';
import { solvePlacement, type Pins, type Solution } from './solve.js';
import { pimGeometry } from '../../backends/hbm-pim/geometry.js';

export type BaselineName = 'all-npu' | 'attacc' | 'all-pim';

export const BASELINE_DOC: Record<BaselineName, string> = {
  'all-npu': 'every op on the NPU',
  attacc: 'attention (and its KV-cache append) on PIM as far as the PIM rows hold, the rest on the NPU (the AttAcc rule)',
  'all-pim': 'every op PIM can legally run on PIM as far as the PIM rows hold, the rest on the NPU',
};
// attacc and all-pim keep on pim only what fits its rows (capBaseline)

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
  const pinned = resolvePins(problem, pins, g);
  let sol = solvePlacement(problem, pinned);
  const items = devices.includes('pim') ? pimItems(problem, pimGeometry(hw)) : [];
  if (items.length) sol = fitPimRows(problem, hw, items, sol, pinned, binding.notes);
  const chosen = { name: pins.size ? 'pinned' : 'optimal', assignment: sol.assignment, score: score(problem, sol.assignment) };
  const baselines: Placed[] = [];
  for (const name of ['all-npu', 'attacc', 'all-pim'] as BaselineName[]) {
    if (name !== 'all-npu' && !devices.includes('pim')) continue;
    let a = baseline(problem, name);
    if (a && items.length) a = capBaseline(problem, hw, items, a);
    if (a) baselines.push({ name, assignment: a, score: score(problem, a) });
  }
  return { binding, problem, chosen, baselines, maxStates: sol.maxStates };
}

/**
 * PIM capacity (legality, not profit; pim-capacity.ts): the weights, KV
 * caches and operands the placement keeps in the PIM banks must fit the rows
 * with RA12 = 0. When the optimum needs more, the items with the least time
 * saved per row may not use pim and the placement is solved again without
 * them (until it fits); the notes say so, and --explain gives the reason on
 * each op moved.
 */
function fitPimRows(p: Problem, hw: Hardware, items: PimItem[], sol: Solution, pins: Pins, notes: string[]): Solution {
  const pinned = new Set(pins.keys());
  const excluded = new Map<number, Set<Device>>();
  const moved: PimItem[] = [];
  const reasons = new Map<number, string>();
  let first: PimFit | undefined;
  let fit: PimFit;
  for (;;) {
    fit = fitPim(p, hw, sol.assignment, pinned, items);
    first ??= fit;
    if (fit.fits || fit.evicted.length === 0) break;
    for (const it of fit.evicted) {
      moved.push(it);
      const what = it.kind === 'weights' ? 'its weights need' : it.kind === 'kv' ? 'its KV cache needs' : 'its operands need';
      for (const i of it.nodes) {
        excluded.set(i, new Set<Device>(['pim']));
        const s = fit.saving.get(i);
        const gain = s === undefined ? '' : s > 0 ? `on pim it would save ${formatSeconds(s)}, but ` : 'it saves no time on pim by itself, and ';
        reasons.set(i, `pim rows full (${fit.usable} rows per bank for PIM data, ${fit.ranges}): ${gain}${what} ${itemRowsText(it)}; the ops kept on pim save more time per row`);
      }
    }
    sol = solvePlacement(p, pins, excluded);
  }
  if (!fit.fits) {
    notes.push(`pim rows full: the ops pinned to pim need ${fit.need} rows per bank, more than the ${fit.usable} for PIM data (${fit.ranges}, RA12 = 0); code generation will fail (PIMC0703)`);
  } else if (moved.length) {
    notes.push(
      `pim rows full: ${first.usable} rows per bank for PIM data (${first.ranges}, RA12 = 0); the placement without that limit keeps ${first.need} there. ` +
      `Kept on pim, by time saved per row: ${itemsText(fit.kept)} (${fit.need} rows); off pim instead: ${itemsText(moved)} ` +
      '(in the rows PIM cannot execute on, read over the external bus)',
    );
    p.pimFull = reasons;
  }
  return sol;
}

/** A baseline keeps on pim only what fits its rows (the same greedy); the rest runs on the NPU. */
function capBaseline(p: Problem, hw: Hardware, items: PimItem[], a: Device[]): Device[] {
  const fit = fitPim(p, hw, a, new Set(), items);
  if (fit.fits) return a;
  const off = new Set(fit.evicted.flatMap((it) => it.nodes));
  return a.map((d, i) => (d === 'pim' && off.has(i) ? 'npu' : d));
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
