// `pimc verify`: compile a model for the hardware, simulate it with every
// device executing what its backend emitted, and compare every output with
// the model's test data (output_N.pb), or with the reference interpreter
// when the folder has none.
//
// Tolerance of an output, from FP16 storage: every op stores its result in
// FP16 once (relative error at most u = 2^-11 of the values it writes), and
// an output is `depth` ops away from the inputs on its longest path. To
// first order, with ops that do not amplify relative error (the norms,
// softmax and residual adds of a transformer keep activations O(1)), the
// output is off by at most
//     atol = depth x u x max |expected|.
// A wrong kernel (a bad address, a missed tile) is off by O(max |expected|)
// and fails it; FP16 rounding alone does not. The per-op mode gives the
// rigorous check: each op's result against the reference op on the very
// inputs the device used, within that kernel's derived bound.
//
// Devices: the placement's optimum for the hardware (every op on the NPU for
// `npu`), or the devices of a placement file; the machine runtime executes
// each op on its device (compiler/api/simulate.ts).

import { fail, q } from '../../ir/diagnostics.js';
import type { Graph, Value } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import type { Device, Hardware } from '../../runtime-sim/hardware/types.js';
import { isAlias } from '../codegen/dram-plan.js';
import { readTensors } from '../reference/test-data.js';
import { loadModel } from './model.js';
import { simulateModel, type SimulateReport } from './simulate.js';

export const VERIFY_SCHEMA = 'pimc.verify/1';
const U16 = 2 ** -11;
export const TOLERANCE_RULE = 'per output: depth x 2^-11 x max|expected|, depth = ops on the longest path from the inputs (one FP16 store each)';

export interface VerifyOptions {
  hw?: string | Hardware;
  /** Folder with input_N.pb (and output_N.pb to compare with). */
  inputs: string;
  /** op name -> device (a placement file's contents); ops it does not name run on the NPU. Default: the placement's optimum. */
  placement?: ReadonlyMap<string, Device>;
  /** Also check every op on its own inputs within its kernel's bound, naming the first op outside it. */
  perOp?: boolean;
  /** Write a Chrome/Perfetto trace of the simulated run here. */
  trace?: string;
  onProgress?: (what: string, done: number, total: number) => void;
}

export interface VerifiedOutput {
  name: string;
  shape: number[];
  /** What the output was compared with. */
  against: 'test data' | 'reference';
  maxAbsError: number;
  /** depth x 2^-11 x max |expected|. */
  tolerance: number;
  depth: number;
  ok: boolean;
}

export interface VerifyReport {
  schema: typeof VERIFY_SCHEMA;
  model: string;
  hardware: string;
  ok: boolean;
  dims: Record<string, number>;
  /** Simulated time of the whole model. */
  seconds: number;
  ops: number;
  /** Ops per device. */
  placement: Record<string, number>;
  secondsByDevice: Record<string, number>;
  outputs: VerifiedOutput[];
  tolerance: string;
  /** With perOp. */
  perOp?: { checked: number; unchecked: number; firstFailure: { name: string; type: string; device: string; ratio: number } | null };
}

export function verifyModel(model: string, o: VerifyOptions): { report: VerifyReport; sim: SimulateReport } {
  const raw = loadModel(model, { stage: 'onnx' }).graph;
  const feeds = readTensors(o.inputs, raw, 'input');
  const expected = readTensors(o.inputs, raw, 'output');
  const pins = o.placement;
  const sim = simulateModel(raw, { hw: o.hw, inputs: feeds, onProgress: o.onProgress, perOp: o.perOp, ...(o.trace ? { trace: o.trace } : {}), placement: pins ? (op) => pins.get(op.name) : 'optimal' });
  const graph = sim.graph;
  const depths = opDepths(graph);
  const outputs = graph.outputs.map((v): VerifiedOutput => {
    const got = sim.outputs.get(v.name)!;
    const fromFile = expected.get(v.name);
    const want = fromFile ?? sim.reference.get(v.name)!;
    if (fromFile && fromFile.size !== got.size) fail('PIMC0605', `output_N.pb for ${q(v.name)} has ${fromFile.size} elements; the model computes ${got.size}`);
    return judgeOutput(v.name, got, want, depths.get(v) ?? 0, fromFile ? 'test data' : 'reference');
  });
  return {
    sim,
    report: {
      schema: VERIFY_SCHEMA,
      model,
      hardware: sim.hardware,
      ok: outputs.every((x) => x.ok) && !sim.perOp?.firstFailure,
      dims: sim.dims,
      seconds: sim.run.seconds,
      ops: graph.ops.length,
      placement: sim.placement,
      secondsByDevice: sim.run.secondsByDevice,
      outputs,
      ...(sim.perOp ? { perOp: { checked: sim.perOp.checked, unchecked: sim.perOp.unchecked, firstFailure: sim.perOp.firstFailure ? { ...sim.perOp.firstFailure, ratio: sim.perOp.firstFailure.ratio! } : null } } : {}),
      tolerance: TOLERANCE_RULE,
    },
  };
}

/** An output against what is expected, within depth x 2^-11 x max |expected|. */
export function judgeOutput(name: string, got: Tensor, want: Tensor, depth: number, against: VerifiedOutput['against']): VerifiedOutput {
  const { err, scale } = maxError(got, want);
  const tolerance = depth * U16 * scale;
  return { name, shape: [...got.shape], against, maxAbsError: err, tolerance, depth, ok: err <= tolerance };
}

/** Ops (aliases excluded: they store nothing) on the longest path from the graph inputs to each value. */
export function opDepths(g: Graph): Map<Value, number> {
  const depth = new Map<Value, number>();
  for (const op of g.ops) {
    const d = Math.max(0, ...op.inputs.map((v) => (v ? depth.get(v) ?? 0 : 0))) + (isAlias(op) ? 0 : 1);
    op.outputs.forEach((v) => depth.set(v, d));
  }
  return depth;
}

function maxError(got: Tensor, want: Tensor): { err: number; scale: number } {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.size; i++) {
    const w = want.data[i]!;
    const e = Math.abs(got.data[i]! - w);
    scale = Math.max(scale, Math.abs(w));
    if (!(e <= err)) err = Number.isNaN(e) ? Infinity : e;
  }
  return { err, scale };
}
