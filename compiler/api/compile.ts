// `pimc compile`: a model compiled for the whole machine and written as a
// bundle (docs/bundle.md) that `pimc simulate` runs.
//
// 1. Sizes: the model's symbolic dims come from a test-data folder's inputs,
//    or from a scenario (phase, batch, KV length, explicit dims) bound the
//    way `pimc analyze` binds it; the graph is specialised and fused.
// 2. Devices: the placement's optimum for the hardware, or a placement file
//    (ops it does not name run on the NPU, as in `pimc verify`).
// 3. Code: every op through its device's backend (codegen/hetero.ts).
// 4. The bundle, written all at once (bundle/write.ts). Weights are embedded
//    or referenced in the model's files ('auto': referenced past 1 GiB).

import { fail, q } from '../../ir/diagnostics.js';
import type { Graph, Op } from '../../ir/graph.js';
import type { Tensor } from '../../ir/tensor.js';
import { sizeOf } from '../../ir/tensor.js';
import { loadHardware } from '../../runtime-sim/hardware/load.js';
import { devicesOf, type Device, type Hardware } from '../../runtime-sim/hardware/types.js';
import { bindScenario, type Scenario } from '../analysis/scenario.js';
import { generateMachine, type MachineCode } from '../codegen/hetero.js';
import { runPasses } from '../passes/manager.js';
import { pipeline } from '../passes/pipelines.js';
import { dimsFromInputs, specializeDims } from '../passes/specialize.js';
import { applyPlacement, placeScenario } from '../placement/place.js';
import { bundleFiles, writeBundleFiles } from '../bundle/write.js';
import type { WeightMode } from '../bundle/weights.js';
import { readTensors } from '../reference/test-data.js';
import { loadModel } from './model.js';

export const COMPILE_SCHEMA = 'pimc.compile/1';

export type Placement = 'optimal' | ((op: Op) => Device | undefined);

export interface CompileOptions {
  hw?: string | Hardware;
  /** Sizes from a test-data folder's inputs or the tensors themselves... */
  inputs?: string | ReadonlyMap<string, Tensor>;
  /** ...or from a scenario (default: batch 1, KV length 1024 for decode models). */
  scenario?: Partial<Scenario>;
  placement?: Placement;
  /** KV regions in the HBM-PIM banks hold at least this many keys (pimc generate: the last step's). */
  kvCapacity?: number;
  onProgress?: (what: string, done: number, total: number) => void;
}

export interface Compiled {
  model: string;
  hw: Hardware;
  dims: Record<string, number>;
  graph: Graph;
  code: MachineCode;
}

/** Specialises, places and generates code for every op (nothing written). */
export function compileModel(model: string | Graph, o: CompileOptions = {}): Compiled {
  const hw = typeof o.hw === 'object' ? o.hw : loadHardware(o.hw ?? 'npu');
  const name = typeof model === 'string' ? model : model.name;
  const graph = typeof model === 'string' ? loadModel(model, { stage: 'onnx' }).graph : model;
  const dims = o.inputs !== undefined
    ? dimsFromInputs(graph, typeof o.inputs === 'string' ? readTensors(o.inputs, graph, 'input') : o.inputs)
    : bindScenario(graph, { batch: 1, kvLen: 1024, ...o.scenario }).env;
  specializeDims(graph, dims);
  runPasses(graph, pipeline('fuse'));
  placeOps(graph, hw, o.placement ?? 'optimal');
  o.onProgress?.('generate', 0, 1);
  const code = generateMachine(graph, hw, { kvCapacity: o.kvCapacity });
  o.onProgress?.('generate', 1, 1);
  checkDramFits(code, hw);
  return { model: name, hw, dims: Object.fromEntries(dims), graph, code };
}

/**
 * The DRAM plan keeps every value for the whole run (dram-plan.ts) and a KV
 * append on the NPU writes a new cache beside the past one: a plan beyond the
 * NPU's memory is refused here, not found as an out-of-bounds access mid-run.
 */
export function checkDramFits(code: MachineCode, hw: Hardware): void {
  const have = hw.memory.capacityGiB * 2 ** 30;
  const need = code.dram.bytes();
  if (need > have) {
    const gib = (b: number) => (b / 2 ** 30).toFixed(1);
    fail('PIMC0811', `the compiled model needs ${gib(need)} GiB of NPU memory (weights, inputs and every intermediate, KV caches before and after the append), but hardware ${q(hw.name)} has ${gib(have)} GiB; use a smaller batch or KV length`);
  }
}

/** Sets op.device on every op: the cost model's optimum, or the caller's pick (undefined: the NPU). */
export function placeOps(graph: Graph, hw: Hardware, pick: Placement): void {
  const devices = devicesOf(hw);
  if (!devices.includes('npu')) fail('PIMC0703', `hardware ${q(hw.name)} has no NPU to run a whole model; use it with pimc kernel`);
  if (pick === 'optimal' && devices.length > 1) {
    const batch = graph.inputs[0]?.type?.shape[0];
    applyPlacement(placeScenario(graph, hw, { batch: typeof batch === 'number' ? batch : 1, kvLen: 0 }));
  } else {
    for (const op of graph.ops) op.device = pick === 'optimal' ? 'npu' : pick(op) ?? 'npu';
  }
  for (const op of graph.ops) {
    if (!devices.includes(op.device as Device)) fail('PIMC0809', `op ${q(op.name)} is placed on ${op.device}, which hardware ${q(hw.name)} does not have`);
  }
}

export interface CompileBundleOptions extends CompileOptions {
  /** Default 'auto': embedded up to 1 GiB of weights, referenced beyond. */
  weights?: WeightMode | 'auto';
}

export interface CompileReport {
  schema: typeof COMPILE_SCHEMA;
  model: string;
  hardware: string;
  bundle: string;
  dims: Record<string, number>;
  placement: Record<string, number>;
  steps: Record<string, number>;
  weights: { mode: WeightMode; tensors: number; bytes: number };
  files: number;
  bytes: number;
}

const AUTO_EMBED_LIMIT = 1 << 30;

export function compileToBundle(model: string | Graph, out: string, o: CompileBundleOptions = {}): CompileReport {
  const c = compileModel(model, o);
  const weightBytes = c.graph.constants.reduce((n, v) => {
    const t = c.code.dram.tensors.get(v)!;
    return n + sizeOf(t.shape) * (t.dtype === 'f16' ? 2 : 4);
  }, 0);
  const mode: WeightMode = o.weights === 'embed' || o.weights === 'reference' ? o.weights : weightBytes > AUTO_EMBED_LIMIT ? 'reference' : 'embed';
  o.onProgress?.('write', 0, 1);
  const files = bundleFiles(c.code, { model: c.model, hw: c.hw, dims: c.dims, weights: mode }, out);
  writeBundleFiles(out, files);
  o.onProgress?.('write', 1, 1);
  const steps: Record<string, number> = {};
  for (const s of c.code.steps) steps[s.device] = (steps[s.device] ?? 0) + 1;
  const placement: Record<string, number> = {};
  for (const op of c.graph.ops) placement[op.device!] = (placement[op.device!] ?? 0) + 1;
  return {
    schema: COMPILE_SCHEMA,
    model: c.model,
    hardware: c.hw.name,
    bundle: out,
    dims: c.dims,
    placement,
    steps,
    weights: { mode, tensors: c.graph.constants.length, bytes: weightBytes },
    files: files.size,
    bytes: [...files.values()].reduce((n, b) => n + b.length, 0),
  };
}
