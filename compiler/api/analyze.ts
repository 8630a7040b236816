// `analyze`: FLOPs, bytes and arithmetic intensity of every op, the placement
// of minimum estimated time over NPU, HBM-PIM and CXL-PNM, the baselines
// scored alike, and the speed-up over the `npu` preset — per scenario.

import fs from 'node:fs';
import { fail, q } from '../../ir/diagnostics.js';
import type { Graph } from '../../ir/graph.js';
import { devicesOf, type Device, type Hardware } from '../../runtime-sim/hardware/types.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import type { ByteSplit } from '../analysis/op-costs.js';
import type { Phase } from '../analysis/scenario.js';
import { CostModel } from '../placement/cost-model.js';
import { explainNode } from '../placement/explain.js';
import { applyPlacement, BASELINE_DOC, placeScenario, type BaselineName, type PlacementResult } from '../placement/place.js';
import { loadModel, type LoadOptions } from './model.js';

export const ANALYZE_SCHEMA = 'pimc.analyze/1';

export interface AnalyzeOptions extends LoadOptions {
  /** A preset name or a hardware description file. */
  hw: string | Hardware;
  phase?: Phase;
  /** Batch sizes, one scenario each (default [1]). */
  batches?: readonly number[];
  /** Decode: tokens in the KV cache; prefill: prompt length (default 1024). */
  kvLen?: number;
  dims?: Record<string, number>;
  /** A placement file: { "op name": "npu" | "pim" | "pnm", ... }. */
  placement?: string;
}

export interface OpReport {
  name: string;
  type: string;
  kind: string;
  device: Device;
  flops: number;
  bytes: ByteSplit;
  intensity: number;
  /** Estimated seconds on each device that can run the op. */
  seconds: Partial<Record<Device, number>>;
  reason: string;
}

export interface ScenarioReport {
  phase: Phase;
  batch: number;
  kvLen: number;
  notes: string[];
  /** Estimated seconds of the chosen placement: compute plus data movement. */
  seconds: number;
  computeSeconds: number;
  movementSeconds: number;
  /** The whole model on the `npu` preset (PIM disabled). */
  npuPresetSeconds: number;
  speedupOverNpu: number;
  baselines: { name: BaselineName; what: string; seconds: number; chosenSpeedup: number }[];
  opsPerDevice: Partial<Record<Device, number>>;
  solverStates: number;
  ops: OpReport[];
}

export interface DeviceRoof {
  device: Device;
  /** FLOP/s of its matrix engine (or PIM units). */
  peakFlops: number;
  /** Bytes per second it streams from its memory. */
  bandwidth: number;
}

export interface AnalyzeReport {
  schema: typeof ANALYZE_SCHEMA;
  model: string;
  hardware: { name: string; devices: Device[] };
  roofs: DeviceRoof[];
  scenarios: ScenarioReport[];
}

export function readPlacementFile(file: string): Map<string, Device> {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return fail('PIMC0807', `placement file ${q(file)} is not readable JSON: ${(e as Error).message}`);
  }
  const table = doc && typeof doc === 'object' && 'placement' in doc ? (doc as { placement: unknown }).placement : doc;
  if (!table || typeof table !== 'object' || Array.isArray(table)) fail('PIMC0807', `placement file ${q(file)} must map op names to devices`);
  const out = new Map<string, Device>();
  for (const [name, d] of Object.entries(table as Record<string, unknown>)) {
    if (d !== 'npu' && d !== 'pim' && d !== 'pnm') fail('PIMC0807', `placement file ${q(file)}: op ${q(name)} has device ${JSON.stringify(d)}; use npu, pim or pnm`);
    out.set(name, d);
  }
  return out;
}

export function roofsOf(hw: Hardware): DeviceRoof[] {
  const c = new CostModel(hw);
  const roofs: DeviceRoof[] = [];
  if (hw.npu) roofs.push({ device: 'npu', peakFlops: c.npuMatrixFlops, bandwidth: c.memoryBandwidth });
  if (hw.pim && hw.memory.hbm) {
    const h = hw.memory.hbm;
    const pcus = h.stacks * h.pseudoChannelsPerStack * hw.pim.pcusPerPseudoChannel;
    // one 16-lane MAC (32 B of weights) per PCU every tCCD_L
    const perSecond = pcus / (h.timing.tCCD_L * h.tCKns * 1e-9);
    roofs.push({ device: 'pim', peakFlops: perSecond * hw.pim.lanes * 2, bandwidth: perSecond * h.burstBytes });
  }
  if (hw.pnm) roofs.push({ device: 'pnm', peakFlops: hw.pnm.units * hw.pnm.matrixTflopsPerUnit * 1e12, bandwidth: hw.pnm.internalGBps * 1e9 });
  return roofs;
}

function scenarioReport(r: PlacementResult, npuTime: number, pinned: ReadonlySet<string>): ScenarioReport {
  const p = r.problem;
  const chosen = r.chosen;
  const opsPerDevice: Partial<Record<Device, number>> = {};
  chosen.assignment.forEach((d) => (opsPerDevice[d] = (opsPerDevice[d] ?? 0) + 1));
  return {
    phase: r.binding.phase,
    batch: r.binding.batch,
    kvLen: r.binding.kvLen,
    notes: r.binding.notes,
    seconds: chosen.score.total,
    computeSeconds: chosen.score.compute,
    movementSeconds: chosen.score.movement,
    npuPresetSeconds: npuTime,
    speedupOverNpu: npuTime / chosen.score.total,
    baselines: r.baselines.map((b) => ({ name: b.name as BaselineName, what: BASELINE_DOC[b.name as BaselineName], seconds: b.score.total, chosenSpeedup: b.score.total / chosen.score.total })),
    opsPerDevice,
    solverStates: r.maxStates,
    ops: p.nodes.map((w, i) => ({
      name: w.op.name,
      type: w.op.domain ? `${w.op.domain}.${w.op.type}` : w.op.type,
      kind: w.kind,
      device: chosen.assignment[i]!,
      flops: w.flops,
      bytes: w.bytes,
      intensity: w.intensity,
      seconds: Object.fromEntries([...p.estimates[i]!].map(([d, e]) => [d, e.seconds])),
      reason: explainNode(p, i, chosen.assignment, pinned.has(w.op.name)),
    })),
  };
}

export interface AnalyzeResult {
  report: AnalyzeReport;
  /** The graph, with the first scenario's placement on its ops. */
  graph: Graph;
}

export function analyzeModel(model: string | Graph, opts: AnalyzeOptions): AnalyzeResult {
  const hw = typeof opts.hw === 'string' ? loadHardware(opts.hw) : opts.hw;
  const graph = typeof model === 'string' ? loadModel(model, { ...opts, stage: opts.stage ?? 'fused' }).graph : model;
  const npu = loadHardware('npu');
  const pins = opts.placement ? readPlacementFile(opts.placement) : new Map<string, Device>();
  const scenarios: ScenarioReport[] = [];
  let first: PlacementResult | undefined;
  for (const batch of opts.batches ?? [1]) {
    const scenario = { phase: opts.phase, batch, kvLen: opts.kvLen ?? 1024, dims: opts.dims };
    const r = placeScenario(graph, hw, scenario, pins);
    first ??= r;
    const base = placeScenario(graph, npu, scenario);
    scenarios.push(scenarioReport(r, base.chosen.score.total, new Set(pins.keys())));
  }
  if (first) applyPlacement(first);
  return {
    graph,
    report: {
      schema: ANALYZE_SCHEMA,
      model: typeof model === 'string' ? model : graph.name,
      hardware: { name: hw.name, devices: devicesOf(hw) },
      roofs: roofsOf(hw),
      scenarios,
    },
  };
}
