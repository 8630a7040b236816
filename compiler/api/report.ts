// `pimc report`: one model on one machine, as one self-contained HTML page.
// Gathers the data (compiler/report/data.ts) and draws it (compiler/report/html.ts):
//   1. verify: compile for the hardware, simulate every op on its device,
//      compare the outputs with the test data (compiler/api/verify.ts);
//   2. the same model simulated on the `npu` preset (timing only), for the speed-up;
//   3. the cost model's analysis of the very graph the simulator ran
//      (estimates per device, kinds, the roofline), its devices left as they were;
//   4. every op in program order with its device, simulated and estimated time.

import fs from 'node:fs';
import path from 'node:path';
import { fail, q } from '../../ir/diagnostics.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import { devicesOf, type Hardware } from '../../runtime-sim/hardware/types.js';
import { kindOf } from '../analysis/kinds.js';
import type { ReportData, ReportOp } from '../report/data.js';
import { renderReport } from '../report/html.js';
import { analyzeModel } from './analyze.js';
import { simulateModel } from './simulate.js';
import { verifyModel } from './verify.js';
import { VERSION } from './version.js';

export interface ReportOptions {
  /** A preset name or a hardware description file (or a loaded description). */
  hw: string | Hardware;
  /** Folder with input_N.pb (and output_N.pb); default: test_data_set_0 beside the model. */
  inputs?: string;
  onProgress?: (what: string, done: number, total: number) => void;
}

export interface ReportSummary {
  model: string;
  hardware: string;
  inputs: string;
  ops: number;
  placement: Record<string, number>;
  seconds: number;
  npuSeconds: number;
  speedup: number;
  /** Every output within the FP16 tolerance of its test data. */
  ok: boolean;
}

/** The test-data folder: the one given, else test_data_set_0 beside the model; a coded error when there is none. */
export function reportInputs(model: string, inputs: string | undefined): string {
  if (inputs !== undefined) {
    if (!fs.existsSync(inputs) || !fs.statSync(inputs).isDirectory()) fail('PIMC0605', `test data folder ${q(inputs)} does not exist; --inputs wants a folder with input_N.pb (and output_N.pb to verify against)`);
    return inputs;
  }
  const beside = path.join(path.dirname(model), 'test_data_set_0');
  if (!fs.existsSync(beside)) fail('PIMC0605', `no test data for ${q(model)}: ${q(beside)} does not exist; pass --inputs DIR, a folder with input_N.pb (and output_N.pb to verify against)`);
  return beside;
}

export function gatherReport(model: string, o: ReportOptions): ReportData {
  const hw = typeof o.hw === 'string' ? loadHardware(o.hw) : o.hw;
  const inputs = reportInputs(model, o.inputs);
  const { report: verified, sim } = verifyModel(model, { hw, inputs, onProgress: o.onProgress });
  const graph = sim.graph;
  const npu = hw.name === 'npu' ? sim : simulateModel(model, { hw: 'npu', inputs, functional: false });

  // the analysis of the graph that ran, at the scenario the simulation placed it for
  const devices = graph.ops.map((op) => op.device);
  const batch = graph.inputs[0]?.type?.shape[0];
  let analysis;
  try {
    analysis = analyzeModel(graph, { hw, batches: [typeof batch === 'number' ? batch : 1], kvLen: 0 }).report;
  } finally {
    graph.ops.forEach((op, i) => (op.device = devices[i]));
  }
  analysis.model = model;
  const estimated = new Map(analysis.scenarios[0]!.ops.map((x) => [x.name, x]));

  const simulated = new Map<string, number>();
  for (const s of sim.run.timeline) if (s.device !== 'link') simulated.set(s.name, (simulated.get(s.name) ?? 0) + s.seconds);
  const ops = graph.ops.map((op, index): ReportOp => {
    const a = estimated.get(op.name);
    return {
      index,
      name: op.name,
      type: op.domain ? `${op.domain}.${op.type}` : op.type,
      kind: a?.kind ?? kindOf(op),
      device: op.device ?? 'npu',
      simulated: simulated.get(op.name) ?? null,
      estimates: { ...(a?.seconds ?? {}) } as Record<string, number>,
      reason: a?.reason ?? (kindOf(op) === 'view' ? 'a view: moves no data, follows its producer' : ''),
    };
  });

  return {
    model,
    hardware: sim.hardware,
    devices: devicesOf(hw),
    version: VERSION,
    dims: sim.dims,
    inputs: graph.inputs.map((v) => ({ name: v.name, dtype: v.type?.dtype ?? '?', shape: [...(v.type?.shape ?? [])] })),
    seconds: sim.run.seconds,
    npuSeconds: npu.run.seconds,
    speedup: npu.run.seconds / sim.run.seconds,
    analysis,
    verification: { ok: verified.ok, inputs, outputs: verified.outputs, tolerance: verified.tolerance },
    placement: sim.placement,
    ops,
    timeline: sim.run.timeline.map((s) => ({ device: s.device, name: s.name, start: s.start, seconds: s.seconds })),
    secondsByDevice: { ...sim.run.secondsByDevice },
    ...(sim.run.pim ? { pim: sim.run.pim } : {}),
  };
}

export function summaryOf(d: ReportData): ReportSummary {
  return {
    model: d.model, hardware: d.hardware, inputs: d.verification.inputs, ops: d.ops.length, placement: d.placement,
    seconds: d.seconds, npuSeconds: d.npuSeconds, speedup: d.speedup, ok: d.verification.ok,
  };
}

/** The report page of a model on a machine, and what it found. */
export function reportModel(model: string, o: ReportOptions): { html: string; summary: ReportSummary; data: ReportData } {
  const data = gatherReport(model, o);
  return { html: renderReport(data), summary: summaryOf(data), data };
}
